//! `formpress sign`: PAdES signatures checked by independent validators
//! (poppler's pdfsig and pyHanko) and by `verify`; any changed byte after
//! signing is caught by all three. Keys, self-signed certificates and .p12
//! files are made with openssl at test time.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn formpress(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_formpress")).args(args).output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn run(cmd: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is not installed ({e}): run tests/run.sh"));
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// A key, a self-signed certificate (CN `name`) and a .p12 (OpenSSL 3's default PBES2/AES-256) with password `pw`.
fn key(dir: &Path, kind: &str, name: &str, pw: &str) -> (PathBuf, PathBuf) {
    key_with(dir, kind, name, pw, &[])
}

/// `key` for `kind` rsa, ec (P-256) or ec384, with more `openssl pkcs12 -export` arguments.
fn key_with(dir: &Path, kind: &str, name: &str, pw: &str, p12_args: &[&str]) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{kind}.key"));
    let cert = dir.join(format!("{kind}.pem"));
    let p12 = dir.join(format!("{kind}.p12"));
    let newkey = match kind {
        "rsa" => "rsa:2048".to_string(),
        _ => {
            let params = dir.join("ec.param");
            let curve = if kind == "ec384" { "secp384r1" } else { "prime256v1" };
            let (ok, out) = run("openssl", &["ecparam", "-name", curve, "-out", params.to_str().unwrap()]);
            assert!(ok, "{out}");
            format!("ec:{}", params.display())
        }
    };
    let subject = format!("/CN={name}/O=formpress test");
    let (ok, out) = run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            &newkey,
            "-nodes",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
            "-days",
            "30",
            "-subj",
            &subject,
            "-utf8",
        ],
    );
    assert!(ok, "{out}");
    let pass = format!("pass:{pw}");
    let mut args = vec!["pkcs12", "-export", "-inkey", key.to_str().unwrap(), "-in", cert.to_str().unwrap()];
    args.extend(["-out", p12.to_str().unwrap(), "-passout", &pass]);
    args.extend_from_slice(p12_args);
    let (ok, out) = run("openssl", &args);
    assert!(ok, "{out}");
    (p12, cert)
}

fn password_file(dir: &Path, pw: &str) -> PathBuf {
    let file = dir.join("pw.txt");
    std::fs::write(&file, format!("{pw}\n")).unwrap();
    file
}

/// Renders a form from `forms/` (`--archive` optionally) into `dir`.
fn render(dir: &Path, form: &str, archive: bool) -> PathBuf {
    let pdf = dir.join(format!("{form}{}.pdf", if archive { ".archive" } else { "" }));
    let src = common::root().join("forms").join(format!("{form}.yaml"));
    let mut args = vec!["render", src.to_str().unwrap(), "-o", pdf.to_str().unwrap(), "--no-system-fonts"];
    if archive {
        args.push("--archive");
    }
    let (code, out) = formpress(&args);
    assert_eq!(code, Some(0), "{out}");
    pdf
}

/// `formpress sign` to the default output (FORM.signed.pdf).
fn sign(pdf: &Path, p12: &Path, pw: &Path) -> (Option<i32>, String, PathBuf) {
    let out = pdf.with_extension("signed.pdf");
    let (code, text) = sign_to(pdf, p12, pw, &[]);
    (code, text, out)
}

fn sign_to(pdf: &Path, p12: &Path, pw: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["sign", pdf.to_str().unwrap(), "--key", p12.to_str().unwrap()];
    args.extend(["--password-file", pw.to_str().unwrap(), "--no-system-fonts"]);
    args.extend_from_slice(extra);
    formpress(&args)
}

/// pdfsig's verdict: (signature valid, its output).
fn pdfsig(pdf: &Path) -> (bool, String) {
    let (_, out) = run("pdfsig", &[pdf.to_str().unwrap()]);
    (out.contains("Signature Validation: Signature is Valid."), out)
}

