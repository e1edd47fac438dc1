//! Property: every generated form of every kind lays out, keeps every cell's
//! text, and prints its repeating labels again on every continuation page.
//!
//! Forms are the kinds' examples with random indicator trees (1–400 rows),
//! texts from one character to longer than a page, 一级/二级 names up to 200
//! characters and long unbroken tokens. `FP_FORMS` sets how many (default
//! 2,000), `FP_SEED` the seed; a failure prints the seed and the form.

mod common;

use std::collections::BTreeMap;

use formpress::layout::indicators::{self, Plan, Style};
use serde_json::{Value as Json, json};
use typst::layout::{Frame, FrameItem};
use typst_layout::PagedDocument;

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
    "预算执行资金管理项目绩效目标完成情况服务对象满意度经济社会效益质量时效成本数量保障工作人员培训覆盖率群众";

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

fn label(rng: &mut Rng) -> String {
    if rng.chance(10) { han(rng, 20, 181) } else { han(rng, 2, 6) }
}

fn row(rng: &mut Rng, kind: &str) -> Json {
    let value = ["≥95%", "100%", "≤10%", "充分", "57人", "≥3000万元"][rng.below(6)];
    match kind {
        "zhengzhou-2020-dept-overall" => {
            let mut r = json!({"name": text(rng), "value": value});
            if rng.chance(60) {
                r["explain"] = json!(text(rng));
            }
            if rng.chance(60) {
                r["note"] = json!(text(rng));
            }
            r
        }
        "project-self-eval" | "dept-self-eval" => json!({
            "name": text(rng), "target": value, "actual": text(rng),
            "weight": 5, "score": 4, "reason": if rng.chance(50) { text(rng) } else { String::new() },
        }),
        _ => json!({"name": text(rng), "value": value}),
    }
}

fn groups(rng: &mut Rng, kind: &str, rows: &mut usize) -> Json {
    let n = 1 + rng.below(3);
    (0..n)
        .map(|_| {
            let k = (1 + rng.below(4)).min((*rows).max(1));
            *rows = rows.saturating_sub(k);
            json!({"name": label(rng), "rows": (0..k).map(|_| row(rng, kind)).collect::<Vec<_>>()})
        })
        .collect()
}

fn tree(rng: &mut Rng, kind: &str) -> Json {
    let mut rows = match rng.below(100) {
        0..=69 => 1 + rng.below(30),
        70..=94 => 30 + rng.below(90),
        _ => 120 + rng.below(281),
    };
    let mut top = vec![];
    while rows > 0 {
        let mut l1 = json!({"name": label(rng)});
        if kind == "project" {
            l1["mid"] = groups(rng, kind, &mut rows);
            l1["year"] = groups(rng, kind, &mut rows);
        } else {
            l1["groups"] = groups(rng, kind, &mut rows);
        }
        top.push(l1);
    }
    Json::Array(top)
}

fn base(kind: &str) -> Json {
    let path = common::root().join("templates").join(kind).join("kind.yaml");
    let manifest: Json = serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let example = manifest["example"].as_str().unwrap();
    let mut form: Json =
        serde_saphyr::from_str(&std::fs::read_to_string(common::root().join("forms").join(example)).unwrap()).unwrap();
    if let Some(sig) = form.get_mut("signature").and_then(Json::as_object_mut) {
        sig.remove("seal");
    }
    form
}

fn generate(rng: &mut Rng, kinds: &[(String, Json)]) -> (String, Json) {
    let (kind, base) = &kinds[rng.below(kinds.len())];
    rng.1 = rng.chance(12);
    let mut form = base.clone();
    form["indicators"] = tree(rng, kind);
    if rng.chance(30) {
        form.as_object_mut().unwrap().remove("signature");
    }
    if let Some(goals) = form.get_mut("goals").and_then(Json::as_array_mut) {
        goals.push(json!(text(rng)));
    }
    (kind.clone(), form)
}

/// The text set on each page, in frame order, without white space.
fn page_texts(doc: &PagedDocument) -> Vec<String> {
    fn walk(frame: &Frame, out: &mut String) {
        for (_, item) in frame.items() {
            match item {
                FrameItem::Group(g) => walk(&g.frame, out),
                FrameItem::Text(t) => out.extend(t.text.chars().filter(|c| !c.is_whitespace())),
                _ => {}
            }
        }
    }
    doc.pages()
        .iter()
        .map(|p| {
            let mut s = String::new();
            walk(&p.frame, &mut s);
            s
        })
        .collect()
}

fn strings(v: &Json, key: &str, out: &mut Vec<String>) {
    match v {
        Json::String(s) if !["date", "seal", "display", "form"].contains(&key) => {
            out.push(s.chars().filter(|c| !c.is_whitespace()).collect())
        }
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
    let doc = &laid.document;
    let all = common::printed(doc);
    let mut want = vec![];
    strings(&form.data, "", &mut want);
    for s in want.iter().filter(|s| !s.is_empty()) {
        if !all.contains(s.as_str()) {
            return Err(format!("text missing from the PDF: {}", s.chars().take(40).collect::<String>()));
        }
    }
    // Repeating labels on every page the indicator table continues on.
    let k = engine.catalog().kind(kind).unwrap();
    let spec = &k.manifest.fields["indicators"];
    let table = indicators::layout("indicators", spec, &form.data["indicators"], &Plan::default(), &Style::default());
    let pages = formpress::layout::pdf::row_pages(doc);
    let rows = &pages["indicators"];
    let texts = page_texts(doc);
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
        for l in labels {
            let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            if !texts[page - 1].contains(&l) {
                return Err(format!(
                    "page {page} (row {row}) lacks the label {}",
                    l.chars().take(30).collect::<String>()
                ));
            }
        }
    }
    Ok(doc.pages().len())
}

#[test]
fn generated_forms_keep_every_text_and_label() {
    let count: usize = std::env::var("FP_FORMS").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let seed: u64 = std::env::var("FP_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    let kinds: Vec<(String, Json)> = common::engine().catalog().kinds().map(|k| (k.id.clone(), base(&k.id))).collect();
    assert_eq!(kinds.len(), 5);
    let workers = 2;
    let results: Vec<(usize, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let kinds = &kinds;
                s.spawn(move || {
                    let mut rng = Rng(seed.wrapping_add(w as u64 * 0x9E37_79B9_7F4A_7C15) | 1, false);
                    let (mut forms, mut pages) = (0, 0);
                    for i in 0..count / workers + usize::from(w < count % workers) {
                        let (kind, data) = generate(&mut rng, kinds);
                        match check_one(&kind, &data) {
                            Ok(p) => pages += p,
                            Err(e) => {
                                let path = std::env::temp_dir().join(format!("formpress-failed-{seed}-{w}-{i}.yaml"));
                                std::fs::write(&path, data.to_string()).unwrap();
                                panic!(
                                    "seed {seed}, worker {w}, form {i} ({kind}): {e}\nform written to {}",
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
    eprintln!("{forms} generated forms, {pages} pages, seed {seed}");
    assert_eq!(forms, count);
}
