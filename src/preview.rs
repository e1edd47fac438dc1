//! Page images of a laid-out form: PNG (typst-render) and SVG (typst-svg),
//! one file per page, for previews and visual checks.

use typst::utils::Scalar;
use typst_layout::PagedDocument;

/// Each page as PNG at `ppi` pixels per inch.
pub fn png_pages(doc: &PagedDocument, ppi: f64) -> Result<Vec<Vec<u8>>, String> {
    let options = typst_render::RenderOptions { pixel_per_pt: Scalar::new(ppi / 72.0), render_bleed: false };
    doc.pages()
        .iter()
        .map(|page| typst_render::render(page, &options).encode_png().map_err(|e| e.to_string()))
        .collect()
}

/// Each page as an SVG document.
pub fn svg_pages(doc: &PagedDocument) -> Vec<String> {
    let options = typst_svg::SvgOptions::default();
    doc.pages().iter().map(|page| typst_svg::svg(page, &options)).collect()
}
