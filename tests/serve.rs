//! `formpress serve` from outside: the real binary on a free port, the JSON
//! API and its security cases over plain HTTP, and the page itself driven in
//! headless Chromium (tests/serve/browser.py, Selenium; tests/run.sh installs
//! chromium, chromium-driver and selenium).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value as Json, json};

struct Server {
    child: Child,
    /// host:port
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_formpress"));
    c.env("SOURCE_DATE_EPOCH", "1600000000");
    c
}

fn serve(dir: &Path) -> Server {
    serve_with(dir, &["--port", "0"])
}

fn serve_with(dir: &Path, args: &[&str]) -> Server {
    started(bin().args(["serve", "--no-system-fonts"]).args(args).arg(dir))
}

/// Starts a `serve` command and waits for the address it prints.
fn started(c: &mut Command) -> Server {
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // The address line (a line before it may say why the port is another).
    while out.read_line(&mut line).unwrap() > 0 && !line.contains("http://") {}
    let addr = line.split("http://").last().and_then(|s| s.split('/').next()).unwrap_or_else(|| panic!("{line}"));
    Server { child, addr: addr.to_string() }
}

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Json {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request; `host` None sends the server's own address.
fn request(s: &Server, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut conn = TcpStream::connect(&s.addr).unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head += &format!("Host: {}\r\n", s.addr);
    }
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += "\r\n";
    conn.write_all(head.as_bytes()).unwrap();
    // The server may refuse before reading all of a large body.
    let _ = conn.write_all(body);
    let mut raw = vec![];
    let _ = conn.read_to_end(&mut raw);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| panic!("no reply to {target}"));
    let headers = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = headers[9..12].parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if headers.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = unchunk(&body);
    }
    Reply { status, headers, body }
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else { return out };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 4 + n..];
    }
}

fn get(s: &Server, target: &str) -> Reply {
    request(s, "GET", target, &[], b"")
}

fn post(s: &Server, target: &str, body: &Json) -> Reply {
    request(s, "POST", target, &[("Content-Type", "application/json")], body.to_string().as_bytes())
}

/// A folder with the seed form in it, inside a parent that holds a secret.
fn folder() -> (tempfile::TempDir, PathBuf) {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("forms");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("seed.yaml"), common::seed()).unwrap();
    std::fs::write(top.path().join("secret.yaml"), "form: project\nproject: 机密\n").unwrap();
    (top, dir)
}

