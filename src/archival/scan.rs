//! `formpress scan`: the printed, signed and stamped form comes back as a
//! scan, and is filed against its data. Every scanned page's QR code must
//! carry the form's full fingerprint; pages 1…N must each be there exactly
//! once; nothing may belong to another form; and each page, laid over the
//! page formpress draws (`scan_compare`), must show the printed form and
//! nothing more outside the 签章区 (or the changes are accepted and recorded
//! with `--accept-changes`). Then the scans become a PDF/A-3b
//! archive (a page per scan, in page order, JPEG kept byte for byte) with the
//! form's YAML, the generated PDF and a small manifest attached, which
//! `verify` recognises and checks again.

use serde_json::Value as Json;
use typst::foundations::{Bytes, Datetime};

use crate::archival::scan_compare::{self, Change, RefPage, Unregistered};
use crate::archival::{archive, inspect, qr_read, verify};
use crate::form::fingerprint::{QrPayload, parse_qr};
use crate::form::{Form, fingerprint};
use crate::inputs::scans::{self, Picture, ScanFileError, Source, Stored, Unreadable};
use crate::layout::world::FormWorld;
use crate::layout::{Engine, Error, RenderOptions, attach, pdf, template};

/// The attached manifest that marks a scan archive.
pub const MANIFEST: &str = "formpress-scan.json";
/// Its format, written into it.
const MANIFEST_FORMAT: &str = "formpress-scan 1";

/// What the scans must match: the form as generated.
pub struct Expected {
    /// The kind's id and Chinese name, when the data is known.
    pub kind: Option<(String, String)>,
    /// 部门名称 or 项目名称, for the archive's metadata.
    pub author: Option<String>,
    /// The full fingerprint: from the data, else from the QR codes of the
    /// printed PDF (never made up from the printed 16 digits).
    pub hex: String,
    /// The printed 校验码 (`XXXX-XXXX-XXXX-XXXX`).
    pub code: String,
    /// The size of each page of the form, in points.
    pub pages: Vec<(f64, f64)>,
    /// The form's YAML (file name and bytes), when known.
    pub yaml: Option<(String, Vec<u8>)>,
    /// The generated PDF (file name and bytes): what was printed.
    pub pdf: (String, Vec<u8>),
    /// Its pages as drawn, for laying the scans over them.
    pub reference: Vec<RefPage>,
    /// The pictures the YAML names (under their path inside the form's
    /// folder), attached so the archive alone rebuilds the form.
    pub pictures: Vec<attach::Attached>,
}

/// Why the form the scans are checked against cannot be had.
#[derive(Debug)]
pub enum ExpectedError {
    /// The form has errors: only a draft (no 校验码) can be printed.
    Draft(usize),
    /// The PDF given is a draft.
    DraftPdf,
    /// The form has structural errors: each named with its place.
    NotRenderable(Vec<String>),
    /// The form's pages carry no 校验码 (option `fingerprint: false`).
    NoCode,
    /// The PDF's pages print different codes, or none.
    PdfCode,
    /// The PDF's QR codes cannot be read, or do not carry its printed code.
    PdfQr,
    /// The data's 校验码 differs from the one printed on the PDF.
    Mismatch {
        pdf: String,
        data: String,
    },
    Render(Error),
    Pdf(inspect::InspectError),
}

