//! `formpress check`: every finding, nothing written.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::common::{CommonArgs, engine, expand, read_form, shown};
use super::print::{FormReport, Out, Summary};
use super::{EXIT_FINDINGS, EXIT_IO};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// 表单文件（YAML；`-` 为标准输入），或目录：目录中所有 *.yaml 和 *.yml 文件
    #[arg(required = true, value_name = "FORM")]
    pub(super) forms: Vec<PathBuf>,
    /// 警告也当作错误（退出码 1）
    #[arg(long)]
    pub(super) strict: bool,
    /// 以 JSON 输出结果（每份表单一行；多份时最后一行是汇总）
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: CheckArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let out = Out::new(&args.common, args.json);
    let forms = match expand(&args.forms) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let mut summary = Summary { what: "summary", forms: forms.len(), ..Summary::default() };
    let start = std::time::Instant::now();
    for path in &forms {
        let form = match read_form(&engine, path) {
            Ok(f) => f,
            Err(message) => {
                summary.failed += 1;
                summary.exit = summary.exit.max(EXIT_IO);
                out.json(&FormReport::unread(path.display().to_string(), message, EXIT_IO));
                continue;
            }
        };
        out.findings(&form);
        let failed = form.errors() > 0 || (args.strict && form.warnings() > 0);
        let exit = if failed { EXIT_FINDINGS } else { 0 };
        if !failed && form.findings.is_empty() {
            out.say(&format!("{}：没有发现问题", shown(path)));
        }
        summary.errors += form.errors();
        summary.warnings += form.warnings();
        summary.exit = summary.exit.max(exit);
        out.json(&FormReport::of(path.display().to_string(), &form, exit));
    }
    summary.seconds = start.elapsed().as_secs_f64();
    if forms.len() > 1 {
        out.json(&summary);
    }
    ExitCode::from(summary.exit)
}
