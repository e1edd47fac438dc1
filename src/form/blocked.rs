//! Values the form prints are never computed from a cell that cannot be read.
//!
//! A money or number cell holding words (`四百五十`), an amount in a unit that
//! does not convert (`300美元`) or free text (`854万(…)`) is none to the rules,
//! so a sum would take it as 0. What it feeds is found by trying it: the
//! kind's computed values are computed again with the cell set to a number,
//! and a value that changes depends on it. Such a value is left blank (none to
//! the rules and the page); when the form prints it (`label:` in the manifest:
//! 年度资金总额, 执行率, 总分 …) the cell is an error that names it. A cell
//! that feeds nothing printed (free text beside a typed total) is no finding,
//! and a rule finding that would change with the cell's value is dropped: it
//! would be about a number nobody wrote.

use minijinja::Environment;
use serde_json::{Map, Value as Json};

use crate::form::findings::{Class, Finding};
use crate::form::kind::Kind;
use crate::form::rules::{self, Seg};
use crate::form::schema::Unreadable;
use crate::form::yaml::Node;

/// Numbers an unreadable cell is tried with; two, so that no value is
/// unchanged by chance (a clamp, a comparison).
const PROBES: [f64; 2] = [0.123457, 98765.4321];

/// Most trial computations spent on telling which cell blocks what (a form
/// with hundreds of 得分 in words would otherwise take seconds per cell).
const BUDGET: usize = 16;

/// Computes the kind's values on `view` (the numeric view, unreadable cells
/// none) and checks its rules: every computed value an unreadable cell feeds
/// is left blank, each such cell that feeds a printed value is an error
/// naming it, and rule findings that depend on such a cell are dropped.
/// `typed` is the data as typed: a value the user typed is printed as typed
/// and is never blocked. Returns the computed data and the findings.
pub fn check(
    env: &Environment,
    kind: &Kind,
    view: &Json,
    typed: &Json,
    cells: &[Unreadable],
    options: &Map<String, Json>,
    root: &Node,
) -> (Json, Vec<Finding>) {
    let (data, mut findings) = compute(env, kind, view, typed, cells, options);
    let mut found = rules::check(env, kind, &data, options, root);
    if !cells.is_empty() {
        // Only what holds whatever the cells' values are is about the form.
        for probe in PROBES {
            let mut other = probed(view, cells, (0..cells.len()).collect::<Vec<_>>().as_slice(), probe);
            rules::compute(env, kind, &mut other, options);
            let other = rules::check(env, kind, &other, options, root);
            found.retain(|f| {
                other.iter().any(|o| (&o.yaml_path, &o.message, o.severity) == (&f.yaml_path, &f.message, f.severity))
            });
        }
    }
    findings.extend(found);
    (data, findings)
}

/// `view` with the cells of `set` given the number `probe`.
fn probed(view: &Json, cells: &[Unreadable], set: &[usize], probe: f64) -> Json {
    let mut data = view.clone();
    for &i in set {
        if let Some(v) = data.pointer_mut(&cells[i].pointer) {
            *v = Json::from(probe);
        }
    }
    data
}

/// The computed values (see `check`) and the errors of the cells that block printed ones.
fn compute(
    env: &Environment,
    kind: &Kind,
    view: &Json,
    typed: &Json,
    cells: &[Unreadable],
    options: &Map<String, Json>,
) -> (Json, Vec<Finding>) {
    let mut base = view.clone();
    rules::compute(env, kind, &mut base, options);
    if cells.is_empty() {
        return (base, vec![]);
    }
    let all: Vec<usize> = (0..cells.len()).collect();
    let full = PROBES.map(|probe| {
        let mut data = probed(view, cells, &all, probe);
        rules::compute(env, kind, &mut data, options);
        data
    });
    let mut trial = Trial { env, kind, view, typed, cells, options, full, spent: 0 };
    // What the cells feed: what changes between none of them read and all of them.
    let blocked = trial.changed(&all);
    let mut found = vec![];
    if !labels(&blocked).is_empty() {
        if all.len() == 1 {
            found.push((0, labels(&blocked)));
        } else {
            trial.culprits(&all, &mut found);
        }
    }
    let unit = options.get("unit").and_then(Json::as_str).unwrap_or("万元");
    let findings = found
        .into_iter()
        .map(|(i, what)| {
            let cell = &cells[i];
            let message = format!("{}，{}无法计算", cell.reason(unit), what.join("、"));
            Finding::error(Class::Rule, Some(cell.loc), &cell.at, message)
        })
        .collect();
    for (pointer, _, _) in &blocked {
        if let Some(v) = base.pointer_mut(pointer) {
            *v = Json::Null;
        }
    }
    (base, findings)
}

