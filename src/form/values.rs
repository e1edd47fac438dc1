//! How values are written: text as the page prints it, and computed amounts.

/// Tabs become spaces, line ends become `\n`, other control characters go:
/// Typst renders tabs invisibly and control characters as tofu.
pub fn normalize(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    s.chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            '\n' => Some('\n'),
            '\u{2028}' | '\u{2029}' => Some('\n'),
            c if c.is_control() => None,
            // Bidi overrides could visually reorder a printed amount.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => None,
            c => Some(c),
        })
        .collect()
}

/// A computed amount as printed: `decimals` exactly, or the shortest form
/// to six decimals.
pub fn format_amount(x: f64, decimals: Option<u32>) -> String {
    match decimals {
        Some(d) => format!("{:.*}", d as usize, x),
        None => {
            // Shortest form to six decimals, so a sum of typed amounts keeps their
            // digits (89.974 + 10 → 99.974) and float noise (0.30000000000000004) goes.
            let s = format!("{:.6}", x);
            let s = s.trim_end_matches('0').trim_end_matches('.');
            if s == "-0" { "0".into() } else { s.to_string() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(format_amount(3600.4, None), "3600.4");
        assert_eq!(format_amount(12.0, None), "12");
        assert_eq!(format_amount(0.05, None), "0.05");
        assert_eq!(format_amount(3600.4, Some(2)), "3600.40");
    }
}
