//! `notices crawl`: crawl the sources, a digest's links or given pages into
//! the index, politely, resuming an interrupted crawl.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use crawler::config::CrawlConfig;
use crawler::engine::{Engine, Summary};
use crawler::lock::CrawlLock;
use crawler::sources::{self, Source, generic::Generic};
use crawler::state::CrawlState;
use indicatif::{ProgressBar, ProgressStyle};

use super::Ctx;
use crate::UsageError;

/// Arguments of `notices crawl`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CrawlArgs {
    /// Fetch every page a weekly digest links and merge it into the item's notice.
    #[arg(long, value_name = "FILE")]
    pub from_digest: Option<PathBuf>,
    /// Crawl only this source (repeatable): cnipa, cde, nmpa, fda, eca.
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// Fetch this page with generic extraction (repeatable).
    #[arg(long = "url", value_name = "URL")]
    pub urls: Vec<String>,
    /// Minimum delay between two requests to one host, in milliseconds (default 1000).
    #[arg(long, value_name = "MS")]
    pub delay_ms: Option<u64>,
    /// Stop after this many fetched pages; the next crawl resumes from there.
    #[arg(long, value_name = "N")]
    pub max_pages: Option<usize>,
    /// User-Agent header (default names the project and a contact URL).
    #[arg(long, value_name = "UA")]
    pub user_agent: Option<String>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs a crawl and prints its summary.
pub fn run(ctx: &Ctx, args: CrawlArgs) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    let summary = rt.block_on(crawl(ctx, &args))?;
    print_summary(&summary, args.json)?;
    Ok(ExitCode::SUCCESS)
}

/// The configuration with the flags applied.
fn config(ctx: &Ctx, args: &CrawlArgs) -> CrawlConfig {
    let mut cfg = ctx.config.crawl.clone();
    if let Some(d) = args.delay_ms {
        cfg.delay_ms = d;
    }
    if args.max_pages.is_some() {
        cfg.max_pages = args.max_pages;
    }
    if let Some(ua) = &args.user_agent {
        cfg.user_agent = Some(ua.clone());
    }
    cfg
}

/// What to crawl: given pages and a digest's links when asked for, else
/// the named (or all) known sources. Also the digest's items, to index first.
/// The sources to crawl and the notices to index before crawling.
type Plan = (Vec<Box<dyn Source>>, Vec<index::Notice>);

fn plan(cfg: &CrawlConfig, args: &CrawlArgs) -> Result<Plan> {
    let mut list: Vec<Box<dyn Source>> = Vec::new();
    let mut seeds = Vec::new();
    if let Some(file) = &args.from_digest {
        let bytes = std::fs::read(file).map_err(|e| UsageError(format!("cannot read {}: {e}", file.display())))?;
        let text = String::from_utf8(bytes).map_err(|_| UsageError(format!("{} is not UTF-8 text", file.display())))?;
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "digest".into());
        let parsed = crawler::digest::parse(&name, &text);
        for w in &parsed.warnings {
            tracing::warn!(line = w.line, "{name}: {}", w.message);
        }
        if parsed.notices.is_empty() {
            return Err(UsageError(format!("{name}: no digest items found")).into());
        }
        let generic = Generic::from_digest(&parsed.notices);
        eprintln!("{name}: {} items, {} linked pages to fetch", parsed.notices.len(), generic.seeds().len());
        list.push(Box::new(generic));
        seeds = parsed.notices;
    }
    if !args.urls.is_empty() {
        list.push(Box::new(Generic::from_strs(&args.urls)?));
    }
    let explicit_pages = !list.is_empty();
    if !args.sources.is_empty() {
        for name in &args.sources {
            let settings = cfg.sources.get(&name.to_ascii_lowercase()).cloned().unwrap_or_default();
            let source = sources::by_name(name, &settings).ok_or_else(|| {
                UsageError(format!(
                    "unknown or unavailable source {name:?}: known sources are {}",
                    sources::NAMES.join(", ")
                ))
            })?;
            list.push(source);
        }
    } else if !explicit_pages {
        list = sources::all(&cfg.sources);
        if list.is_empty() {
            return Err(UsageError("no source to crawl: every source is disabled in the configuration".into()).into());
        }
    }
    Ok((list, seeds))
}

/// Takes the data directory's crawl lock and runs the crawl. Reusable by a
/// scheduler (`--watch`, `serve --recrawl-every`).
pub async fn crawl(ctx: &Ctx, args: &CrawlArgs) -> Result<Summary> {
    let cfg = config(ctx, args);
    let (list, seeds) = plan(&cfg, args)?;
    let lock = CrawlLock::acquire(&ctx.data.root)?;
    let index = ctx.open_index()?;
    let state_path = ctx.data.crawl_db();
    let state = CrawlState::open(&state_path)?;
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} done, {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let progress = bar.clone();
    let engine = Engine::new(cfg, list, index, state).with_seed_notices(seeds).on_progress(move |p| {
        progress.set_position(p.done);
        progress.set_message(format!("{} to go, {} errors — {}", p.remaining, p.errors, p.url));
    });
    let summary = engine.run().await;
    bar.finish_and_clear();
    drop(lock);
    Ok(summary?)
}

fn print_summary(s: &Summary, json: bool) -> Result<()> {
    if json {
        let errors: Vec<serde_json::Value> =
            s.errors.iter().map(|e| serde_json::json!({"url": e.url, "reason": e.reason})).collect();
        let v = serde_json::json!({
            "resumed": s.resumed,
            "pages": s.pages,
            "not_modified": s.not_modified,
            "skipped": s.skipped,
            "requests": s.requests,
            "bytes": s.bytes,
            "new": s.new,
            "changed": s.changed,
            "unchanged": s.unchanged,
            "disallowed": s.disallowed,
            "errors": errors,
            "stopped_early": s.stopped_early,
            "seconds": s.elapsed.as_secs_f64(),
        });
        println!("{v}");
        return Ok(());
    }
    if s.resumed {
        println!("resumed an interrupted crawl");
    }
    println!(
        "crawled {} pages ({} not modified, {} not due) with {} requests, {} KiB in {:.1} s",
        s.pages,
        s.not_modified,
        s.skipped,
        s.requests,
        s.bytes / 1024,
        s.elapsed.as_secs_f64()
    );
    println!("notices: {} new, {} changed, {} unchanged", s.new, s.changed, s.unchanged);
    if s.errors.is_empty() {
        println!("errors: none");
    } else {
        println!("errors: {} (the crawl went on)", s.errors.len());
        for e in s.errors.iter().take(20) {
            println!("  {}  {}", e.url, e.reason);
        }
        if s.errors.len() > 20 {
            println!("  ... and {} more", s.errors.len() - 20);
        }
    }
    if s.stopped_early {
        println!("stopped at --max-pages; the next crawl resumes where this one stopped");
    }
    Ok(())
}
