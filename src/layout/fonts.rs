//! Fonts: the bundled Noto CJK faces, installed fonts a form kind asks for,
//! and folders given with `--font-path`.
//!
//! The bundled faces are compiled into the binary, so `formpress` works from
//! any directory. Installed fonts are found with fontdb, but only the faces
//! whose family a form kind names (仿宋_GB2312, 方正小标宋简体, …) are loaded:
//! computing Typst's coverage table costs about a millisecond per CJK face.
//! fontdb also knows a face's localized family names, so a template may say
//! `仿宋_GB2312` as well as `FangSong_GB2312`.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use typst::foundations::Bytes;
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;

/// The faces that ship with formpress (see `fonts/README.md` for provenance).
const BUNDLED: &[(&str, &[u8])] = &[
    ("NotoSerifCJKsc-Regular.otf", include_bytes!("../../fonts/NotoSerifCJKsc-Regular.otf")),
    ("NotoSerifCJKsc-Bold.otf", include_bytes!("../../fonts/NotoSerifCJKsc-Bold.otf")),
    ("NotoSansCJKsc-Regular.otf", include_bytes!("../../fonts/NotoSansCJKsc-Regular.otf")),
    // Check boxes, arrows and other symbols real forms print (☑ ☐ ✔) that Noto CJK lacks.
    ("FormpressSymbols.ttf", include_bytes!("../../fonts/FormpressSymbols.ttf")),
];

/// A bundled face's bytes by its file name (the editor serves them as web fonts).
pub fn bundled_face(file: &str) -> Option<&'static [u8]> {
    BUNDLED.iter().find(|(name, _)| *name == file).map(|(_, bytes)| *bytes)
}

/// Typst's description of each bundled face (family, style, the characters it
/// covers), computed once and kept in `fonts/bundled-info.json`: working out
/// the coverage of the CJK faces took a fifth of a cold render. A test checks
/// the file against the faces (`FORMPRESS_WRITE_FONT_INFO=1` rewrites it).
fn bundled_info() -> Vec<FontInfo> {
    serde_json::from_str(include_str!("../../fonts/bundled-info.json")).expect("fonts/bundled-info.json is valid")
}

/// Where fonts come from besides the bundle.
#[derive(Debug, Clone, Default)]
pub struct FontOptions {
    /// Folders whose fonts are all added (`--font-path`).
    pub dirs: Vec<PathBuf>,
    /// Look for installed fonts of the families in `wanted`.
    pub system: bool,
    /// Family names that templates ask for (any language, any case).
    pub wanted: BTreeSet<String>,
}

/// One face Typst may load; parsed on first use.
struct Slot {
    data: Bytes,
    index: u32,
    source: Source,
    font: OnceLock<Option<Font>>,
}

/// Where a face comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Compiled into formpress (the file name in `fonts/`).
    Bundled(&'static str),
    /// An installed font or one from `--font-path`.
    File(PathBuf),
}

/// A face as `formpress fonts` lists it.
#[derive(Debug, Clone)]
pub struct Face {
    /// Its family names (an installed face is registered under each, e.g. 仿宋_GB2312 and FangSong_GB2312).
    pub families: Vec<String>,
    /// Weight and style, as Typst sees them (`400`, `700 italic`).
    pub variant: String,
    pub source: Source,
    /// Index of the face in a collection file.
    pub index: u32,
}

pub struct Fonts {
    book: LazyHash<FontBook>,
    slots: Vec<Slot>,
}

impl Fonts {
    pub fn load(options: &FontOptions) -> Fonts {
        let mut fonts = Fonts { book: LazyHash::new(FontBook::new()), slots: vec![] };
        let mut book = FontBook::new();
        let mut bundled_families = BTreeSet::new();
        for ((name, data), info) in BUNDLED.iter().zip(bundled_info()) {
            bundled_families.insert(info.family.to_lowercase());
            fonts.push(&mut book, info, Bytes::new(*data), 0, Source::Bundled(name));
        }
        if options.system || !options.dirs.is_empty() {
            fonts.load_installed(&mut book, options, &bundled_families);
        }
        fonts.book = LazyHash::new(book);
        fonts
    }

    fn push(&mut self, book: &mut FontBook, info: FontInfo, data: Bytes, index: u32, source: Source) {
        book.push(info);
        self.slots.push(Slot { data, index, source, font: OnceLock::new() });
    }

