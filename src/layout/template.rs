//! The MiniJinja environment that turns form data into Typst markup.
//!
//! Data is never code: in `.typ.j2` templates every `{{ value }}` is written as
//! a Typst string literal in markup position (`#"…";`), so nothing a user types
//! can become markup, code, a label or a file read. Templates opt out only for
//! fragments they build themselves (`|safe`), and use `|tstr` where a value
//! goes into Typst code (function arguments).

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior};
use std::fmt::Write as _;

use crate::form::kind::Sources;
use crate::form::values::{format_amount, normalize};

/// Upper bound on template work, so a looping user template cannot hang a batch.
const FUEL: u64 = 2_000_000_000;

pub fn environment(sources: Sources) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(move |name| Ok(sources.get(name).cloned()));
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("default delimiters"),
    );
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".typ.j2") || name.ends_with(".typ") {
            AutoEscape::Custom("typst".into())
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(format_value);
    env.add_filter("tstr", |v: Value| Value::from_safe_string(str_literal(&display(&v))));
    env.add_filter("money", money);
    env.add_filter("typst_len", typst_len);
    // A computed ratio as a percentage with one decimal: 0.9776 → 97.8%; none →
    // empty; a rate the user typed ("103.21%") prints as typed.
    env.add_filter("percent", |v: Value| match (v.as_str(), f64::try_from(v.clone())) {
        (Some(typed), _) => Value::from(typed),
        (None, Ok(x)) if !(v.is_none() || v.is_undefined()) => Value::from(format!("{:.1}%", x * 100.0)),
        _ => Value::from(""),
    });
    // `2020-03-06` → `2020年3月6日`; other text unchanged.
    env.add_filter("cn_date", |v: Value| {
        let s = display(&v);
        match crate::form::schema::parse_date(&s) {
            Some((y, m, d)) => Value::from(format!("{y}年{m}月{d}日")),
            None => Value::from(s),
        }
    });
    // For form rules: `item.value|measure` parses a 指标值, `item.name|seqno("任务")` reads 任务3 → 3.
    env.add_filter("measure", |v: Value| match crate::form::checks::measure(&display(&v), &[]) {
        Some(m) => Value::from(minijinja::value::Serde(m)),
        None => Value::from(()),
    });
    // `item|rows`: every indicator row below a group or tree (for sums of 分值, 得分).
    env.add_filter("rows", |v: Value| {
        let json = serde_json::to_value(&v).unwrap_or_default();
        let mut out = vec![];
        collect_rows(&json, &mut out);
        Value::from(minijinja::value::Serde(out))
    });
    // `item|indicator_value` (or `("target")`): a row's 指标值 as one text, joining the
    // columns a form may split it into: 指标性质 (nature), the value, 度量单位 (unit).
    env.add_filter("indicator_value", |row: Value, key: Option<String>| {
        let part = |k: &str| row.get_attr(k).ok().filter(|v| !v.is_none() && !v.is_undefined()).map(|v| display(&v));
        let parts = [part("nature"), part(key.as_deref().unwrap_or("value")), part("unit")];
        Value::from(parts.into_iter().flatten().collect::<String>())
    });
    // `[a, b, c]|dsum`: the sum of the numbers, ignoring blanks; none when all are blank.
    // Rounded to 6 decimals, so sums of typed amounts carry no float noise.
    env.add_filter("dsum", |items: Value| {
        let numbers: Vec<f64> = items
            .try_iter()
            .map(|it| it.filter_map(|v| if v.is_number() { f64::try_from(v).ok() } else { None }).collect())
            .unwrap_or_default();
        if numbers.is_empty() {
            Value::from(())
        } else {
            Value::from((numbers.iter().sum::<f64>() * 1e6).round() / 1e6)
        }
    });
    // `record|filled`: whether any value of a record is given (a money line the form prints).
    env.add_filter("filled", |v: Value| {
        let json = serde_json::to_value(&v).unwrap_or_default();
        let given = |x: &serde_json::Value| !x.is_null() && x.as_str() != Some("");
        Value::from(json.as_object().is_some_and(|m| m.values().any(given)))
    });
    // `typed|printed_as(computed, text)`: whether a number the form prints equals a
    // computed one rounded to the digits printed (86% for 86.2%, 9 for 8.62 are
    // not the same; 86% for 86.04% is). `text` is the cell as typed, for its digits.
    env.add_filter("printed_as", |typed: Value, computed: Value, text: Option<Value>| {
        let (Ok(t), Ok(c)) = (f64::try_from(typed.clone()), f64::try_from(computed)) else { return Value::from(true) };
        // The digits printed: the typed text's, else the number's shortest form (9.0 → 9).
        let shown = text.map(|v| display(&v)).unwrap_or_else(|| format_amount(t, None));
        let digits = shown.split_once('.').map_or(0, |(_, f)| f.chars().take_while(char::is_ascii_digit).count());
        let scale = 10f64.powi(digits as i32);
        Value::from(((c * scale).round() - t * scale).abs() < 0.5)
    });
    // `name|without_points`: a 一级 name without the points a form prints after it
    // (产出指标(50分), 成本指标(0-20)分 → 产出指标, 成本指标).
    env.add_filter("without_points", |v: Value| Value::from(without_points(&display(&v))));
    // `text|hanzi`: how many Chinese characters a text has (prose, not figures).
    env.add_filter("hanzi", |v: Value| {
        Value::from(display(&v).chars().filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c)).count())
    });
    env.add_filter("seqno", |v: Value, prefix: String| {
        crate::form::checks::seqno(&display(&v), &prefix).map_or(Value::from(()), Value::from)
    });
    env
}

