//! Command-line arguments and what each command prints. The work itself is
//! done by the library (`Engine`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use formpress::findings::{self, Style};
use formpress::{Engine, EngineOptions, Error, Form, RenderOptions, pdf};

const EXIT_HELP: &str = "\
Exit status:
  0  done (render: PDF written; findings that do not block a draft are shown)
  1  the form has errors (check), or could not be rendered (render)
  2  usage error (unknown option, missing argument)
  3  I/O error (input unreadable, output folder missing or not writable)
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
    /// Check a form and render it to PDF.
    #[command(after_help = EXIT_HELP)]
    Render(RenderArgs),
    /// Check forms without rendering; print every finding.
    #[command(after_help = EXIT_HELP)]
    Check(CheckArgs),
    /// List the form kinds with their Chinese names.
    List(CommonArgs),
}

#[derive(Args, Debug, Clone)]
struct CommonArgs {
    /// Add fonts from this folder (repeatable); for characters the bundled fonts lack.
    #[arg(long = "font-path", value_name = "DIR")]
    font_path: Vec<PathBuf>,
    /// Add or override form kinds from this folder of template folders (repeatable).
    #[arg(long = "templates", value_name = "DIR")]
    templates: Vec<PathBuf>,
    /// Do not look for installed fonts; use only bundled and --font-path fonts.
    #[arg(long)]
    no_system_fonts: bool,
    /// Colour in messages: auto (on a terminal), always, never.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    color: String,
}

#[derive(Args, Debug)]
struct RenderArgs {
    /// The form data (YAML).
    form: PathBuf,
    /// Output PDF [default: the form's path with .pdf].
    #[arg(short, long, value_name = "OUT.pdf")]
    output: Option<PathBuf>,
    /// Also write the generated Typst markup here (for debugging templates).
    #[arg(long, value_name = "OUT.typ")]
    typ: Option<PathBuf>,
    /// Write nothing if any error or warning is found.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Form files (YAML).
    #[arg(required = true)]
    forms: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    common: CommonArgs,
}

pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_IO: u8 = 3;
pub const EXIT_LAYOUT: u8 = 4;

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Render(args) => render(args),
        Command::Check(args) => check(args),
        Command::List(args) => list(args),
    }
}

fn engine(common: &CommonArgs) -> Result<Engine, ExitCode> {
    Engine::new(&EngineOptions {
        template_dirs: common.templates.clone(),
        font_dirs: common.font_path.clone(),
        no_system_fonts: common.no_system_fonts,
    })
    .map_err(|e| {
        eprintln!("formpress: {e}");
        ExitCode::from(EXIT_LAYOUT)
    })
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

/// Reads a form file; a failure is an I/O error with the path in it.
fn read(path: &Path) -> Result<Vec<u8>, ExitCode> {
    std::fs::read(path).map_err(|e| {
        eprintln!("formpress: 无法读取 {}：{}", path.display(), io_reason(&e));
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
    let mut worst = 0u8;
    for path in &args.forms {
        let bytes = match read(path) {
            Ok(b) => b,
            Err(_) => {
                worst = worst.max(EXIT_IO);
                continue;
            }
        };
        let form = engine.check(&path.display().to_string(), &bytes);
        print_findings(&form, style);
        if form.errors() > 0 || (args.strict && form.warnings() > 0) {
            worst = worst.max(EXIT_FINDINGS);
        } else if form.findings.is_empty() {
            println!("{}：没有发现问题", path.display());
        }
    }
    ExitCode::from(worst)
}

fn render(args: RenderArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let bytes = match read(&args.form) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let form = engine.check(&args.form.display().to_string(), &bytes);
    print_findings(&form, style(&args.common));
    if !form.renderable() {
        eprintln!("formpress: {}：有结构性错误，未生成 PDF", args.form.display());
        return ExitCode::from(EXIT_FINDINGS);
    }
    if args.strict && !form.findings.is_empty() {
        eprintln!("formpress: --strict：有错误或警告，未生成 PDF");
        return ExitCode::from(EXIT_FINDINGS);
    }
    let output = args.output.clone().unwrap_or_else(|| args.form.with_extension("pdf"));
    if output == args.form {
        eprintln!("formpress: 输出文件不能是输入文件本身：{}", output.display());
        return ExitCode::from(2);
    }
    let rendered = match engine.render(&form, &RenderOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("formpress: {}：{e}", args.form.display());
            if let (Error::Typst { markup, .. }, Some(typ)) = (&e, &args.typ) {
                // The markup is what a template author needs to see the error.
                let _ = pdf::write_atomic(typ, markup.as_bytes());
            }
            return ExitCode::from(EXIT_LAYOUT);
        }
    };
    if let Some(typ) = &args.typ {
        if let Err(e) = pdf::write_atomic(typ, rendered.markup.as_bytes()) {
            eprintln!("formpress: 无法写入 {}：{}", typ.display(), io_reason(&e));
            return ExitCode::from(EXIT_IO);
        }
    }
    if let Err(e) = pdf::write_atomic(&output, &rendered.pdf) {
        eprintln!("formpress: 无法写入 {}：{}", output.display(), io_reason(&e));
        return ExitCode::from(EXIT_IO);
    }
    println!(
        "已生成 {}（{} 页，{} KB）",
        output.display(),
        rendered.pages,
        rendered.pdf.len().div_ceil(1024)
    );
    ExitCode::SUCCESS
}

fn list(args: CommonArgs) -> ExitCode {
    let engine = match engine(&args) {
        Ok(e) => e,
        Err(code) => return code,
    };
    for kind in engine.catalog().kinds() {
        let origin = if kind.origin == "built-in" { String::new() } else { format!("  [{}]", kind.origin) };
        println!("{:<32} {}{origin}", kind.id, kind.manifest.name);
        if !kind.manifest.description.is_empty() {
            println!("{:<32} {}", "", kind.manifest.description);
        }
    }
    ExitCode::SUCCESS
}
