//! `formpress watch`: render again on every save.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use formpress::RenderOptions;
use formpress::files::write::{Content, Outputs};

use super::EXIT_IO;
use super::common::{CommonArgs, check_file, engine, shown, write_failed};
use super::print::{print_findings, style};

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// 表单数据（YAML）
    pub(super) form: PathBuf,
    /// 输出的 PDF（默认：表单旁边同名的 .pdf）；`-` 为标准输出
    #[arg(short, long, value_name = "OUT.pdf")]
    pub(super) output: Option<PathBuf>,
    /// 存档文件：PDF/A-3b，附带 YAML
    #[arg(long)]
    pub(super) archive: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

/// Re-renders on every save (changes are debounced), printing findings; a
/// version with structural errors leaves the last good PDF in place.
pub(super) fn run(args: WatchArgs) -> ExitCode {
    use notify_debouncer_mini::notify::RecursiveMode;
    let outputs = Outputs::new();
    outputs.input(&args.form);
    let output =
        match outputs.claim(&args.output.clone().unwrap_or_else(|| args.form.with_extension("pdf")), Content::Other) {
            Ok(o) => o,
            Err(e) => return ExitCode::from(write_failed(&e)),
        };
    let style = style(&args.common);
    let run = || -> bool {
        // Templates may have changed too: load kinds and fonts afresh.
        let engine = match engine(&args.common) {
            Ok(e) => e,
            Err(_) => return false,
        };
        let form = match check_file(&engine, &args.form) {
            Ok(f) => f,
            Err(_) => return false,
        };
        print_findings(&form, style);
        if !form.renderable() {
            eprintln!("formpress: 有结构性错误，保留上一版 {}", shown(output.path()));
            return false;
        }
        let options = RenderOptions { archive: args.archive, ..RenderOptions::default() };
        match engine.report(&form, &options).and_then(|r| r.pdf().map(|pdf| (output.write(&pdf), r))) {
            Ok((Ok(()), r)) => {
                let what = if r.draft() { "已生成草稿（有错误）" } else { "已生成" };
                say!("{what} {}（{} 页）", shown(output.path()), r.pages);
                true
            }
            Ok((Err(e), _)) => {
                let _ = write_failed(&e);
                false
            }
            Err(e) => {
                eprintln!("formpress: {e}；保留上一版 {}", shown(output.path()));
                false
            }
        }
    };
    run();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut debouncer = match notify_debouncer_mini::new_debouncer(std::time::Duration::from_millis(250), tx) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("formpress: 无法监视文件：{e}");
            return ExitCode::from(EXIT_IO);
        }
    };
    // Editors save by writing a new file and renaming it, so the folder is watched.
    let folder = match args.form.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut watched = vec![(folder.clone(), RecursiveMode::NonRecursive)];
    watched.extend(args.common.templates.iter().map(|d| (d.clone(), RecursiveMode::Recursive)));
    for (dir, mode) in &watched {
        if let Err(e) = debouncer.watcher().watch(dir, *mode) {
            eprintln!("formpress: 无法监视 {}：{e}", dir.display());
            return ExitCode::from(EXIT_IO);
        }
    }
    // Reading a file is an event too; render again only when something changed.
    let snapshot = || {
        let mut state = vec![
            formpress::files::read::read(&args.form, formpress::form::yaml::MAX_FILE_BYTES as u64).unwrap_or_default(),
        ];
        for dir in &args.common.templates {
            state.push(tree_state(dir).into_bytes());
        }
        state
    };
    let mut last = snapshot();
    say!("正在监视 {}（Ctrl-C 结束）", shown(&args.form));
    for events in rx {
        if events.is_err() {
            continue;
        }
        let now = snapshot();
        if now != last {
            last = now;
            run();
        }
    }
    ExitCode::SUCCESS
}

/// Paths, sizes and modification times of the files under `dir`.
fn tree_state(dir: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.path());
        for e in entries {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.push_str(&format!("{}:{}:{:?}\n", e.path().display(), meta.len(), meta.modified().ok()));
            }
        }
    }
    out
}
