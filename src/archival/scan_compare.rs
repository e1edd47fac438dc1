//! A scanned page compared with the page formpress draws for it.
//!
//! Registration: the QR code's four corners, read on the scan and on the
//! drawn page, give the turn, scale and place of the scan (a similarity);
//! then tiles of the drawn page where table rules cross are found again on
//! the scan, and their shifts give an affine correction (least squares,
//! outliers left out), so that the whole page lines up to a fraction of a
//! millimetre, not only the corner with the code.
//!
//! Comparison, at `DPI`: ink on the scan where the form prints none within
//! half a millimetre is a change (a digit written over, a struck-out row, a
//! note); printed ink missing from the scan within half a millimetre is a
//! change too (a blank page carrying only a QR code, a page of another form).
//! Expected ink is not: anything in the 签章区 (signatures, the unit's seal),
//! the right margin (the 骑缝章), and a seal's ring wherever it is pressed
//! (found as a circle of ink; in a colour scan only its red ink). Patches too
//! small to be writing (scanner noise) are left out. Each change is named by
//! the cell of the data's page it falls in.

use image::GrayImage;

use crate::archival::qr_read::{self, Corner};
use crate::archival::raster::{self, Raster};
use crate::archival::{inspect, pixel_diff, sign_place};
use crate::inputs::scans::Inks;
use crate::layout::ink::Rect;
use crate::layout::page_map::{PageMap, Where};

/// The resolution pages are compared at.
pub const DPI: f64 = 100.0;
/// The resolution the drawn page's QR code is read at.
const QR_DPI: f64 = 200.0;

const PX_PER_MM: f64 = DPI / 25.4;

/// One page of the form as drawn, ready for scans of it.
pub struct RefPage {
    w: usize,
    h: usize,
    /// Darkness (0 paper … 255 black) of black ink, and of any ink.
    black: Vec<u8>,
    any: Vec<u8>,
    /// The QR code's corners and what it says, when it could be read.
    pub qr: Option<([Corner; 4], String)>,
    pub map: PageMap,
}

/// Draws each page of the form's PDF for comparing scans with it; `maps`
/// name the cells (from the layout of the data), else the pages are known
/// by their size only.
pub fn reference(pdf: &[u8], maps: Option<Vec<PageMap>>) -> Result<Vec<RefPage>, String> {
    let doc = hayro::hayro_syntax::Pdf::new(pdf.to_vec()).map_err(|e| format!("{e:?}"))?;
    let cache = hayro::RenderCache::new();
    // Without the data's layout, the 签章区 is where the PDF prints its label line.
    let signed = if maps.is_none() { sign_place::label_line(&inspect::pages(&doc)) } else { None };
    let mut maps = maps.map(Vec::into_iter);
    let mut out = vec![];
    for (i, page) in doc.pages().iter().enumerate() {
        let (width, height) = raster::shown_size(page);
        let map = maps.as_mut().and_then(Iterator::next).unwrap_or_else(|| {
            let mut map = PageMap::blank(width, height, 18.0);
            if let Some((_, baseline)) = signed.filter(|(at, _)| *at == i) {
                // The label line stands 22 mm below the 签章区's top (templates/_shared/common.typ.j2).
                let top = height - baseline - 23.0 * 72.0 / 25.4;
                map.signature = Some(Rect { x0: map.body.x0, y0: top, x1: map.body.x1, y1: map.body.y1 });
            }
            map
        });
        let drawn = raster::draw(page, &cache, DPI / 72.0, false).ok_or("页面过大，无法绘制")?;
        let fine = raster::draw(page, &cache, QR_DPI / 72.0, false).ok_or("页面过大，无法绘制")?;
        let fine_grey = GrayImage::from_fn(fine.width as u32, fine.height as u32, |x, y| {
            image::Luma([fine.at(x as usize, y as usize).into_iter().max().unwrap_or(255)])
        });
        let scale = DPI / QR_DPI;
        let qr = match qr_read::read(&fine_grey) {
            qr_read::Read::Code(text, corners) => Some((corners.map(|(x, y)| (x * scale, y * scale)), text)),
            _ => None,
        };
        let (black, any) = darkness(&drawn);
        out.push(RefPage { w: drawn.width, h: drawn.height, black, any, qr, map });
    }
    Ok(out)
}

