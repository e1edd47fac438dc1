#!/usr/bin/env python3
"""Forgeries of formpress PDFs for the tests, each written as an incremental
update with pyHanko (as an attacker keeps earlier signatures intact).

    forge.py ATTACK IN.pdf OUT.pdf [ARGS...]

Text is located by pdftotext -bbox; formpress's content draws each text run as
`q 1 0 0 -1 X Y cm ... BT ... Tf ... TJ ET Q`, so a run is found by its
position and edited in place.

  hide WORD MODE          the run of WORD drawn invisibly: MODE is invisible
                          (3 Tr), white (white fill), clip (an empty clip) or
                          tiny (a 0.01 pt font)
  swap WORD1 WORD2        the two runs drawn at each other's place (page 1)
  crop                    a /CropBox of the top half on every page
  freetext WORD TEXT [ap] a FreeText annotation over WORD showing TEXT, with
                          no appearance stream (or one, with `ap`)
  checkbox WORD TEXT      a check-box widget over WORD whose appearance is a
                          state dictionary drawing TEXT
  fakesig                 a signature widget with no signature, drawing a red X
                          over the 签章区 of the last page
  openaction              an /OpenAction running JavaScript
  attach NAME             one more attached file
  decode WHAT             the seal picture's /Decode array flipped: WHAT is
                          image (recoloured) or mask (its soft mask: invisible)
  touch                   the catalog written again unchanged (with --sign:
                          a plain second signature)

With `--sign KEY.pem CERT.pem` at the end, the update is signed with pyHanko
(a signature field of pyHanko's own, not formpress's).
"""
import re
import subprocess
import sys

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, NumberObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


def words(pdf, page):
    """(text, xmin, ymin, xmax, ymax) of each word on a page, from the top left."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), pdf, "-"],
                         capture_output=True, text=True, check=True).stdout
    found = []
    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out):
        found.append((m.group(5), *map(float, m.groups()[:4])))
    return found


def find_word(pdf, word, page=1, nth=0):
    hits = [w for w in words(pdf, page) if w[0] == word] or [w for w in words(pdf, page) if word in w[0]]
    if len(hits) <= nth:
        sys.exit(f"forge.py: {word} not on page {page}")
    return hits[nth]


RUN = re.compile(rb"q 1 0 0 -1 ([\d.]+) ([\d.]+) cm(.*?)ET\s*Q", re.S)


def page_content(w, index):
    page_ref, _ = w.find_page_for_modification(index)
    page = page_ref.get_object()
    contents = page["/Contents"]
    return page, contents, contents.get_object().data


def set_content(w, contents, data):
    stream = generic.StreamObject(stream_data=data)
    stream.compress()
    ref = w.add_object(stream)
    return ref


def nearest_run(data, height, word_box):
    """The text run whose origin is the word's left end on its baseline."""
    _, x0, y0, x1, y1 = word_box
    best = None
    for m in RUN.finditer(data):
        if b"Tf" not in m.group(3):
            continue
        x, y = float(m.group(1)), float(m.group(2))
        d = abs(x - x0) + abs((height - y) - y1) * 0.5
        if best is None or d < best[0]:
            best = (d, m)
    return best[1]


def replace_page_content(w, index, data):
    page_ref, _ = w.find_page_for_modification(index)
    page = page_ref.get_object()
    page["/Contents"] = set_content(w, None, data)
    w.update_container(page)


