//! The command line as files: each `tests/cli/*.toml` runs formpress with its
//! arguments (and `*.stdin`) and compares the exit status, standard output and
//! standard error with the files beside it, so a changed message is a visible
//! diff. `TRYCMD=overwrite cargo test --test cli` rewrites them after a change
//! made on purpose.

#[test]
fn cli_cases() {
    trycmd::TestCases::new().env("NO_COLOR", "1").case("tests/cli/*.toml");
}

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

/// Runs formpress (no installed fonts) with `stdin`; exit code, stdout, stderr.
fn run(args: &[&str], stdin: &[u8], cwd: &Path) -> (Option<i32>, String, String) {
    use std::io::Write as _;
    // Commands that read forms use no installed fonts, so output is the same everywhere.
    let fonts: &[&str] = if ["help", "completions"].contains(&args[0]) { &[] } else { &["--no-system-fonts"] };
    let mut child = Command::new(env!("CARGO_BIN_EXE_formpress"))
        .args(args)
        .args(fonts)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every line of `--json` output is valid against `formpress schema --output`
/// (python-jsonschema, Draft 2020-12); the documents, parsed.
fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    let schema = run(&["schema", "--output"], b"", &common::root()).1;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.json"), &schema).unwrap();
    std::fs::write(dir.path().join("out.jsonl"), stdout).unwrap();
    let script = "import json, sys, jsonschema\n\
        s = json.load(open(sys.argv[1]))\n\
        jsonschema.Draft202012Validator.check_schema(s)\n\
        v = jsonschema.Draft202012Validator(s)\n\
        for n, line in enumerate(open(sys.argv[2], encoding='utf-8')):\n\
        \x20   for e in v.iter_errors(json.loads(line)): print(n, e.message, list(e.path))";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(dir.path().join("schema.json"))
        .arg(dir.path().join("out.jsonl"))
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python3 jsonschema failed (tests/run.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let errors = String::from_utf8_lossy(&out.stdout);
    assert!(errors.is_empty(), "--json output does not match its schema:\n{errors}\n{stdout}");
    stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON document per line")).collect()
}

#[test]
fn json_output_of_every_command_matches_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.yaml");
    std::fs::write(&seed, common::seed()).unwrap();
    let clean = dir.path().join("clean.yaml");
    std::fs::write(&clean, common::clean_seed()).unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "form: project\nyear: [\n").unwrap();
    let cwd = dir.path();

    // check: one document for one form, lines and a summary for several.
    let (code, stdout, stderr) = run(&["check", "--json", "seed.yaml"], b"", cwd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.is_empty(), "findings go into the JSON only: {stderr}");
    let docs = json_lines(&stdout);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["status"], "draft");
    assert_eq!(docs[0]["findings"][0]["path"], "tasks[2].fiscal");
    assert_eq!(docs[0]["findings"][0]["line"], 42);
    let (code, stdout, _) =
        run(&["check", "--json", "seed.yaml", "clean.yaml", "broken.yaml", "missing.yaml"], b"", cwd);
    assert_eq!(code, Some(3));
    let docs = json_lines(&stdout);
    let types: Vec<&str> = docs.iter().map(|d| d["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["form", "form", "form", "form", "summary"]);
    assert_eq!(docs[2]["status"], "broken");
    assert_eq!(docs[3]["status"], serde_json::Value::Null);
    assert!(docs[3]["error"].as_str().unwrap().contains("missing.yaml"));
    assert_eq!((docs[4]["errors"].as_u64(), docs[4]["exit"].as_u64()), (Some(2), Some(3)));

    // render one form: outputs, pages, 校验码; a draft says so.
    let (code, stdout, stderr) = run(&["render", "--json", "clean.yaml"], b"", cwd);
    assert_eq!(code, Some(0), "{stderr}");
    let doc = &json_lines(&stdout)[0];
    assert_eq!(doc["outputs"][0], "clean.pdf");
    assert_eq!((doc["pages"].as_u64(), doc["draft"].as_bool()), (Some(4), Some(false)));
    let code_printed = doc["code"].as_str().unwrap().to_string();
    assert!(common::pages(&std::fs::read(cwd.join("clean.pdf")).unwrap())[0].contains(&code_printed));
    let (code, stdout, _) = run(&["render", "--json", "seed.yaml"], b"", cwd);
    assert_eq!(code, Some(1));
    let doc = &json_lines(&stdout)[0];
    assert_eq!((doc["draft"].as_bool(), doc["code"].as_str()), (Some(true), None));
    let (code, stdout, _) = run(&["render", "--json", "broken.yaml"], b"", cwd);
    assert_eq!(code, Some(1));
    assert!(json_lines(&stdout)[0]["error"].as_str().unwrap().contains("结构性错误"));

    // render a batch: one line per form, then the summary.
    let out = cwd.join("out");
    let (code, stdout, _) = run(&["render", "--json", "seed.yaml", "clean.yaml", "broken.yaml", "-o", "out"], b"", cwd);
    assert_eq!(code, Some(1));
    let docs = json_lines(&stdout);
    assert_eq!(docs.len(), 4);
    let summary = docs.last().unwrap();
    assert_eq!(
        (summary["written"].as_u64(), summary["drafts"].as_u64(), summary["refused"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    assert!(out.join("clean.pdf").exists() && out.join("seed.pdf").exists());

    // import: the workbook read, the YAML written and checked.
    let (code, _, stderr) = run(&["render", "clean.yaml", "--format", "xlsx"], b"", cwd);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, stderr) = run(&["import", "--json", "clean.xlsx", "-o", "back.yaml"], b"", cwd);
    assert_eq!(code, Some(0), "{stderr}");
    let doc = &json_lines(&stdout)[0];
    assert_eq!((doc["type"].as_str(), doc["output"].as_str()), (Some("import"), Some("back.yaml")));
    assert_eq!(doc["form"]["status"], "warnings");
    assert_eq!(doc["form"]["exit"], 0);

    // verify: the verdict, the printed 校验码, and each problem named by its cell.
    let (code, stdout, stderr) = run(&["verify", "--json", "clean.pdf", "clean.yaml"], b"", cwd);
    assert_eq!(code, Some(0), "{stderr}");
    let doc = &json_lines(&stdout)[0];
    assert_eq!(
        (doc["type"].as_str(), doc["format"].as_str(), doc["verdict"].as_str()),
        (Some("verify"), Some("pdf"), Some("matches"))
    );
    assert_eq!(doc["code"].as_str(), Some(code_printed.as_str()));
    assert_eq!(doc["problems"].as_array().map(Vec::len), Some(0));
    std::fs::write(cwd.join("changed.yaml"), common::clean_seed().replacen("3600.4", "8600.4", 1)).unwrap();
    let (code, stdout, _) = run(&["verify", "--json", "clean.pdf", "changed.yaml"], b"", cwd);
    assert_eq!(code, Some(1));
    let doc = &json_lines(&stdout)[0];
    assert_eq!((doc["verdict"].as_str(), doc["exit"].as_u64()), (Some("differs"), Some(1)));
    let problems: Vec<&str> = doc["problems"].as_array().unwrap().iter().filter_map(|p| p.as_str()).collect();
    assert!(problems.iter().any(|p| p.contains("校验码不一致")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("「任务1」行") && p.contains("「3600.4」")), "{problems:?}");
    let (code, stdout, _) = run(&["verify", "--json", "missing.pdf"], b"", cwd);
    assert_eq!(code, Some(3));
    let doc = &json_lines(&stdout)[0];
    assert!(doc["verdict"].is_null() && doc["error"].as_str().unwrap().contains("missing.pdf"), "{doc}");

    // scan: the archive written, each page's scan; a set with pages missing is refused by page.
    let status = Command::new("pdftoppm").args(["-r", "150", "-jpeg", "clean.pdf", "s"]).current_dir(cwd).status();
    assert!(status.unwrap().success(), "pdftoppm (poppler-utils) is needed");
    let scans = ["s-1.jpg", "s-2.jpg", "s-3.jpg", "s-4.jpg"];
    let args = [&["scan", "--json"][..], &scans, &["--data", "clean.yaml", "-o", "signed.pdf"]].concat();
    let (code, stdout, stderr) = run(&args, b"", cwd);
    assert_eq!(code, Some(0), "{stderr}");
    let doc = &json_lines(&stdout)[0];
    assert_eq!(
        (doc["type"].as_str(), doc["output"].as_str(), doc["pages"].as_u64()),
        (Some("scan"), Some("signed.pdf"), Some(4))
    );
    assert_eq!(doc["sources"].as_array().map(Vec::len), Some(4));
    assert_eq!(doc["code"].as_str(), Some(code_printed.as_str()));
    let (code, stdout, _) =
        run(&["scan", "--json", "s-1.jpg", "s-3.jpg", "--data", "clean.yaml", "-o", "two.pdf"], b"", cwd);
    assert_eq!(code, Some(1));
    let doc = &json_lines(&stdout)[0];
    assert!(doc["output"].is_null() && !cwd.join("two.pdf").exists(), "{doc}");
    assert_eq!(doc["problems"], serde_json::json!(["第 2 页缺失", "第 4 页缺失"]));
}

#[test]
fn standard_input_and_output() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let clean = common::clean_seed();
    // A form piped in, the PDF piped out: the same bytes as from the file.
    let (code, pdf, stderr) = run(&["render", "-", "-o", "-"], clean.as_bytes(), cwd);
    assert_eq!(code, Some(0), "{stderr}");
    std::fs::write(cwd.join("clean.yaml"), &clean).unwrap();
    let (code, _, _) = run(&["render", "clean.yaml"], b"", cwd);
    assert_eq!(code, Some(0));
    let from_file = std::fs::read(cwd.join("clean.pdf")).unwrap();
    let piped = Command::new(env!("CARGO_BIN_EXE_formpress"))
        .args(["render", "-", "-o", "-", "--no-system-fonts"])
        .current_dir(cwd)
        .stdin(std::fs::File::open(cwd.join("clean.yaml")).unwrap())
        .output()
        .unwrap();
    assert_eq!(piped.stdout, from_file, "rendered from standard input: {}", pdf.len());
    // Without -o there is nowhere to write: a usage error, before anything is read.
    let (code, _, stderr) = run(&["render", "-"], clean.as_bytes(), cwd);
    assert_eq!(code, Some(2), "{stderr}");
    // check reads standard input too, and names it `-`.
    let (code, stdout, _) = run(&["check", "-"], common::seed().as_bytes(), cwd);
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty());
}

#[test]
fn page_images_go_into_a_folder_given_as_output() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    std::fs::write(cwd.join("clean.yaml"), common::clean_seed()).unwrap();
    std::fs::create_dir(cwd.join("pages")).unwrap();
    for out in ["pages", "pages/", "new/"] {
        let (code, _, stderr) = run(&["render", "clean.yaml", "--format", "svg", "-o", out], b"", cwd);
        assert_eq!(code, Some(0), "{out}: {stderr}");
        let folder = cwd.join(out.trim_end_matches('/'));
        assert!(folder.join("clean-1.svg").is_file() && folder.join("clean-4.svg").is_file(), "{out}");
        assert!(!cwd.join(format!("{}-1.svg", out.trim_end_matches('/'))).exists(), "{out}: written beside the folder");
    }
}

