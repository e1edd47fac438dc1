//! Laying out an indicator tree as table rows with merged cells.
//!
//! Merges are derived, never typed: a group (一级, 二级) spans its rows; a
//! `merge` field (指标解释, 指标说明) spans from a row that gives it down to the
//! next row that gives it, within one top-level group.
//!
//! A tree may have `sides` (the project form's 中期 and 年度 halves): the
//! 一级 groups are shared, and each side lists its own 二级 groups and rows
//! next to the other. The shorter side of a 一级 group is filled with one
//! empty cell.
//!
//! Typst draws a merged cell that crosses a page once, on its first part. For
//! columns that `repeat` (the block label 绩效指标, the 一级 label), the cell
//! is cut where a new page starts (`Plan::cuts`, found by layout passes) and
//! the part on the new page prints the label again. Other merged cells are
//! left whole: their text flows on across the page break, so a long 指标说明
//! is never squeezed into the rows left at the bottom of a page. Each row marks
//! one plain cell so the layout pass can tell which page the row landed on.
//!
//! Rows are kept whole on a page, except rows found too tall for any page
//! (`Plan::breakable`), whose cells continue on the next page. `Plan::split`
//! ends the table before a row and starts a second one there, so the last rows
//! can be kept on one page with the 签章区.

use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeSet;

use crate::form::kind::{ColumnMode, Field};
use crate::layout::template::KEEP_EM;

/// A table ready for the template.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// The field this table comes from; row markers carry it.
    pub id: String,
    /// The columns printed, in order.
    pub columns: Vec<Head>,
    /// Each printed column's position (from 0), by key: templates span cells up to one.
    pub index: std::collections::BTreeMap<String, usize>,
    pub rows: Vec<Row>,
    /// The 总分 row under the rows, when the form prints one.
    pub total: Option<TotalRow>,
    /// A 总分 value with no column of its own to print under (never printed
    /// elsewhere): the render fails naming it.
    pub misplaced: Option<Misplaced>,
    /// Every cell carries a marker with its data path (`Style::marks`).
    pub marks: bool,
}

/// The 总分 row: its label over the columns before the first total, then one
/// cell per column, each under its own column's header (`key`).
#[derive(Debug, Clone, Serialize)]
pub struct TotalRow {
    pub cells: Vec<Cell>,
}

/// A value of the 总分 row whose column is not printed.
#[derive(Debug, Clone, Serialize)]
pub struct Misplaced {
    pub column: String,
    pub text: String,
}

impl TotalRow {
    /// Places each value of `values` (by column key) under its column: a
    /// value is never printed under another column's header. `Err` names a
    /// value whose column is not among `columns`.
    pub fn new(
        label: &str,
        columns: &[Head],
        values: &std::collections::BTreeMap<String, String>,
    ) -> Result<Option<TotalRow>, Misplaced> {
        if let Some((column, text)) =
            values.iter().find(|(k, t)| !t.is_empty() && !columns.iter().any(|c| &c.key == *k))
        {
            return Err(Misplaced { column: column.clone(), text: text.clone() });
        }
        let Some(first) = columns.iter().position(|c| values.contains_key(&c.key)) else { return Ok(None) };
        let cell = |key: &str, text: &str, colspan: usize, style: Option<&str>| Cell {
            key: key.to_string(),
            text: text.to_string(),
            rowspan: 1,
            colspan,
            continued: false,
            marker: false,
            breakable: false,
            head: false,
            group: None,
            style: style.map(str::to_string),
            anywhere: false,
            path: None,
        };
        // The label spans the columns before the first total (at least one).
        let span = first.max(1);
        let mut cells = vec![cell("total.label", label, span, Some("hd"))];
        for c in &columns[span..] {
            cells.push(cell(&c.key, values.get(&c.key).map_or("", String::as_str), 1, None));
        }
        Ok(Some(TotalRow { cells }))
    }

    /// Each value cell's column, in order: the check that nothing is printed
    /// under another column's header.
    pub fn aligned(&self, columns: &[Head]) -> bool {
        let mut at = 0;
        self.cells.iter().enumerate().all(|(i, cell)| {
            let ok = i == 0 || columns.get(at).is_some_and(|c| c.key == cell.key);
            at += cell.colspan;
            ok
        }) && at == columns.len()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub index: usize,
    /// The row may be split across pages (it is taller than a page).
    pub breakable: bool,
    /// The table is split before this row (see `Plan::split`).
    pub split: bool,
    /// Cells that start in this row, in column order.
    pub cells: Vec<Cell>,
    /// The row's own data (三级指标, 指标值, …); with sides, the first side's.
    pub data: Json,
    /// The groups this row belongs to, outermost first.
    pub groups: Vec<Json>,
    /// Per side, the data path of the row (`indicators[0].year[1].rows[2]`); none where a side is filler.
    pub paths: Vec<Option<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// `level0`, `level1`, … for group labels, else the row field's key; with
    /// sides, side columns are `mid.level1`, `mid.name`, … and `mid.filler`.
    pub key: String,
    pub text: String,
    pub rowspan: usize,
    pub colspan: usize,
    /// This cell continues a merged cell from the previous page.
    pub continued: bool,
    /// The row's page marker goes into this cell.
    pub marker: bool,
    /// Typst may split this cell across pages (merged cells, rows too tall for a page).
    pub breakable: bool,
    /// The block label's first cell: it also spans the table's column header,
    /// so templates print it before that header (`rowspan + 1`).
    pub head: bool,
    /// For group cells: the group (its name and extra fields, not its children).
    pub group: Option<Json>,
    /// The template helper for this cell's text (`lt`, `small`, `hd`), if any.
    pub style: Option<String>,
    /// A word of the text (letters, digits and the brackets bound to them) is
    /// wider than the column: the text may break anywhere (`|anywhere`).
    pub anywhere: bool,
    /// The data path of what the cell shows: a row field (`…rows[2].value`), a
    /// group's name (`indicators[0].name`), or for filler the side's list of groups.
    pub path: Option<String>,
}

/// One row of a side: its group path within the side, the groups and its data.
struct SideRow {
    path: Vec<usize>,
    groups: Vec<Json>,
    data: Json,
    /// Data paths of the row and of its groups within the side.
    at: String,
    group_paths: Vec<String>,
}

/// One table row: the shared groups and, per side, that side's row (or none: filler).
struct Slot {
    shared: Vec<usize>,
    shared_groups: Vec<Json>,
    /// Data path of each shared group (`indicators[0]`).
    shared_paths: Vec<String>,
    sides: Vec<Option<SideRow>>,
}

#[derive(Clone)]
enum Col {
    /// The column-1 block label (绩效指标) over the whole table.
    Block,
    Shared(usize),
    /// A group level inside a side (index into `levels`).
    SideLevel(usize, usize),
    Field(usize, String),
}

#[derive(Clone)]
struct Column {
    key: String,
    /// The header label (the kind's, or the form's `labels` option).
    label: String,
    col: Col,
    merge: bool,
    repeat: bool,
    /// Relative width (`width:` in the manifest).
    width: f64,
    style: Option<String>,
}

impl Column {
    fn side(&self) -> Option<usize> {
        match self.col {
            Col::Block | Col::Shared(_) => None,
            Col::SideLevel(s, _) | Col::Field(s, _) => Some(s),
        }
    }
}

/// Levels shared by all sides: the 一级 level when there are sides, else none.
fn shared_levels(spec: &Field) -> usize {
    usize::from(!spec.sides.is_empty())
}

/// How one table is laid out across pages; found by the layout passes.
/// Every pass only adds to a plan, so the passes end (see `render.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Rows that begin a page inside a repeating merged cell: the cell is cut there.
    pub cuts: BTreeSet<usize>,
    /// Rows taller than a page, allowed to continue on the next page.
    pub breakable: BTreeSet<usize>,
    /// End the table before this row and go on in a second table.
    pub split: Option<usize>,
    /// The last rows and the 签章区 do not fit on one page: no split.
    pub loose: bool,
}

