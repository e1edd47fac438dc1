//! Describing a kind to people and editors: the commented skeleton that
//! `formpress new` writes, and the JSON Schema that `formpress schema` prints
//! for completion and validation in an editor.

use indexmap::IndexMap;
use serde_json::{Map, Value as Json, json};
use std::fmt::Write as _;

use crate::form::kind::{Field, FieldType, Kind, Level, Sources, signature_fields};
use crate::form::schema::{FORM_KEY, OPTIONS_KEY};
use crate::form::zh_keys;

/// A YAML skeleton of `kind` with every field explained in a comment; its
/// values are the manifest's examples, so it checks and renders as it is.
pub fn skeleton(kind: &Kind) -> String {
    skeleton_in(kind, false)
}

/// What `formpress new` writes: the kind's own blank form when its manifest
/// names one (`skeleton:`, with English keys whatever `zh` asks), else the
/// skeleton of examples.
pub fn new_form(kind: &Kind, sources: &Sources, zh: bool) -> String {
    match kind.manifest.skeleton.as_ref().and_then(|s| sources.get(&format!("{}/{s}", kind.id))) {
        Some(blank) => {
            let mut out = format!("# {}\n", kind.manifest.name);
            let _ = writeln!(
                out,
                "# 由 formpress new {} 生成：本地空白表，照表填写后 formpress check、formpress render。\n",
                kind.id
            );
            out.push_str(blank);
            out
        }
        None => skeleton_in(kind, zh),
    }
}

/// The skeleton with the form's own labels as keys (`部门名称:`), `new --zh`.
pub fn skeleton_in(kind: &Kind, zh: bool) -> String {
    let m = &kind.manifest;
    let mut out = String::new();
    let _ = writeln!(out, "# {}", m.name);
    if !m.description.is_empty() {
        let _ = writeln!(out, "# {}", m.description);
    }
    let _ = writeln!(out, "# 由 formpress new {} 生成。把示例值换成本单位的数据，然后：", kind.id);
    let _ = writeln!(out, "#   formpress check 本文件        检查（错误会指出行号和字段）");
    let _ = writeln!(out, "#   formpress render 本文件       生成 PDF");
    let _ = writeln!(out, "# 以 # 开头的行是注释；写了“可不写”的字段可以删去。\n");
    let top = zh_keys::top_keys(kind);
    let _ = writeln!(out, "{}: {}", shown(zh, &top, FORM_KEY), kind.id);
    for (key, field) in &m.fields {
        field_lines(&mut out, 0, &shown(zh, &top, key), field, zh);
    }
    if !m.options.is_empty() {
        let _ = writeln!(out, "\n# 版式选项（可不写，下面是默认值）：");
        let _ = writeln!(out, "# {}:", shown(zh, &top, OPTIONS_KEY));
        for (key, option) in &m.options {
            let _ = writeln!(out, "#   {key}: {}    # {}", option.default, option.help);
        }
    }
    out
}

/// A key as written: its Chinese form when asked for and there is one.
fn shown(zh: bool, table: &[(String, String)], key: &str) -> String {
    let found = table.iter().find(|(k, _)| k == key).map(|(_, z)| z.clone());
    if zh { found.unwrap_or_else(|| key.to_string()) } else { key.to_string() }
}

fn pad(depth: usize) -> String {
    "  ".repeat(depth)
}

/// What a field is, for its comment: 年度（必填，整数，2000–2100）：help
fn describe(field: &Field) -> String {
    let kind = match field.ty {
        FieldType::Text => "文本".to_string(),
        FieldType::Integer => "整数".into(),
        FieldType::Number => "数字".into(),
        FieldType::Money => "金额（万元，数字，最多两位小数）".into(),
        FieldType::Bool => "true 或 false".into(),
        FieldType::Date => "日期，如 2021-03-06".into(),
        FieldType::Choice => format!("从 {} 中选一个", field.choices.join("、")),
        FieldType::IndicatorValue => "指标值，如 ≥95%、100%、≤10%、57人，或 充分、合理 等定性等级".into(),
        FieldType::List => "列表，每项以 - 开头".into(),
        FieldType::Record => "分项填写".into(),
        FieldType::Indicators => "指标树".into(),
        FieldType::Image => "图片文件路径（PNG、JPG 或 SVG），相对于本文件".into(),
        FieldType::Signature => "签章区，分项填写".into(),
    };
    let mut parts = vec![];
    parts.push(if field.required && field.default.is_none() { "必填".to_string() } else { "可不写".to_string() });
    parts.push(kind);
    match (field.min, field.max) {
        (Some(a), Some(b)) => {
            parts.push(format!("{}–{}", crate::form::schema::fmt_num(a), crate::form::schema::fmt_num(b)))
        }
        (Some(a), None) => parts.push(format!("不小于 {}", crate::form::schema::fmt_num(a))),
        (None, Some(b)) => parts.push(format!("不大于 {}", crate::form::schema::fmt_num(b))),
        _ => {}
    }
    if let Some(d) = &field.default {
        parts.push(format!("默认 {}", scalar(d)));
    }
    if field.merge {
        parts.push("省略则与上一行合并".into());
    }
    let help =
        if field.help.is_empty() { String::new() } else { format!("：{}", field.help.trim().replace('\n', " ")) };
    format!("{}（{}）{help}", field.label, parts.join("，"))
}

