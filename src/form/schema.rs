//! Checking form data against its kind's fields.
//!
//! The YAML tree is walked together with the manifest's field declarations.
//! The result is the normalised form data that templates and rules see (every
//! declared field present, text normalised, numbers as numbers) and a finding
//! for everything wrong, located by line and named as the form names it.

use serde_json::{Map, Value as Json, json};
use std::path::Path;

use crate::form::checks;
use crate::form::findings::{Class, Finding, Place};
use crate::form::kind::{Field, FieldType, Kind, Manifest};
use crate::form::values::normalize;
use crate::form::yaml::{Loc, Node, Value};

/// Hard limits that keep a single form's layout within seconds and a few hundred MB
/// (a 2 000-row table takes about 2 s and 430 MB); real forms are far smaller.
pub const MAX_TEXT_CHARS: usize = 20_000;
pub const MAX_LIST_ITEMS: usize = 2_000;
pub const MAX_INDICATOR_ROWS: usize = 5_000;

/// Keys every form file may have besides its kind's fields.
pub const FORM_KEY: &str = "form";
pub const OPTIONS_KEY: &str = "options";
/// The option naming the 骑缝章 picture (also `render --seal-across`).
pub const SEAL_ACROSS: &str = "seal_across";
/// The option that rewords captions (`labels`).
pub const LABELS: &str = "labels";
/// The option naming the cells a form does not have (`absent`).
pub const ABSENT: &str = "absent";

pub struct Checked {
    /// The form data, normalised; every declared field is present.
    pub data: Json,
    /// Files the data refers to (images), read now and served to Typst at these paths.
    pub assets: Vec<(String, Vec<u8>)>,
    /// Layout options: the kind's defaults with the form's overrides.
    pub options: Map<String, Json>,
    pub findings: Vec<Finding>,
    /// JSON pointers of the numbers in `data` with their values: the data keeps
    /// the text the user typed (`10.00` stays `10.00`, `250万` stays `250万`);
    /// rules see the value, an amount in the form's unit (`numeric_view`).
    pub numbers: Vec<(String, f64)>,
    /// Number and money cells that hold something other than a number, a
    /// dash or a convertible amount (`四百五十`, `854万(…)`, `300美元`): printed as
    /// typed, and none to the rules. They are an error only where a value the
    /// form prints is computed from them (see `rules::blocked`).
    pub unreadable: Vec<Unreadable>,
}

/// A number or money cell that cannot be read as one.
#[derive(Debug, Clone)]
pub struct Unreadable {
    /// JSON pointer into the data.
    pub pointer: String,
    pub text: String,
    pub loc: Loc,
    pub at: Place,
    /// A money cell (else a number: 分值, 得分).
    pub money: bool,
}

impl Unreadable {
    /// Why the cell cannot take part in a computation, in the form's words.
    pub fn reason(&self, unit: &str) -> String {
        let text = &self.text;
        if self.money
            && let Some((_, suffix)) = number_and_suffix(text)
        {
            return format!("「{text}」的单位「{suffix}」不能换算成{unit}");
        }
        format!("「{text}」不是{}", if self.money { "金额" } else { "数字" })
    }
}

/// The data as rules compute with it: every number the user typed (kept as
/// text in the data) as its value, a dash or slash cell and an unreadable
/// cell as none.
pub fn numeric_view(data: &Json, numbers: &[(String, f64)], unreadable: &[Unreadable]) -> Json {
    let mut view = data.clone();
    for (pointer, value) in numbers {
        if let Some(v) = view.pointer_mut(pointer) {
            *v = Json::from(*value);
        }
    }
    for cell in unreadable {
        if let Some(v) = view.pointer_mut(&cell.pointer) {
            *v = Json::Null;
        }
    }
    view
}

/// The value of a number as typed: `3600.40`, `-5`, `"3,309,840.00"`, `８９.９７４`.
pub fn decimal_value(text: &str) -> Option<f64> {
    let ascii: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' '))
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            '－' => '-',
            c => c,
        })
        .collect();
    let plain = ascii.strip_prefix(['-', '+']).unwrap_or(&ascii);
    let ok = !plain.is_empty()
        && plain.chars().all(|c| c.is_ascii_digit() || c == '.')
        && plain.matches('.').count() <= 1
        && plain.chars().next().is_some_and(|c| c.is_ascii_digit());
    if ok { ascii.parse().ok().filter(|x: &f64| x.is_finite()) } else { None }
}

/// Money units forms write after an amount, in 元.
const MONEY_UNITS: &[(&str, f64)] =
    &[("亿元", 1e8), ("亿", 1e8), ("万元", 1e4), ("万", 1e4), ("千元", 1e3), ("元", 1.0)];

/// An amount printed with its unit, as some forms do (`250万`, `12.5万元`,
/// `31200000元`), as a number in the form's unit (`万元` or `元`).
fn amount_with_unit(text: &str, form_unit: &str) -> Option<f64> {
    let t = text.trim();
    let per = if form_unit == "元" { 1.0 } else { 1e4 };
    MONEY_UNITS
        .iter()
        .find_map(|(u, f)| Some(decimal_value(t.strip_suffix(u)?)? * f / per))
        .map(|x| (x * 1e6).round() / 1e6)
}

/// A number followed by a short unit that is not money (`300美元`, `5吨`).
fn number_and_suffix(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    let split = t.char_indices().find(|(_, c)| !(c.is_ascii_digit() || matches!(c, '.' | ',' | '，' | '-')))?.0;
    let (number, suffix) = t.split_at(split);
    let short = (1..=4).contains(&suffix.chars().count());
    let plain = suffix.chars().all(|c| !c.is_ascii_digit() && !matches!(c, '(' | '（' | ')' | '）' | ' '));
    (short && plain).then_some((decimal_value(number)?, suffix))
}

/// The fields a form says its layout does not have (option `absent`).
fn absent_cells(options: &Map<String, Json>) -> Vec<String> {
    let list = options.get(ABSENT).and_then(Json::as_array);
    list.into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
}

/// The field at a dotted path (`goals.year`) through records.
fn field_at<'a>(fields: &'a indexmap::IndexMap<String, Field>, path: &str) -> Option<&'a Field> {
    let (first, rest) = path.split_once('.').map_or((path, None), |(a, b)| (a, Some(b)));
    let field = fields.get(first)?;
    match rest {
        None => Some(field),
        Some(rest) => field_at(field.fields.as_ref()?, rest),
    }
}

