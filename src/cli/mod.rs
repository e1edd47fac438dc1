//! Command-line arguments and what each command prints: one file per
//! command, each parsing its arguments, calling into the library once and
//! printing the outcome. The work itself is done by the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A line on standard output. A closed pipe (`formpress list | head`) is not
/// an error: the rest of the output is dropped and the work goes on.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod batch;
mod check;
mod common;
mod extract;
mod import;
mod list;
mod new;
mod print;
mod render;
mod scan;
mod schema;
mod serve;
mod sign;
mod template;
mod verify;
mod watch;

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
    Render(render::RenderArgs),
    /// Check forms without rendering; print every finding.
    #[command(after_help = EXIT_HELP)]
    Check(check::CheckArgs),
    /// Render a form again whenever it (or a --templates folder) changes; keeps the last good PDF.
    Watch(watch::WatchArgs),
    /// List the form kinds with their Chinese names.
    List(common::CommonArgs),
    /// Write a commented YAML skeleton of a form kind, explaining every field.
    New(new::NewArgs),
    /// Print the JSON Schema of a form kind's YAML (for completion and checks in an editor).
    Schema(schema::SchemaArgs),
    /// Copy a form kind's template folder, to start a variant (use it with --templates).
    Template(template::TemplateArgs),
    /// Write the YAML attached to an archive PDF (render --archive) back to a file, byte for byte.
    #[command(after_help = EXIT_HELP)]
    Extract(extract::ExtractArgs),
    /// Check a PDF's digital signatures, and that its printed 校验码 matches its attached YAML (and the given YAML).
    #[command(after_help = EXIT_HELP)]
    Verify(verify::VerifyArgs),
    /// Sign a PDF digitally (PAdES, from a .p12 key); visible in the 签章区 when the page has one.
    #[command(after_help = EXIT_HELP)]
    Sign(sign::SignArgs),
    /// Fill in and check forms in the browser, with a live preview (a local web app on 127.0.0.1).
    Serve(serve::ServeArgs),
    /// Read a filled form from a spreadsheet (.xlsx; .xls and .et) into the kind's YAML.
    #[command(after_help = EXIT_HELP)]
    Import(import::ImportArgs),
    /// File the scanned, signed paper form: check every page's QR code against the form, then
    /// write a PDF/A-3b archive of the scans with the YAML and the generated PDF attached.
    #[command(after_help = EXIT_HELP)]
    Scan(scan::ScanArgs),
}

pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_IO: u8 = 3;
pub const EXIT_LAYOUT: u8 = 4;

pub fn run() -> ExitCode {
    if let Some(code) = serve::double_clicked() {
        return code;
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Render(args) => render::run(args),
        Command::Check(args) => check::run(args),
        Command::Watch(args) => watch::run(args),
        Command::List(args) => list::run(args),
        Command::New(args) => new::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Template(args) => template::run(args),
        Command::Extract(args) => extract::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Sign(args) => sign::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Import(args) => import::run(args),
        Command::Scan(args) => scan::run(args),
    }
}
