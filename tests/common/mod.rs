//! Helpers for tests that look at the PDFs formpress writes, through poppler
//! (pdftotext, pdffonts, pdfinfo) and qpdf. `tests/run.sh` installs them.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use formpress::{Engine, EngineOptions, Form, RenderOptions, Rendered};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn seed_path() -> PathBuf {
    root().join("forms/zhengzhou-2020-dept-overall.yaml")
}

pub fn seed() -> String {
    std::fs::read_to_string(seed_path()).unwrap()
}

/// One engine for the whole test binary, without installed fonts so the
/// output is the same on every machine.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(&EngineOptions { no_system_fonts: true, ..EngineOptions::default() }).unwrap())
}

pub fn check(yaml: &str) -> Form {
    engine().check("test.yaml", yaml.as_bytes())
}

pub fn render(yaml: &str) -> Rendered {
    let form = check(yaml);
    assert!(form.renderable(), "not renderable: {:#?}", form.findings);
    engine().render(&form, &RenderOptions::default()).unwrap_or_else(|e| panic!("render failed: {e}"))
}

fn tool(name: &str) -> Command {
    if Command::new(name).arg("-v").output().is_err() && Command::new(name).arg("--version").output().is_err() {
        panic!("{name} is not installed: run tests/run.sh, or apt-get install poppler-utils qpdf zbar-tools");
    }
    Command::new(name)
}

/// Writes bytes to a temporary file and runs `cmd args… FILE`.
pub fn run_on(pdf: &[u8], name: &str, args: &[&str]) -> String {
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    file.write_all(pdf).unwrap();
    run_path(file.path(), name, args)
}

pub fn run_path(path: &Path, name: &str, args: &[&str]) -> String {
    let out = tool(name).args(args).arg(path).output().unwrap();
    assert!(out.status.success() || name == "qpdf", "{name} failed: {}", String::from_utf8_lossy(&out.stderr));
    // zbarimg and pdfinfo print harmless notes on stderr; callers look at stdout first.
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The text of each page, in content order.
pub fn pages(pdf: &[u8]) -> Vec<String> {
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    file.write_all(pdf).unwrap();
    let out = tool("pdftotext").args(["-raw", "-enc", "UTF-8"]).arg(file.path()).arg("-").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut pages: Vec<String> = text.split('\x0c').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// Text without any whitespace, so wrapped cell text can be searched.
pub fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Every string in the form data (cell texts), whitespace removed.
pub fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => out.push(squash(s)),
        serde_json::Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        serde_json::Value::Object(m) => m.values().for_each(|i| strings(i, out)),
        _ => {}
    }
}

/// A field of `pdfinfo` output, e.g. `info_field(&info, "Page size")`.
pub fn info_field(info: &str, name: &str) -> String {
    info.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).map(|v| v.trim().to_string()).unwrap_or_default()
}

/// The text of each page laid out as on paper (`pdftotext -layout`): the
/// cells of one table row share a line.
pub fn layout_pages(pdf: &[u8]) -> Vec<String> {
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    file.write_all(pdf).unwrap();
    let out = tool("pdftotext").args(["-layout", "-enc", "UTF-8"]).arg(file.path()).arg("-").output().unwrap();
    String::from_utf8(out.stdout).unwrap().split('\x0c').map(str::to_string).collect()
}

/// Whether some line of `page` holds all of `parts`, in that order.
pub fn on_one_line(page: &str, parts: &[&str]) -> bool {
    page.lines().any(|line| {
        let mut rest = line;
        parts.iter().all(|p| match rest.find(p) {
            Some(i) => {
                rest = &rest[i + p.len()..];
                true
            }
            None => false,
        })
    })
}
