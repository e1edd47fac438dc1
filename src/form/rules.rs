//! Form rules: declared in a kind's manifest as MiniJinja expressions, checked
//! against the form data after the structural check.
//!
//! ```yaml
//! rules:
//!   - each: tasks                      # once per task; `item` and `n` (1-based) are bound
//!     check: item.fiscal <= item.total
//!     field: fiscal                    # the finding points here
//!     message: "{{ item.name }}：其中财政资金 {{ item.fiscal|money }} 大于合计 {{ item.total|money }}"
//! ```
//!
//! `each` is a dotted path; every list on the way is iterated, so
//! `indicators.groups.rows` visits every indicator row (with `groups` bound to
//! its 一级, 二级 … groups). Expressions also see `form` (all data) and
//! `options`.

use minijinja::value::Serde;
use minijinja::{Environment, Value};
use serde_json::{Map, Value as Json};

use crate::form::findings::{Class, Finding, Place};
use crate::form::kind::{Field, FieldType, Kind, Rule, RuleLevel};
use crate::form::yaml::{Loc, Node, Value as Yaml};

/// One item a rule is checked against: its data, number, ancestors and place.
struct Item<'a> {
    data: &'a Json,
    n: usize,
    groups: Vec<&'a Json>,
    place: Place,
    /// YAML path segments, to find the item's line.
    path: Vec<Seg>,
    /// The item's fields, to name `field` the way the form does.
    fields: Option<&'a indexmap::IndexMap<String, Field>>,
    /// The indicator tree this item is part of.
    tree: Option<&'a Field>,
}

/// A step of a YAML path.
#[derive(Clone)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// Fills in the kind's computed values, in order; a value that cannot be
/// computed (say, a division by zero) becomes none.
pub fn compute(env: &Environment, kind: &Kind, data: &mut Json, options: &Map<String, Json>) {
    for c in &kind.manifest.computed {
        let Ok(expr) = env.compile_expression(&c.value) else { continue };
        let options = Value::from(Serde(options));
        let form = Value::from(Serde(&*data));
        let results: Vec<(Vec<Seg>, Json)> = items(kind, data, c.each.as_deref())
            .into_iter()
            .map(|item| {
                let value = expr.eval(context(&form, &options, &item)).ok().filter(|v| !v.is_undefined());
                let json = value.and_then(|v| serde_json::to_value(&v).ok()).unwrap_or(Json::Null);
                (item.path, json)
            })
            .collect();
        for (path, value) in results {
            let mut target = &mut *data;
            for seg in &path {
                target = match seg {
                    Seg::Key(k) => &mut target[k.as_str()],
                    Seg::Index(i) => &mut target[*i],
                };
            }
            let keys: Vec<&str> = c.set.split('.').collect();
            for key in &keys[..keys.len() - 1] {
                // Indexing a non-object with a key panics; the item is text or a number here.
                if !target.is_object() {
                    break;
                }
                if !target.get(*key).is_some_and(Json::is_object) {
                    target[*key] = Json::Object(Map::new());
                }
                target = &mut target[*key];
            }
            if target.is_object() {
                target[keys[keys.len() - 1]] = value;
            }
        }
    }
}

/// Checks every rule of `kind`; a rule that cannot be evaluated (say, on
/// data with structural errors) is skipped.
pub fn check(env: &Environment, kind: &Kind, data: &Json, options: &Map<String, Json>, root: &Node) -> Vec<Finding> {
    let mut out = vec![];
    let form = Value::from(Serde(data));
    let options = Value::from(Serde(options));
    for rule in &kind.manifest.rules {
        let Ok(check) = env.compile_expression(&rule.check) else { continue };
        let when = rule.when.as_deref().and_then(|w| env.compile_expression(w).ok());
        for item in items(kind, data, rule.each.as_deref()) {
            let ctx = context(&form, &options, &item);
            if let Some(when) = &when {
                match when.eval(ctx.clone()) {
                    Ok(v) if v.is_true() => {}
                    _ => continue,
                }
            }
            let holds = match check.eval(ctx.clone()) {
                Ok(v) => v.is_true(),
                Err(_) => continue,
            };
            if holds {
                continue;
            }
            let message = env.render_str(&rule.message, ctx).unwrap_or_else(|_| rule.message.clone());
            out.push(finding(rule, &item, root, message));
        }
    }
    out
}

