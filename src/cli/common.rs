//! Shared by the commands: the engine from the common options, reading inputs, and claiming outputs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use formpress::archival::{inspect, ofd_read, scan};
use formpress::files::write::{Content, Output, OutputError, Outputs};
use formpress::form::findings;
use formpress::{Engine, EngineOptions, Form};

use super::{EXIT_FINDINGS, EXIT_IO, EXIT_LAYOUT, EXIT_USAGE};

#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// 加入此目录中的字体（可多次给出）；用于内置字体缺少的字
    #[arg(long = "font-path", value_name = "DIR")]
    pub(super) font_path: Vec<PathBuf>,
    /// 加入或替换表单种类：此目录下的模板目录（可多次给出）
    #[arg(long = "templates", value_name = "DIR")]
    pub(super) templates: Vec<PathBuf>,
    /// 也允许从此目录读图片（seal: 等）；默认只读表单所在目录（可多次给出）
    #[arg(long = "allow-path", value_name = "DIR")]
    pub(super) allow_path: Vec<PathBuf>,
    /// 不找本机安装的字体，只用内置字体和 --font-path 的字体
    #[arg(long)]
    pub(super) no_system_fonts: bool,
    /// 消息是否用颜色：auto（在终端上时，默认）、always、never
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub(super) color: String,
}

pub(super) fn engine(common: &CommonArgs) -> Result<Engine, ExitCode> {
    let folders =
        [("--font-path", &common.font_path), ("--templates", &common.templates), ("--allow-path", &common.allow_path)];
    for (option, dirs) in folders {
        if let Some(dir) = dirs.iter().find(|d| !d.is_dir()) {
            eprintln!("formpress: {option} {}：目录不存在", shown(dir));
            return Err(ExitCode::from(EXIT_USAGE));
        }
    }
    let engine = Engine::new(&EngineOptions {
        template_dirs: common.templates.clone(),
        font_dirs: common.font_path.clone(),
        no_system_fonts: common.no_system_fonts,
        allow_paths: common.allow_path.clone(),
    })
    .map_err(|e| {
        eprintln!("formpress: {e}");
        ExitCode::from(EXIT_LAYOUT)
    })?;
    for problem in engine.catalog().problems() {
        eprintln!("formpress: 警告：{}", findings::escape_controls(problem));
    }
    Ok(engine)
}

/// A path for a message, with control characters escaped.
pub(super) fn shown(path: &Path) -> String {
    findings::escape_controls(&path.display().to_string())
}

/// Reports an output that was refused or failed; the exit code for it.
pub(super) fn write_failed(e: &OutputError) -> u8 {
    if matches!(e, OutputError::Closed) {
        return 0; // the reader went away; nothing to say to it
    }
    eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
    if e.is_usage() { EXIT_USAGE } else { EXIT_IO }
}

/// Reads a PDF (or an OFD package); a failure is said on standard error
/// with the path in it, and its message returned for `--json`.
pub(super) fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    formpress::files::read::read(path, inspect::MAX_PDF_BYTES).map_err(|e| {
        let message = findings::escape_controls(&e.to_string());
        eprintln!("formpress: {message}");
        message
    })
}

/// Reads a PDF; a failure is an I/O error with the path in it.
pub(super) fn read_pdf(path: &Path) -> Result<Vec<u8>, ExitCode> {
    read_bytes(path).map_err(|_| ExitCode::from(EXIT_IO))
}

pub(super) fn io_reason(e: &std::io::Error) -> String {
    if let Some(inner) = e.get_ref() {
        return inner.to_string(); // our own message, e.g. 输出目录不存在
    }
    match e.kind() {
        std::io::ErrorKind::NotFound => "文件或目录不存在".into(),
        std::io::ErrorKind::PermissionDenied => "没有权限".into(),
        std::io::ErrorKind::IsADirectory => "这是一个目录".into(),
        _ => e.to_string(),
    }
}

/// Reads and checks a form file (`-`: standard input); a file that cannot be
/// read is said on standard error, and its message returned for `--json`.
pub(super) fn read_form(engine: &Engine, path: &Path) -> Result<Form, String> {
    engine.check_file(path).map_err(|e| {
        let message = findings::escape_controls(&e.to_string());
        eprintln!("formpress: {message}");
        message
    })
}

/// Reads and checks a form file, reporting I/O problems.
pub(super) fn check_file(engine: &Engine, path: &Path) -> Result<Form, ExitCode> {
    read_form(engine, path).map_err(|_| ExitCode::from(EXIT_IO))
}