/// Every dotted field path through records, for did-you-mean.
fn field_paths(fields: &indexmap::IndexMap<String, Field>) -> Vec<String> {
    let mut out = vec![];
    for (key, field) in fields {
        out.push(key.clone());
        if let Some(inner) = &field.fields {
            out.extend(field_paths(inner).into_iter().map(|p| format!("{key}.{p}")));
        }
    }
    out
}

/// Every caption a form may reword with `options.labels`: the fields' paths
/// (through records and list items: `funds.year.total`, `tasks.name`,
/// `signature.unit`), the indicator table's columns (`level0`, `name`,
/// `weight`) and the kind's other captions (`captions:` in its manifest).
pub fn caption_keys(manifest: &Manifest) -> Vec<String> {
    fn walk(fields: &indexmap::IndexMap<String, Field>, prefix: &str, out: &mut Vec<String>) {
        for (key, field) in fields {
            let path = format!("{prefix}{key}");
            out.push(path.clone());
            let inner = field.fields.as_ref().or(field.item.as_ref().and_then(|i| i.fields.as_ref()));
            if let Some(inner) = inner {
                walk(inner, &format!("{path}."), out);
            }
            if field.ty == FieldType::Signature {
                walk(crate::form::kind::signature_fields(), &format!("{path}."), out);
            }
            if field.ty == FieldType::Indicators {
                let columns: Vec<String> = (0..field.levels.len())
                    .map(|l| format!("level{l}"))
                    .chain(field.row.iter().flatten().map(|(k, _)| k.clone()))
                    .collect();
                // A half's own column (`mid.name`: its caption 三级指标（长期）, blank in that half only).
                for side in &field.sides {
                    out.extend(columns.iter().filter(|c| *c != "level0").map(|c| format!("{}.{c}", side.key)));
                }
                out.extend(columns);
            }
        }
    }
    let mut out = vec![];
    walk(&manifest.fields, "", &mut out);
    out.extend(manifest.captions.keys().cloned());
    out.dedup();
    out
}

/// Cells that print a dash or slash instead of a number ("not applicable").
fn is_dash(text: &str) -> bool {
    matches!(text.trim(), "/" | "／" | "-" | "－" | "—" | "——" | "–" | "\\")
}

/// A YAML path (`tasks[2].fiscal`) as a JSON pointer (`/tasks/2/fiscal`).
fn pointer(yaml: &str) -> String {
    let mut out = String::new();
    for part in yaml.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            out.push('/');
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            for index in rest.split(['[', ']']).filter(|s| !s.is_empty()) {
                out.push('/');
                out.push_str(index);
            }
        } else {
            out.push('/');
            out.push_str(rest);
        }
    }
    out
}

/// A character check for text values (the glyph preflight).
pub type Coverage<'a> = &'a dyn Fn(char) -> bool;

/// Reads the `form:` key: which kind this file is.
#[allow(clippy::result_large_err)] // a finding is the natural error here, made once per file
pub fn kind_id(root: &Node) -> Result<(String, Loc), Finding> {
    let at = Place::root().key(FORM_KEY, "表单种类");
    match &root.value {
        Value::Map(_) => {}
        other => {
            return Err(Finding::error(
                Class::Structure,
                Some(root.loc),
                &Place::root(),
                format!("文件顶层应为“字段: 值”的映射，实际为{}", other.describe()),
            ));
        }
    }
    match crate::form::zh_keys::form_key(root) {
        Some(Node { value: Value::Str(s), loc }) => Ok((s.trim().to_string(), *loc)),
        Some(node) => Err(Finding::error(
            Class::Structure,
            Some(node.loc),
            &at,
            format!("form 应为表单种类名称（文本），实际为{}", node.value.describe()),
        )),
        None => Err(Finding::error(
            Class::Structure,
            Some(Loc { line: 1, col: 1, start: 0, len: 0 }),
            &at,
            "缺少 form: 字段（表单种类），例如 form: zhengzhou-2020-dept-overall",
        )
        .with_help("formpress list 列出全部表单种类")),
    }
}

/// Where pictures may come from: the form file's folder (canonical) and the
/// folders allowed with `--allow-path` (canonical).
pub struct Pictures<'a> {
    pub base: std::path::PathBuf,
    pub allowed: &'a [std::path::PathBuf],
}

/// Checks a parsed form file against `kind`.
/// `base` says where pictures may come from; none for data that did not come
/// from a file.
pub fn check(kind: &Kind, source: &str, root: &Node, covers: Coverage, base: Option<&Pictures>) -> Checked {
    let mut walker = Walker {
        source,
        covers,
        findings: vec![],
        rows: 0,
        base,
        assets: vec![],
        covered: Default::default(),
        numbers: vec![],
        unreadable: vec![],
        unit: String::new(),
        absent: vec![],
    };
    let manifest = &kind.manifest;
    let options = walker.options(manifest, root);
    walker.unit = options.get("unit").and_then(Json::as_str).unwrap_or("万元").to_string();
    walker.absent = absent_cells(&options);
    let data = walker.record(&manifest.fields, Some(root), root.loc, &Place::root(), &[FORM_KEY, OPTIONS_KEY]);
    Checked {
        data,
        assets: walker.assets,
        options,
        findings: walker.findings,
        numbers: walker.numbers,
        unreadable: walker.unreadable,
    }
}

/// Largest picture a form may refer to: file size, then the size its header
/// declares (a few bytes can declare a picture that takes gigabytes to decode).
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
pub const MAX_IMAGE_SIDE: usize = 8000;
pub const MAX_IMAGE_PIXELS: usize = 64_000_000;
const IMAGE_TYPES: &[&str] = &["png", "jpg", "jpeg", "gif", "svg", "webp"];

struct Walker<'a> {
    source: &'a str,
    covers: Coverage<'a>,
    findings: Vec<Finding>,
    /// Indicator rows seen so far in the current tree.
    rows: usize,
    base: Option<&'a Pictures<'a>>,
    assets: Vec<(String, Vec<u8>)>,
    /// Characters already looked up in the fonts (a form repeats most of them).
    covered: std::collections::HashMap<char, bool>,
    /// Where the numbers are (see `Checked::numbers`).
    numbers: Vec<(String, f64)>,
    unreadable: Vec<Unreadable>,
    /// The form's money unit (option `unit`): amounts typed in another are converted.
    unit: String,
    /// Cells the form does not have (option `absent`).
    absent: Vec<String>,
}

