//! Checking a PDF's digital signatures (for `verify`): for each signature,
//! that its /ByteRange covers the whole file but its own /Contents (or how
//! much was appended after it), that the /Contents gap holds nothing but the
//! hex CMS value and its zero padding, that the digest of the ranges is the
//! signed message-digest, that the signature over the signed attributes
//! verifies with the signer's certificate as given in the CMS, and that the
//! certificate was fit for signing when it signed (in its validity period,
//! with a signing key usage). Trust in the certificate (a chain to a root,
//! revocation) is not judged here.
//!
//! Signatures are found through the document's structure (the signature
//! fields of its AcroForm and the widgets on its pages), in every revision of
//! the file, so a signature removed by a later update is still reported, and
//! no text of the form (which may well say `/ByteRange`) is taken for one.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::OctetString;
use der::{Decode, Encode, Reader, SliceReader};
use hayro_interpret::hayro_syntax::Pdf;
use hayro_interpret::hayro_syntax::object::{Array, Dict, Name, ObjectIdentifier, Rect, String as PdfString};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;

use crate::archival::revisions;
use crate::archival::signer::{self, common_name};

/// One signature and what was found.
#[derive(Debug, Clone, Default)]
pub struct Signature {
    /// The signer's certificate's common name, when the CMS could be read.
    pub signer: Option<String>,
    /// The signing time from /M (`2026-11-27 18:12:00（北京时间）`, `… UTC`).
    pub time: Option<String>,
    /// The same, in seconds since 1970 (UTC).
    pub signed_at: Option<i64>,
    /// `RSA-2048 / SHA-256`, `ECDSA P-256 / SHA-256`.
    pub algorithm: Option<String>,
    /// Where the signed bytes end: the revision it signs is the file up to here.
    pub covers: usize,
    /// Bytes of the file after the signed ranges (0: it covers the whole file).
    pub appended: usize,
    /// The signer's certificate, as far as a reviewer needs it.
    pub certificate: Option<CertificateInfo>,
    pub problem: Option<Problem>,
    /// The signature dictionary (the field's /V).
    pub dict: Option<ObjectIdentifier>,
    /// The widgets that show it, on the newest revision that has them.
    pub widgets: Vec<Widget>,
}

/// A signature field's widget annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    pub id: ObjectIdentifier,
    /// 0-based page, when the widget is on a page.
    pub page: Option<usize>,
    /// Its /Rect (left, bottom, right, top), in points.
    pub rect: [f64; 4],
}

/// What a reviewer needs of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// SHA-256 of the certificate, upper-case hex: tells two certificates under one name apart.
    pub sha256: String,
    /// Its validity period, seconds since 1970.
    pub not_before: i64,
    pub not_after: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A signature field was seen but its dictionary could not be read.
    Unreadable,
    /// The /ByteRange does not start at 0, overlaps, or leaves the file.
    ByteRange,
    /// The gap between the ranges is not `<hex>` (bytes changed there).
    Gap,
    /// The CMS value cannot be read.
    Cms(String),
    /// The zero padding after the CMS value was changed.
    Padding,
    /// The digest of the signed ranges differs: the file was changed after signing.
    Digest,
    /// The signature does not verify with the signer's certificate.
    Signature,
    /// No certificate for the signer in the CMS.
    NoCertificate,
    /// A digest or key algorithm this check does not know.
    Unsupported(String),
    /// More signature dictionaries than `MAX_SIGNATURES`.
    TooMany(usize),
    /// The certificate's validity had ended when it signed.
    Expired(String),
    /// The certificate's validity had not begun when it signed.
    NotYetValid(String),
    /// The certificate's key usage does not allow signing.
    NoSigningUsage,
    /// A signature field that holds no signature.
    Unsigned,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Problem::Unreadable => write!(f, "签名字典无法读取（文件被改动或损坏）"),
            Problem::ByteRange => write!(f, "签名范围（/ByteRange）不合法"),
            Problem::Gap => write!(f, "签名值所在的位置被改动"),
            Problem::Cms(e) => write!(f, "签名值无法读取（{e}）"),
            Problem::Padding => write!(f, "签名值后的填充被改动"),
            Problem::Digest => write!(f, "签名后文件内容被改动（摘要不符）"),
            Problem::Signature => write!(f, "签名值与签名者证书不符"),
            Problem::NoCertificate => write!(f, "签名中没有签名者的证书"),
            Problem::Unsupported(what) => write!(f, "不支持的算法（{what}）"),
            Problem::TooMany(n) => write!(f, "文件中有 {n} 个签名，超过 {MAX_SIGNATURES} 个，其余未检查"),
            Problem::Expired(until) => write!(f, "签名时证书已过期（有效期至 {until}），不能用于签名"),
            Problem::NotYetValid(from) => write!(f, "签名时证书尚未生效（{from} 起有效），不能用于签名"),
            Problem::NoSigningUsage => write!(f, "证书的密钥用途不包括数字签名，不能用于签名"),
            Problem::Unsigned => write!(f, "签名域中没有签名"),
        }
    }
}

