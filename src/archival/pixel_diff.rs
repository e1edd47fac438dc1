//! Two drawings of one page compared as pictures. A pixel differs when its
//! colour is further than `TOLERANCE` from every pixel around the same place
//! in the other drawing: an edge drawn a fraction of a pixel elsewhere
//! (anti-aliasing) is within reach, a changed digit, a hidden amount or a
//! recoloured seal is not. Differing pixels close together make one patch.

use crate::archival::raster::Raster;

/// Largest colour step (of 255, in any channel) taken for anti-aliasing.
pub const TOLERANCE: u8 = 40;

/// Differing pixels this close (in pixels) belong to one patch.
const JOIN: usize = 3;

/// A region where the drawings differ, in pixels from the top left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Patch {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
    /// How many pixels differ in it.
    pub pixels: usize,
}

/// Every patch where two drawings of the same size differ.
pub fn differences(a: &Raster, b: &Raster) -> Vec<Patch> {
    assert_eq!((a.width, a.height), (b.width, b.height), "drawings of one size");
    let (w, h) = (a.width, a.height);
    let mut differs = vec![false; w * h];
    let mut any = false;
    for y in 0..h {
        for x in 0..w {
            let (pa, pb) = (a.at(x, y), b.at(x, y));
            if pa == pb {
                continue;
            }
            if far_from_all(pa, b, x, y) || far_from_all(pb, a, x, y) {
                differs[y * w + x] = true;
                any = true;
            }
        }
    }
    if !any {
        return vec![];
    }
    patches(&differs, w, h)
}

/// Whether a colour is further than the tolerance from every pixel of
/// `other` within one pixel of (x, y).
fn far_from_all(colour: [u8; 3], other: &Raster, x: usize, y: usize) -> bool {
    for yy in y.saturating_sub(1)..=(y + 1).min(other.height - 1) {
        for xx in x.saturating_sub(1)..=(x + 1).min(other.width - 1) {
            let o = other.at(xx, yy);
            let step = (0..3).map(|i| colour[i].abs_diff(o[i])).max().unwrap_or(0);
            if step <= TOLERANCE {
                return false;
            }
        }
    }
    true
}

/// Groups of marked pixels, each reaching the next within `JOIN` pixels.
pub fn patches(marked: &[bool], w: usize, h: usize) -> Vec<Patch> {
    let mut seen = vec![false; w * h];
    let mut out = vec![];
    let mut stack = vec![];
    for start in 0..w * h {
        if !marked[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut p = Patch { x0: start % w, y0: start / w, x1: start % w, y1: start / w, pixels: 0 };
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            p.pixels += 1;
            p.x0 = p.x0.min(x);
            p.x1 = p.x1.max(x);
            p.y0 = p.y0.min(y);
            p.y1 = p.y1.max(y);
            for yy in y.saturating_sub(JOIN)..=(y + JOIN).min(h - 1) {
                for xx in x.saturating_sub(JOIN)..=(x + JOIN).min(w - 1) {
                    let j = yy * w + xx;
                    if marked[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(w: usize, h: usize, ink: &[(usize, usize, [u8; 3])]) -> Raster {
        let mut rgb = vec![255; 3 * w * h];
        for &(x, y, c) in ink {
            rgb[3 * (y * w + x)..3 * (y * w + x) + 3].copy_from_slice(&c);
        }
        Raster { width: w, height: h, scale: 1.0, rgb }
    }

    #[test]
    fn anti_aliasing_is_tolerated_new_ink_and_colour_are_not() {
        let grey = [128, 128, 128];
        let a = page(20, 10, &[(5, 5, [0, 0, 0]), (6, 5, grey)]);
        // The same edge a pixel over, in anti-aliased grey.
        let b = page(20, 10, &[(5, 5, [0, 0, 0]), (5, 6, grey), (6, 5, [110, 110, 110])]);
        assert!(differences(&a, &b).is_empty(), "{:?}", differences(&a, &b));
        // Ink where there was none: one patch for two pixels side by side.
        let c = page(20, 10, &[(5, 5, [0, 0, 0]), (6, 5, grey), (15, 2, [0, 0, 0]), (16, 2, [0, 0, 0])]);
        assert_eq!(differences(&a, &c), vec![Patch { x0: 15, y0: 2, x1: 16, y1: 2, pixels: 2 }]);
        // A red mark turned blue of about the same lightness.
        let red = page(20, 10, &[(5, 5, [200, 30, 30])]);
        let blue = page(20, 10, &[(5, 5, [30, 30, 200])]);
        assert_eq!(differences(&red, &blue).len(), 1);
    }
}
