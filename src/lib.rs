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

// The modules, grouped by concern (README, "Development").

/// The form and its checks: reading YAML, kinds, checking data, rules, findings.
pub mod form {
    pub mod checks;
    pub mod findings;
    pub mod kind;
    pub mod rules;
    pub mod schema;
    pub mod yaml;
    pub mod zh_keys;
}

/// Layout: indicator tables, templates, the layout passes, the after-layout checks.
pub mod layout {
    pub mod fonts;
    pub mod indicators;
    pub mod ink;
    pub mod pdf;
    pub(crate) mod render;
    pub mod template;
    pub mod world;
}

/// Outputs and inputs: where formpress may write and read, previews, batches, skeletons.
pub mod outputs {
    pub mod batch;
    pub mod describe;
    pub mod input;
    pub mod ofd;
    pub mod output;
    pub mod preview;
    pub mod report;
    pub mod sheet;
    pub mod xlsx;
    pub mod xlsx_import;
}

/// Archive files and what ties paper to data: fingerprints, reading PDFs back, verify.
pub mod archival {
    pub mod archive;
    pub mod fingerprint;
    pub mod inspect;
    pub mod ofd_read;
    pub mod pdfcheck;
    pub mod qr_read;
    pub mod scan;
    pub mod scan_input;
    pub mod sign;
    pub mod sign_place;
    pub mod signature_check;
    pub mod signer;
    pub mod verify;
}

/// Ways in for people besides the command line: the local web app (`formpress serve`).
pub mod interfaces {
    pub mod serve;
}

pub use archival::{
    archive, fingerprint, inspect, ofd_read, pdfcheck, qr_read, scan, scan_input, sign, sign_place, signature_check,
    signer, verify,
};
pub use form::{checks, findings, kind, rules, schema, yaml, zh_keys};
use layout::render;
pub use layout::{fonts, indicators, ink, pdf, template, world};
pub use outputs::{batch, describe, input, ofd, output, preview, report, sheet, xlsx, xlsx_import};

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use minijinja::Environment;
use serde_json::{Map, Value as Json};
use typst::foundations::{Bytes, Datetime};
use typst_layout::PagedDocument;

pub use findings::{Class, Finding, Severity};
use fonts::{FontOptions, Fonts};
use kind::Catalog;
pub use render::source_date_epoch;

/// Where kinds and fonts come from.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Extra template folders (`--templates`); later ones override earlier ones.
    pub template_dirs: Vec<PathBuf>,
    /// Extra font folders (`--font-path`).
    pub font_dirs: Vec<PathBuf>,
    /// Skip installed fonts (only bundled and `--font-path` fonts are used).
    pub no_system_fonts: bool,
    /// Folders besides the form's own that pictures (`seal:`) may come from (`--allow-path`).
    pub allow_paths: Vec<PathBuf>,
}

/// Kinds, templates and fonts, loaded once and shared by every form.
pub struct Engine {
    catalog: Catalog,
    /// `allow_paths`, canonicalised.
    allowed: Vec<PathBuf>,
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

