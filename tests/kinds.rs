//! Every form kind: its example renders with the official structure, its
//! skeleton and JSON Schema work, and a user can add a variant kind.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

fn example(name: &str) -> String {
    std::fs::read_to_string(root().join("forms").join(name)).unwrap()
}

/// Renders an example through the library (its seal picture resolves beside it).
fn render_example(name: &str) -> (Vec<u8>, Vec<String>) {
    let form = engine().check_file(&root().join("forms").join(name)).unwrap();
    assert!(form.renderable(), "{name}: {:#?}", form.findings);
    assert_eq!(form.errors(), 0, "{name}: {:#?}", form.findings);
    let pdf = engine().render(&form, &formpress::RenderOptions::default()).unwrap().pdf;
    let pages = pages(&pdf).iter().map(|p| squash(p)).collect();
    (pdf, pages)
}

fn count(page: &str, text: &str) -> usize {
    page.matches(text).count()
}

#[test]
fn every_example_form_renders() {
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("forms")).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let form = engine().check_file(&path).unwrap();
            assert!(form.renderable(), "{}: {:#?}", path.display(), form.findings);
            let rendered = engine().render(&form, &formpress::RenderOptions::default()).unwrap();
            assert!(rendered.pages >= 1);
            seen += 1;
        }
    }
    // The seed plus one example per further kind, and every kind names its example.
    assert!(seen >= 5, "{seen} examples");
    for kind in engine().catalog().kinds() {
        let name = kind.manifest.example.as_ref().unwrap_or_else(|| panic!("{} has no example", kind.id));
        assert!(root().join("forms").join(name).exists(), "{}: {name} missing", kind.id);
    }
}

#[test]
fn mof_dept_overall_puts_tasks_before_goals_and_computes_totals() {
    let (pdf, pages) = render_example("mof-dept-overall-2021.yaml");
    let info = run_on(&pdf, "pdfinfo", &[]);
    assert_eq!(info_field(&info, "Page size"), "595.276 x 841.89 pts (A4)");
    let p1 = &pages[0];
    let words = words(&pdf, 1);
    // 年度主要任务 (with its 金额合计 row) comes before 年度总体目标.
    assert!(p1.find("金额合计").unwrap() < p1.find("目标1：").unwrap());
    assert!(p1.contains("总额财政拨款其他资金"));
    // 总额 computed per task, and the 金额合计 row.
    assert!(same_row(&words, "义务教育保障", "58000", 10.0) && same_row(&words, "58000", "1200", 2.0), "{words:?}");
    assert!(same_row(&words, "金额合计", "67350.5", 2.0) && same_row(&words, "65270.5", "2080", 2.0));
    assert!(p1.contains("目标1：保障全市186所义务教育学校正常运转") && p1.contains("目标4：完成教师全员培训"));
    assert!(p1.contains("一级指标二级指标三级指标指标值"));
    // Merged cells print their label once: 产出指标 spans 11 rows, 数量指标 4.
    assert_eq!(count(p1, "产出指标"), 1);
    assert_eq!(count(p1, "数量指标"), 1);
    // The last two rows went on to page 2 together (no row alone there), with their 二级 label once.
    assert_eq!(count(&pages.concat(), "服务对象满意度指标"), 1);
}

#[test]
fn project_sets_the_two_halves_side_by_side() {
    let (pdf, pages) = render_example("project-2021.yaml");
    let p1 = &pages[0];
    let words = words(&pdf, 1);
    for text in [
        "项目名称农村义务教育学生营养改善计划",
        "主管部门及代码某市教育局（301）实施单位各县（市、区）教育局",
        "项目属性延续项目项目期3年",
    ] {
        assert!(p1.contains(text), "{text}: {p1}");
    }
    assert!(same_row(&words, "中期资金总额", "3120", 8.0), "{words:?}");
    assert!(same_row(&words, "中期目标（2021年—2023年）", "年度目标", 2.0));
    assert!(p1.contains("一级指标二级指标三级指标指标值二级指标三级指标指标值"));
    // A row of the table carries the 中期 cells, then the 年度 cells.
    assert!(same_row(&words, "累计受益", "受益学生人数", 10.0), "{words:?}");
    assert!(same_row(&words, "学生体质", "食品安全事故", 10.0));
    assert!(!same_row(&words, "累计受益", "食品安全事故", 10.0), "the check can fail");
    assert_eq!(count(p1, "产出指标"), 1, "{p1}");
    assert_eq!(count(p1, "经济成本指标"), 2, "once per half: {p1}");
}

