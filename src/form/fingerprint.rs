//! The form's fingerprint: a SHA-256 over a canonical serialisation of the
//! checked form data, printed on every page as a short 校验码 and in a QR
//! code, so a stamped paper copy can be tied to the data it came from.
//!
//! Canonical form (documented in the README): the JSON text of
//! `{"assets": {<path>: <sha256>}, "data": <form data>, "form": <kind id>,
//! "options": <options>, "version": <kind version>}`
//! where the form data is the checked data (every field of the kind, defaults
//! filled in, text normalised, amounts as numbers, a picture as the path the
//! template reads it from, `/assets/0.png`), `assets` maps each such path to
//! the SHA-256 of the picture's bytes in lower-case hex and is left out when
//! the form has no pictures, the options are every layout option in effect
//! (the kind's defaults with the form's own) except those that do not change
//! what is printed (`NOT_PRINTED`), object keys are sorted by code point, there is no
//! whitespace, strings are escaped as JSON does (non-ASCII kept as UTF-8), and
//! numbers are written as serde_json writes them (`2020`, `3600.4`, `100.0`).
//! Comments, key order, quoting and number formatting in the YAML do not
//! change it; any changed value, picture, printed option or kind version does.

use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// The start of every QR payload: format version 1.
pub const QR_PREFIX: &str = "FP1:";

pub struct Fingerprint {
    /// 64 hex digits.
    pub hex: String,
}

/// Options that do not change what a page shows: the file format
/// (`archive`) and whether the code is printed at all (`fingerprint`).
pub const NOT_PRINTED: [&str; 2] = ["archive", "fingerprint"];

/// Everything that shapes the printed pages.
pub struct Shape<'a> {
    /// The kind's id and its manifest's `version`: another version may lay the same data out otherwise.
    pub kind: &'a str,
    pub version: &'a str,
    /// The checked data.
    pub data: &'a Json,
    /// The layout options in effect (defaults filled in): `unit: 元` prints amounts 10 000 times
    /// those of `万元`, `labels` renames cells.
    pub options: &'a Map<String, Json>,
    /// The pictures the data refers to, by the path in the data: their bytes
    /// shape the page as much as the text does, so a swapped seal changes the code.
    pub assets: &'a [(String, Vec<u8>)],
}

impl Fingerprint {
    /// Without pictures the `assets` key is left out.
    pub fn of(shape: &Shape) -> Fingerprint {
        let options: Map<String, Json> = shape
            .options
            .iter()
            .filter(|(k, _)| !NOT_PRINTED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut view = serde_json::json!({
            "form": shape.kind,
            "version": shape.version,
            "data": shape.data,
            "options": options,
        });
        if !shape.assets.is_empty() {
            let hashes =
                shape.assets.iter().map(|(path, bytes)| (path.clone(), Json::String(hex(&Sha256::digest(bytes)))));
            view["assets"] = Json::Object(hashes.collect());
        }
        let mut text = String::new();
        canonical(&view, &mut text);
        Fingerprint { hex: hex(&Sha256::digest(text.as_bytes())).to_ascii_uppercase() }
    }

    /// The printed 校验码: the first 16 hex digits in groups of 4.
    pub fn code(&self) -> String {
        let head = &self.hex[..16];
        [&head[0..4], &head[4..8], &head[8..12], &head[12..16]].join("-")
    }

    /// What the QR code of page `page` (1-based) holds: `FP1:` (format
    /// version 1), the full hash in upper-case hex, whose first 16 digits
    /// are the 校验码, and the page number: `FP1:<64 hex>:<page>`. All in
    /// QR's alphanumeric alphabet, so the code stays small enough for
    /// modules of 0.55 mm, which office scans at 150–300 dpi read back.
    /// The page number lets a scan of the signed paper be put back in order
    /// and checked for missing or doubled pages.
    pub fn qr_payload(&self, page: usize) -> String {
        format!("{QR_PREFIX}{}:{page}", self.hex)
    }
}

/// What a QR code read back from a page says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrPayload {
    /// The full hash, 64 upper-case hex digits.
    pub hex: String,
    /// The page number; `None` for codes printed before pages were numbered.
    pub page: Option<usize>,
}

impl QrPayload {
    /// The printed 校验码 of the form this page belongs to.
    pub fn code(&self) -> String {
        Fingerprint { hex: self.hex.clone() }.code()
    }
}

/// Reads a QR payload (`FP1:<64 hex>` or `FP1:<64 hex>:<page>`); anything else is `None`.
pub fn parse_qr(text: &str) -> Option<QrPayload> {
    let rest = text.trim().strip_prefix(QR_PREFIX)?;
    let (hex, page) = match rest.split_once(':') {
        Some((hex, page)) => (hex, Some(page)),
        None => (rest, None),
    };
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let page = match page {
        Some(p) if !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()) => {
            Some(p.parse().ok().filter(|&n: &usize| n >= 1)?)
        }
        Some(_) => return None,
        None => None,
    };
    Some(QrPayload { hex: hex.to_ascii_uppercase(), page })
}

/// Finds the printed 校验码 (`XXXX-XXXX-XXXX-XXXX` after the label) in a
/// page's text. The form's own text may say 校验码 too, even followed by
/// something code-like; the footer is drawn after the body (Typst lays out
/// a page's body before its footer), so the last labelled code is the footer's.
pub fn find_code(text: &str) -> Option<String> {
    let squashed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    squashed.match_indices("校验码").filter_map(|(at, label)| code_at(&squashed[at + label.len()..])).last()
}

