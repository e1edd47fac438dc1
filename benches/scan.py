#!/usr/bin/env python3
"""`formpress scan` figures: genuine scans accepted, forged sets detected, time per page.

Scans are made from the mended seed's 4 pages as an office makes them: rendered with pdftoppm
at each resolution, a red seal pressed over the QR code's corner, turned (-3, -1.5, +1.5, +3
degrees), Gaussian noise, colour or grey, JPEG at quality 75: 4 angles x 2 colours = 8 sets of
4 pages per resolution.

Forged sets (one page of a set replaced, then scanned the same way; turned -3 and +3 degrees,
colour and grey: 4 of each kind per resolution):
  blank   a blank page carrying only this page's QR code
  digit   one digit of an amount (任务1 合计 3600.4) written over by hand: 3 -> 8
  strike  a row (任务2) struck out with a pen
  other   page 1 of another form with this form's page-1 QR code pasted on

    cargo build --release
    nice python3 benches/scan.py [DPI ...]

Accepted: `formpress scan` exits 0. Detected: it exits 1 naming the forged page as differing
from the form (not only a QR problem). Time per page: (time for all 4 pages - time for 1 page)
/ 3, both including the form's render, so the difference is reading, laying over and comparing
the scans alone (median over the genuine sets).
"""
import os
import re
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
formpress = os.path.join(root, "target/release/formpress")
seed = open(os.path.join(root, "forms/zhengzhou-2020-dept-overall.yaml"), encoding="utf-8").read()
seed = seed.replace("fiscal: 3300.9", "fiscal: 3300.8")
dpis = [int(a) for a in sys.argv[1:]] or [150, 200, 300]
angles = ["-3", "-1.5", "1.5", "3"]
seal = os.path.join(root, "forms/seal-example.png")
font = os.path.join(root, "fonts/NotoSansCJKsc-Regular.otf")


def run(*args):
    subprocess.run(args, check=True, capture_output=True)


def words(pdf, page):
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), pdf, "-"],
                         capture_output=True, text=True, check=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [(m.group(5), *map(float, m.groups()[:4])) for m in re.finditer(pattern, out)]


def scan(pages, data, out):
    if os.path.exists(out):
        os.remove(out)
    start = time.perf_counter()
    p = subprocess.run([formpress, "scan", *pages, "--data", data, "-o", out, "--date", "2021-02-03",
                        "--no-system-fonts"], capture_output=True, text=True)
    return time.perf_counter() - start, p.returncode, p.stdout + p.stderr


def scanned(src, angle, grey, dpi, out):
    """A page as the office scanner returns it."""
    mm = lambda v: str(round(v * dpi / 25.4))
    run("convert", src, "(", seal, "-resize", f"{mm(40)}x{mm(40)}", ")",
        "-geometry", f"+{mm(150)}+{mm(245)}", "-compose", "Multiply", "-composite",
        "-background", "white", "-rotate", angle, "-attenuate", "0.4", "+noise", "Gaussian",
        *(["-colorspace", "Gray"] if grey else []), "-quality", "75",
        "-density", str(dpi), "-units", "PixelsPerInch", out)


