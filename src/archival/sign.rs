//! Signing a PDF (`formpress sign`): a PAdES baseline B-B signature written
//! as an incremental update, so that the bytes before it (a PDF/A-3b file
//! stays PDF/A-3b) are kept exactly as they were.
//!
//! The update appends: the signature dictionary (/ByteRange and a
//! zero-padded /Contents placeholder, /M for the time), a signature field
//! that is also its widget annotation (with an appearance drawn as glyph
//! outlines, so no font is needed), the page with the widget added to its
//! /Annots, the catalog with /AcroForm (/SigFlags 3), and a cross-reference
//! section of the same kind as the file's last one (table or stream) with
//! /Prev. Then the byte ranges are hashed and the CMS signature is written
//! into the placeholder.

use std::fmt::Write as _;

use hayro_interpret::hayro_syntax::Pdf;
use hayro_interpret::hayro_syntax::object::{Array, Dict, MaybeRef, Name, Object, ObjectIdentifier};
use sha2::{Digest, Sha256};

use crate::archival::revisions;
use crate::archival::signature_check::{Signature, Widget};
use crate::archival::signer::Signer;
use crate::layout::fonts::Fonts;

#[derive(Debug)]
pub enum SignError {
    Limit(crate::archival::pdfcheck::PdfLimit),
    Unreadable(String),
    /// The file is encrypted (its strings could not be copied as they are).
    Encrypted,
    /// A page formpress marked 草稿: a draft is not a form to sign.
    Draft,
    /// Not made by formpress, and `--any` was not given.
    NotOurs,
    /// A character of the visible signature no font can draw.
    Glyph(char),
    /// The CMS signature did not fit its placeholder, or could not be encoded.
    Cms(String),
    /// The certificate cannot sign now (out of its validity, or without a signing key usage).
    Certificate(String),
}

impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            SignError::Limit(e) => write!(f, "{e}"),
            SignError::Unreadable(e) => write!(f, "不是可读的 PDF 文件（{e}）"),
            SignError::Encrypted => write!(f, "PDF 已加密，不能签名"),
            SignError::Draft => write!(f, "这是草稿（表单数据有错误，未通过校验），不能签名；改正错误、重新生成后再签"),
            SignError::NotOurs => write!(f, "这个 PDF 不是 formpress 生成的；确要签名请加 --any"),
            SignError::Glyph(c) => {
                write!(f, "签名外观中的字符 {c}（U+{:04X}）没有字体能显示；用 --font-path 加入含有它的字体", *c as u32)
            }
            SignError::Cms(e) => write!(f, "无法生成签名（{e}）"),
            SignError::Certificate(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for SignError {}

/// Where the visible signature goes: a page (0-based) and a rectangle in
/// points from the page's bottom left (left, bottom, right, top).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub page: usize,
    pub rect: [f64; 4],
}

pub struct SignOptions<'a> {
    /// Seconds since 1970 (UTC): the signing time written to /M and shown.
    pub time: i64,
    /// The visible signature's place; none for an invisible signature.
    pub place: Option<Place>,
    /// Fonts whose outlines draw the visible signature's text.
    pub fonts: &'a Fonts,
}

/// What signing did.
pub struct Signed {
    pub pdf: Vec<u8>,
    /// Where the signature shows; none when it is invisible.
    pub place: Option<Place>,
    /// The file was signed before: the 签章区 shows the first signature, so
    /// this one is invisible.
    pub resigned: bool,
}

/// The lines printed in the visible signature: the signer's name, the time
/// and the algorithm, as `verify` reads them back from the signature.
pub fn appearance_lines(name: &str, algorithm: &str, time: i64) -> Vec<(String, f64)> {
    vec![
        (format!("数字签名：{name}"), 10.0),
        (format!("签名时间：{}（北京时间）", format_time(time + BEIJING, "-", ":")), 8.0),
        (format!("{algorithm} · PAdES"), 7.0),
    ]
}

