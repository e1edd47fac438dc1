//! formpress: YAML form data → checked, typed data → MiniJinja template →
//! Typst markup → PDF, compiled in-process.
//!
//! ```no_run
//! let engine = formpress::Engine::new(&formpress::EngineOptions::default())?;
//! let form = engine.check("form.yaml", &std::fs::read("form.yaml")?);
//! let rendered = engine.render(&form, &formpress::RenderOptions::default())?;
//! std::fs::write("form.pdf", rendered.pdf)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod batch;
pub mod checks;
pub mod describe;
pub mod findings;
pub mod fingerprint;
pub mod fonts;
pub mod indicators;
pub mod inspect;
pub mod kind;
pub mod pdf;
pub mod preview;
pub mod rules;
pub mod schema;
pub mod template;
pub mod world;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use minijinja::Environment;
use serde_json::{Map, Value as Json, json};
use typst::foundations::{Bytes, Datetime};
use typst_layout::PagedDocument;

pub use findings::{Class, Finding, Severity};
use fonts::{FontOptions, Fonts};
use kind::{Catalog, FieldType, Kind};
use world::FormWorld;

/// Where kinds and fonts come from.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Extra template folders (`--templates`); later ones override earlier ones.
    pub template_dirs: Vec<PathBuf>,
    /// Extra font folders (`--font-path`).
    pub font_dirs: Vec<PathBuf>,
    /// Skip installed fonts (only bundled and `--font-path` fonts are used).
    pub no_system_fonts: bool,
}

/// Kinds, templates and fonts, loaded once and shared by every form.
pub struct Engine {
    catalog: Catalog,
    env: Environment<'static>,
    fonts: Fonts,
}

/// A form file after checking: its data if it could be read, and every finding.
pub struct Form {
    /// How messages name the file (usually its path).
    pub name: String,
    /// The file exactly as read (attached to archive PDFs byte for byte).
    pub bytes: Vec<u8>,
    /// The file as text (BOM removed).
    pub source: String,
    /// The kind id (`form:`), when known.
    pub kind: Option<String>,
    pub data: Json,
    pub options: Map<String, Json>,
    pub findings: Vec<Finding>,
    /// Pictures the data refers to, by the virtual path the template sees.
    pub assets: Vec<(String, Vec<u8>)>,
}

impl Form {
    /// The form can be laid out: it was read and no structural error was found.
    pub fn renderable(&self) -> bool {
        self.kind.is_some() && !self.findings.iter().any(Finding::blocks_render)
    }

    pub fn errors(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Error).count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.iter().filter(|f| f.severity == Severity::Warning).count()
    }
}

#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// The document date; defaults to the form's `date` (填报日期), then
    /// `SOURCE_DATE_EPOCH`, else none.
    pub date: Option<Datetime>,
    /// PDF/A-3b with the source attached (also the form option `archive`).
    pub archive: bool,
}