def main():
    argv = sys.argv[1:]
    signer = None
    if "--sign" in argv:
        at = argv.index("--sign")
        signer, argv = argv[at + 1:at + 3], argv[:at]
    attack, src, dst, *args = argv
    w = IncrementalPdfFileWriter(open(src, "rb"))
    pages = w.root["/Pages"]["/Kids"]
    height = float(pages[0].get_object()["/MediaBox"][3])
    if attack == "hide":
        word, mode = args
        page, contents, data = page_content(w, 0)
        m = nearest_run(data, height, find_word(src, word))
        run = m.group(0)
        edited = {
            "invisible": run.replace(b"0 Tr", b"3 Tr"),
            "white": run.replace(b" 0 scn", b" 1 scn"),
            "clip": run.replace(b"BT", b"0 0 0 0 re W n BT", 1),
            "tiny": re.sub(rb"(/f\d+) [\d.]+ Tf", rb"\1 0.01 Tf", run),
        }[mode]
        assert edited != run, mode
        replace_page_content(w, 0, data.replace(run, edited, 1))
    elif attack == "swap":
        a, b = args
        page, contents, data = page_content(w, 0)
        ma = nearest_run(data, height, find_word(src, a))
        mb = nearest_run(data, height, find_word(src, b))
        head = lambda m: b"q 1 0 0 -1 %s %s cm" % (m.group(1), m.group(2))
        ra = ma.group(0).replace(head(ma), head(mb), 1)
        rb = mb.group(0).replace(head(mb), head(ma), 1)
        data = data.replace(ma.group(0), b"\x00A", 1).replace(mb.group(0), b"\x00B", 1)
        replace_page_content(w, 0, data.replace(b"\x00A", ra).replace(b"\x00B", rb))
    elif attack == "crop":
        for kid in pages:
            page = kid.get_object()
            box = page["/MediaBox"]
            page["/CropBox"] = ArrayObject([box[0], FloatObject(float(box[3]) / 2), box[2], box[3]])
            w.update_container(page)
    elif attack in ("freetext", "checkbox"):
        word, text = args[0], args[1]
        _, x0, y0, x1, y1 = find_word(src, word)
        rect = ArrayObject([FloatObject(x0 - 2), FloatObject(height - y1 - 2), FloatObject(x1 + 30), FloatObject(height - y0 + 2)])
        width, tall = x1 + 32 - x0, y1 - y0 + 4
        drawing = b"1 g 0 0 %.2f %.2f re f BT 0 g /Helv 9 Tf 2 3 Td (%s) Tj ET" % (width, tall, text.encode())
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica")})
        resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/Helv"): font})})

        def appearance():
            s = generic.StreamObject({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                                      NameObject("/BBox"): ArrayObject([FloatObject(0), FloatObject(0), FloatObject(width), FloatObject(tall)]),
                                      NameObject("/Resources"): resources}, stream_data=drawing)
            return w.add_object(s)

        annot = DictionaryObject({NameObject("/Type"): NameObject("/Annot"), NameObject("/Rect"): rect,
                                  NameObject("/F"): NumberObject(4)})
        if attack == "freetext":
            annot[NameObject("/Subtype")] = NameObject("/FreeText")
            annot[NameObject("/Contents")] = generic.TextStringObject(text)
            annot[NameObject("/DA")] = generic.TextStringObject("/Helv 9 Tf 0 g")
            if args[2:] == ["ap"]:
                annot[NameObject("/AP")] = DictionaryObject({NameObject("/N"): appearance()})
        else:
            annot[NameObject("/Subtype")] = NameObject("/Widget")
            annot[NameObject("/FT")] = NameObject("/Btn")
            annot[NameObject("/T")] = generic.TextStringObject("x")
            annot[NameObject("/AS")] = NameObject("/On")
            annot[NameObject("/V")] = NameObject("/On")
            states = DictionaryObject({NameObject("/On"): appearance(), NameObject("/Off"): appearance()})
            annot[NameObject("/AP")] = DictionaryObject({NameObject("/N"): states})
        ref = w.add_object(annot)
        page_ref, _ = w.find_page_for_modification(0)
        w.register_annotation(page_ref, ref)
        if attack == "checkbox":
            form = DictionaryObject({NameObject("/Fields"): ArrayObject([ref])})
            w.root[NameObject("/AcroForm")] = w.add_object(form)
            w.update_root()
    elif attack == "fakesig":
        last = len(pages) - 1
        page_ref, _ = w.find_page_for_modification(last)
        rect = [300.0, 120.0, 480.0, 180.0]
        x = generic.StreamObject({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                                  NameObject("/BBox"): ArrayObject([FloatObject(0), FloatObject(0), FloatObject(180), FloatObject(60)])},
                                 stream_data=b"1 0 0 RG 4 w 0 0 m 180 60 l S 0 60 m 180 0 l S")
        annot = DictionaryObject({NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Widget"),
                                  NameObject("/FT"): NameObject("/Sig"), NameObject("/T"): generic.TextStringObject("Signature9"),
                                  NameObject("/F"): NumberObject(132), NameObject("/Rect"): ArrayObject([FloatObject(v) for v in rect]),
                                  NameObject("/AP"): DictionaryObject({NameObject("/N"): w.add_object(x)})})
        ref = w.add_object(annot)
        w.register_annotation(page_ref, ref)
    elif attack == "openaction":
        js = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): generic.TextStringObject("app.alert('8600.4')")})
        w.root[NameObject("/OpenAction")] = w.add_object(js)
        w.update_root()
    elif attack == "attach":
        (name,) = args
        data = generic.StreamObject({NameObject("/Type"): NameObject("/EmbeddedFile")}, stream_data=b"MZ not a form")
        spec = DictionaryObject({NameObject("/Type"): NameObject("/Filespec"), NameObject("/F"): generic.TextStringObject(name),
                                 NameObject("/UF"): generic.TextStringObject(name),
                                 NameObject("/EF"): DictionaryObject({NameObject("/F"): w.add_object(data)})})
        names = w.root.get("/Names")
        names = DictionaryObject() if names is None else names.get_object()
        tree = names.get("/EmbeddedFiles")
        tree = DictionaryObject({NameObject("/Names"): ArrayObject()}) if tree is None else tree.get_object()
        entries = tree["/Names"]
        entries.append(generic.TextStringObject(name))
        entries.append(w.add_object(spec))
        names[NameObject("/EmbeddedFiles")] = tree
        w.root[NameObject("/Names")] = names
        w.update_root()
    elif attack == "decode":
        (what,) = args
        done = False
        for kid in pages:
            page = kid.get_object()
            xobjects = page["/Resources"].get("/XObject", DictionaryObject())
            for key, ref in xobjects.items():
                image = ref.get_object()
                if image.get("/Subtype") != "/Image":
                    continue
                target_ref = image.get_value_as_reference("/SMask") if what == "mask" else ref
                target = target_ref.get_object()
                channels = 1 if what == "mask" else 3
                target[NameObject("/Decode")] = ArrayObject([FloatObject(v) for v in [1, 0] * channels])
                w.mark_update(target_ref)
                done = True
        assert done, "no picture"
    elif attack == "touch":
        w.update_root()
    else:
        sys.exit(f"forge.py: unknown attack {attack}")
    with open(dst, "wb") as out:
        if signer:
            from pyhanko.sign import signers
            key, cert = signer
            meta = signers.PdfSignatureMetadata(field_name="Signature9")
            signers.sign_pdf(w, meta, signer=signers.SimpleSigner.load(key, cert), output=out)
        else:
            w.write(out)


main()
