//! The Typst World: it resolves the generated main file, the assets we
//! register (images, attachments) and fonts. Nothing else: there is no path
//! from a template to the host file system, and no packages or network.

use std::collections::HashMap;
use std::sync::OnceLock;
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{DiagSpan, FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};

use crate::layout::fonts::Fonts;
use crate::layout::qr::PageCodes;

/// Virtual path of the generated markup.
pub const MAIN_PATH: &str = "/main.typ";

/// The interner behind FileId never frees, so ids are made once per path.
fn file_id(path: &str) -> Option<FileId> {
    let vpath = VirtualPath::new(path).ok()?;
    Some(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

pub fn main_id() -> FileId {
    static MAIN: OnceLock<FileId> = OnceLock::new();
    *MAIN.get_or_init(|| file_id(MAIN_PATH).expect("valid main path"))
}

/// The standard library; built once per process.
pub fn library() -> &'static LazyHash<Library> {
    static LIB: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIB.get_or_init(|| LazyHash::new(Library::default()))
}

/// One compilation: generated markup plus registered assets.
pub struct FormWorld<'a> {
    fonts: &'a Fonts,
    main: Source,
    files: HashMap<FileId, Bytes>,
    today: Datetime,
    /// The per-page QR codes the World draws on request.
    page_codes: Option<&'a PageCodes>,
}

impl<'a> FormWorld<'a> {
    pub fn new(fonts: &'a Fonts, markup: String, today: Datetime) -> Self {
        Self::with_source(fonts, Source::new(main_id(), markup), today)
    }

    /// A World whose main file starts as `main`, the markup of an earlier
    /// compilation: `replace_main` then edits only what differs.
    pub fn with_source(fonts: &'a Fonts, main: Source, today: Datetime) -> Self {
        FormWorld { fonts, main, files: HashMap::new(), today, page_codes: None }
    }

    /// The main file, to start the next compilation from.
    pub fn into_source(self) -> Source {
        self.main
    }

    /// Makes `bytes` readable by the template at `path` (e.g. `/assets/seal.png`).
    pub fn add_file(&mut self, path: &str, bytes: Bytes) {
        if let Some(id) = file_id(path) {
            self.files.insert(id, bytes);
        }
    }

    /// Serves the QR code of page n at `/assets/qr/<n>.svg` for the
    /// fingerprint `hex`. Pages are only known during layout, so the codes
    /// are drawn when the footer asks for them, for however many pages there are.
    pub fn serve_page_codes(&mut self, codes: &'a PageCodes) {
        self.page_codes = Some(codes);
    }

    /// Replaces the generated markup by editing only the lines that changed.
    ///
    /// Typst reparses an edit inside the innermost block around it and keeps
    /// the spans of everything else; unchanged cells then hash the same and
    /// their layouts are reused from the previous pass (templates wrap each
    /// table row in a block for this). One edit over the whole changed range
    /// would renumber every row between the first change and the last.
    pub fn replace_main(&mut self, markup: &str) {
        let old = self.main.text();
        if old.is_empty() {
            self.main.replace(markup);
            return;
        }
        let offsets = |text: &str| -> Vec<usize> {
            let mut at = vec![0];
            at.extend(text.match_indices('\n').map(|(i, _)| i + 1));
            if *at.last().unwrap() != text.len() {
                at.push(text.len());
            }
            at
        };
        let (old_at, new_at) = (offsets(old), offsets(markup));
        let old_lines: Vec<&str> = old_at.windows(2).map(|w| &old[w[0]..w[1]]).collect();
        let new_lines: Vec<&str> = new_at.windows(2).map(|w| &markup[w[0]..w[1]]).collect();
        let hunks = line_hunks(&old_lines, &new_lines);
        for (from, to) in hunks.into_iter().rev() {
            let range = old_at[from.start]..old_at[from.end];
            self.main.edit(range, &markup[new_at[to.start]..new_at[to.end]]);
        }
        if self.main.text() != markup {
            self.main.replace(markup);
        }
    }

    pub fn main_source(&self) -> &Source {
        &self.main
    }

    /// 1-based line and column of a span in the generated markup.
    pub fn locate(&self, span: DiagSpan) -> Option<(usize, usize)> {
        let id = span.id()?;
        let range = self.range(span)?;
        let source = self.source(id).ok()?;
        let (line, col) = source.lines().byte_to_line_column(range.start)?;
        Some((line + 1, col + 1))
    }
}

impl World for FormWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }
    fn book(&self) -> &LazyHash<FontBook> {
        self.fonts.book()
    }
    fn main(&self) -> FileId {
        main_id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == main_id() {
            return Ok(self.main.clone());
        }
        let bytes = self.file(id)?;
        let text = std::str::from_utf8(bytes.as_slice()).map_err(|_| FileError::InvalidUtf8)?;
        Ok(Source::new(id, text.to_owned()))
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == main_id() {
            return Ok(Bytes::from_string(self.main.text().to_owned()));
        }
        if let Some(bytes) = self.files.get(&id) {
            return Ok(bytes.clone());
        }
        let path = id.vpath().get_with_slash();
        if let (Some(codes), Some(page)) = (self.page_codes, page_code_number(path))
            && let Some(svg) = codes.svg(page)
        {
            return Ok(Bytes::from_string(svg));
        }
        Err(FileError::NotFound(path.into()))
    }
    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

/// The page number in `/assets/qr/<n>.svg`.
fn page_code_number(path: &str) -> Option<usize> {
    let n = path.strip_prefix(crate::layout::qr::QR_DIR)?.strip_suffix(".svg")?;
    if n.is_empty() || n.len() > 5 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|&n: &usize| n >= 1)
}

/// The changed stretches between two texts' lines: pairs of line ranges, old
/// and new. A greedy diff: after a difference it resumes at the nearest place
/// where three lines agree again, which suits passes that change a few rows.
fn line_hunks(old: &[&str], new: &[&str]) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    const AGREE: usize = 3;
    const REACH: usize = 400;
    let agree = |i: usize, j: usize| (0..AGREE).all(|k| old.get(i + k) == new.get(j + k));
    let mut hunks = vec![];
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < new.len() {
        if old[i] == new[j] {
            i += 1;
            j += 1;
            continue;
        }
        let resync = (1..=REACH).find_map(|d| {
            (0..=d).map(|a| (i + a, j + d - a)).find(|&(a, b)| a < old.len() && b < new.len() && agree(a, b))
        });
        let Some((a, b)) = resync else { break };
        hunks.push((i..a, j..b));
        (i, j) = (a, b);
    }
    if i < old.len() || j < new.len() {
        hunks.push((i..old.len(), j..new.len()));
    }
    hunks
}

#[cfg(test)]
mod tests {
    use super::line_hunks;

    #[test]
    fn hunks_cover_each_change_alone() {
        let old = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"];
        let new = ["a", "B", "c", "d", "e", "f", "x", "g", "h", "i", "j", "k", "l"];
        assert_eq!(line_hunks(&old, &new), vec![(1..2, 1..2), (6..6, 6..7), (11..11, 12..13)]);
        assert_eq!(line_hunks(&old, &old), vec![]);
        // Changes closer than three lines are one stretch.
        assert_eq!(line_hunks(&["a", "b", "c", "d"], &["a", "B", "c", "D"]), vec![(1..4, 1..4)]);
    }
}
