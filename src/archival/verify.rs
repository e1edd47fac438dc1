//! `verify`: whether a PDF is what formpress made from the data, judged as a
//! reader sees it.
//!
//! - **Pages as drawn.** Each page of the PDF is drawn as a viewer draws it
//!   (`raster`: crop box, rotation, clips, masks, /Decode arrays, render
//!   modes, colours) and compared as a picture with the page formpress draws
//!   from the data now, at `DPI`, tolerating anti-aliasing only
//!   (`pixel_diff`). The text each page carries is compared too, character by
//!   character with its position: text drawn invisibly still reads in a copy
//!   or a search. Every difference is named by the cell of the data's page it
//!   falls in (`layout::page_map`).
//! - **Only what formpress writes** (`extras`): an action, JavaScript, an
//!   annotation or widget formpress did not make, an extra attachment, an
//!   update that is not a signature.
//! - **No shortcut.** Nothing in the file relaxes the page check. A PDF whose
//!   Creator names other versions, whose 校验码 matches but whose pages do
//!   not, gets its own verdict (`Verdict::CodeOnly`), which is not a pass.
//! - **Signatures as a reviewer needs them**: each one's revision compared
//!   with the data, what changed after it, certificates unfit for signing,
//!   and one name signing with different certificates.
//!
//! An OFD package is read with `ofd_read` and compared by `verify_ofd` (its
//! pages' content and files); the 校验码, the sources and the verdict are
//! the same as for a PDF.

use std::collections::BTreeMap;

use hayro::RenderCache;
use hayro_interpret::hayro_syntax::Pdf;
use hayro_interpret::hayro_syntax::object::ObjectIdentifier;

use crate::archival::archive::{self, ArchiveError};
use crate::archival::extras::{self, Extra};
use crate::archival::ofd_read::{self, OfdReadError, Package};
use crate::archival::signature_check::{self, Signature};
use crate::archival::{inspect, pixel_diff, raster, revisions, scan, sign, verify_ofd};
use crate::form::{Form, findings, fingerprint};
use crate::layout::attach::{self, Stamp};
use crate::layout::ink::Rect;
use crate::layout::page_map::{self, PageMap, Where};
use crate::layout::{Engine, RenderOptions};

/// The resolution pages are compared at: a digit of the smallest text the
/// forms print (7 pt) is 7 pixels tall, and changing it changes dozens of
/// pixels (tested for every pair of digits).
pub const DPI: f64 = 100.0;

/// Differences named per page at most (the rest are counted).
const NAMED_PER_PAGE: usize = 12;

/// A page as drawn and the text it carries.
pub struct Drawn {
    /// The size a viewer shows, in points.
    pub size: (f64, f64),
    pub raster: Option<raster::Raster>,
    /// Each character and where it stands, in points from the page's top left.
    pub chars: Vec<(char, f64, f64)>,
}

/// Draws every page of a PDF (its content; annotations are judged by
/// `extras`) and reads its text.
pub fn draw(bytes: &[u8]) -> Result<Vec<Drawn>, String> {
    let pdf = Pdf::new(bytes.to_vec()).map_err(|e| format!("{e:?}"))?;
    let texts = inspect::pages(&pdf);
    let cache = RenderCache::new();
    let scale = DPI / 72.0;
    Ok(pdf
        .pages()
        .iter()
        .zip(texts)
        .map(|(page, text)| Drawn {
            size: raster::shown_size(page),
            raster: raster::draw(page, &cache, scale, false),
            chars: text.chars.iter().map(|(c, p)| (*c, p.x, text.height - p.y)).collect(),
        })
        .collect())
}

/// The data's pages: drawn, and mapped (which cell is where).
pub struct Expected {
    pub pages: Vec<Drawn>,
    pub maps: Vec<PageMap>,
}

impl Expected {
    /// Lays the form out as `render` does and draws the PDF it makes.
    pub fn of(engine: &Engine, form: &Form) -> Result<Expected, String> {
        let laid = engine.layout(form, &RenderOptions::default()).map_err(|e| e.to_string())?;
        let pdf = laid.pdf().map_err(|e| e.to_string())?;
        let kind = form.kind.as_deref().and_then(|k| engine.catalog().kind(k)).ok_or("未知的表单种类")?;
        let m = &kind.manifest.page.margin;
        let maps = page_map::page_maps(&laid.document, [m.left, m.top, m.right, m.bottom]);
        Ok(Expected { pages: draw(&pdf)?, maps })
    }
}

