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
//! columns that `repeat` (the 一级 label), the cell is cut where a new page
//! starts (`page_starts`, found by a first layout pass) and the part on the new
//! page prints the label again. Other merged cells are left whole: their text
//! flows on across the page break, so a long 指标说明 is never squeezed into
//! the rows left at the bottom of a page. Each row marks one plain cell so the
//! layout pass can tell which page the row landed on.

use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeSet;

use crate::kind::Field;

/// A table ready for the template.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// The field this table comes from; row markers carry it.
    pub id: String,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub index: usize,
    /// Cells that start in this row, in column order.
    pub cells: Vec<Cell>,
    /// The row's own data (三级指标, 指标值, …); with sides, the first side's.
    pub data: Json,
    /// The groups this row belongs to, outermost first.
    pub groups: Vec<Json>,
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
    /// For group cells: the group (its name and extra fields, not its children).
    pub group: Option<Json>,
}

/// One row of a side: its group path within the side, the groups and its data.
struct SideRow {
    path: Vec<usize>,
    groups: Vec<Json>,
    data: Json,
}

/// One table row: the shared groups and, per side, that side's row (or none: filler).
struct Slot {
    shared: Vec<usize>,
    shared_groups: Vec<Json>,
    sides: Vec<Option<SideRow>>,
}

enum Col {
    Shared(usize),
    /// A group level inside a side (index into `levels`).
    SideLevel(usize, usize),
    Field(usize, String),
}

struct Column {
    key: String,
    col: Col,
    merge: bool,
    repeat: bool,
}

impl Column {
    fn side(&self) -> Option<usize> {
        match self.col {
            Col::Shared(_) => None,
            Col::SideLevel(s, _) | Col::Field(s, _) => Some(s),
        }
    }
}

/// Levels shared by all sides: the 一级 level when there are sides, else none.
fn shared_levels(spec: &Field) -> usize {
    usize::from(!spec.sides.is_empty())
}

fn columns(spec: &Field, repeat_labels: bool) -> Vec<Column> {
    let k = shared_levels(spec);
    let row_fields = spec.row.as_ref().expect("indicators has row");
    let mut cols: Vec<Column> = (0..k)
        .map(|l| Column {
            key: format!("level{l}"),
            col: Col::Shared(l),
            merge: true,
            repeat: spec.levels[l].repeat && repeat_labels,
        })
        .collect();
    let sides: Vec<String> = if spec.sides.is_empty() {
        vec![String::new()]
    } else {
        spec.sides.iter().map(|s| format!("{}.", s.key)).collect()
    };
    for (s, prefix) in sides.iter().enumerate() {
        for l in k..spec.levels.len() {
            cols.push(Column {
                key: format!("{prefix}level{l}"),
                col: Col::SideLevel(s, l),
                merge: true,
                repeat: spec.levels[l].repeat && repeat_labels,
            });
        }
        for (name, f) in row_fields {
            cols.push(Column {
                key: format!("{prefix}{name}"),
                col: Col::Field(s, name.clone()),
                merge: f.merge,
                repeat: f.merge && f.repeat && repeat_labels,
            });
        }
    }
    cols
}

/// Flattens `tree` (checked data of an `indicators` field).
/// `repeat_labels` switches the `repeat` columns on or off for this form.
pub fn layout(id: &str, spec: &Field, tree: &Json, page_starts: &BTreeSet<usize>, repeat_labels: bool) -> Table {
    let cols = columns(spec, repeat_labels);
    let slots = slots(spec, tree);
    let n = slots.len();
    let mut rows: Vec<Row> = slots
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            let first = slot.sides.iter().flatten().next();
            let mut groups = slot.shared_groups.clone();
            groups.extend(first.map(|r| r.groups.clone()).unwrap_or_default());
            Row { index: i, cells: vec![], data: first.map_or(Json::Null, |r| r.data.clone()), groups }
        })
        .collect();
    // The marker goes into the first plain field of a side that has a row here.
    let marker_col = |i: usize| {
        cols.iter().position(|c| matches!(&c.col, Col::Field(s, _) if !c.merge && slots[i].sides[*s].is_some()))
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
                while end < n && slots[end].sides[s].is_none() && slots[end].shared == slots[i].shared {
                    end += 1;
                }
                if first_of_side {
                    rows[i].cells.push(Cell {
                        key: format!("{}filler", side_prefix(spec, s)),
                        text: String::new(),
                        rowspan: end - i,
                        colspan: side_width,
                        continued: false,
                        marker: false,
                        group: None,
                    });
                }
                i = end;
                continue;
            }
            let mut end = i + 1;
            while end < n && !natural_start(spec, col, &slots, end) {
                end += 1;
            }
            let (text, group) = cell_text(col, &slots[i]);
            let mut start = i;
            let mut continued = false;
            let cuts = (i + 1..end).filter(|r| col.repeat && page_starts.contains(r));
            for cut in cuts.chain([end]) {
                rows[start].cells.push(Cell {
                    key: col.key.clone(),
                    text: text.clone(),
                    rowspan: cut - start,
                    colspan: 1,
                    continued,
                    marker: markers[start] == Some(ci),
                    group: group.clone(),
                });
                start = cut;
                continued = true;
            }
            i = end;
        }
    }
    Table { id: id.to_string(), rows }
}

fn side_prefix(spec: &Field, s: usize) -> String {
    spec.sides.get(s).map_or(String::new(), |side| format!("{}.", side.key))
}