fn check_cli(path: &Path) -> (i32, String) {
    let out = bin().args(["check", "--no-system-fonts"]).arg(path).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn listens_on_loopback_only_and_checks_the_host() {
    let (_top, dir) = folder();
    let s = serve(&dir);
    assert!(s.addr.starts_with("127.0.0.1:"), "{}", s.addr);
    // Another local address of the machine is not listened on.
    let port = s.addr.rsplit(':').next().unwrap();
    assert!(TcpStream::connect(format!("127.0.0.2:{port}")).is_err(), "answered on 127.0.0.2");
    assert_eq!(get(&s, "/api/info").status, 200);
    // DNS rebinding: a page of another site reaching this port by its own name.
    let r = request(&s, "GET", "/api/forms", &[("Host", &format!("evil.example:{port}"))], b"");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.json()["error"].as_str().unwrap().contains("不是本机"));
    let r = request(&s, "GET", "/api/info", &[("Host", &format!("localhost:{port}"))], b"");
    assert_eq!(r.status, 200);
    // A cross-site form post (a simple request) and a non-JSON post are refused.
    let body = json!({"data": {"form": "project"}}).to_string();
    let r = request(
        &s,
        "POST",
        "/api/check",
        &[("Content-Type", "application/json"), ("Origin", "http://evil.example")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 403);
    let r = request(&s, "POST", "/api/check", &[("Content-Type", "text/plain")], body.as_bytes());
    assert_eq!(r.status, 415);
    // The page's answers carry a strict content security policy.
    let page = get(&s, "/");
    assert_eq!(page.status, 200);
    assert!(
        page.headers.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{}",
        page.headers
    );
    assert!(page.text().contains("<script src=\"/app.js\""));
    assert!(!page.text().contains("http://") && !page.text().contains("https://"), "no CDN");
    // --port and --listen are not both taken.
    let out = bin().args(["serve", "--port", "1", "--listen", "127.0.0.1:2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin().args(["serve", "/nonexistent-folder"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("表单目录不存在"));
    // Ctrl-C stops it cleanly.
    let mut s = s;
    unsafe { libc::kill(s.child.id() as i32, libc::SIGINT) };
    let status = s.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    // With --listen given explicitly, other host names are answered (it is then meant to be reached).
    let open = serve_with(&dir, &["--listen", "127.0.0.1:0"]);
    let r = request(&open, "GET", "/api/info", &[("Host", "formpress.example:80")], b"");
    assert_eq!(r.status, 200);
}

#[test]
fn paths_outside_the_folder_are_refused_on_every_route() {
    let (top, dir) = folder();
    #[cfg(unix)]
    std::os::unix::fs::symlink(top.path().join("secret.yaml"), dir.join("link.yaml")).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/inner.yaml"), "form: project\n").unwrap();
    let s = serve(&dir);
    let names = [
        "../secret.yaml",
        "..%2Fsecret.yaml",
        "%2e%2e%2fsecret.yaml",
        "%252e%252e%252fsecret.yaml",
        "..%5Csecret.yaml",
        "%2Fetc%2Fpasswd",
        "link.yaml",
        "sub%2Finner.yaml",
        ".seed.yaml",
        "seed.yaml%00.yaml",
        "",
    ];
    let before = std::fs::read(top.path().join("secret.yaml")).unwrap();
    for name in names {
        for target in [
            format!("/api/form?name={name}"),
            format!("/api/pdf?name={name}"),
            format!("/api/pdf?archive=1&name={name}"),
            format!("/api/xlsx?name={name}"),
        ] {
            let r = get(&s, &target);
            assert!((400..500).contains(&r.status), "{target}: {}", r.status);
            assert!(!r.text().contains("机密"), "{target} leaked");
        }
        let decoded = name.replace("%2F", "/").replace("%2f", "/").replace("%2e", ".").replace("%5C", "\\");
        let decoded = decoded.replace("%00", "\0");
        if decoded.contains('%') {
            continue; // a literal file name of the folder once decoded: nothing to refuse
        }
        let data = json!({"form": "project", "project": "覆盖"});
        for (route, body) in [
            ("/api/save", json!({"name": decoded, "data": data})),
            ("/api/check", json!({"name": decoded, "data": data})),
            ("/api/preview", json!({"name": decoded, "data": data, "session": "t", "seq": 1})),
        ] {
            let r = post(&s, route, &body);
            assert!((400..500).contains(&r.status), "{route} {decoded:?}: {} {}", r.status, r.text());
        }
    }
    // Nothing outside was read or written; nothing new appeared.
    assert_eq!(std::fs::read(top.path().join("secret.yaml")).unwrap(), before);
    let mut outside: Vec<_> = std::fs::read_dir(top.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    outside.sort();
    assert_eq!(outside, ["forms", "secret.yaml"]);
    // The list shows the folder's own forms only (not the link out, not the subfolder).
    let list = get(&s, "/api/forms").json();
    let names: Vec<&str> = list["forms"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["seed.yaml"]);
    // Paths in the URL itself lead nowhere: there is no file serving.
    for target in ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/assets/../../secret.yaml", "/seed.yaml"] {
        let r = get(&s, target);
        assert_eq!(r.status, 404, "{target}");
    }
}

#[test]
fn oversized_and_malformed_bodies_are_refused() {
    let (_top, dir) = folder();
    let s = serve(&dir);
    let big = vec![b' '; 17 * 1024 * 1024];
    let r = request(&s, "POST", "/api/check", &[("Content-Type", "application/json")], &big);
    assert_eq!(r.status, 413);
    assert!(r.json()["error"].as_str().unwrap().contains("请求过大"));
    let r = request(&s, "POST", "/api/save", &[("Content-Type", "application/json")], b"{\"name\": ");
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().unwrap().contains("JSON"));
    // A deeply nested body is refused by the JSON reader, not a stack overflow.
    let deep = "[".repeat(100_000);
    let r = request(&s, "POST", "/api/check", &[("Content-Type", "application/json")], deep.as_bytes());
    assert_eq!(r.status, 400);
    // Data that is no form is a finding, not a crash.
    let r = post(&s, "/api/check", &json!({"data": [1, 2, 3]}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "broken");
    let r = post(&s, "/api/save", &json!({"name": "x.yaml", "data": "text"}));
    assert_eq!(r.status, 400);
    assert!(!dir.join("x.yaml").exists());
}

#[test]
fn concurrent_saves_never_lose_an_edit_silently() {
    let (_top, dir) = folder();
    let s = serve(&dir);
    let form = get(&s, "/api/form?name=seed.yaml").json();
    let hash = form["hash"].as_str().unwrap().to_string();
    let results: Vec<(u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let mut data = form["data"].clone();
                let (s, hash) = (&s, &hash);
                scope.spawn(move || {
                    data["department"] = json!(format!("部门{i}"));
                    let r = post(s, "/api/save", &json!({"name": "seed.yaml", "base": hash, "data": data}));
                    (r.status, format!("部门{i}"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won: Vec<&String> = results.iter().filter(|(st, _)| *st == 200).map(|(_, d)| d).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    assert!(results.iter().all(|(st, _)| *st == 200 || *st == 409), "{results:?}");
    let text = std::fs::read_to_string(dir.join("seed.yaml")).unwrap();
    assert_eq!(text, common::seed().replace("department: 郑州市人民政府办公厅", &format!("department: {}", won[0])));
    // A new file is never created over an existing one.
    let r = post(&s, "/api/save", &json!({"name": "seed.yaml", "data": {"form": "project"}}));
    assert_eq!(r.status, 409);
    assert!(r.json()["conflict"].as_bool().unwrap());
    // No temporary files are left behind.
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["seed.yaml"]);
}

#[test]
fn a_value_edit_keeps_the_file_and_renders_as_the_command_line_does() {
    let (_top, dir) = folder();
    let s = serve(&dir);
    let form = get(&s, "/api/form?name=seed.yaml").json();
    assert_eq!(form["status"], "draft");
    let fiscal = form["findings"].as_array().unwrap().iter().find(|f| f["path"] == "tasks[2].fiscal");
    assert!(fiscal.is_some_and(|f| f["severity"] == "error"), "{:#?}", form["findings"]);
    // Numbers come as typed.
    assert_eq!(form["data"]["tasks"][0]["total"], "3600.4");
    let mut data = form["data"].clone();
    data["tasks"][2]["fiscal"] = json!("3300.8");
    let checked = post(&s, "/api/check", &json!({"name": "seed.yaml", "data": data})).json();
    assert!(checked["findings"].as_array().unwrap().iter().all(|f| f["path"] != "tasks[2].fiscal"));
    let pre = post(&s, "/api/preview", &json!({"name": "seed.yaml", "data": data, "session": "a", "seq": 1})).json();
    let pages = pre["pages"].as_array().unwrap();
    assert!(pages.len() >= 2 && pages[0]["svg"].as_str().unwrap().starts_with("<svg"), "{pre:#?}");
    // As PNG at the size the page shows it (pixels per point).
    let png =
        post(&s, "/api/preview", &json!({"name": "seed.yaml", "data": data, "session": "p", "seq": 1, "png": 1.5}))
            .json();
    let bytes = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.decode(png["pages"][0]["png"].as_str().unwrap()).unwrap()
    };
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    let size = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), (893, 1263), "A4 at 1.5 pixels per point");
    assert_eq!(pre["draft"], false);
    eprintln!("preview of the seed over HTTP: {} ms", pre["ms"]);
    // Browsers get the megabytes of SVG gzipped; the pages are the same.
    let body = json!({"name": "seed.yaml", "data": data, "session": "z", "seq": 1}).to_string();
    let headers = [("Content-Type", "application/json"), ("Accept-Encoding", "gzip, deflate, br")];
    let zipped = request(&s, "POST", "/api/preview", &headers, body.as_bytes());
    assert!(zipped.headers.to_ascii_lowercase().contains("content-encoding: gzip"), "{}", zipped.headers);
    let mut unzipped = vec![];
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&zipped.body[..]), &mut unzipped).unwrap();
    let unzipped: Json = serde_json::from_slice(&unzipped).unwrap();
    assert_eq!(unzipped["pages"], pre["pages"]);
    eprintln!("preview of the seed: {} bytes, {} gzipped", serde_json::to_vec(&pre).unwrap().len(), zipped.body.len());
    // An older request of the same page is dropped once a newer one is in.
    post(&s, "/api/preview", &json!({"data": data, "session": "b", "seq": 5}));
    let old = post(&s, "/api/preview", &json!({"data": data, "session": "b", "seq": 4})).json();
    assert_eq!(old["superseded"], true);

    let saved = post(&s, "/api/save", &json!({"name": "seed.yaml", "base": form["hash"], "data": data}));
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert_eq!(saved.json()["rewritten"], false);
    let path = dir.join("seed.yaml");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), common::clean_seed(), "only the one value changed");
    let (code, _) = check_cli(&path);
    assert_eq!(code, 0);
    // The PDF the page downloads is the one the command line writes.
    let r = get(&s, "/api/pdf?name=seed.yaml");
    assert_eq!(r.status, 200);
    assert!(r.headers.contains("content-type: application/pdf"));
    assert!(r.headers.contains("filename*=UTF-8''seed.pdf"), "{}", r.headers);
    let out = dir.join("cli.pdf");
    let st = bin().args(["render", "--no-system-fonts"]).arg(&path).arg("-o").arg(&out).status().unwrap();
    assert!(st.success());
    assert_eq!(r.body, std::fs::read(&out).unwrap(), "byte-identical to formpress render");
    let archive = get(&s, "/api/pdf?archive=1&name=seed.yaml");
    assert_eq!(archive.status, 200);
    assert!(common::run_on(&archive.body, "pdfdetach", &["-list"]).contains("seed.yaml"));
    // A stale version is refused with 409, and the file stays as it is.
    let r = post(&s, "/api/save", &json!({"name": "seed.yaml", "base": form["hash"], "data": form["data"]}));
    assert_eq!(r.status, 409);
    assert!(r.json()["error"].as_str().unwrap().contains("已被其他程序或窗口修改"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), common::clean_seed());
}