/// Signs a PDF as `formpress sign` does: checked against the limits, refused
/// when it is a draft or (unless `any`) not made by formpress, signed in the
/// 签章区 when its label is found (else invisibly), and the result checked
/// with `signature_check` before it is handed back.
pub fn sign_pdf(pdf: &[u8], signer: &Signer, any: bool, time: i64, fonts: &Fonts) -> Result<Signed, SignError> {
    crate::archival::pdfcheck::check(pdf).map_err(SignError::Limit)?;
    let read = crate::archival::inspect::read(pdf.to_vec()).map_err(|e| SignError::Unreadable(e.to_string()))?;
    // A draft is known by the mark formpress records in the metadata, not by the pages' text.
    let stamp = read.creator.as_deref().and_then(crate::layout::attach::Stamp::parse);
    if stamp.as_ref().is_some_and(|s| s.draft) {
        return Err(SignError::Draft);
    }
    if !any && stamp.is_none() {
        return Err(SignError::NotOurs);
    }
    let resigned = !crate::archival::signature_check::check(pdf).is_empty();
    let place = if resigned { None } else { crate::archival::sign_place::find(&read.anchors) };
    let mut signed = sign(pdf, signer, &SignOptions { time, place, fonts })?;
    signed.resigned = resigned;
    let checks = crate::archival::signature_check::check(&signed.pdf);
    use crate::archival::signature_check::Problem;
    match checks.last() {
        Some(last) if last.problem.is_none() && last.appended == 0 => Ok(signed),
        Some(last)
            if matches!(
                last.problem,
                Some(Problem::Expired(_) | Problem::NotYetValid(_) | Problem::NoSigningUsage)
            ) =>
        {
            Err(SignError::Certificate(last.problem.as_ref().map(ToString::to_string).unwrap_or_default()))
        }
        Some(last) => Err(SignError::Cms(format!(
            "签名后自检失败：{}",
            last.problem.as_ref().map_or("未覆盖全文".into(), |p| p.to_string())
        ))),
        None => Err(SignError::Cms("签名后自检找不到签名".into())),
    }
}

