//! `formpress verify`: the library's report on a PDF or an OFD package, printed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use formpress::archival::scan;
use formpress::archival::signature_check::Problem;
use formpress::archival::verify::{self, Body, Format, Pages, Report, SignatureReport, SourceCheck, Verdict};
use formpress::form::findings;

use super::EXIT_FINDINGS;
use super::common::{CommonArgs, check_file, engine, read_pdf, shown};

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// 要核对的 PDF 或 OFD
    pub(super) pdf: PathBuf,
    /// 它应当由哪份表单数据生成（附带 YAML 时可不给）
    pub(super) form: Option<PathBuf>,
    #[command(flatten)]
    pub(super) common: CommonArgs,
}

pub(super) fn run(args: VerifyArgs) -> ExitCode {
    let engine = match engine(&args.common) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let bytes = match read_pdf(&args.pdf) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let given = match &args.form {
        Some(path) => match check_file(&engine, path) {
            Ok(form) => Some((path.display().to_string(), form)),
            Err(code) => return code,
        },
        None => None,
    };
    let report = match verify::verify(&engine, bytes, given) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("formpress: {}：{e}", shown(&args.pdf));
            return ExitCode::from(EXIT_FINDINGS);
        }
    };
    if let Body::NoData { .. } = &report.body
        && report.signatures.iter().all(|s| s.signature.problem.is_none())
    {
        print_signatures(&report);
        let doc = report.format.word();
        eprintln!(
            "formpress: {} 没有附带 YAML；请给出表单的 YAML 文件：formpress verify {doc} YAML",
            args.pdf.display()
        );
        return ExitCode::from(EXIT_FINDINGS);
    }
    if let Body::NoCode = &report.body {
        print_signatures(&report);
        eprintln!("formpress: {}：{} 上没有找到校验码", args.pdf.display(), report.format.word());
        return ExitCode::from(EXIT_FINDINGS);
    }
    print(&report, &args);
    match report.verdict {
        Verdict::Matches => ExitCode::SUCCESS,
        _ => ExitCode::from(EXIT_FINDINGS),
    }
}

