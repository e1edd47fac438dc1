//! `render --format ofd`: every OFD is read back by independent tools
//! (tests/ofd/read.py: easyofd from the Python registry, fontTools, MuPDF,
//! poppler) and held against formpress's own PDF of the same form: the text of
//! every page, the characters each embedded font maps, and the pages drawn.
//! The package's XML is parsed here for the structure GB/T 33190 names.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use formpress::{Engine, EngineOptions, RenderOptions};
use serde_json::Value as Json;

/// One form, as PDF and as OFD.
struct Case {
    name: String,
    pdf: Vec<u8>,
    ofd: Vec<u8>,
    /// Pages drawn and compared: "all", "first" or none (text only).
    pixels: Option<&'static str>,
    /// Also drawn by easyofd's own renderer (the slowest part: examples and hostile forms).
    easyofd: bool,
}

fn case(engine: &Engine, path: &Path, options: &RenderOptions, pixels: Option<&'static str>) -> Case {
    let form = engine.check_file(path).unwrap();
    assert!(form.renderable(), "{}: {:?}", path.display(), form.findings);
    let laid = engine.layout(&form, options).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let easyofd = pixels.is_some();
    Case {
        name: path.display().to_string(),
        pdf: laid.pdf().unwrap(),
        ofd: formpress::outputs::ofd::of_laid(&laid).unwrap(),
        pixels,
        easyofd,
    }
}

/// A form written into a folder (with the example seal beside it).
fn written(dir: &Path, name: &str, yaml: &str) -> PathBuf {
    std::fs::copy(root().join("forms/seal-example.png"), dir.join("seal-example.png")).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    path
}

/// Runs the reader over every case; one result per case.
fn read_back(cases: &[Case]) -> Vec<Json> {
    let dir = tempfile::tempdir().unwrap();
    let mut jobs = vec![];
    for (i, c) in cases.iter().enumerate() {
        let d = dir.path().join(i.to_string());
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("form.ofd"), &c.ofd).unwrap();
        std::fs::write(d.join("form.pdf"), &c.pdf).unwrap();
        jobs.push(serde_json::json!({
            "ofd": d.join("form.ofd"), "pdf": d.join("form.pdf"), "dir": d, "pixels": c.pixels, "easyofd": c.easyofd,
        }));
    }
    let jobs_file = dir.path().join("jobs.json");
    std::fs::write(&jobs_file, serde_json::to_vec(&jobs).unwrap()).unwrap();
    let out_file = dir.path().join("out.json");
    let out = Command::new("python3")
        .arg(root().join("tests/ofd/read.py"))
        .arg(&jobs_file)
        .arg(&out_file)
        .current_dir(dir.path())
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "tests/ofd/read.py failed (tests/run.sh installs easyofd and fonts-arphic-uming): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Json> = serde_json::from_slice(&std::fs::read(out_file).unwrap()).unwrap();
    if let Ok(keep) = std::env::var("FP_OFD_KEEP") {
        // For looking at the renderings: FP_OFD_KEEP=DIR keeps every page image.
        let _ = std::fs::create_dir_all(&keep);
        let _ = Command::new("cp").arg("-r").arg(format!("{}/.", dir.path().display())).arg(&keep).status();
    }
    results
}

/// Largest share of differing pixels between a page of formpress's PDF and the
/// OFD drawn with its embedded fonts (MuPDF), and with easyofd's own renderer
/// (which draws all text in one substitute Song face and strokes the QR code's
/// filled squares: only positions can be held to it).
const STRICT: f64 = 0.0005;
const EASYOFD: f64 = 0.05;

/// Checks one case's read-back against its PDF.
fn holds(case: &Case, result: &Json) {
    let name = &case.name;
    let pdf_pages = pages(&case.pdf);
    let texts: Vec<String> = result["texts"].as_array().unwrap().iter().map(|t| squash(t.as_str().unwrap())).collect();
    assert_eq!(
        texts.len(),
        pdf_pages.len(),
        "{name}: easyofd read {} pages, the PDF has {}",
        texts.len(),
        pdf_pages.len()
    );
    for (i, (ofd, pdf)) in texts.iter().zip(&pdf_pages).enumerate() {
        assert_eq!(ofd, &squash(pdf), "{name}: page {} reads otherwise in the OFD", i + 1);
    }
    assert_eq!(result["unmapped"], "", "{name}: characters the embedded fonts do not map");
    if case.pixels.is_some() {
        let n = result["rendered_pages"].as_array().unwrap();
        assert!(n.iter().all(|v| v == &n[0]), "{name}: pages drawn {n:?}");
        let renderers: &[(&str, f64)] =
            if case.easyofd { &[("strict", STRICT), ("easyofd", EASYOFD)] } else { &[("strict", STRICT)] };
        for &(kind, limit) in renderers {
            for (i, d) in result[kind].as_array().unwrap().iter().enumerate() {
                let d = d.as_f64().unwrap();
                assert!(
                    d <= limit,
                    "{name}: page {} drawn by {kind} differs from the PDF in {:.2}% of its pixels",
                    i + 1,
                    d * 100.0
                );
            }
        }
    }
    structure(name, &case.ofd, pdf_pages.len());
}

