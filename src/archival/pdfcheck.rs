//! Limits a PDF must meet before the PDF reader sees it (for `extract` and
//! `verify`). hayro parses nested arrays and dictionaries recursively and
//! inflates streams without a bound, so a small hostile file could overflow
//! the stack or take gigabytes. This pass walks the bytes iteratively: it
//! measures nesting, counts objects, and inflates every compressed stream
//! into a bounded buffer (scanning its contents too: object streams hold
//! objects, content streams hold arrays).

use std::io::Read;

/// Deepest nesting of arrays and dictionaries (formpress's PDFs stay below 10).
pub const MAX_DEPTH: usize = 64;
/// Largest stream once inflated (an attachment is a form, at most 64 MB).
pub const MAX_STREAM_BYTES: u64 = 64 << 20;
/// All streams together once inflated.
pub const MAX_TOTAL_BYTES: u64 = 256 << 20;
pub const MAX_OBJECTS: usize = 1_000_000;
/// Page-tree nodes (`/Pages`): hayro walks the tree recursively through
/// references, so a chain of nodes is nesting the bracket count cannot see.
/// Typst writes one; a balanced tree of 10 000 pages has about a thousand.
pub const MAX_PAGE_NODES: usize = 256;

#[derive(Debug, PartialEq, Eq)]
pub enum PdfLimit {
    Depth,
    Stream,
    Total,
    Objects,
    PageTree,
    /// A filter formpress never writes that can expand without bound.
    Filter(String),
}

impl std::fmt::Display for PdfLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            PdfLimit::Depth => write!(f, "PDF 的数组或字典嵌套超过 {MAX_DEPTH} 层，不予读取"),
            PdfLimit::Stream => write!(f, "PDF 中有数据流解压后超过 {} MB，不予读取", MAX_STREAM_BYTES >> 20),
            PdfLimit::Total => write!(f, "PDF 的数据流解压后共超过 {} MB，不予读取", MAX_TOTAL_BYTES >> 20),
            PdfLimit::Objects => write!(f, "PDF 的对象超过 {MAX_OBJECTS} 个，不予读取"),
            PdfLimit::PageTree => write!(f, "PDF 的页面树节点超过 {MAX_PAGE_NODES} 个，不予读取"),
            PdfLimit::Filter(name) => write!(f, "PDF 使用了不支持的压缩方式 /{name}"),
        }
    }
}

impl std::error::Error for PdfLimit {}

struct Budget {
    inflated: u64,
    objects: usize,
    page_nodes: usize,
}

/// Checks the whole file, streams included.
pub fn check(bytes: &[u8]) -> Result<(), PdfLimit> {
    scan(bytes, &mut Budget { inflated: 0, objects: 0, page_nodes: 0 }, true)
}

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || b"()<>[]{}/%".contains(&b) || b == 0
}

/// One pass over PDF syntax. `file` is true for the file itself, where
/// `stream` starts raw data; inside a decoded stream there are none.
fn scan(data: &[u8], budget: &mut Budget, file: bool) -> Result<(), PdfLimit> {
    let mut depth = 0usize;
    let mut i = 0;
    let token_start = |i: usize| i == 0 || is_delimiter(data[i - 1]);
    while i < data.len() {
        match data[i] {
            b'%' => {
                while i < data.len() && data[i] != b'\n' && data[i] != b'\r' {
                    i += 1;
                }
            }
            // A literal string: balanced parentheses, backslash escapes.
            b'(' => {
                let mut parens = 0usize;
                while i < data.len() {
                    match data[i] {
                        b'\\' => i += 1,
                        b'(' => parens += 1,
                        b')' => {
                            parens -= 1;
                            if parens == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            b'<' if data.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 2;
            }
            // A hex string.
            b'<' => {
                while i < data.len() && data[i] != b'>' {
                    i += 1;
                }
                i += 1;
            }
            b'>' if data.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 2;
            }
            b'[' => {
                depth += 1;
                i += 1;
            }
            b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'/' => {
                let start = i + 1;
                i = start;
                while i < data.len() && !is_delimiter(data[i]) {
                    i += 1;
                }
                let name = &data[start..i];
                if [&b"LZWDecode"[..], b"LZW", b"RunLengthDecode", b"RL"].contains(&name) {
                    return Err(PdfLimit::Filter(String::from_utf8_lossy(name).into_owned()));
                }
                if name == b"Pages" {
                    budget.page_nodes += 1;
                    if budget.page_nodes > MAX_PAGE_NODES {
                        return Err(PdfLimit::PageTree);
                    }
                }
            }
            b'o' if data[i..].starts_with(b"obj") && token_start(i) => {
                budget.objects += 1;
                if budget.objects > MAX_OBJECTS {
                    return Err(PdfLimit::Objects);
                }
                i += 3;
            }
            b's' if file && data[i..].starts_with(b"stream") && token_start(i) => {
                let mut start = i + 6;
                if data.get(start) == Some(&b'\r') {
                    start += 1;
                }
                if data.get(start) == Some(&b'\n') {
                    start += 1;
                }
                let end = find(&data[start..], b"endstream").map_or(data.len(), |n| start + n);
                inflate_and_scan(&data[start.min(end)..end], budget)?;
                i = end + 9;
            }
            _ => i += 1,
        }
        if depth > MAX_DEPTH {
            return Err(PdfLimit::Depth);
        }
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Inflates a stream's raw data if it is compressed (zlib, or raw deflate as
/// lenient readers accept), within the limits, and scans what comes out.
/// Data that does not inflate (pictures, fonts stored plain) is left alone.
fn inflate_and_scan(raw: &[u8], budget: &mut Budget) -> Result<(), PdfLimit> {
    let zlib = raw.len() >= 2 && raw[0] & 0x0F == 8 && u16::from_be_bytes([raw[0], raw[1]]).is_multiple_of(31);
    let reader: Box<dyn Read> = if zlib {
        Box::new(flate2::read::ZlibDecoder::new(raw))
    } else {
        Box::new(flate2::read::DeflateDecoder::new(raw))
    };
    let mut out = Vec::new();
    // Whatever inflates before an error counts: a reader may use it too.
    let _ = reader.take(MAX_STREAM_BYTES + 1).read_to_end(&mut out);
    if out.len() as u64 > MAX_STREAM_BYTES {
        return Err(PdfLimit::Stream);
    }
    budget.inflated += out.len() as u64;
    if budget.inflated > MAX_TOTAL_BYTES {
        return Err(PdfLimit::Total);
    }
    scan(&out, budget, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        assert_eq!(check(&[b'['; 100]), Err(PdfLimit::Depth));
        assert_eq!(check(b"(]]]]]]]]]]]) [[[[ % ]]]]]]\n ]]]]"), Ok(()));
        let mut hidden = b"(]]]]]]]]".to_vec();
        hidden.extend_from_slice(b") ");
        hidden.extend_from_slice(&[b'['; 70]);
        assert_eq!(check(&hidden), Err(PdfLimit::Depth));
    }

    #[test]
    fn a_deflate_bomb_is_refused() {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..65 {
            z.write_all(&zeros).unwrap();
        }
        let mut pdf = b"1 0 obj <</Filter /FlateDecode>> stream\n".to_vec();
        pdf.extend(z.finish().unwrap());
        pdf.extend_from_slice(b"\nendstream endobj");
        assert_eq!(check(&pdf), Err(PdfLimit::Stream));
    }
}