impl Plan {
    /// Adds what `other` has; tells whether anything was new.
    pub fn absorb(&mut self, other: &Plan) -> bool {
        let before = (self.cuts.len(), self.breakable.len(), self.split, self.loose);
        self.cuts.extend(&other.cuts);
        self.breakable.extend(&other.breakable);
        // A split only moves up (keeps more rows with the 签章区), until it is given up.
        self.loose |= other.loose;
        self.split = match (self.split, other.split) {
            _ if self.loose => None,
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        before != (self.cuts.len(), self.breakable.len(), self.split, self.loose)
    }
}

/// Per-form choices that shape the table.
#[derive(Debug, Clone, Default)]
pub struct Style {
    /// Print repeating labels again on continuation pages (option `repeat_labels`).
    pub repeat_labels: bool,
    /// The column-1 block label, when the kind prints one (`block:` in the manifest).
    pub block: Option<String>,
    /// Header labels the form gives (option `labels`), by column key.
    pub labels: std::collections::BTreeMap<String, String>,
    /// The table's width in em of body text, for fitting column widths.
    pub width_em: f64,
    /// The block column's width in percent (`block_width` in the manifest).
    pub block_width: Option<f64>,
    /// Keep the manifest's widths (`fixed_widths`).
    pub fixed_widths: bool,
    /// Texts printed in a column outside the rows (the 总分 row), by column key.
    pub extra: std::collections::BTreeMap<String, Vec<String>>,
    /// The label of the row under the table that prints `extra` (总分), when
    /// the kind has one; it is printed when one of its columns is.
    pub total: Option<String>,
    /// Columns shown even when no row fills them (the editor's, by key: `level0`, `year.name`;
    /// the form's option `show`, by the key without its side: `actual`, `remark`).
    pub show: BTreeSet<String>,
    /// Columns the form does not have (option `absent`), by key without the side.
    pub hide: BTreeSet<String>,
    /// The form's column order (option `order`), by key without the side: the
    /// columns listed stand together in this order, where the first of them stood.
    pub order: Vec<String>,
    /// Mark every cell with its data path (the editor's preview finds cells by them).
    pub marks: bool,
}

fn columns(spec: &Field, style: &Style, slots: &[Slot]) -> Vec<Column> {
    let repeat_labels = style.repeat_labels;
    let k = shared_levels(spec);
    let row_fields = spec.row.as_ref().expect("indicators has row");
    // A half's own caption (`mid.level1`: 二级指标（长期）) before the one both halves share.
    let label = |key: &str, default: &str| {
        let shared = key.split_once('.').map_or(key, |(_, k)| k);
        style.labels.get(key).or_else(|| style.labels.get(shared)).cloned().unwrap_or_else(|| default.to_string())
    };
    // A level is printed when some group of it has a name (a flat list has none).
    let named = |l: usize| {
        slots.iter().any(|slot| {
            let g = if l < k {
                slot.shared_groups.get(l)
            } else {
                slot.sides.iter().flatten().find_map(|r| r.groups.get(l - k))
            };
            g.and_then(|g| g.get("name")).and_then(Json::as_str).is_some_and(|n| !n.trim().is_empty())
        })
    };
    // A table with no text at all (a blank template, a form cut before its
    // table) prints the kind's main columns empty, as the printed form does:
    // every level and each row field with an example (the editor's columns).
    let blank = !(0..spec.levels.len()).any(named)
        && !slots
            .iter()
            .flat_map(|slot| slot.sides.iter().flatten())
            .any(|r| r.data.as_object().is_some_and(|m| m.values().any(|v| !v.is_null() && v != "")));
    let mut cols: Vec<Column> = vec![];
    if let Some(block) = &style.block {
        cols.push(Column {
            key: "block".into(),
            label: block.clone(),
            col: Col::Block,
            merge: true,
            repeat: repeat_labels,
            width: 1.0,
            style: None,
        });
    }
    for l in (0..k).filter(|&l| blank || named(l) || style.show.contains(&format!("level{l}"))) {
        let level = &spec.levels[l];
        let key = format!("level{l}");
        cols.push(Column {
            label: label(&key, &level.label),
            key,
            col: Col::Shared(l),
            merge: true,
            repeat: level.repeat && repeat_labels,
            width: level.width.unwrap_or(1.0),
            style: None,
        });
    }
    let sides: Vec<String> = if spec.sides.is_empty() {
        vec![String::new()]
    } else {
        spec.sides.iter().map(|s| format!("{}.", s.key)).collect()
    };
    for (s, prefix) in sides.iter().enumerate() {
        // A half the form does not have (a 项目 form without 中期) has no columns.
        let rows: Vec<&SideRow> = slots.iter().filter_map(|slot| slot.sides[s].as_ref()).collect();
        let shown = |key: &str| style.show.contains(&format!("{prefix}{key}")) || style.show.contains(key);
        if rows.is_empty() && sides.len() > 1 && !style.show.iter().any(|c| c.starts_with(prefix.as_str())) {
            continue;
        }
        for l in (k..spec.levels.len()).filter(|&l| blank || named(l) || shown(&format!("level{l}"))) {
            let level = &spec.levels[l];
            cols.push(Column {
                key: format!("{prefix}level{l}"),
                label: label(&format!("{prefix}level{l}"), &level.label),
                col: Col::SideLevel(s, l),
                merge: true,
                repeat: level.repeat && repeat_labels,
                width: level.width.unwrap_or(1.0),
                style: None,
            });
        }
        for (name, f) in row_fields {
            // An optional column is printed only when some row fills it, or the 总分 row does.
            let filled = rows.iter().any(|r| r.data.get(name).is_some_and(|v| !v.is_null() && v != ""))
                || style.extra.get(name).is_some_and(|texts| texts.iter().any(|t| !t.is_empty()));
            // A column the form does not have is left out, unless some row fills it:
            // what was written is never hidden.
            if style.hide.contains(name) && !filled {
                continue;
            }
            let main = blank && f.example.is_some();
            if !(f.required || f.column == ColumnMode::Always || filled || main || shown(name)) {
                continue;
            }
            cols.push(Column {
                key: format!("{prefix}{name}"),
                label: label(&format!("{prefix}{name}"), &f.label),
                col: Col::Field(s, name.clone()),
                merge: f.merge,
                repeat: f.merge && f.repeat && repeat_labels,
                width: f.width.unwrap_or(1.0),
                style: f.style.clone(),
            });
        }
    }
    in_order(&mut cols, &style.order);
    cols
}

/// Puts the columns the form lists in `order` next to each other in that
/// order, where the first of them stood; the others keep their order. Each
/// half of a 中期 | 年度 table is ordered on its own.
fn in_order(cols: &mut Vec<Column>, order: &[String]) {
    let split = |key: &str| {
        key.split_once('.').map_or((String::new(), key.to_string()), |(a, b)| (a.to_string(), b.to_string()))
    };
    let rank = |key: &str| order.iter().position(|o| o == key || *o == split(key).1);
    let sides: Vec<String> = cols.iter().map(|c| split(&c.key).0).collect::<BTreeSet<_>>().into_iter().collect();
    for side in sides {
        let listed = |c: &Column| split(&c.key).0 == side && rank(&c.key).is_some();
        let Some(at) = cols.iter().position(listed) else { continue };
        let mut moved: Vec<Column> = cols.iter().filter(|c| listed(c)).cloned().collect();
        moved.sort_by_key(|c| rank(&c.key));
        cols.retain(|c| !listed(c));
        cols.splice(at..at, moved);
    }
}

/// A column as templates see it: its key, header label, width and cell style.
#[derive(Debug, Clone, Serialize)]
pub struct Head {
    pub key: String,
    pub label: String,
    /// Percent of the table's width.
    pub width: f64,
    /// Template helper for its cells (`lt`, `small`), if any.
    pub style: Option<String>,
}

/// Column widths (percent) fitted to the text: every column is at least as
/// wide as its longest entry that is kept on one line (its header label and
/// entries up to `KEEP_EM`; when those do not all fit, up to six characters),
/// so that such an entry prints whole at full size; a column gets more room in proportion to its
/// text, and none wider than its longest line needs. `fixed` takes the
/// manifest's widths as percentages instead.
fn fit_widths(cols: &[Column], texts: &[Vec<String>], style: &Style) -> Vec<f64> {
    let n = cols.len();
    if n == 0 {
        return vec![];
    }
    if style.fixed_widths {
        let total: f64 = cols.iter().map(|c| c.width).sum();
        return cols.iter().map(|c| c.width * 100.0 / total).collect();
    }
    // Room for text in em, after the cells' side insets.
    let room = (style.width_em - n as f64 * INSET_EM).max(n as f64);
    let block = cols.iter().position(|c| matches!(c.col, Col::Block));
    let block_em = style.block_width.map(|p| p / 100.0 * style.width_em - INSET_EM).unwrap_or(0.0);
    let lines = |t: &str| t.lines().map(text_em).fold(0.0, f64::max);
    let mut min = vec![0.0; n];
    let mut cap = vec![0.0; n];
    let mut demand = vec![0.0; n];
    // The least width of each column: its longest entry kept on one line
    // (`template::KEEP_EM`: labels, amounts, short entries), or when those
    // do not all fit, its longest short entry (longer ones wrap, or print smaller).
    let least = |i: usize, keep: f64| {
        let head = text_em(&cols[i].label);
        let short = texts[i].iter().map(|t| lines(t)).filter(|&w| w <= keep).fold(0.0, f64::max);
        short.max(if head <= keep { head } else { HEAD_MIN_EM }).max(1.0)
    };
    let keep_all: f64 = (0..n).filter(|&i| Some(i) != block).map(|i| least(i, KEEP_EM)).sum::<f64>() + block_em;
    let keep = if keep_all <= room { KEEP_EM } else { SHORT_EM };
    for i in 0..n {
        let head = text_em(&cols[i].label);
        min[i] = least(i, keep);
        cap[i] = texts[i].iter().map(|t| lines(t)).fold(head, f64::max).max(min[i]);
        demand[i] = texts[i].iter().map(|t| text_em(t)).sum::<f64>().sqrt() * cols[i].width;
    }
    // The block label's column is as wide as the label column of the part above
    // (`block_width`: one grid), its label wrapping as the official form's does.
    if let Some(b) = block {
        let w = if style.block_width.is_some() { block_em } else { min[b] };
        (min[b], cap[b], demand[b]) = (w, w, 0.0);
    }
    let weights = weights(cols, &demand, block);
    let mut width = share(room, &min, &cap, &demand, &weights, &[]);
    // A column holding a paragraph is never a few characters wide, even when
    // it appears for one row's text: short of PARA_EM, it gets that much,
    // taken first from the short columns (whose labels then wrap).
    let para: Vec<usize> = (0..n).filter(|&i| Some(i) != block && cap[i] > 3.0 * PARA_EM).collect();
    if para.iter().any(|&i| width[i] < PARA_EM - 1e-9) {
        for &i in &para {
            min[i] = min[i].max(PARA_EM);
        }
        width = share(room, &min, &cap, &demand, &weights, &para);
    }
    let total: f64 = width.iter().map(|w| w + INSET_EM).sum();
    width.iter().map(|w| ((w + INSET_EM) * 100.0 / total * 100.0).round() / 100.0).collect()
}

/// How the room left after every column's text is met is shared: by the
/// column's manifest width and its text, the block label getting none.
fn weights(cols: &[Column], demand: &[f64], block: Option<usize>) -> Vec<f64> {
    (0..cols.len()).map(|i| if Some(i) == block { 0.0 } else { cols[i].width * (1.0 + demand[i]) }).collect()
}

/// Widths (em) from each column's least width, its cap (its longest line) and
/// demand: the least widths first, then what is left by demand up to the
/// caps, then the rest by `weights`. When the least widths do not fit and
/// some columns are to `keep` theirs, the others shrink first, down to
/// FLOOR_EM, then those too; what still does not fit shrinks all alike.
fn share(room: f64, min: &[f64], cap: &[f64], demand: &[f64], weights: &[f64], keep: &[usize]) -> Vec<f64> {
    let n = min.len();
    let mut width = min.to_vec();
    let mut left = room - min.iter().sum::<f64>();
    if !keep.is_empty() {
        // The short columns give way first, then the kept ones too, down to FLOOR_EM.
        let others: Vec<usize> = (0..n).filter(|i| !keep.contains(i)).collect();
        let all: Vec<usize> = (0..n).collect();
        for group in [others, all] {
            let give = |i: usize| width[i] - width[i].min(FLOOR_EM);
            let slack: f64 = group.iter().map(|&i| give(i)).sum();
            let take = (-left).clamp(0.0, slack);
            if take > 0.0 {
                let cut: Vec<f64> = group.iter().map(|&i| give(i) * take / slack).collect();
                group.iter().zip(cut).for_each(|(&i, c)| width[i] -= c);
                left += take;
            }
        }
    }
    if left < 0.0 {
        // Not even the least widths fit: shrink every column alike.
        let scale = room / width.iter().sum::<f64>();
        width.iter_mut().for_each(|w| *w *= scale);
        left = 0.0;
    }
    // Water-filling: share what is left by demand, up to each column's cap.
    for _ in 0..n {
        let open: Vec<usize> = (0..n).filter(|&i| width[i] < cap[i] - 1e-9 && demand[i] > 0.0).collect();
        let total: f64 = open.iter().map(|&i| demand[i]).sum();
        if left <= 1e-9 || total <= 0.0 {
            break;
        }
        let mut used = 0.0;
        for &i in &open {
            let give = (left * demand[i] / total).min(cap[i] - width[i]);
            width[i] += give;
            used += give;
        }
        left -= used;
    }
    if left > 1e-9 {
        // Every column has what its text needs: the rest goes by weight.
        let total: f64 = weights.iter().sum::<f64>().max(1e-9);
        for i in 0..n {
            width[i] += left * weights[i] / total;
        }
    }
    width
}

/// Side insets of a cell, in em of body text (2 × 3 pt at 10.5 pt).
const INSET_EM: f64 = 0.58;
/// Entries up to this wide (six CJK characters) are never broken over lines.
const SHORT_EM: f64 = 6.05;
/// Least width of a column whose header is long (it wraps).
const HEAD_MIN_EM: f64 = 4.0;
/// Least width of a column that holds a paragraph (text over three such lines).
const PARA_EM: f64 = 8.0;
/// Short columns give up room to a paragraph down to this width.
const FLOOR_EM: f64 = 3.0;

/// Labels up to this long (em) are printed again where their merged cell
/// continues on a new page; a longer one is printed once, and flows on.
const REPEAT_MAX_EM: f64 = 50.0;

/// Whether a label of a repeating column is printed again on a continuation page.
pub fn repeats(label: &str) -> bool {
    text_em(label) <= REPEAT_MAX_EM
}

/// Width (em) of the widest piece of `text` a line cannot break inside: a run
/// of letters, digits and ASCII signs with the CJK punctuation bound to it (an
/// opening bracket before it, a closing one or a comma after it).
fn word_em(text: &str) -> f64 {
    let ideograph = |c: char| matches!(c as u32, 0x3400..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF);
    // ASCII punctuation is taken as part of a word: lines hardly break around it.
    let opening = |c: char| "（【《「『〔［｛“‘".contains(c);
    let closing = |c: char| "）】》」』〕］｝”’，。、；：？！…".contains(c);
    let chars: Vec<char> = text.chars().collect();
    let mut widest: f64 = 0.0;
    let mut start = 0;
    for i in 1..=chars.len() {
        let cut = i == chars.len() || {
            let (a, b) = (chars[i - 1], chars[i]);
            a.is_whitespace()
                || b.is_whitespace()
                || (!opening(a) && !closing(b) && (ideograph(a) || ideograph(b) || opening(b) || closing(a)))
        };
        if cut {
            let piece: String = chars[start..i].iter().filter(|c| !c.is_whitespace()).collect();
            widest = widest.max(text_em(&piece));
            start = i;
        }
    }
    widest
}

/// Width of a line of text in em: CJK and full-width characters 1, others about half.
pub fn text_em(text: &str) -> f64 {
    text.chars()
        .map(|c| {
            if (c as u32) >= 0x2E80 {
                1.0
            } else if c.is_ascii_uppercase() || c == '%' {
                0.65
            } else {
                0.52
            }
        })
        .sum()
}

/// Flattens `tree` (checked data of an `indicators` field) into rows and
/// cells, cut and split as `plan` says.
pub fn layout(id: &str, spec: &Field, tree: &Json, plan: &Plan, style: &Style) -> Table {
    let slots = slots(id, spec, tree);
    let cols = columns(spec, style, &slots);
    let n = slots.len();
    let mut rows: Vec<Row> = slots
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            let first = slot.sides.iter().flatten().next();
            let mut groups = slot.shared_groups.clone();
            groups.extend(first.map(|r| r.groups.clone()).unwrap_or_default());
            Row {
                index: i,
                breakable: plan.breakable.contains(&i),
                split: plan.split == Some(i),
                cells: vec![],
                data: first.map_or(Json::Null, |r| r.data.clone()),
                groups,
                paths: slot.sides.iter().map(|r| r.as_ref().map(|r| r.at.clone())).collect(),
            }
        })
        .collect();
    // The marker goes into the first plain field of a side that has a row here.
    // A table without one (every 三级指标 and 指标值 left blank) marks a cell
    // that starts in the row, one of this row alone if it can: a merged cell's
    // text (and marker) may sit on a later page than its first row.
    let starts = |c: &Column, i: usize| {
        !matches!(c.col, Col::Block)
            && c.side().is_none_or(|s| slots[i].sides[s].is_some())
            && (i == 0 || natural_start(spec, c, &slots, i))
    };
    let marker_col = |i: usize| {
        cols.iter()
            .position(|c| matches!(&c.col, Col::Field(s, _) if !c.merge && slots[i].sides[*s].is_some()))
            .or_else(|| cols.iter().position(|c| starts(c, i) && (i + 1 == n || natural_start(spec, c, &slots, i + 1))))
            .or_else(|| cols.iter().position(|c| starts(c, i)))
    };
    let markers: Vec<Option<usize>> = (0..n).map(marker_col).collect();
    for (ci, col) in cols.iter().enumerate() {
        let first_of_side = col.side().is_some_and(|s| cols.iter().position(|c| c.side() == Some(s)) == Some(ci));
        let side_width = col.side().map_or(1, |s| cols.iter().filter(|c| c.side() == Some(s)).count());
        let mut i = 0;
        while i < n {
            if let Some(s) = col.side()
                && slots[i].sides[s].is_none()
            {
                // Filler: the side has no more rows in this 一级 group.
                let mut end = i + 1;
                while end < n
                    && slots[end].sides[s].is_none()
                    && slots[end].shared == slots[i].shared
                    && plan.split != Some(end)
                {
                    end += 1;
                }
                if first_of_side {
                    let cell = Cell {
                        key: format!("{}filler", side_prefix(spec, s)),
                        text: String::new(),
                        rowspan: end - i,
                        colspan: side_width,
                        continued: false,
                        marker: false,
                        breakable: false,
                        head: false,
                        group: None,
                        style: None,
                        anywhere: false,
                        path: slots[i].shared_paths.first().map(|p| format!("{p}.{}", spec.sides[s].key)),
                    };
                    rows[i].cells.push(cell.spanning(&plan.breakable, i));
                }
                i = end;
                continue;
            }
            let mut end = i + 1;
            while end < n && !natural_start(spec, col, &slots, end) {
                end += 1;
            }
            let (text, group, path) = cell_text(col, &slots[i], style);
            let repeat = col.repeat && repeats(&text);
            let mut start = i;
            let mut continued = false;
            // Repeating cells are cut where a page starts; every cell where the table splits.
            // The rows after a split are kept on one page: a cut found there before the split is stale.
            let page_start = |r: usize| plan.cuts.contains(&r) && plan.split.is_none_or(|s| r <= s);
            let cuts = (i + 1..end).filter(|&r| (repeat && page_start(r)) || plan.split == Some(r));
            for cut in cuts.chain([end]) {
                // A cell that does not repeat keeps its text in its first part only.
                let shown = if continued && !repeat { String::new() } else { text.clone() };
                let cell = Cell {
                    key: col.key.clone(),
                    text: shown,
                    rowspan: cut - start,
                    colspan: 1,
                    continued,
                    marker: markers[start] == Some(ci),
                    breakable: false,
                    head: matches!(col.col, Col::Block) && start == 0,
                    group: group.clone(),
                    style: if matches!(col.col, Col::Block) { Some("hd".into()) } else { col.style.clone() },
                    anywhere: false,
                    path: path.clone(),
                };
                rows[start].cells.push(cell.spanning(&plan.breakable, start));
                start = cut;
                continued = true;
            }
            i = end;
        }
    }
    let texts: Vec<Vec<String>> = cols
        .iter()
        .map(|c| {
            let extra = style.extra.get(&c.key).into_iter().flatten().cloned();
            rows.iter()
                .flat_map(|r| r.cells.iter().filter(|x| x.key == c.key).map(|x| x.text.clone()))
                .chain(extra)
                .collect()
        })
        .collect();
    let widths = fit_widths(&cols, &texts, style);
    for cell in rows.iter_mut().flat_map(|r| r.cells.iter_mut()).filter(|c| c.colspan == 1) {
        if let Some(i) = cols.iter().position(|c| c.key == cell.key) {
            cell.anywhere = word_em(&cell.text) > widths[i] / 100.0 * style.width_em - INSET_EM;
        }
    }
    let columns: Vec<Head> = cols
        .iter()
        .zip(widths)
        .map(|(c, width)| Head { key: c.key.clone(), label: c.label.clone(), width, style: c.style.clone() })
        .collect();
    let index = cols.iter().enumerate().map(|(i, c)| (c.key.clone(), i)).collect();
    let values = style.extra.iter().map(|(k, texts)| (k.clone(), texts.concat())).collect();
    let (total, misplaced) = match style.total.as_deref().map(|label| TotalRow::new(label, &columns, &values)) {
        Some(Ok(total)) => (total, None),
        Some(Err(m)) => (None, Some(m)),
        None => (None, None),
    };
    Table { id: id.to_string(), columns, index, rows, total, misplaced, marks: style.marks }
}

