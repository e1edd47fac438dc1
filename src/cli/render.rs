//! `formpress render`: one form to one PDF or OFD (many forms: `batch`), and `--format xlsx`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use formpress::files::read::is_stdin;
use formpress::files::write::{Content, Output, OutputError, Outputs};
use formpress::form::findings;
use formpress::outputs::ofd;
use formpress::{Engine, Error, Form, RenderOptions};

use super::common::{CommonArgs, check_file, engine, expand, read_form, shown, write_failed};
use super::print::{FormReport, Out};
use super::print::{print_findings, style};
use super::{EXIT_FINDINGS, EXIT_IO, EXIT_LAYOUT, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// 表单文件（YAML；`-` 为标准输入），或目录：目录中所有 *.yaml 和 *.yml 文件
    #[arg(required = true, value_name = "FORM")]
    pub(super) forms: Vec<PathBuf>,
    /// 一份表单时是输出文件（默认：表单旁边同名的 .pdf 或 .ofd），`-` 为标准输出；多份表单或目录时是输出目录（默认：各表单旁边）；页面图时也可以是目录
    #[arg(short, long, value_name = "OUT")]
    pub(super) output: Option<PathBuf>,
    /// 输出格式：pdf（默认）；ofd（GB/T 33190 版式文件，加 --archive 为 OFD-A）；png、svg 每页一个文件（FORM-1.png、FORM-2.png……）；xlsx（官方格式的电子表格，formpress import 可读回）
    #[arg(long, default_value = "pdf", value_parser = ["pdf", "ofd", "png", "svg", "xlsx"])]
    pub(super) format: String,
    /// PNG 页面图的分辨率，每英寸像素数（默认 144）
    #[arg(long, default_value_t = 144.0, value_name = "PPI")]
    pub(super) ppi: f64,
    /// 另把生成的所有表单按顺序合成一个 PDF，每份表单一个书签
    #[arg(long, value_name = "OUT.pdf")]
    pub(super) combine: Option<PathBuf>,
    /// 同时生成几份表单（默认：CPU 核数）
    #[arg(long, short = 'j', value_name = "N")]
    pub(super) jobs: Option<usize>,
    /// 另写出生成的 Typst 标记（仅限一份表单；调试模板用）
    #[arg(long, value_name = "OUT.typ")]
    pub(super) typ: Option<PathBuf>,
    /// 有任何错误或警告就不写文件
    #[arg(long)]
    pub(super) strict: bool,
    /// 以 JSON 输出结果（一份表单一个 JSON 文档；多份时每份一行，最后一行是汇总）
    #[arg(long)]
    pub(super) json: bool,
    /// 存档文件：PDF/A-3b，原样附带 YAML（也可在表单里写 options: {archive: true}）
    #[arg(long)]
    pub(super) archive: bool,
    /// 骑缝章：把这张图（PNG/SVG）竖着切成每页一条，印在各页右边缘，页面错开摆放时拼出整个印章（也可写 options: {seal_across: SEAL.png}；只有一页时不印）
    #[arg(long, value_name = "SEAL.png")]
    pub(super) seal_across: Option<PathBuf>,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: RenderArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut options = RenderOptions { archive: args.archive, ..RenderOptions::default() };
    if let Some(path) = &args.seal_across {
        match formpress::form::schema::read_named_picture(path) {
            Ok(picture) => options.seal_across = Some(picture),
            Err(e) => {
                eprintln!("formpress: --seal-across {}", findings::escape_controls(&e));
                return ExitCode::from(EXIT_IO);
            }
        }
    }
    let single = args.forms.len() == 1 && !args.forms[0].is_dir();
    if args.output.is_none() && args.forms.iter().any(|f| is_stdin(f)) {
        eprintln!("formpress: 从标准输入读入表单时，请用 -o 指定输出文件（-o - 写到标准输出）");
        return ExitCode::from(EXIT_USAGE);
    }
    if args.format == "xlsx" {
        return render_xlsx(&engine, &args, single);
    }
    if single && (args.format == "pdf" || args.format == "ofd") && args.combine.is_none() {
        render_one(&engine, &args, &args.forms[0], &options, Out::new(&args.common, args.json))
    } else {
        super::batch::run(&engine, &args, single, options)
    }
}

