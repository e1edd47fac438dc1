//! Form kinds: one folder under `templates/` per official form, holding a
//! manifest (`kind.yaml`: fields, page, fonts, options, rules) and its
//! MiniJinja template. The built-in folders are compiled into the binary;
//! `--templates DIR` adds or overrides kinds (and shared pieces) from disk,
//! so a province's variant or next year's revision needs no Rust.

use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Template files by their path relative to a templates folder
/// (`zhengzhou-2020-dept-overall/form.typ.j2`, `_shared/indicators.typ.j2`).
pub type Sources = Arc<BTreeMap<String, String>>;

static BUILTIN: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/templates");

pub const MANIFEST: &str = "kind.yaml";

/// A kind's manifest, `templates/<kind>/kind.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The form's official Chinese name.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The kind's revision (default "1"), recorded in every PDF so that
    /// `verify` can tell whether it compares pages with the same layout.
    #[serde(default = "default_version")]
    pub version: String,
    /// Template file inside the kind's folder.
    #[serde(default = "default_template")]
    pub template: String,
    /// Example form under `forms/`, shown by `formpress list`.
    #[serde(default)]
    pub example: Option<String>,
    /// A form in the kind's folder that `formpress new` writes instead of the
    /// fields' examples: a region's blank form (`template --from-xlsx`).
    #[serde(default)]
    pub skeleton: Option<String>,
    #[serde(default)]
    pub page: Page,
    /// Font family lists by role (body, heading, title), most preferred first.
    #[serde(default)]
    pub fonts: BTreeMap<String, Vec<String>>,
    /// Layout options with their defaults; a form may override them under `options:`.
    #[serde(default)]
    pub options: IndexMap<String, OptionSpec>,
    /// The form's fields, in the order a person fills them in.
    pub fields: IndexMap<String, Field>,
    /// Captions the template prints that are no field's label (the block
    /// label 绩效指标, 执行率, 分值, 总分, a sub-table's column heads): key → the
    /// kind's wording. A form rewords these, and any field's label, with
    /// `options.labels`; any other key there is an error.
    #[serde(default)]
    pub captions: IndexMap<String, String>,
    /// Values the tool computes (totals, 执行率, 得分), in order, before rules run.
    #[serde(default)]
    pub computed: Vec<Computed>,
    /// Form rules, checked before rendering.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Shared rule files (paths under the templates folder) whose rules apply too.
    #[serde(default)]
    pub use_rules: Vec<String>,
    /// Fields that name a form (bookmarks of combined PDFs).
    #[serde(default = "default_identity")]
    pub identity: Vec<String>,
}

fn default_identity() -> Vec<String> {
    vec!["year".into(), "department".into()]
}

fn default_version() -> String {
    "1".into()
}

