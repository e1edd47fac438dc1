//! The corpus of real forms (tests/real/): forms that local governments
//! published, each written as a YAML of a built-in kind exactly as printed.
//! Every one must render in its kind, print every cell text of its YAML on
//! paper (the PDF read back with pdftotext, page by page above the footer),
//! carry the 草稿 mark on every page exactly when it has errors (judged on
//! the rendered pixels), and get exactly the findings its `.expected` file
//! lists — a false alarm fails this test just as a missed problem does.

mod common;

use std::path::PathBuf;

use formpress::{RenderOptions, Severity};

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/real"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        // `<slug>.layout.yaml` beside each form describes the published layout; it is not a form.
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.to_string_lossy().ends_with(".layout.yaml"))
        .collect();
    files.sort();
    files
}

/// `<YAML path>  错误|警告  <part of the message>`, one finding a line.
fn expected(yaml: &std::path::Path) -> Vec<(String, Severity, String)> {
    let text =
        std::fs::read_to_string(yaml.with_extension("expected")).expect("every corpus form has a .expected file");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let parts: Vec<&str> = l.splitn(3, "  ").map(str::trim).collect();
            assert_eq!(parts.len(), 3, "{}: a line is `path  错误|警告  message`: {l}", yaml.display());
            let level = match parts[1] {
                "错误" => Severity::Error,
                "警告" => Severity::Warning,
                other => panic!("{}: unknown level {other}", yaml.display()),
            };
            (parts[0].to_string(), level, parts[2].to_string())
        })
        .collect()
}

#[test]
fn every_real_form_gets_exactly_its_findings() {
    let files = corpus();
    assert!(files.len() >= 15, "only {} real forms", files.len());
    let engine = common::engine();
    let mut failures = vec![];
    let mut kinds = std::collections::BTreeSet::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let form = engine.check_file(file).unwrap();
        kinds.insert(form.kind.clone().unwrap_or_default());
        // Findings: the expected ones, each once, and nothing else.
        let mut printed: Vec<(String, Severity, String)> =
            form.findings.iter().map(|f| (f.yaml_path.clone(), f.severity, f.message.clone())).collect();
        for (path, level, part) in expected(file) {
            match printed.iter().position(|(p, l, m)| *p == path && *l == level && m.contains(&part)) {
                Some(i) => {
                    printed.remove(i);
                }
                None => failures.push(format!("{name}: missed {path} {level:?} {part}")),
            }
        }
        for (path, level, message) in printed {
            failures.push(format!("{name}: not expected {path} {level:?} {message}"));
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(kinds.len(), 5, "kinds covered: {kinds:?}");
}

#[test]
fn every_real_form_prints_every_cell_on_paper_and_drafts_look_like_drafts() {
    let engine = common::engine();
    let mut failures = vec![];
    let (mut long, mut drafts) = (0, 0);
    for file in &corpus() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let form = engine.check_file(file).unwrap();
        if !form.renderable() {
            failures.push(format!("{name}: not renderable"));
            continue;
        }
        let rendered = match engine.render(&form, &RenderOptions::default()) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        long += usize::from(rendered.pages >= 2);
        // Every cell text of the YAML is on the paper, whole (a cell may continue on the next page).
        let kind = form.kind.as_deref().unwrap();
        let pages = common::body_pages(&rendered.pdf, common::bottom_margin(kind));
        let mut cells = vec![];
        common::strings(&form.data, &mut cells);
        // Dates print the Chinese way (2023年4月15日), so they are not looked for as typed.
        for cell in cells.iter().filter(|c| formpress::form::schema::parse_date(c).is_none()) {
            if !common::shown(&pages, cell) {
                failures.push(format!("{name}: not printed: {}", cell.chars().take(30).collect::<String>()));
            }
        }
        // The 草稿 mark, on the pixels: on every page of a draft, on no page of a final form.
        let marked = draft_marks(&rendered.pdf, common::bottom_margin(kind));
        drafts += usize::from(rendered.draft);
        if marked.len() != rendered.pages || marked.iter().any(|&m| m != rendered.draft) {
            failures.push(format!("{name}: draft {} but the 草稿 mark on pages {marked:?}", rendered.draft));
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
    assert!(long >= 3, "only {long} forms of several pages");
    assert!(drafts >= 3, "only {drafts} drafts: the 草稿 mark is hardly tested");
}

/// Whether each page shows the 草稿 mark: its translucent red, across the
/// middle of the page above the footer (whose draft line is red too), at 30 dpi.
fn draft_marks(pdf: &[u8], bottom_mm: f64) -> Vec<bool> {
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::io::Write::write_all(&mut file, pdf).unwrap();
    common::raster(file.path(), 30)
        .iter()
        .map(|(w, h, rgb)| {
            let body = h - (bottom_mm / 25.4 * 30.0).ceil() as usize;
            let red = (h / 4..body.min(h * 3 / 4))
                .flat_map(|y| (0..*w).map(move |x| (y * w + x) * 3))
                .filter(|&i| {
                    let (r, g, b) = (i32::from(rgb[i]), i32::from(rgb[i + 1]), i32::from(rgb[i + 2]));
                    r - g > 25 && r - b > 25
                })
                .count();
            // The mark covers thousands of pixels at 30 dpi; a stray red glyph a handful.
            red > 200
        })
        .collect()
}
