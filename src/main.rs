//! The `formpress` binary: argument parsing lives in `cli`, the work in the library.

mod cli;

#[global_allocator]
static ALLOCATOR: cli::memory::Bounded = cli::memory::Bounded;

fn main() -> std::process::ExitCode {
    cli::memory::set_limit();
    cli::run()
}
