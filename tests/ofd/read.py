#!/usr/bin/env python3
"""Reads formpress's OFD packages back with independent tools (tests/ofd.rs).

For each job (an OFD and formpress's PDF of the same form) it writes JSON:
- easyofd's parse (easyofd, from the Python registry): the text of every page
  in drawing order, the fonts and pictures it found;
- fontTools on each embedded font: the characters its cmap maps, so the
  test can require every character drawn without a CGTransform to be mapped;
- pixel differences of each page against formpress's PDF (pdftoppm), for two
  renderings of the OFD: easyofd's own (`to_pdf`, which draws every text in
  one substitute font and strokes filled paths: a loose check of positions),
  and a strict one drawn here with MuPDF from easyofd's parse and the fonts
  embedded in the package (characters looked up through the embedded cmap,
  as OFD readers do), which must match formpress's PDF closely.

usage: read.py JOBS.json OUT.json
  (JOBS: [{"ofd", "pdf", "dir", "pixels": "all" | "first" | null, "easyofd": true|false}])
"""
import base64
import io
import json
import os
import subprocess
import sys
import time
import zipfile

import logging

logging.disable(logging.CRITICAL)
from loguru import logger  # noqa: E402

logger.remove()

import fitz  # noqa: E402  (PyMuPDF, installed with easyofd)
from fontTools.ttLib import TTFont  # noqa: E402
from PIL import Image, ImageChops, ImageFilter  # noqa: E402

from easyofd.ofd import OFD  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont as ReportlabFont  # noqa: E402

# easyofd draws every text in 宋体 and looks for Windows' simsun.ttc; on this
# machine 宋体 is AR PL UMing (a Song/Ming face, TrueType as reportlab needs).
# Without it, each character costs reportlab a search of every font file.
SONG = "/usr/share/fonts/truetype/arphic/uming.ttc"
pdfmetrics.registerFont(ReportlabFont("宋体", SONG, subfontIndex=0))

DPI = 50
PT = 72 / 25.4  # points per millimetre


def parse(path):
    with open(path, "rb") as f:
        data = f.read()
    ofd = OFD()
    ofd.read(data, fmt="binary")
    return ofd, ofd.data[0]


def page_texts(doc):
    pages = []
    for no in sorted(doc["page_info"]):
        page = doc["page_info"][no]
        pages.append("".join(t["text"] for t in page.get("text_list", [])))
    return pages


def embedded_fonts(path):
    """Font resource ID → (font bytes, characters its cmap maps)."""
    out = {}
    with zipfile.ZipFile(path) as z:
        import xml.etree.ElementTree as ET

        ns = {"ofd": "http://www.ofdspec.org/2016"}
        if "Doc_0/PublicRes.xml" not in z.namelist():
            return out  # pages of scans: no text, no fonts
        res = ET.fromstring(z.read("Doc_0/PublicRes.xml"))
        base = res.get("BaseLoc", "")
        for font in res.iterfind(".//ofd:Font", ns):
            file = font.find("ofd:FontFile", ns).text
            data = z.read(f"Doc_0/{base}/{file}")
            tt = TTFont(io.BytesIO(data))
            cmap = tt.getBestCmap() or {}
            out[font.get("ID")] = (data, "".join(chr(c) for c in sorted(cmap)), tt.sfntVersion)
    return out


def unmapped(path, fonts):
    """Characters drawn without a CGTransform that the embedded font's cmap
    does not map (a reader would draw .notdef for them)."""
    import xml.etree.ElementTree as ET

    ns = "{http://www.ofdspec.org/2016}"
    missing = set()
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if not name.endswith("/Content.xml"):
                continue
            for obj in ET.fromstring(z.read(name)).iter(ns + "TextObject"):
                cmap = fonts[obj.get("Font")][1]
                named = set()
                for cg in obj.iter(ns + "CGTransform"):
                    start = int(cg.get("CodePosition"))
                    named.update(range(start, start + int(cg.get("CodeCount"))))
                text = "".join(c.text or "" for c in obj.iter(ns + "TextCode"))
                missing.update(ch for i, ch in enumerate(text) if i not in named and ch not in cmap)
    return "".join(sorted(missing))


def color_of(value, alpha=None):
    parts = [int(v) / 255 for v in (value or "0 0 0").split()[:3]]
    return tuple(parts) if len(parts) == 3 else (0, 0, 0)


