//! Where formpress writes, and only there. Every output of a run is claimed
//! first: files are compared by identity (device and inode, links resolved),
//! never by path text, so `-o ./form.yaml` cannot replace the input. Inputs of
//! the run, YAML files (unless the output is YAML), devices, FIFOs, sockets,
//! read-only files and a second write to the same file in one run are refused;
//! `-o -` (or `/dev/stdout`) streams to standard output.
//!
//! A file is written to a temporary file beside it and renamed into place, so
//! a failure never leaves half a file and never destroys the previous one. A
//! replaced file keeps its mode; a new one gets the mode the umask allows.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug)]
pub enum OutputError {
    /// The folder to write into does not exist.
    NoFolder(PathBuf),
    /// The file is an input of this run.
    IsInput(PathBuf),
    /// A YAML file, and what is written is not YAML.
    IsYaml(PathBuf),
    /// A folder, device, FIFO, socket or dangling link.
    Special(PathBuf, &'static str),
    /// A file the user may not write (0444 included, even for root).
    ReadOnly(PathBuf),
    /// This run already writes that file.
    Twice(PathBuf),
    /// A PDF that carries a form's YAML (not something `--combine` or `scan` may replace).
    Archive(PathBuf),
    /// Standard output was closed (`| head`).
    Closed,
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            OutputError::NoFolder(p) => write!(f, "无法写入：输出目录不存在：{}", p.display()),
            OutputError::IsInput(p) => write!(f, "不能写入 {}：它是本次运行的输入文件", p.display()),
            OutputError::IsYaml(p) => write!(f, "不能写入 {}：不会用其他内容覆盖 YAML 文件", p.display()),
            OutputError::Special(p, what) => write!(f, "不能写入 {}：这是{what}，不是普通文件", p.display()),
            OutputError::ReadOnly(p) => write!(f, "不能写入 {}：文件是只读的（没有写权限），未覆盖", p.display()),
            OutputError::Twice(p) => write!(f, "不能写入 {}：本次运行已有另一份输出写到这个文件", p.display()),
            OutputError::Archive(p) => {
                write!(f, "不能写入 {}：它是附带表单 YAML 的存档 PDF，不会被覆盖", p.display())
            }
            OutputError::Closed => write!(f, "标准输出已关闭"),
            OutputError::Io(p, e) => {
                let reason = match e.kind() {
                    std::io::ErrorKind::PermissionDenied => "没有权限".to_string(),
                    _ => e.to_string(),
                };
                write!(f, "无法写入 {}：{reason}", p.display())
            }
        }
    }
}

impl std::error::Error for OutputError {}

impl OutputError {
    /// The user named a file that must not be written (a usage error), rather
    /// than the system failing to write it.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            OutputError::IsInput(_)
                | OutputError::IsYaml(_)
                | OutputError::Special(..)
                | OutputError::Twice(_)
                | OutputError::Archive(_)
        )
    }
}

/// What is written, for the YAML rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Yaml,
    Other,
}

/// A claimed output: standard output or a file (the path as given, and the
/// resolved path the rename goes to, so a link to a file stays a link).
#[derive(Debug, Clone)]
pub enum Output {
    Stdout,
    File { given: PathBuf, real: PathBuf },
}

/// Inputs and outputs of one run; shared by the threads of a batch.
#[derive(Default)]
pub struct Outputs {
    inputs: Mutex<Vec<Id>>,
    claimed: Mutex<Vec<PathBuf>>,
}

/// A file's identity: device and inode (Windows: volume serial number and
/// file index), so another spelling or a hard link of an input is caught.
type Id = (u64, u64);

#[cfg(unix)]
fn id(_path: &Path, meta: &std::fs::Metadata) -> Option<Id> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

/// Windows keeps the identity behind a handle (std's accessors for it are
/// unstable): the file is opened without read or write access only to ask.
#[cfg(windows)]
fn id(path: &Path, _meta: &std::fs::Metadata) -> Option<Id> {
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::AsRawHandle;
    use windows_sys::Win32::Storage::FileSystem::{
        BY_HANDLE_FILE_INFORMATION, FILE_FLAG_BACKUP_SEMANTICS, GetFileInformationByHandle,
    };
    let file = std::fs::OpenOptions::new().access_mode(0).custom_flags(FILE_FLAG_BACKUP_SEMANTICS).open(path).ok()?;
    // SAFETY: a handle open for the call and a plain-data struct for it to fill.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    let ok = unsafe { GetFileInformationByHandle(file.as_raw_handle(), &mut info) } != 0;
    ok.then(|| {
        (u64::from(info.dwVolumeSerialNumber), u64::from(info.nFileIndexHigh) << 32 | u64::from(info.nFileIndexLow))
    })
}

/// Whether `path` names standard output.
pub fn is_stdout(path: &Path) -> bool {
    path == Path::new("-") || path == Path::new("/dev/stdout")
}

impl Outputs {
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// Records an input of the run (a file that does not exist is not one).
    pub fn input(&self, path: &Path) {
        if let Some(id) = std::fs::metadata(path).ok().and_then(|meta| id(path, &meta)) {
            self.inputs.lock().expect("no poisoned lock").push(id);
        }
    }

