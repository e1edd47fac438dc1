//! Command-line arguments and what each command prints. The work itself is
//! done by the library (`Engine`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use formpress::archive::{self, ArchiveError, Stamp};
use formpress::findings::{self, Style};
use formpress::output::{Content, Output, OutputError, Outputs};
use formpress::{Engine, EngineOptions, Error, Form, RenderOptions, batch, fingerprint, inspect, scan, verify};

/// A line on standard output. A closed pipe (`formpress list | head`) is not
/// an error: the rest of the output is dropped and the work goes on.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod sign;

const EXIT_HELP: &str = "\
Outputs: `-o -` (or /dev/stdout) writes to standard output. formpress never writes over an input
of the run, a YAML file (unless it writes YAML), a device, FIFO or socket, or a read-only file.

Exit status:
  0  done (render: the PDF written; warnings are shown)
  1  the form has errors: check reports them; render writes the form as a draft
     (every page marked 草稿, no 校验码 or QR code; nothing with --strict or
     --archive); verify: the PDF does not match, is a draft, or a signature fails;
     sign: the PDF is a draft; scan: a page is missing, repeated, unreadable or
     of another form (nothing written)
  2  usage error (unknown option, missing argument, a folder that does not exist,
     an output that would replace an input, a YAML file or a device; sign: a wrong
     password or unusable key, a PDF formpress did not make without --any)
  3  I/O error (input unreadable or over the size limits, output folder missing or not writable)
  4  template or layout error (a template bug, Typst error, pagination)";

#[derive(Parser, Debug)]
#[command(
    name = "formpress",
    version,
    about = "Turns YAML form data into official, printable PDF forms (绩效目标申报表 and related forms).",
    after_help = EXIT_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check forms and render them: PDF, or PNG/SVG pages; many at once in parallel.
    #[command(after_help = EXIT_HELP)]
    Render(RenderArgs),
    /// Check forms without rendering; print every finding.
    #[command(after_help = EXIT_HELP)]
    Check(CheckArgs),
    /// Render a form again whenever it (or a --templates folder) changes; keeps the last good PDF.
    Watch(WatchArgs),
    /// List the form kinds with their Chinese names.
    List(CommonArgs),
    /// Write a commented YAML skeleton of a form kind, explaining every field.
    New(NewArgs),
    /// Print the JSON Schema of a form kind's YAML (for completion and checks in an editor).
    Schema(SchemaArgs),
    /// Copy a form kind's template folder, to start a variant (use it with --templates).
    Template(TemplateArgs),
    /// Write the YAML attached to an archive PDF (render --archive) back to a file, byte for byte.
    #[command(after_help = EXIT_HELP)]
    Extract(ExtractArgs),
    /// Check a PDF's digital signatures, and that its printed 校验码 matches its attached YAML (and the given YAML).
    #[command(after_help = EXIT_HELP)]
    Verify(VerifyArgs),
    /// Sign a PDF digitally (PAdES, from a .p12 key); visible in the 签章区 when the page has one.
    #[command(after_help = EXIT_HELP)]
    Sign(sign::SignArgs),
    /// Fill in and check forms in the browser, with a live preview (a local web app on 127.0.0.1).
    Serve(ServeArgs),
    /// Read a filled form from a spreadsheet (.xlsx; .xls and .et) into the kind's YAML.
    #[command(after_help = EXIT_HELP)]
    Import(ImportArgs),
    /// File the scanned, signed paper form: check every page's QR code against the form, then
    /// write a PDF/A-3b archive of the scans with the YAML and the generated PDF attached.
    #[command(after_help = EXIT_HELP)]
    Scan(ScanArgs),
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// The folder of forms (its *.yaml and *.yml files) [default: the current folder].
    #[arg(value_name = "DIR", default_value = ".")]
    dir: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8421, conflicts_with = "listen")]
    port: u16,
    /// Listen on this address instead (e.g. 0.0.0.0:8421): other computers can then reach the forms.
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// Open the page in the default browser.
    #[arg(long)]
    open: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct ImportArgs {
    /// The spreadsheet (.xlsx as Excel or WPS saves it; .xls, .et).
    file: PathBuf,
    /// The form kind [default: found from the labels on the sheet].
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,
    /// Where to write the YAML [default: the spreadsheet's path with .yaml]; never over an existing
    /// file; `-` for standard output.
    #[arg(short, long, value_name = "FORM.yaml")]
    output: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("form").required(true).multiple(true).args(["data", "pdf"]))]