impl Walker<'_> {
    fn structure(&mut self, loc: Loc, at: &Place, message: impl Into<String>) {
        self.findings.push(Finding::error(Class::Structure, Some(loc), at, message));
    }

    fn rule(&mut self, loc: Loc, at: &Place, message: impl Into<String>) {
        self.findings.push(Finding::error(Class::Rule, Some(loc), at, message));
    }

    fn options(&mut self, manifest: &Manifest, root: &Node) -> Map<String, Json> {
        let mut out: Map<String, Json> = manifest.options.iter().map(|(k, o)| (k.clone(), o.default.clone())).collect();
        let Some(node) = root.get(OPTIONS_KEY) else { return out };
        let at = Place::root().key(OPTIONS_KEY, "版式选项");
        let Value::Map(entries) = &node.value else {
            self.structure(node.loc, &at, format!("options 应为映射，实际为{}", node.value.describe()));
            return out;
        };
        for (key, value) in entries {
            let name = key_text(key);
            let at = at.key(&name, &name);
            let Some(spec) = manifest.options.get(&name) else {
                let known: Vec<&str> = manifest.options.keys().map(String::as_str).collect();
                self.unknown_key(key.loc, &at, &name, &known);
                continue;
            };
            // A picture (the 骑缝章): read now, like a picture field, and served at a virtual path.
            if name == SEAL_ACROSS {
                let picture = match &value.value {
                    Value::Str(given) if given.is_empty() => Json::String(String::new()),
                    _ => self.picture("骑缝章图片", value, &at),
                };
                out.insert(name, picture);
                continue;
            }
            let given = match (&spec.default, &value.value) {
                (Json::Bool(_), Value::Bool(b)) => Json::Bool(*b),
                (Json::Number(_), Value::Int(i)) => Json::from(*i as f64),
                (Json::Number(_), Value::Float(x)) => Json::from(*x),
                // A map of texts (the `labels` option): every value must be text.
                (Json::Object(_), Value::Map(pairs)) => {
                    let mut map = Map::new();
                    // The `labels` option names captions the form prints: a key that
                    // names none (a misspelt `departmnet`) would change nothing.
                    let known = if name == LABELS { caption_keys(manifest) } else { vec![] };
                    for (k, v) in pairs {
                        let caption = key_text(k);
                        if name == LABELS && !known.contains(&caption) {
                            let known: Vec<&str> = known.iter().map(String::as_str).collect();
                            let mut f = Finding::error(
                                Class::Structure,
                                Some(k.loc),
                                &at.key(&caption, &caption),
                                format!("选项 labels：没有栏目 {caption}，改了也不会印出"),
                            );
                            if let Some(best) = did_you_mean(&caption, &known) {
                                f = f.with_help(format!("是否应为 {best}？"));
                            }
                            self.findings.push(f);
                            continue;
                        }
                        match &v.value {
                            Value::Str(text) => {
                                map.insert(key_text(k), Json::String(text.clone()));
                            }
                            other => self.structure(
                                v.loc,
                                &at.key(&key_text(k), &key_text(k)),
                                format!("选项 {name} 的值应为文本，实际为{}", other.describe()),
                            ),
                        }
                    }
                    Json::Object(map)
                }
                // A list of field paths (the `absent` option): each must name a field of
                // the kind; or of columns and lines (`show`, `order`): each a caption key.
                (Json::Array(_), Value::Seq(items)) => {
                    let mut list = vec![];
                    // `absent` also names the indicator table's columns (`remark`, `reason`).
                    let captions = caption_keys(manifest);
                    let exists = |path: &str| {
                        captions.iter().any(|c| c == path)
                            || name == ABSENT && field_at(&manifest.fields, path).is_some()
                    };
                    for item in items {
                        match &item.value {
                            Value::Str(path) if exists(path) => {
                                list.push(Json::String(path.clone()));
                            }
                            Value::Str(path) => {
                                let known =
                                    if name == ABSENT { field_paths(&manifest.fields) } else { captions.clone() };
                                let known: Vec<&str> = known.iter().map(String::as_str).collect();
                                let mut f = Finding::error(
                                    Class::Structure,
                                    Some(item.loc),
                                    &at,
                                    format!("选项 {name}：没有字段 {path}"),
                                );
                                if let Some(best) = did_you_mean(path, &known) {
                                    f = f.with_help(format!("是否应为 {best}？"));
                                }
                                self.findings.push(f);
                            }
                            other => self.structure(
                                item.loc,
                                &at,
                                format!("选项 {name} 的每一项应为字段名（文本），实际为{}", other.describe()),
                            ),
                        }
                    }
                    Json::Array(list)
                }
                (Json::String(_), Value::Str(s)) if spec.choices.is_empty() || spec.choices.contains(s) => {
                    Json::String(s.clone())
                }
                (Json::String(_), Value::Str(s)) => {
                    let choices: Vec<&str> = spec.choices.iter().map(String::as_str).collect();
                    let mut f = Finding::error(
                        Class::Structure,
                        Some(value.loc),
                        &at,
                        format!("选项 {name} 应为 {} 之一，实际为「{s}」", choices.join("、")),
                    );
                    if let Some(best) = did_you_mean(s, &choices) {
                        f = f.with_help(format!("是否应为 {best}？"));
                    }
                    self.findings.push(f);
                    continue;
                }
                (default, other) => {
                    self.structure(
                        value.loc,
                        &at,
                        format!("选项 {name} 应为{}，实际为{}", json_kind(default), other.describe()),
                    );
                    continue;
                }
            };
            out.insert(name, given);
        }
        out
    }

    fn unknown_key(&mut self, loc: Loc, at: &Place, key: &str, known: &[&str]) {
        let mut f = Finding::error(Class::Structure, Some(loc), at, format!("未知字段 {key}"));
        if let Some(best) = did_you_mean(key, known) {
            f = f.with_help(format!("是否应为 {best}？"));
        } else if !known.is_empty() {
            f = f.with_help(format!("此处可用的字段：{}", known.join("、")));
        }
        self.findings.push(f);
    }

    /// A mapping with declared fields; `extra` keys are allowed and skipped.
    fn record(
        &mut self,
        fields: &indexmap::IndexMap<String, Field>,
        node: Option<&Node>,
        parent: Loc,
        at: &Place,
        extra: &[&str],
    ) -> Json {
        let mut out = Map::new();
        let entries: &[(Node, Node)] = match node.map(|n| &n.value) {
            Some(Value::Map(entries)) => entries,
            Some(Value::Null) | None => &[],
            Some(other) => {
                let node = node.expect("some");
                self.structure(node.loc, at, format!("应为映射（字段: 值），实际为{}", other.describe()));
                &[]
            }
        };
        let here = node.map_or(parent, |n| n.loc);
        for (key, _) in entries {
            let name = key_text(key);
            if !fields.contains_key(&name) && !extra.contains(&name.as_str()) {
                // Chinese keys are known too (see zh_keys), so a misspelt label gets its did-you-mean.
                let zh = if name.is_ascii() { vec![] } else { crate::form::zh_keys::zh_keys(fields) };
                let known: Vec<&str> =
                    fields.keys().map(String::as_str).chain(zh.iter().map(|(_, z)| z.as_str())).collect();
                self.unknown_key(key.loc, &at.key(&name, &name), &name, &known);
            }
        }
        for (key, spec) in fields {
            let child = entries.iter().find(|(k, _)| key_text(k) == *key).map(|(_, v)| v);
            // An indicator tree is named by its groups (管理效率 › 预算管理 › …), not its own label.
            let label = if spec.ty == FieldType::Indicators { "" } else { spec.label.as_str() };
            let value = self.field(spec, child, here, &at.key(key, label));
            out.insert(key.clone(), value);
        }
        Json::Object(out)
    }

    fn field(&mut self, spec: &Field, node: Option<&Node>, parent: Loc, at: &Place) -> Json {
        let node = match node {
            Some(n) if !matches!(n.value, Value::Null) => n,
            // `explain:` written with no value starts an empty cell of its own.
            Some(_) if spec.merge => return Json::String(String::new()),
            found => {
                if let Some(default) = &spec.default {
                    return default.clone();
                }
                let loc = found.map_or(parent, |n| n.loc);
                let what = if found.is_some() { "为空" } else { "缺失" };
                if spec.required {
                    self.structure(loc, at, format!("必填项「{}」{what}", spec.label));
                } else if spec.expected && !self.absent.contains(&at.yaml) {
                    // Printed blank as published, but a reviewer would ask for it
                    // (unless the form has no such cell: option `absent`).
                    self.findings.push(Finding::warning(
                        Some(loc),
                        at,
                        format!("「{}」{what}，表上这一格是空的", spec.label),
                    ));
                }
                return match spec.ty {
                    FieldType::List | FieldType::Indicators => Json::Array(vec![]),
                    FieldType::Record => self.record(spec.fields.as_ref().expect("checked"), None, parent, at, &[]),
                    _ => Json::Null,
                };
            }
        };
        match spec.ty {
            FieldType::Text => self.text(spec, node, at),
            FieldType::IndicatorValue => {
                // 指标值 is free text: numbers are read where they can be (rules use
                // them); qualitative text needs no finding.
                let text = self.text(spec, node, at);
                if let Some(problem) = text.as_str().and_then(checks::value_problem) {
                    self.findings.push(Finding::warning(Some(node.loc), at, format!("「{}」{problem}", spec.label)));
                }
                text
            }
            FieldType::Integer => self.integer(spec, node, at),
            FieldType::Number | FieldType::Money => self.number(spec, node, at),
            FieldType::Bool => match node.value {
                Value::Bool(b) => Json::Bool(b),
                ref other => {
                    self.structure(
                        node.loc,
                        at,
                        format!("「{}」应为 true 或 false，实际为{}", spec.label, other.describe()),
                    );
                    Json::Null
                }
            },
            FieldType::Date => self.date(spec, node, at),
            FieldType::Choice => {
                let text = self.text(spec, node, at);
                // An open list accepts other words, but a near miss of an official
                // one is most likely a typo.
                if let Json::String(s) = &text
                    && spec.open
                    && !spec.choices.iter().any(|c| c == s)
                {
                    let choices: Vec<&str> = spec.choices.iter().map(String::as_str).collect();
                    if let Some(best) = did_you_mean(s, &choices) {
                        let message = format!("「{}」「{s}」与常用的「{best}」只差一两个字，是否写错了？", spec.label);
                        self.findings.push(Finding::warning(Some(node.loc), at, message));
                    }
                }
                if let Json::String(s) = &text
                    && !spec.open
                    && !spec.choices.iter().any(|c| c == s)
                {
                    let choices: Vec<&str> = spec.choices.iter().map(String::as_str).collect();
                    let mut f = Finding::error(
                        Class::Structure,
                        Some(node.loc),
                        at,
                        format!("「{}」应为 {} 之一，实际为「{s}」", spec.label, choices.join("、")),
                    );
                    if let Some(best) = did_you_mean(s, &choices) {
                        f = f.with_help(format!("是否应为 {best}？"));
                    }
                    self.findings.push(f);
                }
                text
            }
            FieldType::List => self.list(spec, node, at),
            FieldType::Image => self.image(spec, node, at),
            FieldType::Signature => self.record(crate::form::kind::signature_fields(), Some(node), node.loc, at, &[]),
            FieldType::Record => self.record(spec.fields.as_ref().expect("checked"), Some(node), node.loc, at, &[]),
            FieldType::Indicators => self.indicators(spec, node, at),
        }
    }

    fn text(&mut self, spec: &Field, node: &Node, at: &Place) -> Json {
        let raw = match &node.value {
            Value::Str(s) => s.clone(),
            // A number or yes/no where text is expected: keep it as written.
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => node.raw(self.source).unwrap_or_default().to_string(),
            other => {
                self.structure(node.loc, at, format!("「{}」应为文本，实际为{}", spec.label, other.describe()));
                return Json::Null;
            }
        };
        let text = normalize(raw.trim_end());
        if spec.required && text.trim().is_empty() && !spec.merge {
            self.structure(node.loc, at, format!("必填项「{}」为空", spec.label));
        } else if spec.expected && text.trim().is_empty() {
            self.findings.push(Finding::warning(
                Some(node.loc),
                at,
                format!("「{}」为空，表上这一格是空的", spec.label),
            ));
        }
        let n = text.chars().count();
        if n > MAX_TEXT_CHARS {
            self.structure(node.loc, at, format!("「{}」有 {n} 个字，超过上限 {MAX_TEXT_CHARS}", spec.label));
            return Json::Null;
        }
        if let Some(max) = spec.max_chars {
            let n = text.chars().count();
            if n > max {
                self.rule(node.loc, at, format!("「{}」有 {n} 个字，超过上限 {max}", spec.label));
            }
        }
        self.glyphs(&text, node, at);
        if !spec.no_lint {
            self.lint_labelled(&spec.label, &text, node, at);
        }
        // A blank cell is blank however it was written (`""` or nothing): one
        // value, so the 校验码 of a form does not depend on how its blanks were
        // typed, and a form saved from a spreadsheet keeps its code.
        if text.is_empty() {
            return Json::Null;
        }
        Json::String(text)
    }

    /// The text lints (doubled words, template instructions, Latin words), each
    /// finding at its character.
    fn lint_labelled(&mut self, label: &str, text: &str, node: &Node, at: &Place) {
        for (i, message) in checks::lint_text(text) {
            let needle: String = text.chars().skip(i).take(2).collect();
            let loc = char_loc(self.source, node, &needle);
            self.findings.push(Finding::warning(Some(loc), at, format!("「{label}」{message}")));
        }
    }

    /// The glyph preflight: every character must be drawable by some font.
    fn glyphs(&mut self, text: &str, node: &Node, at: &Place) {
        let mut missing: Vec<char> = vec![];
        let mut invisible: Vec<char> = vec![];
        for c in text.chars().filter(|&c| is_invisible(c)) {
            if !invisible.contains(&c) {
                invisible.push(c);
            }
        }
        if !invisible.is_empty() {
            let list: Vec<String> = invisible.iter().map(|c| format!("U+{:04X}", *c as u32)).collect();
            let loc = char_loc(self.source, node, &invisible[0].to_string());
            self.findings.push(
                Finding::error(Class::Structure, Some(loc), at, format!("有看不见的字符 {}", list.join("、")))
                    .with_help("零宽空格、方向标记等不会印出来，多半是复制粘贴带进来的；请删除"),
            );
        }
        for c in text.chars().filter(|&c| !is_invisible(c)) {
            let covers = self.covers;
            let covered = *self.covered.entry(c).or_insert_with(|| covers(c));
            if !c.is_whitespace() && !covered && !missing.contains(&c) {
                missing.push(c);
            }
        }
        if missing.is_empty() {
            return;
        }
        let list: Vec<String> = missing.iter().map(|c| format!("{c} U+{:04X}", *c as u32)).collect();
        let loc = char_loc(self.source, node, &missing[0].to_string());
        self.findings.push(
            Finding::error(Class::Structure, Some(loc), at, format!("没有字体能显示字符 {}", list.join("、")))
                .with_help("用 --font-path 目录 加入含有该字的字体（如 花园明朝、天珩全字库）"),
        );
    }

    /// A picture: read now, so a missing or unreadable file is a finding with its line.
    fn image(&mut self, spec: &Field, node: &Node, at: &Place) -> Json {
        self.picture(&spec.label, node, at)
    }

    /// A picture the form names by `label`, registered as an asset.
    fn picture(&mut self, label: &str, node: &Node, at: &Place) -> Json {
        let Value::Str(given) = &node.value else {
            self.structure(node.loc, at, format!("「{label}」应为图片文件的路径，实际为{}", node.value.describe()));
            return Json::Null;
        };
        let ext = Path::new(given).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        if !IMAGE_TYPES.contains(&ext.as_str()) {
            self.structure(node.loc, at, format!("「{}」{given}：只支持 {} 图片", label, IMAGE_TYPES.join("、")));
            return Json::Null;
        }
        let Some(pictures) = self.base else {
            self.structure(node.loc, at, format!("「{}」{given}：表单不是从文件读入，无法确定图片位置", label));
            return Json::Null;
        };
        match read_picture(pictures, Path::new(given), &ext) {
            Ok(bytes) => {
                let vpath = format!("/assets/{}.{ext}", self.assets.len());
                self.assets.push((vpath.clone(), bytes));
                Json::String(vpath)
            }
            Err(e) => {
                self.structure(node.loc, at, format!("「{}」无法读取图片 {given}：{e}", label));
                Json::Null
            }
        }
    }

    fn integer(&mut self, spec: &Field, node: &Node, at: &Place) -> Json {
        let value = match node.value {
            Value::Int(i) => i,
            Value::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => x as i128,
            ref other => {
                let shown = shown(self.source, node);
                self.structure(node.loc, at, format!("「{}」应为整数，实际为{}{shown}", spec.label, other.describe()));
                return Json::Null;
            }
        };
        let Ok(value) = i64::try_from(value) else {
            self.structure(node.loc, at, format!("「{}」数值过大", spec.label));
            return Json::Null;
        };
        self.bounds(spec, value as f64, node, at);
        Json::from(value)
    }

    /// A number field: kept as the user typed it (`10.00`, `89.974`,
    /// `"3,309,840.00"`), or a dash or slash where the form prints one.
    fn number(&mut self, spec: &Field, node: &Node, at: &Place) -> Json {
        let written = match &node.value {
            Value::Int(_) | Value::Float(_) => node.raw(self.source).unwrap_or_default().to_string(),
            Value::Str(s) => s.trim().to_string(),
            other => {
                self.structure(node.loc, at, format!("「{}」应为数字，实际为{}", spec.label, other.describe()));
                return Json::Null;
            }
        };
        if is_dash(&written) {
            return Json::String(written);
        }
        let money = spec.ty == FieldType::Money;
        let converted = || if money { amount_with_unit(&written, &self.unit) } else { None };
        let Some(value) = decimal_value(&written).or_else(converted) else {
            // A cell the form fills with words (`854万(高标准农田建设400万元…)`) is
            // printed as written; a value computed from it is not (rules::blocked).
            if matches!(node.value, Value::Str(_)) && !written.is_ascii() {
                self.glyphs(&written, node, at);
                self.lint_labelled(&spec.label, &written, node, at);
                self.unreadable.push(Unreadable {
                    pointer: pointer(&at.yaml),
                    text: written.clone(),
                    loc: node.loc,
                    at: at.clone(),
                    money,
                });
                return Json::String(written);
            }
            let shown = shown(self.source, node);
            let f = Finding::error(
                Class::Structure,
                Some(node.loc),
                at,
                format!("「{}」应为数字，实际为{shown}", spec.label),
            )
            .with_help("数字照表上写，如 3600.4、10.00 或 \"3,309,840.00\"；不适用的格可写 \"/\"，空格不写");
            self.findings.push(f);
            return Json::Null;
        };
        if value.abs() >= 1e15 {
            self.structure(node.loc, at, format!("「{}」数值过大", spec.label));
            return Json::Null;
        }
        // Real forms carry more decimals than 2 (89.974 万元 is exact to 10 元): only a
        // kind that sets `decimals:` asks for fewer, and then as a warning.
        if let Some(d) = spec.decimals
            && decimals_of(&written, value) > d
        {
            self.findings.push(Finding::warning(
                Some(node.loc),
                at,
                format!("「{}」{written} 的小数超过 {d} 位", spec.label),
            ));
        }
        if spec.ty == FieldType::Money && spec.min.is_none() && value < 0.0 {
            self.rule(node.loc, at, format!("「{}」金额不能为负数：{written}", spec.label));
        }
        self.bounds(spec, value, node, at);
        self.numbers.push((pointer(&at.yaml), value));
        Json::String(written)
    }

    fn bounds(&mut self, spec: &Field, value: f64, node: &Node, at: &Place) {
        if let Some(min) = spec.min
            && value < min
        {
            self.rule(node.loc, at, format!("「{}」{} 小于下限 {}", spec.label, fmt_num(value), fmt_num(min)));
        }
        if let Some(max) = spec.max
            && value > max
        {
            self.rule(node.loc, at, format!("「{}」{} 大于上限 {}", spec.label, fmt_num(value), fmt_num(max)));
        }
    }

    fn date(&mut self, spec: &Field, node: &Node, at: &Place) -> Json {
        let text = match &node.value {
            Value::Str(s) => s.trim().to_string(),
            _ => node.raw(self.source).unwrap_or_default().to_string(),
        };
        match parse_date(&text) {
            Some((y, m, d)) => Json::String(format!("{y:04}-{m:02}-{d:02}")),
            None => {
                self.structure(
                    node.loc,
                    at,
                    format!("「{}」应为日期，如 2020-03-06 或 2020年3月6日，实际为「{text}」", spec.label),
                );
                Json::Null
            }
        }
    }

    fn list(&mut self, spec: &Field, node: &Node, at: &Place) -> Json {
        let item = spec.item.as_ref().expect("checked");
        let Value::Seq(items) = &node.value else {
            self.structure(
                node.loc,
                at,
                format!("「{}」应为列表（每项以 - 开头），实际为{}", spec.label, node.value.describe()),
            );
            return Json::Array(vec![]);
        };
        self.count(spec, items.len(), node, at);
        if items.len() > spec.max_items.unwrap_or(MAX_LIST_ITEMS) {
            return Json::Array(vec![]);
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, child) in items.iter().enumerate() {
            let label = match &spec.item_label {
                Some(l) => l.replace("{n}", &(i + 1).to_string()),
                None => format!("第{}项", i + 1),
            };
            out.push(self.field(item, Some(child), node.loc, &at.index(i, &label)));
        }
        Json::Array(out)
    }

    fn count(&mut self, spec: &Field, n: usize, node: &Node, at: &Place) {
        let min = spec.min_items.unwrap_or(if spec.required { 1 } else { 0 });
        if n < min {
            self.structure(node.loc, at, format!("「{}」至少需要 {min} 项，实际 {n} 项", spec.label));
        }
        let max = spec.max_items.unwrap_or(MAX_LIST_ITEMS);
        if n > max {
            self.structure(node.loc, at, format!("「{}」最多 {max} 项，实际 {n} 项", spec.label));
        }
    }

    /// The indicator tree: groups (一级, 二级, …) each with a `name`, the
    /// level's extra fields and `groups:` below, and `rows:` at the last level.
    fn indicators(&mut self, spec: &Field, node: &Node, at: &Place) -> Json {
        self.rows = 0;
        let tree = if is_flat(spec, node) { self.flat(spec, node, at) } else { self.groups(spec, 0, node, at) };
        if self.rows > MAX_INDICATOR_ROWS {
            self.structure(
                node.loc,
                at,
                format!("{}：指标行过多，{} 行，上限 {MAX_INDICATOR_ROWS} 行", spec.label, self.rows),
            );
            return Json::Array(vec![]);
        }
        tree
    }

    /// A flat indicator list (the form has no 一级/二级 columns): its rows go
    /// into unnamed groups, whose columns the table then leaves out.
    fn flat(&mut self, spec: &Field, node: &Node, at: &Place) -> Json {
        let rows = self.row_list(spec, node, at, |i| at.index(i, ""));
        let mut group = json!({"name": "", "rows": rows});
        for level in spec.levels.iter().skip(1).rev().skip(1) {
            let _ = level;
            group = json!({"name": "", "groups": [group]});
        }
        let top = match spec.sides.last() {
            // Side by side: the rows are the last half's (年度).
            Some(side) => json!({"name": "", side.key.clone(): [group]}),
            None if spec.levels.len() > 1 => json!({"name": "", "groups": [group]}),
            None => group,
        };
        Json::Array(vec![top])
    }

    fn groups(&mut self, spec: &Field, depth: usize, node: &Node, at: &Place) -> Json {
        let level = &spec.levels[depth];
        let Value::Seq(items) = &node.value else {
            self.structure(
                node.loc,
                at,
                format!("{}应为列表（每项以 - 开头），实际为{}", level.label, node.value.describe()),
            );
            return Json::Array(vec![]);
        };
        if items.is_empty() {
            self.structure(node.loc, at, format!("至少需要一个{}", level.label));
        }
        let last = depth + 1 == spec.levels.len();
        let children = if last { "rows" } else { "groups" };
        // With sides, a 一级 group lists its groups per side (mid:, year:) instead of groups:.
        let sided = depth == 0 && !spec.sides.is_empty();
        let side_keys: Vec<&str> = spec.sides.iter().map(|s| s.key.as_str()).collect();
        let allowed: Vec<&str> = if sided { side_keys.clone() } else { vec![children] };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let name = item.get("name").and_then(|n| match &n.value {
                Value::Str(s) => Some(s.trim().to_string()),
                _ => None,
            });
            let label = name.clone().unwrap_or_else(|| format!("{}第{}项", level.label, i + 1));
            let here = at.index(i, &label);
            let mut fields = level.fields.clone();
            // A group printed without a name (a merged label left blank) is kept blank.
            fields.insert("name".into(), Field::text(&level.label, false));
            let mut group = match self.record(&fields, Some(item), item.loc, &here, &allowed) {
                Json::Object(m) => m,
                _ => Map::new(),
            };
            if sided {
                let mut any = false;
                for side in &spec.sides {
                    let list = match item.get(&side.key) {
                        Some(n) => self.groups(spec, 1, n, &here.key(&side.key, &side.label)),
                        None => Json::Array(vec![]),
                    };
                    any |= list.as_array().is_some_and(|l| !l.is_empty());
                    group.insert(side.key.clone(), list);
                }
                if !any {
                    let keys = side_keys.join(":、");
                    self.structure(
                        item.loc,
                        &here,
                        format!("「{label}」下没有{}（缺少 {keys}:）", spec.levels[1].label),
                    );
                }
                out.push(Json::Object(group));
                continue;
            }
            let below = if last {
                self.rows(spec, item, &here)
            } else {
                match item.get(children) {
                    Some(n) if !matches!(&n.value, Value::Seq(v) if v.is_empty()) => {
                        self.groups(spec, depth + 1, n, &here.key(children, ""))
                    }
                    // A group the form prints with nothing below it: one blank row.
                    _ => blank_groups(spec, depth + 1),
                }
            };
            group.insert(children.into(), below);
            out.push(Json::Object(group));
        }
        Json::Array(out)
    }

    fn rows(&mut self, spec: &Field, group: &Node, at: &Place) -> Json {
        match group.get("rows") {
            Some(node) if !matches!(&node.value, Value::Seq(v) if v.is_empty()) => {
                self.row_list(spec, node, at, |i| at.key("rows", "").index(i, ""))
            }
            // A 二级 printed with empty 三级 and 指标值 cells: one blank row.
            _ => Json::Array(vec![blank_row(spec)]),
        }
    }

    fn row_list(&mut self, spec: &Field, node: &Node, at: &Place, place: impl Fn(usize) -> Place) -> Json {
        let row_fields = spec.row.as_ref().expect("checked");
        let Value::Seq(items) = &node.value else {
            self.structure(node.loc, at, format!("rows 应为列表（每项以 - 开头），实际为{}", node.value.describe()));
            return Json::Array(vec![]);
        };
        let first_key = row_fields.keys().next().cloned().unwrap_or_default();
        self.rows += items.len();
        if self.rows > MAX_INDICATOR_ROWS {
            return Json::Array(vec![]); // reported once, by `indicators`
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let name = item.get(&first_key).and_then(|n| match &n.value {
                Value::Str(s) => Some(s.trim().to_string()),
                _ => None,
            });
            let label = name.unwrap_or_else(|| format!("第{}行", i + 1));
            let here = place(i);
            let here = Place {
                label: format!("{}{}{label}", here.label, if here.label.is_empty() { "" } else { " › " }),
                ..here
            };
            let row = self.record(row_fields, Some(item), item.loc, &here, &[]);
            // A merge field the row leaves out continues the cell above: keep it absent (null).
            let row = match row {
                Json::Object(mut m) => {
                    for (k, f) in row_fields {
                        if f.merge && item.get(k).is_none() {
                            m.insert(k.clone(), Json::Null);
                        }
                    }
                    Json::Object(m)
                }
                other => other,
            };
            out.push(row);
        }
        Json::Array(out)
    }
}

