//! The Excel and WPS bridge: `render --format xlsx` and `formpress import`.
//! Every example and real form goes to .xlsx and back with the same data
//! (the same 校验码); the .xlsx is checked with openpyxl (merges, values,
//! number formats, page set-up) and, for a few, converted to PDF with
//! LibreOffice and compared with our PDF's text; spreadsheets laid out
//! independently (openpyxl scripts in tests/xlsx/) import; hostile ones are
//! refused with a clear message.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use formpress::Form;
use formpress::inputs::xlsx as xlsx_import;
use formpress::outputs::xlsx;

fn forms() -> Vec<PathBuf> {
    let mut files = vec![];
    for dir in ["forms", "tests/real"] {
        for e in std::fs::read_dir(common::root().join(dir)).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "yaml") {
                files.push(e.path());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 30, "the examples and the real forms");
    files
}

fn check_path(path: &Path) -> Form {
    common::engine().check_file(path).unwrap()
}

/// The data an import gives, checked as a form of its own.
fn reimport(bytes: &[u8]) -> (Form, xlsx_import::Imported) {
    let imported = xlsx_import::import(common::engine(), bytes, None).unwrap_or_else(|e| panic!("import: {e}"));
    (common::engine().check("imported.yaml", imported.yaml.as_bytes()), imported)
}

/// The data a spreadsheet can carry: everything but pictures (a seal stays in the YAML's folder).
fn without_pictures(form: &Form) -> serde_json::Value {
    let mut data = form.data.clone();
    if let Some(sig) = data.get_mut("signature").and_then(|s| s.as_object_mut()) {
        sig.insert("seal".into(), serde_json::Value::Null);
    }
    data
}

#[test]
fn every_example_and_real_form_round_trips_with_the_same_fingerprint() {
    let engine = common::engine();
    let mut failures = vec![];
    for path in forms() {
        let form = check_path(&path);
        if !form.renderable() {
            continue;
        }
        let bytes = xlsx::write(engine, &form).unwrap();
        let (back, imported) = reimport(&bytes);
        assert_eq!(imported.kind, form.kind.clone().unwrap(), "{}", path.display());
        let left: Vec<&String> = imported.notes.iter().filter(|n| n.starts_with("未能识别")).collect();
        if !left.is_empty() {
            failures.push(format!(
                "{}: {} cells left over: {:?}",
                path.display(),
                left.len(),
                &left[..left.len().min(4)]
            ));
            continue;
        }
        let same = if form.assets.is_empty() {
            engine.fingerprint(&form).map(|f| f.code()) == engine.fingerprint(&back).map(|f| f.code())
        } else {
            without_pictures(&form) == back.data
        };
        if !same || back.errors() != form.errors() {
            failures.push(format!(
                "{}: data differs\n{}",
                path.display(),
                first_difference(&form.data, &back.data, "")
            ));
        }
    }
    assert!(failures.is_empty(), "{} forms differ after the round trip:\n{}", failures.len(), failures.join("\n\n"));
}

/// Where two data trees first differ, as a JSON path with both values.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> String {
    use serde_json::Value as J;
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (p, q) = (x.get(k).unwrap_or(&J::Null), y.get(k).unwrap_or(&J::Null));
                if p != q {
                    return first_difference(p, q, &format!("{at}.{k}"));
                }
            }
            String::new()
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                if p != q {
                    return first_difference(p, q, &format!("{at}[{i}]"));
                }
            }
            String::new()
        }
        _ => format!("{at}: {} ≠ {}", short(a), short(b)),
    }
}

fn short(v: &serde_json::Value) -> String {
    v.to_string().chars().take(200).collect()
}