#[test]
fn project_self_eval_is_landscape_with_computed_scores() {
    let (pdf, pages) = render_example("project-self-eval-2021.yaml");
    let info = run_on(&pdf, "pdfinfo", &[]);
    assert_eq!(info_field(&info, "Page size"), "841.89 x 595.276 pts (A4)");
    let p1 = &pages[0];
    // 年度资金总额 = the three lines; 执行率 3266/3335.4; 得分 = 执行率 × 10.
    assert!(p1.contains("年度资金总额3120335.43266") || p1.contains("年度资金总额31203335.4326610"), "{p1}");
    assert!(p1.contains("97.9%9.79"), "{p1}");
    let all = pages.concat();
    assert!(all.contains("产出指标（50分）") && all.contains("效益指标（30分）") && all.contains("满意度指标（10分）"));
    // Merged: each 一级 label once; 数量指标 and 质量指标 span two rows each and print once.
    assert_eq!(count(p1, "产出指标（50分）"), 1);
    assert_eq!(count(p1, "数量指标"), 1);
    assert_eq!(count(p1, "质量指标"), 1);
    assert!(pages.concat().contains("总分10096.79"), "{}", pages.concat());
}

#[test]
fn dept_self_eval_repeats_the_level1_label_on_its_continuation_page() {
    let (_, pages) = render_example("dept-self-eval-2020.yaml");
    assert!(pages.len() >= 2);
    // 履职效能 starts on page 1 and continues on page 2, labelled again.
    assert!(pages[0].contains("履职效能（30分）") && pages[1].contains("履职效能（30分）"), "{pages:?}");
    assert!(pages[1].contains("项目目标完成实现率"));
    // The column header is printed on every page with indicator rows by default …
    let header = "一级指标二级指标三级指标年度指标值实际完成值分值得分偏差原因分析及改进措施";
    assert_eq!(
        pages.iter().filter(|p| p.contains(header)).count(),
        pages.iter().filter(|p| p.contains("分）")).count()
    );
    // … and once when the form says so.
    let yaml = example("dept-self-eval-2020.yaml").replace(
        "department: 郑州市人民政府办公厅\n",
        "department: 郑州市人民政府办公厅\noptions: {repeat_header: false}\n",
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.yaml"), yaml).unwrap();
    let form = engine().check_file(&dir.path().join("x.yaml")).unwrap();
    let pdf = engine().render(&form, &formpress::RenderOptions::default()).unwrap().pdf;
    let pages: Vec<String> = common::pages(&pdf).iter().map(|p| squash(p)).collect();
    let with_rows = pages.iter().filter(|p| p.contains("指标")).count();
    assert!(with_rows >= 2);
    assert_eq!(pages.iter().filter(|p| p.contains(header)).count(), 1);
    assert_eq!(pages.concat().matches("总分10097.25").count(), 1);
}

fn as_json(yaml: &str) -> serde_json::Value {
    formpress::form::yaml::parse(yaml.as_bytes()).unwrap().1.to_json()
}

/// Validation errors of `instance` against `schema`, by Python's jsonschema
/// (Draft 7, as editors use it); tests/run.sh installs it if missing.
fn schema_errors(schema: &serde_json::Value, instance: &serde_json::Value) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let (s, i) = (dir.path().join("schema.json"), dir.path().join("instance.json"));
    std::fs::write(&s, schema.to_string()).unwrap();
    std::fs::write(&i, instance.to_string()).unwrap();
    let script = "import json, sys, jsonschema\n\
        schema, inst = (json.load(open(p, encoding='utf-8')) for p in sys.argv[1:3])\n\
        jsonschema.Draft7Validator.check_schema(schema)\n\
        for e in jsonschema.Draft7Validator(schema).iter_errors(inst): print(e.message, list(e.path))";
    let out = Command::new("python3").args(["-c", script]).arg(&s).arg(&i).output().expect("python3");
    assert!(
        out.status.success(),
        "python3 jsonschema failed (tests/run.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn json_schema_accepts_examples_and_skeletons_and_rejects_typos() {
    for kind in engine().catalog().kinds() {
        let schema = formpress::outputs::describe::json_schema(kind);
        let example = example(kind.manifest.example.as_ref().unwrap());
        let errors = schema_errors(&schema, &as_json(&example));
        assert!(errors.is_empty(), "{}: {errors:#?}", kind.id);
        let skeleton = formpress::outputs::describe::skeleton(kind);
        let errors = schema_errors(&schema, &as_json(&skeleton));
        assert!(errors.is_empty(), "{} skeleton: {errors:#?}", kind.id);
        let typo = example.replacen("\nyear:", "\nyaer:", 1);
        assert!(!schema_errors(&schema, &as_json(&typo)).is_empty(), "{}: a misspelt key passes the schema", kind.id);
    }
}

#[test]
fn skeletons_check_clean_and_render() {
    for kind in engine().catalog().kinds() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("new.yaml");
        let out =
            Command::new(env!("CARGO_BIN_EXE_formpress")).args(["new", &kind.id, "-o"]).arg(&file).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let form = engine().check_file(&file).unwrap();
        assert_eq!(form.errors(), 0, "{}: {:#?}", kind.id, form.findings);
        engine().render(&form, &formpress::RenderOptions::default()).unwrap();
    }
}