/// Whether an indicator list is flat: its items are rows, not 一级 groups.
fn is_flat(spec: &Field, node: &Node) -> bool {
    let Value::Seq(items) = &node.value else { return false };
    let row_fields = spec.row.as_ref();
    items.first().is_some_and(|first| match &first.value {
        Value::Map(entries) => {
            let keys: Vec<String> = entries.iter().map(|(k, _)| key_text(k)).collect();
            let structural =
                keys.iter().any(|k| k == "groups" || k == "rows" || spec.sides.iter().any(|s| &s.key == k));
            !structural && keys.iter().any(|k| k != "name" && row_fields.is_some_and(|r| r.contains_key(k)))
        }
        _ => false,
    })
}

/// A row with every cell blank.
fn blank_row(spec: &Field) -> Json {
    Json::Object(spec.row.iter().flatten().map(|(k, _)| (k.clone(), Json::Null)).collect())
}

/// One unnamed group (and below it, down to one blank row) from `depth` on.
fn blank_groups(spec: &Field, depth: usize) -> Json {
    if depth + 1 == spec.levels.len() {
        json!([{"name": "", "rows": [blank_row(spec)]}])
    } else {
        json!([{"name": "", "groups": blank_groups(spec, depth + 1)}])
    }
}

/// Why a picture cannot be used.
#[derive(Debug)]
pub enum PictureError {
    /// Outside the form's folder and every `--allow-path` folder.
    Outside(std::path::PathBuf),
    Read(crate::files::read::InputError),
    /// The header is not one of a picture of this type.
    Unrecognised,
    /// The picture's data does not decode (a damaged file).
    Broken(String),
    TooLarge {
        width: usize,
        height: usize,
    },
    /// Not a type formpress prints (the types it does, listed).
    Type(String),
    /// Larger than `MAX_IMAGE_BYTES` (its size).
    Bytes(u64),
}