/// One way the pages under test differ from the pages they are compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum PageDifference {
    Count {
        pdf: usize,
        data: usize,
    },
    /// The page is shown at another size (a crop box, a rotation), in mm.
    Size {
        page: usize,
        pdf: (f64, f64),
        data: (f64, f64),
    },
    /// The page could not be drawn.
    Undrawn {
        page: usize,
    },
    /// What a place shows differs: drawn (`drawn`), and the text there when
    /// that differs too (what the PDF carries, what the data prints).
    At {
        page: usize,
        at: Where,
        drawn: bool,
        text: Option<(String, String)>,
    },
    /// More places differ on the page than are named.
    More {
        page: usize,
        count: usize,
    },
    /// A difference of an OFD package (its pages' content or files).
    Ofd(verify_ofd::Difference),
}

impl std::fmt::Display for PageDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let shown = |s: &str| if s.is_empty() { "（空）".to_string() } else { format!("「{s}」") };
        match self {
            PageDifference::Count { pdf, data } => write!(f, "PDF 有 {pdf} 页，数据应为 {data} 页"),
            PageDifference::Size { page, pdf, data } => write!(
                f,
                "第 {page} 页：页面显示范围是 {:.0}×{:.0} mm，数据应为 {:.0}×{:.0} mm（裁切或旋转了页面）",
                pdf.0, pdf.1, data.0, data.1
            ),
            PageDifference::Undrawn { page } => write!(f, "第 {page} 页：页面无法绘制，不能核对"),
            PageDifference::At { page, at, drawn, text } => {
                write!(f, "第 {page} 页，{at}：")?;
                match (drawn, text) {
                    (true, Some((pdf, data))) if pdf != data => {
                        write!(f, "PDF 上是{}，数据应为{}", shown(pdf), shown(data))
                    }
                    (true, _) => write!(f, "页面上看起来与数据不同（被遮盖、隐藏、移动、缩放或改了颜色）"),
                    (false, Some((pdf, data))) if pdf == data => {
                        write!(f, "文字{}的位置或大小与数据不同；页面上看不出", shown(pdf))
                    }
                    (false, Some((pdf, data))) => {
                        write!(f, "文字（复制、搜索时读到的）是{}，数据应为{}；页面上看不出", shown(pdf), shown(data))
                    }
                    (false, None) => write!(f, "与数据不同"),
                }
            }
            PageDifference::More { page, count } => write!(f, "第 {page} 页：另有 {count} 处不同"),
            PageDifference::Ofd(d) => write!(f, "{d}"),
        }
    }
}

/// Every difference between pages under test and the pages compared with,
/// named on `maps` (the data's pages).
pub fn compare(pdf: &[Drawn], data: &[Drawn], maps: &[PageMap]) -> Vec<PageDifference> {
    let mut out = vec![];
    if pdf.len() != data.len() {
        out.push(PageDifference::Count { pdf: pdf.len(), data: data.len() });
    }
    let mm = |(w, h): (f64, f64)| (w * 25.4 / 72.0, h * 25.4 / 72.0);
    for (i, (p, d)) in pdf.iter().zip(data).enumerate() {
        let page = i + 1;
        let Some(map) = maps.get(i) else { continue };
        let same_size = (p.size.0 - d.size.0).abs() < 0.5 && (p.size.1 - d.size.1).abs() < 0.5;
        if !same_size {
            out.push(PageDifference::Size { page, pdf: mm(p.size), data: mm(d.size) });
        }
        // Places that differ: drawn differently, and the text there (PDF, data) when that differs.
        type Place = (Where, bool, Option<(String, String)>);
        let mut places: Vec<Place> = vec![];
        match (&p.raster, &d.raster) {
            (Some(a), Some(b)) if same_size && a.width == b.width && a.height == b.height => {
                for patch in pixel_diff::differences(a, b) {
                    let s = a.scale;
                    let r = Rect {
                        x0: patch.x0 as f64 / s,
                        y0: patch.y0 as f64 / s,
                        x1: (patch.x1 + 1) as f64 / s,
                        y1: (patch.y1 + 1) as f64 / s,
                    };
                    let at = map.place(r);
                    if !places.iter().any(|(w, _, _)| *w == at) {
                        places.push((at, true, None));
                    }
                }
            }
            (None, _) if same_size => out.push(PageDifference::Undrawn { page }),
            _ => {}
        }
        for (at, pdf_text, data_text) in text_differences(&p.chars, &d.chars, map) {
            match places.iter_mut().find(|(w, _, _)| *w == at) {
                Some(place) => place.2 = Some((pdf_text, data_text)),
                None => places.push((at, false, Some((pdf_text, data_text)))),
            }
        }
        let count = places.len();
        for (at, drawn, text) in places.into_iter().take(NAMED_PER_PAGE) {
            out.push(PageDifference::At { page, at, drawn, text });
        }
        if count > NAMED_PER_PAGE {
            out.push(PageDifference::More { page, count: count - NAMED_PER_PAGE });
        }
    }
    out
}