pub struct Rendered {
    pub pdf: Vec<u8>,
    /// The generated Typst markup of the final pass.
    pub markup: String,
    /// The files the markup reads (`/assets/qr.png`, pictures), by virtual path.
    pub files: Vec<(String, Bytes)>,
    pub pages: usize,
    /// Layout passes needed to place continuation labels (1 if none were needed).
    pub passes: usize,
    /// The printed 校验码, when the fingerprint footer is on.
    pub code: Option<String>,
    /// Whether this is a PDF/A-3b archive file with the source attached.
    pub archive: bool,
    /// The date written into the PDF, and where it came from.
    pub date: Option<(Datetime, &'static str)>,
}

/// A laid-out form, ready for export.
pub struct Laid {
    pub document: PagedDocument,
    pub markup: String,
    pub files: Vec<(String, Bytes)>,
    pub passes: usize,
    pub code: Option<String>,
    pub archive: bool,
    pub date: Option<(Datetime, &'static str)>,
    /// The stable PDF document id.
    pub ident: String,
}

#[derive(Debug)]
pub enum Error {
    /// The catalog of kinds could not be loaded (a broken user template folder).
    Catalog(String),
    /// The form has structural errors; see its findings.
    NotRenderable,
    /// The template failed; carries template name and line where known.
    Template(String),
    /// Typst rejected the generated markup.
    Typst {
        diagnostics: Vec<pdf::Diagnostic>,
        markup: String,
        hint: Option<String>,
    },
    /// Page breaks kept moving while labels were repeated.
    Pagination(String),
    /// Glyphs no font has reached the layout (the preflight missed them).
    Tofu(Vec<pdf::Tofu>),
    Export(Vec<String>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Catalog(m) => write!(f, "{m}"),
            Error::NotRenderable => write!(f, "表单有结构性错误，未生成 PDF"),
            Error::Template(m) => write!(f, "模板错误：{m}"),
            Error::Typst { diagnostics, hint, .. } => {
                write!(f, "排版错误（Typst）：")?;
                for d in diagnostics {
                    match d.at {
                        Some((l, c)) => write!(f, "\n  main.typ:{l}:{c}: {}", d.message)?,
                        None => write!(f, "\n  {}", d.message)?,
                    }
                    for h in &d.hints {
                        write!(f, "\n    提示：{h}")?;
                    }
                }
                if let Some(h) = hint {
                    write!(f, "\n  {h}")?;
                }
                Ok(())
            }
            Error::Pagination(m) => write!(f, "分页未能收敛：{m}"),
            Error::Tofu(t) => {
                write!(f, "排版后仍有无法显示的字符：")?;
                for t in t {
                    let c = t.text.chars().next().unwrap_or(' ');
                    write!(f, "\n  第 {} 页：{} U+{:04X}（字体 {}）", t.page, t.text, c as u32, t.font)?;
                }
                write!(f, "\n  用 --font-path 加入含有这些字的字体")
            }
            Error::Export(m) => write!(f, "PDF 导出失败：{}", m.join("；")),
        }
    }
}

impl std::error::Error for Error {}

/// Most layout passes before giving up on continuation labels.
const MAX_PASSES: usize = 6;

impl Engine {
    pub fn new(options: &EngineOptions) -> Result<Engine, Error> {
        let catalog = Catalog::load(&options.template_dirs).map_err(|e| Error::Catalog(e.0))?;
        let wanted: BTreeSet<String> =
            catalog.kinds().flat_map(|k| k.manifest.fonts.values().flatten().cloned()).collect();
        let fonts =
            Fonts::load(&FontOptions { dirs: options.font_dirs.clone(), system: !options.no_system_fonts, wanted });
        let env = template::environment(catalog.sources());
        for kind in catalog.kinds() {
            rules::validate(&env, kind).map_err(|e| Error::Catalog(format!("{}/{}: {e}", kind.id, kind::MANIFEST)))?;
        }
        Ok(Engine { catalog, env, fonts })
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn fonts(&self) -> &Fonts {
        &self.fonts
    }

    /// Reads and checks a form file's bytes. Never fails: what is wrong is in
    /// the findings.
    pub fn check(&self, name: &str, bytes: &[u8]) -> Form {
        self.check_in(name, bytes, None)
    }

    /// Reads and checks a form file; image paths in it are relative to its folder.
    pub fn check_file(&self, path: &Path) -> std::io::Result<Form> {
        let bytes = std::fs::read(path)?;
        let base = path.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p });
        Ok(self.check_in(&path.display().to_string(), &bytes, base))
    }

    fn check_in(&self, name: &str, bytes: &[u8], base: Option<&Path>) -> Form {
        let mut form = Form {
            name: name.to_string(),
            bytes: bytes.to_vec(),
            source: String::new(),
            kind: None,
            data: Json::Null,
            options: Map::new(),
            findings: vec![],
            assets: vec![],
        };
        let (source, root) = match yaml::parse(bytes) {
            Ok(parsed) => parsed,
            Err(e) => {
                form.source = String::from_utf8_lossy(bytes).into_owned();
                form.findings.push(Finding::error(Class::Structure, e.loc, &findings::Place::root(), e.message));
                return form;
            }
        };
        form.source = source;
        let (id, loc) = match schema::kind_id(&root) {
            Ok(found) => found,
            Err(f) => {
                form.findings.push(f);
                return form;
            }
        };
        let Some(kind) = self.catalog.kind(&id) else {
            let known: Vec<&str> = self.catalog.kinds().map(|k| k.id.as_str()).collect();
            let at = findings::Place::root().key(schema::FORM_KEY, "表单种类");
            let mut f = Finding::error(Class::Structure, Some(loc), &at, format!("未知的表单种类 {id}"));
            f = match schema::did_you_mean(&id, &known) {
                Some(best) => f.with_help(format!("是否应为 {best}？")),
                None => f.with_help(format!("可用的种类：{}", known.join("、"))),
            };
            form.findings.push(f);
            return form;
        };
        let covers = |c: char| self.fonts.covers(c);
        let checked = schema::check(kind, &form.source, &root, &covers, base);
        form.kind = Some(id);
        form.assets = checked.assets;
        form.data = checked.data;
        form.options = checked.options;
        form.findings = checked.findings;
        // Computed values and rules see the data only once it is structurally sound.
        if !form.findings.iter().any(Finding::blocks_render) {
            rules::compute(&self.env, kind, &mut form.data, &form.options);
            form.findings.extend(rules::check(&self.env, kind, &form.data, &form.options, &root));
        }
        form
    }

