//! Reading a PDF back (for `extract` and `verify`): its attached files and
//! the text printed on each page. Uses hayro, the PDF reader that is already
//! part of Typst's dependency tree.

use hayro_interpret::hayro_syntax::Pdf;
use hayro_interpret::hayro_syntax::object::{Array, Dict, Object, Stream, String as PdfString};
use hayro_interpret::{
    BlendMode, ClipPath, Context, Device, GlyphDrawMode, Image, InterpreterCache, InterpreterSettings, Paint,
    PathDrawMode, RectExt, SoftMask, interpret_page,
};
use kurbo::{Affine, BezPath};

pub struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

pub struct Inspected {
    pub attachments: Vec<Attachment>,
    /// The text of each page, in drawing order.
    pub pages: Vec<String>,
}

#[derive(Debug)]
pub enum InspectError {
    /// Over a limit of `pdfcheck`, found before the reader saw the file.
    Limit(crate::pdfcheck::PdfLimit),
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
    crate::pdfcheck::check(&bytes).map_err(InspectError::Limit)?;
    let pdf = Pdf::new(bytes).map_err(|e| InspectError::Unreadable(format!("{e:?}")))?;
    Ok(Inspected { attachments: attachments(&pdf), pages: texts(&pdf) })
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
        if seen.contains(&stream.obj_id()) {
            continue;
        }
        seen.push(stream.obj_id());
        let held: usize = out.iter().map(|a| a.bytes.len()).sum();
        if let Ok(bytes) = stream.decoded()
            && held + bytes.len() <= MAX_ATTACHMENT_BYTES
        {
            out.push(Attachment { name, bytes: bytes.into_owned() });
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

fn texts(pdf: &Pdf) -> Vec<String> {
    let cache = InterpreterCache::new();
    pdf.pages()
        .iter()
        .map(|page| {
            let mut context = Context::new(
                Affine::IDENTITY,
                page.media_box().to_kurbo(),
                &cache,
                pdf.xref(),
                InterpreterSettings::default(),
            );
            let mut device = TextDevice(String::new());
            interpret_page(page, &mut context, &mut device);
            device.0
        })
        .collect()
}

/// A device that keeps only the Unicode text of the glyphs it is asked to draw.
struct TextDevice(String);

impl<'a> Device<'a> for TextDevice {
    fn set_soft_mask(&mut self, _: Option<SoftMask<'a>>) {}
    fn set_blend_mode(&mut self, _: BlendMode) {}
    fn draw_path(&mut self, _: &BezPath, _: Affine, _: &Paint<'a>, _: &PathDrawMode) {}
    fn push_clip_path(&mut self, _: &ClipPath) {}
    fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'a>>, _: BlendMode) {}
    fn draw_glyph(
        &mut self,
        glyph: &hayro_interpret::font::Glyph<'a>,
        _: Affine,
        _: Affine,
        _: &Paint<'a>,
        _: &GlyphDrawMode,
    ) {
        match glyph.as_unicode() {
            Some(hayro_interpret::hayro_cmap::BfString::Char(c)) => self.0.push(c),
            Some(hayro_interpret::hayro_cmap::BfString::String(s)) => self.0.push_str(&s),
            None => {}
        }
    }
    fn draw_image(&mut self, _: Image<'a, '_>, _: Affine) {}
    fn pop_clip_path(&mut self) {}
    fn pop_transparency_group(&mut self) {}
}
