//! Reading the fingerprint QR code back from a scanned page, with rqrr (a
//! pure-Rust port of quirc).
//!
//! A page is searched as scanners deliver it: any resolution from 150 to
//! 600 dpi, a few degrees skewed, grey or colour, with a red seal or a
//! signature crossing the code. What the measurements (README, "scan") asked
//! for, and no more: coloured ink is dropped by taking each pixel's lightest
//! channel (red and blue ink become light, black stays black); big scans are
//! shrunk to about 200 dpi (rqrr's cost grows with the pixels, and a module of
//! 0.55 mm is still 4 pixels there); the bottom strip, where the footer puts
//! the code, is searched first, then the top (a page fed upside down), then
//! the whole page.

use image::{DynamicImage, GrayImage, Luma};

use crate::fingerprint::QR_PREFIX;

/// Longest side a page is searched at: an A4 page at about 200 dpi.
const WORK_SIDE: u32 = 2400;

/// The page as the decoder sees it: one grey level per pixel, the lightest
/// of the pixel's channels, so coloured ink (a red seal, a blue signature)
/// does not hide the black modules under it.
pub fn ink_grey(image: &DynamicImage) -> GrayImage {
    match image {
        DynamicImage::ImageLuma8(grey) => grey.clone(),
        DynamicImage::ImageRgb8(rgb) => lightest(rgb.width(), rgb.height(), rgb.as_raw(), 3),
        other => {
            let rgb = other.to_rgb8();
            lightest(rgb.width(), rgb.height(), rgb.as_raw(), 3)
        }
    }
}

/// Grey from interleaved samples: the lightest channel of each pixel.
pub fn lightest(width: u32, height: u32, samples: &[u8], channels: usize) -> GrayImage {
    let grey: Vec<u8> = samples.chunks_exact(channels).map(|px| px.iter().copied().max().unwrap_or(255)).collect();
    GrayImage::from_raw(width, height, grey).unwrap_or_else(|| GrayImage::new(width, height))
}

/// What was found on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// A formpress code: the payload as decoded.
    Code(String),
    /// QR codes were read, none of them formpress's (what the first says).
    Foreign(String),
    /// No QR code could be read.
    Nothing,
}

/// Finds and decodes the page's formpress QR code.
pub fn read(page: &GrayImage) -> Read {
    let factor = page.width().max(page.height()).div_ceil(WORK_SIDE).max(1);
    let shrunk;
    let work = if factor > 1 {
        shrunk = shrink(page, factor);
        &shrunk
    } else {
        page
    };
    let h = work.height();
    let strip = (h / 4).max(1);
    let mut foreign = None;
    for (y, height) in [(h - strip, strip), (0, strip), (0, h)] {
        for text in decode(work, y, height) {
            if text.starts_with(QR_PREFIX) {
                return Read::Code(text);
            }
            foreign.get_or_insert(text);
        }
    }
    foreign.map_or(Read::Nothing, Read::Foreign)
}

/// Every QR code decoded in the rows `y..y + height`.
fn decode(image: &GrayImage, y: u32, height: u32) -> Vec<String> {
    let width = image.width();
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width as usize, height as usize, |px, py| {
        image.get_pixel(px as u32, y + py as u32).0[0]
    });
    prepared.detect_grids().iter().filter_map(|grid| grid.decode().ok().map(|(_, text)| text)).collect()
}

/// The image reduced by `factor` in each direction, each pixel the mean of
/// the block it covers.
fn shrink(image: &GrayImage, factor: u32) -> GrayImage {
    let (w, h) = (image.width().div_ceil(factor), image.height().div_ceil(factor));
    GrayImage::from_fn(w, h, |x, y| {
        let (x0, y0) = (x * factor, y * factor);
        let (x1, y1) = ((x0 + factor).min(image.width()), (y0 + factor).min(image.height()));
        let mut sum = 0u32;
        for yy in y0..y1 {
            for xx in x0..x1 {
                sum += u32::from(image.get_pixel(xx, yy).0[0]);
            }
        }
        Luma([(sum / ((x1 - x0) * (y1 - y0))) as u8])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn red_ink_is_light_black_stays_black() {
        let grey = lightest(3, 1, &[200, 30, 30, 0, 0, 0, 255, 255, 255], 3);
        assert_eq!(grey.as_raw(), &vec![200, 0, 255]);
    }

    #[test]
    fn a_drawn_code_reads_back_at_any_scale() {
        let payload = format!("{QR_PREFIX}{}:2", "AB".repeat(32));
        let png = crate::fingerprint::qr_png(&payload).unwrap();
        let code = image::load_from_memory(&png).unwrap().to_luma8();
        // On a white page, 5 pixels per module, in the bottom right corner.
        let scaled = image::imageops::resize(&code, code.width() * 5, code.height() * 5, image::imageops::Nearest);
        let mut page = GrayImage::from_pixel(1240, 1754, Luma([255]));
        image::imageops::overlay(&mut page, &scaled, 1000, 1500);
        assert_eq!(read(&page), Read::Code(payload.clone()));
        // A big scan is shrunk before it is searched.
        let big = image::imageops::resize(&page, 4960, 7016, image::imageops::Nearest);
        assert_eq!(read(&big), Read::Code(payload));
        assert_eq!(read(&GrayImage::from_pixel(100, 100, Luma([255]))), Read::Nothing);
    }
}
