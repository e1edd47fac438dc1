//! The indicator table on a bureau's sheet (or formpress's own): its header
//! row maps columns to keys, its rows become groups by the merged 一级 and 二级
//! cells, and what the sheet shows of it (captions, blank columns, a half per
//! block label) is noted for the form's options.

use std::collections::{HashMap, HashSet};

use super::emit::Y;
use super::labels::{bracketed, caption, norm};
use super::place::{Area, FOOTER, Walk, names};
use crate::form::kind::Field;

impl Walk<'_> {
    /// The caption of a bureau's indicator table, outside its column heads: a
    /// line over the header (绩效项目指标表), or the block label merged down the
    /// first column from the header row (绩 效 指 标, a long 绩效指标（权重…）).
    fn table_captions(&mut self, spec: &Field, hr: u32, cols: &[(u32, String)]) {
        let block = spec.block.as_deref().unwrap_or(&spec.label);
        let heads: HashSet<u32> = cols.iter().map(|(c, _)| *c).collect();
        let last = cols.iter().map(|(c, _)| *c).max().unwrap_or(0);
        let mut found = None;
        if hr > 0 {
            let (a, b, _, d) = self.cells.region(hr - 1, 0);
            let text = self.cells.at(hr - 1, 0);
            if (a, b) == (hr - 1, 0) && d >= last && text.contains("指标") && !self.used.contains(&(a, b)) {
                found = Some((a, b));
            }
        }
        for c in 0..self.cells.cols() {
            let (a, b, e, _) = self.cells.region(hr, c);
            let text = self.cells.at(hr, c);
            if (a, b) == (hr, c) && !heads.contains(&c) && e > hr && text.contains("指") && !self.used.contains(&(a, b))
            {
                found = Some((a, b));
            }
        }
        if let Some((a, b)) = found {
            self.take(a, b);
            self.caption_seen("indicators", block, a, b);
        }
    }

    /// A row that prints the table's column header again (two or more of its captions).
    fn repeats_header(&self, r: u32, hr: u32, cols: &[(u32, String)]) -> bool {
        let again = |c: u32| {
            let t = self.cells.at(r, c);
            !t.trim().is_empty() && self.key(t) == self.key(self.cells.at(hr, c))
        };
        cols.iter().filter(|(c, _)| again(*c)).count() >= 2
    }

    /// A row that prints only the form's title (again, at the top of a printed page).
    fn is_title_row(&self, r: u32) -> bool {
        let Some(title) = &self.title else { return false };
        let texts: Vec<&str> =
            (0..self.cells.cols()).map(|c| self.cells.at(r, c)).filter(|t| !t.trim().is_empty()).collect();
        !texts.is_empty() && texts.iter().all(|t| norm(t) == norm(title))
    }

    /// The half a row's block label names (长期绩效指标 → 中期, 年度绩效指标 → 年度), in
    /// the columns left of the table; the 年度 half first, as 项目年度… names both.
    fn half_named_left(&mut self, r: u32, first_col: u32, spec: &Field) -> Option<usize> {
        for c in 0..first_col {
            let t = norm(self.cells.at(r, c));
            if t.is_empty() {
                continue;
            }
            let named =
                |s: &crate::form::kind::Side| std::iter::once(&s.label).chain(&s.aka).any(|n| t.contains(&norm(n)));
            if let Some(h) = (0..spec.sides.len()).rev().find(|&h| named(&spec.sides[h])) {
                let (a, b, _, _) = self.cells.region(r, c);
                self.used.insert((a, b));
                return Some(h);
            }
        }
        None
    }

    /// 指标性质 and 指标方向 hold each other's values on some sheets (乌海: 指标性质 正向,
    /// 指标方向 =): a column of 正向/反向 is the direction, one of ≥/=/定量 the comparator,
    /// whatever its caption says (the caption is kept: option `labels`). Nothing changes
    /// when the values fit their captions or renaming would give two columns one key.
    fn by_content(&self, cols: Vec<(u32, String)>, rows: &[u32]) -> Vec<(u32, String)> {
        let all = |c: u32, fits: fn(&str) -> bool| {
            let mut values = rows.iter().map(|&r| norm(self.cells.at(r, c))).filter(|t| !t.is_empty()).peekable();
            values.peek().is_some() && values.all(|t| fits(&t))
        };
        let renamed: Vec<(u32, String)> = cols
            .iter()
            .map(|(c, k)| {
                let (side, field) = k.rsplit_once('.').map_or(("", k.as_str()), |(s, f)| (s, f));
                let to = match field {
                    "nature" if all(*c, is_direction) => "direction",
                    "direction" if all(*c, is_comparator) => "nature",
                    _ => return (*c, k.clone()),
                };
                (*c, if side.is_empty() { to.to_string() } else { format!("{side}.{to}") })
            })
            .collect();
        let keys: HashSet<&String> = renamed.iter().map(|(_, k)| k).collect();
        if keys.len() == renamed.len() { renamed } else { cols }
    }

    /// The indicator table's header row in `area`: the row that names most of
    /// its columns, with each column's key (`year.name` where a half is named).
    pub(super) fn table_header(&self, spec: &Field, area: Area) -> Option<(u32, Vec<(u32, String)>)> {
        let mut wanted: Vec<(String, Vec<String>)> = vec![];
        for (l, level) in spec.levels.iter().enumerate() {
            wanted.push((format!("level{l}"), self.labels_of(&format!("level{l}"), &[&level.label])));
        }
        for (k, f) in spec.row.iter().flatten() {
            wanted.push((k.clone(), self.labels_of(k, &names(f))));
        }
        // A column the form says it does not have (option `absent`) is not looked for: its
        // caption may be another column's (广西's 二级指标 column holds the indicators).
        let absent: Vec<String> = self
            .options
            .get("absent")
            .and_then(|a| a.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        wanted.retain(|(k, _)| !absent.contains(k));
        // A half's own caption (option labels `mid.level1: 二级指标(长期)`) names that half's column.
        let own_labels = self.options.get("labels").and_then(|l| l.as_object());
        for (k, label) in own_labels.into_iter().flatten() {
            if let (Some((side, _)), Some(label)) = (k.split_once('.'), label.as_str())
                && spec.sides.iter().any(|s| s.key == side)
            {
                wanted.insert(0, (k.clone(), vec![self.key(label)]));
            }
        }
        // The header row: the one that names most columns.
        let mut best: Option<(u32, Vec<(u32, String)>)> = None;
        for r in area.r0..=area.r1 {
            let mut cols = vec![];
            for c in 0..self.cells.cols() {
                let n = self.key(self.cells.at(r, c));
                if let Some((k, _)) = wanted.iter().find(|(_, ls)| ls.contains(&n)) {
                    let side = spec.sides.iter().find(|s| {
                        r > 0
                            && self.cells.region(r - 1, c) != self.cells.region(r, c)
                            && norm(self.cells.at(r - 1, c)).starts_with(&norm(&s.label))
                    });
                    let side = side.or_else(|| side_named(spec, self.cells.at(r, c)));
                    let key = match side {
                        Some(s) if k != "level0" && !k.contains('.') => format!("{}.{k}", s.key),
                        _ => k.clone(),
                    };
                    if !cols.iter().any(|(_, x)| *x == key) {
                        cols.push((c, key));
                    }
                }
            }
            if cols.len() >= 2 && best.as_ref().is_none_or(|(_, b)| cols.len() > b.len()) {
                best = Some((r, cols));
            }
        }
        best
    }

    /// The indicator table: its header row maps columns to keys; merged 一级
    /// and 二级 cells make the groups; merged 指标解释 cells are left out below
    /// their first row (they share the cell above).
    pub(super) fn indicators(&mut self, path: &str, spec: &Field, area: Area) -> Option<Y> {
        let row_fields = spec.row.clone().unwrap_or_default();
        let side_named = |text: &str| side_named(spec, text);
        let (hr, mut cols) = self.table_header(spec, area)?;
        // Halves the header does not name: the table is the last half's (a 年度 table without 中期).
        let mut unnamed_halves = false;
        if let Some(last) = spec.sides.last()
            && !self.own
            && !cols.iter().any(|(_, k)| k.contains('.'))
        {
            unnamed_halves = true;
            for (_, k) in cols.iter_mut().filter(|(_, k)| k != "level0") {
                *k = format!("{}.{k}", last.key);
            }
        }
        for (c, _) in &cols {
            self.take(hr, *c);
            if hr > 0 && spec.sides.iter().any(|s| norm(self.cells.at(hr - 1, *c)).starts_with(&norm(&s.label))) {
                self.take(hr - 1, *c);
            }
        }
        if let Some(block) = &spec.block {
            // The block label as the form prints it (option `labels`).
            let block = self.labels_of(path, &[block.as_str()]);
            for c in 0..self.cells.cols() {
                if block.contains(&self.key(self.cells.at(hr, c))) {
                    self.take(hr, c);
                }
            }
        }
        if !self.own {
            self.table_captions(spec, hr, &cols);
        }
        let first = cols.iter().map(|(c, _)| self.cells.region(hr, *c).2).max().unwrap_or(hr) + 1;
        let sides: Vec<String> = if spec.sides.is_empty() {
            vec![String::new()]
        } else {
            spec.sides.iter().map(|s| format!("{}.", s.key)).collect()
        };
        let col_of = |key: &str| cols.iter().find(|(_, k)| k == key).map(|(c, _)| *c);
        let level0 = col_of("level0");
        // Rows until another field's label, a 总分/合计 row, or the end.
        let mut rows = vec![];
        for r in first..self.cells.rows() {
            let texts: Vec<&str> = cols.iter().map(|(c, _)| self.cells.at(r, *c)).collect();
            // The row's first text: the 一级 column's, or the table's first column's (a row
            // merged across it from the left, 财政主管业务科室审核意见, is a footer line).
            let first = level0.or_else(|| cols.iter().map(|(c, _)| *c).min());
            let lead = first.map(|c| norm(self.cells.at(r, c))).unwrap_or_default();
            // Another field's label (or a cell read already) that starts in this row, outside a
            // 一级 cell merged from above, begins the next part of the form.
            let inside = level0.is_some_and(|c| self.cells.region(r, c).0 < r);
            // The block label merged down beside the rows (绩效指标) is the table's own caption.
            let own_block = |w: &Self, c: u32| {
                let t = caption(w.cells.at(r, c));
                !w.own && [spec.block.as_deref().unwrap_or(&spec.label), &spec.label].iter().any(|b| caption(b) == t)
            };
            let next_part = !inside
                && (0..self.cells.cols()).any(|c| {
                    let (a, b, _, _) = self.cells.region(r, c);
                    (a, b) == (r, c)
                        && !own_block(self, c)
                        && (self.is_label(self.cells.at(r, c)) || self.used.contains(&(a, b)))
                });
            let blocks: Vec<u32> = (0..self.cells.cols()).filter(|&c| !next_part && own_block(self, c)).collect();
            for c in blocks {
                self.take(r, c);
            }
            let total = (0..self.cells.cols())
                .any(|c| ["总分", "合计", "总计"].contains(&caption(self.cells.at(r, c)).as_str()));
            let footer = !self.own && !inside && (lead.starts_with("注") || FOOTER.iter().any(|w| lead.contains(w)));
            let stop = ["总分", "合计", "总计"].contains(&lead.as_str()) || total || footer || next_part;
            if stop {
                break;
            }
            if texts.iter().all(|t| t.is_empty()) {
                continue;
            }
            // A printed page of the sheet begins again (佳县's four pages): its title and the
            // column header repeated are no rows of the table.
            if !self.own && (self.repeats_header(r, hr, &cols) || self.is_title_row(r)) {
                for c in 0..self.cells.cols() {
                    if !self.cells.at(r, c).trim().is_empty() {
                        self.take(r, c);
                    }
                }
                continue;
            }
            rows.push(r);
        }
        let cols = if self.own { cols } else { self.by_content(cols, &rows) };
        for (c, k) in &cols {
            let key = k.rsplit('.').next().unwrap_or(k);
            let label = match key.strip_prefix("level").and_then(|l| l.parse::<usize>().ok()) {
                Some(l) => spec.levels.get(l).map(|level| level.label.clone()),
                None => row_fields.get(key).map(|f| f.label.clone()),
            };
            // A column's own caption (目标值 for 指标值); one that names its half (二级指标（长期）)
            // is that half's caption (`mid.level1`).
            if let Some(label) = label {
                let half = side_named(self.cells.at(hr, *c)).is_some();
                self.caption_seen(if half { k } else { key }, &label, hr, *c);
            }
            if !self.own {
                let blank = rows.iter().all(|&r| self.cells.at(r, *c).trim().is_empty());
                self.seen.columns.push((k.clone(), blank));
            }
        }
        let col_of = |key: &str| cols.iter().find(|(_, k)| k == key).map(|(c, _)| *c);
        let top = cols.iter().map(|(c, _)| self.cells.region(hr, *c).0).min().unwrap_or(hr);
        self.table_rows = Some((top, rows.last().copied().unwrap_or(hr)));
        // A table printed with its columns and no text at all (a blank template, a form
        // cut before its table) is the one blank row of the last half that stands for it.
        let last_row = first >= self.cells.rows();
        if rows.is_empty() && (last_row || cols.iter().all(|(c, _)| self.cells.at(first, *c).is_empty())) {
            for (c, _) in cols.iter().filter(|_| !last_row) {
                let (a, b, _, _) = self.cells.region(first, *c);
                self.used.insert((a, b));
            }
            if let Some(side) = spec.sides.last() {
                return Some(Y::List(vec![Y::Map(vec![(side.key.clone(), Y::List(vec![Y::Map(vec![])]))])]));
            }
        }
        // Build the tree: a new group where the merged region of its column changes.
        let mut tree: Vec<Group> = vec![];
        let sided = !spec.sides.is_empty();
        let mut prev: HashMap<String, (u32, u32, u32, u32)> = HashMap::new();
        // One half's table after the other, each under its own block label (佳县: 长期绩效指标,
        // then 年度绩效指标): a row goes to the half its block label names.
        let first_col = cols.iter().map(|(c, _)| *c).min().unwrap_or(0);
        let row_halves: Vec<Option<usize>> = rows
            .iter()
            .map(|&r| if unnamed_halves { self.half_named_left(r, first_col, spec) } else { None })
            .collect();
        if row_halves.iter().flatten().collect::<HashSet<_>>().len() > 1 {
            self.captions.retain(|(k, _)| k != path); // one block label for the halves side by side
            for (k, _) in &mut self.seen.columns {
                *k = k.rsplit('.').next().unwrap_or(k).to_string(); // both halves have the column
            }
        }
        for (&r, &row_half) in rows.iter().zip(&row_halves) {
            let l0 = level0.map(|c| self.cells.region(r, c));
            let new_top = tree.is_empty() || l0.is_some() && prev.get("level0") != l0.as_ref();
            if new_top {
                let name = level0.map(|c| self.take(r, c));
                tree.push(Group { name, sides: vec![vec![]; sides.len()] });
                prev.clear();
            }
            if let Some(l0) = l0 {
                prev.insert("level0".into(), l0);
            }
            let group = tree.last_mut().expect("pushed");
            for (s, prefix) in sides.iter().enumerate() {
                // The columns the row's cells are in: those of the table's half, unless its block
                // label names another.
                let prefix = match row_half {
                    Some(h) if h + 1 < sides.len() && h != s => continue,
                    Some(h) if h + 1 < sides.len() => sides.last().unwrap_or(prefix),
                    _ => prefix,
                };
                let lvl1 = if sided {
                    format!("{prefix}level1")
                } else if spec.levels.len() > 1 {
                    "level1".into()
                } else {
                    String::new()
                };
                let c1 = col_of(&lvl1);
                // The side has no row here when its whole span is one filler cell.
                let side_cols: Vec<u32> =
                    cols.iter().filter(|(_, k)| sided && k.starts_with(prefix.as_str())).map(|(c, _)| *c).collect();
                if sided && side_cols.is_empty() {
                    continue; // the form has no such half (a 项目 form without 中期)
                }
                if sided
                    && side_cols.first().is_some_and(|&a| {
                        let reg = self.cells.region(r, a);
                        reg.3 >= *side_cols.last().unwrap_or(&a) && reg.3 > reg.1 && self.cells.at(r, a).is_empty()
                    })
                {
                    continue;
                }
                let reg1 = c1.map(|c| self.cells.region(r, c));
                let groups = &mut group.sides[s];
                let new_sub = groups.is_empty() || reg1.is_some() && prev.get(&lvl1) != reg1.as_ref();
                if new_sub && spec.levels.len() > 1 {
                    let name = c1.map(|c| self.cells.at(r, c).to_string());
                    if let Some(c) = c1 {
                        let (a, b, _, _) = self.cells.region(r, c);
                        self.used.insert((a, b));
                    }
                    groups.push(Sub { name, rows: vec![] });
                } else if groups.is_empty() {
                    groups.push(Sub { name: None, rows: vec![] });
                }
                if let Some(reg1) = reg1 {
                    prev.insert(lvl1.clone(), reg1);
                }
                let mut row = vec![];
                for (k, f) in &row_fields {
                    let Some(c) = col_of(&format!("{prefix}{k}")) else { continue };
                    let (a, b, _, _) = self.cells.region(r, c);
                    if a < r {
                        continue; // a cell merged from above: the row shares it (a merge field is left out)
                    }
                    let text = self.cells.at(r, c).to_string();
                    self.used.insert((a, b));
                    if !text.is_empty() {
                        row.push((k.clone(), self.scalar(f, text)));
                    } else if f.merge {
                        row.push((k.clone(), Y::Text(String::new())));
                    }
                }
                // A row of the table is a row of the form, even when every cell is blank.
                groups.last_mut().expect("pushed").rows.push(Y::Map(row));
            }
        }
        if tree.is_empty() {
            return None;
        }
        let flat = level0.is_none() && !cols.iter().any(|(_, k)| k.rsplit('.').next() == Some("level1"));
        if flat {
            let rows: Vec<Y> =
                tree.into_iter().flat_map(|g| g.sides.into_iter().flatten().flat_map(|s| s.rows)).collect();
            return Some(Y::List(rows));
        }
        let out = tree
            .into_iter()
            .map(|g| {
                let mut m = vec![];
                if let Some(name) = g.name {
                    m.push(("name".into(), Y::Text(name)));
                }
                let subs = |subs: Vec<Sub>| -> Vec<Y> {
                    subs.into_iter()
                        .map(|s| {
                            let mut sm = vec![];
                            if let Some(n) = s.name {
                                sm.push(("name".to_string(), Y::Text(n)));
                            }
                            sm.push(("rows".to_string(), Y::List(s.rows)));
                            Y::Map(sm)
                        })
                        .collect()
                };
                if sided {
                    for (side, groups) in spec.sides.iter().zip(g.sides) {
                        let list = subs(groups);
                        if !list.is_empty() {
                            m.push((side.key.clone(), Y::List(list)));
                        }
                    }
                } else if spec.levels.len() > 1 {
                    m.push(("groups".into(), Y::List(subs(g.sides.into_iter().next().unwrap_or_default()))));
                } else {
                    let rows = g.sides.into_iter().flatten().flat_map(|s| s.rows).collect();
                    m.push(("rows".into(), Y::List(rows)));
                }
                Y::Map(m)
            })
            .collect();
        Some(Y::List(out))
    }
}

pub(super) struct Group {
    name: Option<String>,
    sides: Vec<Vec<Sub>>,
}

#[derive(Clone)]
pub(super) struct Sub {
    name: Option<String>,
    rows: Vec<Y>,
}

/// The half a caption names in its brackets (二级指标（长期）).
fn side_named<'s>(spec: &'s Field, text: &str) -> Option<&'s crate::form::kind::Side> {
    let b = bracketed(text)?;
    spec.sides.iter().find(|s| s.label == b || s.aka.contains(&b))
}

/// A 指标方向 value: 正向 or 反向 (指标).
fn is_direction(text: &str) -> bool {
    matches!(text.trim_end_matches("指标"), "正向" | "反向")
}

/// A 指标性质 value: a comparator (≥, ＝, ≤ …) or 定量/定性.
fn is_comparator(text: &str) -> bool {
    matches!(text, "定量" | "定性" | "大于等于" | "小于等于" | "等于" | "大于" | "小于")
        || !text.is_empty() && text.chars().all(|c| "≥≤=＝═><≧≦＞＜≈".contains(c))
}