impl std::fmt::Display for ExpectedError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            ExpectedError::Draft(n) => write!(f, "表单有 {n} 个错误，只能打印草稿（没有校验码），无法与扫描件核对"),
            ExpectedError::DraftPdf => write!(f, "这份 PDF 是草稿（没有校验码），不是可以报送的表"),
            ExpectedError::NotRenderable(errors) => write!(f, "表单有结构性错误，无法生成：{}", errors.join("；")),
            ExpectedError::NoCode => write!(f, "表单页面上没有校验码和二维码（fingerprint: false），无法与扫描件核对"),
            ExpectedError::PdfCode => write!(f, "PDF 各页的校验码缺失或不一致，无法与扫描件核对"),
            ExpectedError::PdfQr => {
                write!(f, "PDF 上的二维码无法读取或与印的校验码不符，得不到完整的指纹，无法与扫描件核对")
            }
            ExpectedError::Mismatch { pdf, data } => {
                write!(f, "YAML 与 PDF 不是同一份表：PDF 上印的校验码是 {pdf}，YAML 的数据算得 {data}")
            }
            ExpectedError::Render(e) => write!(f, "{e}"),
            ExpectedError::Pdf(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ExpectedError {}

/// Attachment name of a file: its base name.
fn base_name(path: &str, fallback: &str) -> String {
    let name = std::path::Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ok = !name.is_empty() && !name.starts_with('.') && !name.chars().any(|c| c.is_control() || c == '\\');
    if ok { name.to_string() } else { fallback.to_string() }
}

impl Expected {
    /// The form as its data renders it now.
    pub fn from_data(engine: &Engine, form: &Form) -> Result<Expected, ExpectedError> {
        if !form.renderable() {
            return Err(not_renderable(form));
        }
        if form.errors() > 0 {
            return Err(ExpectedError::Draft(form.errors()));
        }
        let laid = engine.layout(form, &RenderOptions::default()).map_err(ExpectedError::Render)?;
        let code = laid.code.clone().ok_or(ExpectedError::NoCode)?;
        let pdf = laid.pdf().map_err(ExpectedError::Render)?;
        let kind = form.kind.as_deref().and_then(|k| engine.catalog().kind(k));
        let maps = kind.map(|k| {
            let m = &k.manifest.page.margin;
            crate::layout::page_map::page_maps(&laid.document, [m.left, m.top, m.right, m.bottom])
        });
        let reference =
            scan_compare::reference(&pdf, maps).map_err(|e| ExpectedError::Render(Error::Export(vec![e])))?;
        let pdf_name = std::path::Path::new(&base_name(&form.name, "form.yaml")).with_extension("pdf");
        let hex = engine.fingerprint(form).map(|fp| fp.hex).ok_or_else(|| not_renderable(form))?;
        Ok(Expected {
            kind: kind.map(|k| (k.id.clone(), k.manifest.name.clone())),
            author: author(&form.data),
            hex,
            code,
            pages: reference.iter().map(|p| (p.map.width, p.map.height)).collect(),
            yaml: Some((base_name(&form.name, "form.yaml"), form.bytes.clone())),
            pdf: (pdf_name.display().to_string(), pdf),
            reference,
            pictures: pictures(form),
        })
    }

    /// The form as a generated PDF shows it. An archive PDF carries its
    /// YAML, which gives the full fingerprint; `data`, when given, must be
    /// the same form and is attached as its YAML.
    pub fn from_pdf(
        engine: &Engine,
        name: &str,
        bytes: Vec<u8>,
        data: Option<&Form>,
    ) -> Result<Expected, ExpectedError> {
        let read = inspect::read(bytes.clone()).map_err(ExpectedError::Pdf)?;
        let stamp = read.creator.as_deref().and_then(crate::layout::attach::Stamp::parse);
        if stamp.is_some_and(|s| s.draft) {
            return Err(ExpectedError::DraftPdf);
        }
        let codes: Vec<Option<String>> = read.pages.iter().map(|p| fingerprint::find_code(&p.text)).collect();
        let code = match codes.first() {
            Some(Some(c)) if codes.iter().all(|o| o.as_ref() == Some(c)) => c.clone(),
            _ => return Err(ExpectedError::PdfCode),
        };
        let attached = archive::attached_form(engine, &read).ok();
        if let Some(form) = data.filter(|form| !form.renderable()) {
            return Err(not_renderable(form));
        }
        // The form behind the PDF, when one is known and prints its code.
        let mut known = None;
        for form in data.into_iter().chain(attached.as_ref()) {
            let Some(fp) = engine.fingerprint(form).filter(|_| form.renderable()) else { continue };
            if fp.code() != code {
                return Err(ExpectedError::Mismatch { pdf: code, data: fp.code() });
            }
            known.get_or_insert((form, fp.hex));
        }
        // Cells are named from the data's layout (it draws this very PDF: the code matched).
        let maps = known.as_ref().and_then(|(form, _)| {
            let laid = engine.layout(form, &RenderOptions::default()).ok()?;
            let kind = engine.catalog().kind(form.kind.as_deref()?)?;
            let m = &kind.manifest.page.margin;
            Some(crate::layout::page_map::page_maps(&laid.document, [m.left, m.top, m.right, m.bottom]))
        });
        let reference =
            scan_compare::reference(&bytes, maps).map_err(|e| ExpectedError::Render(Error::Export(vec![e])))?;
        // Without the data, the full fingerprint is the one the PDF's own QR codes carry.
        let hex = match &known {
            Some((_, hex)) => hex.clone(),
            None => {
                let payloads: Vec<Option<QrPayload>> =
                    reference.iter().map(|p| p.qr.as_ref().and_then(|(_, text)| parse_qr(text))).collect();
                match payloads.first() {
                    Some(Some(first))
                        if first.code() == code
                            && payloads.iter().all(|p| p.as_ref().is_some_and(|p| p.hex == first.hex)) =>
                    {
                        first.hex.clone()
                    }
                    _ => return Err(ExpectedError::PdfQr),
                }
            }
        };
        let (kind, author, yaml) = match &known {
            Some((form, _)) => (
                form.kind
                    .as_deref()
                    .and_then(|k| engine.catalog().kind(k))
                    .map(|k| (k.id.clone(), k.manifest.name.clone())),
                author(&form.data),
                Some((base_name(&form.name, "form.yaml"), form.bytes.clone())),
            ),
            None => (None, None, None),
        };
        let pictures = known.as_ref().map(|(form, _)| pictures(form)).unwrap_or_default();
        Ok(Expected {
            kind,
            author,
            hex,
            code,
            pages: reference.iter().map(|p| (p.map.width, p.map.height)).collect(),
            yaml,
            pdf: (base_name(name, "form.pdf"), bytes),
            reference,
            pictures,
        })
    }

    /// Whether a decoded payload is this form's: the whole fingerprint.
    fn matches(&self, payload: &QrPayload) -> bool {
        payload.hex == self.hex
    }
}

/// The pictures an archive of `form` attaches (all it attaches but the YAML).
fn pictures(form: &Form) -> Vec<attach::Attached> {
    attach::attached(form).into_iter().skip(1).collect()
}

/// A form that cannot be laid out, with its structural errors, each with its place.
fn not_renderable(form: &Form) -> ExpectedError {
    let errors = form.findings.iter().filter(|f| f.blocks_render());
    ExpectedError::NotRenderable(errors.map(|f| format!("{} {}", f.yaml_path, f.message).trim().to_string()).collect())
}

/// Who the form is from: 部门名称, 单位 or 项目名称, for the archive's metadata.
fn author(data: &Json) -> Option<String> {
    ["department", "unit", "project", "name"]
        .iter()
        .find_map(|k| data.get(*k).and_then(Json::as_str).filter(|s| !s.trim().is_empty()))
        .map(str::to_string)
}

/// What was found on one scanned page.
#[derive(Debug, Clone)]
pub enum Found {
    Code(QrPayload),
    /// A QR code that is not formpress's (its text).
    Foreign(String),
    /// No QR code could be read.
    Nothing,
    /// The picture itself could not be read.
    Unreadable(Unreadable),
}

/// One scanned page: where it came from, its picture, its QR code, and
/// what differs from the form's page it carries (when it is one of them).
pub struct Page {
    pub source: Source,
    pub picture: Option<Kept>,
    pub found: Found,
    pub compared: Option<Result<Vec<Change>, Unregistered>>,
}

/// The picture kept for the archive (its grey copy is dropped once read).
pub struct Kept {
    pub stored: Stored,
    pub width: u32,
    pub height: u32,
    pub size: Option<(f64, f64)>,
}

/// Reads one page's QR code, lays it over the form's page it names, and
/// keeps its picture.
pub fn page(source: Source, picture: Result<Picture, Unreadable>, expected: &Expected) -> Page {
    match picture {
        Err(why) => Page { source, picture: None, found: Found::Unreadable(why), compared: None },
        Ok(p) => {
            let mut compared = None;
            let found = match qr_read::read(&p.grey) {
                qr_read::Read::Code(text, corners) => match parse_qr(&text) {
                    Some(payload) => {
                        let number = payload.page.unwrap_or(1);
                        if expected.matches(&payload)
                            && let Some(reference) = expected.reference.get(number - 1)
                        {
                            compared = Some(scan_compare::compare(reference, number, &p.inks, corners));
                        }
                        Found::Code(payload)
                    }
                    None => Found::Foreign(text),
                },
                qr_read::Read::Foreign(text) => Found::Foreign(text),
                qr_read::Read::Nothing => Found::Nothing,
            };
            let kept = Kept { stored: p.stored, width: p.width, height: p.height, size: p.size };
            Page { source, picture: Some(kept), found, compared }
        }
    }
}

/// Reads every page of the scan files, in the order given.
pub fn read(paths: &[std::path::PathBuf], expected: &Expected) -> Result<Vec<Page>, ScanFileError> {
    let mut pages = vec![];
    let (mut seen, mut kept) = (0, 0);
    for path in paths {
        scans::read_file(path, &mut seen, &mut |source, picture| {
            kept += picture.as_ref().map_or(0, |p| p.stored.bytes().len());
            if kept > scans::MAX_KEPT_BYTES {
                return Err(ScanFileError::TooMuch);
            }
            pages.push(page(source, picture, expected));
            Ok(())
        })?;
    }
    Ok(pages)
}

/// One reason the scans are not the form, by page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No scan carries this page of the form.
    Missing(usize),
    /// More than one scan carries this page.
    Duplicate { page: usize, sources: Vec<Source> },
    /// A scan of another form (its 校验码, and its page number if printed).
    OtherForm { source: Source, code: String, page: Option<usize> },
    /// A page of this form numbered beyond its last page.
    BeyondEnd { source: Source, page: usize, pages: usize },
    /// A page whose QR code could not be found or read.
    NoCode { source: Source },
    /// A QR code that is not formpress's.
    Foreign { source: Source, text: String },
    /// A picture that could not be read.
    Picture { source: Source, why: Unreadable },
    /// A code without a page number (an older formpress) among pages with one.
    NoPageNumber { source: Source },
    /// A page without a page number beyond the form's count.
    Surplus { source: Source, pages: usize },
    /// The scan shows something other than the printed form.
    Changed { source: Source, changes: Vec<Change> },
    /// The scan could not be laid over the form's page.
    Unregistered { source: Source },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Problem::Missing(page) => write!(f, "第 {page} 页缺失"),
            Problem::Duplicate { page, sources } => {
                let list: Vec<String> = sources.iter().map(ToString::to_string).collect();
                write!(f, "第 {page} 页重复出现 {} 次：{}", sources.len(), list.join("、"))
            }
            Problem::OtherForm { source, code, page } => {
                write!(f, "{source}：属于另一份表（校验码 {code}")?;
                if let Some(p) = page {
                    write!(f, "，那份表的第 {p} 页")?;
                }
                write!(f, "）")
            }
            Problem::BeyondEnd { source, page, pages } => {
                write!(f, "{source}：二维码标为第 {page} 页，但表只有 {pages} 页")
            }
            Problem::NoCode { source } => write!(f, "{source}：无法识别二维码"),
            Problem::Foreign { source, text } => {
                let text: String = text.chars().take(40).collect();
                write!(
                    f,
                    "{source}：二维码不是 formpress 的校验码（内容「{}」）",
                    crate::form::findings::escape_controls(&text)
                )
            }
            Problem::Picture { source, why } => write!(f, "{source}：{why}"),
            Problem::Surplus { source, pages } => write!(f, "{source}：多出的一页（表只有 {pages} 页）"),
            Problem::Changed { source, changes } => {
                write!(f, "{source}：与表单不符（{} 处）", changes.len())?;
                for c in changes.iter().take(12) {
                    write!(f, "\n    {c}")?;
                }
                if changes.len() > 12 {
                    write!(f, "\n    另有 {} 处", changes.len() - 12)?;
                }
                Ok(())
            }
            Problem::Unregistered { source } => {
                write!(f, "{source}：无法与表单的页面对齐，不能核对页面上的内容")
            }
            Problem::NoPageNumber { source } => {
                write!(f, "{source}：二维码没有页码（旧版 formpress 打印），而其他页有，无法确定页序")
            }
        }
    }
}

