//! `formpress render` of many forms, or of page images: in parallel, with progress and a summary.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use formpress::files::read::is_stdin;
use formpress::files::write::{Content, Outputs};
use formpress::form::findings;
use formpress::outputs::batch;
use formpress::{Engine, Form, RenderOptions};

use super::common::{claim_unarchived, expand, io_reason, shown, write_failed};
use super::print::{FormReport, Out, Summary};
use super::render::RenderArgs;
use super::{EXIT_FINDINGS, EXIT_IO, EXIT_LAYOUT, EXIT_USAGE};

/// Many forms (or page images): in parallel, with progress and a summary.
pub(super) fn run(engine: &Engine, args: &RenderArgs, single: bool, options: RenderOptions) -> ExitCode {
    let out = Out::new(&args.common, args.json);
    let inputs = match expand(&args.forms) {
        Ok(i) => i,
        Err(code) => return code,
    };
    if inputs.iter().any(|i| is_stdin(i)) && !(single && args.output.is_some()) {
        eprintln!("formpress: 从标准输入读入表单时只能有这一份表单，并请用 -o 指定输出");
        return ExitCode::from(EXIT_USAGE);
    }
    let format = match args.format.as_str() {
        "png" => batch::Format::Png(args.ppi),
        "svg" => batch::Format::Svg,
        "ofd" => batch::Format::Ofd,
        _ => batch::Format::Pdf,
    };
    if format == batch::Format::Ofd && args.combine.is_some() {
        eprintln!("formpress: --combine 只能合并 PDF，不能与 --format ofd 同用");
        return ExitCode::from(EXIT_USAGE);
    }
    if args.typ.is_some() && inputs.len() != 1 {
        eprintln!("formpress: --typ 只能用于一份表单");
        return ExitCode::from(EXIT_USAGE);
    }
    // The upper bound is the pixels a page would take (preview::MAX_PAGE_PIXELS).
    if !(args.ppi >= 1.0 && args.ppi.is_finite()) {
        eprintln!("formpress: --ppi 应为不小于 1 的数");
        return ExitCode::from(EXIT_USAGE);
    }
    // One input file: -o is its output (stem for images). Otherwise -o is a folder.
    let ext = match format {
        batch::Format::Pdf => "pdf",
        batch::Format::Ofd => "ofd",
        _ => "",
    };
    // An output folder: for many forms, or for one form's page images named as a folder.
    let folder = |o: &Path| !single || (ext.is_empty() && (o.is_dir() || o.to_string_lossy().ends_with(['/', '\\'])));
    let target = |input: &Path| -> PathBuf {
        let stem = input.file_stem().unwrap_or_default();
        match &args.output {
            // Page images of one form into a folder given as -o: DIR/FORM-1.png.
            Some(o) if single && folder(o) => o.join(stem),
            Some(o) if single => {
                if ext.is_empty() {
                    o.with_extension("")
                } else {
                    o.clone()
                }
            }
            Some(dir) => dir.join(stem).with_extension(ext),
            None => input.with_extension(ext),
        }
    };
    if let Some(dir) = args.output.as_deref().filter(|o| folder(o))
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("formpress: 无法建立输出目录 {}：{}", shown(dir), io_reason(&e));
        return ExitCode::from(EXIT_IO);
    }
    // Every output is claimed before anything is rendered: a clash is a usage error up front.
    let outputs = Outputs::new();
    for input in &inputs {
        outputs.input(input);
    }
    let mut items = vec![];
    for input in &inputs {
        let output = match format {
            batch::Format::Pdf | batch::Format::Ofd => match outputs.claim(&target(input), Content::Other) {
                Ok(o) => batch::Target::Pdf(o),
                Err(e) => return ExitCode::from(write_failed(&e)),
            },
            _ => batch::Target::Pages(target(input)),
        };
        items.push(batch::Item { input: input.clone(), output });
    }
    let combine = match &args.combine {
        Some(path) => match claim_unarchived(&outputs, path) {
            Ok(o) => Some(o),
            Err(e) => return ExitCode::from(write_failed(&e)),
        },
        None => None,
    };
    let options = batch::Options {
        jobs: args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        format,
        render: options,
        strict: args.strict,
        keep_pdf: args.combine.is_some(),
    };
    let bar = (std::io::stderr().is_terminal() && !out.json).then(|| {
        let bar = indicatif::ProgressBar::new(items.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} 预计还需 {eta} {msg}")
                .expect("valid template"),
        );
        bar
    });
    let done = std::sync::atomic::AtomicUsize::new(0);
    let start = std::time::Instant::now();
    let progress = |item: &batch::Item, outcome: &batch::Outcome| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if out.json {
            out.json(&form_report(item, outcome));
            return;
        }
        let line = match outcome {
            batch::Outcome::Written { files, notes, .. } => {
                format!(
                    "{} → {}（{}）",
                    shown(&item.input),
                    files.first().map(|f| shown(f)).unwrap_or_default(),
                    notes.join("，")
                )
            }
            batch::Outcome::Refused { form } => format!("{}：{} 个错误，未生成", shown(&item.input), form.errors()),
            batch::Outcome::Failed { error, .. } => {
                format!("{}：失败：{}", shown(&item.input), findings::escape_controls(&error.to_string()))
            }
        };
        match &bar {
            Some(bar) => {
                bar.inc(1);
                if !outcome.ok() {
                    bar.println(line);
                }
            }
            None => say!("[{n}/{}] {line}", items.len()),
        }
    };
    let outcomes = batch::run(engine, &items, &outputs, &options, &progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let elapsed = start.elapsed().as_secs_f64();

    // Findings of forms with errors, then the summary.
    let mut summary = Summary { what: "summary", forms: items.len(), seconds: elapsed, ..Summary::default() };
    for outcome in &outcomes {
        if let Some(form) = outcome_form(outcome) {
            summary.errors += form.errors();
            summary.warnings += form.warnings();
        }
        summary.exit = summary.exit.max(exit_of(outcome));
        match outcome {
            batch::Outcome::Written { form, .. } => {
                summary.written += 1;
                summary.drafts += usize::from(form.errors() > 0);
                out.findings(form);
            }
            batch::Outcome::Refused { form } => {
                summary.refused += 1;
                out.findings(form);
            }
            batch::Outcome::Failed { form, error } => {
                summary.failed += 1;
                if let (Some(form), false) = (form, out.json) {
                    eprintln!("formpress: {}：{}", form.name, findings::escape_controls(&error.to_string()));
                }
            }
        }
    }
    if let Some(output) = &combine {
        let path = output.path();
        let parts: Vec<(String, Vec<u8>, usize)> = outcomes
            .iter()
            .filter_map(|o| match o {
                batch::Outcome::Written { bookmark, pdf: Some(pdf), pages, .. } => {
                    Some((bookmark.clone(), pdf.clone(), *pages))
                }
                _ => None,
            })
            .collect();
        if parts.is_empty() {
            eprintln!("formpress: 没有生成任何表单，未写合并文件 {}", shown(path));
        } else {
            match batch::combine(engine, &parts).map(|bytes| output.write(&bytes).map(|()| bytes.len())) {
                Ok(Ok(bytes)) => {
                    summary.combined = Some(path.display().to_string());
                    out.say(&format!("已合并 {} 份表单到 {}（{} KB）", parts.len(), shown(path), bytes.div_ceil(1024)))
                }
                Ok(Err(e)) => {
                    summary.exit = summary.exit.max(write_failed(&e));
                }
                Err(e) => {
                    eprintln!("formpress: 合并失败：{e}");
                    summary.exit = summary.exit.max(EXIT_LAYOUT);
                }
            }
        }
    }
    let rate = if elapsed > 0.0 { summary.written as f64 / elapsed } else { 0.0 };
    out.say(&format!(
        "共 {} 份：已生成 {} 份（其中 {} 份有错误，印为草稿），未生成 {} 份，失败 {} 份；{} 个警告；用时 {elapsed:.1} 秒（{rate:.1} 份/秒）",
        items.len(),
        summary.written,
        summary.drafts,
        summary.refused,
        summary.failed,
        summary.warnings
    ));
    out.json(&summary);
    ExitCode::from(summary.exit)
}

