//! The editor's grid: the form as it prints, cell by cell, each value cell
//! with the data path the page writes into. It is the spreadsheet grid of the
//! form (`outputs::sheet`, the model the .xlsx export uses, with the indicator
//! table from `layout::indicators`, the PDF's), in edit mode, plus what only
//! an editor needs:
//!
//! - an indicator group without rows gets an empty row to type into, and a
//!   tree without groups one empty group, so a new form shows the blank table;
//! - the table ends in an empty row whose cells start a new 一级 group, a new
//!   二级 group in the last 一级, or a new row in the last 二级;
//! - the columns a form prints, and those the person is filling in (the
//!   kind's main columns: required, `column: always`, or with an example);
//! - a 总分 row where the kind prints one, and the values the engine computes
//!   for blank cells (totals), marked as computed.

use serde_json::{Map, Value as Json, json};

use crate::form::Form;
use crate::form::kind::{Field, FieldType, Kind};
use crate::layout::Engine;
use crate::outputs::sheet::{self, Grid, Item, Look, Role};

/// What the page asks for besides the data: extra indicator columns and sides.
#[derive(Debug, Default, serde::Deserialize)]
pub struct View {
    /// Column keys shown although blank (`year.unit`).
    #[serde(default)]
    pub show: Vec<String>,
    /// Sides shown although the form has no rows there (`mid`).
    #[serde(default)]
    pub sides: Vec<String>,
}

/// The grid of the page's data (typed, as JSON) for the checked form.
pub fn sheet(engine: &Engine, kind: &Kind, typed: &Json, form: &Form, view: &View) -> Json {
    let mut data = typed.clone();
    if !data.is_object() {
        data = json!({});
    }
    let tables: Vec<(&String, &Field)> =
        kind.manifest.fields.iter().filter(|(_, f)| f.ty == FieldType::Indicators).collect();
    let mut style = indicators_style(engine, kind, form, tables.first().map(|t| t.1));
    let mut sides_json = vec![];
    let mut phantoms = vec![];
    for (key, spec) in &tables {
        let sides = shown_sides(spec, &data[key.as_str()], view);
        for s in &spec.sides {
            sides_json.push(json!({"key": s.key, "label": s.label, "shown": sides.contains(&s.key)}));
        }
        let padded = pad(spec, &data[key.as_str()], &sides);
        phantoms.push(phantom_paths(key, spec, &padded, &sides));
        data[key.as_str()] = padded;
        style.show.extend(main_columns(spec, &sides));
    }
    style.show.extend(view.show.iter().cloned());
    let mut grid = sheet::grid(kind, &data, &Look { options: &form.options, style, edit: true });
    for (i, (_, spec)) in tables.iter().enumerate() {
        add_rows(&mut grid, i, spec, &phantoms[i], form);
    }
    let computed = |path: &str, typed_blank: bool| -> Option<String> {
        if !typed_blank {
            return None;
        }
        match lookup(&form.data, path)? {
            Json::Number(n) => Some(crate::form::values::format_amount(n.as_f64()?, None)),
            Json::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    };
    let cells: Vec<Json> = grid
        .items
        .iter()
        .map(|it| {
            let mut c = json!({"r": it.row, "c": it.col, "rs": it.rows, "cs": it.cols, "t": it.text, "role": role(it)});
            if !it.path.is_empty() {
                c["p"] = json!(it.path);
                if let Some(v) = computed(&it.path, it.text.is_empty()) {
                    c["v"] = json!(v);
                }
            }
            for (k, v) in [("k", &it.key), ("lead", &it.lead)] {
                if !v.is_empty() {
                    c[k] = json!(v);
                }
            }
            if it.phantom {
                c["new"] = json!(true);
            }
            c
        })
        .collect();
    let tables_json: Vec<Json> = grid
        .tables
        .iter()
        .map(|t| json!({"field": t.field, "first": t.first, "rows": t.rows, "columns": t.columns}))
        .collect();
    json!({
        "columns": grid.columns,
        "widths": grid.widths,
        "cells": cells,
        "tables": tables_json,
        "sides": sides_json,
    })
}

fn role(it: &Item) -> &'static str {
    match it.role {
        _ if it.key == "image" => "image",
        _ if it.key == "total" => "computed",
        Role::Title => "title",
        Role::Subtitle => "subtitle",
        Role::Label if it.path.is_empty() => "label",
        Role::Label => "group",
        Role::Date => "date",
        Role::Number { .. } | Role::Text if it.key.ends_with("filler") => "filler",
        Role::Number { .. } => "number",
        Role::Text => "text",
    }
}

fn indicators_style(
    engine: &Engine,
    kind: &Kind,
    form: &Form,
    spec: Option<&Field>,
) -> crate::layout::indicators::Style {
    spec.map(|s| engine.table_style(kind, s, form)).unwrap_or_default()
}

