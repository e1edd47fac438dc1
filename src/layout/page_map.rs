//! Where a place on a laid-out page lies, in the form's words: the cell it
//! falls in (named by its row and the text the data prints there), the 签章区,
//! the footer or a margin. `verify` and `scan` name what they find this way,
//! from the layout of the data itself rather than from the file under test.

use std::collections::HashMap;

use typst::foundations::{Label, Selector};
use typst::introspection::Introspector;
use typst::utils::PicoStr;
use typst_layout::PagedDocument;

use crate::layout::ink::{self, Rect, Rule};
use crate::layout::pdf::SIGNATURE_MARKER;

/// One laid-out page: its size, body, 签章区, table rules and glyphs, in
/// points from the page's top left.
pub struct PageMap {
    pub width: f64,
    pub height: f64,
    /// The page body (the footer with the 校验码 and QR code lies below it).
    pub body: Rect,
    /// The 签章区 when it is on this page: from its top to the body's bottom,
    /// the body's width. Signatures and seals are expected there.
    pub signature: Option<Rect>,
    vertical: Vec<Rule>,
    horizontal: Vec<Rule>,
    glyphs: Vec<(Rect, String)>,
}

/// Where a place lies on the page of the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Where {
    /// A table cell: the text of its row's first cell and of its column's
    /// heading (when those are other cells), what the data prints in it, and
    /// its top left corner (two cells may read alike).
    Cell { row: Option<String>, column: Option<String>, text: String, corner: (i64, i64) },
    /// The 签章区.
    Signature,
    /// Below the body: the 校验码, page number and QR code.
    Footer,
    /// Outside the body, beside or above it.
    Margin,
    /// In the body outside any cell (the title, a line of text), near this text.
    Body { near: Option<String> },
}

impl std::fmt::Display for Where {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Where::Cell { row, column, text, .. } => {
                match (row, column) {
                    (Some(row), Some(column)) => write!(f, "「{row}」行「{column}」栏")?,
                    (Some(row), None) => write!(f, "「{row}」一行")?,
                    (None, Some(column)) => write!(f, "「{column}」栏")?,
                    (None, None) => write!(f, "表格中")?,
                }
                if text.is_empty() { write!(f, "的空白格") } else { write!(f, "（印着「{text}」）") }
            }
            Where::Signature => write!(f, "签章区"),
            Where::Footer => write!(f, "页脚（校验码、页码、二维码处）"),
            Where::Margin => write!(f, "页边空白处"),
            Where::Body { near: Some(text) } => write!(f, "「{text}」处"),
            Where::Body { near: None } => write!(f, "表格外的空白处"),
        }
    }
}

impl PageMap {
    /// A page known only by its size (a PDF without its data): its body
    /// inside `margin` millimetres, no cells, no 签章区.
    pub fn blank(width: f64, height: f64, margin: f64) -> PageMap {
        let m = margin * 72.0 / 25.4;
        PageMap {
            width,
            height,
            body: Rect { x0: m, y0: m, x1: width - m, y1: height - m },
            signature: None,
            vertical: vec![],
            horizontal: vec![],
            glyphs: vec![],
        }
    }
}

/// Longest text quoted when naming a cell.
const QUOTED: usize = 16;

impl PageMap {
    /// Where the middle of a box lies.
    pub fn place(&self, r: Rect) -> Where {
        let (x, y) = ((r.x0 + r.x1) / 2.0, (r.y0 + r.y1) / 2.0);
        let inside = |a: &Rect| a.x0 <= x && x <= a.x1 && a.y0 <= y && y <= a.y1;
        if self.signature.as_ref().is_some_and(inside) {
            return Where::Signature;
        }
        if let Some(cell) = self.cell(x, y) {
            let text = self.text_in(cell);
            let row = self.row_label(cell).filter(|row| *row != text);
            // A heading is a short label; a long text above is another row's cell.
            let column = self.column_label(cell).filter(|column| *column != text && column.chars().count() <= 8);
            let corner = ((cell.x0 * 10.0).round() as i64, (cell.y0 * 10.0).round() as i64);
            return Where::Cell { row, column, text, corner };
        }
        if inside(&self.body) {
            let near = self
                .glyphs
                .iter()
                .filter(|(g, _)| (g.y0 - 6.0..g.y1 + 6.0).contains(&y))
                .min_by(|a, b| distance(&a.0, x, y).total_cmp(&distance(&b.0, x, y)))
                .filter(|(g, _)| distance(g, x, y) < 40.0)
                .map(|(g, _)| self.line_at(*g));
            return Where::Body { near };
        }
        if y > self.body.y1 { Where::Footer } else { Where::Margin }
    }

