//! `formpress serve`: the local web app.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::common::{CommonArgs, engine, shown};
use super::{EXIT_IO, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The folder of forms (its *.yaml and *.yml files) [default: the current folder].
    #[arg(value_name = "DIR", default_value = ".")]
    pub(super) dir: PathBuf,
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8421, conflicts_with = "listen")]
    pub(super) port: u16,
    /// Listen on this address instead (e.g. 0.0.0.0:8421): other computers can then reach the forms.
    #[arg(long, value_name = "ADDR")]
    pub(super) listen: Option<std::net::SocketAddr>,
    /// Open the page in the default browser.
    #[arg(long)]
    pub(super) open: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: ServeArgs) -> ExitCode {
    use formpress::interfaces::serve;
    if !args.dir.is_dir() {
        eprintln!("formpress: 表单目录不存在：{}", shown(&args.dir));
        return ExitCode::from(EXIT_USAGE);
    }
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let options = serve::ServeOptions {
        dir: args.dir.clone(),
        listen: args.listen.unwrap_or(std::net::SocketAddr::from(([127, 0, 0, 1], args.port))),
        explicit_listen: args.listen.is_some(),
        open: args.open,
    };
    let dir = shown(&args.dir);
    match serve::run(engine, &options, |url| say!("formpress serve：{url}（表单目录 {dir}；Ctrl-C 结束）")) {
        Ok(()) => {
            say!("formpress serve：已停止");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("formpress: {e}");
            ExitCode::from(if matches!(e, serve::ServeError::Folder(..)) { EXIT_USAGE } else { EXIT_IO })
        }
    }
}
