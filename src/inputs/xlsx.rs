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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Cursor, Read};

use calamine::{Data, DataRef, Reader, SheetVisible, Xls, Xlsx};

use crate::form::kind::{Field, FieldType, Kind};
use crate::layout::Engine;
use crate::outputs::sheet::{self, Role};
use crate::outputs::xlsx::{META_KIND, META_OPTIONS, META_SHEET};

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

#[derive(Debug)]
pub enum ImportError {
    /// Neither a zip (.xlsx) nor an OLE file (.xls, .et).
    NotSpreadsheet,
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

/// One sheet's cells as they display, with its merged regions.
#[derive(Debug, Default)]
struct Cells {
    sheet: String,
    text: BTreeMap<(u32, u32), String>,
    /// Every cell inside a merged region → the region (r0, c0, r1, c1).
    merged: HashMap<(u32, u32), (u32, u32, u32, u32)>,
    formulas: BTreeMap<(u32, u32), String>,
    notes: Vec<String>,
    /// Rows and columns up to the last cell with text (set once the sheet is read).
    size: (u32, u32),
}

impl Cells {
    fn region(&self, r: u32, c: u32) -> (u32, u32, u32, u32) {
        self.merged.get(&(r, c)).copied().unwrap_or((r, c, r, c))
    }

    /// The text shown at a cell (a merged region's text everywhere in it).
    fn at(&self, r: u32, c: u32) -> &str {
        let (r0, c0, _, _) = self.region(r, c);
        self.text.get(&(r0, c0)).map_or("", String::as_str)
    }

    fn name(&self, r: u32, c: u32) -> String {
        format!("{}!{}{}", self.sheet, column_name(c), r + 1)
    }

    fn rows(&self) -> u32 {
        self.size.0
    }

    fn cols(&self) -> u32 {
        self.size.1
    }

    /// Called once the sheet is read.
    fn measure(&mut self) {
        let rows = self.text.keys().map(|k| k.0 + 1).max().unwrap_or(0);
        let cols = self.text.keys().map(|k| k.1 + 1).max().unwrap_or(0);
        self.size = (rows, cols);
    }
}

/// `A`, `B`, … `Z`, `AA`, … as Excel names columns.
pub fn column_name(c: u32) -> String {
    let mut n = c + 1;
    let mut s = vec![];
    while n > 0 {
        s.push((b'A' + ((n - 1) % 26) as u8) as char);
        n = (n - 1) / 26;
    }
    s.iter().rev().collect()
}

/// Label text as compared: no spaces, full-width punctuation, no trailing colon.
fn norm(text: &str) -> String {
    let s: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            ':' => '：',
            c => c,
        })
        .collect();
    s.trim_end_matches('：').to_string()
}

/// Reads a spreadsheet file's bytes into the YAML of a form.
pub fn import(engine: &Engine, bytes: &[u8], kind: Option<&str>) -> Result<Imported, ImportError> {
    let given = match kind {
        Some(k) => Some(engine.catalog().kind(k).ok_or_else(|| ImportError::UnknownKind(k.to_string()))?),
        None => None,
    };
    let Book { sheets, meta, mut notes } = if bytes.starts_with(b"PK\x03\x04") {
        precheck_zip(bytes)?;
        read_xlsx(bytes)?
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        read_xls(bytes)?
    } else {
        return Err(ImportError::NotSpreadsheet);
    };
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
    let mut reader =
        Walk { cells, used: HashSet::new(), kind, options: &options, own: meta_kind.is_some(), notes: vec![] };
    let data = reader.form();
    notes.extend(cells.notes.iter().cloned());
    notes.extend(reader.notes.iter().cloned());
    let unplaced: Vec<(&(u32, u32), &String)> =
        cells.text.iter().filter(|(at, text)| !reader.used.contains(at) && !text.trim().is_empty()).collect();
    for &(&(r, c), text) in unplaced.iter().take(MAX_NOTES) {
        let shown: String = text.chars().take(40).collect();
        notes.push(format!("未能识别：{} 「{}」", cells.name(r, c), shown.replace('\n', " ")));
    }
    if unplaced.len() > MAX_NOTES {
        notes.push(format!("另有 {} 处未能识别，未逐一列出", unplaced.len() - MAX_NOTES));
    }
    let mut yaml = String::new();
    yaml.push_str(&format!("# 由 formpress import 从工作表「{}」读入；请核对后再 formpress check\n", cells.sheet));
    for n in &notes {
        yaml.push_str(&format!("# {}\n", n.replace('\n', " ")));
    }
    yaml.push_str(&format!("form: {}\n", kind.id));
    if !options.is_empty() {
        yaml.push_str(&format!("options: {}\n", serde_json::Value::Object(options.clone())));
    }
    emit_map(&data, 0, &mut yaml);
    Ok(Imported { kind: kind.id.clone(), sheet: cells.sheet.clone(), yaml, notes, unplaced: unplaced.len() })
}

