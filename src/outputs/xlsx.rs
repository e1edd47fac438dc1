//! `render --format xlsx`: the form as a spreadsheet that looks like the
//! official one (the grid of `sheet`), for submission systems and for users
//! who go on in Excel or WPS.
//!
//! What is written is what the user typed: values the PDF computes into blank
//! cells (totals, 执行率, 得分, the points after a 一级指标) stay blank, so
//! importing the file gives back the same data and the same 校验码. Numbers
//! typed as digits are number cells whose format shows them as typed (`10.00`
//! with format `0.00`); anything else (`250万`, `/`, `≥95%`) is text. A second,
//! hidden sheet, `formpress`, names the kind and the form's options, so an
//! import restores them.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet};
use serde_json::{Map, Value as Json};

use crate::form::Form;
use crate::layout::Engine;
use crate::outputs::sheet::{self, Grid, Item, Look, Role};

/// The name of the sheet that carries the kind and the options.
pub const META_SHEET: &str = "formpress";
/// Its labels (column A), read back by the import.
pub const META_KIND: &str = "表单种类";
pub const META_OPTIONS: &str = "版式选项";

#[derive(Debug)]
pub enum XlsxError {
    /// The form has structural errors (nothing to lay out).
    NotRenderable,
    /// The spreadsheet library failed.
    Write(String),
}

impl std::fmt::Display for XlsxError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            XlsxError::NotRenderable => write!(f, "表单有结构性错误，未生成 .xlsx"),
            XlsxError::Write(m) => write!(f, "生成 .xlsx 失败：{m}"),
        }
    }
}

impl std::error::Error for XlsxError {}

impl From<rust_xlsxwriter::XlsxError> for XlsxError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        XlsxError::Write(e.to_string())
    }
}

/// The .xlsx file of a checked form.
pub fn write(engine: &Engine, form: &Form) -> Result<Vec<u8>, XlsxError> {
    let kind = form.kind.as_deref().and_then(|k| engine.catalog().kind(k)).ok_or(XlsxError::NotRenderable)?;
    if !form.renderable() {
        return Err(XlsxError::NotRenderable);
    }
    let data = engine.typed_data(form).ok_or(XlsxError::NotRenderable)?;
    let spec = kind.manifest.fields.values().find(|f| f.ty == crate::form::kind::FieldType::Indicators);
    let style = spec.map(|s| engine.table_style(kind, s, form)).unwrap_or_default();
    let grid = sheet::grid(kind, &data, &Look { options: &form.options, style, edit: false });
    let mut book = Workbook::new();
    let page = &kind.manifest.page;
    let ws = book.add_worksheet();
    ws.set_name(sheet_name(&kind.manifest.name))?;
    fill(ws, &grid, &kind.manifest.fonts, page.landscape)?;
    let meta = book.add_worksheet();
    meta.set_name(META_SHEET)?;
    meta.write_string(0, 0, META_KIND)?;
    meta.write_string(0, 1, &kind.id)?;
    meta.write_string(1, 0, META_OPTIONS)?;
    meta.write_string(1, 1, changed_options(kind, &form.options).to_string())?;
    meta.set_column_width(0, 12)?;
    meta.set_column_width(1, 60)?;
    // Hidden: it is not part of the form and is not printed; the import reads it.
    meta.set_hidden(true);
    Ok(book.save_to_buffer()?)
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !"[]:*?/\\'".contains(*c)).take(31).collect();
    if clean.is_empty() { "Sheet1".into() } else { clean }
}

