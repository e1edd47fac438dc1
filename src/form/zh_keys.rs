//! Chinese keys: the form's own labels as YAML keys beside the ASCII ones
//! (`部门名称:` for `department:`). The table comes from the manifest's
//! labels, so a new kind gets Chinese keys without Rust changes.
//!
//! A form is read with its Chinese keys renamed to the ASCII ones before it
//! is checked (locations kept, so every finding still points at the line the
//! user wrote); the rest of formpress sees one spelling. Writing both keys of
//! one field in the same mapping is an error naming both.

use indexmap::IndexMap;
use std::collections::HashMap;

use crate::form::findings::{Class, Finding, Place};
use crate::form::kind::{Field, FieldType, Kind, signature_fields};
use crate::form::schema::{FORM_KEY, OPTIONS_KEY};
use crate::form::yaml::{Node, Value};

/// `form:` and `options:` in Chinese.
pub const FORM_ZH: &str = "表单种类";
pub const OPTIONS_ZH: &str = "版式选项";
/// Keys of an indicator group: its name and its rows.
pub const NAME_ZH: &str = "名称";
pub const ROWS_ZH: &str = "指标";

/// A label as a key: no spaces (a key cannot start or end with one).
fn key_of(label: &str) -> String {
    label.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The Chinese key of each field of one mapping, by its ASCII key: the
/// field's label, unless another field of the mapping has the same label.
pub fn zh_keys(fields: &IndexMap<String, Field>) -> Vec<(String, String)> {
    let labels: Vec<String> = fields.values().map(|f| key_of(&f.label)).collect();
    fields
        .keys()
        .zip(&labels)
        .filter(|(k, l)| {
            !l.is_empty()
                && !l.is_ascii()
                && labels.iter().filter(|x| x == l).count() == 1
                && !fields.contains_key(l.as_str())
                && k.as_str() != l.as_str()
        })
        .map(|(k, l)| (k.clone(), l.clone()))
        .collect()
}

/// The Chinese keys of an indicator group at `level`: 名称, its own fields,
/// and what is below it (the next level's label, a side's label, or 指标).
pub fn group_keys(spec: &Field, level: usize) -> Vec<(String, String)> {
    let mut out = vec![("name".to_string(), NAME_ZH.to_string())];
    if let Some(l) = spec.levels.get(level) {
        out.extend(zh_keys(&l.fields));
    }
    if level == 0 && !spec.sides.is_empty() {
        out.extend(spec.sides.iter().map(|s| (s.key.clone(), key_of(&s.label))));
    } else if let Some(next) = spec.levels.get(level + 1) {
        out.push(("groups".into(), key_of(&next.label)));
    } else {
        out.push(("rows".into(), ROWS_ZH.into()));
    }
    out
}

/// The Chinese keys of the top level: the kind's fields, `form` and `options`.
pub fn top_keys(kind: &Kind) -> Vec<(String, String)> {
    let mut out = vec![(FORM_KEY.to_string(), FORM_ZH.to_string()), (OPTIONS_KEY.to_string(), OPTIONS_ZH.to_string())];
    out.extend(zh_keys(&kind.manifest.fields));
    out
}

/// The keys a form wrote in Chinese, by where they start in the file: findings
/// name the key the user wrote (`年度主要任务[2].其中：财政资金`).
#[derive(Debug, Default)]
pub struct Written(HashMap<usize, String>);

impl Written {
    /// A YAML path of the renamed tree (`tasks[2].fiscal`) with each key as written.
    pub fn path(&self, root: &Node, yaml_path: &str) -> String {
        if self.0.is_empty() || yaml_path.is_empty() {
            return yaml_path.to_string();
        }
        let mut node = Some(root);
        let mut out = String::new();
        for part in yaml_path.split('.') {
            let (key, indices) = part.split_once('[').map_or((part, ""), |(k, rest)| (k, rest));
            let entry = node.and_then(|n| match &n.value {
                Value::Map(entries) => entries.iter().find(|(k, _)| matches!(&k.value, Value::Str(s) if s == key)),
                _ => None,
            });
            let shown = entry.and_then(|(k, _)| self.0.get(&k.loc.start)).map_or(key, String::as_str);
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(shown);
            node = entry.map(|(_, v)| v);
            for index in indices.split(['[', ']']).filter(|s| !s.is_empty()) {
                out.push_str(&format!("[{index}]"));
                node = node.and_then(|n| match (&n.value, index.parse::<usize>()) {
                    (Value::Seq(items), Ok(i)) => items.get(i),
                    _ => None,
                });
            }
        }
        out
    }
}

/// Renames the Chinese keys of a form to the ASCII ones; a field written both
/// ways in one mapping is an error (the Chinese one is left out).
pub fn canonical(kind: &Kind, root: &mut Node) -> (Vec<Finding>, Written) {
    let mut findings = vec![];
    let mut written = Written::default();
    rename(root, &top_keys(kind), &Place::root(), &mut findings, &mut written);
    let at = Place::root();
    if let Value::Map(entries) = &mut root.value {
        for (k, v) in entries.iter_mut() {
            let Value::Str(key) = &k.value else { continue };
            if let Some(spec) = kind.manifest.fields.get(key) {
                let here = at.key(key, &spec.label);
                walk(spec, v, &here, &mut findings, &mut written);
            }
        }
    }
    (findings, written)
}

/// The form's kind id, from `form:` or `表单种类:`.
pub fn form_key(root: &Node) -> Option<&Node> {
    root.get(FORM_KEY).or_else(|| root.get(FORM_ZH))
}

fn walk(spec: &Field, node: &mut Node, at: &Place, findings: &mut Vec<Finding>, written: &mut Written) {
    match spec.ty {
        FieldType::Record | FieldType::Signature => {
            let fields = if spec.ty == FieldType::Signature {
                signature_fields()
            } else {
                spec.fields.as_ref().expect("checked")
            };
            fields_in(fields, node, at, findings, written);
        }
        FieldType::List => {
            let item = spec.item.as_deref().expect("checked");
            if let Value::Seq(items) = &mut node.value {
                for (i, it) in items.iter_mut().enumerate() {
                    walk(item, it, &at.index(i, ""), findings, written);
                }
            }
        }
        FieldType::Indicators => groups(spec, 0, node, at, findings, written),
        _ => {}
    }
}

fn fields_in(
    fields: &IndexMap<String, Field>,
    node: &mut Node,
    at: &Place,
    findings: &mut Vec<Finding>,
    written: &mut Written,
) {
    rename(node, &zh_keys(fields), at, findings, written);
    if let Value::Map(entries) = &mut node.value {
        for (k, v) in entries.iter_mut() {
            let Value::Str(key) = &k.value else { continue };
            if let Some(f) = fields.get(key) {
                walk(f, v, &at.key(key, &f.label), findings, written);
            }
        }
    }
}

/// An indicator list: groups down the levels, then rows; a flat list is rows.
fn groups(spec: &Field, level: usize, node: &mut Node, at: &Place, findings: &mut Vec<Finding>, written: &mut Written) {
    let Value::Seq(items) = &mut node.value else { return };
    let row = spec.row.as_ref().expect("checked");
    let keys = group_keys(spec, level);
    for (i, item) in items.iter_mut().enumerate() {
        let here = at.index(i, "");
        let Value::Map(entries) = &item.value else { continue };
        let is_group = level >= spec.levels.len()
            || entries.iter().any(|(k, _)| {
                matches!(&k.value, Value::Str(s) if keys.iter().any(|(a, z)| (a == s || z == s) && a != "name"))
            });
        if level >= spec.levels.len() || !is_group {
            fields_in(row, item, &here, findings, written);
            continue;
        }
        rename(item, &keys, &here, findings, written);
        let Value::Map(entries) = &mut item.value else { continue };
        for (k, v) in entries.iter_mut() {
            let Value::Str(key) = &k.value else { continue };
            if level == 0 && spec.sides.iter().any(|s| &s.key == key) {
                groups(spec, 1, v, &here.key(key, ""), findings, written);
            } else if key == "groups" {
                groups(spec, level + 1, v, &here.key(key, ""), findings, written);
            } else if key == "rows" {
                groups(spec, spec.levels.len(), v, &here.key(key, ""), findings, written);
            }
        }
    }
}

/// Renames the Chinese keys of one mapping; reports a field written both ways.
fn rename(node: &mut Node, keys: &[(String, String)], at: &Place, findings: &mut Vec<Finding>, written: &mut Written) {
    let Value::Map(entries) = &mut node.value else { return };
    let present: Vec<String> =
        entries.iter().map(|(k, _)| if let Value::Str(s) = &k.value { s.clone() } else { String::new() }).collect();
    let mut drop = vec![];
    for (i, (k, _)) in entries.iter_mut().enumerate() {
        let Value::Str(s) = &k.value else { continue };
        let Some((ascii, zh)) = keys.iter().find(|(_, z)| z == s) else { continue };
        if present.iter().any(|w| w == ascii) {
            findings.push(Finding::error(
                Class::Structure,
                Some(k.loc),
                &at.key(zh, zh),
                format!("「{zh}」和「{ascii}」是同一栏，只能写一个"),
            ));
            drop.push(i);
        } else {
            written.0.insert(k.loc.start, zh.clone());
            k.value = Value::Str(ascii.clone());
        }
    }
    for i in drop.into_iter().rev() {
        entries.remove(i);
    }
}