/// Whether a file is a spreadsheet formpress wrote (it has the `formpress`
/// sheet): `render --format xlsx` replaces only such a file, never a workbook
/// a user filled in.
pub fn made_by_formpress(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
        && precheck_zip(bytes).is_ok()
        && Xlsx::new(Cursor::new(bytes)).is_ok_and(|book: Xlsx<_>| book.sheet_names().iter().any(|n| n == META_SHEET))
}

/// How many of a kind's labels a sheet shows.
fn score(kind: &Kind, cells: &Cells) -> usize {
    let mut labels: HashSet<String> = HashSet::new();
    fn collect(fields: &indexmap::IndexMap<String, Field>, out: &mut HashSet<String>) {
        for f in fields.values() {
            out.insert(norm(&f.label));
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
                out.insert(norm(&l.label));
            }
        }
    }
    collect(&kind.manifest.fields, &mut labels);
    let mut found: HashSet<String> = HashSet::new();
    let mut title = 0;
    for text in cells.text.values() {
        let n = norm(text);
        if labels.contains(&n) {
            found.insert(n.clone());
        }
        if n.contains(&norm(&kind.manifest.name)) {
            title = 3;
        }
    }
    found.len() + title
}

/// A zip is inflated once, bounded, before the reader sees it: entry count,
/// declared and actual sizes (a declared size can lie).
fn precheck_zip(bytes: &[u8]) -> Result<(), ImportError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| ImportError::Broken(e.to_string()))?;
    if zip.len() > MAX_ENTRIES {
        return Err(ImportError::TooLarge(format!("压缩包有 {} 个文件，上限 {MAX_ENTRIES}", zip.len())));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| ImportError::Broken(e.to_string()))?;
        let name = entry.name().map(|n| n.to_string()).unwrap_or_default();
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(ImportError::TooLarge(format!("{name} 解压后 {} 字节，上限 {MAX_ENTRY_BYTES}", entry.size())));
        }
        let mut sink = std::io::sink();
        let n = std::io::copy(&mut (&mut entry).take(MAX_ENTRY_BYTES + 1), &mut sink)
            .map_err(|e| ImportError::Broken(format!("{name}：{e}")))?;
        if n > MAX_ENTRY_BYTES {
            return Err(ImportError::TooLarge(format!("{name} 解压后超过 {MAX_ENTRY_BYTES} 字节（压缩炸弹？）")));
        }
        total += n;
        if total > MAX_TOTAL_BYTES {
            return Err(ImportError::TooLarge(format!("解压后共超过 {MAX_TOTAL_BYTES} 字节")));
        }
    }
    Ok(())
}

/// What a workbook gave: its visible sheets, the `formpress` sheet's
/// entries, and notes (hidden sheets skipped).
#[derive(Default)]
struct Book {
    sheets: Vec<Cells>,
    meta: HashMap<String, String>,
    notes: Vec<String>,
}

impl Book {
    /// Hidden sheets are not read: what a user cannot see is not their form
    /// (formpress's own hidden sheet is read for the kind and options only).
    fn wants(&mut self, sheet: &calamine::Sheet) -> bool {
        if sheet.visible != SheetVisible::Visible && sheet.name != META_SHEET {
            self.notes.push(format!("跳过隐藏的工作表「{}」", sheet.name));
            return false;
        }
        true
    }

    fn add(&mut self, mut cells: Cells) {
        cells.measure();
        if cells.sheet == META_SHEET {
            for r in 0..cells.rows() {
                self.meta.insert(cells.at(r, 0).to_string(), cells.at(r, 1).to_string());
            }
        } else {
            self.sheets.push(cells);
        }
    }
}

/// An error value in a cell (#DIV/0!): read as blank, with a note.
fn error_note(cells: &mut Cells, r: u32, c: u32, e: &calamine::CellErrorType) {
    let name = cells.name(r, c);
    cells.notes.push(format!("{name} 是错误值 {e}，按空格处理"));
}

fn too_large(sheet: &str, what: String) -> ImportError {
    ImportError::TooLarge(format!("工作表「{sheet}」{what}"))
}

