//! `notices crawl` (being written).

use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;

/// Arguments of `notices crawl`.
#[derive(Debug, clap::Args)]
pub struct CrawlArgs {}

/// Runs a crawl.
pub fn run(_ctx: &Ctx, _args: CrawlArgs) -> Result<ExitCode> {
    anyhow::bail!("notices crawl is not available yet")
}