/// The page starts that cut a repeating merged cell: only these change the layout.
pub fn cuts(spec: &Field, tree: &Json, page_starts: &BTreeSet<usize>, repeat_labels: bool) -> BTreeSet<usize> {
    let repeating: BTreeSet<String> =
        columns(spec, repeat_labels).into_iter().filter(|c| c.repeat).map(|c| c.key).collect();
    if repeating.is_empty() {
        return BTreeSet::new();
    }
    let table = layout("", spec, tree, &BTreeSet::new(), repeat_labels);
    let mut spanned = BTreeSet::new();
    for row in &table.rows {
        for cell in row.cells.iter().filter(|c| repeating.contains(&c.key)) {
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

fn cell_text(col: &Column, slot: &Slot) -> (String, Option<Json>) {
    // A group shows its computed `display` (e.g. 产出指标（50分）) when it has one.
    let label = |g: &Json| g.get("display").filter(|d| d.is_string()).or_else(|| g.get("name")).cloned();
    let text = |v: Option<&Json>| match v {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(Json::Number(x)) => crate::template::format_amount(x.as_f64().unwrap_or_default(), None),
        Some(other) => other.to_string(),
    };
    match &col.col {
        Col::Shared(l) => {
            let g = &slot.shared_groups[*l];
            (text(label(g).as_ref()), Some(g.clone()))
        }
        Col::SideLevel(s, l) => {
            let row = row_of(slot, *s);
            let g = &row.groups[*l - slot.shared.len()];
            (text(label(g).as_ref()), Some(g.clone()))
        }
        Col::Field(s, name) => (text(row_of(slot, *s).data.get(name)), None),
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
fn slots(spec: &Field, tree: &Json) -> Vec<Slot> {
    let k = shared_levels(spec);
    let mut out = vec![];
    let Some(top) = tree.as_array() else { return out };
    if k == 0 {
        let mut rows = vec![];
        side_rows(spec, tree, 0, &mut vec![], &mut vec![], &mut rows);
        return rows
            .into_iter()
            .map(|r| Slot { shared: vec![], shared_groups: vec![], sides: vec![Some(r)] })
            .collect();
    }
    for (i, group) in top.iter().enumerate() {
        let per_side: Vec<Vec<SideRow>> = spec
            .sides
            .iter()
            .map(|side| {
                let mut rows = vec![];
                if let Some(children) = group.get(&side.key) {
                    side_rows(spec, children, k, &mut vec![], &mut vec![], &mut rows);
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
                sides: iters.iter_mut().map(Iterator::next).collect(),
            });
        }
    }
    out
}

fn side_rows(
    spec: &Field,
    node: &Json,
    level: usize,
    path: &mut Vec<usize>,
    groups: &mut Vec<Json>,
    out: &mut Vec<SideRow>,
) {
    let Some(items) = node.as_array() else { return };
    for (i, group) in items.iter().enumerate() {
        path.push(i);
        groups.push(strip_children(group, spec));
        if level + 1 == spec.levels.len() {
            for row in group.get("rows").and_then(Json::as_array).into_iter().flatten() {
                out.push(SideRow { path: path.clone(), groups: groups.clone(), data: row.clone() });
            }
        } else if let Some(children) = group.get("groups") {
            side_rows(spec, children, level + 1, path, groups, out);
        }
        path.pop();
        groups.pop();
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

    fn spans(t: &Table, key: &str) -> Vec<(usize, usize, String)> {
        t.rows
            .iter()
            .flat_map(|r| r.cells.iter().filter(|c| c.key == key).map(move |c| (r.index, c.rowspan, c.text.clone())))
            .collect()
    }

    #[test]
    fn merges_follow_the_tree_and_omissions() {
        let t = layout("t", &spec(), &tree(), &BTreeSet::new(), true);
        assert_eq!(spans(&t, "level0"), vec![(0, 4, "A".into()), (4, 1, "B".into())]);
        assert_eq!(spans(&t, "level1"), vec![(0, 3, "a1".into()), (3, 1, "a2".into()), (4, 1, "b1".into())]);
        // E2 spans into the next 二级 group but not into the next 一级 group.
        assert_eq!(spans(&t, "explain"), vec![(0, 2, "E1".into()), (2, 2, "E2".into()), (4, 1, "".into())]);
        assert_eq!(spans(&t, "name").len(), 5);
        assert!(t.rows.iter().all(|r| r.cells.iter().filter(|c| c.marker).count() == 1));
    }

    #[test]
    fn page_cuts_repeat_only_repeating_columns() {
        let starts = BTreeSet::from([1]);
        let t = layout("t", &spec(), &tree(), &starts, true);
        assert_eq!(spans(&t, "level0"), vec![(0, 1, "A".into()), (1, 3, "A".into()), (4, 1, "B".into())]);
        assert!(t.rows[1].cells.iter().any(|c| c.key == "level0" && c.continued));
        // Columns that do not repeat stay whole and flow across the page.
        assert_eq!(spans(&t, "level1"), vec![(0, 3, "a1".into()), (3, 1, "a2".into()), (4, 1, "b1".into())]);
        let off = layout("t", &spec(), &tree(), &starts, false);
        assert_eq!(spans(&off, "level0")[0], (0, 4, "A".into()));
        assert_eq!(cuts(&spec(), &tree(), &BTreeSet::from([1, 3, 4]), true), BTreeSet::from([1, 3]));
        assert!(cuts(&spec(), &tree(), &BTreeSet::from([1, 3, 4]), false).is_empty());
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
        let t = layout("t", &spec, &tree, &BTreeSet::new(), true);
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
}