/// The sides shown: those with rows, those asked for, and the last (年度) side.
pub(super) fn shown_sides(spec: &Field, tree: &Json, view: &View) -> Vec<String> {
    let has_rows = |side: &str| {
        tree.as_array().is_some_and(|groups| groups.iter().any(|g| g[side].as_array().is_some_and(|a| !a.is_empty())))
    };
    let last = spec.sides.last().map(|s| s.key.clone());
    spec.sides
        .iter()
        .filter(|s| has_rows(&s.key) || view.sides.contains(&s.key) || Some(&s.key) == last.as_ref())
        .map(|s| s.key.clone())
        .collect()
}

/// The columns a person fills in most forms of the kind: group levels, and
/// row fields that are required, always printed, or have an example.
pub(super) fn main_columns(spec: &Field, sides: &[String]) -> Vec<String> {
    let shared = usize::from(!spec.sides.is_empty());
    let prefixes: Vec<String> =
        if spec.sides.is_empty() { vec![String::new()] } else { sides.iter().map(|s| format!("{s}.")).collect() };
    let mut out: Vec<String> = (0..shared).map(|l| format!("level{l}")).collect();
    for p in &prefixes {
        out.extend((shared..spec.levels.len()).map(|l| format!("{p}level{l}")));
        for (name, f) in spec.row.iter().flatten() {
            if f.required || f.column == crate::form::kind::ColumnMode::Always || f.example.is_some() {
                out.push(format!("{p}{name}"));
            }
        }
    }
    out
}

/// A new empty group at `level`: named blank, down to one empty row.
fn new_group(spec: &Field, level: usize, sides: &[String]) -> Json {
    if level + 1 >= spec.levels.len() {
        return json!({"name": "", "rows": [{}]});
    }
    let mut g = json!({"name": ""});
    if level == 0 && !spec.sides.is_empty() {
        for s in sides {
            g[s.as_str()] = json!([new_group(spec, 1, sides)]);
        }
    } else {
        g["groups"] = json!([new_group(spec, level + 1, sides)]);
    }
    g
}

/// The tree with an empty row in every group that has none (and one empty
/// group where a level has none), so every group shows a row to type into.
pub(super) fn pad(spec: &Field, tree: &Json, sides: &[String]) -> Json {
    if spec.levels.is_empty() {
        return tree.clone();
    }
    let mut groups: Vec<Json> = tree.as_array().cloned().unwrap_or_default();
    if groups.is_empty() {
        groups.push(new_group(spec, 0, sides));
    }
    for g in &mut groups {
        pad_group(spec, g, 0, sides);
    }
    Json::Array(groups)
}

fn pad_group(spec: &Field, g: &mut Json, level: usize, sides: &[String]) {
    if !g.is_object() {
        *g = json!({});
    }
    if level + 1 >= spec.levels.len() {
        if g["rows"].as_array().is_none_or(Vec::is_empty) {
            g["rows"] = json!([{}]);
        }
        return;
    }
    let children: Vec<String> = if level == 0 && !spec.sides.is_empty() {
        spec.sides.iter().map(|s| s.key.clone()).collect()
    } else {
        vec!["groups".into()]
    };
    for key in children {
        let wanted = key == "groups" || sides.contains(&key);
        match g.get_mut(key.as_str()).and_then(Json::as_array_mut) {
            Some(list) if !list.is_empty() => list.iter_mut().for_each(|c| pad_group(spec, c, level + 1, sides)),
            _ if wanted => g[key.as_str()] = json!([new_group(spec, level + 1, sides)]),
            _ => {}
        }
    }
}

/// The data paths of the empty row at the end of the table, by column key:
/// a group column starts a new group after the last one of its level; a row
/// field adds a row to the last group.
fn phantom_paths(id: &str, spec: &Field, padded: &Json, sides: &[String]) -> Map<String, Json> {
    let mut out = Map::new();
    let groups = padded.as_array().map_or(0, Vec::len);
    if spec.levels.is_empty() || groups == 0 {
        return out;
    }
    out.insert("level0".into(), json!(format!("{id}[{groups}].name")));
    let last0 = format!("{id}[{}]", groups - 1);
    let walk = |prefix: &str, mut list_path: String, mut node: &Json, level: usize, out: &mut Map<String, Json>| {
        // `node` is the list at `list_path` of groups at `level`.
        let mut l = level;
        loop {
            let n = node.as_array().map_or(0, Vec::len);
            out.insert(format!("{prefix}level{l}"), json!(format!("{list_path}[{n}].name")));
            let last = format!("{list_path}[{}]", n.saturating_sub(1));
            let group = &node[n.saturating_sub(1)];
            if l + 1 >= spec.levels.len() {
                let r = group["rows"].as_array().map_or(0, Vec::len);
                for name in spec.row.iter().flatten().map(|(k, _)| k) {
                    out.insert(format!("{prefix}{name}"), json!(format!("{last}.rows[{r}].{name}")));
                }
                break;
            }
            list_path = format!("{last}.groups");
            node = &group["groups"];
            l += 1;
        }
    };
    if spec.sides.is_empty() {
        let node = &padded[groups - 1]["groups"];
        if spec.levels.len() == 1 {
            let r = padded[groups - 1]["rows"].as_array().map_or(0, Vec::len);
            for name in spec.row.iter().flatten().map(|(k, _)| k) {
                out.insert(name.clone(), json!(format!("{last0}.rows[{r}].{name}")));
            }
        } else {
            walk("", format!("{last0}.groups"), node, 1, &mut out);
        }
    } else {
        for s in sides {
            walk(&format!("{s}."), format!("{last0}.{s}"), &padded[groups - 1][s.as_str()], 1, &mut out);
        }
    }
    out
}

