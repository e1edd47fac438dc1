//! The hardening issue, case by case through the real binary: outputs go only
//! where the user meant, inputs are read within limits, template folders and
//! pictures stay in their sandbox. Each case checks the safe outcome: the
//! exit code, the message, the victim file unchanged, memory bounded.

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs formpress through `sh` (for umask and ulimit) under `timeout`, a hang guard.
fn sh(dir: &Path, prelude: &str, args: &[&str]) -> Output {
    let quoted: Vec<String> = args.iter().map(|a| format!("'{}'", a.replace('\'', r"'\''"))).collect();
    // extract reads no forms, so it takes none of the engine options.
    let common = if args[0] == "extract" { "" } else { "--no-system-fonts --color never" };
    let script =
        format!("{prelude} exec timeout 60 '{}' {} {common}", env!("CARGO_BIN_EXE_formpress"), quoted.join(" "));
    let out = Command::new("sh").arg("-c").arg(script).current_dir(dir).stdin(Stdio::null()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(124), "formpress {args:?} hung");
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    out
}

fn run(dir: &Path, args: &[&str]) -> Output {
    sh(dir, "", args)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_code(out: &Output, code: i32, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}{}", String::from_utf8_lossy(&out.stdout));
    assert!(err.contains(needle), "messages lack {needle:?}:\n{err}");
}

/// A folder with the seed form as f.yaml.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.yaml"), common::clean_seed()).unwrap();
    dir
}

#[test]
fn outputs_never_replace_an_input_or_a_yaml_file() {
    let dir = workdir();
    let d = dir.path();
    let seed = common::clean_seed();
    let abs = d.join("f.yaml");
    std::fs::hard_link(&abs, d.join("same.pdf")).unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["render", "f.yaml", "-o", "./f.yaml"],
        vec!["render", "f.yaml", "-o", abs.to_str().unwrap()],
        vec!["render", "f.yaml", "-o", "same.pdf"],
        vec!["render", "f.yaml", "--typ", "f.yaml"],
        vec!["render", "f.yaml", "--typ", "other.yml"],
        vec!["watch", "f.yaml", "-o", "./f.yaml"],
    ];
    for args in cases {
        let out = run(d, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("不能写入"), "{args:?}: {}", stderr(&out));
        assert_eq!(std::fs::read_to_string(&abs).unwrap(), seed, "{args:?} changed the input");
    }
    assert!(!d.join("other.yml").exists());
}