/// Checks the scanned pages against the form. On success, the index of
/// the scan of each page 1…N, in page order, and the changes the scans show
/// when `accept_changes` lets them through (else they are problems).
///
/// Codes printed by formpress before page numbers were added carry none:
/// when no page of the set has one, the pages are taken in the order given
/// (the count and the 校验码 are still checked).
pub fn check(expected: &Expected, pages: &[Page], accept_changes: bool) -> Result<Placed, Vec<Problem>> {
    let n = expected.pages.len();
    let mut problems = vec![];
    let mut accepted = vec![];
    for p in pages {
        let source = p.source.clone();
        match &p.compared {
            Some(Ok(changes)) if changes.is_empty() => {}
            Some(Ok(changes)) if accept_changes => accepted.extend(changes.iter().map(|c| format!("{source}：{c}"))),
            Some(Ok(changes)) => problems.push(Problem::Changed { source, changes: changes.clone() }),
            Some(Err(_)) => problems.push(Problem::Unregistered { source }),
            None => {}
        }
    }
    let mut at: Vec<Vec<usize>> = vec![vec![]; n];
    let mut unnumbered = vec![];
    for (i, p) in pages.iter().enumerate() {
        let source = p.source.clone();
        match &p.found {
            Found::Code(payload) if expected.matches(payload) => match payload.page {
                Some(page) if (1..=n).contains(&page) => at[page - 1].push(i),
                Some(page) => problems.push(Problem::BeyondEnd { source, page, pages: n }),
                None => unnumbered.push(i),
            },
            Found::Code(payload) => {
                problems.push(Problem::OtherForm { source, code: payload.code(), page: payload.page })
            }
            Found::Foreign(text) => problems.push(Problem::Foreign { source, text: text.clone() }),
            Found::Nothing => problems.push(Problem::NoCode { source }),
            Found::Unreadable(why) => problems.push(Problem::Picture { source, why: why.clone() }),
        }
    }
    let numbered = at.iter().any(|a| !a.is_empty());
    if !unnumbered.is_empty() && !numbered {
        // An older print: the order given is the order of the pages.
        if unnumbered.len() == n && problems.is_empty() {
            return Ok(Placed { order: unnumbered, accepted });
        }
        for (page, i) in unnumbered.iter().enumerate().take(n) {
            at[page].push(*i);
        }
        for &i in unnumbered.iter().skip(n) {
            problems.push(Problem::Surplus { source: pages[i].source.clone(), pages: n });
        }
    } else {
        problems.extend(unnumbered.iter().map(|&i| Problem::NoPageNumber { source: pages[i].source.clone() }));
    }
    for (page, scans) in at.iter().enumerate() {
        match scans.len() {
            0 => problems.push(Problem::Missing(page + 1)),
            1 => {}
            _ => problems.push(Problem::Duplicate {
                page: page + 1,
                sources: scans.iter().map(|&i| pages[i].source.clone()).collect(),
            }),
        }
    }
    // Pages in form order: missing pages first, then what cannot be placed, in input order.
    problems.sort_by_key(|p| match p {
        Problem::Missing(page) | Problem::Duplicate { page, .. } => (0, *page),
        Problem::Changed { .. } | Problem::Unregistered { .. } => (2, 0),
        _ => (1, 0),
    });
    if problems.is_empty() {
        Ok(Placed { order: at.into_iter().map(|a| a[0]).collect(), accepted })
    } else {
        Err(problems)
    }
}

