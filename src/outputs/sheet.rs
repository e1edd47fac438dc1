//! The spreadsheet grid of a form: where each label and value sits, which
//! cells are merged. Built from the kind's manifest and the indicator table
//! model (`indicators::layout`, the same one the PDF prints), so the .xlsx
//! shows the PDF's table; `xlsx` writes it, `xlsx_import` reads such grids back.
//!
//! The top of the form follows the manifest's fields in order: a scalar is a
//! row `label | value`; a list of texts is a label merged down over one row
//! per item; a list of records is a label merged down over a header row of
//! the record's labels and one row per item; a record is a label merged down
//! over its fields, one column further in. The title and the (2020年度) line
//! come first; the indicator table sits where its field is in the manifest.

use indexmap::IndexMap;
use serde_json::{Map, Value as Json};

use crate::form::kind::{Field, FieldType, Kind};
use crate::layout::indicators::{self, Plan, Table};

/// One cell (or merged block) of the grid.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Item {
    pub row: u32,
    pub col: u16,
    /// Rows and columns it spans (1 for a plain cell).
    pub rows: u32,
    pub cols: u16,
    pub text: String,
    pub role: Role,
    /// The data path of the value the cell shows (`funds.year.fiscal`,
    /// `indicators[0].year[1].rows[2].value`); empty for labels.
    pub path: String,
    /// In the indicator table, the column's key (`level0`, `year.name`, `mid.filler`).
    pub key: String,
    /// Printed before the value (`目标1：`); the editor shows it beside the value.
    pub lead: String,
    /// The editor's empty row at the end of a list: typing into it adds an item.
    pub phantom: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    Title,
    /// The (2020年度) line.
    Subtitle,
    /// A label or column header (bold, centred).
    Label,
    /// Text as typed.
    #[default]
    Text,
    /// A number typed as digits: written as a number with this many decimals
    /// (and thousands separators when typed with them), so it shows as typed.
    Number {
        decimals: u8,
        thousands: bool,
    },
    /// A date (`2022-03-15`): a date cell shown as the PDF prints it, 2022年3月15日.
    Date,
}

/// The Excel serial of a date (days since 1899-12-30), from its `YYYY-MM-DD` text.
pub fn date_serial(text: &str) -> Option<f64> {
    let mut parts = text.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    let days = |y: i64, m: i64, d: i64| {
        // Days since 1970-01-01, proleptic Gregorian (Howard Hinnant's algorithm).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    };
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| (days(y, m, d) - days(1899, 12, 30)) as f64)
}

/// The date of an Excel serial: (year, month, day).
pub fn serial_date(serial: f64) -> (i64, u32, u32) {
    let z = serial.floor() as i64 - 25_569 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The grid of a form: its cells, its width in columns, the column widths
/// (percent of the table) and the rows of the indicator header (repeated on
/// every printed page).
#[derive(Debug, Clone, Default)]
pub struct Grid {
    pub items: Vec<Item>,
    pub columns: u16,
    pub widths: Vec<f64>,
    pub header_rows: Option<(u32, u32)>,
    /// Where each indicator table's rows are (the editor edits rows by their data paths).
    pub tables: Vec<TableRows>,
}

/// An indicator table in the grid: its first row, and per table row the data
/// path of each side's row (none where that side is filler).
#[derive(Debug, Clone, Default)]
pub struct TableRows {
    pub field: String,
    pub first: u32,
    pub rows: Vec<Vec<Option<String>>>,
    /// The printed columns' keys, in order (grid column = position).
    pub columns: Vec<String>,
}

/// Options the grid reads: goal numbering and the form's own labels.
pub struct Look<'a> {
    pub options: &'a Map<String, Json>,
    pub style: indicators::Style,
    /// The editor's grid: blocks the form leaves empty are shown too, lists end
    /// in an empty row to type a new item into, pictures have a cell, and the
    /// title and year are values.
    pub edit: bool,
}

impl Look<'_> {
    fn label(&self, key: &str, default: &str) -> String {
        self.options
            .get("labels")
            .and_then(|m| m.get(key))
            .and_then(Json::as_str)
            .map_or_else(|| default.to_string(), str::to_string)
    }
}

