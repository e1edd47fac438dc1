//! `formpress verify`: the printed 校验码, the pages and the signatures against the data.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use formpress::archival::archive::{self, ArchiveError};
use formpress::archival::{inspect, ofd_read, scan, verify};
use formpress::form::{findings, fingerprint};
use formpress::layout::attach::Stamp;
use formpress::{Engine, Form};

use super::EXIT_FINDINGS;
use super::common::{CommonArgs, check_file, engine, read_document, read_pdf, shown};
use super::sign;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// 要核对的 PDF
    pub(super) pdf: PathBuf,
    /// 它应当由哪份表单数据生成（PDF 附带 YAML 时可不给）
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
    let (pdf, ofd) = match read_document(&args.pdf, bytes.clone()) {
        Ok(read) => read,
        Err(code) => return code,
    };
    let doc = if ofd.is_some() { "OFD" } else { "PDF" };
    let signatures_ok = match &ofd {
        // GB/T 38540 seals are not checked (README, "OFD").
        Some(pkg) if pkg.signed => {
            say!("OFD 中有电子签章（GB/T 38540），formpress 不核验签章，只核验内容");
            true
        }
        Some(_) => true,
        None => sign::report(&args.pdf, &bytes),
    };
    if scan::is_archive(&pdf) {
        // A signed scan archive: both the signatures and the scanned pages must hold.
        let code = verify_scan(&engine, &args, bytes, &pdf);
        return if signatures_ok { code } else { ExitCode::from(EXIT_FINDINGS) };
    }
    if pdf.pages.iter().any(|p| fingerprint::is_draft(&p.text)) {
        say!("{}：这是草稿——表单数据有错误，未通过校验，页面上没有校验码；不能作为正式表格", args.pdf.display());
        say!("结果：草稿");
        return ExitCode::from(EXIT_FINDINGS);
    }
    // The code printed on each page; all pages must agree.
    let printed: Vec<Option<String>> = pdf.pages.iter().map(|p| fingerprint::find_code(&p.text)).collect();
    let Some(code) = printed.iter().flatten().next().cloned() else {
        eprintln!("formpress: {}：{doc} 上没有找到校验码", args.pdf.display());
        return ExitCode::from(EXIT_FINDINGS);
    };
    let mut ok = signatures_ok;
    let odd: Vec<String> = printed
        .iter()
        .enumerate()
        .filter(|(_, c)| c.as_deref() != Some(code.as_str()))
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    if odd.is_empty() {
        say!("{doc} 上印的校验码：{code}（{} 页一致）", printed.len());
    } else {
        ok = false;
        say!("{doc} 上印的校验码：{code}；✗ 第 {} 页的校验码不同或缺失", odd.join("、"));
    }
    let recorded = pdf.creator.as_deref().and_then(Stamp::parse);
    match &recorded {
        Some(stamp) => say!("{doc} 由 {stamp} 生成"),
        None => say!("{doc} 中没有 formpress 的版本记录"),
    }
    let mut sources: Vec<(String, Form, bool)> = vec![];
    match archive::attached_form(&engine, &pdf) {
        Ok(form) => sources.push((format!("{doc} 附带的 {}", findings::escape_controls(&form.name)), form, true)),
        Err(ArchiveError::NoSource) => {}
        Err(e) => {
            ok = false;
            say!("{doc} 附带的表单数据：✗ {e}");
        }
    }
    if let Some(path) = &args.form {
        match check_file(&engine, path) {
            Ok(form) => sources.push((format!("给出的 {}", path.display()), form, false)),
            Err(code) => return code,
        }
    }
    if sources.is_empty() && ok {
        eprintln!("formpress: {} 没有附带 YAML；请给出表单的 YAML 文件：formpress verify PDF YAML", args.pdf.display());
        return ExitCode::from(EXIT_FINDINGS);
    }
    let mut notes = false;
    for (what, form, attached) in &sources {
        let against = Against { pdf: &pdf, ofd: ofd.as_ref(), attached: *attached };
        let outcome = verify_source(&engine, &against, &code, recorded.as_ref(), what, form);
        ok &= outcome != Outcome::Differs;
        notes |= outcome == Outcome::Note;
    }
    match (ok, notes) {
        (true, false) => {
            say!("结果：一致");
            ExitCode::SUCCESS
        }
        (true, true) => {
            say!("结果：一致（校验码相符；页面比对有提示，见上）");
            ExitCode::SUCCESS
        }
        (false, _) => {
            say!("结果：不一致");
            ExitCode::from(EXIT_FINDINGS)
        }
    }
}