/// Signatures checked at most: each one hashes up to the whole file, so a
/// hostile file full of signature fields must not cost that many times.
pub const MAX_SIGNATURES: usize = 32;

/// Fields and widgets looked at in one revision at most.
const MAX_FIELDS: usize = 1000;

/// Every signature of the file, in the order of the bytes they sign.
pub fn check(pdf: &[u8]) -> Vec<Signature> {
    // Newest revision first: a signature's widgets are those it has now.
    let mut ends = revisions::ends(pdf);
    if ends.last() != Some(&pdf.len()) {
        ends.push(pdf.len());
    }
    let mut found: Vec<Found> = vec![];
    for &end in ends.iter().rev() {
        let Ok(doc) = Pdf::new(pdf[..end].to_vec()) else { continue };
        for f in signature_fields(&doc) {
            let known = found.iter().any(|g| match (&f.ranges, &g.ranges) {
                (Some(a), Some(b)) => a == b,
                _ => f.dict.is_some() && f.dict == g.dict && f.ranges.is_none() && g.ranges.is_none(),
            });
            if !known {
                found.push(f);
            }
        }
    }
    let total = found.len();
    found.sort_by_key(|f| f.ranges.map_or(usize::MAX, |[_, _, c, d]| c.saturating_add(d)));
    let mut out: Vec<Signature> = found.into_iter().take(MAX_SIGNATURES).map(|f| check_one(pdf, f)).collect();
    if total > MAX_SIGNATURES {
        out.push(Signature::failed(Problem::TooMany(total)));
    }
    out
}

impl Signature {
    fn failed(problem: Problem) -> Signature {
        Signature { problem: Some(problem), ..Signature::default() }
    }
}

/// Whether the signatures leave nothing unsigned: each is valid and one covers the whole file.
pub fn all_valid(signatures: &[Signature]) -> bool {
    signatures.iter().all(|s| s.problem.is_none()) && signatures.iter().any(|s| s.appended == 0)
}

/// A signature field as the structure gives it, before checking.
struct Found {
    dict: Option<ObjectIdentifier>,
    ranges: Option<[usize; 4]>,
    contents: Option<Vec<u8>>,
    time: Option<Vec<u8>>,
    widgets: Vec<Widget>,
    /// The field has a /V that could not be read, or none.
    problem: Option<Problem>,
}

