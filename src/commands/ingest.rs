//! `notices ingest FILE`: index the items of a weekly digest.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use crawler::store::NoticeStore;
use index::NoticeIndex;

use super::Ctx;
use crate::UsageError;

/// Arguments of `notices ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Digest text file (UTF-8), e.g. a weekly digest extracted from PDF.
    pub file: PathBuf,
}

/// Parses the digest and indexes its items.
pub fn run(ctx: &Ctx, args: IngestArgs) -> Result<ExitCode> {
    let bytes =
        std::fs::read(&args.file).map_err(|e| UsageError(format!("cannot read {}: {e}", args.file.display())))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        UsageError(format!(
            "{} is not UTF-8 text (invalid byte at {})",
            args.file.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "digest".into());
    let parsed = crawler::digest::parse(&name, &text);
    for w in &parsed.warnings {
        tracing::warn!(line = w.line, "{name}: {}", w.message);
    }
    if parsed.notices.is_empty() {
        return Err(crawler::Error::EmptyDigest { name }.into());
    }
    let mut store = NoticeStore::open(&ctx.data.root)?;
    crawler::store::ingest_digest(&mut store, &parsed.notices, "ingest")?;
    store.close("ingest")?;
    eprintln!("indexed {} notices from {}", parsed.notices.len(), args.file.display());
    Ok(ExitCode::SUCCESS)
}

/// Builds the index from the bundled sample digest when it is empty.
pub fn ensure_sample(ctx: &Ctx, index: &NoticeIndex) -> Result<()> {
    if let Some(n) = crawler::store::ensure_sample(&ctx.data.root, index)? {
        eprintln!(
            "notices: the index was empty; built it from the bundled sample digest {} ({n} notices)",
            crawler::SAMPLE_DIGEST_NAME
        );
    }
    Ok(())
}
