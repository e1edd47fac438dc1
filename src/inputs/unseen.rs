//! What a workbook holds that a person looking at it does not see, so that
//! `import` can say so instead of importing it silently: cells in hidden rows
//! or columns, text in the colour of its background (or under the `;;;`
//! format), and numbers whose format shows something other than the value
//! imported (literal text inside the number, conditions, fractions).

use std::collections::{BTreeSet, HashMap};
use std::io::{Cursor, Read};

use calamine::Style;
use quick_xml::events::Event;

/// The hidden rows and columns of one sheet (0-based), as the sheet's XML says.
#[derive(Debug, Default)]
pub struct Hidden {
    pub rows: BTreeSet<u32>,
    /// Column ranges, first and last.
    pub cols: Vec<(u32, u32)>,
}

impl Hidden {
    pub fn row(&self, r: u32) -> bool {
        self.rows.contains(&r)
    }

    pub fn col(&self, c: u32) -> bool {
        self.cols.iter().any(|&(a, b)| a <= c && c <= b)
    }
}

/// Hidden rows and columns of every sheet of an .xlsx, by sheet name: a row
/// with `hidden="1"` or a height of 0, a column range with `hidden="1"` or a
/// width of 0. The file has been measured by `sheetcheck` already; a part
/// that cannot be read gives nothing.
pub fn hidden_lines(bytes: &[u8]) -> HashMap<String, Hidden> {
    let mut out = HashMap::new();
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else { return out };
    let mut part = |name: &str| -> Option<String> {
        let mut text = String::new();
        zip.by_name(name).ok()?.read_to_string(&mut text).ok()?;
        Some(text)
    };
    let (Some(book), Some(rels)) = (part("xl/workbook.xml"), part("xl/_rels/workbook.xml.rels")) else { return out };
    let targets: HashMap<String, String> = elements(&rels, "Relationship")
        .into_iter()
        .filter_map(|a| Some((a.get("Id")?.clone(), a.get("Target")?.clone())))
        .collect();
    for sheet in elements(&book, "sheet") {
        let id = sheet.iter().find(|(k, _)| k.ends_with(":id")).map(|(_, v)| v);
        let (Some(name), Some(id)) = (sheet.get("name"), id) else { continue };
        let Some(target) = targets.get(id) else { continue };
        let path = match target.strip_prefix('/') {
            Some(absolute) => absolute.to_string(),
            None => format!("xl/{target}"),
        };
        let Some(xml) = part(&path) else { continue };
        let mut hidden = Hidden::default();
        let hidden_attr = |a: &HashMap<String, String>| a.get("hidden").is_some_and(|h| h == "1" || h == "true");
        let zero = |a: &HashMap<String, String>, key: &str| {
            a.get(key).and_then(|v| v.parse::<f64>().ok()).is_some_and(|v| v == 0.0)
        };
        for row in elements(&xml, "row") {
            let Some(r) = row.get("r").and_then(|r| r.parse::<u32>().ok()) else { continue };
            if r > 0 && (hidden_attr(&row) || zero(&row, "ht")) {
                hidden.rows.insert(r - 1);
            }
        }
        for col in elements(&xml, "col") {
            let range = (
                col.get("min").and_then(|v| v.parse::<u32>().ok()),
                col.get("max").and_then(|v| v.parse::<u32>().ok()),
            );
            if let (Some(a), Some(b)) = range
                && a > 0
                && b >= a
                && (hidden_attr(&col) || zero(&col, "width"))
            {
                hidden.cols.push((a - 1, b - 1));
            }
        }
        out.insert(name.clone(), hidden);
    }
    out
}

/// The attributes of every element named `tag` (start or empty tag) in an XML text.
fn elements(xml: &str, tag: &str) -> Vec<HashMap<String, String>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = vec![];
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.name().as_ref() == tag => {
                let attrs = e
                    .attributes()
                    .flatten()
                    .filter_map(|a| {
                        let value = quick_xml::escape::unescape(&a.value).ok()?.into_owned();
                        Some((a.key.as_ref().to_string(), value))
                    })
                    .collect();
                out.push(attrs);
            }
            Ok(Event::Eof) | Err(_) => return out,
            Ok(_) => {}
        }
    }
}

/// Whether a cell's text cannot be seen: its font has the colour of its fill
/// (white on no fill, which shows white), or its number format shows nothing (`;;;`).
pub fn invisible(style: &Style) -> bool {
    if style
        .number_format
        .as_ref()
        .is_some_and(|f| !f.format_code.is_empty() && f.format_code.chars().all(|c| c == ';'))
    {
        return true;
    }
    let Some(ink) = style.font.as_ref().and_then(|f| f.color) else { return false };
    let paper = style.fill.as_ref().filter(|f| f.is_visible()).and_then(|f| f.get_color());
    match paper {
        Some(paper) => (ink.red, ink.green, ink.blue) == (paper.red, paper.green, paper.blue),
        None => ink.is_white(),
    }
}