struct ScanArgs {
    /// The scanned pages, in any order: a scanner's PDF, or JPEG, PNG and TIFF files.
    #[arg(required = true, value_name = "SCAN")]
    scans: Vec<PathBuf>,
    /// The form's data (YAML); it is rendered to learn its pages and 校验码.
    #[arg(long, value_name = "FORM.yaml")]
    data: Option<PathBuf>,
    /// The generated PDF that was printed (with --data too, both are checked and attached).
    #[arg(long, value_name = "FORM.pdf")]
    pdf: Option<PathBuf>,
    /// The archive to write (PDF/A-3b, or OFD-A with --format ofd); never over an input or another archive.
    #[arg(short, long, value_name = "SIGNED.pdf")]
    output: PathBuf,
    /// The archive's format: pdf (PDF/A-3b) or ofd (OFD-A, GB/T 42133).
    #[arg(long, default_value = "pdf", value_parser = ["pdf", "ofd"])]
    format: String,
    /// The scan date recorded in the archive [default: the day the newest scan file was last modified].
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct WatchArgs {
    /// The form data (YAML).
    form: PathBuf,
    /// Output PDF [default: the form's path with .pdf]; `-` for standard output.
    #[arg(short, long, value_name = "OUT.pdf")]
    output: Option<PathBuf>,
    /// Archive file: PDF/A-3b with the YAML attached.
    #[arg(long)]
    archive: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct NewArgs {
    /// The form kind (see `formpress list`).
    kind: String,
    /// Where to write the skeleton [default: standard output]; never over an existing file.
    #[arg(short, long, value_name = "FILE.yaml")]
    output: Option<PathBuf>,
    /// Write the form's own labels as keys (部门名称: instead of department:); both are accepted.
    #[arg(long)]
    zh: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct SchemaArgs {
    /// The form kind (see `formpress list`).
    kind: String,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct TemplateArgs {
    /// The form kind to copy.
    kind: String,
    /// The new kind's folder; its name becomes the new kind's id (e.g. mytemplates/henan-2022-dept).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct ExtractArgs {
    /// A PDF made with `formpress render --archive`.
    pdf: PathBuf,
    /// Where to write the YAML [default: the attachment's name, next to the PDF]; `-` for standard output.
    #[arg(short, long, value_name = "OUT.yaml")]
    output: Option<PathBuf>,
    /// Overwrite an existing file that differs from the attachment.
    #[arg(long)]
    force: bool,
}

#[derive(Args, Debug)]
struct VerifyArgs {
    /// The PDF to verify.
    pdf: PathBuf,
    /// The form data it should have been made from (optional if the PDF carries its YAML).
    form: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug, Clone)]
struct CommonArgs {
    /// Add fonts from this folder (repeatable); for characters the bundled fonts lack.
    #[arg(long = "font-path", value_name = "DIR")]
    font_path: Vec<PathBuf>,
    /// Add or override form kinds from this folder of template folders (repeatable).
    #[arg(long = "templates", value_name = "DIR")]
    templates: Vec<PathBuf>,
    /// Also allow pictures (seal:) from this folder; by default only the form's own folder (repeatable).
    #[arg(long = "allow-path", value_name = "DIR")]
    allow_path: Vec<PathBuf>,
    /// Do not look for installed fonts; use only bundled and --font-path fonts.
    #[arg(long)]
    no_system_fonts: bool,
    /// Colour in messages: auto (on a terminal), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
}

#[derive(Args, Debug)]
struct RenderArgs {
    /// Form files (YAML), or folders: every *.yaml and *.yml (any case) in them.
    #[arg(required = true, value_name = "FORM")]
    forms: Vec<PathBuf>,
    /// Output file for one form [default: the form's path with .pdf], `-` for standard
    /// output; with several forms or a folder, the output folder [default: beside each form].
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Output format: pdf, ofd (GB/T 33190; OFD-A with --archive), png/svg with one file per page
    /// (FORM-1.png, FORM-2.png, …), or xlsx (the form as a spreadsheet with the official grid;
    /// `formpress import` reads it back).
    #[arg(long, default_value = "pdf", value_parser = ["pdf", "ofd", "png", "svg", "xlsx"])]
    format: String,
    /// Resolution of PNG pages, in pixels per inch.
    #[arg(long, default_value_t = 144.0, value_name = "PPI")]
    ppi: f64,
    /// Also write all rendered forms into one PDF, in order, with a bookmark per form.
    #[arg(long, value_name = "OUT.pdf")]
    combine: Option<PathBuf>,
    /// Forms rendered at once [default: the number of CPU cores].
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Also write the generated Typst markup here (one form only; for debugging templates).
    #[arg(long, value_name = "OUT.typ")]
    typ: Option<PathBuf>,
    /// Write nothing if any error or warning is found.
    #[arg(long)]
    strict: bool,
    /// Archive file: PDF/A-3b with this YAML attached byte for byte (also `options: {archive: true}`).
    #[arg(long)]
    archive: bool,
    /// 骑缝章: this picture (PNG/SVG) cut into one vertical slice per page along the right edges, so
    /// the fanned pages show the whole seal (also `options: {seal_across: SEAL.png}`; none on one page).
    #[arg(long, value_name = "SEAL.png")]
    seal_across: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Form files (YAML), or folders: every *.yaml and *.yml in them.
    #[arg(required = true, value_name = "FORM")]
    forms: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    common: CommonArgs,
}

pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_IO: u8 = 3;
pub const EXIT_LAYOUT: u8 = 4;

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Render(args) => render(args),
        Command::Check(args) => check(args),
        Command::Watch(args) => watch(args),
        Command::List(args) => list(args),
        Command::New(args) => new(args),
        Command::Schema(args) => schema(args),
        Command::Template(args) => template(args),
        Command::Extract(args) => extract(args),
        Command::Verify(args) => verify(args),
        Command::Sign(args) => sign::run(args),
        Command::Serve(args) => serve(args),
        Command::Import(args) => import(args),
        Command::Scan(args) => scan(args),
    }
}

fn engine(common: &CommonArgs) -> Result<Engine, ExitCode> {
    let folders =
        [("--font-path", &common.font_path), ("--templates", &common.templates), ("--allow-path", &common.allow_path)];
    for (option, dirs) in folders {
        if let Some(dir) = dirs.iter().find(|d| !d.is_dir()) {
            eprintln!("formpress: {option} {}：目录不存在", shown(dir));
            return Err(ExitCode::from(EXIT_USAGE));
        }
    }
    let engine = Engine::new(&EngineOptions {
        template_dirs: common.templates.clone(),
        font_dirs: common.font_path.clone(),
        no_system_fonts: common.no_system_fonts,
        allow_paths: common.allow_path.clone(),
    })
    .map_err(|e| {
        eprintln!("formpress: {e}");
        ExitCode::from(EXIT_LAYOUT)
    })?;
    for problem in engine.catalog().problems() {
        eprintln!("formpress: 警告：{}", findings::escape_controls(problem));
    }
    Ok(engine)
}

/// A path for a message, with control characters escaped.
fn shown(path: &Path) -> String {
    findings::escape_controls(&path.display().to_string())
}

/// Reports an output that was refused or failed; the exit code for it.
fn write_failed(e: &OutputError) -> u8 {
    if matches!(e, OutputError::Closed) {
        return 0; // the reader went away; nothing to say to it
    }
    eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
    if e.is_usage() { EXIT_USAGE } else { EXIT_IO }
}

fn style(common: &CommonArgs) -> Style {
    let tty = std::io::stderr().is_terminal();
    let color = match common.color.as_str() {
        "always" => true,
        "never" => false,
        _ => tty && std::env::var_os("NO_COLOR").is_none(),
    };
    Style { color, snippets: tty || color }
}

/// Reads a PDF; a failure is an I/O error with the path in it.
fn read_pdf(path: &Path) -> Result<Vec<u8>, ExitCode> {
    formpress::input::read(path, inspect::MAX_PDF_BYTES).map_err(|e| {
        eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
        ExitCode::from(EXIT_IO)
    })
}

fn io_reason(e: &std::io::Error) -> String {
    if let Some(inner) = e.get_ref() {
        return inner.to_string(); // our own message, e.g. 输出目录不存在
    }
    match e.kind() {
        std::io::ErrorKind::NotFound => "文件或目录不存在".into(),
        std::io::ErrorKind::PermissionDenied => "没有权限".into(),
        std::io::ErrorKind::IsADirectory => "这是一个目录".into(),
        _ => e.to_string(),
    }
}

fn print_findings(form: &Form, style: Style) {
    if form.findings.is_empty() {
        return;
    }
    eprint!("{}", findings::render(&form.name, Some(&form.source), &form.findings, style));
    eprintln!("{}：{} 个错误，{} 个警告", form.name, form.errors(), form.warnings());
}

fn check(args: CheckArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let style = style(&args.common);
    let forms = match expand(&args.forms) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let mut worst = 0u8;
    for path in &forms {
        let form = match check_file(&engine, path) {
            Ok(f) => f,
            Err(_) => {
                worst = worst.max(EXIT_IO);
                continue;
            }
        };
        print_findings(&form, style);
        if form.errors() > 0 || (args.strict && form.warnings() > 0) {
            worst = worst.max(EXIT_FINDINGS);
        } else if form.findings.is_empty() {
            say!("{}：没有发现问题", shown(path));
        }
    }
    ExitCode::from(worst)
}

fn render(args: RenderArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut options = RenderOptions { archive: args.archive, ..RenderOptions::default() };
    if let Some(path) = &args.seal_across {
        match formpress::schema::read_named_picture(path) {
            Ok(picture) => options.seal_across = Some(picture),
            Err(e) => {
                eprintln!("formpress: --seal-across {}", findings::escape_controls(&e));
                return ExitCode::from(EXIT_IO);
            }
        }
    }
    let single = args.forms.len() == 1 && !args.forms[0].is_dir();
    if args.format == "xlsx" {
        return render_xlsx(&engine, &args, single);
    }
    if single && args.format == "pdf" && args.combine.is_none() {
        render_one(&engine, &args, &args.forms[0], &options)
    } else {
        batch(&engine, &args, single, options)
    }
}

/// One form to one PDF, with everything said about it.
fn render_one(engine: &Engine, args: &RenderArgs, input: &Path, options: &RenderOptions) -> ExitCode {
    let form = match check_file(engine, input) {
        Ok(f) => f,
        Err(code) => return code,
    };
    print_findings(&form, style(&args.common));
    if !form.renderable() {
        eprintln!("formpress: {}：有结构性错误，未生成 PDF", input.display());
        return ExitCode::from(EXIT_FINDINGS);
    }
    if args.strict && !form.findings.is_empty() {
        eprintln!("formpress: --strict：有错误或警告，未生成 PDF");
        return ExitCode::from(EXIT_FINDINGS);
    }
    let outputs = Outputs::new();
    outputs.input(input);
    let output = args.output.clone().unwrap_or_else(|| input.with_extension("pdf"));
    let claimed = outputs.claim(&output, Content::Other).and_then(|pdf| {
        let typ = args.typ.as_ref().map(|t| outputs.claim(t, Content::Other)).transpose()?;
        Ok((pdf, typ))
    });
    let (output, typ) = match claimed {
        Ok(c) => c,
        Err(e) => return ExitCode::from(write_failed(&e)),
    };
    let rendered = match engine.report(&form, options).and_then(|r| r.pdf().map(|pdf| (r, pdf))) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("formpress: {}：{e}", shown(input));
            if let (Error::Typst { markup, .. }, Some(typ)) = (&e, &typ) {
                // The markup is what a template author needs to see the error.
                let _ = typ.write(markup.as_bytes());
            }
            return ExitCode::from(EXIT_LAYOUT);
        }
    };
    let (report, pdf) = rendered;
    if let Some(typ) = &typ
        && let Err(e) = write_markup(&outputs, typ, &report.laid)
    {
        return ExitCode::from(write_failed(&e));
    }
    if let Err(e) = output.write(&pdf) {
        return ExitCode::from(write_failed(&e));
    }
    let mut notes = report.notes();
    notes.insert(1, format!("{} KB", pdf.len().div_ceil(1024)));
    // With the PDF on standard output, the report goes to standard error.
    let what = if report.draft() { "已生成草稿" } else { "已生成" };
    let line = format!("{what} {}（{}）", shown(output.path()), notes.join("，"));
    match output {
        Output::Stdout => eprintln!("formpress: {line}"),
        Output::File { .. } => say!("{line}"),
    }
    if let Some((date, "年度首日")) = report.laid.date {
        let (y, m, d) = (date.year().unwrap_or(0), date.month().unwrap_or(0), date.day().unwrap_or(0));
        eprintln!(
            "formpress: 注意：表单没有填报日期，PDF 日期记为 {y}-{m:02}-{d:02}；可在 signature.date 写填报日期，或设置 SOURCE_DATE_EPOCH"
        );
    }
    if report.draft() { ExitCode::from(EXIT_FINDINGS) } else { ExitCode::SUCCESS }
}

