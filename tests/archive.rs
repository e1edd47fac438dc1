//! Archive-grade output: PDF/A-3b with the source attached, the printed
//! 校验码 and QR code, extract and verify, the signature block.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn formpress(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_formpress"))
        .args(args)
        .args(["--color", "never"].iter().filter(|_| matches!(args[0], "render" | "check" | "verify")))
        .output()
        .unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Renders the seed as an archive PDF into `dir`; returns the PDF path.
fn archive_seed(dir: &Path) -> std::path::PathBuf {
    let yaml = dir.join("zhengzhou-2020-dept-overall.yaml");
    std::fs::write(&yaml, clean_seed()).unwrap();
    let pdf = dir.join("seed.pdf");
    let (code, out) =
        formpress(&["render", yaml.to_str().unwrap(), "-o", pdf.to_str().unwrap(), "--archive", "--no-system-fonts"]);
    assert_eq!(code, Some(0), "{out}");
    pdf
}

#[test]
fn archive_pdf_is_pdfa3b_with_the_yaml_attached() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = archive_seed(dir.path());
    let check = run_path(&pdf, "qpdf", &["--check"]);
    assert!(check.contains("No syntax or stream encoding errors found"), "{check}");
    // Uncompressed, with object streams expanded, so dictionaries can be read.
    let qdf = pdf.with_extension("qdf.pdf");
    let ok = Command::new("qpdf").args(["--qdf", "--object-streams=disable"]).arg(&pdf).arg(&qdf).status().unwrap();
    assert!(ok.success());
    let bytes = std::fs::read(&qdf).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    // The XMP identifies PDF/A-3, conformance B.
    assert!(text.contains("<pdfaid:part>3</pdfaid:part>") || text.contains("pdfaid:part=\"3\""), "no pdfaid:part 3");
    assert!(text.contains("<pdfaid:conformance>B</pdfaid:conformance>") || text.contains("pdfaid:conformance=\"B\""));
    assert!(text.contains("/AFRelationship /Source"), "attachment relationship");
    assert!(text.to_lowercase().contains("/subtype /application#2fyaml"), "MIME type");
    assert!(text.contains("/Lang (zh-CN)"), "document language");
    let list = run_path(&pdf, "pdfdetach", &["-list"]);
    assert!(list.contains("1 embedded files") && list.contains("zhengzhou-2020-dept-overall.yaml"), "{list}");
    let info = run_path(&pdf, "pdfinfo", &[]);
    assert_eq!(info_field(&info, "Author"), "郑州市人民政府办公厅");
    assert!(info_field(&info, "Subject").contains("校验码"), "{info}");
    assert!(info_field(&info, "Keywords").contains("2020年度"), "{info}");
}

#[test]
fn archive_render_is_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = std::fs::read(archive_seed(a.path())).unwrap();
    let second = std::fs::read(archive_seed(b.path())).unwrap();
    assert!(first == second, "archive renders differ");
}

