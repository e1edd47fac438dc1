//! `formpress new`: a commented skeleton of a kind's form.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::common::{CommonArgs, with_kind, write_or_print};

#[derive(Args, Debug)]
pub struct NewArgs {
    /// The form kind (see `formpress list`).
    pub(super) kind: String,
    /// Where to write the skeleton [default: standard output]; never over an existing file.
    #[arg(short, long, value_name = "FILE.yaml")]
    pub(super) output: Option<PathBuf>,
    /// Write the form's own labels as keys (部门名称: instead of department:); both are accepted.
    #[arg(long)]
    pub(super) zh: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: NewArgs) -> ExitCode {
    with_kind(&args.common, &args.kind, |_, kind| {
        write_or_print(args.output.as_deref(), &formpress::outputs::describe::skeleton_in(kind, args.zh), "表单骨架")
    })
}
