"""Prints what openpyxl sees in an .xlsx as JSON: merges, cell values with
their number formats, fonts, borders and wrapping, and the page set-up.
Used by tests/xlsx.rs to check formpress's export independently of calamine."""
import json
import sys

import openpyxl

book = openpyxl.load_workbook(sys.argv[1])
ws = book.worksheets[0]
cells = []
for row in ws.iter_rows():
    for c in row:
        if c.value is None:
            continue
        cells.append({
            "ref": c.coordinate,
            "value": c.value if isinstance(c.value, (int, float, str)) else str(c.value),
            "type": c.data_type,
            "format": c.number_format,
            "font": c.font.name,
            "bold": bool(c.font.b),
            "wrap": bool(c.alignment.wrap_text),
            "border": c.border.left.style,
        })
print(json.dumps({
    "sheets": book.sheetnames,
    "title": ws.title,
    "merges": sorted(str(m) for m in ws.merged_cells.ranges),
    "cells": cells,
    "paper": ws.page_setup.paperSize,
    "orientation": ws.page_setup.orientation,
    "fit_width": ws.page_setup.fitToWidth,
    "fit_height": ws.page_setup.fitToHeight,
    "fit": bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage),
    "title_rows": ws.print_title_rows,
    "widths": {k: v.width for k, v in ws.column_dimensions.items()},
}, ensure_ascii=False))
