//! The form's YAML as the page edits it: the data as JSON with every number
//! as the text typed, YAML written back from that JSON, and saving an edit
//! into an existing file so that its comments and key order survive.
//!
//! An edit that only changes values is spliced into the original text, value
//! by value, at the positions the YAML reader recorded; the result is read
//! back and must give exactly the new data. Anything else (a row added, a
//! field filled that was absent) writes the file afresh from the data, keeping
//! the comment block at its top, and names every other comment that is lost.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::form::yaml::{Node, Value};

/// Form data as the page edits it. Unlike `serde_json::Value`, mappings keep
/// their keys in order (the file's, then the manifest's), both ways.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Data {
    Null,
    Bool(bool),
    Text(String),
    /// A number sent as a number (the page sends text; kept for other clients).
    Number(serde_json::Number),
    List(Vec<Data>),
    Map(IndexMap<String, Data>),
}

impl Data {
    pub fn is_null(&self) -> bool {
        matches!(self, Data::Null)
    }

    pub fn get(&self, key: &str) -> Option<&Data> {
        match self {
            Data::Map(m) => m.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Data::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// The data of a YAML tree as the page edits it: numbers as the text typed
/// (`3600.40` stays `"3600.40"`), text, booleans and nulls as they are.
pub fn typed(node: &Node, source: &str) -> Data {
    match &node.value {
        Value::Null => Data::Null,
        Value::Bool(b) => Data::Bool(*b),
        Value::Int(_) | Value::Float(_) => Data::Text(node.raw(source).unwrap_or_default().to_string()),
        Value::Str(s) => Data::Text(s.clone()),
        Value::Seq(items) => Data::List(items.iter().map(|n| typed(n, source)).collect()),
        Value::Map(entries) => {
            Data::Map(entries.iter().map(|(k, v)| (key_text(k, source), typed(v, source))).collect())
        }
    }
}

fn key_text(k: &Node, source: &str) -> String {
    match &k.value {
        Value::Str(s) => s.clone(),
        _ => k.raw(source).unwrap_or_default().to_string(),
    }
}

/// YAML for the data, in block style, keys in the data's order; a null or
/// absent value is left out (a blank cell).
pub fn emit(data: &Data) -> String {
    let mut out = String::new();
    match data {
        Data::Map(map) => mapping(&mut out, map, 0, true),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn mapping(out: &mut String, map: &IndexMap<String, Data>, indent: usize, top: bool) {
    let mut first = true;
    for (k, v) in map {
        if v.is_null() {
            continue;
        }
        // A blank line before each top-level block, as people write forms.
        if top && !first && matches!(v, Data::List(_) | Data::Map(_)) && !is_empty(v) {
            out.push('\n');
        }
        first = false;
        out.push_str(&" ".repeat(indent));
        out.push_str(&text(k));
        out.push(':');
        nested(out, v, indent);
    }
}

fn is_empty(v: &Data) -> bool {
    match v {
        Data::List(a) => a.is_empty(),
        Data::Map(m) => m.values().all(Data::is_null),
        _ => false,
    }
}

/// What follows `key:` or `-`: a scalar on the same line, or a block below.
fn nested(out: &mut String, v: &Data, indent: usize) {
    match v {
        Data::List(a) if a.is_empty() => out.push_str(" []\n"),
        Data::Map(m) if m.values().all(Data::is_null) => out.push_str(" {}\n"),
        Data::List(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&" ".repeat(indent + 2));
                out.push('-');
                match item {
                    Data::Map(m) if !m.values().all(Data::is_null) => {
                        // The item's first key goes on the dash's line.
                        let mut block = String::new();
                        mapping(&mut block, m, indent + 4, false);
                        out.push(' ');
                        out.push_str(&block[indent + 4..]);
                    }
                    Data::Null => out.push('\n'),
                    other => nested(out, other, indent + 2),
                }
            }
        }
        Data::Map(m) => {
            out.push('\n');
            mapping(out, m, indent + 2, false);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn scalar(v: &Data) -> String {
    match v {
        Data::Null => String::new(),
        Data::Bool(b) => b.to_string(),
        Data::Number(n) => n.to_string(),
        Data::Text(s) => text(s),
        // Not reached from `nested`, which writes collections as blocks.
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// A text value as YAML: plain where YAML reads it back as the same text (or,
/// for a plain decimal such as `3600.40`, as the number typed so), otherwise
/// double-quoted with JSON escapes (valid YAML). Plain scalars are also safe
/// inside flow collections (`{name: 任务1, total: 5}`), so a splice never
/// breaks the line around it.
pub fn text(s: &str) -> String {
    if plain_ok(s) { s.to_string() } else { serde_json::to_string(s).expect("a string serialises") }
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    if s.trim() != s || s.ends_with(':') || s.contains(": ") || s.contains(" #") {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`~".contains(first) && !is_decimal(s) {
        return false;
    }
    if s.chars()
        .any(|c| c.is_control() || ",[]{}#".contains(c) || matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{85}'))
    {
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

/// The new text of a saved form, and what of the old text did not survive.
#[derive(Debug)]
pub struct Edited {
    pub text: String,
    /// The file was written afresh (not value by value).
    pub rewritten: bool,
    /// Comments of the old text that the new text no longer has.
    pub dropped: Vec<String>,
}

/// Writes `new` into the file whose text is `source` (read into `root`).
pub fn edit(source: &str, root: Option<&Node>, new: &Data) -> Edited {
    if let Some(root) = root {
        let mut splices = vec![];
        if diff(root, source, new, &mut splices) {
            let text = splice(source, splices);
            // Read back: a splice into an unusual spelling (an alias, a block
            // scalar) must give the new data exactly, or the file is rewritten.
            if let Ok((t, reread)) = crate::form::yaml::parse(text.as_bytes())
                && same(&typed(&reread, &t), new)
            {
                return Edited { text, rewritten: false, dropped: vec![] };
            }
        }
    }
    let head = header(source);
    let text = format!("{head}{}", emit(new));
    let dropped = comments(source).into_iter().filter(|c| !text.contains(c.as_str())).collect();
    Edited { text, rewritten: true, dropped }
}

/// Collects value splices turning `node` into `new`; false when the change is
/// not one of values only.
fn diff(node: &Node, source: &str, new: &Data, splices: &mut Vec<(usize, usize, String)>) -> bool {
    match (&node.value, new) {
        (Value::Map(entries), Data::Map(map)) => {
            // A key the file does not have, given a value, is a structural change.
            let has = |key: &str| entries.iter().any(|(k, _)| matches!(&k.value, Value::Str(s) if s == key));
            if map.iter().any(|(k, v)| !v.is_null() && !has(k)) {
                return false;
            }
            entries.iter().all(|(k, v)| {
                let Value::Str(key) = &k.value else { return false };
                match map.get(key) {
                    Some(nv) => diff(v, source, nv, splices),
                    None if matches!(v.value, Value::Null) => true,
                    None => clear(v, splices),
                }
            })
        }
        (Value::Seq(items), Data::List(list)) => {
            items.len() == list.len() && items.iter().zip(list).all(|(n, v)| diff(n, source, v, splices))
        }
        (Value::Null, Data::Null) => true,
        (_, Data::Null) => clear(node, splices),
        (Value::Null, _) => false,
        (Value::Bool(a), Data::Bool(b)) => {
            if a != b {
                splices.push((node.loc.start, node.loc.len, b.to_string()));
            }
            true
        }
        (Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_), Data::Text(s)) => {
            if typed(node, source).as_str() != Some(s.as_str()) {
                if node.loc.len == 0 {
                    return false;
                }
                splices.push((node.loc.start, node.loc.len, text(s)));
            }
            true
        }
        _ => false,
    }
}

/// A value made blank: its text removed (`total: 5` → `total:`).
fn clear(node: &Node, splices: &mut Vec<(usize, usize, String)>) -> bool {
    if matches!(node.value, Value::Seq(_) | Value::Map(_)) || node.loc.len == 0 {
        return false;
    }
    splices.push((node.loc.start, node.loc.len, String::new()));
    true
}

fn splice(source: &str, mut splices: Vec<(usize, usize, String)>) -> String {
    splices.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut text = source.to_string();
    for (start, len, with) in splices {
        if source.is_char_boundary(start) && source.is_char_boundary(start + len) && start + len <= source.len() {
            text.replace_range(start..start + len, &with);
        }
    }
    text
}

/// Equal as form data: a null member is the same as an absent one.
pub fn same(a: &Data, b: &Data) -> bool {
    match (a, b) {
        (Data::Map(x), Data::Map(y)) => {
            let keys = x.keys().chain(y.keys());
            keys.into_iter().all(|k| same(x.get(k).unwrap_or(&Data::Null), y.get(k).unwrap_or(&Data::Null)))
        }
        (Data::List(x), Data::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Data::Number(n), Data::Text(t)) | (Data::Text(t), Data::Number(n)) => n.to_string() == *t,
        _ => a == b,
    }
}

/// The comment block at the top of a file (comments and blank lines before
/// the first value), kept when the file is written afresh.
fn header(source: &str) -> String {
    let mut head = String::new();
    for line in source.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            head.push_str(line);
            head.push('\n');
        } else {
            break;
        }
    }
    head
}

/// Every comment of a YAML text (from `#` to the end of its line), found the
/// way YAML finds them: a `#` at the start of a line or after a space, outside
/// quotes.
pub fn comments(source: &str) -> Vec<String> {
    let mut out = vec![];
    for line in source.lines() {
        let (mut single, mut double, mut prev) = (false, false, ' ');
        for (i, c) in line.char_indices() {
            match c {
                '\'' if !double => single = !single,
                '"' if !single && prev != '\\' => double = !double,
                '#' if !single && !double && prev.is_whitespace() => {
                    out.push(line[i..].trim_end().to_string());
                    break;
                }
                _ => {}
            }
            prev = c;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Data from JSON text (keys in the order written).
    fn json(text: &str) -> Data {
        serde_json::from_str(text).unwrap()
    }

    fn set(d: &mut Data, path: &[&str], v: Data) {
        let mut at = d;
        for p in path {
            at = match at {
                Data::Map(m) => m.get_mut(*p).unwrap(),
                Data::List(l) => &mut l[p.parse::<usize>().unwrap()],
                _ => panic!(),
            };
        }
        *at = v;
    }

    fn load(src: &str) -> (String, Node) {
        crate::form::yaml::parse(src.as_bytes()).unwrap()
    }

    #[test]
    fn numbers_stay_as_typed_both_ways() {
        let (s, root) = load("a: 3600.40\nb: 10\nc: 任务\nd: '0371'\n");
        let data = typed(&root, &s);
        assert_eq!(data, json(r#"{"a": "3600.40", "b": "10", "c": "任务", "d": "0371"}"#));
        let (s2, back) = load(&emit(&data));
        assert_eq!(typed(&back, &s2), data);
        assert_eq!(emit(&data), "a: 3600.40\nb: 10\nc: 任务\nd: \"0371\"\n");
    }

    #[test]
    fn text_that_yaml_would_misread_is_quoted() {
        for s in [
            "true",
            "no",
            "null",
            "~",
            "1e5",
            "0x1F",
            ".inf",
            "2021-01-28",
            "- a",
            "a: b",
            "a #b",
            "{x}",
            " x",
            "",
            "0371",
            "1_000",
        ] {
            let (t, root) = load(&format!("k: {}\n", text(s)));
            assert_eq!(typed(&root, &t).get("k"), Some(&Data::Text(s.into())), "{s}");
        }
        assert_eq!(text("≥97%"), "≥97%");
        assert_eq!(text("100%"), "100%");
        assert_eq!(text("-3.5"), "-3.5");
    }

    #[test]
    fn a_value_edit_keeps_comments_and_order() {
        let src = "# head\nform: x   # kind\ntasks:\n  - {name: 任务1, total: 5, fiscal: 6}  # row\nz: 1\na: 2\n";
        let (s, root) = load(src);
        let mut data = typed(&root, &s);
        set(&mut data, &["tasks", "0", "fiscal"], Data::Text("5.00".into()));
        set(&mut data, &["a"], Data::Text("a, b".into()));
        let e = edit(&s, Some(&root), &data);
        assert!(!e.rewritten);
        assert_eq!(
            e.text,
            "# head\nform: x   # kind\ntasks:\n  - {name: 任务1, total: 5, fiscal: 5.00}  # row\nz: 1\na: \"a, b\"\n"
        );
        // Clearing a value leaves the key blank.
        let Data::Map(m) = &mut data else { panic!() };
        m.shift_remove("z");
        let e = edit(&s, Some(&root), &data);
        assert!(!e.rewritten, "{}", e.text);
        assert!(e.text.contains("z: \n") || e.text.contains("z:\n"), "{}", e.text);
    }

    #[test]
    fn a_structural_edit_names_the_comments_it_drops() {
        let src = "# head\nform: x\nrows:   # the rows\n  - a\n";
        let (s, root) = load(src);
        let mut data = typed(&root, &s);
        let Data::Map(m) = &mut data else { panic!() };
        let Some(Data::List(rows)) = m.get_mut("rows") else { panic!() };
        rows.push(Data::Text("b".into()));
        let e = edit(&s, Some(&root), &data);
        assert!(e.rewritten);
        assert_eq!(e.text, "# head\nform: x\n\nrows:\n  - a\n  - b\n");
        assert_eq!(e.dropped, vec!["# the rows".to_string()]);
    }

    #[test]
    fn nested_emit_reads_back_in_order() {
        let data = json(
            r#"{"form": "k", "indicators": [{"name": "产出", "groups": [{"name": "数量", "rows": [{"value": "≥1", "name": "a"}, {}]}]}], "goals": ["x\ny", "z"], "o": {"b": true}}"#,
        );
        let y = emit(&data);
        let (s, root) = load(&y);
        assert_eq!(typed(&root, &s), data, "{y}");
        assert!(y.find("value").unwrap() < y.find("name: a").unwrap(), "{y}");
    }
}
