//! The double-click start's folder: 绩效表 in the user's documents, made with
//! the example forms the first time. A folder that exists is used as it is:
//! nothing in it is added, changed or replaced.

use std::path::{Path, PathBuf};

/// The folder's name inside the documents folder.
pub const FOLDER: &str = "绩效表";

/// The example forms (and the seal picture one of them prints).
static EXAMPLES: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/forms");

/// The documents folder as the desktop names it (XDG user dirs, `~/文档` on a
/// Chinese Kylin or UOS desktop; Windows' Documents known folder, also when it
/// was moved), else the home folder.
fn documents() -> Option<PathBuf> {
    dirs::document_dir().or_else(dirs::home_dir)
}

/// `DOCUMENTS/绩效表`, created with the examples if it does not exist.
pub fn folder() -> std::io::Result<PathBuf> {
    let docs = documents()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "找不到“文档”文件夹，也找不到用户主目录"))?;
    let dir = docs.join(FOLDER);
    if dir.is_dir() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&docs)?;
    // Filled under a temporary name and renamed into place: an interrupted first
    // run leaves no half-filled folder, and a folder made meanwhile is kept.
    let tmp = tempfile::Builder::new().prefix(".绩效表-").tempdir_in(&docs)?;
    for file in EXAMPLES.files().filter(|f| is_example(f.path())) {
        std::fs::write(tmp.path().join(file.path()), file.contents())?;
    }
    match std::fs::rename(tmp.path(), &dir) {
        Ok(()) => {
            let _ = tmp.keep();
            Ok(dir)
        }
        Err(_) if dir.is_dir() => Ok(dir),
        Err(e) => Err(e),
    }
}

fn is_example(path: &Path) -> bool {
    crate::files::write::is_yaml(path) || path.extension().is_some_and(|e| e == "png")
}
