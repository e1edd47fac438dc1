//! How findings and reports are printed, for every command.

use std::io::IsTerminal;

use formpress::Form;
use formpress::form::findings::{self, Style};

use super::common::CommonArgs;

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
