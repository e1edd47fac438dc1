//! Data is never code: hostile strings come out literally, and templates
//! cannot read the host file system.

mod common;

use common::*;
use std::path::Path;

const HOSTILE: &[&str] = &[
    r#"#read("/etc/passwd")"#,
    "*bold*",
    "_e_",
    "$x$",
    "<label>",
    "@ref",
    "// c",
    r"\",
    "]",
    "#set text(red)",
    "{{ x }}",
    "{% if true %}x{% endif %}",
    r#"" + "quote"#,
    "#\"abc\".len()",
    "= heading",
    "- item",
    "/* open",
];

/// The seed with `s` put into a field of every kind of cell.
fn with_everywhere(s: &str) -> String {
    // Framed by 【】 so single characters can be found; JSON strings are valid YAML.
    let q = serde_json::to_string(&format!("【{s}】")).unwrap();
    seed()
        .replace("department: 郑州市人民政府办公厅", &format!("department: {q}"))
        .replace("  - 保障单位人员工资正常发放", &format!("  - {q}"))
        .replace("content: 人员经费", &format!("content: {q}"))
        .replace("remark: 单位运转财政拨款控制数", &format!("remark: {q}"))
        .replace("  - name: 可持续性", &format!("  - name: {q}"))
        .replace("name: 创新能力", &format!("name: {q}"))
        .replace("name: 目标依据充分性", &format!("name: {q}"))
        .replace("value: 持续", &format!("value: {q}"))
        .replace("explain: 反映本部门决算工作情况。", &format!("explain: {q}"))
        .replace("note: 分项具体列示本部门体制机制改革情况。", &format!("note: {q}"))
}

#[test]
fn hostile_strings_come_out_literally() {
    for s in HOSTILE {
        let pdf = render(&with_everywhere(s)).pdf;
        let text = pages(&pdf).concat();
        let want = squash(&format!("【{s}】"));
        let found = squash(&text).matches(want.as_str()).count();
        assert!(found >= 9, "{s:?} printed {found} times, want 9+ (every field):\n{text}");
        assert!(!text.contains("root:"), "{s:?} read a host file");
    }
}

#[test]
fn newlines_break_lines_and_tabs_become_spaces() {
    let pdf = render(&with_everywhere("第一行\n第二行\t末尾")).pdf;
    let text = pages(&pdf).concat();
    assert!(text.contains("第一行\n第二行 末尾") || text.contains("第一行\n第二行末尾"), "{text}");
}

/// A user kind whose template tries to reach the host file system.
fn kind_with(dir: &Path, template: &str) {
    let kind = dir.join("evil");
    std::fs::create_dir_all(&kind).unwrap();
    std::fs::write(kind.join("kind.yaml"), "name: 测试\nfields:\n  department: {type: text, label: 部门名称}\n")
        .unwrap();
    std::fs::write(kind.join("form.typ.j2"), template).unwrap();
}

#[test]
fn templates_cannot_read_host_files() {
    for template in [
        "#read(\"/etc/passwd\")",
        "#read(\"../../../../../../etc/passwd\")",
        "#image(\"/etc/hostname\")",
        "#include \"/etc/passwd\"",
        "#import \"@preview/example:0.1.0\": *",
    ] {
        let dir = tempfile::tempdir().unwrap();
        kind_with(dir.path(), template);
        let engine = formpress::Engine::new(&formpress::EngineOptions {
            template_dirs: vec![dir.path().to_path_buf()],
            no_system_fonts: true,
            ..Default::default()
        })
        .unwrap();
        let form = engine.check("x.yaml", "form: evil\ndepartment: 测试部门\n".as_bytes());
        assert!(form.renderable(), "{:?}", form.findings);
        match engine.render(&form, &formpress::RenderOptions::default()) {
            Err(formpress::Error::Typst { diagnostics, .. }) => {
                let all = format!("{diagnostics:?}");
                assert!(!all.contains("root:x"), "{template}: {all}");
            }
            Err(other) => panic!("{template}: unexpected error {other}"),
            Ok(r) => panic!("{template}: rendered {} pages", r.pages),
        }
    }
}