/// Re-renders on every save (changes are debounced), printing findings; a
/// version with structural errors leaves the last good PDF in place.
fn watch(args: WatchArgs) -> ExitCode {
    use notify_debouncer_mini::notify::RecursiveMode;
    let outputs = Outputs::new();
    outputs.input(&args.form);
    let output =
        match outputs.claim(&args.output.clone().unwrap_or_else(|| args.form.with_extension("pdf")), Content::Other) {
            Ok(o) => o,
            Err(e) => return ExitCode::from(write_failed(&e)),
        };
    let style = style(&args.common);
    let run = || -> bool {
        // Templates may have changed too: load kinds and fonts afresh.
        let engine = match engine(&args.common) {
            Ok(e) => e,
            Err(_) => return false,
        };
        let form = match check_file(&engine, &args.form) {
            Ok(f) => f,
            Err(_) => return false,
        };
        print_findings(&form, style);
        if !form.renderable() {
            eprintln!("formpress: 有结构性错误，保留上一版 {}", shown(output.path()));
            return false;
        }
        let options = RenderOptions { archive: args.archive, ..RenderOptions::default() };
        match engine.report(&form, &options).and_then(|r| r.pdf().map(|pdf| (output.write(&pdf), r))) {
            Ok((Ok(()), r)) => {
                let what = if r.draft() { "已生成草稿（有错误）" } else { "已生成" };
                say!("{what} {}（{} 页）", shown(output.path()), r.pages);
                true
            }
            Ok((Err(e), _)) => {
                let _ = write_failed(&e);
                false
            }
            Err(e) => {
                eprintln!("formpress: {e}；保留上一版 {}", shown(output.path()));
                false
            }
        }
    };
    run();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut debouncer = match notify_debouncer_mini::new_debouncer(std::time::Duration::from_millis(250), tx) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("formpress: 无法监视文件：{e}");
            return ExitCode::from(EXIT_IO);
        }
    };
    // Editors save by writing a new file and renaming it, so the folder is watched.
    let folder = match args.form.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut watched = vec![(folder.clone(), RecursiveMode::NonRecursive)];
    watched.extend(args.common.templates.iter().map(|d| (d.clone(), RecursiveMode::Recursive)));
    for (dir, mode) in &watched {
        if let Err(e) = debouncer.watcher().watch(dir, *mode) {
            eprintln!("formpress: 无法监视 {}：{e}", dir.display());
            return ExitCode::from(EXIT_IO);
        }
    }
    // Reading a file is an event too; render again only when something changed.
    let snapshot = || {
        let mut state =
            vec![formpress::input::read(&args.form, formpress::yaml::MAX_FILE_BYTES as u64).unwrap_or_default()];
        for dir in &args.common.templates {
            state.push(tree_state(dir).into_bytes());
        }
        state
    };
    let mut last = snapshot();
    say!("正在监视 {}（Ctrl-C 结束）", shown(&args.form));
    for events in rx {
        if events.is_err() {
            continue;
        }
        let now = snapshot();
        if now != last {
            last = now;
            run();
        }
    }
    ExitCode::SUCCESS
}

/// Paths, sizes and modification times of the files under `dir`.
fn tree_state(dir: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.push_str(&format!("{}:{}:{:?}\n", e.path().display(), meta.len(), meta.modified().ok()));
            }
        }
    }
    out
}