impl Cell {
    /// Merged cells may cross pages; so may every cell of a row too tall for one.
    fn spanning(mut self, breakable_rows: &BTreeSet<usize>, start: usize) -> Cell {
        self.breakable = self.rowspan > 1 || breakable_rows.contains(&start);
        self
    }
}

fn side_prefix(spec: &Field, s: usize) -> String {
    spec.sides.get(s).map_or(String::new(), |side| format!("{}.", side.key))
}

/// The page starts that cut a repeating merged cell: only these change the layout.
pub fn cuts(spec: &Field, tree: &Json, page_starts: &BTreeSet<usize>, style: &Style) -> BTreeSet<usize> {
    let repeating: BTreeSet<String> =
        columns(spec, style, &slots("", spec, tree)).into_iter().filter(|c| c.repeat).map(|c| c.key).collect();
    if repeating.is_empty() {
        return BTreeSet::new();
    }
    let table = layout("", spec, tree, &Plan::default(), style);
    let mut spanned = BTreeSet::new();
    for row in &table.rows {
        for cell in row.cells.iter().filter(|c| repeating.contains(&c.key) && repeats(&c.text)) {
            spanned.extend(row.index + 1..row.index + cell.rowspan);
        }
    }
    page_starts.intersection(&spanned).copied().collect()
}

