//! `verify` checks what the pages show as a viewer draws them, not only the
//! printed code: edited, hidden, moved or cropped amounts, a removed QR code,
//! a swapped or recoloured seal, annotations, actions and attachments added
//! by an update, form text that reads like structure, archives made by
//! another version, and every option that changes the page in the code.
//! Each forgery is built by the test (tests/attacks/forge.py, with pyHanko).

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
    // Named by the cell, as the form names it: the row and the column.
    assert!(
        out.contains("第 1 页，「任务2」行「合计」栏（印着「1436.3」）：PDF 上是「1936.3」，数据应为「1436.3」"),
        "{out}"
    );
    assert!(out.contains("「任务2」行「其中：财政资金」栏"), "{out}");
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
    assert!(out.contains("PDF 上是「1436.3」，数据应为「1436.4」"), "{out}");
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
    assert!(out.contains("第 1 页，页脚（校验码、页码、二维码处）：页面上看起来与数据不同"), "{out}");
    assert!(!out.contains("PDF 上是「"), "text is the same: {out}");
}

/// The archive with another formpress version written into its Creator.
fn as_other_version(dir: &Path, pdf: &Path) -> (PathBuf, String) {
    let qdf = dir.join("q.pdf");
    let status = Command::new("qpdf").args(["--qdf", "--object-streams=disable"]).arg(pdf).arg(&qdf).status();
    assert!(status.unwrap().success());
    let version = env!("CARGO_PKG_VERSION");
    let (now, then) = (format!("formpress {version}"), format!("formpress {}", "9".repeat(version.len())));
    let text = replace_all(&std::fs::read(&qdf).unwrap(), now.as_bytes(), then.as_bytes());
    let old = dir.join(format!("old-{}", pdf.file_name().unwrap().to_str().unwrap()));
    std::fs::write(&old, text).unwrap();
    (old, then)
}

