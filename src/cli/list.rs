//! `formpress list`: the form kinds and their Chinese names.

use std::process::ExitCode;

use super::common::{CommonArgs, engine};

pub(super) fn run(args: CommonArgs) -> ExitCode {
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
