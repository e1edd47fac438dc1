//! Rendering a checked form: the template, the layout passes that repeat
//! merged labels on continuation pages, the fingerprint footer and archive
//! attachment, and the document date.

use std::cell::RefCell;
use std::collections::BTreeMap;

use minijinja::Value;
use serde_json::{Value as Json, json};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::Source;

use typst_layout::PagedDocument;

use crate::form::fingerprint;
use crate::form::kind::{FieldType, Kind};
use crate::form::{Form, kind, schema};
use crate::layout::engine::Engine;
use crate::layout::indicators::Plan;
use crate::layout::world::FormWorld;
use crate::layout::{attach, indicators, ink, paper, pdf, qr};

#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// The document date; defaults to the form's `date` (填报日期), then
    /// `SOURCE_DATE_EPOCH`, else none.
    pub date: Option<Datetime>,
    /// PDF/A-3b with the source attached (also the form option `archive`).
    pub archive: bool,
    /// The 骑缝章 picture (`--seal-across`): its extension and bytes; wins
    /// over the form option `seal_across`. Not part of the form's data, so
    /// not covered by the 校验码.
    pub seal_across: Option<(String, Vec<u8>)>,
    /// Mark every value cell with its data path, so the editor's preview can
    /// tell which cell a click lands in (`layout::cells`). Invisible: the
    /// pages look the same; `render` never sets it.
    pub cells: bool,
    /// Indicator columns printed even when no row fills them (by column key,
    /// `year.value`): the editor's preview of a blank form shows the blank grid.
    pub show_columns: std::collections::BTreeSet<String>,
}

