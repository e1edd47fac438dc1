//! `formpress extract`: the YAML attached to an archive PDF or OFD-A package, byte for byte.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use formpress::files::write::{Content, Output, Outputs};
use formpress::form::findings;

use super::common::{read_document, read_pdf, shown, write_failed};
use super::{EXIT_FINDINGS, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct ExtractArgs {
    /// formpress render --archive 生成的 PDF 或 OFD
    pub(super) pdf: PathBuf,
    /// 写到哪个文件（默认：PDF 旁边，与 PDF 同名的 .yaml）；`-` 为标准输出
    #[arg(short, long, value_name = "OUT.yaml")]
    pub(super) output: Option<PathBuf>,
    /// 已有文件与附件不同时也覆盖
    #[arg(long)]
    pub(super) force: bool,
}

pub(super) fn run(args: ExtractArgs) -> ExitCode {
    let (pdf, ofd) = match read_pdf(&args.pdf).and_then(|bytes| read_document(&args.pdf, bytes)) {
        Ok(read) => read,
        Err(code) => return code,
    };
    let doc = if ofd.is_some() { "OFD" } else { "PDF" };
    let Some(attachment) = pdf.source() else {
        eprintln!(
            "formpress: {}：{doc} 中没有附带 YAML（只有 render --archive 生成的存档文件才附带表单原文）",
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
            return ExitCode::from(EXIT_USAGE);
        }
    }
    if let Err(e) = output.write(&attachment.bytes) {
        return ExitCode::from(write_failed(&e));
    }
    if let Output::File { .. } = output {
        say!(
            "已写出 {}（{} 字节，取自 {doc} 附件 {}）",
            shown(&given),
            attachment.bytes.len(),
            findings::escape_controls(&attachment.name)
        );
    }
    ExitCode::SUCCESS
}
