//! Reading a PDF back (for `extract` and `verify`): its attached files, its
//! creator, and the text each page's content draws, with where each
//! character stands. Uses hayro, the PDF reader that is already part of
//! Typst's dependency tree.

use hayro_interpret::hayro_syntax::Pdf;
use hayro_interpret::hayro_syntax::object::{Array, Dict, Name, Object, Stream, String as PdfString};
use hayro_interpret::{
    BlendMode, ClipPath, Context, Device, GlyphDrawMode, Image, InterpreterCache, InterpreterSettings, Paint,
    PathDrawMode, RectExt, SoftMask, interpret_page,
};
use kurbo::{Affine, BezPath};

pub struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
    /// `/AFRelationship` of the file specification (`Source` for a form's YAML).
    pub relationship: Option<String>,
    /// `/Subtype` of the embedded file, a MIME type (`application/yaml`).
    pub mime: Option<String>,
}

pub struct Inspected {
    pub attachments: Vec<Attachment>,
    pub pages: Vec<Page>,
    /// The document's `/Creator` (formpress records its versions there).
    pub creator: Option<String>,
    /// The named destinations: places the layout recorded (the 签章区).
    pub anchors: Vec<Anchor>,
}

/// A named destination of the PDF: a point on a page, in points from the
/// page's bottom left, as the destination gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Anchor {
    pub name: String,
    /// 0-based.
    pub page: usize,
    pub x: f64,
    pub y: f64,
}

impl Inspected {
    /// The attached form data: the attachment marked as the source or as
    /// YAML, else the only attachment (its name does not matter).
    pub fn source(&self) -> Option<&Attachment> {
        let marked = |a: &&Attachment| {
            a.relationship.as_deref() == Some("Source") || a.mime.as_deref() == Some("application/yaml")
        };
        self.attachments.iter().find(marked).or(match self.attachments.as_slice() {
            [only] => Some(only),
            _ => None,
        })
    }
}

/// The text one page's content draws (annotations are not content).
pub struct Page {
    /// The text, in drawing order.
    pub text: String,
    /// Page width in points (its media box).
    pub width: f64,
    /// Page height in points (positions are measured from the bottom left).
    pub height: f64,
    /// Each character of the text with its glyph's origin (points, from the
    /// bottom left), visible or not: an amount drawn invisibly still reads
    /// as text to a search or a copy.
    pub chars: Vec<(char, kurbo::Point)>,
}

#[derive(Debug)]
pub enum InspectError {
    /// Over a limit of `pdfcheck`, found before the reader saw the file.
    Limit(crate::archival::pdfcheck::PdfLimit),
    Unreadable(String),
}

impl std::fmt::Display for InspectError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            InspectError::Limit(e) => write!(f, "{e}"),
            InspectError::Unreadable(e) => write!(f, "不是可读的 PDF 文件（{e}）"),
        }
    }
}

impl std::error::Error for InspectError {}

/// Largest PDF `extract` and `verify` read.
pub const MAX_PDF_BYTES: u64 = 64 << 20;

pub fn read(bytes: Vec<u8>) -> Result<Inspected, InspectError> {
    crate::archival::pdfcheck::check(&bytes).map_err(InspectError::Limit)?;
    let pdf = Pdf::new(bytes).map_err(|e| InspectError::Unreadable(format!("{e:?}")))?;
    let creator = pdf.metadata().creator.as_deref().map(decode_text);
    Ok(Inspected { attachments: attachments(&pdf), pages: pages(&pdf), creator, anchors: anchors(&pdf) })
}

/// Named destinations read at most (formpress writes two).
const MAX_ANCHORS: usize = 1000;