#[test]
fn another_version_never_relaxes_the_page_check() {
    let dir = tempfile::tempdir().unwrap();
    // Pages that differ (no QR code) from a PDF naming another version: the code
    // matches, the pages could not be checked, and that is not a pass.
    let tpl = without_qr(dir.path());
    let pdf = archive(dir.path(), "seed.yaml", &clean_seed(), &["--templates", tpl.to_str().unwrap()]);
    let (old, then) = as_other_version(dir.path(), &pdf);
    let (code, out) = verify(&old, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("PDF 由 {then}，表单种类 zhengzhou-2020-dept-overall 版本 1")), "{out}");
    assert!(out.contains("⚠ 页面与现在生成的不同") && out.contains("页脚（校验码、页码、二维码处）"), "{out}");
    assert!(out.contains("结果：校验码一致，页面未能核对"), "{out}");
    // The same pages under another version's name are checked, and pass.
    let plain = archive(dir.path(), "plain.yaml", &clean_seed(), &[]);
    let (renamed, _) = as_other_version(dir.path(), &plain);
    let (code, out) = verify(&renamed, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("结果：一致"), "{out}");
    // A code that does not match still fails outright.
    let changed = dir.path().join("changed.yaml");
    std::fs::write(&changed, clean_seed().replace("1436.3", "1436.4")).unwrap();
    let (code, out) = verify(&old, &[changed.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("结果：不一致"), "{out}");

    // A kind of another version: its code is the one that version prints.
    let kinds = dir.path().join("v2");
    let kind = kinds.join("zhengzhou-2020-dept-overall");
    std::fs::create_dir_all(&kind).unwrap();
    let from = root().join("templates/zhengzhou-2020-dept-overall");
    for file in ["kind.yaml", "form.typ.j2"] {
        std::fs::copy(from.join(file), kind.join(file)).unwrap();
    }
    let manifest = std::fs::read_to_string(kind.join("kind.yaml")).unwrap();
    std::fs::write(kind.join("kind.yaml"), format!("version: \"2\"\n{manifest}")).unwrap();
    let v2 = archive(dir.path(), "v2.yaml", &clean_seed(), &["--templates", kinds.to_str().unwrap()]);
    let (code, out) = verify(&v2, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("按 PDF 记录的表单种类版本 2 计算"), "{out}");
    assert!(out.contains("结果：校验码一致，页面未能核对"), "{out}");
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
    assert!(out.contains("✗ 校验码不一致") && out.contains("页脚（校验码、页码、二维码处）"), "{out}");

    // The last page (with the seal) from the other archive, inside this one.
    let last = pages(&std::fs::read(&first).unwrap()).len().to_string();
    let forged = a.path().join("forged.pdf");
    let before = format!("1-{}", last.parse::<usize>().unwrap() - 1);
    with_pages(&first, &[(&first, &before), (&second, &last)], &forged);
    let (code, out) = verify(&forged, &[]);
    assert_eq!(code, Some(1), "{out}");
    // The two seals draw alike (they differ in a text chunk): the page's code is what differs.
    assert!(out.contains(&format!("第 {last} 页，页脚（校验码、页码、二维码处）：PDF 上是「校验码：")), "{out}");

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

/// `tests/attacks/forge.py ATTACK IN OUT ARGS…`: a forgery appended as an update.
fn forge(attack: &str, input: &Path, output: &Path, args: &[&str]) {
    let out = Command::new("python3")
        .arg(root().join("tests/attacks/forge.py"))
        .arg(attack)
        .arg(input)
        .arg(output)
        .args(args)
        .output()
        .expect("python3 with pyhanko: run tests/run.sh");
    assert!(out.status.success(), "forge.py {attack}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Verifies a forgery of `pdf`: it must fail, and the report must say each of `says`.
fn caught(dir: &Path, pdf: &Path, attack: &str, args: &[&str], says: &[&str]) {
    let forged = dir.join(format!("{attack}-{}.pdf", args.join("-")));
    forge(attack, pdf, &forged, args);
    let (code, out) = verify(&forged, &[]);
    assert_eq!(code, Some(1), "{attack} {args:?} passed:\n{out}");
    assert!(out.contains("结果：不一致"), "{attack} {args:?}:\n{out}");
    for needle in says {
        assert!(out.contains(needle), "{attack} {args:?}: no 「{needle}」 in\n{out}");
    }
}

const TASK1_TOTAL: &str = "第 1 页，「任务1」行「合计」栏（印着「3600.4」）：";

#[test]
fn amounts_hidden_moved_or_cropped_are_caught_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = archive(dir.path(), "seed.yaml", &clean_seed(), &[]);
    let (code, out) = verify(&pdf, &[]);
    assert_eq!(code, Some(0), "{out}");
    // The amount drawn invisibly (render mode 3), in white, under an empty clip:
    // the text is the same, the page is not.
    for mode in ["invisible", "white", "clip"] {
        caught(dir.path(), &pdf, "hide", &["3600.4", mode], &[&format!("{TASK1_TOTAL}页面上看起来与数据不同")]);
    }
    // In a 0.01 pt font: the text stands elsewhere, and the page shows nothing there.
    caught(dir.path(), &pdf, "hide", &["3600.4", "tiny"], &[TASK1_TOTAL]);
    // Two amounts drawn at each other's place: both cells named, with what they show.
    caught(
        dir.path(),
        &pdf,
        "swap",
        &["3600.4", "3300.8"],
        &[
            &format!("{TASK1_TOTAL}PDF 上是「3300.8」，数据应为「3600.4」"),
            "「任务3」行「合计」栏（印着「3300.8」）：PDF 上是「3600.4」，数据应为「3300.8」",
        ],
    );
    // Half of every page hidden by a crop box.
    caught(dir.path(), &pdf, "crop", &[], &["第 1 页：页面显示范围是 210×149 mm，数据应为 210×297 mm"]);
}

#[test]
fn annotations_actions_and_attachments_formpress_did_not_write_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = archive(dir.path(), "seed.yaml", &clean_seed(), &[]);
    let over = "，位于「任务1」行「合计」栏（印着「3600.4」）";
    // A FreeText without an appearance stream (poppler draws it from its text), and with one.
    for ap in [&[][..], &["ap"][..]] {
        let args = [&["3600.4", "8600.4"][..], ap].concat();
        let line = format!("第 1 页：一个不是 formpress 生成的批注或表单控件（FreeText），显示「8600.4」{over}");
        caught(dir.path(), &pdf, "freetext", &args, &[&line]);
    }
    // A check box whose appearance is a state dictionary.
    caught(
        dir.path(),
        &pdf,
        "checkbox",
        &["3600.4", "8600.4"],
        &["（Widget）", over, "不是 formpress 签名的表单域：「x」"],
    );
    // A signature widget with no signature drawing a red X: not skipped, named.
    caught(dir.path(), &pdf, "fakesig", &[], &["数字签名 1：✗ 签名域中没有签名", "（Widget）"]);
    // JavaScript run on opening, and one more attachment.
    caught(dir.path(), &pdf, "openaction", &[], &["文件打开或操作时会执行的动作（/OpenAction）"]);
    caught(dir.path(), &pdf, "attach", &["付款说明.exe"], &["多出的附件「付款说明.exe」"]);
    // Every one of them came as an update that is not a signature.
    caught(dir.path(), &pdf, "touch", &[], &["✗ 文件生成后被修改过 1 次，修改不是签名（第 2 版）"]);
}

#[test]
fn a_seal_hidden_or_recoloured_through_decode_arrays_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let seal = std::fs::read(root().join("forms/seal-example.png")).unwrap();
    let pdf = signed(dir.path(), &seal);
    let (code, out) = verify(&pdf, &[]);
    assert_eq!(code, Some(0), "{out}");
    let last = pages(&std::fs::read(&pdf).unwrap()).len();
    let line = format!("第 {last} 页，签章区：页面上看起来与数据不同");
    caught(dir.path(), &pdf, "decode", &["image"], &[&line]);
    caught(dir.path(), &pdf, "decode", &["mask"], &[&line]);
}