    /// The cell around a point: the nearest rules on its four sides that reach past it.
    pub fn cell(&self, x: f64, y: f64) -> Option<Rect> {
        let reach = |r: &&Rule, along: f64| r.from - 0.5 <= along && along <= r.to + 0.5;
        let left = self.vertical.iter().filter(|r| r.at <= x && reach(r, y)).map(|r| r.at).reduce(f64::max)?;
        let right = self.vertical.iter().filter(|r| r.at >= x && reach(r, y)).map(|r| r.at).reduce(f64::min)?;
        let top = self.horizontal.iter().filter(|r| r.at <= y && reach(r, x)).map(|r| r.at).reduce(f64::max)?;
        let bottom = self.horizontal.iter().filter(|r| r.at >= y && reach(r, x)).map(|r| r.at).reduce(f64::min)?;
        (right - left > 1.0 && bottom - top > 1.0).then_some(Rect { x0: left, y0: top, x1: right, y1: bottom })
    }

    /// The text the data prints inside a box, whitespace removed, shortened.
    pub fn text_in(&self, r: Rect) -> String {
        let text: String = self
            .glyphs
            .iter()
            .filter(|(g, _)| {
                let (x, y) = ((g.x0 + g.x1) / 2.0, (g.y0 + g.y1) / 2.0);
                r.x0 <= x && x <= r.x1 && r.y0 <= y && y <= r.y1
            })
            .flat_map(|(_, t)| t.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        shorten(&text)
    }

    /// The text of the row's first cell: the leftmost cell with the same top
    /// and bottom (merged cells of a group to its left are taller).
    fn row_label(&self, cell: Rect) -> Option<String> {
        let y = (cell.y0 + cell.y1) / 2.0;
        let mut label = None;
        let mut x = cell.x0 - 1.0;
        for _ in 0..32 {
            let Some(left) = self.cell(x, y) else { break };
            if (left.y0 - cell.y0).abs() < 1.0 && (left.y1 - cell.y1).abs() < 1.0 {
                label = Some(left);
            }
            x = left.x0 - 1.0;
        }
        label.map(|c| self.text_in(c)).filter(|t| !t.is_empty())
    }

    /// The text of the column's heading: the topmost cell straight above
    /// with the same left and right rules (a heading over several columns
    /// is wider, and a table above has other columns).
    fn column_label(&self, cell: Rect) -> Option<String> {
        let x = (cell.x0 + cell.x1) / 2.0;
        let mut label = None;
        let mut y = cell.y0 - 1.0;
        for _ in 0..512 {
            let Some(above) = self.cell(x, y) else { break };
            if (above.x0 - cell.x0).abs() >= 1.0 || (above.x1 - cell.x1).abs() >= 1.0 {
                break;
            }
            label = Some(above);
            y = above.y0 - 1.0;
        }
        label.map(|c| self.text_in(c)).filter(|t| !t.is_empty())
    }

    /// The line of text a glyph stands on (glyphs at its height, left to right).
    fn line_at(&self, g: Rect) -> String {
        let mid = (g.y0 + g.y1) / 2.0;
        let text: String = self
            .glyphs
            .iter()
            .filter(|(o, _)| o.y0 <= mid && mid <= o.y1)
            .flat_map(|(_, t)| t.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        shorten(&text)
    }
}

fn distance(r: &Rect, x: f64, y: f64) -> f64 {
    let dx = (r.x0 - x).max(x - r.x1).max(0.0);
    let dy = (r.y0 - y).max(y - r.y1).max(0.0);
    dx.hypot(dy)
}

fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(QUOTED).collect();
    if text.chars().count() > QUOTED {
        out.push('…');
    }
    out
}

/// The map of every page of a laid-out document, whose page margins (mm)
/// are `margin` (left, top, right, bottom): the body is the same on every page.
pub fn page_maps(doc: &PagedDocument, margin: [f64; 4]) -> Vec<PageMap> {
    // Where the 签章区 begins: its marker's page and height.
    let mut signature_at = HashMap::new();
    if let Some(label) = Label::new(PicoStr::intern(SIGNATURE_MARKER)) {
        let introspector = doc.introspector();
        for elem in introspector.query(&Selector::Label(label)) {
            if let Some(at) = elem.location().and_then(|loc| introspector.position(loc)) {
                signature_at.insert(at.page.get() - 1, at.point.y.to_pt());
            }
        }
    }
    let pt = |mm: f64| mm * 72.0 / 25.4;
    let mut boxes = ink::GlyphBoxes::default();
    doc.pages()
        .iter()
        .enumerate()
        .map(|(i, page)| {
            let (width, height) = (page.frame.width().to_pt(), page.frame.height().to_pt());
            let body =
                Rect { x0: pt(margin[0]), y0: pt(margin[1]), x1: width - pt(margin[2]), y1: height - pt(margin[3]) };
            let ink = ink::whole_page(&page.frame, &mut boxes);
            let signature =
                signature_at.get(&i).map(|&top| Rect { x0: body.x0, y0: top - 2.0, x1: body.x1, y1: body.y1 });
            let glyphs = ink
                .glyphs
                .iter()
                .map(|&(r, run, (a, b), _)| (r, ink.runs[run].get(a..b).unwrap_or_default().to_string()))
                .collect();
            PageMap { width, height, body, signature, vertical: ink.vertical, horizontal: ink.horizontal, glyphs }
        })
        .collect()
}