    /// Lays out a checked form and exports the PDF.
    pub fn render(&self, form: &Form, options: &RenderOptions) -> Result<Rendered, Error> {
        let laid = self.layout(form, options)?;
        let export =
            pdf::ExportOptions { ident: laid.ident.clone(), timestamp: laid.date.map(|d| d.0), archive: laid.archive };
        let pdf = pdf::export(&laid.document, &export).map_err(Error::Export)?;
        Ok(Rendered {
            pdf,
            pages: laid.document.pages().len(),
            markup: laid.markup,
            files: laid.files,
            passes: laid.passes,
            code: laid.code,
            archive: laid.archive,
            date: laid.date,
        })
    }

    /// Lays out a checked form: the Typst document, before any export (PDF,
    /// or PNG and SVG previews).
    pub fn layout(&self, form: &Form, options: &RenderOptions) -> Result<Laid, Error> {
        if !form.renderable() {
            return Err(Error::NotRenderable);
        }
        let kind = self.catalog.kind(form.kind.as_deref().unwrap_or_default()).ok_or(Error::NotRenderable)?;
        let job = Job::new(kind, form, options);
        // Pages are only known after layout: lay out, find which rows start a
        // page, cut merged cells there, and lay out again until nothing moves.
        let mut starts: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
        let mut tried: Vec<BTreeMap<String, BTreeSet<usize>>> = vec![];
        for pass in 1..=MAX_PASSES {
            let mut markup = self.markup(kind, form, &starts, &job.meta)?;
            markup.push_str(&job.attach_markup);
            let mut world = FormWorld::new(&self.fonts, markup, job.date.map_or_else(default_today, |d| d.0));
            for (path, bytes) in &job.files {
                world.add_file(path, bytes.clone());
            }
            let doc = pdf::compile(&world).map_err(|diagnostics| {
                let hint = self.template_hint(kind, world.main_source().text(), &diagnostics);
                Error::Typst { diagnostics, markup: world.main_source().text().to_string(), hint }
            })?;
            let found = self.cuts(kind, form, &pdf::row_pages(&doc));
            if found == starts {
                let tofu = pdf::find_tofu(&doc);
                if !tofu.is_empty() {
                    return Err(Error::Tofu(tofu));
                }
                return Ok(Laid {
                    document: doc,
                    markup: world.main_source().text().to_string(),
                    files: job.files,
                    passes: pass,
                    code: job.code,
                    archive: job.archive,
                    date: job.date,
                    ident: ident(kind, form),
                });
            }
            if tried.contains(&found) {
                return Err(Error::Pagination(format!(
                    "第 {pass} 遍排版时分页在 {} 之间来回变化",
                    describe_cuts(&starts)
                )));
            }
            tried.push(std::mem::replace(&mut starts, found));
        }
        Err(Error::Pagination(format!("{MAX_PASSES} 遍排版后分页仍在变化")))
    }

    /// The fingerprint of a checked form (the data behind the printed 校验码).
    pub fn fingerprint(&self, form: &Form) -> Option<fingerprint::Fingerprint> {
        Some(fingerprint::Fingerprint::of(form.kind.as_deref()?, &form.data))
    }

    /// Page starts that cut a merged cell, per indicator table.
    fn cuts(
        &self,
        kind: &Kind,
        form: &Form,
        pages: &BTreeMap<String, BTreeMap<usize, usize>>,
    ) -> BTreeMap<String, BTreeSet<usize>> {
        let mut out = BTreeMap::new();
        for (key, spec) in indicator_fields(kind) {
            let Some(rows) = pages.get(key) else { continue };
            let cuts = indicators::cuts(spec, &form.data[key], &pdf::page_starts(rows), repeat_labels(form));
            if !cuts.is_empty() {
                out.insert(key.clone(), cuts);
            }
        }
        out
    }