fn default_template() -> String {
    "form.typ.j2".into()
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    pub default: serde_json::Value,
    #[serde(default)]
    pub help: String,
    /// The values a text option may take (a typo is an error, not a silently other value).
    #[serde(default)]
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Page {
    pub paper: String,
    pub landscape: bool,
    /// Margins in millimetres.
    pub margin: Margin,
}

impl Default for Page {
    fn default() -> Self {
        Page { paper: "a4".into(), landscape: false, margin: Margin::default() }
    }
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Margin {
    pub top: f64,
    pub bottom: f64,
    pub left: f64,
    pub right: f64,
}

impl Default for Margin {
    fn default() -> Self {
        Margin { top: 20.0, bottom: 20.0, left: 20.0, right: 20.0 }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    #[default]
    Text,
    Integer,
    Number,
    Money,
    Bool,
    Date,
    Choice,
    /// 指标值: an optional comparison, a number and a unit, or a qualitative grade.
    IndicatorValue,
    List,
    Record,
    /// The 一级 → 二级 → 三级指标 tree; merges are derived from it.
    Indicators,
    /// A picture file (PNG, JPEG, SVG), path relative to the form file.
    Image,
    /// The 签章区 below the table: 填报单位（盖章）, 负责人, 填报人, 联系电话, 填报日期, seal.
    Signature,
}

/// One field of a form, a list item, a record or an indicator row.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// The field's name as printed on the form (used in messages).
    pub label: String,
    /// Other captions regions' sheets print for this field (`formpress import`
    /// finds the field by any of them): 当年资金总额 for 年度资金总额.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aka: Vec<String>,
    /// What to write here; shown by `formpress new` and in the JSON Schema.
    #[serde(default)]
    pub help: String,
    #[serde(default = "yes")]
    pub required: bool,
    /// Not required (real forms may print it blank), but a blank one is worth a warning.
    #[serde(default)]
    pub expected: bool,
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// Value written into the skeleton by `formpress new`.
    #[serde(default)]
    pub example: Option<serde_json::Value>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// Most decimals allowed (money defaults to 2).
    #[serde(default)]
    pub decimals: Option<u32>,
    #[serde(default)]
    pub max_chars: Option<usize>,
    #[serde(default)]
    pub choices: Vec<String>,
    /// choice: the list is the official one, but real forms use other words too;
    /// other text is accepted without a finding.
    #[serde(default)]
    pub open: bool,
    /// indicator-value: qualitative grades allowed besides numbers (default: a common list).
    #[serde(default)]
    pub grades: Vec<String>,
    /// Skip the text lints (Latin words, doubled characters, half-width punctuation).
    #[serde(default)]
    pub no_lint: bool,
    /// list: the item's schema, its label with `{n}` for the number, size bounds.
    #[serde(default)]
    pub item: Option<Box<Field>>,
    #[serde(default)]
    pub item_label: Option<String>,
    #[serde(default)]
    pub min_items: Option<usize>,
    #[serde(default)]
    pub max_items: Option<usize>,
    /// record: its fields.
    #[serde(default)]
    pub fields: Option<IndexMap<String, Field>>,
    /// indicators: the group levels (一级, 二级, …) and the row's fields.
    #[serde(default)]
    pub levels: Vec<Level>,
    #[serde(default)]
    pub row: Option<IndexMap<String, Field>>,
    /// indicators: halves that share the 一级 groups and sit side by side
    /// (中期 | 年度); each 一级 group then has one list of groups per side.
    #[serde(default)]
    pub sides: Vec<Side>,
    /// indicators: the label of the column-1 cell over the whole table
    /// (绩效指标, 年度绩效指标), printed again on every continuation page.
    #[serde(default)]
    pub block: Option<String>,
    /// indicator row field: a row that leaves it out shares the cell above.
    #[serde(default)]
    pub merge: bool,
    /// indicator row field: printed again when its merged cell continues on a new page.
    #[serde(default)]
    pub repeat: bool,
    /// indicator row field: `always` prints the column even when every row leaves
    /// it blank (the official form has it); by default an optional column is
    /// printed only when some row fills it.
    #[serde(default)]
    pub column: ColumnMode,
    /// indicator row field or level: relative width of its column (default 1);
    /// with `fixed_widths`, its width in percent of the table.
    #[serde(default)]
    pub width: Option<f64>,
    /// indicator row field or level: the template helper its cells use (`lt`, `small`).
    #[serde(default)]
    pub style: Option<String>,
    /// indicators: the block label column's width in percent (to line up with the
    /// section labels above the table).
    #[serde(default)]
    pub block_width: Option<f64>,
    /// indicators: the 总分 row's values, by column key → the form data key
    /// that holds them (`{weight: total_weight}`), so the columns are wide enough.
    #[serde(default)]
    pub totals: IndexMap<String, String>,
    /// indicators: columns keep the widths the manifest gives (in percent)
    /// instead of widths fitted to the form's text.
    #[serde(default)]
    pub fixed_widths: bool,
}

/// When an indicator column is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnMode {
    /// When the field is required or some row fills it.
    #[default]
    Auto,
    Always,
}

fn yes() -> bool {
    true
}

/// The fields of the shared signature block (type `signature`).
const SIGNATURE: &str = r#"
unit: {type: text, label: 填报单位（盖章）, required: false, example: 郑州市人民政府办公厅}
head: {type: text, label: 单位负责人, required: false, example: 张三}
finance: {type: text, label: 财务负责人, required: false, example: 李四}
preparer: {type: text, label: 填报人, required: false, example: 王五}
phone: {type: text, label: 联系电话, required: false, example: 0371-12345678}
date: {type: date, label: 填报日期, required: false, example: 2020-03-06}
seal: {type: image, label: 印章图片, required: false, example: seal.png, help: 透明底的 PNG 或 SVG，盖在“填报单位（盖章）”处}
"#;

pub fn signature_fields() -> &'static IndexMap<String, Field> {
    static FIELDS: std::sync::OnceLock<IndexMap<String, Field>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(|| serde_saphyr::from_str(SIGNATURE).expect("valid signature fields"))
}

