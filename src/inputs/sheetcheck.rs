//! Limits a spreadsheet must meet before calamine reads it (for `import`).
//! calamine reads a whole workbook when it opens it and sizes its buffers
//! from what the file says: an .xls whose DIMENSIONS record claims a billion
//! rows makes it reserve 51 GB, two cells far apart make it lay out every
//! cell between them, and an .xlsx's zip entries can inflate without bound.
//! So the file is measured first, from its own structure, and refused when
//! it is over a limit or not what it says it is.
//!
//! - .xlsx (and .ods): every zip entry is inflated once into nothing, bounded
//!   (a zip bomb, or a size the headers lie about, is refused).
//! - .xls and .et: the BIFF records of the workbook stream are walked the way
//!   calamine walks them (the globals, then each sheet from where its
//!   BOUNDSHEET record points): every sheet's DIMENSIONS, every cell's row
//!   and column and the number of cells are checked.

use std::io::{Cursor, Read};

use crate::inputs::xlsx::{ImportError, MAX_CELLS, MAX_COLS, MAX_ENTRIES, MAX_ENTRY_BYTES, MAX_ROWS, MAX_TOTAL_BYTES};

/// A zip is inflated once, bounded, before the reader sees it: entry count,
/// declared and actual sizes (a declared size can lie).
pub fn zip(bytes: &[u8]) -> Result<(), ImportError> {
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

/// Whether a zip (measured by `zip` already) is an OpenDocument spreadsheet:
/// its first entry, `mimetype`, says so.
pub fn is_ods(bytes: &[u8]) -> bool {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else { return false };
    let Ok(entry) = zip.by_name("mimetype") else { return false };
    let mut kind = String::new();
    entry.take(100).read_to_string(&mut kind).is_ok()
        && kind.starts_with("application/vnd.oasis.opendocument.spreadsheet")
}

/// The workbook stream of an OLE file (.xls, .et), as calamine finds it.
pub fn workbook_stream(bytes: &[u8]) -> Result<Vec<u8>, ImportError> {
    let broken = |e: std::io::Error| ImportError::Broken(e.to_string());
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(broken)?;
    let name = ["/Workbook", "/Book"].into_iter().find(|n| file.is_stream(n));
    let Some(name) = name else { return Err(ImportError::Broken("没有 Workbook 数据流".into())) };
    let mut stream = file.open_stream(name).map_err(broken)?;
    let mut out = vec![];
    // The stream lives inside the file, so it is never longer than the file.
    (&mut stream).take(bytes.len() as u64 + 1).read_to_end(&mut out).map_err(broken)?;
    Ok(out)
}

/// One BIFF record: its type and data (continuation records, which calamine
/// appends to the record before them, are skipped with it).
struct Record<'a> {
    typ: u16,
    data: &'a [u8],
}

/// The records from `start` on, split the way calamine splits them.
fn records(stream: &[u8], start: usize) -> impl Iterator<Item = Result<Record<'_>, ImportError>> {
    let mut rest = stream.get(start..).unwrap_or_default();
    let broken = || ImportError::Broken("BIFF 记录长度超出数据流".into());
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let head = |s: &[u8]| -> Option<(u16, usize)> {
            Some((u16::from_le_bytes([*s.first()?, *s.get(1)?]), u16::from_le_bytes([*s.get(2)?, *s.get(3)?]) as usize))
        };
        let Some((typ, len)) = head(rest) else { return Some(Err(broken())) };
        let Some(data) = rest.get(4..4 + len) else { return Some(Err(broken())) };
        rest = &rest[4 + len..];
        while let Some((0x003C, len)) = head(rest) {
            let Some(next) = rest.get(4 + len..) else { return Some(Err(broken())) };
            rest = next;
        }
        Some(Ok(Record { typ, data }))
    })
}

