//! From markup to PDF: compiling in-process, the pagination passes that
//! repeat merged labels on continuation pages, the missing-glyph backstop,
//! export, and writing the file atomically.

use std::collections::{BTreeMap, BTreeSet};

use typst::diag::SourceDiagnostic;
use typst::ecow::EcoString;
use typst::foundations::{Datetime, Label, Selector, Smart, Value};
use typst::introspection::{Introspector, MetadataElem};
use typst::layout::{Frame, FrameItem};
use typst::utils::PicoStr;
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use crate::layout::world::FormWorld;

/// Label of the per-row markers the templates put into indicator rows.
pub const ROW_MARKER: &str = "fp-row";

/// Label of the marker at the top of the 签章区.
pub const SIGNATURE_MARKER: &str = "fp-signature";

/// Compiles markup; errors come back as formatted lines.
pub fn compile(world: &FormWorld) -> Result<PagedDocument, Vec<Diagnostic>> {
    let warned = typst::compile::<PagedDocument>(world);
    let mut doc =
        warned.output.map_err(|errors| errors.iter().map(|d| Diagnostic::from_typst(world, d)).collect::<Vec<_>>())?;
    document_info(&mut doc);
    Ok(doc)
}

/// Label of the metadata that carries the PDF's title, author, keywords and description.
pub const DOCUMENT_MARKER: &str = "fp-document";

/// What the template's `<fp-document>` metadata says of the document: what a
/// `set document` rule would have set (see `_shared/common.typ.j2`).
#[derive(Debug, Clone, Default)]
pub struct DocumentMeta {
    pub title: Option<EcoString>,
    pub author: Vec<EcoString>,
    pub keywords: Vec<EcoString>,
    pub description: Option<EcoString>,
}

/// None when the markup has no such metadata (a scan archive sets its document directly).
pub fn document_meta(doc: &PagedDocument) -> Option<DocumentMeta> {
    let label = Label::new(PicoStr::intern(DOCUMENT_MARKER))?;
    let found = doc.introspector().query(&Selector::Label(label));
    let Some(Value::Dict(dict)) = found.first().and_then(|e| e.to_packed::<MetadataElem>()).map(|m| m.value.clone())
    else {
        return None;
    };
    let text = |key: &str| match dict.get(key) {
        Ok(Value::Str(s)) => Some(EcoString::from(s.as_str())),
        _ => None,
    };
    let texts = |key: &str| match dict.get(key) {
        Ok(Value::Array(items)) => items
            .iter()
            .filter_map(|v| if let Value::Str(s) = v { Some(EcoString::from(s.as_str())) } else { None })
            .collect(),
        _ => vec![],
    };
    Some(DocumentMeta {
        title: text("title"),
        author: texts("author"),
        keywords: texts("keywords"),
        description: text("description"),
    })
}

/// Copies the document's metadata into its info, for the PDF.
fn document_info(doc: &mut PagedDocument) {
    let Some(meta) = document_meta(doc) else { return };
    let info = doc.info_mut();
    info.title = meta.title;
    info.author = meta.author;
    info.keywords = meta.keywords;
    info.description = meta.description;
}

/// A Typst error, located in the generated markup.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub message: String,
    /// 1-based line and column in the generated markup.
    pub at: Option<(usize, usize)>,
    pub hints: Vec<String>,
}

impl Diagnostic {
    fn from_typst(world: &FormWorld, d: &SourceDiagnostic) -> Diagnostic {
        let mut hints: Vec<String> = d.hints.iter().map(|h| h.v.to_string()).collect();
        hints.retain(|h| !h.contains("--root"));
        let at = world.locate(d.span);
        Diagnostic { message: d.message.to_string(), at, hints }
    }
}

