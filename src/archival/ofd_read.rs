//! Reading an OFD package back (for `extract` and `verify`): the zip is
//! inflated once within bounds (a zip bomb or a size the headers lie about is
//! refused), then OFD.xml → Document.xml → the pages and the attachments. Each
//! page comes back as `inspect` gives a PDF's text, and with every path and
//! picture as a mark (`Package::page_marks`), which `verify_ofd` compares.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::{Cursor, Read};

use crate::archival::inspect::{Attachment, Inspected, Page};

/// Limits: files in the package, inflated bytes of one and of all.
const MAX_ENTRIES: usize = 10_000;
const MAX_ENTRY_BYTES: u64 = 64 << 20;
const MAX_TOTAL_BYTES: u64 = 256 << 20;

/// A package as read.
pub struct Package {
    /// `OFD`, or `OFD-A` for an archive.
    pub doc_type: String,
    /// DocInfo's CreationDate (year, month, day).
    pub date: Option<(i32, u8, u8)>,
    /// Every file of the package by name, inflated.
    pub entries: BTreeMap<String, Vec<u8>>,
    /// Each page's Content.xml, in page order.
    pub page_files: Vec<String>,
    /// Whether OFD.xml names a signature list (GB/T 38540 seals).
    pub signed: bool,
    /// The picture files each page draws, in drawing order.
    pub page_images: Vec<Vec<String>>,
    /// Every path and picture each page draws, in drawing order.
    pub page_marks: Vec<Vec<Mark>>,
}

/// One drawing on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub what: Drawn,
    /// Bounding box in points, rounded to 0.1 pt: left, bottom, right, top.
    pub bbox: [i64; 4],
    /// A digest of the outline and colour, or of the picture's data.
    pub digest: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Drawn {
    Fill,
    Stroke,
    Picture,
}

#[derive(Debug)]
pub enum OfdReadError {
    /// Over a limit (entries, inflated size).
    Limit(String),
    /// Not a zip, or not the OFD structure.
    Broken(String),
}

impl std::fmt::Display for OfdReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            OfdReadError::Limit(m) => write!(f, "OFD 文件超过上限：{m}"),
            OfdReadError::Broken(m) => write!(f, "不是可读的 OFD 文件（{m}）"),
        }
    }
}

impl std::error::Error for OfdReadError {}

/// A zip whose entries include OFD.xml (told from the bytes, not the name).
pub fn is_ofd(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
        && zip::ZipArchive::new(Cursor::new(bytes)).is_ok_and(|z| z.index_for_name("OFD.xml").is_some())
}

/// The package, with its pages, attachments and creator as `inspect` reads a PDF.
pub fn read(bytes: &[u8]) -> Result<(Inspected, Package), OfdReadError> {
    let entries = inflate(bytes)?;
    let ofd = xml(&entries, "OFD.xml")?;
    let root = ofd.root_element();
    let doc_type = root.attribute("DocType").unwrap_or("").to_string();
    let body = child(root, "DocBody").ok_or_else(|| broken("OFD.xml 没有 DocBody"))?;
    let info = child(body, "DocInfo");
    let text_of = |name: &str| info.and_then(|i| child(i, name)).and_then(|n| n.text()).map(str::to_string);
    let creator = text_of("Creator");
    let date = text_of("CreationDate").and_then(|d| parse_date(&d));
    let signed = child(body, "Signatures").is_some();
    let doc_path = child(body, "DocRoot").and_then(|n| n.text()).ok_or_else(|| broken("OFD.xml 没有 DocRoot"))?;
    let doc_path = resolve("", doc_path.trim());
    let doc = xml(&entries, &doc_path)?;
    let doc_dir = folder(&doc_path);
    let mut pages = vec![];
    let mut page_files = vec![];
    let mut page_images = vec![];
    let mut page_marks = vec![];
    let media = media_files(&entries, &doc, &doc_dir)?;
    let digests: BTreeMap<String, u64> =
        media.iter().map(|(id, path)| (id.clone(), digest(entries.get(path).map_or(&[][..], |b| b)))).collect();
    for p in doc.descendants().filter(|n| n.has_tag_name_local("Page")) {
        let Some(loc) = p.attribute("BaseLoc") else { continue };
        let path = resolve(&doc_dir, loc);
        let content = xml(&entries, &path)?;
        let (read, marks) = page(&content, &doc, &digests);
        pages.push(read);
        page_marks.push(marks);
        page_images.push(
            content
                .descendants()
                .filter(|n| n.has_tag_name_local("ImageObject"))
                .filter_map(|n| media.get(n.attribute("ResourceID")?).cloned())
                .collect(),
        );
        page_files.push(path);
    }
    let mut attachments = vec![];
    if let Some(loc) = doc.descendants().find(|n| n.has_tag_name_local("Attachments")).and_then(|n| n.text()) {
        let path = resolve(&doc_dir, loc.trim());
        let list = xml(&entries, &path)?;
        let dir = folder(&path);
        for a in list.descendants().filter(|n| n.has_tag_name_local("Attachment")) {
            let Some(file) = child(a, "FileLoc").and_then(|n| n.text()) else { continue };
            let Some(bytes) = entries.get(&resolve(&dir, file.trim())) else { continue };
            let usage = a.attribute("Usage").map(str::to_string);
            let mime = (usage.as_deref() == Some("Source")).then(|| "application/yaml".to_string());
            attachments.push(Attachment {
                name: a.attribute("Name").unwrap_or("").to_string(),
                bytes: bytes.clone(),
                relationship: usage,
                mime,
            });
        }
    }
    Ok((
        Inspected { attachments, pages, creator, anchors: vec![] },
        Package { doc_type, date, entries, page_files, signed, page_images, page_marks },
    ))
}