impl std::fmt::Display for PictureError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            PictureError::Outside(base) => write!(
                f,
                "不在表单所在的目录 {} 之内；图片要放在表单旁边，或用 --allow-path 目录 允许另一个目录",
                base.display()
            ),
            PictureError::Read(e) => write!(f, "{}", e.reason()),
            PictureError::Unrecognised => write!(f, "无法识别图片格式（文件头不是图片）"),
            PictureError::Broken(why) => write!(f, "图片已损坏，无法解码（{why}）"),
            PictureError::TooLarge { width, height } => write!(
                f,
                "图片有 {width}×{height} 像素，超过上限（每边 {MAX_IMAGE_SIDE}，共 {} 万像素）",
                MAX_IMAGE_PIXELS / 10_000
            ),
            PictureError::Type(types) => write!(f, "只支持 {types} 图片"),
            PictureError::Bytes(n) => {
                write!(f, "文件有 {:.1} MB，超过上限 {} MB", *n as f64 / 1048576.0, MAX_IMAGE_BYTES / 1048576)
            }
        }
    }
}

/// A picture named on the command line (`render --seal-across`): any
/// readable file, with the same types and size limits as the form's own.
/// Its extension and bytes.
pub fn read_named_picture(path: &Path) -> Result<(String, Vec<u8>), String> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if !IMAGE_TYPES.contains(&ext.as_str()) {
        return Err(format!("{}：只支持 {} 图片", path.display(), IMAGE_TYPES.join("、")));
    }
    let anywhere = [std::path::PathBuf::from("/")];
    let base = std::env::current_dir().map_err(|e| e.to_string())?;
    let pictures = Pictures { base, allowed: &anywhere };
    read_picture(&pictures, path, &ext).map(|bytes| (ext, bytes)).map_err(|e| format!("{}：{e}", path.display()))
}