/// Only the options the form changed from the kind's defaults.
fn changed_options(kind: &crate::form::kind::Kind, options: &Map<String, Json>) -> Json {
    let changed: Map<String, Json> = options
        .iter()
        .filter(|(k, v)| kind.manifest.options.get(*k).is_none_or(|o| &o.default != *v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Json::Object(changed)
}

/// The first installed-font name a kind prefers for a role (what Excel and WPS have).
fn font(fonts: &std::collections::BTreeMap<String, Vec<String>>, role: &str, fallback: &str) -> String {
    fonts.get(role).and_then(|f| f.first()).cloned().unwrap_or_else(|| fallback.to_string())
}

/// Width of a line in Excel's character units (a CJK character is about two).
fn line_units(text: &str) -> f64 {
    text.chars().map(|c| if (c as u32) >= 0x2E80 { 2.0 } else { 1.1 }).sum()
}

fn fill(
    ws: &mut Worksheet,
    grid: &Grid,
    fonts: &std::collections::BTreeMap<String, Vec<String>>,
    landscape: bool,
) -> Result<(), XlsxError> {
    // The printable width of A4 in character units, portrait or landscape.
    let across = if landscape { 150.0 } else { 100.0 };
    let widths: Vec<f64> = grid.widths.iter().map(|w| (w / 100.0 * across).max(4.0)).collect();
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    let body = font(fonts, "body", "仿宋");
    let cell = Format::new()
        .set_font_name(&body)
        .set_font_size(10.5)
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter);
    let label = cell.clone().set_bold().set_align(FormatAlign::Center);
    let text = cell.clone().set_align(FormatAlign::Left);
    let title = Format::new()
        .set_font_name(font(fonts, "title", "宋体"))
        .set_font_size(18)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let subtitle = Format::new().set_font_name(&body).set_font_size(12).set_align(FormatAlign::Center);
    let mut heights: std::collections::BTreeMap<u32, f64> = Default::default();
    for item in &grid.items {
        let format = match item.role {
            Role::Title => title.clone(),
            Role::Subtitle => subtitle.clone(),
            Role::Label => label.clone(),
            Role::Text if item.text.chars().count() <= 8 => cell.clone().set_align(FormatAlign::Center),
            Role::Text => text.clone(),
            Role::Date => cell.clone().set_align(FormatAlign::Center).set_num_format("yyyy\"年\"m\"月\"d\"日\""),
            Role::Number { decimals, thousands } => {
                let digits = if decimals > 0 { format!(".{}", "0".repeat(decimals as usize)) } else { String::new() };
                let code = if thousands { format!("#,##0{digits}") } else { format!("0{digits}") };
                cell.clone().set_align(FormatAlign::Center).set_num_format(code)
            }
        };
        place(ws, item, &format)?;
        // Wrapped text needs taller rows; Excel does not size rows for merged cells itself.
        let room: f64 = widths[item.col as usize..(item.col + item.cols) as usize].iter().sum::<f64>() - 1.0;
        let lines: f64 =
            item.text.lines().map(|l| (line_units(l) / room.max(2.0)).ceil().max(1.0)).sum::<f64>().max(1.0);
        let pt = match item.role {
            Role::Title => 32.0,
            _ => lines * 14.0 + 4.0,
        };
        let per_row = pt / item.rows as f64;
        for r in item.row..item.row + item.rows {
            let h = heights.entry(r).or_insert(18.0);
            *h = h.max(per_row);
        }
    }
    for (r, h) in heights {
        ws.set_row_height(r, h.min(409.0))?;
    }
    ws.set_paper_size(9); // A4
    if landscape {
        ws.set_landscape();
    } else {
        ws.set_portrait();
    }
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_margins(0.6, 0.6, 0.8, 0.8, 0.3, 0.3);
    if let Some((a, z)) = grid.header_rows {
        ws.set_repeat_rows(a, z)?;
    }
    Ok(())
}

fn place(ws: &mut Worksheet, item: &Item, format: &Format) -> Result<(), XlsxError> {
    let (r2, c2) = (item.row + item.rows - 1, item.col + item.cols - 1);
    let merged = item.rows > 1 || item.cols > 1;
    if let (Role::Date, Some(serial)) = (item.role, sheet::date_serial(&item.text)) {
        if merged {
            ws.merge_range(item.row, item.col, r2, c2, "", format)?;
        }
        ws.write_number_with_format(item.row, item.col, serial, format)?;
        return Ok(());
    }
    match (item.role, sheet::as_number(&item.text)) {
        (Role::Number { .. }, Some((value, _))) => {
            if merged {
                ws.merge_range(item.row, item.col, r2, c2, "", format)?;
            }
            ws.write_number_with_format(item.row, item.col, value, format)?;
        }
        _ if merged => {
            ws.merge_range(item.row, item.col, r2, c2, &item.text, format)?;
        }
        _ if item.text.is_empty() => {
            ws.write_blank(item.row, item.col, format)?;
        }
        _ => {
            ws.write_string_with_format(item.row, item.col, &item.text, format)?;
        }
    }
    Ok(())
}
