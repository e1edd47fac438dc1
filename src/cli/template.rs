//! `formpress template`: copy a kind's folder to start a variant.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use formpress::files::write::{Content, OutputError, Outputs};

use super::EXIT_USAGE;
use super::common::{CommonArgs, shown, with_kind, write_failed};

#[derive(Args, Debug)]
pub struct TemplateArgs {
    /// 要复制的表单种类
    pub(super) kind: String,
    /// 新种类的目录；目录名就是新种类的名字（如 mytemplates/henan-2022-dept）
    #[arg(short, long, value_name = "DIR")]
    pub(super) output: PathBuf,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: TemplateArgs) -> ExitCode {
    with_kind(&args.common, &args.kind, |engine, kind| {
        if args.output.exists() {
            eprintln!("formpress: {} 已存在；请给一个新的目录名（目录名就是新种类的名字）", args.output.display());
            return ExitCode::from(EXIT_USAGE);
        }
        let prefix = format!("{}/", kind.id);
        let outputs = Outputs::new();
        for (name, text) in engine.catalog().sources().iter().filter(|(k, _)| k.starts_with(&prefix)) {
            let path = args.output.join(&name[prefix.len()..]);
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .map_err(|e| OutputError::Io(path.clone(), e))
                .and_then(|()| outputs.claim(&path, Content::Yaml))
                .and_then(|o| o.write(text.as_bytes()));
            if let Err(e) = written {
                return ExitCode::from(write_failed(&e));
            }
        }
        let id = args.output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let dir = args.output.parent().map(|p| p.display().to_string()).unwrap_or_default();
        say!("已把 {} 复制到 {}（新种类 {id}）。", kind.id, shown(&args.output));
        say!("改 kind.yaml 和 {} 后：formpress list --templates {dir}", kind.manifest.template);
        ExitCode::SUCCESS
    })
}