/// Every signature field of a document: the AcroForm's fields (with their
/// kids) and any signature widget on a page.
fn signature_fields(doc: &Pdf) -> Vec<Found> {
    let xref = doc.xref();
    // Which page each annotation is on.
    let mut on_page: Vec<(ObjectIdentifier, usize)> = vec![];
    let mut page_widgets: Vec<Dict> = vec![];
    for (i, page) in doc.pages().iter().enumerate() {
        let Some(annots) = page.raw().get::<Array>(b"Annots") else { continue };
        for item in annots.raw_iter().take(MAX_FIELDS) {
            if let hayro_interpret::hayro_syntax::object::MaybeRef::Ref(r) = item {
                on_page.push((r.into(), i));
            }
        }
        page_widgets.extend(annots.iter::<Dict>().take(MAX_FIELDS));
    }
    let mut fields: Vec<(Dict, bool)> = vec![];
    if let Some(form) = xref.get::<Dict>(xref.root_id()).and_then(|c| c.get::<Dict>(b"AcroForm"))
        && let Some(top) = form.get::<Array>(b"Fields")
    {
        let mut stack: Vec<(Dict, bool, usize)> = top.iter::<Dict>().map(|d| (d, false, 0)).collect();
        while let Some((field, parent_sig, depth)) = stack.pop() {
            if fields.len() >= MAX_FIELDS {
                break;
            }
            let sig = field.get::<Name>(b"FT").map_or(parent_sig, |ft| ft.as_ref() == b"Sig");
            if let Some(kids) = field.get::<Array>(b"Kids")
                && depth < 16
            {
                stack.extend(kids.iter::<Dict>().map(|k| (k, sig, depth + 1)));
            }
            fields.push((field, sig));
        }
    }
    // Widgets on pages that no field lists still show.
    for w in page_widgets {
        if w.get::<Name>(b"FT").is_some_and(|ft| ft.as_ref() == b"Sig") {
            fields.push((w, true));
        }
    }
    let mut out: Vec<Found> = vec![];
    for (field, sig) in fields {
        if !sig || field.get::<Array>(b"Kids").is_some() && !field.contains_key(b"V") {
            continue;
        }
        let widget = field.obj_id().filter(|_| field.get::<Name>(b"Subtype").is_some_and(|s| s.as_ref() == b"Widget"));
        let widgets: Vec<Widget> = widget
            .into_iter()
            .map(|id| Widget {
                id,
                page: on_page.iter().find(|(a, _)| *a == id).map(|(_, p)| *p),
                rect: field.get::<Rect>(b"Rect").map_or([0.0; 4], |r| [r.x0, r.y0, r.x1, r.y1]),
            })
            .collect();
        let dict_id = field.get_ref(b"V").map(ObjectIdentifier::from);
        let Some(v) = field.get::<Dict>(b"V") else {
            let problem = if field.contains_key(b"V") { Problem::Unreadable } else { Problem::Unsigned };
            let same = out.iter_mut().find(|f| f.dict.is_none() && widget.is_some() && f.widgets == widgets);
            if same.is_none() {
                out.push(Found {
                    dict: dict_id,
                    ranges: None,
                    contents: None,
                    time: None,
                    widgets,
                    problem: Some(problem),
                });
            }
            continue;
        };
        let ranges = v.get::<Array>(b"ByteRange").and_then(|a| {
            let n: Vec<usize> = a.iter::<i64>().map(|v| usize::try_from(v).ok()).collect::<Option<_>>()?;
            <[usize; 4]>::try_from(n).ok()
        });
        let found = Found {
            dict: dict_id,
            ranges,
            contents: v.get::<PdfString>(b"Contents").map(|c| c.as_bytes().to_vec()),
            time: v.get::<PdfString>(b"M").map(|m| m.as_bytes().to_vec()),
            widgets,
            problem: None,
        };
        // A field and its widget listed twice (AcroForm and page) is one signature.
        match out.iter_mut().find(|f| f.ranges.is_some() && f.ranges == found.ranges) {
            Some(f) => {
                for w in found.widgets {
                    if !f.widgets.contains(&w) {
                        f.widgets.push(w);
                    }
                }
            }
            None => out.push(found),
        }
    }
    out
}

