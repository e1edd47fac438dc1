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
}

impl<'a> FormWorld<'a> {
    pub fn new(fonts: &'a Fonts, markup: String, today: Datetime) -> Self {
        FormWorld { fonts, main: Source::new(main_id(), markup), files: HashMap::new(), today }
    }

    /// Makes `bytes` readable by the template at `path` (e.g. `/assets/seal.png`).
    pub fn add_file(&mut self, path: &str, bytes: Bytes) {
        if let Some(id) = file_id(path) {
            self.files.insert(id, bytes);
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
        self.files.get(&id).cloned().ok_or_else(|| FileError::NotFound(id.vpath().get_with_slash().into()))
    }
    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}