    /// Renders the kind's template for this form.
    pub fn markup(
        &self,
        kind: &Kind,
        form: &Form,
        starts: &BTreeMap<String, BTreeSet<usize>>,
        meta: &Json,
    ) -> Result<String, Error> {
        let repeat = repeat_labels(form);
        let mut tables = Map::new();
        for (key, spec) in indicator_fields(kind) {
            let empty = BTreeSet::new();
            let table = indicators::layout(key, spec, &form.data[key], starts.get(key).unwrap_or(&empty), repeat);
            tables.insert(key.clone(), serde_json::to_value(table).expect("serialisable"));
        }
        let m = &kind.manifest;
        let ctx = json!({
            "form": form.data,
            "options": form.options,
            "tables": tables,
            "kind": {
                "id": kind.id,
                "name": m.name,
                "page": { "paper": m.page.paper, "landscape": m.page.landscape, "margin": m.page.margin },
                "fonts": m.fonts,
            },
            "marker": pdf::ROW_MARKER,
            "meta": meta,
        });
        let template = self.env.get_template(&kind.template_name()).map_err(template_error)?;
        template.render(minijinja::Value::from(minijinja::value::Serde(&ctx))).map_err(template_error)
    }

    /// Points a Typst error at the template line that most likely produced it.
    fn template_hint(&self, kind: &Kind, markup: &str, diags: &[pdf::Diagnostic]) -> Option<String> {
        let (line, _) = diags.iter().find_map(|d| d.at)?;
        let generated = markup.lines().nth(line - 1)?.trim();
        let sources = self.catalog.sources();
        let mut best: Option<(usize, String)> = None;
        let prefix = format!("{}/", kind.id);
        for (name, text) in sources.iter().filter(|(n, _)| n.starts_with(&prefix) || n.starts_with("_shared/")) {
            if !name.ends_with(".j2") {
                continue;
            }
            for (i, tl) in text.lines().enumerate() {
                let score: usize = literal_chunks(tl).filter(|c| generated.contains(c)).map(str::len).sum();
                if score >= 6 && best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((score, format!("{name}:{}", i + 1)));
                }
            }
        }
        best.map(|(_, at)| format!("出错的标记（main.typ 第 {line} 行）可能来自模板 {at}；用 --typ 查看生成的标记"))
    }
}

