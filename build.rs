// Templates and fonts are compiled into the binary (include_dir!, include_bytes!);
// rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=fonts");
}
