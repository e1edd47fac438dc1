//! Numbers that feed a computation are numbers, and nothing is printed that
//! nobody wrote: an amount typed with its unit (`3120万`, `31200000元`) takes
//! part in every sum and rule in the form's unit; a cell that cannot be read
//! (`四百五十`, `300美元`) is an error naming what it blocks, and that value is
//! left blank on the page; an unscored self-evaluation prints no 得分 and no
//! 总分; and every value of the 总分 row is printed under its own column's
//! header, whichever columns the form drops. Judged on the PDF as read back.

mod common;

use common::*;
use formpress::Severity;

/// A word of a page and its box (`pdftotext -bbox`): text, x from, x to, y centre.
struct Word {
    text: String,
    x0: f64,
    x1: f64,
    y: f64,
}

impl Word {
    fn x(&self) -> f64 {
        (self.x0 + self.x1) / 2.0
    }
}

fn boxes(pdf: &[u8], page: usize) -> Vec<Word> {
    word_boxes(pdf, page).into_iter().map(|(text, x0, x1, y)| Word { text, x0, x1, y }).collect()
}

/// The words of the row that holds `label` (centres within 3 pt), left to right.
fn row_of<'a>(words: &'a [Word], label: &str) -> Vec<&'a Word> {
    let Some(at) = words.iter().find(|w| w.text == label) else { return vec![] };
    let mut row: Vec<&Word> = words.iter().filter(|w| (w.y - at.y).abs() < 3.0).collect();
    row.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    row
}

/// A project form with its totals typed, as the 申报表 prints them.
fn project(unit: &str, year_total: &str, year_fiscal: &str) -> String {
    let example = std::fs::read_to_string(root().join("forms/project-2021.yaml")).unwrap();
    let start = example.find("funds:").unwrap();
    let end = example.find("goals:").unwrap();
    let funds = format!(
        "funds:\n  mid:\n    total: 9360\n    fiscal: 9360\n    other: 0\n  year:\n    total: {year_total}\n    fiscal: {year_fiscal}\n    other: 0\n\n"
    );
    let options = if unit == "元" { "options: {unit: 元}\n" } else { "" };
    format!("{}{funds}{}{options}", &example[..start], &example[end..])
}

fn errors_and_warnings(yaml: &str) -> Vec<(String, Severity, String)> {
    check(yaml).findings.iter().map(|f| (f.yaml_path.clone(), f.severity, f.message.clone())).collect()
}

#[test]
fn amounts_with_a_unit_take_part_in_the_rules_in_the_forms_unit() {
    // 3120 万元 three ways in a 万元 form: the total 3120 agrees with each.
    for fiscal in ["3120", "3120万", "3120万元", "31200000元", "\"31,200,000元\""] {
        let found = errors_and_warnings(&project("万元", "3120", fiscal));
        assert!(found.is_empty(), "{fiscal}: {found:?}");
    }
    // And the rules see the converted number: 31200000元 is 3120 万元, not 3000.
    let found = errors_and_warnings(&project("万元", "3000", "31200000元"));
    let mismatch = (
        "funds.year.total".to_string(),
        Severity::Error,
        "年度资金总额 3000 不等于财政拨款 3120 加其他资金 0".to_string(),
    );
    assert_eq!(found, [mismatch]);
    // In a 元 form, 250万 is 2500000 元.
    let yuan = project("元", "2500000", "250万")
        .replace("total: 9360\n    fiscal: 9360", "total: 9360000\n    fiscal: 9360000");
    assert!(errors_and_warnings(&yuan).is_empty(), "{:?}", errors_and_warnings(&yuan));
    // Printed as typed, never re-formatted.
    let pages = pages(&render(&project("万元", "3120", "31200000元")).pdf);
    assert!(squash(&pages[0]).contains("31200000元"), "{}", pages[0]);
}

#[test]
fn a_self_evaluation_sums_amounts_typed_with_their_unit() {
    let yaml = example_self_eval().replace("budget: 3120, spent: 3050.6", "budget: 3120万, spent: 30506000元");
    let found = errors_and_warnings(&yaml);
    assert!(found.is_empty(), "{found:?}");
    let pdf = render(&yaml).pdf;
    let total: Vec<String> = row_of(&boxes(&pdf, 1), "年度资金总额").iter().map(|w| w.text.clone()).collect();
    // 年度资金总额 = 3120 + 215.4 + 0 and 3050.6 + 215.4 + 0; 执行率 97.9%; 得分 9.79.
    assert_eq!(total, ["年度资金总额", "3120", "3335.4", "3266", "10", "97.9%", "9.79"]);
}