/// One form to one PDF, with everything said about it.
fn render_one(engine: &Engine, args: &RenderArgs, input: &Path, options: &RenderOptions, out: Out) -> ExitCode {
    let file = input.display().to_string();
    let form = match read_form(engine, input) {
        Ok(f) => f,
        Err(message) => {
            out.json(&FormReport::unread(file, message, EXIT_IO));
            return ExitCode::from(EXIT_IO);
        }
    };
    out.findings(&form);
    let mut report = FormReport::of(file, &form, 0);
    report.exit = write_one(engine, args, input, options, &form, &mut report, out);
    out.json(&report);
    ExitCode::from(report.exit)
}

/// Lays out and writes one checked form; what was written (or why not) goes
/// into `report`. Returns the exit status.
fn write_one(
    engine: &Engine,
    args: &RenderArgs,
    input: &Path,
    options: &RenderOptions,
    form: &Form,
    report: &mut FormReport,
    out: Out,
) -> u8 {
    let mut fail = |code: u8, message: String| {
        eprintln!("formpress: {message}");
        report.error = Some(message);
        code
    };
    let ofd = args.format == "ofd";
    let doc = if ofd { "OFD" } else { "PDF" };
    if !form.renderable() {
        return fail(EXIT_FINDINGS, format!("{}：有结构性错误，未生成 {doc}", shown(input)));
    }
    if args.strict && !form.findings.is_empty() {
        return fail(EXIT_FINDINGS, format!("--strict：有错误或警告，未生成 {doc}"));
    }
    let outputs = Outputs::new();
    outputs.input(input);
    let output = args.output.clone().unwrap_or_else(|| input.with_extension(if ofd { "ofd" } else { "pdf" }));
    let claimed = outputs.claim(&output, Content::Other).and_then(|pdf| {
        let typ = args.typ.as_ref().map(|t| outputs.claim(t, Content::Other)).transpose()?;
        Ok((pdf, typ))
    });
    let (output, typ) = match claimed {
        Ok(c) => c,
        Err(e) => return refused(&e, report),
    };
    let export = |r: &formpress::outputs::report::Report| if ofd { ofd::of_laid(&r.laid) } else { r.pdf() };
    let rendered = match engine.report(form, options).and_then(|r| export(&r).map(|bytes| (r, bytes))) {
        Ok(r) => r,
        Err(e) => {
            if let (Error::Typst { markup, .. }, Some(typ)) = (&e, &typ) {
                // The markup is what a template author needs to see the error.
                let _ = typ.write(markup.as_bytes());
            }
            return fail(EXIT_LAYOUT, format!("{}：{e}", shown(input)));
        }
    };
    let (laid, pdf) = rendered;
    if let Some(typ) = &typ
        && let Err(e) = write_markup(&outputs, typ, &laid.laid)
    {
        return refused(&e, report);
    }
    if let Err(e) = output.write(&pdf) {
        return refused(&e, report);
    }
    report.outputs.push(output.path().display().to_string());
    report.outputs.extend(typ.iter().map(|t| t.path().display().to_string()));
    report.pages = Some(laid.pages);
    report.code = laid.code().map(str::to_string);
    report.draft = Some(laid.draft());
    let mut notes = if ofd { laid.notes_for("OFD-A") } else { laid.notes() };
    notes.insert(1, format!("{} KB", pdf.len().div_ceil(1024)));
    // With the file on standard output, the report goes to standard error.
    let what = if laid.draft() { "已生成草稿" } else { "已生成" };
    let line = format!("{what} {}（{}）", shown(output.path()), notes.join("，"));
    match output {
        Output::Stdout if !out.json => eprintln!("formpress: {line}"),
        Output::Stdout => {}
        Output::File { .. } => out.say(&line),
    }
    if let Some((date, "年度首日")) = laid.laid.date {
        let (y, m, d) = (date.year().unwrap_or(0), date.month().unwrap_or(0), date.day().unwrap_or(0));
        eprintln!(
            "formpress: 注意：表单没有填报日期，{doc} 日期记为 {y}-{m:02}-{d:02}；可在 signature.date 写填报日期，或设置 SOURCE_DATE_EPOCH"
        );
    }
    if laid.draft() { EXIT_FINDINGS } else { 0 }
}

