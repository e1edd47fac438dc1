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

/// Where each sheet of an .xlsx lives in the zip, by sheet name (from the
/// workbook and its relationships; small parts).
pub fn sheet_parts(bytes: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else { return out };
    let mut part = |name: &str| -> Option<String> {
        let mut text = String::new();
        zip.by_name(name).ok()?.read_to_string(&mut text).ok()?;
        Some(text)
    };
    let (Some(book), Some(rels)) = (part("xl/workbook.xml"), part("xl/_rels/workbook.xml.rels")) else { return out };
    let mut targets: HashMap<String, String> = HashMap::new();
    each_element(rels.as_bytes(), "Relationship", |a| {
        if let (Some(id), Some(target)) = (a.get("Id"), a.get("Target")) {
            targets.insert(id.clone(), target.clone());
        }
    });
    each_element(book.as_bytes(), "sheet", |a| {
        let id = a.iter().find(|(k, _)| k.ends_with(":id")).map(|(_, v)| v);
        if let (Some(name), Some(target)) = (a.get("name"), id.and_then(|id| targets.get(id))) {
            let path = target.strip_prefix('/').map_or_else(|| format!("xl/{target}"), str::to_string);
            out.insert(name.clone(), path);
        }
    });
    out
}

/// The hidden rows and columns of the sheet at `part`: a row with
/// `hidden="1"` or a height of 0, a column range with `hidden="1"` or a
/// width of 0. Read as a stream, once the sheet has been read within its
/// limits; a part that cannot be read hides nothing.
pub fn hidden_lines(bytes: &[u8], part: &str) -> Hidden {
    let mut hidden = Hidden::default();
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else { return hidden };
    let Ok(entry) = zip.by_name(part) else { return hidden };
    let reader = std::io::BufReader::new(entry.take(crate::inputs::xlsx::MAX_ENTRY_BYTES));
    let is_hidden = |a: &HashMap<String, String>| a.get("hidden").is_some_and(|h| h == "1" || h == "true");
    let zero = |a: &HashMap<String, String>, key: &str| a.get(key).and_then(|v| v.parse::<f64>().ok()) == Some(0.0);
    let number = |a: &HashMap<String, String>, key: &str| a.get(key).and_then(|v| v.parse::<u32>().ok());
    each_element_in(reader, &["row", "col"], |tag, a| match tag {
        "row" => {
            if let Some(r) = number(a, "r").filter(|&r| r > 0)
                && (is_hidden(a) || zero(a, "ht"))
            {
                hidden.rows.insert(r - 1);
            }
        }
        _ => {
            if let (Some(first), Some(last)) = (number(a, "min"), number(a, "max"))
                && first > 0
                && last >= first
                && (is_hidden(a) || zero(a, "width"))
            {
                hidden.cols.push((first - 1, last - 1));
            }
        }
    });
    hidden
}

/// Calls `f` with the attributes of every element named `tag` in an XML text.
fn each_element(xml: &[u8], tag: &str, mut f: impl FnMut(&HashMap<String, String>)) {
    each_element_in(xml, &[tag], |_, a| f(a));
}

/// Calls `f` with the name and attributes of every element named one of
/// `tags` (start or empty tag), reading the XML as a stream.
fn each_element_in(xml: impl std::io::BufRead, tags: &[&str], mut f: impl FnMut(&str, &HashMap<String, String>)) {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = vec![];
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                let name = e.name();
                if let Some(tag) = tags.iter().find(|t| name.as_ref() == **t) {
                    let attrs = e
                        .attributes()
                        .flatten()
                        .filter_map(|a| {
                            let value = quick_xml::escape::unescape(&a.value).ok()?.into_owned();
                            Some((a.key.as_ref().to_string(), value))
                        })
                        .collect();
                    f(tag, &attrs);
                }
            }
            Ok(Event::Eof) | Err(_) => return,
            Ok(_) => {}
        }
        buf.clear();
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
    // Without a digit placeholder a section shows the number as it is (General, which Chinese
    // Excel and WPS write G/通用格式; @), or only its own text (`"920"`) in the number's place.
    let mut core = String::new();
    let mut in_brackets = false;
    for c in section.chars() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            c if !in_brackets => core.push(c),
            _ => {}
        }
    }
    if !core.contains(['0', '#', '?']) {
        return core.contains(['"', '\\']).then(|| format!("「{code}」显示的是文字，不是数字"));
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
            (5.0, "G/通用格式"),
            (5.0, "[$-804]General"),
            (5.0, "@"),
            (1234.0, "#,##0.00 \"万元\""),
        ] {
            assert_eq!(shown_differently(x, code), None, "{code}");
        }
        for (x, code) in [
            (620.0, "\"9\"00"),
            (620.0, "\"920\""),
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
