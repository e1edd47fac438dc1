//! Chinese keys: the form's own labels as YAML keys beside the ASCII ones
//! (`部门名称:` for `department:`), `new --zh`, and the JSON Schema.

mod common;

use std::process::Command;

use formpress::Severity;
use formpress::outputs::describe;

const ASCII: &str = "
form: zhengzhou-2020-dept-overall
year: 2020
department: 某局
goals: [保障运转]
tasks:
  - {name: 任务1, content: 人员经费, total: 10.00, fiscal: 10.00}
indicators:
  - name: 产出指标
    groups:
      - name: 数量指标
        rows:
          - {name: 完成率, value: ≥95%, explain: 反映完成情况}
          - {name: 覆盖率, value: ≥90%}
signature: {preparer: 王五, date: 2021-01-28}
options: {repeat_labels: false}
";

const CHINESE: &str = "
表单种类: zhengzhou-2020-dept-overall
年度: 2020
部门名称: 某局
年度总体目标: [保障运转]
年度主要任务:
  - {任务名称: 任务1, 主要内容: 人员经费, 合计: 10.00, 其中：财政资金: 10.00}
绩效指标:
  - 名称: 产出指标
    二级指标:
      - 名称: 数量指标
        指标:
          - {三级指标: 完成率, 指标值: ≥95%, 指标解释: 反映完成情况}
          - {三级指标: 覆盖率, 指标值: ≥90%}
签章区: {填报人: 王五, 填报日期: 2021-01-28}
版式选项: {repeat_labels: false}
";

#[test]
fn chinese_keys_read_as_the_ascii_ones() {
    let (a, z) = (common::check(ASCII), common::check(CHINESE));
    assert!(a.findings.iter().all(|f| f.severity != Severity::Error), "{:#?}", a.findings);
    assert!(z.findings.iter().all(|f| f.severity != Severity::Error), "{:#?}", z.findings);
    assert_eq!(z.data, a.data);
    assert_eq!(z.options, a.options);
    let engine = common::engine();
    assert_eq!(engine.fingerprint(&z).unwrap().code(), engine.fingerprint(&a).unwrap().code());
    // The 指标解释 left out of the second row still shares the cell above.
    assert!(z.data["indicators"][0]["groups"][0]["rows"][1]["explain"].is_null());
}

#[test]
fn findings_name_the_keys_the_user_wrote() {
    let form = common::check(&CHINESE.replace("其中：财政资金: 10.00", "其中：财政资金: 12.00"));
    let f = form.findings.iter().find(|f| f.message.contains("大于合计")).expect("the rule finding");
    assert_eq!(f.yaml_path, "年度主要任务[0].其中：财政资金");
    assert_eq!(f.loc.unwrap().line, 7);
    let form = common::check(&CHINESE.replace("指标值: ≥95%", "指标值: 95%"));
    let f = form.findings.iter().find(|f| f.message.contains("95%")).expect("the warning");
    assert_eq!(f.yaml_path, "绩效指标[0].二级指标[0].指标[0].指标值");
    // ASCII keys are named as they were.
    let form = common::check(&ASCII.replace("fiscal: 10.00", "fiscal: 12.00"));
    assert!(form.findings.iter().any(|f| f.yaml_path == "tasks[0].fiscal"));
}

#[test]
fn both_keys_for_one_field_is_an_error_naming_both() {
    let form = common::check(&ASCII.replace("department: 某局", "department: 某局\n部门名称: 另一个局"));
    let f = form.findings.iter().find(|f| f.message.contains("部门名称")).expect("a finding");
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("department"), "{}", f.message);
    assert_eq!(f.loc.unwrap().line, 5, "at the key the user wrote");
    assert!(!form.renderable());
    // In a task too.
    let form = common::check(&ASCII.replace("content: 人员经费", "content: 人员经费, 主要内容: 公用经费"));
    assert!(
        form.findings.iter().any(|f| f.message.contains("「主要内容」和「content」是同一栏")),
        "{:#?}",
        form.findings
    );
}

#[test]
fn a_misspelt_chinese_key_gets_a_did_you_mean() {
    let form = common::check(&CHINESE.replace("部门名称", "部门明称"));
    let f = form.findings.iter().find(|f| f.message.contains("部门明称")).expect("a finding");
    assert!(f.help.as_deref().is_some_and(|h| h.contains("部门名称")), "{f:?}");
}

#[test]
fn new_zh_writes_chinese_keys_that_check_like_the_ascii_skeleton() {
    let engine = common::engine();
    for kind in engine.catalog().kinds() {
        let ascii = describe::skeleton_in(kind, false);
        let zh = describe::skeleton_in(kind, true);
        assert_eq!(ascii, describe::skeleton(kind));
        assert!(zh.contains("表单种类: "), "{}", kind.id);
        let (a, z) = (common::check(&ascii), common::check(&zh));
        assert!(!z.findings.iter().any(|f| f.blocks_render()), "{}: {:#?}", kind.id, z.findings);
        assert_eq!(z.data, a.data, "{}", kind.id);
        // No ASCII key is left where the kind has a Chinese one.
        for (key, label) in formpress::form::zh_keys::zh_keys(&kind.manifest.fields) {
            assert!(!zh.lines().any(|l| l.starts_with(&format!("{key}:"))), "{}: {key}", kind.id);
            if kind.manifest.fields[&key].required || kind.manifest.fields[&key].example.is_some() {
                assert!(zh.contains(&format!("{label}:")), "{}: {label}", kind.id);
            }
        }
    }
}

#[test]
fn the_json_schema_takes_either_key_but_not_both() {
    let engine = common::engine();
    let dir = tempfile::tempdir().unwrap();
    let mut lines = vec![];
    for kind in engine.catalog().kinds() {
        let schema = dir.path().join(format!("{}.json", kind.id));
        std::fs::write(&schema, describe::json_schema(kind).to_string()).unwrap();
        let files: Vec<_> = [("ascii", describe::skeleton_in(kind, false)), ("zh", describe::skeleton_in(kind, true))]
            .into_iter()
            .map(|(n, text)| {
                let p = dir.path().join(format!("{}-{n}.yaml", kind.id));
                std::fs::write(&p, text).unwrap();
                p
            })
            .collect();
        let out = Command::new("python3")
            .arg(common::root().join("tests/xlsx/validate.py"))
            .arg(&schema)
            .args(&files)
            .output()
            .expect("python3 with jsonschema (tests/run.sh)");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        lines.extend(String::from_utf8(out.stdout).unwrap().lines().map(str::to_string));
    }
    assert_eq!(lines.len(), 10);
    assert!(lines.iter().all(|l| l.starts_with("ok ")), "{lines:#?}");
    // Both spellings of one field: the schema says no, as check does.
    let schema = dir.path().join("z.json");
    let kind = engine.catalog().kind("zhengzhou-2020-dept-overall").unwrap();
    std::fs::write(&schema, describe::json_schema(kind).to_string()).unwrap();
    let both = dir.path().join("both.yaml");
    std::fs::write(&both, ASCII.replace("department: 某局", "department: 某局\n部门名称: 另一个局")).unwrap();
    let chinese = dir.path().join("chinese.yaml");
    std::fs::write(&chinese, CHINESE).unwrap();
    let out = Command::new("python3")
        .arg(common::root().join("tests/xlsx/validate.py"))
        .arg(&schema)
        .args([&both, &chinese])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("invalid {}", both.display())), "{text}");
    assert!(text.contains(&format!("ok {}", chinese.display())), "{text}");
}
