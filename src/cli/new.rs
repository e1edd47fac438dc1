//! `formpress new`: a commented skeleton of a kind's form.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::common::{CommonArgs, with_kind, write_or_print};

#[derive(Args, Debug)]
pub struct NewArgs {
    /// 表单种类（见 formpress list）
    pub(super) kind: String,
    /// 写到哪个文件（默认：标准输出）；从不覆盖已有文件
    #[arg(short, long, value_name = "FILE.yaml")]
    pub(super) output: Option<PathBuf>,
    /// 用表上的中文栏目名作键（部门名称: 而不是 department:）；两种都能读
    #[arg(long)]
    pub(super) zh: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: NewArgs) -> ExitCode {
    with_kind(&args.common, &args.kind, |engine, kind| {
        let text = formpress::outputs::describe::new_form(kind, &engine.catalog().sources(), args.zh);
        write_or_print(args.output.as_deref(), &text, "表单骨架")
    })
}
