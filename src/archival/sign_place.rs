//! Where a visible signature goes: in the room the layout left for it in
//! the 签章区, above 填报日期 (the seal's place on the left stays free).
//! formpress records that room in the PDF as two named destinations, its top
//! left and bottom right corners (`layout::pdf::SIGN_AREA`), so the place
//! is the one the layout drew, whatever the form's text says: data that
//! mentions 填报单位（盖章） cannot move it. A PDF without them (another
//! maker, an older formpress) gets an invisible signature.

use kurbo::Point;

use crate::archival::inspect::{Anchor, Page};
use crate::archival::sign::Place;
use crate::layout::pdf::{DESTINATION_LIFT, SIGN_AREA};

/// The label of the 签章区's left half and the one right of it on its line:
/// how `scan --pdf` finds the 签章区 of a page without its data.
const UNIT_LABEL: &str = "填报单位（盖章）";
const DATE_LABEL: &str = "填报日期";

const MM: f64 = 72.0 / 25.4;
/// The signature box is at most this wide (the appearance is drawn for it).
const WIDTH: f64 = 66.0 * MM;

/// The place of the visible signature, from the recorded corners of the 签章区.
pub fn find(anchors: &[Anchor]) -> Option<Place> {
    let corner = |name: &str| anchors.iter().find(|a| a.name == name);
    let (top_left, bottom_right) = (corner(SIGN_AREA[0])?, corner(SIGN_AREA[1])?);
    if top_left.page != bottom_right.page {
        return None;
    }
    // typst-pdf writes each destination a little above its element.
    let (left, top) = (top_left.x, top_left.y - DESTINATION_LIFT);
    let (right, bottom) = (bottom_right.x.min(left + WIDTH), bottom_right.y - DESTINATION_LIFT);
    (right - left > 20.0 * MM && top - bottom > 8.0 * MM)
        .then_some(Place { page: top_left.page, rect: [left, bottom, right, top] })
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
