//! `formpress verify`: the library's report on a PDF or an OFD package,
//! printed, or with `--json` as one JSON document.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use formpress::archival::scan;
use formpress::archival::signature_check::Problem;
use formpress::archival::verify::{self, Body, Format, Pages, Report, SignatureReport, SourceCheck, Verdict};
use formpress::form::findings;

use super::common::{CommonArgs, engine, read_bytes, read_form, shown};
use super::print::{SignatureSummary, VerifyReport};
use super::{EXIT_FINDINGS, EXIT_IO};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// 要核对的 PDF 或 OFD
    pub(super) pdf: PathBuf,
    /// 它应当由哪份表单数据生成（附带 YAML 时可不给）
    pub(super) form: Option<PathBuf>,
    /// 以 JSON 输出结果（一个 JSON 文档：结论、校验码、签名和每处不同）
    #[arg(long)]
    pub(super) json: bool,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: VerifyArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut json = VerifyReport::of(args.pdf.display().to_string());
    // Failures are said on standard error (by the readers) and, with --json, in the document too.
    let failed = |mut json: VerifyReport, error: String, exit: u8| {
        if args.json {
            json.error = Some(error);
            json.exit = exit;
            say!("{}", serde_json::to_string(&json).expect("reports serialise"));
        }
        ExitCode::from(exit)
    };
    let bytes = match read_bytes(&args.pdf) {
        Ok(b) => b,
        Err(message) => return failed(json, message, EXIT_IO),
    };
    let given = match &args.form {
        Some(path) => match read_form(&engine, path) {
            Ok(form) => Some((path.display().to_string(), form)),
            Err(message) => return failed(json, message, EXIT_IO),
        },
        None => None,
    };
    let report = match verify::verify(&engine, bytes, given) {
        Ok(r) => r,
        Err(e) => {
            let message = format!("{}：{e}", shown(&args.pdf));
            eprintln!("formpress: {message}");
            return failed(json, message, EXIT_FINDINGS);
        }
    };
    let mut lines = Lines::default();
    json.format = Some(report.format.word().to_lowercase());
    json.signatures = report.signatures.iter().map(summary).collect();
    let doc = report.format.word();
    let refusal = match &report.body {
        Body::NoData { printed } if report.signatures.iter().all(|s| s.signature.problem.is_none()) => {
            json.code = Some(printed.clone());
            Some(format!("{} 没有附带 YAML；请给出表单的 YAML 文件：formpress verify {doc} YAML", args.pdf.display()))
        }
        Body::NoCode => Some(format!("{}：{doc} 上没有找到校验码", args.pdf.display())),
        _ => None,
    };
    print_signatures(&report, &mut lines);
    if let Some(refusal) = refusal {
        json.problems = lines.problems;
        if !args.json {
            lines.all.iter().for_each(|l| say!("{l}"));
        }
        eprintln!("formpress: {refusal}");
        return failed(json, refusal, EXIT_FINDINGS);
    }
    print(&report, &args, &mut lines);
    let exit = if report.verdict == Verdict::Matches { 0 } else { EXIT_FINDINGS };
    if args.json {
        json.verdict = Some(match report.verdict {
            Verdict::Matches => "matches",
            Verdict::Differs => "differs",
            Verdict::CodeOnly => "code_only",
            Verdict::Draft => "draft",
        });
        json.code = match &report.body {
            Body::Form(form) => Some(form.printed.clone()),
            Body::NoData { printed } => Some(printed.clone()),
            _ => None,
        };
        json.problems = lines.problems;
        json.exit = exit;
        say!("{}", serde_json::to_string(&json).expect("reports serialise"));
    } else {
        lines.all.iter().for_each(|l| say!("{l}"));
    }
    ExitCode::from(exit)
}

/// A signature as `--json` gives it.
fn summary(entry: &SignatureReport) -> SignatureSummary {
    let s = &entry.signature;
    SignatureSummary {
        signer: s.signer.clone(),
        time: s.time.clone(),
        valid: s.problem.is_none() && entry.drawn_by_formpress,
        problem: s.problem.as_ref().map(ToString::to_string),
        revision: entry.revision,
    }
}

/// The report as the terminal shows it, line by line; each thing found wrong
/// is marked where it is said, and is what `--json` lists as `problems`.
#[derive(Default)]
struct Lines {
    all: Vec<String>,
    problems: Vec<String>,
}

impl Lines {
    fn say(&mut self, line: String) {
        self.all.push(line);
    }

    /// A line that names something wrong: `mark` (✗ or ⚠) and what.
    fn problem(&mut self, indent: &str, mark: &str, what: String) {
        self.all.push(format!("{indent}{mark} {what}"));
        self.problems.push(what);
    }

    /// Something wrong with `whose` (a source of data, a signature).
    fn problem_of(&mut self, whose: &str, what: String) {
        self.all.push(format!("{whose}：✗ {what}"));
        self.problems.push(format!("{whose}：{what}"));
    }

