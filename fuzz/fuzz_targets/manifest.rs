//! Fuzzes the form-kind manifest loader (`kind.yaml`: parsing with
//! serde-saphyr, then the checks serde cannot make). A user's --templates
//! folder is input like any other: a broken manifest must be an error
//! naming it, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = formpress::form::kind::manifest(text);
    }
});