fn check_one(pdf: &[u8], found: Found) -> Signature {
    let mut sig = Signature { dict: found.dict, widgets: found.widgets, ..Signature::default() };
    if let Some(problem) = found.problem {
        sig.problem = Some(problem);
        return sig;
    }
    if let Some(m) = &found.time {
        sig.time = Some(pdf_date(m));
        sig.signed_at = pdf_time(m);
    }
    let Some([a, b, c, d]) = found.ranges else {
        sig.problem = Some(Problem::ByteRange);
        return sig;
    };
    if a != 0 || b >= c || c.checked_add(d).is_none_or(|end| end > pdf.len()) {
        sig.problem = Some(Problem::ByteRange);
        return sig;
    }
    sig.covers = c + d;
    sig.appended = pdf.len() - (c + d);
    let gap = &pdf[b..c];
    let hex = match gap {
        [b'<', hex @ .., b'>'] if hex.len() % 2 == 0 && hex.iter().all(u8::is_ascii_hexdigit) => hex,
        _ => {
            sig.problem = Some(Problem::Gap);
            return sig;
        }
    };
    let bytes: Vec<u8> =
        hex.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("00"), 16).unwrap_or(0)).collect();
    // The ranges must leave out this very signature's value, not another's.
    if found.contents.as_deref() != Some(bytes.as_slice()) {
        sig.problem = Some(Problem::Gap);
        return sig;
    }
    let mut reader = match SliceReader::new(&bytes) {
        Ok(r) => r,
        Err(e) => {
            sig.problem = Some(Problem::Cms(e.to_string()));
            return sig;
        }
    };
    let info = match ContentInfo::decode(&mut reader) {
        Ok(info) => info,
        Err(e) => {
            sig.problem = Some(Problem::Cms(e.to_string()));
            return sig;
        }
    };
    let used = usize::try_from(reader.position()).unwrap_or(bytes.len());
    if bytes[used.min(bytes.len())..].iter().any(|&b| b != 0)
        || hex[2 * used.min(bytes.len())..].iter().any(|&h| h != b'0')
    {
        sig.problem = Some(Problem::Padding);
    }
    let signed = match info.content.decode_as::<SignedData>() {
        Ok(s) if info.content_type == signer::ID_SIGNED_DATA => s,
        Ok(_) => {
            sig.problem = Some(Problem::Cms("不是 SignedData".into()));
            return sig;
        }
        Err(e) => {
            sig.problem = Some(Problem::Cms(e.to_string()));
            return sig;
        }
    };
    let Some(si) = signed.signer_infos.0.iter().next() else {
        sig.problem = Some(Problem::Cms("没有签名者".into()));
        return sig;
    };
    let Some(cert) = signer_certificate(&signed, si) else {
        sig.problem = Some(Problem::NoCertificate);
        return sig;
    };
    sig.signer = Some(common_name(&cert));
    let validity = cert.tbs_certificate().validity();
    let seconds = |t: x509_cert::time::Time| i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    sig.certificate = Some(CertificateInfo {
        sha256: cert.to_der().map(|der| hex_upper(&Sha256::digest(der))).unwrap_or_default(),
        not_before: seconds(validity.not_before),
        not_after: seconds(validity.not_after),
    });
    let problem = verify(pdf, [a, b, c, d], si, &cert, &mut sig.algorithm);
    if sig.problem.is_none() {
        sig.problem = problem;
    }
    if sig.problem.is_none() {
        sig.problem = unfit(&cert, sig.certificate.as_ref(), sig.signed_at);
    }
    sig
}

