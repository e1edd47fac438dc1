//! Many forms in one call: rendered in parallel by one engine (fonts and
//! templates are loaded once and shared), each failure reported without
//! stopping the rest, optionally combined into one PDF with a bookmark per
//! form.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value as Json;

use crate::files::read::InputError;
use crate::files::write::{Content, Output, OutputError, Outputs};
use crate::form::Form;
use crate::layout::world::FormWorld;
use crate::layout::{Engine, Error, RenderOptions, pdf, template};
use crate::outputs::preview::PreviewError;
use crate::outputs::{ofd, preview};

/// What each form becomes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Pdf,
    /// An OFD package (OFD-A with `--archive`).
    Ofd,
    /// One PNG per page at this many pixels per inch.
    Png(f64),
    /// One SVG per page.
    Svg,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub jobs: usize,
    pub format: Format,
    pub render: RenderOptions,
    /// Refuse forms with any finding (errors or warnings).
    pub strict: bool,
    /// Keep each PDF's bytes in memory (for `combine`).
    pub keep_pdf: bool,
}

/// One form to render and where its output goes.
#[derive(Debug, Clone)]
pub struct Item {
    pub input: PathBuf,
    pub output: Target,
}

#[derive(Debug, Clone)]
pub enum Target {
    /// The PDF (or OFD package), claimed before the run starts.
    Pdf(Output),
    /// For PNG and SVG, the stem: `out/form` becomes `out/form-1.png`,
    /// `out/form-2.png`, …; each page is claimed as it is written.
    Pages(PathBuf),
}

/// Why a form was not written.
#[derive(Debug)]
pub enum Failure {
    Read(InputError),
    Write(OutputError),
    Render(Error),
    Preview(PreviewError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Failure::Read(e) => write!(f, "{e}"),
            Failure::Write(e) => write!(f, "{e}"),
            Failure::Render(e) => write!(f, "{e}"),
            Failure::Preview(e) => write!(f, "{e}"),
        }
    }
}

impl Failure {
    /// A file could not be read or written (rather than laid out).
    pub fn is_io(&self) -> bool {
        matches!(self, Failure::Read(_) | Failure::Write(_))
    }
}

pub enum Outcome {
    Written {
        form: Form,
        files: Vec<PathBuf>,
        pages: usize,
        bytes: usize,
        pdf: Option<Vec<u8>>,
        /// How the form is named in a combined PDF's bookmarks.
        bookmark: String,
        /// What is said of it, as for one form (`report::Report::notes`): pages, 校验码, draft.
        notes: Vec<String>,
        /// The printed 校验码 (none for a draft).
        code: Option<String>,
        /// Written as a draft (草稿 on every page).
        draft: bool,
    },
    /// Structural errors (or any finding with `strict`): nothing written.
    Refused { form: Form },
    /// The file could not be read or written, or layout failed.
    Failed { form: Option<Form>, error: Failure },
}

impl Outcome {
    pub fn ok(&self) -> bool {
        matches!(self, Outcome::Written { .. })
    }
}

/// Renders every item, `options.jobs` at a time; `progress` is called from the
/// worker threads as each one finishes. Results are in the order of `items`;
/// their forms are reports only (no data), so a long batch stays small.
pub fn run(
    engine: &Engine,
    items: &[Item],
    outputs: &Outputs,
    options: &Options,
    progress: &(dyn Fn(&Item, &Outcome) + Sync),
) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let workers = options.jobs.clamp(1, items.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let outcome = one(engine, item, outputs, options);
                    // Typst memoizes across compilations. Cells the next form shares
                    // with this one are reused (see render's LAST_MARKUP); entries no
                    // form has used for a few rounds go, so memory stays flat.
                    typst::comemo::evict(workers);
                    progress(item, &outcome);
                    results.lock().expect("no poisoned lock")[i] = Some(outcome);
                }
            });
        }
    });
    results.into_inner().expect("no poisoned lock").into_iter().map(|o| o.expect("every item ran")).collect()
}

