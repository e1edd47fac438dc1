//! The paper as a reader sees it: the last check before a PDF is handed out.
//! Every text of the form's data must be shown on the pages, its characters
//! in order, each on the paper and above the footer (not off the page, not
//! under the 校验码 line). A cell's text is found whole on one page, or in
//! consecutive pieces on consecutive pages (a cell that continues).
//!
//! The pages' text is taken from the laid-out frames the PDF is written
//! from, glyph by glyph with the text each glyph stands for and where it is
//! drawn: what pdftotext reads from the written file (typst-pdf draws the
//! same glyphs at the same places and maps each back to the same text, with
//! /ActualText where a glyph stands for other characters than its font says).
//! Tests hold the two equal on every corpus form and every generated form.
//! Reading the file back with hayro instead costs 3 ms a page and misreads
//! glyphs that /ActualText maps (one glyph for several characters: Kangxi
//! radicals, a font that draws all digits alike).

use std::collections::{HashMap, HashSet};

use serde_json::Value as Json;
use typst::layout::{Abs, Frame, FrameItem, Point, Transform};
use typst_layout::PagedDocument;

use crate::form::findings::Place;
use crate::form::kind::{Field, FieldType, Kind, signature_fields};
use crate::layout::ink::Margins;

/// A text of the form's data that the paper must show.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The text without white space (line breaks and justification add or drop it).
    pub text: String,
    /// The place in the YAML: indicators[0].groups[1].rows[2].explain.
    pub yaml: String,
    /// The place as the form names it: 履职效能 › 预算管理 › 预算执行率 › 指标解释.
    pub label: String,
}

/// A cell the paper does not show whole.
#[derive(Debug, Clone)]
pub struct Unprinted {
    pub yaml: String,
    pub label: String,
    /// The start of the cell's text.
    pub text: String,
    /// How many of its characters were found, in order, from its start.
    pub found: usize,
    pub chars: usize,
}

