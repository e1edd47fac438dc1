//! `render --format ofd`: the form as an OFD package (GB/T 33190—2016),
//! written from the same laid-out pages as the PDF, and with `--archive` an
//! OFD-A package (GB/T 42133—2022) that carries the form's YAML and pictures.
//!
//! The package (a zip, entries in a fixed order with fixed times, so the same
//! YAML gives the same bytes):
//!
//! ```text
//! OFD.xml                         DocBody: DocInfo (title, author, date, creator), DocRoot
//! Doc_0/Document.xml              CommonData (MaxUnitID, PageArea, resources), Pages, Attachments
//! Doc_0/PublicRes.xml             Fonts: one per face, its file in Res/
//! Doc_0/DocumentRes.xml           MultiMedias: the pictures, in Res/
//! Doc_0/Pages/Page_N/Content.xml  one Body layer of text, path and image objects
//! Doc_0/Res/Font_N.otf|ttf        each face cut to the glyphs drawn, with its cmap
//! Doc_0/Res/Image_N.png|jpg       pictures as given
//! Doc_0/Attachs/Attachments.xml   (archive) the YAML and the pictures it names
//! ```
//!
//! A GB/T 38540 seal would go in `Doc_0/Signs/` with `DocBody/Signatures`
//! naming it (`SIGNATURES`); formpress does not sign (README, "OFD").

mod font;
mod page;
pub mod xml;

use std::fmt::Write as _;
use std::io::Write as _;

use typst_layout::PagedDocument;

use crate::layout::{Error, Laid, pdf};

use xml::{DECLARATION, NS, escape, nums};

/// Where a GB/T 38540 signer puts the signature list (named from `DocBody/Signatures`).
pub const SIGNATURES: &str = "Doc_0/Signs/Signatures.xml";

/// The document's facts, for DocInfo.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub title: Option<String>,
    /// Written as one Author (部门名称).
    pub authors: Vec<String>,
    pub subject: Option<String>,
    pub keywords: Vec<String>,
    /// What made it (`formpress 0.1.0 (kind 1)`, as the PDF's Creator).
    pub creator: String,
    /// Year, month, day of the document (the PDF's date).
    pub date: Option<(i32, u8, u8)>,
    /// 32 hex digits, stable for the same form.
    pub doc_id: String,
    /// OFD-A (GB/T 42133) with the attachments.
    pub archive: bool,
    pub attachments: Vec<Attachment>,
}

/// A file the archive carries.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The name it had (`form.yaml`, `img/seal.png`).
    pub name: String,
    pub bytes: Vec<u8>,
    /// `Source` for the form's YAML, `Supplement` for the pictures it names.
    pub usage: &'static str,
}

#[derive(Debug)]
pub struct OfdError(pub String);

impl std::fmt::Display for OfdError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "OFD 写出失败：{}", self.0)
    }
}

impl std::error::Error for OfdError {}

/// The OFD package of a laid-out form (OFD-A with its attachments for an
/// archive): the PDF's pages, title, author (部门名称), keywords, date and creator.
pub fn of_laid(laid: &Laid) -> Result<Vec<u8>, Error> {
    let info = pdf::document_meta(&laid.document).unwrap_or_default();
    let date = laid.date.map(|(d, _)| (d.year().unwrap_or(2000), d.month().unwrap_or(1), d.day().unwrap_or(1)));
    let meta = Meta {
        title: info.title.as_ref().map(|t| t.to_string()),
        authors: info.author.iter().map(|a| a.to_string()).collect(),
        subject: info.description.as_ref().map(|d| d.to_string()),
        keywords: info.keywords.iter().map(|k| k.to_string()).collect(),
        creator: laid.creator.clone(),
        date,
        doc_id: doc_id(&laid.ident),
        archive: laid.archive,
        attachments: laid
            .attachments
            .iter()
            .map(|a| Attachment {
                name: a.name.clone(),
                bytes: a.bytes.clone(),
                usage: if a.vpath.is_none() { "Source" } else { "Supplement" },
            })
            .collect(),
    };
    write(&laid.document, &meta).map_err(|e| Error::Export(vec![e.0]))
}