/// What an expression sees: the whole form, the options, and the item it is checked on.
fn context(form: &Value, options: &Value, item: &Item) -> Value {
    minijinja::context! {
        form => form.clone(),
        options => options.clone(),
        item => Value::from(Serde(item.data)),
        n => item.n,
        groups => Value::from(item.groups.iter().map(|g| shallow(g)).collect::<Vec<_>>()),
    }
}

/// A group as rules see it in `groups`: its own fields, not the rows below it
/// (converting those for every row would make checking quadratic in rows).
fn shallow(group: &Json) -> Value {
    let own: Map<String, Json> = group
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_array())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::from(Serde(own))
}

fn finding(rule: &Rule, item: &Item, root: &Node, message: String) -> Finding {
    let mut path = item.path.clone();
    let mut place = item.place.clone();
    if let Some(field) = &rule.field {
        let fallback = if field == "name" { "名称" } else { field.as_str() };
        let label = item.fields.and_then(|f| f.get(field)).map_or(fallback, |f| f.label.as_str());
        place = place.key(field, label);
        path.push(Seg::Key(field.clone()));
    }
    let loc = locate(root, &path);
    match rule.level {
        RuleLevel::Error => Finding::error(Class::Rule, loc, &place, message),
        RuleLevel::Warning => Finding::warning(loc, &place, message),
    }
}

/// The paths of the items an `each` path visits in `data`.
pub(crate) fn item_paths(kind: &Kind, data: &Json, each: Option<&str>) -> Vec<Vec<Seg>> {
    items(kind, data, each).into_iter().map(|item| item.path).collect()
}

/// The items a rule's `each` path visits (the whole form when there is none).
fn items<'a>(kind: &'a Kind, data: &'a Json, each: Option<&str>) -> Vec<Item<'a>> {
    let root = Item {
        data,
        n: 1,
        groups: vec![],
        place: Place::root(),
        path: vec![],
        fields: Some(&kind.manifest.fields),
        tree: None,
    };
    let Some(each) = each else { return vec![root] };
    let mut current = vec![root];
    for segment in each.split('.') {
        let mut next = vec![];
        for item in &current {
            // `*` is every list below an indicator group: groups, rows, or the sides.
            let keys: Vec<String> = match (segment, item.tree) {
                ("*", Some(tree)) => ["groups", "rows"]
                    .into_iter()
                    .map(str::to_string)
                    .chain(tree.sides.iter().map(|s| s.key.clone()))
                    .filter(|k| item.data.get(k).is_some())
                    .collect(),
                // Outside a tree, `*` is every mapping or list below the item (funds.* → fiscal, other, …).
                ("*", None) => item
                    .data
                    .as_object()
                    .map(|m| m.iter().filter(|(_, v)| v.is_object() || v.is_array()).map(|(k, _)| k.clone()).collect())
                    .unwrap_or_default(),
                (key, _) => vec![key.to_string()],
            };
            for key in &keys {
                let key = key.as_str();
                let Some(child) = item.data.get(key) else { continue };
                // Inside an indicator tree, `groups` and `rows` belong to the tree's field.
                let spec = match item.tree {
                    Some(tree) if key == "groups" || key == "rows" || tree.sides.iter().any(|s| s.key == key) => {
                        Some(tree)
                    }
                    _ => item.fields.and_then(|f| f.get(key)),
                };
                let in_tree = spec.is_some_and(|s| s.ty == FieldType::Indicators);
                let place = if in_tree {
                    item.place.key(key, "")
                } else {
                    item.place.key(key, spec.map_or(key, |s| s.label.as_str()))
                };
                let mut path = item.path.clone();
                path.push(Seg::Key(key.to_string()));
                let Some(list) = child.as_array() else {
                    let fields = spec.and_then(|s| s.fields.as_ref());
                    next.push(Item { data: child, n: 1, groups: item.groups.clone(), place, path, fields, tree: None });
                    continue;
                };
                for (i, element) in list.iter().enumerate() {
                    let mut groups = item.groups.clone();
                    let name = element.get("name").and_then(Json::as_str);
                    let (label, fields) = match spec {
                        Some(s) if in_tree && key == "rows" => {
                            (name.map_or_else(|| format!("第{}行", i + 1), str::to_string), s.row.as_ref())
                        }
                        Some(s) if in_tree => {
                            groups.push(element);
                            let level = s.levels.get(groups.len() - 1).map_or("", |l| l.label.as_str());
                            (name.map_or_else(|| format!("{level}第{}项", i + 1), str::to_string), None)
                        }
                        Some(s) => (
                            s.item_label
                                .as_ref()
                                .map_or_else(|| format!("第{}项", i + 1), |l| l.replace("{n}", &(i + 1).to_string())),
                            s.item.as_ref().and_then(|item| item.fields.as_ref()),
                        ),
                        None => (format!("第{}项", i + 1), None),
                    };
                    let mut p = path.clone();
                    p.push(Seg::Index(i));
                    next.push(Item {
                        data: element,
                        n: i + 1,
                        groups,
                        place: place.index(i, &label),
                        path: p,
                        fields,
                        tree: if in_tree { spec } else { None },
                    });
                }
            }
        }
        current = next;
    }
    current
}

