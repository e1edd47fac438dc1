//! The live preview: the printed pages of the page's data, laid out on one
//! thread of its own so that each edit starts from the markup of the one
//! before (the engine keeps it per thread, and Typst then reuses the layout
//! of every cell the edit did not touch). Only pages that changed are sent
//! (the page says which it has, by hash), with where each value's cell landed
//! so a click on a page selects that cell.
//!
//! A form that cannot be laid out yet because parts the kind requires are
//! missing (a new form has no indicators) is previewed with those parts
//! blank: an untouched new form as the blank official form (no 校验码, no
//! draft mark: it is not a filled-in form), anything else as a draft.

use std::sync::Arc;

use base64::Engine as _;
use std::sync::mpsc::{Sender, channel};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::App;
use super::editor::{self, View};
use super::routes::{Refusal, body, check_data, no};
use super::yamledit::Data;
use crate::form::Form;
use crate::form::findings::{Class, Finding, Place};
use crate::form::kind::{Field, FieldType};
use crate::layout::RenderOptions;
use crate::outputs::report::Status;

type Job = Box<dyn FnOnce() + Send>;

/// One thread that runs previews one after the other.
pub struct Lane(Sender<Job>);

impl Lane {
    pub fn start() -> Lane {
        let (tx, rx) = channel::<Job>();
        let spawned = std::thread::Builder::new().name("formpress-preview".into()).spawn(move || {
            for job in rx {
                // A layout that panics answers its page with an error (the sender is
                // dropped); the thread goes on with the next edit.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                // Layouts no edit has used for a while go, so memory stays flat.
                typst::comemo::evict(30);
            }
        });
        if spawned.is_err() {
            eprintln!("formpress: 无法启动预览线程");
        }
        Lane(tx)
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.0
            .send(Box::new(move || {
                let _ = tx.send(work());
            }))
            .ok()?;
        rx.await.ok()
    }
}

#[derive(Deserialize)]
struct PreviewBody {
    session: String,
    seq: u64,
    #[serde(default)]
    name: Option<String>,
    data: Data,
    /// Hashes of the pages the page shows: those pages are not sent again.
    #[serde(default)]
    have: Vec<String>,
    /// An untouched new form: preview it as the blank official form.
    #[serde(default)]
    blank: bool,
    /// Pages as PNG at this many pixels per point (the size the page shows
    /// them at) instead of SVG.
    #[serde(default)]
    png: Option<f64>,
    #[serde(flatten)]
    view: View,
}

pub(super) async fn preview(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    let req: PreviewBody = match body(b) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let started = Instant::now();
    let session: String = req.session.chars().take(64).collect();
    {
        let mut latest = app.latest.lock().unwrap_or_else(|e| e.into_inner());
        if latest.len() > 256 {
            latest.clear();
        }
        let newest = latest.entry(session.clone()).or_insert(0);
        *newest = (*newest).max(req.seq);
    }
    let lane_app = app.clone();
    let r = app
        .preview
        .run(move || {
            let app = lane_app;
            let stale = {
                let latest = app.latest.lock().unwrap_or_else(|e| e.into_inner());
                latest.get(&session).is_some_and(|&n| n > req.seq)
            };
            if stale {
                return Ok(json!({"seq": req.seq, "superseded": true}));
            }
            pages(&app, &req)
        })
        .await
        .unwrap_or_else(|| Err(no(StatusCode::SERVICE_UNAVAILABLE, "预览线程已停止")));
    match r {
        Ok(mut j) => {
            j["ms"] = json!(started.elapsed().as_millis() as u64);
            let gzip = headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|e| e.trim().split(';').next() == Some("gzip")));
            if gzip { super::routes::gzipped_json(&j) } else { axum::Json(j).into_response() }
        }
        Err(r) => r.into_response(),
    }
}

