//! Checking a PDF's digital signatures (for `verify`): for each signature,
//! that its /ByteRange covers the whole file but its own /Contents (or how
//! much was appended after it), that the /Contents gap holds nothing but the
//! hex CMS value and its zero padding, that the digest of the ranges is the
//! signed message-digest, and that the signature over the signed attributes
//! verifies with the signer's certificate as given in the CMS. Trust in the
//! certificate (a chain to a root, revocation) is not judged here.
//!
//! Signatures are found in the raw bytes (each /ByteRange), not through the
//! document structure, so a damaged file still has its signatures checked.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::OctetString;
use der::{Decode, Encode, Reader, SliceReader};
use hayro_interpret::hayro_syntax::object::{Dict, FromBytes, String as PdfString};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;

use crate::archival::signer::{self, common_name};

/// One signature and what was found.
#[derive(Debug, Clone)]
pub struct Signature {
    /// The signer's certificate's common name, when the CMS could be read.
    pub signer: Option<String>,
    /// The signing time from /M (`2026-11-27 18:12:00（北京时间）`, `… UTC`).
    pub time: Option<String>,
    /// `RSA-2048 / SHA-256`, `ECDSA P-256 / SHA-256`.
    pub algorithm: Option<String>,
    /// Bytes of the file after the signed ranges (0: it covers the whole file).
    pub appended: usize,
    pub problem: Option<Problem>,
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
            Problem::TooMany(n) => write!(f, "文件中有 {n} 个签名范围，超过 {MAX_SIGNATURES} 个，其余未检查"),
        }
    }
}

/// Signatures checked at most: each one hashes up to the whole file, so a
/// hostile file full of /ByteRange entries must not cost that many times.
pub const MAX_SIGNATURES: usize = 32;

/// Every signature of the file, in file order.
pub fn check(pdf: &[u8]) -> Vec<Signature> {
    let found = find_all(pdf, b"/ByteRange");
    let mut out: Vec<Signature> = found.iter().take(MAX_SIGNATURES).map(|&at| check_one(pdf, at)).collect();
    if found.len() > MAX_SIGNATURES {
        out.push(Signature::failed(Problem::TooMany(found.len())));
        return out;
    }
    // A signature dictionary whose /ByteRange was damaged still names its /SubFilter.
    let marked = find_all(pdf, b"/SubFilter").len();
    for _ in out.len()..marked {
        out.push(Signature::failed(Problem::Unreadable));
    }
    out
}

impl Signature {
    fn failed(problem: Problem) -> Signature {
        Signature { signer: None, time: None, algorithm: None, appended: 0, problem: Some(problem) }
    }
}

/// Whether the signatures leave nothing unsigned: each is valid and one covers the whole file.
pub fn all_valid(signatures: &[Signature]) -> bool {
    signatures.iter().all(|s| s.problem.is_none()) && signatures.iter().any(|s| s.appended == 0)
}

fn check_one(pdf: &[u8], at: usize) -> Signature {
    let mut sig = Signature { problem: None, ..Signature::failed(Problem::Unreadable) };
    // The dictionary around the /ByteRange: from the last `<<` that opens it.
    let dict = dictionary_around(pdf, at);
    sig.time = dict.as_ref().and_then(|d| d.get::<PdfString>(b"M")).map(|m| pdf_date(m.as_bytes()));
    let ranges = read_ranges(&pdf[at + b"/ByteRange".len()..]);
    let Some([a, b, c, d]) = ranges else {
        sig.problem = Some(Problem::ByteRange);
        return sig;
    };
    if a != 0 || b >= c || c.checked_add(d).is_none_or(|end| end > pdf.len()) {
        sig.problem = Some(Problem::ByteRange);
        return sig;
    }
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
    let problem = verify(pdf, [a, b, c, d], si, &cert, &mut sig.algorithm);
    if sig.problem.is_none() {
        sig.problem = problem;
    }
    sig
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

/// The dictionary that holds the /ByteRange at `at`.
fn dictionary_around(pdf: &[u8], at: usize) -> Option<Dict<'_>> {
    let from = at.saturating_sub(4096);
    let open = pdf[from..at].windows(2).rposition(|w| w == b"<<")? + from;
    Dict::from_bytes(&pdf[open..])
}

/// Four non-negative integers in `[ … ]`.
fn read_ranges(bytes: &[u8]) -> Option<[usize; 4]> {
    let text = bytes.get(..bytes.len().min(200))?;
    let open = text.iter().position(|&b| b == b'[')?;
    let close = text.iter().position(|&b| b == b']')?;
    if text[..open].iter().any(|b| !b.is_ascii_whitespace()) || close < open {
        return None;
    }
    let inner = std::str::from_utf8(&text[open + 1..close]).ok()?;
    let numbers: Vec<usize> = inner.split_ascii_whitespace().map(str::parse).collect::<Result<_, _>>().ok()?;
    numbers.try_into().ok()
}

fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    hay.windows(needle.len()).enumerate().filter(|(_, w)| *w == needle).map(|(i, _)| i).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_dates() {
        assert_eq!(read_ranges(b" [0 10 20 30]/Contents"), Some([0, 10, 20, 30]));
        assert_eq!(read_ranges(b"[0 10 20]"), None);
        assert_eq!(read_ranges(b"x[0 1 2 3]"), None);
        assert_eq!(pdf_date(b"D:20261127101200+00'00'"), "2026-11-27 10:12:00 UTC");
        assert_eq!(pdf_date(b"D:20261127101200+08'00'"), "2026-11-27 10:12:00（北京时间）");
        assert_eq!(pdf_date(b"D:20261127101200-05'00'"), "2026-11-27 10:12:00 UTC-05:00");
        assert_eq!(pdf_date(b"D:20261127101200Z"), "2026-11-27 10:12:00 UTC");
    }

    #[test]
    fn hostile_signature_entries_are_reported_not_trusted() {
        // Ranges out of the file, a gap that is not hex, a gap with no CMS in it.
        let bad = |text: &[u8]| check(text).into_iter().map(|s| s.problem).collect::<Vec<_>>();
        assert_eq!(bad(b"<</ByteRange[0 5 900 5]>>"), vec![Some(Problem::ByteRange)]);
        assert_eq!(bad(b"<</ByteRange[0 30 34 2]/Contents<zz>>>"), vec![Some(Problem::Gap)]);
        let p = bad(b"<</ByteRange[0 32 38 2]/Contents<0000>>>");
        assert!(matches!(p[..], [Some(Problem::Cms(_))]), "{p:?}");
        // A damaged /ByteRange still counts as a signature, through its /SubFilter.
        assert_eq!(bad(b"<</SubFilter/ETSI.CAdES.detached/ByteRanXe[0 1 2 3]>>"), vec![Some(Problem::Unreadable)]);
        // Many entries: a bounded number is checked.
        let many = b"<</ByteRange[0 1 2 3]>>".repeat(10_000);
        let checked = check(&many);
        assert_eq!(checked.len(), MAX_SIGNATURES + 1);
        assert_eq!(checked.last().unwrap().problem, Some(Problem::TooMany(10_000)));
        assert!(!all_valid(&checked));
        assert!(!all_valid(&[]));
    }
}
