//! Reading YAML into a tree that remembers where every node came from.
//!
//! Form kinds are declared in manifests, not Rust types, so form data is first
//! read into this generic tree; `schema` then checks it against the kind and
//! can name the exact line of every wrong value. serde-saphyr does the parsing:
//! it is panic-free on malformed input and enforces budgets (depth, node count,
//! alias expansion) that stop alias bombs and absurd nesting early.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A position in the source text (1-based line and column, byte range).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
    pub start: usize,
    pub len: usize,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys stay in source order; the key node carries the key's own location.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// What a finding calls this kind of value.
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Null => "空值",
            Value::Bool(_) => "布尔值",
            Value::Int(_) | Value::Float(_) => "数字",
            Value::Str(_) => "文本",
            Value::Seq(_) => "列表",
            Value::Map(_) => "映射",
        }
    }
}

impl Node {
    /// The scalar exactly as written in the file (for a plain number such as
    /// `3600.40`, whose float value would lose the trailing zero).
    pub fn raw<'a>(&self, source: &'a str) -> Option<&'a str> {
        source.get(self.loc.start..self.loc.start + self.loc.len).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// The value as JSON, without locations (scalars as YAML typed them).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => i64::try_from(*i).map_or_else(|_| J::from(*i as f64), J::from),
            Value::Float(x) => J::from(*x),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let key = match &k.value {
                            Value::Str(s) => s.clone(),
                            other => k.raw("").map_or_else(|| other.describe().to_string(), str::to_string),
                        };
                        (key, v.to_json())
                    })
                    .collect(),
            ),
        }
    }

    /// Looks up a key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => {
                entries.iter().find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key)).map(|(_, v)| v)
            }
            _ => None,
        }
    }
}

/// Why a file could not be read as YAML at all.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub message: String,
    pub loc: Option<Loc>,
}

/// Largest form file we accept; a 100 000-row form is about 20 MB.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// Decodes file bytes (UTF-8, optional BOM) and parses one YAML document.
pub fn parse(bytes: &[u8]) -> Result<(String, Node), SyntaxError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(SyntaxError {
            message: format!("文件过大（{} 字节，上限 {} 字节）", bytes.len(), MAX_FILE_BYTES),
            loc: None,
        });
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(SyntaxError { message: "文件是 UTF-16 编码；请另存为 UTF-8".into(), loc: None });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        return Err(SyntaxError {
            message: "文件含有 NUL 字符，不是文本文件".into(),
            loc: Some(loc_of_byte(bytes, pos)),
        });
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_owned(),
        Err(e) => {
            let at = e.valid_up_to();
            // Office tools on Chinese Windows save GBK by default; say so when it decodes as such.
            let (_, _, malformed) = encoding_rs::GB18030.decode(bytes);
            let guess = if malformed { "" } else { "，看起来是 GBK/GB18030 编码" };
            return Err(SyntaxError {
                message: format!("文件不是 UTF-8 编码（第 {} 字节起无效{guess}）；请另存为 UTF-8", at + 1),
                loc: Some(loc_of_byte(bytes, at)),
            });
        }
    };
    if text.trim().is_empty() {
        return Err(SyntaxError { message: "文件为空".into(), loc: None });
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: 48,
            max_events: 20_000_000,
            max_nodes: 4_000_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_documents: 1,
        },
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<Node>(&text, options) {
        Ok(node) => Ok((text, node)),
        Err(e) => {
            let loc = e.location().and_then(|l| to_loc(&l));
            Err(SyntaxError { message: describe_error(&e), loc })
        }
    }
}

/// A comment of a YAML text: its text from `#` to the end of its line, and
/// where that `#` is (a byte offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    pub start: usize,
}

/// Every comment of a YAML text, found by the YAML scanner itself (so a `#`
/// inside a quoted or plain scalar, after an apostrophe or an escaped
/// backslash, is never taken for one); up to the first syntax error.
pub fn comments(source: &str) -> Vec<Comment> {
    let mut out = vec![];
    for event in scanner(source) {
        let Ok((granit_parser::Event::Comment(..), span)) = event else {
            if event.is_err() {
                break;
            }
            continue;
        };
        if let (Some(text), Some(start)) = (span.slice(source), span.start.byte_offset()) {
            out.push(Comment { text: text.trim_end().to_string(), start });
        }
    }
    out
}

