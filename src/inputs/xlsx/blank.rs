//! `formpress template --from-xlsx`: a region's blank template, as the
//! finance bureau sends it, becomes a kind folder. The sheet is imported like
//! a filled one; the closest built-in kind (or the one asked for) gives the
//! fields and templates; what the sheet shows of its shape (captions, column
//! order, blank columns, cells it lacks, no year line) becomes the defaults of
//! the new kind's options, and the blank form itself (its pre-printed names)
//! the skeleton `formpress new` writes.

use serde_json::{Map, Value};

use super::emit::emit_map;
use super::{ImportError, read};
use crate::form::kind::Kind;
use crate::form::yaml_write;
use crate::layout::Engine;

/// The skeleton file written into the new kind's folder.
pub const SKELETON: &str = "blank.yaml";

/// A new kind's folder, not yet written.
#[derive(Debug)]
pub struct NewKind {
    /// The built-in (or `--templates`) kind it is based on.
    pub base: String,
    /// Its name: the sheet's title, or the base kind's.
    pub name: String,
    /// The folder's files by their path inside it: kind.yaml, blank.yaml and the base's templates.
    pub files: Vec<(String, String)>,
    /// What the import noted (cells not placed …), also at the top of kind.yaml.
    pub notes: Vec<String>,
    /// How many cells with text were not placed.
    pub unplaced: usize,
}

/// The kind `id` made from the blank workbook `bytes` (the sheet named `source` in messages).
pub fn kind_from_blank(
    engine: &Engine,
    bytes: &[u8],
    base: Option<&str>,
    id: &str,
    source: &str,
) -> Result<NewKind, ImportError> {
    let read = read(engine, bytes, base)?;
    let base = engine.catalog().kind(&read.imported.kind).ok_or(ImportError::NoForm)?;
    let title = read.data.iter().find(|(k, _)| k == "title").and_then(|(_, v)| match v {
        super::emit::Y::Text(t) => Some(t.clone()),
        _ => None,
    });
    let name = title.unwrap_or_else(|| base.manifest.name.clone());
    let mut blank =
        yaml_write::comment(&format!("{name}：空白表（由 formpress template --from-xlsx 从 {source} 读入）"));
    blank.push_str(&format!("form: {}\n", yaml_write::scalar(id)));
    emit_map(&read.data, 0, &mut blank);

    let prefix = format!("{}/", base.id);
    let sources = engine.catalog().sources();
    let mut files = vec![];
    for (path, text) in sources.iter().filter(|(k, _)| k.starts_with(&prefix)) {
        let inner = &path[prefix.len()..];
        let text = if inner == crate::form::kind::MANIFEST {
            manifest(text, base, &name, source, &read.options, &read.imported.notes)
        } else {
            text.clone()
        };
        files.push((inner.to_string(), text));
    }
    files.push((SKELETON.to_string(), blank));
    Ok(NewKind { base: base.id.clone(), name, files, notes: read.imported.notes, unplaced: read.imported.unplaced })
}

/// The base kind's manifest made the new kind's: its name, the sheet's
/// options as defaults, the skeleton, and what the sheet had that was not
/// placed listed at the top (to add to the template by hand).
fn manifest(
    text: &str,
    base: &Kind,
    name: &str,
    source: &str,
    options: &Map<String, Value>,
    notes: &[String],
) -> String {
    let mut out =
        yaml_write::comment(&format!("{name}：由 formpress template --from-xlsx 从 {source} 生成，基于 {}", base.id));
    if !notes.is_empty() {
        out.push_str(&yaml_write::comment("表上这些格没有读入（要印出来，请改 form.typ.j2 或在表单的 notes: 里写）："));
        for n in notes {
            out.push_str(&yaml_write::comment(&format!("  {n}")));
        }
    }
    let mut lines: Vec<String> = vec![];
    for line in text.lines() {
        if line.starts_with("name:") {
            lines.push(format!("name: {}", yaml_write::scalar(name)));
            lines.push(format!("skeleton: {SKELETON}"));
        } else if line.starts_with("description:") {
            lines.push(format!(
                "description: {}",
                yaml_write::scalar(&format!("{name}（本地空白表，基于 {}）", base.id))
            ));
        } else if !line.starts_with("example:") && !line.starts_with("skeleton:") {
            lines.push(line.to_string());
        }
    }
    with_defaults(&mut lines, base, options);
    out.push_str(&lines.join("\n"));
    out.push('\n');
    out
}

/// Sets each option's default in the manifest's `options:` block: an entry
/// the base has is replaced (its help and choices kept), others are added.
fn with_defaults(lines: &mut Vec<String>, base: &Kind, options: &Map<String, Value>) {
    if options.is_empty() {
        return;
    }
    let start = match lines.iter().position(|l| l.trim_end() == "options:") {
        Some(i) => i,
        None => {
            lines.push(String::new());
            lines.push("options:".into());
            lines.len() - 1
        }
    };
    // The block: the lines after `options:` that are indented, blank or comments.
    let end = (start + 1..lines.len())
        .find(|&i| !lines[i].is_empty() && !lines[i].starts_with(' ') && !lines[i].starts_with('#'))
        .unwrap_or(lines.len());
    let mut block: Vec<String> = vec![];
    let mut skipping = false;
    for line in &lines[start + 1..end] {
        let entry = line.strip_prefix("  ").filter(|l| !l.starts_with(' ') && !l.starts_with('#'));
        if let Some(entry) = entry {
            let key = entry.split(':').next().unwrap_or_default().trim();
            skipping = options.contains_key(key);
        }
        if !skipping {
            block.push(line.clone());
        }
    }
    // Blank and comment lines at the block's end belong to what follows it.
    let mut tail = vec![];
    while block.last().is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        tail.insert(0, block.pop().unwrap_or_default());
    }
    for (key, value) in options {
        let spec = base.manifest.options.get(key);
        block.push(format!("  {key}:"));
        block.push(format!("    default: {}", yaml_write::flow(value)));
        if let Some(spec) = spec {
            if !spec.choices.is_empty() {
                let choices: Vec<String> = spec.choices.iter().map(|c| yaml_write::scalar(c)).collect();
                block.push(format!("    choices: [{}]", choices.join(", ")));
            }
            if !spec.help.is_empty() {
                block.push(format!("    help: {}", yaml_write::scalar(&spec.help)));
            }
        }
    }
    if tail.is_empty() {
        tail.push(String::new());
    }
    block.extend(tail);
    lines.splice(start + 1..end, block);
}