fn u16_at(data: &[u8], at: usize) -> u32 {
    data.get(at..at + 2).map_or(0, |b| u32::from(u16::from_le_bytes([b[0], b[1]])))
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    data.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Checks an .xls/.et workbook stream: the sheets calamine will read, each
/// within the sheet limits, before calamine lays any of them out.
pub fn biff(stream: &[u8]) -> Result<(), ImportError> {
    let mut sheets = vec![];
    for record in records(stream, 0) {
        let r = record?;
        match r.typ {
            // BOUNDSHEET: where the sheet's own records start in the stream.
            0x0085 => {
                let at = u32_at(r.data, 0) as usize;
                if at > stream.len() || r.data.len() < 6 {
                    return Err(ImportError::Broken(format!("工作表的位置 {at} 超出数据流（{} 字节）", stream.len())));
                }
                sheets.push(at);
            }
            0x000A => break,
            _ => {}
        }
    }
    for (n, at) in sheets.into_iter().enumerate() {
        sheet(stream, at, n + 1)?;
    }
    Ok(())
}

/// One sheet's records at its own level (records of an embedded chart are
/// skipped, as calamine skips them).
fn sheet(stream: &[u8], start: usize, n: usize) -> Result<(), ImportError> {
    let too_large = |what: String| ImportError::TooLarge(format!("第 {n} 张工作表{what}"));
    let (mut seen_bof, mut depth, mut cells) = (false, 0usize, 0usize);
    let mut cell = |row: u32, col: u32, count: usize| {
        cells += count;
        if row >= MAX_ROWS {
            Err(too_large(format!("有第 {} 行的单元格，超过 {MAX_ROWS} 行", row + 1)))
        } else if col >= MAX_COLS {
            Err(too_large(format!("有第 {} 列的单元格，超过 {MAX_COLS} 列", col + 1)))
        } else if cells > MAX_CELLS {
            Err(too_large(format!("超过 {MAX_CELLS} 个单元格")))
        } else {
            Ok(())
        }
    };
    for record in records(stream, start) {
        let r = record?;
        if depth > 0 {
            match r.typ {
                0x0809 => depth += 1,
                0x000A => depth -= 1,
                _ => {}
            }
            continue;
        }
        let d = r.data;
        match r.typ {
            0x0809 if seen_bof => depth += 1,
            0x0809 => seen_bof = true,
            0x000A => break,
            // DIMENSIONS: calamine reserves room for every cell of the range it names.
            0x0200 => {
                let (first_row, last_row, first_col, last_col) = match d.len() {
                    10 => (u16_at(d, 0), u16_at(d, 2), u16_at(d, 4), u16_at(d, 6)),
                    14 | 16 => (u32_at(d, 0), u32_at(d, 4), u16_at(d, 8), u16_at(d, 10)),
                    _ => continue, // calamine refuses it
                };
                // calamine's reading of it (parse_dimensions), in the same wrapping arithmetic.
                let first_col = if first_col > 0xFF || last_col < first_col { 0 } else { first_col };
                if last_row >= 1 && last_col >= 1 {
                    let rows = u64::from(last_row.wrapping_sub(first_row));
                    let cols = u64::from(last_col - first_col);
                    if rows * cols > u64::from(MAX_ROWS) * u64::from(MAX_COLS) {
                        return Err(too_large(format!(
                            "的范围声称有 {rows} 行 × {cols} 列，超过上限（{MAX_ROWS} 行 × {MAX_COLS} 列）"
                        )));
                    }
                }
            }
            // Cells: NUMBER, LABEL, RSTRING, BOOLERR, RK, LABELSST, FORMULA (row and column first).
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => cell(u16_at(d, 0), u16_at(d, 2), 1)?,
            // MULRK: a row of RK cells from its first column on.
            0x00BD if d.len() >= 6 => {
                let count = (d.len() - 6) / 6;
                cell(u16_at(d, 0), u16_at(d, 2) + count.saturating_sub(1) as u32, count)?;
            }
            _ => {}
        }
    }
    Ok(())
}