fn format_value(out: &mut Output, state: &mut State, v: &Value) -> Result<(), Error> {
    if !matches!(state.auto_escape(), AutoEscape::Custom(n) if n == "typst") {
        return minijinja::escape_formatter(out, state, v);
    }
    let text = if v.is_safe() {
        v.to_string()
    } else {
        match v.kind() {
            // Typst spells these the same way, and templates use them as arguments.
            ValueKind::Bool => (if v.is_true() { "true" } else { "false" }).to_string(),
            ValueKind::Number => v.to_string(),
            _ => markup_str(&display(v)),
        }
    };
    out.write_str(&text).map_err(|_| Error::new(ErrorKind::WriteFailure, "write failed"))
}

fn collect_rows(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
    match v {
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_rows(i, out)),
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                match (k.as_str(), child) {
                    ("rows", serde_json::Value::Array(rows)) => out.extend(rows.iter().cloned()),
                    (_, serde_json::Value::Array(_)) => collect_rows(child, out),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// A name without a trailing bracket of points: `(50分)`, `（40分）`, `(0-20)分`.
fn without_points(name: &str) -> String {
    let t = name.trim();
    let inner = match t.strip_suffix('分') {
        Some(rest) if rest.ends_with([')', '）']) => rest,
        _ => t,
    };
    let Some(body) = inner.strip_suffix([')', '）']) else { return t.to_string() };
    let Some(open) = body.rfind(['(', '（']) else { return t.to_string() };
    let bracket = &body[open..];
    let points = bracket.contains('分') || t.ends_with('分');
    let figures =
        bracket.chars().skip(1).all(|c| c.is_ascii_digit() || matches!(c, '-' | '—' | '~' | '.' | '分' | ' '));
    if points && figures { body[..open].trim_end().to_string() } else { t.to_string() }
}

/// How a value reads as text: `none` and undefined read as nothing.
fn display(v: &Value) -> String {
    if v.is_none() || v.is_undefined() { String::new() } else { v.to_string() }
}

/// A Typst string literal, `"…"`, for code position.
pub fn str_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in normalize(s).chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A string literal in markup position. The trailing `;` ends the embedded
/// expression, so template text after it (`.len()`, `[x]`) stays text.
///
/// Typst never breaks a line inside a run of letters or digits, so a long
/// token (an account number, a URL-like code) would run out of its cell. Runs
/// longer than `LONG_RUN` characters are written one character per box: boxes
/// may break between them, and the PDF's text stays the same.
pub fn markup_str(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut plain = String::new();
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| !breaks_freely(**c)).count();
        if run > LONG_RUN {
            if !plain.is_empty() {
                out.push_str(&format!("#{};", str_literal(&std::mem::take(&mut plain))));
            }
            for c in &chars[i..i + run] {
                out.push_str(&format!("#box[#{};];", str_literal(&c.to_string())));
            }
            i += run;
        } else {
            plain.extend(&chars[i..i + run.max(1)]);
            i += run.max(1);
        }
    }
    if !plain.is_empty() || out.is_empty() {
        out.push_str(&format!("#{};", str_literal(&plain)));
    }
    out
}

/// Longest run of letters and digits written as one piece (see `markup_str`).
const LONG_RUN: usize = 16;

/// Characters a line may break around: spaces and CJK text.
fn breaks_freely(c: char) -> bool {
    c.is_whitespace()
        || matches!(c as u32,
            0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// `{{ amount|money }}` prints an amount: as the user typed it (`10.00`,
/// `"3,309,840.00"`, `/`), and a computed one with its own decimals (3600.4);
/// `{{ amount|money(2) }}` gives a computed amount exactly two. Blank prints blank.
fn money(v: Value, decimals: Option<u32>) -> Result<Value, Error> {
    if v.is_none() || v.is_undefined() {
        return Ok(Value::from(""));
    }
    if v.as_str().is_some() {
        return Ok(v);
    }
    let Ok(x) = f64::try_from(v.clone()) else {
        return Ok(v);
    };
    Ok(Value::from(format_amount(x, decimals)))
}

/// Writes a number of millimetres as a Typst length (`18mm`).
fn typst_len(v: Value) -> Result<Value, Error> {
    let x = f64::try_from(v).map_err(|_| Error::new(ErrorKind::InvalidOperation, "typst_len needs a number (mm)"))?;
    let mut s = String::new();
    let _ = write!(s, "{}mm", x);
    Ok(Value::from_safe_string(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    fn render(src: &str, ctx: Value) -> String {
        let mut map = BTreeMap::new();
        map.insert("t.typ.j2".to_string(), src.to_string());
        let env = environment(Arc::new(map));
        env.get_template("t.typ.j2").unwrap().render(ctx).unwrap()
    }

    #[test]
    fn values_are_escaped_by_default() {
        let ctx = minijinja::context! { s => "a\"b#c\\", n => 3, b => true, raw => "#strong[x]", none => () };
        let out = render("[{{ s }}] {{ n }} {{ b }} {{ s|tstr }} {{ raw|safe }} {{ none }}", ctx);
        assert_eq!(out, r##"[#"a\"b#c\\";] 3 true "a\"b#c\\" #strong[x] #"";"##);
    }

    #[test]
    fn points_come_off_level_names() {
        for (name, bare) in [
            ("产出指标(50分)", "产出指标"),
            ("产出指标（40分）", "产出指标"),
            ("成本指标(0-20)分", "成本指标"),
            ("效益指标", "效益指标"),
            ("满意度指标(服务对象)", "满意度指标(服务对象)"),
        ] {
            assert_eq!(without_points(name), bare);
        }
    }

    #[test]
    fn control_characters_are_normalised() {
        assert_eq!(str_literal("a\tb\u{7}c\r\nd"), r#""a bc\nd""#);
    }
}
