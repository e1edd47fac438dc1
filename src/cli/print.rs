//! How commands report, for every command: findings and outcomes as people
//! read them on the terminal, or with `--json` as one JSON document per form
//! (a line each; a batch ends with a summary line) for scripts. The shape of
//! the JSON is `output.schema.json` (`formpress schema --output`).

use std::io::IsTerminal;

use serde::Serialize;

use formpress::Form;
use formpress::form::findings::{self, Finding, Style};
use formpress::outputs::report::Status;

use super::common::CommonArgs;

/// The JSON Schema of what `--json` prints.
pub(super) const OUTPUT_SCHEMA: &str = include_str!("output.schema.json");

pub(super) fn style(common: &CommonArgs) -> Style {
    let tty = std::io::stderr().is_terminal();
    let color = match common.color.as_str() {
        "always" => true,
        "never" => false,
        _ => tty && std::env::var_os("NO_COLOR").is_none() && console_colours(),
    };
    Style { color, snippets: tty || color }
}

/// A Windows console shows colour codes only once asked to; where it cannot,
/// messages stay plain.
#[cfg(windows)]
fn console_colours() -> bool {
    anstyle_query::windows::enable_ansi_colors().unwrap_or(false)
}

#[cfg(not(windows))]
fn console_colours() -> bool {
    true
}

pub(super) fn print_findings(form: &Form, style: Style) {
    if form.findings.is_empty() {
        return;
    }
    eprint!("{}", findings::render(&form.name, Some(&form.source), &form.findings, style));
    eprintln!("{}：{} 个错误，{} 个警告", form.name, form.errors(), form.warnings());
}

/// Where a command's report goes: the terminal (findings on standard error,
/// outcomes on standard output) or, with `--json`, JSON on standard output
/// and nothing else there. Messages about failures go to standard error in
/// both, and are in the JSON as `error` too.
#[derive(Clone, Copy)]
pub(super) struct Out {
    pub json: bool,
    pub style: Style,
}

impl Out {
    pub(super) fn new(common: &CommonArgs, json: bool) -> Out {
        Out { json, style: style(common) }
    }

    /// A form's findings, on the terminal only (the JSON carries them).
    pub(super) fn findings(&self, form: &Form) {
        if !self.json {
            print_findings(form, self.style);
        }
    }

    /// A line of the human report (standard output); nothing with `--json`.
    pub(super) fn say(&self, line: &str) {
        if !self.json {
            say!("{line}");
        }
    }

    /// One JSON document, on one line.
    pub(super) fn json(&self, value: &impl Serialize) {
        if self.json {
            say!("{}", serde_json::to_string(value).expect("reports serialise"));
        }
    }
}

/// What became of one form, as `--json` prints it (`"type": "form"`).
#[derive(Serialize)]
pub(super) struct FormReport<'a> {
    #[serde(rename = "type")]
    pub what: &'static str,
    /// The form file as given (`-` for standard input).
    pub file: String,
    /// The kind (`form:`), when it could be read.
    pub kind: Option<&'a str>,
    /// `clean`, `warnings`, `draft` (rule errors: renders only as a draft) or
    /// `broken` (structural errors: does not render); none when unreadable.
    pub status: Option<Status>,
    pub errors: usize,
    pub warnings: usize,
    pub findings: &'a [Finding],
    /// The files written for it, in order (none for `check`).
    pub outputs: Vec<String>,
    pub pages: Option<usize>,
    /// The printed 校验码 (none for drafts and forms not rendered).
    pub code: Option<String>,
    /// Whether the written PDF is a draft (none when nothing was rendered).
    pub draft: Option<bool>,
    /// Why the form was not read, rendered or written.
    pub error: Option<String>,
    /// The exit status this form alone gives.
    pub exit: u8,
}