/// Every entry of a package, inflated.
fn entries(ofd: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(ofd)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut e = zip.by_index(i).unwrap();
        let mut data = vec![];
        e.read_to_end(&mut data).unwrap();
        out.insert(e.name().unwrap().to_string(), data);
    }
    out
}

fn children<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    node.children().filter(|n| n.is_element() && n.tag_name().name() == name).collect()
}

fn one<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> roxmltree::Node<'a, 'i> {
    let found = children(node, name);
    assert_eq!(found.len(), 1, "{} must have one {name}", node.tag_name().name());
    found[0]
}

/// The structure GB/T 33190 names: OFD.xml → DocBody (DocInfo, DocRoot) →
/// Document.xml (CommonData with MaxUnitID, PageArea, PublicRes; Pages) →
/// each page's Content.xml; fonts and pictures whose files are in the
/// package; IDs unique and within MaxUnitID; every XML part well-formed in
/// the OFD namespace.
fn structure(name: &str, ofd: &[u8], pages: usize) {
    const NS: &str = "http://www.ofdspec.org/2016";
    let files = entries(ofd);
    let mut ids = BTreeSet::new();
    let mut max = 0u64;
    let mut docs = BTreeMap::new();
    for (path, bytes) in &files {
        if path.ends_with(".xml") {
            let text = std::str::from_utf8(bytes).unwrap_or_else(|_| panic!("{name}: {path} is not UTF-8"));
            let doc = roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("{name}: {path}: {e}"));
            assert_eq!(doc.root_element().tag_name().namespace(), Some(NS), "{name}: {path}");
            for n in doc.descendants().filter(|n| n.is_element()) {
                let unit = matches!(
                    n.tag_name().name(),
                    "Page" | "Layer" | "TextObject" | "PathObject" | "ImageObject" | "Font" | "MultiMedia"
                );
                if let (true, Some(id)) = (unit, n.attribute("ID")) {
                    let id: u64 = id.parse().unwrap_or_else(|_| panic!("{name}: {path}: ID {id}"));
                    // A page is named in Document.xml only; a unit elsewhere once.
                    if n.tag_name().name() != "Page" || path.ends_with("Document.xml") {
                        assert!(ids.insert(id), "{name}: ID {id} used twice");
                    }
                }
            }
            docs.insert(path.clone(), text.to_string());
        }
    }
    let parse = |p: &str| roxmltree::Document::parse(docs.get(p).unwrap_or_else(|| panic!("{name}: no {p}"))).unwrap();
    let ofd_xml = parse("OFD.xml");
    let root = ofd_xml.root_element();
    assert_eq!(root.tag_name().name(), "OFD");
    assert_eq!(root.attribute("Version"), Some("1.0"));
    assert!(matches!(root.attribute("DocType"), Some("OFD" | "OFD-A")), "{name}: DocType");
    let body = one(root, "DocBody");
    let info = one(body, "DocInfo");
    assert_eq!(one(info, "DocID").text().unwrap().len(), 32);
    assert!(one(info, "Creator").text().unwrap().starts_with("formpress "));
    assert_eq!(one(body, "DocRoot").text(), Some("Doc_0/Document.xml"));
    let document = parse("Doc_0/Document.xml");
    let common = one(document.root_element(), "CommonData");
    max = max.max(one(common, "MaxUnitID").text().unwrap().parse().unwrap());
    assert_eq!(one(one(common, "PageArea"), "PhysicalBox").text().unwrap().split(' ').count(), 4);
    let page_list = children(one(document.root_element(), "Pages"), "Page");
    assert_eq!(page_list.len(), pages, "{name}: pages");
    for p in page_list {
        let content = parse(&format!("Doc_0/{}", p.attribute("BaseLoc").unwrap()));
        let layer = one(one(content.root_element(), "Content"), "Layer");
        assert!(layer.children().any(|n| n.is_element()), "{name}: an empty page");
    }
    let texts = docs.values().any(|d| d.contains("<ofd:TextObject"));
    if !texts {
        assert!(children(common, "PublicRes").is_empty(), "{name}: fonts for pages without text");
        return;
    }
    assert_eq!(one(common, "PublicRes").text(), Some("PublicRes.xml"));
    let public = parse("Doc_0/PublicRes.xml");
    let fonts = children(one(public.root_element(), "Fonts"), "Font");
    assert!(!fonts.is_empty(), "{name}: no embedded font");
    for f in fonts {
        let file = format!("Doc_0/Res/{}", one(f, "FontFile").text().unwrap());
        assert!(files.contains_key(&file), "{name}: {file} missing");
    }
    if let Some(res) = docs.get("Doc_0/DocumentRes.xml") {
        let res = roxmltree::Document::parse(res).unwrap();
        for m in res.descendants().filter(|n| n.tag_name().name() == "MultiMedia") {
            assert!(files.contains_key(&format!("Doc_0/Res/{}", one(m, "MediaFile").text().unwrap())));
        }
    }
    assert!(ids.iter().all(|&id| id <= max), "{name}: an ID above MaxUnitID {max}");
}