/// The file with a signature appended. `pdf` must have passed `pdfcheck`.
pub fn sign(pdf: &[u8], signer: &Signer, options: &SignOptions) -> Result<Signed, SignError> {
    let tail = Tail::read(pdf)?;
    let doc = Pdf::new(pdf.to_vec()).map_err(|e| SignError::Unreadable(format!("{e:?}")))?;
    let pages = doc.pages();
    let place = options.place.filter(|p| p.page < pages.len());
    let page_index = place.map_or(0, |p| p.page);
    let page = pages.get(page_index).ok_or_else(|| SignError::Unreadable("没有页面".into()))?;
    let page_dict = page.raw();
    let page_id = page_dict.obj_id().ok_or_else(|| SignError::Unreadable("页面不是间接对象".into()))?;
    let xref = doc.xref();
    let root_id = xref.root_id();
    let catalog = xref.get::<Dict>(root_id).ok_or_else(|| SignError::Unreadable("没有文档目录".into()))?;

    let first = tail.size;
    let (sig_id, field_id, ap_id) = (first, first + 1, first + 2);
    let mut next = first + 3;
    let field_name = next_field_name(&catalog);

    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut offsets: Vec<(i32, i32, usize)> = vec![];

    // The signature dictionary, with placeholders patched below.
    let contents_len = signer.max_cms_len();
    offsets.push((sig_id, 0, out.len()));
    let mut sig = format!(
        "{sig_id} 0 obj\n<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/M(D:{}+08'00')/Name{}",
        format_time(options.time + BEIJING, "", ""),
        pdf_text(&signer.name()),
    );
    sig.push_str("/ByteRange[0 ");
    out.extend_from_slice(sig.as_bytes());
    let byte_range_at = out.len();
    out.extend_from_slice(format!("{:30}]/Contents", "").as_bytes());
    let contents_at = out.len();
    out.push(b'<');
    out.extend(std::iter::repeat_n(b'0', contents_len * 2));
    out.push(b'>');
    let contents_end = out.len();
    out.extend_from_slice(b">>\nendobj\n");

    // The field and its widget, with the appearance drawn for the rectangle
    // as written (three decimals), so that `verify` can draw it again.
    let place = place.map(|p| Place { rect: p.rect.map(|v| num(v).parse().unwrap_or(v)), ..p });
    let rect = place.map_or([0.0; 4], |p| p.rect);
    let mut field = format!(
        "{field_id} 0 obj\n<</Type/Annot/Subtype/Widget/FT/Sig/T({field_name})/V {sig_id} 0 R/F 132/P {} {} R/Rect[{}]",
        page_id.obj_number,
        page_id.gen_number,
        rect.iter().map(|v| num(*v)).collect::<Vec<_>>().join(" ")
    );
    let appearance = match place {
        Some(p) => {
            let lines = appearance_lines(&signer.name(), &signer.algorithm(), options.time);
            Some(appearance(&lines, p.rect, options.fonts)?)
        }
        None => None,
    };
    if appearance.is_some() {
        write!(field, "/AP<</N {ap_id} 0 R>>").ok();
    }
    field.push_str(">>\nendobj\n");
    offsets.push((field_id, 0, out.len()));
    out.extend_from_slice(field.as_bytes());
    if let Some(stream) = appearance {
        let (w, h) = (rect[2] - rect[0], rect[3] - rect[1]);
        // Glyph outlines as text are large: compressed, they are a few kilobytes.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut z, stream.as_bytes()).map_err(|e| SignError::Cms(e.to_string()))?;
        let stream = z.finish().map_err(|e| SignError::Cms(e.to_string()))?;
        offsets.push((ap_id, 0, out.len()));
        out.extend_from_slice(
            format!(
                "{ap_id} 0 obj\n<</Type/XObject/Subtype/Form/BBox[0 0 {} {}]/Resources<<>>/Filter/FlateDecode/Length {}>>\nstream\n",
                num(w),
                num(h),
                stream.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&stream);
        out.extend_from_slice(b"\nendstream\nendobj\n");
    }

    // The page, with the widget added to its annotations.
    let mut annots = existing_refs(page_dict, b"Annots");
    annots.push(format!("{field_id} 0 R"));
    offsets.push((page_id.obj_number, page_id.gen_number, out.len()));
    let page_body = rewrite(page_dict, &[(&b"Annots"[..], format!("[{}]", annots.join(" ")))]);
    out.extend_from_slice(
        format!("{} {} obj\n{page_body}\nendobj\n", page_id.obj_number, page_id.gen_number).as_bytes(),
    );

    // The catalog, with the field in its AcroForm (an existing one keeps its entries).
    let form = catalog.get::<Dict>(b"AcroForm");
    let mut fields = form.as_ref().map(|f| existing_refs(f, b"Fields")).unwrap_or_default();
    fields.push(format!("{field_id} 0 R"));
    let form_body = match &form {
        Some(f) => rewrite(f, &[(&b"Fields"[..], format!("[{}]", fields.join(" "))), (&b"SigFlags"[..], "3".into())]),
        None => format!("<</Fields[{}]/SigFlags 3>>", fields.join(" ")),
    };
    let acroform = match catalog.get_ref(b"AcroForm") {
        Some(r) => {
            let id: ObjectIdentifier = r.into();
            offsets.push((id.obj_number, id.gen_number, out.len()));
            out.extend_from_slice(format!("{} {} obj\n{form_body}\nendobj\n", id.obj_number, id.gen_number).as_bytes());
            format!("{} {} R", id.obj_number, id.gen_number)
        }
        None => form_body,
    };
    offsets.push((root_id.obj_number, root_id.gen_number, out.len()));
    let catalog_body = rewrite(&catalog, &[(&b"AcroForm"[..], acroform)]);
    out.extend_from_slice(
        format!("{} {} obj\n{catalog_body}\nendobj\n", root_id.obj_number, root_id.gen_number).as_bytes(),
    );

    // The cross-reference section, of the kind the file has.
    let xref_at = out.len();
    let mut trailer = format!("/Root {} {} R", root_id.obj_number, root_id.gen_number);
    if let Some(info) = &tail.info {
        write!(trailer, "/Info {info}").ok();
    }
    if let Some(id) = &tail.id {
        write!(trailer, "/ID{id}").ok();
    }
    write!(trailer, "/Prev {}", tail.startxref).ok();
    offsets.sort();
    if tail.stream {
        let xref_id = next;
        next += 1;
        offsets.push((xref_id, 0, xref_at));
        let mut data = vec![];
        let mut index = vec![];
        for &(id, generation, at) in &offsets {
            index.push(format!("{id} 1"));
            data.push(1u8);
            data.extend_from_slice(&(at as u32).to_be_bytes());
            data.extend_from_slice(&(generation as u16).to_be_bytes());
        }
        out.extend_from_slice(
            format!(
                "{xref_id} 0 obj\n<</Type/XRef/Size {next}/W[1 4 2]/Index[{}]{trailer}/Length {}>>\nstream\n",
                index.join(" "),
                data.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\nendstream\nendobj\n");
    } else {
        let mut table = String::from("xref\n");
        for &(id, generation, at) in &offsets {
            write!(table, "{id} 1\n{at:010} {generation:05} n\r\n").ok();
        }
        write!(table, "trailer\n<</Size {next}{trailer}>>\n").ok();
        out.extend_from_slice(table.as_bytes());
    }
    out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());

    // The byte ranges: everything but the /Contents value.
    let ranges = [0, contents_at, contents_end, out.len() - contents_end];
    let text = format!("{} {} {}", ranges[1], ranges[2], ranges[3]);
    out[byte_range_at..byte_range_at + text.len()].copy_from_slice(text.as_bytes());
    let mut hasher = Sha256::new();
    hasher.update(&out[..contents_at]);
    hasher.update(&out[contents_end..]);
    let cms = signer.cms(&hasher.finalize()).map_err(|e| SignError::Cms(e.to_string()))?;
    if cms.len() > contents_len {
        return Err(SignError::Cms(format!("签名 {} 字节，超出预留的 {contents_len} 字节", cms.len())));
    }
    let hex: String = cms.iter().map(|b| format!("{b:02X}")).collect();
    out[contents_at + 1..contents_at + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(Signed { pdf: out, place, resigned: false })
}

/// Whether a signature's widget is the one `sign` writes for it: the
/// entries `sign` writes and no others, on the signature dictionary too, and
/// either no appearance (an invisible signature, with an empty rectangle) or
/// exactly the appearance `sign` draws for the signer, time and algorithm
/// the signature carries. Only such a widget is formpress's own drawing.
pub fn written_by_sign(doc: &Pdf, widget: &Widget, signature: &Signature, fonts: &Fonts) -> bool {
    let xref = doc.xref();
    let Some(dict) = xref.get::<Dict>(widget.id) else { return false };
    let only = |d: &Dict, allowed: &[&[u8]]| d.entries().all(|(k, _)| allowed.contains(&k.as_ref()));
    let name_is = |d: &Dict, key: &[u8], value: &[u8]| d.get::<Name>(key).is_some_and(|n| n.as_ref() == value);
    let shape = only(&dict, &[b"Type", b"Subtype", b"FT", b"T", b"V", b"F", b"P", b"Rect", b"AP"])
        && name_is(&dict, b"Subtype", b"Widget")
        && name_is(&dict, b"FT", b"Sig")
        && dict.get::<i64>(b"F") == Some(132);
    let value = signature.dict.and_then(|id| xref.get::<Dict>(id));
    let value_shape = value.as_ref().is_some_and(|v| {
        only(v, &[b"Type", b"Filter", b"SubFilter", b"M", b"Name", b"ByteRange", b"Contents"])
            && name_is(v, b"SubFilter", b"ETSI.CAdES.detached")
    });
    if !shape || !value_shape {
        return false;
    }
    let [x0, y0, x1, y1] = widget.rect;
    let Some(ap) = dict.get::<Dict>(b"AP") else { return x1 - x0 == 0.0 && y1 - y0 == 0.0 };
    let Some(stream) = ap.get::<hayro_interpret::hayro_syntax::object::Stream>(b"N") else { return false };
    let form = stream.dict();
    let expected_box = [0.0, 0.0, x1 - x0, y1 - y0];
    let bbox_ok = form.get::<Array>(b"BBox").is_some_and(|b| {
        let values: Vec<f64> = b.iter::<f64>().collect();
        values.len() == 4 && values.iter().zip(expected_box).all(|(a, e)| (a - e).abs() < 0.002)
    });
    let plain = only(&ap, &[b"N"])
        && only(form, &[b"Type", b"Subtype", b"BBox", b"Resources", b"Filter", b"Length"])
        && form.get::<Dict>(b"Resources").is_some_and(|r| r.entries().next().is_none())
        && bbox_ok;
    let (Some(name), Some(algorithm), Some(time)) = (&signature.signer, &signature.algorithm, signature.signed_at)
    else {
        return false;
    };
    let Ok(drawn) = appearance(&appearance_lines(name, algorithm, time), widget.rect, fonts) else { return false };
    plain && stream.decoded().is_ok_and(|bytes| bytes.as_ref() == drawn.as_bytes())
}

/// What the end of the file says: the last cross-reference section and its trailer.
struct Tail {
    startxref: usize,
    /// The last section is a cross-reference stream (else a table).
    stream: bool,
    size: i32,
    info: Option<String>,
    id: Option<String>,
}

impl Tail {
    fn read(pdf: &[u8]) -> Result<Tail, SignError> {
        let bad = |m: &str| SignError::Unreadable(m.to_string());
        let startxref = revisions::last_startxref(pdf).ok_or_else(|| bad("没有 startxref"))?;
        let section = revisions::section_at(pdf, startxref).ok_or_else(|| bad("找不到可读的 trailer"))?;
        let dict = section.trailer;
        if dict.contains_key(b"Encrypt") {
            return Err(SignError::Encrypted);
        }
        let size = dict.get::<i32>(b"Size").filter(|s| *s > 0).ok_or_else(|| bad("trailer 没有 /Size"))?;
        let info = dict.get_ref(b"Info").map(|r| {
            let id: ObjectIdentifier = r.into();
            format!("{} {} R", id.obj_number, id.gen_number)
        });
        let id = dict.get::<Array>(b"ID").map(|a| format!("[{}]", String::from_utf8_lossy(a.data())));
        Ok(Tail { startxref, stream: section.stream, size, info, id })
    }
}

/// A field name not yet used among the AcroForm's top-level fields: Signature1, Signature2, …
fn next_field_name(catalog: &Dict) -> String {
    let taken: Vec<Vec<u8>> = catalog
        .get::<Dict>(b"AcroForm")
        .and_then(|f| f.get::<Array>(b"Fields"))
        .map(|fields| {
            fields
                .iter::<Dict>()
                .filter_map(|f| f.get::<hayro_interpret::hayro_syntax::object::String>(b"T"))
                .map(|t| t.as_bytes().to_vec())
                .collect()
        })
        .unwrap_or_default();
    (1..).map(|i| format!("Signature{i}")).find(|n| !taken.iter().any(|t| t == n.as_bytes())).unwrap_or_default()
}

/// The entries of an array value (direct or by reference) as PDF syntax.
fn existing_refs(dict: &Dict, key: &[u8]) -> Vec<String> {
    let Some(array) = dict.get::<Array>(key) else { return vec![] };
    array.raw_iter().map(|item| value(&item)).collect()
}

/// A dictionary written again with some entries replaced or added.
fn rewrite(dict: &Dict, replace: &[(&[u8], String)]) -> String {
    let mut out = String::from("<<");
    for (key, _) in dict.entries() {
        let key_bytes: &[u8] = key.as_ref();
        if replace.iter().any(|(k, _)| *k == key_bytes) {
            continue;
        }
        let Some(raw) = dict.get_raw::<Object>(key_bytes) else { continue };
        write!(out, "{}{}", name(key_bytes), spaced(&value(&raw))).ok();
    }
    for (key, v) in replace {
        write!(out, "{}{}", name(key), spaced(v)).ok();
    }
    out.push_str(">>");
    out
}

/// A space before a value that would otherwise run into the name before it.
fn spaced(v: &str) -> String {
    match v.as_bytes().first() {
        Some(b'/' | b'[' | b'<' | b'(') => v.to_string(),
        _ => format!(" {v}"),
    }
}

/// A value as PDF syntax: references as references, the rest from what the reader parsed.
fn value(v: &MaybeRef<Object>) -> String {
    match v {
        MaybeRef::Ref(r) => {
            let id: ObjectIdentifier = (*r).into();
            format!("{} {} R", id.obj_number, id.gen_number)
        }
        MaybeRef::NotRef(o) => object(o),
    }
}

fn object(o: &Object) -> String {
    match o {
        Object::Null(_) => "null".into(),
        Object::Boolean(b) => b.to_string(),
        Object::Number(n) => {
            let f = n.as_f64();
            if f.fract() == 0.0 && f.abs() < 1e15 { format!("{}", n.as_i64()) } else { num(f) }
        }
        Object::String(s) => format!("<{}>", s.as_bytes().iter().map(|b| format!("{b:02X}")).collect::<String>()),
        Object::Name(n) => name(n.as_ref()),
        Object::Dict(d) => String::from_utf8_lossy(d.data()).into_owned(),
        // The reader's array data is what lies between the brackets.
        Object::Array(a) => format!("[{}]", String::from_utf8_lossy(a.data())),
        // A stream is always indirect, so it reaches here only from a broken file.
        Object::Stream(_) => "null".into(),
    }
}

/// A name, with the bytes PDF names cannot hold written as #XX.
fn name(bytes: &[u8]) -> String {
    let mut out = String::from("/");
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.+*'\"!$&,:;=?@^`|~".contains(&b) {
            out.push(b as char);
        } else {
            write!(out, "#{b:02X}").ok();
        }
    }
    out
}

/// A text string: UTF-16BE with a byte-order mark, in hex.
fn pdf_text(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in s.encode_utf16() {
        write!(out, "{unit:04X}").ok();
    }
    out.push('>');
    out
}

/// A number with at most three decimals.
fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// The signing time is written and shown in Beijing time (UTC+8), the one
/// time zone of the forms' users, with its offset in /M.
pub const BEIJING: i64 = 8 * 3600;

/// `YYYYMMDDHHmmSS` (or with separators) of a Unix time, UTC.
pub fn format_time(secs: i64, date_sep: &str, time_sep: &str) -> String {
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    let (hh, mm, ss) = (rest / 3600, rest / 60 % 60, rest % 60);
    if date_sep.is_empty() {
        format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}{ss:02}")
    } else {
        format!("{y:04}{date_sep}{m:02}{date_sep}{d:02} {hh:02}{time_sep}{mm:02}{time_sep}{ss:02}")
    }
}