/// pyHanko's verdict with `cert` as the trust root: every signature intact,
/// valid and trusted, each later revision an allowed change, the last one
/// covering the whole file.
fn pyhanko(pdf: &Path, cert: &Path) -> (bool, String) {
    let script = r#"
import sys
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.keys import load_cert_from_pemder
from pyhanko_certvalidator import ValidationContext
vc = ValidationContext(trust_roots=[load_cert_from_pemder(sys.argv[2])])
with open(sys.argv[1], 'rb') as f:
    r = PdfFileReader(f, strict=False)
    sigs = r.embedded_signatures
    print('signatures', len(sigs))
    for sig in sigs:
        st = validate_pdf_signature(sig, vc)
        print(sig.field_name, 'intact', st.intact, 'valid', st.valid, 'trusted', st.trusted, 'coverage', st.coverage.name)
        print('modification', st.modification_level, 'bottom_line', st.bottom_line)
"#;
    let (_, out) = run("python3", &["-c", script, pdf.to_str().unwrap(), cert.to_str().unwrap()]);
    let ok = out.contains("bottom_line True") && !out.contains("bottom_line False") && !out.contains("Traceback");
    (ok && out.lines().rev().nth(1).is_some_and(|l| l.contains("coverage ENTIRE_FILE")), out)
}

/// `verify`, with the form's YAML for a PDF that does not carry it.
fn verify(pdf: &Path, yaml: Option<&Path>) -> (Option<i32>, String) {
    let mut args = vec!["verify", pdf.to_str().unwrap(), "--no-system-fonts", "--color", "never"];
    args.extend(yaml.map(|y| y.to_str().unwrap()));
    formpress(&args)
}

/// The YAML of a PDF rendered without --archive.
fn plain_yaml() -> PathBuf {
    common::root().join("forms/mof-dept-overall-2021.yaml")
}

/// A copy of `pdf` with the byte at `at` changed.
fn flipped(pdf: &Path, at: usize, name: &str) -> PathBuf {
    let mut bytes = std::fs::read(pdf).unwrap();
    bytes[at] = if bytes[at] == b'7' { b'8' } else { b'7' };
    let out = pdf.with_file_name(name);
    std::fs::write(&out, bytes).unwrap();
    out
}

/// The box (left, top, right, bottom in pixels) of the pixels that differ
/// between two rasters of a page; every one of them must be reddish or light.
fn changed_box(a: &(usize, usize, Vec<u8>), b: &(usize, usize, Vec<u8>)) -> Option<[usize; 4]> {
    assert_eq!((a.0, a.1), (b.0, b.1));
    let mut out: Option<[usize; 4]> = None;
    for y in 0..a.1 {
        for x in 0..a.0 {
            let i = (y * a.0 + x) * 3;
            let (p, q) = (&a.2[i..i + 3], &b.2[i..i + 3]);
            if p.iter().zip(q).all(|(u, v)| u.abs_diff(*v) < 24) {
                continue;
            }
            assert!(q[0] >= q[1] && q[0] >= q[2], "a changed pixel that is not red at ({x}, {y}): {q:?}");
            let r = out.get_or_insert([x, y, x, y]);
            *r = [r[0].min(x), r[1].min(y), r[2].max(x), r[3].max(y)];
        }
    }
    out
}

fn all_accept(signed: &Path, cert: &Path, yaml: Option<&Path>) {
    let (ok, out) = pdfsig(signed);
    assert!(ok, "pdfsig: {out}");
    let (ok, out) = pyhanko(signed, cert);
    assert!(ok, "pyHanko: {out}");
    let (code, out) = verify(signed, yaml);
    assert_eq!(code, Some(0), "verify: {out}");
    assert!(out.contains("数字签名 1：✓ 有效"), "{out}");
}

fn all_reject(changed: &Path, cert: &Path, yaml: Option<&Path>) {
    let (ok, out) = pdfsig(changed);
    assert!(!ok, "pdfsig accepted a changed file: {out}");
    let (ok, out) = pyhanko(changed, cert);
    assert!(!ok, "pyHanko accepted a changed file: {out}");
    let (code, out) = verify(changed, yaml);
    assert_eq!(code, Some(1), "verify accepted a changed file: {out}");
}

