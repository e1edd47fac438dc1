//! What a PDF records of its making: the versions that made it (its
//! Creator), and for an archive file the attachments that carry the form's
//! YAML and pictures, so the archive alone can be verified (read back by
//! `archival::archive`).

use std::path::{Component, Path};

use serde_json::Value as Json;

use crate::form::Form;
use crate::form::kind::Kind;
use crate::form::yaml::{self, Node, Value};
use crate::layout::template;

/// What made a PDF: formpress's version and the kind's id and version,
/// recorded as the document's Creator (Info dictionary and XMP), e.g.
/// `formpress 0.1.0 (zhengzhou-2020-dept-overall 1)`, with ` draft` after it
/// on a draft. The draft mark lives here, in metadata formpress alone
/// writes, so that no text of the form can make a final form read as a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub formpress: String,
    /// Kind id and the manifest's `version`.
    pub kind: Option<(String, String)>,
    /// The form had errors: every page says 草稿 and carries no 校验码.
    pub draft: bool,
}

/// What follows the versions in a draft's Creator.
const DRAFT: &str = " draft";

impl Stamp {
    /// This build of formpress, with a kind (none for a combined PDF).
    pub fn running(kind: Option<&Kind>) -> Stamp {
        Stamp {
            formpress: env!("CARGO_PKG_VERSION").into(),
            kind: kind.map(|k| (k.id.clone(), k.manifest.version.clone())),
            draft: false,
        }
    }

    pub fn creator(&self) -> String {
        let versions = match &self.kind {
            Some((id, version)) => format!("formpress {} ({id} {version})", self.formpress),
            None => format!("formpress {}", self.formpress),
        };
        if self.draft { versions + DRAFT } else { versions }
    }

    /// Reads a Creator written by `creator`; formpress before versions were
    /// recorded wrote only `formpress X`.
    pub fn parse(creator: &str) -> Option<Stamp> {
        let rest = creator.strip_prefix("formpress ")?;
        let (rest, draft) = match rest.strip_suffix(DRAFT) {
            Some(versions) => (versions, true),
            None => (rest, false),
        };
        let Some((version, kind)) = rest.split_once(" (") else {
            return Some(Stamp { formpress: rest.trim().into(), kind: None, draft });
        };
        let (id, kind_version) = kind.strip_suffix(')')?.rsplit_once(' ')?;
        Some(Stamp { formpress: version.into(), kind: Some((id.into(), kind_version.into())), draft })
    }

    /// Whether the same versions made both (the same data then lays out the same).
    pub fn same_layout(&self, other: &Stamp) -> bool {
        self.formpress == other.formpress && self.kind == other.kind
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "formpress {}", self.formpress)?;
        match &self.kind {
            Some((id, version)) => write!(f, "，表单种类 {id} 版本 {version}"),
            None => write!(f, "（未记录表单种类的版本）"),
        }
    }
}

/// A file an archive carries besides its pages.
#[derive(Debug, Clone)]
pub struct Attached {
    /// Its path inside the form's folder (`form.yaml`, `img/seal.png`).
    pub name: String,
    pub bytes: Vec<u8>,
    pub mime: String,
    /// The path the template reads a picture from (`/assets/0.png`); none for the YAML.
    pub vpath: Option<String>,
}

/// What an archive carries: the form's YAML, byte for byte, then each
/// picture it names by a path inside its folder, under that path. A picture
/// from elsewhere (`--allow-path`) is not attached: its path would not
/// rebuild the folder. (The PDF attaches them through `attachments`, an OFD
/// package lists them in its Attachments.xml.)
pub fn attached(form: &Form) -> Vec<Attached> {
    let mut out = vec![Attached {
        name: yaml_name(&form.name),
        bytes: form.bytes.clone(),
        mime: "application/yaml".into(),
        vpath: None,
    }];
    for (given, vpath) in picture_paths(form) {
        let Some(given) = inside_name(&given).filter(|n| !out.iter().any(|a| &a.name == n)) else { continue };
        let Some((_, bytes)) = form.assets.iter().find(|(p, _)| *p == vpath) else { continue };
        let ext = Path::new(&given).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let mime = match ext.as_str() {
            "jpg" | "jpeg" => "image/jpeg".to_string(),
            "svg" => "image/svg+xml".to_string(),
            other => format!("image/{other}"),
        };
        out.push(Attached { name: given, bytes: bytes.clone(), mime, vpath: Some(vpath) });
    }
    out
}

/// Where the World serves the form's YAML for its attachment.
const SOURCE_PATH: &str = "/formpress/source.yaml";