    /// A heading (already marked) and the things wrong under it, each a problem
    /// of its own, named with the heading's `context`.
    fn items(&mut self, heading: String, context: &str, items: impl IntoIterator<Item = String>) {
        self.all.push(heading);
        for item in items {
            self.all.push(format!("    {item}"));
            self.problems.push(format!("{context}：{item}"));
        }
    }
}

fn print(report: &Report, args: &VerifyArgs, l: &mut Lines) {
    let doc = report.format.word();
    match &report.made_by {
        Some(stamp) => l.say(format!("{doc} 由 {stamp} 生成")),
        None => l.say(format!("{doc} 中没有 formpress 的版本记录")),
    }
    match &report.body {
        Body::Scan(lines) => {
            for line in lines {
                match line {
                    scan::Finding::Ok(text) => l.say(format!("✓ {text}")),
                    scan::Finding::Wrong(text) => l.problem("", "✗", text.clone()),
                }
            }
        }
        Body::Draft => l.say(format!(
            "{}：这是草稿——表单数据有错误，未通过校验，页面上没有校验码；不能作为正式表格",
            args.pdf.display()
        )),
        Body::NoCode => l.problem("", "✗", format!("{doc} 上没有找到校验码")),
        Body::NoData { printed } => l.say(format!("{doc} 上印的校验码：{printed}；{doc} 没有附带 YAML，无法核对页面")),
        Body::Form(form) => {
            if form.odd_pages.is_empty() {
                l.say(format!("{doc} 上印的校验码：{}（{} 页一致）", form.printed, form.pages));
            } else {
                let pages: Vec<String> = form.odd_pages.iter().map(ToString::to_string).collect();
                let odd = format!("第 {} 页的校验码不同或缺失", pages.join("、"));
                l.all.push(format!("{doc} 上印的校验码：{}；✗ {odd}", form.printed));
                l.problems.push(odd);
            }
            if !form.extras.is_empty() {
                let heading = "文件中有 formpress 不会写入的内容";
                l.items(format!("✗ {heading}："), heading, form.extras.iter().map(ToString::to_string));
            }
            if !form.unsigned_updates.is_empty() {
                let which: Vec<String> = form.unsigned_updates.iter().map(|r| format!("第 {r} 版")).collect();
                l.problem(
                    "",
                    "✗",
                    format!(
                        "文件生成后被修改过 {} 次，修改不是签名（{}）；formpress 只会追加签名",
                        which.len(),
                        which.join("、")
                    ),
                );
            }
            for source in &form.sources {
                print_source(source, &form.printed, report.format, l);
            }
        }
    }
    let verdict = match report.verdict {
        Verdict::Matches if matches!(report.body, Body::Scan(_)) => "一致（签字盖章扫描件与表单数据相符）".to_string(),
        Verdict::Matches => "一致".to_string(),
        Verdict::Differs => "不一致".to_string(),
        Verdict::CodeOnly => {
            format!("校验码一致，页面未能核对（{doc} 由其他版本生成，页面与现在生成的不同；不能确认页面上的内容）")
        }
        Verdict::Draft => "草稿".to_string(),
    };
    l.say(format!("结果：{verdict}"));
}

fn print_source(source: &verify::SourceReport, printed: &str, format: Format, l: &mut Lines) {
    let doc = format.word();
    let what = source.source.describe(doc);
    let differences = |d: &[verify::PageDifference]| -> Vec<String> {
        d.iter().map(|d| findings::escape_controls(&d.to_string())).collect()
    };
    match &source.check {
        SourceCheck::Missing(why) => l.problem_of(&what, findings::escape_controls(why)),
        SourceCheck::Unreadable { errors, messages } => l.items(
            format!("{what}：✗ 无法读取表单数据（{errors} 个错误），不能计算校验码："),
            &format!("{what}：无法读取表单数据"),
            messages.iter().cloned(),
        ),
        SourceCheck::Checked { code, matches, as_version, other_layout, pages } => {
            match (matches, as_version) {
                (true, None) => l.say(format!("{what}：校验码 {code} ✓ 一致")),
                (true, Some(v)) => {
                    l.say(format!("{what}：校验码 {printed} ✓ 一致（按 {doc} 记录的表单种类版本 {v} 计算）"))
                }
                (false, _) => l.problem_of(&what, format!("校验码不一致：{doc} 上印的是 {printed}，数据算得 {code}")),
            }
            match pages {
                Pages::Same(n) if format == Format::Pdf => l.say(format!(
                    "  ✓ 每页的画面和文字与数据重新生成的一致（{n} 页，按 {} dpi 逐像素比对，含二维码、印章）",
                    verify::DPI
                )),
                Pages::Same(n) => l.say(format!(
                    "  ✓ 每页的文字、图形和页面内容与数据重新生成的一致（{n} 页，含二维码、印章）；OFD 包只含 formpress 写的文件"
                )),
                Pages::Failed(why) => l.problem("  ", "✗", format!("无法重新生成页面来比对：{why}")),
                Pages::Differ(found) if *other_layout => l.items(
                    format!("  ⚠ 页面与现在生成的不同；{doc} 由其他版本生成，版式可能已变，页面未能核对："),
                    "页面未能核对",
                    differences(found),
                ),
                Pages::Differ(found) => l.items("  ✗ 页面与数据不符：".into(), "页面与数据不符", differences(found)),
            }
        }
    }
}