/// Days since 1970-01-01 → year, month, day (proleptic Gregorian).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The appearance stream: a red frame and the lines, as filled glyph outlines.
pub fn appearance(lines: &[(String, f64)], rect: [f64; 4], fonts: &Fonts) -> Result<String, SignError> {
    let (w, h) = (rect[2] - rect[0], rect[3] - rect[1]);
    let mut out = format!("q 0.75 0 0 RG 0.8 w 0.4 0.4 {} {} re S Q\n0.75 0 0 rg\n", num(w - 0.8), num(h - 0.8));
    let pad = 4.0;
    let total: f64 = lines.iter().map(|(_, size)| size * 1.25).sum();
    // Lines centred vertically, each shrunk to fit the width.
    let mut y = h - (h - total).max(0.0) / 2.0;
    for (text, size) in lines {
        let glyphs = shape(text, fonts)?;
        let natural: f64 = glyphs.iter().map(|g| g.advance * size).sum();
        let size = if natural > w - 2.0 * pad { size * (w - 2.0 * pad) / natural } else { *size };
        y -= size * 1.25;
        let mut x = pad;
        for g in &glyphs {
            let scale = size;
            write!(out, "q {} 0 0 {} {} {} cm\n{}f Q\n", num(scale), num(scale), num(x), num(y + size * 0.25), g.path)
                .ok();
            x += g.advance * size;
        }
    }
    Ok(out)
}

