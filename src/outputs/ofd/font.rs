//! Fonts embedded in the package: each face the pages use, cut down to the
//! glyphs they draw (typst's own subsetter, the one its PDFs use) and given
//! back a character map. OFD readers find a glyph by looking the TextCode's
//! characters up in the embedded font's `cmap` (unless a CGTransform names
//! the glyphs), so the map is what makes the text both drawable and
//! selectable; the subsetter drops it (PDF carries its own), so it is built
//! here from the characters each glyph was shaped from.

use std::collections::BTreeMap;

use subsetter::GlyphRemapper;
use typst::text::Font;
use write_fonts::FontBuilder;
use write_fonts::tables::cmap::Cmap;
use write_fonts::types::{GlyphId, Tag};

/// One face as the pages use it.
pub struct FaceUse {
    pub font: Font,
    /// The resource ID of the font in PublicRes.xml.
    pub id: u32,
    /// Old glyph id → id in the embedded subset, in the order first drawn.
    remapper: GlyphRemapper,
    /// Character → glyph in the subset: the first glyph a character was drawn with.
    cmap: BTreeMap<char, u16>,
}

impl FaceUse {
    pub fn new(font: Font, id: u32) -> FaceUse {
        FaceUse { font, id, remapper: GlyphRemapper::new(), cmap: BTreeMap::new() }
    }

    /// The glyph's id in the embedded subset.
    pub fn glyph(&mut self, old: u16) -> u16 {
        self.remapper.remap(old)
    }

    /// Records that `c` is drawn with subset glyph `new`; false when the map
    /// already sends `c` to another glyph (that run then needs a CGTransform).
    pub fn maps(&mut self, c: char, new: u16) -> bool {
        *self.cmap.entry(c).or_insert(new) == new
    }

    /// A table of the face as stored.
    fn table(&self, tag: &[u8; 4]) -> Option<&[u8]> {
        let raw = ttf_parser::RawFace::parse(self.font.data().as_slice(), self.font.index()).ok()?;
        raw.table(ttf_parser::Tag::from_bytes(tag))
    }

    /// Whether the face's outlines are CFF (an .otf file) rather than TrueType.
    pub fn is_cff(&self) -> bool {
        self.table(b"CFF ").is_some()
    }

    /// The PostScript name, else the family name.
    pub fn postscript_name(&self) -> String {
        self.font.post_script_name().unwrap_or_else(|| self.font.info().family.clone())
    }

    /// The subset font file: the drawn glyphs, with `cmap` and `OS/2` (kept
    /// from the face; readers on Windows want it).
    pub fn embed(&self) -> Result<Vec<u8>, String> {
        let subset = subsetter::subset(self.font.data().as_slice(), self.font.index(), &self.remapper)
            .map_err(|e| format!("字体 {} 无法子集化：{e}", self.font.info().family))?;
        let cmap = Cmap::from_mappings(self.cmap.iter().map(|(&c, &g)| (c, GlyphId::new(u32::from(g)))))
            .map_err(|e| format!("字体 {} 的字符映射冲突：{e}", self.font.info().family))?;
        let raw = ttf_parser::RawFace::parse(&subset, 0).map_err(|e| format!("子集字体无法读取：{e}"))?;
        let mut builder = FontBuilder::new();
        for record in raw.table_records {
            if let Some(data) = raw.table(record.tag) {
                builder.add_raw(Tag::new(&record.tag.to_bytes()), data.to_vec());
            }
        }
        builder.add_table(&cmap).map_err(|e| format!("字符映射表无法写出：{e}"))?;
        if let Some(os2) = self.table(b"OS/2") {
            builder.add_raw(Tag::new(b"OS/2"), os2.to_vec());
        }
        Ok(builder.build())
    }
}