/// The typed text of a number as a number cell: digits with an optional sign,
/// decimals and thousands separators, that print back exactly as typed.
pub fn as_number(text: &str) -> Option<(f64, Role)> {
    let t = text.trim();
    if t != text || t.is_empty() || t.len() > 17 {
        return None;
    }
    let thousands = t.contains(',');
    let plain: String = t.chars().filter(|&c| c != ',').collect();
    let value: f64 = plain.parse().ok().filter(|x: &f64| x.is_finite())?;
    if !plain.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-') {
        return None;
    }
    let decimals = plain.split_once('.').map_or(0, |(_, d)| d.len());
    let role = Role::Number { decimals: u8::try_from(decimals).ok()?, thousands };
    (show_number(value, role) == t).then_some((value, role))
}

/// How a number cell shows: `0.00`, `#,##0.00`.
pub fn show_number(value: f64, role: Role) -> String {
    let Role::Number { decimals, thousands } = role else { return value.to_string() };
    let s = format!("{:.*}", decimals as usize, value);
    if !thousands {
        return s;
    }
    let (sign, s) = s.strip_prefix('-').map_or(("", s.as_str()), |r| ("-", r));
    let (int, frac) = s.split_once('.').map_or((s, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// The fields that are not laid out as rows: the title and the year line.
pub const TITLE_KEYS: [&str; 2] = ["title", "year"];

/// The year line printed under the title, and read back by the import.
pub fn year_line(year: &Json) -> Option<String> {
    year.as_i64().map(|y| format!("（{y}年度）"))
}

/// The grid of a form's typed data (what the user wrote, without computed values).
pub fn grid(kind: &Kind, data: &Json, look: &Look) -> Grid {
    let m = &kind.manifest;
    let tables: Vec<(String, Table)> = m
        .fields
        .iter()
        .filter(|(_, f)| f.ty == FieldType::Indicators)
        .map(|(k, f)| (k.clone(), indicators::layout(k, f, &data[k.as_str()], &Plan::default(), &look.style)))
        .collect();
    let table_cols = tables.iter().map(|(_, t)| t.columns.len()).max().unwrap_or(0);
    let need =
        m.fields.iter().filter(|(k, _)| !TITLE_KEYS.contains(&k.as_str())).map(|(_, f)| width_needed(f, 0)).max();
    let columns = (table_cols.max(need.unwrap_or(2)).max(4)) as u16;
    let mut b = Builder { items: vec![], row: 0, columns, header_rows: None, tables: vec![], edit: look.edit };
    if look.edit {
        // What is typed: a blank title prints the kind's name (the lead).
        let title = data["title"].as_str().unwrap_or_default().to_string();
        let (path, lead) = ("title".to_string(), m.name.clone());
        b.items.push(Item { cols: columns, text: title, role: Role::Title, path, lead, ..Item::default() });
        let year = match &data["year"] {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            _ => String::new(),
        };
        b.items.push(Item {
            row: 1,
            cols: columns,
            text: year,
            role: Role::Subtitle,
            path: "year".into(),
            ..Item::default()
        });
        b.row = 2;
    } else {
        let title = data["title"].as_str().map_or_else(|| m.name.clone(), str::to_string);
        b.put(0, columns, title, Role::Title);
        if let Some(line) = year_line(&data["year"]) {
            b.put(0, columns, line, Role::Subtitle);
        }
    }
    for (key, spec) in &m.fields {
        if TITLE_KEYS.contains(&key.as_str()) {
            continue;
        }
        match tables.iter().find(|(k, _)| k == key) {
            Some((_, table)) => b.table(key, table, spec),
            None => b.field(0, key, spec, &data[key.as_str()], look),
        }
    }
    let widths = match tables.first() {
        Some((_, t)) if t.columns.len() == columns as usize => t.columns.iter().map(|c| c.width).collect(),
        _ => vec![100.0 / columns as f64; columns as usize],
    };
    Grid { items: b.items, columns, widths, header_rows: b.header_rows, tables: b.tables }
}

/// A record of records that all have the same fields (年度资金总额, 其中：财政拨款, …
/// each with 年初预算数, 全年预算数, …) is laid out as a table, as forms print it:
/// its sub-records are rows, their fields are columns. Returns the columns.
pub fn table_columns(f: &Field) -> Option<&IndexMap<String, Field>> {
    if f.ty != FieldType::Record {
        return None;
    }
    let subs = f.fields.as_ref()?;
    let first = subs.values().next()?.fields.as_ref()?;
    let same = |g: &Field| {
        g.ty == FieldType::Record
            && g.fields.as_ref().is_some_and(|x| {
                x.len() == first.len()
                    && x.iter().zip(first).all(|((k, a), (j, b))| k == j && a.label == b.label && is_scalar(a))
            })
    };
    (subs.len() > 1 && subs.values().all(same)).then_some(first)
}

fn is_scalar(f: &Field) -> bool {
    !matches!(
        f.ty,
        FieldType::List | FieldType::Record | FieldType::Signature | FieldType::Indicators | FieldType::Image
    )
}

/// Whether a value has nothing in it (a list without items, a record of blanks).
fn is_blank(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(m) => m.values().all(is_blank),
        _ => false,
    }
}

/// Columns a field needs when its label sits in column `depth`.
fn width_needed(f: &Field, depth: usize) -> usize {
    if let Some(cols) = table_columns(f) {
        return depth + 2 + cols.len();
    }
    match f.ty {
        FieldType::List => match f.item.as_deref() {
            Some(item) if item.ty == FieldType::Record => depth + 1 + item.fields.as_ref().map_or(1, |x| x.len()),
            _ => depth + 2,
        },
        FieldType::Record => {
            f.fields.as_ref().map_or(depth + 2, |x| x.values().map(|c| width_needed(c, depth + 1)).max().unwrap_or(0))
        }
        FieldType::Signature => depth + 3,
        _ => depth + 2,
    }
}

struct Builder {
    items: Vec<Item>,
    row: u32,
    columns: u16,
    header_rows: Option<(u32, u32)>,
    tables: Vec<TableRows>,
    edit: bool,
}

impl Builder {
    /// A full row from column `col` to the end.
    fn put(&mut self, col: u16, cols: u16, text: String, role: Role) {
        self.items.push(Item { row: self.row, col, rows: 1, cols: cols - col, text, role, ..Item::default() });
        self.row += 1;
    }

    fn value(&mut self, row: u32, col: u16, cols: u16, value: &Json, path: String) {
        let text = match value {
            Json::String(s) => s.clone(),
            Json::Null => String::new(),
            Json::Bool(true) => "是".into(),
            Json::Bool(false) => "否".into(),
            other => other.to_string(),
        };
        let role = as_number(&text).map_or(Role::Text, |(_, r)| r);
        self.items.push(Item { row, col, rows: 1, cols, text, role, path, ..Item::default() });
    }

    /// A label in column `col` merged down over the rows from `start` to here.
    fn label_down(&mut self, start: u32, col: u16, text: String) {
        let rows = self.row - start;
        self.items.push(Item { row: start, col, rows, cols: 1, text, role: Role::Label, ..Item::default() });
    }

    /// A header row in this row: the label of each field (the form's own, by
    /// `path.key`) over its span.
    fn heads(&mut self, path: &str, fields: &IndexMap<String, Field>, spans: &[(u16, u16)], look: &Look) {
        for ((k, f), &(col, cols)) in fields.iter().zip(spans) {
            let text = look.label(&format!("{path}.{k}"), &f.label);
            self.items.push(Item { row: self.row, col, rows: 1, cols, text, role: Role::Label, ..Item::default() });
        }
    }

    /// Splits the columns from `from` to the end among `n` cells: (start, span).
    fn spans(&self, from: u16, n: usize) -> Vec<(u16, u16)> {
        let room = (self.columns - from) as usize;
        let n = n.max(1);
        let (base, extra) = (room / n, room % n);
        let mut at = from;
        (0..n)
            .map(|i| {
                // Fields beyond the room share the last column (never for the grids we build).
                let span = (base + usize::from(i < extra)).max(1) as u16;
                let here = at.min(self.columns - 1);
                at += span;
                (here, span.min(self.columns - here))
            })
            .collect()
    }

    /// A field with its label in column `col`; `path` is its dotted key (`funds.year.total`),
    /// by which the form's `labels` option may rename it.
    fn field(&mut self, col: u16, path: &str, spec: &Field, value: &Json, look: &Look) {
        let label = look.label(path, &spec.label);
        let start = self.row;
        // A block the form leaves empty (no goals, no 签章区) is not printed, as on the PDF.
        let block = matches!(spec.ty, FieldType::List | FieldType::Record | FieldType::Signature);
        if block && !spec.required && is_blank(value) && !self.edit {
            return;
        }
        if let Some(columns) = table_columns(spec) {
            self.table_record(col, path, spec, columns, value, look);
            self.label_down(start, col, label);
            return;
        }
        match spec.ty {
            FieldType::Image if self.edit => {
                let text = value.as_str().unwrap_or_default().to_string();
                let (cols, path) = (self.columns - col - 1, path.to_string());
                let key = "image".to_string();
                self.items.push(Item { row: self.row, col: col + 1, cols, text, path, key, ..Item::default() });
                self.row += 1;
            }
            FieldType::Image => return,
            FieldType::List => {
                let items = value.as_array().cloned().unwrap_or_default();
                let item = spec.item.as_deref().expect("checked manifest");
                if item.ty == FieldType::Record {
                    let fields = item.fields.as_ref().expect("checked manifest");
                    let spans = self.spans(col + 1, fields.len());
                    self.heads(path, fields, &spans, look);
                    self.row += 1;
                    let phantom = usize::from(self.edit);
                    for (i, it) in items.iter().chain(std::iter::repeat_n(&Json::Null, phantom)).enumerate() {
                        for ((k, _), (c, n)) in fields.iter().zip(&spans) {
                            self.value(self.row, *c, *n, &it[k.as_str()], format!("{path}[{i}].{k}"));
                            self.items.last_mut().expect("just pushed").phantom = i == items.len();
                        }
                        self.row += 1;
                    }
                } else {
                    let number = look.options.get("number_goals").and_then(Json::as_bool).unwrap_or(true);
                    let phantom = usize::from(self.edit);
                    for (i, it) in items.iter().chain(std::iter::repeat_n(&Json::Null, phantom)).enumerate() {
                        let prefix = match (&spec.item_label, number) {
                            (Some(l), true) => format!("{}：", l.replace("{n}", &(i + 1).to_string())),
                            _ => String::new(),
                        };
                        let value = it.as_str().unwrap_or_default();
                        let (text, lead) = if self.edit {
                            (value.to_string(), prefix)
                        } else {
                            (format!("{prefix}{value}"), String::new())
                        };
                        self.items.push(Item {
                            row: self.row,
                            col: col + 1,
                            rows: 1,
                            cols: self.columns - col - 1,
                            text,
                            role: Role::Text,
                            path: format!("{path}[{i}]"),
                            lead,
                            phantom: i == items.len(),
                            ..Item::default()
                        });
                        self.row += 1;
                    }
                }
                if self.row == start {
                    self.value(self.row, col + 1, self.columns - col - 1, &Json::Null, String::new());
                    self.row += 1;
                }
            }
            FieldType::Record | FieldType::Signature => {
                let fields = match spec.ty {
                    FieldType::Signature => crate::form::kind::signature_fields(),
                    _ => spec.fields.as_ref().expect("checked manifest"),
                };
                for (k, f) in fields {
                    self.field(col + 1, &format!("{path}.{k}"), f, &value[k.as_str()], look);
                }
            }
            FieldType::Date if value.as_str().and_then(date_serial).is_some() => {
                let text = value.as_str().unwrap_or_default().to_string();
                let cols = self.columns - col - 1;
                self.items.push(Item {
                    row: self.row,
                    col: col + 1,
                    rows: 1,
                    cols,
                    text,
                    role: Role::Date,
                    path: path.to_string(),
                    ..Item::default()
                });
                self.row += 1;
            }
            _ => {
                self.value(self.row, col + 1, self.columns - col - 1, value, path.to_string());
                self.row += 1;
            }
        }
        if self.row > start {
            self.label_down(start, col, label);
        }
    }

    /// A record of like records as a table: a header row of the column labels,
    /// then a row per sub-record with its label first.
    fn table_record(
        &mut self,
        col: u16,
        path: &str,
        spec: &Field,
        columns: &IndexMap<String, Field>,
        value: &Json,
        look: &Look,
    ) {
        let spans = self.spans(col + 2, columns.len());
        self.items.push(Item {
            row: self.row,
            col: col + 1,
            rows: 1,
            cols: 1,
            text: String::new(),
            role: Role::Label,
            ..Item::default()
        });
        self.heads(path, columns, &spans, look);
        self.row += 1;
        for (sub, f) in spec.fields.iter().flatten() {
            let text = look.label(&format!("{path}.{sub}"), &f.label);
            self.items.push(Item {
                row: self.row,
                col: col + 1,
                rows: 1,
                cols: 1,
                text,
                role: Role::Label,
                ..Item::default()
            });
            for ((k, _), (c, n)) in columns.iter().zip(&spans) {
                self.value(self.row, *c, *n, &value[sub.as_str()][k.as_str()], format!("{path}.{sub}.{k}"));
            }
            self.row += 1;
        }
    }

    /// The indicator table: its header row(s), then its cells as the PDF prints them.
    fn table(&mut self, field: &str, table: &Table, spec: &Field) {
        let n = table.columns.len() as u16;
        // The last column takes up the grid's remaining width.
        let span = |c: usize, colspan: usize| -> u16 {
            let end = c + colspan;
            if end == n as usize { self.columns - c as u16 } else { colspan as u16 }
        };
        let top = self.row;
        let sided = !spec.sides.is_empty();
        let side_of = |key: &str| spec.sides.iter().position(|s| key.starts_with(&format!("{}.", s.key)));
        let header_height = if sided { 2 } else { 1 };
        let block = table.columns.first().is_some_and(|c| c.key == "block");
        for (i, head) in table.columns.iter().enumerate() {
            if i == 0 && block {
                continue; // the block label spans the header and the rows
            }
            match side_of(&head.key) {
                Some(_) => self.items.push(Item {
                    row: top + 1,
                    col: i as u16,
                    rows: 1,
                    cols: span(i, 1),
                    text: head.label.clone(),
                    role: Role::Label,
                    ..Item::default()
                }),
                None => self.items.push(Item {
                    row: top,
                    col: i as u16,
                    rows: header_height,
                    cols: span(i, 1),
                    text: head.label.clone(),
                    role: Role::Label,
                    ..Item::default()
                }),
            }
        }
        if sided {
            for (s, side) in spec.sides.iter().enumerate() {
                let cols: Vec<usize> =
                    (0..table.columns.len()).filter(|&i| side_of(&table.columns[i].key) == Some(s)).collect();
                if let (Some(&a), Some(&z)) = (cols.first(), cols.last()) {
                    let label = format!("{}指标", side.label);
                    self.items.push(Item {
                        row: top,
                        col: a as u16,
                        rows: 1,
                        cols: span(a, z - a + 1),
                        text: label,
                        role: Role::Label,
                        ..Item::default()
                    });
                }
            }
        }
        self.header_rows = Some((top, top + header_height - 1));
        let first = top + header_height;
        self.tables.push(TableRows {
            field: field.to_string(),
            first,
            rows: table.rows.iter().map(|r| r.paths.clone()).collect(),
            columns: table.columns.iter().map(|h| h.key.clone()).collect(),
        });
        for row in &table.rows {
            let mut c = 0usize;
            for cell in &row.cells {
                // Cells come in column order; skip columns covered by cells from rows above.
                c = table.index.get(&cell.key).copied().unwrap_or_else(|| {
                    // A side's filler starts at that side's first column.
                    let side = cell.key.trim_end_matches("filler");
                    table.columns.iter().position(|h| h.key.starts_with(side)).unwrap_or(c)
                });
                let (r, rows) = if cell.head {
                    (top, cell.rowspan as u32 + header_height)
                } else {
                    (first + row.index as u32, cell.rowspan as u32)
                };
                let role = if cell.key == "block" || cell.key.ends_with("level0") || cell.key.contains("level") {
                    Role::Label
                } else {
                    as_number(&cell.text).map_or(Role::Text, |(_, r)| r)
                };
                self.items.push(Item {
                    row: r,
                    col: c as u16,
                    rows,
                    cols: span(c, cell.colspan),
                    text: cell.text.clone(),
                    role,
                    path: cell.path.clone().unwrap_or_default(),
                    key: cell.key.clone(),
                    ..Item::default()
                });
            }
        }
        self.row = first + table.rows.len() as u32;
        if table.rows.is_empty() {
            self.row = first;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_typed_as_digits_show_as_typed() {
        for typed in ["10.00", "3600.4", "0", "-5", "89.974", "3,309,840.00", "1,000"] {
            let (value, role) = as_number(typed).unwrap_or_else(|| panic!("{typed}"));
            assert_eq!(show_number(value, role), typed);
        }
        // Text stays text: it would not print back the same.
        for typed in ["007", "1,00", "250万", "/", "≥95%", "1e5", " 10", "12345678901234567890", "."] {
            assert!(as_number(typed).is_none(), "{typed}");
        }
    }

    #[test]
    fn dates_and_excel_serials_agree() {
        assert_eq!(date_serial("1900-03-01"), Some(61.0));
        assert_eq!(date_serial("2021-01-28"), Some(44224.0));
        for (y, m, d) in [(2021, 1, 28), (2000, 2, 29), (2024, 12, 31), (1999, 3, 1)] {
            let serial = date_serial(&format!("{y:04}-{m:02}-{d:02}")).unwrap();
            assert_eq!(serial_date(serial), (y, m, d));
        }
        assert_eq!(date_serial("2021-13-01"), None);
    }
}