/// A code at the start of `rest` (after an optional colon).
fn code_at(rest: &str) -> Option<String> {
    let rest = rest.trim_start_matches(['：', ':']);
    let code: String = rest.chars().take(19).collect();
    let valid = code.len() == 19
        && code.chars().enumerate().all(|(i, c)| if i % 5 == 4 { c == '-' } else { c.is_ascii_hexdigit() });
    valid.then(|| code.to_ascii_uppercase())
}

/// The mark every page of a draft carries in its footer (see `_shared/common.typ.j2`).
pub const DRAFT_MARK: &str = "草稿·未通过校验";

/// Whether a page's text shows the draft mark (what a reader sees; a file
/// is known as a draft by its metadata, `layout::attach::Stamp`, never by
/// text, which the form's own values could imitate).
pub fn is_draft(text: &str) -> bool {
    let squashed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    squashed.contains(DRAFT_MARK)
}

/// Lower-case hex digits of a digest.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn canonical(v: &Json, out: &mut String) {
    match v {
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String(k.clone()).to_string());
                out.push(':');
                canonical(&map[k], out);
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fp(data: &Json, options: &Json, assets: &[(String, Vec<u8>)]) -> String {
        let options = options.as_object().cloned().unwrap_or_default();
        Fingerprint::of(&Shape { kind: "k", version: "1", data, options: &options, assets }).hex
    }

    #[test]
    fn key_order_does_not_matter_values_do() {
        let a = fp(&json!({"b": 1, "a": [1.5, "x"]}), &json!({}), &[]);
        let b = fp(&json!({"a": [1.5, "x"], "b": 1}), &json!({}), &[]);
        let c = fp(&json!({"a": [1.6, "x"], "b": 1}), &json!({}), &[]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(Fingerprint { hex: a }.code().len(), 19);
    }

    #[test]
    fn printed_options_and_the_kind_version_are_part_of_the_code() {
        let data = json!({"a": 1});
        let base = fp(&data, &json!({"unit": "万元", "archive": false}), &[]);
        assert_ne!(base, fp(&data, &json!({"unit": "元", "archive": false}), &[]));
        // Whether the file is an archive, or prints its code at all, does not change the page.
        assert_eq!(base, fp(&data, &json!({"unit": "万元", "archive": true, "fingerprint": false}), &[]));
        let options = json!({"unit": "万元"}).as_object().cloned().unwrap();
        let v2 = Fingerprint::of(&Shape { kind: "k", version: "2", data: &data, options: &options, assets: &[] });
        assert_ne!(base, v2.hex);
    }

    #[test]
    fn pictures_are_part_of_the_code() {
        let data = json!({"seal": "/assets/0.png"});
        let seal = |bytes: &[u8]| fp(&data, &json!({}), &[("/assets/0.png".into(), bytes.to_vec())]);
        assert_ne!(seal(b"one seal"), seal(b"another seal"));
        assert_ne!(seal(b"one seal"), fp(&data, &json!({}), &[]));
        // The documented canonical text, for a form without and with a picture.
        let plain = json!({"b": "é", "a": 3600.4});
        let text = r#"{"data":{"a":3600.4,"b":"é"},"form":"k","options":{"unit":"元"},"version":"1"}"#;
        let sha = |t: &str| hex(&Sha256::digest(t)).to_ascii_uppercase();
        assert_eq!(fp(&plain, &json!({"unit": "元", "archive": true}), &[]), sha(text));
        let text = r#"{"assets":{"/assets/0.png":"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"},"data":{"seal":"/assets/0.png"},"form":"k","options":{},"version":"1"}"#;
        assert_eq!(seal(b"foo"), sha(text));
    }

    #[test]
    fn qr_payloads_read_back() {
        let fp = Fingerprint { hex: "AB".repeat(32) };
        let read = parse_qr(&fp.qr_payload(12)).unwrap();
        assert_eq!((read.hex.as_str(), read.page), (fp.hex.as_str(), Some(12)));
        assert_eq!(parse_qr(&format!("FP1:{}", fp.hex)).unwrap().page, None);
        for bad in
            ["FP1:", "FP2:00", &format!("FP1:{}:0", fp.hex), &format!("FP1:{}:x", fp.hex), &format!("FP1:{}:", fp.hex)]
        {
            assert!(parse_qr(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn printed_code_is_found() {
        assert_eq!(find_code("第 1 页\n校验码：1A2B-3C4D-5E6F-7A8B 共 4 页").as_deref(), Some("1A2B-3C4D-5E6F-7A8B"));
        assert_eq!(find_code("校验码: 1a2b - 3c4d-5e6f-7a8b").as_deref(), Some("1A2B-3C4D-5E6F-7A8B"));
        assert!(find_code("没有").is_none());
        // The form's text may mention the word, or even quote a code; the footer's comes last.
        let page = "目标：打印校验码并核对校验码：0000-0000-0000-0000 …… 校验码：1A2B-3C4D-5E6F-7A8B 第 1 页";
        assert_eq!(find_code(page).as_deref(), Some("1A2B-3C4D-5E6F-7A8B"));
        assert_eq!(find_code("校验码 校验码：1A2B-3C4D-5E6F-7A8B").as_deref(), Some("1A2B-3C4D-5E6F-7A8B"));
    }
}
