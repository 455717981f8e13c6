//! `notices export`: every notice as JSON lines (for backups and tools).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;

/// Arguments of `notices export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {}

/// Prints every notice as one JSON object per line, sorted by id.
pub fn run(ctx: &Ctx, _args: ExportArgs) -> Result<ExitCode> {
    let index = ctx.open_index()?;
    let mut notices = index.all()?;
    notices.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for n in &notices {
        serde_json::to_writer(&mut out, n)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
