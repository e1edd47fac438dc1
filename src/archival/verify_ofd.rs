//! `verify` of an OFD package (GB/T 33190): its pages read back with the
//! same reader as the package formpress writes for the data, and compared.
//!
//! There is no OFD rasteriser here, so pages are compared as what they hold:
//! the text (whitespace squashed), every path and picture in order (kind, box
//! to 0.1 pt, a digest of the outline and colour or of the picture's data),
//! and each page's content byte for byte (`compare_packages`): formpress's
//! output is deterministic, so any attribute that changes how a page is drawn
//! (a colour, a clip, a font reference) is a difference. The package must
//! hold exactly formpress's files, so nothing formpress does not write can be
//! added.

use crate::archival::inspect::{Inspected, Page};
use crate::archival::ofd_read::{self, Mark, Package};
use crate::form::Form;
use crate::layout::{Engine, Error, RenderOptions};
use crate::outputs::ofd;

/// One way the pages under test differ from the pages of the data.
#[derive(Debug, Clone, PartialEq)]
pub enum Difference {
    PageCount {
        pdf: usize,
        data: usize,
    },
    /// The first place on a page where the text differs, with context.
    Text {
        page: usize,
        pdf: String,
        data: String,
    },
    /// The drawings (rules, QR code, pictures) differ; `at` is where the
    /// first differing one lies, in mm from the page's top left.
    Drawing {
        page: usize,
        pdf: usize,
        data: usize,
        at: Option<(f64, f64)>,
        footer: bool,
    },
    /// An OFD page whose text and drawings match but whose content differs
    /// (an attribute, a font or picture reference).
    Content {
        page: usize,
    },
    /// A file of an OFD package that formpress would not write, or writes otherwise.
    Entry {
        name: String,
        change: EntryChange,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EntryChange {
    Extra,
    Missing,
    Changed,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}", self.describe("OFD"))
    }
}

impl Difference {
    /// The difference in words, naming the file under test as `doc` (PDF, OFD).
    pub fn describe(&self, doc: &str) -> String {
        let mut out = String::new();
        let _ = self.write(&mut out, doc);
        out
    }

    fn write(&self, f: &mut String, doc: &str) -> std::fmt::Result {
        use std::fmt::Write;
        let shown = |s: &str| if s.is_empty() { "（无）".to_string() } else { format!("「{s}」") };
        match self {
            Difference::PageCount { pdf, data } => write!(f, "{doc} 有 {pdf} 页，数据应为 {data} 页"),
            Difference::Text { page, pdf, data } => {
                write!(f, "第 {page} 页：{doc} 上是{}，数据应为{}", shown(pdf), shown(data))
            }
            Difference::Drawing { page, pdf, data, at, footer } => {
                write!(f, "第 {page} 页：图形与数据不符（{doc} 上 {pdf} 个，数据应为 {data} 个）")?;
                if let Some((x, y)) = at {
                    write!(f, "，第一处不同在距页面左边 {x:.0} mm、上边 {y:.0} mm")?;
                }
                if *footer {
                    write!(f, "（页脚：二维码处）")?;
                }
                Ok(())
            }
            Difference::Content { page } => {
                write!(f, "第 {page} 页：页面内容与数据重新生成的不同（文字和图形相同，属性、字体或图片引用不同）")
            }
            Difference::Entry { name, change } => match change {
                EntryChange::Extra => write!(f, "OFD 包中多出 {name}（formpress 不写这个文件）"),
                EntryChange::Missing => write!(f, "OFD 包中缺少 {name}"),
                EntryChange::Changed => write!(f, "OFD 包中的 {name} 与数据重新生成的不同"),
            },
        }
    }
}

/// The form rendered now as an OFD package like the one under test (OFD-A
/// with its attachments if it is one, on its date), read back as any is.
pub fn rendered_ofd(engine: &Engine, form: &Form, like: &Package) -> Result<(Inspected, Package), Error> {
    let date = like.date.and_then(|(y, m, d)| typst::foundations::Datetime::from_ymd(y, m, d));
    let options = RenderOptions { date, archive: like.doc_type == "OFD-A", ..RenderOptions::default() };
    let bytes = ofd::of_laid(&engine.layout(form, &options)?)?;
    ofd_read::read(&bytes).map_err(|e| Error::Export(vec![e.to_string()]))
}

/// The package under test (read back as `given`) against the package the
/// form makes now: the number of pages made, and every difference (its
/// attachments compared only when `attachments`: the form is the one attached).
pub fn differences(
    engine: &Engine,
    form: &Form,
    given: (&Inspected, &Package),
    attachments: bool,
) -> Result<(usize, Vec<Difference>), Error> {
    let (read, data) = rendered_ofd(engine, form, given.1)?;
    let mut found = compare((&given.0.pages, &given.1.page_marks), (&read.pages, &data.page_marks));
    found.extend(compare_packages(given.1, &data, attachments, &found));
    Ok((read.pages.len(), found))
}

