//! The seed form end to end: what is in the PDF, page by page.

mod common;

use common::*;
use serde_json::Value;

fn seed_pdf() -> &'static (Vec<u8>, Vec<String>) {
    static PDF: std::sync::OnceLock<(Vec<u8>, Vec<String>)> = std::sync::OnceLock::new();
    PDF.get_or_init(|| {
        let pdf = render(&seed()).pdf;
        let pages = pages(&pdf);
        (pdf, pages)
    })
}

#[test]
fn seed_is_a4_with_every_cell_text() {
    let (pdf, pages) = seed_pdf();
    let info = run_on(pdf, "pdfinfo", &[]);
    assert_eq!(info_field(&info, "Page size"), "595.276 x 841.89 pts (A4)");
    assert!((3..=6).contains(&pages.len()), "{} pages", pages.len());
    // The seed's own error (任务3: 3300.9 > 3300.8) makes it a draft, and it says so.
    assert_eq!(info_field(&info, "Title"), "市级部门整体绩效目标申报表（草稿）");
    assert!(pages.iter().all(|p| formpress::form::fingerprint::is_draft(p)), "草稿 on every page");
    assert!(pages.iter().all(|p| formpress::form::fingerprint::find_code(p).is_none()), "no 校验码 on a draft");
    assert_eq!(info_field(&info, "Author"), "郑州市人民政府办公厅");
    assert!(info_field(&info, "Keywords").contains("2020年度"), "{info}");

    let text = squash(&pages.concat());
    let squashed: Vec<String> = pages.iter().map(|p| squash(p)).collect();
    let form = check(&seed());
    let mut cells = vec![];
    strings(&form.data, &mut cells);
    assert!(cells.len() > 120, "only {} strings in the data", cells.len());
    let missing: Vec<&String> = cells.iter().filter(|c| !on_pages(&squashed, c)).collect();
    assert!(missing.is_empty(), "not in the PDF text: {missing:#?}");
    for fixed in [
        "部门名称",
        "年度总体目标",
        "目标3：",
        "年度主要任务",
        "预算资金",
        "其中：财政资金",
        "备注",
        "指标说明",
        "（2020年度）",
        "3300.9",
    ] {
        assert!(text.contains(fixed), "{fixed} missing");
    }
}

/// The cell text is on one page, or flows from the end of one page onto the next.
fn on_pages(pages: &[String], cell: &str) -> bool {
    let chars: Vec<char> = cell.chars().collect();
    pages.iter().enumerate().any(|(i, page)| {
        page.contains(cell)
            || (1..chars.len()).any(|k| {
                let (head, tail): (String, String) = (chars[..k].iter().collect(), chars[k..].iter().collect());
                page.contains(&head) && pages.get(i + 1).is_some_and(|next| next.contains(&tail))
            })
    })
}

#[test]
fn fonts_are_embedded_and_subset() {
    let (pdf, _) = seed_pdf();
    let fonts = run_on(pdf, "pdffonts", &[]);
    let rows: Vec<&str> = fonts.lines().skip(2).filter(|l| !l.trim().is_empty()).collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in &rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // name type [encoding…] emb sub uni object ID
        let n = cols.len();
        assert_eq!(&cols[n - 5..n - 2], &["yes", "yes", "yes"], "not embedded+subset+unicode: {row}");
        assert!(cols[0].contains('+'), "subset prefix missing: {row}");
    }
    assert!(fonts.contains("NotoSerifCJKsc-Regular"), "{fonts}");
    assert!(fonts.contains("NotoSansCJKsc-Regular"), "{fonts}");
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    let (pdf, _) = seed_pdf();
    let again = render(&seed()).pdf;
    assert!(pdf == &again, "second render differs");
    assert!(pdf.len() < 200 * 1024, "{} bytes", pdf.len());
}

/// (一级 label, 三级 names) for every 一级 group in the seed.
fn groups(data: &Value) -> Vec<(String, Vec<String>)> {
    data["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l1| {
            let rows = l1["groups"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|l2| l2["rows"].as_array().unwrap().iter().map(|r| squash(r["name"].as_str().unwrap())))
                .collect();
            (l1["name"].as_str().unwrap().to_string(), rows)
        })
        .collect()
}