/// The named destinations of the catalog's `/Names /Dests` tree and its
/// older `/Dests` dictionary that point at a page with `/XYZ`.
fn anchors(pdf: &Pdf) -> Vec<Anchor> {
    let xref = pdf.xref();
    let Some(catalog) = xref.get::<Dict>(xref.root_id()) else { return vec![] };
    let pages: Vec<_> = pdf.pages().iter().map(|p| p.raw().obj_id()).collect();
    let mut found: Vec<(String, Object)> = vec![];
    if let Some(tree) = catalog.get::<Dict>(b"Names").and_then(|n| n.get::<Dict>(b"Dests")) {
        collect_dests(&tree, 0, &mut found);
    }
    if let Some(dests) = catalog.get::<Dict>(b"Dests") {
        for name in dests.keys().take(MAX_ANCHORS) {
            if let Some(value) = dests.get::<Object>(name.as_ref()) {
                found.push((String::from_utf8_lossy(name.as_ref()).into_owned(), value));
            }
        }
    }
    found
        .into_iter()
        .filter_map(|(name, value)| {
            let dest = match value {
                Object::Array(a) => a,
                Object::Dict(d) => d.get::<Array>(b"D")?,
                _ => return None,
            };
            let id = dest.iter::<Dict>().next()?.obj_id()?;
            let page = pages.iter().position(|p| *p == Some(id))?;
            let mut rest = dest.iter::<Object>().skip(1);
            if rest.next()?.into_name().is_none_or(|n| n.as_ref() != b"XYZ") {
                return None;
            }
            let (x, y) = (rest.next()?.into_f32()?, rest.next()?.into_f32()?);
            Some(Anchor { name, page, x: f64::from(x), y: f64::from(y) })
        })
        .collect()
}

fn collect_dests<'a>(node: &Dict<'a>, depth: usize, out: &mut Vec<(String, Object<'a>)>) {
    if depth > 16 || out.len() >= MAX_ANCHORS {
        return;
    }
    if let Some(kids) = node.get::<Array>(b"Kids") {
        for kid in kids.iter::<Dict>() {
            collect_dests(&kid, depth + 1, out);
        }
    }
    let Some(names) = node.get::<Array>(b"Names") else { return };
    let mut entries = names.iter::<Object>();
    while let (Some(key), Some(value)) = (entries.next(), entries.next()) {
        if out.len() >= MAX_ANCHORS {
            return;
        }
        if let Some(key) = key.into_string() {
            out.push((decode_text(key.as_bytes()), value));
        }
    }
}

/// Files in the document's EmbeddedFiles name tree.
fn attachments(pdf: &Pdf) -> Vec<Attachment> {
    let xref = pdf.xref();
    let Some(catalog) = xref.get::<Dict>(xref.root_id()) else { return vec![] };
    let Some(tree) = catalog.get::<Dict>(b"Names").and_then(|n| n.get::<Dict>(b"EmbeddedFiles")) else {
        return vec![];
    };
    let mut out = vec![];
    let mut seen = vec![];
    collect_names(&tree, 0, &mut out, &mut seen);
    out
}

/// Attachments kept in memory at most (the same stream listed many times
/// is decoded once).
const MAX_ATTACHMENT_BYTES: usize = 64 << 20;

fn collect_names(
    node: &Dict,
    depth: usize,
    out: &mut Vec<Attachment>,
    seen: &mut Vec<hayro_interpret::hayro_syntax::object::ObjectIdentifier>,
) {
    if depth > 16 {
        return;
    }
    if let Some(kids) = node.get::<Array>(b"Kids") {
        for kid in kids.iter::<Dict>() {
            collect_names(&kid, depth + 1, out, seen);
        }
    }
    let Some(names) = node.get::<Array>(b"Names") else { return };
    let mut entries = names.iter::<Object>();
    while let (Some(_key), Some(spec)) = (entries.next(), entries.next()) {
        let Some(spec) = spec.into_dict() else { continue };
        let name = spec
            .get::<PdfString>(b"UF")
            .or_else(|| spec.get::<PdfString>(b"F"))
            .map(|s| decode_text(s.as_bytes()))
            .unwrap_or_default();
        let Some(stream) = spec.get::<Dict>(b"EF").and_then(|ef| ef.get::<Stream>(b"F")) else { continue };
        let name_of = |n: Name| String::from_utf8_lossy(n.as_ref()).into_owned();
        let relationship = spec.get::<Name>(b"AFRelationship").map(name_of);
        let mime = stream.dict().get::<Name>(b"Subtype").map(name_of);
        if seen.contains(&stream.obj_id()) {
            continue;
        }
        seen.push(stream.obj_id());
        let held: usize = out.iter().map(|a| a.bytes.len()).sum();
        if let Ok(bytes) = stream.decoded()
            && held + bytes.len() <= MAX_ATTACHMENT_BYTES
        {
            out.push(Attachment { name, bytes: bytes.into_owned(), relationship, mime });
        }
    }
}

