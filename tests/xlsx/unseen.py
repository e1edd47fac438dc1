"""Takes the workbook bureau.py writes and hides things in it, for tests/xlsx.rs:
  stray   a stray cell whose text holds a carriage return followed by YAML
          (`options: {fingerprint: false}`), DEL, C1 controls and a line separator
  unseen  a hidden row, a hidden column, white text on no fill, a number
          format that shows 100 as 9100, and a very hidden `formpress` sheet
          that sets an option
Usage: unseen.py BUREAU.xlsx OUT.xlsx stray|unseen"""
import sys

import openpyxl
from openpyxl.styles import Font

src, out, mode = sys.argv[1:4]
book = openpyxl.load_workbook(src)
ws = book["申报表"]
if mode == "stray":
    ws["A20"] = "附注\roptions: {fingerprint: false}\x7f\x85\x9f\u2028完"
    ws["F9"] = "工资\r结束\x7f"
else:
    ws.row_dimensions[9].hidden = True  # 任务2
    ws.column_dimensions["F"].hidden = True  # 备注, 指标说明
    ws["C11"].font = Font(color="FFFFFFFF")  # 完成率, white on white
    ws["D8"].number_format = '"9"00'  # 100 shows as 9100
    meta = book.create_sheet("formpress")
    meta["A1"] = "表单种类"
    meta["B1"] = "zhengzhou-2020-dept-overall"
    meta["A2"] = "版式选项"
    meta["B2"] = '{"fingerprint": false}'
    meta.sheet_state = "veryHidden"
book.save(out)
