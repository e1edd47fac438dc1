//! `formpress render`: one form to one PDF (many forms: `batch`), and `--format xlsx`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use formpress::files::write::{Content, Output, OutputError, Outputs};
use formpress::form::findings;
use formpress::{Engine, Error, RenderOptions};

use super::common::{CommonArgs, check_file, engine, expand, shown, write_failed};
use super::print::{print_findings, style};
use super::{EXIT_FINDINGS, EXIT_IO, EXIT_LAYOUT, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Form files (YAML), or folders: every *.yaml and *.yml (any case) in them.
    #[arg(required = true, value_name = "FORM")]
    pub(super) forms: Vec<PathBuf>,
    /// Output file for one form [default: the form's path with .pdf], `-` for standard
    /// output; with several forms or a folder, the output folder [default: beside each form].
    #[arg(short, long, value_name = "OUT")]
    pub(super) output: Option<PathBuf>,
    /// Output format: pdf, png/svg with one file per page (FORM-1.png, FORM-2.png, …), or
    /// xlsx (the form as a spreadsheet with the official grid; `formpress import` reads it back).
    #[arg(long, default_value = "pdf", value_parser = ["pdf", "png", "svg", "xlsx"])]
    pub(super) format: String,
    /// Resolution of PNG pages, in pixels per inch.
    #[arg(long, default_value_t = 144.0, value_name = "PPI")]
    pub(super) ppi: f64,
    /// Also write all rendered forms into one PDF, in order, with a bookmark per form.
    #[arg(long, value_name = "OUT.pdf")]
    pub(super) combine: Option<PathBuf>,
    /// Forms rendered at once [default: the number of CPU cores].
    #[arg(long, short = 'j', value_name = "N")]
    pub(super) jobs: Option<usize>,
    /// Also write the generated Typst markup here (one form only; for debugging templates).
    #[arg(long, value_name = "OUT.typ")]
    pub(super) typ: Option<PathBuf>,
    /// Write nothing if any error or warning is found.
    #[arg(long)]
    pub(super) strict: bool,
    /// Archive file: PDF/A-3b with this YAML attached byte for byte (also `options: {archive: true}`).
    #[arg(long)]
    pub(super) archive: bool,
    /// 骑缝章: this picture (PNG/SVG) cut into one vertical slice per page along the right edges, so
    /// the fanned pages show the whole seal (also `options: {seal_across: SEAL.png}`; none on one page).
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
    if args.format == "xlsx" {
        return render_xlsx(&engine, &args, single);
    }
    if single && args.format == "pdf" && args.combine.is_none() {
        render_one(&engine, &args, &args.forms[0], &options)
    } else {
        super::batch::run(&engine, &args, single, options)
    }
}

/// One form to one PDF, with everything said about it.
fn render_one(engine: &Engine, args: &RenderArgs, input: &Path, options: &RenderOptions) -> ExitCode {
    let form = match check_file(engine, input) {
        Ok(f) => f,
        Err(code) => return code,
    };
    print_findings(&form, style(&args.common));
    if !form.renderable() {
        eprintln!("formpress: {}：有结构性错误，未生成 PDF", input.display());
        return ExitCode::from(EXIT_FINDINGS);
    }
    if args.strict && !form.findings.is_empty() {
        eprintln!("formpress: --strict：有错误或警告，未生成 PDF");
        return ExitCode::from(EXIT_FINDINGS);
    }
    let outputs = Outputs::new();
    outputs.input(input);
    let output = args.output.clone().unwrap_or_else(|| input.with_extension("pdf"));
    let claimed = outputs.claim(&output, Content::Other).and_then(|pdf| {
        let typ = args.typ.as_ref().map(|t| outputs.claim(t, Content::Other)).transpose()?;
        Ok((pdf, typ))
    });
    let (output, typ) = match claimed {
        Ok(c) => c,
        Err(e) => return ExitCode::from(write_failed(&e)),
    };
    let rendered = match engine.report(&form, options).and_then(|r| r.pdf().map(|pdf| (r, pdf))) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("formpress: {}：{e}", shown(input));
            if let (Error::Typst { markup, .. }, Some(typ)) = (&e, &typ) {
                // The markup is what a template author needs to see the error.
                let _ = typ.write(markup.as_bytes());
            }
            return ExitCode::from(EXIT_LAYOUT);
        }
    };
    let (report, pdf) = rendered;
    if let Some(typ) = &typ
        && let Err(e) = write_markup(&outputs, typ, &report.laid)
    {
        return ExitCode::from(write_failed(&e));
    }
    if let Err(e) = output.write(&pdf) {
        return ExitCode::from(write_failed(&e));
    }
    let mut notes = report.notes();
    notes.insert(1, format!("{} KB", pdf.len().div_ceil(1024)));
    // With the PDF on standard output, the report goes to standard error.
    let what = if report.draft() { "已生成草稿" } else { "已生成" };
    let line = format!("{what} {}（{}）", shown(output.path()), notes.join("，"));
    match output {
        Output::Stdout => eprintln!("formpress: {line}"),
        Output::File { .. } => say!("{line}"),
    }
    if let Some((date, "年度首日")) = report.laid.date {
        let (y, m, d) = (date.year().unwrap_or(0), date.month().unwrap_or(0), date.day().unwrap_or(0));
        eprintln!(
            "formpress: 注意：表单没有填报日期，PDF 日期记为 {y}-{m:02}-{d:02}；可在 signature.date 写填报日期，或设置 SOURCE_DATE_EPOCH"
        );
    }
    if report.draft() { ExitCode::from(EXIT_FINDINGS) } else { ExitCode::SUCCESS }
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
