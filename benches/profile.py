#!/usr/bin/env python3
"""Where a render's time goes, in instructions (valgrind's callgrind counts
instructions, so the figures repeat on a busy machine, unlike seconds).

    cargo build --release
    python3 benches/profile.py [FORM.yaml | --batch N]

One form (default: the mended seed): instructions per phase, cut where Typst
finishes laying out a document (each layout pass compiles once or twice:
the footer's 共 N 页 needs Typst's own second iteration), then the largest
inclusive costs. --batch N renders N varied seed forms in one call (--jobs 1)
and prints the cost per form.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
formpress = os.path.join(root, "target/release/formpress")
work = tempfile.mkdtemp()
args = sys.argv[1:]


def seed_text():
    with open(os.path.join(root, "forms/zhengzhou-2020-dept-overall.yaml"), encoding="utf-8") as f:
        return f.read().replace("fiscal: 3300.9", "fiscal: 3300.8")


def callgrind(cmd, out, *extra):
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *extra, *cmd],
                   capture_output=True, check=False)


def total(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    return 0


def top(path, pattern, n=18):
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", path], capture_output=True, text=True).stdout
    rows = [l for l in text.splitlines() if re.search(pattern, l)]
    for l in rows[:n]:
        count, name = l.split("???:", 1) if "???:" in l else (l, "")
        print(f"  {count.strip():>28}  {name.split(' [')[0][:110]}")


if args and args[0] == "--batch":
    n = int(args[1])
    folder = os.path.join(work, "forms")
    os.makedirs(folder)
    seed = seed_text()
    for i in range(n):
        with open(os.path.join(folder, f"f{i:03d}.yaml"), "w", encoding="utf-8") as f:
            f.write(seed.replace("department: 郑州市人民政府办公厅", f"department: 郑州市第{i}号测试部门"))
    out = os.path.join(work, "cg.out")
    callgrind([formpress, "render", folder, "-o", os.path.join(work, "out"), "--jobs", "1", "--no-system-fonts"], out)
    t = total(out)
    print(f"{n} forms: {t / 1e6:.0f} M instructions, {t / n / 1e6:.0f} M per form")
    top(out, r"formpress::(Laid::pdf|layout::render::<impl formpress::layout::engine::Engine>::(layout|markup_with)|layout::engine::Engine::check_file|layout::ink::strays|layout::world::FormWorld::replace_main|layout::qr::PageCodes::svg)|typst::compile \[|subsetter::subset_inner|krilla::stream::deflate_encode|krilla::text::cid::compute_bbox \[")
    sys.exit(0)

form = args[0] if args else os.path.join(work, "seed.yaml")
if not args:
    with open(form, "w", encoding="utf-8") as f:
        f.write(seed_text())
out = os.path.join(work, "cg.out")
callgrind([formpress, "render", form, "-o", os.path.join(work, "out.pdf"), "--no-system-fonts"], out,
          "--dump-after=typst_layout::pages::layout_document")
parts = sorted(glob.glob(out + ".*"), key=lambda p: int(p.rsplit(".", 1)[1])) + [out]
names = []
for i in range(len(parts) - 1):
    names.append(f"pass {i // 2 + 1}, Typst iteration {i % 2 + 1}" + (" (with start-up, check, markup)" if i == 0 else ""))
names.append("after layout: ink check, PDF export, writing")
counts = [total(p) for p in parts]
print(f"{os.path.basename(form)}: {sum(counts) / 1e6:.0f} M instructions")
for name, c in zip(names, counts):
    print(f"  {c / 1e6:8.0f} M  {name}")
print("largest inclusive costs (first layout, with start-up):")
top(parts[0], r"formpress::(Engine::new|layout::engine::Engine::check_file|layout::render::<impl formpress::layout::engine::Engine>::markup_with|layout::fonts::Fonts::load|form::kind::Catalog::load|layout::qr::PageCodes::svg)|typst::compile \[|typst_eval::eval \[|layout_cell \[")
print("after layout:")
top(parts[-1], r"formpress::(Laid::pdf|layout::ink::strays)|subsetter::subset_inner|krilla::stream::deflate_encode|krilla::text::cid::compute_bbox \[")
