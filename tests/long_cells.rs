//! Long text in any cell of an indicator row, in every kind and every column,
//! reaches the paper whole: a row taller than the space left continues on the
//! next page, a merged cell too, and a column that appears for one row's text
//! is wide enough to read. Judged on the PDF as pdftotext reads it, page by
//! page above the footer.

mod common;

use common::*;
use serde_json::{Value as Json, json};

/// The example of a kind as data, without its seal picture (the form is
/// checked from memory, where no picture can be read).
fn example(kind: &str) -> Json {
    let manifest = &engine().catalog().kind(kind).unwrap().manifest;
    let name = manifest.example.as_ref().unwrap();
    let text = std::fs::read_to_string(root().join("forms").join(name)).unwrap();
    let mut form: Json = serde_saphyr::from_str(&text).unwrap();
    if let Some(sig) = form.get_mut("signature").and_then(Json::as_object_mut) {
        sig.remove("seal");
    }
    form
}

fn sentences(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("第{i}条：本项指标按年度工作计划逐项核对完成情况，形成台账并按季度报送。")).collect()
}

/// Puts `text` into one column of the first row: `level0`, `level1` or a row field.
fn with_text(kind: &str, column: &str, text: &str) -> Json {
    let mut form = example(kind);
    let sided = !engine().catalog().kind(kind).unwrap().manifest.fields["indicators"].sides.is_empty();
    let top = &mut form["indicators"][0];
    // The first 二级 group: the 年度 half's when the kind has halves side by side.
    let group = if sided { &mut top["year"][0] } else { &mut top["groups"][0] };
    match column {
        "level1" => group["name"] = json!(text),
        "level0" => form["indicators"][0]["name"] = json!(text),
        field => group["rows"][0][field] = json!(text),
    }
    form
}

/// Renders a form (a draft is fine) and reads its pages back above the footer.
fn paper(kind: &str, data: &Json) -> Result<Vec<String>, String> {
    let form = engine().check("long.yaml", data.to_string().as_bytes());
    if !form.renderable() {
        return Err(format!("not renderable: {:?}", form.findings.iter().map(|f| &f.message).collect::<Vec<_>>()));
    }
    let rendered = engine().render(&form, &formpress::RenderOptions::default()).map_err(|e| e.to_string())?;
    Ok(body_pages(&rendered.pdf, bottom_margin(kind)))
}

fn columns(kind: &str) -> Vec<String> {
    let spec = &engine().catalog().kind(kind).unwrap().manifest.fields["indicators"];
    ["level0", "level1"].iter().map(|s| s.to_string()).chain(spec.row.as_ref().unwrap().keys().cloned()).collect()
}

#[test]
fn a_long_cell_prints_whole_in_every_column_of_every_kind() {
    let mut failures = vec![];
    for kind in engine().catalog().kinds().map(|k| k.id.clone()).collect::<Vec<_>>() {
        for column in columns(&kind) {
            let said = sentences(40);
            let pages = match paper(&kind, &with_text(&kind, &column, &said.concat())) {
                Ok(p) => p,
                Err(e) => {
                    failures.push(format!("{kind} {column}: {e}"));
                    continue;
                }
            };
            let printed = said.iter().filter(|s| shown(&pages, s)).count();
            if printed < said.len() {
                failures.push(format!("{kind} {column}: {printed} of 40 sentences printed"));
            }
            // The row starts where the column header is: page 1 does not end blank after it.
            if !pages[0].contains("第1条") {
                failures.push(format!("{kind} {column}: page 1 does not start the long cell"));
            }
        }
    }
    assert!(failures.is_empty(), "{} cells lose text:\n{}", failures.len(), failures.join("\n"));
}

/// The counts: a 2,100-character cell (60 sentences) in the columns it named.
#[test]
fn a_cell_of_2100_characters_prints_whole() {
    let cases = [
        ("project", "name"),
        ("project", "value"),
        ("project", "explain"),
        ("project", "remark"),
        ("mof-dept-overall", "standard"),
        ("project-self-eval", "reason"),
        ("dept-self-eval", "explain"),
        ("zhengzhou-2020-dept-overall", "value"),
        ("zhengzhou-2020-dept-overall", "name"),
        ("zhengzhou-2020-dept-overall", "explain"),
        ("zhengzhou-2020-dept-overall", "note"),
    ];
    let said = sentences(60);
    assert!(said.concat().chars().count() >= 2100);
    for (kind, column) in cases {
        let pages = paper(kind, &with_text(kind, column, &said.concat())).unwrap();
        let printed = said.iter().filter(|s| shown(&pages, s)).count();
        assert_eq!(printed, 60, "{kind} {column}: {printed} of 60 sentences printed");
    }
}

/// A merged 指标解释 over three rows holding pages of text.
#[test]
fn a_long_merged_cell_continues_on_the_next_pages() {
    let kind = "zhengzhou-2020-dept-overall";
    let mut form = with_text(kind, "explain", &sentences(60).concat());
    for row in 1..3 {
        // Rows that leave the 指标解释 out share the cell above.
        form["indicators"][0]["groups"][0]["rows"][row].as_object_mut().unwrap().remove("explain");
    }
    let pages = paper(kind, &form).unwrap();
    assert!(pages.len() >= 3);
    for s in sentences(60) {
        assert!(shown(&pages, &s), "not printed: {s}");
    }
}

/// The lines of a long text as pdftotext reads them: the raw lines that are
/// pieces of it, in characters.
fn line_widths(pdf_lines: &str, text: &str) -> Vec<usize> {
    pdf_lines
        .lines()
        .map(squash)
        .filter(|l| l.chars().count() >= 2 && text.contains(l.as_str()))
        .map(|l| l.chars().count())
        .collect()
}

#[test]
fn a_column_that_appears_for_one_paragraph_is_wide_enough_to_read() {
    // The case: a 351-character 指标解释 in one row of the project form.
    let text: String = sentences(11).concat().chars().take(351).collect();
    let form = engine().check("wide.yaml", with_text("project", "explain", &text).to_string().as_bytes());
    let pdf = engine().render(&form, &formpress::RenderOptions::default()).unwrap().pdf;
    let mut widths = line_widths(&pages(&pdf).concat(), &squash(&text));
    widths.sort();
    assert!(widths.len() >= 5, "{widths:?}");
    // Lines of at least seven characters for most of the paragraph (the last line of a sentence may be short).
    let median = widths[widths.len() / 2];
    assert!(median >= 7, "the 指标解释 column prints {median} characters a line: {widths:?}");
}

#[test]
fn notes_print_label_and_text_whatever_the_table_shape() {
    let notes = json!([
        {"label": "项目概况", "text": "项目开工前期勘察设计审批，进度督导检查。"},
        {"label": "立项依据", "text": "市人民政府办公厅会议专题纪要第五十四号。"},
    ]);
    // A table of one column (the indicator table left blank), and the example's full table.
    let mut blank = example("project");
    blank["indicators"] = json!([{"year": [{}]}]);
    blank.as_object_mut().unwrap().remove("goals");
    let full = example("project");
    for (what, mut form) in [("one column", blank), ("full table", full)] {
        form["notes"] = notes.clone();
        let pages = paper("project", &form).unwrap_or_else(|e| panic!("{what}: {e}"));
        for n in notes.as_array().unwrap() {
            for key in ["label", "text"] {
                let t = n[key].as_str().unwrap();
                assert!(shown(&pages, t), "{what}: note {key} not printed: {t}");
            }
        }
    }
}
