//! The page, its assets and the JSON API. Every route that names a form goes
//! through `Folder::path`; every answer that says something is wrong is
//! `{"error": "…"}` in Chinese with a fitting status.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::folder::FolderError;
use super::yamledit::{self, Data};
use super::{App, refuse};
use crate::form::{Form, kind, yaml};
use crate::layout::RenderOptions;
use crate::outputs::describe;
use crate::outputs::report::Status;

/// The Excel export, offered by the page (it hides the button when a build has none).
const XLSX: bool = true;

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", "index.html", include_str!("assets/index.html")) }),
        )
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", "app.js", include_str!("assets/app.js")) }),
        )
        .route(
            "/app.css",
            get(|| async { asset("text/css; charset=utf-8", "app.css", include_str!("assets/app.css")) }),
        )
        // Browsers ask for an icon; there is none, and no error to log for it.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/api/info", get(info))
        .route("/api/kind", get(kind))
        .route("/api/forms", get(forms))
        .route("/api/form", get(form))
        .route("/fonts/{file}", get(font))
        .route("/api/check", post(check))
        .route("/api/sheet", post(sheet))
        .route("/api/preview", post(super::previewer::preview))
        .route("/api/save", post(save))
        .route("/api/pdf", get(pdf))
        .route("/api/xlsx", get(xlsx))
        .route("/api/import", post(import))
        .route("/api/seal", post(seal))
        .route("/api/copy", post(copy))
        .fallback(|| async { refuse(StatusCode::NOT_FOUND, "没有这个页面") })
        .with_state(app)
}

/// A page asset, embedded in the binary. For work on the page itself,
/// `FORMPRESS_SERVE_ASSETS=src/interfaces/serve/assets` reads them from that
/// folder on every request instead (no rebuild between edits).
fn asset(content_type: &'static str, name: &str, body: &'static str) -> Response {
    if let Some(dir) = std::env::var_os("FORMPRESS_SERVE_ASSETS")
        && let Ok(text) = std::fs::read_to_string(std::path::Path::new(&dir).join(name))
    {
        return ([(header::CONTENT_TYPE, content_type)], text).into_response();
    }
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

#[derive(Deserialize)]
struct NameQuery {
    name: String,
    #[serde(default)]
    archive: Option<String>,
    /// `1`: shown in the browser (to print) rather than downloaded.
    #[serde(default)]
    inline: Option<String>,
}

#[derive(Deserialize)]
struct KindQuery {
    id: String,
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Refusal> {
    q.map(|Query(q)| q).map_err(|_| no(StatusCode::BAD_REQUEST, "请求缺少参数或参数无效"))
}

/// The JSON body of a request, with the size limit and malformed JSON told in Chinese.
pub(super) fn body<T: serde::de::DeserializeOwned>(b: Result<Bytes, BytesRejection>) -> Result<T, Refusal> {
    let bytes = b.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let mb = super::MAX_BODY_BYTES / (1024 * 1024);
            no(StatusCode::PAYLOAD_TOO_LARGE, format!("请求过大（上限 {mb} MB）"))
        } else {
            no(e.status(), "请求无法读取")
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| no(StatusCode::BAD_REQUEST, format!("请求不是有效的 JSON：{e}")))
}

/// Why a request is not done, told to the page as `{"error": "…"}` with a status.
pub(super) enum Refusal {
    /// A name or file of the folder: bad name, outside, missing, changed meanwhile.
    Folder(FolderError),
    /// A save that would drop these comments, not yet confirmed.
    WouldDrop(Vec<String>),
    /// Anything else, with its status.
    Other(StatusCode, String),
}

impl From<FolderError> for Refusal {
    fn from(e: FolderError) -> Self {
        Refusal::Folder(e)
    }
}

pub(super) fn no(status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal::Other(status, message.into())
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Refusal::Folder(e) => {
                let status = match &e {
                    FolderError::BadName(_) => StatusCode::BAD_REQUEST,
                    FolderError::Outside(_) | FolderError::Special(_) => StatusCode::FORBIDDEN,
                    FolderError::NotFound(_) => StatusCode::NOT_FOUND,
                    FolderError::Conflict { .. } => StatusCode::CONFLICT,
                    FolderError::Read(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    FolderError::Write(_) => StatusCode::INTERNAL_SERVER_ERROR,
                };
                let conflict = matches!(e, FolderError::Conflict { .. });
                (status, json!({"error": e.to_string(), "conflict": conflict}))
            }
            Refusal::WouldDrop(dropped) => {
                let message = format!("这次修改改变了表的结构，保存时会删去 {} 条注释", dropped.len());
                (StatusCode::CONFLICT, json!({"error": message, "confirm": dropped}))
            }
            Refusal::Other(status, message) => (status, json!({"error": message})),
        };
        (status, axum::Json(body)).into_response()
    }
}

