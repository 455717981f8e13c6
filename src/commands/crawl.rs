//! `notices crawl`: crawl the sources, a digest's links or given pages into
//! the index, politely, resuming an interrupted crawl; with `--watch`, again
//! and again on a schedule (`--every 6h` or `--recrawl "0 */6 * * *"`).
//!
//! # One crawl, for every caller
//!
//! [`crawl_once`] is the whole of one crawl: it takes the data directory's
//! crawl lock (an `flock`, so only one writer per data directory across
//! processes, and a lock left by a killed process is free at once), opens
//! the index and the crawl state, crawls, commits, and releases the lock.
//! `notices crawl`, each tick of `notices crawl --watch`, and a server's
//! scheduled re-crawls (`serve --recrawl-every`) all call it:
//!
//! ```ignore
//! let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
//! // Default arguments: every enabled source of the configuration.
//! match crawl_once(&ctx, &CrawlArgs::default(), Some(stop_rx)).await {
//!     Ok(summary) => tracing::info!(new = summary.new, changed = summary.changed, "re-crawl done"),
//!     // Another process crawls this data directory now: try at the next tick.
//!     Err(e) if is_busy(&e) => tracing::warn!("{e:#}"),
//!     Err(e) => tracing::error!("re-crawl failed: {e:#}"),
//! }
//! // On shutdown: `stop_tx.send(true)` ends a crawl in progress at a commit
//! // boundary; the next crawl resumes its queue.
//! ```
//!
//! A reader (a running server) sees the new commits without a restart: the
//! index reloads on commit.

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
use crate::scheduler::Schedule;

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
    /// Print the summary as JSON on stdout (with --watch: one line per run).
    #[arg(long)]
    pub json: bool,
    /// Keep running: crawl now, then again on a schedule (--every, default
    /// 6h, or --recrawl), until Ctrl-C or SIGTERM.
    #[arg(long)]
    pub watch: bool,
    /// With --watch: the interval between crawls (e.g. 6h, 30m, 1d), plus a little jitter.
    #[arg(long, value_name = "DURATION", requires = "watch", conflicts_with = "recrawl")]
    pub every: Option<String>,
    /// With --watch: when to crawl, as a cron expression in UTC (e.g. "0 */6 * * *").
    #[arg(long, value_name = "CRON", requires = "watch")]
    pub recrawl: Option<String>,
}

/// The interval of `--watch` without `--every` or `--recrawl`.
pub const DEFAULT_EVERY: &str = "6h";