/// The forms named on the command line: files as given, folders as their
/// YAML files (`.yaml` or `.yml`, any case). A folder without forms is an
/// error, not a run that silently does nothing.
fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, ExitCode> {
    let mut out = vec![];
    for input in inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input).map_err(|e| {
                eprintln!("formpress: 无法读取目录 {}：{}", shown(input), io_reason(&e));
                ExitCode::from(EXIT_IO)
            })?;
            let mut found: Vec<PathBuf> =
                entries.flatten().map(|e| e.path()).filter(|p| p.is_file() && formpress::output::is_yaml(p)).collect();
            if found.is_empty() {
                eprintln!("formpress: 目录 {} 中没有表单（*.yaml 或 *.yml 文件）", shown(input));
                return Err(ExitCode::from(EXIT_USAGE));
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(input.clone());
        }
    }
    Ok(out)
}

/// Many forms (or page images): in parallel, with progress and a summary.
fn batch(engine: &Engine, args: &RenderArgs, single: bool, options: RenderOptions) -> ExitCode {
    let style = style(&args.common);
    let inputs = match expand(&args.forms) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let format = match args.format.as_str() {
        "png" => batch::Format::Png(args.ppi),
        "svg" => batch::Format::Svg,
        "ofd" => batch::Format::Ofd,
        _ => batch::Format::Pdf,
    };
    if format == batch::Format::Ofd && args.combine.is_some() {
        eprintln!("formpress: --combine 只能合并 PDF，不能与 --format ofd 同用");
        return ExitCode::from(EXIT_USAGE);
    }
    if args.typ.is_some() && inputs.len() != 1 {
        eprintln!("formpress: --typ 只能用于一份表单");
        return ExitCode::from(2);
    }
    // The upper bound is the pixels a page would take (preview::MAX_PAGE_PIXELS).
    if !(args.ppi >= 1.0 && args.ppi.is_finite()) {
        eprintln!("formpress: --ppi 应为不小于 1 的数");
        return ExitCode::from(EXIT_USAGE);
    }
    // One input file: -o is its output (stem for images). Otherwise -o is a folder.
    let ext = match format {
        batch::Format::Pdf => "pdf",
        batch::Format::Ofd => "ofd",
        _ => "",
    };
    let target = |input: &Path| -> PathBuf {
        let stem = input.file_stem().unwrap_or_default();
        match &args.output {
            Some(o) if single => {
                if ext.is_empty() {
                    o.with_extension("")
                } else {
                    o.clone()
                }
            }
            Some(dir) => dir.join(stem).with_extension(ext),
            None => input.with_extension(ext),
        }
    };
    if let (Some(dir), false) = (&args.output, single)
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("formpress: 无法建立输出目录 {}：{}", shown(dir), io_reason(&e));
        return ExitCode::from(EXIT_IO);
    }
    // Every output is claimed before anything is rendered: a clash is a usage error up front.
    let outputs = Outputs::new();
    for input in &inputs {
        outputs.input(input);
    }
    let mut items = vec![];
    for input in &inputs {
        let output = match format {
            batch::Format::Pdf | batch::Format::Ofd => match outputs.claim(&target(input), Content::Other) {
                Ok(o) => batch::Target::Pdf(o),
                Err(e) => return ExitCode::from(write_failed(&e)),
            },
            _ => batch::Target::Pages(target(input)),
        };
        items.push(batch::Item { input: input.clone(), output });
    }
    let combine = match &args.combine {
        Some(path) => match claim_unarchived(&outputs, path) {
            Ok(o) => Some(o),
            Err(e) => return ExitCode::from(write_failed(&e)),
        },
        None => None,
    };
    let options = batch::Options {
        jobs: args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        format,
        render: options,
        strict: args.strict,
        keep_pdf: args.combine.is_some(),
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(items.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} 预计还需 {eta} {msg}")
                .expect("valid template"),
        );
        bar
    });
    let done = std::sync::atomic::AtomicUsize::new(0);
    let start = std::time::Instant::now();
    let progress = |item: &batch::Item, outcome: &batch::Outcome| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let line = match outcome {
            batch::Outcome::Written { files, notes, .. } => {
                format!(
                    "{} → {}（{}）",
                    shown(&item.input),
                    files.first().map(|f| shown(f)).unwrap_or_default(),
                    notes.join("，")
                )
            }
            batch::Outcome::Refused { form } => format!("{}：{} 个错误，未生成", shown(&item.input), form.errors()),
            batch::Outcome::Failed { error, .. } => {
                format!("{}：失败：{}", shown(&item.input), findings::escape_controls(&error.to_string()))
            }
        };
        match &bar {
            Some(bar) => {
                bar.inc(1);
                if !outcome.ok() {
                    bar.println(line);
                }
            }
            None => say!("[{n}/{}] {line}", items.len()),
        }
    };
    let outcomes = batch::run(engine, &items, &outputs, &options, &progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let elapsed = start.elapsed().as_secs_f64();

    // Findings of forms with errors, then the summary.
    let mut worst = 0u8;
    let (mut written, mut drafts, mut refused, mut failed, mut warnings) = (0, 0, 0, 0, 0);
    for outcome in &outcomes {
        match outcome {
            batch::Outcome::Written { form, .. } => {
                written += 1;
                warnings += form.warnings();
                if form.errors() > 0 {
                    drafts += 1;
                    worst = worst.max(EXIT_FINDINGS);
                }
                if !form.findings.is_empty() {
                    print_findings(form, style);
                }
            }
            batch::Outcome::Refused { form } => {
                refused += 1;
                print_findings(form, style);
                worst = worst.max(EXIT_FINDINGS);
            }
            batch::Outcome::Failed { form, error } => {
                failed += 1;
                if let Some(form) = form {
                    eprintln!("formpress: {}：{}", form.name, findings::escape_controls(&error.to_string()));
                }
                worst = worst.max(if error.is_io() { EXIT_IO } else { EXIT_LAYOUT });
            }
        }
    }
    if let Some(output) = &combine {
        let path = output.path();
        let parts: Vec<(String, Vec<u8>, usize)> = outcomes
            .iter()
            .filter_map(|o| match o {
                batch::Outcome::Written { bookmark, pdf: Some(pdf), pages, .. } => {
                    Some((bookmark.clone(), pdf.clone(), *pages))
                }
                _ => None,
            })
            .collect();
        if parts.is_empty() {
            eprintln!("formpress: 没有生成任何表单，未写合并文件 {}", shown(path));
        } else {
            match batch::combine(engine, &parts).map(|bytes| output.write(&bytes).map(|()| bytes.len())) {
                Ok(Ok(bytes)) => {
                    say!("已合并 {} 份表单到 {}（{} KB）", parts.len(), shown(path), bytes.div_ceil(1024))
                }
                Ok(Err(e)) => {
                    worst = worst.max(write_failed(&e));
                }
                Err(e) => {
                    eprintln!("formpress: 合并失败：{e}");
                    worst = worst.max(EXIT_LAYOUT);
                }
            }
        }
    }
    let rate = if elapsed > 0.0 { written as f64 / elapsed } else { 0.0 };
    say!(
        "共 {} 份：已生成 {written} 份（其中 {drafts} 份有错误，印为草稿），未生成 {refused} 份，失败 {failed} 份；{warnings} 个警告；用时 {elapsed:.1} 秒（{rate:.1} 份/秒）",
        items.len()
    );
    ExitCode::from(worst)
}

