//! Many forms in one call: folders, an output folder, failures that do not
//! stop the rest, the combined PDF with bookmarks, PNG/SVG pages, watch mode.

mod common;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::formpress_cli as formpress;

/// A folder of forms: three seeds with different departments (the last with
/// the seed's own error, so a draft), one broken.
fn folder(dir: &Path) {
    for (i, name) in ["甲局", "乙局", "丙局"].iter().enumerate() {
        let base = if i == 2 { seed() } else { clean_seed() };
        let yaml = base.replace("department: 郑州市人民政府办公厅", &format!("department: 郑州市{name}"));
        std::fs::write(dir.join(format!("f{i}.yaml")), yaml).unwrap();
    }
    std::fs::write(dir.join("f3-broken.yaml"), "form: zhengzhou-2020-dept-overall\nyear: 二〇二〇\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "not a form").unwrap();
}

#[test]
fn a_folder_renders_in_parallel_and_failures_do_not_stop_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    folder(&input);
    let out = dir.path().join("out");
    let (code, msg) = formpress(&["render", input.to_str().unwrap(), "-o", out.to_str().unwrap(), "--jobs", "2"]);
    assert_eq!(code, Some(1), "one form failed: {msg}");
    assert!(msg.contains("共 4 份：已生成 3 份（其中 1 份有错误，印为草稿），未生成 1 份，失败 0 份"), "{msg}");
    assert!(msg.contains("f3-broken.yaml:2:7: 错误"), "{msg}");
    // Every finding of every form is printed, the draft's error and the warnings of the others.
    assert!(msg.contains("f2.yaml:") && msg.contains("其中财政资金 3300.9 大于合计 3300.8"), "{msg}");
    assert!(msg.contains("f0.yaml:") && msg.contains("警告"), "{msg}");
    let mut written: Vec<String> =
        std::fs::read_dir(&out).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    written.sort();
    assert_eq!(written, ["f0.pdf", "f1.pdf", "f2.pdf"]);
    // Each is the same PDF a single render gives.
    let single = dir.path().join("single.pdf");
    let (code, msg) = formpress(&["render", input.join("f1.yaml").to_str().unwrap(), "-o", single.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{msg}");
    assert!(
        std::fs::read(&single).unwrap() == std::fs::read(out.join("f1.pdf")).unwrap(),
        "batch and single renders differ"
    );
}

#[test]
fn combine_writes_one_pdf_with_a_bookmark_per_form() {
    let dir = tempfile::tempdir().unwrap();
    folder(dir.path());
    std::fs::remove_file(dir.path().join("f3-broken.yaml")).unwrap();
    let combined = dir.path().join("all.pdf");
    let out = dir.path().join("out");
    let (code, msg) = formpress(&[
        "render",
        dir.path().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--combine",
        combined.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "丙局 is a draft: {msg}");
    let pdf = std::fs::read(&combined).unwrap();
    let single = std::fs::read(out.join("f0.pdf")).unwrap();
    let per_form = pages(&single).len();
    let all = pages(&pdf);
    assert_eq!(all.len(), 3 * per_form);
    // In order, text intact.
    for (i, name) in ["甲局", "乙局", "丙局"].iter().enumerate() {
        assert!(squash(&all[i * per_form]).contains(&format!("郑州市{name}")), "form {i} out of place");
    }
    // Bookmarks: qpdf lists the outline titles.
    let dump = dir.path().join("dump.json");
    let ok = Command::new("qpdf")
        .arg("--json")
        .arg(&combined)
        .stdout(std::fs::File::create(&dump).unwrap())
        .status()
        .unwrap();
    assert!(ok.success() || ok.code() == Some(3));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&dump).unwrap()).unwrap();
    let titles: Vec<&str> = json["outlines"].as_array().unwrap().iter().filter_map(|o| o["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "郑州市甲局 · 市级部门整体绩效目标申报表",
            "郑州市乙局 · 市级部门整体绩效目标申报表",
            "郑州市丙局 · 市级部门整体绩效目标申报表"
        ]
    );
}

#[test]
fn png_and_svg_pages() {
    let dir = tempfile::tempdir().unwrap();
    let form = dir.path().join("seed.yaml");
    std::fs::write(&form, clean_seed()).unwrap();
    let pdf_pages = pages(&render(&clean_seed()).pdf).len();
    let (code, msg) = formpress(&["render", form.to_str().unwrap(), "--format", "png", "--ppi", "50"]);
    assert_eq!(code, Some(0), "{msg}");
    for i in 1..=pdf_pages {
        let png = std::fs::read(dir.path().join(format!("seed-{i}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        // A4 at 50 ppi is 413 × 585 pixels: width and height sit at bytes 16..24.
        let (w, h) =
            (u32::from_be_bytes(png[16..20].try_into().unwrap()), u32::from_be_bytes(png[20..24].try_into().unwrap()));
        assert_eq!((w, h), (413, 585));
    }
    assert!(!dir.path().join(format!("seed-{}.png", pdf_pages + 1)).exists());
    let (code, msg) =
        formpress(&["render", form.to_str().unwrap(), "--format", "svg", "-o", dir.path().join("s").to_str().unwrap()]);
    assert_eq!(code, Some(0), "{msg}");
    let svg = std::fs::read_to_string(dir.path().join("s-1.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("viewBox"), "{}", &svg[..100.min(svg.len())]);
}

/// Waits until `check` holds, or fails after `limit`.
fn wait_for(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn watch_rerenders_on_save_and_keeps_the_last_good_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let form = dir.path().join("w.yaml");
    let pdf = dir.path().join("w.pdf");
    std::fs::write(&form, seed()).unwrap();
    let log = dir.path().join("log.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_formpress"))
        .args(["watch", form.to_str().unwrap(), "--no-system-fonts", "--color", "never"])
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let limit = Duration::from_secs(30);
    wait_for(limit, "the first render", || std::fs::read_to_string(&log).unwrap_or_default().contains("正在监视"));
    let first = std::fs::read(&pdf).unwrap();
    // A broken version: the PDF stays as it was.
    std::fs::write(&form, seed().replace("year: 2020", "year: 二〇二〇")).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    assert!(std::fs::read(&pdf).unwrap() == first, "a broken form replaced the PDF");
    // A good new version replaces it.
    std::fs::write(&form, seed().replace("郑州市人民政府办公厅", "郑州市财政局")).unwrap();
    wait_for(limit, "the re-render", || std::fs::read(&pdf).is_ok_and(|p| p != first));
    let _ = child.kill();
    let _ = child.wait();
    assert!(squash(&pages(&std::fs::read(&pdf).unwrap()).concat()).contains("郑州市财政局"));
}