fn plain_engine() -> &'static Engine {
    engine()
}

#[test]
fn every_example_and_real_form_reads_back_as_its_pdf() {
    let mut cases = vec![];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root().join("forms"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    examples.sort();
    for path in &examples {
        cases.push(case(plain_engine(), path, &RenderOptions::default(), Some("all")));
    }
    let mut real: Vec<PathBuf> = std::fs::read_dir(root().join("tests/real"))
        .unwrap()
        .map(|e| e.unwrap().path())
        // The forms, not their layout sidecars (`<slug>.layout.yaml`).
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.to_string_lossy().ends_with(".layout.yaml"))
        .collect();
    real.sort();
    assert!(real.len() >= 20, "the real forms are missing");
    for path in &real {
        let mut c = case(plain_engine(), path, &RenderOptions::default(), Some("first"));
        c.easyofd = false;
        cases.push(c);
    }
    let results = read_back(&cases);
    for (c, r) in cases.iter().zip(&results) {
        eprintln!("{}: read back in {} s", c.name, r["seconds"]);
        holds(c, r);
    }
    // The example with a seal carries it as a picture.
    let sealed = cases.iter().position(|c| c.name.contains("mof-dept-overall")).unwrap();
    assert!(results[sealed]["images"].as_u64().unwrap() >= 1);
}

#[test]
fn hostile_forms_read_back_as_their_pdfs() {
    let dir = tempfile::tempdir().unwrap();
    let seed = clean_seed();
    let mut cases = vec![];
    // A long cell that flows over pages.
    let goal =
        "保障我市政府门户网站集约化建设平台持续平稳、安全、高效、规范运行，并引入第三方检测评估机制。".repeat(40);
    let long = seed.replacen("goals:\n", &format!("goals:\n  - {goal}\n"), 1);
    cases.push(case(plain_engine(), &written(dir.path(), "long.yaml", &long), &RenderOptions::default(), Some("all")));
    // A rare character from a --font-path font (TrueType, embedded as .ttf).
    let rare = Engine::new(&EngineOptions {
        font_dirs: vec![root().join("tests/fixtures/fonts")],
        no_system_fonts: true,
        ..Default::default()
    })
    .unwrap();
    let ext_b = seed.replace("department: 郑州市人民政府办公厅", "department: 郑州市𠀀办公厅");
    let c = case(&rare, &written(dir.path(), "rare.yaml", &ext_b), &RenderOptions::default(), Some("first"));
    assert!(entries(&c.ofd).keys().any(|k| k.ends_with(".ttf")), "the TrueType face is embedded as .ttf");
    cases.push(c);
    // A seal under the 签章区, and a draft (its mark turned and translucent).
    let mof = std::fs::read_to_string(root().join("forms/mof-dept-overall-2021.yaml")).unwrap();
    cases.push(case(plain_engine(), &written(dir.path(), "sealed.yaml", &mof), &RenderOptions::default(), Some("all")));
    cases.push(case(plain_engine(), &common::seed_path(), &RenderOptions::default(), None));
    // 100 pages and more.
    let (head, rows) = seed.split_at(seed.find("indicators:\n").unwrap() + "indicators:\n".len());
    let many = format!("{head}{}", rows.repeat(30));
    let mut c =
        case(plain_engine(), &written(dir.path(), "many.yaml", &many), &RenderOptions::default(), Some("first"));
    c.easyofd = false;
    assert!(pages(&c.pdf).len() >= 100, "{} pages", pages(&c.pdf).len());
    cases.push(c);
    let results = read_back(&cases);
    for (c, r) in cases.iter().zip(&results) {
        holds(c, r);
    }
    assert!(results[2]["images"].as_u64().unwrap() >= 1, "the seal is a picture");
}