#[test]
fn extract_round_trips_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = archive_seed(dir.path());
    let out = dir.path().join("back.yaml");
    let (code, msg) = formpress(&["extract", pdf.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{msg}");
    assert!(std::fs::read(&out).unwrap() == clean_seed().into_bytes(), "the attachment differs from the YAML");
    // The default name is the attachment's, and an identical file is left alone.
    let (code, msg) = formpress(&["extract", pdf.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{msg}");
    assert!(msg.contains("完全相同"), "{msg}");
    // A different file of that name is not overwritten without --force (a usage error, as for every command).
    std::fs::write(dir.path().join("zhengzhou-2020-dept-overall.yaml"), "edited").unwrap();
    let (code, msg) = formpress(&["extract", pdf.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{msg}");
    assert_eq!(std::fs::read(dir.path().join("zhengzhou-2020-dept-overall.yaml")).unwrap(), b"edited");
}

#[test]
fn verify_passes_untouched_and_catches_a_changed_digit() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = archive_seed(dir.path());
    let (code, msg) = formpress(&["verify", pdf.to_str().unwrap(), "--no-system-fonts"]);
    assert_eq!(code, Some(0), "{msg}");
    assert!(msg.contains("结果：一致"), "{msg}");

    // Comments and key order do not change the fingerprint.
    let reformatted = dir.path().join("reformatted.yaml");
    let text = clean_seed()
        .replace("year: 2020\ndepartment:", "department:")
        .replace("form: zhengzhou", "year: 2020\n# 另一个注释\nform: zhengzhou");
    std::fs::write(&reformatted, text).unwrap();
    let (code, msg) = formpress(&["verify", pdf.to_str().unwrap(), reformatted.to_str().unwrap(), "--no-system-fonts"]);
    assert_eq!(code, Some(0), "{msg}");

    // One digit anywhere: an amount, a 指标值, and an amount written another way
    // (3600.40 prints differently from 3600.4).
    for (from, to) in
        [("fiscal: 1436.3", "fiscal: 1436.4"), ("value: ≥97%", "value: ≥98%"), ("total: 3600.4", "total: 3600.40")]
    {
        let changed = dir.path().join("changed.yaml");
        std::fs::write(&changed, clean_seed().replace(from, to)).unwrap();
        let (code, msg) = formpress(&["verify", pdf.to_str().unwrap(), changed.to_str().unwrap(), "--no-system-fonts"]);
        assert_eq!(code, Some(1), "{from} → {to}: {msg}");
        assert!(msg.contains("✗ 校验码不一致") && msg.contains("结果：不一致"), "{msg}");
    }
}

#[test]
fn every_page_carries_code_page_number_and_qr() {
    let pdf = render(&clean_seed()).pdf;
    let pages = pages(&pdf);
    let code = formpress::form::fingerprint::find_code(&pages[0]).expect("a 校验码 on page 1");
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(formpress::form::fingerprint::find_code(page).as_deref(), Some(code.as_str()), "page {}", i + 1);
        assert!(squash(page).contains(&format!("第{}页共{}页", i + 1, pages.len())), "page {}: {page}", i + 1);
    }
    // The QR code holds the format version, the full hash, whose start is the 校验码, and the page.
    let hash = engine().fingerprint(&check(&clean_seed())).unwrap().hex;
    assert!(hash.starts_with(&code.replace('-', "")));
    let want: Vec<String> = (1..=pages.len()).map(|p| format!("FP1:{hash}:{p}")).collect();
    assert_eq!(scan_pages(&pdf, 200, 0.0, 100), want);
}

/// Every page's QR code as an office scan would give it back: rendered at
/// `dpi`, turned by `degrees`, saved as JPEG of `quality`, read with zbarimg.
/// A page whose code cannot be read gives an empty string.
fn scan_pages(pdf: &[u8], dpi: u32, degrees: f64, quality: u32) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.pdf");
    std::fs::write(&file, pdf).unwrap();
    let ok = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-png"])
        .arg(&file)
        .arg(dir.path().join("page"))
        .status();
    assert!(ok.unwrap().success());
    let mut images: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    images.sort();
    images
        .iter()
        .map(|png| {
            let jpg = png.with_extension("jpg");
            let status = Command::new("convert")
                .arg(png)
                .args(["-background", "white", "-rotate", &degrees.to_string(), "-quality", &quality.to_string()])
                .arg(&jpg)
                .status()
                .expect("ImageMagick's convert (tests/run.sh installs it)");
            assert!(status.success());
            let out = Command::new("zbarimg").args(["-q", "--raw"]).arg(&jpg).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        })
        .collect()
}

#[test]
fn the_qr_code_reads_back_from_office_scans() {
    // 150, 200 and 300 dpi, turned 2° either way, JPEG at quality 75, grey and colour alike.
    for example in ["mof-dept-overall-2021.yaml", "project-self-eval-2021.yaml"] {
        let path = root().join("forms").join(example);
        let form = engine().check_file(&path).unwrap();
        let pdf = engine().render(&form, &formpress::RenderOptions::default()).unwrap().pdf;
        let hash = engine().fingerprint(&form).unwrap().hex;
        let pages = pages(&pdf).len();
        let want: Vec<String> = (1..=pages).map(|p| format!("FP1:{hash}:{p}")).collect();
        for dpi in [150, 200, 300] {
            for degrees in [2.0, -2.0] {
                let read = scan_pages(&pdf, dpi, degrees, 75);
                assert_eq!(read, want, "{example} at {dpi} dpi, {degrees}°");
            }
        }
    }
}

#[test]
fn the_footer_does_not_move_the_grid() {
    let rows_per_page = |yaml: &str| -> Vec<Vec<String>> {
        let form = check(yaml);
        let names: Vec<String> = form.data["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|l1| l1["groups"].as_array().unwrap().iter())
            .flat_map(|l2| l2["rows"].as_array().unwrap().iter().map(|r| squash(r["name"].as_str().unwrap())))
            .collect();
        pages(&render(yaml).pdf)
            .iter()
            .map(|p| names.iter().filter(|n| squash(p).contains(n.as_str())).cloned().collect())
            .collect()
    };
    let without = clean_seed()
        .replace("department: 郑州市人民政府办公厅", "department: 郑州市人民政府办公厅\noptions: {fingerprint: false}");
    let plain = render(&without).pdf;
    assert!(formpress::form::fingerprint::find_code(&pages(&plain).concat()).is_none());
    assert_eq!(rows_per_page(&clean_seed()), rows_per_page(&without));
}

#[test]
fn signature_block_with_a_seal_keeps_its_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("forms/seal-example.png"), dir.path().join("seal.png")).unwrap();
    let yaml = dir.path().join("signed.yaml");
    let block = "signature:\n  unit: 郑州市人民政府办公厅\n  head: 张三\n  finance: 李四\n  preparer: 王五\n  phone: 0371-67181234\n  date: 2020-03-06\n  seal: seal.png\n";
    std::fs::write(&yaml, clean_seed().replace("goals:\n", &format!("{block}goals:\n"))).unwrap();
    let form = engine().check_file(&yaml).unwrap();
    assert!(form.renderable(), "{:?}", form.findings);
    let pdf = engine().render(&form, &formpress::RenderOptions::default()).unwrap().pdf;
    let last = squash(pages(&pdf).last().unwrap());
    for text in [
        "填报单位（盖章）：郑州市人民政府办公厅",
        "填报日期：2020年3月6日",
        "单位负责人：张三",
        "财务负责人：李四",
        "填报人：王五",
        "联系电话：0371-67181234",
    ] {
        assert!(last.contains(text), "{text} missing: {last}");
    }
    let images = run_on(&pdf, "pdfimages", &["-list"]);
    assert!(images.lines().any(|l| l.contains(" 300   300 ")), "seal image missing:\n{images}");
    // The date of the signature block is the document date.
    let created = info_field(&run_on(&pdf, "pdfinfo", &[]), "CreationDate");
    assert!(created.contains("2020"), "{created}");

    // A seal that is not there is a finding on its line, not a broken render.
    std::fs::remove_file(dir.path().join("seal.png")).unwrap();
    let form = engine().check_file(&yaml).unwrap();
    let f = form.findings.iter().find(|f| f.message.contains("无法读取图片")).expect("missing seal reported");
    assert_eq!(f.path, "签章区 › 印章图片");
    assert!(!form.renderable());
}
