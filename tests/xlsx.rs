//! The Excel and WPS bridge: `render --format xlsx` and `formpress import`.
//! Every example and real form goes to .xlsx and back with the same data
//! (the same 校验码); the .xlsx is checked with openpyxl (merges, values,
//! number formats, page set-up) and, for a few, converted to PDF with
//! LibreOffice and compared with our PDF's text; spreadsheets laid out
//! independently (openpyxl scripts in tests/xlsx/) import; hostile ones are
//! refused with a clear message.

mod common;

use std::path::{Path, PathBuf};

use formpress::{Form, xlsx, xlsx_import};

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