fn pages(app: &App, req: &PreviewBody) -> Result<Json, Refusal> {
    let form = check_data(app, req.name.as_deref(), &req.data)?;
    let mut j = json!({"seq": req.seq, "status": Status::of(&form)});
    let Some(kind) = form.kind.as_deref().and_then(|k| app.engine.catalog().kind(k)) else {
        j["error"] = json!("表单有结构性错误，无法排版；请先改正标出的错误");
        return Ok(j);
    };
    let mut options = RenderOptions { cells: true, ..RenderOptions::default() };
    let laid_form = if form.renderable() && !req.blank {
        form
    } else {
        // Parts the kind requires are missing: lay out the form with them blank.
        let Some(mut filled) = blank_parts(app, kind, &req.data, req.name.as_deref(), &req.view) else {
            j["error"] = json!("表单有结构性错误，无法排版；请先改正标出的错误");
            return Ok(j);
        };
        filled.options.insert("fingerprint".into(), json!(false));
        if req.blank {
            filled.findings.clear();
            j["blank"] = json!(true);
        } else {
            let unfinished = Finding::error(Class::Rule, None, &Place::default(), "表单尚未填完");
            filled.findings.retain(|f| f.severity == crate::form::findings::Severity::Error);
            filled.findings.push(unfinished);
        }
        for (_, spec) in kind.manifest.fields.iter().filter(|(_, f)| f.ty == FieldType::Indicators) {
            let sides = editor::shown_sides(spec, &Json::Null, &req.view);
            options.show_columns.extend(editor::main_columns(spec, &sides));
        }
        filled
    };
    options.show_columns.extend(req.view.show.iter().cloned());
    let report = match app.engine.report(&laid_form, &options) {
        Ok(r) => r,
        Err(e) => {
            j["error"] = json!(e.to_string());
            return Ok(j);
        }
    };
    let doc = &report.laid.document;
    let boxes = crate::layout::cells::cell_boxes(doc);
    let svg = typst_svg::SvgOptions::default();
    let pages: Vec<Json> = doc
        .pages()
        .iter()
        .zip(boxes)
        .map(|(page, cells)| {
            // The hash covers the resolution: a page shown larger is drawn again.
            let hash = format!("{:032x}", typst::utils::hash128(&(&page.frame, req.png.map(f64::to_bits))));
            let size = page.frame.size();
            let mut p = json!({"hash": hash, "w": size.x.to_pt(), "h": size.y.to_pt(), "cells": cells});
            if req.have.contains(&hash) {
                return p;
            }
            match req.png {
                Some(ppp) => match crate::outputs::preview::png_page(page, ppp.clamp(0.25, 4.0)) {
                    Ok(bytes) => p["png"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
                    Err(e) => p["error"] = json!(e.to_string()),
                },
                None => p["svg"] = json!(typst_svg::svg(page, &svg)),
            }
            p
        })
        .collect();
    j["pages"] = json!(pages);
    j["draft"] = json!(report.draft());
    j["code"] = json!(report.code());
    j["notes"] = json!(report.notes());
    Ok(j)
}

/// The page's data with the parts the kind requires filled in blank, checked;
/// none when it still cannot be laid out (a wrong type, an unknown kind).
fn blank_parts(
    app: &App,
    kind: &crate::form::kind::Kind,
    data: &Data,
    name: Option<&str>,
    view: &View,
) -> Option<Form> {
    let mut json = serde_json::to_value(data).ok()?;
    fill_required(&kind.manifest.fields, &mut json, view);
    let filled: Data = serde_json::from_value(json).ok()?;
    let form = check_data(app, name, &filled).ok()?;
    form.renderable().then_some(form)
}

fn fill_required(fields: &indexmap::IndexMap<String, Field>, data: &mut Json, view: &View) {
    let Some(map) = data.as_object_mut() else { return };
    for (key, f) in fields {
        match f.ty {
            // A record the form leaves out may still hold required fields: filled in too.
            FieldType::Record => {
                let v = map.entry(key.clone()).or_insert_with(|| json!({}));
                if v.is_null() {
                    *v = json!({});
                }
                if let Some(sub) = &f.fields {
                    fill_required(sub, v, view);
                }
            }
            FieldType::Indicators => {
                let sides = editor::shown_sides(f, map.get(key).unwrap_or(&Json::Null), view);
                let tree = editor::pad(f, map.get(key).unwrap_or(&Json::Null), &sides);
                map.insert(key.clone(), tree);
            }
            _ => {}
        }
    }
}