    /// Checks that `path` may receive `content` and reserves it for this run.
    pub fn claim(&self, path: &Path, content: Content) -> Result<Output, OutputError> {
        if is_stdout(path) {
            return Ok(Output::Stdout);
        }
        if content != Content::Yaml && is_yaml(path) {
            return Err(OutputError::IsYaml(path.to_path_buf()));
        }
        let (real, existing) = resolve(path)?;
        if let Some(meta) = &existing {
            if id(&real, meta).is_some_and(|id| self.inputs.lock().expect("no poisoned lock").contains(&id)) {
                return Err(OutputError::IsInput(path.to_path_buf()));
            }
            writable(path, &real, meta)?;
        }
        let mut claimed = self.claimed.lock().expect("no poisoned lock");
        if claimed.contains(&real) {
            return Err(OutputError::Twice(path.to_path_buf()));
        }
        claimed.push(real.clone());
        Ok(Output::File { given: path.to_path_buf(), real })
    }
}

pub fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// The file a write to `path` replaces (links resolved) and its metadata, or
/// where a new file goes.
fn resolve(path: &Path) -> Result<(PathBuf, Option<std::fs::Metadata>), OutputError> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            if !meta.is_file() {
                return Err(OutputError::Special(path.to_path_buf(), crate::files::read::file_kind(meta.file_type())));
            }
            let real = std::fs::canonicalize(path).map_err(|e| OutputError::Io(path.to_path_buf(), e))?;
            Ok((real, Some(meta)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(OutputError::Special(path.to_path_buf(), "指向不存在文件的符号链接"));
            }
            let Some(name) = path.file_name() else {
                return Err(OutputError::Special(path.to_path_buf(), "一个目录"));
            };
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            match std::fs::canonicalize(parent) {
                Ok(dir) if dir.is_dir() => Ok((dir.join(name), None)),
                _ => Err(OutputError::NoFolder(parent.to_path_buf())),
            }
        }
        Err(e) => Err(OutputError::Io(path.to_path_buf(), e)),
    }
}

/// A file with no write bit is never replaced, even by root (who could);
/// otherwise the system says whether this user may write it.
fn writable(given: &Path, real: &Path, meta: &std::fs::Metadata) -> Result<(), OutputError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o222 == 0 {
            return Err(OutputError::ReadOnly(given.to_path_buf()));
        }
    }
    #[cfg(not(unix))]
    if meta.permissions().readonly() {
        return Err(OutputError::ReadOnly(given.to_path_buf()));
    }
    // Opening for writing without truncating changes nothing; it only asks.
    match std::fs::OpenOptions::new().write(true).open(real) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Err(OutputError::ReadOnly(given.to_path_buf())),
        Err(e) => Err(OutputError::Io(given.to_path_buf(), e)),
    }
}

/// Longest part of the file name used in the temporary name, so a name near
/// the file-system limit (255 bytes) still has room for the rest.
const TEMP_NAME_BYTES: usize = 64;

impl Output {
    /// The path as the user gave it (`-` for standard output).
    pub fn path(&self) -> &Path {
        match self {
            Output::Stdout => Path::new("-"),
            Output::File { given, .. } => given,
        }
    }

    pub fn write(&self, bytes: &[u8]) -> Result<(), OutputError> {
        match self {
            Output::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|()| out.flush()).map_err(|e| match e.kind() {
                    std::io::ErrorKind::BrokenPipe => OutputError::Closed,
                    _ => OutputError::Io(PathBuf::from("-"), e),
                })
            }
            Output::File { given, real } => write_file(given, real, bytes),
        }
    }
}

fn write_file(given: &Path, real: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let io = |e: std::io::Error| OutputError::Io(given.to_path_buf(), e);
    // Checked again: the file may have changed since it was claimed.
    let mode = match std::fs::symlink_metadata(real) {
        Ok(meta) if meta.is_file() => {
            writable(given, real, &meta)?;
            Some(meta.permissions())
        }
        Ok(meta) => {
            return Err(OutputError::Special(given.to_path_buf(), crate::files::read::file_kind(meta.file_type())));
        }
        Err(_) => None,
    };
    let dir = real.parent().unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(OutputError::NoFolder(dir.to_path_buf()));
    }
    let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let short = &name[..name.floor_char_boundary(TEMP_NAME_BYTES)];
    let prefix = format!(".{short}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // A new file: 0666 less the umask, like any program's output.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    if let Some(mode) = mode {
        tmp.as_file().set_permissions(mode).map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(real).map_err(|e| io(e.error))?;
    Ok(())
}

/// Removes `stem-N.ext` pages from `first` on, as long as they exist as plain
/// files: the pages an earlier, longer render left behind.
pub fn remove_stale_pages(stem: &Path, ext: &str, first: usize) {
    let name = stem.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for n in first.. {
        let page = stem.with_file_name(format!("{name}-{n}.{ext}"));
        match std::fs::symlink_metadata(&page) {
            Ok(meta) if meta.is_file() && std::fs::remove_file(&page).is_ok() => {}
            _ => break,
        }
    }
}
