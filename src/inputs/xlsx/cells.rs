//! Reading a workbook: its visible sheets' cells as they display (number
//! formats, dates), merged regions, formulas and what a person cannot see.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use calamine::{Data, DataRef, Reader, SheetVisible, Xls, Xlsx};

use super::{ImportError, MAX_CELLS, MAX_COLS, MAX_ROWS, MAX_TIME};
use crate::files::guard;
use crate::inputs::{sheetcheck, unseen};
use crate::outputs::sheet::{self, Role};
use crate::outputs::xlsx::META_SHEET;

/// One sheet's cells as they display, with its merged regions.
#[derive(Debug, Default)]
pub(super) struct Cells {
    pub(super) sheet: String,
    pub(super) text: BTreeMap<(u32, u32), String>,
    /// Every cell inside a merged region → the region (r0, c0, r1, c1).
    pub(super) merged: HashMap<(u32, u32), (u32, u32, u32, u32)>,
    pub(super) formulas: BTreeMap<(u32, u32), String>,
    pub(super) notes: Vec<String>,
    /// Cells a person does not see as imported (hidden, invisible, shown otherwise).
    pub(super) unseen: Vec<String>,
    /// Rows and columns up to the last cell with text (set once the sheet is read).
    pub(super) size: (u32, u32),
}

impl Cells {
    pub(super) fn region(&self, r: u32, c: u32) -> (u32, u32, u32, u32) {
        self.merged.get(&(r, c)).copied().unwrap_or((r, c, r, c))
    }

    /// The text shown at a cell (a merged region's text everywhere in it).
    pub(super) fn at(&self, r: u32, c: u32) -> &str {
        let (r0, c0, _, _) = self.region(r, c);
        self.text.get(&(r0, c0)).map_or("", String::as_str)
    }

    pub(super) fn name(&self, r: u32, c: u32) -> String {
        format!("{}!{}{}", self.sheet, column_name(c), r + 1)
    }

    pub(super) fn rows(&self) -> u32 {
        self.size.0
    }

    pub(super) fn cols(&self) -> u32 {
        self.size.1
    }

    /// Called once the sheet is read.
    pub(super) fn measure(&mut self) {
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

/// Reads a workbook's visible sheets, once `sheetcheck` has measured the
/// file; a panic inside the reader on a damaged file is a broken file.
pub(super) fn read_book(bytes: &[u8], deadline: &guard::Deadline) -> Result<Book, ImportError> {
    let read = if bytes.starts_with(b"PK\x03\x04") {
        sheetcheck::zip(bytes)?;
        if sheetcheck::is_ods(bytes) {
            return Err(ImportError::Ods);
        }
        guard::catch(|| read_xlsx(bytes, deadline))
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        let stream = guard::catch(|| sheetcheck::workbook_stream(bytes)).map_err(ImportError::Broken)??;
        sheetcheck::biff(&stream)?;
        guard::catch(|| read_xls(bytes, deadline))
    } else {
        return Err(ImportError::NotSpreadsheet);
    };
    read.map_err(ImportError::Broken)?
}

/// What a workbook gave: its visible sheets, the `formpress` sheet's
/// entries, and notes (hidden sheets skipped).
#[derive(Default)]
pub(super) struct Book {
    pub(super) sheets: Vec<Cells>,
    pub(super) meta: HashMap<String, String>,
    pub(super) notes: Vec<String>,
    /// The `formpress` sheet is very hidden (Excel and WPS offer no way to show it).
    pub(super) meta_hidden: bool,
}

impl Book {
    /// Hidden sheets are not read: what a user cannot see is not their form
    /// (formpress's own hidden sheet is read for the kind and options only).
    pub(super) fn wants(&mut self, sheet: &calamine::Sheet) -> bool {
        if sheet.name == META_SHEET && sheet.visible == SheetVisible::VeryHidden {
            self.meta_hidden = true;
        }
        if sheet.visible != SheetVisible::Visible && sheet.name != META_SHEET {
            self.notes.push(format!("跳过隐藏的工作表「{}」", sheet.name));
            return false;
        }
        true
    }

    pub(super) fn add(&mut self, mut cells: Cells) {
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

/// A cell within the sheet limits, read within the time budget.
fn within(sheet: &str, r: u32, c: u32, count: usize, deadline: &guard::Deadline) -> Result<(), ImportError> {
    bounded(sheet, r, c, count)?;
    if count.is_multiple_of(1024) && deadline.passed() {
        return Err(too_large(sheet, format!("读取用了超过 {} 秒 CPU 时间", MAX_TIME.as_secs())));
    }
    Ok(())
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

fn read_xlsx(bytes: &[u8], deadline: &guard::Deadline) -> Result<Book, ImportError> {
    let broken = |e: calamine::XlsxError| ImportError::Broken(e.to_string());
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(broken)?;
    let mut out = Book::default();
    let parts = unseen::sheet_parts(bytes);
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
                within(&s.name, r, c, count, deadline)?;
                let style = reader.styles().get(style);
                let format = style.and_then(|st| st.number_format.as_ref()).map(|f| f.format_code.clone());
                let text = match cell.get_value() {
                    DataRef::Error(e) => {
                        error_note(&mut cells, r, c, e);
                        String::new()
                    }
                    v => shown(v, format.as_deref()),
                };
                if text.is_empty() {
                    continue;
                }
                let number = match cell.get_value() {
                    DataRef::Int(i) => Some(*i as f64),
                    DataRef::Float(x) => Some(*x),
                    _ => None,
                };
                let name = cells.name(r, c);
                if style.is_some_and(unseen::invisible) {
                    cells.unseen.push(format!(
                        "{name} 的文字看不见（与底色同色，或数字格式不显示），已读入「{}」",
                        clip(&text)
                    ));
                } else if let (Some(x), Some(code)) = (number, &format)
                    && let Some(why) = unseen::shown_differently(x, code)
                {
                    cells.unseen.push(format!("{name} 的数字格式{why}，读入的是单元格的值「{text}」，请核对"));
                }
                cells.text.insert((r, c), text);
            }
        }
        {
            let mut reader = book.worksheet_cells_reader(&s.name).map_err(broken)?;
            let mut count = 0;
            while let Some(f) = reader.next_formula().map_err(broken)? {
                count += 1;
                let (r, c) = f.get_position();
                within(&s.name, r, c, count, deadline)?;
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
        // Only now, with the sheet read within its limits, is its XML read again for hidden lines.
        if let Some(part) = parts.get(&s.name) {
            note_hidden(&mut cells, &unseen::hidden_lines(bytes, part));
        }
        out.add(cells);
    }
    Ok(out)
}

/// Text for a note: its first 40 characters.
pub(super) fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

/// A note for every cell with text in a hidden row or column (it is read all the same).
fn note_hidden(cells: &mut Cells, hidden: &unseen::Hidden) {
    for (&(r, c), text) in &cells.text {
        let place = match (hidden.row(r), hidden.col(c)) {
            (true, _) => format!("隐藏的第 {} 行", r + 1),
            (false, true) => format!("隐藏的 {} 列", column_name(c)),
            _ => continue,
        };
        cells.unseen.push(format!("{} 在{place}中（看不见），已读入「{}」", cells.name(r, c), clip(text)));
    }
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

fn read_xls(bytes: &[u8], deadline: &guard::Deadline) -> Result<Book, ImportError> {
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
            within(&s.name, r, c, count, deadline)?;
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