fn bounded(sheet: &str, r: u32, c: u32, count: usize) -> Result<(), ImportError> {
    if r >= MAX_ROWS {
        return Err(too_large(sheet, format!("超过 {MAX_ROWS} 行")));
    }
    if c >= MAX_COLS {
        return Err(too_large(sheet, format!("超过 {MAX_COLS} 列")));
    }
    if count >= MAX_CELLS {
        return Err(too_large(sheet, format!("超过 {MAX_CELLS} 个单元格")));
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8]) -> Result<Book, ImportError> {
    let broken = |e: calamine::XlsxError| ImportError::Broken(e.to_string());
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(broken)?;
    let mut out = Book::default();
    for s in book.sheets_metadata().to_vec() {
        if !out.wants(&s) {
            continue;
        }
        let mut cells = Cells { sheet: s.name.clone(), ..Cells::default() };
        {
            let mut reader = book.worksheet_cells_reader(&s.name).map_err(broken)?;
            let mut count = 0;
            while let Some((cell, style)) = reader.next_cell_with_style_id().map_err(broken)? {
                let (r, c) = cell.get_position();
                count += 1;
                bounded(&s.name, r, c, count)?;
                let format =
                    reader.styles().get(style).and_then(|st| st.number_format.as_ref()).map(|f| f.format_code.clone());
                let text = match cell.get_value() {
                    DataRef::Error(e) => {
                        error_note(&mut cells, r, c, e);
                        String::new()
                    }
                    v => shown(v, format.as_deref()),
                };
                if !text.is_empty() {
                    cells.text.insert((r, c), text);
                }
            }
        }
        {
            let mut reader = book.worksheet_cells_reader(&s.name).map_err(broken)?;
            let mut count = 0;
            while let Some(f) = reader.next_formula().map_err(broken)? {
                count += 1;
                let (r, c) = f.get_position();
                bounded(&s.name, r, c, count)?;
                if !f.get_value().is_empty() {
                    cells.formulas.insert((r, c), f.get_value().clone());
                }
            }
        }
        for ((r, c), formula) in &cells.formulas {
            let value = cells.text.get(&(*r, *c)).cloned().unwrap_or_default();
            cells.notes.push(format!(
                "{}!{}{} 是公式 ={formula}，未计算，取文件里保存的值「{value}」",
                s.name,
                column_name(*c),
                r + 1
            ));
        }
        let merges = book.merge_cells_by_sheet_name(&s.name).map_err(broken)?;
        add_merges(&mut cells, &merges)?;
        out.add(cells);
    }
    Ok(out)
}

fn add_merges(cells: &mut Cells, merges: &[calamine::Dimensions]) -> Result<(), ImportError> {
    let mut covered = 0usize;
    for d in merges {
        let (r0, c0) = d.start;
        let (r1, c1) = d.end;
        bounded(&cells.sheet, r1, c1, 0)?;
        covered += ((r1 - r0 + 1) * (c1 - c0 + 1)) as usize;
        bounded(&cells.sheet, 0, 0, covered)?;
        for r in r0..=r1 {
            for c in c0..=c1 {
                cells.merged.insert((r, c), (r0, c0, r1, c1));
            }
        }
    }
    Ok(())
}

fn read_xls(bytes: &[u8]) -> Result<Book, ImportError> {
    let broken = |e: calamine::XlsError| ImportError::Broken(e.to_string());
    let mut book: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(broken)?;
    let mut out = Book::default();
    for s in book.sheets_metadata().to_vec() {
        if !out.wants(&s) {
            continue;
        }
        let range = book.worksheet_range(&s.name).map_err(broken)?;
        let mut cells = Cells { sheet: s.name.clone(), ..Cells::default() };
        for (count, (r, c, v)) in range.used_cells().enumerate() {
            let (r, c) = (r as u32 + range.start().unwrap_or((0, 0)).0, c as u32 + range.start().unwrap_or((0, 0)).1);
            bounded(&s.name, r, c, count)?;
            let text = match v {
                Data::Int(i) => i.to_string(),
                Data::Float(x) => crate::form::values::format_amount(*x, None),
                Data::String(t) => t.trim_end().to_string(),
                Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
                Data::DateTime(d) => date_text(d.as_f64(), None),
                Data::DateTimeIso(t) | Data::DurationIso(t) => t.clone(),
                Data::Error(e) => {
                    error_note(&mut cells, r, c, e);
                    String::new()
                }
                Data::Empty => String::new(),
            };
            if !text.is_empty() {
                cells.text.insert((r, c), text);
            }
        }
        let merges = book.merge_cells_by_sheet_name(&s.name).map_err(broken)?;
        add_merges(&mut cells, &merges)?;
        out.add(cells);
    }
    // .xls keeps number formats where calamine does not read them: numbers show in General form.
    out.notes.push("（.xls/.et 文件读不到数字格式：数字按常规格式读入，10.00 读作 10，95% 读作 0.95，请核对）".into());
    Ok(out)
}