/// Runs a crawl (or, with `--watch`, crawls on a schedule) and prints summaries.
pub fn run(ctx: &Ctx, args: CrawlArgs) -> Result<ExitCode> {
    // Bad arguments are reported before anything is opened or locked.
    let schedule = schedule(&args)?;
    if schedule.is_some() {
        // A watcher with a bad source name fails now, not at every tick.
        plan(&config(ctx, &args), &args)?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    match schedule {
        None => {
            let summary = rt.block_on(crawl(ctx, &args, None, true))?;
            print_summary(&summary, args.json)?;
        }
        Some(schedule) => rt.block_on(watch(ctx, &args, schedule))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The schedule of `--watch`, if asked for.
fn schedule(args: &CrawlArgs) -> Result<Option<Schedule>, UsageError> {
    if !args.watch {
        return Ok(None);
    }
    match (&args.every, &args.recrawl) {
        (_, Some(cron)) => Schedule::cron(cron).map(Some),
        (every, None) => Schedule::every(every.as_deref().unwrap_or(DEFAULT_EVERY)).map(Some),
    }
}

/// Whether a crawl failed because another process holds the data
/// directory's crawl lock (try again later) rather than for a fault.
pub fn is_busy(err: &anyhow::Error) -> bool {
    err.chain().any(|e| matches!(e.downcast_ref::<crawler::Error>(), Some(crawler::Error::Busy { .. })))
}

/// `--watch`: a crawl now, then one per tick of `schedule`, until Ctrl-C or
/// SIGTERM. Each run holds the crawl lock only while it runs, so another
/// process may crawl between runs; a run refused because one does is
/// reported and the next tick tries again. A signal during a run stops it
/// at a commit boundary (the next start resumes it); between runs, at once.
async fn watch(ctx: &Ctx, args: &CrawlArgs, schedule: Schedule) -> Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let signal = tokio::spawn(async move {
        crate::server::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let mut stopped = stop_rx.clone();
    let shutdown = async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    let runs = std::sync::atomic::AtomicU64::new(0);
    let tick = || async {
        let n = runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        tracing::info!(run = n, "scheduled crawl starting");
        match crawl_once(ctx, args, Some(stop_rx.clone())).await {
            Ok(summary) => {
                if !args.json {
                    println!("run {n}, {}:", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC"));
                }
                if let Err(e) = print_summary(&summary, args.json) {
                    tracing::error!("cannot print the summary: {e:#}");
                }
            }
            Err(e) if is_busy(&e) => {
                eprintln!("notices: run {n} skipped: {e:#}; trying again at the next scheduled time");
            }
            Err(e) => eprintln!("notices: run {n} failed: {e:#}; trying again at the next scheduled time"),
        }
    };
    // The first run is not handed to the scheduler's start-up run, which would
    // drop it mid-way on a signal: the engine's own stop ends it cleanly.
    tick().await;
    if !*stop_rx.borrow() {
        crate::scheduler::run(schedule, false, tick, shutdown).await;
    }
    signal.abort();
    eprintln!("notices: watch stopped");
    Ok(())
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

/// One crawl: takes the data directory's crawl lock (failing at once with
/// [`crawler::Error::Busy`], see [`is_busy`], when another process holds
/// it), crawls what `args` names (default: every enabled source of the
/// configuration) and releases the lock. `stop` turning true ends it at a
/// commit boundary. See the module documentation.
pub async fn crawl_once(
    ctx: &Ctx,
    args: &CrawlArgs,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> Result<Summary> {
    crawl(ctx, args, stop, false).await
}

async fn crawl(
    ctx: &Ctx,
    args: &CrawlArgs,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
    show_progress: bool,
) -> Result<Summary> {
    let cfg = config(ctx, args);
    let (list, seeds) = plan(&cfg, args)?;
    let lock = CrawlLock::acquire(&ctx.data.root)?;
    let index = ctx.open_index()?;
    let state_path = ctx.data.crawl_db();
    let state = CrawlState::open(&state_path)?;
    let bar = if show_progress && std::io::stderr().is_terminal() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} done, {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let progress = bar.clone();
    let mut engine = Engine::new(cfg, list, index, state).with_seed_notices(seeds).on_progress(move |p| {
        progress.set_position(p.done);
        progress.set_message(format!("{} to go, {} errors — {}", p.remaining, p.errors, p.url));
    });
    if let Some(stop) = stop {
        engine = engine.stop_on(stop);
    }
    let summary = engine.run().await;
    bar.finish_and_clear();
    drop(lock);
    Ok(summary?)
}

fn print_summary(s: &Summary, json: bool) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if json {
        let errors: Vec<serde_json::Value> = s
            .errors
            .iter()
            .map(|e| serde_json::json!({"url": e.url, "reason": e.reason, "blocked": e.blocked}))
            .collect();
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
            "withdrawn": s.withdrawn,
            "disallowed": s.disallowed,
            "errors": errors,
            "sources": s.sources,
            "stopped_early": s.stopped_early,
            "interrupted": s.interrupted,
            "seconds": s.elapsed.as_secs_f64(),
        });
        // One line per run, so that `--watch --json` is JSON Lines.
        writeln!(out, "{v}")?;
        out.flush()?;
        return Ok(());
    }
    if s.resumed {
        writeln!(out, "resumed an interrupted crawl")?;
    }
    writeln!(
        out,
        "crawled {} pages ({} not modified, {} not due) with {} requests, {} KiB in {:.1} s",
        s.pages,
        s.not_modified,
        s.skipped,
        s.requests,
        s.bytes / 1024,
        s.elapsed.as_secs_f64()
    )?;
    write!(out, "notices: {} new, {} changed, {} unchanged", s.new, s.changed, s.unchanged)?;
    if s.withdrawn > 0 {
        write!(out, ", {} withdrawn", s.withdrawn)?;
    }
    writeln!(out)?;
    let width = s.sources.keys().map(|k| k.chars().count()).max().unwrap_or(0).max(6);
    writeln!(
        out,
        "  {:<width$}  {:>5} {:>7} {:>9} {:>6} {:>7}",
        "source", "new", "changed", "unchanged", "failed", "blocked"
    )?;
    for (label, p) in &s.sources {
        writeln!(
            out,
            "  {label:<width$}  {:>5} {:>7} {:>9} {:>6} {:>7}",
            p.new, p.changed, p.unchanged, p.failed, p.blocked
        )?;
    }
    for (label, p) in s.sources.iter().filter(|(_, p)| p.blocked > 0) {
        let hint = p.hint.as_deref().unwrap_or("the site refused the crawl; try again later");
        let urls = if p.blocked == 1 { "1 URL".to_string() } else { format!("{} URLs", p.blocked) };
        writeln!(out, "{label} is blocking the crawl ({urls} refused): {hint}")?;
    }
    if s.errors.is_empty() {
        writeln!(out, "errors: none")?;
    } else {
        writeln!(out, "errors: {} (the crawl went on)", s.errors.len())?;
        for e in s.errors.iter().take(20) {
            writeln!(out, "  {}  {}", e.url, e.reason)?;
        }
        if s.errors.len() > 20 {
            writeln!(out, "  ... and {} more", s.errors.len() - 20)?;
        }
    }
    if s.interrupted {
        writeln!(out, "interrupted; the next crawl resumes where this one stopped")?;
    } else if s.stopped_early {
        writeln!(out, "stopped at --max-pages; the next crawl resumes where this one stopped")?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn watch_schedules_from_the_flags() {
        let args = |every: Option<&str>, cron: Option<&str>| CrawlArgs {
            watch: true,
            every: every.map(Into::into),
            recrawl: cron.map(Into::into),
            ..CrawlArgs::default()
        };
        assert!(schedule(&CrawlArgs::default()).unwrap().is_none(), "no --watch: one crawl");
        let d = schedule(&args(None, None)).unwrap().unwrap();
        assert!(matches!(d, Schedule::Every(d) if d == Duration::from_secs(6 * 3600)), "default 6h");
        let e = schedule(&args(Some("30m"), None)).unwrap().unwrap();
        assert!(matches!(e, Schedule::Every(d) if d == Duration::from_secs(1800)));
        assert!(matches!(schedule(&args(None, Some("0 */6 * * *"))).unwrap().unwrap(), Schedule::Cron(_)));
        assert!(schedule(&args(Some("soon"), None)).is_err());
        assert!(schedule(&args(None, Some("x"))).is_err());
    }

    #[test]
    fn busy_is_told_from_other_failures() {
        let dir = tempfile::tempdir().unwrap();
        let _held = CrawlLock::acquire(dir.path()).unwrap();
        let busy = anyhow::Error::new(CrawlLock::acquire(dir.path()).unwrap_err()).context("crawl");
        assert!(is_busy(&busy));
        assert!(!is_busy(&anyhow::anyhow!("disk full")));
        assert!(!is_busy(&anyhow::Error::new(crawler::Error::Config("x".into()))));
    }
}
