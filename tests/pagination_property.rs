//! Property: every generated form of every kind renders, and its PDF, read
//! back with pdftotext page by page above the footer (as a reader sees it,
//! not the layout tree), shows every text of its data whole — a cell that
//! continues on the next page in order on consecutive pages — and prints its
//! repeating labels again on every continuation page.
//!
//! Forms are the kinds' examples with random indicator trees (1–400 rows)
//! and random text in every text field of the kind: 三级指标, 指标值,
//! 指标解释, 指标说明, standards, remarks, reasons, 一级/二级 names, goals,
//! tasks, notes rows, the 签章区. Texts are mostly short, sometimes a
//! paragraph, a long number, a URL or Latin letters; and in each form one
//! field, every field of the kind in turn, gets a text from one character to
//! three pages long. `FP_FORMS` sets how many forms (default 1,000: the test
//! suite's share of CI time; run 2,000 or more by hand), `FP_SEED` the seed
//! (default fixed); a failure prints the seed and writes the form.

mod common;

use std::collections::BTreeMap;

use formpress::form::kind::{ColumnMode, Field, FieldType, signature_fields};
use formpress::layout::indicators::{self, Plan, Style};
use serde_json::{Value as Json, json};

struct Rng(u64, bool);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const HAN: &str =
    "预算执行资金管理项目绩效目标完成情况服务对象满意度经济社会效益质量时效成本数量保障工作人员培训覆盖率群众，。、；";

fn han(rng: &mut Rng, min: usize, spread: usize) -> String {
    let pool: Vec<char> = HAN.chars().collect();
    let n = min + rng.below(spread);
    (0..n).map(|_| pool[rng.below(pool.len())]).collect()
}

/// A cell text: mostly short, sometimes a paragraph, longer than a page, or one long token.
/// One form in eight is "heavy": many of its cells are long.
fn text(rng: &mut Rng) -> String {
    let long = if rng.1 { 8 } else { 1 };
    match rng.below(100) {
        0..=59 => han(rng, 1, 10),
        60..=84 => han(rng, 10, 80),
        85..=89 if rng.below(8) < long => han(rng, 200, 3000),
        85..=91 => han(rng, 10, 40),
        92..=95 => (0..17 + rng.below(400)).map(|i| char::from(b'0' + ((i * 7 + rng.below(3)) % 10) as u8)).collect(),
        96..=97 => format!("https://example.gov.cn/{}", "abcdefghij".repeat(2 + rng.below(30))),
        _ => format!("{}{}", han(rng, 3, 1), "ABCDEFGHIJKLMNOPQRSTUVWXYZ".repeat(1 + rng.below(12))),
    }
}

/// The one long text of a form: from one character to three pages of a
/// full-width cell (about 6,000 characters), spread evenly over the scales.
fn long_text(rng: &mut Rng) -> String {
    let scale = [1, 10, 100, 1000, 6000][rng.below(4) + 1];
    let n = 1 + rng.below(scale);
    if rng.chance(10) {
        // An unbroken token: digits never wrap at a CJK boundary.
        return (0..n).map(|i| char::from(b'0' + (i % 10) as u8)).collect();
    }
    han(rng, n, 1)
}

fn label(rng: &mut Rng) -> String {
    if rng.chance(10) { han(rng, 20, 181) } else { han(rng, 2, 6) }
}

/// Whether a field's value is text the form prints as typed.
fn is_text(f: &Field) -> bool {
    matches!(f.ty, FieldType::Text | FieldType::Choice | FieldType::IndicatorValue)
}

fn row(rng: &mut Rng, fields: &indexmap::IndexMap<String, Field>, used: &[String]) -> Json {
    let mut r = serde_json::Map::new();
    for (key, f) in fields {
        if f.ty == FieldType::Number {
            // 分值 and 得分: numbers, consistent so the form is no draft for them.
            r.insert(key.clone(), json!(if key == "score" { 4 } else { 5 }));
        } else if is_text(f) && (f.required || used.contains(key)) && (key == "name" || rng.chance(60)) {
            r.insert(key.clone(), json!(text(rng)));
        }
    }
    Json::Object(r)
}

