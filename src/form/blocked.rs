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

/// What the check works on: the kind, the numeric view (unreadable cells
/// none), the data as typed (a value the user typed is printed as typed and
/// is never blocked), the unreadable cells and the options.
pub struct Inputs<'a> {
    pub env: &'a Environment<'a>,
    pub kind: &'a Kind,
    pub view: &'a Json,
    pub typed: &'a Json,
    pub cells: &'a [Unreadable],
    pub options: &'a Map<String, Json>,
}

impl Inputs<'_> {
    /// The computed values, with the cells of `set` given the number `probe` if any.
    fn computed(&self, set: &[usize], probe: Option<f64>) -> Json {
        let mut data = self.view.clone();
        if let Some(probe) = probe {
            for &i in set {
                if let Some(v) = data.pointer_mut(&self.cells[i].pointer) {
                    *v = Json::from(probe);
                }
            }
        }
        rules::compute(self.env, self.kind, &mut data, self.options);
        data
    }

    fn all(&self) -> Vec<usize> {
        (0..self.cells.len()).collect()
    }
}

/// Computes the kind's values and checks its rules: every computed value an
/// unreadable cell feeds is left blank, each such cell that feeds a printed
/// value is an error naming it, and rule findings that depend on such a
/// cell are dropped. Returns the computed data and the findings.
pub fn check(inputs: &Inputs, root: &Node) -> (Json, Vec<Finding>) {
    let (data, mut findings) = compute(inputs);
    let (env, kind, options) = (inputs.env, inputs.kind, inputs.options);
    let mut found = rules::check(env, kind, &data, options, root);
    if !inputs.cells.is_empty() {
        // Only what holds whatever the cells' values are is about the form.
        for probe in PROBES {
            let other = rules::check(env, kind, &inputs.computed(&inputs.all(), Some(probe)), options, root);
            found.retain(|f| {
                other.iter().any(|o| (&o.yaml_path, &o.message, o.severity) == (&f.yaml_path, &f.message, f.severity))
            });
        }
    }
    findings.extend(found);
    (data, findings)
}

/// The computed values (see `check`) and the errors of the cells that block printed ones.
fn compute(inputs: &Inputs) -> (Json, Vec<Finding>) {
    let mut base = inputs.computed(&[], None);
    if inputs.cells.is_empty() {
        return (base, vec![]);
    }
    let all = inputs.all();
    let full = PROBES.map(|probe| inputs.computed(&all, Some(probe)));
    let mut trial = Trial { inputs, full, spent: 0 };
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
    let unit = inputs.options.get("unit").and_then(Json::as_str).unwrap_or("万元");
    let findings = found
        .into_iter()
        .map(|(i, what)| {
            let cell = &inputs.cells[i];
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
    inputs: &'a Inputs<'a>,
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
        let others: Vec<usize> = self.inputs.all().into_iter().filter(|i| !set.contains(i)).collect();
        for (probe, full) in PROBES.iter().zip(&self.full) {
            let data = self.inputs.computed(&others, Some(*probe));
            self.spent += 1;
            // A value inside another (执行率 inside 年度资金总额) goes by its own label, and
            // a value set twice (every line's 执行率, then the total's) by the printed one.
            let mut targets = targets(self.inputs.kind, full);
            targets.sort_by_key(|(pointer, label, _)| (std::cmp::Reverse(pointer.len()), label.is_none()));
            for (pointer, label, order) in targets {
                for leaf in differing(&pointer, full.pointer(&pointer), data.pointer(&pointer)) {
                    let typed = self.inputs.typed.pointer(&leaf).is_some_and(|t| !t.is_null());
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