pub struct Rendered {
    pub pdf: Vec<u8>,
    /// The generated Typst markup of the final pass.
    pub markup: String,
    /// The files the markup reads (`/assets/qr.png`, pictures), by virtual path.
    pub files: Vec<(String, Bytes)>,
    pub pages: usize,
    /// Layout passes needed to place continuation labels (1 if none were needed).
    pub passes: usize,
    /// The printed 校验码, when the fingerprint footer is on.
    pub code: Option<String>,
    /// Whether this is a PDF/A-3b archive file with the source attached.
    pub archive: bool,
    /// The form has errors: every page is marked 草稿, with no 校验码 or QR code.
    pub draft: bool,
    /// The date written into the PDF, and where it came from.
    pub date: Option<(Datetime, &'static str)>,
}

/// A laid-out form, ready for export.
pub struct Laid {
    pub document: PagedDocument,
    pub markup: String,
    pub files: Vec<(String, Bytes)>,
    pub passes: usize,
    pub code: Option<String>,
    pub archive: bool,
    pub draft: bool,
    pub date: Option<(Datetime, &'static str)>,
    /// The stable PDF document id.
    pub ident: String,
    /// The PDF's Creator: the versions that made it (`attach::Stamp`).
    pub creator: String,
    /// What an archive carries besides its pages (empty unless `archive`).
    pub attachments: Vec<attach::Attached>,
}

impl Laid {
    /// The PDF of this layout: its id, date and standard (PDF/A-3b for archives).
    pub fn pdf(&self) -> Result<Vec<u8>, Error> {
        let export = pdf::ExportOptions {
            ident: self.ident.clone(),
            creator: self.creator.clone(),
            timestamp: self.date.map(|d| d.0),
            archive: self.archive,
        };
        pdf::export(&self.document, &export).map_err(Error::Export)
    }
}

/// Text drawn outside its cell or the page body, named for the user.
#[derive(Debug, Clone)]
pub struct Stray {
    pub page: usize,
    pub text: String,
    /// The YAML path of the value it belongs to, when found.
    pub field: String,
    pub off_body: bool,
}

#[derive(Debug)]
pub enum Error {
    /// The catalog of kinds could not be loaded (a broken user template folder).
    Catalog(String),
    /// The form has structural errors; see its findings.
    NotRenderable,
    /// The template failed; carries template name and line where known.
    Template(String),
    /// Typst rejected the generated markup.
    Typst {
        diagnostics: Vec<pdf::Diagnostic>,
        markup: String,
        hint: Option<String>,
    },
    /// Page breaks kept moving while labels were repeated.
    Pagination(String),
    /// An archive file was asked for a form with this many errors (a draft).
    DraftArchive(usize),
    /// Glyphs no font has reached the layout (the preflight missed them).
    Tofu(Vec<pdf::Tofu>),
    /// Text the layout could not keep inside its cell or page.
    Overflow(Vec<Stray>),
    /// Texts of the data the pages do not show whole, on the paper above the footer.
    Unprinted(Vec<paper::Unprinted>),
    Export(Vec<String>),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Error::Catalog(m) => write!(f, "{m}"),
            Error::NotRenderable => write!(f, "表单有结构性错误，未生成 PDF"),
            Error::Template(m) => write!(f, "模板错误：{m}"),
            Error::Typst { diagnostics, hint, .. } => {
                write!(f, "排版错误（Typst）：")?;
                for d in diagnostics {
                    match d.at {
                        Some((l, c)) => write!(f, "\n  main.typ:{l}:{c}: {}", d.message)?,
                        None => write!(f, "\n  {}", d.message)?,
                    }
                    for h in &d.hints {
                        write!(f, "\n    提示：{h}")?;
                    }
                }
                if let Some(h) = hint {
                    write!(f, "\n  {h}")?;
                }
                Ok(())
            }
            Error::Pagination(m) => write!(f, "分页未能收敛：{m}"),
            Error::DraftArchive(n) => {
                write!(f, "表单有 {n} 个错误，只能生成草稿；改正错误后才能生成存档文件（PDF/A-3b）")
            }
            Error::Tofu(t) => {
                write!(f, "排版后仍有无法显示的字符：")?;
                for t in t {
                    let c = t.text.chars().next().unwrap_or(' ');
                    write!(f, "\n  第 {} 页：{} U+{:04X}（字体 {}）", t.page, t.text, c as u32, t.font)?;
                }
                write!(f, "\n  用 --font-path 加入含有这些字的字体")
            }
            Error::Overflow(strays) => {
                write!(f, "排版后有文字超出单元格或页面，未生成 PDF：")?;
                for s in strays {
                    let text: String = s.text.chars().take(30).collect();
                    let place = if s.field.is_empty() { String::new() } else { format!("（{}）", s.field) };
                    let why = if s.off_body { "超出页面正文区" } else { "越过表格线" };
                    write!(f, "\n  第 {} 页：「{text}」{place}{why}", s.page)?;
                }
                Ok(())
            }
            Error::Unprinted(lost) => {
                write!(f, "排版后纸面上缺少表中的文字，未生成 PDF：")?;
                for u in lost {
                    let place = if u.label.is_empty() { u.yaml.clone() } else { format!("{} · {}", u.label, u.yaml) };
                    write!(f, "\n  「{}」〔{place}〕：{} 字中只印出 {} 字", u.text, u.chars, u.found)?;
                }
                Ok(())
            }
            Error::Export(m) => write!(f, "PDF 导出失败：{}", m.join("；")),
        }
    }
}

impl std::error::Error for Error {}

thread_local! {
    /// The markup this thread compiled last. The next form's markup is made
    /// from it by editing only the lines that differ, so cells the two forms
    /// share keep their spans and Typst reuses their layouts: in a batch of
    /// one kind most cells (labels, indicator names, explanations) repeat.
    static LAST_MARKUP: RefCell<Option<Source>> = const { RefCell::new(None) };
}

impl Engine {
    /// Lays out a checked form and exports the PDF.
    pub fn render(&self, form: &Form, options: &RenderOptions) -> Result<Rendered, Error> {
        let laid = self.layout(form, options)?;
        let pdf = laid.pdf()?;
        Ok(Rendered {
            pdf,
            pages: laid.document.pages().len(),
            markup: laid.markup,
            files: laid.files,
            passes: laid.passes,
            code: laid.code,
            archive: laid.archive,
            draft: laid.draft,
            date: laid.date,
        })
    }

