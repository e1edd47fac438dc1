//! `formpress serve`: a local web app over the forms of one folder. The page
//! (plain HTML, CSS and JavaScript embedded in the binary, no CDN) builds an
//! editor from a kind's manifest, shows the checker's findings at their
//! fields and the printed pages as SVG, and saves YAML beside the other forms.
//!
//! It listens on 127.0.0.1 unless an address is given explicitly, answers
//! only requests addressed to a local host name (against DNS rebinding) and,
//! for changes, only JSON requests from its own page (against other sites
//! posting to it). Rendering runs on blocking threads, a few at a time; a
//! preview that a newer edit has superseded is dropped before it starts.
//! Each connection has a header timeout and an idle timeout, and the number
//! of open connections is bounded, so slow or many clients cannot stop it
//! answering.

pub mod documents;
mod editor;
mod folder;
mod intake;
mod previewer;
mod routes;
pub mod yamledit;

use std::collections::HashMap;
use std::future::Future as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use folder::{Folder, FolderError};

use crate::layout::Engine;

/// Largest request body: a form's data as JSON (a 5 000-row form is about 2 MB).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The folder of forms.
    pub dir: PathBuf,
    /// Where to listen; 127.0.0.1 unless given explicitly.
    pub listen: SocketAddr,
    /// The address was given explicitly (`--listen`): requests for any host name are answered.
    pub explicit_listen: bool,
    /// Open the page in the default browser.
    pub open: bool,
}

#[derive(Debug)]
pub enum ServeError {
    /// The forms folder does not exist or cannot be read.
    Folder(PathBuf, std::io::Error),
    /// The address could not be bound (in use, not permitted).
    Bind(SocketAddr, std::io::Error),
    Runtime(std::io::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            ServeError::Folder(p, e) => write!(f, "表单目录 {} 无法使用：{e}", p.display()),
            ServeError::Bind(a, e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                write!(f, "无法监听 {a}：端口已被占用；用 --port 换一个端口（--port 0 自动选择）")
            }
            ServeError::Bind(a, e) => write!(f, "无法监听 {a}：{e}"),
            ServeError::Runtime(e) => write!(f, "无法启动服务：{e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// What the handlers share.
pub(crate) struct App {
    pub engine: Engine,
    pub folder: Folder,
    /// The newest preview asked for, by page session: older ones are dropped.
    pub latest: Mutex<HashMap<String, u64>>,
    /// Renders at once (the CPU cores).
    pub renders: tokio::sync::Semaphore,
    /// The thread previews are laid out on, one after the other.
    pub preview: previewer::Lane,
    /// Host names requests must be addressed to; empty: any (`--listen`).
    pub hosts: Vec<String>,
}

/// Serves until Ctrl-C (or SIGTERM). `ready` is called with the address
/// once the server listens (port 0 picks a free one).
pub fn run(engine: Engine, options: &ServeOptions, ready: impl FnOnce(&str)) -> Result<(), ServeError> {
    let folder = Folder::open(&options.dir).map_err(|e| ServeError::Folder(options.dir.clone(), e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .enable_time()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(options.listen).await.map_err(|e| ServeError::Bind(options.listen, e))?;
        let addr = listener.local_addr().map_err(|e| ServeError::Bind(options.listen, e))?;
        let hosts = if options.explicit_listen {
            vec![]
        } else {
            ["127.0.0.1", "localhost", "[::1]"].iter().map(|h| h.to_string()).collect()
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let app = Arc::new(App {
            engine,
            folder,
            latest: Mutex::new(HashMap::new()),
            renders: tokio::sync::Semaphore::new(cores),
            preview: previewer::Lane::start(),
            hosts,
        });
        let url = format!("http://{}/", shown_addr(addr));
        ready(&url);
        if options.open {
            open_browser(&url);
        }
        let router = routes::router(app.clone())
            .layer(axum::middleware::from_fn_with_state(app, guard))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES));
        accept(listener, router).await;
        Ok(())
    })
}

/// Longest a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a connection may sit with nothing read or written (a kept-alive
/// connection between requests, a client that stopped reading an answer).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest one request may take, its body and the answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// Most connections open at once; at the bound the oldest is closed for a new one.
pub const MAX_CONNECTIONS: usize = 4096;

/// Accepts connections until Ctrl-C, each served on its own task with the
/// header and idle timeouts. At most `MAX_CONNECTIONS` (or what the open-file
/// limit allows) are open at once; at the bound, the oldest connection is
/// closed to make room, so however many slow or half-sent requests are held
/// open, a new request is answered (and they time out anyway).
async fn accept(listener: tokio::net::TcpListener, router: axum::Router) {
    let bound = MAX_CONNECTIONS.min(raise_open_files().saturating_sub(64)).max(16);
    let mut open: std::collections::BTreeMap<u64, tokio::task::AbortHandle> = Default::default();
    let (done_tx, mut done) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let stop = stop();
    tokio::pin!(stop);
    for id in 0u64.. {
        let stream = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, say: wait a moment rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while let Ok(finished) = done.try_recv() {
            open.remove(&finished);
        }
        if open.len() >= bound
            && let Some((_, oldest)) = open.pop_first()
        {
            oldest.abort();
        }
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let done_tx = done_tx.clone();
        let task = tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(Idle::new(stream, IDLE_TIMEOUT));
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(io, service)
                .await;
            let _ = done_tx.send(id);
        });
        open.insert(id, task.abort_handle());
    }
}

