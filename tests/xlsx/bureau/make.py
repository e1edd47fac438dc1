"""Writes the workbooks a finance bureau would send, built with openpyxl only (no formpress code), in the
layouts of forms of tests/real/ (their `.layout.yaml` sidecars): the sheet's own title row and year line,
captions, column order, merges, number formats (0.00, #,##0.00, 0%, 0.00%), lines above and below the
grid, 中期|年度 halves side by side where the form has them. Eleven are filled in with the published
form's values (read from its tests/real YAML, every scalar as typed); three are BLANK templates.

Usage: python3 tests/xlsx/bureau/make.py OUTDIR      (README.md in this folder lists the workbooks)"""
import math
import os
import re
import sys
import unicodedata

import openpyxl
import yaml
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

REAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "real")
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
BODY = "仿宋_GB2312"
SHEETS = {}
TITLE = "方正小标宋简体"


def form(slug):
    """The corpus form with every scalar as the text typed (10.00 stays "10.00")."""
    with open(os.path.join(REAL, slug + ".yaml"), encoding="utf-8") as f:
        return yaml.load(f, Loader=yaml.BaseLoader)


def number(text):
    """A typed amount or rate as a number cell and the format that shows it as typed; else None."""
    if not isinstance(text, str):
        return None
    m = re.fullmatch(r"(-?\d+)(?:\.(\d+))?(%?)", text)
    if m:
        decimals = len(m.group(2) or "")
        value = float(m.group(1) + "." + (m.group(2) or "0"))
        fmt = "0" + ("." + "0" * decimals if decimals else "")
        if m.group(3):
            return value / 100, fmt + "%"
        return (int(value) if not decimals else value), fmt
    m = re.fullmatch(r"(\d{1,3}(?:,\d{3})+)(?:\.(\d+))?", text)
    if m:
        decimals = len(m.group(2) or "")
        value = float(m.group(1).replace(",", "") + "." + (m.group(2) or "0"))
        return (int(value) if not decimals else value), "#,##0" + ("." + "0" * decimals if decimals else "")
    return None


class Sheet:
    """One worksheet written row by row: captions, values, merges, borders, A4 page set-up."""

    def __init__(self, book, name, widths, landscape=False):
        self.ws = book.create_sheet(name)
        SHEETS[name] = self
        self.cols = len(widths)
        for i, w in enumerate(widths, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = w
        self.ws.page_setup.paperSize = self.ws.PAPERSIZE_A4
        self.ws.page_setup.orientation = "landscape" if landscape else "portrait"
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0
        self.ws.print_options.horizontalCentered = True
        self.r = 1
        self.widths = widths
        self.texts = []  # (row, first column, last column, text, size): to size the rows afterwards

    def cell(self, r, c, value, fmt=None, bold=False, align="center", box=True, size=10.5, font=BODY, numbers=True):
        """A cell; a typed number (as text) becomes a number cell formatted as typed."""
        cell = self.ws.cell(row=r, column=c)
        if value is not None and value != "":
            parsed = number(value) if numbers else None
            if parsed:
                cell.value, cell.number_format = parsed
            else:
                cell.value = value
            if fmt:
                cell.number_format = fmt
        cell.font = Font(name=font, size=size, bold=bold)
        cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
        if box:
            cell.border = BOX
        return cell

    def span(self, r1, c1, r2, c2, value=None, **kw):
        """A merged area: its value in the top-left cell, a border on every cell of it."""
        if value and r1 == r2:
            self.texts.append((r1, c1, c2, str(value), kw.get("size", 10.5)))
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                self.cell(r, c, value if (r, c) == (r1, c1) else None, **kw)
        if (r1, c1) != (r2, c2):
            # A merge drawn over smaller ones replaces them (Excel refuses overlapping merges).
            for old in [m for m in self.ws.merged_cells.ranges
                        if m.min_row >= r1 and m.max_row <= r2 and m.min_col >= c1 and m.max_col <= c2]:
                self.ws.unmerge_cells(str(old))
            self.ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)

    def fit(self):
        """Row heights for wrapped text (LibreOffice and Excel do not grow rows written by openpyxl)."""
        need = {}
        for r, c1, c2, text, size in self.texts:
            width = sum(self.widths[c - 1] for c in range(c1, c2 + 1)) * 10.5 / size
            lines = sum(max(1, math.ceil(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in part) / (width * 0.95)))
                        for part in text.split("\n"))
            need[r] = max(need.get(r, 1), lines * size * 1.45)
        for r, h in need.items():
            current = self.ws.row_dimensions[r].height
            self.ws.row_dimensions[r].height = max(h, current or 15)

    def row(self, cells, height=None, **kw):
        """One row of (value, width) pairs left to right; width in columns. Returns the row number."""
        c = 1
        for value, width in cells:
            self.span(self.r, c, self.r, c + width - 1, value, **kw)
            c += width
        if height:
            self.ws.row_dimensions[self.r].height = height
        self.r += 1
        return self.r - 1

    def title(self, text):
        self.span(self.r, 1, self.r, self.cols, text, box=False, size=18, font=TITLE)
        self.ws.row_dimensions[self.r].height = 32
        self.r += 1

    def line(self, text, align="center", size=12):
        """A line outside the grid (year line, 填报单位, 注, footer)."""
        self.span(self.r, 1, self.r, self.cols, text, box=False, align=align, size=size)
        self.r += 1

    def lines(self, left, right):
        """A line outside the grid with a left and a right part (编制单位 … 金额单位)."""
        half = self.cols // 2
        self.span(self.r, 1, self.r, half, left, box=False, align="left")
        self.span(self.r, half + 1, self.r, self.cols, right, box=False, align="right")
        self.r += 1

    def label(self, r1, r2, c, text, c2=None):
        self.span(r1, c, r2, c2 or c, text, bold=True)


