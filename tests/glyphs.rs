//! Characters no font has: reported before anything is written, fixed by
//! --font-path, and caught after layout if a template brings them in.

mod common;

use common::*;
use formpress::{Engine, EngineOptions, RenderOptions};

fn with_department(name: &str) -> String {
    seed().replace("department: 郑州市人民政府办公厅", &format!("department: {name}"))
}

#[test]
fn a_missing_character_is_an_error_naming_field_and_code_point() {
    let form = check(&with_department("郑州市𠀀办公厅"));
    assert!(!form.renderable());
    let f = form.findings.iter().find(|f| f.message.contains("U+20000")).expect("a glyph finding");
    assert!(f.message.contains("𠀀"), "{}", f.message);
    assert_eq!(f.path, "部门名称");
    let line = seed().lines().position(|l| l.starts_with("department:")).unwrap() as u32 + 1;
    assert_eq!(f.loc.map(|l| l.line), Some(line));
    assert!(f.help.as_deref().unwrap_or("").contains("--font-path"));
}

#[test]
fn font_path_supplies_the_character() {
    let engine = Engine::new(&EngineOptions {
        font_dirs: vec![root().join("tests/fixtures/fonts")],
        no_system_fonts: true,
        ..Default::default()
    })
    .unwrap();
    let form = engine.check("x.yaml", with_department("郑州市𠀀办公厅").as_bytes());
    assert!(form.renderable(), "{:?}", form.findings);
    let pdf = engine.render(&form, &RenderOptions::default()).unwrap().pdf;
    let fonts = run_on(&pdf, "pdffonts", &[]);
    assert!(fonts.contains("FormpressTestExtB"), "{fonts}");
    assert!(squash(&pages(&pdf).concat()).contains("郑州市𠀀办公厅"));
}

#[test]
fn tofu_from_a_template_is_caught_after_layout() {
    let dir = tempfile::tempdir().unwrap();
    let kind = dir.path().join("tofu");
    std::fs::create_dir_all(&kind).unwrap();
    std::fs::write(kind.join("kind.yaml"), "name: 测试\nfields:\n  department: {type: text, label: 部门名称}\n")
        .unwrap();
    // The character is in the template, not the data, so the preflight cannot see it.
    std::fs::write(kind.join("form.typ.j2"), "#set text(font: \"Noto Serif CJK SC\")\n{{ form.department }} 𠀀\n")
        .unwrap();
    let engine = Engine::new(&EngineOptions {
        template_dirs: vec![dir.path().into()],
        no_system_fonts: true,
        ..Default::default()
    })
    .unwrap();
    let form = engine.check("x.yaml", "form: tofu\ndepartment: 测试\n".as_bytes());
    match engine.render(&form, &RenderOptions::default()) {
        Err(formpress::Error::Tofu(t)) => assert_eq!(t[0].text, "𠀀"),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("tofu reached the PDF"),
    }
}

/// A kind's preferred office font, named in Chinese, is found and used first;
/// characters it lacks fall back to the bundled fonts.
#[test]
fn a_preferred_font_is_found_by_its_chinese_name() {
    let dir = tempfile::tempdir().unwrap();
    let kind = dir.path().join("fangsong");
    std::fs::create_dir_all(&kind).unwrap();
    std::fs::write(
        kind.join("kind.yaml"),
        "name: 测试\nfonts:\n  body: [仿宋_GB2312, Noto Serif CJK SC]\nfields:\n  department: {type: text, label: 部门名称}\n",
    )
    .unwrap();
    std::fs::write(
        kind.join("form.typ.j2"),
        "#set text(font: ({% for f in kind.fonts.body %}{{ f|tstr }}, {% endfor %}))\n{{ form.department }} 2021\n",
    )
    .unwrap();
    let render_with = |font_dirs: Vec<std::path::PathBuf>| {
        let engine = Engine::new(&EngineOptions {
            template_dirs: vec![dir.path().into()],
            font_dirs,
            no_system_fonts: true,
            ..EngineOptions::default()
        })
        .unwrap();
        let form = engine.check("x.yaml", "form: fangsong\ndepartment: 郑州市\n".as_bytes());
        run_on(&engine.render(&form, &RenderOptions::default()).unwrap().pdf, "pdffonts", &[])
    };
    let with = render_with(vec![root().join("tests/fixtures/fonts")]);
    assert!(with.contains("FormpressTestFangSong"), "the preferred font is not used:\n{with}");
    assert!(with.contains("NotoSerifCJKsc"), "郑州市 falls back to the bundled font:\n{with}");
    let without = render_with(vec![]);
    assert!(!without.contains("FormpressTestFangSong") && without.contains("NotoSerifCJKsc"), "{without}");
}