/// Why a certificate could not sign at the time the signature gives: out of
/// its validity period, or a key usage without digital signature and
/// non-repudiation. A certificate without a key usage extension may sign.
fn unfit(cert: &Certificate, info: Option<&CertificateInfo>, at: Option<i64>) -> Option<Problem> {
    if let (Some(info), Some(at)) = (info, at) {
        let shown = |t: i64| crate::archival::sign::format_time(t + crate::archival::sign::BEIJING, "-", ":");
        if at > info.not_after {
            return Some(Problem::Expired(format!("{}（北京时间）", shown(info.not_after))));
        }
        if at < info.not_before {
            return Some(Problem::NotYetValid(format!("{}（北京时间）", shown(info.not_before))));
        }
    }
    let usage = cert
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .find(|e| e.extn_id == <x509_cert::ext::pkix::KeyUsage as der::oid::AssociatedOid>::OID)
        .map(|e| x509_cert::ext::pkix::KeyUsage::from_der(e.extn_value.as_bytes()));
    match usage {
        Some(Ok(u)) if u.digital_signature() || u.non_repudiation() => None,
        Some(_) => Some(Problem::NoSigningUsage),
        None => None,
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Digest, then signature: the first that fails.
fn verify(
    pdf: &[u8],
    [a, b, c, d]: [usize; 4],
    si: &SignerInfo,
    cert: &Certificate,
    algorithm: &mut Option<String>,
) -> Option<Problem> {
    let digest_oid = si.digest_alg.oid;
    let (hash_name, hash): (&str, Hasher) = match digest_oid {
        o if o == signer::ID_SHA256 => ("SHA-256", |parts| digest::<Sha256>(parts)),
        o if o == signer::ID_SHA384 => ("SHA-384", |parts| digest::<Sha384>(parts)),
        o if o == signer::ID_SHA512 => ("SHA-512", |parts| digest::<Sha512>(parts)),
        other => return Some(Problem::Unsupported(other.to_string())),
    };
    let key = PublicKey::of(cert);
    *algorithm = Some(format!("{} / {hash_name}", key.as_ref().map_or("?".into(), PublicKey::name)));
    let Some(attrs) = &si.signed_attrs else {
        return Some(Problem::Unsupported("没有签名属性".into()));
    };
    let content_digest = hash(&[&pdf[a..a + b], &pdf[c..c + d]]);
    let signed_digest = attrs
        .iter()
        .find(|attr| attr.oid == signer::ID_MESSAGE_DIGEST)
        .and_then(|attr| attr.values.iter().next())
        .and_then(|v| v.decode_as::<OctetString>().ok());
    if signed_digest.as_ref().map(OctetString::as_bytes) != Some(content_digest.as_slice()) {
        return Some(Problem::Digest);
    }
    let Ok(attrs_der) = attrs.to_der() else { return Some(Problem::Cms("签名属性无法编码".into())) };
    let prehash = hash(&[&attrs_der]);
    let Some(key) = key else {
        let oid = cert.tbs_certificate().subject_public_key_info().algorithm.oid;
        return Some(Problem::Unsupported(oid.to_string()));
    };
    let sig_bytes = si.signature.as_bytes();
    let ok = match (&key, digest_oid) {
        (PublicKey::Rsa(k), o) if o == signer::ID_SHA256 => {
            k.pkcs1v15_verify_prehash::<Sha256>(&prehash, sig_bytes).is_ok()
        }
        (PublicKey::Rsa(k), o) if o == signer::ID_SHA384 => {
            k.pkcs1v15_verify_prehash::<Sha384>(&prehash, sig_bytes).is_ok()
        }
        (PublicKey::Rsa(k), _) => k.pkcs1v15_verify_prehash::<Sha512>(&prehash, sig_bytes).is_ok(),
        (PublicKey::P256(k), _) => {
            p256::ecdsa::Signature::from_der(sig_bytes).is_ok_and(|s| k.verify_prehash(&prehash, &s).is_ok())
        }
        (PublicKey::P384(k), _) => {
            p384::ecdsa::Signature::from_der(sig_bytes).is_ok_and(|s| k.verify_prehash(&prehash, &s).is_ok())
        }
    };
    (!ok).then_some(Problem::Signature)
}

/// A digest over several byte slices in turn.
type Hasher = fn(&[&[u8]]) -> Vec<u8>;

fn digest<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
    let mut d = D::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().to_vec()
}

enum PublicKey {
    Rsa(Box<rsa::PublicKey>),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl PublicKey {
    fn of(cert: &Certificate) -> Option<PublicKey> {
        let spki = cert.tbs_certificate().subject_public_key_info();
        let oid = spki.algorithm.oid;
        if oid == signer::ID_RSA {
            return signer::public_rsa(&spki.to_der().ok()?).map(|k| PublicKey::Rsa(Box::new(k)));
        }
        if oid != signer::ID_EC_PUBLIC_KEY {
            return None;
        }
        let curve = spki.algorithm.parameters.as_ref()?.decode_as::<der::asn1::ObjectIdentifier>().ok()?;
        let point = spki.subject_public_key.as_bytes()?;
        match curve {
            c if c == signer::ID_P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(point).ok().map(PublicKey::P256),
            c if c == signer::ID_P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(point).ok().map(PublicKey::P384),
            _ => None,
        }
    }

    fn name(&self) -> String {
        match self {
            PublicKey::Rsa(k) => format!("RSA-{}", rsa::traits::PublicKeyParts::size(k.as_ref()) * 8),
            PublicKey::P256(_) => "ECDSA P-256".into(),
            PublicKey::P384(_) => "ECDSA P-384".into(),
        }
    }
}

/// The certificate the signer info names (issuer and serial number), else the only one.
fn signer_certificate(signed: &SignedData, si: &SignerInfo) -> Option<Certificate> {
    let certs: Vec<&Certificate> = signed
        .certificates
        .as_ref()?
        .0
        .iter()
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) => Some(c),
            _ => None,
        })
        .collect();
    let named = match &si.sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => certs.iter().find(|c| {
            c.tbs_certificate().issuer() == &isn.issuer && c.tbs_certificate().serial_number() == &isn.serial_number
        }),
        SignerIdentifier::SubjectKeyIdentifier(_) => None,
    };
    named.or(if certs.len() == 1 { certs.first() } else { None }).map(|c| (*c).clone())
}

