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

use crate::form::yaml::{self, Node, Value};
use crate::form::yaml_write;

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

/// A text value as YAML (see `yaml_write::scalar`).
pub fn text(s: &str) -> String {
    yaml_write::scalar(s)
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

/// The text written would not read back as the data (never expected: the
/// writer escapes what YAML cannot hold; a save is refused rather than
/// writing a file that no longer reads).
#[derive(Debug)]
pub struct Unreadable;

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "写出的 YAML 读回后与表单数据不一致，未保存")
    }
}

impl std::error::Error for Unreadable {}

/// Whether `text` reads back as exactly `data`.
fn reads_back(text: &str, data: &Data) -> bool {
    yaml::parse(text.as_bytes()).is_ok_and(|(t, root)| same(&typed(&root, &t), data))
}

/// A new file: `head` (its comment block) and the data.
pub fn create(head: &str, new: &Data) -> Result<Edited, Unreadable> {
    let text = format!("{head}{}", emit(new));
    if !reads_back(&text, new) {
        return Err(Unreadable);
    }
    Ok(Edited { text, rewritten: true, dropped: vec![] })
}

/// Writes `new` into the file whose text is `source` (read into `root`).
pub fn edit(source: &str, root: Option<&Node>, new: &Data) -> Result<Edited, Unreadable> {
    if let Some(root) = root {
        let mut splices = vec![];
        if diff(root, source, new, &mut splices) {
            let text = splice(source, splices);
            // Read back: a splice into an unusual spelling (an alias, a block
            // scalar) must give the new data exactly, or the file is rewritten.
            if reads_back(&text, new) {
                return Ok(Edited { text, rewritten: false, dropped: vec![] });
            }
        }
    }
    let mut edited = create(&header(source), new)?;
    // Comments are compared as the YAML scanner finds them, each as often as it occurs.
    let mut kept: Vec<String> = yaml::comments(&edited.text).into_iter().map(|c| c.text).collect();
    for c in yaml::comments(source) {
        match kept.iter().position(|k| *k == c.text) {
            Some(i) => {
                kept.swap_remove(i);
            }
            None => edited.dropped.push(c.text),
        }
    }
    Ok(edited)
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

/// The comment block at the top of a file (comments, blank lines and
/// directives before the first value, up to that value's line), kept when
/// the file is written afresh.
fn header(source: &str) -> String {
    let Some(first) = yaml::first_value(source) else { return String::new() };
    // Back to the start of the value's line (any YAML line break).
    let head = &source[..first];
    let end = head.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let head = &head[..end];
    // Written with line feeds, like the rest of the new text.
    head.replace("\r\n", "\n").replace('\r', "\n")
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
        let e = edit(&s, Some(&root), &data).unwrap();
        assert!(!e.rewritten);
        assert_eq!(
            e.text,
            "# head\nform: x   # kind\ntasks:\n  - {name: 任务1, total: 5, fiscal: 5.00}  # row\nz: 1\na: \"a, b\"\n"
        );
        // Clearing a value leaves the key blank.
        let Data::Map(m) = &mut data else { panic!() };
        m.shift_remove("z");
        let e = edit(&s, Some(&root), &data).unwrap();
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
        let e = edit(&s, Some(&root), &data).unwrap();
        assert!(e.rewritten);
        assert_eq!(e.text, "# head\nform: x\n\nrows:\n  - a\n  - b\n");
        assert_eq!(e.dropped, vec!["# the rows".to_string()]);
    }

    fn hostile_data() -> impl proptest::strategy::Strategy<Value = Data> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            crate::form::yaml_write::hostile_text().prop_map(Data::Text),
            any::<bool>().prop_map(Data::Bool)
        ];
        let tree = leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Data::List),
                prop::collection::vec((crate::form::yaml_write::hostile_text(), inner), 0..4)
                    .prop_map(|entries| Data::Map(entries.into_iter().collect())),
            ]
        });
        prop::collection::vec((crate::form::yaml_write::hostile_text(), tree), 1..5)
            .prop_map(|entries| Data::Map(entries.into_iter().collect()))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

        /// Whatever the page sends, the file written reads back as that data:
        /// written afresh, and spliced into a file value by value.
        #[test]
        fn any_text_reads_back_written_afresh_or_spliced(data in hostile_data(), other in crate::form::yaml_write::hostile_text()) {
            let fresh = create("# 头\n", &data).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let (t, root) = load(&fresh.text);
            proptest::prop_assert!(same(&typed(&root, &t), &data), "{}", fresh.text);
            // Every text value changed to `other`, saved into that file.
            fn replace(d: &Data, with: &str) -> Data {
                match d {
                    Data::Text(_) => Data::Text(with.to_string()),
                    Data::List(l) => Data::List(l.iter().map(|x| replace(x, with)).collect()),
                    Data::Map(m) => Data::Map(m.iter().map(|(k, v)| (k.clone(), replace(v, with))).collect()),
                    other => other.clone(),
                }
            }
            let changed = replace(&typed(&root, &t), &other);
            let edited = edit(&t, Some(&root), &changed).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            let (t2, root2) = load(&edited.text);
            proptest::prop_assert!(same(&typed(&root2, &t2), &changed), "{}", edited.text);
        }
    }

    #[test]
    fn comments_are_found_as_yaml_finds_them() {
        let src = "a: it's   # one\nb: \"x\\\\\"  # two\nc: 'q''s # not'  # three\nd: x#y\n";
        let found: Vec<String> = crate::form::yaml::comments(src).into_iter().map(|c| c.text).collect();
        assert_eq!(found, ["# one", "# two", "# three"]);
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
