//! Reading the fingerprint QR code back from a scanned page, with rqrr (a
//! pure-Rust port of quirc).
//!
//! A page is searched as scanners deliver it: any resolution from 150 to
//! 600 dpi, a few degrees skewed, grey or colour, with a red seal or a
//! signature crossing the code. What the measurements (README, "scan") asked
//! for, and no more: coloured ink is dropped by taking each pixel's lightest
//! channel (red and blue ink become light, black stays black); big scans are
//! shrunk by a whole factor to 200–400 dpi (rqrr's cost grows with the
//! pixels, and a module of 0.55 mm is still 4 pixels at 200 dpi); the corner where the footer puts the
//! code is searched first, then the opposite corner (a page fed upside
//! down), then both strips, then the whole page; each region first as rqrr
//! binarises it, then cut at a few fixed grey levels (`variants`).

use image::{DynamicImage, GrayImage, Luma};

use crate::form::fingerprint::QR_PREFIX;

/// A page is shrunk by a whole factor of its longest side over this: an A4
/// page at 150–399 dpi is searched as it is, at 400–599 dpi at half, at 600
/// dpi at a third (200 dpi, where a 0.55 mm module is 4 pixels).
const WORK_SIDE: u32 = 2000;

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

/// A point of the page, in pixels.
pub type Corner = (f64, f64);

/// What was found on a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Read {
    /// A formpress code: the payload as decoded, and the code's corners on
    /// the page (top left, top right, bottom right, bottom left, as the code
    /// itself is turned): they tell how the page lies.
    Code(String, [Corner; 4]),
    /// QR codes were read, none of them formpress's (what the first says).
    Foreign(String),
    /// No QR code could be read.
    Nothing,
}

/// Finds and decodes the page's formpress QR code. A shrunk page that
/// gives nothing is searched once more a step less shrunk: noise decides
/// which pixels a cut keeps, and another scale gives other pixels.
pub fn read(page: &GrayImage) -> Read {
    let factor = (page.width().max(page.height()) / WORK_SIDE).max(1);
    let mut found = read_at(page, factor);
    if found == Read::Nothing && factor > 1 {
        found = read_at(page, factor - 1);
    }
    found
}

fn read_at(page: &GrayImage, factor: u32) -> Read {
    // A corner found at (x, y) in the shrunk region at (ox, oy) lies at the
    // middle of the block it was shrunk from.
    let f = f64::from(factor);
    let place = |corners: [rqrr::Point; 4], ox: u32, oy: u32| {
        corners.map(|c| {
            (
                (f64::from(c.x) + f64::from(ox)) * f + (f - 1.0) / 2.0,
                (f64::from(c.y) + f64::from(oy)) * f + (f - 1.0) / 2.0,
            )
        })
    };
    let shrunk;
    let work = if factor > 1 {
        shrunk = shrink(page, factor);
        &shrunk
    } else {
        page
    };
    let (w, h) = work.dimensions();
    let (qw, qh) = ((w / 2).max(1), (h / 4).max(1));
    // The footer's corner, the top corner of a page fed upside down, then
    // both strips whole (a landscape page, a skewed crop).
    let regions = [(w - qw, h - qh, qw, qh), (0, 0, qw, qh), (0, h - qh, w, qh), (0, 0, w, qh)];
    let mut foreign = None;
    for (x, y, rw, rh) in regions {
        let crop = image::imageops::crop_imm(work, x, y, rw, rh).to_image();
        for variant in variants(&crop) {
            for (text, corners) in decode(variant.as_ref().unwrap_or(&crop)) {
                if text.starts_with(QR_PREFIX) {
                    return Read::Code(text, place(corners, x, y));
                }
                foreign.get_or_insert(text);
            }
        }
    }
    match foreign {
        Some(text) => Read::Foreign(text),
        None => decode(work).into_iter().next().map_or(Read::Nothing, |(t, corners)| {
            if t.starts_with(QR_PREFIX) { Read::Code(t, place(corners, 0, 0)) } else { Read::Foreign(t) }
        }),
    }
}

