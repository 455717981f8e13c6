//! `notices completions SHELL` and `notices man`: generated from the one
//! CLI definition, so they always match the commands.

use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::Cli;

/// Arguments of `notices completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish.
    pub shell: clap_complete::Shell,
}

/// Prints the completion script for the shell.
pub fn run(args: CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "notices", &mut std::io::stdout().lock());
    Ok(ExitCode::SUCCESS)
}

/// Prints the man page (roff) of `notices`, its subcommands listed:
/// `notices man > notices.1`, or `notices man | man -l -`.
pub fn man() -> Result<ExitCode> {
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout().lock())?;
    Ok(ExitCode::SUCCESS)
}