/// An output refused or failed: said, recorded in the report; its exit status.
fn refused(e: &OutputError, report: &mut FormReport) -> u8 {
    let code = write_failed(e);
    if code != 0 {
        report.error = Some(findings::escape_controls(&e.to_string()));
    }
    code
}

/// Writes the markup and, beside it, the assets it reads (`assets/qr.png`, …),
/// so `typst compile OUT.typ` works on it as it is.
fn write_markup(outputs: &Outputs, typ: &Output, laid: &formpress::Laid) -> Result<(), OutputError> {
    typ.write(laid.markup.as_bytes())?;
    let Output::File { given, .. } = typ else { return Ok(()) };
    let dir = given.parent().unwrap_or(Path::new(""));
    for (vpath, bytes) in &laid.files {
        if let Some(rel) = vpath.strip_prefix("/assets/") {
            let path = dir.join("assets").join(rel);
            std::fs::create_dir_all(path.parent().unwrap_or(dir)).map_err(|e| OutputError::Io(path.clone(), e))?;
            outputs.claim(&path, Content::Other)?.write(bytes.as_slice())?;
        }
    }
    Ok(())
}

/// `render --format xlsx`: each form as a spreadsheet (beside it, or in the `-o` folder).
fn render_xlsx(engine: &Engine, args: &RenderArgs, single: bool) -> ExitCode {
    let inputs = match expand(&args.forms) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let outputs = Outputs::new();
    for input in &inputs {
        outputs.input(input);
    }
    let mut worst = 0u8;
    for input in &inputs {
        let form = match check_file(engine, input) {
            Ok(f) => f,
            Err(code) => return code,
        };
        print_findings(&form, style(&args.common));
        if !form.renderable() || (args.strict && !form.findings.is_empty()) {
            eprintln!("formpress: {}：有错误，未生成 .xlsx", shown(input));
            worst = worst.max(EXIT_FINDINGS);
            continue;
        }
        let target = match (&args.output, single) {
            (Some(o), true) => o.clone(),
            (Some(dir), false) => dir.join(input.with_extension("xlsx").file_name().unwrap_or_default()),
            (None, _) => input.with_extension("xlsx"),
        };
        let output = match outputs.claim(&target, Content::Other) {
            Ok(o) => o,
            Err(e) => return ExitCode::from(write_failed(&e)),
        };
        // A workbook the user filled in (the one `import` read) is never replaced.
        if let Output::File { real, .. } = &output
            && real.exists()
            && !formpress::files::read::read(real, formpress::inputs::xlsx::MAX_FILE_BYTES)
                .is_ok_and(|b| formpress::inputs::xlsx::made_by_formpress(&b))
        {
            eprintln!("formpress: {} 已存在，且不是 formpress 生成的表格，未覆盖；用 -o 另选文件名", shown(&target));
            worst = worst.max(EXIT_USAGE);
            continue;
        }
        let bytes = match formpress::outputs::xlsx::write(engine, &form) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("formpress: {}：{e}", shown(input));
                worst = worst.max(EXIT_LAYOUT);
                continue;
            }
        };
        if let Err(e) = output.write(&bytes) {
            return ExitCode::from(write_failed(&e));
        }
        let code = engine.fingerprint(&form).filter(|_| form.errors() == 0);
        let code = code.map(|f| format!("，校验码 {}", f.code())).unwrap_or_default();
        let report = format!("已生成 {}（{} KB{code}）", shown(output.path()), bytes.len().div_ceil(1024));
        match output {
            Output::Stdout => eprintln!("formpress: {report}"),
            Output::File { .. } => say!("{report}"),
        }
        if form.errors() > 0 {
            worst = worst.max(EXIT_FINDINGS);
        }
    }
    ExitCode::from(worst)
}