#[test]
fn a_structural_edit_asks_before_dropping_comments() {
    let (_top, dir) = folder();
    let s = serve(&dir);
    let form = get(&s, "/api/form?name=seed.yaml").json();
    let mut data = form["data"].clone();
    data["goals"].as_array_mut().unwrap().push(json!("新增的目标：完成全年工作"));
    let body = json!({"name": "seed.yaml", "base": form["hash"], "data": data});
    let r = post(&s, "/api/save", &body);
    assert_eq!(r.status, 409);
    let dropped: Vec<String> = serde_json::from_value(r.json()["confirm"].clone()).unwrap();
    assert!(dropped.iter().any(|c| c.contains("原表如此")), "{dropped:?}");
    assert_eq!(std::fs::read_to_string(dir.join("seed.yaml")).unwrap(), common::seed(), "nothing written yet");
    let mut body = body;
    body["drop_comments"] = json!(true);
    let r = post(&s, "/api/save", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let text = std::fs::read_to_string(dir.join("seed.yaml")).unwrap();
    // The header comment block stays; the data reads back the same.
    assert!(text.starts_with("# 2020 年 郑州市 市级部门整体绩效目标申报表"));
    assert!(text.contains("新增的目标：完成全年工作"));
    let (code, err) = check_cli(&dir.join("seed.yaml"));
    assert_eq!(code, 1, "the seed's own error is still there: {err}");
    assert!(err.contains("3300.9"));
    let again = get(&s, "/api/form?name=seed.yaml").json();
    assert_eq!(without_nulls(&again["data"]), without_nulls(&data));
}

/// Runs tests/serve/browser.py against a server on `dir` with the given flows
/// and environment; returns what it printed.
fn browser(dir: &Path, flows: &[&str], env: &[(&str, &Path)]) -> String {
    let s = serve(dir);
    let downloads = tempfile::tempdir().unwrap();
    let script = common::root().join("tests/serve/browser.py");
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg(format!("http://{}/", s.addr))
        .arg(dir)
        .arg(downloads.path())
        .arg(env!("CARGO_BIN_EXE_formpress"))
        .args(flows)
        .env("SOURCE_DATE_EPOCH", "1600000000");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the browser test failed (tests/run.sh installs chromium, chromium-driver, selenium)"
    );
    assert!(stdout.contains("browser test passed"));
    stdout
}