/// The region as rqrr binarises it (`None`), then cut at grey levels set
/// from Otsu's level (which splits ink from paper, whatever the scanner's
/// brightness). rqrr's own threshold follows the local average, which a
/// seal's ring or heavy noise over the code throws off, and its decoding
/// of a noisy code is sensitive to the exact cut: on the measured scans
/// (README, `scan`), a cut at about half the Otsu level read the most, and
/// the levels around it read most of the rest.
fn variants(region: &GrayImage) -> impl Iterator<Item = Option<GrayImage>> + '_ {
    let otsu = u32::from(otsu(region));
    let mut levels: Vec<u8> = vec![];
    for sixteenths in [8, 6, 10, 9, 11, 7, 16] {
        let level = (otsu * sixteenths / 16) as u8;
        if !levels.contains(&level) {
            levels.push(level);
        }
    }
    std::iter::once(None).chain(levels.into_iter().map(move |level| {
        Some(GrayImage::from_fn(region.width(), region.height(), |x, y| {
            Luma([if region.get_pixel(x, y).0[0] <= level { 0 } else { 255 }])
        }))
    }))
}

/// Otsu's threshold: the grey level that best splits the histogram in two.
fn otsu(image: &GrayImage) -> u8 {
    let mut histogram = [0u64; 256];
    for p in image.pixels() {
        histogram[usize::from(p.0[0])] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let sum: f64 = histogram.iter().enumerate().map(|(i, &n)| i as f64 * n as f64).sum();
    let (mut below, mut below_sum, mut best, mut level) = (0u64, 0.0, 0.0, 128u8);
    for (i, &n) in histogram.iter().enumerate() {
        below += n;
        let above = total - below;
        if below == 0 || above == 0 {
            continue;
        }
        below_sum += i as f64 * n as f64;
        let (m0, m1) = (below_sum / below as f64, (sum - below_sum) / above as f64);
        let between = below as f64 * above as f64 * (m0 - m1).powi(2);
        if between > best {
            best = between;
            level = i as u8;
        }
    }
    level
}

/// Every QR code decoded in an image, with its corners.
fn decode(image: &GrayImage) -> Vec<(String, [rqrr::Point; 4])> {
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(image.width() as usize, image.height() as usize, |x, y| {
            image.get_pixel(x as u32, y as u32).0[0]
        });
    prepared.detect_grids().iter().filter_map(|grid| grid.decode().ok().map(|(_, text)| (text, grid.bounds))).collect()
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
        let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::Q).unwrap();
        let (n, colors) = (code.width() as u32, code.to_colors());
        // On a white page, 5 pixels per module, in the bottom right corner.
        let scaled = GrayImage::from_fn((n + 4) * 5, (n + 4) * 5, |x, y| {
            let (mx, my) = ((x / 5).wrapping_sub(2), (y / 5).wrapping_sub(2));
            let dark = mx < n && my < n && colors[(my * n + mx) as usize] == qrcode::Color::Dark;
            Luma([if dark { 0 } else { 255 }])
        });
        let mut page = GrayImage::from_pixel(1240, 1754, Luma([255]));
        image::imageops::overlay(&mut page, &scaled, 1000, 1500);
        let Read::Code(text, corners) = read(&page) else { panic!("not read") };
        assert_eq!(text, payload);
        // The code's modules start 2 modules (10 pixels) into the drawn square.
        let side = f64::from(n * 5);
        let near = |a: Corner, b: Corner| (a.0 - b.0).abs() <= 2.5 && (a.1 - b.1).abs() <= 2.5;
        // The far corner is an estimate (no finder pattern there): within a module.
        let within_module = |a: Corner, b: Corner| (a.0 - b.0).abs() <= 5.5 && (a.1 - b.1).abs() <= 5.5;
        assert!(
            near(corners[0], (1010.0, 1510.0)) && within_module(corners[2], (1010.0 + side, 1510.0 + side)),
            "{corners:?}"
        );
        // A big scan is shrunk before it is searched; corners come back in its pixels.
        let big = image::imageops::resize(&page, 4960, 7016, image::imageops::Nearest);
        let Read::Code(text, big_corners) = read(&big) else { panic!("not read") };
        assert_eq!(text, payload);
        assert!((big_corners[0].0 - 4.0 * corners[0].0).abs() < 8.0, "{big_corners:?} against {corners:?}");
        assert_eq!(read(&GrayImage::from_pixel(100, 100, Luma([255]))), Read::Nothing);
    }
}