/// A value written as YAML: plain when that is safe, else double-quoted.
fn scalar(v: &Json) -> String {
    match v {
        Json::String(s) => {
            let plain = !s.is_empty()
                && !s.starts_with([
                    '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ' ',
                ])
                && !s.contains(": ")
                && !s.contains(" #")
                && !s.ends_with([' ', ':'])
                && s.parse::<f64>().is_err()
                && !matches!(s.as_str(), "true" | "false" | "null" | "yes" | "no" | "~");
            if plain { s.clone() } else { Json::String(s.clone()).to_string() }
        }
        other => other.to_string(),
    }
}

/// A stand-in when a field has no example.
fn placeholder(field: &Field) -> Json {
    match field.ty {
        FieldType::Integer => json!(field.min.map_or(1, |m| m as i64)),
        FieldType::Number | FieldType::Money => json!(0),
        FieldType::Bool => json!(false),
        FieldType::Date => json!("2021-01-01"),
        FieldType::Choice => json!(field.choices.first().cloned().unwrap_or_default()),
        FieldType::IndicatorValue => json!("充分"),
        _ => json!(format!("（{}）", field.label)),
    }
}

fn field_lines(out: &mut String, depth: usize, key: &str, field: &Field, zh: bool) {
    let p = pad(depth);
    let _ = writeln!(out, "{p}# {}", describe(field));
    let optional = !field.required || field.default.is_some();
    let off = if optional && field.example.is_none() { "# " } else { "" };
    match field.ty {
        FieldType::List => {
            let _ = writeln!(out, "{p}{off}{key}:");
            let item = field.item.as_ref().expect("checked");
            list_item(out, depth + 1, item, off, zh);
        }
        FieldType::Record => {
            let _ = writeln!(out, "{p}{key}:");
            let fields = field.fields.as_ref().expect("checked");
            let table = zh_keys::zh_keys(fields);
            for (k, f) in fields {
                field_lines(out, depth + 1, &shown(zh, &table, k), f, zh);
            }
        }
        FieldType::Signature => {
            let _ = writeln!(out, "{p}# {key}:");
            let table = zh_keys::zh_keys(signature_fields());
            for (k, f) in signature_fields() {
                let value = f.example.clone().unwrap_or_else(|| placeholder(f));
                let _ = writeln!(out, "{p}#   {}: {}    # {}", shown(zh, &table, k), scalar(&value), f.label);
            }
        }
        FieldType::Indicators => {
            let _ = writeln!(out, "{p}{key}:");
            indicator_group(out, depth + 1, field, 0, zh);
        }
        _ => {
            let value = field.example.clone().or_else(|| field.default.clone()).unwrap_or_else(|| placeholder(field));
            let _ = writeln!(out, "{p}{off}{key}: {}", scalar(&value));
        }
    }
}

fn list_item(out: &mut String, depth: usize, item: &Field, off: &str, zh: bool) {
    let p = pad(depth);
    match item.ty {
        FieldType::Record => {
            let fields = item.fields.as_ref().expect("checked");
            let table = zh_keys::zh_keys(fields);
            let mut first = true;
            for (k, f) in fields {
                let k = shown(zh, &table, k);
                let _ = writeln!(out, "{p}{off}  # {}", describe(f));
                let value = f.example.clone().or_else(|| f.default.clone()).unwrap_or_else(|| placeholder(f));
                let lead = if first { "- " } else { "  " };
                let comment = if !f.required && f.example.is_none() { "# " } else { "" };
                let _ = writeln!(out, "{p}{off}{lead}{comment}{k}: {}", scalar(&value));
                first = false;
            }
        }
        _ => {
            let value = item.example.clone().unwrap_or_else(|| placeholder(item));
            let _ = writeln!(out, "{p}{off}- {}", scalar(&value));
        }
    }
}

