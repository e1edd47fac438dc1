"""Writes hostile spreadsheets into a folder, for tests/xlsx.rs:
  million-rows.xlsx  a sheet of 1 000 000 rows (small on disk)
  bomb.xlsx          a 1 GB sheet that deflates to about 1 MB (a zip bomb)
  lying-bomb.xlsx    the same, with its declared size patched to 1 KB
  broken.xlsx        a real .xlsx cut in half
  not-a-sheet.xlsx   a text file named .xlsx
  many-entries.xlsx  a zip with 20 000 entries
  labels.xlsx        within the limits: 19 990 rows × 10 columns of form labels
Usage: hostile.py DIR"""
import os
import struct
import sys
import zipfile
import zlib

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
TAIL = "</sheetData></worksheet>"


def book(path, sheet_chunks):
    """An .xlsx whose sheet1.xml is streamed from chunks (so 1 GB never sits in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WB_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for chunk in sheet_chunks:
                f.write(chunk)


def million():
    yield HEAD.encode()
    yield b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe9\x83\xa8\xe9\x97\xa8\xe5\x90\x8d\xe7\xa7\xb0</t></is></c></row>'
    for start in range(2, 1_000_001, 10_000):
        yield "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(start, min(start + 10_000, 1_000_001))).encode()
    yield TAIL.encode()


def bomb():
    yield HEAD.encode()
    # Whitespace between elements is legal XML and deflates about 1000:1.
    blank = b" " * (1 << 20)
    for _ in range(1024):
        yield blank
    yield TAIL.encode()


book(os.path.join(out, "million-rows.xlsx"), million())
book(os.path.join(out, "bomb.xlsx"), bomb())

# The same bomb, with the sizes in its headers patched to claim 1 KB.
data = bytearray(open(os.path.join(out, "bomb.xlsx"), "rb").read())
name = b"xl/worksheets/sheet1.xml"


def patch(signature, name_len_at, extra_len_at, name_at, size_at):
    """Every header with this signature naming the sheet: its 32-bit and zip64 sizes say 1 KB."""
    pos = 0
    while (pos := data.find(signature, pos)) >= 0:
        n = struct.unpack("<H", data[pos + name_len_at : pos + name_len_at + 2])[0]
        if data[pos + name_at : pos + name_at + n] == name:
            if data[pos + size_at : pos + size_at + 4] != b"\xff\xff\xff\xff":
                data[pos + size_at : pos + size_at + 4] = struct.pack("<I", 1024)
            e = pos + name_at + n
            end = e + struct.unpack("<H", data[pos + extra_len_at : pos + extra_len_at + 2])[0]
            while e < end:
                hid, size = struct.unpack("<HH", data[e : e + 4])
                if hid == 1:  # zip64: the real sizes
                    data[e + 4 : e + 12] = struct.pack("<Q", 1024)
                e += 4 + size
        pos += 4


patch(b"PK\x03\x04", 26, 28, 30, 22)  # local headers
patch(b"PK\x01\x02", 28, 30, 46, 24)  # central directory
open(os.path.join(out, "lying-bomb.xlsx"), "wb").write(bytes(data))

small = os.path.join(out, "small.xlsx")
book(small, [HEAD.encode(), b'<row r="1"><c r="A1"><v>1</v></c></row>', TAIL.encode()])
whole = open(small, "rb").read()
open(os.path.join(out, "broken.xlsx"), "wb").write(whole[: len(whole) // 2])
os.remove(small)
open(os.path.join(out, "not-a-sheet.xlsx"), "w").write("部门名称,郑州市\n")
with zipfile.ZipFile(os.path.join(out, "many-entries.xlsx"), "w", zipfile.ZIP_STORED) as z:
    for k in range(20_000):
        z.writestr(f"x/{k}.xml", "")


def labels():
    words = ["部门名称", "年度主要任务", "一级指标", "二级指标", "三级指标", "指标值", "指标解释", "指标说明", "合计", "备注"]
    yield HEAD.encode()
    for r in range(1, 19_991):
        cells = "".join(f'<c r="{chr(65 + i)}{r}" t="inlineStr"><is><t>{words[(i + r) % 10]}</t></is></c>' for i in range(10))
        yield f'<row r="{r}">{cells}</row>'.encode()
    yield TAIL.encode()


book(os.path.join(out, "labels.xlsx"), labels())