/// The Typst markup that attaches `attached(form)` to the PDF, with the
/// virtual file the YAML is read from.
pub fn attachments(kind: &Kind, form: &Form) -> (String, (String, Vec<u8>)) {
    let files = attached(form);
    let name = &files[0].name;
    // The bytes come from a path of formpress's own, never from the form's
    // name: a form called `main.typ` would otherwise attach the markup.
    let file = (SOURCE_PATH.to_string(), form.bytes.clone());
    let mut out = format!(
        "\n#pdf.attach({}, read({}, encoding: none), relationship: \"source\", mime-type: \"application/yaml\", description: {})\n",
        template::str_literal(&format!("/{name}")),
        template::str_literal(SOURCE_PATH),
        template::str_literal(&format!("{} 的表单数据（YAML 原文）", kind.manifest.name)),
    );
    for a in &files[1..] {
        let Some(vpath) = &a.vpath else { continue };
        out.push_str(&format!(
            "#pdf.attach({}, read({}, encoding: none), relationship: \"supplement\", mime-type: {}, description: \"表单引用的图片\")\n",
            template::str_literal(&format!("/{}", a.name)),
            template::str_literal(vpath),
            template::str_literal(&a.mime),
        ));
    }
    (out, file)
}

/// The names an archive of the form attaches: its YAML and each picture it
/// names by a path inside its folder (what `attachments` writes).
pub fn attached_names(form: &Form) -> Vec<String> {
    let mut names = vec![yaml_name(&form.name)];
    for (given, _) in picture_paths(form) {
        if let Some(name) = inside_name(&given).filter(|n| !names.contains(n)) {
            names.push(name);
        }
    }
    names
}

/// The YAML is attached under the form file's name (`form.yaml` if that name cannot be a path).
pub(crate) fn yaml_name(path: &str) -> String {
    let name = Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ok =
        !name.is_empty() && !name.starts_with('.') && name.chars().all(|c| !c.is_control() && c != '/' && c != '\\');
    if ok { name.to_string() } else { "form.yaml".into() }
}

/// A relative path of plain names (`./` allowed; no root, `..` or prefix),
/// one that stays inside a folder, as `a/b.png`.
pub(crate) fn inside_name(path: &str) -> Option<String> {
    let mut names = vec![];
    for c in Path::new(path).components() {
        match c {
            Component::CurDir => {}
            Component::Normal(n) => names.push(n.to_str()?),
            _ => return None,
        }
    }
    let ok = !names.is_empty() && !path.contains('\\') && names.iter().all(|n| !n.chars().any(char::is_control));
    ok.then(|| names.join("/"))
}

/// Each picture as the YAML names it, with the path the data holds
/// (`/assets/0.png`): found by walking the data and the YAML tree together.
fn picture_paths(form: &Form) -> Vec<(String, String)> {
    fn walk(data: &Json, node: &Node, assets: &[(String, Vec<u8>)], out: &mut Vec<(String, String)>) {
        match (data, &node.value) {
            (Json::String(vpath), Value::Str(given)) if assets.iter().any(|(p, _)| p == vpath) => {
                out.push((given.clone(), vpath.clone()));
            }
            (Json::Array(items), Value::Seq(nodes)) => {
                items.iter().zip(nodes).for_each(|(d, n)| walk(d, n, assets, out));
            }
            (Json::Object(map), Value::Map(entries)) => {
                for (key, value) in entries {
                    if let Value::Str(k) = &key.value
                        && let Some(d) = map.get(k)
                    {
                        walk(d, value, assets, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = vec![];
    if form.assets.is_empty() {
        return out;
    }
    if let Ok((_, root)) = yaml::parse(&form.bytes) {
        walk(&form.data, &root, &form.assets, &mut out);
        // Pictures named in the options (the 骑缝章).
        walk(&serde_json::json!({ "options": form.options }), &root, &form.assets, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_read_back() {
        let stamp = Stamp { formpress: "0.1.0".into(), kind: Some(("project".into(), "2".into())), draft: false };
        assert_eq!(stamp.creator(), "formpress 0.1.0 (project 2)");
        assert_eq!(Stamp::parse(&stamp.creator()), Some(stamp.clone()));
        let draft = Stamp { draft: true, ..stamp.clone() };
        assert_eq!(draft.creator(), "formpress 0.1.0 (project 2) draft");
        assert_eq!(Stamp::parse(&draft.creator()), Some(draft.clone()));
        assert!(draft.same_layout(&stamp));
        let old = Stamp { formpress: "0.0.9".into(), kind: None, draft: false };
        assert_eq!(Stamp::parse("formpress 0.0.9"), Some(old));
        assert_eq!(Stamp::parse("Typst 0.15"), None);
    }

    #[test]
    fn only_paths_inside_the_folder_rebuild_it() {
        for (given, name) in [("seal.png", "seal.png"), ("./img/seal.png", "img/seal.png")] {
            assert_eq!(inside_name(given).as_deref(), Some(name));
        }
        for bad in ["", ".", "/etc/seal.png", "../seal.png", "img/../../seal.png", "a\\b.png", "a\nb.png"] {
            assert_eq!(inside_name(bad), None, "{bad}");
        }
    }
}