/// Darkness of black ink (the lightest channel) and of any ink (the darkest).
fn darkness(r: &Raster) -> (Vec<u8>, Vec<u8>) {
    r.rgb.chunks_exact(3).map(|p| (255 - p.iter().max().unwrap_or(&255), 255 - p.iter().min().unwrap_or(&255))).unzip()
}

/// What differs on a scanned page, at one place of the form.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// Where, as the form names it (`第 1 页「任务1」行「合计」栏…`).
    pub at: String,
    /// Ink was added (else printed ink is missing).
    pub added: bool,
    /// How much, in square millimetres.
    pub area: u32,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        if self.added {
            write!(f, "{}：扫描件上多了字迹或涂改（约 {} 平方毫米）", self.at, self.area)
        } else {
            write!(f, "{}：印好的内容在扫描件上看不到（约 {} 平方毫米）", self.at, self.area)
        }
    }
}

/// Why a scan could not be laid over the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unregistered {
    /// The drawn page's QR code could not be read (a form without one).
    NoReference,
    /// The corners found do not make a plausible page.
    Implausible,
}

/// A 2×3 affine map: (x, y) → (a x + b y + c, d x + e y + f).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Affine([f64; 6]);

impl Affine {
    fn apply(&self, (x, y): (f64, f64)) -> (f64, f64) {
        let m = self.0;
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }

    /// `self` after `inner`.
    fn after(&self, inner: &Affine) -> Affine {
        let (a, b) = (self.0, inner.0);
        Affine([
            a[0] * b[0] + a[1] * b[3],
            a[0] * b[1] + a[1] * b[4],
            a[0] * b[2] + a[1] * b[5] + a[2],
            a[3] * b[0] + a[4] * b[3],
            a[3] * b[1] + a[4] * b[4],
            a[3] * b[2] + a[4] * b[5] + a[5],
        ])
    }
}

/// The similarity (turn, scale, shift) that best takes `from` onto `to`.
fn similarity(from: &[Corner], to: &[Corner]) -> Affine {
    let n = from.len() as f64;
    let mean = |ps: &[Corner]| (ps.iter().map(|p| p.0).sum::<f64>() / n, ps.iter().map(|p| p.1).sum::<f64>() / n);
    let (fm, tm) = (mean(from), mean(to));
    let (mut re, mut im, mut norm) = (0.0, 0.0, 0.0);
    for (f, t) in from.iter().zip(to) {
        let (fx, fy, tx, ty) = (f.0 - fm.0, f.1 - fm.1, t.0 - tm.0, t.1 - tm.1);
        re += tx * fx + ty * fy;
        im += ty * fx - tx * fy;
        norm += fx * fx + fy * fy;
    }
    let (a, b) = (re / norm.max(1e-9), im / norm.max(1e-9));
    Affine([a, -b, tm.0 - a * fm.0 + b * fm.1, b, a, tm.1 - b * fm.0 - a * fm.1])
}

/// The affine map that best takes `from` onto `to` (at least three points).
fn affine(from: &[Corner], to: &[Corner]) -> Option<Affine> {
    // Normal equations of x' = a x + b y + c (and y' alike).
    let mut m = [[0.0f64; 3]; 3];
    let (mut vx, mut vy) = ([0.0f64; 3], [0.0f64; 3]);
    for (f, t) in from.iter().zip(to) {
        let row = [f.0, f.1, 1.0];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += row[i] * row[j];
            }
            vx[i] += row[i] * t.0;
            vy[i] += row[i] * t.1;
        }
    }
    let (x, y) = (solve3(m, vx)?, solve3(m, vy)?);
    Some(Affine([x[0], x[1], x[2], y[0], y[1], y[2]]))
}

/// Solves a 3×3 linear system (Cramer's rule).
fn solve3(m: [[f64; 3]; 3], v: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(m);
    if d.abs() < 1e-9 {
        return None;
    }
    let mut out = [0.0; 3];
    for (k, o) in out.iter_mut().enumerate() {
        let mut mk = m;
        for i in 0..3 {
            mk[i][k] = v[i];
        }
        *o = det(mk) / d;
    }
    Some(out)
}