/// Runs CPU or file work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    app: &Arc<App>,
    work: impl FnOnce(&App) -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    let app = app.clone();
    tokio::task::spawn_blocking(move || work(&app))
        .await
        .unwrap_or_else(|_| Err(no(StatusCode::INTERNAL_SERVER_ERROR, "内部错误（处理请求时中断）")))
}

pub(super) fn done<T: serde::Serialize>(r: Result<T, Refusal>) -> Response {
    match r {
        Ok(j) => axum::Json(j).into_response(),
        Err(r) => r.into_response(),
    }
}

async fn info(State(app): State<Arc<App>>) -> Response {
    let kinds: Vec<Json> = app
        .engine
        .catalog()
        .kinds()
        .map(
            |k| json!({"id": k.id, "name": k.manifest.name, "description": k.manifest.description, "origin": k.origin}),
        )
        .collect();
    let dir = app.folder.root().display().to_string();
    axum::Json(json!({"dir": dir, "version": env!("CARGO_PKG_VERSION"), "kinds": kinds, "xlsx": XLSX})).into_response()
}

/// A kind's manifest as the page builds its editor from: fields with labels,
/// help, examples, choices; options; the 签章区 fields; the JSON Schema.
async fn kind(State(app): State<Arc<App>>, q: Result<Query<KindQuery>, QueryRejection>) -> Response {
    let q = match query(q) {
        Ok(q) => q,
        Err(r) => return r.into_response(),
    };
    let Some(k) = app.engine.catalog().kind(&q.id) else {
        return refuse(StatusCode::NOT_FOUND, format!("没有表单种类 {}", q.id));
    };
    // Serialised directly (not through serde_json::Value), so fields keep the manifest's order.
    axum::Json(KindView {
        id: &k.id,
        name: &k.manifest.name,
        description: &k.manifest.description,
        fields: &k.manifest.fields,
        options: &k.manifest.options,
        signature: kind::signature_fields(),
        schema: describe::json_schema(k),
    })
    .into_response()
}

#[derive(serde::Serialize)]
struct KindView<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    fields: &'a indexmap::IndexMap<String, kind::Field>,
    options: &'a indexmap::IndexMap<String, kind::OptionSpec>,
    signature: &'a indexmap::IndexMap<String, kind::Field>,
    schema: Json,
}

/// The status and findings of a checked form, each finding with the data
/// path (`tasks[2].fiscal`) the page shows it at.
fn checked(form: &Form) -> Json {
    let status = Status::of(form);
    json!({
        "status": status,
        "status_label": status.label(),
        "errors": form.errors(),
        "warnings": form.warnings(),
        "findings": form.findings,
    })
}

async fn forms(State(app): State<Arc<App>>) -> Response {
    done(
        blocking(&app, |app| {
            let list: Vec<Json> = app
                .folder
                .list()
                .into_iter()
                .map(|name| match app.folder.read(&name) {
                    Ok(read) => {
                        let form = app.engine.check_at(&name, &read.bytes, app.folder.root());
                        let mut j = checked(&form);
                        j.as_object_mut().expect("object").remove("findings");
                        j["name"] = json!(name);
                        j["kind"] = json!(form.kind);
                        j["title"] = json!(title(app, &form));
                        j["modified"] = json!(modified(app, &name));
                        j
                    }
                    Err(e) => json!({"name": name, "status": Status::Broken, "status_label": e.to_string(),
                                     "modified": modified(app, &name)}),
                })
                .collect();
            Ok(json!({"forms": list}))
        })
        .await,
    )
}

