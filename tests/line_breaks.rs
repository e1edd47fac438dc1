//! Chinese line breaking in cells, judged on the PDF as a reader sees it:
//! every page of every example in forms/ and every form in tests/real/,
//! read back with `pdftotext -bbox`. Words on one line close together form a
//! line of a cell; lines stacked closer than a cell's insets form its text.
//! No short entry (up to about six characters) is split over lines, no line
//! holds a single character where the cell's longest line has three or more
//! (moving one character down balances it), and no text is spread letter by
//! letter (a justified narrow cell: `度 工 作 目 标`).

mod common;

use std::path::{Path, PathBuf};

use formpress::RenderOptions;
use formpress::layout::indicators::text_em;

/// A word as pdftotext reads it: its text and box (points, y downwards).
#[derive(Debug, Clone)]
struct Word {
    text: String,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Word {
    fn height(&self) -> f64 {
        self.y1 - self.y0
    }
}

/// The words of every page, with each page's height.
fn pages(pdf: &[u8]) -> Vec<(f64, Vec<Word>)> {
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::io::Write::write_all(&mut file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-bbox", "-enc", "UTF-8"])
        .arg(file.path())
        .arg("-")
        .output()
        .expect("pdftotext is not installed: run tests/run.sh");
    let html = String::from_utf8_lossy(&out.stdout);
    let attr = |tag: &str, name: &str| -> f64 {
        let key = format!("{name}=\"");
        let start = tag.find(&key).map(|i| i + key.len()).unwrap_or(0);
        tag[start..].split('"').next().and_then(|v| v.parse().ok()).unwrap_or(0.0)
    };
    let mut out: Vec<(f64, Vec<Word>)> = vec![];
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page ") {
            out.push((attr(line, "height"), vec![]));
        } else if let Some(tag) = line.strip_prefix("<word ")
            && let Some((attrs, rest)) = tag.split_once('>')
            && let Some(text) = rest.strip_suffix("</word>")
            && let Some((_, words)) = out.last_mut()
        {
            let text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"");
            words.push(Word {
                text,
                x0: attr(attrs, "xMin"),
                x1: attr(attrs, "xMax"),
                y0: attr(attrs, "yMin"),
                y1: attr(attrs, "yMax"),
            });
        }
    }
    out
}

/// A cell's text as printed: its lines, each a run of words.
type Cell = Vec<Vec<Word>>;

/// Groups the words above `bottom` into cells. Words of one line sit on the
/// same baseline less than half an em apart (cells are at least 6 pt plus a
/// rule apart); lines of one cell are stacked less than 0.45 em apart (the
/// leading is 0.35 em; a cell's insets put 6 pt or more between two cells).
/// The 草稿 mark (big letters) is not a cell.
fn cells(words: &[Word], bottom: f64) -> Vec<Cell> {
    let mut words: Vec<&Word> = words.iter().filter(|w| w.y1 < bottom && w.height() < 15.0).collect();
    words.sort_by(|a, b| a.y0.total_cmp(&b.y0).then(a.x0.total_cmp(&b.x0)));
    let mut lines: Vec<Vec<Word>> = vec![];
    for w in words {
        let joins = |line: &Vec<Word>| {
            let last = line.last().unwrap();
            (last.y0 - w.y0).abs() < 0.3
                && (last.y1 - w.y1).abs() < 0.3
                && (0.0..0.5 * w.height()).contains(&(w.x0 - last.x1))
        };
        match lines.iter_mut().find(|l| joins(l)) {
            Some(line) => line.push(w.clone()),
            None => lines.push(vec![w.clone()]),
        }
    }
    lines.sort_by(|a, b| a[0].y0.total_cmp(&b[0].y0));
    let mut cells: Vec<Cell> = vec![];
    for line in lines {
        let (x0, x1, y0, h) = (line[0].x0, line.last().unwrap().x1, line[0].y0, line[0].height());
        let below = |cell: &Cell| {
            let above = cell.last().unwrap();
            let (ax0, ax1, ay1) = (above[0].x0, above.last().unwrap().x1, above[0].y1);
            (0.0..0.45 * h).contains(&(y0 - ay1)) && x0 < ax1 && ax0 < x1
        };
        match cells.iter_mut().find(|c| below(c)) {
            Some(cell) => cell.push(line),
            None => cells.push(vec![line]),
        }
    }
    cells
}