/// PDF text strings are UTF-16BE with a BOM, or PDFDocEncoding (ASCII here).
pub(crate) fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    bytes.iter().map(|&b| b as char).collect()
}

/// The text of every page's content, with where each character stands.
pub fn pages(pdf: &Pdf) -> Vec<Page> {
    interpret_pages(pdf, |device: TextDevice, media| Page {
        text: device.text,
        width: media.width(),
        height: media.height(),
        chars: device.chars,
    })
}

/// Runs every page's content (not its annotations) through a fresh device;
/// `done` gets the device and the page's media box.
pub fn interpret_pages<D, T>(pdf: &Pdf, mut done: impl FnMut(D, kurbo::Rect) -> T) -> Vec<T>
where
    D: for<'a> Device<'a> + Default,
{
    let mut out = vec![];
    let _ = each_page(
        pdf,
        |_| D::default(),
        |device, media, _| -> Result<(), std::convert::Infallible> {
            out.push(done(device, media));
            Ok(())
        },
    );
    out
}

/// Runs the pages of a PDF one at a time through a device made for each
/// from its dictionary (their content, not their annotations); `done` gets
/// the device, the page's media box and whether the page was read to its
/// end (a panic inside the reader on a damaged page stops that page only),
/// and may stop the reading.
pub fn each_page<D, E>(
    pdf: &Pdf,
    mut start: impl FnMut(&Dict) -> D,
    mut done: impl FnMut(D, kurbo::Rect, bool) -> Result<(), E>,
) -> Result<(), E>
where
    D: for<'a> Device<'a>,
{
    let cache = InterpreterCache::new();
    let settings = InterpreterSettings { render_annotations: false, ..InterpreterSettings::default() };
    for page in pdf.pages().iter() {
        let media = page.media_box().to_kurbo();
        let mut context = Context::new(Affine::IDENTITY, media, &cache, pdf.xref(), settings.clone());
        let mut device = start(page.raw());
        let whole = crate::files::guard::catch(|| interpret_page(page, &mut context, &mut device)).is_ok();
        done(device, media, whole)?;
    }
    Ok(())
}

/// A device that keeps the Unicode text of the glyphs it is asked to draw.
#[derive(Default)]
struct TextDevice {
    text: String,
    chars: Vec<(char, kurbo::Point)>,
}

impl<'a> Device<'a> for TextDevice {
    fn set_soft_mask(&mut self, _: Option<SoftMask<'a>>) {}
    fn set_blend_mode(&mut self, _: BlendMode) {}
    fn draw_path(&mut self, _: &BezPath, _: Affine, _: &Paint<'a>, _: &PathDrawMode) {}
    fn push_clip_path(&mut self, _: &ClipPath) {}
    fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'a>>, _: BlendMode) {}
    fn draw_glyph(
        &mut self,
        glyph: &hayro_interpret::font::Glyph<'a>,
        transform: Affine,
        glyph_transform: Affine,
        _: &Paint<'a>,
        _: &GlyphDrawMode,
    ) {
        let origin = (transform * glyph_transform) * kurbo::Point::ORIGIN;
        let text = match glyph.as_unicode() {
            Some(hayro_interpret::hayro_cmap::BfString::Char(c)) => c.to_string(),
            Some(hayro_interpret::hayro_cmap::BfString::String(s)) => s,
            None => return,
        };
        self.text.push_str(&text);
        self.chars.extend(text.chars().filter(|c| !c.is_whitespace()).map(|c| (c, origin)));
    }
    fn draw_image(&mut self, _: Image<'a, '_>, _: Affine) {}
    fn pop_clip_path(&mut self) {}
    fn pop_transparency_group(&mut self) {}
}
