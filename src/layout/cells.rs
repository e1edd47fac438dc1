//! Where each marked cell landed, for the editor's preview: a click on a page
//! selects the cell there. Templates mark the cell of every value with its
//! data path (`fp-cell` metadata, only when `RenderOptions::cells` is set);
//! the cell's rectangle is the box of table rules around its marker, and its
//! text is what the page prints inside (so a blank total shows the sum the
//! form prints there).

use serde::Serialize;
use typst::foundations::{Label, Selector, Value};
use typst::introspection::{Introspector, MetadataElem};
use typst::layout::{Frame, FrameItem, Point, Transform};
use typst::utils::PicoStr;
use typst::visualize::Geometry;
use typst_layout::PagedDocument;

/// Label of the markers (see `_shared/common.typ.j2`, macro `at`).
pub const CELL_MARKER: &str = "fp-cell";

/// A marked cell on a page, in points from the page's top left.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CellBox {
    pub path: String,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    /// The text printed in the cell, lines joined by `\n`.
    pub text: String,
}

/// A table rule: at `at` (y of a horizontal rule, x of a vertical one), from `from` to `to`.
struct Rule {
    at: f64,
    from: f64,
    to: f64,
}

#[derive(Default)]
struct Page {
    horizontal: Vec<Rule>,
    vertical: Vec<Rule>,
    /// Text runs: origin (baseline start) and text.
    texts: Vec<(f64, f64, String)>,
}

/// Every marked cell of every page (outer index: page from 0).
pub fn cell_boxes(doc: &PagedDocument) -> Vec<Vec<CellBox>> {
    let mut out: Vec<Vec<CellBox>> = doc.pages().iter().map(|_| vec![]).collect();
    let Some(label) = Label::new(PicoStr::intern(CELL_MARKER)) else { return out };
    let introspector = doc.introspector();
    let mut pages: Vec<Option<Page>> = doc.pages().iter().map(|_| None).collect();
    for elem in introspector.query(&Selector::Label(label)) {
        let (Some(meta), Some(loc)) = (elem.to_packed::<MetadataElem>(), elem.location()) else { continue };
        let Value::Str(path) = &meta.value else { continue };
        let Some(at) = introspector.position(loc) else { continue };
        let i = at.page.get() - 1;
        let Some(slot) = pages.get_mut(i) else { continue };
        let page = slot.get_or_insert_with(|| {
            let mut p = Page::default();
            walk(&doc.pages()[i].frame, Transform::identity(), &mut p);
            p
        });
        let (mx, my) = (at.point.x.to_pt(), at.point.y.to_pt());
        if let Some(cell) = enclosing(page, mx, my, path.as_str()) {
            // A cell a page break cuts keeps one marker; one path may also mark several cells.
            out[i].push(cell);
        }
    }
    out
}

/// The box of rules around a point, and the text inside it.
fn enclosing(page: &Page, x: f64, y: f64, path: &str) -> Option<CellBox> {
    const SLACK: f64 = 0.01;
    let covers = |r: &Rule, v: f64| r.from - SLACK <= v && v <= r.to + SLACK;
    let left = page.vertical.iter().filter(|r| r.at <= x + SLACK && covers(r, y)).map(|r| r.at).reduce(f64::max)?;
    let right = page.vertical.iter().filter(|r| r.at > x + SLACK && covers(r, y)).map(|r| r.at).reduce(f64::min)?;
    let top = page.horizontal.iter().filter(|r| r.at <= y + SLACK && covers(r, x)).map(|r| r.at).reduce(f64::max)?;
    let bottom = page.horizontal.iter().filter(|r| r.at > y + SLACK && covers(r, x)).map(|r| r.at).reduce(f64::min)?;
    let mut runs: Vec<&(f64, f64, String)> =
        page.texts.iter().filter(|(tx, ty, _)| left <= *tx && *tx < right && top < *ty && *ty <= bottom).collect();
    runs.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.total_cmp(&b.0)));
    let mut text = String::new();
    let mut line: Option<f64> = None;
    for (_, ty, t) in runs {
        if line.is_some_and(|l| (ty - l).abs() > 2.0) {
            text.push('\n');
        }
        line = Some(*ty);
        text.push_str(t);
    }
    Some(CellBox { path: path.to_string(), x: left, y: top, w: right - left, h: bottom - top, text })
}

fn walk(frame: &Frame, ts: Transform, page: &mut Page) {
    for (pos, item) in frame.items() {
        let here = ts.pre_concat(Transform::translate(pos.x, pos.y));
        match item {
            FrameItem::Group(g) => walk(&g.frame, here.pre_concat(g.transform), page),
            FrameItem::Text(t) => {
                let o = Point::zero().transform(here);
                page.texts.push((o.x.to_pt(), o.y.to_pt(), t.text.to_string()));
            }
            FrameItem::Shape(shape, _) if shape.stroke.is_some() => {
                if let Geometry::Line(to) = &shape.geometry {
                    let (a, b) = (Point::zero().transform(here), to.transform(here));
                    let (ax, ay, bx, by) = (a.x.to_pt(), a.y.to_pt(), b.x.to_pt(), b.y.to_pt());
                    if (ax - bx).abs() < 0.01 {
                        page.vertical.push(Rule { at: ax, from: ay.min(by), to: ay.max(by) });
                    } else if (ay - by).abs() < 0.01 {
                        page.horizontal.push(Rule { at: ay, from: ax.min(bx), to: ax.max(bx) });
                    }
                }
            }
            _ => {}
        }
    }
}