def strict_pdf(path, doc, fonts):
    """The OFD drawn with MuPDF: text in its embedded fonts, paths filled and
    stroked as their attributes say, pictures clipped to their Boundary."""
    import xml.etree.ElementTree as ET

    ns = "{http://www.ofdspec.org/2016}"
    out = fitz.open()
    font_objs = {fid: fitz.Font(fontbuffer=data) for fid, (data, _, _) in fonts.items()}
    with zipfile.ZipFile(path) as z:
        document = ET.fromstring(z.read("Doc_0/Document.xml"))
        media = {}
        if "Doc_0/DocumentRes.xml" in z.namelist():
            res = ET.fromstring(z.read("Doc_0/DocumentRes.xml"))
            for m in res.iter(ns + "MultiMedia"):
                media[m.get("ID")] = z.read("Doc_0/Res/" + m.find(ns + "MediaFile").text)
        for p in document.iter(ns + "Page"):
            content = ET.fromstring(z.read("Doc_0/" + p.get("BaseLoc")))
            box = [float(v) for v in content.find(f"{ns}Area/{ns}PhysicalBox").text.split()]
            page = out.new_page(width=box[2] * PT, height=box[3] * PT)
            for obj in content.iter():
                tag = obj.tag.replace(ns, "")
                if tag not in ("TextObject", "PathObject", "ImageObject"):
                    continue
                bx, by, bw, bh = [float(v) for v in obj.get("Boundary").split()]
                ctm = [float(v) for v in obj.get("CTM", "1 0 0 1 0 0").split()]
                if tag == "TextObject":
                    draw_text(page, obj, ns, font_objs, (bx, by), ctm)
                elif tag == "PathObject":
                    draw_path(page, obj, ns, (bx, by))
                else:
                    draw_image(page, media[obj.get("ResourceID")], (bx, by, bw, bh), ctm)
    return out.tobytes()


def draw_text(page, obj, ns, fonts, origin, ctm):
    font = fonts[obj.get("Font")]
    size = float(obj.get("Size")) * PT
    fill = obj.find(ns + "FillColor")
    color = color_of(fill.get("Value") if fill is not None else None)
    alpha = int(fill.get("Alpha", "255")) / 255 if fill is not None else 1
    a, b, c, d, e, f = ctm
    # The text's origin on the page; a rotated or scaled run turns about it.
    ox, oy = origin[0] + e, origin[1] + f
    tw = fitz.TextWriter(page.rect)
    for code in obj.iter(ns + "TextCode"):
        text = code.text or ""
        x, y = float(code.get("X")), float(code.get("Y"))
        deltas = [float(v) for v in code.get("DeltaX", "").split()]
        for i, ch in enumerate(text):
            tw.append(((ox + x) * PT, (oy + y) * PT), ch, font=font, fontsize=size)
            if i < len(deltas):
                x += deltas[i]
    morph = None if (a, b, c, d) == (1, 0, 0, 1) else (fitz.Point(ox * PT, oy * PT), fitz.Matrix(a, b, c, d, 0, 0))
    tw.write_text(page, color=color, opacity=alpha, morph=morph)


def draw_path(page, obj, ns, origin):
    ox, oy = origin
    tokens = obj.find(ns + "AbbreviatedData").text.split()
    shape = page.new_shape()
    start = cur = None
    i = 0

    def pt(k):
        return fitz.Point((ox + float(tokens[k])) * PT, (oy + float(tokens[k + 1])) * PT)

    while i < len(tokens):
        op = tokens[i]
        if op in ("M", "S"):
            start = cur = pt(i + 1)
            i += 3
        elif op == "L":
            p = pt(i + 1)
            shape.draw_line(cur, p)
            cur = p
            i += 3
        elif op == "B":
            p1, p2, p3 = pt(i + 1), pt(i + 3), pt(i + 5)
            shape.draw_bezier(cur, p1, p2, p3)
            cur = p3
            i += 7
        elif op == "Q":
            p1, p2 = pt(i + 1), pt(i + 3)
            shape.draw_bezier(cur, cur + (p1 - cur) * (2 / 3), p2 + (p1 - p2) * (2 / 3), p2)
            cur = p2
            i += 5
        elif op == "C":
            if cur is not None and start is not None and cur != start:
                shape.draw_line(cur, start)
            cur = start
            i += 1
        else:
            i += 1
    stroke = obj.get("Stroke", "true") == "true"
    fill = obj.get("Fill", "false") == "true"
    sc, fc = obj.find(ns + "StrokeColor"), obj.find(ns + "FillColor")
    shape.finish(
        color=color_of(sc.get("Value") if sc is not None else None) if stroke else None,
        fill=color_of(fc.get("Value") if fc is not None else None) if fill else None,
        width=float(obj.get("LineWidth", "0.353")) * PT,
        even_odd=obj.get("Rule") == "Even-Odd",
        closePath=False,
        lineCap={"Butt": 0, "Round": 1, "Square": 2}[obj.get("Cap", "Butt")],
    )
    shape.commit()