/// An output that is a new kind of file (`--combine`, `scan`): never one of
/// this run's own PDFs (claimed already), and never an archive PDF that
/// carries a form's YAML.
fn claim_unarchived(outputs: &Outputs, path: &Path) -> Result<Output, OutputError> {
    let output = outputs.claim(path, Content::Other)?;
    if let Output::File { real, .. } = &output
        && let Ok(bytes) = formpress::input::read(real, inspect::MAX_PDF_BYTES)
        && let Ok(pdf) = match formpress::ofd_read::is_ofd(&bytes) {
            true => formpress::ofd_read::read(&bytes).map(|(read, _)| read).map_err(|_| ()),
            false => inspect::read(bytes).map_err(|_| ()),
        }
        && (pdf.source().is_some() || scan::is_archive(&pdf))
    {
        return Err(OutputError::Archive(path.to_path_buf()));
    }
    Ok(output)
}

/// Writes the markup and, beside it, the assets it reads (`assets/qr.png`, …),
/// so `typst compile OUT.typ` works on it as it is.
fn write_markup(outputs: &Outputs, typ: &Output, laid: &formpress::Laid) -> Result<(), OutputError> {
    typ.write(laid.markup.as_bytes())?;
    let Output::File { given, .. } = typ else { return Ok(()) };
    let dir = given.parent().unwrap_or(Path::new(""));
    for (vpath, bytes) in &laid.files {
        if let Some(rel) = vpath.strip_prefix("/assets/") {
            let path = dir.join("assets").join(rel);
            std::fs::create_dir_all(path.parent().unwrap_or(dir)).map_err(|e| OutputError::Io(path.clone(), e))?;
            outputs.claim(&path, Content::Other)?.write(bytes.as_slice())?;
        }
    }
    Ok(())
}

/// Reads and checks a form file, reporting I/O problems.
fn check_file(engine: &Engine, path: &Path) -> Result<Form, ExitCode> {
    engine.check_file(path).map_err(|e| {
        eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
        ExitCode::from(EXIT_IO)
    })
}

/// A PDF, or an OFD package (told from its bytes) with its package facts.
fn read_document(
    path: &Path,
    bytes: Vec<u8>,
) -> Result<(inspect::Inspected, Option<formpress::ofd_read::Package>), ExitCode> {
    let failed = |e: &dyn std::fmt::Display| {
        eprintln!("formpress: {}：{e}", shown(path));
        ExitCode::from(EXIT_FINDINGS)
    };
    if formpress::ofd_read::is_ofd(&bytes) {
        return formpress::ofd_read::read(&bytes).map(|(read, pkg)| (read, Some(pkg))).map_err(|e| failed(&e));
    }
    inspect::read(bytes).map(|read| (read, None)).map_err(|e| failed(&e))
}

fn extract(args: ExtractArgs) -> ExitCode {
    let (pdf, ofd) = match read_pdf(&args.pdf).and_then(|bytes| read_document(&args.pdf, bytes)) {
        Ok(read) => read,
        Err(code) => return code,
    };
    let doc = if ofd.is_some() { "OFD" } else { "PDF" };
    let Some(attachment) = pdf.source() else {
        eprintln!(
            "formpress: {}：{doc} 中没有附带 YAML（只有 render --archive 生成的存档文件才附带表单原文）",
            args.pdf.display()
        );
        return ExitCode::from(EXIT_FINDINGS);
    };
    let given = args.output.unwrap_or_else(|| {
        let name = Path::new(&attachment.name).file_name().map_or("form.yaml".into(), |n| n.to_owned());
        args.pdf.parent().unwrap_or(Path::new("")).join(name)
    });
    let outputs = Outputs::new();
    outputs.input(&args.pdf);
    let output = match outputs.claim(&given, Content::Yaml) {
        Ok(o) => o,
        Err(e) => return ExitCode::from(write_failed(&e)),
    };
    if let Output::File { real, .. } = &output
        && let Ok(existing) = formpress::input::read(real, formpress::yaml::MAX_FILE_BYTES as u64)
    {
        if existing == attachment.bytes {
            say!("{} 已与附件完全相同，未改动", shown(&given));
            return ExitCode::SUCCESS;
        }
        if !args.force {
            eprintln!("formpress: {} 已存在且内容不同；用 -o 另选文件名，或加 --force 覆盖", shown(&given));
            return ExitCode::from(EXIT_FINDINGS);
        }
    }
    if let Err(e) = output.write(&attachment.bytes) {
        return ExitCode::from(write_failed(&e));
    }
    if let Output::File { .. } = output {
        say!(
            "已写出 {}（{} 字节，取自 {doc} 附件 {}）",
            shown(&given),
            attachment.bytes.len(),
            findings::escape_controls(&attachment.name)
        );
    }
    ExitCode::SUCCESS
}

/// Finds a kind by id, with a did-you-mean on a typo.
fn kind<'a>(engine: &'a Engine, id: &str) -> Result<&'a formpress::kind::Kind, ExitCode> {
    engine.catalog().kind(id).ok_or_else(|| {
        let known: Vec<&str> = engine.catalog().kinds().map(|k| k.id.as_str()).collect();
        let hint = formpress::schema::did_you_mean(id, &known).map(|b| format!("是否应为 {b}？")).unwrap_or_default();
        eprintln!("formpress: 未知的表单种类 {id}。{hint}可用的种类：{}", known.join("、"));
        ExitCode::from(2)
    })
}

/// Writes text to a new file, or to standard output when no file is named.
fn write_or_print(output: Option<&Path>, text: &str, what: &str) -> ExitCode {
    let path = output.unwrap_or(Path::new("-"));
    if !formpress::output::is_stdout(path) && std::fs::symlink_metadata(path).is_ok() {
        eprintln!("formpress: {} 已存在，未覆盖", shown(path));
        return ExitCode::from(EXIT_FINDINGS);
    }
    let written = Outputs::new().claim(path, Content::Yaml).and_then(|o| o.write(text.as_bytes()).map(|()| o));
    match written {
        Ok(Output::File { .. }) => {
            say!("已写出 {what} {}", shown(path));
            ExitCode::SUCCESS
        }
        Ok(Output::Stdout) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(write_failed(&e)),
    }
}

