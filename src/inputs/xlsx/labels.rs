//! Comparing a cell's text with a form's labels.

/// Label text as compared: no spaces, full-width punctuation, no trailing colon.
pub(super) fn norm(text: &str) -> String {
    let s: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            ':' => '：',
            c => c,
        })
        .collect();
    s.trim_end_matches('：').to_string()
}

/// `目标1：…` → `…` when the number is the item's own (the sheet numbers them).
pub(super) fn strip_number(text: &str, item_label: &str, n: usize) -> String {
    let prefix = item_label.replace("{n}", &n.to_string());
    for sep in ["：", ":", "、", "."] {
        if let Some(rest) = text.strip_prefix(&format!("{prefix}{sep}")) {
            return rest.to_string();
        }
    }
    text.to_string()
}

/// A year in a cell: the year line `（2020年度）`, or with `loose` any `2020年` in a title.
pub(super) fn year_in(text: &str, line: bool) -> Option<i64> {
    let t = norm(text);
    let digits: String = if line {
        let inner = t.strip_prefix('（')?.strip_suffix('）')?;
        let inner = inner.strip_suffix("年度").or_else(|| inner.strip_suffix('年'))?;
        inner.to_string()
    } else {
        let i = t.find('年')?;
        t[..i].chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect()
    };
    (digits.len() == 4).then(|| digits.parse().ok()).flatten()
}