/// The YAML parser with comment events, however many comments a file has in a row.
fn scanner(source: &str) -> granit_parser::Parser<'_, granit_parser::StrInput<'_>> {
    let options = granit_parser::options! { max_buffered_comment_events: usize::MAX };
    granit_parser::Parser::new_from_str_with_options(source, options)
}

/// Where the first value of a YAML text begins (a byte offset): what comes
/// before is comments, blank lines and directives.
pub fn first_value(source: &str) -> Option<usize> {
    use granit_parser::Event;
    for event in scanner(source) {
        match event {
            Ok((Event::Scalar(..) | Event::MappingStart(..) | Event::SequenceStart(..) | Event::Alias(..), span)) => {
                return span.start.byte_offset();
            }
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

fn describe_error(e: &serde_saphyr::Error) -> String {
    let text = e.without_snippet().to_string();
    // The library appends " at line X, column Y"; we print the location ourselves.
    let text = match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let limit = |what: &str| format!("文件结构超出限制：{what}");
    if text.contains("Documents") {
        return "文件含有多个 YAML 文档（以 --- 分隔）；一个文件只写一张表".into();
    }
    if text.contains("Depth") || text.contains("recursion limit") {
        return limit("嵌套过深");
    }
    if text.contains("Alias") || text.contains("Anchor") {
        return limit("别名（*）展开过多");
    }
    if text.contains("budget breached") {
        return limit(&format!("内容过多（{text}）"));
    }
    format!("YAML 语法错误：{text}")
}

/// Line and column of a byte offset; works on bytes, which need not be valid UTF-8.
fn loc_of_byte(bytes: &[u8], at: usize) -> Loc {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..]).chars().count() as u32 + 1;
    Loc { line, col, start: at, len: 0 }
}

fn to_loc(l: &serde_saphyr::Location) -> Option<Loc> {
    if l.line() == 0 {
        return None;
    }
    let span = l.span();
    Some(Loc {
        line: l.line() as u32,
        col: l.column() as u32,
        start: span.byte_offset().unwrap_or(0) as usize,
        len: span.byte_len().unwrap_or(0) as usize,
    })
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(d)?;
        let loc = to_loc(&spanned.referenced).unwrap_or_default();
        Ok(Node { value: spanned.value, loc })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        i128::try_from(v).map(Value::Int).map_err(|_| E::custom("number too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        String::from_utf8(v.to_vec()).map(Value::Str).map_err(|_| E::custom("binary data is not text"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_raw_text() {
        let src = "a: 1\nb:\n  - x\n  - 3600.40\n";
        let (text, root) = parse(src.as_bytes()).unwrap();
        let b = root.get("b").unwrap();
        let Value::Seq(items) = &b.value else { panic!("not a list") };
        assert_eq!(items[1].loc.line, 4);
        assert_eq!(items[1].raw(&text), Some("3600.40"));
        assert!(matches!(root.get("a").unwrap().value, Value::Int(1)));
    }

    #[test]
    fn bom_crlf_and_bad_encoding() {
        let (_, root) = parse(b"\xEF\xBB\xBFa: 1\r\nb: 2\r\n").unwrap();
        assert!(root.get("b").is_some());
        let err = parse(b"a: \xff\xfe\n").unwrap_err();
        assert!(err.message.contains("UTF-8"), "{}", err.message);
    }

    #[test]
    fn hostile_structures_fail_cleanly() {
        let deep = "[".repeat(5000) + &"]".repeat(5000);
        assert!(parse(deep.as_bytes()).is_err());
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 { "a".to_string() } else { format!("l{}", i - 1) };
            bomb += &format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            );
        }
        assert!(parse(bomb.as_bytes()).is_err());
        assert!(parse(b"   \n").is_err());
    }
}