/// Scans that hold: the scan of each page in order, and the changes accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub order: Vec<usize>,
    pub accepted: Vec<String>,
}

/// What `formpress scan` is asked to do.
pub struct Request<'a> {
    pub scans: &'a [std::path::PathBuf],
    /// The form's data (checked), and the printed PDF (its name and bytes).
    pub data: Option<&'a Form>,
    pub pdf: Option<(String, Vec<u8>)>,
    /// The scan date; none: the day the newest scan file was last modified.
    pub date: Option<Day>,
    /// File the scans although they differ from the form, recording each difference.
    pub accept_changes: bool,
    pub format: ArchiveFormat,
}

/// The scans filed: the archive and what went into it.
pub struct Filed {
    pub code: String,
    pub pages: usize,
    /// The scan of each page, in page order.
    pub sources: Vec<Source>,
    pub accepted: Vec<String>,
    pub date: Day,
    pub archive: Vec<u8>,
    /// The archive carries the YAML too (else only the printed PDF).
    pub with_yaml: bool,
}

/// Why the scans were not filed.
#[derive(Debug)]
pub enum ScanError {
    /// The form to compare with cannot be had.
    Expected(ExpectedError),
    /// A scan file cannot be read.
    Files(ScanFileError),
    /// The scans are not the form: each reason.
    Problems(Vec<Problem>),
    /// The archive could not be made.
    Archive(Error),
}

