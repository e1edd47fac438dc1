//! `formpress scan`: the scanned, signed paper checked against the form, then archived.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use formpress::archival::scan::{self, ExpectedError, ScanError};
use formpress::files::write::{Output, Outputs};
use formpress::form::findings;
use formpress::inputs::scans::ScanFileError;

use super::common::{CommonArgs, claim_unarchived, engine, read_bytes, read_form, shown, write_failed};
use super::print::{ScanReport, print_findings, style};
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
    /// 以 JSON 输出结果（一个 JSON 文档：校验码、每页来自哪个扫描文件、每处不符）
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

/// `scan`: the scanned pages checked against the form, then archived.
pub(super) fn run(args: ScanArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut json = ScanReport {
        what: "scan",
        scans: args.scans.iter().map(|p| p.display().to_string()).collect(),
        output: None,
        code: None,
        pages: None,
        sources: vec![],
        accepted: vec![],
        problems: vec![],
        error: None,
        exit: 0,
    };
    // Every way out: the status, and with --json the document (failures are said on standard error too).
    let done = |mut json: ScanReport, error: Option<String>, exit: u8| {
        if args.json {
            json.error = error;
            json.exit = exit;
            say!("{}", serde_json::to_string(&json).expect("reports serialise"));
        }
        ExitCode::from(exit)
    };
    let date = match args.date.as_deref().map(scan::Day::parse) {
        Some(None) => {
            let message = format!("--date {}：日期应写作 YYYY-MM-DD", args.date.as_deref().unwrap_or_default());
            eprintln!("formpress: {message}");
            return done(json, Some(message), EXIT_USAGE);
        }
        Some(Some(day)) => Some(day),
        None => None,
    };
    let outputs = Outputs::new();
    for input in args.scans.iter().chain(&args.data).chain(&args.pdf) {
        outputs.input(input);
    }
    let output = match claim_unarchived(&outputs, &args.output) {
        Ok(Output::Stdout) if args.json => {
            let message = "--json 与 -o - 不能同时使用：标准输出只能放 JSON 或存档之一".to_string();
            eprintln!("formpress: {message}");
            return done(json, Some(message), EXIT_USAGE);
        }
        Ok(o) => o,
        Err(e) => {
            let exit = write_failed(&e);
            return done(json, Some(findings::escape_controls(&e.to_string())), exit);
        }
    };
    // With the archive on standard output, the report goes to standard error; with --json, into the JSON.
    let report = |line: String| match output {
        _ if args.json => {}
        Output::Stdout => eprintln!("formpress: {line}"),
        Output::File { .. } => say!("{line}"),
    };
    let form = match &args.data {
        Some(path) => match read_form(&engine, path) {
            Ok(form) => {
                if !args.json {
                    print_findings(&form, style(&args.common));
                }
                Some(form)
            }
            Err(message) => return done(json, Some(message), EXIT_IO),
        },
        None => None,
    };
    let pdf = match &args.pdf {
        Some(path) => match read_bytes(path) {
            Ok(bytes) => Some((path.display().to_string(), bytes)),
            Err(message) => return done(json, Some(message), EXIT_IO),
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
    let mut form_said = (None, None);
    let mut on_form = |code: &str, pages: usize| {
        form_said = (Some(code.to_string()), Some(pages));
        report(format!("表单：校验码 {code}，共 {pages} 页"));
    };
    let filed = scan::file(&engine, request, &mut on_form);
    (json.code, json.pages) = form_said;
    let filed = match filed {
        Ok(f) => f,
        Err(ScanError::Expected(e)) => {
            let message = findings::escape_controls(&e.to_string());
            eprintln!("formpress: {message}");
            let exit = if matches!(e, ExpectedError::Render(_)) { EXIT_LAYOUT } else { EXIT_FINDINGS };
            return done(json, Some(message), exit);
        }
        Err(ScanError::Files(e)) => {
            let message = findings::escape_controls(&e.to_string());
            eprintln!("formpress: {message}");
            let exit = if matches!(e, ScanFileError::Read(_)) { EXIT_IO } else { EXIT_FINDINGS };
            return done(json, Some(message), exit);
        }
        Err(ScanError::Problems(problems)) => {
            for p in &problems {
                eprintln!("formpress: ✗ {p}");
            }
            json.problems = problems.iter().map(ToString::to_string).collect();
            let changed = problems.iter().any(|p| matches!(p, scan::Problem::Changed { .. }));
            let hint =
                if changed { "；确属认可的改动时可加 --accept-changes，改动会记入存档" } else { "" };
            eprintln!("formpress: 扫描件与表单不符（{} 处），未写存档 {}{hint}", problems.len(), shown(&args.output));
            return done(json, None, EXIT_FINDINGS);
        }
        Err(ScanError::Archive(e)) => {
            eprintln!("formpress: 无法生成存档：{e}");
            return done(json, Some(format!("无法生成存档：{e}")), EXIT_LAYOUT);
        }
    };
    for (n, source) in filed.sources.iter().enumerate() {
        report(format!("第 {} 页 ← {source}", n + 1));
    }
    for change in &filed.accepted {
        report(format!("⚠ 已接受并记入存档的改动：{change}"));
    }
    json.sources = filed.sources.iter().map(ToString::to_string).collect();
    json.accepted.clone_from(&filed.accepted);
    if let Err(e) = output.write(&filed.archive) {
        let exit = write_failed(&e);
        return done(json, Some(findings::escape_controls(&e.to_string())), exit);
    }
    json.output = Some(output.path().display().to_string());
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
    done(json, None, 0)
}