/// A PDF, or an OFD package (told from its bytes) with its package facts.
pub(super) fn read_document(
    path: &Path,
    bytes: Vec<u8>,
) -> Result<(inspect::Inspected, Option<ofd_read::Package>), ExitCode> {
    let failed = |e: &dyn std::fmt::Display| {
        eprintln!("formpress: {}：{e}", shown(path));
        ExitCode::from(EXIT_FINDINGS)
    };
    if ofd_read::is_ofd(&bytes) {
        return ofd_read::read(&bytes).map(|(read, pkg)| (read, Some(pkg))).map_err(|e| failed(&e));
    }
    inspect::read(bytes).map(|read| (read, None)).map_err(|e| failed(&e))
}

/// The forms named on the command line: files as given, folders as their
/// YAML files (`.yaml` or `.yml`, any case). A folder without forms is an
/// error, not a run that silently does nothing.
pub(super) fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, ExitCode> {
    let mut out = vec![];
    for input in inputs {
        if input.is_dir() {
            let entries = std::fs::read_dir(input).map_err(|e| {
                eprintln!("formpress: 无法读取目录 {}：{}", shown(input), io_reason(&e));
                ExitCode::from(EXIT_IO)
            })?;
            let mut found: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && formpress::files::write::is_yaml(p))
                .collect();
            if found.is_empty() {
                eprintln!("formpress: 目录 {} 中没有表单（*.yaml 或 *.yml 文件）", shown(input));
                return Err(ExitCode::from(EXIT_USAGE));
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(input.clone());
        }
    }
    Ok(out)
}

/// An output that is a new kind of file (`--combine`, `scan`): never one of
/// this run's own PDFs (claimed already), and never an archive PDF that
/// carries a form's YAML.
pub(super) fn claim_unarchived(outputs: &Outputs, path: &Path) -> Result<Output, OutputError> {
    let output = outputs.claim(path, Content::Other)?;
    if let Output::File { real, .. } = &output
        && let Ok(bytes) = formpress::files::read::read(real, inspect::MAX_PDF_BYTES)
        && let Ok(pdf) = match ofd_read::is_ofd(&bytes) {
            true => ofd_read::read(&bytes).map(|(read, _)| read).map_err(|_| ()),
            false => inspect::read(bytes).map_err(|_| ()),
        }
        && (pdf.source().is_some() || scan::is_archive(&pdf))
    {
        return Err(OutputError::Archive(path.to_path_buf()));
    }
    Ok(output)
}

/// Finds a kind by id, with a did-you-mean on a typo.
pub(super) fn kind<'a>(engine: &'a Engine, id: &str) -> Result<&'a formpress::form::kind::Kind, ExitCode> {
    engine.catalog().kind(id).ok_or_else(|| {
        let known: Vec<&str> = engine.catalog().kinds().map(|k| k.id.as_str()).collect();
        let hint =
            formpress::form::schema::did_you_mean(id, &known).map(|b| format!("是否应为 {b}？")).unwrap_or_default();
        eprintln!("formpress: 未知的表单种类 {id}。{hint}可用的种类：{}", known.join("、"));
        ExitCode::from(EXIT_USAGE)
    })
}

/// Writes text to a new file, or to standard output when no file is named.
pub(super) fn write_or_print(output: Option<&Path>, text: &str, what: &str) -> ExitCode {
    let path = output.unwrap_or(Path::new("-"));
    if !formpress::files::write::is_stdout(path) && std::fs::symlink_metadata(path).is_ok() {
        eprintln!("formpress: {} 已存在，未覆盖", shown(path));
        return ExitCode::from(EXIT_USAGE);
    }
    let written = Outputs::new().claim(path, Content::Yaml).and_then(|o| o.write(text.as_bytes()).map(|()| o));
    match written {
        Ok(Output::File { .. }) => {
            say!("已写出 {what} {}", shown(path));
            ExitCode::SUCCESS
        }
        Ok(Output::Stdout) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(write_failed(&e)),
    }
}

/// Runs `f` with the engine and the named kind, or reports why there is none.
pub(super) fn with_kind(
    common: &CommonArgs,
    id: &str,
    f: impl FnOnce(&Engine, &formpress::form::kind::Kind) -> ExitCode,
) -> ExitCode {
    let engine = match engine(common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    match kind(&engine, id) {
        Ok(k) => f(&engine, k),
        Err(code) => code,
    }
}
