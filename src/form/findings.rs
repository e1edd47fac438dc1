//! Findings: what the checks say about a form, located in its file and named
//! the way the form names things, and how they are printed.

use std::fmt::Write as _;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::form::yaml::Loc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// Whether a finding stops rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Unreadable YAML, wrong types, unknown or missing fields, missing glyphs:
    /// the form cannot be laid out faithfully.
    Structure,
    /// A form rule or lint: the PDF can still be printed as a draft.
    Rule,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    pub class: Class,
    pub loc: Option<Loc>,
    /// The place as the form names it: 管理效率 › 预算管理 › 预算执行率 › 指标值.
    pub path: String,
    /// The place in the YAML: indicators[1].groups[0].rows[2].value.
    pub yaml_path: String,
    pub message: String,
    /// A suggestion (did-you-mean, `--font-path`, …).
    pub help: Option<String>,
}

impl Finding {
    pub fn error(class: Class, loc: Option<Loc>, at: &Place, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            class,
            loc,
            path: at.label.clone(),
            yaml_path: at.yaml.clone(),
            message: message.into(),
            help: None,
        }
    }

    pub fn warning(loc: Option<Loc>, at: &Place, message: impl Into<String>) -> Finding {
        Finding { severity: Severity::Warning, ..Finding::error(Class::Rule, loc, at, message) }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    pub fn blocks_render(&self) -> bool {
        self.severity == Severity::Error && self.class == Class::Structure
    }
}

/// A finding as scripts read it (`--json`, the web app): where it is (line
/// and column from 1, the YAML path, the place as the form names it), how
/// bad (`error`/`warning`, and whether it stops rendering) and what it says.
impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Finding", 8)?;
        out.serialize_field("severity", self.severity.name())?;
        out.serialize_field("blocking", &self.blocks_render())?;
        out.serialize_field("line", &self.loc.map(|l| l.line))?;
        out.serialize_field("column", &self.loc.map(|l| l.col))?;
        out.serialize_field("path", &self.yaml_path)?;
        out.serialize_field("place", &self.path)?;
        out.serialize_field("message", &self.message)?;
        out.serialize_field("help", &self.help)?;
        out.end()
    }
}

impl Severity {
    /// `error` or `warning`, as scripts see it.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A place in the form: its YAML path and the label a person would use.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub yaml: String,
    pub label: String,
}

impl Place {
    pub fn root() -> Place {
        Place::default()
    }

    /// A field of a mapping: `tasks` / 年度主要任务.
    pub fn key(&self, key: &str, label: &str) -> Place {
        Place {
            yaml: if self.yaml.is_empty() { key.to_string() } else { format!("{}.{key}", self.yaml) },
            label: join(&self.label, label),
        }
    }

    /// An item of a list: `tasks[2]` / 任务3.
    pub fn index(&self, i: usize, label: &str) -> Place {
        Place { yaml: format!("{}[{i}]", self.yaml), label: join(&self.label, label) }
    }
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a} › {b}"),
    }
}

/// How findings are printed.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub snippets: bool,
}

/// Text from a form or a file name, safe to print on a terminal: control
/// characters (escape sequences among them) are shown as `\x1b`, `\u{9b}`;
/// tabs and line breaks stay.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x80 && c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Prints the findings of one file, errors first, one finding per line
/// (plus a source snippet on a terminal).
pub fn render(file: &str, source: Option<&str>, findings: &[Finding], style: Style) -> String {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| (f.severity, f.loc.map(|l| (l.line, l.col))));
    let mut out = String::new();
    for f in sorted {
        let (word, color) = match f.severity {
            Severity::Error => ("错误", "\x1b[1;31m"),
            Severity::Warning => ("警告", "\x1b[1;33m"),
        };
        let file = escape_controls(file);
        let at = match f.loc {
            Some(l) => format!("{file}:{}:{}", l.line, l.col),
            None => file,
        };
        let mut place = String::new();
        if !f.path.is_empty() || !f.yaml_path.is_empty() {
            place = match (f.path.is_empty(), f.yaml_path.is_empty()) {
                (false, false) if f.path != f.yaml_path => format!("〔{} · {}〕", f.path, f.yaml_path),
                (false, _) => format!("〔{}〕", f.path),
                _ => format!("〔{}〕", f.yaml_path),
            };
        }
        let help = f.help.as_ref().map(|h| format!("（{}）", escape_controls(h))).unwrap_or_default();
        let (message, place) = (escape_controls(&f.message), escape_controls(&place));
        let sep = if place.is_empty() { "" } else { " " };
        if style.color {
            let _ =
                writeln!(out, "\x1b[1m{at}\x1b[0m: {color}{word}\x1b[0m：{message}{help}{sep}\x1b[2m{place}\x1b[0m");
        } else {
            let _ = writeln!(out, "{at}: {word}：{message}{help}{sep}{place}");
        }
        if style.snippets
            && let (Some(src), Some(loc)) = (source, f.loc)
        {
            out.push_str(&snippet(src, loc, style.color));
        }
    }
    out
}

/// The offending line with a caret under the column, as rustc and typst do.
fn snippet(source: &str, loc: Loc, color: bool) -> String {
    let Some(line) = source.lines().nth(loc.line.saturating_sub(1) as usize) else {
        return String::new();
    };
    let line: String = escape_controls(&line.chars().take(160).collect::<String>());
    let num = loc.line.to_string();
    let pad = " ".repeat(num.len());
    // Wide (CJK) characters take two terminal columns.
    let width: usize =
        line.chars().take(loc.col.saturating_sub(1) as usize).map(|c| if is_wide(c) { 2 } else { 1 }).sum();
    let (blue, red, reset) = if color { ("\x1b[1;34m", "\x1b[1;31m", "\x1b[0m") } else { ("", "", "") };
    format!(
        "{blue}{pad} |{reset}\n{blue}{num} |{reset} {line}\n{blue}{pad} |{reset} {}{red}^{reset}\n",
        " ".repeat(width)
    )
}

fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_finding() {
        let at = Place::root().key("tasks", "年度主要任务").index(2, "任务3").key("fiscal", "其中：财政资金");
        let f = Finding::error(
            Class::Rule,
            Some(Loc { line: 30, col: 14, start: 0, len: 0 }),
            &at,
            "任务3：其中财政资金 3300.9 大于合计 3300.8",
        );
        let text = render("a.yaml", None, &[f], Style { color: false, snippets: false });
        assert_eq!(
            text,
            "a.yaml:30:14: 错误：任务3：其中财政资金 3300.9 大于合计 3300.8 〔年度主要任务 › 任务3 › 其中：财政资金 · tasks[2].fiscal〕\n"
        );
    }
}
