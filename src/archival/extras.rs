//! What a file holds that formpress does not write. A PDF formpress made
//! holds its pages, its metadata, the attachments of an archive and the
//! signatures `sign` adds; anything else was put there by someone else and
//! may act or show otherwise than the pages: an action or JavaScript run on
//! opening, an annotation or form field drawn over the page (a viewer draws
//! a FreeText annotation from its text even without an appearance), layers
//! shown differently on screen and on paper, an extra attachment. Each is
//! found through the document's structure and named.

use hayro_interpret::hayro_syntax::Pdf;
use hayro_interpret::hayro_syntax::object::{Array, Dict, MaybeRef, Name, ObjectIdentifier, Rect, String as PdfString};

/// Entries of the document catalog formpress writes (Typst's PDF export, and
/// /AcroForm for signatures); any other is named.
const CATALOG: &[&[u8]] = &[
    b"Type",
    b"Pages",
    b"Lang",
    b"MarkInfo",
    b"Metadata",
    b"StructTreeRoot",
    b"ViewerPreferences",
    b"AF",
    b"Names",
    b"OutputIntents",
    b"AcroForm",
    b"Outlines",
    b"PageLabels",
    b"Version",
];

/// Entries of a page. The page boxes and /Rotate change what is shown, which
/// the drawn comparison sees.
const PAGE: &[&[u8]] = &[
    b"Type",
    b"Parent",
    b"Contents",
    b"MediaBox",
    b"CropBox",
    b"BleedBox",
    b"TrimBox",
    b"ArtBox",
    b"Rotate",
    b"Resources",
    b"StructParents",
    b"Annots",
    b"Group",
    b"Tabs",
];

/// One thing formpress did not write.
#[derive(Debug, Clone, PartialEq)]
pub enum Extra {
    /// An entry of the document catalog: /OpenAction, /AA (actions), /OCProperties (layers), …
    Catalog(String),
    /// A name tree other than the attachments': /JavaScript, …
    Names(String),
    /// An entry of a page (1-based): /AA (actions), …
    Page { page: usize, key: String },
    /// An annotation or widget formpress did not make, with where it is
    /// (points from the page's bottom left) and the text a viewer shows for it.
    Annotation { page: usize, subtype: String, rect: Option<[f64; 4]>, text: Option<String> },
    /// A form field that is not a formpress signature, or an /AcroForm entry
    /// (/XFA, /NeedAppearances) that makes viewers draw fields themselves.
    Field(String),
    /// An attached file the form does not need.
    Attachment(String),
}

impl std::fmt::Display for Extra {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let esc = crate::form::findings::escape_controls;
        match self {
            Extra::Catalog(key) if key == "OpenAction" || key == "AA" => {
                write!(f, "文件打开或操作时会执行的动作（/{key}）")
            }
            Extra::Catalog(key) if key == "OCProperties" => {
                write!(f, "可见性可切换的图层（/OCProperties）：屏幕上和打印出来的可能不同")
            }
            Extra::Catalog(key) => write!(f, "文档目录中的 /{}", esc(key)),
            Extra::Names(key) if key == "JavaScript" => write!(f, "文件中的 JavaScript 脚本（/Names /JavaScript）"),
            Extra::Names(key) => write!(f, "名称树 /{}", esc(key)),
            Extra::Page { page, key } if key == "AA" => write!(f, "第 {page} 页：翻到该页时会执行的动作（/AA）"),
            Extra::Page { page, key } => write!(f, "第 {page} 页：页面中的 /{}", esc(key)),
            Extra::Annotation { page, subtype, text, .. } => {
                write!(f, "第 {page} 页：一个不是 formpress 生成的批注或表单控件（{}）", esc(subtype))?;
                if let Some(text) = text.as_deref().filter(|t| !t.trim().is_empty()) {
                    let shown: String = text.chars().take(40).collect();
                    write!(f, "，显示「{}」", esc(&shown))?;
                }
                Ok(())
            }
            Extra::Field(what) => write!(f, "不是 formpress 签名的表单域：{}", esc(what)),
            Extra::Attachment(name) => write!(f, "多出的附件「{}」", esc(name)),
        }
    }
}

/// What formpress wrote into this file besides its pages.
pub struct Ours<'a> {
    /// Attachments the form needs (its YAML and pictures), by name.
    pub attachments: &'a [String],
    /// Signature widgets (and their fields) `sign` wrote.
    pub widgets: &'a [ObjectIdentifier],
}