/// A cell's value as it displays under its number format.
fn shown(v: &DataRef, format: Option<&str>) -> String {
    match v {
        DataRef::Int(i) => number_text(*i as f64, format),
        DataRef::Float(x) => number_text(*x, format),
        DataRef::String(s) => s.trim_end().to_string(),
        DataRef::SharedString(s) => s.trim_end().to_string(),
        DataRef::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        DataRef::DateTime(d) => date_text(d.as_f64(), format),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

/// A number under a format code: decimals, thousands separators and percent
/// as the code says; `General` as the shortest form.
fn number_text(x: f64, format: Option<&str>) -> String {
    let code = format.unwrap_or("General");
    // The first section (positive numbers), without quoted text and colours.
    let section = code.split(';').next().unwrap_or("");
    let mut plain = String::new();
    let mut quoted = false;
    for c in section.chars() {
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            '[' | ']' | '\\' | '_' | '*' => {}
            c => plain.push(c),
        }
    }
    if plain.eq_ignore_ascii_case("general") || plain.is_empty() || !plain.contains(['0', '#']) {
        return crate::form::values::format_amount(x, None);
    }
    let percent = plain.contains('%');
    let decimals = plain.split_once('.').map_or(0, |(_, d)| d.chars().take_while(|c| *c == '0' || *c == '#').count());
    let thousands = plain.contains(',');
    let value = if percent { x * 100.0 } else { x };
    let role = Role::Number { decimals: decimals as u8, thousands };
    let text = sheet::show_number(value, role);
    if percent { format!("{text}%") } else { text }
}

/// An Excel date serial as the date it shows: `2021年1月28日` when the format
/// writes 年, else `2021-01-28`.
fn date_text(serial: f64, format: Option<&str>) -> String {
    let (y, m, d) = sheet::serial_date(serial);
    if format.is_some_and(|f| f.contains('年')) {
        format!("{y}年{m}月{d}日")
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

/// A value of the YAML written: text, a bare scalar, a list or a mapping.
#[derive(Debug, Clone)]
enum Y {
    Text(String),
    Bare(String),
    List(Vec<Y>),
    Map(Vec<(String, Y)>),
}

fn emit_map(entries: &[(String, Y)], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for (k, v) in entries {
        match v {
            Y::Text(t) => out.push_str(&format!("{pad}{k}: {}\n", quote(t))),
            Y::Bare(t) => out.push_str(&format!("{pad}{k}: {t}\n")),
            Y::List(items) if items.is_empty() => {}
            Y::Map(m) if m.is_empty() => {}
            Y::List(items) => {
                out.push_str(&format!("{pad}{k}:\n"));
                emit_list(items, indent + 2, out);
            }
            Y::Map(m) => {
                out.push_str(&format!("{pad}{k}:\n"));
                emit_map(m, indent + 2, out);
            }
        }
    }
}

fn emit_list(items: &[Y], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Y::Text(t) => out.push_str(&format!("{pad}- {}\n", quote(t))),
            Y::Bare(t) => out.push_str(&format!("{pad}- {t}\n")),
            Y::List(l) => {
                out.push_str(&format!("{pad}-\n"));
                emit_list(l, indent + 2, out);
            }
            Y::Map(m) if m.is_empty() => out.push_str(&format!("{pad}- {{}}\n")),
            Y::Map(m) => {
                let mut inner = String::new();
                emit_map(m, indent + 2, &mut inner);
                // The first key goes on the dash's line.
                let inner = inner.trim_start_matches(' ');
                if inner.is_empty() {
                    out.push_str(&format!("{pad}- {{}}\n"));
                } else {
                    out.push_str(&format!("{pad}- {inner}"));
                }
            }
        }
    }
}

/// Text as a YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// Walks the manifest over a sheet, taking each label's value.
struct Walk<'a> {
    cells: &'a Cells,
    used: HashSet<(u32, u32)>,
    kind: &'a Kind,
    options: &'a serde_json::Map<String, serde_json::Value>,
    /// The sheet is formpress's own export (it has the `formpress` sheet).
    own: bool,
    notes: Vec<String>,
}

/// A block of the sheet to search: rows r0..=r1, columns from c0.
#[derive(Debug, Clone, Copy)]
struct Area {
    r0: u32,
    r1: u32,
    c0: u32,
}