/// What an OFD package holds beyond what its pages show: every page's content
/// must be byte for byte what formpress writes for the data, and the package
/// must hold exactly formpress's files (with `attachments`, the attached
/// files too; a YAML given beside the package may differ in comments).
/// `found` are the page differences already named.
pub fn compare_packages(given: &Package, data: &Package, attachments: bool, found: &[Difference]) -> Vec<Difference> {
    let mut out = vec![];
    let named = |page: usize| {
        found
            .iter()
            .any(|d| matches!(d, Difference::Text { page: p, .. } | Difference::Drawing { page: p, .. } if *p == page))
    };
    for (i, (a, b)) in given.page_files.iter().zip(&data.page_files).enumerate() {
        if given.entries.get(a) != data.entries.get(b) && !named(i + 1) {
            out.push(Difference::Content { page: i + 1 });
        }
    }
    let pages = |p: &Package, name: &str| p.page_files.iter().any(|f| f == name);
    let skipped = |name: &str| !attachments && name.starts_with("Doc_0/Attachs/");
    for (name, bytes) in &given.entries {
        if pages(given, name) || skipped(name) {
            continue;
        }
        match data.entries.get(name) {
            None => out.push(Difference::Entry { name: name.clone(), change: EntryChange::Extra }),
            Some(b) if b != bytes => out.push(Difference::Entry { name: name.clone(), change: EntryChange::Changed }),
            Some(_) => {}
        }
    }
    for name in data.entries.keys() {
        if !given.entries.contains_key(name) && !pages(data, name) && !skipped(name) {
            out.push(Difference::Entry { name: name.clone(), change: EntryChange::Missing });
        }
    }
    out
}

/// Every difference between the pages under test and the pages of the data,
/// at most one of each kind per page.
pub fn compare(given: (&[Page], &[Vec<Mark>]), data: (&[Page], &[Vec<Mark>])) -> Vec<Difference> {
    let mut out = vec![];
    if given.0.len() != data.0.len() {
        out.push(Difference::PageCount { pdf: given.0.len(), data: data.0.len() });
    }
    let no_marks = vec![];
    for (i, (p, d)) in given.0.iter().zip(data.0).enumerate() {
        let page = i + 1;
        if let Some((pdf, data)) = text_difference(&p.text, &d.text) {
            out.push(Difference::Text { page, pdf, data });
        }
        let (pm, dm) = (given.1.get(i).unwrap_or(&no_marks), data.1.get(i).unwrap_or(&no_marks));
        if pm != dm {
            let first = pm.iter().zip(dm).position(|(a, b)| a != b).unwrap_or(pm.len().min(dm.len()));
            let mark = pm.get(first).or_else(|| dm.get(first));
            let mm = |tenths: i64| tenths as f64 / 10.0 * 25.4 / 72.0;
            let at = mark.map(|m| (mm(m.bbox[0]), (p.height * 25.4 / 72.0) - mm(m.bbox[3])));
            // The footer (校验码 and QR code) sits in the bottom margin.
            let footer = at.is_some_and(|(_, y)| y > p.height * 25.4 / 72.0 - 25.0);
            out.push(Difference::Drawing { page, pdf: pm.len(), data: dm.len(), at, footer });
        }
    }
    out
}

/// Longest excerpt shown of a difference.
const EXCERPT: usize = 24;

/// The first differing stretch of two texts (whitespace squashed), widened
/// to whole numbers (`920` against `620`, not `9` against `6`) and to a few
/// characters of context when it is short.
fn text_difference(pdf: &str, data: &str) -> Option<(String, String)> {
    let a: Vec<char> = pdf.chars().filter(|c| !c.is_whitespace()).collect();
    let b: Vec<char> = data.chars().filter(|c| !c.is_whitespace()).collect();
    if a == b {
        return None;
    }
    let mut start = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let room = a.len().min(b.len()) - start;
    let mut tail = a.iter().rev().zip(b.iter().rev()).take(room).take_while(|(x, y)| x == y).count();
    let numeric = |c: &char| c.is_ascii_alphanumeric() || *c == '.';
    while start > 0 && numeric(&a[start - 1]) {
        start -= 1;
    }
    while tail > 0 && numeric(&a[a.len() - tail]) {
        tail -= 1;
    }
    // A difference of a character or two reads better with its neighbours.
    if (a.len() - tail - start).max(b.len() - tail - start) < 4 {
        start = start.saturating_sub(3);
        tail = tail.saturating_sub(3);
    }
    let cut = |s: &[char]| {
        let middle = &s[start..s.len() - tail];
        let text: String = middle.iter().take(EXCERPT).collect();
        if middle.len() > EXCERPT { text + "…" } else { text }
    };
    Some((cut(&a), cut(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_digit_shows_the_whole_number() {
        let d = text_difference("合计 620 万元", "合计620万元").is_none();
        assert!(d);
        assert_eq!(
            text_difference("任务1 人员经费 920.5 万元", "任务1 人员经费 620.5 万元"),
            Some(("920.5".into(), "620.5".into()))
        );
        assert_eq!(text_difference("预算执行率", "预算调整率"), Some(("预算执行率".into(), "预算调整率".into())));
        assert_eq!(text_difference("abc", "abcdef"), Some(("abc".into(), "abcdef".into())));
    }
}