impl<'a> FormReport<'a> {
    /// A checked form; outputs, pages and 校验码 are filled in by the command.
    pub(super) fn of(file: String, form: &'a Form, exit: u8) -> FormReport<'a> {
        FormReport {
            what: "form",
            file,
            kind: form.kind.as_deref(),
            status: Some(Status::of(form)),
            errors: form.errors(),
            warnings: form.warnings(),
            findings: &form.findings,
            outputs: vec![],
            pages: None,
            code: None,
            draft: None,
            error: None,
            exit,
        }
    }

    /// A form file that could not be read at all.
    pub(super) fn unread(file: String, error: String, exit: u8) -> FormReport<'static> {
        FormReport {
            what: "form",
            file,
            kind: None,
            status: None,
            errors: 0,
            warnings: 0,
            findings: &[],
            outputs: vec![],
            pages: None,
            code: None,
            draft: None,
            error: Some(error),
            exit,
        }
    }
}

/// The last line of a batch (`"type": "summary"`).
#[derive(Serialize, Default)]
pub(super) struct Summary {
    #[serde(rename = "type")]
    pub what: &'static str,
    pub forms: usize,
    /// Forms written (drafts included).
    pub written: usize,
    /// Of those, drafts (forms with rule errors).
    pub drafts: usize,
    /// Forms not written (structural errors, or any finding with --strict).
    pub refused: usize,
    /// Forms that could not be read, laid out or written.
    pub failed: usize,
    pub errors: usize,
    pub warnings: usize,
    /// A file with every form (`--combine`), when written.
    pub combined: Option<String>,
    pub seconds: f64,
    pub exit: u8,
}

/// What `import --json` prints (`"type": "import"`).
#[derive(Serialize)]
pub(super) struct ImportReport<'a> {
    #[serde(rename = "type")]
    pub what: &'static str,
    pub file: String,
    /// The sheet the form was read from.
    pub sheet: Option<String>,
    pub kind: Option<String>,
    /// The YAML written (`-`: standard output).
    pub output: Option<String>,
    /// Cells with text that could not be placed (listed at the top of the YAML).
    pub unplaced: usize,
    pub notes: Vec<String>,
    /// The imported YAML, checked.
    pub form: Option<FormReport<'a>>,
    pub error: Option<String>,
    pub exit: u8,
}

/// What `verify --json` prints (`"type": "verify"`).
#[derive(Serialize)]
pub(super) struct VerifyReport {
    #[serde(rename = "type")]
    pub what: &'static str,
    /// The file verified, as given.
    pub file: String,
    /// `pdf` or `ofd` (none when it could not be read).
    pub format: Option<String>,
    /// `matches`, `differs`, `code_only` (the 校验码 matches, the pages of
    /// another version could not be checked) or `draft`; none when the file
    /// could not be verified at all (`error` says why).
    pub verdict: Option<&'static str>,
    /// The 校验码 printed on its pages.
    pub code: Option<String>,
    pub signatures: Vec<SignatureSummary>,
    /// Everything found wrong, each as the report names it (page and cell).
    pub problems: Vec<String>,
    pub error: Option<String>,
    pub exit: u8,
}

impl VerifyReport {
    pub(super) fn of(file: String) -> VerifyReport {
        VerifyReport {
            what: "verify",
            file,
            format: None,
            verdict: None,
            code: None,
            signatures: vec![],
            problems: vec![],
            error: None,
            exit: 0,
        }
    }
}

/// One signature in `verify --json`.
#[derive(Serialize)]
pub(super) struct SignatureSummary {
    pub signer: Option<String>,
    pub time: Option<String>,
    /// The signature holds and its field and appearance are formpress's.
    pub valid: bool,
    /// Why the signature itself does not hold.
    pub problem: Option<String>,
    /// The revision of the file it signs (1: the file as first written).
    pub revision: Option<usize>,
}

/// What `scan --json` prints (`"type": "scan"`).
#[derive(Serialize)]
pub(super) struct ScanReport {
    #[serde(rename = "type")]
    pub what: &'static str,
    /// The scan files, as given.
    pub scans: Vec<String>,
    /// The archive written (none when the scans were refused).
    pub output: Option<String>,
    /// The form's 校验码 (none when the form could not be had).
    pub code: Option<String>,
    /// The form's pages.
    pub pages: Option<usize>,
    /// The scan of each page, in page order (when filed).
    pub sources: Vec<String>,
    /// Differences accepted with --accept-changes and recorded in the archive.
    pub accepted: Vec<String>,
    /// Why the scans are not the form, by page and cell.
    pub problems: Vec<String>,
    pub error: Option<String>,
    pub exit: u8,
}