/// The README's walkthrough: copy a kind, change it, render with --templates.
#[test]
fn a_user_adds_a_variant_kind_from_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let kinds = dir.path().join("mytemplates");
    let variant = kinds.join("henan-2021-dept-overall");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_formpress")).args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let (code, msg) = run(&["template", "zhengzhou-2020-dept-overall", "-o", variant.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{msg}");
    // Next year's revision: a new name, the header printed once.
    let manifest = variant.join("kind.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text
        .replace("name: 市级部门整体绩效目标申报表", "name: 河南省省级部门整体绩效目标申报表")
        .replace("  repeat_header:\n    default: true", "  repeat_header:\n    default: false");
    std::fs::write(&manifest, text).unwrap();
    let t = kinds.to_str().unwrap();
    let (code, msg) = run(&["list", "--templates", t]);
    assert_eq!(code, Some(0), "{msg}");
    assert!(msg.contains("henan-2021-dept-overall") && msg.contains("河南省省级部门整体绩效目标申报表"), "{msg}");
    let form = dir.path().join("henan.yaml");
    std::fs::write(&form, clean_seed().replace("form: zhengzhou-2020-dept-overall", "form: henan-2021-dept-overall"))
        .unwrap();
    let pdf = dir.path().join("henan.pdf");
    let (code, msg) =
        run(&["render", form.to_str().unwrap(), "-o", pdf.to_str().unwrap(), "--templates", t, "--no-system-fonts"]);
    assert_eq!(code, Some(0), "{msg}");
    let pages: Vec<String> = pages(&std::fs::read(&pdf).unwrap()).iter().map(|p| squash(p)).collect();
    assert!(pages.len() > 1);
    assert_eq!(pages.iter().filter(|p| p.contains("一级指标二级指标三级指标指标值指标解释指标说明")).count(), 1);
    // A Typst error points at the template line that produced it.
    let template = variant.join("form.typ.j2");
    let original = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, original.replace("#table(", "#not-a-function(1)\n#table(")).unwrap();
    let (code, msg) =
        run(&["render", form.to_str().unwrap(), "-o", pdf.to_str().unwrap(), "--templates", t, "--no-system-fonts"]);
    assert_eq!(code, Some(4), "{msg}");
    let line = original.lines().position(|l| l.starts_with("#table(")).unwrap() + 1;
    assert!(msg.contains("unknown variable: not-a-function"), "{msg}");
    assert!(msg.contains(&format!("henan-2021-dept-overall/form.typ.j2:{line}")), "{msg}");
    // A broken template in the user folder is an error naming the file, not a panic.
    std::fs::write(variant.join("form.typ.j2"), "{% if %}").unwrap();
    let (code, msg) =
        run(&["render", form.to_str().unwrap(), "-o", pdf.to_str().unwrap(), "--templates", t, "--no-system-fonts"]);
    assert_eq!(code, Some(4), "{msg}");
    assert!(msg.contains("henan-2021-dept-overall/form.typ.j2"), "{msg}");
    assert!(Path::new(&pdf).exists(), "the earlier PDF stays");
}