/// Raises the soft limit on open files to the hard one (a desktop's default
/// of 1 024 would otherwise bound the connections); the limit now in force.
fn raise_open_files() -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit and setrlimit only read and write the struct given.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return 1024;
            }
            let wanted = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
                limit = wanted;
            }
        }
        usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
    }
    #[cfg(not(unix))]
    {
        MAX_CONNECTIONS
    }
}

/// A connection that fails once nothing has been read or written for `idle`.
struct Idle {
    stream: tokio::net::TcpStream,
    idle: Duration,
    quiet: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Idle {
    fn new(stream: tokio::net::TcpStream, idle: Duration) -> Idle {
        Idle { stream, idle, quiet: Box::pin(tokio::time::sleep(idle)) }
    }

    fn active(&mut self) {
        let deadline = tokio::time::Instant::now() + self.idle;
        self.quiet.as_mut().reset(deadline);
    }

    /// While the stream has nothing to do: an error once it has been quiet too long.
    fn waiting<T>(&mut self, cx: &mut std::task::Context<'_>) -> Poll<std::io::Result<T>> {
        match self.quiet.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(std::io::ErrorKind::TimedOut.into())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl tokio::io::AsyncRead for Idle {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        match std::pin::Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Pending => self.waiting(cx),
            Poll::Ready(Ok(())) if buf.filled().len() > before => {
                self.active();
                Poll::Ready(Ok(()))
            }
            ready => ready,
        }
    }
}

impl tokio::io::AsyncWrite for Idle {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match std::pin::Pin::new(&mut self.stream).poll_write(cx, buf) {
            Poll::Pending => self.waiting(cx),
            Poll::Ready(Ok(n)) => {
                self.active();
                Poll::Ready(Ok(n))
            }
            ready => ready,
        }
    }

    fn poll_flush(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

fn shown_addr(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() { format!("127.0.0.1:{}", addr.port()) } else { addr.to_string() }
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Whether formpress already serves the forms folder `dir` at `addr` (a second
/// double-click while the first window is open): its `/api/info` names the
/// same folder. Anything else there, or no answer within two seconds, is not.
pub fn serving(addr: SocketAddr, dir: &std::path::Path) -> bool {
    use std::io::{Read, Write};
    let wait = std::time::Duration::from_secs(2);
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, wait) else { return false };
    let _ = stream.set_read_timeout(Some(wait));
    let _ = stream.set_write_timeout(Some(wait));
    let ask = format!("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n", addr.port());
    if stream.write_all(ask.as_bytes()).is_err() {
        return false;
    }
    let mut reply = vec![];
    let _ = stream.take(1 << 20).read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply);
    let Some((head, body)) = reply.split_once("\r\n\r\n") else { return false };
    if !head.starts_with("HTTP/1.1 200") {
        return false;
    }
    // The body may come in chunks: the JSON object is what lies between its braces.
    let json = body.find('{').zip(body.rfind('}')).map(|(a, b)| &body[a..=b]).unwrap_or_default();
    let info: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let same = |shown: &str| std::fs::canonicalize(shown).ok() == std::fs::canonicalize(dir).ok();
    info["dir"].as_str().is_some_and(same)
}

pub fn open_browser(url: &str) {
    #[cfg(target_os = "macos")]
    let opener = ("open", vec![url]);
    #[cfg(target_os = "windows")]
    let opener = ("cmd", vec!["/C", "start", "", url]);
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    let opener = ("xdg-open", vec![url]);
    let started = std::process::Command::new(opener.0)
        .args(&opener.1)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if started.is_err() {
        eprintln!("formpress: 无法打开浏览器；请手动打开 {url}");
    }
}

/// A refusal the page shows: `{"error": "…"}` with its status.
pub(crate) fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(serde_json::json!({"error": message.into()}))).into_response()
}

/// Every request: addressed to a local host name, changes only as JSON from
/// the page's own origin; every answer: not cached, not framed, scripts only
/// from the app itself.
async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
    let name = host_name(&host);
    if !app.hosts.is_empty() && !app.hosts.iter().any(|h| h.eq_ignore_ascii_case(name)) {
        return refuse(
            StatusCode::FORBIDDEN,
            format!("拒绝：请求的主机名 {name:?} 不是本机（formpress serve 只接受 127.0.0.1 或 localhost）"),
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let origin = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok());
        if let Some(origin) = origin
            && origin.strip_prefix("http://") != Some(host.as_str())
        {
            return refuse(StatusCode::FORBIDDEN, "拒绝：请求来自其他网页");
        }
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.starts_with("application/json"));
        if !json {
            return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, "请求须为 JSON（Content-Type: application/json）");
        }
    }
    let Ok(mut response) = tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await else {
        return refuse(StatusCode::REQUEST_TIMEOUT, "请求超时");
    };
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; font-src 'self'; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// `localhost:8421` → `localhost`; `[::1]:8421` → `[::1]`.
fn host_name(host: &str) -> &str {
    match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => &host[..i],
        _ => host,
    }
}