/// The editor in headless Chromium at 1366×768: the seed mended in its grid
/// (findings at their cells, the preview following, a click on a page selects
/// that cell); a 12-row 项目支出绩效目标申报表 typed into the grid from nothing
/// with the keyboard, saved with Ctrl+S and printed (the exact PDF of
/// `formpress render`); a structural edit undone and redone; unsaved work
/// recovered after its tab was closed; an .xlsx imported; a seal uploaded; a
/// copy for the next year made from the list.
#[test]
fn the_editor_in_headless_chromium() {
    let (_top, dir) = folder();
    browser(&dir, &[], &[]);
}

/// On a machine without Chinese fonts (fontconfig pointed at a folder that
/// holds only formpress's symbol face, no Chinese or Latin text face: Chromium
/// does not start with no font at all), the page draws Chinese with the web
/// fonts it carries: checked on the screenshot's pixels (different characters
/// must draw differently, as missing-glyph boxes would not).
#[test]
fn chinese_without_system_fonts() {
    let (_top, dir) = folder();
    let fonts = tempfile::tempdir().unwrap();
    let conf = fonts.path().join("fonts.conf");
    let empty = fonts.path().join("none");
    std::fs::create_dir(&empty).unwrap();
    std::fs::copy(common::root().join("fonts/FormpressSymbols.ttf"), empty.join("FormpressSymbols.ttf")).unwrap();
    std::fs::write(
        &conf,
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE fontconfig SYSTEM \"fonts.dtd\"><fontconfig><dir>{}</dir><cachedir>{}</cachedir></fontconfig>",
            empty.display(),
            fonts.path().join("cache").display()
        ),
    )
    .unwrap();
    let out = browser(&dir, &["fonts"], &[("FONTCONFIG_FILE", conf.as_path())]);
    assert!(out.contains("glyphs drawn"), "{out}");
}

