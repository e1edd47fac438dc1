//! `formpress import`: a spreadsheet filled in Excel or WPS to the kind's YAML.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use formpress::files::write::{Content, Output, Outputs};
use formpress::form::findings;

use super::common::{CommonArgs, engine, shown, write_failed};
use super::print::{print_findings, style};
use super::{EXIT_FINDINGS, EXIT_IO, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The spreadsheet (.xlsx as Excel or WPS saves it; .xls, .et).
    pub(super) file: PathBuf,
    /// The form kind [default: found from the labels on the sheet].
    #[arg(long, value_name = "KIND")]
    pub(super) kind: Option<String>,
    /// Where to write the YAML [default: the spreadsheet's path with .yaml]; never over an existing
    /// file; `-` for standard output.
    #[arg(short, long, value_name = "FORM.yaml")]
    pub(super) output: Option<PathBuf>,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

/// `formpress import`: a spreadsheet to the kind's YAML, then the usual check.
pub(super) fn run(args: ImportArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let bytes = match formpress::files::read::read(&args.file, formpress::inputs::xlsx::MAX_FILE_BYTES) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
            return ExitCode::from(EXIT_IO);
        }
    };
    let imported = match formpress::inputs::xlsx::import(&engine, &bytes, args.kind.as_deref()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("formpress: {}：{}", shown(&args.file), findings::escape_controls(&e.to_string()));
            use formpress::inputs::xlsx::ImportError as E;
            return ExitCode::from(match e {
                E::UnknownKind(_) => EXIT_USAGE,
                E::NotSpreadsheet | E::Broken(_) | E::TooLarge(_) => EXIT_IO,
                E::NoForm => EXIT_FINDINGS,
            });
        }
    };
    let target = args.output.clone().unwrap_or_else(|| args.file.with_extension("yaml"));
    // A form the user already has is never replaced by an import.
    if !formpress::files::write::is_stdout(&target) && std::fs::symlink_metadata(&target).is_ok() {
        eprintln!("formpress: {} 已存在，未覆盖；用 -o 另选文件名", shown(&target));
        return ExitCode::from(EXIT_USAGE);
    }
    let outputs = Outputs::new();
    outputs.input(&args.file);
    let output = match outputs.claim(&target, Content::Yaml) {
        Ok(o) => o,
        Err(e) => return ExitCode::from(write_failed(&e)),
    };
    if let Err(e) = output.write(imported.yaml.as_bytes()) {
        return ExitCode::from(write_failed(&e));
    }
    for note in &imported.notes {
        eprintln!("formpress: 注意：{}", findings::escape_controls(note));
    }
    let name = match &output {
        Output::Stdout => "-".to_string(),
        Output::File { .. } => shown(output.path()),
    };
    let form = engine.check(&name, imported.yaml.as_bytes());
    print_findings(&form, style(&args.common));
    let report = format!(
        "已从工作表「{}」读入 {}（{}），{} 处未能识别",
        findings::escape_controls(&imported.sheet),
        name,
        imported.kind,
        imported.unplaced
    );
    match output {
        Output::Stdout => eprintln!("formpress: {report}"),
        Output::File { .. } => say!("{report}"),
    }
    if form.errors() > 0 { ExitCode::from(EXIT_FINDINGS) } else { ExitCode::SUCCESS }
}