/// The channel sampled at each reference pixel through `t` (bilinear);
/// `outside` beyond the scan.
fn warp(image: &GrayImage, t: &Affine, w: usize, h: usize, outside: u8) -> Vec<u8> {
    let (iw, ih) = (image.width() as i64, image.height() as i64);
    let raw = image.as_raw();
    let at = |x: i64, y: i64| {
        if x < 0 || y < 0 || x >= iw || y >= ih { f64::from(outside) } else { f64::from(raw[(y * iw + x) as usize]) }
    };
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let (u, v) = t.apply((x as f64, y as f64));
            let (x0, y0) = (u.floor(), v.floor());
            let (fx, fy) = (u - x0, v - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
            let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
            out.push((top * (1.0 - fy) + bottom * fy).round() as u8);
        }
    }
    out
}

/// A scan channel turned into darkness, from its own paper and ink levels
/// (scanners differ in brightness and contrast).
fn normalised(values: &[u8], reference_ink: &[u8]) -> Vec<u8> {
    let mut histogram = [0usize; 256];
    for &v in values {
        histogram[usize::from(v)] += 1;
    }
    let level = |share: f64| {
        let wanted = (values.len() as f64 * share) as usize;
        let mut seen = 0;
        (0..256).find(|&i| {
            seen += histogram[i];
            seen > wanted
        })
    };
    // Paper: a light level most of the page reaches; ink: as dark as the printed share of the page.
    let printed = reference_ink.iter().filter(|&&d| d > 128).count() as f64 / values.len().max(1) as f64;
    let paper = level(0.5).unwrap_or(255) as f64;
    let ink = level((printed * 0.3).max(0.002)).unwrap_or(0) as f64;
    let span = (paper - ink).max(60.0);
    values.iter().map(|&v| ((paper - f64::from(v)) / span * 255.0).clamp(0.0, 255.0) as u8).collect()
}

/// The values blurred by a 5-tap binomial kernel both ways (about a pixel's
/// spread): misregistration and a bolder print move ink by a fraction of
/// a pixel, which this absorbs; a stroke added beside a printed one does not.
fn blur(values: &[u8], w: usize, h: usize) -> Vec<u16> {
    const K: [u32; 5] = [1, 4, 6, 4, 1];
    let mut rows = vec![0u32; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut sum = 0;
            for (k, weight) in K.iter().enumerate() {
                let xx = (x + k).saturating_sub(2).min(w - 1);
                sum += weight * u32::from(values[y * w + xx]);
            }
            rows[y * w + x] = sum;
        }
    }
    let mut out = vec![0u16; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut sum = 0;
            for (k, weight) in K.iter().enumerate() {
                let yy = (y + k).saturating_sub(2).min(h - 1);
                sum += weight * rows[yy * w + x];
            }
            out[y * w + x] = (sum / 256) as u16;
        }
    }
    out
}

/// Each pixel the largest value within `radius` pixels (a square).
fn spread(values: &[u8], w: usize, h: usize, radius: usize) -> Vec<u8> {
    spread_by(values, w, h, radius)
}

fn spread_by<T: Copy + Ord + Default>(values: &[T], w: usize, h: usize, radius: usize) -> Vec<T> {
    let mut rows = vec![T::default(); w * h];
    for y in 0..h {
        for x in 0..w {
            let (a, b) = (x.saturating_sub(radius), (x + radius).min(w - 1));
            rows[y * w + x] = values[y * w + a..=y * w + b].iter().copied().max().unwrap_or_default();
        }
    }
    let mut out = vec![T::default(); w * h];
    for y in 0..h {
        for x in 0..w {
            let (a, b) = (y.saturating_sub(radius), (y + radius).min(h - 1));
            out[y * w + x] = (a..=b).map(|yy| rows[yy * w + x]).max().unwrap_or_default();
        }
    }
    out
}

