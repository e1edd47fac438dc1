//! Fuzzes the whole path a form file takes: parse → check → template →
//! compile → PDF. Any panic, hang or crash is a bug; findings and errors are
//! the expected outcome for most inputs.
#![no_main]

use std::sync::OnceLock;

use formpress::{Engine, EngineOptions, RenderOptions};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(&EngineOptions { no_system_fonts: true, ..Default::default() }).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let form = engine().check("fuzz.yaml", data);
    if form.renderable() {
        let _ = engine().render(&form, &RenderOptions::default());
    }
    // Typst's memoization cache would otherwise grow with every input.
    typst::comemo::evict(0);
});
