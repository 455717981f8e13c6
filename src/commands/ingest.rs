//! `notices ingest PATH`: index the items of a weekly digest, or pages
//! saved from a browser (`.html`, `.mhtml`), web archives (`.warc`,
//! `.warc.gz`) and folders of them. Reading and extraction are the crawler
//! crate's (`crawler::saved`); this is glue.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use crawler::saved::{self, Kind, Refusal, extract::SavedNotice};
use crawler::store::{Arrival, NoticeStore};
use index::{Notice, NoticeIndex};

use super::Ctx;
use crate::UsageError;

/// Arguments of `notices ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// A digest text file (UTF-8, e.g. a weekly digest extracted from PDF),
    /// a page saved from a browser (.html, .htm, .mhtml), a WARC file
    /// (.warc, .warc.gz), or a folder of pages and archives (read recursively).
    #[arg(value_name = "PATH")]
    pub file: PathBuf,
}

/// Ingests a digest, or saved pages and archives, by what `PATH` holds.
pub fn run(ctx: &Ctx, args: IngestArgs) -> Result<ExitCode> {
    let path = &args.file;
    let kind = saved::classify_path(path).map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    match kind {
        Some(Kind::Text) => ingest_digest(ctx, path),
        Some(Kind::Other(what)) => Err(UsageError(format!(
            "{}: not a digest, saved page (.html, .mhtml) or WARC file ({what})",
            path.display()
        ))
        .into()),
        // A folder, an HTML page, an MHTML or a WARC.
        _ => ingest_saved(ctx, path),
    }
}

fn ingest_digest(ctx: &Ctx, path: &Path) -> Result<ExitCode> {
    let bytes = std::fs::read(path).map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        UsageError(format!("{} is not UTF-8 text (invalid byte at {})", path.display(), e.utf8_error().valid_up_to()))
    })?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "digest".into());
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
    eprintln!("indexed {} notices from {}", parsed.notices.len(), path.display());
    Ok(ExitCode::SUCCESS)
}

/// Reads every saved page and archive under `path`, indexes what it can,
/// reports what it refused and the counts.
fn ingest_saved(ctx: &Ctx, path: &Path) -> Result<ExitCode> {
    let mut found: Vec<SavedNotice> = Vec::new();
    let mut refused: Vec<Refusal> = Vec::new();
    for item in saved::extract::notices(path) {
        match item {
            Ok(n) => {
                for w in &n.warnings {
                    eprintln!("warning: {w}");
                }
                found.push(n);
            }
            Err(r) => {
                eprintln!("refused: {r}");
                refused.push(r);
            }
        }
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &refused {
        *reasons.entry(r.reason.kind()).or_default() += 1;
    }
    let reasons = reasons.iter().map(|(k, n)| format!("{k}: {n}")).collect::<Vec<_>>().join(", ");
    if found.is_empty() {
        let msg = match refused.as_slice() {
            [one] if !path.is_dir() => one.to_string(),
            [] => format!("{}: no saved pages found", path.display()),
            _ => format!("{}: nothing ingested; {} refused ({reasons})", path.display(), refused.len()),
        };
        return Err(UsageError(msg).into());
    }
    // Files inside an .mhtml or a WARC are read as a crawl reads a download.
    let kept = crawler::attachments::KeptFiles::new(&ctx.data.root, ctx.config.crawl.attachment_cache_mb);
    let mut read = 0;
    for n in &mut found {
        read += n.read_files(&ctx.config.crawl.extract, &kept);
    }
    let notices: Vec<Notice> = found.iter().map(|n| n.notice.clone()).collect();
    let stored = store_saved(ctx, notices)?;
    for n in &found {
        let status = stored.status.get(&n.notice.id).copied().unwrap_or("unchanged");
        let date = n.notice.published.map(|d| d.to_string()).unwrap_or_else(|| "undated".into());
        println!("{status}\t{}\t{date}\t{}\t{}\t{}", n.notice.source, n.notice.id, n.notice.title, n.origin);
    }
    let files: usize = found.iter().map(|n| n.attachments.len()).sum();
    let mut line = format!(
        "ingested {}: {} new, {} updated, {} unchanged",
        path.display(),
        stored.new,
        stored.updated,
        stored.unchanged
    );
    if files > 0 {
        line.push_str(&format!("; {files} attachment files found in archives, {read} with text"));
    }
    if !refused.is_empty() {
        line.push_str(&format!("; {} refused ({reasons})", refused.len()));
    }
    eprintln!("{line}");
    Ok(ExitCode::SUCCESS)
}

/// What [`store_saved`] did.
#[derive(Debug, Default)]
struct Stored {
    new: usize,
    updated: usize,
    unchanged: usize,
    /// `new` or `updated` by notice id.
    status: BTreeMap<String, &'static str>,
}

/// The write path of saved pages: every notice read from saved pages and
/// archives goes through the notice store here, in one commit. A page met
/// twice in one run (a WARC that archived it twice) is written once, as
/// last met.
fn store_saved(ctx: &Ctx, notices: Vec<Notice>) -> Result<Stored> {
    let mut last: BTreeMap<String, Notice> = BTreeMap::new();
    for n in notices {
        last.insert(n.id.clone(), n);
    }
    let mut stored = Stored::default();
    let mut store = NoticeStore::open(&ctx.data.root)?;
    for (id, notice) in last {
        match store.accept(Arrival::saved(notice))? {
            crawler::store::Stored::New => {
                stored.new += 1;
                stored.status.insert(id, "new");
            }
            crawler::store::Stored::Changed => {
                stored.updated += 1;
                stored.status.insert(id, "updated");
            }
            _ => stored.unchanged += 1,
        }
    }
    store.close("ingest")?;
    Ok(stored)
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