#[test]
fn form_text_is_never_taken_for_structure() {
    let dir = tempfile::tempdir().unwrap();
    // A department named like a signature dictionary, a goal that quotes the draft mark.
    let yaml = clean_seed()
        .replace("department: 郑州市人民政府办公厅", "department: \"郑州市/ByteRange[0 1 2 3]/Contents<00>办公厅\"")
        .replace("  - 保障单位人员工资正常发放\n", "  - 保障单位人员工资正常发放（草稿·未通过校验的旧表作废）\n");
    let pdf = archive(dir.path(), "seed.yaml", &yaml, &[]);
    assert!(formpress::form::fingerprint::is_draft(&pages(&std::fs::read(&pdf).unwrap())[0]), "the page says it");
    let (code, out) = verify(&pdf, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("PDF 没有数字签名") && out.contains("结果：一致"), "{out}");
    // `scan` takes it as the final form it is; `sign` too (the key is only opened after the check).
    let bytes = std::fs::read(&pdf).unwrap();
    let expected = formpress::archival::scan::Expected::from_pdf(engine(), "seed.pdf", bytes, None);
    assert!(expected.is_ok(), "{:?}", expected.err());
    // A draft is known by what formpress recorded, not by the page text.
    std::fs::write(dir.path().join("draft.yaml"), seed()).unwrap();
    let draft = dir.path().join("draft.pdf");
    let (code, out) =
        formpress(&["render", dir.path().join("draft.yaml").to_str().unwrap(), "-o", draft.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    let (code, out) = verify(&draft, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("这是草稿") && out.contains("结果：草稿"), "{out}");
}

#[test]
fn every_option_that_changes_the_page_changes_the_code() {
    let code = |yaml: &str| {
        let form = check(yaml);
        assert!(form.renderable(), "{:#?}", form.findings);
        engine().fingerprint(&form).unwrap().code()
    };
    let base = code(&clean_seed());
    let with = |options: &str| clean_seed().replace("goals:\n", &format!("options: {options}\ngoals:\n"));
    // The defaults written out are the same form.
    assert_eq!(code(&with("{unit: 万元, repeat_labels: true}")), base);
    for (option, what) in [
        ("{unit: 元}", "amounts printed in 元 are 10 000 times those in 万元"),
        ("{labels: {department: 主管部门}}", "another label"),
        ("{repeat_labels: false}", "labels not repeated on a new page"),
        ("{repeat_header: false}", "the column header on the first page only"),
        ("{year_line: false}", "no year line"),
        ("{number_goals: false}", "goals not numbered"),
        ("{seal_across: seal.png}", "a 骑缝章"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(root().join("forms/seal-example.png"), dir.path().join("seal.png")).unwrap();
        let form = engine().check_at("t.yaml", with(option).as_bytes(), dir.path());
        assert!(form.renderable(), "{option}: {:#?}", form.findings);
        assert_ne!(engine().fingerprint(&form).unwrap().code(), base, "{option}: {what}");
    }
    // How the file is written (archive) is not the page.
    assert_eq!(code(&with("{archive: true}")), base);
}

#[test]
fn a_changed_digit_shows_at_the_resolution_pages_are_compared() {
    // Every digit turned into every other, in a remark (the form's small text).
    let with = |d: char| clean_seed().replace("remark: 2020年人员工资及社保测算数", &format!("remark: 测算数{d}"));
    let drawn: Vec<_> = ('0'..='9')
        .map(|d| formpress::archival::verify::draw(&render(&with(d)).pdf).unwrap().swap_remove(0).raster.unwrap())
        .collect();
    let differing = |a, b| -> usize {
        formpress::archival::pixel_diff::differences(&drawn[a], &drawn[b]).iter().map(|p| p.pixels).sum()
    };
    assert_eq!(differing(0, 0), 0, "the same page draws the same");
    for a in 0..10 {
        for b in a + 1..10 {
            let pixels = differing(a, b);
            assert!(pixels >= 4, "{a} → {b}: only {pixels} pixels differ");
        }
    }
}
