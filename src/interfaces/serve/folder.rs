//! The one folder `serve` works in: which names it accepts, reading its forms
//! (bounded), and saving them atomically without overwriting a version the
//! page has not seen.
//!
//! A name is a single file name ending in `.yaml`/`.yml`: no folder part, no
//! `..`, no leading dot, no control characters. A name that is a link must
//! resolve to a file of the same folder. Anything else is refused, whichever
//! route it came by and however it was encoded (the server decodes first).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::files::read as input;
use crate::files::write::{Content, OutputError, Outputs, is_yaml};
use crate::form::yaml;

#[derive(Debug)]
pub enum FolderError {
    /// Not a plain form file name of this folder.
    BadName(String),
    /// A link or path that leads out of the folder.
    Outside(String),
    NotFound(String),
    /// A folder, device, FIFO or socket.
    Special(String),
    Read(input::InputError),
    Write(OutputError),
    /// The file changed (or appeared) since the page loaded it.
    Conflict {
        name: String,
        exists: bool,
    },
}

impl fmt::Display for FolderError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            FolderError::BadName(n) => {
                write!(
                    f,
                    "文件名 {n:?} 不可用：只能是本目录中的 .yaml 或 .yml 文件名，不含目录、“..”或开头的“.”，不是设备名（CON、NUL、COM1 等）"
                )
            }
            FolderError::Outside(n) => write!(f, "拒绝访问 {n:?}：它指向表单目录之外"),
            FolderError::NotFound(n) => write!(f, "表单目录中没有文件 {n}"),
            FolderError::Special(n) => write!(f, "{n} 不是普通文件"),
            FolderError::Read(e) => write!(f, "{e}"),
            FolderError::Write(e) => write!(f, "{e}"),
            FolderError::Conflict { name, exists: true } => write!(
                f,
                "{name} 在打开之后已被其他程序或窗口修改，未保存；请重新打开（或另存为新文件）以免覆盖别人的修改"
            ),
            FolderError::Conflict { name, exists: false } => {
                write!(f, "{name} 已不存在（被删除或改名），未保存；可另存为新文件")
            }
        }
    }
}

impl std::error::Error for FolderError {}

/// A form file as read: its bytes and their SHA-256 (the version the page holds).
pub struct Read {
    pub bytes: Vec<u8>,
    pub hash: String,
}

pub struct Folder {
    /// The folder, canonical.
    root: PathBuf,
    /// Saves are checked and written one at a time, so two saves of one file
    /// cannot both pass the version check.
    saving: Mutex<()>,
}