/// When a form file was last changed, in milliseconds since 1970 (none if unknown).
fn modified(app: &App, name: &str) -> Option<u64> {
    let path = app.folder.path(name).ok()?;
    let time = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(time.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as u64)
}

/// What names a form in the list: its kind's name and identity fields.
fn title(app: &App, form: &Form) -> String {
    let Some(k) = form.kind.as_deref().and_then(|id| app.engine.catalog().kind(id)) else { return String::new() };
    let mut parts: Vec<String> = k
        .manifest
        .identity
        .iter()
        .filter_map(|key| match &form.data[key] {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    parts.push(k.manifest.name.clone());
    parts.join(" ")
}

async fn form(State(app): State<Arc<App>>, q: Result<Query<NameQuery>, QueryRejection>) -> Response {
    let q = match query(q) {
        Ok(q) => q,
        Err(r) => return r.into_response(),
    };
    done(
        blocking(&app, move |app| {
            let read = app.folder.read(&q.name).map_err(Refusal::Folder)?;
            let form = app.engine.check_at(&q.name, &read.bytes, app.folder.root());
            let data = yaml::parse(&read.bytes).ok().map(|(source, root)| yamledit::typed(&root, &source));
            let mut j = checked(&form);
            j["name"] = json!(q.name);
            j["hash"] = json!(read.hash);
            j["kind"] = json!(form.kind);
            Ok(WithData { rest: j, data: data.unwrap_or(Data::Null) })
        })
        .await,
    )
}

/// An answer with form data in it, its keys in their order.
#[derive(serde::Serialize)]
struct WithData {
    #[serde(flatten)]
    rest: Json,
    data: Data,
}

#[derive(Deserialize)]
struct DataBody {
    #[serde(default)]
    name: Option<String>,
    data: Data,
}

/// The page's data as a form file of the folder (checked as `check` would).
pub(super) fn check_data(app: &App, name: Option<&str>, data: &Data) -> Result<Form, Refusal> {
    let name = match name {
        Some(n) => {
            app.folder.path(n).map_err(Refusal::Folder)?;
            n
        }
        None => "新表单.yaml",
    };
    Ok(app.engine.check_at(name, yamledit::emit(data).as_bytes(), app.folder.root()))
}

async fn check(State(app): State<Arc<App>>, b: Result<Bytes, BytesRejection>) -> Response {
    let req: DataBody = match body(b) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    done(blocking(&app, move |app| Ok(checked(&check_data(app, req.name.as_deref(), &req.data)?))).await)
}

/// A preview is megabytes of SVG (glyph outlines); gzip (fast level) makes the
/// seed's 2.0 MB 0.85 MB, for browsers that accept it, which all do.
pub(super) fn gzipped_json(j: &Json) -> Response {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let body = serde_json::to_vec(j).unwrap_or_default();
    match encoder.write_all(&body).and_then(|()| encoder.finish()) {
        Ok(gz) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_ENCODING, "gzip"),
                (header::VARY, "accept-encoding"),
            ],
            gz,
        )
            .into_response(),
        Err(_) => axum::Json(j.clone()).into_response(),
    }
}

#[derive(Deserialize)]
struct SaveBody {
    name: String,
    /// The file's hash when the page loaded it; none for a new file.
    #[serde(default)]
    base: Option<String>,
    data: Data,
    /// Save even though comments of the file cannot be kept.
    #[serde(default)]
    drop_comments: bool,
}

