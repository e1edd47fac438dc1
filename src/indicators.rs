//! Laying out an indicator tree as table rows with merged cells.
//!
//! Merges are derived, never typed: a group (一级, 二级) spans its rows; a
//! `merge` field (指标解释, 指标说明) spans from a row that gives it down to the
//! next row that gives it, within one top-level group.
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
    /// The row's own data (三级指标, 指标值, …).
    pub data: Json,
    /// The groups this row belongs to, outermost first.
    pub groups: Vec<Json>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// `level0`, `level1`, … for group labels, else the row field's key.
    pub key: String,
    pub text: String,
    pub rowspan: usize,
    /// This cell continues a merged cell from the previous page.
    pub continued: bool,
    /// The row's page marker goes into this cell.
    pub marker: bool,
    /// For group cells: the group (its name and extra fields, not its children).
    pub group: Option<Json>,
}

struct Column {
    key: String,
    /// Group level, or None for a row field.
    level: Option<usize>,
    merge: bool,
    repeat: bool,
}

/// Flattens `tree` (checked data of an `indicators` field).
/// `repeat_labels` switches the `repeat` columns on or off for this form.
pub fn layout(id: &str, spec: &Field, tree: &Json, page_starts: &BTreeSet<usize>, repeat_labels: bool) -> Table {
    let row_fields = spec.row.as_ref().expect("indicators has row");
    let mut columns: Vec<Column> = spec
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| Column { key: format!("level{i}"), level: Some(i), merge: true, repeat: l.repeat && repeat_labels })
        .collect();
    columns.extend(row_fields.iter().map(|(k, f)| Column {
        key: k.clone(),
        level: None,
        merge: f.merge,
        repeat: f.repeat && repeat_labels,
    }));
    let marker_col = columns.iter().position(|c| !c.merge).expect("a plain row field");

    // Rows with their group path (indices and group objects).
    let mut flat: Vec<(Vec<usize>, Vec<Json>, Json)> = vec![];
    collect(tree, spec.levels.len(), &mut vec![], &mut vec![], &mut flat);

    // For each column: where merged blocks start (natural starts, then page cuts).
    let n = flat.len();
    let mut rows: Vec<Row> = flat
        .iter()
        .enumerate()
        .map(|(i, (_, groups, data))| Row { index: i, cells: vec![], data: data.clone(), groups: groups.clone() })
        .collect();
    for (ci, col) in columns.iter().enumerate() {
        let mut i = 0;
        while i < n {
            // Extent of the natural block starting at i.
            let mut end = i + 1;
            while end < n && !natural_start(col, &flat, end) {
                end += 1;
            }
            let text = cell_text(col, &flat[i]);
            let group = col.level.map(|l| flat[i].1[l].clone());
            // Cut it at page starts.
            let mut start = i;
            let mut continued = false;
            let cuts = (i + 1..end).filter(|r| col.repeat && page_starts.contains(r));
            for cut in cuts.chain([end]) {
                rows[start].cells.push(Cell {
                    key: col.key.clone(),
                    text: text.clone(),
                    rowspan: cut - start,
                    continued,
                    marker: ci == marker_col,
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

/// The page starts that cut a repeating merged cell: only these change the layout.
pub fn cuts(spec: &Field, tree: &Json, page_starts: &BTreeSet<usize>, repeat_labels: bool) -> BTreeSet<usize> {
    let table = layout("", spec, tree, &BTreeSet::new(), repeat_labels);
    let repeating = repeating_keys(spec, repeat_labels);
    let mut spanned = BTreeSet::new();
    for row in &table.rows {
        for cell in row.cells.iter().filter(|c| repeating.contains(&c.key)) {
            spanned.extend(row.index + 1..row.index + cell.rowspan);
        }
    }
    page_starts.intersection(&spanned).copied().collect()
}

fn repeating_keys(spec: &Field, repeat_labels: bool) -> BTreeSet<String> {
    if !repeat_labels {
        return BTreeSet::new();
    }
    let levels = spec.levels.iter().enumerate().filter(|(_, l)| l.repeat).map(|(i, _)| format!("level{i}"));
    let fields = spec.row.iter().flatten().filter(|(_, f)| f.merge && f.repeat).map(|(k, _)| k.clone());
    levels.chain(fields).collect()
}

fn natural_start(col: &Column, flat: &[(Vec<usize>, Vec<Json>, Json)], i: usize) -> bool {
    let (path, _, data) = &flat[i];
    let prev = &flat[i - 1].0;
    match col.level {
        // A new group at this level or above.
        Some(l) => path[..=l] != prev[..=l],
        None if !col.merge => true,
        // A merge field starts where a row gives it, or at a new top-level group.
        None => !data.get(&col.key).is_none_or(Json::is_null) || path[0] != prev[0],
    }
}

fn cell_text(col: &Column, row: &(Vec<usize>, Vec<Json>, Json)) -> String {
    let value = match col.level {
        Some(l) => row.1[l].get("name"),
        None => row.2.get(&col.key),
    };
    match value {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn strip_children(group: &Json) -> Json {
    match group {
        Json::Object(m) => {
            Json::Object(m.iter().filter(|(k, _)| *k != "groups" && *k != "rows").map(|(k, v)| (k.clone(), v.clone())).collect())
        }
        other => other.clone(),
    }
}

fn collect(
    node: &Json,
    levels: usize,
    path: &mut Vec<usize>,
    groups: &mut Vec<Json>,
    out: &mut Vec<(Vec<usize>, Vec<Json>, Json)>,
) {
    let Some(items) = node.as_array() else { return };
    for (i, group) in items.iter().enumerate() {
        path.push(i);
        groups.push(strip_children(group));
        if path.len() == levels {
            for row in group.get("rows").and_then(Json::as_array).into_iter().flatten() {
                out.push((path.clone(), groups.clone(), row.clone()));
            }
        } else if let Some(children) = group.get("groups") {
            collect(children, levels, path, groups, out);
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
}