/// For each page, the 一级 groups with rows on it and whether their label is there.
fn labels_per_page(yaml: &str) -> Vec<Vec<(String, bool)>> {
    let pdf = render(yaml).pdf;
    let pages: Vec<String> = pages(&pdf).iter().map(|p| squash(p)).collect();
    let form = check(yaml);
    let mut out = vec![vec![]; pages.len()];
    for (label, rows) in groups(&form.data) {
        for (i, page) in pages.iter().enumerate() {
            if rows.iter().any(|r| page.contains(r.as_str())) {
                out[i].push((label.clone(), page.contains(&label)));
            }
        }
    }
    out
}

#[test]
fn every_level1_group_is_labelled_on_every_page_it_has_rows() {
    let pages = labels_per_page(&seed());
    let mut continued = 0;
    for (i, groups) in pages.iter().enumerate() {
        for (label, shown) in groups {
            assert!(shown, "page {}: rows of {label} without its label", i + 1);
        }
        if i > 0 && pages[i - 1].iter().any(|(l, _)| groups.first().is_some_and(|(g, _)| g == l)) {
            continued += 1;
        }
    }
    // The seed's groups do cross pages; otherwise this test would prove nothing.
    assert!(continued >= 1, "no 一级 group crosses a page: {pages:?}");
}

#[test]
fn without_repeat_labels_a_continued_group_has_no_label() {
    let yaml = seed().replace(
        "department: 郑州市人民政府办公厅",
        "department: 郑州市人民政府办公厅\noptions:\n  repeat_labels: false",
    );
    let pages = labels_per_page(&yaml);
    let unlabelled = pages.iter().flatten().filter(|(_, shown)| !shown).count();
    assert!(unlabelled >= 1, "{pages:?}");
}

#[test]
fn column_header_is_printed_on_every_page_unless_asked_once() {
    let count = |yaml: &str| {
        let pdf = render(yaml).pdf;
        pages(&pdf).iter().filter(|p| squash(p).contains("一级指标二级指标三级指标指标值指标解释指标说明")).count()
    };
    assert_eq!(count(&seed()), pages(&render(&seed()).pdf).len());
    let once = seed().replace(
        "department: 郑州市人民政府办公厅",
        "department: 郑州市人民政府办公厅\noptions:\n  repeat_header: false",
    );
    assert_eq!(count(&once), 1);
}

/// Layout passes (issue: one layout where one is enough). A form whose
/// tables need no continuation labels is laid out once; the seed needs its
/// labels repeated and takes a second pass, which Typst mostly serves from
/// the first one's cached cells.
#[test]
fn one_layout_where_one_is_enough() {
    let engine = engine();
    let one_page = engine.check_file(&root().join("forms/project-2021.yaml")).unwrap();
    let rendered = engine.render(&one_page, &formpress::RenderOptions::default()).unwrap();
    assert_eq!((rendered.pages, rendered.passes), (1, 1));
    let seed = render(&clean_seed());
    assert_eq!(seed.passes, 2, "the seed's 一级 labels continue on later pages");
}

/// A thread starts each form from the markup it compiled last (the batch
/// path); the PDF must be the one a fresh start gives, whatever came before.
#[test]
fn a_form_after_another_is_the_form_alone() {
    let alone = std::thread::spawn(|| render(&clean_seed()).pdf).join().unwrap();
    let after = std::thread::spawn(|| {
        let engine = engine();
        for example in ["project-self-eval-2021.yaml", "mof-dept-overall-2021.yaml"] {
            let other = engine.check_file(&root().join("forms").join(example)).unwrap();
            engine.render(&other, &formpress::RenderOptions::default()).unwrap();
        }
        // A near neighbour: the same form with one amount changed, then the form itself.
        render(&clean_seed().replace("1436.3", "1436.2"));
        render(&clean_seed()).pdf
    })
    .join()
    .unwrap();
    assert!(alone == after, "the PDF depends on what the thread rendered before");
}