/// DocID: 32 hex digits of the SHA-256 of a stable id (the same form, the same DocID).
pub fn doc_id(ident: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(ident.as_bytes())[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The OFD package of a laid-out document.
pub fn write(doc: &PagedDocument, meta: &Meta) -> Result<Vec<u8>, OfdError> {
    let mut res = page::Resources::default();
    let mut pages = vec![];
    for p in doc.pages() {
        let id = res.id();
        let content = page::content(&p.frame, p.frame.size(), &mut res).map_err(|e| OfdError(e.0))?;
        pages.push((id, content, p.frame.size()));
    }
    let mut files: Vec<(String, Vec<u8>)> = vec![];
    files.push(("OFD.xml".into(), ofd_xml(meta).into_bytes()));
    // PageArea: the first page's size; every page also names its own.
    let first = pages.first().map(|p| p.2).unwrap_or_default();
    let mut fonts = String::new();
    let mut font_files = vec![];
    for face in &res.faces {
        let name = format!("Font_{}.{}", face.id, if face.is_cff() { "otf" } else { "ttf" });
        let info = face.font.info();
        let _ = write!(
            fonts,
            "<ofd:Font ID=\"{}\" FontName=\"{}\" FamilyName=\"{}\"{}{}><ofd:FontFile>{name}</ofd:FontFile></ofd:Font>",
            face.id,
            escape(&face.postscript_name()),
            escape(&info.family),
            if info.variant.weight.to_number() >= 600 { " Bold=\"true\"" } else { "" },
            if info.variant.style != typst::text::FontStyle::Normal { " Italic=\"true\"" } else { "" },
        );
        font_files.push((format!("Doc_0/Res/{name}"), face.embed().map_err(OfdError)?));
    }
    let mut media = String::new();
    for m in &res.media {
        let _ = write!(
            media,
            "<ofd:MultiMedia ID=\"{}\" Type=\"Image\" Format=\"{}\"><ofd:MediaFile>{}</ofd:MediaFile></ofd:MultiMedia>",
            m.id,
            m.format,
            m.file_name()
        );
    }
    let mut document = format!(
        "{DECLARATION}<ofd:Document xmlns:ofd=\"{NS}\"><ofd:CommonData><ofd:MaxUnitID>{}</ofd:MaxUnitID>\
         <ofd:PageArea><ofd:PhysicalBox>{}</ofd:PhysicalBox></ofd:PageArea>",
        res.max_id(),
        nums([0.0, 0.0, first.x.to_mm(), first.y.to_mm()]),
    );
    // Pages of scans draw no text: no fonts, no PublicRes.
    if !res.faces.is_empty() {
        document.push_str("<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>");
    }
    if !res.media.is_empty() {
        document.push_str("<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>");
    }
    document.push_str("</ofd:CommonData><ofd:Pages>");
    for (i, (id, ..)) in pages.iter().enumerate() {
        let _ = write!(document, "<ofd:Page ID=\"{id}\" BaseLoc=\"Pages/Page_{i}/Content.xml\"/>");
    }
    document.push_str("</ofd:Pages>");
    if meta.archive && !meta.attachments.is_empty() {
        document.push_str("<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>");
    }
    document.push_str("</ofd:Document>\n");
    files.push(("Doc_0/Document.xml".into(), document.into_bytes()));
    if !res.faces.is_empty() {
        files.push((
            "Doc_0/PublicRes.xml".into(),
            format!(
                "{DECLARATION}<ofd:Res xmlns:ofd=\"{NS}\" BaseLoc=\"Res\"><ofd:Fonts>{fonts}</ofd:Fonts></ofd:Res>\n"
            )
            .into_bytes(),
        ));
    }
    if !res.media.is_empty() {
        files.push((
            "Doc_0/DocumentRes.xml".into(),
            format!(
                "{DECLARATION}<ofd:Res xmlns:ofd=\"{NS}\" BaseLoc=\"Res\"><ofd:MultiMedias>{media}</ofd:MultiMedias></ofd:Res>\n"
            )
            .into_bytes(),
        ));
    }
    for (i, (_, content, _)) in pages.into_iter().enumerate() {
        files.push((format!("Doc_0/Pages/Page_{i}/Content.xml"), content.into_bytes()));
    }
    files.extend(font_files);
    for m in res.media {
        files.push((format!("Doc_0/Res/{}", m.file_name()), m.bytes));
    }
    if meta.archive && !meta.attachments.is_empty() {
        files.extend(attachments(meta));
    }
    package(&files)
}

/// OFD.xml: the document's entry and its DocInfo.
fn ofd_xml(meta: &Meta) -> String {
    let doc_type = if meta.archive { "OFD-A" } else { "OFD" };
    let mut info = format!("<ofd:DocID>{}</ofd:DocID>", escape(&meta.doc_id));
    if let Some(title) = &meta.title {
        let _ = write!(info, "<ofd:Title>{}</ofd:Title>", escape(title));
    }
    if !meta.authors.is_empty() {
        let _ = write!(info, "<ofd:Author>{}</ofd:Author>", escape(&meta.authors.join("、")));
    }
    if let Some(subject) = &meta.subject {
        let _ = write!(info, "<ofd:Subject>{}</ofd:Subject>", escape(subject));
    }
    if let Some((y, m, d)) = meta.date {
        let _ = write!(info, "<ofd:CreationDate>{y:04}-{m:02}-{d:02}</ofd:CreationDate>");
    }
    if !meta.keywords.is_empty() {
        info.push_str("<ofd:Keywords>");
        for k in &meta.keywords {
            let _ = write!(info, "<ofd:Keyword>{}</ofd:Keyword>", escape(k));
        }
        info.push_str("</ofd:Keywords>");
    }
    let _ = write!(
        info,
        "<ofd:Creator>{}</ofd:Creator><ofd:CreatorVersion>{}</ofd:CreatorVersion>",
        escape(&meta.creator),
        env!("CARGO_PKG_VERSION")
    );
    format!(
        "{DECLARATION}<ofd:OFD xmlns:ofd=\"{NS}\" Version=\"1.0\" DocType=\"{doc_type}\"><ofd:DocBody>\
         <ofd:DocInfo>{info}</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>\n"
    )
}

/// Attachments.xml and the attached files (under plain ASCII names; the
/// Name attribute keeps the name the file had).
fn attachments(meta: &Meta) -> Vec<(String, Vec<u8>)> {
    let mut list = String::new();
    let mut files = vec![];
    let date =
        meta.date.map(|(y, m, d)| format!(" CreationDate=\"{y:04}-{m:02}-{d:02}T00:00:00\"")).unwrap_or_default();
    for (i, a) in meta.attachments.iter().enumerate() {
        let ext = std::path::Path::new(&a.name)
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()))
            .unwrap_or("bin")
            .to_ascii_lowercase();
        let file = format!("Attach_{i}.{ext}");
        let _ = write!(
            list,
            "<ofd:Attachment ID=\"Attach{i}\" Name=\"{}\" Format=\"{ext}\"{date} Size=\"{}\" Usage=\"{}\"><ofd:FileLoc>{file}</ofd:FileLoc></ofd:Attachment>",
            escape(&a.name),
            xml::num(a.bytes.len() as f64 / 1024.0),
            a.usage,
        );
        files.push((format!("Doc_0/Attachs/{file}"), a.bytes.clone()));
    }
    let mut out = vec![(
        "Doc_0/Attachs/Attachments.xml".into(),
        format!("{DECLARATION}<ofd:Attachments xmlns:ofd=\"{NS}\">{list}</ofd:Attachments>\n").into_bytes(),
    )];
    out.extend(files);
    out
}

/// The zip: entries in the order given, deflated, all dated 1980-01-01.
fn package(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, OfdError> {
    let err = |e: &dyn std::fmt::Display| OfdError(e.to_string());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options).map_err(|e| err(&e))?;
        zip.write_all(bytes).map_err(|e| err(&e))?;
    }
    Ok(zip.finish().map_err(|e| err(&e))?.into_inner())
}