fn groups(rng: &mut Rng, fields: &indexmap::IndexMap<String, Field>, used: &[String], rows: &mut usize) -> Json {
    let n = 1 + rng.below(3);
    (0..n)
        .map(|_| {
            let k = (1 + rng.below(4)).min((*rows).max(1));
            *rows = rows.saturating_sub(k);
            json!({"name": label(rng), "rows": (0..k).map(|_| row(rng, fields, used)).collect::<Vec<_>>()})
        })
        .collect()
}

fn tree(rng: &mut Rng, spec: &Field) -> Json {
    let fields = spec.row.as_ref().unwrap();
    // Like a real form, a few of the kind's optional columns (指标解释, 备注, …), not all of them.
    let mut optional: Vec<String> = fields
        .iter()
        .filter(|(_, f)| is_text(f) && !f.required && f.column != ColumnMode::Always)
        .map(|(k, _)| k.clone())
        .collect();
    let mut used: Vec<String> =
        fields.iter().filter(|(_, f)| f.column == ColumnMode::Always).map(|(k, _)| k.clone()).collect();
    for _ in 0..rng.below(4) {
        if !optional.is_empty() {
            used.push(optional.remove(rng.below(optional.len())));
        }
    }
    let mut rows = match rng.below(100) {
        0..=69 => 1 + rng.below(30),
        70..=94 => 30 + rng.below(90),
        _ => 120 + rng.below(281),
    };
    let mut top = vec![];
    while rows > 0 {
        let mut l1 = json!({"name": label(rng)});
        if spec.sides.is_empty() {
            l1["groups"] = groups(rng, fields, &used, &mut rows);
        } else {
            for side in &spec.sides {
                l1[&side.key] = groups(rng, fields, &used, &mut rows);
            }
        }
        top.push(l1);
    }
    Json::Array(top)
}