/// How far (points) a character may stand from where the data puts it.
const TEXT_SLACK: f64 = 0.6;

/// The places where the text differs: each character is matched with the
/// same character at the same place; for each place with one left over, the
/// text the PDF and the data carry there.
fn text_differences(
    pdf: &[(char, f64, f64)],
    data: &[(char, f64, f64)],
    map: &PageMap,
) -> Vec<(Where, String, String)> {
    let mut by_char: BTreeMap<char, Vec<(f64, f64, bool)>> = BTreeMap::new();
    for &(c, x, y) in data {
        by_char.entry(c).or_default().push((x, y, false));
    }
    let mut unmatched_pdf = vec![];
    for &(c, x, y) in pdf {
        let slot = by_char.get_mut(&c).and_then(|v| {
            v.iter_mut().find(|(dx, dy, used)| !used && (dx - x).abs() < TEXT_SLACK && (dy - y).abs() < TEXT_SLACK)
        });
        match slot {
            Some(s) => s.2 = true,
            None => unmatched_pdf.push((c, x, y)),
        }
    }
    let unmatched_data: Vec<(char, f64, f64)> =
        by_char.iter().flat_map(|(c, v)| v.iter().filter(|s| !s.2).map(move |&(x, y, _)| (*c, x, y))).collect();
    if unmatched_pdf.is_empty() && unmatched_data.is_empty() {
        return vec![];
    }
    // A glyph stands on its baseline: place it by a point just above.
    let at = |x: f64, y: f64| map.place(Rect { x0: x + 1.0, y0: y - 3.0, x1: x + 1.0, y1: y - 3.0 });
    let mut places: Vec<Where> = vec![];
    for &(_, x, y) in unmatched_pdf.iter().chain(&unmatched_data) {
        let w = at(x, y);
        if !places.contains(&w) {
            places.push(w);
        }
    }
    let text_at = |chars: &[(char, f64, f64)], place: &Where| {
        let mut here: Vec<(char, f64, f64)> = chars.iter().copied().filter(|&(_, x, y)| at(x, y) == *place).collect();
        here.sort_by(|a, b| {
            ((a.2 / 4.0).round(), a.1).partial_cmp(&((b.2 / 4.0).round(), b.1)).unwrap_or(std::cmp::Ordering::Equal)
        });
        let text: String = here.iter().map(|(c, _, _)| c).collect();
        let mut short: String = text.chars().take(24).collect();
        if text.chars().count() > 24 {
            short.push('…');
        }
        short
    };
    places.into_iter().map(|w| (w.clone(), text_at(pdf, &w), text_at(data, &w))).collect()
}

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Pages, code, contents and signatures all hold.
    Matches,
    /// Something differs or fails (each is named).
    Differs,
    /// The printed 校验码 matches the data, but the pages differ from those
    /// made now and the PDF names other versions as its maker: the pages
    /// could not be checked. Not a pass.
    CodeOnly,
    /// A draft: the data had errors; no 校验码, not a form.
    Draft,
}

/// Where form data came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The YAML the PDF carries (its attachment name).
    Attached(String),
    /// A YAML file given on the command line (as it was named).
    Given(String),
}

impl Source {
    /// The source in words, naming the file under test as `doc` (PDF, OFD).
    pub fn describe(&self, doc: &str) -> String {
        match self {
            Source::Attached(name) => format!("{doc} 附带的 {}", findings::escape_controls(name)),
            Source::Given(name) => format!("给出的 {}", findings::escape_controls(name)),
        }
    }
}

/// The PDF against one source of data.
pub struct SourceReport {
    pub source: Source,
    pub check: SourceCheck,
}

