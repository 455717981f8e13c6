//! `notices export`: every notice as JSON lines (for backups, tools and
//! `notices import`), as OpenSearch bulk NDJSON, or the OpenSearch index
//! template that matches.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use index::opensearch;

use super::Ctx;

/// Arguments of `notices export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// `jsonl` (what `notices import` reads) or `opensearch` (bulk NDJSON:
    /// an action line with `_id`, then the document).
    #[arg(long, default_value = "jsonl", value_parser = ["jsonl", "opensearch"])]
    pub format: String,
    /// Print the OpenSearch index template matching the bulk documents instead.
    #[arg(long, conflicts_with = "format")]
    pub opensearch_template: bool,
}

/// Prints every notice, one per line (two in bulk format), sorted by id.
pub fn run(ctx: &Ctx, args: ExportArgs) -> Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.opensearch_template {
        serde_json::to_writer_pretty(&mut out, &opensearch::template())?;
        writeln!(out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let index = ctx.open_index()?;
    // One notice at a time: memory does not grow with the index.
    index.for_each_by_id(|n| -> Result<()> {
        if args.format == "opensearch" {
            serde_json::to_writer(&mut out, &opensearch::action(&n))?;
            writeln!(out)?;
            serde_json::to_writer(&mut out, &opensearch::document(&n))?;
        } else {
            serde_json::to_writer(&mut out, &n)?;
        }
        writeln!(out)?;
        Ok(())
    })?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