/// The editor in Firefox ESR (headless, over Marionette): typing into the
/// grid, the check and the preview following, Tab, Ctrl+Z.
#[test]
fn the_editor_in_firefox_esr() {
    let (_top, dir) = folder();
    let s = serve(&dir);
    let out = Command::new("python3")
        .arg(common::root().join("tests/serve/firefox.py"))
        .arg(format!("http://{}/", s.addr))
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the Firefox test failed (tests/run.sh installs firefox-esr and marionette-driver)");
    assert!(stdout.contains("firefox test passed"), "{stdout}");
}

/// The editor's API: the grid of a new form (the blank official form, every
/// cell with its data path), the preview of a blank form and of the seed with
/// each value's cell and printed text, the web fonts, a copy for next year,
/// and uploads refused as `seal:` pictures and `import` workbooks are.
#[test]
fn the_editors_grid_preview_and_uploads() {
    let (_top, dir) = folder();
    let s = serve(&dir);
    let blank = post(&s, "/api/sheet", &json!({"data": {"form": "project"}})).json();
    let cells = blank["grid"]["cells"].as_array().unwrap();
    let path = |p: &str| cells.iter().find(|c| c["p"] == p).unwrap_or_else(|| panic!("no cell {p}"));
    assert_eq!(path("project")["role"], "text");
    // The blank table: one empty row to type into, and the row after it that starts a new 一级.
    assert_eq!(path("indicators[0].year[0].rows[0].name")["role"], "text");
    assert_eq!(path("indicators[1].name")["new"], true);
    assert_eq!(path("goals.year[0]")["new"], true);
    let pre =
        post(&s, "/api/preview", &json!({"data": {"form": "project"}, "session": "b", "seq": 1, "blank": true})).json();
    assert_eq!(pre["blank"], true, "{pre}");
    assert_eq!(pre["draft"], false);
    assert!(pre["code"].is_null(), "a blank form has no 校验码");
    let svg = pre["pages"][0]["svg"].as_str().unwrap();
    assert!(svg.starts_with("<svg"));
    // Not blank but unfinished: a draft.
    let pre = post(&s, "/api/preview", &json!({"data": {"form": "project", "project": "x"}, "session": "b", "seq": 2}))
        .json();
    assert_eq!(pre["draft"], true, "{pre}");
    // The seed: each value's cell and printed text; a page the page already has is not sent again.
    let form = get(&s, "/api/form?name=seed.yaml").json();
    let pre =
        post(&s, "/api/preview", &json!({"name": "seed.yaml", "data": form["data"], "session": "c", "seq": 1})).json();
    let first = &pre["pages"][0];
    let cell = first["cells"].as_array().unwrap().iter().find(|c| c["path"] == "tasks[2].fiscal").unwrap();
    assert_eq!(cell["text"], "3300.9");
    assert!(cell["w"].as_f64().unwrap() > 20.0 && cell["h"].as_f64().unwrap() > 10.0, "{cell}");
    let have: Vec<Json> = pre["pages"].as_array().unwrap().iter().map(|p| p["hash"].clone()).collect();
    let again = post(
        &s,
        "/api/preview",
        &json!({"name": "seed.yaml", "data": form["data"], "session": "c", "seq": 2, "have": have}),
    )
    .json();
    assert!(again["pages"].as_array().unwrap().iter().all(|p| p.get("svg").is_none()), "unchanged pages resent");
    // The web fonts, cached for a year.
    let font = get(&s, "/fonts/NotoSansCJKsc-Regular.otf");
    assert_eq!(font.status, 200);
    assert!(font.headers.to_ascii_lowercase().contains("cache-control: public, max-age=31536000, immutable"));
    assert_eq!(
        font.body.len(),
        std::fs::metadata(common::root().join("fonts/NotoSansCJKsc-Regular.otf")).unwrap().len() as usize
    );
    assert_eq!(get(&s, "/fonts/..%2FCargo.toml").status, 404);
    // A copy for next year: the year moved on, amounts cleared, comments kept; never over a file.
    let r = post(&s, "/api/copy", &json!({"name": "seed.yaml", "to": "seed-2021.yaml", "clear_amounts": true}));
    assert_eq!(r.status, 200, "{}", r.text());
    let copy = std::fs::read_to_string(dir.join("seed-2021.yaml")).unwrap();
    assert!(copy.contains("year: 2021") && copy.starts_with("# 2020 年"), "{copy}");
    assert!(!copy.contains("3600.4") && copy.contains("人员经费"), "{copy}");
    assert_eq!(post(&s, "/api/copy", &json!({"name": "seed.yaml", "to": "seed-2021.yaml"})).status, 409);
    // Uploads: a seal that is no picture, a workbook that is no workbook.
    let b64 = |b: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    let r =
        post(&s, "/api/seal", &json!({"form": "seed.yaml", "file": "seal.png", "content": b64(b"GIF89a not a png")}));
    assert_eq!(r.status, 422, "{}", r.text());
    let r = post(&s, "/api/seal", &json!({"form": "seed.yaml", "file": "seal.exe", "content": b64(b"MZ")}));
    assert_eq!(r.status, 422);
    assert!(r.json()["error"].as_str().unwrap().contains("只支持"));
    let r = post(&s, "/api/seal", &json!({"form": "../x.yaml", "file": "seal.png", "content": b64(b"x")}));
    assert_eq!(r.status, 400);
    let r = post(&s, "/api/import", &json!({"file": "表.xlsx", "content": b64(b"PK\x03\x04 broken")}));
    assert_eq!(r.status, 422, "{}", r.text());
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, ["seed-2021.yaml", "seed.yaml"], "nothing else written");
}

