//! Where a visible signature goes: in the room the layout left for it in
//! the 签章区, above 填报日期 (the seal's place on the left stays free).
//! formpress records that room in the PDF as two named destinations, its top
//! left and bottom right corners (`layout::pdf::SIGN_AREA`), so the place
//! is the one the layout drew, whatever the form's text says: data that
//! mentions 填报单位（盖章） cannot move it. A PDF without them (another
//! maker, an older formpress) gets an invisible signature.

use crate::archival::inspect::Anchor;
use crate::archival::sign::Place;
use crate::layout::pdf::{DESTINATION_LIFT, SIGN_AREA};

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