#[test]
fn rsa_signature_on_an_archive_passes_pdfsig_and_pyhanko_and_fails_after_one_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (p12, cert) = key(dir.path(), "rsa", "张三", "s3cret pass");
    let pw = password_file(dir.path(), "s3cret pass");
    let pdf = render(dir.path(), "project-self-eval-2021", true);
    let original = std::fs::read(&pdf).unwrap();
    let (code, out, signed) = sign(&pdf, &p12, &pw);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("张三") && out.contains("RSA-2048") && out.contains("签章区"), "{out}");
    let bytes = std::fs::read(&signed).unwrap();
    // An incremental update: the original bytes are untouched.
    assert!(bytes.starts_with(&original));
    assert!(bytes[original.len()..].windows(14).any(|w| w == b"/SubFilter/ETS"));
    all_accept(&signed, &cert, None);
    let (_, out) = verify(&signed, None);
    assert!(out.contains("签名者 张三") && out.contains("RSA-2048 / SHA-256") && out.contains("校验码"), "{out}");
    // Still PDF/A-3b as far as its metadata goes, and the text is the same.
    let (_, info) = run("pdfinfo", &[signed.to_str().unwrap()]);
    assert!(info.contains("Pages:           2"), "{info}");
    assert_eq!(common::pages(&bytes), common::pages(&original));
    let (_, out) = pdfsig(&signed);
    assert!(out.contains("Signer Certificate Common Name: 张三"), "{out}");
    // The visible signature, as a viewer draws it: on page 2 only, a red box
    // no larger than the 签章区's room (66 × 15 mm), above the 填报日期 line.
    let (before, after) = (common::raster(&pdf, 72), common::raster(&signed, 72));
    assert_eq!(before[0], after[0], "page 1 changed");
    let changed = changed_box(&before[1], &after[1]).expect("no visible signature on page 2");
    let mm = |px: usize| px as f64 * 25.4 / 72.0;
    let (w, h) = (mm(changed[2] - changed[0]), mm(changed[3] - changed[1]));
    assert!((60.0..=67.0).contains(&w) && (13.0..=16.0).contains(&h), "box {w:.1} × {h:.1} mm");

    // One byte inside the signed range (early in the file, in page content) …
    let inside = flipped(&signed, original.len() / 2, "inside.pdf");
    all_reject(&inside, &cert, None);
    // … and one after the signature value (in the update's trailer area).
    let after = flipped(&signed, bytes.len() - 30, "after.pdf");
    all_reject(&after, &cert, None);
    // … and one inside the signature value itself.
    let contents = bytes.windows(10).position(|w| w == b"/Contents<").unwrap() + 40;
    let value = flipped(&signed, contents, "value.pdf");
    let (code, out) = verify(&value, None);
    assert_eq!(code, Some(1), "{out}");
    assert!(!pdfsig(&value).0);
}

#[test]
fn ecdsa_signature_on_a_plain_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let (p12, cert) = key(dir.path(), "ec", "Signer EC", "pw");
    let pw = password_file(dir.path(), "pw");
    let pdf = render(dir.path(), "mof-dept-overall-2021", false);
    let (code, out, signed) = sign(&pdf, &p12, &pw);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("ECDSA P-256"), "{out}");
    let yaml = plain_yaml();
    all_accept(&signed, &cert, Some(&yaml));
    let bytes = std::fs::read(&signed).unwrap();
    let inside = flipped(&signed, 2000, "inside.pdf");
    all_reject(&inside, &cert, Some(&yaml));
    // Bytes appended after signing: the signature holds, but the change is unsigned.
    let appended = signed.with_file_name("appended.pdf");
    std::fs::write(&appended, [bytes.as_slice(), b"% appended\n"].concat()).unwrap();
    let (code, out) = verify(&appended, Some(&yaml));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("追加了 11 字节"), "{out}");
    // A signed file signed again: two signatures, both valid, the last covering the whole file.
    let again = signed.with_file_name("again.pdf");
    let (code, out) = sign_to(&signed, &p12, &pw, &["-o", again.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("本签名不可见"), "{out}");
    let (code, out) = verify(&again, Some(&yaml));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("数字签名 2：✓ 有效") && out.contains("追加"), "{out}");
    // The second signature does not draw over the first.
    assert!(out.contains("数字签名 1：✓ 有效"), "{out}");
    assert_eq!(common::raster(&signed, 72), common::raster(&again, 72));
    // pyHanko: both valid, the second revision an allowed change (signing), distinct field names.
    let (ok, out) = pyhanko(&again, &cert);
    assert!(ok && out.contains("Signature2"), "{out}");
    assert!(std::fs::read(&again).unwrap().starts_with(&bytes));
}

