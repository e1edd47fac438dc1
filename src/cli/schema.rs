//! `formpress schema`: the JSON Schema of a kind's YAML.

use std::process::ExitCode;

use clap::Args;

use formpress::files::write::Output;

use super::common::{CommonArgs, with_kind, write_failed};

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// The form kind (see `formpress list`).
    pub(super) kind: String,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: SchemaArgs) -> ExitCode {
    with_kind(&args.common, &args.kind, |_, kind| {
        let schema = formpress::outputs::describe::json_schema(kind);
        let text = serde_json::to_string_pretty(&schema).expect("serialisable") + "\n";
        match Output::Stdout.write(text.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => ExitCode::from(write_failed(&e)),
        }
    })
}
