#!/usr/bin/env python3
"""The formpress serve page in headless Chromium (Selenium), run by tests/serve.rs.

usage: browser.py URL FORMS_DIR DOWNLOAD_DIR FORMPRESS_BINARY

Opens the seed form, mends an amount and sees its finding go and the preview
change, makes a new error and sees it appear at its field, adds an indicator
row, saves (confirming the comments a structural change drops), checks the
file with `formpress check`, downloads the PDF and compares its text with
`formpress render`; then fills in a new 项目支出绩效目标申报表 from nothing.
Set FP_SCREENS=DIR to keep screenshots. Exits non-zero on any failure,
including a missing browser, driver or selenium.
"""
import os
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

URL, DIR, DOWNLOADS, FORMPRESS = sys.argv[1:5]
SCREENS = os.environ.get("FP_SCREENS")


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    profile = tempfile.mkdtemp(prefix="fp-chromium-")
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1600,1000", "--user-data-dir=" + profile]:
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"download.default_directory": DOWNLOADS,
                                           "download.prompt_for_download": False})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": DOWNLOADS})
    return d


def wait(d, what, timeout=30):
    # Parts of the page are rebuilt after structural edits: a stale element is retried.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(d, timeout, poll_frequency=0.02, ignored_exceptions=ignored).until(lambda _: what())


def field(d, path):
    return d.find_element(By.CSS_SELECTOR, '[data-path="%s"]' % path)


def findings_at(d, path):
    return [li.text for li in field(d, path).find_elements(By.CSS_SELECTOR, ":scope > .findings li")]


def click(d, el):
    # Into the middle of the window, clear of the sticky toolbar.
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    el.click()


def retype(el, text):
    el.send_keys(Keys.CONTROL, "a")
    el.send_keys(Keys.DELETE)
    el.send_keys(text)


def preview_seq(d):
    return d.find_element(By.ID, "pages").get_attribute("data-seq")


def shot(d, name):
    if SCREENS:
        os.makedirs(SCREENS, exist_ok=True)
        d.save_screenshot(os.path.join(SCREENS, name + ".png"))


def pdftext(path):
    return subprocess.run(["pdftotext", "-layout", path, "-"], check=True, capture_output=True, text=True).stdout


def downloaded(name, timeout=60):
    path = os.path.join(DOWNLOADS, name)
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and not os.path.exists(path + ".crdownload") and os.path.getsize(path) > 0:
            return path
        time.sleep(0.1)
    raise AssertionError("not downloaded: %s (have %s)" % (name, os.listdir(DOWNLOADS)))


def no_page_errors(d):
    for entry in d.get_log("browser"):
        # The page logs nothing itself; a script error or a CSP violation would show
        # here. Answers the page expects (409 before a confirmed save) are network entries.
        if entry["level"] == "SEVERE" and (entry["source"] != "network" or "Content Security" in entry["message"]):
            raise AssertionError("browser console: %s" % entry["message"])