/// `formpress scan`: the form to compare with, every scanned page read and
/// laid over it, the checks, and the archive. `on_form` hears the form's
/// 校验码 and page count before the scans are read.
pub fn file(engine: &Engine, request: Request, on_form: &mut dyn FnMut(&str, usize)) -> Result<Filed, ScanError> {
    let expected = match (&request.pdf, request.data) {
        (Some((name, bytes)), data) => Expected::from_pdf(engine, name, bytes.clone(), data),
        (None, Some(form)) => Expected::from_data(engine, form),
        (None, None) => Err(ExpectedError::NotRenderable(vec![])),
    }
    .map_err(ScanError::Expected)?;
    on_form(&expected.code, expected.pages.len());
    let pages = read(request.scans, &expected).map_err(ScanError::Files)?;
    let placed = check(&expected, &pages, request.accept_changes).map_err(ScanError::Problems)?;
    let date = request
        .date
        .or_else(|| request.scans.iter().filter_map(|p| Day::of_file(p)).max_by_key(|d| (d.year, d.month, d.day)))
        .unwrap_or(Day { year: 2000, month: 1, day: 1 });
    let archive = archive(engine, &expected, &pages, &placed, date, request.format).map_err(ScanError::Archive)?;
    Ok(Filed {
        code: expected.code.clone(),
        pages: placed.order.len(),
        sources: placed.order.iter().map(|&i| pages[i].source.clone()).collect(),
        accepted: placed.accepted,
        date,
        archive,
        with_yaml: expected.yaml.is_some(),
    })
}

/// A date as the archive records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Day {
    /// `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Day> {
        let (year, month, day) = crate::form::schema::parse_date(text.trim())?;
        Datetime::from_ymd(year, month as u8, day as u8)?;
        Some(Day { year, month: month as u8, day: day as u8 })
    }

    /// The day (UTC) of a file's modification time.
    pub fn of_file(path: &std::path::Path) -> Option<Day> {
        let modified = std::fs::metadata(path).ok()?.modified().ok()?;
        let secs = modified.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
        let (year, month, day) = crate::layout::render::civil_from_days(secs.div_euclid(86_400));
        Some(Day { year, month, day })
    }
}

/// What a scan archive records of itself (attached as `MANIFEST`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The kind's id, when the data was known.
    pub form: Option<String>,
    pub code: String,
    pub fingerprint: Option<String>,
    pub pages: usize,
    pub scan_date: String,
    /// Each archive page's scan (file and page within it).
    pub sources: Vec<String>,
    /// The attachment names of the YAML and of the generated PDF.
    pub yaml: Option<String>,
    pub pdf: String,
    /// What the scans show that differs from the form, accepted with `--accept-changes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_changes: Vec<String>,
}

/// The archive: a PDF/A-3b page per scan, in page order, each picture at
/// its own resolution and a JPEG byte for byte, with the YAML, the generated
/// PDF and the manifest attached, and metadata naming the form, the 校验码
/// and the scan date.
/// The archive's format: PDF/A-3b, or OFD-A (GB/T 42133) with the same
/// pages and attachments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    Pdf,
    Ofd,
}

