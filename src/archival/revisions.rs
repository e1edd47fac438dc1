//! The revisions of a PDF file: the file as first written and each
//! incremental update appended to it, found through the chain of
//! cross-reference sections (`startxref`, then each trailer's /Prev), never
//! by searching the file's text. A revision ends at the `%%EOF` that follows
//! its cross-reference section; the bytes up to there are the document as it
//! was then (what a signature over them signed).

use hayro_interpret::hayro_syntax::object::{Dict, FromBytes};

/// Revisions followed at most (a hostile chain of /Prev stops here).
const MAX_REVISIONS: usize = 64;

/// A cross-reference section: where it starts, whether it is a stream (else
/// a table), and its trailer dictionary.
pub struct Section<'a> {
    pub at: usize,
    pub stream: bool,
    pub trailer: Dict<'a>,
}

/// The offset the file's last `startxref` names.
pub fn last_startxref(pdf: &[u8]) -> Option<usize> {
    let from = pdf.len().saturating_sub(2048);
    let at = find_last(&pdf[from..], b"startxref")? + from;
    number_after(pdf, at + b"startxref".len())
}

/// The cross-reference section at `at`, with its trailer.
pub fn section_at(pdf: &[u8], at: usize) -> Option<Section<'_>> {
    let section = pdf.get(at..)?;
    let stream = !section.starts_with(b"xref");
    let dict_at = if stream {
        find(section.get(..section.len().min(256))?, b"<<")
    } else {
        find(section, b"trailer").and_then(|t| find(&section[t..], b"<<").map(|d| t + d))
    }?;
    let trailer = Dict::from_bytes(&section[dict_at..])?;
    Some(Section { at, stream, trailer })
}

/// Where each revision ends (just after its `%%EOF` and line end), oldest
/// first. Empty when the chain cannot be read from the end of the file.
pub fn ends(pdf: &[u8]) -> Vec<usize> {
    let mut out = vec![];
    let mut next = last_startxref(pdf);
    let mut seen = vec![];
    while let Some(at) = next {
        if seen.contains(&at) || seen.len() >= MAX_REVISIONS {
            break;
        }
        seen.push(at);
        let Some(section) = section_at(pdf, at) else { break };
        if let Some(end) = find(&pdf[at..], b"%%EOF").map(|e| at + e + b"%%EOF".len()) {
            out.push(end + line_end(&pdf[end..]));
        }
        next = section.trailer.get::<i64>(b"Prev").and_then(|p| usize::try_from(p).ok());
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The length of the line end at the start of `rest` (CR LF, LF or CR).
fn line_end(rest: &[u8]) -> usize {
    match rest {
        [b'\r', b'\n', ..] => 2,
        [b'\n' | b'\r', ..] => 1,
        _ => 0,
    }
}

fn number_after(pdf: &[u8], at: usize) -> Option<usize> {
    let digits: String = pdf
        .get(at..)?
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| b as char)
        .collect();
    digits.parse().ok()
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_followed_through_prev() {
        let first = b"%PDF-1.7\n1 0 obj<<>>endobj\nxref\n0 1\n0000000000 65535 f\r\ntrailer\n<</Size 2/Root 1 0 R>>\nstartxref\n27\n%%EOF\n";
        let mut pdf = first.to_vec();
        let second_at = pdf.len();
        pdf.extend_from_slice(b"xref\n0 1\n0000000000 65535 f\r\ntrailer\n<</Size 2/Root 1 0 R/Prev 27>>\nstartxref\n");
        pdf.extend_from_slice(format!("{second_at}\n%%EOF\r\n").as_bytes());
        assert_eq!(ends(&pdf), vec![first.len(), pdf.len()]);
        // Text that looks like structure inside an object is not a revision.
        assert_eq!(ends(first), vec![first.len()]);
        assert!(ends(b"no pdf").is_empty());
    }
}