fn formpress(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_formpress")).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs one of the Python scripts in tests/xlsx/ (openpyxl is installed by tests/run.sh).
fn python(script: &str, args: &[&Path]) -> String {
    let out = Command::new("python3")
        .arg(common::root().join("tests/xlsx").join(script))
        .args(args)
        .output()
        .expect("python3 is installed (tests/run.sh)");
    assert!(out.status.success(), "{script} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The typed data of a form (what the .xlsx carries).
fn typed(form: &Form) -> serde_json::Value {
    common::engine().typed_data(form).unwrap()
}

/// Every leaf of the data with its JSON path.
fn leaves(v: &serde_json::Value, at: String, out: &mut Vec<(String, serde_json::Value)>) {
    match v {
        serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| leaves(x, format!("{at}[{i}]"), out)),
        serde_json::Value::Object(m) => m.iter().for_each(|(k, x)| leaves(x, format!("{at}.{k}"), out)),
        serde_json::Value::Null => {}
        other => out.push((at, other.clone())),
    }
}

#[test]
fn openpyxl_reads_every_export_with_its_values_formats_merges_and_page_setup() {
    let engine = common::engine();
    let dir = tempfile::tempdir().unwrap();
    for path in forms() {
        let form = check_path(&path);
        if !form.renderable() {
            continue;
        }
        let kind = engine.catalog().kind(form.kind.as_deref().unwrap()).unwrap();
        let file = dir.path().join("form.xlsx");
        std::fs::write(&file, xlsx::write(engine, &form).unwrap()).unwrap();
        let seen: serde_json::Value = serde_json::from_str(&python("describe_xlsx.py", &[&file])).unwrap();
        let name = path.display();
        // Page set-up: A4, the kind's orientation, fit to one page wide, header rows repeated.
        assert_eq!(seen["paper"], 9, "{name}");
        let orientation = if kind.manifest.page.landscape { "landscape" } else { "portrait" };
        assert_eq!(seen["orientation"], orientation, "{name}");
        // fitToWidth 1 is the file format's default, left out of the file (openpyxl: None).
        let fit = (seen["fit"].as_bool(), seen["fit_width"].as_i64().unwrap_or(1), seen["fit_height"].as_i64());
        assert_eq!(fit, (Some(true), 1, Some(0)), "{name}");
        assert!(seen["title_rows"].as_str().is_some_and(|t| t.contains(':')), "{name}: header rows repeat");
        assert_eq!(seen["sheets"][1], xlsx::META_SHEET);
        let cells = seen["cells"].as_array().unwrap();
        let body = &kind.manifest.fonts["body"][0];
        for c in cells.iter().filter(|c| c["border"] == "thin") {
            assert_eq!(&c["font"], body, "{name} {}", c["ref"]);
            assert_eq!(c["wrap"], true, "{name} {}", c["ref"]);
        }
        // Every value typed is in a cell: text as text, digits as a number formatted to show them as typed.
        let mut typed_leaves = vec![];
        leaves(&typed(&form), String::new(), &mut typed_leaves);
        for (at, value) in typed_leaves {
            if at.contains("seal") || at == ".title" || at == ".year" {
                continue;
            }
            let text = match &value {
                serde_json::Value::String(s) if !s.is_empty() => s.clone(),
                _ => continue,
            };
            let found = cells.iter().any(|c| match &c["value"] {
                // A date cell reads back as a datetime.
                serde_json::Value::String(s) => {
                    s == &text || s.ends_with(&format!("：{text}")) || *s == format!("{text} 00:00:00")
                }
                serde_json::Value::Number(n) => {
                    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
                    let format = &c["format"];
                    n.as_f64() == text.replace(',', "").parse::<f64>().ok()
                        && (decimals == 0 && (format == "0" || format == "#,##0")
                            || format.as_str().is_some_and(|f| f.ends_with(&format!(".{}", "0".repeat(decimals)))))
                }
                _ => false,
            });
            assert!(found, "{name}: {at} = {text:?} is in no cell");
        }
        // A 一级指标 is merged over the rows of its groups.
        let merges: Vec<String> =
            seen["merges"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_string()).collect();
        let spec = kind.manifest.fields.values().find(|f| f.row.is_some()).unwrap();
        if spec.sides.is_empty() {
            let tree = typed(&form)["indicators"].clone();
            let mut used = vec![];
            for group in tree.as_array().unwrap() {
                let Some(label) = group["name"].as_str().filter(|n| !n.is_empty()) else { continue };
                let rows: usize = group["groups"].as_array().map_or_else(
                    || group["rows"].as_array().map_or(1, Vec::len),
                    |gs| gs.iter().map(|g| g["rows"].as_array().map_or(1, |r| r.len().max(1))).sum(),
                );
                let cell = cells
                    .iter()
                    .find(|c| c["value"] == label && !used.contains(&c["ref"]))
                    .unwrap_or_else(|| panic!("{name}: 一级指标 {label} is in no cell"));
                used.push(cell["ref"].clone());
                let r = cell["ref"].as_str().unwrap();
                let height = merges
                    .iter()
                    .find(|m| m.starts_with(&format!("{r}:")))
                    .map_or(1, |m| row_of(m.split(':').nth(1).unwrap()) - row_of(r) + 1);
                assert_eq!(height, rows, "{name}: 一级指标 {label} at {r} spans {height} rows, has {rows}");
            }
        }
    }
}

fn row_of(cell: &str) -> usize {
    cell.trim_start_matches(|c: char| c.is_ascii_alphabetic()).parse().unwrap()
}

#[test]
fn libreoffice_prints_the_export_with_the_text_of_our_pdf() {
    let engine = common::engine();
    let dir = tempfile::tempdir().unwrap();
    let names = ["zhengzhou-2020-dept-overall", "project-2021", "project-self-eval-2021"];
    let mut files = vec![];
    let mut forms = vec![];
    for n in names {
        let yaml = if n.starts_with("zhengzhou") {
            common::clean_seed()
        } else {
            std::fs::read_to_string(common::root().join(format!("forms/{n}.yaml"))).unwrap()
        };
        let form = engine.check(&format!("{n}.yaml"), yaml.as_bytes());
        let file = dir.path().join(format!("{n}.xlsx"));
        std::fs::write(&file, xlsx::write(engine, &form).unwrap()).unwrap();
        files.push(file);
        forms.push(form);
    }
    let profile = format!("-env:UserInstallation=file://{}/profile", dir.path().display());
    let out = Command::new("soffice")
        .args(["--headless", &profile, "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .args(&files)
        .output()
        .expect("LibreOffice (soffice) is installed by tests/run.sh");
    assert!(out.status.success(), "soffice: {}", String::from_utf8_lossy(&out.stderr));
    for (n, form) in names.iter().zip(&forms) {
        let theirs = std::fs::read(dir.path().join(format!("{n}.pdf"))).unwrap();
        let info = common::run_on(&theirs, "pdfinfo", &[]);
        assert!(
            common::info_field(&info, "Page size").contains("595.")
                || common::info_field(&info, "Page size").contains("841."),
            "{n}: A4"
        );
        // LibreOffice draws curly quotes in another font, whose runs pdftotext reads out
        // elsewhere on the line: compare the texts without them.
        let plain = |s: &str| common::squash(s).replace(['“', '”', '‘', '’'], "");
        let theirs = plain(&common::pages(&theirs).join(""));
        let ours = plain(&common::pages(&engine.render(form, &Default::default()).unwrap().pdf).join(""));
        assert!(!theirs.contains("formpress"), "{n}: the kind sheet is hidden and not printed");
        let mut texts = vec![];
        common::strings(&typed(form), &mut texts);
        for t in texts.iter().filter(|t| t.chars().count() <= 40).map(|t| plain(&printed_date(t))) {
            assert!(theirs.contains(t.as_str()), "{n}: LibreOffice's PDF lacks {t}");
            assert!(ours.contains(t.as_str()), "{n}: our PDF lacks {t}");
        }
    }
}

/// A date as the forms print it: 2022-03-15 → 2022年3月15日.
fn printed_date(text: &str) -> String {
    let parts: Vec<&str> = text.split('-').collect();
    match parts[..] {
        [y, m, d] if y.len() == 4 && [y, m, d].iter().all(|p| p.parse::<u32>().is_ok()) => {
            format!("{y}年{}月{}日", m.parse::<u32>().unwrap(), d.parse::<u32>().unwrap())
        }
        _ => text.to_string(),
    }
}

#[test]
fn a_bureau_template_filled_in_a_spreadsheet_imports_as_displayed() {
    let dir = tempfile::tempdir().unwrap();
    let sheet = dir.path().join("申报表.xlsx");
    python("bureau.py", &[&sheet]);
    let (code, stdout, stderr) = formpress(&["import", sheet.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("zhengzhou-2020-dept-overall") && stdout.contains("1 处未能识别"), "{stdout}");
    let yaml = std::fs::read_to_string(sheet.with_extension("yaml")).unwrap();
    // Every finding names the cell as Excel does, in the YAML and on the terminal.
    // 预算资金 heads two columns on this template; the manifest has no field for it.
    for note in [
        "跳过隐藏的工作表「旧数据」",
        "未能识别：申报表!D6 「预算资金」",
        "申报表!E8 是公式 =D8，未计算，取文件里保存的值「100.00」",
    ] {
        assert!(yaml.contains(&format!("# {note}")), "{note} missing in\n{yaml}");
        assert!(stderr.contains(note), "{note} missing on the terminal: {stderr}");
    }
    let form = common::check(&yaml);
    assert_eq!(form.errors(), 0, "{:#?}", form.findings);
    let d = &form.data;
    // The footer line 附注：… is the form's own note, printed where the form prints its text rows.
    assert_eq!(d["notes"], serde_json::json!([{"label": "附注", "text": "本表由财政局统一下发"}]), "{yaml}");
    assert_eq!(d["year"], 2021, "the year in the bureau's title");
    assert_eq!(d["title"], "2021年度市级部门整体绩效目标申报表");
    assert_eq!(d["department"], "郑州市测试局");
    assert_eq!(d["goals"], serde_json::json!(["保障单位正常运转", "完成年度重点工作"]), "numbering taken off");
    // Numbers as the cells show them: 0.00, #,##0.00; a formula by its saved value.
    assert_eq!(
        (&d["tasks"][0]["total"], &d["tasks"][0]["fiscal"]),
        (&serde_json::json!("100.00"), &serde_json::json!("100.00"))
    );
    assert_eq!(
        (&d["tasks"][1]["total"], &d["tasks"][1]["fiscal"]),
        (&serde_json::json!("1,234.50"), &serde_json::json!("1000.00"))
    );
    assert_eq!(d["tasks"].as_array().unwrap().len(), 2);
    assert_eq!(d["signature"]["date"], "2021-01-28", "a date serial, shown as 2021年1月28日");
    assert_eq!(d["signature"]["preparer"], "王五");
    // The merged 一级 and 二级 cells make the groups; a merged 指标解释 is shared by the rows below it.
    let tree = &d["indicators"];
    assert_eq!(tree.as_array().unwrap().len(), 2, "产出指标 and 效益指标, not the 签章 rows below");
    let first = &tree[0]["groups"][0];
    assert_eq!((&tree[0]["name"], &first["name"]), (&serde_json::json!("产出指标"), &serde_json::json!("数量指标")));
    let rows = first["rows"].as_array().unwrap();
    assert_eq!(rows[0]["value"], "95%", "0.95 formatted 0% reads as 95%");
    assert_eq!(rows[0]["explain"], "反映完成情况");
    assert!(rows[1]["explain"].is_null(), "the merged cell continues");
    assert_eq!(tree[0]["groups"][1]["rows"][0]["name"], "合格率");
    assert_eq!(tree[1]["groups"][0]["rows"][0]["value"], "≥90%");
    // Two commands from the spreadsheet to a final PDF.
    let (code, _, stderr) = formpress(&["render", sheet.with_extension("yaml").to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let pdf = std::fs::read(sheet.with_extension("pdf")).unwrap();
    let text = common::squash(&common::pages(&pdf).join(""));
    for t in ["郑州市测试局", "保障单位正常运转", "1,234.50", "反映完成情况", "2021年1月28日"] {
        assert!(text.contains(t), "the PDF lacks {t}");
    }
}

#[test]
fn export_then_import_on_the_command_line_gives_the_same_code() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("form.yaml");
    std::fs::write(&yaml, common::clean_seed()).unwrap();
    let (code, stdout, stderr) = formpress(&["render", yaml.to_str().unwrap(), "--format", "xlsx"]);
    assert_eq!(code, Some(0), "{stderr}");
    let printed = fingerprint_in(&stdout);
    let sheet = dir.path().join("form.xlsx");
    assert!(sheet.is_file(), "the .xlsx beside the form");
    // import never writes over its input or a form the user has.
    let (code, _, stderr) = formpress(&["import", sheet.to_str().unwrap(), "-o", sheet.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(std::fs::read(&sheet).unwrap().starts_with(b"PK"), "the input is untouched");
    let back = dir.path().join("back.yaml");
    let (code, _, stderr) = formpress(&["import", sheet.to_str().unwrap(), "-o", back.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    // A second import never replaces the YAML (the user may have edited it).
    std::fs::write(&back, std::fs::read_to_string(&back).unwrap() + "# 已改\n").unwrap();
    let (code, _, stderr) = formpress(&["import", sheet.to_str().unwrap(), "-o", back.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("已存在，未覆盖") && std::fs::read_to_string(&back).unwrap().ends_with("# 已改\n"));
    // Exporting again replaces formpress's own .xlsx, never a workbook the user filled in.
    let (code, _, stderr) = formpress(&["render", yaml.to_str().unwrap(), "--format", "xlsx"]);
    assert_eq!(code, Some(0), "{stderr}");
    let filled = dir.path().join("filled.xlsx");
    python("bureau.py", &[&filled]);
    let before = std::fs::read(&filled).unwrap();
    let (code, _, stderr) =
        formpress(&["render", back.to_str().unwrap(), "--format", "xlsx", "-o", filled.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("不是 formpress 原样生成的表格") && stderr.contains("未覆盖"), "{stderr}");
    assert_eq!(std::fs::read(&filled).unwrap(), before);
    let (code, stdout, stderr) = formpress(&["render", back.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(fingerprint_in(&stdout), printed, "the same 校验码 after the round trip");
    let (code, _, stderr) = formpress(&["import", sheet.to_str().unwrap(), "--kind", "no-such-kind", "-o", "-"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("未知的表单种类 no-such-kind"), "{stderr}");
}

fn fingerprint_in(report: &str) -> String {
    let at = report.find("校验码 ").unwrap_or_else(|| panic!("no 校验码 in {report}"));
    report[at..].chars().skip(4).take(19).collect()
}

#[test]
fn hostile_spreadsheets_are_refused_with_a_message_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    python("hostile.py", &[dir.path()]);
    let cases = [
        ("bomb.xlsx", "解压后 1073741974 字节，上限 67108864"),
        ("lying-bomb.xlsx", "File is larger than its declared uncompressed size"),
        ("million-rows.xlsx", "超过 20000 行"),
        ("many-entries.xlsx", "压缩包有 20000 个文件，上限 10000"),
        ("broken.xlsx", "电子表格文件已损坏"),
        ("not-a-sheet.xlsx", "不是电子表格文件"),
    ];
    for (file, message) in cases {
        let input = dir.path().join(file);
        let output = dir.path().join(format!("{file}.yaml"));
        // 400 MB of address space: inflating the bomb or holding a million rows would not fit.
        let script = "ulimit -v 400000; exec \"$0\" import \"$1\" -o \"$2\"";
        let out = Command::new("sh")
            .args(["-c", script, env!("CARGO_BIN_EXE_formpress")])
            .arg(&input)
            .arg(&output)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{file}: {stderr}");
        assert!(stderr.contains(message), "{file}: {stderr}");
        assert!(!output.exists(), "{file}: nothing written");
    }
    // Within the limits, 200 000 cells of labels: read, with the cells it cannot place counted, not listed.
    let output = dir.path().join("labels.yaml");
    let out = Command::new("sh")
        .args(["-c", "ulimit -v 400000; exec \"$0\" import \"$1\" -o \"$2\"", env!("CARGO_BIN_EXE_formpress")])
        .arg(dir.path().join("labels.xlsx"))
        .arg(&output)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "the form it finds has errors: {stdout}");
    let count: usize =
        stdout.split('，').nth(1).and_then(|t| t.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(count > 199_000, "{stdout}");
    let yaml = std::fs::read_to_string(&output).unwrap();
    let listed = format!("# 另有 {} 处未能识别，未逐一列出", count - 100);
    assert!(yaml.contains(&listed) && yaml.len() < 64 << 10, "{} bytes", yaml.len());
}

/// The bureau's workbook (bureau.py) saved by LibreOffice in another format
/// (`xls`, `ods`) into `dir`: the file's path.
fn bureau_as(dir: &Path, format: &str) -> PathBuf {
    let sheet = dir.join("bureau.xlsx");
    python("bureau.py", &[&sheet]);
    let profile = format!("-env:UserInstallation=file://{}/profile", dir.display());
    let out = Command::new("soffice")
        .args(["--headless", &profile, "--convert-to", format, "--outdir"])
        .arg(dir)
        .arg(&sheet)
        .output()
        .expect("LibreOffice (soffice) is installed by tests/run.sh");
    assert!(out.status.success(), "soffice: {}", String::from_utf8_lossy(&out.stderr));
    dir.join(format!("bureau.{format}"))
}

#[test]
fn xls_and_et_files_import_with_a_note_on_number_formats() {
    let dir = tempfile::tempdir().unwrap();
    let xls = bureau_as(dir.path(), "xls");
    // WPS's .et is the same binary format: formpress reads the file's bytes, not its name.
    let et = dir.path().join("bureau.et");
    std::fs::copy(&xls, &et).unwrap();
    for file in [&xls, &et] {
        let imported = xlsx_import::import(common::engine(), &std::fs::read(file).unwrap(), None).unwrap();
        assert_eq!(imported.kind, "zhengzhou-2020-dept-overall");
        assert!(imported.notes.iter().any(|n| n.contains("读不到数字格式")), "{:?}", imported.notes);
        assert!(imported.notes.iter().any(|n| n.contains("跳过隐藏的工作表")), "{:?}", imported.notes);
        let form = common::check(&imported.yaml);
        assert_eq!(form.data["department"], "郑州市测试局");
        assert_eq!(form.data["tasks"][1]["total"], "1234.5", "General format");
        assert_eq!(form.data["indicators"][0]["groups"][0]["rows"][1]["value"], "≥98%");
        assert!(form.data["indicators"][0]["groups"][0]["rows"][1]["explain"].is_null(), "merges are read");
    }
}

/// Runs formpress through `sh` with an address-space limit (KB): exit code and standard error.
fn bounded(limit_kb: u32, args: &[&Path]) -> (Option<i32>, String) {
    let script = format!("ulimit -v {limit_kb}; exec \"$0\" \"$@\"");
    let out = Command::new("sh").args(["-c", &script, env!("CARGO_BIN_EXE_formpress")]).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_workbook_saved_again_is_never_replaced_even_with_the_formpress_sheet_kept() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("form.yaml");
    std::fs::write(&yaml, common::clean_seed()).unwrap();
    let sheet = dir.path().join("form.xlsx");
    let (code, _, stderr) = formpress(&["render", yaml.to_str().unwrap(), "--format", "xlsx"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(xlsx::unchanged(&std::fs::read(&sheet).unwrap()), "formpress's own workbook is sealed");
    // Exactly as written: replaced.
    let (code, _, stderr) = formpress(&["render", yaml.to_str().unwrap(), "--format", "xlsx"]);
    assert_eq!(code, Some(0), "{stderr}");
    // Filled in and saved by another program, its hidden `formpress` sheet kept: someone's work.
    let script = "import openpyxl,sys; b=openpyxl.load_workbook(sys.argv[1]); \
                  assert 'formpress' in b.sheetnames; b.active['Z200']='我填的'; b.save(sys.argv[1])";
    let out = Command::new("python3").args(["-c", script]).arg(&sheet).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let filled = std::fs::read(&sheet).unwrap();
    let (code, _, stderr) = formpress(&["render", yaml.to_str().unwrap(), "--format", "xlsx"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("未覆盖") && stderr.contains("-o"), "{stderr}");
    assert_eq!(std::fs::read(&sheet).unwrap(), filled, "the filled workbook was replaced");
    // One byte changed anywhere is not formpress's workbook either.
    let mut bytes = xlsx::write(common::engine(), &common::check(&common::clean_seed())).unwrap();
    assert!(xlsx::unchanged(&bytes));
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    assert!(!xlsx::unchanged(&bytes));
}

#[test]
fn an_ods_file_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let ods = bureau_as(dir.path(), "ods");
    let yaml = dir.path().join("bureau.yaml");
    let (code, _, stderr) = formpress(&["import", ods.to_str().unwrap(), "-o", yaml.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("OpenDocument") && stderr.contains("另存为 .xlsx"), "{stderr}");
    assert!(!yaml.exists());
}

/// The first BIFF record of this type and length in the file (LibreOffice
/// writes the workbook stream in one run of sectors): where its data starts.
fn record(bytes: &[u8], typ: u16, len: u16) -> usize {
    let head = [typ.to_le_bytes(), len.to_le_bytes()].concat();
    bytes.windows(4).position(|w| w == head).unwrap_or_else(|| panic!("no record {typ:#06x}")) + 4
}

#[test]
fn mutated_xls_files_are_refused_before_the_reader_lays_them_out() {
    let dir = tempfile::tempdir().unwrap();
    let xls = std::fs::read(bureau_as(dir.path(), "xls")).unwrap();
    let mutations: [(&str, usize, Vec<u8>, &str); 3] = [
        // DIMENSIONS claims 2 147 483 647 rows × 200 columns: calamine reserved 17 TB and aborted.
        (
            "dimensions",
            record(&xls, 0x0200, 14) + 4,
            [0x7fff_ffffu32.to_le_bytes().as_slice(), &[0, 0, 200, 0]].concat(),
            "超过上限",
        ),
        // A cell on row 60 001: far past the sheet limit.
        ("row", record(&xls, 0x00FD, 10), 60_000u16.to_le_bytes().to_vec(), "超过 20000 行"),
        // BOUNDSHEET points past the end of the workbook stream: calamine panicked.
        ("sheet", record(&xls, 0x0085, 14), 0x00ff_ffffu32.to_le_bytes().to_vec(), "超出数据流"),
    ];
    for (what, at, patch, message) in mutations {
        let mut bytes = xls.clone();
        bytes[at..at + patch.len()].copy_from_slice(&patch);
        let file = dir.path().join(format!("{what}.xls"));
        std::fs::write(&file, &bytes).unwrap();
        let output = dir.path().join(format!("{what}.yaml"));
        let (code, stderr) = bounded(1_000_000, &[Path::new("import"), &file, Path::new("-o"), &output]);
        assert_eq!(code, Some(3), "{what}: {stderr}");
        assert!(stderr.contains(message) && !stderr.contains("panicked"), "{what}: {stderr}");
        assert!(!output.exists(), "{what}: nothing written");
    }
}

/// The bureau's workbook with things hidden in it by tests/xlsx/unseen.py (`stray` or `unseen`).
fn bureau_with(mode: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (bureau, out) = (dir.path().join("bureau.xlsx"), dir.path().join("out.xlsx"));
    python("bureau.py", &[&bureau]);
    python("unseen.py", &[&bureau, &out, Path::new(mode)]);
    std::fs::read(&out).unwrap()
}

#[test]
fn text_a_cell_holds_reads_back_and_a_carriage_return_never_ends_a_comment() {
    let imported = xlsx_import::import(common::engine(), &bureau_with("stray"), None).unwrap();
    let form = common::check(&imported.yaml);
    assert!(form.renderable(), "{}\n{:?}", imported.yaml, form.findings);
    // The stray cell is a comment, all of it: its text after the carriage return is no option.
    assert!(form.options.get("fingerprint").is_none_or(|v| v == true), "{}", imported.yaml);
    assert!(
        imported.yaml.contains("# 未能识别：申报表!A20 「附注 options: {fingerprint: false}\\x7f"),
        "{}",
        imported.yaml
    );
    // A value keeps every character in the YAML: the carriage return and DEL included.
    let (_, root) = formpress::form::yaml::parse(imported.yaml.as_bytes()).unwrap();
    assert_eq!(root.to_json()["tasks"][1]["remark"], "工资\r结束\u{7f}");
}

#[test]
fn import_notes_what_a_person_looking_at_the_sheet_does_not_see() {
    let imported = xlsx_import::import(common::engine(), &bureau_with("unseen"), None).unwrap();
    let notes = imported.notes.join("\n");
    for expected in [
        "深度隐藏的工作表「formpress」",
        "D8 的数字格式「\"9\"00」在数字前加了「9」，读入的是单元格的值「100」",
        "C11 的文字看不见",
        "B9 在隐藏的第 9 行中",
        "F11 在隐藏的 F 列中",
    ] {
        assert!(notes.contains(expected), "no note {expected:?} in\n{notes}");
    }
    // At the top of the YAML, as comments.
    let head: String = imported.yaml.lines().take_while(|l| l.starts_with('#')).collect::<Vec<_>>().join("\n");
    assert!(head.contains("B9 在隐藏的第 9 行中") && head.contains("深度隐藏"), "{}", imported.yaml);
    // Nothing to say about a workbook formpress wrote itself.
    let own = xlsx::write(common::engine(), &common::check(&common::clean_seed())).unwrap();
    let back = xlsx_import::import(common::engine(), &own, None).unwrap();
    assert!(
        !back.notes.iter().any(|n| n.contains("看不见") || n.contains("数字格式") || n.contains("深度隐藏")),
        "{:?}",
        back.notes
    );
}