pub fn archive(
    engine: &Engine,
    expected: &Expected,
    pages: &[Page],
    placed: &Placed,
    date: Day,
    format: ArchiveFormat,
) -> Result<Vec<u8>, Error> {
    let order = &placed.order;
    let name = expected.kind.as_ref().map_or("表单", |(_, name)| name.as_str());
    let description = format!("{name} · 校验码 {} · 扫描日期 {date} · 共 {} 页", expected.code, order.len());
    let lit = |s: &str| template::str_literal(s);
    let mut markup = format!(
        "#set document(title: {}, author: ({}), description: {}, keywords: ({}, {}, {}), date: datetime(year: {}, month: {}, day: {}))\n",
        lit(&format!("{name}（签字盖章扫描件）")),
        expected.author.as_deref().map(|a| format!("{},", lit(a))).unwrap_or_default(),
        lit(&description),
        lit("formpress 扫描件"),
        lit(&format!("校验码 {}", expected.code)),
        lit(&format!("扫描日期 {date}")),
        date.year,
        date.month,
        date.day,
    );
    markup.push_str("#set page(margin: 0pt)\n");
    let mut files: Vec<(String, Bytes)> = vec![];
    let mut sources = vec![];
    for (n, &i) in order.iter().enumerate() {
        let Some(picture) = &pages[i].picture else { continue };
        let path = format!("/scan/{}.{}", n + 1, picture.stored.extension());
        let (w, h) = size_of(picture, expected.pages.get(n).copied());
        markup.push_str(&format!(
            "#page(width: {w:.3}pt, height: {h:.3}pt, place(top + left, image({}, width: {w:.3}pt, height: {h:.3}pt, fit: \"stretch\")))\n",
            lit(&path)
        ));
        files.push((path, Bytes::new(picture.stored.bytes().to_vec())));
        // The scan's file name only: the archive is filed and sent, the folder it was in is not its business.
        let source = &pages[i].source;
        sources.push(Source { file: base_name(&source.file, "扫描件"), page: source.page }.to_string());
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        form: expected.kind.as_ref().map(|(id, _)| id.clone()),
        code: expected.code.clone(),
        fingerprint: Some(expected.hex.clone()),
        pages: order.len(),
        scan_date: date.to_string(),
        sources,
        yaml: expected.yaml.as_ref().map(|(n, _)| n.clone()),
        pdf: expected.pdf.0.clone(),
        accepted_changes: placed.accepted.clone(),
    };
    let mut attached: Vec<crate::outputs::ofd::Attachment> = vec![];
    let mut attach = |file: &str, bytes: Vec<u8>, relationship: &'static str, mime: &str, what: &str| {
        let path = format!("/attached/{file}");
        let usage = match relationship {
            "source" => "Source",
            "alternative" => "Alternative",
            _ => "Supplement",
        };
        attached.push(crate::outputs::ofd::Attachment { name: file.to_string(), bytes: bytes.clone(), usage });
        markup.push_str(&format!(
            "#pdf.attach({}, read({}, encoding: none), relationship: {}, mime-type: {}, description: {})\n",
            lit(file),
            lit(&path),
            lit(relationship),
            lit(mime),
            lit(what)
        ));
        files.push((path, Bytes::new(bytes)));
    };
    if let Some((file, bytes)) = &expected.yaml {
        attach(file, bytes.clone(), "source", "application/yaml", &format!("{name} 的表单数据（YAML 原文）"));
    }
    attach(
        &expected.pdf.0,
        expected.pdf.1.clone(),
        "alternative",
        "application/pdf",
        "打印、签字盖章的表单原件（PDF）",
    );
    for picture in &expected.pictures {
        attach(&picture.name, picture.bytes.clone(), "supplement", &picture.mime, "表单引用的图片");
    }
    let manifest = serde_json::to_vec_pretty(&manifest).expect("serialisable");
    attach(MANIFEST, manifest, "supplement", "application/json", "扫描件清单：每页来自哪个扫描文件");
    let today = Datetime::from_ymd(date.year, date.month, date.day).expect("a checked date");
    let mut world = FormWorld::new(engine.fonts(), markup, today);
    for (path, bytes) in files {
        world.add_file(&path, bytes);
    }
    let doc = pdf::compile(&world).map_err(|diagnostics| Error::Typst {
        diagnostics,
        markup: world.main_source().text().to_string(),
        hint: None,
    })?;
    let kind = expected.kind.as_ref().and_then(|(id, _)| engine.catalog().kind(id));
    let options = pdf::ExportOptions {
        ident: format!("formpress-scan/{}/{}", expected.hex, date),
        creator: crate::layout::attach::Stamp::running(kind).creator(),
        timestamp: Some(today),
        archive: true,
    };
    if format == ArchiveFormat::Ofd {
        let meta = crate::outputs::ofd::Meta {
            title: Some(format!("{name}（签字盖章扫描件）")),
            authors: expected.author.iter().cloned().collect(),
            subject: Some(description),
            keywords: vec!["formpress 扫描件".into(), format!("校验码 {}", expected.code), format!("扫描日期 {date}")],
            creator: options.creator,
            date: Some((date.year, date.month, date.day)),
            doc_id: crate::outputs::ofd::doc_id(&options.ident),
            archive: true,
            attachments: attached,
        };
        return crate::outputs::ofd::write(&doc, &meta).map_err(|e| Error::Export(vec![e.0]));
    }
    pdf::export(&doc, &options).map_err(Error::Export)
}

/// A scan's page size in points: as its file says, else the form page's
/// width with the scan's proportions (scanners cover the page's width).
fn size_of(picture: &Kept, form_page: Option<(f64, f64)>) -> (f64, f64) {
    if let Some(size) = picture.size {
        return size;
    }
    let width = form_page.map_or(595.276, |(w, _)| w);
    (width, width * f64::from(picture.height) / f64::from(picture.width))
}