fn broken(m: &str) -> OfdReadError {
    OfdReadError::Broken(m.to_string())
}

/// Every entry inflated, within the limits.
fn inflate(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, OfdReadError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| OfdReadError::Broken(e.to_string()))?;
    if zip.len() > MAX_ENTRIES {
        return Err(OfdReadError::Limit(format!("包中有 {} 个文件，上限 {MAX_ENTRIES}", zip.len())));
    }
    let mut out = BTreeMap::new();
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| OfdReadError::Broken(e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().map(|n| n.trim_start_matches('/').to_string()).unwrap_or_default();
        let mut data = vec![];
        (&mut entry)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| OfdReadError::Broken(format!("{name}：{e}")))?;
        if data.len() as u64 > MAX_ENTRY_BYTES {
            return Err(OfdReadError::Limit(format!("{name} 解压后超过 {MAX_ENTRY_BYTES} 字节")));
        }
        total += data.len() as u64;
        if total > MAX_TOTAL_BYTES {
            return Err(OfdReadError::Limit(format!("解压后共超过 {MAX_TOTAL_BYTES} 字节")));
        }
        out.insert(name, data);
    }
    Ok(out)
}

/// A part of the package, parsed (roxmltree refuses DTDs, so no entity expansion).
fn xml<'a>(entries: &'a BTreeMap<String, Vec<u8>>, path: &str) -> Result<roxmltree::Document<'a>, OfdReadError> {
    let bytes = entries.get(path).ok_or_else(|| OfdReadError::Broken(format!("缺少 {path}")))?;
    let text = std::str::from_utf8(bytes).map_err(|_| OfdReadError::Broken(format!("{path} 不是 UTF-8")))?;
    roxmltree::Document::parse(text).map_err(|e| OfdReadError::Broken(format!("{path}：{e}")))
}

trait LocalName {
    fn has_tag_name_local(&self, name: &str) -> bool;
}

impl LocalName for roxmltree::Node<'_, '_> {
    fn has_tag_name_local(&self, name: &str) -> bool {
        self.is_element() && self.tag_name().name() == name
    }
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|n| n.has_tag_name_local(name))
}

/// The folder of a part (`Doc_0/` for `Doc_0/Document.xml`).
fn folder(path: &str) -> String {
    path.rfind('/').map_or(String::new(), |i| path[..=i].to_string())
}