    fn load_installed(&mut self, book: &mut FontBook, options: &FontOptions, bundled: &BTreeSet<String>) {
        let mut db = fontdb::Database::new();
        let mut from_dirs = BTreeSet::new();
        for dir in &options.dirs {
            let before: BTreeSet<_> = db.faces().map(|f| f.id).collect();
            db.load_fonts_dir(dir);
            from_dirs.extend(db.faces().map(|f| f.id).filter(|id| !before.contains(id)));
        }
        if options.system {
            db.load_system_fonts();
        }
        let wanted: BTreeSet<String> = options.wanted.iter().map(|f| f.to_lowercase()).collect();
        // Directory order is not stable across machines; sort for reproducible output.
        let mut faces: Vec<_> = db
            .faces()
            .filter_map(|face| match &face.source {
                fontdb::Source::File(path) => Some((path.clone(), face)),
                _ => None,
            })
            // The bundled faces win over installed copies of the same family; skip those
            // before reading anything (an installed Noto CJK collection is 20–30 MB a file).
            .filter(|(_, face)| !face.families.iter().any(|(name, _)| bundled.contains(&name.to_lowercase())))
            .filter(|(_, face)| {
                from_dirs.contains(&face.id)
                    || face.families.iter().any(|(name, _)| wanted.contains(&name.to_lowercase()))
            })
            .collect();
        faces.sort_by(|a, b| (&a.0, a.1.index).cmp(&(&b.0, b.1.index)));

        let mut files: HashMap<PathBuf, Option<Bytes>> = HashMap::new();
        for (path, face) in faces {
            let data = files.entry(path.clone()).or_insert_with(|| read_font(&path)).clone();
            let Some(data) = data else { continue };
            let Some(info) = FontInfo::new(&data, face.index) else { continue };
            if bundled.contains(&info.family.to_lowercase()) {
                continue; // the bundled copy of this family wins, for reproducible output
            }
            // Register the face under each of its names (仿宋_GB2312 and FangSong_GB2312).
            let mut names: Vec<String> = vec![info.family.clone()];
            for (name, _) in &face.families {
                if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    names.push(name.clone());
                }
            }
            for name in names {
                let mut alias = info.clone();
                alias.family = name;
                self.push(book, alias, data.clone(), face.index, Source::File(path.clone()));
            }
        }
    }

    pub fn book(&self) -> &LazyHash<FontBook> {
        &self.book
    }

    pub fn font(&self, index: usize) -> Option<Font> {
        let slot = self.slots.get(index)?;
        slot.font.get_or_init(|| Font::new(slot.data.clone(), slot.index)).clone()
    }

    /// Every face found (bundled, installed ones a kind asks for, `--font-path`),
    /// each once with all its family names, in the order Typst sees them.
    pub fn faces(&self) -> Vec<Face> {
        let mut out: Vec<Face> = vec![];
        for (i, slot) in self.slots.iter().enumerate() {
            let Some(info) = self.book.info(i) else { continue };
            if let Some(face) = out.iter_mut().find(|f| f.source == slot.source && f.index == slot.index) {
                face.families.push(info.family.clone());
                continue;
            }
            let v = info.variant;
            let mut variant = v.weight.to_number().to_string();
            if v.style != typst::text::FontStyle::Normal {
                variant.push_str(&format!(" {:?}", v.style).to_lowercase());
            }
            out.push(Face {
                families: vec![info.family.clone()],
                variant,
                source: slot.source.clone(),
                index: slot.index,
            });
        }
        out
    }

    /// The family a list of preferred families (a kind's `fonts:` entry)
    /// resolves to, as Typst picks it: the first one there is a face of.
    pub fn resolve<'a>(&self, families: &'a [String]) -> Option<&'a str> {
        families.iter().map(String::as_str).find(|f| self.book.contains_family(&f.to_lowercase()))
    }

    /// Where the faces of a family come from.
    pub fn sources(&self, family: &str) -> Vec<&Source> {
        let mut out: Vec<&Source> = vec![];
        for (i, slot) in self.slots.iter().enumerate() {
            if self.book.info(i).is_some_and(|info| info.family.eq_ignore_ascii_case(family))
                && !out.contains(&&slot.source)
            {
                out.push(&slot.source);
            }
        }
        out
    }

    /// Whether some face can draw `c` (Typst falls back to any face that covers it).
    pub fn covers(&self, c: char) -> bool {
        (0..self.slots.len()).any(|i| self.book.info(i).is_some_and(|info| info.coverage.contains(c as u32)))
    }
}

/// Largest font file read (the biggest CJK collections are about 30 MB).
const MAX_FONT_BYTES: u64 = 128 << 20;

fn read_font(path: &Path) -> Option<Bytes> {
    crate::files::read::read(path, MAX_FONT_BYTES).ok().map(Bytes::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_info_matches_the_faces() {
        let live: Vec<FontInfo> = BUNDLED.iter().map(|(_, data)| FontInfo::new(data, 0).expect("a face")).collect();
        assert!(BUNDLED.iter().all(|(_, data)| FontInfo::iter(data).count() == 1), "one face per bundled file");
        if std::env::var_os("FORMPRESS_WRITE_FONT_INFO").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fonts/bundled-info.json");
            std::fs::write(path, serde_json::to_string(&live).unwrap()).unwrap();
        }
        assert!(
            bundled_info() == live,
            "fonts/bundled-info.json is stale: FORMPRESS_WRITE_FONT_INFO=1 cargo test --lib fonts"
        );
    }
}