/// Runs `f` with the engine and the named kind, or reports why there is none.
fn with_kind(common: &CommonArgs, id: &str, f: impl FnOnce(&Engine, &formpress::kind::Kind) -> ExitCode) -> ExitCode {
    let engine = match engine(common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    match kind(&engine, id) {
        Ok(k) => f(&engine, k),
        Err(code) => code,
    }
}

fn new(args: NewArgs) -> ExitCode {
    with_kind(&args.common, &args.kind, |_, kind| {
        write_or_print(args.output.as_deref(), &formpress::describe::skeleton_in(kind, args.zh), "表单骨架")
    })
}

fn schema(args: SchemaArgs) -> ExitCode {
    with_kind(&args.common, &args.kind, |_, kind| {
        let schema = formpress::describe::json_schema(kind);
        let text = serde_json::to_string_pretty(&schema).expect("serialisable") + "\n";
        match Output::Stdout.write(text.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => ExitCode::from(write_failed(&e)),
        }
    })
}

fn template(args: TemplateArgs) -> ExitCode {
    with_kind(&args.common, &args.kind, |engine, kind| {
        if args.output.exists() {
            eprintln!("formpress: {} 已存在；请给一个新的目录名（目录名就是新种类的名字）", args.output.display());
            return ExitCode::from(EXIT_FINDINGS);
        }
        let prefix = format!("{}/", kind.id);
        let outputs = Outputs::new();
        for (name, text) in engine.catalog().sources().iter().filter(|(k, _)| k.starts_with(&prefix)) {
            let path = args.output.join(&name[prefix.len()..]);
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .map_err(|e| OutputError::Io(path.clone(), e))
                .and_then(|()| outputs.claim(&path, Content::Yaml))
                .and_then(|o| o.write(text.as_bytes()));
            if let Err(e) = written {
                return ExitCode::from(write_failed(&e));
            }
        }
        let id = args.output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let dir = args.output.parent().map(|p| p.display().to_string()).unwrap_or_default();
        say!("已把 {} 复制到 {}（新种类 {id}）。", kind.id, shown(&args.output));
        say!("改 kind.yaml 和 {} 后：formpress list --templates {dir}", kind.manifest.template);
        ExitCode::SUCCESS
    })
}

fn verify(args: VerifyArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let bytes = match read_pdf(&args.pdf) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let (pdf, ofd) = match read_document(&args.pdf, bytes.clone()) {
        Ok(read) => read,
        Err(code) => return code,
    };
    let doc = if ofd.is_some() { "OFD" } else { "PDF" };
    let signatures_ok = match &ofd {
        // GB/T 38540 seals are not checked (README, "OFD").
        Some(pkg) if pkg.signed => {
            say!("OFD 中有电子签章（GB/T 38540），formpress 不核验签章，只核验内容");
            true
        }
        Some(_) => true,
        None => sign::report(&args.pdf, &bytes),
    };
    if scan::is_archive(&pdf) {
        // A signed scan archive: both the signatures and the scanned pages must hold.
        let code = verify_scan(&engine, &args, bytes, &pdf);
        return if signatures_ok { code } else { ExitCode::from(EXIT_FINDINGS) };
    }
    if pdf.pages.iter().any(|p| fingerprint::is_draft(&p.text)) {
        say!("{}：这是草稿——表单数据有错误，未通过校验，页面上没有校验码；不能作为正式表格", args.pdf.display());
        say!("结果：草稿");
        return ExitCode::from(EXIT_FINDINGS);
    }
    // The code printed on each page; all pages must agree.
    let printed: Vec<Option<String>> = pdf.pages.iter().map(|p| fingerprint::find_code(&p.text)).collect();
    let Some(code) = printed.iter().flatten().next().cloned() else {
        eprintln!("formpress: {}：{doc} 上没有找到校验码", args.pdf.display());
        return ExitCode::from(EXIT_FINDINGS);
    };
    let mut ok = signatures_ok;
    let odd: Vec<String> = printed
        .iter()
        .enumerate()
        .filter(|(_, c)| c.as_deref() != Some(code.as_str()))
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    if odd.is_empty() {
        say!("{doc} 上印的校验码：{code}（{} 页一致）", printed.len());
    } else {
        ok = false;
        say!("{doc} 上印的校验码：{code}；✗ 第 {} 页的校验码不同或缺失", odd.join("、"));
    }
    let recorded = pdf.creator.as_deref().and_then(Stamp::parse);
    match &recorded {
        Some(stamp) => say!("{doc} 由 {stamp} 生成"),
        None => say!("{doc} 中没有 formpress 的版本记录"),
    }
    let mut sources: Vec<(String, Form, bool)> = vec![];
    match archive::attached_form(&engine, &pdf) {
        Ok(form) => sources.push((format!("{doc} 附带的 {}", findings::escape_controls(&form.name)), form, true)),
        Err(ArchiveError::NoSource) => {}
        Err(e) => {
            ok = false;
            say!("{doc} 附带的表单数据：✗ {e}");
        }
    }
    if let Some(path) = &args.form {
        match check_file(&engine, path) {
            Ok(form) => sources.push((format!("给出的 {}", path.display()), form, false)),
            Err(code) => return code,
        }
    }
    if sources.is_empty() && ok {
        eprintln!("formpress: {} 没有附带 YAML；请给出表单的 YAML 文件：formpress verify PDF YAML", args.pdf.display());
        return ExitCode::from(EXIT_FINDINGS);
    }
    let mut notes = false;
    for (what, form, attached) in &sources {
        let against = Against { pdf: &pdf, ofd: ofd.as_ref(), attached: *attached };
        let outcome = verify_source(&engine, &against, &code, recorded.as_ref(), what, form);
        ok &= outcome != Outcome::Differs;
        notes |= outcome == Outcome::Note;
    }
    match (ok, notes) {
        (true, false) => {
            say!("结果：一致");
            ExitCode::SUCCESS
        }
        (true, true) => {
            say!("结果：一致（校验码相符；页面比对有提示，见上）");
            ExitCode::SUCCESS
        }
        (false, _) => {
            say!("结果：不一致");
            ExitCode::from(EXIT_FINDINGS)
        }
    }
}

/// `verify` of a scan archive (`formpress scan`): its pages' QR codes, its
/// attachments, and the given YAML if any.
fn verify_scan(engine: &Engine, args: &VerifyArgs, bytes: Vec<u8>, pdf: &inspect::Inspected) -> ExitCode {
    let mut findings = scan::verify_archive(engine, bytes, pdf);
    if let Some(path) = &args.form {
        let form = match check_file(engine, path) {
            Ok(f) => f,
            Err(code) => return code,
        };
        let code = scan::manifest(pdf).map(|m| m.code).unwrap_or_default();
        findings.push(match engine.fingerprint(&form).filter(|_| form.renderable()) {
            Some(fp) if fp.code() == code => scan::Finding::Ok(format!("给出的 {}：校验码 {code} ✓ 一致", shown(path))),
            Some(fp) => scan::Finding::Wrong(format!(
                "给出的 {}：校验码不一致：存档是 {code}，数据算得 {}",
                shown(path),
                fp.code()
            )),
            None => {
                scan::Finding::Wrong(format!("给出的 {}：无法读取表单数据（{} 个错误）", shown(path), form.errors()))
            }
        });
    }
    let mut ok = true;
    for finding in &findings {
        match finding {
            scan::Finding::Ok(text) => say!("✓ {text}"),
            scan::Finding::Wrong(text) => {
                ok = false;
                say!("✗ {text}");
            }
        }
    }
    if ok {
        say!("结果：一致（签字盖章扫描件与表单数据相符）");
        ExitCode::SUCCESS
    } else {
        say!("结果：不一致");
        ExitCode::from(EXIT_FINDINGS)
    }
}

/// `scan`: the scanned pages checked against the form, then archived.
fn scan(args: ScanArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let date = match args.date.as_deref().map(scan::Day::parse) {
        Some(None) => {
            eprintln!("formpress: --date {}：日期应写作 YYYY-MM-DD", args.date.as_deref().unwrap_or_default());
            return ExitCode::from(EXIT_USAGE);
        }
        Some(Some(day)) => Some(day),
        None => None,
    };
    let outputs = Outputs::new();
    for input in args.scans.iter().chain(&args.data).chain(&args.pdf) {
        outputs.input(input);
    }
    let output = match claim_unarchived(&outputs, &args.output) {
        Ok(o) => o,
        Err(e) => return ExitCode::from(write_failed(&e)),
    };
    // With the archive on standard output, the report goes to standard error.
    let report = |line: String| match output {
        Output::Stdout => eprintln!("formpress: {line}"),
        Output::File { .. } => say!("{line}"),
    };
    let form = match &args.data {
        Some(path) => match check_file(&engine, path) {
            Ok(form) => {
                print_findings(&form, style(&args.common));
                Some(form)
            }
            Err(code) => return code,
        },
        None => None,
    };
    let expected = match &args.pdf {
        Some(path) => match read_pdf(path) {
            Ok(bytes) => scan::Expected::from_pdf(&engine, &path.display().to_string(), bytes, form.as_ref()),
            Err(code) => return code,
        },
        None => scan::Expected::from_data(&engine, form.as_ref().expect("--data or --pdf")),
    };
    let expected = match expected {
        Ok(e) => e,
        Err(e) => {
            eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
            let layout = matches!(e, scan::ExpectedError::Render(_));
            return ExitCode::from(if layout { EXIT_LAYOUT } else { EXIT_FINDINGS });
        }
    };
    report(format!("表单：校验码 {}，共 {} 页", expected.code, expected.pages.len()));
    let pages = match scan::read(&args.scans) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
            let io = matches!(e, formpress::scan_input::ScanFileError::Read(_));
            return ExitCode::from(if io { EXIT_IO } else { EXIT_FINDINGS });
        }
    };
    let order = match scan::check(&expected, &pages) {
        Ok(order) => order,
        Err(problems) => {
            for p in &problems {
                eprintln!("formpress: ✗ {p}");
            }
            eprintln!("formpress: 扫描件与表单不符（{} 处），未写存档 {}", problems.len(), shown(&args.output));
            return ExitCode::from(EXIT_FINDINGS);
        }
    };
    for (n, &i) in order.iter().enumerate() {
        report(format!("第 {} 页 ← {}", n + 1, pages[i].source));
    }
    let date = date
        .or_else(|| args.scans.iter().filter_map(|p| scan::Day::of_file(p)).max_by_key(|d| (d.year, d.month, d.day)))
        .unwrap_or(scan::Day { year: 2000, month: 1, day: 1 });
    let format = if args.format == "ofd" { scan::ArchiveFormat::Ofd } else { scan::ArchiveFormat::Pdf };
    let archive = match scan::archive(&engine, &expected, &pages, &order, date, format) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("formpress: 无法生成存档：{e}");
            return ExitCode::from(EXIT_LAYOUT);
        }
    };
    if let Err(e) = output.write(&archive) {
        return ExitCode::from(write_failed(&e));
    }
    let attached = if expected.yaml.is_some() { "附 YAML 原文和生成的 PDF" } else { "附生成的 PDF" };
    report(format!(
        "已生成 {}（{} 页扫描件，{}，{attached}，校验码 {}，扫描日期 {date}，{} KB）",
        shown(output.path()),
        order.len(),
        if format == scan::ArchiveFormat::Ofd { "OFD-A" } else { "PDF/A-3b" },
        expected.code,
        archive.len().div_ceil(1024)
    ));
    ExitCode::SUCCESS
}

