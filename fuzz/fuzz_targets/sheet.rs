//! Fuzzes `import`: a spreadsheet's bytes (.xlsx, .ods, .xls, .et) through
//! the pre-checks, calamine's readers, the label walk and the YAML writer,
//! then the checker on the YAML written. Refusals are expected; a panic,
//! abort, hang or runaway memory is a bug, and so is YAML that does not read
//! back (the writer must round-trip whatever the cells hold).
#![no_main]

use std::sync::OnceLock;

use formpress::{Engine, EngineOptions};
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(&EngineOptions { no_system_fonts: true, ..Default::default() }).unwrap())
}

fuzz_target!(|data: &[u8]| {
    let Ok(imported) = formpress::inputs::xlsx::import(engine(), data, None) else { return };
    if let Err(e) = formpress::form::yaml::parse(imported.yaml.as_bytes()) {
        panic!("import wrote YAML that does not read back: {}\n{}", e.message, imported.yaml);
    }
    let _ = engine().check("fuzz.yaml", imported.yaml.as_bytes());
});