struct Glyph {
    /// The outline in em units, as PDF path operators.
    path: String,
    /// Advance in em.
    advance: f64,
}

/// Each character's outline from the first font that has it (Noto Sans CJK first).
fn shape(text: &str, fonts: &Fonts) -> Result<Vec<Glyph>, SignError> {
    let count = (0..).take_while(|&i| fonts.book().info(i).is_some()).count();
    let preferred: Vec<usize> = (0..count)
        .filter(|&i| fonts.book().info(i).is_some_and(|f| f.family.starts_with("Noto Sans CJK")))
        .chain(0..count)
        .collect();
    text.chars()
        .map(|c| {
            let index = preferred
                .iter()
                .copied()
                .find(|&i| fonts.book().info(i).is_some_and(|f| f.coverage.contains(c as u32)))
                .ok_or(SignError::Glyph(c))?;
            let font = fonts.font(index).ok_or(SignError::Glyph(c))?;
            let face = ttf_parser::Face::parse(font.data(), font.index()).map_err(|_| SignError::Glyph(c))?;
            let gid = face.glyph_index(c).ok_or(SignError::Glyph(c))?;
            let em = f64::from(face.units_per_em());
            let mut path = Outline { em, out: String::new(), last: (0.0, 0.0) };
            face.outline_glyph(gid, &mut path);
            let advance = face.glyph_hor_advance(gid).map_or(0.5, |a| f64::from(a) / em);
            Ok(Glyph { path: path.out, advance })
        })
        .collect()
}