/// Options every kind has, besides its own.
fn builtin_options() -> IndexMap<String, OptionSpec> {
    let opt = |default: bool, help: &str| OptionSpec {
        default: serde_json::Value::Bool(default),
        help: help.into(),
        choices: vec![],
    };
    let any = |default: serde_json::Value, help: &str| OptionSpec { default, help: help.into(), ..opt(true, "") };
    IndexMap::from([
        ("fingerprint".to_string(), opt(true, "每页页脚印校验码、页码和二维码（在表格之外）")),
        ("archive".to_string(), opt(false, "输出 PDF/A-3b 存档文件，并把本 YAML 原样附在 PDF 内（同 --archive）")),
        ("year_line".to_string(), opt(true, "标题下印（2020年度）一行；标题里已有年度时自动不印；false 则不印")),
        ("number_goals".to_string(), opt(true, "目标前自动加“目标1：”等编号；表上没有编号时写 false")),
        (
            "seal_across".to_string(),
            any(
                serde_json::json!(""),
                "骑缝章图片（透明底 PNG 或 SVG）：按页数切成竖条，印在每页右边缘的页边距里，各页错开叠放可见整章；只有一页时不印（同 --seal-across）",
            ),
        ),
        (
            "unit".to_string(),
            OptionSpec {
                choices: vec!["万元".into(), "元".into()],
                ..any(serde_json::json!("万元"), "金额单位：万元 或 元，印在金额栏的标题里")
            },
        ),
        (
            "absent".to_string(),
            any(serde_json::json!([]), "本地表上没有的格（字段名，如 [department, goals.year]）：空着不算缺失"),
        ),
        (
            "show".to_string(),
            any(
                serde_json::json!([]),
                "各行都空着也照印的栏和资金行（表上有）：指标表的栏（如 [actual, score, remark]）、资金行（如 funds.other）",
            ),
        ),
        (
            "order".to_string(),
            any(
                serde_json::json!([]),
                "指标表的栏目次序，照表上写（如 [level0, level1, name, weight, value]）；没列出的栏留在原处",
            ),
        ),
        (
            "labels".to_string(),
            any(
                serde_json::json!({}),
                "改印的栏目名称：字段键 → 表上的名称，如 {department: 主管部门及编码, name: 指标内容}",
            ),
        ),
    ])
}

/// One half of a side-by-side indicator table.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Side {
    pub key: String,
    pub label: String,
    /// Other names of the half in captions (`二级指标（长期）`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aka: Vec<String>,
}

/// One group level of an indicator tree.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub label: String,
    #[serde(default)]
    pub help: String,
    /// Print the group's label again when its merged cell continues on a new page.
    #[serde(default)]
    pub repeat: bool,
    /// Extra fields of a group besides `name` (e.g. its weight).
    #[serde(default)]
    pub fields: IndexMap<String, Field>,
    /// Relative width of the level's column (see `Field::width`).
    #[serde(default)]
    pub width: Option<f64>,
}

/// A computed value: `set` (a dotted path, inside each item of `each` if given)
/// becomes the value of the MiniJinja expression `value`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Computed {
    #[serde(default)]
    pub each: Option<String>,
    pub set: String,
    pub value: String,
    /// The value as the form names it (年度资金总额, 执行率, 总分) when the form
    /// prints it: such a value is never computed from an unreadable cell, and
    /// that cell is an error naming it (`rules::blocked`).
    #[serde(default)]
    pub label: Option<String>,
}

/// A form rule: a MiniJinja expression that must hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Checked once per item of this list field (`item` and `n` are bound).
    #[serde(default)]
    pub each: Option<String>,
    /// Only checked when this expression is true.
    #[serde(default)]
    pub when: Option<String>,
    /// The expression that must be true.
    pub check: String,
    /// Message template (MiniJinja), in the words of the form.
    pub message: String,
    /// Field (inside the item, for `each`) that the finding points at.
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub level: RuleLevel,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    #[default]
    Error,
    Warning,
}

/// A kind as loaded: its id (the folder name), manifest and origin.
#[derive(Debug, Clone)]
pub struct Kind {
    pub id: String,
    pub manifest: Manifest,
    /// `built-in` or the folder it was read from.
    pub origin: String,
}

impl Kind {
    /// Template name for the MiniJinja loader.
    pub fn template_name(&self) -> String {
        format!("{}/{}", self.id, self.manifest.template)
    }
}

