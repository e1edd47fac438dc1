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

/// Typst and MiniJinja that would act if a value were ever markup or
/// template, in words of at most four characters (the narrowest column of a
/// kind holds about that many without breaking a word).
const ACTIVE: &[&str] = &[
    "#{1}",
    "#\"a\"",
    "{{ x }}",
    "{%- set y = 1 -%}",
    "{# c #}",
    "*粗* _斜_ $x$",
    "<l> @l",
    "\\ ] // /*",
    "= 题",
    "#( 1 )",
];

/// Puts hostile text into text fields the manifest declares, keeping one
/// item of each list so the form stays a page or two. `mark` is asked for
/// each text field in turn (and told whether it is a cell of the indicator
/// table): the text to put there, or none to leave the field as it is.
type Mark<'a> = &'a mut dyn FnMut(bool) -> Option<String>;

fn fill(value: &mut serde_json::Value, spec: &formpress::form::kind::Field, table: bool, mark: Mark) {
    use formpress::form::kind::FieldType as T;
    use serde_json::Value as J;
    match spec.ty {
        T::Text | T::IndicatorValue => {
            set(value, mark(table));
            // A field the example leaves out, in an item made here, must still be given.
            if value.is_null() && spec.required {
                *value = J::String("文字".into());
            }
        }
        T::Choice if spec.open => set(value, mark(table)),
        T::Record => fields(value, spec.fields.as_ref().unwrap(), table, mark),
        T::Signature => fields(value, formpress::form::kind::signature_fields(), table, mark),
        T::List => {
            let item = spec.item.as_deref().unwrap();
            let mut first = value.as_array().and_then(|a| a.first().cloned()).unwrap_or(J::Null);
            fill(&mut first, item, table, mark);
            *value = J::Array(vec![first]);
        }
        T::Indicators => {
            let mut first = value.as_array().and_then(|a| a.first().cloned()).unwrap_or(J::Null);
            group(&mut first, spec, 0, mark);
            *value = J::Array(vec![first]);
        }
        _ => {}
    }
}

fn set(value: &mut serde_json::Value, text: Option<String>) {
    if let Some(text) = text {
        *value = serde_json::Value::String(text);
    }
}

fn fields(
    value: &mut serde_json::Value,
    specs: &indexmap::IndexMap<String, formpress::form::kind::Field>,
    table: bool,
    mark: Mark,
) {
    if !value.is_object() {
        *value = serde_json::json!({});
    }
    for (k, f) in specs {
        let v = value.as_object_mut().unwrap().entry(k.clone()).or_insert(serde_json::Value::Null);
        fill(v, f, table, mark);
    }
}

/// One group of the indicator tree at `level`, with one group (or row) below it.
fn group(value: &mut serde_json::Value, spec: &formpress::form::kind::Field, level: usize, mark: Mark) {
    if level == spec.levels.len() {
        return fields(value, spec.row.as_ref().unwrap(), true, mark);
    }
    fields(value, &spec.levels[level].fields, true, mark);
    if value.get("name").is_none_or(serde_json::Value::is_null) {
        value["name"] = serde_json::json!("名称");
    }
    set(&mut value["name"], mark(true));
    let below: Vec<String> = if level + 1 == spec.levels.len() {
        vec!["rows".into()]
    } else if level == 0 && !spec.sides.is_empty() {
        spec.sides.iter().map(|s| s.key.clone()).collect()
    } else {
        vec!["groups".into()]
    };
    for key in below {
        let mut first = value.get(&key).and_then(|a| a.as_array()?.first().cloned()).unwrap_or(serde_json::json!({}));
        group(&mut first, spec, level + 1, mark);
        value[key.as_str()] = serde_json::Value::Array(vec![first]);
    }
}

/// The example form of a kind (`forms/KIND*.yaml`), with hostile text in
/// the text fields `wanted` picks (by field number and whether it is a table
/// cell); the data and the texts put in.
fn hostile_form(
    kind: &formpress::form::kind::Kind,
    wanted: &dyn Fn(usize, bool) -> bool,
) -> (serde_json::Value, Vec<String>) {
    let file = std::fs::read_dir(root().join("forms"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        // The example's YAML, not the PDF the README's first command writes beside it.
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .find(|p| p.file_stem().is_some_and(|s| s.to_string_lossy().starts_with(&kind.id)))
        .unwrap_or_else(|| panic!("no example of {} in forms/", kind.id));
    let (_, node) = formpress::form::yaml::parse(&std::fs::read(&file).unwrap()).unwrap();
    let mut data = node.to_json();
    let (mut n, mut marked) = (0, vec![]);
    let mut mark = |table: bool| {
        n += 1;
        wanted(n - 1, table).then(|| {
            let text = format!("【{}甲{}乙】", n - 1, ACTIVE[(n - 1) % ACTIVE.len()]);
            marked.push(text.clone());
            text
        })
    };
    for (k, f) in &kind.manifest.fields {
        let v = data.as_object_mut().unwrap().entry(k.clone()).or_insert(serde_json::Value::Null);
        fill(v, f, false, &mut mark);
    }
    (data, marked)
}

/// Every text field of every kind, Typst and MiniJinja put in: each comes out
/// literally, exactly once, on the PDF read back. The fields outside the
/// indicator table are filled in together; each table cell alone (a table
/// whose every optional column holds text would be too narrow for any words).
#[test]
fn hostile_text_in_every_text_field_of_every_kind_prints_literally_once() {
    let engine = engine();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("forms/seal-example.png"), dir.path().join("seal-example.png")).unwrap();
    let mut fields = 0;
    for kind in engine.catalog().kinds() {
        let table: Vec<usize> = {
            let cells = std::cell::RefCell::new(vec![]);
            hostile_form(kind, &|i, table| {
                if table {
                    cells.borrow_mut().push(i);
                }
                false
            });
            cells.into_inner()
        };
        let mut renders: Vec<Box<dyn Fn(usize, bool) -> bool>> = vec![Box::new(|_, table| !table)];
        for cell in table {
            renders.push(Box::new(move |i, _| i == cell));
        }
        for wanted in &renders {
            let (data, marked) = hostile_form(kind, wanted.as_ref());
            fields += marked.len();
            let path = dir.path().join("f.yaml");
            std::fs::write(&path, data.to_string()).unwrap();
            let form = engine.check_file(&path).unwrap();
            assert!(form.renderable(), "{}: {:?}", kind.id, form.findings);
            let pdf = engine
                .render(&form, &formpress::RenderOptions::default())
                .unwrap_or_else(|e| panic!("{} with {marked:?}: {e}", kind.id));
            let text = squash(&pages(&pdf.pdf).concat());
            for want in &marked {
                let n = text.matches(squash(want).as_str()).count();
                assert_eq!(n, 1, "{}: {want} printed {n} times in\n{text}", kind.id);
            }
            assert!(!text.contains("root:"), "{}: a host file was read", kind.id);
        }
    }
    assert!(fields >= 100, "only {fields} text fields in all kinds");
}
