//! Placing a sheet's cells into a kind's fields: labels found wherever they
//! sit, values beside or below them (the indicator table: table.rs).

use std::collections::HashSet;

use super::cells::Cells;
use super::emit::Y;
use super::labels::{caption, norm, strip_number, year_in};
use crate::form::kind::{Field, FieldType, Kind};
use crate::outputs::sheet;

/// Walks the manifest over a sheet, taking each label's value.
pub(super) struct Walk<'a> {
    pub(super) cells: &'a Cells,
    pub(super) used: HashSet<(u32, u32)>,
    pub(super) kind: &'a Kind,
    pub(super) options: &'a serde_json::Map<String, serde_json::Value>,
    /// The sheet is formpress's own export (it has the `formpress` sheet).
    pub(super) own: bool,
    pub(super) notes: Vec<String>,
    /// Captions the sheet prints in other words than the kind (dotted key → text), for option `labels`.
    pub(super) captions: Vec<(String, String)>,
    /// A bureau's sheet without a year line or a year in its title: option `year_line: false`.
    pub(super) no_year: bool,
    /// Items of a numbered list (goals) came without their numbers: option `number_goals: false`.
    pub(super) unnumbered: bool,
    /// The indicator table's rows, header included (no notes are taken from them).
    pub(super) table_rows: Option<(u32, u32)>,
    /// What the sheet shows of the form's shape, for the options `order`, `show` and `absent`.
    pub(super) seen: Seen,
    /// The form's title as the sheet prints it (a printed page may repeat it).
    pub(super) title: Option<String>,
    /// The indicator table's header row on a bureau's sheet: a caption there heads a
    /// column (a listing: 单位名称 | 项目名称 | 预算数 | 一级指标 …), its value is below it.
    pub(super) header_row: Option<u32>,
}

/// A money table as the sheet shows it: its field, its columns in the sheet's
/// order, and its lines with whether each is blank.
#[derive(Debug)]
pub(super) struct MoneySeen {
    pub(super) path: String,
    pub(super) columns: Vec<String>,
    pub(super) lines: Vec<(String, bool)>,
}

/// The shape of a bureau's sheet as the walk found it.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// The indicator table's columns in the sheet's order (`mid.name` in a half), each
    /// with whether every row leaves it blank.
    pub(super) columns: Vec<(String, bool)>,
    /// A money table (a 自评表's 预算执行情况).
    pub(super) money: Option<MoneySeen>,
    /// Top-level cells of the kind whose caption the sheet does not print.
    pub(super) not_on_sheet: Vec<String>,
    /// Parts whose captions the sheet prints over blank boxes (a blank template's 年度总体目标).
    pub(super) blank: Vec<String>,
}

/// A block of the sheet to search: rows r0..=r1, columns c0..=c1.
#[derive(Debug, Clone, Copy)]
pub(super) struct Area {
    pub(super) r0: u32,
    pub(super) r1: u32,
    pub(super) c0: u32,
    pub(super) c1: u32,
}

/// Words that begin the lines below a form's table (the footer), not a row of it.
pub(super) const FOOTER: [&str; 7] = ["填报人", "联系电话", "负责人", "填报日期", "意见", "（盖章）", "附件"];

/// A field's captions: the kind's label and its other names (`aka`).
pub(super) fn names(f: &Field) -> Vec<&str> {
    std::iter::once(f.label.as_str()).chain(f.aka.iter().map(String::as_str)).collect()
}

