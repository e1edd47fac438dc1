//! Running a dependency's reader on untrusted bytes: a panic inside it (an
//! index out of range on a damaged file) becomes an error with its message,
//! instead of a crash report and a dead process. Aborts cannot be caught;
//! the readers' own pre-checks keep those from happening. And a time budget
//! per input, counted in the reading thread's CPU time so that a busy
//! machine does not cut short what an idle one reads.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;

thread_local! {
    /// Inside `catch` on this thread: a panic is the reader's, not a bug report to print.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`; a panic in it is returned as its message.
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    quiet_hook();
    let outer = CATCHING.replace(true);
    let result = std::panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.set(outer);
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "读取时出错".into())
    })
}

/// The process's panic hook, silent while a reader runs inside `catch`.
fn quiet_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CATCHING.get() {
                previous(info);
            }
        }));
    });
}

/// A budget of CPU time for reading one input, from now.
pub struct Deadline(std::time::Duration);

impl Deadline {
    pub fn after(budget: std::time::Duration) -> Deadline {
        Deadline(cpu_time() + budget)
    }

    pub fn passed(&self) -> bool {
        cpu_time() > self.0
    }
}

/// The CPU time this thread has used.
fn cpu_time() -> std::time::Duration {
    #[cfg(unix)]
    {
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime only writes the timespec given.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32);
        }
    }
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_becomes_its_message() {
        let r: Result<(), String> = super::catch(|| {
            let v: Vec<u8> = vec![];
            let _ = v[3];
        });
        assert!(r.unwrap_err().contains("index out of bounds"));
        assert_eq!(super::catch(|| 7), Ok(7));
    }
}
