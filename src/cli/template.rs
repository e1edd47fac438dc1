//! `formpress template`: copy a kind's folder to start a variant, or make one
//! from a region's blank template (`--from-xlsx`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use formpress::files::write::{Content, OutputError, Outputs};
use formpress::form::findings;
use formpress::inputs::xlsx;

use super::common::{CommonArgs, engine, kind, shown, write_failed};
use super::{EXIT_FINDINGS, EXIT_IO, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct TemplateArgs {
    /// 要复制的表单种类；与 --from-xlsx 同用时是新种类所依据的种类（默认：从表上的栏目名认出最接近的）
    #[arg(required_unless_present = "from_xlsx")]
    pub(super) kind: Option<String>,
    /// 新种类的目录；目录名就是新种类的名字（如 mytemplates/henan-2022-dept）
    #[arg(short, long, value_name = "DIR")]
    pub(super) output: PathBuf,
    /// 从本地空白表（财政局下发的 .xlsx）生成新种类：栏目名称、栏目次序、表上有无的格写进 kind.yaml 的选项默认值，空白表本身作 formpress new 的骨架
    #[arg(long, value_name = "BLANK.xlsx")]
    pub(super) from_xlsx: Option<PathBuf>,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: TemplateArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    if args.output.exists() {
        eprintln!("formpress: {} 已存在；请给一个新的目录名（目录名就是新种类的名字）", args.output.display());
        return ExitCode::from(EXIT_USAGE);
    }
    let id = args.output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = args.output.parent().map(|p| p.display().to_string()).unwrap_or_default();
    // A base kind named is known (else: did you mean …, and the kinds there are).
    if let Some(base) = &args.kind
        && let Err(code) = kind(&engine, base)
    {
        return code;
    }
    let (base, files) = match &args.from_xlsx {
        Some(blank) => match from_blank(&engine, blank, args.kind.as_deref(), &id) {
            Ok(made) => made,
            Err(code) => return code,
        },
        None => {
            let Some(base) = args.kind.as_deref().and_then(|k| engine.catalog().kind(k)) else {
                return ExitCode::from(EXIT_USAGE); // clap asks for KIND without --from-xlsx
            };
            let prefix = format!("{}/", base.id);
            let files = engine
                .catalog()
                .sources()
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, text)| (k[prefix.len()..].to_string(), text.clone()))
                .collect();
            (base.id.clone(), files)
        }
    };
    if let Err(e) = write_folder(&args.output, &files) {
        return ExitCode::from(write_failed(&e));
    }
    say!("已把 {base} 复制到 {}（新种类 {id}）。", shown(&args.output));
    say!("改 kind.yaml 和模板后：formpress list --templates {dir}");
    if args.from_xlsx.is_some() {
        return check_blank(&args.common, &args.output, &id);
    }
    ExitCode::SUCCESS
}

/// Checks the new kind's blank form with the new kind, as `new` then `render`
/// will: a kind whose blank form has errors is written (a start to mend by
/// hand) but says so, with exit 1.
fn check_blank(common: &CommonArgs, dir: &Path, id: &str) -> ExitCode {
    let Some(parent) = dir.parent() else { return ExitCode::SUCCESS };
    let mut with_new = common.clone();
    with_new.templates.push(if parent.as_os_str().is_empty() { PathBuf::from(".") } else { parent.to_path_buf() });
    let engine = match engine(&with_new) {
        Ok(e) => e,
        Err(code) => return code,
    };
    if engine.catalog().kind(id).is_none() {
        for p in engine.catalog().problems() {
            eprintln!("formpress: {p}");
        }
        return ExitCode::from(EXIT_FINDINGS);
    }
    let blank = dir.join(xlsx::SKELETON);
    let form = match std::fs::read(&blank) {
        Ok(bytes) => engine.check(&blank.display().to_string(), &bytes),
        Err(e) => {
            eprintln!("formpress: {}：{e}", shown(&blank));
            return ExitCode::from(EXIT_IO);
        }
    };
    let shown_dir = parent.display();
    if form.errors() > 0 {
        for f in form.findings.iter().filter(|f| f.severity == formpress::form::findings::Severity::Error).take(5) {
            eprintln!("formpress: {}：{}", shown(&blank), f.message);
        }
        eprintln!(
            "formpress: 新种类 {id} 的空白表有 {} 个错误，还不能生成 PDF；请改 {} 或 kind.yaml",
            form.errors(),
            shown(&blank)
        );
        return ExitCode::from(EXIT_FINDINGS);
    }
    say!("空白表：formpress new {id} --templates {shown_dir} -o 新表.yaml");
    ExitCode::SUCCESS
}

/// The new kind's files from the blank workbook, or the reason there are none.
fn from_blank(
    engine: &formpress::Engine,
    blank: &Path,
    base: Option<&str>,
    id: &str,
) -> Result<(String, Vec<(String, String)>), ExitCode> {
    let bytes = formpress::files::read::read(blank, xlsx::MAX_FILE_BYTES).map_err(|e| {
        eprintln!("formpress: {}", findings::escape_controls(&e.to_string()));
        ExitCode::from(EXIT_IO)
    })?;
    let source = blank.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let made = xlsx::kind_from_blank(engine, &bytes, base, id, &source).map_err(|e| {
        use xlsx::ImportError as E;
        let code = match e {
            E::UnknownKind(_) => EXIT_USAGE,
            E::NotSpreadsheet | E::Ods | E::Broken(_) | E::TooLarge(_) => EXIT_IO,
            E::NoForm => EXIT_FINDINGS,
        };
        eprintln!("formpress: {}：{}", shown(blank), findings::escape_controls(&e.to_string()));
        ExitCode::from(code)
    })?;
    for note in &made.notes {
        eprintln!("formpress: 注意：{}", findings::escape_controls(&note.replace(['\n', '\r'], " ")));
    }
    say!(
        "从 {} 读入「{}」（基于 {}），{} 处未能识别（列在 kind.yaml 开头）",
        shown(blank),
        made.name,
        made.base,
        made.unplaced
    );
    Ok((made.base, made.files))
}

/// Writes the kind's files under `dir`, which must not exist yet.
fn write_folder(dir: &Path, files: &[(String, String)]) -> Result<(), OutputError> {
    let outputs = Outputs::new();
    for (name, text) in files {
        let path = dir.join(name);
        path.parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(|e| OutputError::Io(path.clone(), e))
            .and_then(|()| outputs.claim(&path, Content::Yaml))
            .and_then(|o| o.write(text.as_bytes()))?;
    }
    Ok(())
}