/// The texts of the data a kind prints: every text, number or choice typed
/// into a field of the manifest (dates are printed the Chinese way and
/// pictures are not text; values the kind computes are not typed).
pub fn cells(kind: &Kind, data: &Json) -> Vec<Cell> {
    let mut out = vec![];
    let root = Place::root();
    for (key, spec) in &kind.manifest.fields {
        if let Some(value) = data.get(key) {
            field(
                spec,
                value,
                &root.key(key, if spec.ty == FieldType::Indicators { "" } else { &spec.label }),
                &mut out,
            );
        }
    }
    out
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn field(spec: &Field, value: &Json, at: &Place, out: &mut Vec<Cell>) {
    match spec.ty {
        FieldType::Text | FieldType::Number | FieldType::Money | FieldType::Choice | FieldType::IndicatorValue => {
            if let Json::String(s) = value {
                let text = squash(s);
                if !text.is_empty() {
                    out.push(Cell { text, yaml: at.yaml.clone(), label: at.label.clone() });
                }
            }
        }
        FieldType::Integer | FieldType::Bool | FieldType::Date | FieldType::Image => {}
        FieldType::List => {
            let (Some(item), Some(items)) = (&spec.item, value.as_array()) else { return };
            for (i, v) in items.iter().enumerate() {
                // An item is named by its own name or label (任务3, 项目概况), else as the kind numbers it.
                let own = ["name", "label"]
                    .iter()
                    .find_map(|k| v.get(k).and_then(Json::as_str))
                    .filter(|n| !n.trim().is_empty());
                let label = match (own, &spec.item_label) {
                    (Some(own), _) => own.trim().to_string(),
                    (None, Some(l)) => l.replace("{n}", &(i + 1).to_string()),
                    (None, None) => format!("第{}项", i + 1),
                };
                field(item, v, &at.index(i, &label), out);
            }
        }
        FieldType::Record | FieldType::Signature => {
            let fields = if spec.ty == FieldType::Signature { Some(signature_fields()) } else { spec.fields.as_ref() };
            for (key, f) in fields.into_iter().flatten() {
                if let Some(v) = value.get(key) {
                    field(f, v, &at.key(key, &f.label), out);
                }
            }
        }
        FieldType::Indicators => groups(spec, 0, value, at, out),
    }
}

/// An indicator tree: each group's name and fields, then its groups (per side
/// at the first level when the tree has sides) or, at the last level, its rows.
fn groups(spec: &Field, depth: usize, value: &Json, at: &Place, out: &mut Vec<Cell>) {
    let Some(level) = spec.levels.get(depth) else { return };
    for (i, group) in value.as_array().into_iter().flatten().enumerate() {
        let name = group.get("name").and_then(Json::as_str).unwrap_or_default().trim();
        let here = at.index(i, name);
        if !name.is_empty() {
            let at = here.key("name", &level.label);
            out.push(Cell { text: squash(name), yaml: at.yaml, label: at.label });
        }
        for (key, f) in &level.fields {
            if let Some(v) = group.get(key) {
                field(f, v, &here.key(key, &f.label), out);
            }
        }
        if depth == 0 && !spec.sides.is_empty() {
            for side in &spec.sides {
                if let Some(list) = group.get(&side.key) {
                    groups(spec, 1, list, &here.key(&side.key, &side.label), out);
                }
            }
        } else if depth + 1 < spec.levels.len() {
            if let Some(list) = group.get("groups") {
                groups(spec, depth + 1, list, &here.key("groups", ""), out);
            }
        } else {
            let rows = group.get("rows").and_then(Json::as_array).into_iter().flatten();
            let row_fields = spec.row.iter().flatten();
            let first = spec.row.as_ref().and_then(|r| r.keys().next().cloned()).unwrap_or_default();
            for (r, row) in rows.enumerate() {
                let name = row.get(&first).and_then(Json::as_str).map(str::trim).filter(|n| !n.is_empty());
                let here = here.key("rows", "").index(r, name.unwrap_or(&format!("第{}行", r + 1)));
                for (key, f) in row_fields.clone() {
                    if let Some(v) = row.get(key) {
                        field(f, v, &here.key(key, &f.label), out);
                    }
                }
            }
        }
    }
}

/// The text each page shows, without white space, in the order the PDF
/// draws it: glyphs on the paper above the footer. `margins` are the page's
/// (points from its edges).
pub fn page_texts(doc: &PagedDocument, margins: &Margins) -> Vec<String> {
    doc.pages()
        .iter()
        .map(|page| {
            let size = page.frame.size();
            // A glyph is seen when it starts on the paper, a glyph's height below its
            // top edge and a point left of its right edge, and sits on a line above
            // the footer (the bottom margin). The side margins are not asked for: CJK
            // punctuation at a line start is moved left of its cell, and text across
            // a margin is the ink check's concern.
            let seen =
                Rect::new(Point::zero(), Point::new(size.x - Abs::pt(1.0), size.y - Abs::pt(margins.bottom - 1.0)));
            let top = Abs::pt(margins.top.min(12.0));
            let mut text = String::new();
            glyphs(&page.frame, Transform::identity(), &mut |origin, s| {
                if seen.contains(origin) && origin.y >= top {
                    text.extend(s.chars().filter(|c| !c.is_whitespace()));
                }
            });
            text
        })
        .collect()
}

/// Calls `f` with the origin (page coordinates) and text of every glyph drawn,
/// in drawing order; glyphs of one cluster give its text once.
fn glyphs(frame: &Frame, ts: Transform, f: &mut impl FnMut(Point, &str)) {
    for (pos, item) in frame.items() {
        let here = ts.pre_concat(Transform::translate(pos.x, pos.y));
        match item {
            FrameItem::Group(g) => glyphs(&g.frame, here.pre_concat(g.transform), f),
            FrameItem::Text(t) => {
                let mut x = Abs::zero();
                let mut last = None;
                for g in &t.glyphs {
                    let range = g.range();
                    if last != Some(range.clone()) {
                        let origin = Point::new(x + g.x_offset.at(t.size), -g.y_offset.at(t.size)).transform(here);
                        f(origin, t.text.get(range.clone()).unwrap_or_default());
                    }
                    last = Some(range);
                    x += g.x_advance.at(t.size);
                }
            }
            _ => {}
        }
    }
}

/// An axis-aligned box in page coordinates.
struct Rect {
    min: Point,
    max: Point,
}

impl Rect {
    fn new(min: Point, max: Point) -> Rect {
        Rect { min, max }
    }
    fn contains(&self, p: Point) -> bool {
        p.x >= self.min.x && p.x <= self.max.x && p.y >= self.min.y && p.y <= self.max.y
    }
}

/// The cells whose text the pages do not show, each with how far it was found.
/// A text typed into several cells must be shown as many times.
pub fn unprinted(pages: &[String], cells: &[Cell]) -> Vec<Unprinted> {
    let mut copies: HashMap<&str, Vec<&Cell>> = HashMap::new();
    for cell in cells {
        copies.entry(cell.text.as_str()).or_default().push(cell);
    }
    let mut out = vec![];
    // Cells are mostly printed in the order of the data: look from the page the last one was on.
    let mut hint = 0;
    let mut checked: HashSet<&str> = HashSet::new();
    for cell in cells {
        if !checked.insert(cell.text.as_str()) {
            continue;
        }
        let lost = |found: usize, cell: &Cell| Unprinted {
            yaml: cell.yaml.clone(),
            label: cell.label.clone(),
            text: cell.text.chars().take(30).collect(),
            found: cell.text[..found].chars().count(),
            chars: cell.text.chars().count(),
        };
        match locate(pages, &cell.text, hint) {
            Ok(page) => hint = page,
            Err(best) => {
                out.extend(copies[cell.text.as_str()].iter().map(|c| lost(best, c)));
                continue;
            }
        }
        let same = &copies[cell.text.as_str()];
        if same.len() > 1 {
            // The copies shown, whole on a page or continued on the next; the last ones typed count as lost.
            let shown = occurrences(pages, &cell.text);
            out.extend(same.iter().skip(shown).map(|c| lost(0, c)));
        }
    }
    out
}

/// The page a text ends on, found whole on a page (from page `hint` on,
/// then before it) or in pieces on consecutive pages; else how many bytes of
/// it were found at best.
fn locate(pages: &[String], text: &str, hint: usize) -> Result<usize, usize> {
    let hint = hint.min(pages.len());
    if let Some(page) = (hint..pages.len()).chain(0..hint).find(|&p| pages[p].contains(text)) {
        return Ok(page);
    }
    let mut best = 0;
    for start in 0..pages.len() {
        let (done, end) = from_page(pages, start, text);
        if done == text.len() {
            return Ok(end);
        }
        best = best.max(done);
    }
    Err(best)
}

/// How many times the pages show `text`, no two on the same characters:
/// whole on a page, or begun on one page and continued on the next ones.
fn occurrences(pages: &[String], text: &str) -> usize {
    let mut used: Vec<Vec<(usize, usize)>> =
        pages.iter().map(|p| p.match_indices(text).map(|(i, m)| (i, i + m.len())).collect()).collect();
    let mut count: usize = used.iter().map(Vec::len).sum();
    for start in 0..pages.len().saturating_sub(1) {
        while let Some(pieces) = continued(pages, &used, start, text) {
            for (page, range) in pieces {
                used[page].push(range);
            }
            count += 1;
        }
    }
    count
}

/// A copy of `text` begun on page `start` and continued on the next pages,
/// on characters no other copy uses: the pieces, by page.
fn continued(
    pages: &[String],
    used: &[Vec<(usize, usize)>],
    start: usize,
    text: &str,
) -> Option<Vec<(usize, (usize, usize))>> {
    let first = longest_free(&pages[start], text, &used[start]).min(text.len() - 1);
    // Where the page's piece ends is not known: try each cut, longest first.
    (1..=first).rev().filter(|&k| text.is_char_boundary(k)).find_map(|k| {
        let at = find_free(&pages[start], &text[..k], &used[start])?;
        let mut pieces = vec![(start, (at, at + k))];
        let mut done = k;
        for page in start + 1..pages.len() {
            let rest = &text[done..];
            let n = longest_free(&pages[page], rest, &used[page]);
            if n == 0 {
                return None;
            }
            let at = find_free(&pages[page], &rest[..n], &used[page])?;
            pieces.push((page, (at, at + n)));
            done += n;
            if done == text.len() {
                return Some(pieces);
            }
        }
        None
    })
}

/// The first place `page` shows `needle` on characters not in `used`.
fn find_free(page: &str, needle: &str, used: &[(usize, usize)]) -> Option<usize> {
    page.match_indices(needle).map(|(i, _)| i).find(|&i| used.iter().all(|&(a, b)| i + needle.len() <= a || i >= b))
}

/// The length (bytes) of the longest prefix of `text` that `page` shows on characters not in `used`.
fn longest_free(page: &str, text: &str, used: &[(usize, usize)]) -> usize {
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).skip(1).chain([text.len()]).collect();
    let (mut lo, mut hi) = (0, bounds.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if find_free(page, &text[..bounds[mid - 1]], used).is_some() {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    if lo == 0 { 0 } else { bounds[lo - 1] }
}

/// How much of `text` (bytes, from its start) pages `start`, `start + 1`, …
/// show, each page the longest piece of the rest, and the page it ended on.
fn from_page(pages: &[String], start: usize, text: &str) -> (usize, usize) {
    let mut done = 0;
    let mut page = start;
    while page < pages.len() {
        let rest = &text[done..];
        let n = longest_free(&pages[page], rest, &[]);
        if n == 0 {
            break;
        }
        done += n;
        if done == text.len() {
            return (done, page);
        }
        page += 1;
    }
    (done, page.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(text: &str) -> Cell {
        Cell { text: text.into(), yaml: "x".into(), label: "X".into() }
    }

    #[test]
    fn a_cell_may_continue_on_the_next_pages() {
        let pages = vec!["表头甲乙丙".to_string(), "其他丁戊".to_string(), "己其他".to_string()];
        assert!(unprinted(&pages, &[cell("甲乙丙丁戊己")]).is_empty());
        assert!(unprinted(&pages, &[cell("乙丙")]).is_empty());
        // Pieces must be on consecutive pages and in order.
        let lost = unprinted(&pages, &[cell("甲乙丙己")]);
        assert_eq!((lost[0].found, lost[0].chars), (3, 4));
        assert_eq!(unprinted(&pages, &[cell("丁戊甲")]).len(), 1);
        assert_eq!(unprinted(&pages, &[cell("庚")]).len(), 1);
    }

    #[test]
    fn a_text_typed_twice_is_shown_twice() {
        let pages = vec!["甲乙丙".to_string(), "丁甲乙".to_string()];
        assert!(unprinted(&pages, &[cell("甲乙"), cell("甲乙")]).is_empty());
        let mut third = cell("甲乙");
        third.yaml = "third".into();
        let lost = unprinted(&pages, &[cell("甲乙"), cell("甲乙"), third]);
        assert_eq!(lost.len(), 1);
        assert_eq!(lost[0].yaml, "third");
        // A copy begun on one page and continued on the next counts.
        let split = vec!["甲乙丙甲".to_string(), "乙".to_string()];
        assert!(unprinted(&split, &[cell("甲乙"), cell("甲乙")]).is_empty());
    }

    #[test]
    fn longest_prefix_is_on_char_boundaries() {
        assert_eq!(longest_free("abc甲乙", "甲乙丙", &[]), "甲乙".len());
        assert_eq!(longest_free("abc", "丙", &[]), 0);
        assert_eq!(longest_free("abc", "abc", &[]), 3);
        assert_eq!(longest_free("甲乙甲", "甲乙", &[(0, 6)]), "甲".len());
    }
}