/// Page of every marked row, per table: `table id → row index → page`.
pub fn row_pages(doc: &PagedDocument) -> BTreeMap<String, BTreeMap<usize, usize>> {
    let mut out: BTreeMap<String, BTreeMap<usize, usize>> = BTreeMap::new();
    let Some(label) = Label::new(PicoStr::intern(ROW_MARKER)) else { return out };
    let introspector = doc.introspector();
    for elem in introspector.query(&Selector::Label(label)) {
        let (Some(meta), Some(loc)) = (elem.to_packed::<MetadataElem>(), elem.location()) else { continue };
        let Some(page) = introspector.page(loc) else { continue };
        if let Value::Str(s) = &meta.value
            && let Some((table, row)) = s.as_str().rsplit_once(':')
            && let Ok(row) = row.parse::<usize>()
        {
            out.entry(table.to_string()).or_default().insert(row, page.get());
        }
    }
    out
}

/// Whether the 签章区 begins a page of its own (it was pushed off the page
/// the table ends on): its marker sits at the very top of the page body.
pub fn signature_alone(doc: &PagedDocument, top_margin: typst::layout::Abs) -> bool {
    let Some(label) = Label::new(PicoStr::intern(SIGNATURE_MARKER)) else { return false };
    let introspector = doc.introspector();
    introspector.query(&Selector::Label(label)).iter().filter_map(|e| e.location()).any(|loc| {
        introspector.position(loc).is_some_and(|at| at.page.get() > 1 && (at.point.y - top_margin).to_pt() < 12.0)
    })
}

/// Rows that begin a new page (their page differs from the previous row's).
pub fn page_starts(pages: &BTreeMap<usize, usize>) -> BTreeSet<usize> {
    let mut starts = BTreeSet::new();
    let mut prev: Option<usize> = None;
    for (&row, &page) in pages {
        if prev.is_some_and(|p| p != page) {
            starts.insert(row);
        }
        prev = Some(page);
    }
    starts
}

/// A glyph no font could draw, found after layout.
#[derive(Debug, Clone)]
pub struct Tofu {
    pub page: usize,
    pub text: String,
    pub font: String,
}

/// The backstop behind the glyph preflight: glyph id 0 anywhere on a page.
pub fn find_tofu(doc: &PagedDocument) -> Vec<Tofu> {
    fn walk(frame: &Frame, page: usize, out: &mut Vec<Tofu>) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(g) => walk(&g.frame, page, out),
                FrameItem::Text(t) => {
                    for g in t.glyphs.iter().filter(|g| g.id == 0) {
                        let text = t.text.get(g.range()).unwrap_or("").to_string();
                        if !text.trim().is_empty() && !out.iter().any(|o| o.text == text) {
                            out.push(Tofu { page, text, font: t.font.font().info().family.clone() });
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = vec![];
    for (i, page) in doc.pages().iter().enumerate() {
        walk(&page.frame, i + 1, &mut out);
    }
    out
}

/// How the PDF file itself is written.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Stable document id (same form → same /ID).
    pub ident: String,
    /// The Creator: what made the PDF, with versions (`archive::Stamp`).
    pub creator: String,
    /// Creation date; none means no date is written.
    pub timestamp: Option<Datetime>,
    /// PDF/A-3b (archival, allows the attached source).
    pub archive: bool,
}

pub fn export(doc: &PagedDocument, options: &ExportOptions) -> Result<Vec<u8>, Vec<String>> {
    let standards = if options.archive {
        PdfStandards::new(&[PdfStandard::A_3b]).map_err(|e| vec![e.message().to_string()])?
    } else {
        PdfStandards::default()
    };
    let pdf_options = PdfOptions {
        ident: Smart::Custom(options.ident.clone()),
        creator: Smart::Custom(Some(options.creator.clone())),
        timestamp: options.timestamp.map(Timestamp::new_utc),
        standards,
        ..PdfOptions::default()
    };
    typst_pdf::pdf(doc, &pdf_options).map_err(|errors| errors.iter().map(|e| e.message.to_string()).collect())
}
