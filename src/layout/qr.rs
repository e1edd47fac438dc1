//! The QR code printed on every page, drawn by formpress as vectors: one SVG
//! path per code, served to Typst by the World at `QR_DIR<page>.svg`.

use qrcode::EcLevel;
use qrcode::canvas::{Canvas, MaskPattern};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use crate::form::fingerprint::{Fingerprint, QR_PREFIX};

/// Modules of white around the code in the picture (the page around it is white too).
const QUIET: usize = 2;

/// Side of one QR module on paper.
pub const QR_MODULE_MM: f64 = 0.55;

/// Where the template finds the QR code of page n: `/assets/qr/<n>.svg`
/// (the World draws it on request, see `qr_file`).
pub const QR_DIR: &str = "/assets/qr/";

/// The QR codes of one form's pages, drawn on request (the World serves
/// them at `QR_DIR<page>.svg`) and kept.
///
/// The mask (the pattern QR lays over the data so that no area looks like a
/// finder mark) is chosen by scoring all eight on page 1's code; the pages
/// differ only in their last digits, so the others use the same one.
/// Scoring took most of the time of drawing a code.
pub struct PageCodes {
    hex: String,
    mask: OnceLock<Option<MaskPattern>>,
    drawn: Mutex<BTreeMap<usize, String>>,
}

impl PageCodes {
    pub fn new(hex: String) -> PageCodes {
        PageCodes { hex, mask: OnceLock::new(), drawn: Mutex::default() }
    }

    /// The SVG file of page `page`'s QR code.
    pub fn svg(&self, page: usize) -> Option<String> {
        let mut drawn = self.drawn.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(svg) = drawn.get(&page) {
            return Some(svg.clone());
        }
        let fp = Fingerprint { hex: self.hex.clone() };
        let mask = (*self.mask.get_or_init(|| best_mask(&fp.qr_payload(1))))?;
        let mut canvas = unmasked(&fp.qr_payload(page))?;
        canvas.apply_mask(mask);
        let svg = svg_of(&canvas.into_colors());
        drawn.insert(page, svg.clone());
        Some(svg)
    }

    /// Every code drawn so far, as (path, SVG): for writing beside `--typ` markup.
    pub fn drawn(&self) -> Vec<(String, String)> {
        let drawn = self.drawn.lock().unwrap_or_else(|e| e.into_inner());
        drawn.iter().map(|(page, svg)| (format!("{QR_DIR}{page}.svg"), svg.clone())).collect()
    }
}

/// A code's modules before masking: data, error correction and the fixed patterns.
fn unmasked(payload: &str) -> Option<Canvas> {
    let version = qr_version();
    let mut bits = qrcode::bits::Bits::new(version);
    bits.push_optimal_data(payload.as_bytes()).ok()?;
    bits.push_terminator(EcLevel::Q).ok()?;
    let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::Q).ok()?;
    let mut canvas = Canvas::new(version, EcLevel::Q);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ec);
    Some(canvas)
}

/// The mask the QR standard's penalty scores choose for `payload`.
fn best_mask(payload: &str) -> Option<MaskPattern> {
    let canvas = unmasked(payload)?;
    let best = canvas.apply_best_mask().into_colors();
    MASKS.into_iter().find(|&mask| {
        let mut c = canvas.clone();
        c.apply_mask(mask);
        c.into_colors() == best
    })
}

const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// The side of every page's QR code on paper, in millimetres. All pages use
/// the version that holds a five-digit page number, so the codes of page 9
/// and page 10 are the same size and the footer never moves.
pub fn qr_side_mm() -> f64 {
    (qr_version_width() + 2 * QUIET) as f64 * QR_MODULE_MM
}

fn qr_version() -> qrcode::Version {
    static VERSION: OnceLock<qrcode::Version> = OnceLock::new();
    *VERSION.get_or_init(|| {
        let longest = format!("{QR_PREFIX}{}:99999", "F".repeat(64));
        qrcode::QrCode::with_error_correction_level(longest.as_bytes(), EcLevel::Q)
            .expect("a short payload fits")
            .version()
    })
}

fn qr_version_width() -> usize {
    match qr_version() {
        qrcode::Version::Normal(v) => (17 + 4 * v) as usize,
        qrcode::Version::Micro(v) => (9 + 2 * v) as usize,
    }
}

/// The QR code as SVG: one path of filled rectangles, a run of dark modules
/// in a row each, in module units with a `QUIET`-module margin. Vectors
/// print and scan crisply at any resolution, where a small picture gets
/// blurred by scaling; one path per page keeps the markup small.
pub fn qr_svg(payload: &str) -> Option<String> {
    let code = qrcode::QrCode::with_version(payload.as_bytes(), qr_version(), EcLevel::Q).ok()?;
    Some(svg_of(&code.to_colors()))
}

fn svg_of(colors: &[qrcode::Color]) -> String {
    let n = qr_version_width();
    let side = n + 2 * QUIET;
    let mut d = String::new();
    // A hair taller than a module (0.02 mm), so rows meet without a seam.
    let tall = 1.0 + 0.02 / QR_MODULE_MM;
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if colors[y * n + x] != qrcode::Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < n && colors[y * n + x] == qrcode::Color::Dark {
                x += 1;
            }
            let _ = write!(d, "M{} {}h{}v{tall:.3}h-{}z", start + QUIET, y + QUIET, x - start, x - start);
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" width=\"{side}\" height=\"{side}\">\
         <path fill=\"#000\" d=\"{d}\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_share_a_mask_and_a_size() {
        let fp = Fingerprint { hex: "AB".repeat(32) };
        // Pages after the first take page 1's mask, and read back the same.
        let codes = PageCodes::new(fp.hex.clone());
        assert_eq!(codes.svg(1), qr_svg(&fp.qr_payload(1)));
        assert!(codes.svg(7).is_some_and(|svg| svg.contains("<path")));
        assert_eq!(codes.drawn().len(), 2);
        // Every page's code has the same size, so the footer never moves.
        let side = |p| qr_svg(&fp.qr_payload(p)).unwrap().split("viewBox=\"0 0 ").nth(1).unwrap()[..2].to_string();
        assert_eq!(side(1), side(99_999));
    }
}
