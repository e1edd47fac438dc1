//! The form's fingerprint: a SHA-256 over a canonical serialisation of the
//! checked form data, printed on every page as a short 校验码 and in a QR
//! code, so a stamped paper copy can be tied to the data it came from.
//!
//! Canonical form (documented in the README): the JSON text of
//! `{"data": <form data>, "form": <kind id>}` where the form data is the
//! checked data (every field of the kind, defaults filled in, text normalised,
//! amounts as numbers), object keys are sorted by code point, there is no
//! whitespace, strings are escaped as JSON does (non-ASCII kept as UTF-8), and
//! numbers are written as serde_json writes them (`2020`, `3600.4`, `100.0`).
//! Comments, key order, quoting and number formatting in the YAML do not
//! change it; any changed value does.

use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

pub struct Fingerprint {
    /// 64 hex digits.
    pub hex: String,
}

impl Fingerprint {
    pub fn of(kind: &str, data: &Json) -> Fingerprint {
        let mut text = String::new();
        canonical(&serde_json::json!({ "form": kind, "data": data }), &mut text);
        let digest = Sha256::digest(text.as_bytes());
        let mut hex = String::with_capacity(64);
        for b in digest {
            let _ = write!(hex, "{b:02X}");
        }
        Fingerprint { hex }
    }

    /// The printed 校验码: the first 16 hex digits in groups of 4.
    pub fn code(&self) -> String {
        let head = &self.hex[..16];
        [&head[0..4], &head[4..8], &head[8..12], &head[12..16]].join("-")
    }

    /// What the QR code holds: kind, the identifying fields, the full hash.
    pub fn qr_payload(&self, kind: &str, identity: &[String]) -> String {
        let mut parts = vec!["formpress".to_string(), kind.to_string()];
        parts.extend(identity.iter().cloned());
        parts.push(format!("sha256:{}", self.hex));
        parts.join("|")
    }
}

/// The QR code as a 1-bit PNG, one pixel per module with the 4-module quiet
/// zone (templates scale it up with `scaling: "pixelated"`). A bitmap is a few
/// hundred bytes; the same code as vector paths adds ~50 KB to a 4-page PDF.
pub fn qr_png(payload: &str) -> Option<Vec<u8>> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let size = modules + 8;
    let row_bytes = size.div_ceil(8);
    let mut pixels = vec![0xFFu8; row_bytes * size];
    for y in 0..modules {
        for x in 0..modules {
            if colors[y * modules + x] == qrcode::Color::Dark {
                let (px, py) = (x + 4, y + 4);
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

/// Finds a printed 校验码 (`XXXX-XXXX-XXXX-XXXX`) after the label in `text`.
pub fn find_code(text: &str) -> Option<String> {
    let squashed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let at = squashed.find("校验码")?;
    let rest = squashed[at + "校验码".len()..].trim_start_matches(['：', ':']);
    let code: String = rest.chars().take(19).collect();
    let valid = code.len() == 19
        && code.chars().enumerate().all(|(i, c)| if i % 5 == 4 { c == '-' } else { c.is_ascii_hexdigit() });
    valid.then(|| code.to_ascii_uppercase())
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
        let a = Fingerprint::of("k", &json!({"b": 1, "a": [1.5, "x"]}));
        let b = Fingerprint::of("k", &json!({"a": [1.5, "x"], "b": 1}));
        let c = Fingerprint::of("k", &json!({"a": [1.6, "x"], "b": 1}));
        assert_eq!(a.hex, b.hex);
        assert_ne!(a.hex, c.hex);
        assert_eq!(a.code().len(), 19);
    }

    #[test]
    fn printed_code_is_found() {
        assert_eq!(find_code("第 1 页\n校验码：1A2B-3C4D-5E6F-7A8B 共 4 页").as_deref(), Some("1A2B-3C4D-5E6F-7A8B"));
        assert_eq!(find_code("校验码: 1a2b - 3c4d-5e6f-7a8b").as_deref(), Some("1A2B-3C4D-5E6F-7A8B"));
        assert!(find_code("没有").is_none());
    }
}