impl Walk<'_> {
    pub(super) fn take(&mut self, r: u32, c: u32) -> String {
        let (r0, c0, _, _) = self.cells.region(r, c);
        self.used.insert((r0, c0));
        self.cells.at(r, c).to_string()
    }

    /// A field's captions as compared: the form's own (option `labels`, by key
    /// or dotted path) instead of the kind's label and its other names.
    pub(super) fn labels_of(&self, path: &str, names: &[&str]) -> Vec<String> {
        match self.options.get("labels").and_then(|m| m.get(path)).and_then(|v| v.as_str()) {
            Some(l) => vec![self.key(l)],
            None if self.own => names.first().map(|n| self.key(n)).into_iter().collect(),
            None => names.iter().map(|n| self.key(n)).collect(),
        }
    }

    /// Notes the caption a bureau's sheet prints for `key` when it is not the kind's label.
    pub(super) fn caption_seen(&mut self, key: &str, label: &str, r: u32, c: u32) {
        let text = self.cells.at(r, c).trim().to_string();
        if !self.own && norm(&text) != norm(label) && !self.captions.iter().any(|(k, _)| k == key) {
            self.captions.push((key.to_string(), text));
        }
    }

    /// The first cell in `area`, row by row, whose text is one of `labels` and
    /// not used yet (only cells with text are looked at: a large sheet stays quick).
    pub(super) fn find(&self, area: Area, labels: &[String]) -> Option<(u32, u32, u32, u32)> {
        self.cells
            .text
            .range((area.r0, 0)..=(area.r1, u32::MAX))
            .filter(|((_, c), _)| *c >= area.c0 && *c <= area.c1)
            .filter(|((r, c), _)| !self.used.contains(&(*r, *c)) && self.cells.region(*r, *c).0 == *r)
            .find(|(_, text)| labels.contains(&self.key(text)))
            .map(|((r, c), _)| self.cells.region(*r, *c))
    }

    /// Text as compared with captions: formpress's own export prints the
    /// kind's labels exactly; a bureau's sheet in its own words (see `caption`).
    pub(super) fn key(&self, text: &str) -> String {
        if self.own { norm(text) } else { caption(text) }
    }

    pub(super) fn is_label(&self, text: &str) -> bool {
        let n = self.key(text);
        let key = |t: &str| self.key(t);
        fn any(fields: &indexmap::IndexMap<String, Field>, n: &str, key: &dyn Fn(&str) -> String, own: bool) -> bool {
            fields.values().any(|f| {
                let names = if own { vec![f.label.as_str()] } else { names(f) };
                names.iter().any(|l| key(l) == n)
                    || f.fields.as_ref().is_some_and(|s| any(s, n, key, own))
                    || f.item.as_deref().and_then(|i| i.fields.as_ref()).is_some_and(|s| any(s, n, key, own))
            })
        }
        !n.is_empty()
            && (any(&self.kind.manifest.fields, &n, &key, self.own)
                || any(crate::form::kind::signature_fields(), &n, &key, self.own))
    }

    pub(super) fn form(&mut self) -> Vec<(String, Y)> {
        let all = Area { r0: 0, r1: self.cells.rows().saturating_sub(1), c0: 0, c1: u32::MAX };
        let mut out = vec![];
        self.title(&mut out);
        let fields = self.kind.manifest.fields.clone();
        if let Some(table) = fields.values().find(|f| f.ty == FieldType::Indicators)
            && !self.own
        {
            self.header_row = self.table_header(table, all).filter(|(_, cols)| cols.len() >= 3).map(|(r, _)| r);
        }
        for (key, spec) in &fields {
            if sheet::TITLE_KEYS.contains(&key.as_str()) {
                continue;
            }
            if let Some(v) = self.field(all, key, spec) {
                out.push((key.clone(), v));
            }
        }
        if !self.own {
            self.leftover_notes(&mut out);
        }
        // The year and title go first, as a skeleton has them.
        out
    }

    /// A caption and its value left over on a bureau's sheet (项目负责人及电话 | …,
    /// 评价结论 | …) become an entry of the kind's `notes:` list (label, text), in
    /// the sheet's order, where the form prints its other text rows.
    fn leftover_notes(&mut self, out: &mut Vec<(String, Y)>) {
        let Some(spec) = self.kind.manifest.fields.get("notes") else { return };
        let item = spec.item.as_deref().and_then(|i| i.fields.as_ref());
        if spec.ty != FieldType::List || !item.is_some_and(|f| f.contains_key("label") && f.contains_key("text")) {
            return;
        }
        let mut found = vec![];
        let starts: Vec<(u32, u32)> = self.cells.text.keys().copied().collect();
        for (r, c) in starts {
            if found.len() == super::MAX_NOTES {
                break; // a form has a few such lines; a sheet of thousands lists them instead
            }
            let (r0, c0, _, c1) = self.cells.region(r, c);
            let in_table = self.table_rows.is_some_and(|(a, b)| (a..=b).contains(&r));
            let text = self.cells.at(r, c).to_string();
            if (r0, c0) != (r, c) || in_table || self.used.contains(&(r, c)) || !has_words(&text) {
                continue; // a number is a value, never a caption
            }
            // The value: the next region in the row, unused, not itself a caption of the kind;
            // a blank box there (a merged area) is a caption printed blank.
            let next = self.cells.region(r, c1 + 1);
            let value = self.cells.at(r, c1 + 1).to_string();
            let boxed = self.cells.merged.contains_key(&(r, c1 + 1)) && value.is_empty();
            let entry = if next.0 == r
                && !value.trim().is_empty()
                && !self.used.contains(&(next.0, next.1))
                && !self.is_label(&value)
            {
                self.take(r, c1 + 1);
                // A line of amounts (财政专户管理资金 | 0.00 | 0.00 | 0.00% | /) is one note, its cells joined.
                let mut parts = vec![value];
                let mut end = next.3;
                loop {
                    let (a, b, _, d) = self.cells.region(r, end + 1);
                    let more = self.cells.at(r, end + 1).to_string();
                    if a != r
                        || d <= end
                        || more.trim().is_empty()
                        || self.used.contains(&(a, b))
                        || !amount_like(&more)
                    {
                        break;
                    }
                    parts.push(self.take(a, b));
                    end = d;
                }
                vec![("label".into(), Y::Text(text.trim().to_string())), ("text".into(), Y::Text(parts.join(" | ")))]
            } else if boxed && next.0 == r {
                vec![("label".into(), Y::Text(text.trim().to_string()))]
            } else if let Some((label, value)) = text.split_once([':', '：']).filter(|(l, v)| {
                !l.trim().is_empty()
                    && !v.trim().is_empty()
                    && l.chars().count() <= 12
                    && !l.chars().any(|c| c.is_ascii_alphanumeric())
            }) {
                // 部门:临沧市永德县明朗中学 — a caption and its value in one cell.
                vec![
                    ("label".into(), Y::Text(label.trim().to_string())),
                    ("text".into(), Y::Text(value.trim().to_string())),
                ]
            } else {
                continue;
            };
            self.take(r, c);
            found.push(Y::Map(entry));
        }
        if found.is_empty() {
            return;
        }
        match out.iter_mut().find(|(k, _)| k == "notes") {
            Some((_, Y::List(items))) => items.extend(found),
            _ => out.push(("notes".into(), Y::List(found))),
        }
    }

    /// The title (left out when it is the kind's default) and the year line.
    fn title(&mut self, out: &mut Vec<(String, Y)>) {
        let m = &self.kind.manifest;
        let default =
            m.fields.get("title").and_then(|f| f.default.as_ref()).and_then(|d| d.as_str()).unwrap_or(&m.name);
        let mut texts = self.cells.text.iter().filter(|(_, t)| !t.trim().is_empty());
        let first = texts.next().map(|(k, t)| (*k, t.clone()));
        // A line above the title (附件:, 报表编号:…) is not the title: the title is a 表 without a colon.
        let titled = |t: &str| norm(t).contains('表') && !norm(t).contains('：');
        let first = match first {
            Some((k, t)) if !self.own && !titled(&t) => std::iter::once((&k, &t))
                .chain(texts.take_while(|((r, _), _)| *r <= k.0 + 2))
                .find(|(_, t)| titled(t))
                .map(|(k, t)| (*k, t.clone()))
                .or(Some((k, t))),
            other => other,
        };
        let mut year = None;
        if let Some(((r, c), text)) = first
            && !self.is_label(&text)
            && m.fields.contains_key("title")
        {
            self.take(r, c);
            self.title = Some(text.trim().to_string());
            if norm(&text) != norm(default) {
                out.push(("title".into(), Y::Text(text.trim().to_string())));
            }
            if !self.own {
                year = year_in(&text, false);
            }
        }
        for (&(r, c), text) in &self.cells.text {
            if let Some(y) = year_in(text, true) {
                year = Some(y);
                self.used.insert((r, c));
                break;
            }
        }
        // A bureau's sheet with no year anywhere prints no year line: nor does the PDF.
        self.no_year = !self.own && year.is_none() && m.fields.contains_key("year");
        if let Some(y) = year
            && m.fields.contains_key("year")
        {
            out.insert(0, ("year".into(), Y::Bare(y.to_string())));
        }
    }

    /// A field found by its label in `area`; `path` is its dotted key (`funds.year.total`).
    fn field(&mut self, area: Area, path: &str, spec: &Field) -> Option<Y> {
        if spec.ty == FieldType::Indicators {
            return self.indicators(path, spec, area);
        }
        if spec.ty == FieldType::Image {
            return None;
        }
        let labels = self.labels_of(path, &names(spec));
        let Some((r0, c0, r1, c1)) = self.find(area, &labels) else {
            // A top-level record whose own label is not printed (a 签章区): look for its
            // fields. A nested one without its label was left blank.
            let found = match spec.ty {
                FieldType::Text | FieldType::Money | FieldType::Number | FieldType::Integer | FieldType::Date => {
                    self.in_one_cell(area, &labels, path, spec).map(|t| self.scalar(spec, t))
                }
                FieldType::Record | FieldType::Signature if !path.contains('.') => {
                    let y = self.record(spec, path, area);
                    matches!(&y, Y::Map(m) if !m.is_empty()).then_some(y)
                }
                _ => None,
            };
            if found.is_none() && !path.contains('.') && !self.own {
                self.seen.not_on_sheet.push(path.to_string());
            }
            return found;
        };
        self.used.insert((r0, c0));
        self.caption_seen(path, &spec.label, r0, c0);
        let inner = Area { r0, r1, c0: c1 + 1, c1: area.c1 };
        if let Some(columns) = sheet::table_columns(spec) {
            return self.table_record(spec, path, columns, inner);
        }
        match spec.ty {
            FieldType::Record | FieldType::Signature => {
                let record = self.record(spec, path, inner);
                if matches!(&record, Y::Map(m) if m.is_empty()) && !self.own {
                    self.seen.blank.push(path.to_string()); // printed as blank boxes (年度总体目标)
                }
                Some(record)
            }
            FieldType::List => {
                let item = spec.item.as_deref().expect("checked manifest");
                if item.ty == FieldType::Record {
                    self.table(item, path, inner)
                } else {
                    let listing = self.header_row == Some(r0);
                    self.items_below(spec, (r0, c0, r1, c1)).or_else(|| (!listing).then(|| self.items(spec, inner))?)
                }
            }
            _ => {
                let (mut r0, mut c0, mut r1, mut c1) = (r0, c0, r1, c1);
                // A few places only: a sheet of thousands of bare captions stays quick.
                for _ in 0..4 {
                    // A caption beside a money label (金额（万元）) is a column head, not an amount.
                    let head = !self.own && spec.ty == FieldType::Money && !amount_like(self.cells.at(r0, c1 + 1));
                    let listing = self.header_row == Some(r0);
                    let mut text = if head || listing { String::new() } else { self.right_of(r0, c1) };
                    // A blank box beside the caption is its value, blank: what is below is not.
                    if text.is_empty() && !self.own && !self.blank_box_right(r0, c1) {
                        text = self.below(c0, r1, c1);
                    }
                    if !text.is_empty() || self.own {
                        return (!text.is_empty()).then(|| self.scalar(spec, text));
                    }
                    // The caption printed again further on: a line to fill in above the grid
                    // (项目名称:), then the grid's own cell (转移支付(项目)名称 | …).
                    (r0, c0, r1, c1) = self.find(area, &labels)?;
                    self.used.insert((r0, c0));
                    self.caption_seen(path, &spec.label, r0, c0);
                }
                None
            }
        }
    }

    /// The value below a caption that heads its column (中期目标 over the goal):
    /// the region right under it, spanning the same columns, unless a caption.
    fn below(&mut self, c0: u32, r1: u32, c1: u32) -> String {
        let (a, b, _, d) = self.cells.region(r1 + 1, c0);
        let text = self.cells.at(r1 + 1, c0).to_string();
        if (a, b, d) != (r1 + 1, c0, c1)
            || text.trim().is_empty()
            || self.is_label(&text)
            || fill_in(&text)
            || self.used.contains(&(a, b))
        {
            return String::new();
        }
        self.take(a, b)
    }

    /// A list's items under its caption (中期目标 | 年度目标 side by side over
    /// their goals): the regions below spanning the caption's columns.
    fn items_below(&mut self, spec: &Field, (_, c0, r1, c1): (u32, u32, u32, u32)) -> Option<Y> {
        if self.own {
            return None;
        }
        let mut out = vec![];
        let mut r = r1 + 1;
        while r < self.cells.rows() {
            let (a, b, e, d) = self.cells.region(r, c0);
            let text = self.cells.at(r, c0).to_string();
            if (a, b, d) != (r, c0, c1) || text.trim().is_empty() || self.is_label(&text) || self.used.contains(&(a, b))
            {
                break;
            }
            self.take(a, b);
            let text = self.item_text(spec, text, out.len() + 1);
            out.push(Y::Text(text));
            r = e + 1;
        }
        (!out.is_empty()).then_some(Y::List(out))
    }

    /// The value right of a label: the next region in the row, unless it is itself a label.
    fn right_of(&mut self, r: u32, c: u32) -> String {
        let text = self.cells.at(r, c + 1).to_string();
        // 项目负责人 | (blank) beside a caption on a blank template is the next caption.
        let (_, _, _, end) = self.cells.region(r, c + 1);
        let footer_caption = !self.own
            && text.trim().chars().count() <= 8
            && FOOTER.iter().any(|w| norm(&text).contains(w))
            && self.blank_box_right(r, end);
        if self.is_label(&text) || fill_in(&text) || footer_caption {
            return String::new();
        }
        self.take(r, c + 1)
    }

    /// Whether the region right of column `c` in row `r` is a blank box: empty,
    /// starting in this row, and merged or followed by more of the row's text.
    fn blank_box_right(&self, r: u32, c: u32) -> bool {
        let (a, _, _, d) = self.cells.region(r, c + 1);
        a == r
            && c + 1 < self.cells.cols()
            && self.cells.at(r, c + 1).trim().is_empty()
            && (self.cells.merged.contains_key(&(r, c + 1))
                || (d + 1..self.cells.cols()).any(|x| !self.cells.at(r, x).trim().is_empty()))
    }

    pub(super) fn scalar(&self, spec: &Field, text: String) -> Y {
        match spec.ty {
            FieldType::Integer if text.trim().parse::<i64>().is_ok() => Y::Bare(text.trim().to_string()),
            FieldType::Bool if text == "是" => Y::Bare("true".into()),
            FieldType::Bool if text == "否" => Y::Bare("false".into()),
            _ => Y::Text(text),
        }
    }

    fn record(&mut self, spec: &Field, path: &str, area: Area) -> Y {
        let fields = match spec.ty {
            FieldType::Signature => crate::form::kind::signature_fields().clone(),
            _ => spec.fields.clone().unwrap_or_default(),
        };
        let mut out = match self.halves(&fields, path, area) {
            Some(out) => out,
            None => {
                let mut out = vec![];
                for (k, f) in &fields {
                    if let Some(v) = self.field(area, &format!("{path}.{k}"), f) {
                        out.push((k.clone(), v));
                    }
                }
                out
            }
        };
        // A required part every cell of which is blank (年度 of a blank 项目资金) is
        // there, blank, as the sheet shows it: `year: {}`.
        for (k, f) in &fields {
            if f.required && f.ty == FieldType::Record && !out.iter().any(|(key, _)| key == k) {
                out.push((k.clone(), Y::Bare("{}".into())));
            }
        }
        Y::Map(out)
    }

    /// How many of a record's fields have their caption in `area` (a half is
    /// told by its lines, not by one caption that both halves may print).
    fn fields_in(&self, area: Area, spec: &Field, path: &str) -> usize {
        spec.fields
            .iter()
            .flatten()
            .filter(|(k, f)| self.find(area, &self.labels_of(&format!("{path}.{k}"), &names(f))).is_some())
            .count()
    }

    /// A caption and its value in one cell (资金总额: 250, 一、预算资金:250):
    /// the value, the cell taken.
    fn in_one_cell(&mut self, area: Area, labels: &[String], path: &str, spec: &Field) -> Option<String> {
        if self.own {
            return None;
        }
        let (r, c, value) = self.cells.text.range((area.r0, 0)..=(area.r1, u32::MAX)).find_map(|(&(r, c), text)| {
            let (label, value) = text.split_once([':', '：'])?;
            let fits = c >= area.c0 && c <= area.c1 && !self.used.contains(&(r, c)) && self.cells.region(r, c).0 == r;
            (fits && labels.contains(&caption(label)) && !value.trim().is_empty())
                .then(|| (r, c, value.trim().to_string()))
        })?;
        self.used.insert((r, c));
        let shown = self.cells.at(r, c);
        let label = &shown[..shown.len() - shown.split_once([':', '：']).map_or(0, |(_, v)| v.len())];
        if !self.captions.iter().any(|(k, _)| k == path) && norm(label) != norm(&spec.label) {
            self.captions.push((path.to_string(), label.trim().to_string()));
        }
        Some(value)
    }

    /// Halves of a record (中期 | 年度 money) whose own captions the sheet does
    /// not print: the last half (the one a form without halves has) is found
    /// by a caption only it has (当年资金总额); the half before it takes the
    /// columns to its left, or else the rows above it, when its captions are
    /// there. Without such a caption the whole area is the last half's.
    fn halves(
        &mut self,
        fields: &indexmap::IndexMap<String, Field>,
        path: &str,
        area: Area,
    ) -> Option<Vec<(String, Y)>> {
        let subs: Vec<(&String, &Field)> = fields.iter().collect();
        let keys = |f: &Field| f.fields.as_ref().map(|x| x.keys().cloned().collect::<Vec<_>>());
        let alike = subs.len() == 2
            && subs.iter().all(|(_, f)| {
                f.ty == FieldType::Record && sheet::table_columns(f).is_none() && keys(f) == keys(subs[0].1)
            });
        if self.own || !alike {
            return None;
        }
        let captions = |w: &Self, k: &str, f: &Field| -> Vec<String> {
            f.fields
                .iter()
                .flatten()
                .flat_map(|(fk, ff)| w.labels_of(&format!("{path}.{k}.{fk}"), &names(ff)))
                .collect()
        };
        if subs.iter().any(|(k, f)| self.find(area, &self.labels_of(&format!("{path}.{k}"), &names(f))).is_some()) {
            return None; // the halves print their own captions (中期 | 年度)
        }
        let (first, last) = (subs[0], subs[1]);
        let before = captions(self, first.0, first.1);
        let own: Vec<String> = captions(self, last.0, last.1).into_iter().filter(|l| !before.contains(l)).collect();
        let mut parts = vec![(last, area)];
        if let Some((ar, ac, _, _)) = self.find(area, &own) {
            let left = Area { c1: ac.saturating_sub(1), ..area };
            let above = Area { r1: ar.saturating_sub(1), ..area };
            if ac > area.c0 && self.fields_in(left, first.1, &format!("{path}.{}", first.0)) >= 2 {
                parts = vec![(first, left), (last, Area { c0: ac, ..area })];
            } else if ar > area.r0 && self.fields_in(above, first.1, &format!("{path}.{}", first.0)) >= 2 {
                parts = vec![(first, above), (last, Area { r0: ar, ..area })];
            }
        }
        if parts.len() == 1 {
            self.seen.not_on_sheet.push(format!("{path}.{}", first.0)); // a form without its 中期 money
        }
        let mut out = vec![];
        for ((k, f), part) in parts {
            let p = format!("{path}.{k}");
            if let Y::Map(m) = self.record(f, &p, part)
                && !m.is_empty()
            {
                out.push((k.clone(), Y::Map(m)));
            }
        }
        out.sort_by_key(|(k, _)| subs.iter().position(|(s, _)| *s == k));
        Some(out)
    }

    /// A record of like records laid out as a table: the header row maps
    /// columns to fields; each sub-record is the row its label starts.
    fn table_record(
        &mut self,
        spec: &Field,
        path: &str,
        columns: &indexmap::IndexMap<String, Field>,
        area: Area,
    ) -> Option<Y> {
        let mut header: Option<(u32, Vec<(u32, String)>)> = None;
        for r in area.r0..=area.r1 {
            let mut cols = vec![];
            for c in area.c0..self.cells.cols() {
                if self.cells.region(r, c).1 != c {
                    continue;
                }
                let text = self.key(self.cells.at(r, c));
                if let Some((k, _)) =
                    columns.iter().find(|(k, f)| self.labels_of(&format!("{path}.{k}"), &names(f)).contains(&text))
                {
                    cols.push((c, k.clone()));
                }
            }
            if cols.len() > header.as_ref().map_or(0, |h| h.1.len()) {
                header = Some((r, cols));
            }
        }
        let (hr, cols) = header?;
        for (c, k) in &cols {
            self.take(hr, *c);
            // The columns' captions are one for all the lines (option labels `funds.budget`).
            self.caption_seen(&format!("{path}.{k}"), &columns[k].label, hr, *c);
        }
        let rows = Area { r0: hr + 1, ..area };
        let mut out = vec![];
        let mut lines = vec![];
        for (sub, f) in spec.fields.iter().flatten() {
            let labels = self.labels_of(&format!("{path}.{sub}"), &names(f));
            let Some((r, c, _, _)) = self.find(rows, &labels) else { continue };
            self.used.insert((r, c));
            self.caption_seen(&format!("{path}.{sub}"), &f.label, r, c);
            let mut record = vec![];
            for (col, k) in &cols {
                let text = self.take(r, *col);
                if !text.is_empty() {
                    record.push((k.clone(), self.scalar(&columns[k], text)));
                }
            }
            lines.push((sub.clone(), record.is_empty()));
            out.push((sub.clone(), Y::Map(record)));
        }
        if !self.own {
            let mut order: Vec<(u32, String)> = cols;
            order.sort();
            let columns = order.into_iter().map(|(_, k)| k).collect();
            self.seen.money = Some(MoneySeen { path: path.to_string(), columns, lines });
        }
        Some(Y::Map(out))
    }

    /// A list of texts: one item per row right of its merged label, numbering taken off.
    fn items(&mut self, spec: &Field, area: Area) -> Option<Y> {
        let mut out = vec![];
        let mut seen = HashSet::new();
        for r in area.r0..=area.r1 {
            let region = self.cells.region(r, area.c0);
            if !seen.insert(region) {
                continue;
            }
            let (a, b, _, _) = region;
            if area.c0 > area.c1 || self.used.contains(&(a, b)) || self.is_label(self.cells.at(r, area.c0)) {
                continue; // the next caption of a header row (中期目标 | 年度目标), not an item
            }
            let text = self.take(r, area.c0);
            if text.trim().is_empty() {
                continue;
            }
            let text = self.item_text(spec, text, out.len() + 1);
            out.push(Y::Text(text));
        }
        (!out.is_empty()).then_some(Y::List(out))
    }

    /// An item's text: the sheet numbers the items (目标1：…) unless the form says it does not.
    fn item_text(&mut self, spec: &Field, text: String, n: usize) -> String {
        let numbered = self.options.get("number_goals").and_then(|v| v.as_bool()).unwrap_or(true);
        match &spec.item_label {
            Some(l) if numbered => {
                let stripped = strip_number(&text, l, n);
                // A bureau's sheet that does not number its goals: the PDF does not either.
                self.unnumbered |= !self.own && stripped == text;
                stripped
            }
            _ => text,
        }
    }

    /// A list of records: a header row of the record's labels, then one row per item.
    fn table(&mut self, item: &Field, path: &str, area: Area) -> Option<Y> {
        let fields = item.fields.clone().unwrap_or_default();
        // The header: the row (within the label's rows) that shows most of the record's labels.
        let mut header: Option<(u32, Vec<(u32, String)>)> = None;
        for r in area.r0..=area.r1 {
            let mut cols = vec![];
            for c in area.c0..self.cells.cols() {
                let region = self.cells.region(r, c);
                if region.1 != c {
                    continue;
                }
                let text = self.key(self.cells.at(r, c));
                if let Some((k, _)) =
                    fields.iter().find(|(k, f)| self.labels_of(&format!("{path}.{k}"), &names(f)).contains(&text))
                {
                    cols.push((c, k.clone()));
                }
            }
            if !cols.is_empty() && header.as_ref().is_none_or(|(_, h)| cols.len() > h.len()) {
                header = Some((r, cols));
            }
        }
        let (hr, cols) = header?;
        for (c, _) in &cols {
            self.take(hr, *c);
        }
        let head_end = cols.iter().map(|(c, _)| self.cells.region(hr, *c).2).max().unwrap_or(hr);
        // Rows up to the end of the label's merge; a single-row label runs on while rows have values.
        let last = if area.r1 > head_end { area.r1 } else { self.cells.rows().saturating_sub(1) };
        let mut out = vec![];
        for r in head_end + 1..=last {
            if area.r1 <= head_end && (area.c0 > 0 && !self.cells.at(r, area.c0 - 1).is_empty()) {
                break; // a new label in the label column: the list has ended
            }
            let mut row = vec![];
            for (c, k) in &cols {
                let spec = &fields[k];
                let region = self.cells.region(r, *c);
                if region.0 != r {
                    continue;
                }
                let text = self.take(r, *c);
                if !text.is_empty() {
                    row.push((k.clone(), self.scalar(spec, text)));
                }
            }
            if row.is_empty() && area.r1 <= head_end {
                break;
            }
            // Within the label's merge every row is an item, a blank one too.
            out.push(Y::Map(row));
        }
        (!out.is_empty()).then_some(Y::List(out))
    }
}

/// A caption of a line to fill in (承担单位:(盖章), 项目名称:), never a value.
fn fill_in(text: &str) -> bool {
    let t = norm(text);
    let t = t.strip_suffix("（盖章）").unwrap_or(&t);
    text.trim_end().ends_with([':', '：']) || t.ends_with('：') && t.chars().count() <= 12
}

/// Text that can be an amount: it has a digit, or no words at all (`—`, `/`).
fn amount_like(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit()) || !has_words(text)
}

/// Text with Chinese words in it (a caption may be; a number or `/` is not).
fn has_words(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}