/// A glyph outline as PDF path operators, in em units (quadratic curves as cubic).
struct Outline {
    em: f64,
    out: String,
    last: (f64, f64),
}

impl ttf_parser::OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = (f64::from(x) / self.em, f64::from(y) / self.em);
        write!(self.out, "{} {} m ", num4(x), num4(y)).ok();
        self.last = (x, y);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = (f64::from(x) / self.em, f64::from(y) / self.em);
        write!(self.out, "{} {} l ", num4(x), num4(y)).ok();
        self.last = (x, y);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = (f64::from(x1) / self.em, f64::from(y1) / self.em);
        let (x, y) = (f64::from(x) / self.em, f64::from(y) / self.em);
        let (x0, y0) = self.last;
        let c1 = (x0 + 2.0 / 3.0 * (x1 - x0), y0 + 2.0 / 3.0 * (y1 - y0));
        let c2 = (x + 2.0 / 3.0 * (x1 - x), y + 2.0 / 3.0 * (y1 - y));
        write!(self.out, "{} {} {} {} {} {} c ", num4(c1.0), num4(c1.1), num4(c2.0), num4(c2.1), num4(x), num4(y)).ok();
        self.last = (x, y);
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let e = self.em;
        let p = |v: f32| num4(f64::from(v) / e);
        write!(self.out, "{} {} {} {} {} {} c ", p(x1), p(y1), p(x2), p(y2), p(x), p(y)).ok();
        self.last = (f64::from(x) / e, f64::from(y) / e);
    }
    fn close(&mut self) {
        self.out.push_str("h ");
    }
}

/// Em units need more precision than points.
fn num4(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_numbers() {
        assert_eq!(format_time(0, "", ""), "19700101000000");
        assert_eq!(format_time(1_795_000_000, "-", ":"), "2026-11-18 11:06:40");
        assert_eq!(format_time(951_782_400, "", ""), "20000229000000");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(name(b"A B"), "/A#20B");
        assert_eq!(pdf_text("签"), "<FEFF7B7E>");
    }
}
