//! `formpress sign`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use formpress::archival::sign;
use formpress::archival::sign::SignError;
use formpress::archival::signer::{KeyError, Signer};
use formpress::files::write::{Content, Output, Outputs};
use formpress::form::findings;

use super::common::{CommonArgs, engine, read_pdf, shown, write_failed};
use super::{EXIT_FINDINGS, EXIT_IO, EXIT_LAYOUT, EXIT_USAGE};

/// Where the .p12 password comes from when no --password-file is given.
pub const PASSWORD_ENV: &str = "FORMPRESS_KEY_PASSWORD";

#[derive(Args, Debug)]
pub struct SignArgs {
    /// 要签名的 PDF（formpress render 生成的，不能是草稿）
    pdf: PathBuf,
    /// 签名人的私钥和证书：PKCS#12 文件（.p12/.pfx；RSA 或 ECDSA P-256/P-384）
    #[arg(long, value_name = "KEY.p12")]
    key: PathBuf,
    /// 第一行是 .p12 密码的文件（默认：环境变量 FORMPRESS_KEY_PASSWORD，否则在终端上询问）
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// 签名后的 PDF（默认：输入旁边的 FORM.signed.pdf）；`-` 为标准输出
    #[arg(short, long, value_name = "OUT.pdf")]
    output: Option<PathBuf>,
    /// 也给不是 formpress 生成的 PDF 签名
    #[arg(long)]
    any: bool,
    #[command(flatten)]
    common: CommonArgs,
}

pub fn run(args: SignArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let outputs = Outputs::new();
    outputs.input(&args.pdf);
    outputs.input(&args.key);
    if let Some(p) = &args.password_file {
        outputs.input(p);
    }
    let target = args.output.clone().unwrap_or_else(|| args.pdf.with_extension("signed.pdf"));
    // Refused outputs (over the input, a device, …) before any work.
    let output = match outputs.claim(&target, Content::Other) {
        Ok(o) => o,
        Err(e) => return ExitCode::from(write_failed(&e)),
    };
    let signer = match open_key(&args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let pdf = match read_pdf(&args.pdf) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let signed = match sign::sign_pdf(&pdf, &signer, args.any, now, engine.fonts()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("formpress: {}：{}", shown(&args.pdf), findings::escape_controls(&e.to_string()));
            return ExitCode::from(match e {
                SignError::Draft => EXIT_FINDINGS,
                SignError::NotOurs | SignError::Certificate(_) => EXIT_USAGE,
                SignError::Limit(_) | SignError::Unreadable(_) | SignError::Encrypted => EXIT_IO,
                SignError::Glyph(_) | SignError::Cms(_) => EXIT_LAYOUT,
            });
        }
    };
    if let Err(e) = output.write(&signed.pdf) {
        return ExitCode::from(write_failed(&e));
    }
    let place = match signed.place {
        Some(p) => format!("签名显示在第 {} 页签章区", p.page + 1),
        None if signed.resigned => "文件已有签名，签章区显示的是第一个签名，本签名不可见".into(),
        None => "页面上没有找到“填报单位（盖章）”，签名不可见".into(),
    };
    let line = format!(
        "已签名 {}（签名者 {}，{}，时间 {}（北京时间）；{place}）",
        shown(&target),
        findings::escape_controls(&signer.name()),
        signer.algorithm(),
        sign::format_time(now + sign::BEIJING, "-", ":")
    );
    // On standard output the PDF is the output; the message goes to the error stream.
    match output {
        Output::Stdout => eprintln!("{line}"),
        _ => say!("{line}"),
    }
    ExitCode::SUCCESS
}

fn open_key(args: &SignArgs) -> Result<Signer, ExitCode> {
    let bytes = formpress::files::read::read(&args.key, formpress::archival::signer::MAX_P12_BYTES).map_err(|e| {
        eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
        ExitCode::from(EXIT_IO)
    })?;
    let password = match &args.password_file {
        Some(path) => {
            let text = formpress::files::read::read(path, 64 << 10).map_err(|e| {
                eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
                ExitCode::from(EXIT_IO)
            })?;
            // The first line, without its line ending.
            let text = String::from_utf8_lossy(&text).into_owned();
            text.lines().next().unwrap_or("").to_string()
        }
        None => std::env::var(PASSWORD_ENV).unwrap_or_default(),
    };
    let failed = |e: KeyError| {
        eprintln!("formpress: {}：{e}", shown(&args.key));
        ExitCode::from(EXIT_USAGE)
    };
    match Signer::from_p12(&bytes, &password) {
        Err(KeyError::Password)
            if args.password_file.is_none()
                && std::env::var_os(PASSWORD_ENV).is_none()
                && std::io::stdin().is_terminal() =>
        {
            let typed = prompt(&format!("{} 的密码：", shown(&args.key))).map_err(|e| {
                eprintln!("formpress: 无法读取密码（{e}）");
                ExitCode::from(EXIT_IO)
            })?;
            Signer::from_p12(&bytes, &typed).map_err(failed)
        }
        Err(KeyError::Password) if args.password_file.is_none() && std::env::var_os(PASSWORD_ENV).is_none() => {
            eprintln!(
                "formpress: {} 需要密码，但没有给出：用 --password-file 指定密码文件，或设置环境变量 {PASSWORD_ENV}",
                shown(&args.key)
            );
            Err(ExitCode::from(EXIT_USAGE))
        }
        other => other.map_err(failed),
    }
}

/// Reads a line from the terminal with echo off.
fn prompt(question: &str) -> std::io::Result<String> {
    use std::io::Write as _;
    eprint!("{question}");
    std::io::stderr().flush()?;
    let echo = EchoOff::new();
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    drop(echo);
    eprintln!();
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// The terminal's echo turned off until dropped (nothing when standard input
/// is no terminal).
#[cfg(unix)]
struct EchoOff(Option<libc::termios>);

#[cfg(unix)]
impl EchoOff {
    fn new() -> EchoOff {
        let fd = libc::STDIN_FILENO;
        // SAFETY: termios is plain data; tcgetattr fills it and drop restores it.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        let off = unsafe { libc::tcgetattr(fd, &mut saved) } == 0 && {
            let mut quiet = saved;
            quiet.c_lflag &= !libc::ECHO;
            unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) == 0 }
        };
        EchoOff(off.then_some(saved))
    }
}

#[cfg(unix)]
impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.0 {
            unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved) };
        }
    }
}

/// On Windows the console's input mode: echo off while the password is typed.
#[cfg(windows)]
struct EchoOff(Option<(windows_sys::Win32::Foundation::HANDLE, u32)>);

#[cfg(windows)]
impl EchoOff {
    fn new() -> EchoOff {
        use windows_sys::Win32::System::Console::{
            ENABLE_ECHO_INPUT, GetConsoleMode, GetStdHandle, STD_INPUT_HANDLE, SetConsoleMode,
        };
        // SAFETY: the process's own standard input handle; the mode is plain data.
        unsafe {
            let input = GetStdHandle(STD_INPUT_HANDLE);
            let mut mode = 0;
            let off = GetConsoleMode(input, &mut mode) != 0 && SetConsoleMode(input, mode & !ENABLE_ECHO_INPUT) != 0;
            EchoOff(off.then_some((input, mode)))
        }
    }
}

#[cfg(windows)]
impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some((input, mode)) = self.0 {
            // SAFETY: restores the mode read in new().
            unsafe { windows_sys::Win32::System::Console::SetConsoleMode(input, mode) };
        }
    }
}
