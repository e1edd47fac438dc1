//! Reading a PDF back (for `extract` and `verify`): its attached files, its
//! creator, and what each page shows: the text and every drawing (paths and
//! pictures). Uses hayro, the PDF reader that is already part of Typst's
//! dependency tree.

use std::hash::{Hash, Hasher};

use hayro_interpret::hayro_syntax::Pdf;
use hayro_interpret::hayro_syntax::object::{Array, Dict, Name, Object, Stream, String as PdfString};
use hayro_interpret::{
    BlendMode, ClipPath, Context, Device, GlyphDrawMode, Image, InterpreterCache, InterpreterSettings, Paint,
    PathDrawMode, RectExt, SoftMask, interpret_page,
};
use kurbo::{Affine, BezPath, PathEl, Shape};

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

/// What one page shows.
pub struct Page {
    /// The text, in drawing order.
    pub text: String,
    /// Every path and picture drawn, in drawing order.
    pub marks: Vec<Mark>,
    /// Page width in points.
    pub width: f64,
    /// Page height in points (marks are measured from the bottom left).
    pub height: f64,
    /// Each character of the text with its glyph's origin (points, from the
    /// bottom left): where a label is printed (`sign_place`).
    pub chars: Vec<(char, kurbo::Point)>,
}

/// One drawing on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub what: Drawn,
    /// Bounding box in points, rounded to 0.1 pt: left, bottom, right, top.
    pub bbox: [i64; 4],
    /// A digest of the outline and colour, or of the picture's data.
    pub digest: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Drawn {
    Fill,
    Stroke,
    Picture,
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
    Ok(Inspected { attachments: attachments(&pdf), pages: pages(&pdf), creator })
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
fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    bytes.iter().map(|&b| b as char).collect()
}

fn pages(pdf: &Pdf) -> Vec<Page> {
    interpret_pages_with(
        pdf,
        // Drawings inside signature boxes are left out: a signature added later is not the form.
        |page| PageDevice { skip: signature_boxes(page), ..PageDevice::default() },
        |device: PageDevice, media| Page {
            text: device.text,
            marks: device.marks,
            width: media.width(),
            height: media.height(),
            chars: device.chars,
        },
    )
}

/// Runs every page of a PDF through a fresh device; `done` gets the device
/// and the page's media box.
pub fn interpret_pages<D, T>(pdf: &Pdf, done: impl FnMut(D, kurbo::Rect) -> T) -> Vec<T>
where
    D: for<'a> Device<'a> + Default,
{
    interpret_pages_with(pdf, |_| D::default(), done)
}

/// `interpret_pages` with a device made for each page from its dictionary.
fn interpret_pages_with<D, T>(
    pdf: &Pdf,
    mut start: impl FnMut(&Dict) -> D,
    mut done: impl FnMut(D, kurbo::Rect) -> T,
) -> Vec<T>
where
    D: for<'a> Device<'a>,
{
    let cache = InterpreterCache::new();
    pdf.pages()
        .iter()
        .map(|page| {
            let media = page.media_box().to_kurbo();
            let mut context = Context::new(Affine::IDENTITY, media, &cache, pdf.xref(), InterpreterSettings::default());
            let mut device = start(page.raw());
            interpret_page(page, &mut context, &mut device);
            done(device, media)
        })
        .collect()
}

/// A device that keeps the Unicode text of the glyphs it is asked to draw,
/// and a record of every path and picture.
#[derive(Default)]
struct PageDevice {
    text: String,
    chars: Vec<(char, kurbo::Point)>,
    marks: Vec<Mark>,
    /// The boxes of digital signature widgets (`sign`): what is drawn wholly
    /// inside them is the signature's appearance, not the page's content.
    skip: Vec<kurbo::Rect>,
}

impl PageDevice {
    fn skipped(&self, b: kurbo::Rect) -> bool {
        self.skip.iter().any(|s| s.inflate(0.5, 0.5).contains_rect(b))
    }
}

/// The rectangles of the page's signature fields (widgets with /FT /Sig).
fn signature_boxes(page: &Dict) -> Vec<kurbo::Rect> {
    let Some(annots) = page.get::<Array>(b"Annots") else { return vec![] };
    annots
        .iter::<Dict>()
        .filter(|a| a.get::<Name>(b"FT").is_some_and(|ft| ft.as_ref() == b"Sig"))
        .filter_map(|a| a.get::<hayro_interpret::hayro_syntax::object::Rect>(b"Rect"))
        .map(|r| r.to_kurbo())
        .filter(|r| r.area() > 0.0)
        .collect()
}

/// Points in tenths, so that equal drawings compare equal despite float noise.
fn tenths(v: f64) -> i64 {
    (v * 10.0).round() as i64
}

impl<'a> Device<'a> for PageDevice {
    fn set_soft_mask(&mut self, _: Option<SoftMask<'a>>) {}
    fn set_blend_mode(&mut self, _: BlendMode) {}
    fn draw_path(&mut self, path: &BezPath, transform: Affine, paint: &Paint<'a>, mode: &PathDrawMode) {
        let path = transform * path.clone();
        let mut hasher = std::hash::DefaultHasher::new();
        for el in path.elements() {
            let points: &[kurbo::Point] = match el {
                PathEl::MoveTo(p) | PathEl::LineTo(p) => &[*p],
                PathEl::QuadTo(a, b) => &[*a, *b],
                PathEl::CurveTo(a, b, c) => &[*a, *b, *c],
                PathEl::ClosePath => &[],
            };
            points.len().hash(&mut hasher);
            for p in points {
                (tenths(p.x), tenths(p.y)).hash(&mut hasher);
            }
        }
        if let Paint::Color(c) = paint {
            c.to_rgba().to_rgba8().hash(&mut hasher);
        }
        let what = match mode {
            PathDrawMode::Fill(_) => Drawn::Fill,
            PathDrawMode::Stroke(s) => {
                tenths(f64::from(s.line_width)).hash(&mut hasher);
                Drawn::Stroke
            }
        };
        let b = path.bounding_box();
        if self.skipped(b) {
            return;
        }
        let bbox = [tenths(b.x0), tenths(b.y0), tenths(b.x1), tenths(b.y1)];
        self.marks.push(Mark { what, bbox, digest: hasher.finish() });
    }
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
        if self.skipped(kurbo::Rect::from_points(origin, origin)) {
            return;
        }
        let text = match glyph.as_unicode() {
            Some(hayro_interpret::hayro_cmap::BfString::Char(c)) => c.to_string(),
            Some(hayro_interpret::hayro_cmap::BfString::String(s)) => s,
            None => return,
        };
        self.text.push_str(&text);
        self.chars.extend(text.chars().filter(|c| !c.is_whitespace()).map(|c| (c, origin)));
    }
    fn draw_image(&mut self, image: Image<'a, '_>, transform: Affine) {
        // A picture is its data (as stored, undecoded) and where it lands.
        let mut hasher = std::hash::DefaultHasher::new();
        (image.width(), image.height()).hash(&mut hasher);
        if let Image::Raster(raster) = &image {
            raster.stream().raw_data().hash(&mut hasher);
        }
        let b = transform.transform_rect_bbox(kurbo::Rect::new(0.0, 0.0, 1.0, 1.0));
        if self.skipped(b) {
            return;
        }
        let bbox = [tenths(b.x0), tenths(b.y0), tenths(b.x1), tenths(b.y1)];
        self.marks.push(Mark { what: Drawn::Picture, bbox, digest: hasher.finish() });
    }
    fn pop_clip_path(&mut self) {}
    fn pop_transparency_group(&mut self) {}
}
