"""Makes the bundled font subsets from Debian's fonts-noto-cjk package.

    apt-get install fonts-noto-cjk python3-fonttools   # or: pip install fonttools
    python3 fonts/subset.py /usr/share/fonts/opentype/noto fonts/

Each output is the Simplified Chinese (SC) face of a Noto CJK collection,
subset with fontTools to the characters formpress bundles:
  body  (Noto Serif CJK SC Regular): every character the SC face maps, except Hangul;
  title (Noto Serif CJK SC Bold) and heading (Noto Sans CJK SC Regular):
        GB 2312 plus Latin, punctuation and full-width forms.
Characters missing from the title and heading faces fall back to the body face.
Layout features for other regions (locl) and vertical text (vert, vrt2) are
dropped; glyph outlines are unchanged.
"""
import sys
from fontTools import subset
from fontTools.ttLib import TTCollection

HANGUL = [(0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7AF), (0xD7B0, 0xD7FF)]

FACES = [
    # collection, family, character set, output
    ("NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC", "all", "NotoSerifCJKsc-Regular.otf"),
    ("NotoSerifCJK-Bold.ttc", "Noto Serif CJK SC", "gb2312", "NotoSerifCJKsc-Bold.otf"),
    ("NotoSansCJK-Regular.ttc", "Noto Sans CJK SC", "gb2312", "NotoSansCJKsc-Regular.otf"),
]


def gb2312():
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.update(ord(c) for c in bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def wanted(cmap, charset):
    keep = {u for u in cmap if not any(a <= u <= b for a, b in HANGUL)}
    if charset == "all":
        return keep
    basic = {u for u in keep if u < 0x2E80 or 0x3000 <= u <= 0x303F or 0xFF00 <= u <= 0xFFEF}
    return (basic | gb2312()) & set(cmap)


def main(src, out):
    for collection, family, charset, name in FACES:
        for face in TTCollection(f"{src}/{collection}").fonts:
            if face["name"].getDebugName(1) != family:
                continue
            options = subset.Options()
            options.layout_features = [f for f in options.layout_features if f not in ("locl", "vert", "vrt2")]
            options.name_IDs = ["*"]
            options.name_languages = ["*"]
            options.notdef_outline = True
            options.hinting = True
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=wanted(face.getBestCmap(), charset))
            subsetter.subset(face)
            face.save(f"{out}/{name}")
            print(name, len(face.getBestCmap()), "characters")
            break


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