    /// Lays out a checked form: the Typst document, before any export (PDF,
    /// or PNG and SVG previews).
    ///
    /// Pages are only known after layout, so the form is laid out in passes.
    /// Each pass reads where rows landed and adds to the tables' plans: cuts
    /// where a page starts inside a repeating label, rows found too tall for a
    /// page (allowed to split), and a split that keeps the last rows with a
    /// 签章区 that would otherwise stand alone. Plans only grow and are bounded
    /// by the rows, so the passes end; most forms need one or two.
    pub fn layout(&self, form: &Form, options: &RenderOptions) -> Result<Laid, Error> {
        if !form.renderable() {
            return Err(Error::NotRenderable);
        }
        let kind = self.catalog.kind(form.kind.as_deref().unwrap_or_default()).ok_or(Error::NotRenderable)?;
        let job = Job::new(kind, form, options)?;
        let mut ctx = Context::of(kind, form, &job.meta);
        ctx.show = options.show_columns.clone();
        let mut plans: BTreeMap<String, Plan> = BTreeMap::new();
        let rows: usize = indicator_fields(kind).map(|(key, spec)| table_rows(spec, form, key)).sum();
        let last = LAST_MARKUP.with(|last| last.borrow_mut().take());
        let today = job.date.map_or_else(default_today, |d| d.0);
        let mut world = match last {
            Some(source) => FormWorld::with_source(&self.fonts, source, today),
            None => FormWorld::new(&self.fonts, String::new(), today),
        };
        for (path, bytes) in &job.files {
            world.add_file(path, bytes.clone());
        }
        if let Some(codes) = &job.page_codes {
            world.serve_page_codes(codes);
        }
        let margins = ink::Margins::mm(&kind.manifest.page.margin);
        for pass in 1.. {
            let mut markup = self.markup_with(kind, &ctx, form, &plans)?;
            markup.push_str(&job.attach_markup);
            world.replace_main(&markup);
            let doc = pdf::compile(&world).map_err(|diagnostics| {
                let hint = self.template_hint(kind, world.main_source().text(), &diagnostics);
                Error::Typst { diagnostics, markup: world.main_source().text().to_string(), hint }
            })?;
            let strays = ink::strays(&doc, &margins);
            let mut grew = false;
            for (key, found) in self.replan(kind, form, &doc, &plans, &strays) {
                grew |= plans.entry(key).or_default().absorb(&found);
            }
            if grew {
                // Unreachable in theory (every pass adds at least one row to a plan).
                if pass > 4 + 3 * rows {
                    return Err(Error::Pagination(format!("{pass} 遍排版后分页仍在变化")));
                }
                continue;
            }
            let tofu = pdf::find_tofu(&doc);
            if !tofu.is_empty() {
                return Err(Error::Tofu(tofu));
            }
            if !strays.is_empty() {
                return Err(Error::Overflow(strays.into_iter().map(|s| self.name_stray(kind, form, s)).collect()));
            }
            // The backstop: every text of the data is on the paper, whole, above the footer.
            let lost = paper::unprinted(&paper::page_texts(&doc, &margins), &paper::cells(kind, &form.data));
            if !lost.is_empty() {
                return Err(Error::Unprinted(lost));
            }
            let mut files = job.files;
            // The QR codes the World drew, so that `--typ` markup compiles on its own.
            if let Some(codes) = &job.page_codes {
                files.extend(codes.drawn().into_iter().map(|(path, svg)| (path, Bytes::from_string(svg))));
            }
            let markup = world.main_source().text().to_string();
            LAST_MARKUP.with(|last| *last.borrow_mut() = Some(world.into_source()));
            return Ok(Laid {
                document: doc,
                markup,
                files,
                passes: pass,
                code: job.code,
                archive: job.archive,
                draft: job.draft,
                date: job.date,
                ident: ident(kind, form),
                creator: attach::Stamp { draft: job.draft, ..attach::Stamp::running(Some(kind)) }.creator(),
                attachments: if job.archive { attach::attached(form) } else { vec![] },
            });
        }
        unreachable!("the pass loop only ends by returning")
    }

