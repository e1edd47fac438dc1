//! The corpus of real forms (tests/real/): forms that local governments
//! published, each written as a YAML of a built-in kind exactly as printed.
//! Every one must lay out in its kind, print every cell text of its YAML, and
//! get exactly the findings its `.expected` file lists — a false alarm fails
//! this test just as a missed problem does.

mod common;

use std::path::PathBuf;

use formpress::{RenderOptions, Severity};

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/real"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        // The forms, not their layout sidecars (`<slug>.layout.yaml`).
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
fn every_real_form_renders_whole_with_exactly_its_findings() {
    let files = corpus();
    assert!(files.len() >= 15, "only {} real forms", files.len());
    let engine = common::engine();
    let mut failures = vec![];
    let mut long = 0;
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
        if !form.renderable() {
            failures.push(format!("{name}: not renderable"));
            continue;
        }
        let laid = match engine.layout(&form, &RenderOptions::default()) {
            Ok(l) => l,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        long += usize::from(laid.document.pages().len() >= 2);
        // Every cell text of the YAML is printed, whole.
        let all = common::printed(&laid.document);
        let mut cells = vec![];
        common::strings(&form.data, &mut cells);
        // Dates print the Chinese way (2023年4月15日), so they are not looked for as typed.
        for cell in cells.iter().filter(|c| formpress::form::schema::parse_date(c).is_none()) {
            if !all.contains(cell.as_str()) {
                failures.push(format!("{name}: not printed: {}", cell.chars().take(30).collect::<String>()));
            }
        }
    }
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));
    assert!(long >= 3, "only {long} forms of several pages");
    assert_eq!(kinds.len(), 5, "kinds covered: {kinds:?}");
}