/// Form data with blank (null) members left out, as they are when written.
fn without_nulls(v: &Json) -> Json {
    match v {
        Json::Object(m) => {
            Json::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect())
        }
        Json::Array(a) => Json::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Text with everything YAML cannot hold raw, and the characters that end
/// comments or quotes: what a browser can send in any field.
const HOSTILE_TEXT: &str = "a\u{7f}b\u{85}c\u{9f}d\u{fffe}e\u{ffff}\r\nf'g\"h#i\\j \\\" # k\u{2028}l\u{1b}[2J";

#[test]
fn whatever_a_save_writes_reads_back_as_the_data() {
    let (_top, dir) = folder();
    let s = serve(&dir);
    let form = get(&s, "/api/form?name=seed.yaml").json();
    // A value edit (spliced into the text) and a structural one (the file written afresh).
    let mut data = form["data"].clone();
    data["department"] = json!(HOSTILE_TEXT);
    let r = post(&s, "/api/save", &json!({"name": "seed.yaml", "base": form["hash"], "data": data}));
    assert_eq!(r.status, 200, "{}", r.text());
    let saved = r.json();
    assert_eq!(saved["rewritten"], false);
    let again = get(&s, "/api/form?name=seed.yaml").json();
    assert_eq!(
        again["data"]["department"],
        HOSTILE_TEXT,
        "{}",
        std::fs::read_to_string(dir.join("seed.yaml")).unwrap()
    );
    data["goals"].as_array_mut().unwrap().push(json!(HOSTILE_TEXT));
    data["tasks"][0]["remark"] = json!(HOSTILE_TEXT);
    let body = json!({"name": "seed.yaml", "base": again["hash"], "data": data, "drop_comments": true});
    let r = post(&s, "/api/save", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["rewritten"], true);
    let again = get(&s, "/api/form?name=seed.yaml").json();
    assert_eq!(without_nulls(&again["data"]), without_nulls(&data));
    // And formpress itself reads the file: no YAML syntax error.
    let (_, err) = check_cli(&dir.join("seed.yaml"));
    assert!(!err.contains("语法错误"), "{err}");
    // A new file, too.
    let r = post(&s, "/api/save", &json!({"name": "new.yaml", "data": data}));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(without_nulls(&get(&s, "/api/form?name=new.yaml").json()["data"]), without_nulls(&data));
}

#[test]
fn comments_after_apostrophes_and_escaped_backslashes_are_not_lost_unasked() {
    let (_top, dir) = folder();
    let text = common::clean_seed()
        .replace("department: 郑州市人民政府办公厅", "department: it's 办公厅   # 部门的注释")
        .replace("year: 2020", "year: 2020\ntitle: \"a\\\\\"   # 标题的注释");
    std::fs::write(dir.join("seed.yaml"), &text).unwrap();
    let s = serve(&dir);
    let form = get(&s, "/api/form?name=seed.yaml").json();
    assert_eq!(form["data"]["department"], "it's 办公厅");
    let mut data = form["data"].clone();
    data["goals"].as_array_mut().unwrap().push(json!("新增的目标"));
    let r = post(&s, "/api/save", &json!({"name": "seed.yaml", "base": form["hash"], "data": data}));
    assert_eq!(r.status, 409, "{}", r.text());
    let dropped: Vec<String> = serde_json::from_value(r.json()["confirm"].clone()).unwrap();
    assert!(dropped.iter().any(|c| c.contains("部门的注释")), "{dropped:?}");
    assert!(dropped.iter().any(|c| c.contains("标题的注释")), "{dropped:?}");
    assert_eq!(std::fs::read_to_string(dir.join("seed.yaml")).unwrap(), text, "nothing written unasked");
}

#[test]
fn slow_and_many_clients_cannot_stop_it_answering() {
    // The test holds a thousand sockets of its own.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
    let (_top, dir) = folder();
    let s = serve(&dir);
    let start = std::time::Instant::now();
    // A thousand requests sent in part, never finished.
    let mut slow = vec![];
    for _ in 0..1000 {
        let mut c = TcpStream::connect(&s.addr).unwrap();
        c.write_all(format!("GET /api/forms HTTP/1.1\r\nHost: {}\r\nX-Slow: ", s.addr).as_bytes()).unwrap();
        slow.push(c);
    }
    // The page is still answered meanwhile.
    let r = get(&s, "/api/forms");
    assert_eq!(r.status, 200, "{}", r.text());
    // The half-sent requests are closed once the header timeout has passed.
    let mut closed = 0;
    for c in slow.iter_mut().take(20) {
        c.set_read_timeout(Some(std::time::Duration::from_secs(30))).unwrap();
        let mut buf = [0u8; 256];
        if c.read(&mut buf).is_ok() {
            closed += 1;
        }
    }
    assert_eq!(closed, 20, "half-sent requests still open after {:?}", start.elapsed());
    assert!(start.elapsed() < std::time::Duration::from_secs(30), "{:?}", start.elapsed());
    assert_eq!(get(&s, "/api/forms").status, 200);
}

/// A home whose desktop names its documents folder 文档 (XDG user dirs), and its config folder.
fn desktop_home() -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("user-dirs.dirs"), "XDG_DOCUMENTS_DIR=\"$HOME/文档\"\n").unwrap();
    (home, config)
}