/// What one render needs besides the markup: files for the World, the
/// fingerprint footer, the archive attachment and the document date.
struct Job {
    files: Vec<(String, Bytes)>,
    meta: Json,
    code: Option<String>,
    archive: bool,
    attach_markup: String,
    date: Option<(Datetime, &'static str)>,
}

/// Where the QR code is served to templates.
const QR_PATH: &str = "/assets/qr.png";

impl Job {
    fn new(kind: &Kind, form: &Form, options: &RenderOptions) -> Job {
        let flag = |k: &str| form.options.get(k).and_then(Json::as_bool);
        let archive = options.archive || flag("archive").unwrap_or(false);
        let mut files: Vec<(String, Bytes)> =
            form.assets.iter().map(|(p, b)| (p.clone(), Bytes::new(b.clone()))).collect();
        let mut meta = json!({ "archive": archive, "code": null, "hash": null, "qr": null });
        let mut code = None;
        if flag("fingerprint").unwrap_or(true) {
            let fp = fingerprint::Fingerprint::of(&kind.id, &form.data);
            let identity: Vec<String> = kind
                .manifest
                .identity
                .iter()
                .filter_map(|k| form.data.get(k))
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect();
            if let Some(png) = fingerprint::qr_png(&fp.qr_payload(&kind.id, &identity)) {
                files.push((QR_PATH.into(), Bytes::new(png)));
                meta["qr"] = json!(QR_PATH);
            }
            meta["code"] = json!(fp.code());
            meta["hash"] = json!(fp.hex);
            code = Some(fp.code());
        }
        let mut attach_markup = String::new();
        if archive {
            let name = attachment_name(&form.name);
            files.push((format!("/{name}"), Bytes::new(form.bytes.clone())));
            attach_markup = format!(
                "\n#pdf.attach({}, relationship: \"source\", mime-type: \"application/yaml\", description: {})\n",
                template::str_literal(&format!("/{name}")),
                template::str_literal(&format!("{} 的表单数据（YAML 原文）", kind.manifest.name)),
            );
        }
        let form_date = [form.data.pointer("/signature/date"), form.data.get("date")]
            .into_iter()
            .flatten()
            .find_map(|v| v.as_str().and_then(schema::parse_date));
        let date = options
            .date
            .map(|d| (d, "given"))
            .or_else(|| {
                form_date.and_then(|(y, m, d)| Datetime::from_ymd(y, m as u8, d as u8)).map(|d| (d, "填报日期"))
            })
            .or_else(|| source_date_epoch().map(|d| (d, "SOURCE_DATE_EPOCH")))
            .or_else(|| {
                // PDF/A needs a date; without one, 1 January of the form's 年度 keeps output reproducible.
                let year = form.data.get("year").and_then(Json::as_i64).unwrap_or(2000) as i32;
                archive.then(|| Datetime::from_ymd(year, 1, 1).map(|d| (d, "年度首日"))).flatten()
            });
        Job { files, meta, code, archive, attach_markup, date }
    }
}

/// The attachment is named after the form file (`form.yaml` if that name cannot be a path).
fn attachment_name(path: &str) -> String {
    let name = Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ok =
        !name.is_empty() && !name.starts_with('.') && name.chars().all(|c| !c.is_control() && c != '/' && c != '\\');
    if ok { name.to_string() } else { "form.yaml".into() }
}

/// The fixed text pieces of a template line (outside `{{ }}` and `{% %}`).
fn literal_chunks(line: &str) -> impl Iterator<Item = &str> {
    let mut chunks = vec![];
    let mut rest = line;
    while !rest.is_empty() {
        let next = [rest.find("{{"), rest.find("{%"), rest.find("{#")].into_iter().flatten().min();
        match next {
            Some(i) => {
                chunks.push(&rest[..i]);
                let close = match &rest[i..i + 2] {
                    "{{" => "}}",
                    "{%" => "%}",
                    _ => "#}",
                };
                rest = rest[i..].find(close).map_or("", |j| &rest[i + j + 2..]);
            }
            None => {
                chunks.push(rest);
                rest = "";
            }
        }
    }
    chunks.into_iter().map(str::trim).filter(|c| c.len() >= 4)
}

fn template_error(e: minijinja::Error) -> Error {
    let mut msg = String::new();
    if let (Some(name), Some(line)) = (e.name(), e.line()) {
        msg.push_str(&format!("{name}:{line}: "));
    }
    msg.push_str(&e.kind().to_string());
    if let Some(detail) = e.detail() {
        msg.push_str(&format!("：{detail}"));
    }
    Error::Template(msg)
}

fn describe_cuts(cuts: &BTreeMap<String, BTreeSet<usize>>) -> String {
    let parts: Vec<String> = cuts
        .iter()
        .map(|(k, rows)| {
            format!("{k} 第 {} 行", rows.iter().map(|r| (r + 1).to_string()).collect::<Vec<_>>().join("、"))
        })
        .collect();
    if parts.is_empty() { "无分割".into() } else { parts.join("；") }
}

/// The `repeat_labels` option: print repeating labels again on a new page.
fn repeat_labels(form: &Form) -> bool {
    form.options.get("repeat_labels").and_then(Json::as_bool).unwrap_or(true)
}

fn indicator_fields(kind: &Kind) -> impl Iterator<Item = (&String, &kind::Field)> {
    kind.manifest.fields.iter().filter(|(_, f)| f.ty == FieldType::Indicators)
}

/// A stable document id: the same form data gives the same /ID (Typst hashes it).
fn ident(kind: &Kind, form: &Form) -> String {
    format!("formpress/{}/{}", kind.id, form.data)
}

/// `SOURCE_DATE_EPOCH` (reproducible builds) as the document date.
pub fn source_date_epoch() -> Option<Datetime> {
    let secs: i64 = std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()?;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    Datetime::from_ymd_hms(y, m, d, (rem / 3600) as u8, (rem % 3600 / 60) as u8, (rem % 60) as u8)
}

/// `datetime.today()` inside templates when the form gives no date.
fn default_today() -> Datetime {
    Datetime::from_ymd(2000, 1, 1).expect("valid date")
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(18_262), (2020, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn template_literals() {
        let chunks: Vec<&str> = literal_chunks("table.cell(rowspan: {{ c.rowspan }})[{{ c.text }}] // note").collect();
        assert_eq!(
            chunks,
            vec!["table.cell(rowspan:", ")[", "] // note"].into_iter().filter(|c| c.len() >= 4).collect::<Vec<_>>()
        );
    }
}
