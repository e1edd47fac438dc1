#!/usr/bin/env python3
"""The editor in Firefox ESR (headless, driven over Marionette: Debian's
firefox-esr and the marionette-driver package; geckodriver is not needed).

usage: firefox.py URL

Opens the seed, types into a cell of the grid, sees the check and the preview
follow, moves with Tab, and undoes with Ctrl+Z. Set FP_SCREENS=DIR for a
screenshot at 1366×768. Exits non-zero on any failure, including a missing
Firefox ESR or driver.
"""
import base64
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

URL = sys.argv[1]
FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
try:
    from marionette_driver.marionette import Marionette
    from marionette_driver.keys import Keys
except ImportError:
    Marionette = None
if not FIREFOX or Marionette is None:
    sys.exit("firefox-esr or marionette-driver is missing (tests/run.sh installs them)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = what()
            if v:
                return v
        except Exception:
            pass
        time.sleep(0.05)
    raise AssertionError("timed out")


def main():
    profile = tempfile.mkdtemp(prefix="fp-firefox-")
    port = free_port()
    with open(os.path.join(profile, "user.js"), "w") as f:
        f.write('user_pref("marionette.port", %d);\n' % port)
        f.write('user_pref("browser.shell.checkDefaultBrowser", false);\n')
        f.write('user_pref("datareporting.policy.dataSubmissionEnabled", false);\n')
        f.write('user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);\n')
    env = dict(os.environ, MOZ_HEADLESS="1", MOZ_HEADLESS_WIDTH="1366", MOZ_HEADLESS_HEIGHT="768")
    proc = subprocess.Popen([FIREFOX, "--marionette", "--headless", "--no-remote", "--profile", profile, "about:blank"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        m = Marionette(host="127.0.0.1", port=port)
        m.start_session()
        m.set_window_rect(width=1366, height=768)
        m.navigate(URL)
        def js(script):
            return m.execute_script(script, sandbox=None)
        wait(lambda: js("return !!document.querySelector('tr[data-name=\"seed.yaml\"] button.open')"))
        js("document.querySelector('tr[data-name=\"seed.yaml\"] button.open').click()")
        wait(lambda: js("return !!document.querySelector('#sheet table.grid') && !!document.querySelector('#pages img.page')"))
        wait(lambda: js("return !sheetBusy && !previewBusy"))
        el = m.find_element("css selector", '#sheet [data-path="tasks[2].fiscal"]')
        el.click()
        js("var e = document.activeElement; var r = document.createRange(); r.selectNodeContents(e); r.collapse(false);"
           "getSelection().removeAllRanges(); getSelection().addRange(r);")
        seq = js("return document.getElementById('pages').getAttribute('data-seq')")
        for _ in range(1):
            el.send_keys(Keys.BACK_SPACE)
        el.send_keys("8")
        wait(lambda: js("return get(parsePath('tasks[2].fiscal'))") == "3300.8")
        wait(lambda: js("return !document.querySelector('#sheet td.has-error')"))
        wait(lambda: js("return document.getElementById('pages').getAttribute('data-seq')") != seq
             and "校验码" in js("return document.getElementById('preview-info').textContent"))
        el.send_keys(Keys.TAB)
        assert js("return document.activeElement.getAttribute('data-path')") == "tasks[2].remark"
        js("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'z', ctrlKey: true, bubbles: true}))")
        wait(lambda: js("return get(parsePath('tasks[2].fiscal'))") == "3300.9")
        fonts = js("return document.fonts.status")
        if os.environ.get("FP_SCREENS"):
            time.sleep(0.5)
            png = m.screenshot(format="binary")
            with open(os.path.join(os.environ["FP_SCREENS"], "11-firefox.png"), "wb") as f:
                f.write(png)
        print("firefox: %s; grid typed, checked, previewed, Tab and Ctrl+Z work (fonts %s)"
              % (m.session_capabilities.get("browserVersion"), fonts))
        m.delete_session()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(profile, ignore_errors=True)
    print("firefox test passed")


if __name__ == "__main__":
    main()