#[test]
fn combine_never_replaces_a_forms_own_pdf_or_an_archive() {
    let dir = workdir();
    let d = dir.path();
    std::fs::copy(d.join("f.yaml"), d.join("g.yaml")).unwrap();
    let out = run(d, &["render", "f.yaml", "g.yaml", "--combine", "f.pdf"]);
    assert_code(&out, 2, "本次运行已有另一份输出");
    assert!(!d.join("f.pdf").exists(), "nothing is rendered after a refused plan");

    let out = run(d, &["render", "f.yaml", "--archive", "-o", "archive.pdf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let archive = std::fs::read(d.join("archive.pdf")).unwrap();
    let out = run(d, &["render", "g.yaml", "--combine", "archive.pdf"]);
    assert_code(&out, 2, "存档 PDF");
    assert_eq!(std::fs::read(d.join("archive.pdf")).unwrap(), archive);
}

#[test]
fn devices_are_refused_and_dash_streams_to_stdout() {
    let dir = workdir();
    let d = dir.path();
    let out = run(d, &["render", "f.yaml", "-o", "/dev/null"]);
    assert_code(&out, 2, "设备文件");
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    let out = run(d, &["render", "f.yaml", "-o", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.starts_with(b"%PDF-"));
    let out = run(d, &["render", "f.yaml", "-o", "/dev/stdout"]);
    assert!(out.stdout.starts_with(b"%PDF-"), "{}", stderr(&out));
    let names: Vec<_> = std::fs::read_dir(d).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(names.len(), 1, "only the form: {names:?}");
}

#[test]
fn modes_are_kept_umask_is_honoured_read_only_files_are_refused() {
    let dir = workdir();
    let d = dir.path();
    let ro = d.join("ro.pdf");
    std::fs::write(&ro, b"keep me").unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    let out = run(d, &["render", "f.yaml", "-o", "ro.pdf"]);
    assert_code(&out, 3, "只读");
    assert_eq!(std::fs::read(&ro).unwrap(), b"keep me");

    let out = sh(d, "umask 077;", &["render", "f.yaml", "-o", "new.pdf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(d.join("new.pdf")).unwrap().permissions().mode() & 0o777, 0o600);

    let kept = d.join("kept.pdf");
    std::fs::write(&kept, b"old").unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run(d, &["render", "f.yaml", "-o", "kept.pdf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777, 0o640);
}

#[test]
fn a_long_output_name_works_and_stale_pages_go() {
    let dir = workdir();
    let d = dir.path();
    let long = format!("{}.pdf", "长".repeat(80)); // 240 bytes + .pdf
    let out = run(d, &["render", "f.yaml", "-o", &long]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(d.join(&long).exists());

    for n in 1..=9 {
        std::fs::write(d.join(format!("p-{n}.svg")), b"stale").unwrap();
    }
    std::fs::write(d.join("p-x.svg"), b"not a page name").unwrap();
    let out = run(d, &["render", "f.yaml", "--format", "svg", "-o", "p"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let pages = (1..=9).filter(|n| d.join(format!("p-{n}.svg")).exists()).count();
    assert!(pages < 9, "stale pages left");
    for n in 1..=pages {
        assert_ne!(std::fs::read(d.join(format!("p-{n}.svg"))).unwrap(), b"stale");
    }
    assert!(d.join("p-x.svg").exists());
}

#[test]
fn ppi_is_capped_by_pixels() {
    let dir = workdir();
    let out =
        sh(dir.path(), "ulimit -v 3000000;", &["render", "f.yaml", "--format", "png", "--ppi", "2400", "-o", "p"]);
    assert_code(&out, 4, "--ppi");
    assert!(!dir.path().join("p-1.png").exists());
}

#[test]
fn inputs_are_size_checked_before_reading_and_never_hang() {
    let dir = workdir();
    let d = dir.path();
    let big = std::fs::File::create(d.join("big.yaml")).unwrap();
    big.set_len(1 << 30).unwrap(); // sparse: nothing to read if the check comes first
    let start = Instant::now();
    let out = sh(d, "ulimit -v 2000000;", &["check", "big.yaml"]);
    assert_code(&out, 3, "超过上限");
    assert!(start.elapsed() < Duration::from_secs(10));

    Command::new("mkfifo").arg(d.join("pipe.yaml")).status().unwrap();
    let out = run(d, &["check", "pipe.yaml"]);
    assert_code(&out, 3, "FIFO");
    Command::new("mkfifo").arg(d.join("pipe.pdf")).status().unwrap();
    let out = run(d, &["extract", "pipe.pdf"]);
    assert_code(&out, 3, "FIFO");
}

/// The seed with a seal picture (the seed's kind has no signature block; this one does).
fn with_seal(dir: &Path, seal: &str) -> PathBuf {
    let form = std::fs::read_to_string(common::root().join("forms/mof-dept-overall-2021.yaml")).unwrap();
    let path = dir.join("s.yaml");
    std::fs::write(&path, form.replace("seal: seal-example.png", &format!("seal: {seal}"))).unwrap();
    path
}

#[test]
fn pictures_stay_in_the_forms_folder_and_within_size() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::copy(common::root().join("forms/seal-example.png"), outside.path().join("seal.png")).unwrap();
    let d = &outside.path().join("form");
    std::fs::create_dir(d).unwrap();
    let abs = outside.path().join("seal.png");
    for seal in [abs.to_str().unwrap(), "../seal.png"] {
        with_seal(d, seal);
        let out = run(d, &["check", "s.yaml"]);
        assert_code(&out, 1, "--allow-path");
    }
    with_seal(d, abs.to_str().unwrap());
    let out = run(d, &["check", "s.yaml", "--allow-path", outside.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::copy(outside.path().join("seal.png"), d.join("seal.png")).unwrap();
    with_seal(d, "seal.png");
    let out = run(d, &["check", "s.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    std::os::unix::fs::symlink("/dev/zero", d.join("zero.png")).unwrap();
    with_seal(d, "zero.png");
    assert_code(&run(d, &["check", "s.yaml"]), 1, "印章图片");
    Command::new("mkfifo").arg(d.join("fifo.png")).status().unwrap();
    with_seal(d, "fifo.png");
    assert_code(&run(d, &["check", "s.yaml"]), 1, "FIFO");

    // 74 bytes declaring 120000×120000 pixels.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&120000u32.to_be_bytes());
    png.extend_from_slice(&120000u32.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    png.resize(74, 0);
    std::fs::write(d.join("huge.png"), &png).unwrap();
    with_seal(d, "huge.png");
    assert_code(&run(d, &["check", "s.yaml"]), 1, "120000×120000");
    let out = sh(d, "ulimit -v 3000000;", &["render", ".", "-o", "out"]);
    assert_code(&out, 1, "120000×120000");
    assert!(String::from_utf8_lossy(&out.stdout).contains("共 1 份"), "the batch still sums up");
}

/// A minimal PDF around `body` objects.
fn pdf_with(body: &[u8]) -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend_from_slice(body);
    pdf.extend_from_slice(b"\ntrailer <</Root 1 0 R>>\n%%EOF\n");
    pdf
}

#[test]
fn hostile_pdfs_are_refused_within_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // An attachment that inflates to 1 GiB, listed 8 times.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        z.write_all(&zeros).unwrap();
    }
    let bomb = z.finish().unwrap();
    let names: String = (0..8).map(|i| format!("(f{i}.yaml) 3 0 R ")).collect();
    let mut body = format!(
        "1 0 obj <</Type /Catalog /Names <</EmbeddedFiles <</Names [{names}]>> >> >> endobj\n\
         3 0 obj <</Type /Filespec /F (f.yaml) /EF <</F 4 0 R>> >> endobj\n\
         4 0 obj <</Filter /FlateDecode /Length {}>> stream\n",
        bomb.len()
    )
    .into_bytes();
    body.extend_from_slice(&bomb);
    body.extend_from_slice(b"\nendstream endobj");
    std::fs::write(d.join("bomb.pdf"), pdf_with(&body)).unwrap();
    for cmd in ["extract", "verify"] {
        let out = sh(d, "ulimit -v 1500000;", &[cmd, "bomb.pdf"]);
        assert_code(&out, 1, "解压后超过");
    }
    assert!(!d.join("f0.yaml").exists());

    let mut deep = b"1 0 obj ".to_vec();
    deep.extend(std::iter::repeat_n(b'[', 200_000));
    std::fs::write(d.join("deep.pdf"), pdf_with(&deep)).unwrap();
    assert_code(&run(d, &["extract", "deep.pdf"]), 1, "嵌套超过");

    // Nesting through references: a page tree 200 000 nodes deep.
    let mut chain = b"1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n".to_vec();
    for i in 2..200_002 {
        chain.extend(format!("{i} 0 obj <</Type /Pages /Kids [{} 0 R] /Count 1>> endobj\n", i + 1).into_bytes());
    }
    std::fs::write(d.join("chain.pdf"), pdf_with(&chain)).unwrap();
    assert_code(&sh(d, "ulimit -v 1500000;", &["verify", "chain.pdf"]), 1, "页面树节点");
}

#[test]
fn template_folders_do_not_follow_links_or_open_fifos() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let secret = d.join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-LINE").unwrap();
    let tpl = d.join("tpl");
    let out = run(d, &["template", "zhengzhou-2020-dept-overall", "-o", "tpl/leaky"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::os::unix::fs::symlink(&secret, tpl.join("leaky/secret.typ.j2")).unwrap();
    let j2 = tpl.join("leaky/form.typ.j2");
    let text = std::fs::read_to_string(&j2).unwrap();
    std::fs::write(&j2, format!("{{% include \"leaky/secret.typ.j2\" %}}\n{text}")).unwrap();
    Command::new("mkfifo").arg(tpl.join("leaky/pipe.typ.j2")).status().unwrap();
    std::fs::create_dir(tpl.join("broken")).unwrap();
    std::fs::write(tpl.join("broken/kind.yaml"), "name: [unclosed\n").unwrap();

    let out = run(d, &["list", "--templates", "tpl"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("leaky") && listed.contains("zhengzhou-2020-dept-overall"), "{listed}");
    let err = stderr(&out);
    assert!(err.contains("符号链接") && err.contains("命名管道") && err.contains("broken/kind.yaml"), "{err}");

    std::fs::write(d.join("f.yaml"), common::clean_seed().replace("zhengzhou-2020-dept-overall", "leaky")).unwrap();
    let out = run(d, &["render", "f.yaml", "--templates", "tpl", "--typ", "f.typ"]);
    assert_ne!(out.status.code(), Some(0));
    let everything = format!("{}{}", stderr(&out), String::from_utf8_lossy(&out.stdout));
    assert!(!everything.contains("TOP-SECRET"), "{everything}");
    assert!(!d.join("f.pdf").exists());
}

#[test]
fn manifests_are_checked_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(d, &["template", "mof-dept-overall", "-o", "tpl/mof2"]);
    // The indicator set has choices (a computed value set inside text items is
    // a manifest error now: see a_computed_value_that_can_never_be_set_is_a_manifest_error).
    let form = std::fs::read_to_string(common::root().join("forms/mof-dept-overall-2021.yaml")).unwrap();
    let form = form.replace("form: mof-dept-overall", "form: mof2").replace("seal: seal-example.png", "");
    std::fs::write(d.join("m.yaml"), format!("{form}\noptions: {{indicator_set: 88hao}}\n")).unwrap();
    let out = run(d, &["check", "m.yaml", "--templates", "tpl"]);
    let err = stderr(&out);
    assert_ne!(out.status.code(), Some(101), "{err}");
    assert!(err.contains("88hao") && err.contains("101号、88号"), "{err}");
}

#[test]
fn small_items() {
    let dir = workdir();
    let d = dir.path();
    // Folders: *.YAML counts, an empty folder is an error.
    std::fs::create_dir(d.join("upper")).unwrap();
    std::fs::copy(d.join("f.yaml"), d.join("upper/F.YAML")).unwrap();
    assert_eq!(run(d, &["check", "upper"]).status.code(), Some(0));
    std::fs::create_dir(d.join("empty")).unwrap();
    assert_code(&run(d, &["render", "empty"]), 2, "没有表单");
    // Folders that do not exist are usage errors naming them.
    assert_code(&run(d, &["list", "--font-path", "nofonts"]), 2, "nofonts");
    assert_code(&run(d, &["list", "--templates", "notpl"]), 2, "notpl");
    // Escape sequences from the YAML are shown escaped.
    std::fs::write(d.join("esc.yaml"), common::seed().replace("year: 2020", "year: \"\\e[2J二〇二〇\"")).unwrap();
    let out = run(d, &["check", "esc.yaml"]);
    assert!(stderr(&out).contains("\\x1b[2J") && !out.stderr.contains(&0x1b), "{}", stderr(&out));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let dir = workdir();
    for args in [&["list"][..], &["schema", "project"], &["check", "f.yaml", "f.yaml", "f.yaml"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_formpress"))
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader is gone before the first line
        let out = child.wait_with_output().unwrap();
        assert!(!stderr(&out).contains("panicked"), "{args:?}: {}", stderr(&out));
        assert_ne!(out.status.code(), Some(101));
    }
}

// ---- Round three (issue 21): names from the user, and the first round's leftovers ----

#[test]
fn extract_names_its_output_after_the_pdf_never_the_attachment() {
    let dir = workdir();
    let d = dir.path();
    let out = run(d, &["render", "f.yaml", "-o", "plain.pdf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Someone else's PDF, whose only attachment is named for a file a shell reads at login.
    std::fs::write(d.join("payload.txt"), "alias ls='rm -rf ~'\n").unwrap();
    let added = Command::new("qpdf")
        .args(["plain.pdf", "--add-attachment", "payload.txt", "--filename=.bash_aliases", "--key=.bash_aliases"])
        .args(["--", "invoice.pdf"])
        .current_dir(d)
        .status()
        .expect("qpdf is installed by tests/run.sh");
    assert!(added.success());
    let out = run(d, &["extract", "invoice.pdf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!d.join(".bash_aliases").exists(), "written under the attachment's name");
    assert_eq!(std::fs::read_to_string(d.join("invoice.yaml")).unwrap(), "alias ls='rm -rf ~'\n");
}

#[test]
fn a_form_named_main_typ_attaches_its_yaml_not_the_markup() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("main.typ"), common::clean_seed()).unwrap();
    let out = run(d, &["render", "main.typ", "--archive", "-o", "a.pdf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = run(d, &["extract", "a.pdf", "-o", "back.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(d.join("back.yaml")).unwrap(), common::clean_seed());
}

#[test]
fn png_pages_are_written_all_or_none_and_the_summary_says_so() {
    let dir = workdir();
    let d = dir.path();
    std::fs::write(d.join("p-1.png"), b"the old page 1").unwrap();
    std::fs::create_dir(d.join("p-2.png")).unwrap(); // page 2 cannot be written
    let out = run(d, &["render", "f.yaml", "--format", "png", "--ppi", "30", "-o", "p"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(std::fs::read(d.join("p-1.png")).unwrap(), b"the old page 1", "a new page 1 was left");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("已生成 0 份") && said.contains("失败 1 份"), "{said}");
}

#[test]
fn a_damaged_seal_picture_is_a_finding_of_check_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let seal = std::fs::read(common::root().join("forms/seal-example.png")).unwrap();
    // The header (and so the size) intact, the pixel data cut off.
    std::fs::write(d.join("broken.png"), &seal[..seal.len() / 3]).unwrap();
    with_seal(d, "broken.png");
    let out = run(d, &["check", "s.yaml"]);
    assert_code(&out, 1, "图片已损坏");
    let out = run(d, &["render", "s.yaml"]);
    assert_code(&out, 1, "图片已损坏");
    assert!(!stderr(&out).contains("模板"), "blamed on the template: {}", stderr(&out));
    assert!(!d.join("s.pdf").exists());
}

#[test]
fn typ_never_replaces_an_asset_that_differs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(common::root().join("forms/seal-example.png"), d.join("seal-example.png")).unwrap();
    with_seal(d, "seal-example.png");
    std::fs::create_dir(d.join("assets")).unwrap();
    std::fs::write(d.join("assets/0.png"), b"my own picture").unwrap();
    let out = run(d, &["render", "s.yaml", "--typ", "s.typ"]);
    assert_code(&out, 2, "assets/0.png");
    assert_eq!(std::fs::read(d.join("assets/0.png")).unwrap(), b"my own picture");
    assert!(!d.join("s.pdf").exists() && !d.join("s.typ").exists(), "nothing written");
    // The same picture already there is fine.
    std::fs::copy(d.join("seal-example.png"), d.join("assets/0.png")).unwrap();
    let out = run(d, &["render", "s.yaml", "--typ", "s.typ"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A copy of the seed's kind whose template starts with `line`, and the seed as a form of it.
fn kind_with_template_line(d: &Path, line: &str) {
    let out = run(d, &["template", "zhengzhou-2020-dept-overall", "-o", "tpl/odd"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j2 = d.join("tpl/odd/form.typ.j2");
    let text = std::fs::read_to_string(&j2).unwrap();
    std::fs::write(&j2, format!("{line}\n{text}")).unwrap();
    std::fs::write(d.join("f.yaml"), common::clean_seed().replace("zhengzhou-2020-dept-overall", "odd")).unwrap();
}

#[test]
fn a_template_that_allocates_without_bound_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    kind_with_template_line(
        d,
        r#"{% set ns = namespace(s="x") %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"#,
    );
    let out = sh(d, "ulimit -v 3000000; FORMPRESS_MAX_MEMORY_MB=1000", &["render", "f.yaml", "--templates", "tpl"]);
    assert_code(&out, 4, "内存用量将超过上限 1000 MB");
    assert!(!d.join("f.pdf").exists());
}

#[test]
fn a_looping_template_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 10 000 000 000 steps: hours at MiniJinja's pace, stopped by the template's fuel.
    kind_with_template_line(d, "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
    let out = run(d, &["render", "f.yaml", "--templates", "tpl"]);
    assert_code(&out, 4, "模板运行超出限度");
}

#[test]
fn a_computed_value_that_can_never_be_set_is_a_manifest_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run(d, &["template", "mof-dept-overall", "-o", "tpl/mof2"]);
    let manifest = d.join("tpl/mof2/kind.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    for (wrong, said) in [
        ("{each: goals, set: a.b, value: \"1\"}", "goals」的每一项是文本"),
        ("{each: taks, set: amount, value: \"1\"}", "没有字段「taks」"),
        ("{set: department.x, value: \"1\"}", "「department」是文本或数字"),
    ] {
        std::fs::write(&manifest, text.replacen("\ncomputed:\n", &format!("\ncomputed:\n  - {wrong}\n"), 1)).unwrap();
        let out = run(d, &["list", "--templates", "tpl"]);
        let err = stderr(&out);
        assert!(err.contains("mof2") && err.contains(said), "{wrong}: {err}");
    }
}

#[test]
fn watch_speaks_up_when_its_folder_is_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("forms");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("f.yaml"), common::clean_seed()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_formpress"))
        .args(["watch", "f.yaml", "--no-system-fonts", "--color", "never"])
        .current_dir(&folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !folder.join("f.pdf").exists() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    std::fs::rename(&folder, dir.path().join("moved")).unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.and_then(|s| s.code()), Some(3), "watch went on silently: {err}");
    assert!(err.contains("已被改名、移走或删除"), "{err}");
}
