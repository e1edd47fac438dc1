//! One place that says what became of a form: its status after the checks,
//! and, once laid out, its pages, 校验码 and draft mark, with the PDF or SVG
//! pages on demand. `serve`, `render` (one form or many: `batch`) and `watch`
//! report forms through it; the CLI's one-line summaries
//! (`已生成草稿 …（3 页，校验码 …）`, `a.yaml → a.pdf（3 页，校验码 …）`) are built from its notes.

use serde::Serialize;

use crate::form::Form;
use crate::layout::{Engine, Error, Laid, RenderOptions};
use crate::outputs::preview;

/// Where a checked form stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// No finding.
    Clean,
    /// Only warnings: it renders as final.
    Warnings,
    /// Rule errors: it renders, but only as a draft (草稿, no 校验码).
    Draft,
    /// Structural errors (unreadable YAML, wrong types, unknown kind): it does not render.
    Broken,
}

impl Status {
    pub fn of(form: &Form) -> Status {
        if !form.renderable() {
            Status::Broken
        } else if form.errors() > 0 {
            Status::Draft
        } else if form.warnings() > 0 {
            Status::Warnings
        } else {
            Status::Clean
        }
    }

    /// How a person is told.
    pub fn label(self) -> &'static str {
        match self {
            Status::Clean => "无问题",
            Status::Warnings => "有警告",
            Status::Draft => "有错误（草稿）",
            Status::Broken => "有结构性错误，无法生成",
        }
    }
}

/// A laid-out form and what is said about it.
pub struct Report {
    pub status: Status,
    pub errors: usize,
    pub warnings: usize,
    pub pages: usize,
    pub laid: Laid,
}

impl Report {
    pub fn draft(&self) -> bool {
        self.laid.draft
    }

    pub fn code(&self) -> Option<&str> {
        self.laid.code.as_deref()
    }

    pub fn pdf(&self) -> Result<Vec<u8>, Error> {
        self.laid.pdf()
    }

    pub fn svg_pages(&self) -> Vec<String> {
        preview::svg_pages(&self.laid.document)
    }

    /// The facts of the outcome, as the CLI prints them after a file name:
    /// `3 页`, `PDF/A-3b，附 YAML 原文`, `校验码 …`, `草稿：1 个错误，…`.
    pub fn notes(&self) -> Vec<String> {
        self.notes_for("PDF/A-3b")
    }

    /// The notes, with an archive named as the format it is written in (`OFD-A`).
    pub fn notes_for(&self, archive: &str) -> Vec<String> {
        let mut notes = vec![format!("{} 页", self.pages)];
        if self.laid.archive {
            notes.push(format!("{archive}，附 YAML 原文"));
        }
        if let Some(code) = &self.laid.code {
            notes.push(format!("校验码 {code}"));
        }
        if self.laid.draft {
            notes.push(format!("草稿：{} 个错误，未印校验码和二维码", self.errors));
        }
        notes
    }
}

impl Engine {
    /// Lays out a checked form and reports on it; nothing is exported yet.
    pub fn report(&self, form: &Form, options: &RenderOptions) -> Result<Report, Error> {
        let laid = self.layout(form, options)?;
        Ok(Report {
            status: Status::of(form),
            errors: form.errors(),
            warnings: form.warnings(),
            pages: laid.document.pages().len(),
            laid,
        })
    }
}