/// Saves the page's data: value edits keep the file's text around them; a
/// structural edit that would lose comments is confirmed first.
async fn save(State(app): State<Arc<App>>, b: Result<Bytes, BytesRejection>) -> Response {
    let req: SaveBody = match body(b) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    if !matches!(req.data, Data::Map(_)) {
        return refuse(StatusCode::BAD_REQUEST, "表单数据须为映射（对象）");
    }
    let r = blocking(&app, move |app| {
        let kind_name = req
            .data
            .get(crate::form::schema::FORM_KEY)
            .and_then(Data::as_str)
            .and_then(|id| app.engine.catalog().kind(id))
            .map(|k| k.manifest.name.clone());
        let saved = app.folder.save(&req.name, req.base.as_deref(), |current| {
            let edited = match current {
                None => {
                    let head = format!("# {}（由 formpress serve 新建）\n\n", kind_name.as_deref().unwrap_or("表单"));
                    yamledit::Edited { text: head + &yamledit::emit(&req.data), rewritten: true, dropped: vec![] }
                }
                Some(bytes) => match yaml::parse(bytes) {
                    Ok((source, root)) => yamledit::edit(&source, Some(&root), &req.data),
                    Err(_) => yamledit::edit(&String::from_utf8_lossy(bytes), None, &req.data),
                },
            };
            if !edited.dropped.is_empty() && !req.drop_comments {
                return Err(Refusal::WouldDrop(edited.dropped));
            }
            // A file that had a byte-order mark keeps it.
            let bom = current.is_some_and(|b| b.starts_with(b"\xEF\xBB\xBF"));
            let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { vec![] };
            bytes.extend_from_slice(edited.text.as_bytes());
            Ok((bytes, edited))
        });
        let (hash, edited) = saved?;
        let read = app.folder.read(&req.name).map_err(Refusal::Folder)?;
        let form = app.engine.check_at(&req.name, &read.bytes, app.folder.root());
        let mut j = checked(&form);
        j["hash"] = json!(hash);
        j["rewritten"] = json!(edited.rewritten);
        j["dropped"] = json!(edited.dropped);
        Ok(j)
    })
    .await;
    done(r)
}