impl Walk<'_> {
    fn take(&mut self, r: u32, c: u32) -> String {
        let (r0, c0, _, _) = self.cells.region(r, c);
        self.used.insert((r0, c0));
        self.cells.at(r, c).to_string()
    }

    /// A field's label: the form's own (option `labels`, by key or dotted path) instead of the kind's.
    fn labels_of(&self, path: &str, spec_label: &str) -> Vec<String> {
        match self.options.get("labels").and_then(|m| m.get(path)).and_then(|v| v.as_str()) {
            Some(l) => vec![norm(l)],
            None => vec![norm(spec_label)],
        }
    }

    /// The first cell in `area`, row by row, whose text is one of `labels` and
    /// not used yet (only cells with text are looked at: a large sheet stays quick).
    fn find(&self, area: Area, labels: &[String]) -> Option<(u32, u32, u32, u32)> {
        self.cells
            .text
            .range((area.r0, 0)..=(area.r1, u32::MAX))
            .filter(|((_, c), _)| *c >= area.c0)
            .filter(|((r, c), _)| !self.used.contains(&(*r, *c)) && self.cells.region(*r, *c).0 == *r)
            .find(|(_, text)| labels.contains(&norm(text)))
            .map(|((r, c), _)| self.cells.region(*r, *c))
    }

    fn is_label(&self, text: &str) -> bool {
        let n = norm(text);
        fn any(fields: &indexmap::IndexMap<String, Field>, n: &str) -> bool {
            fields.values().any(|f| {
                norm(&f.label) == n
                    || f.fields.as_ref().is_some_and(|s| any(s, n))
                    || f.item.as_deref().and_then(|i| i.fields.as_ref()).is_some_and(|s| any(s, n))
            })
        }
        !n.is_empty() && (any(&self.kind.manifest.fields, &n) || any(crate::form::kind::signature_fields(), &n))
    }

    fn form(&mut self) -> Vec<(String, Y)> {
        let all = Area { r0: 0, r1: self.cells.rows().saturating_sub(1), c0: 0 };
        let mut out = vec![];
        self.title(&mut out);
        let fields = self.kind.manifest.fields.clone();
        for (key, spec) in &fields {
            if sheet::TITLE_KEYS.contains(&key.as_str()) {
                continue;
            }
            if let Some(v) = self.field(all, key, spec) {
                out.push((key.clone(), v));
            }
        }
        // The year and title go first, as a skeleton has them.
        out
    }

    /// The title (left out when it is the kind's default) and the year line.
    fn title(&mut self, out: &mut Vec<(String, Y)>) {
        let m = &self.kind.manifest;
        let default =
            m.fields.get("title").and_then(|f| f.default.as_ref()).and_then(|d| d.as_str()).unwrap_or(&m.name);
        let first = self.cells.text.iter().find(|(_, t)| !t.trim().is_empty()).map(|(k, t)| (*k, t.clone()));
        let mut year = None;
        if let Some(((r, c), text)) = first
            && !self.is_label(&text)
            && m.fields.contains_key("title")
        {
            self.take(r, c);
            if norm(&text) != norm(default) {
                out.push(("title".into(), Y::Text(text.trim().to_string())));
            }
            if !self.own {
                year = year_in(&text, false);
            }
        }
        for (&(r, c), text) in &self.cells.text {
            if let Some(y) = year_in(text, true) {
                year = Some(y);
                self.used.insert((r, c));
                break;
            }
        }
        if let Some(y) = year
            && m.fields.contains_key("year")
        {
            out.insert(0, ("year".into(), Y::Bare(y.to_string())));
        }
    }

    /// A field found by its label in `area`; `path` is its dotted key (`funds.year.total`).
    fn field(&mut self, area: Area, path: &str, spec: &Field) -> Option<Y> {
        if spec.ty == FieldType::Indicators {
            return self.indicators(path, spec, area);
        }
        if spec.ty == FieldType::Image {
            return None;
        }
        let labels = self.labels_of(path, &spec.label);
        let Some((r0, c0, r1, c1)) = self.find(area, &labels) else {
            // A top-level record whose own label is not printed (a 签章区): look for its
            // fields. A nested one without its label was left blank.
            return match spec.ty {
                FieldType::Record | FieldType::Signature if !path.contains('.') => {
                    let y = self.record(spec, path, area);
                    matches!(&y, Y::Map(m) if !m.is_empty()).then_some(y)
                }
                _ => None,
            };
        };
        self.used.insert((r0, c0));
        let inner = Area { r0, r1, c0: c1 + 1 };
        if let Some(columns) = sheet::table_columns(spec) {
            return self.table_record(spec, path, columns, inner);
        }
        match spec.ty {
            FieldType::Record | FieldType::Signature => Some(self.record(spec, path, inner)),
            FieldType::List => {
                let item = spec.item.as_deref().expect("checked manifest");
                if item.ty == FieldType::Record { self.table(item, path, inner) } else { self.items(spec, inner) }
            }
            _ => {
                let text = self.right_of(r0, c1);
                (!text.is_empty()).then(|| self.scalar(spec, text))
            }
        }
    }

    /// The value right of a label: the next region in the row, unless it is itself a label.
    fn right_of(&mut self, r: u32, c: u32) -> String {
        let text = self.cells.at(r, c + 1).to_string();
        if self.is_label(&text) {
            return String::new();
        }
        self.take(r, c + 1)
    }

    fn scalar(&self, spec: &Field, text: String) -> Y {
        match spec.ty {
            FieldType::Integer if text.trim().parse::<i64>().is_ok() => Y::Bare(text.trim().to_string()),
            FieldType::Bool if text == "是" => Y::Bare("true".into()),
            FieldType::Bool if text == "否" => Y::Bare("false".into()),
            _ => Y::Text(text),
        }
    }

    fn record(&mut self, spec: &Field, path: &str, area: Area) -> Y {
        let fields = match spec.ty {
            FieldType::Signature => crate::form::kind::signature_fields().clone(),
            _ => spec.fields.clone().unwrap_or_default(),
        };
        let mut out = vec![];
        for (k, f) in &fields {
            if let Some(v) = self.field(area, &format!("{path}.{k}"), f) {
                out.push((k.clone(), v));
            }
        }
        Y::Map(out)
    }

    /// A record of like records laid out as a table: the header row maps
    /// columns to fields; each sub-record is the row its label starts.
    fn table_record(
        &mut self,
        spec: &Field,
        path: &str,
        columns: &indexmap::IndexMap<String, Field>,
        area: Area,
    ) -> Option<Y> {
        let mut header: Option<(u32, Vec<(u32, String)>)> = None;
        for r in area.r0..=area.r1 {
            let mut cols = vec![];
            for c in area.c0..self.cells.cols() {
                if self.cells.region(r, c).1 != c {
                    continue;
                }
                let text = norm(self.cells.at(r, c));
                if let Some((k, _)) =
                    columns.iter().find(|(k, f)| self.labels_of(&format!("{path}.{k}"), &f.label).contains(&text))
                {
                    cols.push((c, k.clone()));
                }
            }
            if cols.len() > header.as_ref().map_or(0, |h| h.1.len()) {
                header = Some((r, cols));
            }
        }
        let (hr, cols) = header?;
        for (c, _) in &cols {
            self.take(hr, *c);
        }
        let rows = Area { r0: hr + 1, ..area };
        let mut out = vec![];
        for (sub, f) in spec.fields.iter().flatten() {
            let labels = self.labels_of(&format!("{path}.{sub}"), &f.label);
            let Some((r, c, _, _)) = self.find(rows, &labels) else { continue };
            self.used.insert((r, c));
            let mut record = vec![];
            for (col, k) in &cols {
                let text = self.take(r, *col);
                if !text.is_empty() {
                    record.push((k.clone(), self.scalar(&columns[k], text)));
                }
            }
            out.push((sub.clone(), Y::Map(record)));
        }
        Some(Y::Map(out))
    }

    /// A list of texts: one item per row right of its merged label, numbering taken off.
    fn items(&mut self, spec: &Field, area: Area) -> Option<Y> {
        let mut out = vec![];
        let mut seen = HashSet::new();
        for r in area.r0..=area.r1 {
            let region = self.cells.region(r, area.c0);
            if !seen.insert(region) {
                continue;
            }
            let text = self.take(r, area.c0);
            if text.trim().is_empty() {
                continue;
            }
            // The sheet numbers the items (目标1：…) unless the form says it does not.
            let numbered = self.options.get("number_goals").and_then(|v| v.as_bool()).unwrap_or(true);
            let text = match &spec.item_label {
                Some(l) if numbered => strip_number(&text, l, out.len() + 1),
                _ => text,
            };
            out.push(Y::Text(text));
        }
        (!out.is_empty()).then_some(Y::List(out))
    }

    /// A list of records: a header row of the record's labels, then one row per item.
    fn table(&mut self, item: &Field, path: &str, area: Area) -> Option<Y> {
        let fields = item.fields.clone().unwrap_or_default();
        // The header: the row (within the label's rows) that shows most of the record's labels.
        let mut header: Option<(u32, Vec<(u32, String)>)> = None;
        for r in area.r0..=area.r1 {
            let mut cols = vec![];
            for c in area.c0..self.cells.cols() {
                let region = self.cells.region(r, c);
                if region.1 != c {
                    continue;
                }
                let text = norm(self.cells.at(r, c));
                if let Some((k, _)) =
                    fields.iter().find(|(k, f)| self.labels_of(&format!("{path}.{k}"), &f.label).contains(&text))
                {
                    cols.push((c, k.clone()));
                }
            }
            if !cols.is_empty() && header.as_ref().is_none_or(|(_, h)| cols.len() > h.len()) {
                header = Some((r, cols));
            }
        }
        let (hr, cols) = header?;
        for (c, _) in &cols {
            self.take(hr, *c);
        }
        let head_end = cols.iter().map(|(c, _)| self.cells.region(hr, *c).2).max().unwrap_or(hr);
        // Rows up to the end of the label's merge; a single-row label runs on while rows have values.
        let last = if area.r1 > head_end { area.r1 } else { self.cells.rows().saturating_sub(1) };
        let mut out = vec![];
        for r in head_end + 1..=last {
            if area.r1 <= head_end && (area.c0 > 0 && !self.cells.at(r, area.c0 - 1).is_empty()) {
                break; // a new label in the label column: the list has ended
            }
            let mut row = vec![];
            for (c, k) in &cols {
                let spec = &fields[k];
                let region = self.cells.region(r, *c);
                if region.0 != r {
                    continue;
                }
                let text = self.take(r, *c);
                if !text.is_empty() {
                    row.push((k.clone(), self.scalar(spec, text)));
                }
            }
            if row.is_empty() && area.r1 <= head_end {
                break;
            }
            // Within the label's merge every row is an item, a blank one too.
            out.push(Y::Map(row));
        }
        (!out.is_empty()).then_some(Y::List(out))
    }

    /// The indicator table: its header row maps columns to keys; merged 一级
    /// and 二级 cells make the groups; merged 指标解释 cells are left out below
    /// their first row (they share the cell above).
    fn indicators(&mut self, path: &str, spec: &Field, area: Area) -> Option<Y> {
        let row_fields = spec.row.clone().unwrap_or_default();
        let labels = |key: &str, default: &str| self.labels_of(key, default);
        let mut wanted: Vec<(String, Vec<String>)> = vec![];
        for (l, level) in spec.levels.iter().enumerate() {
            wanted.push((format!("level{l}"), labels(&format!("level{l}"), &level.label)));
        }
        for (k, f) in &row_fields {
            wanted.push((k.clone(), labels(k, &f.label)));
        }
        // The header row: the one that names most columns.
        let mut best: Option<(u32, Vec<(u32, String)>)> = None;
        for r in area.r0..=area.r1 {
            let mut cols = vec![];
            for c in 0..self.cells.cols() {
                let n = norm(self.cells.at(r, c));
                if let Some((k, _)) = wanted.iter().find(|(_, ls)| ls.contains(&n)) {
                    let side = spec.sides.iter().find(|s| {
                        r > 0
                            && self.cells.region(r - 1, c) != self.cells.region(r, c)
                            && norm(self.cells.at(r - 1, c)).starts_with(&norm(&s.label))
                    });
                    let key = match side {
                        Some(s) if k != "level0" => format!("{}.{k}", s.key),
                        _ => k.clone(),
                    };
                    if !cols.iter().any(|(_, x)| *x == key) {
                        cols.push((c, key));
                    }
                }
            }
            if cols.len() >= 2 && best.as_ref().is_none_or(|(_, b)| cols.len() > b.len()) {
                best = Some((r, cols));
            }
        }
        let (hr, cols) = best?;
        for (c, _) in &cols {
            self.take(hr, *c);
            if hr > 0 && spec.sides.iter().any(|s| norm(self.cells.at(hr - 1, *c)).starts_with(&norm(&s.label))) {
                self.take(hr - 1, *c);
            }
        }
        if let Some(block) = &spec.block {
            // The block label as the form prints it (option `labels`).
            let block = self.labels_of(path, block);
            for c in 0..self.cells.cols() {
                if block.contains(&norm(self.cells.at(hr, c))) {
                    self.take(hr, c);
                }
            }
        }
        let first = cols.iter().map(|(c, _)| self.cells.region(hr, *c).2).max().unwrap_or(hr) + 1;
        let sides: Vec<String> = if spec.sides.is_empty() {
            vec![String::new()]
        } else {
            spec.sides.iter().map(|s| format!("{}.", s.key)).collect()
        };
        let col_of = |key: &str| cols.iter().find(|(_, k)| k == key).map(|(c, _)| *c);
        let level0 = col_of("level0");
        // Rows until another field's label, a 总分/合计 row, or the end.
        let mut rows = vec![];
        for r in first..self.cells.rows() {
            let texts: Vec<&str> = cols.iter().map(|(c, _)| self.cells.at(r, *c)).collect();
            let lead = level0.map(|c| norm(self.cells.at(r, c))).unwrap_or_default();
            // Another field's label (or a cell read already) that starts in this row, outside a
            // 一级 cell merged from above, begins the next part of the form.
            let inside = level0.is_some_and(|c| self.cells.region(r, c).0 < r);
            let next_part = !inside
                && (0..self.cells.cols()).any(|c| {
                    let (a, b, _, _) = self.cells.region(r, c);
                    (a, b) == (r, c) && (self.is_label(self.cells.at(r, c)) || self.used.contains(&(a, b)))
                });
            let stop = ["总分", "合计", "总计"].contains(&lead.as_str()) || next_part;
            if stop {
                break;
            }
            if texts.iter().all(|t| t.is_empty()) {
                continue;
            }
            rows.push(r);
        }
        // A table printed with its columns and no text at all (a blank template, a form
        // cut before its table) is the one blank row of the last half that stands for it.
        let last_row = first >= self.cells.rows();
        if rows.is_empty() && (last_row || cols.iter().all(|(c, _)| self.cells.at(first, *c).is_empty())) {
            for (c, _) in cols.iter().filter(|_| !last_row) {
                let (a, b, _, _) = self.cells.region(first, *c);
                self.used.insert((a, b));
            }
            if let Some(side) = spec.sides.last() {
                return Some(Y::List(vec![Y::Map(vec![(side.key.clone(), Y::List(vec![Y::Map(vec![])]))])]));
            }
        }
        // Build the tree: a new group where the merged region of its column changes.
        let mut tree: Vec<Group> = vec![];
        let sided = !spec.sides.is_empty();
        let mut prev: HashMap<String, (u32, u32, u32, u32)> = HashMap::new();
        for &r in &rows {
            let l0 = level0.map(|c| self.cells.region(r, c));
            let new_top = tree.is_empty() || l0.is_some() && prev.get("level0") != l0.as_ref();
            if new_top {
                let name = level0.map(|c| self.take(r, c));
                tree.push(Group { name, sides: vec![vec![]; sides.len()] });
                prev.clear();
            }
            if let Some(l0) = l0 {
                prev.insert("level0".into(), l0);
            }
            let group = tree.last_mut().expect("pushed");
            for (s, prefix) in sides.iter().enumerate() {
                let lvl1 = if sided {
                    format!("{prefix}level1")
                } else if spec.levels.len() > 1 {
                    "level1".into()
                } else {
                    String::new()
                };
                let c1 = col_of(&lvl1);
                // The side has no row here when its whole span is one filler cell.
                let side_cols: Vec<u32> =
                    cols.iter().filter(|(_, k)| sided && k.starts_with(prefix.as_str())).map(|(c, _)| *c).collect();
                if sided && side_cols.is_empty() {
                    continue; // the form has no such half (a 项目 form without 中期)
                }
                if sided
                    && side_cols.first().is_some_and(|&a| {
                        let reg = self.cells.region(r, a);
                        reg.3 >= *side_cols.last().unwrap_or(&a) && reg.3 > reg.1 && self.cells.at(r, a).is_empty()
                    })
                {
                    continue;
                }
                let reg1 = c1.map(|c| self.cells.region(r, c));
                let groups = &mut group.sides[s];
                let new_sub = groups.is_empty() || reg1.is_some() && prev.get(&lvl1) != reg1.as_ref();
                if new_sub && spec.levels.len() > 1 {
                    let name = c1.map(|c| self.cells.at(r, c).to_string());
                    if let Some(c) = c1 {
                        let (a, b, _, _) = self.cells.region(r, c);
                        self.used.insert((a, b));
                    }
                    groups.push(Sub { name, rows: vec![] });
                } else if groups.is_empty() {
                    groups.push(Sub { name: None, rows: vec![] });
                }
                if let Some(reg1) = reg1 {
                    prev.insert(lvl1.clone(), reg1);
                }
                let mut row = vec![];
                for (k, f) in &row_fields {
                    let Some(c) = col_of(&format!("{prefix}{k}")) else { continue };
                    let (a, b, _, _) = self.cells.region(r, c);
                    if a < r {
                        continue; // a cell merged from above: the row shares it (a merge field is left out)
                    }
                    let text = self.cells.at(r, c).to_string();
                    self.used.insert((a, b));
                    if !text.is_empty() {
                        row.push((k.clone(), self.scalar(f, text)));
                    } else if f.merge {
                        row.push((k.clone(), Y::Text(String::new())));
                    }
                }
                // A row of the table is a row of the form, even when every cell is blank.
                groups.last_mut().expect("pushed").rows.push(Y::Map(row));
            }
        }
        if tree.is_empty() {
            return None;
        }
        let flat = level0.is_none() && col_of("level1").is_none();
        if flat {
            let rows: Vec<Y> =
                tree.into_iter().flat_map(|g| g.sides.into_iter().flatten().flat_map(|s| s.rows)).collect();
            return Some(Y::List(rows));
        }
        let out = tree
            .into_iter()
            .map(|g| {
                let mut m = vec![];
                if let Some(name) = g.name {
                    m.push(("name".into(), Y::Text(name)));
                }
                let subs = |subs: Vec<Sub>| -> Vec<Y> {
                    subs.into_iter()
                        .map(|s| {
                            let mut sm = vec![];
                            if let Some(n) = s.name {
                                sm.push(("name".to_string(), Y::Text(n)));
                            }
                            sm.push(("rows".to_string(), Y::List(s.rows)));
                            Y::Map(sm)
                        })
                        .collect()
                };
                if sided {
                    for (side, groups) in spec.sides.iter().zip(g.sides) {
                        let list = subs(groups);
                        if !list.is_empty() {
                            m.push((side.key.clone(), Y::List(list)));
                        }
                    }
                } else if spec.levels.len() > 1 {
                    m.push(("groups".into(), Y::List(subs(g.sides.into_iter().next().unwrap_or_default()))));
                } else {
                    let rows = g.sides.into_iter().flatten().flat_map(|s| s.rows).collect();
                    m.push(("rows".into(), Y::List(rows)));
                }
                Y::Map(m)
            })
            .collect();
        Some(Y::List(out))
    }
}

struct Group {
    name: Option<String>,
    sides: Vec<Vec<Sub>>,
}

#[derive(Clone)]
struct Sub {
    name: Option<String>,
    rows: Vec<Y>,
}

/// `目标1：…` → `…` when the number is the item's own (the sheet numbers them).
fn strip_number(text: &str, item_label: &str, n: usize) -> String {
    let prefix = item_label.replace("{n}", &n.to_string());
    for sep in ["：", ":", "、", "."] {
        if let Some(rest) = text.strip_prefix(&format!("{prefix}{sep}")) {
            return rest.to_string();
        }
    }
    text.to_string()
}

/// A year in a cell: the year line `（2020年度）`, or with `loose` any `2020年` in a title.
fn year_in(text: &str, line: bool) -> Option<i64> {
    let t = norm(text);
    let digits: String = if line {
        let inner = t.strip_prefix('（')?.strip_suffix('）')?;
        let inner = inner.strip_suffix("年度").or_else(|| inner.strip_suffix('年'))?;
        inner.to_string()
    } else {
        let i = t.find('年')?;
        t[..i].chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect()
    };
    (digits.len() == 4).then(|| digits.parse().ok()).flatten()
}
