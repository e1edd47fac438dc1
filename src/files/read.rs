//! Reading input files safely: regular files only, the size checked before
//! anything is read, and never more than the limit read after (the file may
//! grow in between). A FIFO, device or socket is refused from its metadata,
//! and files are opened non-blocking so a swap to a FIFO cannot hang us.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum InputError {
    NotFound(PathBuf),
    /// A folder, FIFO, device or socket.
    NotRegular(PathBuf, &'static str),
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    PermissionDenied(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "无法读取 {}：{}", self.path().display(), self.reason())
    }
}

impl InputError {
    pub fn path(&self) -> &Path {
        match self {
            InputError::NotFound(p)
            | InputError::NotRegular(p, _)
            | InputError::TooLarge { path: p, .. }
            | InputError::PermissionDenied(p)
            | InputError::Io(p, _) => p,
        }
    }

    /// Why, without the path.
    pub fn reason(&self) -> String {
        match self {
            InputError::NotFound(_) => "文件或目录不存在".into(),
            InputError::NotRegular(_, what) => format!("这是{what}，不是普通文件"),
            InputError::TooLarge { size, limit, .. } => format!("文件有 {size} 字节，超过上限 {limit} 字节"),
            InputError::PermissionDenied(_) => "没有权限".into(),
            InputError::Io(_, e) => e.to_string(),
        }
    }
}

impl std::error::Error for InputError {}

impl InputError {
    pub fn from_io(path: &Path, e: std::io::Error) -> InputError {
        match e.kind() {
            std::io::ErrorKind::NotFound => InputError::NotFound(path.to_path_buf()),
            std::io::ErrorKind::PermissionDenied => InputError::PermissionDenied(path.to_path_buf()),
            _ => InputError::Io(path.to_path_buf(), e),
        }
    }
}

/// What a non-regular file is, for messages.
pub fn file_kind(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "命名管道（FIFO）";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "设备文件";
        }
        if ft.is_socket() {
            return "套接字";
        }
    }
    if ft.is_dir() {
        return "一个目录";
    }
    if ft.is_symlink() {
        return "符号链接";
    }
    "特殊文件"
}

/// Reads a regular file of at most `limit` bytes (links are followed).
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let meta = std::fs::metadata(path).map_err(|e| InputError::from_io(path, e))?;
    if !meta.is_file() {
        return Err(InputError::NotRegular(path.to_path_buf(), file_kind(meta.file_type())));
    }
    if meta.len() > limit {
        return Err(InputError::TooLarge { path: path.to_path_buf(), size: meta.len(), limit });
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| InputError::from_io(path, e))?;
    // The file may have been replaced between the check and the open.
    let meta = file.metadata().map_err(|e| InputError::from_io(path, e))?;
    if !meta.is_file() {
        return Err(InputError::NotRegular(path.to_path_buf(), file_kind(meta.file_type())));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| InputError::from_io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge { path: path.to_path_buf(), size: bytes.len() as u64, limit });
    }
    Ok(bytes)
}

/// Whether a path names standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Reads standard input, at most `limit` bytes (a form piped in: `formpress check -`).
pub fn read_stdin(limit: u64) -> Result<Vec<u8>, InputError> {
    let path = Path::new("-");
    let mut bytes = vec![];
    std::io::stdin().lock().take(limit + 1).read_to_end(&mut bytes).map_err(|e| InputError::from_io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge { path: path.to_path_buf(), size: bytes.len() as u64, limit });
    }
    Ok(bytes)
}
