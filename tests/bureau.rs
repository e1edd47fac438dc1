//! Issue 27: a finance bureau's own workbook imports with every value where
//! the sheet shows it. The workbooks are written by tests/xlsx/bureau/make.py
//! with openpyxl alone, in the layouts of real forms (tests/real/…), from the
//! published form's values as typed; each is imported, its data compared with
//! the published form's (field by field, indicator row by indicator row), and
//! the imported form is rendered and its PDF read back for every value.

mod common;

use std::path::Path;
use std::process::Command;

use formpress::RenderOptions;
use formpress::inputs::xlsx as xlsx_import;
use serde_json::Value;

/// (workbook, the real form it follows, how many of its cells are still listed as 未能识别 at most).
const FILLED: [(&str, &str, usize); 11] = [
    ("01-qingshan-infra", "hubei-wuhan-qingshan-edu-infra-2020-project", 1),
    ("02-zhaohua", "sichuan-guangyuan-zhaohua-2021-project", 1),
    ("03-yongde", "yunnan-yongde-minglang-school-2022-project-self-eval", 3),
    ("04-qingshen", "sichuan-qingshen-fgj-2023-project-self-eval", 5),
    ("05-xiaoxian", "anhui-xiaoxian-hexi-village-2023-project-self-eval", 0),
    ("06-jingyan", "sichuan-jingyan-matazhen-2023-project", 8),
    ("07-wuhai", "neimenggu-wuhai-gongxiaoshe-2021-project", 0),
    ("08-xiangtan-2024", "hunan-xiangtan-huanweichu-2024-project", 0),
    ("09-bingtuan", "xinjiang-bingtuan-liutuan-2021-project", 1),
    ("10-fuliang", "jiangxi-fuliang-linyeju-dept-overall", 2),
    ("11-nanyuezhen", "hunan-nanyue-nanyuezhen-2018-project", 1),
];

/// Published values the bureau's sheet does not print (南岳镇's year is only in its project name).
const NOT_ON_SHEET: [(&str, &str); 1] = [("11-nanyuezhen", "year")];

/// The workbooks whose every value lands where the published form has it (06 is a listing of projects).
const EXACT: [&str; 10] = [
    "01-qingshan-infra",
    "02-zhaohua",
    "03-yongde",
    "04-qingshen",
    "05-xiaoxian",
    "07-wuhai",
    "08-xiangtan-2024",
    "09-bingtuan",
    "10-fuliang",
    "11-nanyuezhen",
];

fn workbooks() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("python3")
            .arg(common::root().join("tests/xlsx/bureau/make.py"))
            .arg(dir.path())
            .output()
            .expect("python3 with openpyxl is installed (tests/run.sh)");
        assert!(out.status.success(), "make.py: {}", String::from_utf8_lossy(&out.stderr));
        dir
    })
    .path()
}

fn import(name: &str) -> xlsx_import::Imported {
    let bytes = std::fs::read(workbooks().join(format!("{name}.xlsx"))).unwrap();
    xlsx_import::import(common::engine(), &bytes, None).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every leaf outside the indicator table and the notes, by its dotted path (blanks left out).
fn leaves(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if path.is_empty() && ["indicators", "notes", "signature"].contains(&k.as_str()) {
                    continue;
                }
                leaves(x, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, out);
            }
        }
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| leaves(x, &format!("{path}[{i}]"), out)),
        Value::Null => {}
        Value::String(s) if s.is_empty() => {}
        Value::String(s) => out.push((path.to_string(), s.clone())),
        other => out.push((path.to_string(), other.to_string())),
    }
}

/// The indicator table as rows, each with the names of its groups and half
/// (`产出指标/year/数量指标 {"name":…,"value":…}`): how the rows are grouped
/// (one 一级 entry per row or one for a run of rows) prints the same names.
fn indicator_rows(v: &Value, context: &str, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| indicator_rows(x, context, out)),
        Value::Object(m) => {
            let name = m.get("name").and_then(Value::as_str).unwrap_or("");
            let here = format!("{context}/{name}");
            for (k, x) in m {
                match k.as_str() {
                    "name" => {}
                    "rows" => {
                        for row in x.as_array().into_iter().flatten() {
                            let mut cells: serde_json::Map<String, Value> =
                                row.as_object().cloned().unwrap_or_default();
                            cells.retain(|_, v| !v.is_null() && v.as_str() != Some(""));
                            out.push(format!("{here} {}", Value::Object(cells)));
                        }
                    }
                    _ => indicator_rows(x, &format!("{here}.{k}"), out),
                }
            }
        }
        _ => {}
    }
}

