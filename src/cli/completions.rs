//! `formpress completions SHELL`: the shell's completion script, from the
//! same argument definitions the command line parses.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use clap_complete::Shell;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// 哪种 shell：bash、zsh、fish、powershell
    #[arg(value_enum)]
    pub(super) shell: ShellName,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ShellName {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

pub(super) fn run(args: CompletionsArgs) -> ExitCode {
    let shell = match args.shell {
        ShellName::Bash => Shell::Bash,
        ShellName::Zsh => Shell::Zsh,
        ShellName::Fish => Shell::Fish,
        ShellName::Powershell => Shell::PowerShell,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut super::help::command(), "formpress", &mut out);
    match formpress::files::write::Output::Stdout.write(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(super::common::write_failed(&e)),
    }
}
