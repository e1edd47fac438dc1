//! `formpress check`: every finding, nothing written.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::common::{CommonArgs, check_file, engine, expand, shown};
use super::print::{print_findings, style};
use super::{EXIT_FINDINGS, EXIT_IO};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Form files (YAML), or folders: every *.yaml and *.yml in them.
    #[arg(required = true, value_name = "FORM")]
    pub(super) forms: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    pub(super) strict: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: CheckArgs) -> ExitCode {
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