/// What of the published form's data the import misses or reads otherwise.
fn differences(name: &str, slug: &str) -> (Vec<String>, usize) {
    let engine = common::engine();
    let real = engine.check_file(&common::root().join(format!("tests/real/{slug}.yaml"))).unwrap();
    let imported = import(name);
    let got = engine.check("imported.yaml", imported.yaml.as_bytes());
    let (mut want, mut have) = (vec![], vec![]);
    leaves(&real.data, "", &mut want);
    want.retain(|(p, _)| !NOT_ON_SHEET.contains(&(name, p.as_str())));
    leaves(&got.data, "", &mut have);
    let mut missing: Vec<String> = want
        .iter()
        .filter(|(p, v)| !have.iter().any(|(q, w)| q == p && w == v))
        .map(|(p, v)| format!("{p}: {v:?} (imported {:?})", have.iter().find(|(q, _)| q == p).map(|x| &x.1)))
        .collect();
    // The layout options the sheet shows: amounts in 元, no year line, goals without 目标1：.
    for option in ["unit", "year_line", "number_goals"] {
        if got.options.get(option) != real.options.get(option) {
            missing.push(format!(
                "option {option}: {:?} (imported {:?})",
                real.options.get(option),
                got.options.get(option)
            ));
        }
    }
    let total = want.len();
    let (mut rows_want, mut rows_have) = (vec![], vec![]);
    indicator_rows(&real.data["indicators"], "", &mut rows_want);
    indicator_rows(&got.data["indicators"], "", &mut rows_have);
    if rows_want != rows_have {
        let first =
            rows_want.iter().zip(&rows_have).position(|(a, b)| a != b).unwrap_or(rows_want.len().min(rows_have.len()));
        missing.push(format!(
            "indicator rows differ from row {first} ({} published, {} imported): {:?} ≠ {:?}",
            rows_want.len(),
            rows_have.len(),
            rows_want.get(first),
            rows_have.get(first)
        ));
    }
    (missing, total + rows_want.len())
}