    /// What one layout tells about each indicator table's plan.
    fn replan(
        &self,
        kind: &Kind,
        form: &Form,
        doc: &PagedDocument,
        plans: &BTreeMap<String, Plan>,
        strays: &[ink::Stray],
    ) -> BTreeMap<String, Plan> {
        let pages = pdf::row_pages(doc);
        let overflowing = ink::overflowing_pages(strays);
        let alone = pdf::signature_alone(doc, typst::layout::Abs::mm(kind.manifest.page.margin.top));
        let mut out = BTreeMap::new();
        for (key, spec) in indicator_fields(kind) {
            let style = self.table_style(kind, spec, form);
            let Some(rows) = pages.get(key) else { continue };
            let current = plans.get(key).cloned().unwrap_or_default();
            let mut found = Plan {
                cuts: indicators::cuts(spec, &form.data[key], &pdf::page_starts(rows), &style),
                ..Plan::default()
            };
            // An unbreakable row that runs off its page is the last row on that page;
            // if it is one kept with the 签章区, they cannot be kept together.
            for page in &overflowing {
                if let Some((&row, _)) = rows.iter().rev().find(|(_, p)| *p == page) {
                    match current.split {
                        Some(s) if row >= s => found.loose = true,
                        _ => {
                            found.breakable.insert(row);
                        }
                    }
                }
            }
            // A 签章区 alone on its page takes one more of the table's last rows with it,
            // unless that row is too tall to keep whole.
            let n = rows.len();
            let keep = current.split.unwrap_or(n).saturating_sub(1);
            let signed = form.data.get("signature").is_some_and(|s| !s.is_null());
            if alone && signed && keep > 0 && !current.loose && !current.breakable.contains(&keep) {
                found.split = Some(keep);
            }
            // A continuation page that holds only the table's last row takes the row
            // before it too: a row is not left alone on the last page.
            let (first_page, last_page) = (rows.values().next(), rows.values().next_back());
            let on_last = rows.values().filter(|&p| Some(p) == last_page).count();
            if n >= 2
                && on_last == 1
                && first_page != last_page
                && !current.loose
                && !current.breakable.contains(&(n - 2))
            {
                found.split = Some(current.split.map_or(n - 2, |s| s.min(n - 2)));
            }
            out.insert(key.clone(), found);
        }
        out
    }

