//! Running a dependency's reader on untrusted bytes: a panic inside it (an
//! index out of range on a damaged file) becomes an error with its message,
//! instead of a crash report and a dead process. Aborts cannot be caught;
//! the readers' own pre-checks keep those from happening.

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