/// Adds the empty row (and the 总分 row) after indicator table `t` of the grid.
fn add_rows(grid: &mut Grid, t: usize, spec: &Field, phantom: &Map<String, Json>, form: &Form) {
    let Some(table) = grid.tables.get(t).cloned() else { return };
    let end = table.first + table.rows.len() as u32;
    let totals = !spec.totals.is_empty();
    let added = 1 + u32::from(totals);
    for it in &mut grid.items {
        if it.row >= end {
            it.row += added;
        } else if it.key == "block" || (it.row < end && it.row + it.rows > end) {
            it.rows += added;
        }
    }
    for later in grid.tables.iter_mut().skip(t + 1) {
        later.first += added;
    }
    let last_col = grid.columns;
    let n = table.columns.len() as u16;
    let span = |c: u16| if c + 1 == n { last_col - c } else { 1 };
    for (c, key) in table.columns.iter().enumerate() {
        let c = c as u16;
        if key == "block" {
            continue;
        }
        let path = phantom.get(key).and_then(Json::as_str).unwrap_or_default().to_string();
        grid.items.push(Item {
            row: end,
            col: c,
            cols: span(c),
            path,
            key: key.clone(),
            phantom: true,
            role: if key.contains("level") { Role::Label } else { Role::Text },
            ..Item::default()
        });
    }
    if totals {
        // 总分: a label up to the first totals column, then the computed sums.
        let at = |key: &str| table.columns.iter().position(|c| c == key).map(|i| i as u16);
        let first = spec.totals.keys().filter_map(|k| at(k)).min().unwrap_or(1);
        let from = u16::from(table.columns.first().is_some_and(|c| c == "block"));
        if first > from {
            grid.items.push(Item {
                row: end + 1,
                col: from,
                cols: first - from,
                text: "总分".into(),
                role: Role::Label,
                ..Item::default()
            });
        }
        for (col, key) in &spec.totals {
            let Some(c) = at(col) else { continue };
            let text = match &form.data[key.as_str()] {
                Json::Number(x) => crate::form::values::format_amount(x.as_f64().unwrap_or_default(), None),
                _ => String::new(),
            };
            grid.items.push(Item {
                row: end + 1,
                col: c,
                cols: span(c),
                text,
                key: "total".into(),
                path: key.clone(),
                ..Item::default()
            });
        }
    }
}

/// The value at a data path (`funds.year.total`, `tasks[2].fiscal`).
pub fn lookup<'a>(data: &'a Json, path: &str) -> Option<&'a Json> {
    let mut at = data;
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            at = at.get(key)?;
        }
        for index in rest.split('[').filter(|s| !s.is_empty()) {
            at = at.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> Field {
        let yaml = r#"
type: indicators
label: 绩效指标
sides: [{key: mid, label: 中期}, {key: year, label: 年度}]
levels: [{label: 一级指标}, {label: 二级指标}]
row:
  name: {type: text, label: 三级指标, required: false, example: 受益学生人数}
  unit: {type: text, label: 度量单位, required: false}
"#;
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn a_new_table_has_a_row_to_type_into_and_a_row_that_adds() {
        let spec = project();
        let year = vec!["year".to_string()];
        let padded = pad(&spec, &Json::Null, &year);
        assert_eq!(padded, json!([{"name": "", "year": [{"name": "", "rows": [{}]}]}]));
        let new = phantom_paths("indicators", &spec, &padded, &year);
        assert_eq!(new["level0"], "indicators[1].name");
        assert_eq!(new["year.level1"], "indicators[0].year[1].name");
        assert_eq!(new["year.name"], "indicators[0].year[0].rows[1].name");
        // Main columns: the levels and the fields with an example, not 度量单位.
        assert_eq!(main_columns(&spec, &year), ["level0", "year.level1", "year.name"]);
        // A group without rows gets one; the side the form has no rows on stays out unless shown.
        let tree = json!([{"name": "A", "year": [{"name": "B", "rows": []}], "mid": []}]);
        let padded = pad(&spec, &tree, &year);
        assert_eq!(padded[0]["year"][0]["rows"], json!([{}]));
        assert_eq!(padded[0]["mid"], json!([]));
        let both = vec!["mid".to_string(), "year".to_string()];
        assert_eq!(pad(&spec, &tree, &both)[0]["mid"], json!([{"name": "", "rows": [{}]}]));
    }

    #[test]
    fn paths_are_looked_up() {
        let d = json!({"a": {"b": [1, {"c": "x"}]}});
        assert_eq!(lookup(&d, "a.b[1].c"), Some(&json!("x")));
        assert_eq!(lookup(&d, "a.b[2]"), None);
    }
}