    /// The form without its data, for summaries of long batches: the name, the
    /// findings, and the source only when there are errors to show with it.
    pub fn into_report(mut self) -> Form {
        self.data = Json::Null;
        self.bytes = vec![];
        self.assets = vec![];
        self.options = Map::new();
        if self.errors() == 0 {
            self.source = String::new();
        }
        self
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
    /// The 骑缝章 picture (`--seal-across`): its extension and bytes; wins
    /// over the form option `seal_across`. Not part of the form's data, so
    /// not covered by the 校验码.
    pub seal_across: Option<(String, Vec<u8>)>,
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
    /// The form has errors: every page is marked 草稿, with no 校验码 or QR code.
    pub draft: bool,
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
    pub draft: bool,
    pub date: Option<(Datetime, &'static str)>,
    /// The stable PDF document id.
    pub ident: String,
    /// The PDF's Creator: the versions that made it (`archive::Stamp`).
    pub creator: String,
    /// What an archive carries besides its pages (empty unless `archive`).
    pub attachments: Vec<archive::Attached>,
}

impl Laid {
    /// The PDF of this layout: its id, date and standard (PDF/A-3b for archives).
    pub fn pdf(&self) -> Result<Vec<u8>, Error> {
        let export = pdf::ExportOptions {
            ident: self.ident.clone(),
            creator: self.creator.clone(),
            timestamp: self.date.map(|d| d.0),
            archive: self.archive,
        };
        pdf::export(&self.document, &export).map_err(Error::Export)
    }

    /// The OFD package of this layout (OFD-A with the attachments for archives).
    pub fn ofd(&self) -> Result<Vec<u8>, Error> {
        use sha2::Digest;
        let info = pdf::document_meta(&self.document);
        let date = self.date.map(|(d, _)| (d.year().unwrap_or(2000), d.month().unwrap_or(1), d.day().unwrap_or(1)));
        let digest = sha2::Sha256::digest(self.ident.as_bytes());
        let meta = ofd::Meta {
            title: info.title.as_ref().map(|t| t.to_string()),
            authors: info.author.iter().map(|a| a.to_string()).collect(),
            subject: info.description.as_ref().map(|d| d.to_string()),
            keywords: info.keywords.iter().map(|k| k.to_string()).collect(),
            creator: self.creator.clone(),
            date,
            doc_id: digest[..16].iter().map(|b| format!("{b:02x}")).collect(),
            archive: self.archive,
            attachments: self
                .attachments
                .iter()
                .map(|a| ofd::Attachment {
                    name: a.name.clone(),
                    bytes: a.bytes.clone(),
                    usage: if a.vpath.is_none() { "Source" } else { "Supplement" },
                })
                .collect(),
        };
        ofd::write(&self.document, &meta).map_err(|e| Error::Export(vec![e.0]))
    }
}

/// Text drawn outside its cell or the page body, named for the user.
#[derive(Debug, Clone)]
pub struct Stray {
    pub page: usize,
    pub text: String,
    /// The YAML path of the value it belongs to, when found.
    pub field: String,
    pub off_body: bool,
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
    /// An archive file was asked for a form with this many errors (a draft).
    DraftArchive(usize),
    /// Glyphs no font has reached the layout (the preflight missed them).
    Tofu(Vec<pdf::Tofu>),
    /// Text the layout could not keep inside its cell or page.
    Overflow(Vec<Stray>),
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
            Error::DraftArchive(n) => {
                write!(f, "表单有 {n} 个错误，只能生成草稿；改正错误后才能生成存档文件（PDF/A-3b）")
            }
            Error::Tofu(t) => {
                write!(f, "排版后仍有无法显示的字符：")?;
                for t in t {
                    let c = t.text.chars().next().unwrap_or(' ');
                    write!(f, "\n  第 {} 页：{} U+{:04X}（字体 {}）", t.page, t.text, c as u32, t.font)?;
                }
                write!(f, "\n  用 --font-path 加入含有这些字的字体")
            }
            Error::Overflow(strays) => {
                write!(f, "排版后有文字超出单元格或页面，未生成 PDF：")?;
                for s in strays {
                    let text: String = s.text.chars().take(30).collect();
                    let place = if s.field.is_empty() { String::new() } else { format!("（{}）", s.field) };
                    let why = if s.off_body { "超出页面正文区" } else { "越过表格线" };
                    write!(f, "\n  第 {} 页：「{text}」{place}{why}", s.page)?;
                }
                Ok(())
            }
            Error::Export(m) => write!(f, "PDF 导出失败：{}", m.join("；")),
        }
    }
}

impl std::error::Error for Error {}