/// Reads a picture the form names: only from inside the form's folder (links
/// resolved, so `../` and a link out are caught) or an allowed folder, and
/// only when its header declares a size that is safe to decode.
fn read_picture(pictures: &Pictures, given: &Path, ext: &str) -> Result<Vec<u8>, PictureError> {
    use crate::files::read::{self as input, InputError};
    let joined = pictures.base.join(given);
    let real = std::fs::canonicalize(&joined).map_err(|e| PictureError::Read(InputError::from_io(&joined, e)))?;
    if !real.starts_with(&pictures.base) && !pictures.allowed.iter().any(|dir| real.starts_with(dir)) {
        return Err(PictureError::Outside(pictures.base.clone()));
    }
    let bytes = input::read(&real, MAX_IMAGE_BYTES).map_err(PictureError::Read)?;
    check_picture_header(&bytes, ext)?;
    Ok(bytes)
}

/// Whether the bytes of a picture of type `ext` (a seal the editor uploads)
/// pass the checks a picture the form names does: a type formpress prints, the
/// file size, and a header declaring a size that is safe to decode.
pub fn check_picture(bytes: &[u8], ext: &str) -> Result<(), PictureError> {
    if !IMAGE_TYPES.contains(&ext) {
        return Err(PictureError::Type(IMAGE_TYPES.join("、")));
    }
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        return Err(PictureError::Bytes(bytes.len() as u64));
    }
    check_picture_header(bytes, ext)
}