#[test]
fn the_same_yaml_gives_the_same_bytes_alone_and_in_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let a = written(dir.path(), "a.yaml", &clean_seed());
    std::fs::copy(root().join("forms/project-2021.yaml"), dir.path().join("b.yaml")).unwrap();
    let alone = dir.path().join("alone.ofd");
    let (code, out) = formpress_cli(&["render", a.to_str().unwrap(), "--format", "ofd", "-o", alone.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    let first = std::fs::read(&alone).unwrap();
    let out_dir = dir.path().join("out");
    let (code, out) =
        formpress_cli(&["render", dir.path().to_str().unwrap(), "--format", "ofd", "-o", out_dir.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(std::fs::read(out_dir.join("a.ofd")).unwrap(), first, "a batch writes the same bytes");
    let (code, _) = formpress_cli(&["render", a.to_str().unwrap(), "--format", "ofd", "-o", alone.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert_eq!(std::fs::read(&alone).unwrap(), first, "a second run writes the same bytes");
    // Fixed order and times: nothing in the zip depends on the clock.
    let mut zip = zip::ZipArchive::new(Cursor::new(&first)).unwrap();
    assert_eq!(zip.by_index(0).unwrap().name().unwrap(), "OFD.xml");
}

/// The package with `edit` applied to each entry (None drops it) and `extra` added.
fn repacked(ofd: &[u8], edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>, extra: Option<(&str, &[u8])>) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, bytes) in entries(ofd) {
        if let Some(bytes) = edit(&name, bytes) {
            zip.start_file(name.as_str(), options).unwrap();
            zip.write_all(&bytes).unwrap();
        }
    }
    if let Some((name, bytes)) = extra {
        zip.start_file(name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn archive_is_ofd_a_with_the_yaml_and_pictures_and_verify_catches_changes() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(root().join("forms/mof-dept-overall-2021.yaml")).unwrap();
    let form = written(dir.path(), "form.yaml", &yaml);
    let ofd_path = dir.path().join("form.ofd");
    let (code, out) = formpress_cli(&["render", s(&form), "--archive", "--format", "ofd", "-o", s(&ofd_path)]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("OFD-A，附 YAML 原文"), "{out}");
    let ofd = std::fs::read(&ofd_path).unwrap();
    let files = entries(&ofd);
    let text = |n: &str| String::from_utf8(files[n].clone()).unwrap();
    assert!(text("OFD.xml").contains("DocType=\"OFD-A\""));
    assert!(text("OFD.xml").contains("<ofd:CreationDate>2021-01-28</ofd:CreationDate>"), "the PDF's date");
    assert!(text("OFD.xml").contains("<ofd:Author>某市教育局</ofd:Author>"), "author = 部门名称");
    // GB/T 42133: nothing that acts or hides (permissions, actions, view preferences, extensions).
    for part in files.keys().filter(|n| n.ends_with(".xml")) {
        for banned in ["Permissions", "Actions", "VPreferences", "Extensions", "Encrypt"] {
            assert!(!text(part).contains(&format!("<ofd:{banned}")), "{part} has {banned}");
        }
    }
    let list = text("Doc_0/Attachs/Attachments.xml");
    assert!(list.contains("Name=\"form.yaml\"") && list.contains("Usage=\"Source\""), "{list}");
    assert!(list.contains("Name=\"seal-example.png\"") && list.contains("Usage=\"Supplement\""), "{list}");
    assert_eq!(files["Doc_0/Attachs/Attach_0.yaml"], yaml.as_bytes());
    assert_eq!(files["Doc_0/Attachs/Attach_1.png"], std::fs::read(root().join("forms/seal-example.png")).unwrap());
    structure("archive", &ofd, 2);

    // extract gives the YAML back byte for byte; verify passes the untouched package.
    let back = dir.path().join("back.yaml");
    let out =
        Command::new(env!("CARGO_BIN_EXE_formpress")).args(["extract", s(&ofd_path), "-o", s(&back)]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("取自 OFD 附件 form.yaml"));
    assert_eq!(std::fs::read(&back).unwrap(), yaml.as_bytes());
    let (code, out) = formpress_cli(&["verify", s(&ofd_path)]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("OFD 包只含 formpress 写的文件") && out.contains("结果：一致"), "{out}");
    let (code, out) = formpress_cli(&["verify", s(&ofd_path), s(&form)]);
    assert_eq!(code, Some(0), "{out}");

    // Each change is named.
    let page1 = "Doc_0/Pages/Page_0/Content.xml";
    let changed_digit = |name: &str, bytes: Vec<u8>| {
        if name != page1 {
            return Some(bytes);
        }
        let xml = String::from_utf8(bytes).unwrap();
        // The first amount (a TextCode of digits) gets another first digit.
        let at = xml.match_indices("<ofd:TextCode").find_map(|(i, _)| {
            let start = i + xml[i..].find('>')? + 1;
            let text = &xml[start..start + xml[start..].find('<')?];
            (!text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '.')).then_some(start)
        })?;
        let d = xml.as_bytes()[at];
        let mut out = xml.into_bytes();
        out[at] = if d == b'9' { b'1' } else { d + 1 };
        Some(out)
    };
    let tampered = [
        ("a changed amount", repacked(&ofd, changed_digit, None), "第 1 页：OFD 上是"),
        (
            "an added file",
            repacked(&ofd, |_, b| Some(b), Some(("Doc_0/Res/extra.xml", b"<x/>"))),
            "多出 Doc_0/Res/extra.xml",
        ),
        (
            "the QR code removed",
            repacked(
                &ofd,
                |name, b| {
                    if name != page1 {
                        return Some(b);
                    }
                    let xml = String::from_utf8(b).unwrap();
                    let qr = xml.rfind("<ofd:PathObject").unwrap();
                    let end = qr + xml[qr..].find("</ofd:PathObject>").unwrap() + "</ofd:PathObject>".len();
                    Some(format!("{}{}", &xml[..qr], &xml[end..]).into_bytes())
                },
                None,
            ),
            "第 1 页：图形与数据不符",
        ),
        (
            "a font changed",
            repacked(
                &ofd,
                |name, mut b| {
                    if name.starts_with("Doc_0/Res/Font_") {
                        let n = b.len() - 3;
                        b[n] ^= 1;
                    }
                    Some(b)
                },
                None,
            ),
            "与数据重新生成的不同",
        ),
    ];
    for (what, bytes, said) in tampered {
        let path = dir.path().join("tampered.ofd");
        std::fs::write(&path, bytes).unwrap();
        let (code, out) = formpress_cli(&["verify", s(&path)]);
        assert_eq!(code, Some(1), "{what}: {out}");
        assert!(out.contains(said) && out.contains("结果：不一致"), "{what}: {out}");
    }
}

#[test]
fn scan_files_the_signed_paper_as_ofd_a() {
    let dir = tempfile::tempdir().unwrap();
    let form = written(dir.path(), "form.yaml", &clean_seed());
    let pdf = dir.path().join("form.pdf");
    let (code, out) = formpress_cli(&["render", s(&form), "-o", s(&pdf)]);
    assert_eq!(code, Some(0), "{out}");
    // The printed pages, scanned: JPEG at 150 dpi, given out of order.
    let status = Command::new("pdftoppm").args(["-r", "150", "-jpeg", s(&pdf), s(&dir.path().join("p"))]).status();
    assert!(status.unwrap().success(), "pdftoppm (poppler-utils) is needed");
    let scans: Vec<PathBuf> = [3, 1, 4, 2].iter().map(|n| dir.path().join(format!("p-{n}.jpg"))).collect();
    let signed = dir.path().join("signed.ofd");
    let mut args = vec!["scan"];
    args.extend(scans.iter().map(|p| s(p)));
    args.extend(["--data", s(&form), "-o", s(&signed), "--date", "2021-02-03", "--format", "ofd"]);
    let (code, out) = formpress_cli(&args);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("OFD-A"), "{out}");
    let ofd = std::fs::read(&signed).unwrap();
    let files = entries(&ofd);
    assert!(String::from_utf8_lossy(&files["OFD.xml"]).contains("DocType=\"OFD-A\""));
    structure("scan", &ofd, 4);
    // Page n is the scan of page n, its JPEG byte for byte.
    let content = |n: usize| String::from_utf8(files[&format!("Doc_0/Pages/Page_{n}/Content.xml")].clone()).unwrap();
    let res = String::from_utf8(files["Doc_0/DocumentRes.xml"].clone()).unwrap();
    for n in 0..4 {
        let page = content(n);
        let id = page.split("ResourceID=\"").nth(1).unwrap().split('"').next().unwrap();
        let file = res
            .split(&format!("ID=\"{id}\""))
            .nth(1)
            .unwrap()
            .split("<ofd:MediaFile>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap();
        assert_eq!(
            files[&format!("Doc_0/Res/{file}")],
            std::fs::read(dir.path().join(format!("p-{}.jpg", n + 1))).unwrap()
        );
    }
    let list = String::from_utf8(files["Doc_0/Attachs/Attachments.xml"].clone()).unwrap();
    for name in ["form.yaml", "form.pdf", "formpress-scan.json"] {
        assert!(list.contains(&format!("Name=\"{name}\"")), "{list}");
    }
    let (code, out) = formpress_cli(&["verify", s(&signed)]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("顺序正确"), "{out}");
}

#[test]
fn hostile_packages_are_refused_within_bounds() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let zip_of = |files: &[(&str, &[u8])]| {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in files {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    };
    let ofd_xml = br#"<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" DocType="OFD"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#;
    let bomb = vec![0u8; (64 << 20) + 1];
    let entities = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016">&b;</ofd:OFD>"#;
    let cases: [(&str, Vec<u8>, &str); 3] = [
        ("a zip bomb", zip_of(&[("OFD.xml", ofd_xml), ("Doc_0/big.bin", &bomb)]), "超过上限"),
        ("entities", zip_of(&[("OFD.xml", entities)]), "不是可读的 OFD 文件"),
        ("no document", zip_of(&[("OFD.xml", ofd_xml)]), "缺少 Doc_0/Document.xml"),
    ];
    for (what, bytes, said) in cases {
        let path = dir.path().join("hostile.ofd");
        std::fs::write(&path, bytes).unwrap();
        let (code, out) = formpress_cli(&["verify", s(&path)]);
        assert_eq!(code, Some(1), "{what}: {out}");
        assert!(out.contains(said), "{what}: {out}");
        let yaml = dir.path().join("out.yaml");
        let out =
            Command::new(env!("CARGO_BIN_EXE_formpress")).args(["extract", s(&path), "-o", s(&yaml)]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{what}");
        assert!(!yaml.exists(), "{what}: nothing is written");
    }
}

/// Issue 20: an OFD whose Creator names another version is not excused: a
/// changed amount under a matching 校验码 is 校验码一致，页面未能核对, exit 1
/// (formerly a note with exit 0, since anyone can edit the Creator).
#[test]
fn another_version_named_in_the_package_never_relaxes_the_page_check() {
    let dir = tempfile::tempdir().unwrap();
    let form = written(dir.path(), "form.yaml", &clean_seed());
    let ofd_path = dir.path().join("form.ofd");
    let (code, out) = formpress_cli(&["render", s(&form), "--format", "ofd", "-o", s(&ofd_path)]);
    assert_eq!(code, Some(0), "{out}");
    let ofd = std::fs::read(&ofd_path).unwrap();
    let forged = repacked(
        &ofd,
        |name, bytes| {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            match name {
                // The Creator names an older formpress (and the same kind version).
                "OFD.xml" => {
                    Some(text.replacen("<ofd:Creator>formpress ", "<ofd:Creator>formpress 0.0.", 1).into_bytes())
                }
                "Doc_0/Pages/Page_0/Content.xml" => Some(text.replacen(">3600.4<", ">8600.4<", 1).into_bytes()),
                _ => Some(bytes),
            }
        },
        None,
    );
    let xml = String::from_utf8(entries(&forged)["OFD.xml"].clone()).unwrap();
    assert!(xml.contains("<ofd:Creator>formpress 0.0."), "{xml}");
    let page = String::from_utf8(entries(&forged)["Doc_0/Pages/Page_0/Content.xml"].clone()).unwrap();
    assert!(page.contains(">8600.4<"), "the forgery changes the amount");
    let path = dir.path().join("forged.ofd");
    std::fs::write(&path, forged).unwrap();
    let (code, out) = formpress_cli(&["verify", s(&path), s(&form)]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("✓ 一致") && out.contains("OFD 上是「8600.4"), "the code matches, the amount is named: {out}");
    assert!(out.contains("结果：校验码一致，页面未能核对"), "{out}");
}
