//! formpress: YAML form data → checked, typed data → MiniJinja template →
//! Typst markup → PDF, compiled in-process.
//!
//! ```no_run
//! let engine = formpress::Engine::new(&formpress::EngineOptions::default())?;
//! let form = engine.check("form.yaml", &std::fs::read("form.yaml")?);
//! let rendered = engine.render(&form, &formpress::RenderOptions::default())?;
//! std::fs::write("form.pdf", rendered.pdf)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The modules are grouped by concern, and each group uses only those before
//! it (README, "Development"): `files` → `form` → `layout` → `inputs`,
//! `outputs`, `archival` → `interfaces`.

/// Where formpress may read and write: bounded reads of inputs, and outputs
/// that never replace an input, a device or a file of the user's.
pub mod files {
    pub mod guard;
    pub mod read;
    pub mod write;
}

/// The form and its checks: reading YAML, kinds, checking data, rules,
/// findings, and the fingerprint that identifies checked data.
pub mod form {
    pub mod blocked;
    pub mod checked;
    pub mod checks;
    pub mod findings;
    pub mod fingerprint;
    pub mod kind;
    pub mod rules;
    pub mod schema;
    pub mod values;
    pub mod yaml;
    pub mod yaml_write;
    pub mod zh_keys;

    pub use checked::Form;
}

/// Layout: the engine, templates, fonts, indicator tables, the layout passes
/// and the checks after layout, the PDF and what it records of its making.
pub mod layout {
    pub mod attach;
    pub mod cells;
    pub mod engine;
    pub mod fonts;
    pub mod grid;
    pub mod indicators;
    pub mod ink;
    pub mod page_map;
    pub mod paper;
    pub mod pdf;
    pub mod qr;
    pub mod render;
    pub mod template;
    pub mod world;

    pub use engine::{Engine, EngineOptions};
    pub use render::{Error, Laid, RenderOptions, Rendered};
}

/// Ways data comes in besides YAML: spreadsheets filled in Excel or WPS, and
/// scans of the signed paper.
pub mod inputs {
    pub mod scans;
    pub mod sheetcheck;
    pub mod unseen;
    pub mod xlsx;
}

/// What formpress writes besides the PDF: OFD packages, page images, spreadsheets,
/// skeletons and schemas, batches, and the report of each form.
pub mod outputs {
    pub mod batch;
    pub mod describe;
    pub mod ofd;
    pub mod preview;
    pub mod report;
    pub mod sheet;
    pub mod xlsx;
}

/// What ties paper to data: reading PDFs back, verify, signatures, archives
/// of scanned paper.
pub mod archival {
    pub mod archive;
    pub mod extras;
    pub mod inspect;
    pub mod ofd_read;
    pub mod pdfcheck;
    pub mod pixel_diff;
    pub mod qr_read;
    pub mod raster;
    pub mod revisions;
    pub mod scan;
    pub mod scan_compare;
    pub mod sign;
    pub mod sign_place;
    pub mod signature_check;
    pub mod signer;
    pub mod verify;
    pub mod verify_ofd;
}

/// Ways in for people besides the command line: the local web app (`formpress serve`).
pub mod interfaces {
    pub mod serve;
}

pub use form::checked::Form;
pub use form::findings::{Class, Finding, Severity};
pub use layout::render::source_date_epoch;
pub use layout::{Engine, EngineOptions, Error, Laid, RenderOptions, Rendered};
