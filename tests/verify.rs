//! `verify` checks what the pages show, not only the printed code: edited
//! text, a removed QR code, a swapped seal, a form whose own text says 校验码,
//! any attachment name, and archives made by another version.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn formpress(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_formpress"))
        .args(args)
        .args(["--no-system-fonts", "--color", "never"].iter().filter(|_| matches!(args[0], "render" | "verify")))
        .output()
        .unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn verify(pdf: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["verify", pdf.to_str().unwrap()];
    args.extend_from_slice(extra);
    formpress(&args)
}

/// Writes `yaml` as `dir/name` and renders it as an archive PDF; `extra` adds options.
fn archive(dir: &Path, name: &str, yaml: &str, extra: &[&str]) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, yaml).unwrap();
    let pdf = dir.join(format!("{name}.pdf"));
    let mut args = vec!["render", file.to_str().unwrap(), "-o", pdf.to_str().unwrap(), "--archive"];
    args.extend_from_slice(extra);
    let (code, out) = formpress(&args);
    assert_eq!(code, Some(0), "{out}");
    pdf
}

/// `qpdf first --pages …`: the first file's document (attachments, metadata) with these pages.
fn with_pages(first: &Path, pages: &[(&Path, &str)], out: &Path) {
    let mut cmd = Command::new("qpdf");
    cmd.arg(first).arg("--pages");
    for (file, range) in pages {
        cmd.arg(file).arg(range);
    }
    assert!(cmd.arg("--").arg(out).status().unwrap().success());
}

#[test]
fn an_edited_amount_is_caught_with_page_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let good = archive(dir.path(), "seed.yaml", &clean_seed(), &[]);
    let edited = archive(dir.path(), "edited.yaml", &clean_seed().replace("1436.3", "1936.3"), &[]);
    // Page 1 printed from other numbers, inside the original archive.
    let forged = dir.path().join("forged.pdf");
    with_pages(&good, &[(&edited, "1"), (&good, "2-z")], &forged);
    let (code, out) = verify(&forged, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("第 1 页：PDF 上是「1936.3"), "{out}");
    assert!(out.contains("数据应为「1436.3"), "{out}");
    assert!(out.contains("结果：不一致"), "{out}");

    // A page removed.
    let short = dir.path().join("short.pdf");
    with_pages(&good, &[(&good, "1-3")], &short);
    let (code, out) = verify(&short, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("PDF 有 3 页，数据应为 4 页"), "{out}");

    // A given YAML that differs says where.
    let changed = dir.path().join("changed.yaml");
    std::fs::write(&changed, clean_seed().replace("1436.3", "1436.4")).unwrap();
    let (code, out) = verify(&good, &[changed.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("✗ 校验码不一致：PDF 上印的是"), "{out}");
    assert!(out.contains("PDF 上是「1436.3") && out.contains("数据应为「1436.4"), "{out}");
}

/// A templates folder whose footer leaves out the QR code (and nothing else).
fn without_qr(dir: &Path) -> PathBuf {
    let shared = dir.join("tpl/_shared");
    std::fs::create_dir_all(&shared).unwrap();
    let common = std::fs::read_to_string(root().join("templates/_shared/common.typ.j2")).unwrap();
    let line = "if n >= 1 { image(";
    assert!(common.contains(line), "the footer's QR line moved");
    std::fs::write(shared.join("common.typ.j2"), common.replace(line, "if false { image(")).unwrap();
    dir.join("tpl")
}

#[test]
fn a_removed_qr_code_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = without_qr(dir.path());
    let pdf = archive(dir.path(), "seed.yaml", &clean_seed(), &["--templates", tpl.to_str().unwrap()]);
    // Same data, same printed code and text: only the drawing differs.
    let (code, out) = verify(&pdf, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("校验码 ") && out.contains("✓ 一致"), "{out}");
    assert!(out.contains("第 1 页：图形与数据不符") && out.contains("页脚：二维码处"), "{out}");
    assert!(!out.contains("PDF 上是「"), "text is the same: {out}");
}

#[test]
fn an_archive_of_another_version_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = without_qr(dir.path());
    let pdf = archive(dir.path(), "seed.yaml", &clean_seed(), &["--templates", tpl.to_str().unwrap()]);
    // As an older formpress would have written it: another version in the Creator.
    let qdf = dir.path().join("q.pdf");
    assert!(
        Command::new("qpdf")
            .args(["--qdf", "--object-streams=disable"])
            .arg(&pdf)
            .arg(&qdf)
            .status()
            .unwrap()
            .success()
    );
    let version = env!("CARGO_PKG_VERSION");
    let (now, then) = (format!("formpress {version}"), format!("formpress {}", "9".repeat(version.len())));
    let bytes = std::fs::read(&qdf).unwrap();
    let text = replace_all(&bytes, now.as_bytes(), then.as_bytes());
    let old = dir.path().join("old.pdf");
    std::fs::write(&old, text).unwrap();
    // The code decides; the page differences (here: no QR code) are a note.
    let (code, out) = verify(&old, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(&format!("PDF 由 {then}，表单种类 zhengzhou-2020-dept-overall 版本 1")), "{out}");
    assert!(out.contains("⚠ 页面与现在") && out.contains("图形与数据不符"), "{out}");
    assert!(out.contains("结果：一致（校验码相符"), "{out}");
    // … but a code that does not match still fails.
    let changed = dir.path().join("changed.yaml");
    std::fs::write(&changed, clean_seed().replace("1436.3", "1436.4")).unwrap();
    let (code, out) = verify(&old, &[changed.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
}

/// Replaces every occurrence of `from` by `to` (same length) in bytes.
fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut found = 0;
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            found += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert!(found > 0, "not found");
    out
}

