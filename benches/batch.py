#!/usr/bin/env python3
"""Batch benchmarks (issue targets in brackets):

  throughput  200 generated seed forms (varied 部门名称, amounts, 指标值), one
              `formpress render DIR -o OUT` call [>= 50 forms/s with --jobs 2 on 2 cores]
  memory      peak RSS over 1000 forms in one call, from /usr/bin/time -v [<= 150 MB]
  rows        one form of 250, 500, 1000 and 2000 indicator rows [2000 rows <= 1.5 s, ~linear]
  check       `formpress check` of 1000 and 5000 rows in one 二级 group [5000 rows in a couple
              of seconds, linear]

    cargo build --release
    python3 benches/batch.py [--jobs N] [--skip-memory]
"""
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
formpress = os.path.join(root, "target/release/formpress")
# The seed with its own error mended, so every form renders as final (a draft exits 1).
seed = open(os.path.join(root, "forms/zhengzhou-2020-dept-overall.yaml"), encoding="utf-8").read()
seed = seed.replace("fiscal: 3300.9", "fiscal: 3300.8")
args = sys.argv[1:]
jobs = args[args.index("--jobs") + 1] if "--jobs" in args else str(os.cpu_count() or 2)


def varied(i):
    rnd = random.Random(i)
    text = seed.replace("department: 郑州市人民政府办公厅", f"department: 郑州市第{i}号测试部门")
    text = text.replace("fiscal: 3300.9", "fiscal: 3300.8")
    text = re.sub(r"(total|fiscal): (\d+\.\d)", lambda m: f"{m.group(1)}: {float(m.group(2)) + (i % 7) * 10:.1f}", text)
    text = re.sub(r"value: ≥(\d+)%", lambda m: f"value: ≥{min(99, int(m.group(1)) - rnd.randint(0, 5))}%", text)
    return text


def write_forms(folder, n):
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        with open(os.path.join(folder, f"form{i:04d}.yaml"), "w", encoding="utf-8") as f:
            f.write(varied(i))


def rows_form(n):
    lines = ["form: zhengzhou-2020-dept-overall", "year: 2020", f"department: 测试部门{n}", "goals: [保障单位人员工资正常发放]",
             "tasks: [{name: 任务1, content: 人员经费, total: 100, fiscal: 100}]", "indicators:"]
    i = 0
    l1 = 0
    while i < n:
        l1 += 1
        lines += [f"  - name: 一级指标{l1}", "    groups:"]
        for g in range(5):
            lines += [f"      - name: 二级指标{l1}-{g + 1}", "        rows:"]
            for r in range(10):
                i += 1
                lines.append(f"          - {{name: 三级指标第{i}项, value: ≥{50 + i % 49}%"
                             + (f", explain: 反映第{i}项工作的完成情况" if r % 3 == 0 else "")
                             + f", note: 第{i}项指标的计算方法：完成数/计划数×100%。}}")
                if i >= n:
                    break
            if i >= n:
                break
    return "\n".join(lines) + "\n"


work = tempfile.mkdtemp()
print(f"formpress batch benchmarks, --jobs {jobs}, {os.cpu_count()} CPUs")

# Throughput: median of 3 runs over the same 200 forms.
forms200 = os.path.join(work, "f200")
write_forms(forms200, 200)
times = []
for run in range(3):
    out = os.path.join(work, f"out200-{run}")
    start = time.perf_counter()
    subprocess.run([formpress, "render", forms200, "-o", out, "--jobs", jobs, "--no-system-fonts"], check=True, capture_output=True)
    times.append(time.perf_counter() - start)
t = statistics.median(times)
print(f"throughput: 200 forms in {t:.2f} s (median of 3) = {200 / t:.1f} forms/s")

if "--skip-memory" not in args:
    forms1000 = os.path.join(work, "f1000")
    write_forms(forms1000, 1000)
    out = os.path.join(work, "out1000")
    r = subprocess.run(["/usr/bin/time", "-v", formpress, "render", forms1000, "-o", out, "--jobs", jobs, "--no-system-fonts"],
                       capture_output=True, text=True, check=True)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time.*: (.*)", r.stderr).group(1)
    print(f"memory: 1000 forms, peak RSS {rss / 1024:.0f} MB, wall {wall}")

for n in (250, 500, 1000, 2000):
    path = os.path.join(work, f"rows{n}.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(rows_form(n))
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([formpress, "render", path, "-o", path + ".pdf", "--no-system-fonts"], check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    pages = subprocess.run(["pdfinfo", path + ".pdf"], capture_output=True, text=True).stdout
    pages = re.search(r"Pages:\s+(\d+)", pages).group(1)
    print(f"rows: {n:5d} rows, {pages:>4} pages: {statistics.median(samples):.2f} s (median of 3)")

for n in (1000, 5000):
    path = os.path.join(work, f"group{n}.yaml")
    rows = "\n".join(f"          - {{name: 指标行{i}, value: \"≥{i % 100}%\", explain: 说明{i}}}" for i in range(n))
    with open(path, "w", encoding="utf-8") as f:
        f.write("form: zhengzhou-2020-dept-overall\nyear: 2020\ndepartment: 测试部门\nindicators:\n"
                "  - name: 履职效能\n    groups:\n      - name: 一个二级\n        rows:\n" + rows + "\n")
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([formpress, "check", path, "--no-system-fonts"], capture_output=True)
        samples.append(time.perf_counter() - start)
    print(f"check: {n:5d} rows in one group: {statistics.median(samples):.2f} s (median of 3)")