/// `verify` of a scan archive (`formpress scan`): its pages' QR codes, its
/// attachments, and the given YAML if any.
fn verify_scan(engine: &Engine, args: &VerifyArgs, bytes: Vec<u8>, pdf: &inspect::Inspected) -> ExitCode {
    let mut findings = scan::verify_archive(engine, bytes, pdf);
    if let Some(path) = &args.form {
        let form = match check_file(engine, path) {
            Ok(f) => f,
            Err(code) => return code,
        };
        let code = scan::manifest(pdf).map(|m| m.code).unwrap_or_default();
        findings.push(match engine.fingerprint(&form).filter(|_| form.renderable()) {
            Some(fp) if fp.code() == code => scan::Finding::Ok(format!("给出的 {}：校验码 {code} ✓ 一致", shown(path))),
            Some(fp) => scan::Finding::Wrong(format!(
                "给出的 {}：校验码不一致：存档是 {code}，数据算得 {}",
                shown(path),
                fp.code()
            )),
            None => {
                scan::Finding::Wrong(format!("给出的 {}：无法读取表单数据（{} 个错误）", shown(path), form.errors()))
            }
        });
    }
    let mut ok = true;
    for finding in &findings {
        match finding {
            scan::Finding::Ok(text) => say!("✓ {text}"),
            scan::Finding::Wrong(text) => {
                ok = false;
                say!("✗ {text}");
            }
        }
    }
    if ok {
        say!("结果：一致（签字盖章扫描件与表单数据相符）");
        ExitCode::SUCCESS
    } else {
        say!("结果：不一致");
        ExitCode::from(EXIT_FINDINGS)
    }
}

#[derive(PartialEq, Eq)]
enum Outcome {
    Matches,
    /// The 校验码 matches; the pages differ from those made now with other versions.
    Note,
    Differs,
}

/// Checks the PDF against one source of form data: the 校验码, then every
/// page's text and drawings against the form rendered again, each
/// difference with its reason.
/// What `verify` checks a source of form data against: the pages read back,
/// and for an OFD the package (its pages' content and files are compared too;
/// its attachments only against the attached form itself).
struct Against<'a> {
    pdf: &'a inspect::Inspected,
    ofd: Option<&'a ofd_read::Package>,
    attached: bool,
}

impl Against<'_> {
    /// How messages name the file under test.
    fn doc(&self) -> &'static str {
        if self.ofd.is_some() { "OFD" } else { "PDF" }
    }
}

fn verify_source(
    engine: &Engine,
    against: &Against,
    code: &str,
    recorded: Option<&Stamp>,
    what: &str,
    form: &Form,
) -> Outcome {
    let Some(fp) = engine.fingerprint(form).filter(|_| form.renderable()) else {
        say!("{what}：✗ 无法读取表单数据（{} 个错误），不能计算校验码：", form.errors());
        for f in form.findings.iter().filter(|f| f.blocks_render()).take(5) {
            say!("  {}", findings::escape_controls(&f.message));
        }
        return Outcome::Differs;
    };
    let mut outcome = Outcome::Matches;
    if fp.code() == code {
        say!("{what}：校验码 {} ✓ 一致", fp.code());
    } else {
        say!("{what}：✗ 校验码不一致：{} 上印的是 {code}，数据算得 {}", against.doc(), fp.code());
        outcome = Outcome::Differs;
    }
    let running = Stamp::running(form.kind.as_deref().and_then(|k| engine.catalog().kind(k)));
    let rendered = match against.ofd {
        Some(pkg) => verify::rendered_ofd(engine, form, pkg).map(|(read, data)| {
            let mut found = verify::compare(&against.pdf.pages, &read.pages);
            found.extend(verify::compare_packages(pkg, &data, against.attached, &found));
            (read.pages.len(), found)
        }),
        None => {
            verify::rendered_pages(engine, form).map(|pages| (pages.len(), verify::compare(&against.pdf.pages, &pages)))
        }
    };
    let (pages, differences) = match rendered {
        Ok(r) => r,
        Err(e) => {
            say!("  ✗ 无法重新生成页面来比对：{}", findings::escape_controls(&e.to_string()));
            return Outcome::Differs;
        }
    };
    if differences.is_empty() {
        let package = if against.ofd.is_some() { "；OFD 包只含 formpress 写的文件" } else { "" };
        say!("  ✓ 每页的文字和图形（含二维码、印章）与数据重新生成的一致（{pages} 页）{package}");
        return outcome;
    }
    if recorded == Some(&running) {
        say!("  ✗ 页面与数据不符：");
        outcome = Outcome::Differs;
    } else {
        // Another version may lay the same data out differently: the code decides.
        say!("  ⚠ 页面与现在（{running}）生成的不同；{} 由其他版本生成，版式可能已变，以下仅作提示：", against.doc());
        if outcome == Outcome::Matches {
            outcome = Outcome::Note;
        }
    }
    for d in &differences {
        say!("    {}", findings::escape_controls(&d.describe(against.doc())));
    }
    outcome
}
