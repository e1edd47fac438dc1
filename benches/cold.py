#!/usr/bin/env python3
"""Cold single-form benchmark: `formpress render` of the seed form against
`typst compile` (typst-cli) on the markup formpress generates, with the same
fonts, in alternating runs on one machine. Prints medians and the PDF size.

    cargo build --release
    cargo install typst-cli --version 0.15.1 --locked     # once
    python3 benches/cold.py [RUNS] [--typst PATH] [--typst-fonts DIR]

--typst-fonts gives typst another font folder than formpress's bundled
subsets, e.g. /usr/share/fonts/opentype/noto (Debian's full Noto CJK
collections, from which the bundled faces are cut).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
args = sys.argv[1:]
runs = int(args[0]) if args and args[0].isdigit() else 15
typst = args[args.index("--typst") + 1] if "--typst" in args else shutil.which("typst")
if not typst:
    sys.exit("typst-cli not found: cargo install typst-cli --version 0.15.1 --locked, or pass --typst PATH")

formpress = os.path.join(root, "target/release/formpress")
work = tempfile.mkdtemp()
# The seed with its own error mended: a draft exits 1 and carries no 校验码 or QR code.
form = os.path.join(work, "seed.yaml")
with open(os.path.join(root, "forms/zhengzhou-2020-dept-overall.yaml"), encoding="utf-8") as f:
    text = f.read().replace("fiscal: 3300.9", "fiscal: 3300.8")
with open(form, "w", encoding="utf-8") as f:
    f.write(text)
pdf = os.path.join(work, "seed.pdf")
typ = os.path.join(work, "seed.typ")
ours = [formpress, "render", form, "-o", pdf, "--no-system-fonts"]
subprocess.run(ours + ["--typ", typ], check=True, capture_output=True)
fonts = args[args.index("--typst-fonts") + 1] if "--typst-fonts" in args else os.path.join(root, "fonts")
theirs = [typst, "compile", "--font-path", fonts, "--ignore-system-fonts",
          "--ignore-embedded-fonts", typ, os.path.join(work, "typst.pdf")]
env = dict(os.environ, SOURCE_DATE_EPOCH="1577836800")


def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


for cmd in (ours, theirs):  # warm the page cache
    timed(cmd)
a, b = [], []
for _ in range(runs):
    a.append(timed(ours))
    b.append(timed(theirs))
ma, mb = statistics.median(a), statistics.median(b)
print(f"runs: {runs} alternating, cold processes")
print(f"formpress render (check + 2 layout passes + PDF): median {ma*1000:.1f} ms (min {min(a)*1000:.1f})")
print(f"typst compile (same markup, fonts from {fonts}):")
print(f"                                                  median {mb*1000:.1f} ms (min {min(b)*1000:.1f})")
print(f"ratio formpress/typst: {ma/mb:.2f}")
print(f"PDF size: {os.path.getsize(pdf)} bytes")