def flatten(groups, key="groups"):
    """The rows of a 一级 entry list as (一级 index, 二级 path, 一级 name, 二级 name, row)."""
    out = []
    for i, top in enumerate(groups):
        for j, group in enumerate(top.get(key) or []):
            rows = group.get("rows") or [{}]
            for row in rows:
                out.append((i, (i, j), top.get("name", ""), group.get("name", ""), row))
    return out


def runs(items, pick):
    """Consecutive runs of equal pick(item): [(start, end)] indices, inclusive."""
    spans, start = [], 0
    for k in range(1, len(items) + 1):
        if k == len(items) or pick(items[k]) != pick(items[start]):
            spans.append((start, k - 1))
            start = k
    return spans


def indicator_rows(sh, rows, first_col, fields, merge_levels=True, block=None, block_col=None, block_from=None):
    """Writes indicator rows: 一级 | 二级 | fields…, 一级/二级 merged over their entries' rows; the block
    caption merged down column block_col from row block_from (the header row) or the first row."""
    top = sh.r
    for k, (_, _, l0, l1, row) in enumerate(rows):
        r = top + k
        c = first_col
        if not merge_levels:
            sh.cell(r, c, l0)
            sh.cell(r, c + 1, l1)
        c += 2
        for f in fields:
            if isinstance(f, tuple):  # (field, columns it spans)
                sh.span(r, c, r, c + f[1] - 1, row.get(f[0]))
                c += f[1]
            else:
                sh.cell(r, c, row.get(f), align="left" if f in ("explain", "standard") else "center")
                c += 1
    if merge_levels:
        for a, b in runs(rows, lambda x: x[0]):
            sh.span(top + a, first_col, top + b, first_col, rows[a][2])
        for a, b in runs(rows, lambda x: x[1]):
            sh.span(top + a, first_col + 1, top + b, first_col + 1, rows[a][3])
    if block is not None:
        sh.span(block_from or top, block_col, top + len(rows) - 1, block_col, block, bold=True)
    sh.r = top + len(rows)


def note(f, label):
    return next((n.get("text") for n in f.get("notes", []) if n.get("label") == label), None)


# ---------------------------------------------------------------------------- filled workbooks


def qingshan_infra(book):
    """湖北 武汉 青山区: 中期|年度 money and goals side by side, indicator captions carrying the half."""
    f = form("hubei-wuhan-qingshan-edu-infra-2020-project")
    sh = Sheet(book, "项目支出绩效目标表", [12, 14, 14, 18, 14, 18, 14])
    sh.title(f["title"])
    sh.line("(2020年度)")
    sh.row([("项目名称", 1), (f["project"], 6)])
    sh.row([("主管部门及编码", 1), (f["department"], 2), ("实施单位", 1), (f["implementer"], 3)])
    sh.row([("项目属性", 1), (f["attribute"], 2), ("项目起止时间", 1), (f["period"], 3)])
    m, y = f["funds"]["mid"], f["funds"]["year"]
    r = sh.r
    sh.row([(None, 1), ("资金总额", 1), (m.get("total"), 2), ("当年资金总额:", 1), (y.get("total"), 2)])
    sh.row([(None, 1), ("其中:财政拨款", 1), (m.get("fiscal"), 2), ("其中:当年财政拨款", 1), (y.get("fiscal"), 2)])
    sh.row([(None, 1), ("其他资金", 1), (m.get("other"), 2), ("当年其他资金", 1), (y.get("other"), 2)])
    sh.label(r, r + 2, 1, "项目资金")
    r = sh.r
    sh.row([(None, 1), ("中期目标", 3), ("年度目标", 3)], bold=True)
    sh.row([(None, 1), (f["goals"]["mid"][0], 3), (f["goals"]["year"][0], 3)], height=48, align="left")
    sh.label(r, r + 1, 1, "总体目标")
    sh.row([("绩效项目指标表", 7)], bold=True)
    sh.row([(c, 1) for c in ["一级指标", "二级指标(长期)", "三级指标(长期)", "指标值(长期)",
                             "二级指标(年度)", "三级指标(年度)", "指标值(年度)"]], bold=True)
    for top in f["indicators"]:  # the 一级 is printed on every row: nothing merged
        mid, year = top["mid"][0], top["year"][0]
        row = year["rows"][0]
        sh.row([(top["name"], 1), (mid["name"], 1), (None, 1), (None, 1),
                (year["name"], 1), (row.get("name"), 1), (row.get("value"), 1)])
    sh.line("附件:", align="left")


