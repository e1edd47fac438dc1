#!/usr/bin/env python3
"""The formpress serve page in headless Chromium (Selenium), run by tests/serve.rs.

usage: browser.py URL FORMS_DIR DOWNLOAD_DIR FORMPRESS_BINARY [FLOW...]

Flows (all by default):
  seed     open the seed, mend its amount in the grid, see the finding go and the
           preview follow; click a place in the preview and land in that cell
  fill     a new 项目支出绩效目标申报表 with 12 indicator rows, typed into the grid
           from nothing with the keyboard; saved with Ctrl+S; the saved YAML's PDF
           (打印) is byte for byte the one `formpress render` writes
  undo     a structural edit (a row inserted) undone and redone with Ctrl+Z / Ctrl+Y
  recover  unsaved work offered back after the tab was closed
  import   an .xlsx (formpress's own export of the example) imported into a new form
  seal     a seal picture uploaded into the form's folder and printed
  copy     复制为新表 from the list: the year moved on, amounts cleared
  fonts    Chinese drawn with the page's own web fonts (run with fontconfig pointed
           at an empty folder: no system font at all); checks pixels
Set FP_SCREENS=DIR to keep screenshots (1366×768). Exits non-zero on any failure.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

URL, DIR, DOWNLOADS, FORMPRESS = sys.argv[1:5]
FLOWS = sys.argv[5:] or ["seed", "fill", "undo", "recover", "import", "seal", "copy"]
SCREENS = os.environ.get("FP_SCREENS")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="fp-chromium-")
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1366,768", "--user-data-dir=" + profile,
                 "--force-device-scale-factor=1"]:
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"download.default_directory": DOWNLOADS,
                                           "download.prompt_for_download": False})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": DOWNLOADS})
    return d


def wait(d, what, timeout=30):
    # The grid is rebuilt after structural edits: a stale element is retried.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(d, timeout, poll_frequency=0.02, ignored_exceptions=ignored).until(lambda _: what())


def cell(d, path):
    return d.find_element(By.CSS_SELECTOR, '#sheet [data-path="%s"]' % path)


def td_of(d, path):
    return cell(d, path).find_element(By.XPATH, "./ancestor::td[1]")


def notes_at(d, path):
    return [li.text for li in td_of(d, path).find_elements(By.CSS_SELECTOR, ".notes li")]


def active_path(d):
    return d.execute_script("return document.activeElement && document.activeElement.getAttribute('data-path')")


def settled(d):
    """No grid or preview request in flight, and no key waiting."""
    return d.execute_script("return !sheetBusy && !S.settling && !S.queue.length && !previewBusy")


def js_data(d, path=None):
    return d.execute_script("return JSON.parse(JSON.stringify(%s))" % ("S.data" if path is None else "get(parsePath(%s))" % json.dumps(path)))


def shot(d, name):
    if SCREENS:
        os.makedirs(SCREENS, exist_ok=True)
        d.save_screenshot(os.path.join(SCREENS, name + ".png"))


def click(d, el):
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    el.click()


class Keyboard:
    """Types into whatever has the focus, counting what a person would do."""

    def __init__(self, d):
        self.d = d
        self.keys = 0      # navigation keys (Tab, Enter, arrows) and shortcuts
        self.chars = 0     # characters typed
        self.cells = 0      # cells typed into
        self.clicks = 0

    def type(self, text):
        # One call is one cell (its path may not be known yet while a new row is laid out).
        self.cells += 1
        self.chars += len(text)
        ActionChains(self.d).send_keys(text).perform()

    def press(self, *keys):
        self.keys += 1
        ActionChains(self.d).send_keys(*keys).perform()

    def shortcut(self, modifier, key):
        self.keys += 1
        ActionChains(self.d).key_down(modifier).send_keys(key).key_up(modifier).perform()

    def click(self, el):
        self.clicks += 1
        click(self.d, el)


def pdf_of(path):
    out = os.path.join(tempfile.mkdtemp(), "cli.pdf")
    subprocess.run([FORMPRESS, "render", "--no-system-fonts", path, "-o", out], check=True, capture_output=True)
    return open(out, "rb").read()


def fetch(url):
    with urllib.request.urlopen(url) as r:
        return r.read(), dict(r.headers)


def no_page_errors(d):
    for entry in d.get_log("browser"):
        if entry["level"] == "SEVERE" and (entry["source"] != "network" or "Content Security" in entry["message"]):
            raise AssertionError("browser console: %s" % entry["message"])


def open_form(d, name):
    d.get(URL)
    row = wait(d, lambda: d.find_element(By.CSS_SELECTOR, 'tr[data-name="%s"]' % name))
    click(d, row.find_element(By.CSS_SELECTOR, "button.open"))
    wait(d, lambda: d.find_element(By.CSS_SELECTOR, "#sheet table.grid"))
    wait(d, lambda: settled(d))


def seed_flow(d):
    open_form(d, "seed.yaml")
    # The seed's own error is shown at its cell, and its pages are previewed.
    wait(d, lambda: any("大于合计" in n for n in notes_at(d, "tasks[2].fiscal")))
    wait(d, lambda: len(d.find_elements(By.CSS_SELECTOR, "#pages img.page")) >= 2)
    assert "草稿" in d.find_element(By.ID, "preview-info").text
    shot(d, "1-seed-opened")
    # Mend the amount in its cell: the finding goes and the preview follows.
    fiscal = cell(d, "tasks[2].fiscal")
    click(d, fiscal)
    ActionChains(d).send_keys(Keys.END, Keys.BACKSPACE).perform()
    wait(d, lambda: js_data(d, "tasks[2].fiscal") == "3300." and settled(d))
    time.sleep(0.3)
    # One keystroke, timed in the page: to the checked grid, and to the changed page drawn.
    seq = d.find_element(By.ID, "pages").get_attribute("data-seq")
    ActionChains(d).send_keys("8").perform()
    wait(d, lambda: "校验码" in d.find_element(By.ID, "preview-info").text
         and d.find_element(By.ID, "pages").get_attribute("data-seq") != seq and settled(d))
    wait(d, lambda: not notes_at(d, "tasks[2].fiscal"))
    print("seed, one edit: keystroke to checked grid %s ms, to changed page drawn %s ms (%s)" % (
        d.find_element(By.ID, "sheet").get_attribute("data-latency"),
        d.find_element(By.ID, "pages").get_attribute("data-latency"),
        d.find_element(By.ID, "preview-info").text))
    shot(d, "2-seed-mended")
    # A click on a page selects the cell printed there (the third task's 合计 on page 1).
    page = d.execute_script("return S.pages[0]")
    target = [c for c in page["cells"] if c["path"] == "tasks[2].total"][0]
    img = d.find_element(By.CSS_SELECTOR, "#pages img.page")
    d.execute_script("arguments[0].scrollIntoView({block: 'start'})", img)
    box = d.execute_script("var r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width];", img)
    scale = box[2] / page["w"]
    x = box[0] + (target["x"] + target["w"] / 2) * scale
    y = box[1] + (target["y"] + target["h"] / 2) * scale
    pointer = ActionBuilder(d)
    pointer.pointer_action.move_to_location(int(x), int(y)).click()
    pointer.perform()
    wait(d, lambda: active_path(d) == "tasks[2].total")
    no_page_errors(d)


# The 12-row form of the issue, as a person types it: header, funds, goals, then
# the table row by row (一级 | 二级 | 三级 | 指标值), year side only.
HEADER = [("year", "2021"), ("project", "农村义务教育学生营养改善计划"), ("department", "某市教育局（301）"),
          ("implementer", "各县（市、区）教育局"), ("attribute", "延续项目"), ("period", "3年")]
FUNDS = [("funds.year.fiscal", "3120"), ("funds.year.other", "0")]
GOALS = ["按每生每天5元标准发放营养膳食补助，受益学生5.2万人。", "食品安全事故零发生。"]
TABLE = [
    ("成本指标", "经济成本指标", "营养膳食补助标准", "＝5元/生·天"),
    (None, None, "年度资金预算控制数", "≤3120万元"),
    ("产出指标", "数量指标", "受益学生人数", "≥5.2万人"),
    (None, None, "实施学校数", "312所"),
    (None, "质量指标", "补助资金使用合规率", "100%"),
    (None, None, "膳食营养达标率", "≥95%"),
    (None, "时效指标", "补助资金拨付及时率", "100%"),
    ("效益指标", "社会效益指标", "食品安全事故发生数", "0起"),
    (None, None, "学生营养知识知晓率", "≥90%"),
    (None, "可持续影响指标", "营养改善长效机制", "持续完善"),
    ("满意度指标", "服务对象满意度指标", "学生满意度", "≥90%"),
    (None, None, "家长满意度", "≥90%"),
]


def fill_flow(d):
    d.get(URL)
    wait(d, lambda: d.find_element(By.ID, "new-kind"))
    Select(d.find_element(By.ID, "new-kind")).select_by_value("project")
    d.find_element(By.ID, "new-name").send_keys("营养改善")
    click(d, d.find_element(By.ID, "new-button"))
    wait(d, lambda: d.find_element(By.CSS_SELECTOR, "#sheet table.grid"))
    wait(d, lambda: settled(d) and d.find_elements(By.CSS_SELECTOR, "#pages img.page"))
    # A new form: the blank official form, no findings, no errors.
    assert not d.find_elements(By.CSS_SELECTOR, "#sheet td.has-error, #sheet td.has-warning, #general-findings li")
    assert "新表单" in d.find_element(By.ID, "status").text
    assert "空白表" in d.find_element(By.ID, "preview-info").text, d.find_element(By.ID, "preview-info").text
    shot(d, "3-new-blank")
    kb = Keyboard(d)

    def go(path):
        wait(d, lambda: settled(d))
        wait(d, lambda: click(d, cell(d, path)) or True)
        kb.clicks += 1
        wait(d, lambda: active_path(d) == path)

    # The header: Tab from cell to cell.
    go("year")
    for i, (path, text) in enumerate(HEADER):
        assert active_path(d) == path, (active_path(d), path)
        kb.type(text)
        kb.press(Keys.TAB)
    go(FUNDS[0][0])
    kb.type(FUNDS[0][1])
    kb.press(Keys.TAB)
    kb.type(FUNDS[1][1])
    go("goals.year[0]")
    for g in GOALS:
        kb.type(g)
        kb.press(Keys.ENTER)
    # The indicator table: Tab across a row, Enter to the next row's 三级指标;
    # Shift+Tab back into the new row's 二级 (or 一级) cell to start a group.
    go("indicators[0].name")
    for i, (l0, l1, name, value) in enumerate(TABLE):
        if i > 0:
            back = 2 if l0 else 1 if l1 else 0
            for _ in range(back):
                kb.shortcut(Keys.SHIFT, Keys.TAB)
        if l0:
            kb.type(l0)
            kb.press(Keys.TAB)
        if l1:
            kb.type(l1)
            kb.press(Keys.TAB)
        kb.type(name)
        kb.press(Keys.TAB)
        kb.type(value)
        kb.press(Keys.ENTER)
    wait(d, lambda: settled(d))
    data = js_data(d)
    rows = [(g["name"], s["name"], r.get("name"), r.get("value")) for g in data["indicators"]
            for s in g["year"] for r in s["rows"]]
    want = []
    l0 = l1 = None
    for a, b, c, v in TABLE:
        l0, l1 = a or l0, b or l1
        want.append((l0, l1, c, v))
    assert rows == want, json.dumps(rows, ensure_ascii=False)
    assert data["goals"]["year"] == GOALS, data["goals"]
    wait(d, lambda: "校验码" in d.find_element(By.ID, "preview-info").text and settled(d))
    # The 申报表's 年度资金总额 is a cell the unit fills in: left blank, nothing is
    # computed into it (the page prints it blank too).
    total = td_of(d, "funds.year.total")
    assert "computed-cell" not in total.get_attribute("class")
    assert not cell(d, "funds.year.total").get_attribute("data-computed")
    assert not d.find_elements(By.CSS_SELECTOR, "#sheet td.has-error"), "errors after filling"
    shot(d, "4-filled")
    kb.shortcut(Keys.CONTROL, "s")
    wait(d, lambda: "已保存" in d.find_element(By.ID, "message").text)
    print("12-row 项目支出绩效目标申报表 from nothing: %d cells typed into, %d characters, %d keys "
          "(Tab, Enter, Shift+Tab, Ctrl+S), %d clicks" % (kb.cells, kb.chars, kb.keys, kb.clicks))
    path = os.path.join(DIR, "营养改善.yaml")
    text = open(path, encoding="utf-8").read()
    assert "form: project" in text and "家长满意度" in text and "fiscal: 3120" in text, text
    check = subprocess.run([FORMPRESS, "check", "--no-system-fonts", path], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    # 打印: the exact PDF `formpress render` writes of the saved YAML.
    handles = d.window_handles
    click(d, d.find_element(By.ID, "print"))
    wait(d, lambda: len(d.window_handles) > len(handles))
    new = [h for h in d.window_handles if h not in handles][0]
    d.switch_to.window(new)
    url = wait(d, lambda: d.current_url if "/api/pdf" in d.current_url else None)
    assert "inline=1" in url, url
    d.close()
    d.switch_to.window(handles[0])
    body, headers = fetch(url)
    assert headers.get("content-disposition", headers.get("Content-Disposition", "")).startswith("inline")
    assert body == pdf_of(path), "打印 PDF differs from formpress render"
    no_page_errors(d)


def rows_of(d):
    data = js_data(d, "indicators")
    return sum(len(s.get("rows", [])) for g in data for s in g.get("year", []))


def undo_flow(d):
    open_form(d, "营养改善.yaml")
    before = rows_of(d)
    name = "indicators[1].year[0].rows[0].name"
    click(d, cell(d, name))
    wait(d, lambda: active_path(d) == name)
    ActionChains(d).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
    wait(d, lambda: rows_of(d) == before + 1 and settled(d))
    assert js_data(d, "indicators[1].year[0].rows[1]") == {}, js_data(d, "indicators[1].year[0].rows")
    ActionChains(d).send_keys("新增的指标").perform()
    wait(d, lambda: js_data(d, "indicators[1].year[0].rows[1].name") == "新增的指标" and settled(d))
    shot(d, "5-row-inserted")
    ActionChains(d).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
    wait(d, lambda: js_data(d, "indicators[1].year[0].rows[1]") == {} and settled(d))
    ActionChains(d).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
    wait(d, lambda: rows_of(d) == before and settled(d))
    assert js_data(d, "indicators[1].year[0].rows[1].name") == "实施学校数"
    ActionChains(d).key_down(Keys.CONTROL).send_keys("y").key_up(Keys.CONTROL).perform()
    wait(d, lambda: rows_of(d) == before + 1 and settled(d))
    ActionChains(d).key_down(Keys.CONTROL).send_keys("y").key_up(Keys.CONTROL).perform()
    wait(d, lambda: js_data(d, "indicators[1].year[0].rows[1].name") == "新增的指标" and settled(d))
    wait(d, lambda: cell(d, "indicators[1].year[0].rows[1].name").text == "新增的指标")
    # Merge a 二级 group into the one above (同上) from the row menu, then undo it.
    groups = len(js_data(d, "indicators[1].year"))
    target = cell(d, "indicators[1].year[1].name")
    ActionChains(d).context_click(target).perform()
    menu = wait(d, lambda: d.find_element(By.ID, "menu") if d.find_element(By.ID, "menu").is_displayed() else None)
    shot(d, "6-row-menu")
    click(d, [b for b in menu.find_elements(By.TAG_NAME, "button") if "同上" in b.text][0])
    wait(d, lambda: len(js_data(d, "indicators[1].year")) == groups - 1 and settled(d))
    ActionChains(d).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
    wait(d, lambda: len(js_data(d, "indicators[1].year")) == groups and settled(d))
    # Move a row down (Alt+↓), past the end of its group into the next; delete it (Alt+Delete);
    # start a new 二级 group at a row (Ctrl+Shift+D); each undone.
    names = lambda: [[r.get("name") for r in g["rows"]] for g in js_data(d, "indicators[1].year")]
    start = names()
    wait(d, lambda: click(d, cell(d, "indicators[1].year[0].rows[2].name")) or True)
    wait(d, lambda: active_path(d) == "indicators[1].year[0].rows[2].name")
    ActionChains(d).key_down(Keys.ALT).send_keys(Keys.ARROW_DOWN).key_up(Keys.ALT).perform()
    wait(d, lambda: names()[1][0] == start[0][2] and settled(d))
    assert active_path(d) == "indicators[1].year[1].rows[0].name", active_path(d)
    ActionChains(d).key_down(Keys.ALT).send_keys(Keys.DELETE).key_up(Keys.ALT).perform()
    wait(d, lambda: names()[1] == start[1] and len(names()[0]) == 2 and settled(d))
    wait(d, lambda: click(d, cell(d, "indicators[1].year[0].rows[1].name")) or True)
    ActionChains(d).key_down(Keys.CONTROL).key_down(Keys.SHIFT).send_keys("d").key_up(Keys.SHIFT).key_up(Keys.CONTROL).perform()
    wait(d, lambda: len(names()) == groups + 1 and settled(d))
    assert names()[1] == [start[0][1]], names()
    for _ in range(3):
        ActionChains(d).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
        wait(d, lambda: settled(d))
    assert names() == start, (names(), start)
    no_page_errors(d)


def recover_flow(d):
    open_form(d, "营养改善.yaml")
    first = d.current_window_handle
    # A second tab with the form; type, then close the tab without saving.
    d.switch_to.new_window("tab")
    open_form(d, "营养改善.yaml")
    project = cell(d, "project")
    click(d, project)
    ActionChains(d).send_keys("（未保存）").perform()
    wait(d, lambda: "（未保存）" in (d.execute_script(
        "return localStorage.getItem(draftKey('营养改善.yaml'))") or ""))
    d.close()
    d.switch_to.window(first)
    d.get(URL)
    offer = wait(d, lambda: d.find_element(By.CSS_SELECTOR, '#recover .draft-offer[data-name="营养改善.yaml"]'))
    shot(d, "7-recover-offer")
    click(d, offer.find_element(By.CSS_SELECTOR, "button.restore"))
    wait(d, lambda: "（未保存）" in cell(d, "project").text)
    assert "恢复" in d.find_element(By.ID, "message").text
    # Saved, the draft is gone.
    ActionChains(d).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
    wait(d, lambda: "已保存" in d.find_element(By.ID, "message").text)
    assert "（未保存）" in open(os.path.join(DIR, "营养改善.yaml"), encoding="utf-8").read()
    assert d.execute_script("return localStorage.getItem(draftKey('营养改善.yaml'))") is None
    no_page_errors(d)


def import_flow(d):
    work = tempfile.mkdtemp()
    src = os.path.join(work, "项目表.yaml")
    shutil.copy(os.path.join(ROOT, "forms", "project-2021.yaml"), src)
    subprocess.run([FORMPRESS, "render", "--no-system-fonts", src, "--format", "xlsx"], check=True, capture_output=True)
    xlsx = os.path.join(work, "项目表.xlsx")
    d.get(URL)
    wait(d, lambda: d.find_element(By.ID, "import-file"))
    d.find_element(By.ID, "import-file").send_keys(xlsx)
    wait(d, lambda: "已从" in d.find_element(By.ID, "message").text)
    wait(d, lambda: cell(d, "project").text == "农村义务教育学生营养改善计划")
    assert os.path.exists(os.path.join(DIR, "项目表.yaml"))
    wait(d, lambda: settled(d))
    shot(d, "8-imported")
    no_page_errors(d)


def seal_flow(d):
    open_form(d, "营养改善.yaml")
    d.find_element(By.ID, "seal-file").send_keys(os.path.join(ROOT, "forms", "seal-example.png"))
    wait(d, lambda: "印章图片已存为" in d.find_element(By.ID, "message").text)
    saved = os.path.join(DIR, "营养改善-印章.png")
    assert open(saved, "rb").read() == open(os.path.join(ROOT, "forms", "seal-example.png"), "rb").read()
    wait(d, lambda: cell(d, "signature.seal").text == "营养改善-印章.png")
    click(d, cell(d, "signature.unit"))
    ActionChains(d).send_keys("某市教育局").perform()
    wait(d, lambda: settled(d) and "校验码" in d.find_element(By.ID, "preview-info").text)
    shot(d, "9-sealed")
    ActionChains(d).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
    wait(d, lambda: "已保存" in d.find_element(By.ID, "message").text)
    path = os.path.join(DIR, "营养改善.yaml")
    assert "seal: 营养改善-印章.png" in open(path, encoding="utf-8").read()
    body, _ = fetch(URL + "api/pdf?name=" + urllib.request.quote("营养改善.yaml"))
    assert body == pdf_of(path)
    tmp = os.path.join(tempfile.mkdtemp(), "s.pdf"); open(tmp, "wb").write(body)
    images = subprocess.run(["pdfimages", "-list", tmp], capture_output=True).stdout.decode()
    assert len(images.strip().splitlines()) > 2, images
    # A file that is no picture is refused with the reason; nothing is written.
    fake = os.path.join(tempfile.mkdtemp(), "seal.png")
    open(fake, "wb").write(b"not a picture")
    d.find_element(By.ID, "seal-file").send_keys(fake)
    wait(d, lambda: "印章图片不可用" in d.find_element(By.ID, "message").text)
    assert not os.path.exists(os.path.join(DIR, "营养改善-印章-2.png"))


def copy_flow(d):
    """复制为新表 from the list: the year moved on, amounts cleared, the copy opened."""
    d.get(URL)
    row = wait(d, lambda: d.find_element(By.CSS_SELECTOR, 'tr[data-name="营养改善.yaml"]'))
    click(d, row.find_element(By.CSS_SELECTOR, "button.copy"))
    wait(d, lambda: d.find_element(By.ID, "copy-dialog").is_displayed())
    name = d.find_element(By.ID, "copy-name")
    name.clear()
    name.send_keys("营养改善2022.yaml")
    click(d, d.find_element(By.CSS_SELECTOR, "input[name=copy-amounts][value=clear]"))
    click(d, d.find_element(By.ID, "copy-ok"))
    wait(d, lambda: "已复制为" in d.find_element(By.ID, "message").text and settled(d))
    assert cell(d, "year").text == "2022" and cell(d, "funds.year.fiscal").text == ""
    text = open(os.path.join(DIR, "营养改善2022.yaml"), encoding="utf-8").read()
    assert "year: 2022" in text and "3120" not in text.split("indicators")[0] and "家长满意度" in text, text
    no_page_errors(d)


def fonts_flow(d):
    """Chinese from the page's own web fonts: the same glyphs drawn twice are
    identical and other glyphs differ (boxes of a missing font would all be alike)."""
    open_form(d, "seed.yaml")
    d.execute_script("return document.fonts.ready")
    wait(d, lambda: d.execute_script("return document.fonts.status") == "loaded")
    shot(d, "10-no-system-fonts")
    png = lambda el: el.screenshot_as_png
    for text in ["绩效目标", "绩效目标", "申报表格"]:
        d.execute_script("""
            var s = document.createElement('span'); s.className = 'probe'; s.textContent = arguments[0];
            s.style.cssText = 'position:fixed;left:0;top:0;z-index:99;background:#fff;font:32px fp-serif;padding:2px';
            document.body.appendChild(s);""", text)
    wait(d, lambda: d.execute_script("return document.fonts.check('32px fp-serif', '绩效目标申报表格')"))
    time.sleep(0.3)
    probes = d.find_elements(By.CSS_SELECTOR, "span.probe")
    shots = []
    for p in probes:
        d.execute_script("document.querySelectorAll('span.probe').forEach(function (x) { x.style.display = 'none'; });"
                         "arguments[0].style.display = '';", p)
        shots.append(png(p))
    out = subprocess.run(["python3", "-c", PIXELS] + [base64.b64encode(s).decode() for s in shots],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    print("fonts: " + out.stdout.strip())
    no_page_errors(d)


# Ink per glyph slot: the same text gives the same ink, other text other ink,
# and there is ink (not blank). Pure Python PNG reading through zlib.
PIXELS = r'''
import base64, struct, sys, zlib
def read(b):
    assert b[:8] == b"\x89PNG\r\n\x1a\n"
    i, w, h, data, ct = 8, 0, 0, b"", 0
    while i < len(b):
        n, t = struct.unpack(">I4s", b[i:i+8]); body = b[i+8:i+8+n]; i += 12 + n
        if t == b"IHDR": w, h, depth, ct = struct.unpack(">IIBB", body[:10])
        elif t == b"IDAT": data += body
    raw = zlib.decompress(data); bpp = {2: 3, 6: 4}[ct]; stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y*(stride+1)]; line = bytearray(raw[y*(stride+1)+1:(y+1)*(stride+1)])
        for x in range(stride):
            a = line[x-bpp] if x >= bpp else 0; up = prev[x]; c = prev[x-bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + up) & 255
            elif f == 3: line[x] = (line[x] + (a + up) // 2) & 255
            elif f == 4:
                p = a + up - c; pa, pb, pc = abs(p-a), abs(p-up), abs(p-c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
        rows.append(line); prev = line
    return w, h, [[sum(r[x*bpp:x*bpp+3]) < 384 for x in range(w)] for r in rows]
imgs = [read(base64.b64decode(a)) for a in sys.argv[1:]]
(w0, h0, a), (w1, h1, b), (w2, h2, c) = imgs
ink = lambda m: sum(map(sum, m))
assert ink(a) > 200, "no ink: %d" % ink(a)
assert (w0, h0) == (w1, h1) and a == b, "the same text drew differently"
diff = sum(x != y for ra, rc in zip(a, c) for x, y in zip(ra, rc))
assert diff > 200, "different characters drew alike (%d pixels differ): boxes of a missing font?" % diff
print("glyphs drawn: %d dark pixels, %d pixels differ between different characters" % (ink(a), diff))
'''


def main():
    d = browser()
    try:
        for flow in FLOWS:
            t = time.monotonic()
            globals()[flow + "_flow"](d)
            print("flow %s passed (%.1f s)" % (flow, time.monotonic() - t))
    except Exception:
        shot(d, "failure")
        raise
    finally:
        d.quit()
    print("browser test passed")


if __name__ == "__main__":
    main()