/// Every kind and template file available to this run.
pub struct Catalog {
    kinds: BTreeMap<String, Kind>,
    sources: Sources,
    /// What was skipped while loading: broken kinds (each leaves out only
    /// itself), links and special files in template folders.
    problems: Vec<String>,
}

#[derive(Debug)]
pub struct CatalogError(pub String);

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Catalog {
    /// Built-in kinds, then each user folder in order (later folders win).
    /// A folder that cannot be read is an error; a broken kind in it is
    /// reported in `problems` and left out.
    pub fn load(user_dirs: &[PathBuf]) -> Result<Catalog, CatalogError> {
        let mut files: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut problems = vec![];
        collect_builtin(&BUILTIN, &mut files);
        for dir in user_dirs {
            if !dir.is_dir() {
                return Err(CatalogError(format!("模板目录不存在：{}", dir.display())));
            }
            collect_dir(dir, dir, 0, &mut files, &mut problems)?;
        }
        let mut kinds = BTreeMap::new();
        for (path, (text, origin)) in &files {
            let Some(id) = path.strip_suffix(&format!("/{MANIFEST}")) else { continue };
            if id.contains('/') || id.starts_with('_') {
                continue;
            }
            match load_kind(id, text, &files) {
                Ok(manifest) => {
                    kinds.insert(id.to_string(), Kind { id: id.to_string(), manifest, origin: origin.clone() });
                }
                Err(e) => problems.push(format!("{}/{path}: {e}；未载入表单种类 {id}", origin_dir(origin))),
            }
        }
        let sources = files.into_iter().map(|(k, (text, _))| (k, text)).collect();
        Ok(Catalog { kinds, sources: Arc::new(sources), problems })
    }

    /// Leaves out a kind found broken after loading (its rules do not compile).
    pub fn drop_kind(&mut self, id: &str, why: String) {
        if let Some(kind) = self.kinds.remove(id) {
            self.problems.push(format!("{}/{id}/{MANIFEST}: {why}；未载入表单种类 {id}", origin_dir(&kind.origin)));
        }
    }

    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    pub fn kind(&self, id: &str) -> Option<&Kind> {
        self.kinds.get(id)
    }

    pub fn kinds(&self) -> impl Iterator<Item = &Kind> {
        self.kinds.values()
    }

    pub fn sources(&self) -> Sources {
        self.sources.clone()
    }
}

/// A manifest's text read and checked, with the built-in options and default
/// fonts added (shared rules not yet: they live in other files).
pub fn manifest(text: &str) -> Result<Manifest, String> {
    let mut manifest = parse_manifest(text).map_err(|e| format!("表单清单有误：{e}"))?;
    for (key, option) in builtin_options() {
        manifest.options.entry(key).or_insert(option);
    }
    // Every role has fonts, so templates can rely on them; the bundled faces by default.
    for (role, family) in
        [("title", "Noto Serif CJK SC"), ("heading", "Noto Sans CJK SC"), ("body", "Noto Serif CJK SC")]
    {
        manifest.fonts.entry(role.to_string()).or_insert_with(|| vec![family.to_string()]);
    }
    check_manifest(&manifest).map_err(|e| format!("表单清单有误：{e}"))?;
    Ok(manifest)
}

/// A kind's manifest with the built-in options, default fonts and shared rules added, checked.
fn load_kind(id: &str, text: &str, files: &BTreeMap<String, (String, String)>) -> Result<Manifest, String> {
    let mut manifest = manifest(text)?;
    for shared in manifest.use_rules.clone() {
        let Some((text, _)) = files.get(&shared) else { return Err(format!("找不到共用规则文件 {shared}")) };
        let rules: Vec<Rule> =
            serde_saphyr::from_str(text).map_err(|e| format!("{shared}: 规则有误：{}", e.without_snippet()))?;
        manifest.rules.extend(rules);
    }
    if !files.contains_key(&format!("{id}/{}", manifest.template)) {
        return Err(format!("找不到模板文件 {id}/{}", manifest.template));
    }
    if let Some(skeleton) = &manifest.skeleton
        && !files.contains_key(&format!("{id}/{skeleton}"))
    {
        return Err(format!("找不到骨架文件 {id}/{skeleton}（skeleton:）"));
    }
    Ok(manifest)
}

fn origin_dir(origin: &str) -> &str {
    if origin == "built-in" { "templates" } else { origin }
}