pub fn hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Folder {
    pub fn open(dir: &Path) -> std::io::Result<Folder> {
        let root = std::fs::canonicalize(dir)?;
        if !root.is_dir() {
            return Err(std::io::Error::new(std::io::ErrorKind::NotADirectory, "不是目录"));
        }
        Ok(Folder { root, saving: Mutex::new(()) })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of a form name, refused unless it is a file name of this
    /// folder (or will be one); links must stay inside.
    pub fn path(&self, name: &str) -> Result<PathBuf, FolderError> {
        let bad = || FolderError::BadName(name.chars().take(80).collect());
        let plain = !name.is_empty()
            && name.len() <= 200
            && !name.starts_with('.')
            && !name.chars().any(|c| c.is_control() || matches!(c, '/' | '\\' | ':'))
            && !windows_device(name)
            && is_yaml(Path::new(name));
        if !plain {
            return Err(bad());
        }
        let path = self.root.join(name);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let real = std::fs::canonicalize(&path).map_err(|_| FolderError::Outside(name.into()))?;
                if real.parent() != Some(self.root.as_path()) {
                    return Err(FolderError::Outside(name.into()));
                }
                if !real.is_file() {
                    return Err(FolderError::Special(name.into()));
                }
            }
            Ok(meta) if !meta.is_file() => return Err(FolderError::Special(name.into())),
            _ => {}
        }
        Ok(path)
    }

    /// The form files of the folder, by name.
    pub fn list(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return vec![] };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| self.path(n).is_ok_and(|p| p.is_file()))
            .collect();
        names.sort();
        names
    }

    pub fn read(&self, name: &str) -> Result<Read, FolderError> {
        let path = self.path(name)?;
        if std::fs::symlink_metadata(&path).is_err() {
            return Err(FolderError::NotFound(name.into()));
        }
        let bytes = input::read(&path, yaml::MAX_FILE_BYTES as u64).map_err(FolderError::Read)?;
        Ok(Read { hash: hash(&bytes), bytes })
    }

    /// Saves `name` if it is still the version `base` (None: a new file that
    /// must not exist yet). `write` makes the new bytes from the current ones.
    pub fn save<T, E: From<FolderError>>(
        &self,
        name: &str,
        base: Option<&str>,
        write: impl FnOnce(Option<&[u8]>) -> Result<(Vec<u8>, T), E>,
    ) -> Result<(String, T), E> {
        let path = self.path(name)?;
        let _one_at_a_time = self.saving.lock().unwrap_or_else(|e| e.into_inner());
        let current = match self.read(name) {
            Ok(r) => Some(r),
            Err(FolderError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let up_to_date = match (&current, base) {
            (Some(r), Some(b)) => r.hash == b,
            (None, None) => true,
            _ => false,
        };
        if !up_to_date {
            return Err(FolderError::Conflict { name: name.into(), exists: current.is_some() }.into());
        }
        let (bytes, extra) = write(current.as_ref().map(|r| r.bytes.as_slice()))?;
        // The safe-write machinery: temporary file in the folder, renamed into place.
        let output = Outputs::new().claim(&path, Content::Yaml).map_err(FolderError::Write)?;
        output.write(&bytes).map_err(FolderError::Write)?;
        Ok((hash(&bytes), extra))
    }
}

/// Whether Windows takes the name for a device (`CON.yaml`, `nul.yml`, `COM1.yaml`:
/// the part before the first dot, in any case). Refused everywhere, so a folder
/// of forms means the same on Windows and Linux.
fn windows_device(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default().trim_end_matches(' ').to_ascii_uppercase();
    let numbered = |prefix: &str| {
        stem.strip_prefix(prefix)
            .is_some_and(|n| matches!(n, "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"))
    };
    matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$") || numbered("COM") || numbered("LPT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_of_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::open(dir.path()).unwrap();
        for bad in ["../x.yaml", "a/b.yaml", "/etc/passwd", ".hidden.yaml", "x.txt", "..", "", "a\\b.yaml", "a\nb.yaml"]
            .into_iter()
            .chain(["CON.yaml", "nul.yml", "Com1.yaml", "lpt9.tar.yaml", "aux .yaml", "c:x.yaml", "x.yaml:stream.yaml"])
        {
            assert!(matches!(folder.path(bad), Err(FolderError::BadName(_))), "{bad}");
        }
        for good in ["表.yaml", "绩效 表.yml", "console.yaml", "com10.yaml", "NULL.yaml"] {
            assert!(folder.path(good).is_ok(), "{good}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/hostname", dir.path().join("out.yaml")).unwrap();
            assert!(matches!(folder.path("out.yaml"), Err(FolderError::Outside(_))));
        }
    }

    #[test]
    fn a_stale_version_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::open(dir.path()).unwrap();
        let (h, ()) = folder.save("a.yaml", None, |_| Ok::<_, FolderError>((b"form: x\n".to_vec(), ()))).unwrap();
        assert!(matches!(
            folder.save("a.yaml", None, |_| Ok::<_, FolderError>((vec![], ()))),
            Err(FolderError::Conflict { .. })
        ));
        assert!(matches!(
            folder.save("a.yaml", Some("0"), |_| Ok::<_, FolderError>((vec![], ()))),
            Err(FolderError::Conflict { .. })
        ));
        folder
            .save("a.yaml", Some(&h), |old| Ok::<_, FolderError>(([old.unwrap(), b"year: 1\n"].concat(), ())))
            .unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.yaml")).unwrap(), b"form: x\nyear: 1\n");
    }
}