fn print(report: &Report, args: &VerifyArgs) {
    print_signatures(report);
    let doc = report.format.word();
    match &report.made_by {
        Some(stamp) => say!("{doc} 由 {stamp} 生成"),
        None => say!("{doc} 中没有 formpress 的版本记录"),
    }
    match &report.body {
        Body::Scan(lines) => {
            for line in lines {
                match line {
                    scan::Finding::Ok(text) => say!("✓ {text}"),
                    scan::Finding::Wrong(text) => say!("✗ {text}"),
                }
            }
        }
        Body::Draft => {
            say!("{}：这是草稿——表单数据有错误，未通过校验，页面上没有校验码；不能作为正式表格", args.pdf.display())
        }
        Body::NoCode => say!("✗ {doc} 上没有找到校验码"),
        Body::NoData { printed } => say!("{doc} 上印的校验码：{printed}；{doc} 没有附带 YAML，无法核对页面"),
        Body::Form(form) => {
            if form.odd_pages.is_empty() {
                say!("{doc} 上印的校验码：{}（{} 页一致）", form.printed, form.pages);
            } else {
                let pages: Vec<String> = form.odd_pages.iter().map(ToString::to_string).collect();
                say!("{doc} 上印的校验码：{}；✗ 第 {} 页的校验码不同或缺失", form.printed, pages.join("、"));
            }
            if !form.extras.is_empty() {
                say!("✗ 文件中有 formpress 不会写入的内容：");
                for extra in &form.extras {
                    say!("    {extra}");
                }
            }
            if !form.unsigned_updates.is_empty() {
                let which: Vec<String> = form.unsigned_updates.iter().map(|r| format!("第 {r} 版")).collect();
                say!(
                    "✗ 文件生成后被修改过 {} 次，修改不是签名（{}）；formpress 只会追加签名",
                    which.len(),
                    which.join("、")
                );
            }
            for source in &form.sources {
                print_source(source, &form.printed, report.format);
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
    say!("结果：{verdict}");
}

fn print_source(source: &verify::SourceReport, printed: &str, format: Format) {
    let doc = format.word();
    let what = source.source.describe(doc);
    match &source.check {
        SourceCheck::Missing(why) => say!("{what}：✗ {}", findings::escape_controls(why)),
        SourceCheck::Unreadable { errors, messages } => {
            say!("{what}：✗ 无法读取表单数据（{errors} 个错误），不能计算校验码：");
            for m in messages {
                say!("  {m}");
            }
        }
        SourceCheck::Checked { code, matches, as_version, other_layout, pages } => {
            match (matches, as_version) {
                (true, None) => say!("{what}：校验码 {code} ✓ 一致"),
                (true, Some(v)) => say!("{what}：校验码 {printed} ✓ 一致（按 {doc} 记录的表单种类版本 {v} 计算）"),
                (false, _) => say!("{what}：✗ 校验码不一致：{doc} 上印的是 {printed}，数据算得 {code}"),
            }
            match pages {
                Pages::Same(n) if format == Format::Pdf => say!(
                    "  ✓ 每页的画面和文字与数据重新生成的一致（{n} 页，按 {} dpi 逐像素比对，含二维码、印章）",
                    verify::DPI
                ),
                Pages::Same(n) => say!(
                    "  ✓ 每页的文字、图形和页面内容与数据重新生成的一致（{n} 页，含二维码、印章）；OFD 包只含 formpress 写的文件"
                ),
                Pages::Failed(why) => say!("  ✗ 无法重新生成页面来比对：{why}"),
                Pages::Differ(differences) => {
                    if *other_layout {
                        say!("  ⚠ 页面与现在生成的不同；{doc} 由其他版本生成，版式可能已变，页面未能核对：");
                    } else {
                        say!("  ✗ 页面与数据不符：");
                    }
                    for d in differences {
                        say!("    {}", findings::escape_controls(&d.to_string()));
                    }
                }
            }
        }
    }
}

fn print_signatures(report: &Report) {
    match report.format {
        // GB/T 38540 seals are not checked (README, "OFD").
        Format::Ofd { sealed: true } => {
            return say!("OFD 中有电子签章（GB/T 38540），formpress 不核验签章，只核验内容");
        }
        Format::Ofd { sealed: false } => return,
        Format::Pdf => {}
    }
    if report.signatures.is_empty() {
        say!("PDF 没有数字签名");
        return;
    }
    for (i, entry) in report.signatures.iter().enumerate() {
        print_signature(i + 1, entry);
    }
    for (name, which) in &report.same_name {
        let list: Vec<String> = which.iter().map(ToString::to_string).collect();
        say!(
            "  ⚠ 数字签名 {} 都署名「{}」，但用的是不同的证书：可能有人以同一个名字另做了证书",
            list.join("、"),
            findings::escape_controls(name)
        );
    }
    let signatures: Vec<_> = report.signatures.iter().map(|s| s.signature.clone()).collect();
    if formpress::archival::signature_check::all_valid(&signatures) {
        say!("  签名覆盖整个文件；证书是否可信（证书链、吊销）未检查");
    } else if signatures.iter().all(|s| s.problem.is_none()) {
        say!("  ✗ 最后的改动没有签名");
    }
}

fn print_signature(n: usize, entry: &SignatureReport) {
    let s = &entry.signature;
    let who = s.signer.as_deref().map_or("（未知）".into(), findings::escape_controls);
    let when = s.time.as_deref().map_or("（无）".into(), findings::escape_controls);
    let how = s.algorithm.as_deref().unwrap_or("?");
    let cert = s.certificate.as_ref().map_or(String::new(), |c| format!("，证书 SHA-256 {}…", &c.sha256[..16]));
    match &s.problem {
        None => say!("数字签名 {n}：✓ 有效（签名者 {who}，时间 {when}，{how}{cert}）"),
        Some(p @ (Problem::Expired(_) | Problem::NotYetValid(_) | Problem::NoSigningUsage)) => {
            say!("数字签名 {n}：✗ {p}（签名者 {who}，时间 {when}，{how}{cert}）")
        }
        Some(p @ Problem::Unsigned) => say!("数字签名 {n}：✗ {p}"),
        Some(p) => say!("数字签名 {n}：✗ {p}（签名者 {who}，时间 {when}）"),
    }
    if s.problem.is_none() && !entry.drawn_by_formpress {
        say!("  ✗ 这个签名的签名域或外观不是 formpress 写入的（外观可能显示任何内容）");
    }
    if s.problem.is_none() && s.appended > 0 {
        match entry.revision {
            Some(r) => say!(
                "  签署的是文件的第 {r} 版（第 1 版是生成时的文件）；之后又追加了 {} 字节，不在此签名之内",
                s.appended
            ),
            None => say!("  ⚠ 签名之后文件又追加了 {} 字节，追加的内容不在此签名之内", s.appended),
        }
    }
    match &entry.shows {
        Some(Pages::Same(n)) => say!("  ✓ 签名时的 {n} 页与数据一致"),
        Some(Pages::Differ(differences)) => {
            say!("  ✗ 签名时的页面就与数据不符：");
            for d in differences {
                say!("    {}", findings::escape_controls(&d.to_string()));
            }
        }
        Some(Pages::Failed(why)) => say!("  ✗ 无法比对签名时的页面：{why}"),
        None => {}
    }
    if let Some(after) = &entry.after {
        if after.pages.is_empty() && after.added.is_empty() {
            say!("  签名之后的 {} 次修改没有改变页面上看到的内容", after.updates);
        } else {
            say!("  ✗ 签名之后（{} 次修改）改动了：", after.updates);
            for d in &after.pages {
                say!("    {}", findings::escape_controls(&d.to_string()));
            }
            for e in &after.added {
                say!("    加入了：{e}");
            }
        }
    }
}
