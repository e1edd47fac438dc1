#!/usr/bin/env python3
"""`formpress scan` figures: QR decode rate per scan resolution, and time per scanned page.

Scans are made from the mended seed's 4 pages as tests/scan.rs makes them: rendered with
pdftoppm at 150, 200, 300 and 600 dpi, a red seal pressed over part of the QR code, turned
(-3, -1.5, +1.5, +3 degrees), Gaussian noise, colour and grey, JPEG at quality 75. That is
4 pages x 4 angles x 2 colours = 32 scans per resolution.

    cargo build --release
    python3 benches/scan.py [DPI ...]

Decode rate: scans whose page `formpress scan` placed (not "无法识别二维码").
Time per page: (time for all 4 pages - time for 1 page) / 3, both including the form's
render, so the difference is the reading and decoding of the scans alone.
"""
import os
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
formpress = os.path.join(root, "target/release/formpress")
seed = open(os.path.join(root, "forms/zhengzhou-2020-dept-overall.yaml"), encoding="utf-8").read()
seed = seed.replace("fiscal: 3300.9", "fiscal: 3300.8")
dpis = [int(a) for a in sys.argv[1:]] or [150, 200, 300, 600]
angles = ["-3", "-1.5", "1.5", "3"]


def run(*args):
    subprocess.run(args, check=True, capture_output=True)


def scan(pages, data, out):
    start = time.perf_counter()
    p = subprocess.run([formpress, "scan", *pages, "--data", data, "-o", out, "--date", "2021-02-03",
                        "--no-system-fonts"], capture_output=True, text=True)
    return time.perf_counter() - start, p.stdout + p.stderr


with tempfile.TemporaryDirectory() as d:
    data = os.path.join(d, "seed.yaml")
    open(data, "w", encoding="utf-8").write(seed)
    pdf = os.path.join(d, "seed.pdf")
    run(formpress, "render", data, "-o", pdf, "--no-system-fonts")
    seal = os.path.join(root, "forms/seal-example.png")
    print(f"{'dpi':>4} {'decoded':>9} {'rate':>6} {'ms/page':>8}  not decoded (s<dpi>_<angle>_<grey>_<page>)", flush=True)
    for dpi in dpis:
        run("pdftoppm", "-r", str(dpi), "-png", pdf, os.path.join(d, f"r{dpi}"))
        mm = lambda v: str(round(v * dpi / 25.4))
        decoded = total = 0
        misses = []
        per_page = []
        for angle in angles:
            for grey in (False, True):
                pages = []
                for n in range(1, 5):
                    out = os.path.join(d, f"s{dpi}_{angle}_{grey}_{n}.jpg")
                    run("convert", os.path.join(d, f"r{dpi}-{n}.png"), "(", seal, "-resize", f"{mm(40)}x{mm(40)}", ")",
                        "-geometry", f"+{mm(150)}+{mm(245)}", "-compose", "Multiply", "-composite",
                        "-background", "white", "-rotate", angle, "-attenuate", "0.4", "+noise", "Gaussian",
                        *(["-colorspace", "Gray"] if grey else []), "-quality", "75",
                        "-density", str(dpi), "-units", "PixelsPerInch", out)
                    pages.append(out)
                signed = os.path.join(d, "signed.pdf")
                if os.path.exists(signed):
                    os.remove(signed)
                t4, text = scan(pages, data, signed)
                failed = text.count("无法识别二维码")
                misses += [line.split("：")[0].split("/")[-1] for line in text.splitlines() if "无法识别二维码" in line]
                decoded += 4 - failed
                total += 4
                t1, _ = scan(pages[:1], data, signed)
                per_page.append((t4 - t1) / 3)
        per_page.sort()
        print(f"{dpi:>4} {decoded:>4}/{total:<4} {100 * decoded / total:>5.0f}% {1000 * per_page[len(per_page) // 2]:>8.0f}"
              f"  {' '.join(misses)}", flush=True)
