//! Command-line arguments and what each command prints: one file per
//! command, each parsing its arguments, calling into the library once and
//! printing the outcome. The work itself is done by the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A line on standard output. A closed pipe (`formpress list | head`) is not
/// an error: the rest of the output is dropped and the work goes on.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod batch;
mod check;
mod common;
mod completions;
mod extract;
mod fonts;
mod help;
mod import;
mod list;
pub mod memory;
mod new;
mod print;
mod render;
mod scan;
mod schema;
mod serve;
mod sign;
mod template;
mod verify;
mod watch;

#[derive(Parser, Debug)]
#[command(
    name = "formpress",
    version,
    about = "把 YAML 表单数据排成正式、可打印的 PDF 表格（绩效目标申报表、绩效自评表等）。"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// 检查表单并生成 PDF（或 PNG/SVG 页面图、.xlsx）；多份表单并行生成
    Render(render::RenderArgs),
    /// 只检查表单，列出每个问题，不生成文件
    Check(check::CheckArgs),
    /// 表单（或 --templates 目录）一改动就重新生成；有结构性错误时保留上一版 PDF
    Watch(watch::WatchArgs),
    /// 列出表单种类及其中文名称
    List(common::CommonArgs),
    /// 写出某种表单的 YAML 骨架，每个字段都有注释说明
    New(new::NewArgs),
    /// 输出某种表单 YAML 的 JSON Schema（编辑器补全和检查用），或 --json 结果的 JSON Schema
    Schema(schema::SchemaArgs),
    /// 复制某种表单的模板目录作为新变体的起点，或从本地空白表生成新种类（--from-xlsx；配合 --templates 使用）
    Template(template::TemplateArgs),
    /// 把存档 PDF（render --archive）附带的 YAML 原样写回文件
    Extract(extract::ExtractArgs),
    /// 核对 PDF：印的校验码与附带（或给出）的 YAML 是否一致，页面是否与数据相符，数字签名是否有效
    Verify(verify::VerifyArgs),
    /// 给 PDF 加数字签名（PAdES，用 .p12 密钥）；页面有签章区时签名显示在那里
    Sign(sign::SignArgs),
    /// 在浏览器里填写和检查表单，实时预览（本机 127.0.0.1 上的网页应用）
    Serve(serve::ServeArgs),
    /// 把 Excel 或 WPS 填好的表格（.xlsx；.xls、.et）读成该种表单的 YAML
    Import(import::ImportArgs),
    /// 归档签字盖章后的扫描件：逐页核对二维码与表单，再写出附带 YAML 和生成的 PDF 的 PDF/A-3b 存档
    Scan(scan::ScanArgs),
    /// 列出找到的字体，以及每种表单的各类字体实际用的是哪一个（仿宋装了没有，还是用了内置字体）
    Fonts(common::CommonArgs),
    /// 输出 shell 的命令补全脚本（bash、zsh、fish、powershell）
    Completions(completions::CompletionsArgs),
}

/// Exit statuses, one per cause, the same for every command (README, `formpress --help`).
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_IO: u8 = 3;
pub const EXIT_LAYOUT: u8 = 4;

pub fn run() -> ExitCode {
    if let Some(code) = serve::double_clicked() {
        return code;
    }
    let cli = match help::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match cli.command {
        Command::Render(args) => render::run(args),
        Command::Check(args) => check::run(args),
        Command::Watch(args) => watch::run(args),
        Command::List(args) => list::run(args),
        Command::New(args) => new::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Template(args) => template::run(args),
        Command::Extract(args) => extract::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Sign(args) => sign::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Import(args) => import::run(args),
        Command::Scan(args) => scan::run(args),
        Command::Fonts(args) => fonts::run(args),
        Command::Completions(args) => completions::run(args),
    }
}