fn natural_start(spec: &Field, col: &Column, slots: &[Slot], i: usize) -> bool {
    let (cur, prev) = (&slots[i], &slots[i - 1]);
    let k = shared_levels(spec);
    // Side columns start afresh in every 一级 group.
    if col.side().is_some_and(|s| cur.shared != prev.shared || cur.sides[s].is_none() || prev.sides[s].is_none()) {
        return true;
    }
    match &col.col {
        Col::Block => false,
        Col::Shared(l) => cur.shared[..=*l] != prev.shared[..=*l],
        Col::SideLevel(s, l) => {
            let (a, b) = (row_of(cur, *s), row_of(prev, *s));
            a.path[..=l - k] != b.path[..=l - k]
        }
        Col::Field(_, _) if !col.merge => true,
        // A merge field starts where a row gives it, or at a new top-level group.
        Col::Field(s, name) => {
            let (a, b) = (row_of(cur, *s), row_of(prev, *s));
            !a.data.get(name).is_none_or(Json::is_null) || (k == 0 && a.path[0] != b.path[0])
        }
    }
}

fn row_of(slot: &Slot, s: usize) -> &SideRow {
    slot.sides[s].as_ref().expect("filler rows are handled before")
}

/// A cell's text, its group (for group cells) and the data path of what it shows.
fn cell_text(col: &Column, slot: &Slot, style: &Style) -> (String, Option<Json>, Option<String>) {
    // A group shows its computed `display` (e.g. 产出指标（50分）) when it has one.
    let label = |g: &Json| g.get("display").filter(|d| d.is_string()).or_else(|| g.get("name")).cloned();
    let text = |v: Option<&Json>| match v {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(Json::Number(x)) => crate::form::values::format_amount(x.as_f64().unwrap_or_default(), None),
        Some(other) => other.to_string(),
    };
    match &col.col {
        Col::Block => (style.block.clone().unwrap_or_default(), None, None),
        Col::Shared(l) => {
            let g = &slot.shared_groups[*l];
            (text(label(g).as_ref()), Some(g.clone()), Some(format!("{}.name", slot.shared_paths[*l])))
        }
        Col::SideLevel(s, l) => {
            let row = row_of(slot, *s);
            let g = &row.groups[*l - slot.shared.len()];
            let path = format!("{}.name", row.group_paths[*l - slot.shared.len()]);
            (text(label(g).as_ref()), Some(g.clone()), Some(path))
        }
        Col::Field(s, name) => {
            let row = row_of(slot, *s);
            (text(row.data.get(name)), None, Some(format!("{}.{name}", row.at)))
        }
    }
}