#[derive(PartialEq, Eq)]
enum Outcome {
    Matches,
    /// The 校验码 matches; the pages differ from those made now with other versions.
    Note,
    Differs,
}

/// Checks the PDF against one source of form data: the 校验码, then every
/// page's text and drawings against the form rendered again, each
/// difference with its reason.
/// What `verify` checks a source of form data against: the pages read back,
/// and for an OFD the package (its pages' content and files are compared too;
/// its attachments only against the attached form itself).
struct Against<'a> {
    pdf: &'a inspect::Inspected,
    ofd: Option<&'a formpress::ofd_read::Package>,
    attached: bool,
}

impl Against<'_> {
    /// How messages name the file under test.
    fn doc(&self) -> &'static str {
        if self.ofd.is_some() { "OFD" } else { "PDF" }
    }
}

fn verify_source(
    engine: &Engine,
    against: &Against,
    code: &str,
    recorded: Option<&Stamp>,
    what: &str,
    form: &Form,
) -> Outcome {
    let Some(fp) = engine.fingerprint(form).filter(|_| form.renderable()) else {
        say!("{what}：✗ 无法读取表单数据（{} 个错误），不能计算校验码：", form.errors());
        for f in form.findings.iter().filter(|f| f.blocks_render()).take(5) {
            say!("  {}", findings::escape_controls(&f.message));
        }
        return Outcome::Differs;
    };
    let mut outcome = Outcome::Matches;
    if fp.code() == code {
        say!("{what}：校验码 {} ✓ 一致", fp.code());
    } else {
        say!("{what}：✗ 校验码不一致：{} 上印的是 {code}，数据算得 {}", against.doc(), fp.code());
        outcome = Outcome::Differs;
    }
    let running = Stamp::running(form.kind.as_deref().and_then(|k| engine.catalog().kind(k)));
    let rendered = match against.ofd {
        Some(pkg) => verify::rendered_ofd(engine, form, pkg).map(|(read, data)| {
            let mut found = verify::compare(&against.pdf.pages, &read.pages);
            found.extend(verify::compare_packages(pkg, &data, against.attached, &found));
            (read.pages.len(), found)
        }),
        None => {
            verify::rendered_pages(engine, form).map(|pages| (pages.len(), verify::compare(&against.pdf.pages, &pages)))
        }
    };
    let (pages, differences) = match rendered {
        Ok(r) => r,
        Err(e) => {
            say!("  ✗ 无法重新生成页面来比对：{}", findings::escape_controls(&e.to_string()));
            return Outcome::Differs;
        }
    };
    if differences.is_empty() {
        let package = if against.ofd.is_some() { "；OFD 包只含 formpress 写的文件" } else { "" };
        say!("  ✓ 每页的文字和图形（含二维码、印章）与数据重新生成的一致（{pages} 页）{package}");
        return outcome;
    }
    if recorded == Some(&running) {
        say!("  ✗ 页面与数据不符：");
        outcome = Outcome::Differs;
    } else {
        // Another version may lay the same data out differently: the code decides.
        say!("  ⚠ 页面与现在（{running}）生成的不同；{} 由其他版本生成，版式可能已变，以下仅作提示：", against.doc());
        if outcome == Outcome::Matches {
            outcome = Outcome::Note;
        }
    }
    for d in &differences {
        say!("    {}", findings::escape_controls(&d.describe(against.doc())));
    }
    outcome
}

