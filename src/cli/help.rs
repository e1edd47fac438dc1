//! The command line in Chinese: help pages and usage errors. clap writes its
//! headings and messages in English; formpress's users read Chinese, so the
//! help pages use templates of our own and usage errors are said anew from
//! clap's error kind and context (never by matching its English text).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command, CommandFactory, FromArgMatches};

use super::{Cli, EXIT_USAGE};

/// The exit statuses, at the end of the main help pages.
const EXIT_HELP: &str = "\
输出：`-o -`（或 /dev/stdout）写到标准输出；`-` 作输入时读标准输入。formpress 从不覆盖本次的输入文件、
YAML 文件（除非写的就是 YAML）、设备、FIFO、套接字或只读文件。

退出码（各命令一致）：
  0  完成（render：已生成 PDF；有警告也照样生成）
  1  表单有错误：check 列出错误；render 生成草稿（每页印“草稿”，不印校验码和二维码；
     --strict 或 --archive 时不生成）；verify：PDF 与数据不符、是草稿或签名无效；
     sign：PDF 是草稿；scan：缺页、重复、二维码无法识别或属于另一份表（不写存档）
  2  用法错误（未知选项、缺少参数、目录不存在、输出会覆盖输入、YAML 文件、设备或已有文件；
     sign：密码不对或没有给出密码、密钥不能用、不是 formpress 生成的 PDF 而未加 --any）
  3  读写错误（输入读不了或超过大小上限、输出目录不存在或不可写）
  4  模板或排版错误（模板有误、Typst 报错、分页无法收敛）";

/// The commands whose help pages end with the exit statuses.
const WITH_EXIT_HELP: &[&str] = &["render", "check", "extract", "verify", "sign", "import", "scan"];

/// The command line, with help pages in Chinese (also what completions are made from).
pub(super) fn command() -> Command {
    localize(Cli::command(), true)
}

/// Parses the command line; help, version and usage errors are printed here.
pub(super) fn parse() -> Result<Cli, ExitCode> {
    let mut cmd = command();
    let matches = cmd.try_get_matches_from_mut(args()).map_err(|e| report(&e))?;
    Cli::from_arg_matches(&matches).map_err(|e| report(&e))
}

/// `formpress help render` is `formpress render --help`, and `formpress help`
/// is `formpress --help`: clap's own help command would speak English.
fn args() -> Vec<OsString> {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "help") {
        args.remove(1);
        args.truncate(2);
        args.push("--help".into());
    }
    args
}

fn localize(cmd: Command, root: bool) -> Command {
    let name = cmd.get_name().to_string();
    let mut cmd = cmd
        .disable_help_flag(true)
        .disable_help_subcommand(true)
        .arg(Arg::new("help").short('h').long("help").action(ArgAction::Help).help("显示帮助"))
        .mut_args(|a| a.hide_default_value(true).hide_possible_values(true));
    if root {
        cmd = cmd
            .disable_version_flag(true)
            .arg(Arg::new("version").short('V').long("version").action(ArgAction::Version).help("显示版本"));
    }
    let positionals = cmd.get_positionals().next().is_some();
    let mut template = String::from("{about-with-newline}\n用法：{usage}\n\n");
    if cmd.has_subcommands() {
        template.push_str("命令：\n{subcommands}\n\n");
    }
    if positionals {
        template.push_str("参数：\n{positionals}\n\n");
    }
    template.push_str("选项：\n{options}{after-help}");
    cmd = cmd.help_template(template);
    if root || WITH_EXIT_HELP.contains(&name.as_str()) {
        cmd = cmd.after_help(EXIT_HELP);
    }
    let subcommands: Vec<String> = cmd.get_subcommands().map(|c| c.get_name().to_string()).collect();
    for sub in subcommands {
        cmd = cmd.mut_subcommand(sub, |c| localize(c, false));
    }
    // The usage line names its parts in Chinese too.
    let usage = cmd.render_usage().to_string();
    let usage = usage.trim_start_matches("Usage: ").replace("[OPTIONS]", "[选项]").replace("<COMMAND>", "<命令>");
    let usage = if root { usage } else { format!("formpress {usage}") };
    cmd.override_usage(usage)
}

/// Prints help or version as clap made them (their text is ours), or a usage
/// error in Chinese; the exit status for it.
fn report(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            say!("{}", e.render().to_string().trim_end());
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(EXIT_USAGE);
        }
        _ => {}
    }
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join("、"),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        Some(ContextValue::StyledStrs(v)) => v.iter().map(ToString::to_string).collect::<Vec<_>>().join("、"),
        Some(ContextValue::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let arg = text(ContextKind::InvalidArg);
    let value = text(ContextKind::InvalidValue);
    let mut message = match e.kind() {
        ErrorKind::UnknownArgument => format!("未知的选项或多余的参数 {arg}"),
        ErrorKind::InvalidSubcommand => format!("未知的命令 {}", text(ContextKind::InvalidSubcommand)),
        ErrorKind::InvalidValue if value.is_empty() => format!("{arg} 需要一个值"),
        ErrorKind::InvalidValue => {
            let valid = text(ContextKind::ValidValue);
            let valid = if valid.is_empty() { String::new() } else { format!("；可选：{valid}") };
            format!("{arg} 的值「{value}」无效{valid}")
        }
        ErrorKind::ValueValidation => format!("{arg} 的值「{value}」无效"),
        ErrorKind::MissingRequiredArgument => format!("缺少必需的参数：{arg}"),
        ErrorKind::MissingSubcommand => "缺少命令".to_string(),
        ErrorKind::ArgumentConflict => {
            let prior = text(ContextKind::PriorArg);
            if prior.is_empty() || prior == arg {
                format!("{arg} 只能给一次")
            } else {
                format!("{arg} 不能与 {prior} 同时使用")
            }
        }
        ErrorKind::TooManyValues => format!("{arg} 的值太多：「{value}」"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => format!("{arg} 的值个数不对"),
        ErrorKind::NoEquals => format!("{arg} 的值要用 = 连着写"),
        ErrorKind::InvalidUtf8 => "命令行参数不是有效的 UTF-8".to_string(),
        _ => "命令行参数有误".to_string(),
    };
    let suggested = [ContextKind::SuggestedArg, ContextKind::SuggestedSubcommand, ContextKind::SuggestedValue]
        .into_iter()
        .map(text)
        .find(|s| !s.is_empty());
    if let Some(s) = suggested {
        message.push_str(&format!("（是否应为 {s}？）"));
    }
    let usage = text(ContextKind::Usage);
    let usage = usage.trim().trim_start_matches("Usage: ").trim_start_matches("用法：");
    eprintln!("formpress: {message}");
    if !usage.is_empty() {
        eprintln!("\n用法：{usage}");
        let command = usage.split_whitespace().nth(1).filter(|c| !c.starts_with(['[', '<']));
        eprintln!("\n更多信息：formpress help{}", command.map(|c| format!(" {c}")).unwrap_or_default());
    }
    ExitCode::from(EXIT_USAGE)
}