struct Trial<'a> {
    env: &'a Environment<'a>,
    kind: &'a Kind,
    view: &'a Json,
    typed: &'a Json,
    cells: &'a [Unreadable],
    options: &'a Map<String, Json>,
    /// The values computed with every cell given each probe number.
    full: [Json; 2],
    /// Trial computations so far.
    spent: usize,
}

impl Trial<'_> {
    /// The computed values (pointer, label if printed, its computed value's
    /// place in the manifest) that change when the cells of `set` are blank
    /// and every other cell is a number: what `set` feeds.
    fn changed(&mut self, set: &[usize]) -> Vec<(String, Option<String>, usize)> {
        let mut out: Vec<(String, Option<String>, usize)> = vec![];
        let others: Vec<usize> = (0..self.cells.len()).filter(|i| !set.contains(i)).collect();
        for (probe, full) in PROBES.iter().zip(&self.full) {
            let mut data = probed(self.view, self.cells, &others, *probe);
            rules::compute(self.env, self.kind, &mut data, self.options);
            self.spent += 1;
            // A value inside another (执行率 inside 年度资金总额) goes by its own label, and
            // a value set twice (every line's 执行率, then the total's) by the printed one.
            let mut targets = targets(self.kind, full);
            targets.sort_by_key(|(pointer, label, _)| (std::cmp::Reverse(pointer.len()), label.is_none()));
            for (pointer, label, order) in targets {
                for leaf in differing(&pointer, full.pointer(&pointer), data.pointer(&pointer)) {
                    let typed = self.typed.pointer(&leaf).is_some_and(|t| !t.is_null());
                    if !typed && !out.iter().any(|(p, _, _)| *p == leaf) {
                        out.push((leaf, label.clone(), order));
                    }
                }
            }
        }
        out.sort_by_key(|(_, _, order)| *order);
        out
    }

    /// Splits `set` (which blocks something) until each cell that blocks is
    /// found; past the budget, every cell of a group that blocks is named
    /// with what the group blocks.
    fn culprits(&mut self, set: &[usize], out: &mut Vec<(usize, Vec<String>)>) {
        for half in set.chunks(set.len().div_ceil(2)) {
            let blocked = self.changed(half);
            if labels(&blocked).is_empty() {
                continue;
            }
            if half.len() == 1 || self.spent >= BUDGET {
                out.extend(half.iter().map(|&i| (i, labels(&blocked))));
            } else {
                self.culprits(half, out);
            }
        }
    }
}

/// The labels of blocked printed values, each once, in the manifest's order.
fn labels(blocked: &[(String, Option<String>, usize)]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for label in blocked.iter().filter_map(|(_, label, _)| label.as_ref()) {
        if !out.contains(label) {
            out.push(label.clone());
        }
    }
    out
}

/// Where each computed value of the kind sits in `data`, with its label when
/// the form prints it and its place in the manifest.
fn targets(kind: &Kind, data: &Json) -> Vec<(String, Option<String>, usize)> {
    let mut out = vec![];
    for (order, c) in kind.manifest.computed.iter().enumerate() {
        let label = &c.label;
        for path in rules::item_paths(kind, data, c.each.as_deref()) {
            let mut pointer = String::new();
            for seg in &path {
                match seg {
                    Seg::Key(k) => pointer.push_str(&format!("/{k}")),
                    Seg::Index(i) => pointer.push_str(&format!("/{i}")),
                }
            }
            for key in c.set.split('.') {
                pointer.push_str(&format!("/{key}"));
            }
            out.push((pointer, label.clone(), order));
        }
    }
    out
}

/// The leaves under `pointer` where two values differ.
fn differing(pointer: &str, a: Option<&Json>, b: Option<&Json>) -> Vec<String> {
    match (a, b) {
        (Some(Json::Object(x)), Some(Json::Object(y))) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().flat_map(|k| differing(&format!("{pointer}/{k}"), x.get(k), y.get(k))).collect()
        }
        (a, b) if same(a, b) => vec![],
        _ => vec![pointer.to_string()],
    }
}

/// Equal values; none and a missing value are the same.
fn same(a: Option<&Json>, b: Option<&Json>) -> bool {
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    match (a, b) {
        (Some(Json::Number(x)), Some(Json::Number(y))) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