fn parse_manifest(text: &str) -> Result<Manifest, String> {
    serde_saphyr::from_str_with_options::<Manifest>(text, serde_saphyr::options! { with_snippet: false }).map_err(|e| {
        let loc = e.location().map(|l| format!("第 {} 行：", l.line())).unwrap_or_default();
        format!("{loc}{}", e.without_snippet())
    })
}

/// Catches manifest mistakes that serde cannot (attributes on the wrong type).
fn check_manifest(m: &Manifest) -> Result<(), String> {
    fn walk(name: &str, f: &Field) -> Result<(), String> {
        use FieldType::*;
        match f.ty {
            List if f.item.is_none() => return Err(format!("字段 {name}：list 需要 item")),
            Record if f.fields.is_none() => return Err(format!("字段 {name}：record 需要 fields")),
            Choice if f.choices.is_empty() => return Err(format!("字段 {name}：choice 需要 choices")),
            Indicators => {
                let Some(row) = &f.row else { return Err(format!("字段 {name}：indicators 需要 row")) };
                if f.levels.is_empty() {
                    return Err(format!("字段 {name}：indicators 需要至少一个 levels"));
                }
                if !f.sides.is_empty() && f.levels.len() < 2 {
                    return Err(format!("字段 {name}：有 sides 时 levels 至少两层（共用的一级，各半边的二级）"));
                }
                for side in &f.sides {
                    if ["name", "groups", "rows"].contains(&side.key.as_str())
                        || f.levels[0].fields.contains_key(&side.key)
                    {
                        return Err(format!("字段 {name}：sides 的 key {} 与其他字段重名", side.key));
                    }
                }
                if !row.values().any(|c| !c.merge) {
                    return Err(format!("字段 {name}：row 至少要有一个不合并（merge: false）的字段"));
                }
                for (k, c) in row {
                    walk(&format!("{name}.row.{k}"), c)?;
                }
                for (i, level) in f.levels.iter().enumerate() {
                    for (k, c) in &level.fields {
                        if k == "name" || k == "groups" || k == "rows" {
                            return Err(format!("字段 {name}：levels[{i}] 不能再定义 {k}"));
                        }
                        walk(&format!("{name}.levels[{i}].{k}"), c)?;
                    }
                }
            }
            _ => {}
        }
        if let Some(item) = &f.item {
            walk(&format!("{name}[]"), item)?;
        }
        if let Some(fields) = &f.fields {
            for (k, c) in fields {
                walk(&format!("{name}.{k}"), c)?;
            }
        }
        Ok(())
    }
    for (k, f) in &m.fields {
        if k == "form" || k == "options" {
            return Err(format!("字段名 {k} 保留给 formpress 使用"));
        }
        walk(k, f)?;
    }
    for (k, o) in &m.options {
        use serde_json::Value as J;
        match &o.default {
            J::Bool(_) | J::Number(_) => {
                if !o.choices.is_empty() {
                    return Err(format!("选项 {k}：只有文本选项可以有 choices"));
                }
            }
            J::String(s) if o.choices.is_empty() || o.choices.contains(s) => {}
            J::String(s) => return Err(format!("选项 {k}：默认值 {s} 不在 choices 之中")),
            // A map of texts (`labels`).
            J::Object(m) if m.values().all(J::is_string) && o.choices.is_empty() => {}
            // A list of field names (`absent`).
            J::Array(items) if items.iter().all(J::is_string) && o.choices.is_empty() => {}
            _ => return Err(format!("选项 {k}：默认值应为 true/false、数字、文本、文本的映射或文本的列表")),
        }
    }
    for (i, c) in m.computed.iter().enumerate() {
        check_computed(m, c).map_err(|e| format!("computed[{i}]：{e}"))?;
    }
    Ok(())
}

