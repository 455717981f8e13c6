//! `notices show ID`: one notice in full.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use super::Ctx;
use crate::UsageError;

/// Arguments of `notices show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Notice id (as printed by `search --json`).
    pub id: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Prints a notice.
pub fn run(ctx: &Ctx, args: ShowArgs) -> Result<ExitCode> {
    let index = ctx.open_index()?;
    let notice = index.get(&args.id)?.ok_or_else(|| UsageError(format!("no notice with id {:?}", args.id)))?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &notice)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "{}", notice.title)?;
    writeln!(out, "id:        {}", notice.id)?;
    writeln!(out, "source:    {}", notice.source)?;
    if let Some(d) = notice.published {
        writeln!(out, "published: {d}")?;
    }
    if !notice.doc_numbers.is_empty() {
        writeln!(out, "numbers:   {}", notice.doc_numbers.join(", "))?;
    }
    if let Some(a) = &notice.agency {
        writeln!(out, "agency:    {a}")?;
    }
    if let Some(u) = &notice.url {
        writeln!(out, "url:       {u}")?;
    }
    for l in &notice.links {
        writeln!(out, "link:      {l}")?;
    }
    for a in &notice.attachments {
        writeln!(out, "attached:  {}{}", a.url, a.name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default())?;
    }
    writeln!(out)?;
    writeln!(out, "{}", notice.body)?;
    Ok(ExitCode::SUCCESS)
}