/// Whether a read PDF is a scan archive (it carries the manifest).
pub fn is_archive(pdf: &inspect::Inspected) -> bool {
    pdf.attachments.iter().any(|a| a.name == MANIFEST)
}

/// The manifest a scan archive carries, if it can be read.
pub fn manifest(read: &inspect::Inspected) -> Option<Manifest> {
    let attached = read.attachments.iter().find(|a| a.name == MANIFEST)?;
    serde_json::from_slice(&attached.bytes).ok()
}

/// One line of the report on a scan archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Ok(String),
    Wrong(String),
}

/// Checks a scan archive again: its manifest, its attached form (the YAML
/// re-rendered and compared with the attached PDF), and the QR code of every
/// page image against that form, in page order.
pub fn verify_archive(engine: &Engine, bytes: Vec<u8>, read: &inspect::Inspected) -> Vec<Finding> {
    let mut out = vec![];
    let Some(manifest) = manifest(read) else {
        out.push(Finding::Wrong(format!("扫描件清单 {MANIFEST} 无法读取")));
        return out;
    };
    let sources: Vec<String> = manifest
        .sources
        .iter()
        .enumerate()
        .map(|(i, source)| format!("第 {} 页 ← {}", i + 1, crate::form::findings::escape_controls(source)))
        .collect();
    out.push(Finding::Ok(format!(
        "扫描件存档：校验码 {}，{} 页，扫描日期 {}（{}）",
        manifest.code,
        manifest.pages,
        manifest.scan_date,
        sources.join("；")
    )));
    let Some(printed) = read.attachments.iter().find(|a| a.name == manifest.pdf) else {
        out.push(Finding::Wrong(format!("缺少附件：生成的表单 PDF {}", manifest.pdf)));
        return out;
    };
    let form = archive::attached_form(engine, read).ok();
    let expected = match Expected::from_pdf(engine, &printed.name, printed.bytes.clone(), form.as_ref()) {
        Ok(e) => e,
        Err(e) => {
            out.push(Finding::Wrong(format!("附带的表单：{e}")));
            return out;
        }
    };
    if expected.code != manifest.code || expected.pages.len() != manifest.pages {
        out.push(Finding::Wrong(format!(
            "附带的表单 PDF 校验码 {}、{} 页，与清单记录的 {}、{} 页不符",
            expected.code,
            expected.pages.len(),
            manifest.code,
            manifest.pages
        )));
    }
    match &form {
        Some(form) => compare_printed(engine, form, printed, &mut out),
        None if manifest.yaml.is_some() => out.push(Finding::Wrong("附带的 YAML 缺失或无法读取".into())),
        None => out.push(Finding::Ok("存档没有附带 YAML（扫描时只给了 PDF），按 PDF 上的校验码核对".into())),
    }
    // The pages, read again from the archive's own pictures (an OFD-A's page images),
    // each read for its QR code as soon as it is decoded.
    let source = |i: usize| Source { file: "存档".into(), page: Some(i + 1) };
    let pages: Vec<Page> = if crate::archival::ofd_read::is_ofd(&bytes) {
        match crate::archival::ofd_read::read(&bytes) {
            Ok((_, pkg)) => pkg
                .page_images
                .iter()
                .enumerate()
                .map(|(i, files)| {
                    let picture = match files.first().and_then(|f| pkg.entries.get(f)) {
                        Some(b) => scans::image_picture(b.clone()),
                        None => Err(scans::Unreadable::NoPicture),
                    };
                    page(source(i), picture, &expected)
                })
                .collect(),
            Err(e) => {
                out.push(Finding::Wrong(format!("存档页面无法读取（{e}）")));
                return out;
            }
        }
    } else {
        match hayro_interpret::hayro_syntax::Pdf::new(bytes) {
            Ok(pdf) => scans::pdf_pages(&pdf, |i, picture| page(source(i), picture, &expected)),
            Err(e) => {
                out.push(Finding::Wrong(format!("存档页面无法读取（{e:?}）")));
                return out;
            }
        }
    };
    // Each page laid over the form again: what differs now, against what the scan accepted.
    for p in &pages {
        match &p.compared {
            Some(Ok(changes)) => {
                for c in changes {
                    let line = format!("{}：{c}", p.source);
                    let recorded = manifest.accepted_changes.iter().any(|a| a.ends_with(&c.to_string()));
                    out.push(Finding::Wrong(if recorded {
                        format!("{line}（扫描时以 --accept-changes 接受并记录）")
                    } else {
                        line
                    }));
                }
            }
            Some(Err(_)) => {
                out.push(Finding::Wrong(format!("{}：无法与表单的页面对齐，不能核对页面上的内容", p.source)))
            }
            None => {}
        }
    }
    if pages.iter().all(|p| matches!(&p.compared, Some(Ok(c)) if c.is_empty())) {
        out.push(Finding::Ok(format!(
            "每页扫描图像与表单的页面对齐比对：印好的内容都在，签章区以外没有改动（{} 页）",
            pages.len()
        )));
    }
    match check(&expected, &pages, true) {
        Ok(placed) if placed.order.iter().enumerate().all(|(i, &at)| i == at) => out.push(Finding::Ok(format!(
            "每页扫描图像的二维码都带校验码 {}，第 1–{} 页各一次，顺序正确",
            expected.code,
            placed.order.len()
        ))),
        Ok(placed) => {
            let wrong: Vec<String> = placed
                .order
                .iter()
                .enumerate()
                .filter(|(i, at)| i != *at)
                .map(|(i, at)| format!("存档第 {} 页是表的第 {} 页", at + 1, i + 1))
                .collect();
            out.push(Finding::Wrong(format!("页序不对：{}", wrong.join("，"))));
        }
        Err(problems) => out.extend(problems.iter().map(|p| Finding::Wrong(p.to_string()))),
    }
    out
}