pub enum SourceCheck {
    /// The data cannot be read or laid out: its errors.
    Unreadable { errors: usize, messages: Vec<String> },
    /// The attached data could not be taken out of the PDF.
    Missing(String),
    Checked {
        /// The 校验码 the data gives.
        code: String,
        matches: bool,
        /// The code matched only as the recorded kind version (`版本 N`) would print it.
        as_version: Option<String>,
        /// The PDF names other versions of formpress or the kind as its
        /// maker: its pages may be laid out otherwise than pages made now.
        other_layout: bool,
        pages: Pages,
    },
}

/// What the pages show against the data.
pub enum Pages {
    Same(usize),
    Differ(Vec<PageDifference>),
    /// The data's pages could not be made (the reason).
    Failed(String),
}

/// One signature and what a reviewer needs of it.
pub struct SignatureReport {
    pub signature: Signature,
    /// The revision it signs, 1-based (1: the file as it was first written);
    /// none when its bytes end where no revision does.
    pub revision: Option<usize>,
    /// Whether its widget is formpress's (the entries and appearance `sign` writes).
    pub drawn_by_formpress: bool,
    /// That revision's pages against the data (none when it signs the whole
    /// file, whose pages the form check compares, or when there is no data).
    pub shows: Option<Pages>,
    /// What changed after it, when it does not sign the whole file.
    pub after: Option<After>,
}

/// What a later revision changed.
pub struct After {
    pub pages: Vec<PageDifference>,
    /// Things formpress does not write, added after it.
    pub added: Vec<Placed>,
    /// The revisions added after it.
    pub updates: usize,
}

/// A thing formpress did not write, and where it shows on the data's page.
#[derive(Debug, Clone)]
pub struct Placed {
    pub extra: Extra,
    pub at: Option<Where>,
}

impl std::fmt::Display for Placed {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}", self.extra)?;
        if let Some(at) = &self.at {
            write!(f, "，位于{at}")?;
        }
        Ok(())
    }
}

/// What verify found on a form PDF.
pub struct FormReport {
    /// The 校验码 printed on the pages.
    pub printed: String,
    pub pages: usize,
    /// Pages whose code differs from the first or is missing.
    pub odd_pages: Vec<usize>,
    /// Things formpress did not write.
    pub extras: Vec<Placed>,
    /// Revisions (1-based) added to the file that are not signatures.
    pub unsigned_updates: Vec<usize>,
    pub sources: Vec<SourceReport>,
}

pub enum Body {
    /// A scan archive (`formpress scan`), checked as such.
    Scan(Vec<scan::Finding>),
    Draft,
    /// No 校验码 on the pages.
    NoCode,
    /// The PDF carries no YAML and none was given.
    NoData {
        printed: String,
    },
    Form(FormReport),
}

/// What kind of file was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    /// An OFD package; `sealed`: it carries GB/T 38540 seals, which are not checked.
    Ofd {
        sealed: bool,
    },
}

impl Format {
    /// How messages name the file.
    pub fn word(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Ofd { .. } => "OFD",
        }
    }
}

