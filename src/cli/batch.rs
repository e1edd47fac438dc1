//! `formpress render` of many forms, or of page images: in parallel, with progress and a summary.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use formpress::files::write::{Content, Outputs};
use formpress::form::findings;
use formpress::outputs::batch;
use formpress::{Engine, RenderOptions};

use super::common::{claim_unarchived, expand, io_reason, shown, write_failed};
use super::print::{print_findings, style};
use super::render::RenderArgs;
use super::{EXIT_FINDINGS, EXIT_IO, EXIT_LAYOUT, EXIT_USAGE};

/// Many forms (or page images): in parallel, with progress and a summary.
pub(super) fn run(engine: &Engine, args: &RenderArgs, single: bool, options: RenderOptions) -> ExitCode {
    let style = style(&args.common);
    let inputs = match expand(&args.forms) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let format = match args.format.as_str() {
        "png" => batch::Format::Png(args.ppi),
        "svg" => batch::Format::Svg,
        _ => batch::Format::Pdf,
    };
    if args.typ.is_some() && inputs.len() != 1 {
        eprintln!("formpress: --typ 只能用于一份表单");
        return ExitCode::from(2);
    }
    // The upper bound is the pixels a page would take (preview::MAX_PAGE_PIXELS).
    if !(args.ppi >= 1.0 && args.ppi.is_finite()) {
        eprintln!("formpress: --ppi 应为不小于 1 的数");
        return ExitCode::from(EXIT_USAGE);
    }
    // One input file: -o is its output (stem for images). Otherwise -o is a folder.
    let ext = if format == batch::Format::Pdf { "pdf" } else { "" };
    let target = |input: &Path| -> PathBuf {
        let stem = input.file_stem().unwrap_or_default();
        match &args.output {
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
    if let (Some(dir), false) = (&args.output, single)
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
            batch::Format::Pdf => match outputs.claim(&target(input), Content::Other) {
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
    let bar = std::io::stderr().is_terminal().then(|| {
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
    let mut worst = 0u8;
    let (mut written, mut drafts, mut refused, mut failed, mut warnings) = (0, 0, 0, 0, 0);
    for outcome in &outcomes {
        match outcome {
            batch::Outcome::Written { form, .. } => {
                written += 1;
                warnings += form.warnings();
                if form.errors() > 0 {
                    drafts += 1;
                    worst = worst.max(EXIT_FINDINGS);
                }
                if !form.findings.is_empty() {
                    print_findings(form, style);
                }
            }
            batch::Outcome::Refused { form } => {
                refused += 1;
                print_findings(form, style);
                worst = worst.max(EXIT_FINDINGS);
            }
            batch::Outcome::Failed { form, error } => {
                failed += 1;
                if let Some(form) = form {
                    eprintln!("formpress: {}：{}", form.name, findings::escape_controls(&error.to_string()));
                }
                worst = worst.max(if error.is_io() { EXIT_IO } else { EXIT_LAYOUT });
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
                    say!("已合并 {} 份表单到 {}（{} KB）", parts.len(), shown(path), bytes.div_ceil(1024))
                }
                Ok(Err(e)) => {
                    worst = worst.max(write_failed(&e));
                }
                Err(e) => {
                    eprintln!("formpress: 合并失败：{e}");
                    worst = worst.max(EXIT_LAYOUT);
                }
            }
        }
    }
    let rate = if elapsed > 0.0 { written as f64 / elapsed } else { 0.0 };
    say!(
        "共 {} 份：已生成 {written} 份（其中 {drafts} 份有错误，印为草稿），未生成 {refused} 份，失败 {failed} 份；{warnings} 个警告；用时 {elapsed:.1} 秒（{rate:.1} 份/秒）",
        items.len()
    );
    ExitCode::from(worst)
}
