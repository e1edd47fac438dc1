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

/// The seed with its one error mended (任务3's 财政资金 above its 合计), so it
/// renders as a final form with a 校验码 rather than as a draft.
pub fn clean_seed() -> String {
    let s = seed();
    assert!(s.contains("fiscal: 3300.9"));
    s.replace("fiscal: 3300.9", "fiscal: 3300.8")
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

/// Runs the formpress binary without installed fonts or colour: exit code, stdout + stderr.
pub fn formpress_cli(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_formpress"))
        .args(args)
        .args(["--no-system-fonts", "--color", "never"])
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
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

/// The words of a page with their boxes (`pdftotext -bbox`): (text, x, y centre).
pub fn words(pdf: &[u8], page: usize) -> Vec<(String, f64, f64)> {
    word_boxes(pdf, page).into_iter().map(|(text, x0, _, y)| (text, x0, y)).collect()
}

/// The words of a page with their boxes: (text, x from, x to, y centre).
pub fn word_boxes(pdf: &[u8], page: usize) -> Vec<(String, f64, f64, f64)> {
    let p = page.to_string();
    let mut file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    file.write_all(pdf).unwrap();
    let out = tool("pdftotext").args(["-bbox", "-f", &p, "-l", &p]).arg(file.path()).arg("-").output().unwrap();
    let html = String::from_utf8_lossy(&out.stdout).into_owned();
    let attr = |tag: &str, name: &str| -> f64 {
        let key = format!("{name}=\"");
        let start = tag.find(&key).map(|i| i + key.len()).unwrap_or(0);
        tag[start..].split('"').next().and_then(|v| v.parse().ok()).unwrap_or(0.0)
    };
    html.lines()
        .filter_map(|l| {
            let l = l.trim();
            let tag = l.strip_prefix("<word ")?;
            let (attrs, rest) = tag.split_once('>')?;
            let text = rest.strip_suffix("</word>")?.to_string();
            let y = (attr(attrs, "yMin") + attr(attrs, "yMax")) / 2.0;
            Some((text, attr(attrs, "xMin"), attr(attrs, "xMax"), y))
        })
        .collect()
}

/// Whether the words containing `left` and `right` sit in one table row,
/// `left` further left (their centres within `tolerance` points vertically).
pub fn same_row(words: &[(String, f64, f64)], left: &str, right: &str, tolerance: f64) -> bool {
    let find = |t: &str| words.iter().find(|w| w.0 == t).or_else(|| words.iter().find(|w| w.0.contains(t)));
    match (find(left), find(right)) {
        (Some(a), Some(b)) => a.1 < b.1 && (a.2 - b.2).abs() <= tolerance,
        _ => false,
    }
}

/// Everything a laid-out document prints, without white space, in the order
/// of the markup that produced it: a cell whose text continues on the next
/// page (or wraps in boxes) reads as one piece, so every cell text of the
/// data can be looked for whole.
pub fn printed(doc: &typst_layout::PagedDocument) -> String {
    use typst::layout::{Frame, FrameItem};
    fn walk(frame: &Frame, out: &mut Vec<(u64, u16, String)>) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(g) => walk(&g.frame, out),
                FrameItem::Text(t) => {
                    for g in &t.glyphs {
                        let (span, offset) = g.span;
                        out.push((span.into_raw().get(), offset, t.text[g.range()].to_string()));
                    }
                }
                _ => {}
            }
        }
    }
    let mut glyphs = vec![];
    for page in doc.pages() {
        walk(&page.frame, &mut glyphs);
    }
    glyphs.sort_by_key(|(span, offset, _)| (*span, *offset));
    glyphs.into_iter().flat_map(|(_, _, s)| s.chars().filter(|c| !c.is_whitespace()).collect::<Vec<_>>()).collect()
}

/// Each page rasterised by pdftoppm at `dpi`: width, height, RGB pixels (rows top down).
pub fn raster(pdf: &Path, dpi: u32) -> Vec<(usize, usize, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let out = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-png", pdf.to_str().unwrap(), prefix.to_str().unwrap()])
        .output()
        .expect("pdftoppm is not installed: run tests/run.sh");
    assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    // page-1.png …, or page-01.png … from ten pages on: sorted, they are in page order.
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(f).unwrap()));
            let mut reader = decoder.read_info().unwrap();
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buf).unwrap();
            assert_eq!(info.color_type, png::ColorType::Rgb);
            buf.truncate(info.buffer_size());
            (info.width as usize, info.height as usize, buf)
        })
        .collect()
}
