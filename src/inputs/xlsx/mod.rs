//! `formpress import FILE.xlsx`: a filled form, as Excel or WPS saves it,
//! back to the kind's YAML.
//!
//! The file is checked before it is parsed (a zip's entries are inflated
//! once, bounded, so a zip bomb costs nothing; sheets are read cell by cell
//! up to a row, column and cell limit). Labels are found by their text
//! wherever they sit (spaces and full-width forms normalised); a value is the
//! cell to the right of its label; a merged label covers the rows below it
//! (a list's items, a 一级指标's rows). Numbers are read as the cell shows
//! them (its number format: `0.00`, `0%`, dates). Formulas are never
//! evaluated: their saved value is read and a comment says so. What could
//! not be placed is listed in comments naming the cell as Excel does
//! (`Sheet1!C12`).

mod blank;
mod cells;
mod emit;
mod labels;
mod place;
mod shape;
mod table;

use std::collections::HashSet;

use crate::files::guard;
use crate::form::kind::{Field, Kind};
use crate::form::yaml_write;
use crate::layout::Engine;
use crate::outputs::xlsx::{META_KIND, META_OPTIONS, META_SHEET};

pub use blank::{NewKind, SKELETON, kind_from_blank};
pub use cells::column_name;
use cells::{Book, Cells, clip, read_book};
use emit::{Y, emit_map};
use labels::{caption, norm};
use place::Walk;