const SIGNATURE: &str =
    "signature:\n  unit: 郑州市人民政府办公厅\n  head: 张三\n  date: 2020-03-06\n  seal: img/seal.png\n";

fn signed(dir: &Path, seal: &[u8]) -> PathBuf {
    std::fs::create_dir_all(dir.join("img")).unwrap();
    std::fs::write(dir.join("img/seal.png"), seal).unwrap();
    archive(dir, "signed.yaml", &clean_seed().replace("goals:\n", &format!("{SIGNATURE}goals:\n")), &[])
}

#[test]
fn a_seal_is_part_of_the_code_and_travels_with_the_archive() {
    let seal = std::fs::read(root().join("forms/seal-example.png")).unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = signed(a.path(), &seal);
    // Another picture: the same PNG with one more chunk of text.
    let mut other = seal.clone();
    let end = other.len() - 12;
    other.splice(end..end, [0, 0, 0, 1, b't', b'E', b'X', b't', b'x', 0x8e, 0x5b, 0x6f, 0x60]);
    let second = signed(b.path(), &other);
    let code = |pdf: &Path| formpress::form::fingerprint::find_code(&pages(&std::fs::read(pdf).unwrap())[0]).unwrap();
    assert_ne!(code(&first), code(&second), "a swapped seal must change the 校验码");

    // The archive alone verifies: the picture is attached beside the YAML.
    let list = run_path(&first, "pdfdetach", &["-list"]);
    assert!(list.contains("2 embedded files") && list.contains("img/seal.png"), "{list}");
    let (code, out) = verify(&first, &[]);
    assert_eq!(code, Some(0), "{out}");

    // The other seal's folder does not match this archive, and says why.
    let (code, out) = verify(&first, &[b.path().join("signed.yaml").to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("✗ 校验码不一致") && out.contains("图形与数据不符"), "{out}");

    // The last page (with the seal) from the other archive, inside this one.
    let last = pages(&std::fs::read(&first).unwrap()).len().to_string();
    let forged = a.path().join("forged.pdf");
    let before = format!("1-{}", last.parse::<usize>().unwrap() - 1);
    with_pages(&first, &[(&first, &before), (&second, &last)], &forged);
    let (code, out) = verify(&forged, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("第 {last} 页：图形与数据不符")), "{out}");

    // Without the picture the attached form cannot be read, and verify says why.
    let detached = a.path().join("detached.pdf");
    let removed = Command::new("qpdf").arg(&first).arg("--remove-attachment=img/seal.png").arg(&detached).status();
    assert!(removed.unwrap().success());
    let (code, out) = verify(&detached, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("无法读取表单数据") && out.contains("无法读取图片 img/seal.png"), "{out}");
}

#[test]
fn a_form_that_mentions_the_code_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = clean_seed().replace(
        "  - 保障单位人员工资正常发放\n",
        "  - 保障单位人员工资正常发放，纸质表格印校验码：0000-0000-0000-0000，供核对\n",
    );
    let pdf = archive(dir.path(), "seed.yaml", &yaml, &[]);
    let (code, out) = verify(&pdf, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("0000-0000-0000-0000"), "{out}");
}

#[test]
fn any_attachment_name_verifies_and_extracts() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = archive(dir.path(), "申报表.txt", &clean_seed(), &[]);
    let (code, out) = verify(&pdf, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("PDF 附带的 申报表.txt"), "{out}");
    let back = dir.path().join("back.yaml");
    let (code, out) = formpress(&["extract", pdf.to_str().unwrap(), "-o", back.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(std::fs::read_to_string(back).unwrap(), clean_seed());
}

#[test]
fn text_in_a_field_cannot_inject_into_the_qr_payload() {
    // The payload is only `FP1:`, the hash and the page number: no form text is in it.
    let form = check(&clean_seed().replace("department: 郑州市人民政府办公厅", "department: 郑州|sha256:00|x"));
    let fp = engine().fingerprint(&form).unwrap();
    let payload = fp.qr_payload(3);
    assert_eq!(payload.len(), 4 + 64 + 2);
    assert!(payload.starts_with("FP1:") && payload[4..68].chars().all(|c| c.is_ascii_hexdigit()), "{payload}");
    assert!(payload.ends_with(":3"), "{payload}");
    let read = formpress::form::fingerprint::parse_qr(&payload).unwrap();
    assert_eq!((read.hex, read.page), (fp.hex.clone(), Some(3)));
}