def zhaohua(book):
    """四川 广元 昭化区: eight money lines under 年度资金总额 | 金额(万元), the block label printed twice."""
    f = form("sichuan-guangyuan-zhaohua-2021-project")
    sh = Sheet(book, "项目支出绩效目标申报表", [10, 14, 16, 30, 22])
    sh.title("项目支出绩效目标申报表")
    sh.line("(2021年度)")
    sh.row([("项目名称", 1), (f["project"], 4)])
    sh.row([("预算单位", 1), (f["department"], 4)])
    lines = [("(一)财政拨款小计", f["funds"]["year"]["fiscal"]), ("   1、一般公共预算", note(f, "1、一般公共预算")),
             ("   2、政府性基金", note(f, "2、政府性基金")), ("   3、国有资本经营预算", note(f, "3、国有资本经营预算")),
             ("(二)自有资金小计", note(f, "(二)自有资金小计")), ("   1、事业收入", note(f, "1、事业收入")),
             ("   2、经营性收入", note(f, "2、经营性收入")), ("(三)其他收入", f["funds"]["year"]["other"])]
    r = sh.r
    sh.row([(None, 1), ("年度资金总额", 3), ("金额(万元)", 1)], bold=True)
    for caption, amount in lines:
        sh.row([(None, 1), (caption, 3), (amount, 1)])
        sh.ws.cell(row=sh.r - 1, column=2).alignment = Alignment(horizontal="left", vertical="center")
    sh.label(r, sh.r - 1, 1, "项目资金(万元)")
    r = sh.r
    sh.row([(None, 1), ("年度目标", 4)], bold=True)
    sh.row([(None, 1), (f["goals"]["year"][0], 4)], height=45, align="left")
    sh.label(r, r + 1, 1, "总体目标")
    sh.row([("绩效指标", 1), ("一级指标", 1), ("二级指标", 1), ("三级指标", 1), ("指标值(包含数字及文字描述)", 1)], bold=True)
    indicator_rows(sh, flatten(f["indicators"], "year"), 2, ["name", "value"], block="绩效指标", block_col=1)


def yongde(book):
    """云南 永德: a self-evaluation in 元 (0.00), two indicator header rows, 0% rates, the 总分 row with a grade."""
    f = form("yunnan-yongde-minglang-school-2022-project-self-eval")
    sh = Sheet(book, "公开14表", [10, 12, 22, 8, 12, 12, 12, 8, 8, 18], landscape=True)
    sh.title(f["title"])
    sh.lines("部门:临沧市永德县明朗中学", "公开14表")
    sh.row([("项目名称", 2), (f["project"], 8)])
    sh.row([("主管部门", 2), (f["department"], 3), ("实施单位", 2), (f["implementer"], 3)])
    r = sh.r
    sh.row([(None, 1), (None, 2), ("年初预算数", 1), ("全年预算数", 1), ("全年执行数", 2), ("分值", 1), ("执行率", 1), ("得分", 1)], bold=True)
    for caption, key in [("年度资金总额", "total"), ("其中:当年财政拨款", "fiscal"), ("上年结转资金", "carryover"), ("其他资金", "other")]:
        line = f["funds"].get(key) or {}
        sh.row([(None, 1), (caption, 2), (line.get("initial"), 1), (line.get("budget"), 1), (line.get("spent"), 2),
                (line.get("weight"), 1), (line.get("rate"), 1), (line.get("score"), 1)])
    sh.label(r, sh.r - 1, 1, "项目资金(元)")
    r = sh.r
    sh.row([(None, 1), ("预期目标", 4), ("实际完成情况", 5)], bold=True)
    sh.row([(None, 1), (f["goals"]["expected"], 4), (f["goals"]["actual"], 5)], align="left")
    sh.label(r, r + 1, 1, "年度总体目标")
    r = sh.r
    sh.span(r, 1, r, 3, "绩效指标", bold=True)
    sh.span(r, 4, r, 6, "年度指标值", bold=True)
    for c, text in [(7, "实际完成值"), (8, "分值"), (9, "得分"), (10, "偏差原因分析及改进措施")]:
        sh.span(r, c, r + 1, c, text, bold=True)
    for c, text in enumerate(["一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位"], 1):
        sh.cell(r + 1, c, text, bold=True)
    sh.r = r + 2
    indicator_rows(sh, flatten(f["indicators"]), 1, ["name", "nature", "target", "unit", "actual", "weight", "score", "reason"])
    sh.row([("其他需要说明事项", 2), (note(f, "其他需要说明事项"), 4), ("总分", 1), ("100", 1), ("96", 1), ("优", 1)])