def draw_image(page, data, boundary, ctm):
    """An axis-aligned picture (CTM w 0 0 h e f), cut to its Boundary."""
    bx, by, bw, bh = boundary
    a, _, _, d, e, f = ctm
    img = Image.open(io.BytesIO(data)).convert("RGBA")
    x0, y0 = bx + e, by + f  # the picture's full box, mm
    # The visible part: the Boundary, in the picture's pixels.
    sx, sy = img.width / a, img.height / d
    crop = (round((bx - x0) * sx), round((by - y0) * sy), round((bx + bw - x0) * sx), round((by + bh - y0) * sy))
    part = img.crop(crop)
    buf = io.BytesIO()
    part.save(buf, "PNG")
    rect = fitz.Rect(bx * PT, by * PT, (bx + bw) * PT, (by + bh) * PT)
    page.insert_image(rect, stream=buf.getvalue(), keep_proportion=False)


def raster(pdf_bytes, path_prefix, pages):
    with open(path_prefix + ".pdf", "wb") as f:
        f.write(pdf_bytes)
    first = ["-f", "1", "-l", "1"] if pages == "first" else []
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-gray", "-png", *first, path_prefix + ".pdf", path_prefix], check=True
    )
    files = sorted(
        (p for p in os.listdir(os.path.dirname(path_prefix)) if p.startswith(os.path.basename(path_prefix) + "-")),
        key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]),
    )
    return [os.path.join(os.path.dirname(path_prefix), p) for p in files]


def difference(a_path, b_path):
    """Share of pixels where one page has ink (or paper) that the other has
    nowhere within a pixel: a shift of a hairline by one pixel (renderers
    round thin rules differently) is not a difference, a missing or moved
    character, rule or module of the QR code is."""
    a = Image.open(a_path).convert("L")
    b = Image.open(b_path).convert("L")
    if a.size != b.size:
        b = b.resize(a.size)
    differing = 0
    for x, y in ((a, b), (b, a)):
        darker = ImageChops.subtract(y.filter(ImageFilter.MinFilter(3)), x)  # x darker than all y near it
        lighter = ImageChops.subtract(x, y.filter(ImageFilter.MaxFilter(3)))  # x lighter than all y near it
        both = ImageChops.lighter(darker, lighter)
        differing += sum(both.histogram()[64:])
    return differing / (2 * a.size[0] * a.size[1])


def main():
    jobs = json.load(open(sys.argv[1]))
    out = os.path.abspath(sys.argv[2])
    # easyofd unpacks into the working folder cut at its first dot (and removes
    # that folder afterwards): work in a fresh folder whose path has no dot.
    import shutil
    import tempfile

    work = tempfile.mkdtemp(prefix="easyofd", dir="/tmp")
    assert "." not in work, work
    os.chdir(work)
    try:
        json.dump(run(jobs), open(out, "w"), ensure_ascii=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(jobs):
    results = []
    for job in jobs:
        started = time.time()
        ofd, doc = parse(job["ofd"])
        fonts = embedded_fonts(job["ofd"])
        result = {
            "texts": page_texts(doc),
            "fonts": {fid: {"cmap": chars, "sfnt": repr(sfnt)} for fid, (_, chars, sfnt) in fonts.items()},
            "images": len(doc.get("images", {})),
            "unmapped": unmapped(job["ofd"], fonts),
            "easyofd": [],
            "strict": [],
        }
        if job.get("pixels"):
            d = job["dir"]
            which = job["pixels"]
            ref = raster(open(job["pdf"], "rb").read(), os.path.join(d, "formpress"), which)
            strict = raster(strict_pdf(job["ofd"], doc, fonts), os.path.join(d, "strict"), which)
            result["strict"] = [difference(r, s) for r, s in zip(ref, strict)]
            result["rendered_pages"] = [len(ref), len(strict)]
            if job.get("easyofd"):
                easy = raster(ofd.to_pdf(), os.path.join(d, "easyofd"), which)
                result["easyofd"] = [difference(r, e) for r, e in zip(ref, easy)]
                result["rendered_pages"].append(len(easy))
        result["seconds"] = round(time.time() - started, 2)
        results.append(result)
    return results


if __name__ == "__main__":
    main()