fn check_picture_header(bytes: &[u8], ext: &str) -> Result<(), PictureError> {
    // SVG is drawn as vectors; every other type is decoded into pixels.
    if ext != "svg" {
        let size = imagesize::blob_size(bytes).map_err(|_| PictureError::Unrecognised)?;
        let (width, height) = (size.width, size.height);
        if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width.saturating_mul(height) > MAX_IMAGE_PIXELS {
            return Err(PictureError::TooLarge { width, height });
        }
    }
    decode(bytes)
}

/// Decodes a picture the way the layout will (Typst's own decoders, whose
/// result Typst keeps for the render), so a damaged file is a finding of
/// `check` at its line rather than a failed render blamed on the template.
fn decode(bytes: &[u8]) -> Result<(), PictureError> {
    use typst::visualize::{ImageFormat, RasterImage, SvgImage, VectorFormat};
    let data = typst::foundations::Bytes::new(bytes.to_vec());
    match ImageFormat::detect(bytes) {
        Some(ImageFormat::Raster(format)) => {
            RasterImage::plain(data, format).map(drop).map_err(|e| PictureError::Broken(e.to_string()))
        }
        Some(ImageFormat::Vector(VectorFormat::Svg)) => {
            SvgImage::new(data).map(drop).map_err(|e| PictureError::Broken(format!("{e:?}")))
        }
        _ => Err(PictureError::Unrecognised),
    }
}

