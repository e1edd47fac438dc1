//! The process's memory bound: every allocation is counted, and one that
//! would take the heap past the bound stops formpress with a message and
//! exit code 4 instead of letting the allocator fail, which aborts (exit 134),
//! or the system run out. Inputs are bounded before they are decoded; this
//! is the backstop for what no pre-check can bound, such as a template that
//! doubles a string forty times (in MiniJinja or in Typst).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes the heap holds now.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The bound; none until `set_limit` (start-up allocates freely).
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// The counting allocator: the system's, with the bound checked first.
pub struct Bounded;

/// Sets the bound: `FORMPRESS_MAX_MEMORY_MB`, else half the physical memory, at most 8 GB.
pub fn set_limit() {
    let given = std::env::var("FORMPRESS_MAX_MEMORY_MB").ok().and_then(|v| v.parse::<usize>().ok());
    let limit = given.map_or((physical() / 2).min(8 << 30), |mb| mb.saturating_mul(1 << 20));
    LIMIT.store(limit, Ordering::Relaxed);
}

/// The machine's physical memory in bytes (`usize::MAX` when it cannot be told).
#[cfg(unix)]
fn physical() -> usize {
    // SAFETY: sysconf only reads system configuration.
    let (pages, size) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    if pages > 0 && size > 0 { pages as usize * size as usize } else { usize::MAX }
}

#[cfg(windows)]
fn physical() -> usize {
    use windows_sys::Win32::System::SystemInformation::{GlobalMemoryStatusEx, MEMORYSTATUSEX};
    // SAFETY: a plain-data struct with its length set, as the call expects it.
    let mut status: MEMORYSTATUSEX = unsafe { std::mem::zeroed() };
    status.dwLength = size_of::<MEMORYSTATUSEX>() as u32;
    if unsafe { GlobalMemoryStatusEx(&mut status) } != 0 {
        usize::try_from(status.ullTotalPhys).unwrap_or(usize::MAX)
    } else {
        usize::MAX
    }
}

/// Whether `more` bytes fit under the bound; stops the process when they do not.
fn reserve(more: usize) {
    let live = LIVE.load(Ordering::Relaxed);
    let limit = LIMIT.load(Ordering::Relaxed);
    if live.saturating_add(more) > limit {
        stop(limit);
    }
}

/// Says why and exits, without allocating (the heap is where the trouble is).
fn stop(limit: usize) -> ! {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut mb = limit >> 20;
    loop {
        at -= 1;
        digits[at] = b'0' + (mb % 10) as u8;
        mb /= 10;
        if mb == 0 {
            break;
        }
    }
    let parts: [&[u8]; 3] = [
        "formpress: 内存用量将超过上限 ".as_bytes(),
        &digits[at..],
        " MB，已停止（模板或输入要求无限制的内存；上限可用 FORMPRESS_MAX_MEMORY_MB 设定）\n".as_bytes(),
    ];
    say_and_exit(&parts)
}

#[cfg(unix)]
fn say_and_exit(parts: &[&[u8]]) -> ! {
    // SAFETY: write and _exit are async-signal-safe and do not allocate.
    unsafe {
        for part in parts {
            libc::write(libc::STDERR_FILENO, part.as_ptr().cast(), part.len());
        }
        libc::_exit(i32::from(super::EXIT_LAYOUT));
    }
}

/// Windows: std's stderr, which writes a console as UTF-16 (a raw write of UTF-8 would show
/// the Chinese garbled in a GBK console). The bound is lifted first, so should the writer
/// allocate, it does not come back here.
#[cfg(windows)]
fn say_and_exit(parts: &[&[u8]]) -> ! {
    use std::io::Write as _;
    LIMIT.store(usize::MAX, Ordering::Relaxed);
    let mut err = std::io::stderr();
    for part in parts {
        let _ = err.write_all(part);
    }
    // SAFETY: ends the process at once, as _exit does on Unix.
    unsafe { windows_sys::Win32::System::Threading::ExitProcess(u32::from(super::EXIT_LAYOUT)) }
}

// SAFETY: every call goes to the system allocator with the same layout; the
// counter only observes sizes.
unsafe impl GlobalAlloc for Bounded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        reserve(layout.size());
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        reserve(layout.size());
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        reserve(new_size.saturating_sub(layout.size()));
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }
}