/// `D:20261127101200+00'00'` → `2026-11-27 10:12:00 +00'00'`.
fn pdf_date(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let s = s.strip_prefix("D:").unwrap_or(&s);
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 14 {
        return s.to_string();
    }
    let zone = &s[14..];
    let zone = match zone.replace('\'', "").as_str() {
        "Z" | "+0000" | "-0000" | "" => " UTC".to_string(),
        "+0800" => "（北京时间）".to_string(),
        other if other.len() == 5 => format!(" UTC{}:{}", &other[..3], &other[3..]),
        other => format!(" {other}"),
    };
    format!(
        "{}-{}-{} {}:{}:{}{zone}",
        &digits[0..4],
        &digits[4..6],
        &digits[6..8],
        &digits[8..10],
        &digits[10..12],
        &digits[12..14]
    )
}

/// Seconds since 1970 (UTC) of a PDF date `D:YYYYMMDDHHmmSS` with its
/// offset (`+08'00'`, `Z`; none is taken as UTC).
pub fn pdf_time(raw: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(raw).ok()?;
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    let field = |from: usize, to: usize, default: i64| digits.get(from..to).map_or(Some(default), |v| v.parse().ok());
    let year = digits.get(0..4)?.parse::<i64>().ok()?;
    let (month, day) = (field(4, 6, 1)?, field(6, 8, 1)?);
    let (hour, minute, second) = (field(8, 10, 0)?, field(10, 12, 0)?, field(12, 14, 0)?);
    let zone: String = s[digits.len()..].chars().filter(|c| *c != '\'').collect();
    let offset = match zone.as_bytes() {
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() >= 2 => {
            let text = std::str::from_utf8(rest).ok()?;
            let hours: i64 = text.get(0..2)?.parse().ok()?;
            let minutes: i64 = text.get(2..4).map_or(Some(0), |m| m.parse().ok())?;
            let sign = if *sign == b'-' { -1 } else { 1 };
            sign * (hours * 3600 + minutes * 60)
        }
        _ => 0,
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(pdf_date(b"D:20261127101200+00'00'"), "2026-11-27 10:12:00 UTC");
        assert_eq!(pdf_date(b"D:20261127101200+08'00'"), "2026-11-27 10:12:00（北京时间）");
        assert_eq!(pdf_date(b"D:20261127101200-05'00'"), "2026-11-27 10:12:00 UTC-05:00");
        assert_eq!(pdf_date(b"D:20261127101200Z"), "2026-11-27 10:12:00 UTC");
        let utc = |raw: &[u8]| pdf_time(raw).map(|t| crate::archival::sign::format_time(t, "", ""));
        assert_eq!(utc(b"D:20261127101200+08'00'").as_deref(), Some("20261127021200"));
        assert_eq!(utc(b"D:20000229235959Z").as_deref(), Some("20000229235959"));
        assert_eq!(utc(b"D:19991231").as_deref(), Some("19991231000000"));
        assert_eq!(
            pdf_time(b"D:2026").map(|t| crate::archival::sign::format_time(t, "", "")).as_deref(),
            Some("20260101000000")
        );
        assert_eq!(pdf_time(b"D:20x"), None);
    }

    /// A one-page PDF whose AcroForm lists a signature field per entry of
    /// `values` (the field's /V as written), with `extra` objects after them.
    fn with_fields(values: &[&str], extra: &[&str]) -> Vec<u8> {
        let mut objects = vec![];
        let fields: Vec<String> = (0..values.len()).map(|i| format!("{} 0 R", 4 + i)).collect();
        objects.push(format!("<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[{}]>>>>", fields.join(" ")));
        objects.push("<</Type/Pages/Kids[3 0 R]/Count 1>>".to_string());
        objects.push("<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 100]>>".to_string());
        for (i, v) in values.iter().enumerate() {
            objects.push(format!("<</FT/Sig/T(S{i})/V {v}>>"));
        }
        objects.extend(extra.iter().map(|e| e.to_string()));
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut offsets = vec![];
        for (i, o) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = pdf.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1);
        for at in offsets {
            table.push_str(&format!("{at:010} 00000 n\r\n"));
        }
        table.push_str(&format!("trailer\n<</Size {}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1));
        pdf.extend_from_slice(table.as_bytes());
        pdf
    }

    #[test]
    fn hostile_signature_fields_are_reported_not_trusted() {
        let problems = |pdf: &[u8]| check(pdf).into_iter().map(|s| s.problem).collect::<Vec<_>>();
        // Ranges out of the file; a gap that is not hex; a /V that cannot be read; an empty field.
        let pdf = with_fields(&["<</ByteRange[0 5 900000 5]/Contents<00>>>"], &[]);
        assert_eq!(problems(&pdf), vec![Some(Problem::ByteRange)]);
        let pdf = with_fields(&["<</ByteRange[0 10 20 2]/Contents<00>>>"], &[]);
        assert_eq!(problems(&pdf), vec![Some(Problem::Gap)]);
        let pdf = with_fields(&["99 0 R"], &[]);
        assert_eq!(problems(&pdf), vec![Some(Problem::Unreadable)]);
        let pdf = with_fields(&[], &["<</FT/Sig/T(S)>>"]);
        assert_eq!(problems(&pdf), vec![], "a field the AcroForm does not list is not on any page either");
        // Text of the form that reads like a signature is text: no signature.
        let pdf = with_fields(&[], &["<</Author(/ByteRange[0 1 2 3]/Contents<00>)>>"]);
        assert!(check(&pdf).is_empty());
        // Many fields: a bounded number is checked.
        let values: Vec<String> = (0..100).map(|i| format!("<</ByteRange[0 {i} 900000 5]>>")).collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let checked = check(&with_fields(&values, &[]));
        assert_eq!(checked.len(), MAX_SIGNATURES + 1);
        assert_eq!(checked.last().unwrap().problem, Some(Problem::TooMany(100)));
        assert!(!all_valid(&checked));
        assert!(!all_valid(&[]));
    }
}