fn one(engine: &Engine, item: &Item, outputs: &Outputs, options: &Options) -> Outcome {
    let form = match engine.check_file(&item.input) {
        Ok(f) => f,
        Err(e) => return Outcome::Failed { form: None, error: Failure::Read(e) },
    };
    if !form.renderable() || (options.strict && !form.findings.is_empty()) {
        return Outcome::Refused { form: form.into_report() };
    }
    // The one place that lays a form out and says what became of it (as render, watch and serve).
    let report = match engine.report(&form, &options.render) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed { form: Some(form.into_report()), error: Failure::Render(e) },
    };
    let notes = if options.format == Format::Ofd { report.notes_for("OFD-A") } else { report.notes() };
    let (pages, code, draft) = (report.pages, report.code().map(str::to_string), report.draft());
    let laid = report.laid;
    let written = match (&item.output, options.format) {
        (Target::Pdf(output), format) => match if format == Format::Ofd { ofd::of_laid(&laid) } else { laid.pdf() } {
            Ok(bytes) => output
                .write(&bytes)
                .map(|()| (vec![output.path().to_path_buf()], bytes.len(), options.keep_pdf.then_some(bytes)))
                .map_err(Failure::Write),
            Err(e) => Err(Failure::Render(e)),
        },
        (Target::Pages(stem), Format::Png(ppi)) => preview::png_pages(&laid.document, ppi)
            .map_err(Failure::Preview)
            .and_then(|images| write_pages(outputs, stem, "png", &images)),
        (Target::Pages(stem), _) => {
            let svgs: Vec<Vec<u8>> = preview::svg_pages(&laid.document).into_iter().map(String::into_bytes).collect();
            write_pages(outputs, stem, "svg", &svgs)
        }
    };
    match written {
        Ok((files, bytes, pdf)) => {
            let bookmark = bookmark(engine, &form);
            Outcome::Written { form: form.into_report(), files, pages, bytes, pdf, bookmark, notes, code, draft }
        }
        Err(error) => Outcome::Failed { form: Some(form.into_report()), error },
    }
}

type Written = (Vec<PathBuf>, usize, Option<Vec<u8>>);

/// `stem-1.png`, `stem-2.png`, …; pages an earlier, longer render left are removed.
fn write_pages(outputs: &Outputs, stem: &Path, ext: &str, pages: &[Vec<u8>]) -> Result<Written, Failure> {
    let name = stem.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut files = vec![];
    for (i, bytes) in pages.iter().enumerate() {
        let path = stem.with_file_name(format!("{name}-{}.{ext}", i + 1));
        let output = outputs.claim(&path, Content::Other).map_err(Failure::Write)?;
        output.write(bytes).map_err(Failure::Write)?;
        files.push(path);
    }
    crate::files::write::remove_stale_pages(stem, ext, pages.len() + 1);
    Ok((files, pages.iter().map(Vec::len).sum(), None))
}

/// How a form is named in the combined PDF's bookmarks: 部门名称（or 项目名称）· 表名.
pub fn bookmark(engine: &Engine, form: &Form) -> String {
    let kind = form.kind.as_deref().and_then(|k| engine.catalog().kind(k));
    let title = form.data.get("title").and_then(Json::as_str).map(str::to_string);
    let title = title.or_else(|| kind.map(|k| k.manifest.name.clone())).unwrap_or_default();
    let who = kind
        .into_iter()
        .flat_map(|k| k.manifest.identity.iter())
        .filter_map(|key| form.data.get(key).and_then(Json::as_str))
        .next()
        .unwrap_or_default();
    if who.is_empty() { title } else { format!("{who} · {title}") }
}

/// One PDF of all the parts, in order, each part's first page carrying a
/// bookmark. The parts' pages are embedded as they are (text stays text).
pub fn combine(engine: &Engine, parts: &[(String, Vec<u8>, usize)]) -> Result<Vec<u8>, Error> {
    let mut markup = String::from("#set page(width: auto, height: auto, margin: 0pt)\n");
    markup.push_str("#set document(title: \"formpress 合并文件\")\n");
    for (i, (title, _, pages)) in parts.iter().enumerate() {
        for page in 1..=*pages {
            if i > 0 || page > 1 {
                markup.push_str("#pagebreak()\n");
            }
            if page == 1 {
                // An invisible heading gives the PDF bookmark without printing anything.
                markup.push_str(&format!(
                    "#place(hide(heading(level: 1, bookmarked: true, {})))",
                    template::str_literal(title)
                ));
            }
            markup.push_str(&format!("#image(\"/parts/{i}.pdf\", page: {page})\n"));
        }
    }
    let today = typst::foundations::Datetime::from_ymd(2000, 1, 1).expect("valid date");
    let mut world = FormWorld::new(engine.fonts(), markup, today);
    for (i, (_, bytes, _)) in parts.iter().enumerate() {
        world.add_file(&format!("/parts/{i}.pdf"), typst::foundations::Bytes::new(bytes.clone()));
    }
    let doc = pdf::compile(&world).map_err(|diagnostics| Error::Typst {
        diagnostics,
        markup: world.main_source().text().to_string(),
        hint: None,
    })?;
    let ident = format!("formpress/combined/{}", parts.iter().map(|p| p.0.as_str()).collect::<Vec<_>>().join("|"));
    let creator = crate::layout::attach::Stamp::running(None).creator();
    pdf::export(
        &doc,
        &pdf::ExportOptions { ident, creator, timestamp: crate::layout::render::source_date_epoch(), archive: false },
    )
    .map_err(Error::Export)
}