/// Random text in every text field outside the indicator table (goals, tasks,
/// notes, the 签章区, names), items added to lists of text.
fn fill(rng: &mut Rng, fields: &indexmap::IndexMap<String, Field>, data: &mut Json) {
    for (key, f) in fields {
        match f.ty {
            _ if is_text(f) && (data.get(key).is_some() || rng.chance(50)) => data[key] = json!(text(rng)),
            FieldType::Record if data.get(key).is_some_and(Json::is_object) => {
                fill(rng, f.fields.as_ref().unwrap(), &mut data[key]);
            }
            FieldType::Signature if data.get(key).is_some_and(Json::is_object) => {
                fill(rng, signature_fields(), &mut data[key]);
            }
            FieldType::List => {
                let item = f.item.as_ref().unwrap();
                // A list of free-text rows (notes) the example lacks is added now and then.
                let free = item.fields.as_ref().is_some_and(|f| f.values().all(is_text));
                if data.get(key).is_none() && free && rng.chance(40) {
                    data[key] = json!([item
                        .fields
                        .as_ref()
                        .unwrap()
                        .keys()
                        .map(|k| (k.clone(), json!(text(rng))))
                        .collect::<serde_json::Map<_, _>>()]);
                }
                let Some(items) = data.get_mut(key).and_then(Json::as_array_mut) else { continue };
                if is_text(item) {
                    items.iter_mut().for_each(|i| *i = json!(text(rng)));
                    items.extend((0..rng.below(3)).map(|_| json!(text(rng))));
                } else if item.ty == FieldType::Record {
                    if let Some(first) = items.first().cloned() {
                        items.extend((0..rng.below(2)).map(|_| first.clone()));
                    }
                    let inner = item.fields.as_ref().unwrap();
                    for i in items.iter_mut() {
                        // Text fields only: the amounts keep the example's numbers.
                        for (k, _) in inner.iter().filter(|(_, f)| is_text(f)) {
                            if i.get(k).is_some() || rng.chance(30) {
                                i[k] = json!(text(rng));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Every text of the data with its field, as JSON pointers: the field is the
/// path with list indexes left out (`/tasks/remark`), so each field can be
/// chosen in turn for the long text.
fn text_slots(v: &Json, pointer: &mut String, field: &mut Vec<String>, out: &mut Vec<(String, String)>) {
    match v {
        Json::String(_) => {
            let f = field.join("/");
            if !["form", "signature/date", "signature/seal"].contains(&f.as_str()) {
                out.push((f, pointer.clone()));
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                text_slots(item, pointer, field, out);
                pointer.truncate(len);
            }
        }
        Json::Object(m) => {
            for (k, item) in m {
                let len = pointer.len();
                pointer.push_str(&format!("/{k}"));
                // Sides and group levels are one field each: 中期 and 年度 names alike.
                let name = if ["groups", "mid", "year"].contains(&k.as_str()) { "*" } else { k };
                field.push(name.to_string());
                text_slots(item, pointer, field, out);
                field.pop();
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

fn base(kind: &str) -> Json {
    let manifest = &common::engine().catalog().kind(kind).unwrap().manifest;
    let example = manifest.example.as_ref().unwrap();
    let text = std::fs::read_to_string(common::root().join("forms").join(example)).unwrap();
    let mut form: Json = serde_saphyr::from_str(&text).unwrap();
    if let Some(sig) = form.get_mut("signature").and_then(Json::as_object_mut) {
        sig.remove("seal");
    }
    form
}

/// A generated form; `turn` picks the field that gets the long text.
fn generate(rng: &mut Rng, kinds: &[(String, Json)], turn: usize) -> (String, Json, String) {
    let (kind, base) = &kinds[rng.below(kinds.len())];
    let manifest = &common::engine().catalog().kind(kind).unwrap().manifest;
    rng.1 = rng.chance(12);
    let mut form = base.clone();
    fill(rng, &manifest.fields, &mut form);
    form["indicators"] = tree(rng, &manifest.fields["indicators"]);
    if rng.chance(30) {
        form.as_object_mut().unwrap().remove("signature");
    }
    let mut slots = vec![];
    text_slots(&form, &mut String::new(), &mut vec![], &mut slots);
    let mut fields: Vec<&String> = slots.iter().map(|(f, _)| f).collect();
    fields.sort();
    fields.dedup();
    let field = fields[turn % fields.len()].clone();
    let places: Vec<&String> = slots.iter().filter(|(f, _)| *f == field).map(|(_, p)| p).collect();
    let place = places[rng.below(places.len())].clone();
    *form.pointer_mut(&place).unwrap() = json!(long_text(rng));
    (kind.clone(), form, place)
}

/// Every text of the data, without white space (dates print the Chinese way).
fn strings(v: &Json, key: &str, out: &mut Vec<String>) {
    match v {
        Json::String(s) if !["date", "seal", "form"].contains(&key) => out.push(common::squash(s)),
        Json::Array(items) => items.iter().for_each(|i| strings(i, key, out)),
        Json::Object(m) => m.iter().for_each(|(k, v)| strings(v, k, out)),
        _ => {}
    }
}

/// Checks one generated form; an error says what went wrong.
fn check_one(kind: &str, data: &Json) -> Result<usize, String> {
    let engine = common::engine();
    let form = engine.check("generated.yaml", data.to_string().as_bytes());
    if !form.renderable() {
        return Err(format!("not renderable: {:?}", form.findings.iter().map(|f| &f.message).collect::<Vec<_>>()));
    }
    let laid = engine.layout(&form, &formpress::RenderOptions::default()).map_err(|e| format!("layout failed: {e}"))?;
    let pdf = laid.pdf().map_err(|e| format!("PDF refused: {e}"))?;
    let pages = common::body_pages(&pdf, common::bottom_margin(kind));
    if pages.len() != laid.document.pages().len() {
        return Err(format!("pdftotext reads {} pages of {}", pages.len(), laid.document.pages().len()));
    }
    let mut want = vec![];
    strings(data, "", &mut want);
    for s in want.iter().filter(|s| !s.is_empty()) {
        if !common::shown(&pages, s) {
            return Err(format!(
                "text not on the paper ({} chars): {}",
                s.chars().count(),
                s.chars().take(40).collect::<String>()
            ));
        }
    }
    // Repeating labels (short enough to repeat) on every page the indicator table continues on,
    // beginning on that page.
    let k = engine.catalog().kind(kind).unwrap();
    let spec = &k.manifest.fields["indicators"];
    let table = indicators::layout("indicators", spec, &form.data["indicators"], &Plan::default(), &Style::default());
    let rows = &formpress::layout::pdf::row_pages(&laid.document)["indicators"];
    let mut first_on_page: BTreeMap<usize, usize> = BTreeMap::new();
    for (&row, &page) in rows {
        first_on_page.entry(page).or_insert(row);
    }
    let start_page = *rows.values().min().unwrap();
    for (&page, &row) in first_on_page.iter().filter(|(p, _)| **p > start_page) {
        let group = &table.rows[row].groups[0];
        let l1 = group.get("display").or(group.get("name")).and_then(Json::as_str).unwrap_or("");
        let mut labels = vec![l1.to_string()];
        labels.extend(spec.block.clone());
        for l in labels.iter().filter(|l| indicators::repeats(l)) {
            let l = common::squash(l);
            // The label starts on the page; a merged label reaching the page's foot
            // may continue at the top of the next, as its cell does.
            let head: String = l.chars().take(4).collect();
            // A row whose marker's cell begins a page may itself begin at the foot of
            // the page before, its labels printed there.
            let here = pages[page - 1].contains(&head) && common::shown(&pages[page - 1..], &l);
            let began_before = page >= 2 && pages[page - 2].contains(&l);
            if !(here || began_before) {
                return Err(format!(
                    "page {page} (row {row}) lacks the label {}",
                    l.chars().take(30).collect::<String>()
                ));
            }
        }
    }
    Ok(pages.len())
}

#[test]
fn generated_forms_print_every_text_and_label_on_paper() {
    let count: usize = std::env::var("FP_FORMS").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let seed: u64 = std::env::var("FP_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20_261_206);
    let kinds: Vec<(String, Json)> = common::engine().catalog().kinds().map(|k| (k.id.clone(), base(&k.id))).collect();
    assert_eq!(kinds.len(), 5);
    let workers = 2;
    let started = std::time::Instant::now();
    let results: Vec<(usize, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let kinds = &kinds;
                s.spawn(move || {
                    let mut rng = Rng(seed.wrapping_add(w as u64 * 0x9E37_79B9_7F4A_7C15) | 1, false);
                    let (mut forms, mut pages) = (0, 0);
                    for i in 0..count / workers + usize::from(w < count % workers) {
                        let (kind, data, long) = generate(&mut rng, kinds, i);
                        match check_one(&kind, &data) {
                            Ok(p) => pages += p,
                            Err(e) => {
                                let path = std::env::temp_dir().join(format!("formpress-failed-{seed}-{w}-{i}.yaml"));
                                std::fs::write(&path, data.to_string()).unwrap();
                                panic!(
                                    "seed {seed}, worker {w}, form {i} ({kind}, long text at {long}): {e}\nform written to {}",
                                    path.display()
                                );
                            }
                        }
                        forms += 1;
                        // Typst memoizes layouts across compilations; a long run must let them go.
                        typst::comemo::evict(0);
                    }
                    (forms, pages)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let forms: usize = results.iter().map(|r| r.0).sum();
    let pages: usize = results.iter().map(|r| r.1).sum();
    eprintln!("{forms} generated forms, {pages} pages, seed {seed}, {:.0} s", started.elapsed().as_secs_f64());
    assert_eq!(forms, count);
}