/// The attached PDF against the attached YAML drawn again: the same pages,
/// as pictures and text (`verify`'s comparison).
fn compare_printed(engine: &Engine, form: &Form, printed: &inspect::Attachment, out: &mut Vec<Finding>) {
    let expected = match verify::Expected::of(engine, form) {
        Ok(e) => e,
        Err(e) => {
            out.push(Finding::Wrong(format!("附带的 YAML 无法重新生成：{e}")));
            return;
        }
    };
    let Ok(pages) = verify::draw(&printed.bytes) else {
        out.push(Finding::Wrong("附带的表单 PDF 无法读取".into()));
        return;
    };
    let differences = verify::compare(&pages, &expected.pages, &expected.maps);
    if differences.is_empty() {
        out.push(Finding::Ok(format!(
            "附带的 YAML 重新生成的 {} 页与附带的表单 PDF 一致（逐页按画面和文字比对）",
            expected.pages.len()
        )));
    } else {
        for d in differences {
            out.push(Finding::Wrong(format!("附带的表单 PDF 与 YAML 不符：{d}")));
        }
    }
}

/// A given YAML against a scan archive: the same 校验码 as the archive records.
pub fn given_form(engine: &Engine, read: &inspect::Inspected, name: &str, form: &Form) -> Finding {
    let name = crate::form::findings::escape_controls(name);
    let code = manifest(read).map(|m| m.code).unwrap_or_default();
    match engine.fingerprint(form).filter(|_| form.renderable()) {
        Some(fp) if fp.code() == code => Finding::Ok(format!("给出的 {name}：校验码 {code} ✓ 一致")),
        Some(fp) => Finding::Wrong(format!("给出的 {name}：校验码不一致：存档是 {code}，数据算得 {}", fp.code())),
        None => Finding::Wrong(format!("给出的 {name}：无法读取表单数据（{} 个错误）", form.errors())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(pages: usize) -> Expected {
        Expected {
            kind: None,
            author: None,
            hex: "AB".repeat(32),
            code: "ABAB-ABAB-ABAB-ABAB".into(),
            pages: vec![(595.0, 842.0); pages],
            yaml: None,
            pdf: ("f.pdf".into(), vec![]),
            reference: vec![],
            pictures: vec![],
        }
    }

    fn scanned(file: &str, found: Found) -> Page {
        Page { source: Source { file: file.into(), page: None }, picture: None, found, compared: None }
    }

    fn ours(page: Option<usize>) -> Found {
        Found::Code(QrPayload { hex: "AB".repeat(32), page })
    }

    #[test]
    fn pages_are_put_in_order_and_problems_named() {
        let e = expected(3);
        let shuffled = [scanned("c", ours(Some(3))), scanned("a", ours(Some(1))), scanned("b", ours(Some(2)))];
        let order = |r: Result<Placed, Vec<Problem>>| r.map(|p| p.order);
        assert_eq!(order(check(&e, &shuffled, false)), Ok(vec![1, 2, 0]));
        let other = Found::Code(QrPayload { hex: "CD".repeat(32), page: Some(1) });
        let broken = [
            scanned("a", ours(Some(1))),
            scanned("x", other),
            scanned("y", Found::Nothing),
            scanned("a2", ours(Some(1))),
        ];
        let problems: Vec<String> = check(&e, &broken, false).unwrap_err().iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "第 1 页重复出现 2 次：a、a2",
                "第 2 页缺失",
                "第 3 页缺失",
                "x：属于另一份表（校验码 CDCD-CDCD-CDCD-CDCD，那份表的第 1 页）",
                "y：无法识别二维码",
            ]
        );
    }

    #[test]
    fn older_codes_without_page_numbers_keep_the_given_order() {
        let e = expected(2);
        let order = check(&e, &[scanned("a", ours(None)), scanned("b", ours(None))], false).map(|p| p.order);
        assert_eq!(order, Ok(vec![0, 1]));
        let short = check(&e, &[scanned("a", ours(None))], false).unwrap_err();
        assert_eq!(short, vec![Problem::Missing(2)]);
        let mixed = check(&e, &[scanned("a", ours(Some(1))), scanned("b", ours(None))], false).unwrap_err();
        assert!(mixed.contains(&Problem::NoPageNumber { source: Source { file: "b".into(), page: None } }));
    }
}