#[test]
fn refusals_have_clear_messages_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (p12, _) = key(dir.path(), "rsa", "X", "right");
    let pdf = render(dir.path(), "mof-dept-overall-2021", false);
    // Wrong password.
    let wrong = password_file(dir.path(), "wrong");
    let (code, out, signed) = sign(&pdf, &p12, &wrong);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("密码不对"), "{out}");
    assert!(!signed.exists());
    // Not a .p12.
    let (code, out, _) = sign(&pdf, &pdf, &wrong);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("PKCS#12"), "{out}");
    // Never over the input.
    let right = password_file(dir.path(), "right");
    let before = std::fs::read(&pdf).unwrap();
    let (code, out) = sign_to(&pdf, &p12, &right, &["-o", pdf.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{out}");
    assert_eq!(std::fs::read(&pdf).unwrap(), before);
    // A draft (the seed carries an error of its own).
    let draft = dir.path().join("draft.pdf");
    let seed = common::seed_path();
    let (code, _) = formpress(&["render", seed.to_str().unwrap(), "-o", draft.to_str().unwrap(), "--no-system-fonts"]);
    assert_eq!(code, Some(1));
    let (code, out, signed) = sign(&draft, &p12, &right);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("草稿"), "{out}");
    assert!(!signed.exists());
    // No password given at all (no file, no variable, not a terminal): said as such, not 密码不对.
    let out = Command::new(env!("CARGO_BIN_EXE_formpress"))
        .args(["sign", pdf.to_str().unwrap(), "--key", p12.to_str().unwrap(), "-o"])
        .arg(dir.path().join("none.pdf"))
        .env_remove("FORMPRESS_KEY_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("没有给出") && said.contains("--password-file") && !said.contains("密码不对"), "{said}");
    assert!(!dir.path().join("none.pdf").exists());
    // The password from the environment instead of a file.
    let out = Command::new(env!("CARGO_BIN_EXE_formpress"))
        .args(["sign", pdf.to_str().unwrap(), "--key", p12.to_str().unwrap(), "-o"])
        .arg(dir.path().join("env.pdf"))
        .env("FORMPRESS_KEY_PASSWORD", "right")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Not a PDF, or a PDF cut short: a message, exit 3, nothing written.
    let bytes = std::fs::read(&pdf).unwrap();
    for (name, content) in
        [("garbage.pdf", b"%PDF-1.7 not really".to_vec()), ("cut.pdf", bytes[..bytes.len() / 2].to_vec())]
    {
        let broken = dir.path().join(name);
        std::fs::write(&broken, content).unwrap();
        let (code, out) = sign_to(&broken, &p12, &right, &["--any"]);
        assert_eq!(code, Some(3), "{name}: {out}");
        assert!(out.contains("PDF"), "{name}: {out}");
        assert!(!broken.with_extension("signed.pdf").exists());
    }
    // A PDF formpress did not make, unless --any.
    let other = dir.path().join("other.pdf");
    let (ok, out) = run("qpdf", &["--empty", "--pages", pdf.to_str().unwrap(), "--", other.to_str().unwrap()]);
    assert!(ok, "{out}");
    let (code, out, _) = sign(&other, &p12, &right);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("--any"), "{out}");
}

