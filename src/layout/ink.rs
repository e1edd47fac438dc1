//! What the laid-out pages show, for the checks after layout: text that runs
//! off the page body (lost under the footer or off the paper) or across a
//! table rule (overprinting the next cell). The layout passes use it to find
//! rows too tall for a page; the final check refuses to write a PDF that has
//! any.

use std::collections::{BTreeSet, HashMap};

use typst::layout::{Abs, Frame, FrameItem, Point, Transform};
use typst::visualize::Geometry;
use typst_layout::PagedDocument;

/// A run of text drawn where it does not belong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stray {
    /// 1-based page.
    pub page: usize,
    /// The text run the misplaced glyphs belong to.
    pub text: String,
    /// Off the page body (else: across a table rule).
    pub off_body: bool,
}

/// Rules thinner than this count as table lines, not filled shapes.
const RULE_SLACK: f64 = 0.25;

/// A box on the page, in points from its top left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

/// A straight rule: `at` on one axis, from `from` to `to` on the other.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    pub at: f64,
    pub from: f64,
    pub to: f64,
}

/// Glyph bounding boxes by font and glyph: a CFF glyph's box takes
/// outlining it, and a form uses each character many times.
pub(crate) type GlyphBoxes = HashMap<(u128, u16), Option<ttf_parser::Rect>>;

/// What the body of one page shows.
#[derive(Default)]
pub(crate) struct Ink {
    boxes: GlyphBoxes,
    /// The core of every visible glyph (page coordinates, points), its run,
    /// and its text's byte range in the run.
    pub glyphs: Vec<(Rect, usize, (usize, usize))>,
    pub runs: Vec<String>,
    /// Vertical and horizontal table rules, each sorted by `at`.
    pub vertical: Vec<Rule>,
    pub horizontal: Vec<Rule>,
}

/// The page body's area and what it shows; `boxes` carries glyph boxes from page to page.
fn page_ink(page: &Frame, boxes: &mut GlyphBoxes) -> Option<(Rect, Ink)> {
    let (origin, body) = body(page)?;
    let ink = collect(body, Transform::translate(origin.x, origin.y), boxes);
    let area = Rect {
        x0: origin.x.to_pt(),
        y0: origin.y.to_pt(),
        x1: (origin.x + body.width()).to_pt(),
        y1: (origin.y + body.height()).to_pt(),
    };
    Some((area, ink))
}

/// Everything a whole page shows, footer included.
pub(crate) fn whole_page(page: &Frame, boxes: &mut GlyphBoxes) -> Ink {
    collect(page, Transform::identity(), boxes)
}

fn collect(frame: &Frame, ts: Transform, boxes: &mut GlyphBoxes) -> Ink {
    let mut ink = Ink { boxes: std::mem::take(boxes), ..Ink::default() };
    walk(frame, ts, &mut ink);
    *boxes = std::mem::take(&mut ink.boxes);
    ink.vertical.sort_by(|a, b| a.at.total_cmp(&b.at));
    ink.horizontal.sort_by(|a, b| a.at.total_cmp(&b.at));
    ink
}

/// Pages (1-based) whose body content runs below the body: a row too tall for them.
pub fn overflowing_pages(strays: &[Stray]) -> BTreeSet<usize> {
    strays.iter().filter(|s| s.off_body).map(|s| s.page).collect()
}

/// Every run of text with a glyph off the page body or across a table rule.
pub fn strays(doc: &PagedDocument) -> Vec<Stray> {
    let mut out = vec![];
    let mut boxes = HashMap::new();
    for (i, page) in doc.pages().iter().enumerate() {
        let Some((area, ink)) = page_ink(&page.frame, &mut boxes) else { continue };
        let mut seen = BTreeSet::new();
        for &(g, run, _) in &ink.glyphs {
            let off_body = g.x0 < area.x0 - 0.5 || g.x1 > area.x1 + 0.5 || g.y1 > area.y1 + 0.5 || g.y0 < area.y0 - 0.5;
            let crossed =
                crosses(&ink.vertical, g.x0, g.x1, g.y0, g.y1) || crosses(&ink.horizontal, g.y0, g.y1, g.x0, g.x1);
            if (off_body || crossed) && seen.insert((run, off_body)) {
                out.push(Stray { page: i + 1, text: ink.runs[run].clone(), off_body });
            }
        }
    }
    out
}

