//! Writing YAML text that reads back as what was written: scalars, comment
//! lines and flow mappings for the writers of `import` and `serve`.
//!
//! YAML allows only printable characters in a file (not C0 or C1 controls,
//! DEL, U+FFFE or U+FFFF), and a comment ends at any line break, a carriage
//! return included. Text from a spreadsheet cell or a browser can hold any of
//! them, so every one is escaped in a quoted scalar and shown escaped in a
//! comment.

use serde_json::Value as Json;

/// Whether YAML allows `c` raw in a file (YAML 1.2, `c-printable`), apart from line breaks.
pub fn printable(c: char) -> bool {
    matches!(c, '\t' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && c != '\u{FEFF}'
}

/// Whether `c` ends a line somewhere: YAML 1.2 breaks (LF, CR) and those of
/// YAML 1.1 and Unicode that other readers honour (NEL, LS, PS).
fn breaks_line(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Text as a YAML double-quoted scalar: `"`, `\`, line breaks, tabs and every
/// character that is not printable or could end a line are escaped.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if printable(c) && !breaks_line(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A text value as YAML: plain where YAML reads it back as the same text (or,
/// for a plain decimal such as `3600.40`, as the number typed so), otherwise
/// double-quoted (`quoted`). Plain scalars are also safe
/// inside flow collections (`{name: 任务1, total: 5}`), so a splice never
/// breaks the line around it.
pub fn scalar(s: &str) -> String {
    if plain_ok(s) { s.to_string() } else { quoted(s) }
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    if s.trim() != s || s.ends_with(':') || s.contains(": ") || s.contains(" #") {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`~".contains(first) && !is_decimal(s) {
        return false;
    }
    if s.chars().any(|c| !printable(c) || c == '\t' || ",[]{}#\u{2028}\u{2029}".contains(c)) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if ["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(&lower.as_str()) {
        return false;
    }
    // Text YAML could read as a number, a date or a special float is quoted,
    // except a plain decimal, which is how numbers are typed.
    let numberish = s.chars().all(|c| c.is_ascii_alphanumeric() || "._+-:".contains(c))
        && (first.is_ascii_digit() || ".+-".contains(first));
    !numberish || is_decimal(s)
}

/// `12`, `-3`, `3600.40`, `0.5`: a decimal YAML reads as the number typed.
fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').map_or((digits, None), |(i, f)| (i, Some(f)));
    let int_ok = int == "0" || (!int.is_empty() && !int.starts_with('0') && int.bytes().all(|b| b.is_ascii_digit()));
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    int_ok && frac_ok && int.len() <= 15
}

/// One comment line, `# text` and its line break: a line break inside the
/// text becomes a space and any other character YAML does not allow is shown
/// escaped (`\x7f`), so the comment never ends early and the file stays YAML.
pub fn comment(text: &str) -> String {
    let mut out = String::from("# ");
    for c in text.chars() {
        match c {
            c if breaks_line(c) => out.push(' '),
            c if printable(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    out.push('\n');
    out
}

/// A JSON value as a YAML flow value on one line (`{a: "x", b: true}`),
/// strings quoted as `quoted` does.
pub fn flow(value: &Json) -> String {
    match value {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => quoted(s),
        Json::Array(items) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Json::Object(map) => {
            let entries: Vec<String> = map.iter().map(|(k, v)| format!("{}: {}", quoted(k), flow(v))).collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// Text with the characters that trip YAML writers, for the property tests
/// of both writers (`import`'s and `serve`'s).
#[cfg(test)]
pub(crate) fn hostile_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let tricky = prop::sample::select(vec![
        '\r', '\n', '\t', '\0', '\u{1b}', '\u{7f}', '\u{80}', '\u{85}', '\u{9f}', '\u{a0}', '\u{fffe}', '\u{ffff}',
        '\u{feff}', '\u{2028}', '\u{2029}', '\'', '"', '#', '\\', ':', '-', ' ', '{', '[', '&', '*', '!', '|', '>',
        '%', '@', '`', '0', '.', '任',
    ]);
    prop::collection::vec(prop_oneof![any::<char>(), tricky], 0..24).prop_map(String::from_iter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::yaml::{Value, parse};

    fn reads_back(text: &str) -> String {
        let yaml = format!("k: {}\n", quoted(text));
        let (_, root) = parse(yaml.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {}\n{yaml}", e.message));
        match &root.get("k").unwrap().value {
            Value::Str(s) => s.clone(),
            other => panic!("{text:?} read back as {other:?}"),
        }
    }

    #[test]
    fn every_character_reads_back() {
        for text in [
            "a\u{7f}b",
            "\u{80}\u{9f}\u{85}",
            "\u{fffe}\u{ffff}\u{feff}",
            "x\ry\r\nz",
            "\u{2028}\u{2029}",
            "\"'#\\ \t",
            "\u{1}\u{1b}[2J",
            "𠀀",
        ] {
            assert_eq!(reads_back(text), text);
        }
    }

    #[test]
    fn a_comment_is_one_line_of_yaml() {
        let line = comment("未能识别：A1 「x\ry: 1\u{7f}\u{fffe}」");
        assert_eq!(line.matches('\n').count(), 1, "{line:?}");
        assert!(!line.contains('\r') && !line.contains('\u{7f}') && !line.contains('\u{fffe}'), "{line:?}");
        let (_, root) = parse(format!("{line}k: 1\n").as_bytes()).unwrap();
        assert!(root.get("y").is_none());
    }

    #[test]
    fn flow_mappings_read_back() {
        let v = serde_json::json!({"a\u{7f}": "x\u{85}", "b": [true, 2, null]});
        let (_, root) = parse(format!("o: {}\n", flow(&v)).as_bytes()).unwrap();
        assert_eq!(root.get("o").unwrap().to_json(), v);
    }
}