/// `serve --documents` (the desktop entry, a double-click on formpress.exe): the folder 绩效表
/// in the documents folder the desktop names (XDG user dirs: 文档), made with the examples
/// the first time; later starts leave what the user changed or removed as it is.
#[test]
fn documents_folder_is_made_once_with_the_examples() {
    let (home, config) = desktop_home();
    let start = || {
        started(
            bin()
                .args(["serve", "--no-system-fonts", "--documents", "--port", "0"])
                .env("HOME", home.path())
                .env("XDG_CONFIG_HOME", &config),
        )
    };
    let names = |s: &Server| -> Vec<String> {
        let list = get(s, "/api/forms").json();
        list["forms"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap().to_string()).collect()
    };
    let folder = home.path().join("文档").join("绩效表");
    let mut examples: Vec<String> = std::fs::read_dir("forms")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    examples.sort();

    let s = start();
    assert_eq!(names(&s), examples);
    // The seal picture one example prints came along: that form is not broken.
    assert_eq!(
        std::fs::read(folder.join("seal-example.png")).unwrap(),
        std::fs::read("forms/seal-example.png").unwrap()
    );
    let list = get(&s, "/api/forms").json();
    assert!(list["forms"].as_array().unwrap().iter().all(|f| f["status"] != "broken"), "{list}");
    drop(s);

    std::fs::write(folder.join(&examples[0]), "form: project\n# 我改过\n").unwrap();
    std::fs::remove_file(folder.join(&examples[1])).unwrap();
    let s = start();
    assert_eq!(names(&s).len(), examples.len() - 1);
    assert_eq!(std::fs::read_to_string(folder.join(&examples[0])).unwrap(), "form: project\n# 我改过\n");
    // Nothing else appeared in 文档 (no temporary folder left behind).
    let docs: Vec<_> = std::fs::read_dir(home.path().join("文档")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(docs, ["绩效表"]);
}

/// Started again from the desktop while it runs (a second double-click): the second start
/// opens the browser on the first, which serves the same folder, and ends; when another
/// program holds the port, it serves on a free one instead of stopping.
#[test]
fn a_second_start_from_the_desktop_opens_the_one_running() {
    let (home, config) = desktop_home();
    let no_tools = tempfile::tempdir().unwrap(); // no browser to start: PATH finds nothing
    let desktop = |port: &str| {
        let mut c = bin();
        c.args(["serve", "--no-system-fonts", "--documents", "--open", "--port", port])
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", &config)
            .env("PATH", no_tools.path());
        c
    };
    let free = || std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let port = free();
    let first = started(&mut desktop(&port));
    let again = desktop(&port).output().unwrap();
    let said = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.status.code(), Some(0), "{said}{}", String::from_utf8_lossy(&again.stderr));
    assert!(said.contains(&format!("已在 http://127.0.0.1:{port}/ 运行")), "{said}");
    assert_eq!(get(&first, "/api/info").status, 200, "the first one still serves");
    drop(first);

    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = other.local_addr().unwrap().port().to_string();
    let s = started(&mut desktop(&taken));
    assert_ne!(s.addr, format!("127.0.0.1:{taken}"));
    assert_eq!(get(&s, "/api/forms").status, 200);
}