    /// How this form draws an indicator table: repeated labels and the block label.
    pub(crate) fn table_style(&self, kind: &Kind, spec: &kind::Field, form: &Form) -> indicators::Style {
        let labels: BTreeMap<String, String> = form
            .options
            .get("labels")
            .and_then(Json::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default();
        // The block label as the form prints it (`labels` of the field, 绩效指标(90分)).
        let key = kind.manifest.fields.iter().find(|(_, f)| std::ptr::eq(*f, spec)).map(|(k, _)| k.as_str());
        let relabelled = key.and_then(|k| labels.get(k)).cloned();
        // A form without the block label column says so with an empty label.
        let block = match relabelled {
            Some(none) if none.is_empty() => None,
            relabelled => spec.block.clone().map(|b| relabelled.unwrap_or(b)),
        };
        let total =
            (!spec.totals.is_empty()).then(|| labels.get("total").cloned().unwrap_or_else(|| "总分".to_string()));
        let keys = |option: &str| -> Vec<String> {
            let list = form.options.get(option).and_then(Json::as_array);
            list.into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
        };
        // The table spans the page between the margins; body text is 10.5 pt.
        let page = &kind.manifest.page;
        let (w, h) = paper_mm(&page.paper);
        let across = if page.landscape { w.max(h) } else { w.min(h) } - page.margin.left - page.margin.right;
        let show = |v: &Json| match v {
            Json::String(s) => s.clone(),
            Json::Number(n) => crate::form::values::format_amount(n.as_f64().unwrap_or_default(), None),
            _ => String::new(),
        };
        let extra = spec.totals.iter().map(|(col, key)| (col.clone(), vec![show(&form.data[key.as_str()])])).collect();
        indicators::Style {
            repeat_labels: repeat_labels(form),
            block,
            labels,
            extra,
            total,
            width_em: across / 25.4 * 72.0 / 10.5,
            block_width: spec.block_width,
            fixed_widths: spec.fixed_widths,
            show: keys("show").into_iter().collect(),
            order: keys("order"),
            hide: keys("absent").into_iter().collect(),
            marks: false,
        }
    }

    /// Names the cell a misplaced run of text belongs to, by finding it in the data.
    fn name_stray(&self, kind: &Kind, form: &Form, stray: ink::Stray) -> Stray {
        let needle: String = stray.text.chars().take(24).collect();
        let field = find_text(&form.data, needle.trim(), &mut String::new()).unwrap_or_default();
        let _ = kind;
        Stray { page: stray.page, text: stray.text, field, off_body: stray.off_body }
    }

    /// Renders the kind's template for this form.
    pub fn markup(
        &self,
        kind: &Kind,
        form: &Form,
        plans: &BTreeMap<String, Plan>,
        meta: &Json,
    ) -> Result<String, Error> {
        self.markup_with(kind, &Context::of(kind, form, meta), form, plans)
    }

    /// Renders the template with the parts of its context that stay the same
    /// from pass to pass converted once; only the tables change.
    fn markup_with(
        &self,
        kind: &Kind,
        ctx: &Context,
        form: &Form,
        plans: &BTreeMap<String, Plan>,
    ) -> Result<String, Error> {
        let empty = Plan::default();
        let tables: BTreeMap<&String, Value> = indicator_fields(kind)
            .map(|(key, spec)| {
                let mut style = self.table_style(kind, spec, form);
                style.marks = ctx.cells;
                style.show.extend(ctx.show.iter().cloned());
                let table = indicators::layout(key, spec, &form.data[key], plans.get(key).unwrap_or(&empty), &style);
                match &table.misplaced {
                    // A 总分 value is never printed under another column's header.
                    Some(m) => Err(Error::Template(format!("总分行的「{}」没有自己的栏（{}）可印", m.text, m.column))),
                    None => Ok((key, to_value(&table))),
                }
            })
            .collect::<Result<_, _>>()?;
        let ctx = minijinja::context! {
            form => ctx.form.clone(),
            options => ctx.options.clone(),
            kind => ctx.kind.clone(),
            meta => ctx.meta.clone(),
            marker => pdf::ROW_MARKER,
            tables => to_value(&tables),
        };
        let template = self.env.get_template(&kind.template_name()).map_err(template_error)?;
        template.render(ctx).map_err(template_error)
    }

    /// Points a Typst error at the template line that most likely produced it.
    fn template_hint(&self, kind: &Kind, markup: &str, diags: &[pdf::Diagnostic]) -> Option<String> {
        let (line, _) = diags.iter().find_map(|d| d.at)?;
        let generated = markup.lines().nth(line - 1)?.trim();
        let sources = self.catalog.sources();
        let mut best: Option<(usize, String)> = None;
        let prefix = format!("{}/", kind.id);
        for (name, text) in sources.iter().filter(|(n, _)| n.starts_with(&prefix) || n.starts_with("_shared/")) {
            if !name.ends_with(".j2") {
                continue;
            }
            for (i, tl) in text.lines().enumerate() {
                let score: usize = literal_chunks(tl).filter(|c| generated.contains(c)).map(str::len).sum();
                if score >= 6 && best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((score, format!("{name}:{}", i + 1)));
                }
            }
        }
        best.map(|(_, at)| format!("出错的标记（main.typ 第 {line} 行）可能来自模板 {at}；用 --typ 查看生成的标记"))
    }
}

/// The template context that is the same in every pass, as template values.
struct Context {
    form: Value,
    options: Value,
    kind: Value,
    meta: Value,
    /// Cells carry their data paths (`RenderOptions::cells`).
    cells: bool,
    /// Indicator columns shown even when blank (`RenderOptions::show_columns`).
    show: std::collections::BTreeSet<String>,
}

