//! `notices crawl`: crawl the sources, a digest's links or given pages into
//! the index, politely, resuming an interrupted crawl; with `--watch`, again
//! and again on a schedule (`--every 6h` or `--recrawl "0 */6 * * *"`).
//!
//! Glue only: the flags become a [`CrawlPlan`] and the crawl is the
//! library's [`crawler::crawl::crawl`] (which a server's scheduled
//! re-crawls call too); this module prints its summary.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use crawler::crawl::{CrawlPlan, DigestSeed};
use crawler::engine::Summary;
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
    /// How pages are fetched, for every source this run: http (never a
    /// browser), browser (HTML pages in headless Chromium) or auto (plain
    /// HTTP, the browser for a page that answers with a JavaScript
    /// challenge). Default: each source's `fetch` setting (auto for nmpa and cde).
    #[arg(long, value_name = "MODE")]
    pub fetch: Option<crawler::browser::FetchMode>,
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
    let plan = plan(ctx, &args)?;
    // A watcher with a bad source name fails now, not at every tick.
    let info = plan.check()?;
    if let Some(d) = &info.digest {
        eprintln!("{}: {} items, {} linked pages to fetch", d.name, d.items, d.linked_pages);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")?;
    match schedule {
        None => {
            // Ctrl-C or SIGTERM stops the crawl at a commit boundary, so
            // that it ends cleanly, its browser (if any) stopped with it.
            let summary = rt.block_on(async {
                let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
                let signal = tokio::spawn(async move {
                    crate::server::shutdown_signal().await;
                    let _ = stop_tx.send(true);
                });
                let summary = crawl_with_bar(&plan, stop_rx).await;
                signal.abort();
                summary
            })?;
            print_summary(&summary, args.json)?;
        }
        Some(schedule) => rt.block_on(watch(&plan, args.json, schedule))?,
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

/// `--watch`: a crawl now, then one per tick of `schedule`, until Ctrl-C or
/// SIGTERM. Each run holds the crawl lock only while it runs, so another
/// process may crawl between runs; a run refused because one does is
/// reported and the next tick tries again. A signal during a run stops it
/// at a commit boundary (the next start resumes it); between runs, at once.
async fn watch(plan: &CrawlPlan, json: bool, schedule: Schedule) -> Result<()> {
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
        match crawler::crawl::crawl(plan, Some(stop_rx.clone())).await {
            Ok(summary) => {
                if !json {
                    println!("run {n}, {}:", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC"));
                }
                if let Err(e) = print_summary(&summary, json) {
                    tracing::error!("cannot print the summary: {e:#}");
                }
            }
            Err(e @ crawler::Error::Busy { .. }) => {
                eprintln!("notices: run {n} skipped: {e}; trying again at the next scheduled time");
            }
            Err(e) => eprintln!("notices: run {n} failed: {e}; trying again at the next scheduled time"),
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

/// The plan of the flags: the configuration with the flags applied, the
/// named sources and pages, the digest's text.
fn plan(ctx: &Ctx, args: &CrawlArgs) -> Result<CrawlPlan> {
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
    if args.fetch.is_some() {
        cfg.fetch = args.fetch;
    }
    let digest = match &args.from_digest {
        Some(file) => {
            let bytes = std::fs::read(file).map_err(|e| UsageError(format!("cannot read {}: {e}", file.display())))?;
            let text =
                String::from_utf8(bytes).map_err(|_| UsageError(format!("{} is not UTF-8 text", file.display())))?;
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "digest".into());
            Some(DigestSeed { name, text })
        }
        None => None,
    };
    Ok(CrawlPlan {
        config: cfg,
        sources: args.sources.clone(),
        urls: args.urls.clone(),
        digest,
        ..CrawlPlan::new(&ctx.data.root)
    })
}

/// One crawl with a progress spinner on a terminal, stopped when `stop` turns true.
async fn crawl_with_bar(plan: &CrawlPlan, stop: tokio::sync::watch::Receiver<bool>) -> Result<Summary> {
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} done, {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let progress = bar.clone();
    let summary = crawler::crawl::crawl_with_progress(plan, Some(stop), move |p| {
        progress.set_position(p.done);
        progress.set_message(format!("{} to go, {} errors — {}", p.remaining, p.errors, p.url));
    })
    .await;
    bar.finish_and_clear();
    Ok(summary?)
}

fn print_summary(s: &Summary, json: bool) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if json {
        // One line per run, so that `--watch --json` is JSON Lines.
        serde_json::to_writer(&mut out, s)?;
        writeln!(out)?;
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
    let a = &s.attachments;
    if a.read + a.unchanged > 0 {
        writeln!(
            out,
            "attachments: {} read ({} KiB): {} with text, {} without, {} unreadable; {} unchanged; {} notices updated",
            a.read,
            a.bytes / 1024,
            a.text,
            a.no_text,
            a.unreadable,
            a.unchanged,
            a.notices_updated
        )?;
        for e in a.errors.iter().take(20) {
            writeln!(out, "  unreadable  {}  {}", e.url, e.reason)?;
        }
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
}