/// Whether a destinations name tree holds only the 签章区's corners
/// (`layout::pdf::SIGN_AREA`), in one flat /Names array as typst-pdf writes it.
fn only_sign_area(tree: &Dict) -> bool {
    if tree.contains_key(b"Kids") {
        return false;
    }
    let Some(names) = tree.get::<Array>(b"Names") else { return true };
    names.iter::<hayro_interpret::hayro_syntax::object::Object>().step_by(2).all(|key| match key {
        hayro_interpret::hayro_syntax::object::Object::String(s) => {
            crate::layout::pdf::SIGN_AREA.iter().any(|a| a.as_bytes() == s.as_bytes())
        }
        _ => false,
    })
}

/// Everything in the document formpress did not write.
pub fn find(doc: &Pdf, attachments: &[String], ours: &Ours) -> Vec<Extra> {
    let mut out = vec![];
    let xref = doc.xref();
    if let Some(catalog) = xref.get::<Dict>(xref.root_id()) {
        for key in catalog.keys() {
            if !CATALOG.contains(&key.as_ref()) {
                out.push(Extra::Catalog(name_text(key.as_ref())));
            }
        }
        if let Some(names) = catalog.get::<Dict>(b"Names") {
            for key in names.keys().filter(|k| k.as_ref() != b"EmbeddedFiles") {
                // The named destinations formpress writes: the corners of the 签章区.
                if key.as_ref() == b"Dests" && names.get::<Dict>(b"Dests").is_some_and(|d| only_sign_area(&d)) {
                    continue;
                }
                out.push(Extra::Names(name_text(key.as_ref())));
            }
        }
        if let Some(form) = catalog.get::<Dict>(b"AcroForm") {
            for key in form.keys().filter(|k| !matches!(k.as_ref(), b"Fields" | b"SigFlags")) {
                out.push(Extra::Field(format!("/AcroForm /{}", name_text(key.as_ref()))));
            }
            for field in form.get::<Array>(b"Fields").iter().flat_map(|a| a.raw_iter()).take(1000) {
                let id = match field {
                    MaybeRef::Ref(r) => Some(ObjectIdentifier::from(r)),
                    MaybeRef::NotRef(_) => None,
                };
                if !id.is_some_and(|id| ours.widgets.contains(&id)) {
                    let name = id
                        .and_then(|id| xref.get::<Dict>(id))
                        .and_then(|d| {
                            d.get::<PdfString>(b"T").map(|t| crate::archival::inspect::decode_text(t.as_bytes()))
                        })
                        .unwrap_or_default();
                    out.push(Extra::Field(format!("「{name}」")));
                }
            }
        }
    }
    for (i, page) in doc.pages().iter().enumerate() {
        let raw = page.raw();
        for key in raw.keys() {
            if !PAGE.contains(&key.as_ref()) {
                out.push(Extra::Page { page: i + 1, key: name_text(key.as_ref()) });
            }
        }
        let Some(annots) = raw.get::<Array>(b"Annots") else { continue };
        for (item, annot) in annots.raw_iter().zip(annots.iter::<Dict>()).take(1000) {
            let id = match item {
                MaybeRef::Ref(r) => Some(ObjectIdentifier::from(r)),
                MaybeRef::NotRef(_) => None,
            };
            if id.is_some_and(|id| ours.widgets.contains(&id)) {
                continue;
            }
            out.push(annotation(i + 1, &annot));
        }
    }
    for name in attachments {
        let needed = crate::layout::attach::inside_name(name).is_some_and(|n| {
            ours.attachments.iter().any(|a| crate::layout::attach::inside_name(a).as_ref() == Some(&n))
        });
        if !needed {
            out.push(Extra::Attachment(name.clone()));
        }
    }
    out
}

/// An annotation as a viewer shows it: its kind, place and text (a
/// FreeText's /Contents, a widget's value).
fn annotation(page: usize, annot: &Dict) -> Extra {
    let subtype = annot.get::<Name>(b"Subtype").map_or_else(|| "?".into(), |n| name_text(n.as_ref()));
    let rect = annot.get::<Rect>(b"Rect").map(|r| [r.x0, r.y0, r.x1, r.y1]);
    let text = [b"Contents".as_slice(), b"V", b"RC"]
        .iter()
        .find_map(|k| annot.get::<PdfString>(k))
        .map(|t| crate::archival::inspect::decode_text(t.as_bytes()));
    Extra::Annotation { page, subtype, rect, text }
}

fn name_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