#[test]
fn a_pdf_with_a_cross_reference_stream_and_no_signature_area_gets_an_invisible_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (p12, cert) = key(dir.path(), "ec", "Other", "pw");
    let pw = password_file(dir.path(), "pw");
    let pdf = render(dir.path(), "mof-dept-overall-2021", false);
    // Page 1 only (no 签章区), rewritten by qpdf with object streams: the file
    // ends in a cross-reference stream, and formpress did not make it.
    let other = dir.path().join("other.pdf");
    let args =
        ["--empty", "--object-streams=generate", "--pages", pdf.to_str().unwrap(), "1", "--", other.to_str().unwrap()];
    let (ok, out) = run("qpdf", &args);
    assert!(ok, "{out}");
    let original = std::fs::read(&other).unwrap();
    let (code, out, signed) = sign(&other, &p12, &pw);
    assert_eq!(code, Some(2), "{out}");
    assert!(!signed.exists());
    let (code, out) = sign_to(&other, &p12, &pw, &["--any"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("签名不可见"), "{out}");
    let bytes = std::fs::read(&signed).unwrap();
    assert!(bytes.starts_with(&original));
    assert!(bytes[original.len()..].windows(10).any(|w| w == b"/Type/XRef"), "the update has no xref stream");
    let (ok, out) = pdfsig(&signed);
    assert!(ok, "{out}");
    let (ok, out) = pyhanko(&signed, &cert);
    assert!(ok, "{out}");
    assert_eq!(common::raster(&other, 72), common::raster(&signed, 72));
    let (ok, out) = run("qpdf", &["--check", signed.to_str().unwrap()]);
    assert!(ok, "{out}");
}

#[test]
fn legacy_p12_files_and_p384_keys_sign_too() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = render(dir.path(), "project-self-eval-2021", true);
    let pw = password_file(dir.path(), "pw");
    // Older exports: keys under PBE-SHA1-3DES, certificates under RC2-40, SHA-1 MAC.
    let (p12, cert) = key_with(dir.path(), "rsa", "Legacy", "pw", &["-legacy"]);
    let (code, out, signed) = sign(&pdf, &p12, &pw);
    assert_eq!(code, Some(0), "{out}");
    all_accept(&signed, &cert, None);
    std::fs::remove_file(&signed).unwrap();
    let (p12, cert) = key_with(dir.path(), "ec384", "P384", "pw", &[]);
    let (code, out, signed) = sign(&pdf, &p12, &pw);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("ECDSA P-384"), "{out}");
    all_accept(&signed, &cert, None);
}