#[test]
fn every_command_has_chinese_help_and_exit_codes_per_cause() {
    let root = common::root();
    for command in [
        "render",
        "check",
        "watch",
        "list",
        "new",
        "schema",
        "template",
        "extract",
        "verify",
        "sign",
        "serve",
        "import",
        "scan",
        "fonts",
        "completions",
    ] {
        let (code, stdout, _) = run(&["help", command], b"", &root);
        assert_eq!(code, Some(0), "{command}");
        assert!(
            stdout.contains("用法：formpress") && stdout.contains("选项：") && stdout.contains("显示帮助"),
            "{command}:\n{stdout}"
        );
        for english in ["Usage:", "Options:", "Arguments:", "[default:", "[possible values:", "Print help"] {
            assert!(!stdout.contains(english), "{command} help says {english}:\n{stdout}");
        }
        // Every option's line says what it does in Chinese.
        for line in stdout.lines().filter(|l| {
            l.trim_start().starts_with('-') || l.trim_start().starts_with('<') || l.trim_start().starts_with('[')
        }) {
            assert!(line.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{command}: {line}");
        }
    }
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, stdout, _) = run(&["completions", shell], b"", &root);
        assert_eq!(code, Some(0), "{shell}");
        assert!(stdout.contains("render") && stdout.contains("--json"), "{shell}");
    }
    // "Already exists" is a usage error for every command that refuses to write over a file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("taken.yaml"), "x").unwrap();
    let (code, _, _) = run(&["new", "project", "-o", "taken.yaml"], b"", dir.path());
    assert_eq!(code, Some(2));
    let (code, _, _) = run(&["template", "project", "-o", "."], b"", dir.path());
    assert_eq!(code, Some(2));
}
