//! The form's fingerprint: a SHA-256 over a canonical serialisation of the
//! checked form data, printed on every page as a short 校验码 and in a QR
//! code, so a stamped paper copy can be tied to the data it came from.
//!
//! Canonical form (documented in the README): the JSON text of
//! `{"assets": {<path>: <sha256>}, "data": <form data>, "form": <kind id>}`
//! where the form data is the checked data (every field of the kind, defaults
//! filled in, text normalised, amounts as numbers, a picture as the path the
//! template reads it from, `/assets/0.png`), `assets` maps each such path to
//! the SHA-256 of the picture's bytes in lower-case hex and is left out when
//! the form has no pictures, object keys are sorted by code point, there is no
//! whitespace, strings are escaped as JSON does (non-ASCII kept as UTF-8), and
//! numbers are written as serde_json writes them (`2020`, `3600.4`, `100.0`).
//! Comments, key order, quoting and number formatting in the YAML do not
//! change it; any changed value or picture does.

use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// The start of every QR payload: format version 1.
pub const QR_PREFIX: &str = "FP1:";

/// Modules of white around the code in the picture (the page around it is white too).
const QUIET: usize = 2;

/// Side of one QR module on paper.
pub const QR_MODULE_MM: f64 = 0.55;

pub struct Fingerprint {
    /// 64 hex digits.
    pub hex: String,
}

impl Fingerprint {
    /// `assets` are the pictures the data refers to, by the path in the data.
    /// Their bytes shape the page as much as the text does, so a swapped seal
    /// changes the code. Without pictures the key is left out, which keeps
    /// the codes of forms without pictures what they always were.
    pub fn of(kind: &str, data: &Json, assets: &[(String, Vec<u8>)]) -> Fingerprint {
        let mut view = serde_json::json!({ "form": kind, "data": data });
        if !assets.is_empty() {
            let hashes = assets.iter().map(|(path, bytes)| (path.clone(), Json::String(hex(&Sha256::digest(bytes)))));
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

    /// What the QR code holds: `FP1:` (format version 1) and the full hash
    /// in upper-case hex, whose first 16 digits are the 校验码. Short and in
    /// QR's alphanumeric alphabet, so the code stays small enough for modules
    /// of about 0.45 mm, which office scans at 150–300 dpi read back.
    pub fn qr_payload(&self) -> String {
        format!("{QR_PREFIX}{}", self.hex)
    }
}

/// The QR code as Typst markup: a box of filled rectangles, one per run of
/// dark modules in a row. Vectors print and scan crisply at any resolution,
/// where a small picture gets blurred by scaling.
pub fn qr_markup(payload: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::Q).ok()?;
    let n = code.width();
    let colors = code.to_colors();
    let m = QR_MODULE_MM;
    let side = (n + 2 * QUIET) as f64 * m;
    let mut out = format!("box(width: {side:.3}mm, height: {side:.3}mm, {{\n");
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if colors[y * n + x] != qrcode::Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < n && colors[y * n + x] == qrcode::Color::Dark {
                x += 1;
            }
            // A hair taller than a module, so rows meet without a seam.
            let _ = writeln!(
                out,
                "  place(dx: {:.3}mm, dy: {:.3}mm, rect(width: {:.3}mm, height: {:.3}mm, fill: black, stroke: none))",
                (start + QUIET) as f64 * m,
                (y + QUIET) as f64 * m,
                (x - start) as f64 * m,
                m + 0.02
            );
        }
    }
    out.push_str("})");
    Some(out)
}

/// The QR code as a 1-bit PNG, one pixel per module with a `QUIET`-module quiet
/// zone (templates scale it up with `scaling: "pixelated"`). A bitmap is a few
/// hundred bytes; the same code as vector paths adds ~50 KB to a 4-page PDF.
pub fn qr_png(payload: &str) -> Option<Vec<u8>> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::Q).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let size = modules + 2 * QUIET;
    let row_bytes = size.div_ceil(8);
    let mut pixels = vec![0xFFu8; row_bytes * size];
    for y in 0..modules {
        for x in 0..modules {
            if colors[y * modules + x] == qrcode::Color::Dark {
                let (px, py) = (x + QUIET, y + QUIET);
                pixels[py * row_bytes + px / 8] &= !(0x80 >> (px % 8));
            }
        }
    }
    let mut out = vec![];
    let mut encoder = png::Encoder::new(&mut out, size as u32, size as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().ok()?;
    writer.write_image_data(&pixels).ok()?;
    writer.finish().ok()?;
    Some(out)
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

/// Whether a page's text is that of a draft.
pub fn is_draft(text: &str) -> bool {
    let squashed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    squashed.contains(DRAFT_MARK)
}

/// Lower-case hex digits of a digest.
fn hex(bytes: &[u8]) -> String {
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

    #[test]
    fn key_order_does_not_matter_values_do() {
        let a = Fingerprint::of("k", &json!({"b": 1, "a": [1.5, "x"]}), &[]);
        let b = Fingerprint::of("k", &json!({"a": [1.5, "x"], "b": 1}), &[]);
        let c = Fingerprint::of("k", &json!({"a": [1.6, "x"], "b": 1}), &[]);
        assert_eq!(a.hex, b.hex);
        assert_ne!(a.hex, c.hex);
        assert_eq!(a.code().len(), 19);
    }

    #[test]
    fn pictures_are_part_of_the_code() {
        let data = json!({"seal": "/assets/0.png"});
        let seal = |bytes: &[u8]| Fingerprint::of("k", &data, &[("/assets/0.png".into(), bytes.to_vec())]).hex;
        assert_ne!(seal(b"one seal"), seal(b"another seal"));
        assert_ne!(seal(b"one seal"), Fingerprint::of("k", &data, &[]).hex);
        // The documented canonical text, for a form without and with a picture.
        let plain = json!({"b": "é", "a": 3600.4});
        let text = r#"{"data":{"a":3600.4,"b":"é"},"form":"k"}"#;
        assert_eq!(Fingerprint::of("k", &plain, &[]).hex, hex(&Sha256::digest(text)).to_ascii_uppercase());
        let text = r#"{"assets":{"/assets/0.png":"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"},"data":{"seal":"/assets/0.png"},"form":"k"}"#;
        assert_eq!(seal(b"foo"), hex(&Sha256::digest(text)).to_ascii_uppercase());
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