/// Tiles of the reference where rules cross, and where each lies on the
/// (roughly aligned) scan: the correction that lines the two up.
fn refine(r: &[u8], s: &[u8], w: usize, h: usize) -> Option<Affine> {
    const HALF: usize = 36;
    const REACH: i64 = 12;
    let step = (15.0 * PX_PER_MM) as usize;
    let mut from = vec![];
    let mut to = vec![];
    let mut cy = HALF + 8;
    while cy + HALF + 8 < h {
        let mut cx = HALF + 8;
        while cx + HALF + 8 < w {
            if let Some(shift) = tile_shift(r, s, w, h, cx, cy, HALF, REACH) {
                from.push((cx as f64, cy as f64));
                to.push((cx as f64 + shift.0, cy as f64 + shift.1));
            }
            cx += step;
        }
        cy += step;
    }
    // Fit, leave out tiles that disagree by more than 1.5 pixels, fit again.
    let mut fit = None;
    for _ in 0..3 {
        if from.len() < 6 {
            return fit;
        }
        let a = affine(&from, &to)?;
        let keep: Vec<bool> = from
            .iter()
            .zip(&to)
            .map(|(f, t)| {
                let p = a.apply(*f);
                (p.0 - t.0).hypot(p.1 - t.1) <= 1.5
            })
            .collect();
        fit = Some(a);
        if keep.iter().all(|k| *k) {
            break;
        }
        let mut i = 0;
        from.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        let mut i = 0;
        to.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }
    // A correction beyond a small turn or stretch is not one: the scan is not this page.
    let a = fit?;
    let plausible = (a.0[0] - 1.0).abs() < 0.03
        && (a.0[4] - 1.0).abs() < 0.03
        && a.0[1].abs() < 0.035
        && a.0[3].abs() < 0.035
        && a.0[2].abs() < 6.0 * PX_PER_MM
        && a.0[5].abs() < 6.0 * PX_PER_MM;
    plausible.then_some(a)
}

/// Where a tile of the reference (centred at cx, cy) best matches the scan:
/// its shift in pixels, to a fraction of one; none for a tile without rules
/// both ways or without a clear best place.
#[allow(clippy::too_many_arguments)]
fn tile_shift(
    r: &[u8],
    s: &[u8],
    w: usize,
    h: usize,
    cx: usize,
    cy: usize,
    half: usize,
    reach: i64,
) -> Option<(f64, f64)> {
    let (x0, y0, x1, y1) = (cx - half, cy - half, cx + half, cy + half);
    // Rules both ways: a row and a column mostly inked.
    let long = half;
    let row_rule = (y0..y1).any(|y| (x0..x1).filter(|&x| r[y * w + x] > 100).count() > long);
    let column_rule = (x0..x1).any(|x| (y0..y1).filter(|&y| r[y * w + x] > 100).count() > long);
    if !row_rule || !column_rule {
        return None;
    }
    let score = |dx: i64, dy: i64| -> f64 {
        let (mut sum, mut energy) = (0.0, 1.0);
        for y in y0..y1 {
            let sy = y as i64 + dy;
            if sy < 0 || sy >= h as i64 {
                continue;
            }
            for x in x0..x1 {
                let sx = x as i64 + dx;
                if sx < 0 || sx >= w as i64 {
                    continue;
                }
                let v = f64::from(s[sy as usize * w + sx as usize]);
                sum += f64::from(r[y * w + x]) * v;
                energy += v * v;
            }
        }
        sum / energy.sqrt()
    };
    let mut best = (f64::MIN, 0, 0);
    for dy in (-reach..=reach).step_by(2) {
        for dx in (-reach..=reach).step_by(2) {
            let v = score(dx, dy);
            if v > best.0 {
                best = (v, dx, dy);
            }
        }
    }
    for dy in best.2 - 1..=best.2 + 1 {
        for dx in best.1 - 1..=best.1 + 1 {
            let v = score(dx, dy);
            if v > best.0 {
                best = (v, dx, dy);
            }
        }
    }
    let (peak, dx, dy) = best;
    if dx.abs() >= reach || dy.abs() >= reach || peak <= 0.0 {
        return None;
    }
    // A parabola through the peak and its neighbours places it between pixels.
    let sub = |minus: f64, plus: f64| {
        let d = minus - 2.0 * peak + plus;
        if d.abs() < 1e-9 { 0.0 } else { ((minus - plus) / (2.0 * d)).clamp(-0.5, 0.5) }
    };
    Some((dx as f64 + sub(score(dx - 1, dy), score(dx + 1, dy)), dy as f64 + sub(score(dx, dy - 1), score(dx, dy + 1))))
}