def seed_flow(d):
    d.get(URL)
    row = wait(d, lambda: d.find_element(By.CSS_SELECTOR, 'tr[data-name="seed.yaml"]'))
    assert "草稿" in row.text, row.text
    click(d, row.find_element(By.CSS_SELECTOR, "button.open"))

    # The seed's own error is shown at its field, and its pages are previewed.
    wait(d, lambda: findings_at(d, "tasks[2].fiscal"))
    assert "大于合计" in findings_at(d, "tasks[2].fiscal")[0]
    wait(d, lambda: len(d.find_elements(By.CSS_SELECTOR, "#pages img.page")) >= 2)
    assert "草稿" in d.find_element(By.ID, "preview-info").text
    shot(d, "1-seed-opened")
    first = preview_seq(d)

    # Mend the amount: the finding goes and the preview follows.
    fiscal = field(d, "tasks[2].fiscal").find_element(By.TAG_NAME, "input")
    retype(fiscal, "3300.8")
    t0 = time.monotonic()
    wait(d, lambda: preview_seq(d) != first and "校验码" in d.find_element(By.ID, "preview-info").text)
    latency = time.monotonic() - t0
    wait(d, lambda: not findings_at(d, "tasks[2].fiscal"))
    drawn = wait(d, lambda: d.find_element(By.ID, "pages").get_attribute("data-latency"))
    print("preview after an edit of the seed: %s ms from the last keystroke to the changed pages drawn "
          "(in the page); %.0f ms as Selenium saw it; %s" % (drawn, latency * 1000, d.find_element(By.ID, "preview-info").text))
    shot(d, "2-seed-mended")

    # A new error shows up at its own field as it is typed.
    other = field(d, "tasks[0].fiscal").find_element(By.TAG_NAME, "input")
    retype(other, "99999")
    wait(d, lambda: any("大于合计" in f for f in findings_at(d, "tasks[0].fiscal")))
    assert "has-error" in field(d, "tasks[0].fiscal").get_attribute("class")
    retype(other, "3600.4")
    wait(d, lambda: not findings_at(d, "tasks[0].fiscal"))

    # Add an indicator row to the first 二级指标 and fill it in.
    rows_before = len(d.find_elements(By.CSS_SELECTOR, '[data-path="indicators[0].groups[0].rows"] > .rows > .row'))
    part = field(d, "indicators[0].groups[0].rows")
    click(d, part.find_element(By.CSS_SELECTOR, ":scope > .rows > button.add-row"))
    new = "indicators[0].groups[0].rows[%d]" % rows_before
    wait(d, lambda: field(d, new + ".name"))
    field(d, new + ".name").find_element(By.TAG_NAME, "input").send_keys("测试新增指标")
    field(d, new + ".value").find_element(By.TAG_NAME, "input").send_keys("≥95%")
    seq = preview_seq(d)
    wait(d, lambda: preview_seq(d) != seq and not d.find_element(By.ID, "preview-pane").get_attribute("class"))
    shot(d, "3-row-added")

    # Save: the structural change names the comments it drops; confirm.
    click(d, d.find_element(By.ID, "save"))
    wait(d, lambda: d.find_element(By.ID, "dialog").is_displayed())
    assert "注释" in d.find_element(By.ID, "dialog-text").text
    shot(d, "4-save-confirm")
    click(d, d.find_element(By.ID, "dialog-ok"))
    wait(d, lambda: "已保存" in d.find_element(By.ID, "message").text)

    path = os.path.join(DIR, "seed.yaml")
    text = open(path, encoding="utf-8").read()
    assert "测试新增指标" in text and text.startswith("# 2020 年"), text[:200]
    check = subprocess.run([FORMPRESS, "check", "--no-system-fonts", path], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr

    # Download the PDF; it is the command line's PDF of the saved file.
    click(d, d.find_element(By.ID, "download-pdf"))
    pdf = downloaded("seed.pdf")
    cli = os.path.join(tempfile.mkdtemp(), "cli.pdf")
    subprocess.run([FORMPRESS, "render", "--no-system-fonts", path, "-o", cli], check=True, capture_output=True)
    assert open(pdf, "rb").read() == open(cli, "rb").read(), "downloaded PDF differs from formpress render"
    assert "测试新增指标" in pdftext(pdf)
    no_page_errors(d)


def new_form_flow(d):
    click(d, d.find_element(By.ID, "back"))
    wait(d, lambda: d.find_element(By.ID, "home").is_displayed())
    Select(d.find_element(By.ID, "new-kind")).select_by_value("project")
    d.find_element(By.ID, "new-name").send_keys("营养改善")
    click(d, d.find_element(By.ID, "new-button"))
    wait(d, lambda: d.find_element(By.ID, "editor").is_displayed())
    assert "项目支出绩效目标申报表" in d.find_element(By.ID, "kind-name").text

    def typein(path, text):
        el = field(d, path).find_element(By.CSS_SELECTOR, "input, textarea")
        el.send_keys(text)

    typein("year", "2021")
    typein("project", "农村义务教育学生营养改善计划")
    typein("department", "某市教育局（301）")
    typein("attribute", "延续项目")
    typein("funds.year.fiscal", "3000")
    typein("funds.year.other", "0")
    def add(under, button, new, text):
        click(d, field(d, under).find_element(By.CSS_SELECTOR, button))
        wait(d, lambda: field(d, new))
        typein(new, text)

    add("goals.year", "button.add", "goals.year[0]", "完成年度营养膳食补助发放")
    # 一级 → 年度的二级 → a row.
    add("indicators", "button.add-level0", "indicators[0].name", "产出指标")
    add("indicators[0].year", "button.add-level1", "indicators[0].year[0].name", "数量指标")
    add("indicators[0].year[0].rows", "button.add-row", "indicators[0].year[0].rows[0].name", "受益学生人数")
    typein("indicators[0].year[0].rows[0].value", "≥50000人")
    wait(d, lambda: "校验码" in d.find_element(By.ID, "preview-info").text
         and not d.find_element(By.ID, "preview-pane").get_attribute("class"))
    assert "无问题" in d.find_element(By.ID, "status").text, d.find_element(By.ID, "status").text
    shot(d, "5-new-project")
    click(d, d.find_element(By.ID, "save"))
    wait(d, lambda: "已保存" in d.find_element(By.ID, "message").text)
    path = os.path.join(DIR, "营养改善.yaml")
    text = open(path, encoding="utf-8").read()
    assert "form: project" in text and "受益学生人数" in text and "fiscal: 3000" in text, text
    check = subprocess.run([FORMPRESS, "check", "--no-system-fonts", path], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    click(d, d.find_element(By.ID, "download-pdf"))
    pdf = downloaded("营养改善.pdf")
    printed = pdftext(pdf)
    for word in ["农村义务教育学生营养改善计划", "受益学生人数", "≥50000人", "校验码"]:
        assert word in printed, (word, printed)
    shot(d, "6-new-saved")
    no_page_errors(d)


def main():
    d = browser()
    try:
        seed_flow(d)
        new_form_flow(d)
    except Exception:
        shot(d, "failure")
        raise
    finally:
        d.quit()
    print("browser test passed")


if __name__ == "__main__":
    main()