/// The PDF (or archive PDF) of the saved file, exactly as `formpress render` makes it.
async fn pdf(State(app): State<Arc<App>>, q: Result<Query<NameQuery>, QueryRejection>) -> Response {
    let q = match query(q) {
        Ok(q) => q,
        Err(r) => return r.into_response(),
    };
    let archive = q.archive.as_deref().is_some_and(|a| a == "1");
    let inline = q.inline.as_deref().is_some_and(|a| a == "1");
    // Downloads render a few at a time (the CPU cores).
    let Ok(_permit) = app.renders.acquire().await else {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "服务正在停止");
    };
    let r = blocking(&app, move |app| {
        let form = saved_form(app, &q.name, "PDF")?;
        if archive && form.errors() > 0 {
            return Err(no(
                StatusCode::UNPROCESSABLE_ENTITY,
                crate::layout::Error::DraftArchive(form.errors()).to_string(),
            ));
        }
        let report = app
            .engine
            .report(&form, &RenderOptions { archive, ..RenderOptions::default() })
            .map_err(|e| no(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
        let pdf = report.pdf().map_err(|e| no(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
        let file = format!("{}{}.pdf", stem(&q.name), if archive { "-存档" } else { "" });
        Ok((pdf, file, report.draft()))
    })
    .await;
    match r {
        Ok((pdf, file, draft)) => {
            let mut resp = attachment(pdf, "application/pdf", &file);
            if inline {
                // To print: the browser's own PDF viewer shows the exact file.
                let v = resp.headers()[header::CONTENT_DISPOSITION].to_str().unwrap_or_default().replacen(
                    "attachment",
                    "inline",
                    1,
                );
                if let Ok(v) = HeaderValue::from_str(&v) {
                    resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
                }
            }
            resp.headers_mut().insert("x-formpress-draft", HeaderValue::from_static(if draft { "1" } else { "0" }));
            resp
        }
        Err(r) => r.into_response(),
    }
}

/// The .xlsx of the saved file, exactly as `formpress render --format xlsx` makes it.
async fn xlsx(State(app): State<Arc<App>>, q: Result<Query<NameQuery>, QueryRejection>) -> Response {
    let q = match query(q) {
        Ok(q) => q,
        Err(r) => return r.into_response(),
    };
    let r = blocking(&app, move |app| {
        let form = saved_form(app, &q.name, ".xlsx")?;
        let bytes = crate::outputs::xlsx::write(&app.engine, &form)
            .map_err(|e| no(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
        Ok((bytes, format!("{}.xlsx", stem(&q.name))))
    })
    .await;
    match r {
        Ok((bytes, file)) => {
            attachment(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", &file)
        }
        Err(r) => r.into_response(),
    }
}

/// A saved form of the folder, checked; refused when it cannot be rendered (`what` is being made).
fn saved_form(app: &App, name: &str, what: &str) -> Result<Form, Refusal> {
    let path = app.folder.path(name).map_err(Refusal::Folder)?;
    app.folder.read(name).map_err(Refusal::Folder)?;
    let form = app.engine.check_file(&path).map_err(|e| no(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    if !form.renderable() {
        return Err(no(StatusCode::UNPROCESSABLE_ENTITY, format!("表单有结构性错误，未生成 {what}")));
    }
    Ok(form)
}

/// A file name without its extension.
fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

/// A download: the bytes as `file` (the ASCII fallback name is `form.<ext>`).
fn attachment(bytes: Vec<u8>, content_type: &'static str, file: &str) -> Response {
    let ext = file.rsplit_once('.').map_or("bin", |(_, e)| e);
    let disposition = format!("attachment; filename=\"form.{ext}\"; filename*=UTF-8''{}", rfc5987(file));
    let mut resp = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// A file name for `filename*=UTF-8''…`: every byte but letters, digits and `-._` percent-encoded.
fn rfc5987(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect()
}

/// A bundled face as a web font, so the page shows Chinese on a machine with
/// no Chinese fonts. The faces never change within a version: cached for a year.
async fn font(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let Some(bytes) = crate::layout::fonts::bundled_face(&file) else {
        return refuse(StatusCode::NOT_FOUND, "没有这个字体");
    };
    let content_type = if file.ends_with(".ttf") { "font/ttf" } else { "font/otf" };
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=31536000, immutable")], bytes)
        .into_response()
}

#[derive(Deserialize)]
struct SheetBody {
    #[serde(default)]
    name: Option<String>,
    data: Data,
    #[serde(flatten)]
    view: super::editor::View,
}

/// The editor's grid of the page's data, with the check's status and findings.
async fn sheet(State(app): State<Arc<App>>, b: Result<Bytes, BytesRejection>) -> Response {
    let req: SheetBody = match body(b) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    done(
        blocking(&app, move |app| {
            let form = check_data(app, req.name.as_deref(), &req.data)?;
            let mut j = checked(&form);
            if let Some(kind) = form.kind.as_deref().and_then(|k| app.engine.catalog().kind(k)) {
                let typed = serde_json::to_value(&req.data).unwrap_or_default();
                j["grid"] = super::editor::sheet(&app.engine, kind, &typed, &form, &req.view);
            }
            Ok(j)
        })
        .await,
    )
}

#[derive(Deserialize)]
struct ImportBody {
    #[serde(flatten)]
    upload: super::intake::Upload,
    #[serde(default)]
    name: Option<String>,
}

async fn import(State(app): State<Arc<App>>, b: Result<Bytes, BytesRejection>) -> Response {
    let req: ImportBody = match body(b) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    done(blocking(&app, move |app| super::intake::import(app, &req.upload, req.name.as_deref())).await)
}

#[derive(Deserialize)]
struct SealBody {
    form: String,
    #[serde(flatten)]
    upload: super::intake::Upload,
}

async fn seal(State(app): State<Arc<App>>, b: Result<Bytes, BytesRejection>) -> Response {
    let req: SealBody = match body(b) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    done(blocking(&app, move |app| super::intake::seal(app, &req.form, &req.upload)).await)
}

#[derive(Deserialize)]
struct CopyBody {
    name: String,
    to: String,
    #[serde(default)]
    clear_amounts: bool,
}

async fn copy(State(app): State<Arc<App>>, b: Result<Bytes, BytesRejection>) -> Response {
    let req: CopyBody = match body(b) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    done(blocking(&app, move |app| super::intake::copy(app, &req.name, &req.to, req.clear_amounts)).await)
}
