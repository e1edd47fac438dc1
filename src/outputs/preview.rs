//! Page images of a laid-out form: PNG (typst-render) and SVG (typst-svg),
//! one file per page, for previews and visual checks.

use typst::utils::Scalar;
use typst_layout::PagedDocument;

/// Most pixels one PNG page may have: a page is rendered whole in memory at
/// 4 bytes a pixel (64 MP is 256 MB; an A4 page at 600 ppi is 35 MP).
pub const MAX_PAGE_PIXELS: f64 = 64_000_000.0;

#[derive(Debug)]
pub enum PreviewError {
    /// The page would take too much memory at this resolution.
    TooManyPixels {
        page: usize,
        width: u64,
        height: u64,
        max_ppi: u32,
    },
    Encode(String),
}

impl std::fmt::Display for PreviewError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            PreviewError::TooManyPixels { page, width, height, max_ppi } => write!(
                f,
                "第 {page} 页在此分辨率下有 {width}×{height} 像素，超过上限 {} 万像素；请用 --ppi {max_ppi} 或更小",
                MAX_PAGE_PIXELS as u64 / 10_000
            ),
            PreviewError::Encode(e) => write!(f, "PNG 编码失败：{e}"),
        }
    }
}

/// Each page as PNG at `ppi` pixels per inch; refused before any pixel is
/// allocated when a page would be too large.
pub fn png_pages(doc: &PagedDocument, ppi: f64) -> Result<Vec<Vec<u8>>, PreviewError> {
    for (i, page) in doc.pages().iter().enumerate() {
        let size = page.frame.size();
        let (w, h) = (size.x.to_pt() * ppi / 72.0, size.y.to_pt() * ppi / 72.0);
        if w * h > MAX_PAGE_PIXELS {
            let max_ppi = (ppi * (MAX_PAGE_PIXELS / (w * h)).sqrt()).floor() as u32;
            return Err(PreviewError::TooManyPixels {
                page: i + 1,
                width: w.ceil() as u64,
                height: h.ceil() as u64,
                max_ppi,
            });
        }
    }
    let options = typst_render::RenderOptions { pixel_per_pt: Scalar::new(ppi / 72.0), render_bleed: false };
    doc.pages()
        .iter()
        .map(|page| typst_render::render(page, &options).encode_png().map_err(|e| PreviewError::Encode(e.to_string())))
        .collect()
}

/// One page as PNG at `pixel_per_pt`, compressed for speed rather than size:
/// the editor's live preview, drawn at the size it is shown (decoding an SVG
/// page of glyph outlines takes a browser longer than this takes).
pub fn png_page(page: &typst_layout::Page, pixel_per_pt: f64) -> Result<Vec<u8>, PreviewError> {
    let options = typst_render::RenderOptions { pixel_per_pt: Scalar::new(pixel_per_pt), render_bleed: false };
    let pixmap = typst_render::render(page, &options);
    let mut out = vec![];
    let mut encoder = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fastest);
    let encode = |e: png::EncodingError| PreviewError::Encode(e.to_string());
    let mut writer = encoder.write_header().map_err(encode)?;
    // Pages are opaque, so premultiplied and straight alpha are the same bytes.
    writer.write_image_data(pixmap.data()).map_err(encode)?;
    writer.finish().map_err(encode)?;
    Ok(out)
}

/// Each page as an SVG document.
pub fn svg_pages(doc: &PagedDocument) -> Vec<String> {
    let options = typst_svg::SvgOptions::default();
    doc.pages().iter().map(|page| typst_svg::svg(page, &options)).collect()
}