/// Whether a rule sorted by `at` lies strictly inside (lo, hi) and overlaps (from, to).
pub(crate) fn crosses(rules: &[Rule], lo: f64, hi: f64, from: f64, to: f64) -> bool {
    let start = rules.partition_point(|r| r.at <= lo);
    rules[start..].iter().take_while(|r| r.at < hi).any(|r| r.from < to && r.to > from)
}

/// The page body: the largest group below the top edge (the footer is
/// smaller; background and foreground sit at the page origin).
fn body(page: &Frame) -> Option<(Point, &Frame)> {
    page.items()
        .filter_map(|(pos, item)| match item {
            FrameItem::Group(g) if pos.y > Abs::zero() && g.transform.is_identity() => Some((*pos, &g.frame)),
            _ => None,
        })
        .max_by(|a, b| a.1.height().to_pt().total_cmp(&b.1.height().to_pt()))
}

fn walk(frame: &Frame, ts: Transform, ink: &mut Ink) {
    for (pos, item) in frame.items() {
        let here = ts.pre_concat(Transform::translate(pos.x, pos.y));
        match item {
            FrameItem::Group(g) => walk(&g.frame, here.pre_concat(g.transform), ink),
            FrameItem::Text(t) => {
                let run = ink.runs.len();
                ink.runs.push(t.text.to_string());
                let size = t.size;
                let font = &t.font;
                let font_key = typst::utils::hash128(font);
                let mut x = Abs::zero();
                for g in &t.glyphs {
                    let advance = g.x_advance.at(size);
                    let visible = t.text.get(g.range()).is_some_and(|s| !s.trim().is_empty());
                    // The glyph's ink, from the font's bounding box (CJK brackets sit in
                    // half their advance, and typst shifts them at line starts).
                    let bbox = *ink
                        .boxes
                        .entry((font_key, g.id))
                        .or_insert_with(|| font.ttf().glyph_bounding_box(ttf_parser::GlyphId(g.id)));
                    if let (true, Some(b)) = (visible, bbox) {
                        let left = x + g.x_offset.at(size);
                        let lift = g.y_offset.at(size);
                        let unit = |v: i16| font.to_em(v).at(size);
                        // A hair inside the ink, so glyphs that only touch a rule do not count.
                        let hair = Abs::pt(0.2);
                        let a = Point::new(left + unit(b.x_min) + hair, -unit(b.y_max) - lift + hair).transform(here);
                        let c = Point::new(left + unit(b.x_max) - hair, -unit(b.y_min) - lift - hair).transform(here);
                        let rect = Rect {
                            x0: a.x.to_pt().min(c.x.to_pt()),
                            y0: a.y.to_pt().min(c.y.to_pt()),
                            x1: a.x.to_pt().max(c.x.to_pt()),
                            y1: a.y.to_pt().max(c.y.to_pt()),
                        };
                        if rect.x0 < rect.x1 && rect.y0 < rect.y1 {
                            ink.glyphs.push((rect, run, (g.range().start, g.range().end)));
                        }
                    }
                    x += advance;
                }
            }
            FrameItem::Shape(shape, _) if shape.stroke.is_some() => {
                let mut segment = |a: Point, b: Point| {
                    let (a, b) = (a.transform(here), b.transform(here));
                    let (ax, ay, bx, by) = (a.x.to_pt(), a.y.to_pt(), b.x.to_pt(), b.y.to_pt());
                    if (ax - bx).abs() < RULE_SLACK {
                        ink.vertical.push(Rule { at: ax, from: ay.min(by), to: ay.max(by) });
                    } else if (ay - by).abs() < RULE_SLACK {
                        ink.horizontal.push(Rule { at: ay, from: ax.min(bx), to: ax.max(bx) });
                    }
                };
                match &shape.geometry {
                    Geometry::Line(to) => segment(Point::zero(), *to),
                    Geometry::Rect(size) => {
                        let (w, h) = (Point::with_x(size.x), Point::with_y(size.y));
                        let corner = Point::new(size.x, size.y);
                        segment(Point::zero(), w);
                        segment(Point::zero(), h);
                        segment(w, corner);
                        segment(h, corner);
                    }
                    Geometry::Curve(_) => {}
                }
            }
            _ => {}
        }
    }
}
