//! What the laid-out pages show, for the checks after layout: text that runs
//! off the page body (lost under the footer or off the paper) or across a
//! table rule (overprinting the next cell). The layout passes use it to find
//! rows too tall for a page; the final check refuses to write a PDF that has
//! any.

use std::collections::{BTreeSet, HashMap};

use typst::foundations::StyleChain;
use typst::introspection::Tag;
use typst::layout::{Abs, Frame, FrameItem, Point, Transform};
use typst::pdf::{ArtifactElem, ArtifactKind};
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

/// How far a glyph's ink may reach below the page body, in em of its size:
/// the last line's box ends at the font's descender, and some glyphs (j, 【,
/// ideographs of a title font) draw deeper, into the margin but far above the
/// footer (30 % of the margin below the body).
const DESCENDER_SLACK_EM: f64 = 0.3;

/// How far a glyph's ink may reach past the other edges of the body, in em:
/// some glyphs draw a little wider than their advance (a title's last
/// ideograph reached 2.2 pt past the right edge at 20 pt), into the margin.
const SIDE_SLACK_EM: f64 = 0.15;

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

/// What (part of) a page shows.
#[derive(Default)]
pub(crate) struct Ink {
    boxes: GlyphBoxes,
    /// The core of every visible glyph (page coordinates, points), its run,
    /// its text's byte range in the run and its font size.
    pub glyphs: Vec<(Rect, usize, (usize, usize), f64)>,
    pub runs: Vec<String>,
    /// Vertical and horizontal table rules, each sorted by `at`.
    pub vertical: Vec<Rule>,
    pub horizontal: Vec<Rule>,
}

/// Everything a whole page shows, footer included.
pub(crate) fn whole_page(page: &Frame, boxes: &mut GlyphBoxes) -> Ink {
    let mut ink = Ink { boxes: std::mem::take(boxes), ..Ink::default() };
    walk(page, Transform::identity(), &mut ink);
    *boxes = std::mem::take(&mut ink.boxes);
    ink.vertical.sort_by(|a, b| a.at.total_cmp(&b.at));
    ink.horizontal.sort_by(|a, b| a.at.total_cmp(&b.at));
    ink
}

/// Pages (1-based) whose body content runs below the body: a row too tall for them.
pub fn overflowing_pages(strays: &[Stray]) -> BTreeSet<usize> {
    strays.iter().filter(|s| s.off_body).map(|s| s.page).collect()
}

/// The page body in points from the page's top left: inside the margins.
#[derive(Debug, Clone, Copy)]
pub struct Margins {
    pub top: f64,
    pub bottom: f64,
    pub left: f64,
    pub right: f64,
}

impl Margins {
    /// Margins given in millimetres (a kind's `page.margin`).
    pub fn mm(m: &crate::form::kind::Margin) -> Margins {
        let pt = |mm: f64| Abs::mm(mm).to_pt();
        Margins { top: pt(m.top), bottom: pt(m.bottom), left: pt(m.left), right: pt(m.right) }
    }
}

/// Every run of text with a glyph off the page body or across a table rule.
pub fn strays(doc: &PagedDocument, margins: &Margins) -> Vec<Stray> {
    let mut out = vec![];
    let mut boxes = GlyphBoxes::new();
    for (i, page) in doc.pages().iter().enumerate() {
        let size = page.frame.size();
        let area = Rect {
            x0: margins.left,
            y0: margins.top,
            x1: size.x.to_pt() - margins.right,
            y1: size.y.to_pt() - margins.bottom,
        };
        let mut ink = Ink { boxes: std::mem::take(&mut boxes), ..Ink::default() };
        for (pos, item) in body(&page.frame) {
            walk_item(pos, item, Transform::identity(), &mut ink);
        }
        boxes = std::mem::take(&mut ink.boxes);
        let mut seen = BTreeSet::new();
        ink.vertical.sort_by(|a, b| a.at.total_cmp(&b.at));
        ink.horizontal.sort_by(|a, b| a.at.total_cmp(&b.at));
        for &(g, run, _, size) in &ink.glyphs {
            let (side, below) = (SIDE_SLACK_EM * size, DESCENDER_SLACK_EM * size);
            let off_body =
                g.x0 < area.x0 - side || g.x1 > area.x1 + side || g.y1 > area.y1 + below || g.y0 < area.y0 - side;
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

/// The items of the page body. Typst puts a page together as background,
/// header, body, footer and foreground, and inlines a part of few items into
/// the page frame instead of grouping it, so the body is not one group and
/// its items may lie anywhere (text of a row too tall for the page, below the
/// paper). It is every item before the footer, whose content Typst marks as
/// an artifact of kind footer. The forms have no background or header.
fn body(page: &Frame) -> impl Iterator<Item = (Point, &FrameItem)> {
    page.items().map(|(pos, item)| (*pos, item)).take_while(|(_, item)| !starts_footer(item))
}

fn starts_footer(item: &FrameItem) -> bool {
    match item {
        FrameItem::Tag(Tag::Start(elem, _)) => {
            elem.to_packed::<ArtifactElem>().is_some_and(|a| a.kind.get(StyleChain::default()) == ArtifactKind::Footer)
        }
        FrameItem::Group(g) => g.frame.items().next().is_some_and(|(_, first)| starts_footer(first)),
        _ => false,
    }
}

fn walk(frame: &Frame, ts: Transform, ink: &mut Ink) {
    for (pos, item) in frame.items() {
        walk_item(*pos, item, ts, ink);
    }
}

fn walk_item(pos: Point, item: &FrameItem, ts: Transform, ink: &mut Ink) {
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
                        ink.glyphs.push((rect, run, (g.range().start, g.range().end), size.to_pt()));
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