impl Engine {
    pub fn new(options: &EngineOptions) -> Result<Engine, Error> {
        let catalog = Catalog::load(&options.template_dirs).map_err(|e| Error::Catalog(e.0))?;
        let wanted: BTreeSet<String> =
            catalog.kinds().flat_map(|k| k.manifest.fonts.values().flatten().cloned()).collect();
        let fonts =
            Fonts::load(&FontOptions { dirs: options.font_dirs.clone(), system: !options.no_system_fonts, wanted });
        let mut catalog = catalog;
        let env = template::environment(catalog.sources());
        // A kind whose rules do not compile is left out and reported; the others still load.
        let broken: Vec<(String, String)> =
            catalog.kinds().filter_map(|k| rules::validate(&env, k).err().map(|e| (k.id.clone(), e))).collect();
        for (id, e) in broken {
            catalog.drop_kind(&id, e);
        }
        let allowed = options.allow_paths.iter().filter_map(|p| std::fs::canonicalize(p).ok()).collect();
        Ok(Engine { catalog, allowed, env, fonts })
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

    /// Reads and checks a form file; image paths in it are relative to its
    /// folder and must stay inside it (or an `allow_paths` folder).
    pub fn check_file(&self, path: &Path) -> Result<Form, input::InputError> {
        let bytes = input::read(path, yaml::MAX_FILE_BYTES as u64)?;
        let parent = path.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p });
        Ok(self.check_at(&path.display().to_string(), &bytes, parent.unwrap_or(Path::new("."))))
    }

    /// Checks form bytes that live (or will live) in `folder`: pictures are
    /// read from there, as for a file of that folder.
    pub fn check_at(&self, name: &str, bytes: &[u8], folder: &Path) -> Form {
        let base = std::fs::canonicalize(folder).ok();
        let pictures = base.map(|base| schema::Pictures { base, allowed: &self.allowed });
        self.check_in(name, bytes, pictures.as_ref())
    }

    fn check_in(&self, name: &str, bytes: &[u8], base: Option<&schema::Pictures>) -> Form {
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
        let mut root = root;
        let (renamed, written) = zh_keys::canonical(kind, &mut root);
        let checked = schema::check(kind, &form.source, &root, &covers, base);
        form.kind = Some(id);
        form.assets = checked.assets;
        form.data = checked.data;
        form.options = checked.options;
        form.findings = renamed;
        form.findings.extend(checked.findings);
        // Rules compute with numbers; the data keeps the numbers as typed. They run
        // on whatever could be read, so one finding never hides another (a rule
        // whose values are missing cannot be evaluated and is skipped).
        let mut numeric = schema::numeric_view(&form.data, &checked.numbers);
        rules::compute(&self.env, kind, &mut numeric, &form.options);
        form.findings.extend(rules::check(&self.env, kind, &numeric, &form.options, &root));
        for f in &mut form.findings {
            f.yaml_path = written.path(&root, &f.yaml_path);
        }
        form.data = keep_typed(numeric, &form.data);
        form
    }

    /// The form's data as typed, before computed values fill its blanks (what
    /// an exported spreadsheet carries).
    pub fn typed_data(&self, form: &Form) -> Option<Json> {
        let kind = self.catalog.kind(form.kind.as_deref()?)?;
        let (source, mut root) = yaml::parse(&form.bytes).ok()?;
        zh_keys::canonical(kind, &mut root);
        let covers = |c: char| self.fonts.covers(c);
        Some(schema::check(kind, &source, &root, &covers, None).data)
    }

    /// The fingerprint of a checked form (the data behind the printed 校验码).
    pub fn fingerprint(&self, form: &Form) -> Option<fingerprint::Fingerprint> {
        Some(fingerprint::Fingerprint::of(form.kind.as_deref()?, &form.data, &form.assets))
    }
}

/// The computed data with every value the user typed as it was typed: where
/// `typed` has text (a number written `10.00`, a dash), that text stays;
/// values computed into blanks come from `computed`.
fn keep_typed(computed: Json, typed: &Json) -> Json {
    match (computed, typed) {
        (Json::Object(mut c), Json::Object(t)) => {
            for (k, tv) in t {
                let cv = c.remove(k).unwrap_or(Json::Null);
                c.insert(k.clone(), keep_typed(cv, tv));
            }
            Json::Object(c)
        }
        (Json::Array(c), Json::Array(t)) if c.len() == t.len() => {
            Json::Array(c.into_iter().zip(t).map(|(cv, tv)| keep_typed(cv, tv)).collect())
        }
        (_, Json::String(t)) => Json::String(t.clone()),
        (c, _) => c,
    }
}
