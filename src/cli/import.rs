//! `formpress import`: a spreadsheet filled in Excel or WPS to the kind's YAML.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use formpress::files::read::is_stdin;
use formpress::files::write::{Content, Output, Outputs};
use formpress::form::findings;
use formpress::inputs::xlsx;
use formpress::{Engine, Form};

use super::common::{CommonArgs, engine, shown, write_failed};
use super::print::{FormReport, ImportReport, Out};
use super::{EXIT_FINDINGS, EXIT_IO, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// 表格文件（Excel 或 WPS 保存的 .xlsx；.xls、.et）；`-` 为标准输入
    pub(super) file: PathBuf,
    /// 表单种类（默认：从工作表上的栏目名认出）
    #[arg(long, value_name = "KIND")]
    pub(super) kind: Option<String>,
    /// 写出的 YAML（默认：表格旁边同名的 .yaml；从标准输入读时为标准输出）；从不覆盖已有文件；`-` 为标准输出
    #[arg(short, long, value_name = "FORM.yaml")]
    pub(super) output: Option<PathBuf>,
    /// 以 JSON 输出结果（读入的工作表、写出的文件、未能识别的格数和检查结果）
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

/// `formpress import`: a spreadsheet to the kind's YAML, then the usual check.
pub(super) fn run(args: ImportArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let out = Out::new(&args.common, args.json);
    let mut report = ImportReport {
        what: "import",
        file: args.file.display().to_string(),
        sheet: None,
        kind: None,
        output: None,
        unplaced: 0,
        notes: vec![],
        form: None,
        error: None,
        exit: 0,
    };
    let checked = import(&engine, &args, out, &mut report);
    report.form = checked.as_ref().map(|(name, form)| {
        let exit = if form.errors() > 0 { EXIT_FINDINGS } else { 0 };
        FormReport::of(name.clone(), form, exit)
    });
    if let Some(form) = &report.form {
        report.exit = report.exit.max(form.exit);
    }
    out.json(&report);
    ExitCode::from(report.exit)
}

/// Reads the spreadsheet, writes the YAML and checks it; the checked form,
/// named as written. What happened goes into `report`.
fn import(engine: &Engine, args: &ImportArgs, out: Out, report: &mut ImportReport) -> Option<(String, Form)> {
    let mut fail = |code: u8, message: String| {
        eprintln!("formpress: {message}");
        report.error = Some(message);
        report.exit = code;
    };
    let read = if is_stdin(&args.file) {
        formpress::files::read::read_stdin(xlsx::MAX_FILE_BYTES)
    } else {
        formpress::files::read::read(&args.file, xlsx::MAX_FILE_BYTES)
    };
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            fail(EXIT_IO, findings::escape_controls(&e.to_string()));
            return None;
        }
    };
    let imported = match xlsx::import(engine, &bytes, args.kind.as_deref()) {
        Ok(i) => i,
        Err(e) => {
            use xlsx::ImportError as E;
            let code = match e {
                E::UnknownKind(_) => EXIT_USAGE,
                E::NotSpreadsheet | E::Ods | E::Broken(_) | E::TooLarge(_) => EXIT_IO,
                E::NoForm => EXIT_FINDINGS,
            };
            fail(code, format!("{}：{}", shown(&args.file), findings::escape_controls(&e.to_string())));
            return None;
        }
    };
    report.sheet = Some(imported.sheet.clone());
    report.kind = Some(imported.kind.clone());
    report.unplaced = imported.unplaced;
    report.notes = imported.notes.clone();
    let default = if is_stdin(&args.file) { PathBuf::from("-") } else { args.file.with_extension("yaml") };
    let target = args.output.clone().unwrap_or(default);
    // A form the user already has is never replaced by an import.
    if !formpress::files::write::is_stdout(&target) && std::fs::symlink_metadata(&target).is_ok() {
        fail(EXIT_USAGE, format!("{} 已存在，未覆盖；用 -o 另选文件名", shown(&target)));
        return None;
    }
    let outputs = Outputs::new();
    outputs.input(&args.file);
    let written = outputs.claim(&target, Content::Yaml).and_then(|o| o.write(imported.yaml.as_bytes()).map(|()| o));
    let output = match written {
        Ok(o) => o,
        Err(e) => {
            report.exit = write_failed(&e);
            report.error = (report.exit != 0).then(|| findings::escape_controls(&e.to_string()));
            return None;
        }
    };
    report.output = Some(output.path().display().to_string());
    if !out.json {
        for note in &imported.notes {
            eprintln!("formpress: 注意：{}", findings::escape_controls(&note.replace(['\n', '\r'], " ")));
        }
    }
    let name = match &output {
        Output::Stdout => "-".to_string(),
        Output::File { .. } => shown(output.path()),
    };
    let form = engine.check(&name, imported.yaml.as_bytes());
    out.findings(&form);
    let line = format!(
        "已从工作表「{}」读入 {}（{}），{} 处未能识别",
        findings::escape_controls(&imported.sheet),
        name,
        imported.kind,
        imported.unplaced
    );
    match output {
        Output::Stdout if !out.json => eprintln!("formpress: {line}"),
        Output::Stdout => {}
        Output::File { .. } => out.say(&line),
    }
    Some((name, form))
}