#[test]
fn the_signature_goes_where_the_layout_drew_the_signature_area_whatever_the_data_says() {
    let dir = tempfile::tempdir().unwrap();
    let (p12, _) = key(dir.path(), "rsa", "李四", "pw");
    let pw = password_file(dir.path(), "pw");
    let plain = render(dir.path(), "mof-dept-overall-2021", false);
    // The same form, its last indicator (printed on the 签章区's page, above it) naming the label.
    let text = std::fs::read_to_string(common::root().join("forms/mof-dept-overall-2021.yaml")).unwrap();
    assert!(text.contains("教师满意度"));
    std::fs::write(dir.path().join("mention.yaml"), text.replace("教师满意度", "填报单位（盖章）满意度")).unwrap();
    std::fs::copy(common::root().join("forms/seal-example.png"), dir.path().join("seal-example.png")).unwrap();
    let mention = dir.path().join("mention.pdf");
    let src = dir.path().join("mention.yaml");
    let (code, out) =
        formpress(&["render", src.to_str().unwrap(), "-o", mention.to_str().unwrap(), "--no-system-fonts"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(common::pages(&std::fs::read(&mention).unwrap())[1].contains("填报单位（盖章）满意度"));
    let mut boxes = vec![];
    for pdf in [&plain, &mention] {
        let (code, out, signed) = sign(pdf, &p12, &pw);
        assert_eq!(code, Some(0), "{out}");
        let (before, after) = (common::raster(pdf, 72), common::raster(&signed, 72));
        boxes.push(changed_box(&before[1], &after[1]).expect("no visible signature on page 2"));
    }
    let moved = boxes[0].iter().zip(&boxes[1]).any(|(a, b)| a.abs_diff(*b) > 2);
    assert!(!moved, "the form's text moved the signature: {:?} → {:?}", boxes[0], boxes[1]);
}

/// `tests/attacks/forge.py ATTACK IN OUT ARGS…` (pyHanko).
fn forge(args: &[&str]) {
    let script = common::root().join("tests/attacks/forge.py");
    let (ok, out) = run("python3", &[&[script.to_str().unwrap()][..], args].concat());
    assert!(ok, "forge.py {args:?}: {out}");
}

#[test]
fn a_later_update_signed_under_the_same_name_is_shown_for_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let (p12, _) = key(dir.path(), "ec", "张三", "pw");
    let pw = password_file(dir.path(), "pw");
    let pdf = render(dir.path(), "mof-dept-overall-2021", true);
    let (code, out, signed) = sign(&pdf, &p12, &pw);
    assert_eq!(code, Some(0), "{out}");
    // Someone else makes a certificate named 张三, adds a visible 8600.4 over an
    // amount and signs that update (with pyHanko).
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let (_, other_cert) = key(&other, "ec", "张三", "pw");
    let forged = dir.path().join("forged.pdf");
    let (key_pem, cert_pem) = (other.join("ec.key"), other_cert);
    let (s, f) = (signed.to_str().unwrap(), forged.to_str().unwrap());
    forge(&[
        "freetext",
        s,
        f,
        "3650.5",
        "8600.4",
        "ap",
        "--sign",
        key_pem.to_str().unwrap(),
        cert_pem.to_str().unwrap(),
    ]);
    let (code, out) = verify(&forged, None);
    assert_eq!(code, Some(1), "{out}");
    for needle in [
        "数字签名 1：✓ 有效（签名者 张三",
        "签署的是文件的第 2 版",
        "✓ 签名时的 2 页与数据一致",
        "✗ 签名之后（1 次修改）改动了：",
        "加入了：第 1 页：一个不是 formpress 生成的批注或表单控件（FreeText），显示「8600.4」，位于「学生资助」行",
        "数字签名 2：✓ 有效（签名者 张三",
        "✗ 这个签名的签名域或外观不是 formpress 写入的",
        "⚠ 数字签名 1、2 都署名「张三」，但用的是不同的证书",
        "结果：不一致",
    ] {
        assert!(out.contains(needle), "no 「{needle}」 in\n{out}");
    }
}

/// A key made by tests/attacks/cert.py (`kind`: plain, expired, future, no-signing): the .p12, key and certificate.
fn odd_key(dir: &Path, kind: &str) -> [PathBuf; 3] {
    let out = dir.join(kind);
    let script = common::root().join("tests/attacks/cert.py");
    let (ok, text) = run("python3", &[script.to_str().unwrap(), "王五", out.to_str().unwrap(), kind]);
    assert!(ok, "cert.py: {text}");
    ["p12", "key", "pem"].map(|ext| out.with_extension(ext))
}

#[test]
fn certificates_unfit_for_signing_are_not_valid() {
    let dir = tempfile::tempdir().unwrap();
    let pw = password_file(dir.path(), "pw");
    let pdf = render(dir.path(), "mof-dept-overall-2021", true);
    let [p12, _, _] = odd_key(dir.path(), "plain");
    let signed = dir.path().join("plain.pdf");
    let (code, out) = sign_to(&pdf, &p12, &pw, &["-o", signed.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = verify(&signed, None);
    assert_eq!(code, Some(0), "a key usage with digital signature signs: {out}");
    for (kind, says) in [
        ("expired", "签名时证书已过期（有效期至 2020-02-01 08:00:00（北京时间）），不能用于签名"),
        ("future", "签名时证书尚未生效（2099-01-01 08:00:00（北京时间） 起有效），不能用于签名"),
        ("no-signing", "证书的密钥用途不包括数字签名，不能用于签名"),
    ] {
        // formpress refuses to sign with it …
        let [p12, key, cert] = odd_key(dir.path(), kind);
        let out_pdf = dir.path().join(format!("{kind}.pdf"));
        let (code, out) = sign_to(&pdf, &p12, &pw, &["-o", out_pdf.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{kind}: {out}");
        assert!(out.contains(says) && !out_pdf.exists(), "{kind}: {out}");
        // … and a signature made with it by another tool is not valid.
        let (p, o) = (pdf.to_str().unwrap(), out_pdf.to_str().unwrap());
        forge(&["touch", p, o, "--sign", key.to_str().unwrap(), cert.to_str().unwrap()]);
        let (code, out) = verify(&out_pdf, None);
        assert_eq!(code, Some(1), "{kind}: {out}");
        assert!(out.contains(&format!("数字签名 1：✗ {says}")), "{kind}: {out}");
    }
}