/// A group without its children, as templates see it in `cell.group`.
fn strip_children(group: &Json, spec: &Field) -> Json {
    match group {
        Json::Object(m) => Json::Object(
            m.iter()
                .filter(|(k, _)| *k != "groups" && *k != "rows" && !spec.sides.iter().any(|s| &s.key == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Rows of the table: the shared groups, then each side's rows next to each other.
fn slots(id: &str, spec: &Field, tree: &Json) -> Vec<Slot> {
    let k = shared_levels(spec);
    let mut out = vec![];
    let Some(top) = tree.as_array() else { return out };
    if k == 0 {
        let mut rows = vec![];
        side_rows(spec, tree, 0, id, &mut Trail::default(), &mut rows);
        return rows
            .into_iter()
            .map(|r| Slot { shared: vec![], shared_groups: vec![], shared_paths: vec![], sides: vec![Some(r)] })
            .collect();
    }
    for (i, group) in top.iter().enumerate() {
        let per_side: Vec<Vec<SideRow>> = spec
            .sides
            .iter()
            .map(|side| {
                let mut rows = vec![];
                if let Some(children) = group.get(&side.key) {
                    let prefix = format!("{id}[{i}].{}", side.key);
                    side_rows(spec, children, k, &prefix, &mut Trail::default(), &mut rows);
                }
                rows
            })
            .collect();
        let height = per_side.iter().map(Vec::len).max().unwrap_or(0);
        let mut iters: Vec<_> = per_side.into_iter().map(Vec::into_iter).collect();
        for _ in 0..height {
            out.push(Slot {
                shared: vec![i],
                shared_groups: vec![strip_children(group, spec)],
                shared_paths: vec![format!("{id}[{i}]")],
                sides: iters.iter_mut().map(Iterator::next).collect(),
            });
        }
    }
    out
}

/// The groups above a row while the tree is walked: indices, groups, data paths.
#[derive(Default)]
struct Trail {
    path: Vec<usize>,
    groups: Vec<Json>,
    paths: Vec<String>,
}

fn side_rows(spec: &Field, node: &Json, level: usize, prefix: &str, trail: &mut Trail, out: &mut Vec<SideRow>) {
    let Some(items) = node.as_array() else { return };
    for (i, group) in items.iter().enumerate() {
        let at = format!("{prefix}[{i}]");
        trail.path.push(i);
        trail.groups.push(strip_children(group, spec));
        trail.paths.push(at.clone());
        if level + 1 == spec.levels.len() {
            for (r, row) in group.get("rows").and_then(Json::as_array).into_iter().flatten().enumerate() {
                out.push(SideRow {
                    path: trail.path.clone(),
                    groups: trail.groups.clone(),
                    data: row.clone(),
                    at: format!("{at}.rows[{r}]"),
                    group_paths: trail.paths.clone(),
                });
            }
        } else if let Some(children) = group.get("groups") {
            side_rows(spec, children, level + 1, &format!("{at}.groups"), trail, out);
        }
        trail.path.pop();
        trail.groups.pop();
        trail.paths.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Field {
        let yaml = r#"
type: indicators
label: 绩效指标
levels:
  - {label: 一级指标, repeat: true}
  - {label: 二级指标}
row:
  name: {type: text, label: 三级指标}
  value: {type: text, label: 指标值}
  explain: {type: text, label: 指标解释, merge: true, required: false}
"#;
        serde_saphyr::from_str(yaml).unwrap()
    }

    fn tree() -> Json {
        json!([
            {"name": "A", "groups": [
                {"name": "a1", "rows": [
                    {"name": "r1", "value": "1", "explain": "E1"},
                    {"name": "r2", "value": "2", "explain": null},
                    {"name": "r3", "value": "3", "explain": "E2"}]},
                {"name": "a2", "rows": [
                    {"name": "r4", "value": "4", "explain": null}]}]},
            {"name": "B", "groups": [
                {"name": "b1", "rows": [
                    {"name": "r5", "value": "5", "explain": null}]}]}
        ])
    }

    fn style(repeat_labels: bool) -> Style {
        Style { repeat_labels, width_em: 50.0, ..Style::default() }
    }

    fn cut_at(rows: &[usize]) -> Plan {
        Plan { cuts: rows.iter().copied().collect(), ..Plan::default() }
    }

    fn spans(t: &Table, key: &str) -> Vec<(usize, usize, String)> {
        t.rows
            .iter()
            .flat_map(|r| r.cells.iter().filter(|c| c.key == key).map(move |c| (r.index, c.rowspan, c.text.clone())))
            .collect()
    }

    #[test]
    fn merges_follow_the_tree_and_omissions() {
        let t = layout("t", &spec(), &tree(), &Plan::default(), &style(true));
        assert_eq!(spans(&t, "level0"), vec![(0, 4, "A".into()), (4, 1, "B".into())]);
        assert_eq!(spans(&t, "level1"), vec![(0, 3, "a1".into()), (3, 1, "a2".into()), (4, 1, "b1".into())]);
        // E2 spans into the next 二级 group but not into the next 一级 group.
        assert_eq!(spans(&t, "explain"), vec![(0, 2, "E1".into()), (2, 2, "E2".into()), (4, 1, "".into())]);
        assert_eq!(spans(&t, "name").len(), 5);
        assert!(t.rows.iter().all(|r| r.cells.iter().filter(|c| c.marker).count() == 1));
    }

    #[test]
    fn page_cuts_repeat_only_repeating_columns() {
        let starts = cut_at(&[1]);
        let t = layout("t", &spec(), &tree(), &starts, &style(true));
        assert_eq!(spans(&t, "level0"), vec![(0, 1, "A".into()), (1, 3, "A".into()), (4, 1, "B".into())]);
        assert!(t.rows[1].cells.iter().any(|c| c.key == "level0" && c.continued));
        // Columns that do not repeat stay whole and flow across the page.
        assert_eq!(spans(&t, "level1"), vec![(0, 3, "a1".into()), (3, 1, "a2".into()), (4, 1, "b1".into())]);
        let off = layout("t", &spec(), &tree(), &starts, &style(false));
        assert_eq!(spans(&off, "level0")[0], (0, 4, "A".into()));
        assert_eq!(cuts(&spec(), &tree(), &BTreeSet::from([1, 3, 4]), &style(true)), BTreeSet::from([1, 3]));
        assert!(cuts(&spec(), &tree(), &BTreeSet::from([1, 3, 4]), &style(false)).is_empty());
    }

    #[test]
    fn sides_sit_next_to_each_other_with_filler() {
        let mut spec = spec();
        spec.sides = serde_saphyr::from_str("[{key: mid, label: 中期}, {key: year, label: 年度}]").unwrap();
        let tree = json!([
            {"name": "A",
             "mid": [{"name": "m1", "rows": [{"name": "x", "value": "1", "explain": "e"}, {"name": "y", "value": "2", "explain": null}]}],
             "year": [{"name": "y1", "rows": [{"name": "z", "value": "3", "explain": "f"}]}, {"name": "y2", "rows": [{"name": "w", "value": "4", "explain": null}, {"name": "v", "value": "5", "explain": null}]}]},
            {"name": "B", "year": [{"name": "y3", "rows": [{"name": "u", "value": "6", "explain": "g"}]}]}
        ]);
        let t = layout("t", &spec, &tree, &Plan::default(), &style(true));
        assert_eq!(spans(&t, "level0"), vec![(0, 3, "A".into()), (3, 1, "B".into())]);
        assert_eq!(spans(&t, "mid.level1"), vec![(0, 2, "m1".into())]);
        assert_eq!(spans(&t, "year.level1"), vec![(0, 1, "y1".into()), (1, 2, "y2".into()), (3, 1, "y3".into())]);
        let fillers: Vec<(usize, usize, usize)> = t
            .rows
            .iter()
            .flat_map(|r| {
                r.cells.iter().filter(|c| c.key == "mid.filler").map(move |c| (r.index, c.rowspan, c.colspan))
            })
            .collect();
        assert_eq!(fillers, vec![(2, 1, 4), (3, 1, 4)]);
        assert_eq!(spans(&t, "year.explain"), vec![(0, 3, "f".into()), (3, 1, "g".into())]);
        // Every row has a marker, on the side that has a row there.
        for r in &t.rows {
            let marked: Vec<&str> = r.cells.iter().filter(|c| c.marker).map(|c| c.key.as_str()).collect();
            assert_eq!(marked.len(), 1, "row {}", r.index);
        }
        assert!(t.rows[2].cells.iter().any(|c| c.marker && c.key == "year.name"));
    }

    #[test]
    fn cells_name_the_data_they_show() {
        let mut spec = spec();
        spec.sides = serde_saphyr::from_str("[{key: mid, label: 中期}, {key: year, label: 年度}]").unwrap();
        let tree = json!([{"name": "A", "mid": [{"name": "m1", "rows": [{"name": "x", "value": "1"}]}],
                           "year": [{"name": "y1", "rows": [{"name": "z", "value": "3"}, {"name": "w", "value": "4"}]}]}]);
        let t = layout("t", &spec, &tree, &Plan::default(), &style(true));
        let path = |row: usize, key: &str| {
            t.rows[row].cells.iter().find(|c| c.key == key).and_then(|c| c.path.clone()).unwrap_or_default()
        };
        assert_eq!(path(0, "level0"), "t[0].name");
        assert_eq!(path(0, "mid.level1"), "t[0].mid[0].name");
        assert_eq!(path(1, "year.value"), "t[0].year[0].rows[1].value");
        // The shorter side's filler names that side's list, where a row would go.
        assert_eq!(path(1, "mid.filler"), "t[0].mid");
        assert_eq!(t.rows[1].paths, vec![None, Some("t[0].year[0].rows[1]".to_string())]);
        // A column no row fills is shown when asked for (the editor's columns).
        let shown = Style { show: ["year.explain".to_string()].into(), ..style(true) };
        let t = layout("t", &spec, &tree, &Plan::default(), &shown);
        assert!(t.columns.iter().any(|c| c.key == "year.explain"));
        assert!(!t.columns.iter().any(|c| c.key == "mid.explain"));
    }

    #[test]
    fn block_label_spans_the_table_and_repeats() {
        let style =
            Style { repeat_labels: true, block: Some("绩效指标".into()), width_em: 50.0, ..Style::default() };
        let t = layout("t", &spec(), &tree(), &cut_at(&[3]), &style);
        assert_eq!(spans(&t, "block"), vec![(0, 3, "绩效指标".into()), (3, 2, "绩效指标".into())]);
        assert!(t.rows[0].cells[0].head && !t.rows[3].cells[0].head);
        assert_eq!(cuts(&spec(), &tree(), &BTreeSet::from([4]), &style), BTreeSet::from([4]));
    }

    #[test]
    fn a_split_cuts_every_merged_cell_and_keeps_text_once() {
        let plan = Plan { split: Some(1), breakable: BTreeSet::from([2]), ..Plan::default() };
        let t = layout("t", &spec(), &tree(), &plan, &style(true));
        assert!(t.rows[1].split && t.rows[2].breakable);
        assert_eq!(spans(&t, "level0"), vec![(0, 1, "A".into()), (1, 3, "A".into()), (4, 1, "B".into())]);
        // 二级 and 指标解释 do not repeat: their second part is empty.
        assert_eq!(
            spans(&t, "level1"),
            vec![(0, 1, "a1".into()), (1, 2, "".into()), (3, 1, "a2".into()), (4, 1, "b1".into())]
        );
        assert_eq!(spans(&t, "explain")[..2], [(0, 1, "E1".into()), (1, 1, "".into())]);
        assert!(t.rows[2].cells.iter().all(|c| c.breakable));
    }

    #[test]
    fn rows_kept_after_a_split_drop_the_cuts_found_before_it() {
        // Rows 2 and 4 once began pages; the split at row 1 now keeps rows 1 to 4 on one page.
        let style = Style { block: Some("绩效指标".into()), ..style(true) };
        let t = layout(
            "t",
            &spec(),
            &tree(),
            &Plan { cuts: BTreeSet::from([2, 4]), split: Some(1), ..Plan::default() },
            &style,
        );
        assert_eq!(spans(&t, "block"), vec![(0, 1, "绩效指标".into()), (1, 4, "绩效指标".into())]);
    }

    #[test]
    fn rows_are_marked_when_only_merged_fields_are_filled() {
        let mut spec = spec();
        for f in spec.row.as_mut().unwrap().values_mut() {
            f.required = false;
        }
        let tree = json!([{"name": "A", "groups": [{"name": "a1", "rows": [
            {"explain": "E1"}, {"explain": null}, {"explain": "E2"}]}]}]);
        let t = layout("t", &spec, &tree, &Plan::default(), &style(true));
        assert!(t.columns.iter().all(|c| c.key != "name" && c.key != "value"));
        let marked: Vec<(usize, String)> = t
            .rows
            .iter()
            .flat_map(|r| r.cells.iter().filter(|c| c.marker).map(move |c| (r.index, c.key.clone())))
            .collect();
        // Row 1 starts no cell of its own (its 指标解释 is merged above): it has none.
        // Row 0 starts only merged cells: the first is marked; row 2 its own 指标解释.
        assert_eq!(marked, vec![(0, "level0".into()), (2, "explain".into())]);
    }

    #[test]
    fn a_paragraph_column_is_never_a_few_characters_wide() {
        let cols: Vec<Column> = (0..10)
            .map(|i| Column {
                key: format!("c{i}"),
                label: "三级指标".into(),
                col: Col::Field(0, format!("c{i}")),
                merge: false,
                repeat: false,
                width: 1.0,
                style: None,
            })
            .collect();
        let mut texts: Vec<Vec<String>> = (0..10).map(|_| vec!["营养膳食补助标准".to_string()]).collect();
        let style = Style { width_em: 48.6, ..Style::default() };
        let before = fit_widths(&cols, &texts, &style);
        // One row's paragraph in the last column: it gets PARA_EM, the short columns give way.
        texts[9].push("本项指标按年度工作计划逐项核对完成情况。".repeat(20));
        let after = fit_widths(&cols, &texts, &style);
        let em = |pct: f64| pct / 100.0 * 48.6 - INSET_EM;
        assert!(em(after[9]) >= PARA_EM - 0.05, "{after:?}");
        assert!(after[..9].iter().all(|&w| em(w) >= FLOOR_EM - 0.05), "{after:?}");
        // Before, all ten alike.
        assert!(before.iter().all(|&w| (w - before[0]).abs() < 0.02), "{before:?}");
    }

    #[test]
    fn a_long_label_is_printed_once() {
        let long = "履职效能".repeat(20);
        let tree = json!([{"name": long, "groups": [{"name": "a1", "rows": [
            {"name": "r1", "value": "1", "explain": "E"}, {"name": "r2", "value": "2", "explain": null}]}]}]);
        let t = layout("t", &spec(), &tree, &cut_at(&[1]), &style(true));
        assert_eq!(spans(&t, "level0"), vec![(0, 2, long.clone())]);
        assert!(cuts(&spec(), &tree, &BTreeSet::from([1]), &style(true)).is_empty());
    }

    #[test]
    fn words_are_measured_with_the_brackets_bound_to_them() {
        assert_eq!(word_em("预算执行率"), 1.0);
        assert!((word_em("【<label>】") - (2.0 + 5.0 * 0.52 + 2.0 * 0.52)).abs() < 1e-9);
        assert!((word_em("【#set text(red)】") - (1.0 + text_em("text(red)"))).abs() < 1e-9);
        assert!((word_em("按GB/T19001执行") - text_em("GB/T19001")).abs() < 1e-9);
        assert_eq!(word_em("执行，完成。"), 2.0);
        assert_eq!(word_em("a b"), 0.52);
    }

    #[test]
    fn a_word_wider_than_its_column_may_break_anywhere() {
        let tree = json!([{"name": "A", "groups": [{"name": "a1", "rows": [
            {"name": "ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123", "value": "1", "explain": "E"}]}]}]);
        let narrow = Style { repeat_labels: true, width_em: 12.0, ..Style::default() };
        let t = layout("t", &spec(), &tree, &Plan::default(), &narrow);
        let cell = |t: &Table, key: &str| t.rows[0].cells.iter().find(|c| c.key == key).unwrap().anywhere;
        assert!(cell(&t, "name") && !cell(&t, "value") && !cell(&t, "explain"));
        let wide = layout("t", &spec(), &tree, &Plan::default(), &Style { width_em: 80.0, ..narrow });
        assert!(!cell(&wide, "name"));
    }

    #[test]
    fn plans_only_grow() {
        let mut p = cut_at(&[3]);
        assert!(!p.absorb(&cut_at(&[3])));
        assert!(p.absorb(&Plan { split: Some(4), ..Plan::default() }));
        assert!(p.absorb(&Plan { split: Some(2), ..Plan::default() }));
        assert!(!p.absorb(&Plan { split: Some(4), ..Plan::default() }));
        assert_eq!(p.split, Some(2));
    }

    /// A table whose rows have 分值 and 得分 columns (and 备注), with a 总分 row.
    fn scored(drop: &str, totals: &[(&str, &str)]) -> Table {
        let spec: Field = serde_saphyr::from_str(
            "type: indicators\nlabel: 绩效指标\nlevels:\n  - {label: 一级指标}\nrow:\n  name: {type: text, label: 三级指标}\n  weight: {type: number, label: 分值, required: false}\n  score: {type: number, label: 得分, required: false}\n  remark: {type: text, label: 备注, required: false}\n",
        )
        .unwrap();
        let mut row = json!({"name": "r1", "weight": "10", "score": "9", "remark": "x"});
        row.as_object_mut().unwrap().remove(drop);
        let tree = json!([{"name": "A", "rows": [row]}]);
        let extra = totals.iter().map(|(k, v)| (k.to_string(), vec![v.to_string()])).collect();
        let style = Style { extra, total: Some("总分".into()), ..style(true) };
        layout("t", &spec, &tree, &Plan::default(), &style)
    }

    #[test]
    fn every_total_sits_under_its_own_column_whichever_column_is_dropped() {
        for drop in ["weight", "score", "remark", "none"] {
            // A blank total for a dropped column: the row is laid out without it.
            let blank = |k: &str| if k == drop { "" } else { "1" };
            let t = scored(drop, &[("weight", blank("weight")), ("score", blank("score"))]);
            let total = t.total.as_ref().expect("a 总分 row");
            assert!(total.aligned(&t.columns), "{drop}: {total:?}");
            let keys: Vec<&str> = t.columns.iter().map(|c| c.key.as_str()).collect();
            assert!(!keys.contains(&drop), "{drop}: {keys:?}");
            for cell in &total.cells[1..] {
                let under = t.index[&cell.key];
                let placed: usize = total.cells.iter().take_while(|c| !std::ptr::eq(*c, cell)).map(|c| c.colspan).sum();
                assert_eq!(placed, under, "{drop}: {} is not under its header", cell.key);
            }
        }
        // A total whose column no row fills brings its column: it is never printed elsewhere.
        let t = scored("score", &[("weight", "10"), ("score", "9")]);
        assert!(t.index.contains_key("score") && t.misplaced.is_none());
    }

    #[test]
    fn a_total_with_no_column_is_refused_by_the_model() {
        let columns = vec![Head { key: "name".into(), label: "三级指标".into(), width: 100.0, style: None }];
        let values = std::collections::BTreeMap::from([("score".to_string(), "9".to_string())]);
        let err = TotalRow::new("总分", &columns, &values).unwrap_err();
        assert_eq!((err.column.as_str(), err.text.as_str()), ("score", "9"));
        // A blank one is no value: nothing to place.
        let values = std::collections::BTreeMap::from([("score".to_string(), String::new())]);
        assert!(TotalRow::new("总分", &columns, &values).unwrap().is_none());
    }
}
