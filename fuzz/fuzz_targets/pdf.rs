//! Fuzzes what `extract`, `verify` and `sign` do with an input PDF before
//! any form is involved: the signature checks, the pre-check, the reader
//! (attachments, creator, page text and drawings), finding the form
//! attachment, the 校验码 and draft marks, the 签章区, and the page
//! comparison. Errors are expected; a panic, hang or runaway
//! memory is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = formpress::archival::signature_check::check(data);
    let Ok(pdf) = formpress::archival::inspect::read(data.to_vec()) else { return };
    let _ = pdf.source();
    let _ = pdf.creator.as_deref().and_then(formpress::layout::attach::Stamp::parse);
    for page in &pdf.pages {
        let _ = formpress::form::fingerprint::find_code(&page.text);
        let _ = formpress::form::fingerprint::is_draft(&page.text);
    }
    let _ = formpress::archival::sign_place::find(&pdf.pages);
    let _ = formpress::archival::verify::compare(&pdf.pages, &pdf.pages[pdf.pages.len().min(1)..]);
});