fn indicator_group(out: &mut String, depth: usize, spec: &Field, level: usize, zh: bool) {
    let p = pad(depth);
    let l: &Level = &spec.levels[level];
    let keys = zh_keys::group_keys(spec, level);
    let help = if l.help.is_empty() { String::new() } else { format!("：{}", l.help) };
    let _ = writeln!(out, "{p}# {}{help}", l.label);
    let _ = writeln!(out, "{p}- {}: {}", shown(zh, &keys, "name"), example_name(l, level));
    for (k, f) in &l.fields {
        let value = f.example.clone().unwrap_or_else(|| placeholder(f));
        let _ = writeln!(out, "{p}  {}: {}    # {}", shown(zh, &keys, k), scalar(&value), describe(f));
    }
    let below: Vec<(String, String)> = if level == 0 && !spec.sides.is_empty() {
        spec.sides.iter().map(|s| (s.key.clone(), s.label.clone())).collect()
    } else if level + 1 < spec.levels.len() {
        vec![("groups".into(), String::new())]
    } else {
        vec![]
    };
    for (key, label) in &below {
        if !label.is_empty() {
            let _ = writeln!(out, "{p}  # {label}的{}", spec.levels[level + 1].label);
        }
        let _ = writeln!(out, "{p}  {}:", shown(zh, &keys, key));
        indicator_group(out, depth + 2, spec, level + 1, zh);
    }
    if below.is_empty() {
        let _ = writeln!(out, "{p}  {}:", shown(zh, &keys, "rows"));
        let row = spec.row.as_ref().expect("checked");
        let table = zh_keys::zh_keys(row);
        let q = pad(depth + 2);
        let mut first = true;
        for (k, f) in row {
            let k = shown(zh, &table, k);
            let _ = writeln!(out, "{q}  # {}", describe(f));
            let value = f.example.clone().unwrap_or_else(|| placeholder(f));
            let lead = if first { "- " } else { "  " };
            let comment = if !f.required && f.example.is_none() { "# " } else { "" };
            let _ = writeln!(out, "{q}{lead}{comment}{k}: {}", scalar(&value));
            first = false;
        }
    }
}

fn example_name(level: &Level, depth: usize) -> String {
    let help = &level.help;
    // The first name the help suggests (如 履职效能、管理效率 → 履职效能), else the label.
    let suggested = help
        .trim_start_matches('如')
        .split(['、', '，', ',', '；', ' '])
        .map(|s| s.trim().trim_start_matches('如').trim())
        .find(|s| !s.is_empty() && s.chars().count() <= 12);
    suggested.map_or_else(|| format!("{}{}", level.label, depth + 1), str::to_string)
}

/// The JSON Schema (draft-07) of the kind's YAML, for editors.
pub fn json_schema(kind: &Kind) -> Json {
    let m = &kind.manifest;
    let mut props = Map::new();
    props.insert(FORM_KEY.into(), json!({"const": kind.id, "description": format!("表单种类：{}", m.name)}));
    let options: Map<String, Json> = m
        .options
        .iter()
        .map(|(k, o)| {
            let mut spec = match o.default {
                Json::Bool(_) => json!({"type": "boolean"}),
                Json::Number(_) => json!({"type": "number"}),
                Json::Object(_) => json!({"type": "object", "additionalProperties": {"type": "string"}}),
                Json::Array(_) => json!({"type": "array", "items": {"type": "string"}}),
                _ if !o.choices.is_empty() => json!({"enum": o.choices}),
                _ => json!({"type": "string"}),
            };
            spec["default"] = o.default.clone();
            spec["description"] = json!(o.help);
            (k.clone(), spec)
        })
        .collect();
    props.insert(OPTIONS_KEY.into(), json!({"type": "object", "properties": options, "additionalProperties": false}));
    let (fields, required) = object_parts(&m.fields);
    props.extend(fields);
    let mut required = required;
    required.insert(0, FORM_KEY.into());
    let mut schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": m.name,
        "description": m.description,
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    });
    with_zh_keys(&mut schema, &zh_keys::top_keys(kind));
    schema
}

/// Lets an object schema take each Chinese key beside its ASCII one: the same
/// property under both names, either one satisfying `required`, never both.
fn with_zh_keys(schema: &mut Json, table: &[(String, String)]) {
    let mut all_of = vec![];
    for (key, zh) in table {
        let Some(prop) = schema["properties"].get(key).cloned() else { continue };
        schema["properties"][zh] = prop;
        // `required` holds for anything but an object: say "object" so a blank record (null) passes.
        all_of.push(json!({"not": {"type": "object", "required": [key, zh]}}));
        if let Some(Json::Array(required)) = schema.get_mut("required")
            && let Some(i) = required.iter().position(|r| r == key)
        {
            required.remove(i);
            all_of.push(json!({"anyOf": [{"required": [key]}, {"required": [zh]}]}));
        }
    }
    if !all_of.is_empty() {
        schema["allOf"] = Json::Array(all_of);
    }
}

fn object_parts(fields: &IndexMap<String, Field>) -> (Map<String, Json>, Vec<Json>) {
    let props = fields.iter().map(|(k, f)| (k.clone(), field_schema(f))).collect();
    let required =
        fields.iter().filter(|(_, f)| f.required && f.default.is_none() && !f.merge).map(|(k, _)| json!(k)).collect();
    (props, required)
}