fn ideograph(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x9FFF)
}

/// Short entries the README promises never break: up to six characters (6.5 em).
const SHORT_EM: f64 = 6.5;

/// Whether each line is a line the form typed itself (a text of several
/// lines, 1./2./3./……): its line breaks are the data's, not the layout's.
fn typed_lines(source: &str, lines: &[String]) -> bool {
    fn collect(v: &serde_json::Value, out: &mut std::collections::HashSet<String>) {
        match v {
            serde_json::Value::String(t) if t.contains('\n') => {
                out.extend(t.lines().map(|l| l.chars().filter(|c| !c.is_whitespace()).collect::<String>()))
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
            serde_json::Value::Object(map) => map.values().for_each(|i| collect(i, out)),
            _ => {}
        }
    }
    let data: serde_json::Value = serde_saphyr::from_str(source).unwrap_or_default();
    let mut typed = std::collections::HashSet::new();
    collect(&data, &mut typed);
    lines.iter().all(|l| typed.contains(l))
}

/// What is wrong with the line breaking of one document, one finding a line.
fn bad_breaks(pdf: &[u8], bottom_mm: f64, source: &str) -> Vec<String> {
    let mut found = vec![];
    for (p, (height, words)) in pages(pdf).iter().enumerate() {
        let page = p + 1;
        for cell in cells(words, height - bottom_mm / 25.4 * 72.0) {
            let lines: Vec<String> = cell.iter().map(|l| l.iter().map(|w| w.text.as_str()).collect()).collect();
            let shown = lines.join("/");
            let all: String = lines.concat();
            if lines.len() > 1 && text_em(&all) <= SHORT_EM && !typed_lines(source, &lines) {
                found.push(format!("page {page}: short entry broken: {shown}"));
            }
            let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
            if lines.len() > 1 && longest >= 3 && lines.iter().any(|l| l.chars().count() == 1) {
                found.push(format!("page {page}: a line of one character: {shown}"));
            }
            for line in &cell {
                // Characters spread apart: a word of ideographs wider than its characters,
                // or three ideographs in a row read as separate words.
                for w in line {
                    let n = w.text.chars().count() as f64;
                    if n >= 2.0 && w.text.chars().all(ideograph) && w.x1 - w.x0 > n * w.height() * 1.02 {
                        found.push(format!("page {page}: letter-spaced: {} in {shown}", w.text));
                    }
                }
                // Unless the form typed the spaces (a blank date: 年  月  日).
                let mut run: Vec<&str> = vec![];
                for w in line {
                    if w.text.chars().count() == 1 && w.text.chars().all(ideograph) {
                        run.push(&w.text);
                    } else {
                        run.clear();
                    }
                    if run.len() == 3 && !typed_apart(source, run[0], run[1]) {
                        found.push(format!("page {page}: letter-spaced: {shown}"));
                    }
                }
            }
        }
    }
    found
}

/// Whether the form's source has `a`, spaces, then `b`.
fn typed_apart(source: &str, a: &str, b: &str) -> bool {
    source.match_indices(a).any(|(i, _)| {
        let rest = &source[i + a.len()..];
        let trimmed = rest.trim_start_matches([' ', '\u{3000}']);
        trimmed.len() < rest.len() && trimmed.starts_with(b)
    })
}

fn forms() -> Vec<PathBuf> {
    let mut files = vec![];
    for dir in ["forms", "tests/real"] {
        for entry in std::fs::read_dir(common::root().join(dir)).unwrap().flatten() {
            let path = entry.path();
            let name = path.to_string_lossy();
            if name.ends_with(".yaml") && !name.ends_with(".layout.yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn render(path: &Path) -> (Vec<u8>, f64) {
    let engine = common::engine();
    let form = engine.check_file(path).unwrap();
    let rendered =
        engine.render(&form, &RenderOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (rendered.pdf, common::bottom_margin(form.kind.as_deref().unwrap()))
}

#[test]
fn no_cell_of_any_example_or_real_form_breaks_badly() {
    let files = forms();
    assert!(files.len() >= 40, "only {} forms", files.len());
    let mut failures = vec![];
    for file in &files {
        let (pdf, bottom) = render(file);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(file).unwrap();
        failures.extend(bad_breaks(&pdf, bottom, &source).into_iter().map(|f| format!("{name} {f}")));
    }
    assert!(failures.is_empty(), "{} bad breaks:\n{}", failures.len(), failures.join("\n"));
}

/// The indicator rows of a form's data in order: (its 二级 group's name, its 三级 name),
/// whitespace removed. Rows of sides (中期, 年度) come side after side.
fn indicator_rows(v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    let name = |v: &Value| v.get("name").and_then(Value::as_str).map(common::squash).unwrap_or_default();
    match v {
        Value::Array(items) => items.iter().for_each(|i| indicator_rows(i, out)),
        Value::Object(m) => {
            if let Some(Value::Array(rows)) = m.get("rows") {
                out.extend(rows.iter().map(|r| (name(v), name(r))));
            }
            for (key, child) in m {
                if key != "rows" && child.is_array() {
                    indicator_rows(child, out);
                }
            }
        }
        _ => {}
    }
}

/// Continuation pages, read back page by page above the footer: a page that
/// holds indicator rows after the first repeats the column header (the 三级
/// column's label) and the 二级 label of the row it starts with; the last page
/// of the table holds two rows or more when the table has rows on an earlier page.
fn continuation_faults(path: &Path, pdf: &[u8]) -> Vec<String> {
    let engine = common::engine();
    let form = engine.check_file(path).unwrap();
    let kind = engine.catalog().kind(form.kind.as_deref().unwrap()).unwrap();
    let Some(spec) = kind.manifest.fields.get("indicators") else { return vec![] };
    let pages = common::body_pages(pdf, common::bottom_margin(&kind.id));
    let head = form
        .options
        .get("labels")
        .and_then(|l| l.get("name"))
        .and_then(serde_json::Value::as_str)
        .map(common::squash)
        .unwrap_or_else(|| spec.row.as_ref().unwrap()["name"].label.clone());
    let mut rows = vec![];
    indicator_rows(&form.data["indicators"], &mut rows);
    // A 二级 whose rows have no name (a blank row, a cut source) is found by its own label.
    let named: std::collections::HashSet<String> =
        rows.iter().filter(|(_, name)| name.chars().count() >= 2).map(|(group, _)| group.clone()).collect();
    for (group, name) in rows.iter_mut() {
        if name.chars().count() < 2 && !named.contains(group.as_str()) {
            *name = group.clone();
        }
    }
    rows.retain(|(_, name)| name.chars().count() >= 2);
    let sided = !spec.sides.is_empty();
    // Each row's page: the first page from the previous row's on that shows its name.
    let mut at = 0;
    let mut placed: Vec<(usize, &(String, String))> = vec![];
    for row in &rows {
        if let Some(p) = (at..pages.len()).find(|&p| pages[p].contains(&row.1)) {
            at = if sided { 0 } else { p };
            placed.push((p, row));
        }
    }
    let mut faults = vec![];
    let Some(&(first, _)) = placed.first() else { return faults };
    let last = placed.iter().map(|(p, _)| *p).max().unwrap();
    for (page, text) in pages.iter().enumerate().take(last + 1).skip(first + 1) {
        let Some((_, (group, name))) = placed.iter().find(|(p, _)| *p == page) else { continue };
        if !text.contains(&head) {
            faults.push(format!("page {}: no column header ({head}) above {name}", page + 1));
        }
        if !sided && !group.is_empty() && !text.contains(group.as_str()) {
            faults.push(format!("page {}: {name} starts the page without its 二级 label {group}", page + 1));
        }
    }
    let on_last = placed.iter().filter(|(p, _)| *p == last).count();
    if last > first && on_last < 2 {
        faults.push(format!("page {}: the table's last page holds one row", last + 1));
    }
    faults
}

#[test]
fn continuation_pages_carry_the_header_and_labels_and_no_row_is_left_alone() {
    let mut failures = vec![];
    for file in forms() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let (pdf, _) = render(&file);
        failures.extend(continuation_faults(&file, &pdf).into_iter().map(|f| format!("{name} {f}")));
    }
    assert!(failures.is_empty(), "{} faults:\n{}", failures.len(), failures.join("\n"));
}
