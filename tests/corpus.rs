//! Hostile and malformed inputs through the real binary: each ends in its
//! expected outcome (tests/corpus/expected.txt) with a clear message, in
//! bounded time, never a panic, and never a half-written or clobbered PDF.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A hang guard, not a speed target: the slowest valid case takes about a second.
const HANG: Duration = Duration::from_secs(120);

fn formpress(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_formpress"))
        .args(args)
        .args(["--no-system-fonts", "--color", "never"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > HANG {
            child.kill().unwrap();
            panic!("formpress {args:?} hung for {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn corpus() -> PathBuf {
    common::root().join("tests/corpus")
}

/// Runs one case: render into an empty folder, then check.
fn run_case(file: &Path, outcome: &str, needle: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("out.pdf");
    let render = formpress(&["render", file.to_str().unwrap(), "-o", pdf.to_str().unwrap()]);
    let check = formpress(&["check", file.to_str().unwrap()]);
    let messages = format!("{}{}", String::from_utf8_lossy(&render.stderr), String::from_utf8_lossy(&check.stderr));
    let (render_code, check_code) = (render.status.code(), check.status.code());
    let expected = match outcome {
        "pdf" => (Some(0), Some(0), true),
        "warn" => (Some(0), Some(0), true),
        // A form with rule errors is written as a draft, and render says so with exit 1.
        "draft" => (Some(1), Some(1), true),
        "refused" => (Some(1), Some(1), false),
        other => return Err(format!("unknown outcome {other}")),
    };
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    let mut problems = vec![];
    if (render_code, check_code) != (expected.0, expected.1) {
        problems.push(format!(
            "exit codes render {render_code:?} check {check_code:?}, want {:?} {:?}",
            expected.0, expected.1
        ));
    }
    if pdf.exists() != expected.2 {
        problems.push(format!("PDF written: {}", pdf.exists()));
    }
    if leftovers.len() != usize::from(expected.2) {
        problems.push(format!("files left in the output folder: {leftovers:?}"));
    }
    if !needle.is_empty() && !messages.contains(needle) {
        problems.push(format!("messages lack {needle:?}"));
    }
    if outcome == "pdf" && messages.contains("错误") {
        problems.push("an error was reported".into());
    }
    if outcome == "warn" && !messages.contains("警告") {
        problems.push("no warning".into());
    }
    if pdf.exists() {
        // Drafts say so on every page; a clean form carries its 校验码 on every page.
        let pages = common::pages(&std::fs::read(&pdf).unwrap());
        let drafts = pages.iter().filter(|p| formpress::form::fingerprint::is_draft(p)).count();
        let coded = pages.iter().filter(|p| formpress::form::fingerprint::find_code(p).is_some()).count();
        let want = if outcome == "draft" { (pages.len(), 0) } else { (0, pages.len()) };
        if (drafts, coded) != want {
            problems.push(format!("{drafts} draft pages and {coded} pages with a 校验码 of {}", pages.len()));
        }
    }
    if messages.contains("panicked") || messages.contains("RUST_BACKTRACE") {
        problems.push("panicked".into());
    }
    if outcome != "pdf" && !messages.lines().any(|l| l.contains(':') && (l.contains("错误") || l.contains("警告")))
    {
        problems.push("no located finding".into());
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("{problems:?}\n{messages}")) }
}

#[test]
fn every_corpus_case_has_its_expected_outcome() {
    let expected = std::fs::read_to_string(corpus().join("expected.txt")).unwrap();
    let mut failures = vec![];
    let mut cases = 0;
    for line in expected.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        let (file, outcome) = (parts.next().unwrap(), parts.next().unwrap());
        let needle = parts.collect::<Vec<_>>().join(" ");
        cases += 1;
        if let Err(e) = run_case(&corpus().join(file), outcome, &needle) {
            failures.push(format!("{file}: {e}"));
        }
    }
    let on_disk = std::fs::read_dir(corpus())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert_eq!(cases, on_disk, "every corpus file needs a line in expected.txt");
    assert!(cases >= 50, "{cases} cases");
    assert!(failures.is_empty(), "{} of {cases} cases failed:\n{}", failures.len(), failures.join("\n\n"));
}

/// Generated: a 100 000-row form is refused quickly with a clear message.
#[test]
fn a_hundred_thousand_rows_are_refused() {
    let mut yaml = String::from(
        "form: zhengzhou-2020-dept-overall\nyear: 2020\ndepartment: 大部门\ngoals: [目标]\ntasks: [{name: 任务1, content: 内容, total: 1, fiscal: 1}]\nindicators:\n",
    );
    for l1 in 0..100 {
        yaml += &format!("  - name: 一级{l1}\n    groups:\n");
        for l2 in 0..10 {
            yaml += &format!("      - name: 二级{l2}\n        rows:\n");
            for r in 0..100 {
                yaml += &format!("          - {{name: 指标{l1}-{l2}-{r}, value: ≥90%, explain: 解释, note: 说明}}\n");
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.yaml");
    std::fs::write(&file, yaml).unwrap();
    run_case(&file, "refused", "指标行过多，100000 行，上限 5000 行").unwrap();
}

/// A failed render leaves the previous PDF as it was and no temporary file.
#[test]
fn a_failed_render_keeps_the_previous_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("form.pdf");
    std::fs::write(&pdf, b"%PDF previous version").unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "form: zhengzhou-2020-dept-overall\nyear: 二〇二〇\n").unwrap();
    let out = formpress(&["render", bad.to_str().unwrap(), "-o", pdf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&pdf).unwrap(), b"%PDF previous version");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // And a good render replaces it whole.
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, common::clean_seed()).unwrap();
    let out = formpress(&["render", good.to_str().unwrap(), "-o", pdf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-1."));
}

#[test]
fn output_folder_problems_are_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let seed = common::seed_path();
    let missing = dir.path().join("no/such/folder/out.pdf");
    let out = formpress(&["render", seed.to_str().unwrap(), "-o", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("输出目录不存在"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = formpress(&["render", dir.path().join("absent.yaml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("文件或目录不存在"));

    let out = formpress(&["render"]);
    assert_eq!(out.status.code(), Some(2));
}