/// The line of a YAML path, or of the nearest ancestor that exists.
fn locate(root: &Node, path: &[Seg]) -> Option<Loc> {
    let mut node = root;
    for seg in path {
        let next = match (seg, &node.value) {
            (Seg::Key(k), Yaml::Map(_)) => node.get(k),
            (Seg::Index(i), Yaml::Seq(items)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    Some(node.loc)
}

/// Compiles every rule and computed value of a manifest, so a broken one is
/// reported when the kind is loaded rather than silently skipped.
pub fn validate(env: &Environment, kind: &Kind) -> Result<(), String> {
    for (i, c) in kind.manifest.computed.iter().enumerate() {
        let expr =
            env.compile_expression(&c.value).map_err(|e| format!("computed[{i}]：表达式「{}」有误：{e}", c.value))?;
        known_names(&expr.undeclared_variables(false), &format!("computed[{i}]"))?;
    }
    let rules = &kind.manifest.rules;
    for (i, rule) in rules.iter().enumerate() {
        let exprs = [Some(&rule.check), rule.when.as_ref()];
        for text in exprs.into_iter().flatten() {
            let expr = env.compile_expression(text).map_err(|e| format!("rules[{i}]：表达式「{text}」有误：{e}"))?;
            known_names(&expr.undeclared_variables(false), &format!("rules[{i}]"))?;
        }
        let message = env.template_from_str(&rule.message).map_err(|e| format!("rules[{i}]：message 有误：{e}"))?;
        known_names(&message.undeclared_variables(false), &format!("rules[{i}] message"))?;
    }
    Ok(())
}

/// The names an expression may use (see `context`); a misspelt one (`itme`)
/// would otherwise make the rule silently never hold or never run.
const NAMES: &[&str] =
    &["form", "options", "item", "n", "groups", "none", "true", "false", "namespace", "range", "dict"];

fn known_names(used: &std::collections::HashSet<String>, what: &str) -> Result<(), String> {
    let mut unknown: Vec<&String> = used.iter().filter(|v| !NAMES.contains(&v.as_str())).collect();
    unknown.sort();
    match unknown.first() {
        None => Ok(()),
        Some(v) => Err(format!("{what}：未知的变量「{v}」（可用：form、options、item、n、groups）")),
    }
}
