"""Writes a filled 市级部门整体绩效目标申报表 laid out the way a finance
bureau's own .xlsx template does it, independently of formpress: its own
title (with the year in it), label positions and merges, amounts as number
cells formatted 0.00, a 指标值 stored as a number formatted 0%, a 填报日期
stored as a date serial, a formula with its saved value, a hidden sheet and
a note formpress cannot place.  Usage: bureau.py OUT.xlsx"""
import datetime
import re
import sys
import zipfile

import openpyxl
from openpyxl.styles import Alignment, Border, Side

out = sys.argv[1]
book = openpyxl.Workbook()
ws = book.active
ws.title = "申报表"
thin = Side(style="thin")


def put(ref, value, fmt=None):
    ws[ref] = value
    ws[ref].border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws[ref].alignment = Alignment(wrap_text=True, vertical="center")
    if fmt:
        ws[ref].number_format = fmt


def merge(rng, value, fmt=None):
    put(rng.split(":")[0], value, fmt)
    ws.merge_cells(rng)


merge("A1:F1", "2021年度市级部门整体绩效目标申报表")
merge("A3:B3", "部门名称")
merge("C3:F3", "郑州市测试局")
merge("A4:A5", "年度总体目标")
merge("B4:F4", "目标1：保障单位正常运转")
merge("B5:F5", "目标2：完成年度重点工作")
merge("A6:A9", "年度 主要任务")  # a space inside a label, as typed templates have
merge("B6:B7", "任务名称")
merge("C6:C7", "主要内容")
merge("D6:F6", "预算资金")
put("D7", "合计")
put("E7", "其中：财政资金")
put("F7", "备注")
put("B8", "任务1")
put("C8", "人员经费")
put("D8", 100, "0.00")
put("E8", "=D8", "0.00")  # saved value patched in below, as Excel would store it
put("F8", "工资")
put("B9", "任务2")
put("C9", "公用经费")
put("D9", 1234.5, "#,##0.00")
put("E9", 1000, "0.00")
for col, label in zip("ABCDEF", ["一级指标", "二级指标", "三级指标", "指标值", "指标解释", "指标说明"]):
    put(f"{col}10", label)
merge("A11:A13", "产出指标")
merge("B11:B12", "数量指标")
put("C11", "完成率")
put("D11", 0.95, "0%")
merge("E11:E12", "反映完成情况")
put("F11", "说明一")
put("C12", "覆盖率")
put("D12", "≥98%")
put("F12", "说明二")
put("B13", "质量指标")
put("C13", "合格率")
put("D13", "100%")
put("E13", "反映质量")
put("A14", "效益指标")
put("B14", "社会效益")
put("C14", "满意度")
put("D14", "≥90%")
put("E14", "反映满意程度")
put("A16", "填报人")
put("B16", "王五")
put("C16", "填报日期")
put("D16", datetime.date(2021, 1, 28), 'yyyy"年"m"月"d"日"')
put("E16", "联系电话")
put("F16", "0371-12345678")
put("A18", "附注：本表由财政局统一下发")

hidden = book.create_sheet("旧数据")
hidden["A1"] = "部门名称"
hidden["B1"] = "不应读入的部门"
hidden.sheet_state = "hidden"
book.save(out)

# openpyxl stores formulas without a saved value; Excel and WPS store one. Add it.
with zipfile.ZipFile(out) as z:
    parts = {n: z.read(n) for n in z.namelist()}
sheet = parts["xl/worksheets/sheet1.xml"].decode()
sheet, n = re.subn(r'(<c r="E8"[^>]*>)<f>D8</f><v\s*/>', r'\1<f>D8</f><v>100</v>', sheet)
if n == 0:
    sheet, n = re.subn(r'(<c r="E8"[^>]*>)<f>D8</f><v></v>', r'\1<f>D8</f><v>100</v>', sheet)
assert n == 1, "formula cell not found"
parts["xl/worksheets/sheet1.xml"] = sheet.encode()
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for name, data in parts.items():
        z.writestr(name, data)