fn example_self_eval() -> String {
    std::fs::read_to_string(root().join("forms/project-self-eval-2021.yaml")).unwrap()
}

#[test]
fn an_unreadable_input_is_an_error_naming_what_it_blocks_and_that_value_prints_blank() {
    for (typed, reason) in
        [("四百五十", "「四百五十」不是金额"), ("300美元", "「300美元」的单位「美元」不能换算成万元")]
    {
        let yaml = example_self_eval().replace("budget: 3120, spent", &format!("budget: {typed}, spent"));
        let found = errors_and_warnings(&yaml);
        assert_eq!(found.len(), 1, "{found:?}");
        let (path, severity, message) = &found[0];
        assert_eq!((path.as_str(), *severity), ("funds.fiscal.budget", Severity::Error));
        assert!(message.starts_with(reason) && message.contains("年度资金总额、执行率"), "{message}");
        // The draft prints the cell as typed, and no total, 执行率 or score computed as if it were 0.
        let pdf = render(&yaml).pdf;
        let words = boxes(&pdf, 1);
        let total: Vec<&str> = row_of(&words, "年度资金总额").iter().map(|w| w.text.as_str()).collect();
        assert_eq!(total, ["年度资金总额", "3120", "3266", "10"], "{typed}");
        assert!(squash(&pages(&pdf)[0]).contains(typed));
        let last = boxes(&pdf, pdf_pages(&pdf));
        let total: Vec<&str> = row_of(&last, "总分").iter().map(|w| w.text.as_str()).collect();
        assert_eq!(total, ["总分", "100"], "no 总分 from a blocked 执行率得分");
    }
    // A 得分 in words blocks the 总分 only.
    let yaml = example_self_eval()
        .replace("weight: 10, score: 10}\n      - name: 质量指标", "weight: 10, score: 十}\n      - name: 质量指标");
    let found = errors_and_warnings(&yaml);
    assert!(
        found.iter().any(|(p, _, m)| p.ends_with("rows[1].score") && m == "「十」不是数字，总分无法计算"),
        "{found:?}"
    );
}

