//! The shape of a bureau's sheet carried into the form's options, so that the
//! PDF prints the form as the sheet shows it: the indicator and money columns
//! in the sheet's order (`order`), the columns and money lines it prints blank
//! (`show`), and the kind's cells and columns it does not have (`absent`).

use serde_json::{Map, Value};

use super::place::{MoneySeen, Seen};
use crate::form::kind::{ColumnMode, Field, FieldType, Kind};

/// Adds `order`, `show` and `absent` entries for what `seen` found (options the sheet set already win).
pub(super) fn into_options(kind: &Kind, seen: &Seen, options: &mut Map<String, Value>) {
    let (mut order, mut show, mut absent) = (vec![], vec![], vec![]);
    if let Some(table) = kind.manifest.fields.values().find(|f| f.ty == FieldType::Indicators)
        && !seen.columns.is_empty()
    {
        indicator_columns(table, &seen.columns, &mut order, &mut show, &mut absent);
    }
    if let Some(MoneySeen { path, columns: cols, lines }) = &seen.money {
        // The money columns in the order the kind prints them: its captions (`funds.initial` …).
        let prefix = format!("{path}.");
        let by_kind: Vec<&str> = kind.manifest.captions.keys().filter_map(|k| k.strip_prefix(&prefix)).collect();
        let listed: Vec<&str> = cols.iter().map(String::as_str).filter(|c| by_kind.contains(c)).collect();
        let mut sorted = listed.clone();
        sorted.sort_by_key(|c| by_kind.iter().position(|m| m == c));
        if listed != sorted {
            order.extend(listed.iter().map(|c| format!("{prefix}{c}")));
        }
        absent.extend(by_kind.iter().filter(|c| !cols.iter().any(|x| x == *c)).map(|c| format!("{prefix}{c}")));
        show.extend(lines.iter().filter(|(l, blank)| *blank && l != "total").map(|(l, _)| format!("{path}.{l}")));
    }
    absent.extend(seen.not_on_sheet.iter().filter(|k| printed_cell(kind, k)).cloned());
    show.extend(seen.blank.iter().cloned());
    for (name, list) in [("order", order), ("show", show), ("absent", absent)] {
        if !list.is_empty() {
            options.entry(name).or_insert_with(|| Value::Array(list.into_iter().map(Value::String).collect()));
        }
    }
}

/// The indicator columns: their order when it is not the kind's, those printed
/// blank, and the kind's columns the sheet does not have that would print.
fn indicator_columns(
    table: &Field,
    columns: &[(String, bool)],
    order: &mut Vec<String>,
    show: &mut Vec<String>,
    absent: &mut Vec<String>,
) {
    let row = table.row.clone().unwrap_or_default();
    let shared = |k: &String| k.rsplit_once('.').map_or(k.clone(), |(_, c)| c.to_string());
    let mut kinds_order: Vec<String> = (0..table.levels.len()).map(|l| format!("level{l}")).collect();
    kinds_order.extend(row.keys().cloned());
    let rank = |k: &str| kinds_order.iter().position(|x| x == k);
    let mut listed: Vec<String> = vec![];
    for k in columns.iter().map(|(k, _)| shared(k)).filter(|k| rank(k).is_some()) {
        if !listed.contains(&k) {
            listed.push(k);
        }
    }
    let mut sorted = listed.clone();
    sorted.sort_by_key(|k| rank(k));
    if listed != sorted {
        order.extend(listed);
    }
    show.extend(columns.iter().filter(|(k, blank)| *blank && row.contains_key(&shared(k))).map(|(k, _)| k.clone()));
    let has = |k: &str| columns.iter().any(|(c, _)| shared(c) == k);
    absent.extend(
        row.iter()
            .filter(|(k, f)| !has(k) && (f.required || f.column == ColumnMode::Always || f.example.is_some()))
            .map(|(k, _)| k.clone()),
    );
}

/// A cell the kind prints in its header whatever it holds (`absent` leaves it
/// out), or a half of its money (`funds.mid`).
fn printed_cell(kind: &Kind, key: &str) -> bool {
    if let Some((record, half)) = key.split_once('.') {
        let f = kind.manifest.fields.get(record);
        return f.and_then(|f| f.fields.as_ref()).is_some_and(|h| h.contains_key(half));
    }
    !["year", "title"].contains(&key)
        && kind
            .manifest
            .fields
            .get(key)
            .is_some_and(|f| matches!(f.ty, FieldType::Text | FieldType::Choice | FieldType::Money | FieldType::Date))
}

/// Options that choose the rules the names are checked by, not what is printed
/// (`indicator_set`: 88号 or 101号): a sheet follows one of them without saying so.
const RULE_SETS: [&str; 1] = ["indicator_set"];

/// Sets each rule-set option the sheet did not set to the choice under which
/// the imported form raises the fewest findings (the kind's default on a tie),
/// so that a 2021 sheet with 成本指标 under 产出指标 is checked by 88号.
pub(super) fn fitting_rule_sets(
    engine: &crate::layout::Engine,
    kind: &Kind,
    options: &mut Map<String, Value>,
    yaml: impl Fn(&Map<String, Value>) -> String,
) {
    for name in RULE_SETS {
        let Some(spec) = kind.manifest.options.get(name) else { continue };
        if options.contains_key(name) {
            continue;
        }
        let findings = |choice: &str| {
            let mut tried = options.clone();
            tried.insert(name.to_string(), Value::String(choice.to_string()));
            let form = engine.check("imported.yaml", yaml(&tried).as_bytes());
            (form.errors(), form.warnings())
        };
        let default = spec.default.as_str().unwrap_or_default();
        let mut best = (findings(default), default);
        for choice in spec.choices.iter().filter(|c| *c != default) {
            let f = findings(choice);
            if f < best.0 {
                best = (f, choice);
            }
        }
        if best.1 != default {
            options.insert(name.to_string(), Value::String(best.1.to_string()));
        }
    }
}