/// Every value of the published form lands where the bureau's sheet shows it
/// (and the options unit, year_line and number_goals are the published form's),
/// for the layouts import understands; the others lose no ground.
#[test]
fn a_bureau_workbook_imports_with_every_value_in_place() {
    let mut failures = vec![];
    for (name, slug, most) in FILLED {
        let imported = import(name);
        let listed = imported.notes.iter().filter(|n| n.starts_with("未能识别")).count();
        // Every cell with text is placed or listed: the count and the list agree.
        assert_eq!(listed.min(xlsx_import::MAX_NOTES), imported.unplaced.min(xlsx_import::MAX_NOTES), "{name}");
        if imported.unplaced > most {
            failures
                .push(format!("{name}: {} cells not placed (at most {most}): {:?}", imported.unplaced, imported.notes));
        }
        let (missing, total) = differences(name, slug);
        eprintln!(
            "{name}: {} of {total} published values and rows differ; {} cells listed",
            missing.len(),
            imported.unplaced
        );
        if !missing.is_empty() {
            eprintln!("  {}", missing.join("\n  "));
        }
        if EXACT.contains(&name) && !missing.is_empty() {
            failures.push(format!("{name}:\n  {}", missing.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The imported form renders, and its PDF shows every value the import read.
#[test]
fn an_imported_bureau_workbook_renders_every_value() {
    let engine = common::engine();
    for name in EXACT {
        let imported = import(name);
        let form = engine.check("imported.yaml", imported.yaml.as_bytes());
        assert!(form.renderable(), "{name}: {:#?}\n{}", form.findings, imported.yaml);
        let pdf = engine.render(&form, &RenderOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}")).pdf;
        let text = common::squash(&common::pages(&pdf).join(""));
        let mut values = vec![];
        common::strings(&form.data, &mut values);
        let lost: Vec<&String> = values.iter().filter(|v| !text.contains(v.as_str())).collect();
        assert!(lost.is_empty(), "{name}: not on the page: {lost:?}");
    }
}

/// The indicator columns of the published form's layout (its sidecar
/// `tests/real/<slug>.layout.yaml`, from which make.py wrote the workbook):
/// each column's caption as the sheet prints it, in the sheet's order.
fn sheet_columns(slug: &str) -> Vec<String> {
    let script = "import json,sys,yaml\n\
                  d = yaml.safe_load(open(sys.argv[1], encoding='utf-8'))\n\
                  t = [p for p in d['parts'] if p['part'] == 'indicators'][0]\n\
                  print(json.dumps([c['caption'] for c in t['columns'] if c.get('key') and c.get('caption')]))";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(common::root().join(format!("tests/real/{slug}.layout.yaml")))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Where each caption is printed on the page: the words that spell it going
/// down one column (a caption wraps in a narrow cell), as (x, y) of its first
/// word, for every place it is printed.
fn printed_at(words: &[(String, f64, f64, f64)], caption: &str) -> Vec<(f64, f64)> {
    let want = common::squash(caption);
    let mut found = vec![];
    for w in words.iter().filter(|w| !w.0.is_empty() && want.starts_with(&w.0)) {
        let (mut got, mut x0, mut x1, mut y) = (w.0.clone(), w.1, w.2, w.3);
        while got.len() < want.len() {
            let next = words
                .iter()
                .filter(|v| v.3 > y && v.3 < y + 20.0 && v.1 < x1 && v.2 > x0 && want[got.len()..].starts_with(&v.0))
                .min_by(|a, b| a.3.total_cmp(&b.3));
            let Some(v) = next else { break };
            got.push_str(&v.0);
            (x0, x1, y) = (x0.min(v.1), x1.max(v.2), v.3);
        }
        if got == want {
            found.push((x0, w.3));
        }
    }
    found
}

/// What is wrong with page 1's indicator header against the sheet's captions
/// in the sheet's order (None when every caption is printed there, in order):
/// the header row is where most captions stand.
fn header_fault(pdf: &[u8], captions: &[String]) -> Option<String> {
    let words = common::word_boxes(pdf, 1);
    let places: Vec<Vec<(f64, f64)>> = captions.iter().map(|c| printed_at(&words, c)).collect();
    let near = |y: f64, at: &[(f64, f64)]| at.iter().any(|p| (p.1 - y).abs() < 25.0);
    let Some(row) =
        places.iter().flatten().map(|p| p.1).max_by_key(|&y| places.iter().filter(|at| near(y, at)).count())
    else {
        return Some(format!("none of {captions:?} printed"));
    };
    // A caption printed twice in the header (each half of a side-by-side table) is
    // its first column the first time, its second the second.
    let xs: Vec<Option<f64>> = captions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let nth = captions[..i].iter().filter(|x| *x == c).count();
            let mut at: Vec<f64> = places[i].iter().filter(|p| (p.1 - row).abs() < 25.0).map(|p| p.0).collect();
            at.sort_by(f64::total_cmp);
            at.dedup_by(|a, b| (*a - *b).abs() < 1.0);
            at.get(nth).copied()
        })
        .collect();
    let missing: Vec<&String> = captions.iter().zip(&xs).filter(|(_, x)| x.is_none()).map(|(c, _)| c).collect();
    let xs: Vec<f64> = xs.into_iter().flatten().collect();
    let out_of_order = xs.windows(2).any(|w| w[1] <= w[0]);
    (!missing.is_empty() || out_of_order)
        .then(|| format!("captions {captions:?}: not in the header {missing:?}, x {xs:?}"))
}

/// Issue 27 item 2: the PDF of an imported bureau workbook prints the
/// indicator columns the sheet has, with the sheet's captions, in the sheet's
/// order (read back from page 1).
#[test]
fn an_imported_workbook_prints_the_sheets_columns_in_its_order_and_words() {
    let engine = common::engine();
    let mut failures = vec![];
    for (name, slug, _) in FILLED.iter().filter(|(n, ..)| EXACT.contains(n)) {
        let imported = import(name);
        let form = engine.check("imported.yaml", imported.yaml.as_bytes());
        let pdf = engine.render(&form, &RenderOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}")).pdf;
        if let Some(fault) = header_fault(&pdf, &sheet_columns(slug)) {
            failures.push(format!("{name}: {fault}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Blank templates as bureaus send them, and the published blank forms they follow.
const BLANKS: [(&str, &str); 4] = [
    ("blank-keji", "national-keji-yindao-2021-project-self-eval-blank"),
    ("blank-guangxi", "guangxi-gxglmes-2021-project-blank"),
    ("blank-jiaxian", "shaanxi-jiaxian-2016-project-blank"),
    ("blank-daqing", "heilongjiang-daqing-project-blank"),
];

/// `template --from-xlsx BOOK -o kinds/NAME`, `new NAME`, `render`: the PDF
/// of the new kind's blank form (each step must succeed, the PDF be final).
fn blank_kind_pdf(book: &Path, name: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let kinds = dir.path().join("kinds");
    let (form, pdf) = (dir.path().join("blank.yaml"), dir.path().join("blank.pdf"));
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let templates = path(&kinds);
    for args in [
        vec!["template".into(), "--from-xlsx".into(), path(book), "-o".into(), path(&kinds.join(name))],
        vec!["new".into(), name.into(), "--templates".into(), templates.clone(), "-o".into(), path(&form)],
        vec!["render".into(), path(&form), "--templates".into(), templates.clone(), "-o".into(), path(&pdf)],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out) = common::formpress_cli(&args);
        assert_eq!(code, Some(0), "{name}: {args:?}: {out}");
        if args[0] == "render" {
            assert!(out.contains("校验码") && !out.contains("草稿"), "{name} is not a final form: {out}");
        }
    }
    std::fs::read(&pdf).unwrap()
}

/// Issue 27 item 3: `template --from-xlsx` turns a region's blank template
/// into a kind; `new` writes its blank form, which renders as the blank
/// official form: a final PDF with the sheet's title, its indicator columns in
/// its captions and order, every name the published blank pre-prints, and none
/// of the base kind's example values.
#[test]
fn a_blank_workbook_becomes_a_kind_whose_new_form_renders_as_the_blank_form() {
    let mut failures = vec![];
    for (name, slug) in BLANKS {
        let pdf = blank_kind_pdf(&workbooks().join(format!("{name}.xlsx")), name);
        let text = common::squash(&common::pages(&pdf).concat());
        let published = common::engine().check_file(&common::root().join(format!("tests/real/{slug}.yaml"))).unwrap();
        let title = published.data["title"].as_str().unwrap();
        if !text.contains(&common::squash(title)) {
            failures.push(format!("{name}: title {title} not printed"));
        }
        if let Some(fault) = header_fault(&pdf, &sheet_columns(slug)) {
            failures.push(format!("{name}: {fault}"));
        }
        let mut names = vec![];
        common::strings(&published.data["indicators"], &mut names);
        let lost: Vec<&String> = names.iter().filter(|n| !text.contains(n.as_str())).collect();
        if !lost.is_empty() {
            failures.push(format!("{name}: pre-printed names not printed: {lost:?}"));
        }
        // The base kind's examples (受益学生人数, 3120 …) are nowhere: the skeleton is the blank form.
        let base = if slug.ends_with("self-eval-blank") { "project-self-eval" } else { "project" };
        let (_, skeleton) = common::formpress_cli(&["new", base]);
        let example = common::check(&skeleton);
        let mut examples = vec![];
        common::strings(&example.data, &mut examples);
        let mut own = vec![];
        common::strings(&published.data, &mut own); // what the blank itself prints (新增项目□ 延续项目□)
        let leaked: Vec<&String> = examples
            .iter()
            .filter(|e| {
                e.chars().count() >= 4 && text.contains(e.as_str()) && !own.iter().any(|o| o.contains(e.as_str()))
            })
            .collect();
        if !leaked.is_empty() {
            failures.push(format!("{name}: example values printed: {leaked:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A blank sheet's title becomes the new kind's name and the form's title:
/// markup of Typst, MiniJinja or YAML in it is printed as typed, never run.
#[test]
fn a_hostile_title_on_a_blank_sheet_is_printed_as_typed() {
    let dir = tempfile::tempdir().unwrap();
    let title = r#"#panic("x") {{ 7*7 }} $y$ ]] "\ 绩效目标自评表"#;
    let book = dir.path().join("hostile.xlsx");
    let script = "import openpyxl,sys\n\
                  wb = openpyxl.load_workbook(sys.argv[1])\n\
                  for row in wb.active.iter_rows():\n\
                  \x20   for c in row:\n\
                  \x20       if c.value == '中央引导地方科技发展资金绩效目标自评表': c.value = sys.argv[3]\n\
                  wb.save(sys.argv[2])";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(workbooks().join("blank-keji.xlsx"))
        .arg(&book)
        .arg(title)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pdf = blank_kind_pdf(&book, "evil");
    let text = common::squash(&common::pages(&pdf).concat());
    assert!(text.contains(&common::squash(title)), "{text}");
}