def qingshen(book):
    """四川 青神: goals before money, the 原因 column merged over the money lines, 合计 row, text rows, footer."""
    f = form("sichuan-qingshen-fgj-2023-project-self-eval")
    sh = Sheet(book, "Sheet1", [12, 10, 10, 18, 8, 10, 8, 10, 8, 8, 18], landscape=True)
    sh.line("报表编号:510000_0013zp", align="left", size=10)
    sh.title(f["title"])
    sh.row([("项目名称", 1), (f["project"], 10)])
    sh.row([("主管部门", 1), (f["department"], 4), ("实施单位 (盖章)", 2), (f["implementer"], 4)])
    r = sh.r
    sh.span(r, 2, r + 1, 3, "1.项目年度目标完成情况")
    sh.span(r, 4, r, 7, "项目年度目标", bold=True)
    sh.span(r, 8, r, 11, "年度目标完成情况", bold=True)
    sh.span(r + 1, 4, r + 1, 7, f["goals"]["expected"], align="left")
    sh.span(r + 1, 8, r + 1, 11, f["goals"]["actual"], align="left")
    sh.span(r + 2, 2, r + 2, 3, "2.项目实施内容及过程概述")
    sh.span(r + 2, 4, r + 2, 11, None)
    sh.label(r, r + 2, 1, "项目基本情况")
    sh.r = r + 3
    r = sh.r
    sh.row([(None, 1), ("年度预算数(万元)", 2), ("年初预算", 1), ("调整后预算数", 1), ("预算执行数", 1), ("预算执行率", 1),
            ("权重", 1), ("得分", 1), ("原因", 2)], bold=True)
    money = [("总额", f["funds"]["total"]), ("其中:财政资金", f["funds"]["fiscal"])]
    for label in ("财政专户管理资金", "单位资金"):
        cells = note(f, label).split(" | ")
        money.append((label, dict(zip(["initial", "budget", "spent", "rate", "weight", "score"], cells))))
    money.append(("其他资金", f["funds"]["other"]))
    for caption, line in money:
        sh.row([(None, 1), (caption, 2)] + [(line.get(k), 1) for k in ("initial", "budget", "spent", "rate", "weight", "score")] + [(None, 2)])
    sh.span(r + 1, 10, r + len(money), 11, note(f, "原因"), align="left", size=9)
    sh.label(r, sh.r - 1, 1, "预算执行情况(10分)")
    head = sh.row([(None, 1)] + [(c, 1) for c in ["一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "完成值", "权重", "得分", "未完成原因分析"]], bold=True)
    indicator_rows(sh, flatten(f["indicators"]), 2, ["name", "nature", "target", "unit", "actual", "weight", "score", "reason"],
                   block="绩效指标(90分)", block_col=1, block_from=head)
    sh.row([("合计", 8), ("100", 1), (None, 1), (None, 1)], bold=True)
    for label in ("评价结论", "存在问题", "改进措施"):
        sh.row([(label, 1), (note(f, label), 10)], align="left")
    sh.lines("项目负责人:", "财务负责人:")


def xiaoxian(book):
    """安徽 萧县: 分值 BEFORE 年度指标值, no 年初预算数 column, no 上年结转 line, 项目负责人及电话 in the header."""
    f = form("anhui-xiaoxian-hexi-village-2023-project-self-eval")
    sh = Sheet(book, "自评表", [10, 12, 12, 26, 7, 14, 12, 7, 18], landscape=True)
    sh.title(f["title"])
    sh.line("(2023年度)")
    sh.row([("项目名称", 2), (f["project"], 7)])
    sh.row([("项目负责人及电话", 2), (note(f, "项目负责人及电话"), 7)])
    sh.row([("主管部门", 2), (f["department"], 3), ("实施单位", 1), (f["implementer"], 3)])
    r = sh.r
    sh.row([(None, 1), (None, 2), ("全年预算数(A)", 1), ("全年执行数(B)", 2), ("分值", 1), ("执行率(B/A)", 1), ("得分", 1)], bold=True)
    for caption, key in [("年度资金总额:", "total"), ("其中:本年财政拨款", "fiscal"), ("其他资金", "other")]:
        line = f["funds"].get(key) or {}
        sh.row([(None, 1), (caption, 2), (line.get("budget"), 1), (line.get("spent"), 2), (line.get("weight"), 1),
                (line.get("rate"), 1), (line.get("score"), 1)])
    sh.label(r, sh.r - 1, 1, "资金情况(万元)")
    r = sh.r
    sh.row([(None, 1), ("年初设定目标", 4), ("年度总体目标完成情况综述", 4)], bold=True)
    sh.row([(None, 1), (f["goals"]["expected"], 4), (f["goals"]["actual"], 4)], align="left")
    sh.label(r, r + 1, 1, "年度总体目标")
    head = sh.row([(c, 1) for c in [None, "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "全年实际值", "得分",
                                    "未完成原因及拟采取的改进措施"]], bold=True)
    indicator_rows(sh, flatten(f["indicators"]), 2, ["name", "weight", "target", "actual", "score", "reason"],
                   block="绩效指标", block_col=1, block_from=head)


def jingyan(book):
    """四川 井研: a landscape listing in 元 (#,##0.00), the department subtotal row, nothing merged in the indicators."""
    f = form("sichuan-jingyan-matazhen-2023-project")
    sh = Sheet(book, "项目支出绩效目标", [16, 12, 14, 14, 10, 12, 16, 8, 8, 8, 6, 10], landscape=True)
    sh.title(f["title"])
    sh.lines(None, "金额单位:元")
    sh.row([(c, 1) for c in ["单位名称", "项目名称", "预算数", "年度目标", "一级指标", "二级指标", "三级指标", "指标性质",
                             "指标值", "度量单位", "权重", "指标方向性"]], bold=True)
    sh.row([(f["department"], 1), (None, 1), (note(f, "820-马踏镇部门"), 1)] + [(None, 1)] * 9)
    rows = flatten(f["indicators"], "year")
    top = sh.r
    for k, (_, _, l0, l1, row) in enumerate(rows):
        sh.row([(None, 1)] * 4 + [(l0, 1), (l1, 1)] + [(row.get(x), 1) for x in ("name", "nature", "value", "unit", "weight", "direction")])
    for c, value in enumerate([f["implementer"], f["project"], f["funds"]["year"]["total"], f["goals"]["year"][0]], 1):
        sh.span(top, c, sh.r - 1, c, value)


def wuhai(book):
    """内蒙古 乌海: 投入目标 with a 资金来源 column, 指标性质 (正向/反向) BEFORE 指标方向 (=), a long block caption."""
    f = form("neimenggu-wuhai-gongxiaoshe-2021-project")
    sh = Sheet(book, "绩效目标表", [10, 10, 12, 22, 8, 8, 8, 10, 6, 8])
    sh.title(f["title"])
    sh.line("(2021年)")
    sh.row([("项目名称", 2), (f["project"], 8)])
    sh.row([("主管部门", 2), (f["department"], 3), ("实施单位", 2), (f["implementer"], 3)])
    sh.row([("项目类别", 2), (note(f, "项目类别"), 3), ("归口科室", 2), (note(f, "归口科室"), 3)])
    y = f["funds"]["year"]
    r = sh.r
    sh.row([(None, 2), ("资金来源", 3), ("年初安排金额(万元)", 5)], bold=True)
    for caption, key in [("资金总额", "total"), ("其中: 财政拨款数", "fiscal"), ("其他资金", "other")]:
        sh.row([(None, 2), (caption, 3), (y.get(key), 5)])
    sh.label(r, sh.r - 1, 1, "投入目标(万元)", c2=2)
    sh.row([("年度目标", 2), (f["goals"]["year"][0], 8)], height=60, align="left")
    head = sh.row([(c, 1) for c in [None, "一级指标", "二级指标", "三级指标", "指标性质", "指标方向", "目标值", "计量单位", "分值",
                                    "备注"]], bold=True)
    rows = flatten(f["indicators"], "year")
    indicator_rows(sh, rows, 2, ["name", "direction", "nature", "value", "unit", "weight", "remark"], merge_levels=False,
                   block="绩效指标(权重分值90分,其中产出指标权重分值50分,效益指标权重分值30分,满意度指标权重分值10分)",
                   block_col=1, block_from=head)


def xiangtan(book):
    """湖南 湘潭 2024: one money cell of four lines, a 项目实施进度计划 sub-table, 长期目标|年度目标, 绩效标准."""
    f = form("hunan-xiangtan-huanweichu-2024-project")
    sh = Sheet(book, "2024年项目绩效目标表", [12, 12, 16, 26, 16, 12])
    sh.title(f["title"])
    sh.line("填报单位(盖章):", align="left")
    sh.row([("项目名称", 1), (f["project"], 5)])
    sh.row([("项目起止时间", 1), (f["period"], 5)], numbers=False)
    sh.row([("主管部门及其编码", 1), (f["department"], 5)])
    sh.row([("项目实施单位", 1), (f["implementer"], 5)])
    sh.row([("项目负责人", 1), (note(f, "项目负责人"), 2), ("联系电话", 1), (note(f, "联系电话"), 2)], numbers=False)
    y = f["funds"]["year"]
    r = sh.r
    for text in ["资金总额: " + y["total"], "一、预算资金:" + y["fiscal"], "二、自有资金:" + y["other"], "三、其他:" + note(f, "三、其他")]:
        sh.row([(None, 1), (text, 5)], align="left")
    sh.label(r, sh.r - 1, 1, "项目资金申请(万元)")
    sh.row([("项目概况", 1), (note(f, "项目概况"), 5)], height=45, align="left")
    plan = note(f, "项目实施进度计划").split(" | ")
    r = sh.r
    sh.row([(None, 1), ("项目实施内容", 3), ("开始时间", 1), ("完成时间", 1)], bold=True)
    sh.row([(None, 1), (plan[0], 3), (plan[1], 1), (plan[2], 1)], numbers=False)
    sh.label(r, r + 1, 1, "项目实施进度计划")
    r = sh.r
    sh.row([(None, 1), ("长期目标", 2), ("年度目标", 3)], bold=True)
    sh.row([(None, 1), (f["goals"]["mid"][0], 2), (f["goals"]["year"][0], 3)], align="left")
    sh.label(r, r + 1, 1, "项目绩效目标")
    head = sh.row([(c, 1) for c in [None, "一级指标", "二级指标", "三级指标", "指标值", "绩效标准"]], bold=True)
    indicator_rows(sh, flatten(f["indicators"], "year"), 2, ["name", "value", "standard"], block="年度绩效指标", block_col=1,
                   block_from=head)
    sh.row([("其他需说明的问题", 1), (None, 5)])


def bingtuan(book):
    """新疆 兵团 六团: 项目 | 年度 money side by side (with 上年结转资金), 项目总目标 | 年度总体目标, one indicator half."""
    f = form("xinjiang-bingtuan-liutuan-2021-project")
    sh = Sheet(book, "附件", [10, 12, 16, 12, 12, 14, 14])
    sh.line("附件:", align="left")
    sh.title(f["title"])
    sh.row([("项目名称", 1), (f["project"], 6)])
    sh.row([("主管部门", 1), (f["department"], 2), ("实施单位", 1), (f["implementer"], 3)])
    sh.row([("项目属性", 1), (f["attribute"], 2), ("项目期", 1), (f["period"], 3)])
    m, y = f["funds"]["mid"], f["funds"]["year"]
    r = sh.r
    sh.row([(None, 1), ("项目资金总额:", 1), (m.get("total"), 1), ("年度资金申请总额", 2), (y.get("total"), 2)])
    sh.row([(None, 1), ("其中:财政资金", 1), (m.get("fiscal"), 1), ("其中:当年财政拨款", 2), (y.get("fiscal"), 2)])
    sh.row([(None, 1), (None, 1), (None, 1), ("上年结转资金", 2), (None, 2)])
    sh.row([(None, 1), ("其他资金", 1), (m.get("other"), 1), ("其他资金", 2), (y.get("other"), 2)])
    sh.label(r, sh.r - 1, 1, "资金情况 (万元)")
    r = sh.r
    sh.row([(None, 1), ("项目总目标", 3), ("年度总体目标", 3)], bold=True)
    sh.row([(None, 1), (f["goals"]["mid"][0], 3), (f["goals"]["year"][0], 3)], height=40, align="left")
    sh.label(r, r + 1, 1, "项目绩效目标")
    head = sh.row([(None, 1), ("一级 指标", 1), ("二级指标", 1), ("三级指标", 2), ("年度指标值", 2)], bold=True)
    indicator_rows(sh, flatten(f["indicators"], "year"), 2, [("name", 2), ("value", 2)], block="绩 效 指 标", block_col=1,
                   block_from=head)


def fuliang(book):
    """江西 浮梁: the 预算一体化 export — section rows 基本信息 / 年度绩效目标, label|value pairs, asterisks, a blank last column."""
    f = form("jiangxi-fuliang-linyeju-dept-overall")
    sh = Sheet(book, "部门整体支出绩效目标表", [10, 12, 22, 8, 8, 8, 16, 6], landscape=True)
    sh.title(f["title"])
    sh.row([("基本信息", 8)], bold=True)
    sh.row([("部门编码:", 1), (note(f, "部门编码:"), 1), ("部门名称:", 1), (f["department"], 1), ("*联系人:", 1),
            (note(f, "*联系人:"), 1), ("联系电话:", 1), (note(f, "联系电话:"), 1)], numbers=False)
    sh.row([("*部门职能职责概述", 2), (note(f, "*部门职能职责概述"), 6)], align="left")
    sh.row([("年度绩效目标", 8)], bold=True)
    sh.row([("*年度绩效总目标", 2), (f["goals"][0], 6)], align="left")
    sh.row([(c, 1) for c in ["一级指标", "二级指标", "三级指标", "计算符号", "目标值", "度量单位", "指标值说明", None]], bold=True)
    indicator_rows(sh, flatten(f["indicators"]), 1, ["name", "nature", "value", "unit", "standard", "remark"])


def nanyuezhen(book):
    """湖南 南岳镇 2018: no year line, 项目负责人及电话 beside 项目名称, a blank 备注 column, three approval rows."""
    f = form("hunan-nanyue-nanyuezhen-2018-project")
    sh = Sheet(book, "绩效目标申报表", [10, 12, 14, 30, 14, 10])
    sh.title(f["title"])
    sh.row([("项目名称", 1), (f["project"], 2), ("项目负责人及电话", 1), (note(f, "项目负责人及电话"), 2)])
    sh.row([("主管部门", 1), (f["department"], 2), ("实施单位", 1), (f["implementer"], 2)])
    y = f["funds"]["year"]
    r = sh.r
    for caption, key in [("年度资金总额:", "total"), ("其中:财政拨款", "fiscal"), ("其他资金", "other")]:
        sh.row([(None, 1), (caption, 2), (y.get(key), 3)])
    sh.label(r, sh.r - 1, 1, "资金情况(万元)")
    r = sh.r
    sh.row([(None, 1), ("年度目标", 3), ("年度总体目标完成情况", 2)], bold=True)
    sh.row([(None, 1), (f["goals"]["year"][0], 3), (None, 2)], align="left")
    sh.label(r, r + 1, 1, "总体目标")
    head = sh.row([(c, 1) for c in [None, "一级指标", "二级指标", "三级指标", "指标值", "备注"]], bold=True)
    indicator_rows(sh, flatten(f["indicators"], "year"), 2, ["name", "value", "remark"], block="绩效指标", block_col=1,
                   block_from=head)
    for label in ("财政部门支出股室初审意见", "财政部门绩效评价股审核意见", "区扶贫办审核意见"):
        sh.row([(label, 2), (note(f, label), 4)], height=36, align="right")


# ---------------------------------------------------------------------------- blank templates


def jiaxian_blank(book):
    """陕西 佳县 (blank): four printed pages, the title on each; seven money lines; 长期 and 年度 tables one after the other."""
    f = form("shaanxi-jiaxian-2016-project-blank")
    sh = Sheet(book, "申报表", [12, 14, 16, 14, 14, 12])
    sh.title(f["title"])
    sh.line("( 年度)")
    sh.line("填报单位(盖章)", align="left")
    sh.row([("项目名称", 1), (None, 5)])
    sh.row([("项目属性", 1), ("新增项目 □ 延续项目 □", 5)])
    sh.row([("主管部门", 1), (None, 2), ("主管部门编码", 1), (None, 2)])
    sh.row([("项目实施单位", 1), (None, 5)])
    sh.row([("项目负责人", 1), (None, 2), ("联系电话", 1), (None, 2)])
    sh.row([("项目起止时间", 1), (None, 5)])
    r = sh.r
    for caption in ["资金总额:", "财政拨款:", "自有资金:", "事业收入:", "经营性收入:", "其他:", "其他:"]:
        sh.row([(None, 1), (caption, 2), (None, 3)])
    sh.label(r, sh.r - 1, 1, "项目资金申请(万元)")
    sh.row([("单位职能概述", 1), (None, 5)], height=60)
    sh.ws.row_breaks.append(openpyxl.worksheet.pagebreak.Break(id=sh.r - 1))
    sh.title(f["title"])
    sh.row([("项目概况", 1), (None, 5)], height=60)
    r = sh.r
    for caption in ["项目立项的依据", "项目申报的可行性", "项目申报的必要性"]:
        sh.row([(None, 1), (caption, 1), (None, 4)], height=45)
    sh.label(r, sh.r - 1, 1, "项目立项情况")
    r = sh.r
    sh.row([(None, 1), ("项目实施内容", 3), ("开始时间", 1), ("完成时间", 1)], bold=True)
    for mark in ["1、", "2、", "3、", "……", "……"]:
        sh.row([(None, 1), (mark, 3), (None, 1), (None, 1)], align="left")
    sh.label(r, sh.r - 1, 1, "项目实施进度计划")
    r = sh.r
    sh.row([(None, 1), ("长期目标", 2), ("年度目标", 3)], bold=True)
    sh.row([(None, 1), (None, 2), (None, 3)], height=60)
    sh.label(r, r + 1, 1, "项目绩效目标")
    for half, caption in (("mid", "长期绩效指标"), ("year", "年度绩效指标")):
        sh.ws.row_breaks.append(openpyxl.worksheet.pagebreak.Break(id=sh.r - 1))
        sh.title(f["title"])
        head = sh.row([(c, 1) for c in [None, "一级指标", "二级指标", "指标内容", "指标值", "备注"]], bold=True)
        indicator_rows(sh, flatten(f["indicators"], half), 2, ["name", "value", "remark"], block=caption, block_col=1,
                       block_from=head)
    sh.row([("其他说明的问题", 1), (None, 5)], height=45)
    sh.line("填报人:              单位负责人:              填报日期:", align="left")


def daqing_blank(book):
    """黑龙江 大庆 (blank): 19 check boxes, a 4-column money table, 支出明细, 预期目标, 上年度实际水平 | 本年度计划水平."""
    f = form("heilongjiang-daqing-project-blank")
    sh = Sheet(book, "附1", [10, 16, 14, 12, 12, 12, 16])
    sh.line("附1:", align="left")
    sh.title(f["title"])
    sh.line("( 年度)")
    sh.line("编制单位(盖章):", align="left")
    r = sh.r
    sh.row([(None, 1), ("项目名称", 1), (None, 1), ("项目负责人", 1), (None, 1), ("联系电话", 1), (None, 1)])
    sh.row([(None, 1), ("项目类别", 1), (note(f, "项目类别"), 5)], height=60, align="left")
    sh.row([(None, 1), ("项目属性", 1), (f["attribute"], 5)], align="left")
    sh.row([(None, 1), ("项目计划实施时间", 1), (f["period"], 5)])
    sh.row([(None, 1), ("项目申请原因(包括设立依据、可行性及必要性)", 1), (None, 5)], height=60)
    sh.row([(None, 1), ("以前年度项目绩效情况", 1), (None, 5)], height=45)
    sh.label(r, sh.r - 1, 1, "项目基本情况")
    r = sh.r
    money = note(f, "项目资金情况").split("\n")
    head = money[0].split(" | ")
    sh.row([(None, 1), (head[0], 2), (head[1], 1), (head[2], 1), (head[3], 2)], bold=True)
    for line in money[1:]:
        cells = line.split(" | ") + [None] * 3
        sh.row([(None, 1), (cells[0], 2), (cells[1], 1), (cells[2], 1), (cells[3], 2)])
    cost = note(f, "项目支出内容及明细预算(万元)").split("\n")
    head = cost[0].split(" | ")
    sh.row([(None, 1)] + [(h, 1) for h in head[:4]] + [(head[4], 2)], bold=True)
    for line in cost[1:]:
        cells = line.split(" | ") + [None] * 4
        sh.row([(None, 1)] + [(c, 1) for c in cells[:4]] + [(None, 2)])
    sh.label(r, sh.r - 1, 1, "项目资金情况")
    r = sh.r
    goals = note(f, "绩效目标情况").split("\n")
    head = goals[0].split(" | ")
    sh.row([(None, 1), (None, 1), (head[1], 2), (head[2], 3)], bold=True)
    for caption in goals[1:]:
        sh.row([(None, 1), (None, 1), (caption, 2), (None, 3)])
    sh.span(r, 2, sh.r - 1, 2, head[0])  # 预期目标 over its header row and its two rows
    sh.row([(None, 1), ("保障绩效目标实现的措施", 1), (note(f, "保障绩效目标实现的措施").replace("\n", "  "), 5)], align="left")
    sh.label(r, sh.r - 1, 1, "绩效目标情况")
    r = sh.r
    sh.span(r, 2, r, 3, "指标名称", bold=True)
    for c, text in [(4, "上年度实际水平"), (5, "本年度计划水平"), (6, "指标内容/计算公式")]:
        sh.span(r, c, r + 1, c if c < 6 else 7, text, bold=True)
    sh.cell(r + 1, 2, "二级指标", bold=True)
    sh.cell(r + 1, 3, "三级指标", bold=True)
    sh.r = r + 2
    for top in f["indicators"]:
        first = sh.r
        for row in top["year"][0]["rows"]:
            sh.row([(None, 1), (None, 1), (row.get("name"), 1), (None, 1), (None, 1), (None, 2)])
        sh.span(first, 2, sh.r - 1, 2, top["name"])
    sh.label(r, sh.r - 1, 1, "绩效指标")
    sh.row([("财政主管业务科室审核意见", 2), (None, 5)], height=40)


def guangxi_blank(book):
    """广西 (blank header, pre-filled indicators): seven money lines, "(450字内)" captions, 分值 BEFORE 指标内容/指标值."""
    f = form("guangxi-gxglmes-2021-project-blank")
    sh = Sheet(book, "申报表", [14, 12, 18, 8, 26, 18, 26, 6])
    sh.title(f["title"])
    sh.line("(2021年度)")
    sh.line("填报单位:", align="left")
    sh.row([("项目名称", 1), (None, 3), ("项目类型", 1), (None, 3)])
    sh.row([("主管部门编码", 1), (None, 3), ("主管部门名称", 1), (None, 3)])
    sh.row([("项目实施单位", 1), (None, 2), ("项目负责人", 1), (None, 1), ("联系电话", 1), (None, 2)])
    sh.row([("项目起止时间(如20190101)", 1), (None, 3), ("到", 1), (None, 3)])
    r = sh.r
    for caption in ["资金总额:", "一般公共预算拨款:", "政府性基金预算拨款:", "国有资本经营预算拨款:", "纳入财政专户管理的收入:",
                    "未纳入财政专户管理的收入:", "上年结余收入:"]:
        sh.row([(None, 1), (caption, 3), (None, 4)])
    sh.label(r, sh.r - 1, 1, "项目资金申请(万元)")
    sh.row([("单位职能概述(450字内)", 1), (None, 7)], height=45)
    sh.row([("项目概况(450字内)", 1), (None, 7)], height=45)
    r = sh.r
    for caption in ["项目立项的依据(450字内)", "项目申报的可行性(450字内)", "项目申报的必要性(450字内)"]:
        sh.row([(None, 1), (caption, 2), (None, 5)], height=40)
    sh.label(r, sh.r - 1, 1, "项目立项情况")
    sh.row([("项目实施进度计划(450字内)", 1), (None, 7)], height=45)
    r = sh.r
    sh.row([(None, 1), ("长期目标(450字内)", 3), ("年度目标(450字内)", 4)], bold=True)
    sh.row([(None, 1), (None, 3), (None, 4)], height=60)
    sh.label(r, r + 1, 1, "项目绩效目标")
    head = sh.row([(c, 1) for c in [None, "一级指标", "二级指标", "分值", "指标内容(150字内)", "指标值(150字内)",
                                    "评分细则(150字内)", None]], bold=True)
    rows = []
    for top in f["indicators"]:
        for row in top["year"][0]["rows"]:
            rows.append((top["name"], row))
    first = sh.r
    for name, row in rows:
        sh.row([(None, 1), (None, 1), (row.get("name"), 1), (row.get("weight"), 1), (row.get("explain"), 1),
                (row.get("value"), 1), (row.get("standard"), 1), (None, 1)], align="left")
    for a, b in runs(rows, lambda x: x[0]):
        sh.span(first + a, 2, first + b, 2, rows[a][0])
    sh.span(head, 1, sh.r - 1, 1, "项目年度绩效目标衡量指标", bold=True)


def keji_blank(book):
    """中央引导地方科技发展资金 (blank 自评表): three fill-in lines above; no 年初预算数, 分值 or 得分; pre-printed 三级指标."""
    f = form("national-keji-yindao-2021-project-self-eval-blank")
    sh = Sheet(book, "自评表", [10, 12, 14, 30, 14, 14, 20])
    sh.line("附件3", align="left")
    sh.title(f["title"])
    for line in ["项目类别:", "项目名称:", "承担单位:(盖章)"]:
        sh.line(line, align="left")
    sh.line("(2021年度)")
    sh.row([("转移支付(项目)名称", 2), (f["project"], 5)])
    sh.row([("中央主管部门", 2), (f["department"], 2), ("地方主管部门", 1), (note(f, "地方主管部门"), 2)])
    sh.row([("实施单位", 2), (None, 5)])
    r = sh.r
    sh.row([(None, 1), (None, 2), ("全年预算数(A)", 1), ("全年执行数(B)", 1), ("预算执行率(B/A)", 2)], bold=True)
    for caption in ["年度资金总额:", "其中:中央补助地方资金", "其他资金"]:
        sh.row([(None, 1), (caption, 2), (None, 1), (None, 1), (None, 2)])
    sh.label(r, sh.r - 1, 1, "项目资金(万元)")
    r = sh.r
    sh.row([(None, 1), ("年初设定目标", 3), ("全年实际完成情况", 3)], bold=True)
    sh.row([(None, 1), (None, 3), (None, 3)], height=60)
    sh.label(r, r + 1, 1, "年度总体目标")
    head = sh.row([(c, 1) for c in [None, "一级指标", "二级指标", "三级指标", "年度指标值", "全年完成值",
                                    "未完成原因和改进措施"]], bold=True)
    indicator_rows(sh, flatten(f["indicators"]), 2, ["name", "target", "actual", "reason"],
                   block="绩效指标", block_col=1, block_from=head)


WORKBOOKS = [
    ("01-qingshan-infra.xlsx", qingshan_infra),
    ("02-zhaohua.xlsx", zhaohua),
    ("03-yongde.xlsx", yongde),
    ("04-qingshen.xlsx", qingshen),
    ("05-xiaoxian.xlsx", xiaoxian),
    ("06-jingyan.xlsx", jingyan),
    ("07-wuhai.xlsx", wuhai),
    ("08-xiangtan-2024.xlsx", xiangtan),
    ("09-bingtuan.xlsx", bingtuan),
    ("10-fuliang.xlsx", fuliang),
    ("11-nanyuezhen.xlsx", nanyuezhen),
    ("blank-jiaxian.xlsx", jiaxian_blank),
    ("blank-daqing.xlsx", daqing_blank),
    ("blank-guangxi.xlsx", guangxi_blank),
    ("blank-keji.xlsx", keji_blank),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, build in WORKBOOKS:
        book = openpyxl.Workbook()
        book.remove(book.active)
        build(book)
        for ws in book.worksheets:
            SHEETS[ws.title].fit()
        book.save(os.path.join(out, name))
        print(name)


if __name__ == "__main__":
    main()
