//! Fuzzes what `scan` does with a scan file's bytes: telling its kind, the
//! PDF pre-check and reader, the TIFF, PNG and JPEG decoders behind the
//! header checks, and the QR search on each decoded page. Unreadable pages
//! are expected; a panic, abort, hang or runaway memory is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut seen = 0;
    let _ = formpress::inputs::scans::read_bytes("fuzz", data.to_vec(), &mut seen, &mut |source, picture| {
        let _ = formpress::archival::scan::page(source, picture);
        Ok(())
    });
});
