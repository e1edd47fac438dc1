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

use crate::fonts::Fonts;

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
    /// The fingerprint whose per-page QR codes the World draws on request.
    page_codes: Option<String>,
}

impl<'a> FormWorld<'a> {
    pub fn new(fonts: &'a Fonts, markup: String, today: Datetime) -> Self {
        FormWorld { fonts, main: Source::new(main_id(), markup), files: HashMap::new(), today, page_codes: None }
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
    pub fn serve_page_codes(&mut self, hex: String) {
        self.page_codes = Some(hex);
    }

    /// Replaces the generated markup, keeping the spans of unchanged parts.
    pub fn replace_main(&mut self, markup: &str) {
        self.main.replace(markup);
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
        if let (Some(hex), Some(page)) = (&self.page_codes, page_code_number(&path)) {
            if let Some(svg) = crate::fingerprint::qr_file(hex, page) {
                return Ok(Bytes::from_string(svg));
            }
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
    let n = path.strip_prefix(crate::fingerprint::QR_DIR)?.strip_suffix(".svg")?;
    if n.is_empty() || n.len() > 5 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|&n: &usize| n >= 1)
}
