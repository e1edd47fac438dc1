//! `formpress scan`: the scanned, signed paper checked against the form, then archived.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use formpress::archival::scan;
use formpress::files::write::{Output, Outputs};
use formpress::form::findings;

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
    let expected = match &args.pdf {
        Some(path) => match read_pdf(path) {
            Ok(bytes) => scan::Expected::from_pdf(&engine, &path.display().to_string(), bytes, form.as_ref()),
            Err(code) => return code,
        },
        None => scan::Expected::from_data(&engine, form.as_ref().expect("--data or --pdf")),
    };
    let expected = match expected {
        Ok(e) => e,
        Err(e) => {
            eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
            let layout = matches!(e, scan::ExpectedError::Render(_));
            return ExitCode::from(if layout { EXIT_LAYOUT } else { EXIT_FINDINGS });
        }
    };
    report(format!("表单：校验码 {}，共 {} 页", expected.code, expected.pages.len()));
    let pages = match scan::read(&args.scans) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
            let io = matches!(e, formpress::inputs::scans::ScanFileError::Read(_));
            return ExitCode::from(if io { EXIT_IO } else { EXIT_FINDINGS });
        }
    };
    let order = match scan::check(&expected, &pages) {
        Ok(order) => order,
        Err(problems) => {
            for p in &problems {
                eprintln!("formpress: ✗ {p}");
            }
            eprintln!("formpress: 扫描件与表单不符（{} 处），未写存档 {}", problems.len(), shown(&args.output));
            return ExitCode::from(EXIT_FINDINGS);
        }
    };
    for (n, &i) in order.iter().enumerate() {
        report(format!("第 {} 页 ← {}", n + 1, pages[i].source));
    }
    let date = date
        .or_else(|| args.scans.iter().filter_map(|p| scan::Day::of_file(p)).max_by_key(|d| (d.year, d.month, d.day)))
        .unwrap_or(scan::Day { year: 2000, month: 1, day: 1 });
    let format = if args.format == "ofd" { scan::ArchiveFormat::Ofd } else { scan::ArchiveFormat::Pdf };
    let archive = match scan::archive(&engine, &expected, &pages, &order, date, format) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("formpress: 无法生成存档：{e}");
            return ExitCode::from(EXIT_LAYOUT);
        }
    };
    if let Err(e) = output.write(&archive) {
        return ExitCode::from(write_failed(&e));
    }
    let attached = if expected.yaml.is_some() { "附 YAML 原文和生成的 PDF" } else { "附生成的 PDF" };
    report(format!(
        "已生成 {}（{} 页扫描件，{}，{attached}，校验码 {}，扫描日期 {date}，{} KB）",
        shown(output.path()),
        order.len(),
        if format == scan::ArchiveFormat::Ofd { "OFD-A" } else { "PDF/A-3b" },
        expected.code,
        archive.len().div_ceil(1024)
    ));
    ExitCode::SUCCESS
}
