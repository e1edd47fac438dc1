//! The little XML the package needs, written directly: every document is a
//! fixed shape of elements, so a writer crate would only add build time.

use std::fmt::Write;

/// The OFD namespace (GB/T 33190—2016).
pub const NS: &str = "http://www.ofdspec.org/2016";

/// Text escaped for element content and attribute values. Characters XML 1.0
/// cannot carry (controls other than tab and line breaks) are left out: the
/// layout never draws them.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A length in millimetres, to the micrometre, without trailing zeros: the
/// same layout always gives the same digits.
pub fn num(v: f64) -> String {
    let r = (v * 1000.0).round() / 1000.0;
    if r == 0.0 || !r.is_finite() {
        return "0".into();
    }
    let s = format!("{r:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Numbers separated by spaces (Boundary, CTM, DeltaX).
pub fn nums(values: impl IntoIterator<Item = f64>) -> String {
    values.into_iter().map(num).collect::<Vec<_>>().join(" ")
}

/// The XML declaration every part starts with.
pub const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(210.0), "210");
        assert_eq!(num(3.70416666), "3.704");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(num(-1.5), "-1.5");
        assert_eq!(nums([0.0, 0.5, 297.0]), "0 0.5 297");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert_eq!(escape("x\u{1}y\tz"), "xy&#9;z");
    }
}
