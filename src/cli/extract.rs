//! `formpress extract`: the YAML attached to an archive PDF, byte for byte.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use formpress::files::write::{Content, Output, Outputs};
use formpress::form::findings;

use super::EXIT_FINDINGS;
use super::common::{inspect_pdf, shown, write_failed};

#[derive(Args, Debug)]
pub struct ExtractArgs {
    /// A PDF made with `formpress render --archive`.
    pub(super) pdf: PathBuf,
    /// Where to write the YAML [default: the attachment's name, next to the PDF]; `-` for standard output.
    #[arg(short, long, value_name = "OUT.yaml")]
    pub(super) output: Option<PathBuf>,
    /// Overwrite an existing file that differs from the attachment.
    #[arg(long)]
    pub(super) force: bool,
}

pub(super) fn run(args: ExtractArgs) -> ExitCode {
    let pdf = match inspect_pdf(&args.pdf) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let Some(attachment) = pdf.source() else {
        eprintln!(
            "formpress: {}：PDF 中没有附带 YAML（只有 render --archive 生成的 PDF 才附带表单原文）",
            args.pdf.display()
        );
        return ExitCode::from(EXIT_FINDINGS);
    };
    let given = args.output.unwrap_or_else(|| {
        let name = Path::new(&attachment.name).file_name().map_or("form.yaml".into(), |n| n.to_owned());
        args.pdf.parent().unwrap_or(Path::new("")).join(name)
    });
    let outputs = Outputs::new();
    outputs.input(&args.pdf);
    let output = match outputs.claim(&given, Content::Yaml) {
        Ok(o) => o,
        Err(e) => return ExitCode::from(write_failed(&e)),
    };
    if let Output::File { real, .. } = &output
        && let Ok(existing) = formpress::files::read::read(real, formpress::form::yaml::MAX_FILE_BYTES as u64)
    {
        if existing == attachment.bytes {
            say!("{} 已与附件完全相同，未改动", shown(&given));
            return ExitCode::SUCCESS;
        }
        if !args.force {
            eprintln!("formpress: {} 已存在且内容不同；用 -o 另选文件名，或加 --force 覆盖", shown(&given));
            return ExitCode::from(EXIT_FINDINGS);
        }
    }
    if let Err(e) = output.write(&attachment.bytes) {
        return ExitCode::from(write_failed(&e));
    }
    if let Output::File { .. } = output {
        say!(
            "已写出 {}（{} 字节，取自 PDF 附件 {}）",
            shown(&given),
            attachment.bytes.len(),
            findings::escape_controls(&attachment.name)
        );
    }
    ExitCode::SUCCESS
}
