//! The `formpress` binary: argument parsing lives in `cli`, the work in the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
