//! The imported form written as YAML.

use crate::form::yaml_write;

/// A value of the YAML written: text, a bare scalar, a list or a mapping.
#[derive(Debug, Clone)]
pub(super) enum Y {
    Text(String),
    Bare(String),
    List(Vec<Y>),
    Map(Vec<(String, Y)>),
}

pub(super) fn emit_map(entries: &[(String, Y)], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for (k, v) in entries {
        match v {
            Y::Text(t) => out.push_str(&format!("{pad}{k}: {}\n", yaml_write::quoted(t))),
            Y::Bare(t) => out.push_str(&format!("{pad}{k}: {t}\n")),
            Y::List(items) if items.is_empty() => {}
            Y::Map(m) if m.is_empty() => {}
            Y::List(items) => {
                out.push_str(&format!("{pad}{k}:\n"));
                emit_list(items, indent + 2, out);
            }
            Y::Map(m) => {
                out.push_str(&format!("{pad}{k}:\n"));
                emit_map(m, indent + 2, out);
            }
        }
    }
}

pub(super) fn emit_list(items: &[Y], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Y::Text(t) => out.push_str(&format!("{pad}- {}\n", yaml_write::quoted(t))),
            Y::Bare(t) => out.push_str(&format!("{pad}- {t}\n")),
            Y::List(l) => {
                out.push_str(&format!("{pad}-\n"));
                emit_list(l, indent + 2, out);
            }
            Y::Map(m) if m.is_empty() => out.push_str(&format!("{pad}- {{}}\n")),
            Y::Map(m) => {
                let mut inner = String::new();
                emit_map(m, indent + 2, &mut inner);
                // The first key goes on the dash's line.
                let inner = inner.trim_start_matches(' ');
                if inner.is_empty() {
                    out.push_str(&format!("{pad}- {{}}\n"));
                } else {
                    out.push_str(&format!("{pad}- {inner}"));
                }
            }
        }
    }
}