/// What a path in the data leads to, as far as the manifest says.
enum Shape<'a> {
    /// A mapping with these fields.
    Record(&'a IndexMap<String, Field>),
    /// Inside an indicator tree (groups, rows, sides, `*`).
    Tree(&'a Field),
    /// Anything below a `*` outside a tree.
    Any,
    /// Text, a number, a picture: nothing can be set inside it.
    Scalar(&'a str),
}

fn shape_of<'a>(key: &'a str, f: &'a Field) -> Shape<'a> {
    let inner = match f.ty {
        FieldType::List => f.item.as_deref().unwrap_or(f),
        _ => f,
    };
    match inner.ty {
        FieldType::Record => inner.fields.as_ref().map_or(Shape::Scalar(key), Shape::Record),
        FieldType::Signature => Shape::Record(signature_fields()),
        FieldType::Indicators => Shape::Tree(inner),
        _ => Shape::Scalar(key),
    }
}

/// A computed value's `each` must lead to mappings of the kind's fields and
/// its `set` must not go through a field that holds text: either would make
/// the value silently never computed.
fn check_computed(m: &Manifest, c: &Computed) -> Result<(), String> {
    if c.set.split('.').any(str::is_empty) {
        return Err(format!("set「{}」应为以 . 分隔的字段名", c.set));
    }
    let mut at = Shape::Record(&m.fields);
    if let Some(each) = &c.each {
        if each.split('.').any(str::is_empty) {
            return Err(format!("each「{each}」应为以 . 分隔的字段名"));
        }
        for seg in each.split('.') {
            at = match at {
                Shape::Record(_) if seg == "*" => Shape::Any,
                Shape::Record(fields) => match fields.get(seg) {
                    Some(f) => shape_of(seg, f),
                    None => {
                        let known: Vec<&str> = fields.keys().map(String::as_str).collect();
                        return Err(format!("each「{each}」中没有字段「{seg}」（可用：{}）", known.join("、")));
                    }
                },
                Shape::Tree(tree) if seg == "rows" => tree.row.as_ref().map_or(Shape::Any, Shape::Record),
                Shape::Tree(tree) if seg == "groups" || seg == "*" || tree.sides.iter().any(|s| s.key == seg) => {
                    Shape::Tree(tree)
                }
                Shape::Tree(_) => {
                    return Err(format!("each「{each}」：指标树里只有 groups、rows、各半边和 *，没有「{seg}」"));
                }
                Shape::Any => Shape::Any,
                Shape::Scalar(key) => return Err(format!("each「{each}」：「{key}」不是列表或记录，不能再往下")),
            };
        }
    }
    let keys: Vec<&str> = c.set.split('.').collect();
    for (n, key) in keys.iter().enumerate() {
        if let Shape::Scalar(what) = at {
            return Err(match (n, &c.each) {
                (0, Some(each)) => format!("each「{each}」的每一项是文本或数字（不是映射），不能设置「{}」", c.set),
                _ => format!("「{what}」是文本或数字，不能在它下面设置「{}」", c.set),
            });
        }
        if n + 1 == keys.len() {
            break;
        }
        at = match at {
            Shape::Record(fields) => fields.get(*key).map_or(Shape::Any, |f| shape_of(key, f)),
            _ => Shape::Any,
        };
    }
    Ok(())
}

fn collect_builtin(dir: &include_dir::Dir<'static>, out: &mut BTreeMap<String, (String, String)>) {
    for file in dir.files() {
        if let Some(text) = file.contents_utf8() {
            let path = file.path().to_string_lossy().replace('\\', "/");
            out.insert(path, (text.to_string(), "built-in".into()));
        }
    }
    for sub in dir.dirs() {
        collect_builtin(sub, out);
    }
}

/// Reads a user templates folder: text files up to 1 MiB, three levels deep.
/// Links are not followed (a template must not print a file from elsewhere)
/// and FIFOs, devices and sockets are never opened; each is skipped and
/// reported.
fn collect_dir(
    root: &Path,
    dir: &Path,
    depth: usize,
    out: &mut BTreeMap<String, (String, String)>,
    problems: &mut Vec<String>,
) -> Result<(), CatalogError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| CatalogError(format!("无法读取模板目录 {}：{e}", dir.display())))?;
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        // The entry's own type: a link is a link here, not what it points to.
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            if depth < 3 {
                collect_dir(root, &path, depth + 1, out, problems)?;
            }
            continue;
        }
        if !ft.is_file() {
            problems.push(format!(
                "跳过 {}：{}，模板目录只读普通文件",
                path.display(),
                crate::files::read::file_kind(ft)
            ));
            continue;
        }
        let text = match crate::files::read::read(&path, 1 << 20).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => continue, // not text (a picture beside a template)
            Err(e) => {
                problems.push(format!("跳过 {e}"));
                continue;
            }
        };
        let Ok(rel) = path.strip_prefix(root) else { continue };
        let rel = rel.to_string_lossy().replace('\\', "/");
        out.insert(rel, (text, root.display().to_string()));
    }
    Ok(())
}