/// A location (ST_Loc) from the folder of the part that names it; an
/// absolute one from the package root.
pub fn resolve(dir: &str, loc: &str) -> String {
    let joined = match loc.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("{dir}{loc}"),
    };
    let mut parts: Vec<&str> = vec![];
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn parse_date(text: &str) -> Option<(i32, u8, u8)> {
    let mut it = text.trim().get(..10)?.split('-');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// Resource ID → the picture file's path in the package (DocumentRes and PublicRes).
fn media_files(
    entries: &BTreeMap<String, Vec<u8>>,
    doc: &roxmltree::Document,
    doc_dir: &str,
) -> Result<BTreeMap<String, String>, OfdReadError> {
    let mut out = BTreeMap::new();
    for res in doc.descendants().filter(|n| n.has_tag_name_local("DocumentRes") || n.has_tag_name_local("PublicRes")) {
        let Some(loc) = res.text() else { continue };
        let path = resolve(doc_dir, loc.trim());
        let list = xml(entries, &path)?;
        let base = list.root_element().attribute("BaseLoc").unwrap_or("");
        let dir = format!("{}{}", folder(&path), if base.is_empty() { String::new() } else { format!("{base}/") });
        for m in list.descendants().filter(|n| n.has_tag_name_local("MultiMedia")) {
            let (Some(id), Some(file)) = (m.attribute("ID"), child(m, "MediaFile").and_then(|n| n.text())) else {
                continue;
            };
            let path = resolve(&dir, file.trim());
            if entries.contains_key(&path) {
                out.insert(id.to_string(), path);
            }
        }
    }
    Ok(out)
}

fn digest(data: impl Hash) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut h);
    h.finish()
}

/// A page's text (every TextCode, in order) and marks (every path and picture:
/// its kind, Boundary and a digest of its attributes and data, the picture's
/// bytes for an image; IDs left out).
fn page(content: &roxmltree::Document, doc: &roxmltree::Document, media: &BTreeMap<String, u64>) -> (Page, Vec<Mark>) {
    let area = content
        .descendants()
        .find(|n| n.has_tag_name_local("PhysicalBox"))
        .or_else(|| doc.descendants().find(|n| n.has_tag_name_local("PhysicalBox")))
        .and_then(|n| n.text())
        .map(numbers)
        .unwrap_or_default();
    let pt = |mm: f64| mm / 25.4 * 72.0;
    let (width, height) = (pt(*area.get(2).unwrap_or(&210.0)), pt(*area.get(3).unwrap_or(&297.0)));
    let mut text = String::new();
    let mut marks = vec![];
    for node in content.descendants().filter(|n| n.is_element()) {
        match node.tag_name().name() {
            "TextCode" => text.push_str(node.text().unwrap_or("")),
            name @ ("PathObject" | "ImageObject") => {
                let b = numbers(node.attribute("Boundary").unwrap_or(""));
                let [x, y, w, h] = [0, 1, 2, 3].map(|i| b.get(i).copied().unwrap_or(0.0));
                let tenth = |v: f64| (pt(v) * 10.0).round() as i64;
                let bbox =
                    [tenth(x), tenth(height / 72.0 * 25.4 - y - h), tenth(x + w), tenth(height / 72.0 * 25.4 - y)];
                let attrs: Vec<(&str, &str)> =
                    node.attributes().filter(|a| a.name() != "ID").map(|a| (a.name(), a.value())).collect();
                // The colours and outline: every element inside, with its attributes and text.
                let mut body = std::collections::hash_map::DefaultHasher::new();
                for n in node.descendants().filter(|n| n.is_element() && *n != node) {
                    n.tag_name().name().hash(&mut body);
                    n.attributes().for_each(|a| (a.name(), a.value()).hash(&mut body));
                    n.text().hash(&mut body);
                }
                let (what, digest) = if name == "ImageObject" {
                    let picture = node.attribute("ResourceID").and_then(|id| media.get(id)).copied();
                    (Drawn::Picture, digest((&attrs, picture)))
                } else {
                    let fill = node.attribute("Fill") == Some("true");
                    (if fill { Drawn::Fill } else { Drawn::Stroke }, digest((&attrs, body.finish())))
                };
                marks.push(Mark { what, bbox, digest });
            }
            _ => {}
        }
    }
    (Page { text, width, height, chars: vec![] }, marks)
}

fn numbers(text: &str) -> Vec<f64> {
    text.split_whitespace().filter_map(|n| n.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_from_their_part() {
        assert_eq!(resolve("Doc_0/", "Pages/Page_0/Content.xml"), "Doc_0/Pages/Page_0/Content.xml");
        assert_eq!(resolve("Doc_0/Res/", "/Doc_0/Res/a.png"), "Doc_0/Res/a.png");
        assert_eq!(resolve("Doc_0/", "../x/../OFD.xml"), "OFD.xml");
    }
}
