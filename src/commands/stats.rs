//! `notices stats`: counts by source and the date range.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;

/// Arguments of `notices stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Prints index statistics.
pub fn run(ctx: &Ctx, args: StatsArgs) -> Result<ExitCode> {
    let index = ctx.open_index()?;
    let stats = index.stats()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &stats)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{} notices in {}", stats.total, ctx.data.index().display())?;
        for (source, n) in &stats.by_source {
            writeln!(out, "  {source:<28} {n:>7}")?;
        }
        let d = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "-".to_string(), |d| d.to_string());
        writeln!(out, "published {} .. {} ({} undated)", d(stats.earliest), d(stats.latest), stats.undated)?;
        if let Some(c) = &stats.last_commit {
            writeln!(out, "last change {} by {}", c.committed_at.format("%Y-%m-%d %H:%M:%S UTC"), c.by)?;
        }
        match stats.last_crawl {
            Some(at) => writeln!(out, "last crawl  {}", at.format("%Y-%m-%d %H:%M:%S UTC"))?,
            None => writeln!(out, "last crawl  never")?,
        }
    }
    Ok(ExitCode::SUCCESS)
}