/// Why a number format shows another number than the cell's value, if it
/// does: digits or a sign written into the format as text (`"9"00` shows 620
/// as 9620), a negative value shown without its sign, conditions, scaling,
/// fractions and exponents. Decoration that leaves the number as it is (a
/// currency sign, 元, colours, padding) is no reason.
pub fn shown_differently(x: f64, code: &str) -> Option<String> {
    let sections: Vec<&str> = code.split(';').collect();
    // Excel's choice of section: positive, negative (shown without its sign), zero.
    let (section, negative) = match sections.len() {
        n if x < 0.0 && n > 1 => (sections[1], true),
        n if x == 0.0 && n > 2 => (sections[2], false),
        _ => (sections[0], false),
    };
    if section.eq_ignore_ascii_case("general") {
        return None;
    }
    let Some((before, after)) = literals(section) else {
        return Some(format!("「{code}」的显示方式无法照样读入"));
    };
    // A negative number's own section prints its sign itself: a minus or brackets.
    let (before, after) = if negative {
        let Some(sign) = before.find(['-', '(', '（', '−']) else {
            return Some(format!("「{code}」把负数显示为不带负号的数"));
        };
        let mut before = before;
        before.remove(sign);
        (before, after.replacen([')', '）'], "", 1))
    } else {
        (before, after)
    };
    let changes = |t: &str| t.chars().any(|c| c.is_numeric() || "+-.−－＋".contains(c));
    if changes(&before) || changes(&after) {
        return Some(format!(
            "「{code}」在数字{}加了「{}」",
            if changes(&before) { "前" } else { "后" },
            before + &after
        ));
    }
    None
}

/// The literal text a format section prints before and after its digits;
/// none when it does more than print text around one number.
fn literals(section: &str) -> Option<(String, String)> {
    let (mut before, mut after, mut digits_seen, mut digits_done) = (String::new(), String::new(), false, false);
    let mut last_placeholder = ' ';
    let mut chars = section.chars();
    while let Some(c) = chars.next() {
        let literal = match c {
            '"' => Some(chars.by_ref().take_while(|&q| q != '"').collect::<String>()),
            '\\' => chars.next().map(String::from),
            // Padding and fill take the room of a character; they print nothing that counts.
            '_' | '*' => {
                chars.next();
                None
            }
            '[' => {
                let inner: String = chars.by_ref().take_while(|&b| b != ']').collect();
                // Colours and locales change how it looks; a condition changes what it says.
                if inner.starts_with(['<', '>', '=']) {
                    return None;
                }
                None
            }
            '0' | '#' | ',' | '.' | '%' => {
                if digits_done {
                    return None; // text between the digits
                }
                digits_seen = true;
                last_placeholder = c;
                None
            }
            '?' | '/' | '@' => return None,
            c if c.is_ascii_alphabetic() => return None, // exponents; dates are read as dates
            c => Some(c.to_string()),
        };
        if let Some(text) = literal {
            if digits_seen {
                digits_done = true;
                after.push_str(&text);
            } else {
                before.push_str(&text);
            }
        }
    }
    // A comma after the last digit divides by a thousand.
    (last_placeholder != ',').then_some((before, after))
}

#[cfg(test)]
mod tests {
    use super::shown_differently;

    #[test]
    fn only_formats_that_change_the_number_are_named() {
        for (x, code) in [
            (620.0, "0.00"),
            (1234.0, "#,##0.00_ ;[Red]-#,##0.00"),
            (-1234.0, "#,##0.00_ ;[Red]-#,##0.00"),
            (-1234.0, "#,##0.00;(#,##0.00)"),
            (1234.0, "#,##0.00\"元\""),
            (1234.0, "_ ¥* #,##0.00_ ;_ ¥* -#,##0.00_ ;_ ¥* \"-\"??_ ;_ @_ "),
            (0.95, "0%"),
            (5.0, "General"),
        ] {
            assert_eq!(shown_differently(x, code), None, "{code}");
        }
        for (x, code) in [
            (620.0, "\"9\"00"),
            (620.0, "0\"2\"0"),
            (620.0, "[>100]\"920\";0"),
            (-620.0, "0;0"),
            (620.0, "0,"),
            (620.0, "0.00E+00"),
            (0.0, "0;-0;\"-\""),
        ] {
            assert!(shown_differently(x, code).is_some(), "{code}");
        }
    }
}
