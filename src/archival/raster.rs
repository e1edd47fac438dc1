//! Pages drawn as a PDF viewer draws them, with hayro's rasteriser (already
//! built for typst-render): the crop box and rotation applied, clips, soft
//! masks, /Decode arrays, text render modes and colours as they are. What
//! `verify` compares, so that whatever a person sees on the page is what is
//! checked, however the file draws it.

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::page::Page;
use hayro::{RenderCache, RenderSettings};

/// A page as pixels: RGB, rows top down.
pub struct Raster {
    pub width: usize,
    pub height: usize,
    /// Pixels per PDF point.
    pub scale: f64,
    pub rgb: Vec<u8>,
}

impl Raster {
    /// The colour at a pixel.
    pub fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = 3 * (y * self.width + x);
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

/// Most pixels of one drawn page (A4 at 100 dpi is under a million; a page
/// box a hostile file makes huge is not drawn).
const MAX_PIXELS: f64 = 32e6;

/// The size a viewer shows the page at, in points (crop box, rotation).
pub fn shown_size(page: &Page) -> (f64, f64) {
    let (w, h) = page.render_dimensions();
    (f64::from(w), f64::from(h))
}

/// The page drawn at `scale` pixels per point on white paper; annotations
/// with an appearance stream drawn too when `annotations`. None when the
/// page would be too large to draw.
pub fn draw<'a>(page: &'a Page<'a>, cache: &RenderCache<'a>, scale: f64, annotations: bool) -> Option<Raster> {
    let (w, h) = shown_size(page);
    let (pw, ph) = ((w * scale).floor(), (h * scale).floor());
    if !(pw >= 1.0 && ph >= 1.0 && pw * ph <= MAX_PIXELS && pw < 65_535.0 && ph < 65_535.0) {
        return None;
    }
    let interpreter = InterpreterSettings { render_annotations: annotations, ..InterpreterSettings::default() };
    let settings = RenderSettings {
        x_scale: scale as f32,
        y_scale: scale as f32,
        width: Some(pw as u16),
        height: Some(ph as u16),
        bg_color: hayro::vello_cpu::color::palette::css::WHITE,
    };
    let pixmap = hayro::render(page, cache, &interpreter, &settings);
    // Drawn over opaque white, every pixel is opaque: premultiplied is plain RGB.
    let rgb = pixmap.data().iter().flat_map(|p| [p.r, p.g, p.b]).collect();
    Some(Raster { width: pixmap.width().into(), height: pixmap.height().into(), scale, rgb })
}
