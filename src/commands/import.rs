//! `notices import FILE|-`: index the JSON lines `notices export` wrote.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
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

/// Reads and checks the whole input, then reads it again to write its
/// notices in one commit. Only one notice is in memory at a time (and the
/// ids, to find repeats); standard input is first copied to an unnamed
/// file in the data directory so that it can be read twice.
pub fn run(ctx: &Ctx, args: ImportArgs) -> Result<ExitCode> {
    let stdin = args.file.as_os_str() == "-";
    let name = if stdin { Path::new("<stdin>") } else { args.file.as_path() };
    let file = if stdin {
        std::fs::create_dir_all(&ctx.data.root)
            .with_context(|| format!("cannot create {}", ctx.data.root.display()))?;
        let mut spool = tempfile::tempfile_in(&ctx.data.root)
            .with_context(|| format!("cannot make a temporary file in {}", ctx.data.root.display()))?;
        std::io::copy(&mut std::io::stdin().lock(), &mut spool).context("cannot read standard input")?;
        spool
    } else {
        std::fs::File::open(&args.file).map_err(|e| UsageError(format!("cannot read {}: {e}", args.file.display())))?
    };
    let from_start = || -> Result<BufReader<&std::fs::File>> {
        (&file).seek(SeekFrom::Start(0)).with_context(|| name.display().to_string())?;
        Ok(BufReader::new(&file))
    };
    // The first pass writes nothing: a bad line leaves the index as it was.
    let checked = index::import::read_each(from_start()?, name, args.skip_bad, |_| Ok::<(), index::Error>(()))
        .with_context(|| name.display().to_string())?;
    for (line, reason) in &checked.skipped {
        tracing::warn!(line, "{}: skipped: {reason}", name.display());
    }
    let count = write(ctx, from_start()?, name, args.skip_bad)?;
    eprint!("imported {count} notices from {}", name.display());
    if args.skip_bad {
        eprint!(" ({} bad lines skipped)", checked.skipped.len());
    }
    eprintln!();
    Ok(ExitCode::SUCCESS)
}

/// The one write of an import, through the notice store: every notice as
/// it is (its `first_seen` and `fetched_at` included, so the round trip is
/// exact), then one commit; nothing is visible unless all of it is (a
/// failure drops the store before its commit).
fn write(ctx: &Ctx, input: impl BufRead, name: &Path, skip_bad: bool) -> Result<u64> {
    let mut store = NoticeStore::open(&ctx.data.root)?;
    let written = index::import::read_each(input, name, skip_bad, |notice: Notice| -> Result<()> {
        let id = notice.id.clone();
        store.accept(Arrival::imported(notice)).with_context(|| format!("cannot index {id:?}"))?;
        Ok(())
    })
    .with_context(|| name.display().to_string())?;
    store.close("import")?;
    Ok(written.notices)
}