with tempfile.TemporaryDirectory() as d:
    data = os.path.join(d, "seed.yaml")
    open(data, "w", encoding="utf-8").write(seed)
    pdf = os.path.join(d, "seed.pdf")
    run(formpress, "render", data, "-o", pdf, "--no-system-fonts")
    other_yaml = os.path.join(root, "forms/mof-dept-overall-2021.yaml")
    other_pdf = os.path.join(d, "other.pdf")
    run(formpress, "render", other_yaml, "-o", other_pdf, "--no-system-fonts")
    amount = next(w for w in words(pdf, 1) if w[0] == "3600.4")
    row = next(w for w in words(pdf, 1) if w[0] == "任务2")
    print(f"{'dpi':>4} {'genuine':>9} {'blank':>6} {'digit':>6} {'strike':>6} {'other':>6} {'ms/page':>8}  missed",
          flush=True)
    for dpi in dpis:
        px = lambda pt: round(pt * dpi / 72)
        mm = lambda v: round(v * dpi / 25.4)
        run("pdftoppm", "-r", str(dpi), "-png", pdf, os.path.join(d, f"r{dpi}"))
        run("pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", other_pdf, os.path.join(d, f"o{dpi}"))
        page = lambda n: os.path.join(d, f"r{dpi}-{n}.png")
        # The forged pages, before scanning.
        forged = {}
        qr = f"{mm(60)}x{mm(23)}+{mm(150)}+{mm(274)}"
        forged["blank"] = (4, os.path.join(d, f"blank{dpi}.png"))
        run("convert", page(4), "-crop", qr, "+repage", os.path.join(d, "qr.png"))
        run("convert", page(4), "-fill", "white", "-draw", "rectangle 0,0 10000,10000", os.path.join(d, "qr.png"),
            "-geometry", f"+{mm(150)}+{mm(274)}", "-composite", forged["blank"][1])
        forged["digit"] = (1, os.path.join(d, f"digit{dpi}.png"))
        _, x0, y0, x1, y1 = amount
        size = px((y1 - y0) * 1.15)
        run("convert", page(1), "-font", font, "-fill", "#1c2a7a", "-stroke", "#1c2a7a", "-strokewidth", str(max(1, dpi // 150)),
            "-pointsize", str(size), "-annotate", f"+{px(x0) - 1}+{px(y1) - px(1)}", "8", forged["digit"][1])
        forged["strike"] = (1, os.path.join(d, f"strike{dpi}.png"))
        mid = px((row[2] + row[4]) / 2)
        run("convert", page(1), "-stroke", "#101840", "-strokewidth", str(mm(0.5)),
            "-draw", f"line {mm(22)},{mid} {mm(188)},{mid + mm(1)}", forged["strike"][1])
        forged["other"] = (1, os.path.join(d, f"other{dpi}.png"))
        run("convert", page(1), "-crop", qr, "+repage", os.path.join(d, "qr1.png"))
        run("convert", os.path.join(d, f"o{dpi}-1.png"), os.path.join(d, "qr1.png"),
            "-geometry", f"+{mm(150)}+{mm(274)}", "-composite", forged["other"][1])

        accepted = total = 0
        detected = {k: [0, 0] for k in forged}
        per_page, missed = [], []
        signed = os.path.join(d, "signed.pdf")
        for angle in angles:
            for grey in (False, True):
                tag = f"{angle}{'g' if grey else 'c'}"
                pages = []
                for n in range(1, 5):
                    out = os.path.join(d, f"s{dpi}_{tag}_{n}.jpg")
                    scanned(page(n), angle, grey, dpi, out)
                    pages.append(out)
                t4, code, text = scan(pages, data, signed)
                total += 1
                if code == 0:
                    accepted += 1
                else:
                    missed.append(f"genuine {tag}: " + " / ".join(l for l in text.splitlines() if "✗" in l or "   " in l)[:300])
                t1, _, _ = scan(pages[:1], data, signed)
                per_page.append((t4 - t1) / 3)
                if angle not in ("-3", "3"):
                    continue
                for kind, (n, src) in forged.items():
                    out = os.path.join(d, f"f{dpi}_{kind}_{tag}.jpg")
                    scanned(src, angle, grey, dpi, out)
                    fake = list(pages)
                    fake[n - 1] = out
                    _, code, text = scan(fake, data, signed)
                    named = os.path.basename(out)
                    caught = code == 1 and any(named in l and ("与表单不符" in l or "无法与表单" in l)
                                               for l in text.splitlines())
                    detected[kind][1] += 1
                    if caught:
                        detected[kind][0] += 1
                    else:
                        missed.append(f"{kind} {tag}: exit {code}")
        per_page.sort()
        cells = " ".join(f"{detected[k][0]:>2}/{detected[k][1]:<3}" for k in ("blank", "digit", "strike", "other"))
        print(f"{dpi:>4} {accepted:>4}/{total:<4} {cells} {1000 * per_page[len(per_page) // 2]:>8.0f}  "
              f"{'; '.join(missed)}", flush=True)
