//! `formpress serve`: the local web app.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::common::{CommonArgs, engine, shown};
use super::{EXIT_IO, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// 表单所在目录（其中的 *.yaml 和 *.yml 文件；默认：当前目录）
    #[arg(value_name = "DIR", default_value = ".", conflicts_with = "documents")]
    pub(super) dir: PathBuf,
    /// 用“文档”里的“绩效表”目录，第一次使用时建好并放入示例表单（桌面快捷方式和双击 formpress.exe 时就是这样启动的）
    #[arg(long)]
    pub(super) documents: bool,
    /// 127.0.0.1 上的端口（默认 8421）；0 表示任选一个空闲端口
    #[arg(long, default_value_t = 8421, conflicts_with = "listen")]
    pub(super) port: u16,
    /// 改在这个地址上监听（如 0.0.0.0:8421）：这样别的电脑也能访问这些表单
    #[arg(long, value_name = "ADDR")]
    pub(super) listen: Option<std::net::SocketAddr>,
    /// 用默认浏览器打开页面
    #[arg(long)]
    pub(super) open: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(mut args: ServeArgs) -> ExitCode {
    use formpress::interfaces::serve;
    if args.documents {
        match serve::documents::folder() {
            Ok(dir) => args.dir = dir,
            Err(e) => {
                eprintln!("formpress: 无法建立“文档/{}”文件夹：{e}", serve::documents::FOLDER);
                return ExitCode::from(EXIT_IO);
            }
        }
    }
    if !args.dir.is_dir() {
        eprintln!("formpress: 表单目录不存在：{}", shown(&args.dir));
        return ExitCode::from(EXIT_USAGE);
    }
    // Started again from the desktop while it runs (the port is taken): the browser opens
    // on the one running for this folder; with another program on the port, any free port.
    if args.documents && args.listen.is_none() && std::net::TcpListener::bind(("127.0.0.1", args.port)).is_err() {
        let here = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
        if serve::serving(here, &args.dir) {
            let url = format!("http://{here}/");
            say!("formpress serve 已在 {url} 运行（表单目录 {}），已在浏览器中打开", shown(&args.dir));
            serve::open_browser(&url);
            return ExitCode::SUCCESS;
        }
        say!("端口 {} 已被别的程序占用，改用一个空闲端口", args.port);
        args.port = 0;
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

/// formpress.exe opened from Explorer: no arguments, and the console window is its own
/// (a command prompt would be attached to it too). Then it is `serve --documents --open`,
/// and the window stays open on an error until Enter, so the message can be read.
pub(super) fn double_clicked() -> Option<ExitCode> {
    if std::env::args_os().len() > 1 || !own_console() {
        return None;
    }
    use clap::Parser as _;
    let cli = super::Cli::parse_from(["formpress", "serve", "--documents", "--open"]);
    let super::Command::Serve(args) = cli.command else { unreachable!("parsed as serve") };
    let code = run(args);
    if code != ExitCode::SUCCESS {
        eprintln!("按回车键关闭窗口");
        let _ = std::io::stdin().read_line(&mut String::new());
    }
    Some(code)
}

#[cfg(windows)]
fn own_console() -> bool {
    let mut processes = [0u32; 2];
    // SAFETY: the buffer and its length as the call expects them.
    unsafe { windows_sys::Win32::System::Console::GetConsoleProcessList(processes.as_mut_ptr(), 2) == 1 }
}

#[cfg(not(windows))]
fn own_console() -> bool {
    false
}