#[test]
fn free_text_that_feeds_nothing_printed_is_no_finding() {
    // A total typed beside a line written in words: nothing is computed from the line.
    let yaml = example_self_eval().replace(
        "  fiscal: {initial: 3120, budget: 3120, spent: 3050.6}",
        "  total: {initial: 3120, budget: 3335.4, spent: 3266}\n  fiscal: {initial: 3120, budget: 3120万(含追加), spent: 3050.6}",
    );
    let found = errors_and_warnings(&yaml);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn an_unscored_self_evaluation_prints_no_score_and_no_total_score() {
    let unscored = regex_lite_remove_scores(&example_self_eval());
    assert!(!unscored.contains("score"));
    let form = check(&unscored);
    assert!(form.findings.is_empty(), "{:#?}", form.findings);
    let pdf = render(&unscored).pdf;
    let texts: Vec<String> = pages(&pdf).iter().map(|p| squash(p)).collect();
    let all = texts.concat();
    // The execution line: 分值 10 and 执行率 97.9%, no 得分 9.79.
    let execution: Vec<String> = row_of(&boxes(&pdf, 1), "年度资金总额").iter().map(|w| w.text.clone()).collect();
    assert_eq!(execution, ["年度资金总额", "3120", "3335.4", "3266", "10", "97.9%"]);
    assert!(!all.contains("9.79"), "{all}");
    // The 总分 row: 分值合计 100 under 分值, nothing else.
    let last = pdf_pages(&pdf);
    let words = boxes(&pdf, last);
    let total: Vec<&str> = row_of(&words, "总分").iter().map(|w| w.text.as_str()).collect();
    assert_eq!(total, ["总分", "100"]);
}

fn pdf_pages(pdf: &[u8]) -> usize {
    pages(pdf).len()
}

/// The example without any 得分.
fn regex_lite_remove_scores(yaml: &str) -> String {
    yaml.lines()
        .map(|l| match l.find(", score: ") {
            Some(i) => {
                let rest = &l[i + ", score: ".len()..];
                let end = rest.find([',', '}']).unwrap_or(rest.len());
                format!("{}{}", &l[..i], &rest[end..])
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A short self-evaluation that fills every indicator column, so each can be dropped in turn.
fn full_form(drop: Option<&str>) -> String {
    let row = |name: &str, weight: u32, score: u32| {
        let cells = [
            ("name", name.to_string()),
            ("nature", "\"≥\"".into()),
            ("target", "95".into()),
            ("unit", "\"%\"".into()),
            ("actual", "96".into()),
            ("weight", weight.to_string()),
            ("score", score.to_string()),
            ("reason", "无偏差".into()),
            ("explain", "反映完成情况".into()),
            ("standard", "达到得满分".into()),
        ];
        let cells: Vec<String> =
            cells.iter().filter(|(k, _)| Some(*k) != drop).map(|(k, v)| format!("{k}: {v}")).collect();
        format!("          - {{{}}}\n", cells.join(", "))
    };
    format!(
        "form: project-self-eval\nyear: 2021\nproject: 测试项目\ndepartment: 某局\n\
         funds:\n  fiscal: {{initial: 100, budget: 100, spent: 100}}\n\
         goals:\n  expected: 完成任务\n  actual: 已完成\n\
         indicators:\n  - name: 产出指标\n    groups:\n      - name: 数量指标\n        rows:\n{}{}",
        row("完成率", 50, 45),
        row("合格率", 40, 40)
    )
}

#[test]
fn every_value_of_the_total_row_is_under_its_own_header_whichever_column_is_dropped() {
    let headers = [
        ("nature", "指标性质"),
        ("target", "年度指标值"),
        ("unit", "度量单位"),
        ("actual", "实际完成值"),
        ("weight", "分值"),
        ("score", "得分"),
        ("explain", "指标解释"),
        ("standard", "评（扣）分标准"),
    ];
    for drop in [None].into_iter().chain(headers.iter().map(|(k, _)| Some(*k))) {
        let yaml = full_form(drop);
        let pdf = render(&yaml).pdf;
        let words = boxes(&pdf, 1);
        // The indicator header row: the words level with 三级指标 (wrapped captions within a line or two).
        let name = words.iter().find(|w| w.text == "三级指标").expect("the header");
        let head: Vec<&Word> = words.iter().filter(|w| (w.y - name.y).abs() < 12.0 && w.x0 >= name.x0).collect();
        let shown: Vec<&str> = headers
            .iter()
            .filter(|(k, label)| {
                Some(*k) != drop && head.iter().any(|w| w.text.starts_with(&label.chars().take(2).collect::<String>()))
            })
            .map(|(k, _)| *k)
            .collect();
        // Every column not dropped is printed (the check can fail), the dropped one is not.
        assert_eq!(shown.len(), headers.len() - usize::from(drop.is_some()), "{drop:?}: {:?}", texts(&head));
        let total = row_of(&words, "总分");
        // 分值 50 + 40 + 执行率 10; 得分 45 + 40 + 10. A dropped 分值 leaves 得分 85 (no 执行率 points).
        let expected: Vec<(&str, &str)> = match drop {
            Some("weight") => vec![("得分", "85")],
            Some("score") => vec![("分值", "100")],
            _ => vec![("分值", "100"), ("得分", "95")],
        };
        let values: Vec<&str> = total.iter().skip(1).map(|w| w.text.as_str()).collect();
        assert_eq!(values, expected.iter().map(|(_, v)| *v).collect::<Vec<_>>(), "{drop:?}");
        for ((label, _), value) in expected.iter().zip(total.iter().skip(1)) {
            let own = head.iter().find(|w| w.text == *label).unwrap_or_else(|| panic!("{label} header: {drop:?}"));
            let nearest = head.iter().min_by(|a, b| (a.x() - value.x()).abs().total_cmp(&(b.x() - value.x()).abs()));
            assert_eq!(
                nearest.map(|w| w.text.as_str()),
                Some(own.text.as_str()),
                "{drop:?}: {} under {label}",
                value.text
            );
            assert!(
                value.x() > own.x0 - 12.0 && value.x() < own.x1 + 12.0,
                "{drop:?}: {} not under {label}",
                value.text
            );
        }
    }
}

fn texts(words: &[&Word]) -> Vec<String> {
    words.iter().map(|w| w.text.clone()).collect()
}
