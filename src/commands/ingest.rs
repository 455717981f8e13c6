//! `notices ingest FILE`: index the items of a weekly digest.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
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
    let index = ctx.open_index()?;
    let history = crawler::history::History::open(&ctx.data.crawl_db())?;
    let count = ingest_text(&index, Some(&history), &name, &text, "ingest")?;
    eprintln!("indexed {count} notices from {}", args.file.display());
    Ok(ExitCode::SUCCESS)
}

/// Parses `text` as a digest and upserts its notices; returns how many.
pub fn ingest_text(
    index: &NoticeIndex,
    history: Option<&crawler::history::History>,
    name: &str,
    text: &str,
    by: &str,
) -> Result<usize> {
    let parsed = crawler::digest::parse(name, text);
    for w in &parsed.warnings {
        tracing::warn!(line = w.line, "{name}: {}", w.message);
    }
    if parsed.notices.is_empty() {
        return Err(
            UsageError(format!("{name}: no digest items found (expected numbered items such as \"1、\")")).into()
        );
    }
    let mut writer = index.writer(1)?;
    let mut changed = Vec::new();
    for mut notice in parsed.notices.iter().cloned() {
        if index.carry_over(&mut notice)? {
            writer.upsert(&notice).with_context(|| format!("cannot index {:?}", notice.title))?;
            changed.push(notice);
        }
    }
    writer.commit(by)?;
    // History after the commit: a version row never names a notice the
    // index lacks.
    if let Some(history) = history {
        let now = chrono::Utc::now();
        for notice in &changed {
            history.record(notice, now)?;
        }
    }
    Ok(parsed.notices.len())
}

/// Builds the index from the bundled sample digest when it is empty.
pub fn ensure_sample(index: &NoticeIndex) -> Result<()> {
    if !index.is_empty()? {
        return Ok(());
    }
    let n = ingest_text(index, None, crawler::SAMPLE_DIGEST_NAME, crawler::SAMPLE_DIGEST, "sample")?;
    eprintln!(
        "notices: the index was empty; built it from the bundled sample digest {} ({n} notices)",
        crawler::SAMPLE_DIGEST_NAME
    );
    Ok(())
}
