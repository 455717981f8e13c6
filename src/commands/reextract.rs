//! `notices reextract`: read the kept attachment files again with this
//! version's extractors, without downloading anything.

use std::process::ExitCode;

use anyhow::{Context, Result};

use super::Ctx;

/// Arguments of `notices reextract`.
#[derive(Debug, clap::Args)]
pub struct ReextractArgs {
    /// Read every kept attachment again, not only those read by an older extractor.
    #[arg(long)]
    pub all: bool,
    /// Print what was done as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Re-reads the attachments through the notice store.
pub fn run(ctx: &Ctx, args: ReextractArgs) -> Result<ExitCode> {
    let mut store = crawler::store::NoticeStore::open(&ctx.data.root)
        .with_context(|| format!("cannot open the data directory {}", ctx.data.root.display()))?;
    let kept = crawler::attachments::KeptFiles::new(&ctx.data.root, ctx.config.crawl.attachment_cache_mb);
    let done = crawler::attachments::reextract(&mut store, &kept, &ctx.config.crawl.extract, args.all)?;
    store.close("reextract")?;
    if args.json {
        println!("{}", serde_json::to_string(&done)?);
    } else {
        eprintln!(
            "read {} attachments again ({} notices changed); {} already current; {} no longer kept (the next crawl downloads them)",
            done.read_again, done.notices_changed, done.current, done.not_kept
        );
    }
    Ok(ExitCode::SUCCESS)
}