/// Why a file cannot be verified at all.
#[derive(Debug)]
pub enum ReadError {
    Pdf(inspect::InspectError),
    Ofd(OfdReadError),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            ReadError::Pdf(e) => write!(f, "{e}"),
            ReadError::Ofd(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Everything verify found.
pub struct Report {
    pub format: Format,
    pub signatures: Vec<SignatureReport>,
    /// Names that sign with more than one certificate, with their signatures (1-based).
    pub same_name: Vec<(String, Vec<usize>)>,
    /// What the PDF says made it.
    pub made_by: Option<Stamp>,
    pub body: Body,
    pub verdict: Verdict,
}

/// Verifies a PDF or an OFD package against the YAML it carries and the
/// given form, if any.
pub fn verify(engine: &Engine, bytes: Vec<u8>, given: Option<(String, Form)>) -> Result<Report, ReadError> {
    let (read, package): (inspect::Inspected, Option<Package>) = if ofd_read::is_ofd(&bytes) {
        ofd_read::read(&bytes).map(|(read, pkg)| (read, Some(pkg))).map_err(ReadError::Ofd)?
    } else {
        (inspect::read(bytes.clone()).map_err(ReadError::Pdf)?, None)
    };
    // PDF structure: none for an OFD (its seals are GB/T 38540, not checked).
    let doc = match &package {
        Some(_) => None,
        None => Some(
            Pdf::new(bytes.clone()).map_err(|e| ReadError::Pdf(inspect::InspectError::Unreadable(format!("{e:?}"))))?,
        ),
    };
    let made_by = read.creator.as_deref().and_then(Stamp::parse);
    let ends = if doc.is_some() { revisions::ends(&bytes) } else { vec![] };
    let signatures = if doc.is_some() { signature_check::check(&bytes) } else { vec![] };
    let widgets_ok: Vec<bool> = signatures
        .iter()
        .map(|s| {
            s.problem.is_none()
                && !s.widgets.is_empty()
                && doc
                    .as_ref()
                    .is_some_and(|doc| s.widgets.iter().all(|w| sign::written_by_sign(doc, w, s, engine.fonts())))
        })
        .collect();
    let same_name = same_name(&signatures);
    let signatures_ok = signature_check::all_valid(&signatures) || signatures.is_empty();
    let mut report = Report {
        format: match &package {
            Some(pkg) => Format::Ofd { sealed: pkg.signed },
            None => Format::Pdf,
        },
        signatures: signatures
            .iter()
            .zip(&widgets_ok)
            .map(|(s, ok)| SignatureReport {
                signature: s.clone(),
                revision: ends.iter().position(|&e| e == s.covers).map(|i| i + 1),
                drawn_by_formpress: *ok,
                shows: None,
                after: None,
            })
            .collect(),
        same_name,
        made_by: made_by.clone(),
        body: Body::NoCode,
        verdict: Verdict::Differs,
    };
    if scan::is_archive(&read) {
        let mut findings = scan::verify_archive(engine, bytes, &read);
        if let Some((name, form)) = &given {
            findings.push(scan::given_form(engine, &read, name, form));
        }
        let ok = findings.iter().all(|f| matches!(f, scan::Finding::Ok(_)));
        report.verdict = if ok && signatures_ok { Verdict::Matches } else { Verdict::Differs };
        report.body = Body::Scan(findings);
        return Ok(report);
    }
    if made_by.as_ref().is_some_and(|s| s.draft) {
        report.body = Body::Draft;
        report.verdict = Verdict::Draft;
        return Ok(report);
    }
    // The code printed on each page; all pages must agree.
    let printed: Vec<Option<String>> = read.pages.iter().map(|p| fingerprint::find_code(&p.text)).collect();
    let Some(code) = printed.iter().flatten().next().cloned() else {
        return Ok(report);
    };
    let odd_pages: Vec<usize> =
        printed.iter().enumerate().filter(|(_, c)| c.as_deref() != Some(code.as_str())).map(|(i, _)| i + 1).collect();

    let mut forms: Vec<(Source, Result<Form, ArchiveError>)> = vec![];
    match archive::attached_form(engine, &read) {
        Err(ArchiveError::NoSource) => {}
        attached => {
            let name = read.source().map_or_else(String::new, |a| a.name.clone());
            forms.push((Source::Attached(name), attached));
        }
    }
    if let Some((name, form)) = given {
        forms.push((Source::Given(name), Ok(form)));
    }
    if forms.is_empty() {
        report.body = Body::NoData { printed: code };
        return Ok(report);
    }
    let (Some(doc), None) = (doc, &package) else {
        let package = package.as_ref().expect("an OFD when there is no PDF structure");
        let mut sources: Vec<SourceReport> = vec![];
        let mut compared: Vec<(String, usize)> = vec![];
        for (source, form) in forms {
            let attached = matches!(source, Source::Attached(_));
            let check = match form {
                Err(e) => SourceCheck::Missing(e.to_string()),
                Ok(form) => {
                    let pages = |form: &Form| match verify_ofd::differences(engine, form, (&read, package), attached) {
                        Err(e) => Pages::Failed(findings::escape_controls(&e.to_string())),
                        Ok((n, found)) if found.is_empty() => Pages::Same(n),
                        Ok((_, found)) => Pages::Differ(found.into_iter().map(PageDifference::Ofd).collect()),
                    };
                    let check = check_source(engine, &form, &code, made_by.as_ref(), &pages, &compared, &sources);
                    if let Some(fp) = engine.fingerprint(&form) {
                        compared.push((fp.hex, sources.len()));
                    }
                    check
                }
            };
            sources.push(SourceReport { source, check });
        }
        let form = FormReport {
            printed: code,
            pages: read.pages.len(),
            odd_pages,
            extras: vec![],
            unsigned_updates: vec![],
            sources,
        };
        report.verdict = verdict(&form, true);
        report.body = Body::Form(form);
        return Ok(report);
    };
    let pdf_pages = draw(&bytes).map_err(|e| ReadError::Pdf(inspect::InspectError::Unreadable(e)))?;
    // The attachments the attached form needs (its YAML and pictures).
    let needed: Vec<String> = match forms.first() {
        Some((Source::Attached(_), Ok(form))) => attach::attached_names(form),
        _ => vec![],
    };
    let mut expected: Option<Expected> = None;
    let mut sources = vec![];
    let mut compared: Vec<(String, usize)> = vec![];
    for (source, form) in forms {
        let check = match form {
            Err(e) => SourceCheck::Missing(e.to_string()),
            Ok(form) => {
                let pages = |form: &Form| match Expected::of(engine, form) {
                    Err(e) => Pages::Failed(findings::escape_controls(&e)),
                    Ok(expected) => {
                        let differences = compare(&pdf_pages, &expected.pages, &expected.maps);
                        if differences.is_empty() {
                            Pages::Same(expected.pages.len())
                        } else {
                            Pages::Differ(differences)
                        }
                    }
                };
                let check = check_source(engine, &form, &code, made_by.as_ref(), &pages, &compared, &sources);
                if let (SourceCheck::Checked { .. }, None) = (&check, &expected)
                    && let Ok(e) = Expected::of(engine, &form)
                {
                    expected = Some(e);
                }
                if let Some(fp) = engine.fingerprint(&form) {
                    compared.push((fp.hex, sources.len()));
                }
                check
            }
        };
        sources.push(SourceReport { source, check });
    }
    let our_widgets: Vec<ObjectIdentifier> = signatures
        .iter()
        .zip(&widgets_ok)
        .filter(|(_, ok)| **ok)
        .flat_map(|(s, _)| s.widgets.iter().map(|w| w.id))
        .collect();
    let names: Vec<String> = read.attachments.iter().map(|a| a.name.clone()).collect();
    let ours = extras::Ours { attachments: &needed, widgets: &our_widgets };
    let found = extras::find(&doc, &names, &ours);
    let maps = expected.as_ref().map(|e| e.maps.as_slice()).unwrap_or(&[]);
    let extras: Vec<Placed> = found.iter().map(|e| Placed { extra: e.clone(), at: place_of(e, maps) }).collect();
    // Every revision after the first must end where a valid signature's bytes end.
    let signed_ends: Vec<usize> = signatures.iter().filter(|s| s.problem.is_none()).map(|s| s.covers).collect();
    let unsigned_updates: Vec<usize> =
        ends.iter().enumerate().skip(1).filter(|(_, end)| !signed_ends.contains(end)).map(|(i, _)| i + 1).collect();

    // Each signature's revision: what it shows, and what changed after it.
    for (i, s) in signatures.iter().enumerate() {
        if s.problem.is_some() || s.covers == 0 || s.covers >= bytes.len() {
            continue;
        }
        let Ok(then) = draw(&bytes[..s.covers]) else { continue };
        let revision_extras =
            Pdf::new(bytes[..s.covers].to_vec()).map(|d| extras::find(&d, &names, &ours)).unwrap_or_default();
        let entry = &mut report.signatures[i];
        if let Some(e) = &expected {
            let differences = compare(&then, &e.pages, &e.maps);
            entry.shows =
                Some(if differences.is_empty() { Pages::Same(then.len()) } else { Pages::Differ(differences) });
        }
        entry.after = Some(After {
            pages: compare(&pdf_pages, &then, maps),
            added: extras.iter().filter(|p| !revision_extras.contains(&p.extra)).cloned().collect(),
            updates: ends.iter().filter(|&&e| e > s.covers).count(),
        });
    }

    let form = FormReport { printed: code, pages: pdf_pages.len(), odd_pages, extras, unsigned_updates, sources };
    let signatures_fine = signatures_ok && widgets_ok.iter().all(|ok| *ok);
    report.verdict = verdict(&form, signatures_fine);
    report.body = Body::Form(form);
    Ok(report)
}

/// The file's code against one form, and its pages as `pages` compares them.
fn check_source(
    engine: &Engine,
    form: &Form,
    code: &str,
    made_by: Option<&Stamp>,
    pages: &dyn Fn(&Form) -> Pages,
    compared: &[(String, usize)],
    earlier: &[SourceReport],
) -> SourceCheck {
    let Some(fp) = engine.fingerprint(form).filter(|_| form.renderable()) else {
        return SourceCheck::Unreadable {
            errors: form.errors(),
            messages: form
                .findings
                .iter()
                .filter(|f| f.blocks_render())
                .take(5)
                .map(|f| findings::escape_controls(&f.message))
                .collect(),
        };
    };
    // The code as the version the PDF names would have printed it.
    let kind = form.kind.as_deref().and_then(|k| engine.catalog().kind(k));
    let running = Stamp::running(kind);
    let recorded_version = made_by
        .and_then(|m| m.kind.as_ref())
        .filter(|(id, version)| {
            Some(id) == form.kind.as_ref() && running.kind.as_ref().is_some_and(|(_, v)| v != version)
        })
        .map(|(_, version)| version.clone());
    let other_layout = made_by.is_some_and(|m| !m.same_layout(&running));
    let (matches, as_version) = if fp.code() == code {
        (true, None)
    } else {
        match recorded_version.and_then(|v| engine.fingerprint_as(form, &v).map(|f| (f, v))) {
            Some((old, v)) if old.code() == code => (true, Some(v)),
            _ => (false, None),
        }
    };
    // The same data as a source already compared: the same pages.
    if let Some(&(_, i)) = compared.iter().find(|(hex, _)| *hex == fp.hex)
        && let Some(SourceCheck::Checked { pages, .. }) = earlier.get(i).map(|s| &s.check)
    {
        return SourceCheck::Checked { code: fp.code(), matches, as_version, other_layout, pages: pages.clone() };
    }
    SourceCheck::Checked { code: fp.code(), matches, as_version, other_layout, pages: pages(form) }
}

impl Clone for Pages {
    fn clone(&self) -> Pages {
        match self {
            Pages::Same(n) => Pages::Same(*n),
            Pages::Differ(d) => Pages::Differ(d.clone()),
            Pages::Failed(e) => Pages::Failed(e.clone()),
        }
    }
}

/// Where an extra shows on the data's pages (an annotation's rectangle).
fn place_of(extra: &Extra, maps: &[PageMap]) -> Option<Where> {
    let Extra::Annotation { page, rect: Some([x0, y0, x1, y1]), .. } = extra else { return None };
    if (x1 - x0).abs() < 0.01 || (y1 - y0).abs() < 0.01 {
        return None; // an empty rectangle shows nothing
    }
    let map = maps.get(page.checked_sub(1)?)?;
    // PDF rectangles are measured from the bottom left.
    Some(map.place(Rect { x0: *x0, y0: map.height - y1, x1: *x1, y1: map.height - y0 }))
}

/// Names that sign with more than one certificate.
fn same_name(signatures: &[Signature]) -> Vec<(String, Vec<usize>)> {
    let mut by_name: BTreeMap<&str, Vec<(usize, &str)>> = BTreeMap::new();
    for (i, s) in signatures.iter().enumerate() {
        if let (Some(name), Some(cert)) = (&s.signer, &s.certificate) {
            by_name.entry(name).or_default().push((i + 1, &cert.sha256));
        }
    }
    by_name
        .into_iter()
        .filter(|(_, v)| v.iter().any(|(_, c)| *c != v[0].1))
        .map(|(name, v)| (name.to_string(), v.into_iter().map(|(i, _)| i).collect()))
        .collect()
}

fn verdict(form: &FormReport, signatures_fine: bool) -> Verdict {
    let hard = !signatures_fine
        || !form.odd_pages.is_empty()
        || !form.extras.is_empty()
        || !form.unsigned_updates.is_empty()
        || form.sources.iter().any(|s| match &s.check {
            SourceCheck::Checked { matches, other_layout, pages, .. } => {
                !matches || (!other_layout && !matches!(pages, Pages::Same(_)))
            }
            _ => true,
        });
    let code_only = form.sources.iter().any(|s| {
        matches!(&s.check, SourceCheck::Checked { matches: true, other_layout: true, pages, .. } if !matches!(pages, Pages::Same(_)))
    });
    match (hard, code_only) {
        (true, _) => Verdict::Differs,
        (false, true) => Verdict::CodeOnly,
        (false, false) => Verdict::Matches,
    }
}