/// Characters that print as nothing: zero-width spaces and joiners, direction
/// marks, word joiner, a BOM inside text. They are typos to delete, not
/// characters a font lacks.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
}

impl Field {
    /// A plain required text field (a group's `name`).
    fn text(label: &str, required: bool) -> Field {
        Field { ty: FieldType::Text, label: label.to_string(), required, ..Field::default() }
    }
}

fn key_text(key: &Node) -> String {
    match &key.value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        other => format!("<{}>", other.describe()),
    }
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Bool(_) => "true 或 false",
        Json::Number(_) => "数字",
        Json::String(_) => "文本",
        _ => "值",
    }
}

/// `「…」` with the value as written, for messages about wrong types.
fn shown(source: &str, node: &Node) -> String {
    match &node.value {
        Value::Str(s) => format!("「{}」", s.chars().take(40).collect::<String>()),
        Value::Seq(_) | Value::Map(_) | Value::Null => String::new(),
        _ => node.raw(source).map(|r| format!("「{r}」")).unwrap_or_default(),
    }
}

pub fn fmt_num(x: f64) -> String {
    crate::form::values::format_amount(x, None)
}

/// Decimals as written (`3600.40` has 2); falls back to the value.
fn decimals_of(written: &str, value: f64) -> u32 {
    let w = written.trim();
    if !w.contains(['e', 'E']) {
        if let Some((_, frac)) = w.split_once('.') {
            return frac.trim_end_matches('0').len() as u32;
        }
        if w.parse::<f64>().is_ok() {
            return 0;
        }
    }
    let mut d = 0;
    let mut x = value.abs();
    while (x - x.round()).abs() > 1e-9 && d < 12 {
        x *= 10.0;
        d += 1;
    }
    d
}

/// `2020-03-06`, `2020/3/6`, `2020.3.6` or `2020年3月6日`.
pub fn parse_date(s: &str) -> Option<(i32, u32, u32)> {
    let s = s.trim().trim_end_matches('日');
    let parts: Vec<&str> = s.split(['-', '/', '.', '年', '月']).collect();
    let [y, m, d] = parts.as_slice() else { return None };
    let (y, m, d): (i32, u32, u32) = (y.trim().parse().ok()?, m.trim().parse().ok()?, d.trim().parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    ((1000..=9999).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days[m as usize - 1]).then_some((y, m, d))
}

/// Where in a scalar some text sits, for pointing at a character.
fn char_loc(source: &str, node: &Node, needle: &str) -> Loc {
    let mut loc = node.loc;
    if let Some(raw) = source.get(node.loc.start..node.loc.start + node.loc.len)
        && let Some(i) = raw.find(needle)
    {
        let before = &raw[..i];
        let lines = before.matches('\n').count() as u32;
        loc.line += lines;
        loc.col = if lines == 0 {
            loc.col + before.chars().count() as u32
        } else {
            before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1
        };
        loc.start += i;
        return loc;
    }
    loc
}

/// The closest known name, if it is close enough to be a typo.
pub fn did_you_mean<'a>(given: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::normalized_damerau_levenshtein(given, k), *k))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_with_a_unit_convert_to_the_forms_unit() {
        assert_eq!(amount_with_unit("3120万", "万元"), Some(3120.0));
        assert_eq!(amount_with_unit("31200000元", "万元"), Some(3120.0));
        assert_eq!(amount_with_unit("\"3,309,840.00元\"".trim_matches('"'), "万元"), Some(330.984));
        assert_eq!(amount_with_unit("250万", "元"), Some(2_500_000.0));
        assert_eq!(amount_with_unit("1.2亿元", "万元"), Some(12_000.0));
        for not in ["四百五十", "300美元", "854万(含追加)", "万元"] {
            assert_eq!(amount_with_unit(not, "万元"), None, "{not}");
        }
        assert_eq!(number_and_suffix("300美元"), Some((300.0, "美元")));
        assert_eq!(number_and_suffix("854万(含追加)"), None);
        assert_eq!(number_and_suffix("四百五十"), None);
    }

    #[test]
    fn dates_and_decimals() {
        assert_eq!(parse_date("2020年3月6日"), Some((2020, 3, 6)));
        assert_eq!(parse_date("2021-02-29"), None);
        assert_eq!(decimals_of("3600.40", 3600.4), 1);
        assert_eq!(decimals_of("3600.405", 3600.405), 3);
        assert_eq!(decimals_of("12", 12.0), 0);
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("deparment", &["department", "year"]), Some("department"));
        assert_eq!(did_you_mean("zzz", &["department", "year"]), None);
    }
}
