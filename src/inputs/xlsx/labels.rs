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

/// A caption as a bureau's sheet prints it, reduced to the words that name
/// the field: no asterisk (required), no numbering (`（一）`, `1.`, `一、`),
/// no trailing note in brackets (a unit `（万元）`, a half `（年度）`, a
/// limit `（450字内）`, `（盖章）`).
pub(super) fn caption(text: &str) -> String {
    let mut s = norm(text);
    s = s.trim_start_matches(['*', '＊', '★']).to_string();
    if s.starts_with('（')
        && let Some(end) = s.find('）')
        && s[..end].chars().skip(1).all(|c| c.is_ascii_digit() || "一二三四五六七八九十".contains(c))
        && end + '）'.len_utf8() < s.len()
    {
        s = s[end + '）'.len_utf8()..].to_string();
    }
    let lead: usize = s
        .char_indices()
        .take_while(|(_, c)| c.is_ascii_digit() || "一二三四五六七八九十".contains(*c))
        .map(|(_, c)| c.len_utf8())
        .sum();
    if lead > 0 && lead < 6 {
        let rest = &s[lead..];
        for sep in ["、", ".", "．"] {
            if let Some(r) = rest.strip_prefix(sep)
                && !r.is_empty()
            {
                s = r.to_string();
                break;
            }
        }
    }
    while s.ends_with('）')
        && let Some(open) = s.rfind('（')
        && open > 0
    {
        s.truncate(open);
    }
    s.trim_end_matches('：').to_string()
}

/// The note in brackets at the end of a caption (`二级指标（长期）` → `长期`).
pub(super) fn bracketed(text: &str) -> Option<String> {
    let s = norm(text);
    let inner = s.strip_suffix('）')?;
    let open = inner.rfind('（')?;
    (open > 0).then(|| inner[open + '（'.len_utf8()..].to_string())
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