/// Seals pressed on the page: circles of added ink 12–24 mm in radius
/// (centre and radius in pixels). Where the form prints, a seal's ring over
/// it is not added ink: a direction counts as inked there, but at least
/// two fifths of the ring must be added ink.
fn seals(added: &[bool], printed: &[bool], w: usize, h: usize) -> Vec<(f64, f64, f64)> {
    // At about a millimetre a cell.
    let k = PX_PER_MM.round().max(1.0) as usize;
    let (cw, ch) = (w.div_ceil(k), h.div_ceil(k));
    let mut cells = vec![false; cw * ch];
    let mut under = vec![false; cw * ch];
    for y in 0..h {
        for x in 0..w {
            if added[y * w + x] {
                cells[(y / k) * cw + x / k] = true;
            }
            if printed[y * w + x] {
                under[(y / k) * cw + x / k] = true;
            }
        }
    }
    let inked: Vec<(usize, usize)> = (0..cw * ch).filter(|&i| cells[i]).map(|i| (i % cw, i / cw)).collect();
    if inked.len() < 40 || inked.len() > 40_000 {
        return vec![];
    }
    let mm = k as f64 / PX_PER_MM;
    // Every circle that holds, with how much of it is inked; the best ones win.
    let mut candidates: Vec<(usize, (f64, f64, f64))> = vec![];
    for r_mm in (12..=24).step_by(2) {
        let r = r_mm as f64 / mm;
        let mut votes = vec![0u16; cw * ch];
        let steps = 72;
        for &(x, y) in &inked {
            for s in 0..steps {
                let a = s as f64 * std::f64::consts::TAU / steps as f64;
                let (vx, vy) = ((x as f64 - r * a.cos()).round(), (y as f64 - r * a.sin()).round());
                if vx >= 0.0 && vy >= 0.0 && (vx as usize) < cw && (vy as usize) < ch {
                    let i = vy as usize * cw + vx as usize;
                    votes[i] = votes[i].saturating_add(1);
                }
            }
        }
        let need = (std::f64::consts::TAU * r * 0.3) as u16;
        for (i, &v) in votes.iter().enumerate() {
            if v < need {
                continue;
            }
            let (x, y) = ((i % cw) as f64, (i / cw) as f64);
            // Ink all round: most of 72 directions have it on the circle.
            let near = |d: usize, layer: &[bool]| {
                let a = d as f64 * std::f64::consts::TAU / 72.0;
                (-1..=1).any(|dr| {
                    let rr = r + f64::from(dr) * 0.7;
                    let (px, py) = ((x + rr * a.cos()).round(), (y + rr * a.sin()).round());
                    px >= 0.0
                        && py >= 0.0
                        && (px as usize) < cw
                        && (py as usize) < ch
                        && layer[py as usize * cw + px as usize]
                })
            };
            let added_round = (0..72).filter(|&d| near(d, &cells)).count();
            let round = (0..72).filter(|&d| near(d, &cells) || near(d, &under)).count();
            if added_round >= 30 && round >= 56 {
                let circle = (x * k as f64 + k as f64 / 2.0, y * k as f64 + k as f64 / 2.0, r * k as f64);
                candidates.push((added_round * 2 + round, circle));
            }
        }
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut found: Vec<(f64, f64, f64)> = vec![];
    for (_, c) in candidates {
        if !found.iter().any(|f| (f.0 - c.0).hypot(f.1 - c.1) < f.2.max(c.2)) {
            found.push(c);
        }
    }
    found
}

/// Patches of a change smaller than this many pixels (1 mm²) are noise.
const MIN_PATCH: usize = 16;
/// The same in a black-and-white scan, whose threshold leaves specks of up
/// to 2 mm² along printed text (a digit changed by pen is larger).
const MIN_PATCH_BILEVEL: usize = 40;

/// Lays the scan over the page and names what differs. `corners` are the
/// scan's QR code corners, in the scan's own pixels (before `inks` shrank it).
pub fn compare(page: &RefPage, number: usize, inks: &Inks, corners: [Corner; 4]) -> Result<Vec<Change>, Unregistered> {
    let (w, h) = (page.w, page.h);
    let Some((ref_corners, _)) = &page.qr else { return Err(Unregistered::NoReference) };
    let f = f64::from(inks.factor);
    let scan_corners = corners.map(|(x, y)| ((x - (f - 1.0) / 2.0) / f, (y - (f - 1.0) / 2.0) / f));
    let coarse = similarity(ref_corners, &scan_corners);
    let scale = coarse.0[0].hypot(coarse.0[3]);
    let expected_scale = f64::from(inks.light.width().max(inks.light.height())) / w.max(h) as f64;
    if !(0.6..=1.6).contains(&(scale / expected_scale)) {
        return Err(Unregistered::Implausible);
    }
    let r_black = &page.black;
    let first = normalised(&warp(&inks.light, &coarse, w, h, 255), r_black);
    let t = match refine(r_black, &first, w, h) {
        Some(correction) => coarse.after(&correction),
        None => coarse,
    };
    let s_black = normalised(&warp(&inks.light, &t, w, h, 255), r_black);
    let s_any = normalised(&warp(&inks.dark, &t, w, h, 255), &page.any);
    // A seal's red, reaching over its edges (JPEG keeps colour at half resolution).
    let s_red = spread(&warp(&inks.red, &t, w, h, 0), w, h, 2);

    let px = |pt: f64| pt * DPI / 72.0;
    let border = (4.0 * PX_PER_MM) as usize;
    let in_border = |x: usize, y: usize| x < border || y < border || x + border >= w || y + border >= h;
    let in_rect = |r: &Rect, x: usize, y: usize| {
        let (x, y) = (x as f64, y as f64);
        px(r.x0) <= x && x <= px(r.x1) && px(r.y0) <= y && y <= px(r.y1)
    };
    // A 骑缝章 stamped across the right edge reaches a little into the body.
    let strip_from = px(page.map.body.x1) - 2.5 * PX_PER_MM;

    let r_any_near = spread(&page.any, w, h, 2);
    let s_black_near = spread(&s_black, w, h, 2);
    // Added ink: more ink around a pixel than the form prints there, once the
    // scan's print is weighed as bold as the form's (its gain, from where the
    // form prints).
    // The form's ink is taken where it is most within a pixel: what is left of
    // the registration shifts print by that much.
    let (r_blur, s_blur) = (spread_by(&blur(&page.any, w, h), w, h, 1), blur(&s_any, w, h));
    let (mut printed_ink, mut scanned_ink) = (1.0f64, 1.0f64);
    for i in 0..w * h {
        if r_blur[i] > 128 {
            printed_ink += f64::from(r_blur[i]);
            scanned_ink += f64::from(s_blur[i]);
        }
    }
    let gain = (scanned_ink / printed_ink).clamp(0.7, 2.0);
    let mut added = vec![false; w * h];
    let mut missing = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if in_border(x, y) {
                continue;
            }
            let excess = f64::from(s_blur[i]) - gain * f64::from(r_blur[i]);
            added[i] = s_any[i] >= 100 && (excess >= 80.0 || r_any_near[i] < 64);
            missing[i] = r_black[i] >= 140 && s_black_near[i] < 50;
        }
    }
    // Expected ink: seals wherever pressed (a colour scan: only their red),
    // the 签章区, and the right margin where the 骑缝章 goes.
    let printed: Vec<bool> = r_any_near.iter().map(|&v| v >= 64).collect();
    let rings = seals(&added, &printed, w, h);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !added[i] {
                continue;
            }
            let sealed = rings.iter().any(|&(cx, cy, r)| (x as f64 - cx).hypot(y as f64 - cy) <= r + 4.0 * PX_PER_MM)
                && (!inks.colour || s_red[i] > 40);
            let signed = page.map.signature.as_ref().is_some_and(|s| in_rect(s, x, y));
            if sealed || signed || x as f64 >= strip_from {
                added[i] = false;
            }
        }
    }
    let mut found: Vec<(String, bool, f64)> = vec![];
    let to_pt = |v: usize| v as f64 * 72.0 / DPI;
    // A patch is named by every cell it reaches (a struck-out row crosses several), in 4 mm steps.
    let chunk = (4.0 * PX_PER_MM) as usize;
    for (mask, is_added) in [(&added, true), (&missing, false)] {
        for patch in pixel_diff::patches(mask, w, h) {
            if patch.pixels < if inks.bilevel { MIN_PATCH_BILEVEL } else { MIN_PATCH } {
                continue;
            }
            for cy in (patch.y0..=patch.y1).step_by(chunk) {
                for cx in (patch.x0..=patch.x1).step_by(chunk) {
                    let (x1, y1) = ((cx + chunk).min(patch.x1 + 1), (cy + chunk).min(patch.y1 + 1));
                    let pixels = (cy..y1).flat_map(|y| (cx..x1).map(move |x| y * w + x)).filter(|&i| mask[i]).count();
                    if pixels == 0 {
                        continue;
                    }
                    let rect = Rect { x0: to_pt(cx), y0: to_pt(cy), x1: to_pt(x1), y1: to_pt(y1) };
                    let at = format!("第 {number} 页，{}", describe(&page.map.place(rect), rect));
                    let area = pixels as f64 / (PX_PER_MM * PX_PER_MM);
                    match found.iter_mut().find(|c| c.0 == at && c.1 == is_added) {
                        Some(c) => c.2 += area,
                        None => found.push((at, is_added, area)),
                    }
                }
            }
        }
    }
    // Rounded once summed; a cell that only a sliver of a patch reached is left to its neighbours.
    Ok(found
        .into_iter()
        .filter(|c| c.2 >= 0.3)
        .map(|(at, added, area)| Change { at, added, area: area.round().max(1.0) as u32 })
        .collect())
}