fn field_schema(f: &Field) -> Json {
    let mut s = match f.ty {
        // Text also takes numbers (a 指标值 of 57, a 名称 of 2021); they are kept as written.
        FieldType::Text | FieldType::IndicatorValue => json!({"type": ["string", "number"]}),
        FieldType::Integer => json!({"type": "integer"}),
        // Numbers are kept as typed; text takes thousands separators ("3,309,840.00") and dashes ("/").
        FieldType::Number | FieldType::Money => json!({"type": ["number", "string"]}),
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::Date => json!({"type": "string", "pattern": "^\\d{4}([-/.年])\\d{1,2}([-/.月])\\d{1,2}日?$"}),
        // An open choice lists the official words as examples and takes any text.
        FieldType::Choice if f.open => json!({"type": "string", "examples": f.choices}),
        FieldType::Choice => json!({"enum": f.choices}),
        FieldType::Image => json!({"type": "string", "pattern": "\\.(png|jpe?g|gif|svg|webp|PNG|JPE?G|GIF|SVG|WEBP)$"}),
        FieldType::List => {
            let mut a = json!({"type": "array", "items": field_schema(f.item.as_ref().expect("checked"))});
            if let Some(n) = f.min_items.or(f.required.then_some(1)) {
                a["minItems"] = json!(n);
            }
            if let Some(n) = f.max_items {
                a["maxItems"] = json!(n);
            }
            a
        }
        FieldType::Record => record_schema(f.fields.as_ref().expect("checked")),
        FieldType::Signature => record_schema(signature_fields()),
        FieldType::Indicators => group_schema(f, 0),
    };
    let obj = s.as_object_mut().expect("object");
    obj.insert("title".into(), json!(f.label));
    if !f.help.is_empty() {
        obj.insert("description".into(), json!(f.help.trim()));
    }
    if let Some(min) = f.min.or((f.ty == FieldType::Money).then_some(0.0)) {
        obj.insert("minimum".into(), json!(min));
    }
    if let Some(max) = f.max {
        obj.insert("maximum".into(), json!(max));
    }
    if let Some(d) = &f.default {
        obj.insert("default".into(), d.clone());
    }
    if let Some(e) = &f.example {
        obj.insert("examples".into(), json!([e]));
    }
    // An optional field may be written with no value (`total:`): a blank cell.
    if !f.required {
        let ty = obj.remove("type");
        let types = match ty {
            Some(Json::String(t)) => json!([t, "null"]),
            Some(Json::Array(mut ts)) => {
                ts.push(json!("null"));
                Json::Array(ts)
            }
            other => other.unwrap_or(Json::Null),
        };
        if !types.is_null() {
            obj.insert("type".into(), types);
        } else if let Some(Json::Array(e)) = obj.get_mut("enum") {
            e.push(Json::Null);
        }
    }
    s
}

fn record_schema(fields: &IndexMap<String, Field>) -> Json {
    let (props, required) = object_parts(fields);
    let mut schema =
        json!({"type": "object", "properties": props, "required": required, "additionalProperties": false});
    with_zh_keys(&mut schema, &zh_keys::zh_keys(fields));
    schema
}

fn group_schema(spec: &Field, level: usize) -> Json {
    let l = &spec.levels[level];
    let mut props = Map::new();
    props.insert("name".into(), json!({"type": "string", "title": l.label}));
    let (extra, _) = object_parts(&l.fields);
    props.extend(extra);
    // A group's name may be left blank, and a group with nothing below it prints a blank row.
    let required: Vec<Json> = vec![];
    if level == 0 && !spec.sides.is_empty() {
        for side in &spec.sides {
            let mut s = group_schema(spec, 1);
            s["title"] = json!(format!("{}的{}", side.label, spec.levels[1].label));
            props.insert(side.key.clone(), s);
        }
    } else if level + 1 < spec.levels.len() {
        props.insert("groups".into(), group_schema(spec, level + 1));
    } else {
        props.insert("rows".into(), rows_schema(spec));
    }
    let mut item = json!({"type": "object", "properties": props, "required": required, "additionalProperties": false});
    with_zh_keys(&mut item, &zh_keys::group_keys(spec, level));
    let groups = json!({"type": "array", "title": l.label, "items": item});
    // The whole tree may also be a flat list of rows (a form with no 一级/二级 columns).
    if level == 0 { json!({"title": spec.label, "anyOf": [groups, rows_schema(spec)]}) } else { groups }
}

fn rows_schema(spec: &Field) -> Json {
    json!({"type": "array", "items": record_schema(spec.row.as_ref().expect("checked"))})
}
