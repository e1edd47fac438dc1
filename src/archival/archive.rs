//! Reading an archive PDF's attachments back: the form's YAML and the
//! pictures it names, rebuilt in a private folder and checked as made
//! (written by `layout::attach`).

use crate::archival::inspect;
use crate::files::read::InputError;
use crate::form::Form;
use crate::layout::Engine;
use crate::layout::attach::{inside_name, yaml_name};

/// Why the attached form cannot be read back.
#[derive(Debug)]
pub enum ArchiveError {
    /// The PDF carries no form data.
    NoSource,
    /// The form's folder could not be rebuilt in a temporary folder.
    Io(std::io::Error),
    /// The rebuilt form file could not be read (over a limit).
    Read(InputError),
}

impl std::fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            ArchiveError::NoSource => {
                write!(f, "PDF 中没有附带表单数据（只有 render --archive 生成的 PDF 才附带表单原文）")
            }
            ArchiveError::Io(e) => write!(f, "无法在临时目录中还原附件：{e}"),
            ArchiveError::Read(e) => write!(f, "无法读取附带的表单数据：{e}"),
        }
    }
}

impl std::error::Error for ArchiveError {}

/// Checks the attached form as if it were read from its folder: the YAML
/// and the attached pictures are written into a private temporary folder,
/// so pictures are read, bounded and hashed exactly as when it was made.
/// The form is named after its attachment in messages.
pub fn attached_form(engine: &Engine, pdf: &inspect::Inspected) -> Result<Form, ArchiveError> {
    let source = pdf.source().ok_or(ArchiveError::NoSource)?;
    let dir = tempfile::tempdir().map_err(ArchiveError::Io)?;
    let yaml = dir.path().join(yaml_name(&source.name));
    for a in pdf.attachments.iter().filter(|a| !std::ptr::eq(*a, source)) {
        let Some(name) = inside_name(&a.name) else { continue };
        let path = dir.path().join(name);
        if path == yaml {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(ArchiveError::Io)?;
        }
        std::fs::write(&path, &a.bytes).map_err(ArchiveError::Io)?;
    }
    std::fs::write(&yaml, &source.bytes).map_err(ArchiveError::Io)?;
    let mut form = engine.check_file(&yaml).map_err(ArchiveError::Read)?;
    form.name = source.name.clone();
    Ok(form)
}