/// A place named by its cell, else by where it is on the page (mm from the top left).
fn describe(at: &Where, r: Rect) -> String {
    match at {
        Where::Body { near: None } | Where::Margin => {
            let mm = |pt: f64| pt * 25.4 / 72.0;
            format!("{at}（距页面左边 {:.0} mm、上边 {:.0} mm）", mm((r.x0 + r.x1) / 2.0), mm((r.y0 + r.y1) / 2.0))
        }
        _ => at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turned_and_scaled_square_is_found_again() {
        let from = [(10.0, 10.0), (30.0, 10.0), (30.0, 30.0), (10.0, 30.0)];
        let (c, s) = (0.05f64.cos() * 2.0, 0.05f64.sin() * 2.0);
        let to = from.map(|(x, y)| (c * x - s * y + 7.0, s * x + c * y - 3.0));
        let t = similarity(&from, &to);
        for (f, g) in from.iter().zip(&to) {
            let p = t.apply(*f);
            assert!((p.0 - g.0).abs() < 1e-6 && (p.1 - g.1).abs() < 1e-6);
        }
        let a = affine(&from, &to).unwrap();
        assert!((a.apply((50.0, 5.0)).0 - t.apply((50.0, 5.0)).0).abs() < 1e-6);
        let twice = t.after(&t);
        let p = twice.apply((1.0, 2.0));
        let q = t.apply(t.apply((1.0, 2.0)));
        assert!((p.0 - q.0).abs() < 1e-9 && (p.1 - q.1).abs() < 1e-9);
    }

    #[test]
    fn a_ring_of_ink_is_a_seal_a_line_is_not() {
        let (w, h) = (400, 400);
        let mut ink = vec![false; w * h];
        let r = 18.0 * PX_PER_MM;
        for s in 0..2000 {
            let a = f64::from(s) * std::f64::consts::TAU / 2000.0;
            let (x, y) = (200.0 + r * a.cos(), 200.0 + r * a.sin());
            ink[y as usize * w + x as usize] = true;
        }
        let found = seals(&ink, &vec![false; w * h], w, h);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!((found[0].0 - 200.0).abs() < 8.0 && (found[0].2 - r).abs() < 2.5 * PX_PER_MM, "{found:?}");
        let mut line = vec![false; w * h];
        for x in 0..w {
            line[100 * w + x] = true;
            line[(x * 7 / 8) * w + x] = true;
        }
        assert!(seals(&line, &vec![false; w * h], w, h).is_empty());
    }
}