/// Limits that keep a hostile file cheap: inflated bytes per zip entry and in
/// all, entries, and what a sheet may hold.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
pub const MAX_ENTRY_BYTES: u64 = 64 << 20;
pub const MAX_TOTAL_BYTES: u64 = 256 << 20;
pub const MAX_ENTRIES: usize = 10_000;
pub const MAX_ROWS: u32 = 20_000;
pub const MAX_COLS: u32 = 256;
pub const MAX_CELLS: usize = 200_000;
/// Cells not placed that are listed one by one (the rest are counted).
pub const MAX_NOTES: usize = 100;
/// Most CPU time one import may take (200 000 cells take about a second).
pub const MAX_TIME: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug)]
pub enum ImportError {
    /// Neither a zip (.xlsx) nor an OLE file (.xls, .et).
    NotSpreadsheet,
    /// An OpenDocument spreadsheet (.ods): calamine reads no merged cells from it.
    Ods,
    /// The zip or OLE structure is broken.
    Broken(String),
    /// Over a limit (a zip bomb, a sheet too large).
    TooLarge(String),
    /// No visible sheet has the labels of any kind.
    NoForm,
    /// `--kind` names no known kind.
    UnknownKind(String),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            ImportError::NotSpreadsheet => write!(f, "不是电子表格文件（只能读 .xlsx，以及 .xls、.et）"),
            ImportError::Ods => write!(
                f,
                "这是 OpenDocument 表格（.ods），读不出其中的合并单元格；请在 WPS、LibreOffice 或 Excel 中另存为 .xlsx 再导入"
            ),
            ImportError::Broken(m) => write!(f, "电子表格文件已损坏，无法读取：{m}"),
            ImportError::TooLarge(m) => write!(f, "电子表格超出限制，未读取：{m}"),
            ImportError::NoForm => {
                write!(f, "没有哪张可见的工作表像是已知的表单（找不到表单的栏目名称）；可用 --kind 指定种类")
            }
            ImportError::UnknownKind(k) => write!(f, "未知的表单种类 {k}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// An imported form: its kind, the YAML text, and what was noted on the way.
#[derive(Debug)]
pub struct Imported {
    pub kind: String,
    pub sheet: String,
    pub yaml: String,
    /// Cells not placed (the first `MAX_NOTES`), formulas read by their saved value, hidden sheets skipped.
    pub notes: Vec<String>,
    /// How many cells with text could not be placed.
    pub unplaced: usize,
}

/// Reads a spreadsheet file's bytes into the YAML of a form.
pub fn import(engine: &Engine, bytes: &[u8], kind: Option<&str>) -> Result<Imported, ImportError> {
    read(engine, bytes, kind).map(|r| r.imported)
}

/// An import with the parts its YAML is written from.
struct Read {
    imported: Imported,
    data: Vec<(String, Y)>,
    options: serde_json::Map<String, serde_json::Value>,
}

fn read(engine: &Engine, bytes: &[u8], kind: Option<&str>) -> Result<Read, ImportError> {
    let given = match kind {
        Some(k) => Some(engine.catalog().kind(k).ok_or_else(|| ImportError::UnknownKind(k.to_string()))?),
        None => None,
    };
    let deadline = guard::Deadline::after(MAX_TIME);
    let Book { sheets, meta, mut notes, meta_hidden } = read_book(bytes, &deadline)?;
    let meta_kind = meta.get(META_KIND).and_then(|k| engine.catalog().kind(k));
    let options: serde_json::Map<String, serde_json::Value> =
        meta.get(META_OPTIONS).and_then(|o| serde_json::from_str(o).ok()).unwrap_or_default();
    // The sheet and kind with the most labels found; a kind given or named by the file wins.
    let mut best: Option<(usize, &Cells, &Kind)> = None;
    for cells in &sheets {
        let kinds: Vec<&Kind> = match given.or(meta_kind) {
            Some(k) => vec![k],
            None => engine.catalog().kinds().collect(),
        };
        for k in kinds {
            let score = score(k, cells);
            if best.is_none_or(|(s, _, _)| score > s) {
                best = Some((score, cells, k));
            }
        }
    }
    let Some((score, cells, kind)) = best else { return Err(ImportError::NoForm) };
    if score < 2 && given.is_none() {
        return Err(ImportError::NoForm);
    }
    let mut reader = Walk {
        cells,
        used: HashSet::new(),
        kind,
        options: &options,
        own: meta_kind.is_some(),
        notes: vec![],
        captions: vec![],
        table_rows: None,
        unnumbered: false,
        no_year: false,
        seen: Default::default(),
        title: None,
        header_row: None,
    };
    let data = reader.form();
    if deadline.passed() {
        return Err(ImportError::TooLarge(format!("读取用了超过 {} 秒 CPU 时间", MAX_TIME.as_secs())));
    }
    if meta_hidden && (meta_kind.is_some() || !options.is_empty()) {
        notes.push(format!(
            "表单种类和版式选项取自深度隐藏的工作表「{META_SHEET}」（在 Excel 和 WPS 中看不到）：{} {}",
            meta.get(META_KIND).map_or("", String::as_str),
            serde_json::Value::Object(options.clone())
        ));
    }
    notes.extend(cells.notes.iter().cloned());
    for (i, n) in cells.unseen.iter().enumerate() {
        if i == MAX_NOTES {
            notes.push(format!("另有 {} 处看不见或显示不同的单元格，未逐一列出", cells.unseen.len() - MAX_NOTES));
            break;
        }
        notes.push(n.clone());
    }
    notes.extend(reader.notes.iter().cloned());
    let unplaced: Vec<(&(u32, u32), &String)> =
        cells.text.iter().filter(|(at, text)| !reader.used.contains(at) && !text.trim().is_empty()).collect();
    for &(&(r, c), text) in unplaced.iter().take(MAX_NOTES) {
        notes.push(format!("未能识别：{} 「{}」", cells.name(r, c), clip(text)));
    }
    if unplaced.len() > MAX_NOTES {
        notes.push(format!("另有 {} 处未能识别，未逐一列出", unplaced.len() - MAX_NOTES));
    }
    // The captions the sheet prints in its own words, so that the PDF prints them too (option `labels`).
    let mut options = options.clone();
    if reader.unnumbered {
        options.entry("number_goals").or_insert(serde_json::Value::Bool(false));
    }
    if reader.no_year {
        options.entry("year_line").or_insert(serde_json::Value::Bool(false));
    }
    // Amounts in 元: the money block's caption (项目资金（元）) or a line 金额单位：元 says so.
    let in_yuan = reader.captions.iter().any(|(k, t)| k == "funds" && norm(t).ends_with("（元）"))
        || cells.text.values().any(|t| norm(t).ends_with("单位：元"));
    if meta_kind.is_none() && in_yuan {
        options.entry("unit").or_insert(serde_json::Value::String("元".into()));
    }
    if !reader.captions.is_empty() {
        let labels = options.entry("labels").or_insert_with(|| serde_json::Value::Object(Default::default()));
        if let Some(labels) = labels.as_object_mut() {
            for (k, text) in &reader.captions {
                labels.entry(k.clone()).or_insert_with(|| serde_json::Value::String(text.clone()));
            }
        }
    }
    // The sheet's shape (column order, blank columns, cells it lacks) and the rule set its names follow.
    if meta_kind.is_none() {
        shape::into_options(kind, &reader.seen, &mut options);
        shape::fitting_rule_sets(engine, kind, &mut options, |o| write_yaml(&cells.sheet, &[], &kind.id, o, &data));
    }
    let yaml = write_yaml(&cells.sheet, &notes, &kind.id, &options, &data);
    let imported =
        Imported { kind: kind.id.clone(), sheet: cells.sheet.clone(), yaml, notes, unplaced: unplaced.len() };
    Ok(Read { imported, data, options })
}

/// The YAML of an import: the notes as comments at the top, then the kind,
/// the options and the data. Every text goes through the YAML writer, so a
/// cell holding a carriage return, DEL or U+FFFE reads back as it was.
fn write_yaml(
    sheet: &str,
    notes: &[String],
    kind: &str,
    options: &serde_json::Map<String, serde_json::Value>,
    data: &[(String, Y)],
) -> String {
    let mut yaml =
        yaml_write::comment(&format!("由 formpress import 从工作表「{sheet}」读入；请核对后再 formpress check"));
    for n in notes {
        yaml.push_str(&yaml_write::comment(n));
    }
    yaml.push_str(&format!("form: {}\n", yaml_write::scalar(kind)));
    if !options.is_empty() {
        yaml.push_str(&format!("options: {}\n", yaml_write::flow(&serde_json::Value::Object(options.clone()))));
    }
    emit_map(data, 0, &mut yaml);
    yaml
}

/// How many of a kind's labels a sheet shows.
fn score(kind: &Kind, cells: &Cells) -> usize {
    let mut labels: HashSet<String> = HashSet::new();
    fn collect(fields: &indexmap::IndexMap<String, Field>, out: &mut HashSet<String>) {
        for f in fields.values() {
            out.insert(caption(&f.label));
            out.extend(f.aka.iter().map(|a| caption(a)));
            if let Some(sub) = &f.fields {
                collect(sub, out);
            }
            if let Some(item) = f.item.as_deref().and_then(|i| i.fields.as_ref()) {
                collect(item, out);
            }
            if let Some(row) = &f.row {
                collect(row, out);
            }
            for l in &f.levels {
                out.insert(caption(&l.label));
            }
        }
    }
    collect(&kind.manifest.fields, &mut labels);
    let mut found: HashSet<String> = HashSet::new();
    let mut title = 0;
    for text in cells.text.values() {
        let n = norm(text);
        if labels.contains(&caption(text)) {
            found.insert(caption(text));
        }
        if n.contains(&norm(&kind.manifest.name)) {
            title = 3;
        }
    }
    found.len() + title
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The CPU-time budget is checked while cells are read: a workbook read
    /// after its budget is spent is refused, the same workbook in time is read.
    #[test]
    fn a_workbook_past_its_time_budget_is_refused() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for r in 0..2048 {
            sheet.write_string(r, 0, "项目").unwrap();
        }
        let bytes = book.save_to_buffer().unwrap();
        assert!(read_book(&bytes, &guard::Deadline::after(MAX_TIME)).is_ok());
        let spent = guard::Deadline::after(std::time::Duration::ZERO);
        match read_book(&bytes, &spent) {
            Err(ImportError::TooLarge(why)) => assert!(why.contains("秒 CPU 时间"), "{why}"),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("read past its time budget"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Whatever the cells hold, the YAML an import writes reads back as
        /// those values, and a note is a comment however it ends.
        #[test]
        fn any_cell_text_reads_back(
            values in prop::collection::vec(crate::form::yaml_write::hostile_text(), 1..6),
            notes in prop::collection::vec(crate::form::yaml_write::hostile_text(), 0..4),
            sheet in crate::form::yaml_write::hostile_text(),
            option in crate::form::yaml_write::hostile_text(),
        ) {
            let data: Vec<(String, Y)> = values
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("k{i}"), if i % 2 == 0 { Y::Text(v.clone()) } else { Y::List(vec![Y::Text(v.clone())]) }))
                .collect();
            let mut options = serde_json::Map::new();
            options.insert(option.clone(), serde_json::Value::String(option.clone()));
            let yaml = write_yaml(&sheet, &notes, "zhengzhou-2020-dept-overall", &options, &data);
            let (_, root) = crate::form::yaml::parse(yaml.as_bytes()).map_err(|e| TestCaseError::fail(format!("{}\n{yaml}", e.message)))?;
            let json = root.to_json();
            let keys = 2 + values.len();
            prop_assert_eq!(json.as_object().map_or(0, |m| m.len()), keys, "{}", yaml);
            prop_assert_eq!(&json["options"][&option], &serde_json::Value::String(option.clone()));
            for (i, v) in values.iter().enumerate() {
                let got = if i % 2 == 0 { &json[format!("k{i}")] } else { &json[format!("k{i}")][0] };
                prop_assert_eq!(got, &serde_json::Value::String(v.clone()), "{}", yaml);
            }
        }
    }
}
