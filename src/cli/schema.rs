//! `formpress schema`: the JSON Schema of a kind's YAML, or (`--output`) of
//! what `--json` prints.

use std::process::ExitCode;

use clap::Args;

use formpress::files::write::Output;

use super::common::{CommonArgs, with_kind, write_failed};
use super::print::OUTPUT_SCHEMA;

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// 表单种类（见 formpress list）
    #[arg(required_unless_present = "output")]
    pub(super) kind: Option<String>,
    /// 改为输出 --json 结果的 JSON Schema（check、render、import、verify、scan 共用）
    #[arg(long, conflicts_with = "kind")]
    pub(super) output: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: SchemaArgs) -> ExitCode {
    let print = |text: &str| match Output::Stdout.write(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(write_failed(&e)),
    };
    match &args.kind {
        Some(id) => with_kind(&args.common, id, |_, kind| {
            let schema = formpress::outputs::describe::json_schema(kind);
            print(&(serde_json::to_string_pretty(&schema).expect("serialisable") + "\n"))
        }),
        None => print(OUTPUT_SCHEMA),
    }
}
