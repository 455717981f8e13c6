//! `notices`: the command-line binary. Glue only: arguments → configuration
//! → library calls → output and exit code.

mod cli;
mod commands;
mod config;
mod feed;
mod output;
mod scheduler;
mod server;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

/// An error that is the user's: bad arguments or input. Exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Exit codes.
pub mod exit {
    /// Success (hits found).
    pub const OK: u8 = 0;
    /// The search found nothing.
    pub const NO_RESULTS: u8 = 1;
    /// Bad usage or input.
    pub const USAGE: u8 = 2;
    /// Anything else: I/O, a damaged index, a bug.
    pub const INTERNAL: u8 = 3;
}

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    init_tracing(cli.verbose);
    match commands::run(cli, &matches) {
        Ok(code) => code,
        Err(err) => report(&err),
    }
}

/// Prints an error on one line (with its causes) and picks the exit code.
fn report(err: &anyhow::Error) -> ExitCode {
    let broken_pipe = |e: &(dyn std::error::Error + 'static)| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || e.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
    };
    if err.chain().any(broken_pipe) {
        // `notices search … | head` is not a failure.
        return ExitCode::from(exit::OK);
    }
    let user = err.chain().any(|e| {
        e.downcast_ref::<UsageError>().is_some()
            || e.downcast_ref::<index::Error>().is_some_and(index::Error::is_user_error)
            || e.downcast_ref::<crawler::Error>().is_some_and(crawler::Error::is_user_error)
    });
    // Contexts and causes on one line; a cause whose text the line already
    // holds (thiserror's `#[error("… {0}")]`) is not repeated.
    let mut line = String::new();
    for cause in err.chain().map(ToString::to_string) {
        if line.contains(&cause) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&cause);
    }
    eprintln!("error: {line}");
    ExitCode::from(if user { exit::USAGE } else { exit::INTERNAL })
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info,notices=info",
        _ => "debug,tantivy=info,hyper=info,reqwest=info",
    };
    let filter = EnvFilter::try_from_env("NOTICES_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // Colour only for a person at a terminal: a log piped to a file or a
    // journal must not carry escape codes (https://no-color.org).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .init();
}
