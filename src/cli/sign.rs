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
    /// The PDF to sign (made by formpress render; not a draft).
    pdf: PathBuf,
    /// The signer's private key and certificate: a PKCS#12 file (.p12/.pfx; RSA or ECDSA P-256/P-384).
    #[arg(long, value_name = "KEY.p12")]
    key: PathBuf,
    /// A file whose first line is the password of the .p12 [default: the FORMPRESS_KEY_PASSWORD
    /// variable, else asked on the terminal, else empty].
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// The signed PDF [default: FORM.signed.pdf beside the input]; `-` for standard output.
    #[arg(short, long, value_name = "OUT.pdf")]
    output: Option<PathBuf>,
    /// Also sign a PDF that formpress did not make.
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
        other => other.map_err(failed),
    }
}

/// Reads a line from the terminal with echo off.
fn prompt(question: &str) -> std::io::Result<String> {
    use std::io::Write as _;
    eprint!("{question}");
    std::io::stderr().flush()?;
    let fd = libc::STDIN_FILENO;
    // SAFETY: termios is plain data; tcgetattr fills it and tcsetattr restores it below.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    let echo_off = unsafe { libc::tcgetattr(fd, &mut saved) } == 0 && {
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) == 0 }
    };
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    if echo_off {
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    }
    eprintln!();
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
