//! `notices backup DIR`: a consistent copy of the data directory, safe
//! while a server or a crawl runs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::Ctx;
use crate::UsageError;
use crate::config::DataDir;

/// Arguments of `notices backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to put the copy: a new or empty directory, itself a data directory.
    pub dir: PathBuf,
}

/// Copies the crawl state, then the index at its last commit.
///
/// The order matters: a crawl commits the index before it records pages as
/// done in the state, so a state copied first never claims a notice the
/// index copied after it lacks.
pub fn run(ctx: &Ctx, args: BackupArgs) -> Result<ExitCode> {
    let dest = DataDir::new(args.dir.clone());
    if std::fs::read_dir(&dest.root).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(
            UsageError(format!("{} is not empty: back up into a new or empty directory", dest.root.display())).into()
        );
    }
    if !ctx.data.index().join("meta.json").exists() {
        return Err(UsageError(format!("nothing to back up: no index in {}", ctx.data.root.display())).into());
    }
    std::fs::create_dir_all(&dest.root).with_context(|| format!("cannot create {}", dest.root.display()))?;
    let state = ctx.data.crawl_db();
    if state.exists() {
        crawler::backup::copy_state(&state, &dest.crawl_db()).context("cannot copy the crawl state")?;
    }
    let copy = index::backup::copy_committed(&ctx.data.index(), &dest.index()).context("cannot copy the index")?;
    tracing::info!(segments = copy.segments, bytes = copy.bytes, "index copied");
    eprintln!(
        "backed up {} notices{} to {} (restore: stop notices, then use it as the data directory)",
        copy.notices,
        if state.exists() { " and the crawl state" } else { "" },
        dest.root.display()
    );
    Ok(ExitCode::SUCCESS)
}