fn list(args: CommonArgs) -> ExitCode {
    let engine = match engine(&args) {
        Ok(e) => e,
        Err(code) => return code,
    };
    for kind in engine.catalog().kinds() {
        let origin = if kind.origin == "built-in" { String::new() } else { format!("  [{}]", kind.origin) };
        say!("{:<32} {}{origin}", kind.id, kind.manifest.name);
        if !kind.manifest.description.is_empty() {
            say!("{:<32} {}", "", kind.manifest.description);
        }
    }
    ExitCode::SUCCESS
}

/// `render --format xlsx`: each form as a spreadsheet (beside it, or in the `-o` folder).
fn render_xlsx(engine: &Engine, args: &RenderArgs, single: bool) -> ExitCode {
    let inputs = match expand(&args.forms) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let outputs = Outputs::new();
    for input in &inputs {
        outputs.input(input);
    }
    let mut worst = 0u8;
    for input in &inputs {
        let form = match check_file(engine, input) {
            Ok(f) => f,
            Err(code) => return code,
        };
        print_findings(&form, style(&args.common));
        if !form.renderable() || (args.strict && !form.findings.is_empty()) {
            eprintln!("formpress: {}：有错误，未生成 .xlsx", shown(input));
            worst = worst.max(EXIT_FINDINGS);
            continue;
        }
        let target = match (&args.output, single) {
            (Some(o), true) => o.clone(),
            (Some(dir), false) => dir.join(input.with_extension("xlsx").file_name().unwrap_or_default()),
            (None, _) => input.with_extension("xlsx"),
        };
        let output = match outputs.claim(&target, Content::Other) {
            Ok(o) => o,
            Err(e) => return ExitCode::from(write_failed(&e)),
        };
        // A workbook the user filled in (the one `import` read) is never replaced.
        if let Output::File { real, .. } = &output
            && real.exists()
            && !formpress::input::read(real, formpress::xlsx_import::MAX_FILE_BYTES)
                .is_ok_and(|b| formpress::xlsx_import::made_by_formpress(&b))
        {
            eprintln!("formpress: {} 已存在，且不是 formpress 生成的表格，未覆盖；用 -o 另选文件名", shown(&target));
            worst = worst.max(EXIT_USAGE);
            continue;
        }
        let bytes = match formpress::xlsx::write(engine, &form) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("formpress: {}：{e}", shown(input));
                worst = worst.max(EXIT_LAYOUT);
                continue;
            }
        };
        if let Err(e) = output.write(&bytes) {
            return ExitCode::from(write_failed(&e));
        }
        let code = engine.fingerprint(&form).filter(|_| form.errors() == 0);
        let code = code.map(|f| format!("，校验码 {}", f.code())).unwrap_or_default();
        let report = format!("已生成 {}（{} KB{code}）", shown(output.path()), bytes.len().div_ceil(1024));
        match output {
            Output::Stdout => eprintln!("formpress: {report}"),
            Output::File { .. } => say!("{report}"),
        }
        if form.errors() > 0 {
            worst = worst.max(EXIT_FINDINGS);
        }
    }
    ExitCode::from(worst)
}

/// `formpress import`: a spreadsheet to the kind's YAML, then the usual check.
fn import(args: ImportArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let bytes = match formpress::input::read(&args.file, formpress::xlsx_import::MAX_FILE_BYTES) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
            return ExitCode::from(EXIT_IO);
        }
    };
    let imported = match formpress::xlsx_import::import(&engine, &bytes, args.kind.as_deref()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("formpress: {}：{}", shown(&args.file), findings::escape_controls(&e.to_string()));
            use formpress::xlsx_import::ImportError as E;
            return ExitCode::from(match e {
                E::UnknownKind(_) => EXIT_USAGE,
                E::NotSpreadsheet | E::Broken(_) | E::TooLarge(_) => EXIT_IO,
                E::NoForm => EXIT_FINDINGS,
            });
        }
    };
    let target = args.output.clone().unwrap_or_else(|| args.file.with_extension("yaml"));
    // A form the user already has is never replaced by an import.
    if !formpress::output::is_stdout(&target) && std::fs::symlink_metadata(&target).is_ok() {
        eprintln!("formpress: {} 已存在，未覆盖；用 -o 另选文件名", shown(&target));
        return ExitCode::from(EXIT_USAGE);
    }
    let outputs = Outputs::new();
    outputs.input(&args.file);
    let output = match outputs.claim(&target, Content::Yaml) {
        Ok(o) => o,
        Err(e) => return ExitCode::from(write_failed(&e)),
    };
    if let Err(e) = output.write(imported.yaml.as_bytes()) {
        return ExitCode::from(write_failed(&e));
    }
    for note in &imported.notes {
        eprintln!("formpress: 注意：{}", findings::escape_controls(note));
    }
    let name = match &output {
        Output::Stdout => "-".to_string(),
        Output::File { .. } => shown(output.path()),
    };
    let form = engine.check(&name, imported.yaml.as_bytes());
    print_findings(&form, style(&args.common));
    let report = format!(
        "已从工作表「{}」读入 {}（{}），{} 处未能识别",
        findings::escape_controls(&imported.sheet),
        name,
        imported.kind,
        imported.unplaced
    );
    match output {
        Output::Stdout => eprintln!("formpress: {report}"),
        Output::File { .. } => say!("{report}"),
    }
    if form.errors() > 0 { ExitCode::from(EXIT_FINDINGS) } else { ExitCode::SUCCESS }
}

fn serve(args: ServeArgs) -> ExitCode {
    use formpress::interfaces::serve;
    if !args.dir.is_dir() {
        eprintln!("formpress: 表单目录不存在：{}", shown(&args.dir));
        return ExitCode::from(EXIT_USAGE);
    }
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let options = serve::ServeOptions {
        dir: args.dir.clone(),
        listen: args.listen.unwrap_or(std::net::SocketAddr::from(([127, 0, 0, 1], args.port))),
        explicit_listen: args.listen.is_some(),
        open: args.open,
    };
    let dir = shown(&args.dir);
    match serve::run(engine, &options, |url| say!("formpress serve：{url}（表单目录 {dir}；Ctrl-C 结束）")) {
        Ok(()) => {
            say!("formpress serve：已停止");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("formpress: {e}");
            ExitCode::from(if matches!(e, serve::ServeError::Folder(..)) { EXIT_USAGE } else { EXIT_IO })
        }
    }
}
