//! `formpress scan`: the scanned, signed paper checked against the form, then archived.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use formpress::archival::scan::{self, ExpectedError, ScanError};
use formpress::files::write::{Output, Outputs};
use formpress::form::findings;
use formpress::inputs::scans::ScanFileError;

use super::common::{CommonArgs, check_file, claim_unarchived, engine, read_pdf, shown, write_failed};
use super::print::{print_findings, style};
use super::{EXIT_FINDINGS, EXIT_IO, EXIT_LAYOUT, EXIT_USAGE};

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("form").required(true).multiple(true).args(["data", "pdf"]))]
pub struct ScanArgs {
    /// 扫描件，顺序不限：扫描仪生成的 PDF，或 JPEG、PNG、TIFF 文件
    #[arg(required = true, value_name = "SCAN")]
    pub(super) scans: Vec<PathBuf>,
    /// 表单数据（YAML）；据此生成页面，得到页数和校验码
    #[arg(long, value_name = "FORM.yaml")]
    pub(super) data: Option<PathBuf>,
    /// 打印用的那份 PDF（与 --data 同时给出时两者互相核对，都附入存档）
    #[arg(long, value_name = "FORM.pdf")]
    pub(super) pdf: Option<PathBuf>,
    /// 写出的存档（PDF/A-3b，--format ofd 时为 OFD-A）；从不覆盖输入文件或另一份存档
    #[arg(short, long, value_name = "SIGNED.pdf")]
    pub(super) output: PathBuf,
    /// 存档的格式：pdf（PDF/A-3b，默认）或 ofd（OFD-A，GB/T 42133）
    #[arg(long, default_value = "pdf", value_parser = ["pdf", "ofd"])]
    pub(super) format: String,
    /// 存档记录的扫描日期（默认：最新的扫描文件的修改日期）
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub(super) date: Option<String>,
    /// 扫描件在签章区以外与表单不同（手写改动的金额、划掉的行）时也存档；每处不同都记入存档
    #[arg(long)]
    pub(super) accept_changes: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

/// `scan`: the scanned pages checked against the form, then archived.
pub(super) fn run(args: ScanArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let date = match args.date.as_deref().map(scan::Day::parse) {
        Some(None) => {
            eprintln!("formpress: --date {}：日期应写作 YYYY-MM-DD", args.date.as_deref().unwrap_or_default());
            return ExitCode::from(EXIT_USAGE);
        }
        Some(Some(day)) => Some(day),
        None => None,
    };
    let outputs = Outputs::new();
    for input in args.scans.iter().chain(&args.data).chain(&args.pdf) {
        outputs.input(input);
    }
    let output = match claim_unarchived(&outputs, &args.output) {
        Ok(o) => o,
        Err(e) => return ExitCode::from(write_failed(&e)),
    };
    // With the archive on standard output, the report goes to standard error.
    let report = |line: String| match output {
        Output::Stdout => eprintln!("formpress: {line}"),
        Output::File { .. } => say!("{line}"),
    };
    let form = match &args.data {
        Some(path) => match check_file(&engine, path) {
            Ok(form) => {
                print_findings(&form, style(&args.common));
                Some(form)
            }
            Err(code) => return code,
        },
        None => None,
    };
    let pdf = match &args.pdf {
        Some(path) => match read_pdf(path) {
            Ok(bytes) => Some((path.display().to_string(), bytes)),
            Err(code) => return code,
        },
        None => None,
    };
    let format = if args.format == "ofd" { scan::ArchiveFormat::Ofd } else { scan::ArchiveFormat::Pdf };
    let request = scan::Request {
        scans: &args.scans,
        data: form.as_ref(),
        pdf,
        date,
        accept_changes: args.accept_changes,
        format,
    };
    let mut on_form = |code: &str, pages: usize| report(format!("表单：校验码 {code}，共 {pages} 页"));
    let filed = match scan::file(&engine, request, &mut on_form) {
        Ok(f) => f,
        Err(ScanError::Expected(e)) => {
            eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
            return ExitCode::from(if matches!(e, ExpectedError::Render(_)) { EXIT_LAYOUT } else { EXIT_FINDINGS });
        }
        Err(ScanError::Files(e)) => {
            eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
            return ExitCode::from(if matches!(e, ScanFileError::Read(_)) { EXIT_IO } else { EXIT_FINDINGS });
        }
        Err(ScanError::Problems(problems)) => {
            for p in &problems {
                eprintln!("formpress: ✗ {p}");
            }
            let changed = problems.iter().any(|p| matches!(p, scan::Problem::Changed { .. }));
            let hint =
                if changed { "；确属认可的改动时可加 --accept-changes，改动会记入存档" } else { "" };
            eprintln!("formpress: 扫描件与表单不符（{} 处），未写存档 {}{hint}", problems.len(), shown(&args.output));
            return ExitCode::from(EXIT_FINDINGS);
        }
        Err(ScanError::Archive(e)) => {
            eprintln!("formpress: 无法生成存档：{e}");
            return ExitCode::from(EXIT_LAYOUT);
        }
    };
    for (n, source) in filed.sources.iter().enumerate() {
        report(format!("第 {} 页 ← {source}", n + 1));
    }
    for change in &filed.accepted {
        report(format!("⚠ 已接受并记入存档的改动：{change}"));
    }
    if let Err(e) = output.write(&filed.archive) {
        return ExitCode::from(write_failed(&e));
    }
    let attached = if filed.with_yaml { "附 YAML 原文和生成的 PDF" } else { "附生成的 PDF" };
    report(format!(
        "已生成 {}（{} 页扫描件，{}，{attached}，校验码 {}，扫描日期 {}，{} KB）",
        shown(output.path()),
        filed.pages,
        if format == scan::ArchiveFormat::Ofd { "OFD-A" } else { "PDF/A-3b" },
        filed.code,
        filed.date,
        filed.archive.len().div_ceil(1024)
    ));
    ExitCode::SUCCESS
}
