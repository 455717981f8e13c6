//! `notices import FILE|-`: index the JSON lines `notices export` wrote.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use crawler::store::{Arrival, NoticeStore};
use index::Notice;

use super::Ctx;
use crate::UsageError;

/// Arguments of `notices import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// JSON-lines file written by `notices export`, or `-` for stdin.
    pub file: PathBuf,
    /// Skip malformed lines (and count them) instead of refusing the file.
    #[arg(long)]
    pub skip_bad: bool,
}

/// Reads and checks the whole file, then writes its notices in one commit.
pub fn run(ctx: &Ctx, args: ImportArgs) -> Result<ExitCode> {
    let name = if args.file.as_os_str() == "-" { Path::new("<stdin>") } else { args.file.as_path() };
    let input: Box<dyn BufRead> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(&args.file)
            .map_err(|e| UsageError(format!("cannot read {}: {e}", args.file.display())))?;
        Box::new(std::io::BufReader::new(file))
    };
    let parsed = index::import::read(input, name, args.skip_bad).with_context(|| name.display().to_string())?;
    for (line, reason) in &parsed.skipped {
        tracing::warn!(line, "{}: skipped: {reason}", name.display());
    }
    let count = write(ctx, &parsed.notices)?;
    eprint!("imported {count} notices from {}", name.display());
    if args.skip_bad {
        eprint!(" ({} bad lines skipped)", parsed.skipped.len());
    }
    eprintln!();
    Ok(ExitCode::SUCCESS)
}

/// The one write of an import, through the notice store: every notice as
/// it is (its `first_seen` and `fetched_at` included, so the round trip is
/// exact), then one commit; nothing is visible unless all of it is (a
/// failure drops the store before its commit).
fn write(ctx: &Ctx, notices: &[Notice]) -> Result<usize> {
    let mut store = NoticeStore::open(&ctx.data.root)?;
    for notice in notices {
        store.accept(Arrival::imported(notice.clone())).with_context(|| format!("cannot index {:?}", notice.id))?;
    }
    store.close("import")?;
    Ok(notices.len())
}
