//! Where a visible signature goes: in the 签章区, found by its printed
//! label. The 签章区 formpress prints has 填报单位（盖章）：… on the left and
//! 填报日期：… on the right of one line, with room above both for the seal;
//! the signature takes the room above 填报日期 (the seal picture sits on the
//! left). Found by the text on the page, so it works for any PDF that prints
//! those labels, archive file or not; where no label is found the signature
//! is invisible.

use kurbo::Point;

use crate::archival::inspect::Page;
use crate::archival::sign::Place;

/// The label of the 签章区's left half (the seal's place).
const UNIT_LABEL: &str = "填报单位（盖章）";
/// The label on the same line, on the right.
const DATE_LABEL: &str = "填报日期";

const MM: f64 = 72.0 / 25.4;
/// The signature box: its size, and how far above the label's baseline it begins.
const WIDTH: f64 = 66.0 * MM;
const HEIGHT: f64 = 15.0 * MM;
const ABOVE: f64 = 5.0 * MM;

/// The place of the visible signature, on the last page that prints the label.
pub fn find(pages: &[Page]) -> Option<Place> {
    pages.iter().enumerate().rev().find_map(|(i, page)| {
        let unit = *positions(page, UNIT_LABEL).first()?;
        // 填报日期 on the same line, right of the unit label; else half the rest of the page to the right.
        let left = positions(page, DATE_LABEL)
            .into_iter()
            .find(|p| (p.y - unit.y).abs() < 2.0 && p.x > unit.x)
            .map_or(unit.x + (page.width - unit.x) / 2.0, |p| p.x);
        let right = (left + WIDTH).min(page.width - 5.0 * MM);
        let bottom = unit.y + ABOVE;
        let top = (bottom + HEIGHT).min(page.height);
        (right - left > 20.0 * MM && top - bottom > 8.0 * MM)
            .then_some(Place { page: i, rect: [left, bottom, right, top] })
    })
}

/// The 签章区 as formpress prints it, found by its label line: the last page
/// that prints 填报单位（盖章） with 填报日期 to its right on the same line,
/// and that line's baseline (points from the bottom). For the page of a PDF
/// whose data is not at hand (`scan --pdf`); the data's layout knows it exactly.
pub fn label_line(pages: &[Page]) -> Option<(usize, f64)> {
    pages.iter().enumerate().rev().find_map(|(i, page)| {
        let dates = positions(page, DATE_LABEL);
        positions(page, UNIT_LABEL)
            .into_iter()
            .rev()
            .find(|unit| dates.iter().any(|d| (d.y - unit.y).abs() < 2.0 && d.x > unit.x))
            .map(|unit| (i, unit.y))
    })
}

/// Where each occurrence of `label` begins (its first glyph's origin).
fn positions(page: &Page, label: &str) -> Vec<Point> {
    let wanted: Vec<char> = label.chars().filter(|c| !c.is_whitespace()).collect();
    page.chars
        .windows(wanted.len())
        .filter(|w| w.iter().map(|(c, _)| *c).eq(wanted.iter().copied()))
        .map(|w| w[0].1)
        .collect()
}