impl Context {
    fn of(kind: &Kind, form: &Form, meta: &Json) -> Context {
        let m = &kind.manifest;
        let about = json!({
            "id": kind.id,
            "name": m.name,
            "page": { "paper": m.page.paper, "landscape": m.page.landscape, "margin": m.page.margin },
            "fonts": m.fonts,
            "captions": m.captions,
        });
        Context {
            form: to_value(&form.data),
            options: to_value(&form.options),
            kind: to_value(&about),
            meta: to_value(meta),
            cells: meta.get("cells").and_then(Json::as_bool).unwrap_or(false),
            show: Default::default(),
        }
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// Where the footer reads the printed 校验码 from.
const CODE_PATH: &str = "/assets/code.txt";

/// What one render needs besides the markup: files for the World, the
/// fingerprint footer, the archive attachment and the document date.
struct Job {
    files: Vec<(String, Bytes)>,
    meta: Json,
    code: Option<String>,
    /// The fingerprint whose per-page QR codes the footer prints.
    page_codes: Option<qr::PageCodes>,
    archive: bool,
    draft: bool,
    attach_markup: String,
    date: Option<(Datetime, &'static str)>,
}

impl Job {
    fn new(kind: &Kind, form: &Form, options: &RenderOptions) -> Result<Job, Error> {
        let flag = |k: &str| form.options.get(k).and_then(Json::as_bool);
        let archive = options.archive || flag("archive").unwrap_or(false);
        // Paper must not lie: a form with errors is printed as a draft, with no
        // 校验码 or QR code, and is never archived.
        let errors = form.errors();
        let draft = errors > 0;
        if draft && archive {
            return Err(Error::DraftArchive(errors));
        }
        let mut files: Vec<(String, Bytes)> =
            form.assets.iter().map(|(p, b)| (p.clone(), Bytes::new(b.clone()))).collect();
        let mut meta = json!({ "archive": archive, "draft": draft, "errors": errors, "code": null, "hash": null,
                               "qr": null, "cells": options.cells });
        // The 骑缝章 (never on a draft, which must not look stamped).
        let seal_across = match &options.seal_across {
            Some((ext, bytes)) => {
                let path = format!("/assets/seal-across.{ext}");
                files.push((path.clone(), Bytes::new(bytes.clone())));
                Some(path)
            }
            None => form
                .options
                .get(schema::SEAL_ACROSS)
                .and_then(Json::as_str)
                .filter(|p| !p.is_empty())
                .map(str::to_string),
        };
        meta["seal_across"] = json!(seal_across.filter(|_| !draft));
        let mut code = None;
        let mut page_codes = None;
        if !draft && flag("fingerprint").unwrap_or(true) {
            let fp = fingerprint::Fingerprint::of(&fingerprint::Shape {
                kind: &kind.id,
                version: &kind.manifest.version,
                data: &form.data,
                options: &form.options,
                assets: &form.assets,
            });
            // Each page's QR code is drawn by the World when the footer asks for it.
            meta["qr"] = json!({ "dir": qr::QR_DIR, "side": qr::qr_side_mm() });
            meta["code"] = json!(fp.code());
            meta["code_file"] = json!(CODE_PATH);
            files.push((CODE_PATH.into(), Bytes::from_string(fp.code())));
            meta["hash"] = json!(fp.hex);
            code = Some(fp.code());
            page_codes = Some(qr::PageCodes::new(fp.hex));
        }
        let mut attach_markup = String::new();
        if archive {
            let (markup, (path, bytes)) = attach::attachments(kind, form);
            attach_markup = markup;
            files.push((path, Bytes::new(bytes)));
        }
        let form_date = [form.data.pointer("/signature/date"), form.data.get("date")]
            .into_iter()
            .flatten()
            .find_map(|v| v.as_str().and_then(schema::parse_date));
        let date = options
            .date
            .map(|d| (d, "given"))
            .or_else(|| {
                form_date.and_then(|(y, m, d)| Datetime::from_ymd(y, m as u8, d as u8)).map(|d| (d, "填报日期"))
            })
            .or_else(|| source_date_epoch().map(|d| (d, "SOURCE_DATE_EPOCH")))
            .or_else(|| {
                // PDF/A needs a date; without one, 1 January of the form's 年度 keeps output reproducible.
                let year = form.data.get("year").and_then(Json::as_i64).unwrap_or(2000) as i32;
                archive.then(|| Datetime::from_ymd(year, 1, 1).map(|d| (d, "年度首日"))).flatten()
            });
        Ok(Job { files, meta, code, page_codes, archive, draft, attach_markup, date })
    }
}

/// The fixed text pieces of a template line (outside `{{ }}` and `{% %}`).
fn literal_chunks(line: &str) -> impl Iterator<Item = &str> {
    let mut chunks = vec![];
    let mut rest = line;
    while !rest.is_empty() {
        let next = [rest.find("{{"), rest.find("{%"), rest.find("{#")].into_iter().flatten().min();
        match next {
            Some(i) => {
                chunks.push(&rest[..i]);
                let close = match &rest[i..i + 2] {
                    "{{" => "}}",
                    "{%" => "%}",
                    _ => "#}",
                };
                rest = rest[i..].find(close).map_or("", |j| &rest[i + j + 2..]);
            }
            None => {
                chunks.push(rest);
                rest = "";
            }
        }
    }
    chunks.into_iter().map(str::trim).filter(|c| c.len() >= 4)
}

fn template_error(e: minijinja::Error) -> Error {
    let mut msg = String::new();
    if let (Some(name), Some(line)) = (e.name(), e.line()) {
        msg.push_str(&format!("{name}:{line}: "));
    }
    if e.kind() == minijinja::ErrorKind::OutOfFuel {
        // The template's step budget (`template::FUEL`): a loop that does not end, most likely.
        msg.push_str("模板运行超出限度（可能是不会结束的循环），已停止");
        return Error::Template(msg);
    }
    msg.push_str(&e.kind().to_string());
    if let Some(detail) = e.detail() {
        msg.push_str(&format!("：{detail}"));
    }
    Error::Template(msg)
}

/// Width and height of a paper size in millimetres (A4 unless named otherwise).
fn paper_mm(paper: &str) -> (f64, f64) {
    match paper.to_ascii_lowercase().as_str() {
        "a3" => (297.0, 420.0),
        "a5" => (148.0, 210.0),
        "b5" | "jis-b5" => (182.0, 257.0),
        "us-letter" => (215.9, 279.4),
        _ => (210.0, 297.0),
    }
}

/// Rows of an indicator table, for the bound on layout passes.
fn table_rows(spec: &kind::Field, form: &Form, key: &str) -> usize {
    indicators::layout(key, spec, &form.data[key], &Plan::default(), &indicators::Style::default()).rows.len()
}

/// The YAML path of the first text value that contains `needle`.
fn find_text(value: &Json, needle: &str, path: &mut String) -> Option<String> {
    match value {
        Json::String(s) if !needle.is_empty() && s.contains(needle) => Some(path.clone()),
        Json::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = find_text(v, needle, path);
            path.truncate(len);
            found
        }),
        Json::Object(map) => map.iter().find_map(|(k, v)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(k);
            let found = find_text(v, needle, path);
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

/// The `repeat_labels` option: print repeating labels again on a new page.
fn repeat_labels(form: &Form) -> bool {
    form.options.get("repeat_labels").and_then(Json::as_bool).unwrap_or(true)
}

fn indicator_fields(kind: &Kind) -> impl Iterator<Item = (&String, &kind::Field)> {
    kind.manifest.fields.iter().filter(|(_, f)| f.ty == FieldType::Indicators)
}

/// A stable document id: the same form data gives the same /ID (Typst hashes it).
fn ident(kind: &Kind, form: &Form) -> String {
    format!("formpress/{}/{}", kind.id, form.data)
}

/// `SOURCE_DATE_EPOCH` (reproducible builds) as the document date.
pub fn source_date_epoch() -> Option<Datetime> {
    let secs: i64 = std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()?;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    Datetime::from_ymd_hms(y, m, d, (rem / 3600) as u8, (rem % 3600 / 60) as u8, (rem % 60) as u8)
}

/// `datetime.today()` inside templates when the form gives no date.
fn default_today() -> Datetime {
    Datetime::from_ymd(2000, 1, 1).expect("valid date")
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
pub(crate) fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(18_262), (2020, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn template_literals() {
        let chunks: Vec<&str> = literal_chunks("table.cell(rowspan: {{ c.rowspan }})[{{ c.text }}] // note").collect();
        assert_eq!(
            chunks,
            vec!["table.cell(rowspan:", ")[", "] // note"].into_iter().filter(|c| c.len() >= 4).collect::<Vec<_>>()
        );
    }
}