fn print_signatures(report: &Report, l: &mut Lines) {
    match report.format {
        // GB/T 38540 seals are not checked (README, "OFD").
        Format::Ofd { sealed: true } => {
            return l.say("OFD 中有电子签章（GB/T 38540），formpress 不核验签章，只核验内容".into());
        }
        Format::Ofd { sealed: false } => return,
        Format::Pdf => {}
    }
    if report.signatures.is_empty() {
        return l.say("PDF 没有数字签名".into());
    }
    for (i, entry) in report.signatures.iter().enumerate() {
        print_signature(i + 1, entry, l);
    }
    for (name, which) in &report.same_name {
        let list: Vec<String> = which.iter().map(ToString::to_string).collect();
        l.problem(
            "  ",
            "⚠",
            format!(
                "数字签名 {} 都署名「{}」，但用的是不同的证书：可能有人以同一个名字另做了证书",
                list.join("、"),
                findings::escape_controls(name)
            ),
        );
    }
    let signatures: Vec<_> = report.signatures.iter().map(|s| s.signature.clone()).collect();
    if formpress::archival::signature_check::all_valid(&signatures) {
        l.say("  签名覆盖整个文件；证书是否可信（证书链、吊销）未检查".into());
    } else if signatures.iter().all(|s| s.problem.is_none()) {
        l.problem("  ", "✗", "最后的改动没有签名".into());
    }
}

fn print_signature(n: usize, entry: &SignatureReport, l: &mut Lines) {
    let s = &entry.signature;
    let who = s.signer.as_deref().map_or("（未知）".into(), findings::escape_controls);
    let when = s.time.as_deref().map_or("（无）".into(), findings::escape_controls);
    let how = s.algorithm.as_deref().unwrap_or("?");
    let cert = s.certificate.as_ref().map_or(String::new(), |c| format!("，证书 SHA-256 {}…", &c.sha256[..16]));
    let name = format!("数字签名 {n}");
    match &s.problem {
        None => l.say(format!("{name}：✓ 有效（签名者 {who}，时间 {when}，{how}{cert}）")),
        Some(p @ (Problem::Expired(_) | Problem::NotYetValid(_) | Problem::NoSigningUsage)) => {
            l.problem_of(&name, format!("{p}（签名者 {who}，时间 {when}，{how}{cert}）"))
        }
        Some(p @ Problem::Unsigned) => l.problem_of(&name, p.to_string()),
        Some(p) => l.problem_of(&name, format!("{p}（签名者 {who}，时间 {when}）")),
    }
    if s.problem.is_none() && !entry.drawn_by_formpress {
        l.problem("  ", "✗", "这个签名的签名域或外观不是 formpress 写入的（外观可能显示任何内容）".into());
    }
    if s.problem.is_none() && s.appended > 0 {
        match entry.revision {
            Some(r) => l.say(format!(
                "  签署的是文件的第 {r} 版（第 1 版是生成时的文件）；之后又追加了 {} 字节，不在此签名之内",
                s.appended
            )),
            None => l.problem("  ", "⚠", format!("签名之后文件又追加了 {} 字节，追加的内容不在此签名之内", s.appended)),
        }
    }
    let differences = |d: &[verify::PageDifference]| -> Vec<String> {
        d.iter().map(|d| findings::escape_controls(&d.to_string())).collect()
    };
    match &entry.shows {
        Some(Pages::Same(n)) => l.say(format!("  ✓ 签名时的 {n} 页与数据一致")),
        Some(Pages::Differ(found)) => l.items(
            "  ✗ 签名时的页面就与数据不符：".into(),
            &format!("{name}：签名时的页面就与数据不符"),
            differences(found),
        ),
        Some(Pages::Failed(why)) => l.problem("  ", "✗", format!("无法比对签名时的页面：{why}")),
        None => {}
    }
    if let Some(after) = &entry.after {
        if after.pages.is_empty() && after.added.is_empty() {
            l.say(format!("  签名之后的 {} 次修改没有改变页面上看到的内容", after.updates));
        } else {
            let changed =
                differences(&after.pages).into_iter().chain(after.added.iter().map(|e| format!("加入了：{e}")));
            l.items(
                format!("  ✗ 签名之后（{} 次修改）改动了：", after.updates),
                &format!("{name}：签名之后改动了"),
                changed,
            );
        }
    }
}
