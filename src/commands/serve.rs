//! `notices serve` (being written).

use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;

/// Arguments of `notices serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

/// Runs the server.
pub fn run(_ctx: &Ctx, _args: ServeArgs) -> Result<ExitCode> {
    anyhow::bail!("notices serve is not available yet")
}