/// The form an outcome carries (its findings), if it was read.
fn outcome_form(outcome: &batch::Outcome) -> Option<&Form> {
    match outcome {
        batch::Outcome::Written { form, .. } | batch::Outcome::Refused { form } => Some(form),
        batch::Outcome::Failed { form, .. } => form.as_ref(),
    }
}

/// The exit status one form's outcome gives.
fn exit_of(outcome: &batch::Outcome) -> u8 {
    match outcome {
        batch::Outcome::Written { form, .. } if form.errors() > 0 => EXIT_FINDINGS,
        batch::Outcome::Written { .. } => 0,
        batch::Outcome::Refused { .. } => EXIT_FINDINGS,
        batch::Outcome::Failed { error, .. } if error.is_io() => EXIT_IO,
        batch::Outcome::Failed { .. } => EXIT_LAYOUT,
    }
}

/// One form's line of `--json`.
fn form_report<'a>(item: &batch::Item, outcome: &'a batch::Outcome) -> FormReport<'a> {
    let file = item.input.display().to_string();
    let exit = exit_of(outcome);
    let Some(form) = outcome_form(outcome) else {
        let error = match outcome {
            batch::Outcome::Failed { error, .. } => findings::escape_controls(&error.to_string()),
            _ => String::new(),
        };
        return FormReport::unread(file, error, exit);
    };
    let mut report = FormReport::of(file, form, exit);
    match outcome {
        batch::Outcome::Written { files, pages, code, draft, .. } => {
            report.outputs = files.iter().map(|f| f.display().to_string()).collect();
            report.pages = Some(*pages);
            report.code = code.clone();
            report.draft = Some(*draft);
        }
        batch::Outcome::Refused { .. } => {
            report.error = Some("有结构性错误（或 --strict 下有错误或警告），未生成".into())
        }
        batch::Outcome::Failed { error, .. } => report.error = Some(findings::escape_controls(&error.to_string())),
    }
    report
}
