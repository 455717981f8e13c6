//! The crawl engine: drives the sources' requests through the fetcher,
//! hands pages to the sources, passes the notices they read to the
//! [`NoticeStore`] and records every URL in the crawl state.
//!
//! Each finished request becomes a typed [`PageOutcome`] (fetched, not
//! modified, challenged, gone, failed, disallowed), decided by the kind of
//! page (listing, detail, attachment) and then settled in one place: the
//! URL's backoff, revisit time, gone streak and the report's counts.
//!
//! Crash safety: the state rows that say a page is done are written only
//! after the index commit that holds its notices
//! ([`NoticeStore::checkpoint`]). A crawl killed at any point loses at most
//! the pages since the last commit, which the next run (resuming the
//! unfinished run's queue) fetches again; it never records a notice the
//! index lacks.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use index::{AttachmentFile, Notice};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use crate::attachments::{self, KeptFiles};
use crate::config::CrawlConfig;
use crate::error::Result;
use crate::fetch::{AllowedHosts, Conditional, Fetch, Fetcher, Outcome};
use crate::outcome::{Challenge, PageOutcome};
use crate::revisit::Policy;
use crate::sources::{Page, PageKind, Source};
use crate::state::{Batch, QueueItem, UrlRecord, now_ms};
use crate::store::{Arrival, NoticeStore, Stored};

/// A URL that ended in an error this run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UrlError {
    /// The URL (state key).
    pub url: String,
    /// Why.
    pub reason: String,
    /// Whether the site blocked the crawl (an anti-bot challenge, a 403, an
    /// apology redirect) rather than the page failing.
    pub blocked: bool,
}

/// What a crawl did for one source (keyed by its label in [`Summary::sources`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceSummary {
    /// Notices added to the index.
    pub new: u64,
    /// Notices whose content changed and were re-indexed.
    pub changed: u64,
    /// Notices fetched and found unchanged (not re-indexed).
    pub unchanged: u64,
    /// Pages that answered 304 Not Modified.
    pub not_modified: u64,
    /// Notices marked withdrawn this run (their page gone several runs in a row).
    pub withdrawn: u64,
    /// URLs that failed (timeouts, 404s, 5xx, parse errors, robots).
    pub failed: u64,
    /// URLs the site blocked (challenges, 403 walls).
    pub blocked: u64,
    /// What the user can do about a block ([`Source::unblock_hint`]), when blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// What a crawl did; its JSON is what `notices crawl --json` prints.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    /// Whether an interrupted run was taken up again.
    pub resumed: bool,
    /// Pages fetched (a 2xx answer, or a 403/412 page shown to the source).
    pub pages: u64,
    /// Pages that answered 304 Not Modified.
    pub not_modified: u64,
    /// Details left alone because the state says they are finished and not due.
    pub skipped: u64,
    /// HTTP requests made (robots.txt, retries and redirects included).
    pub requests: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Notices added to the index.
    pub new: u64,
    /// Notices whose content changed and were re-indexed.
    pub changed: u64,
    /// Notices fetched and found unchanged (not re-indexed).
    pub unchanged: u64,
    /// Notices marked withdrawn this run.
    pub withdrawn: u64,
    /// URLs refused by robots.txt (never requested).
    pub disallowed: u64,
    /// URLs that ended in an error, with the reason.
    pub errors: Vec<UrlError>,
    /// The same figures by source label (`NMPA`, `FDA`, `other/host`; `digest`
    /// for a digest's items), every crawled source present.
    pub sources: BTreeMap<String, SourceSummary>,
    /// Whether the crawl stopped at `max_pages` with work left, or was
    /// interrupted (the next run resumes it).
    pub stopped_early: bool,
    /// Whether it was asked to stop ([`Engine::stop_on`]) before its end.
    pub interrupted: bool,
    /// What became of the attachments.
    pub attachments: AttachmentSummary,
    /// Wall time (in seconds in the JSON).
    #[serde(rename = "seconds", serialize_with = "as_seconds")]
    pub elapsed: Duration,
}

/// What a crawl did with attachments.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AttachmentSummary {
    /// Files downloaded and read this run.
    pub read: u64,
    /// Bytes of the files read.
    pub bytes: u64,
    /// Files that gave text.
    pub text: u64,
    /// Files read without text (a scan, an unsupported format), with no error.
    pub no_text: u64,
    /// Files that could not be read (malformed, encrypted, a zip bomb, too
    /// large, the time cap), each with its reason in `errors`.
    pub unreadable: u64,
    /// Files found unchanged (304, or the same bytes): not read again.
    pub unchanged: u64,
    /// Notices whose attachment text changed and were re-indexed.
    pub notices_updated: u64,
    /// Why each unreadable file could not be read (the crawl went on).
    pub errors: Vec<UrlError>,
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Progress reported after each URL.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// URLs finished this run.
    pub done: u64,
    /// URLs waiting or in flight.
    pub remaining: u64,
    /// Errors so far.
    pub errors: u64,
    /// The URL just finished.
    pub url: String,
}

type ProgressFn = Box<dyn Fn(&Progress) + Send + Sync>;

/// A crawl over some sources into one [`NoticeStore`].
pub struct Engine {
    cfg: CrawlConfig,
    sources: Vec<Arc<dyn Source>>,
    store: NoticeStore,
    seeds: Vec<Notice>,
    since: Option<NaiveDate>,
    progress: Option<ProgressFn>,
    summary: Summary,
    /// Notices counted this run: a notice is new, changed or unchanged once
    /// per run, however many pages touch it (FDA: the feed, then the page).
    counted: HashSet<String>,
    /// Set to true to stop the crawl at the next commit boundary.
    stop: Option<tokio::sync::watch::Receiver<bool>>,
    /// Kept copies of downloaded attachments.
    kept: KeptFiles,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("sources", &self.sources.len()).field("store", &self.store).finish()
    }
}

/// One finished fetch task.
struct Done {
    item: QueueItem,
    key: String,
    record: UrlRecord,
    fetch: Fetch,
    /// Of an attachment whose bytes are new: what was read of them (read in
    /// the fetch task, off the engine's loop and the runtime's threads).
    read: Option<AttachmentFile>,
}

/// The run's queue: what waits, what was ever queued, and the state rows
/// to write at the next checkpoint.
#[derive(Default)]
struct Queue {
    frontier: Frontier,
    seen: HashSet<String>,
    batch: Batch,
}

impl Queue {
    /// Queues the items not queued before this run.
    fn enqueue(&mut self, items: Vec<QueueItem>) {
        for item in items {
            if self.seen.insert(item.key()) {
                self.batch.enqueue.push(item.clone());
                self.frontier.push(item);
            }
        }
    }
}

/// The validators and size a fetched page came with.
struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
    length: Option<u64>,
    /// The body was cut at its cap.
    truncated: bool,
}

impl Engine {
    /// A crawl of `sources` into `store` (which holds the data directory's crawl lock).
    pub fn new(cfg: CrawlConfig, sources: Vec<Box<dyn Source>>, store: NoticeStore) -> Engine {
        let kept = KeptFiles::new(store.root(), cfg.attachment_cache_mb);
        Engine {
            kept,
            cfg,
            sources: sources.into_iter().map(Arc::from).collect(),
            store,
            seeds: Vec::new(),
            since: None,
            progress: None,
            summary: Summary::default(),
            counted: HashSet::new(),
            stop: None,
        }
    }

    /// Notices to store before crawling (a digest's items), unless the
    /// store already has them (a previous crawl may have enriched them).
    pub fn with_seed_notices(mut self, seeds: Vec<Notice>) -> Engine {
        self.seeds = seeds;
        self
    }

    /// Leaves out the notices a listing dates before `since`.
    pub fn since(mut self, since: Option<NaiveDate>) -> Engine {
        self.since = since;
        self
    }

    /// Stops the crawl when `stop` turns true (SIGTERM in `notices crawl
    /// --watch`, a server shutting down): no new request is started, those
    /// in flight are dropped, what was handled is committed, and the run is
    /// left unfinished so that the next one resumes its queue.
    pub fn stop_on(mut self, stop: tokio::sync::watch::Receiver<bool>) -> Engine {
        self.stop = Some(stop);
        self
    }

    /// Calls `f` after each URL.
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Engine {
        self.progress = Some(Box::new(f));
        self
    }

    /// The hosts the crawl may visit: those of the start requests, the
    /// configured ones and base URLs, and the hosts of the known agencies crawled.
    fn allowed_hosts(&self) -> AllowedHosts {
        let mut allowed = AllowedHosts::new(&self.cfg.allowed_hosts);
        for s in &self.sources {
            allowed.add_agency(s.id());
            for r in s.start_requests() {
                allowed.add_url(&r.url);
            }
        }
        for settings in self.cfg.sources.values() {
            for u in settings.base_url.iter().chain(&settings.start_urls) {
                allowed.add_url(u);
            }
        }
        allowed
    }

    /// Runs the crawl to its end (or `max_pages`), then closes the store.
    pub async fn run(mut self) -> Result<Summary> {
        let started = Instant::now();
        // The hosts whose source's fetch mode lets them use the browser.
        let routes = crate::browser::Routes::new(&self.sources, &self.cfg);
        let fetcher = Arc::new(Fetcher::new(&self.cfg, self.allowed_hosts())?.with_routes(routes));
        let run = self.store.state_mut().begin_run()?;
        self.summary.resumed = run.resumed;
        for s in &self.sources {
            self.summary.sources.entry(s.id().label()).or_default();
        }
        if run.resumed {
            tracing::info!(run = run.id, "resuming an interrupted crawl");
        }
        let (seen, pending) = self.store.state().queue(run.id)?;
        let mut q = Queue { seen, ..Queue::default() };
        let labels: HashSet<String> = self.sources.iter().map(|s| s.id().label()).collect();

        for seed in std::mem::take(&mut self.seeds) {
            self.store_notice("digest", Arrival::digest(seed).if_absent())?;
        }
        // Committed now so that a page merged into a seed later counts as a change of it.
        self.store.commit("crawl")?;

        for item in pending {
            if labels.contains(&item.source) {
                q.frontier.push(item);
            }
        }
        let starts: Vec<QueueItem> = self
            .sources
            .iter()
            .flat_map(|s| {
                let label = s.id().label();
                s.start_requests().into_iter().map(move |req| QueueItem::new(&label, &req, None))
            })
            .collect();
        q.enqueue(starts);

        let per_host = self.cfg.concurrency_per_host.max(1);
        let mut tasks: JoinSet<Done> = JoinSet::new();
        let mut in_flight: HashMap<String, usize> = HashMap::new();
        let mut started_fetches = 0usize;
        let mut done_count = 0u64;
        let mut stop = self.stop.take();
        let mut interrupted = stop.as_ref().is_some_and(|s| *s.borrow());
        let mut deaf = false;
        let mut revisited = false;
        loop {
            // Start what the per-host limits allow.
            for host in q.frontier.hosts() {
                if interrupted {
                    break;
                }
                while in_flight.get(&host).copied().unwrap_or(0) < per_host {
                    if self.cfg.max_pages.is_some_and(|m| started_fetches >= m) {
                        break;
                    }
                    let Some(item) = q.frontier.pop(&host) else { break };
                    let key = item.key();
                    let record = match self.store.state().get(&key)? {
                        Some(r) => r,
                        None => UrlRecord::new(&key, item.url.as_str(), &item.source, item.kind),
                    };
                    let now = now_ms();
                    let finished = record.finished(now) && (item.changed.is_none() || item.changed == record.marker);
                    // An anti-bot wall is not knocked on again before its backoff is over.
                    if matches!(item.kind, PageKind::Detail | PageKind::Attachment) && (finished || record.walled(now))
                    {
                        if item.kind == PageKind::Attachment {
                            // Read before, maybe for another notice: its text joins this one.
                            self.attach_kept(&item, &record, now)?;
                        }
                        self.summary.skipped += 1;
                        q.batch.done.push(key);
                        continue;
                    }
                    // Validators only when we hold what they validate: a parsed
                    // detail, or a listing whose links we kept.
                    // Not for a failing URL either: a 304 would not tell a withdrawn
                    // notice that its page is back.
                    let have_copy = record.failures == 0
                        && match item.kind {
                            PageKind::Listing => record.children.is_some(),
                            _ => record.content_hash.is_some(),
                        };
                    let cond = if have_copy {
                        Conditional { etag: record.etag.clone(), last_modified: record.last_modified.clone() }
                    } else {
                        Conditional::default()
                    };
                    let fetcher = fetcher.clone();
                    *in_flight.entry(host.clone()).or_default() += 1;
                    started_fetches += 1;
                    let (kept, limits) = (self.kept.clone(), self.cfg.extract.clone());
                    tasks.spawn(async move {
                        let fetch = fetcher.fetch(&item.request(), &cond).await;
                        let read = match (&item.kind, &fetch.outcome) {
                            (PageKind::Attachment, Outcome::Fetched { page, truncated, length, .. }) => {
                                read_attachment(page, *truncated, *length, &record, &kept, &limits).await
                            }
                            _ => None,
                        };
                        Done { item, key, record, fetch, read }
                    });
                }
            }
            let joined = match stop.as_mut() {
                Some(rx) if !interrupted && !deaf => tokio::select! {
                    joined = tasks.join_next() => joined,
                    asked = rx.wait_for(|stop| *stop) => {
                        if asked.is_ok() {
                            tracing::info!("crawl asked to stop: committing what is done");
                            interrupted = true;
                            tasks.abort_all();
                        } else {
                            // Nobody can ask any more: crawl on to the end.
                            deaf = true;
                        }
                        continue;
                    }
                },
                _ => tasks.join_next().await,
            };
            let Some(joined) = joined else {
                // The listings are done: revisit the due details none of them
                // linked this run, once, unless the run is cut short.
                let capped = self.cfg.max_pages.is_some_and(|m| started_fetches >= m);
                if !revisited && !interrupted && !capped && q.frontier.len() == 0 {
                    revisited = true;
                    let n = self.enqueue_due(&mut q)?;
                    if n > 0 {
                        tracing::info!(n, "revisiting due notices that no listing links");
                        continue;
                    }
                }
                break;
            };
            let done = match joined {
                Ok(done) => done,
                // Dropped by a stop: its URL stays queued for the next run.
                Err(e) if e.is_cancelled() => continue,
                // A fetch task never panics by design; if one did, the rest goes on.
                Err(e) => {
                    tracing::error!(error = %e, "fetch task failed");
                    continue;
                }
            };
            let host = done.item.url.host_str().unwrap_or_default().to_string();
            if let Some(n) = in_flight.get_mut(&host) {
                *n = n.saturating_sub(1);
            }
            let url = done.item.url.to_string();
            self.handle(done, fetcher.allowed(), &mut q)?;
            done_count += 1;
            if let Some(f) = &self.progress {
                f(&Progress {
                    done: done_count,
                    remaining: (q.frontier.len() + tasks.len()) as u64,
                    errors: self.summary.errors.len() as u64,
                    url,
                });
            }
            let every = self.cfg.commit_every.max(1);
            if self.store.pending() as usize >= every || q.batch.records.len() >= every {
                self.checkpoint(run.id, &mut q.batch)?;
            }
        }
        // Every fetch is over: the browser, if one was started, goes now
        // (on an error above, with the fetcher when it is dropped).
        fetcher.shutdown().await;
        self.summary.interrupted = interrupted;
        self.summary.stopped_early = q.frontier.len() > 0 || interrupted;
        self.checkpoint(run.id, &mut q.batch)?;
        if !self.summary.stopped_early {
            self.store.state_mut().finish_run(run.id)?;
        }
        let Engine { store, mut summary, .. } = self;
        store.close("crawl")?;
        summary.elapsed = started.elapsed();
        tracing::info!(
            pages = summary.pages,
            not_modified = summary.not_modified,
            new = summary.new,
            changed = summary.changed,
            withdrawn = summary.withdrawn,
            errors = summary.errors.len(),
            ms = summary.elapsed.as_millis() as u64,
            "crawl finished"
        );
        Ok(summary)
    }

    /// Queues the detail pages of this crawl's sources that are due again
    /// (their revisit interval or failure backoff is over) and not queued
    /// this run. Returns how many.
    fn enqueue_due(&self, q: &mut Queue) -> Result<usize> {
        let now = now_ms();
        let mut n = 0;
        for source in &self.sources {
            let label = source.id().label();
            for (key, url) in self.store.state().due(&label, PageKind::Detail, now)? {
                if q.seen.contains(&key) {
                    continue;
                }
                let Some(req) = url::Url::parse(&url).ok().and_then(|u| source.revisit(&u)) else { continue };
                let mut item = QueueItem::new(&label, &req, None);
                // The marker it was last fetched with: a revisit is not a listed change.
                item.changed = self.store.state().get(&key)?.and_then(|r| r.marker);
                if item.key() != key || !q.seen.insert(key) {
                    continue;
                }
                q.batch.enqueue.push(item.clone());
                q.frontier.push(item);
                n += 1;
            }
        }
        Ok(n)
    }

    /// Index commit first, then the state rows that depend on it.
    fn checkpoint(&mut self, run: i64, batch: &mut Batch) -> Result<()> {
        self.store.checkpoint("crawl", run, batch)?;
        *batch = Batch::default();
        Ok(())
    }

    /// The revisit policy of the configuration.
    fn policy(&self) -> Policy {
        self.cfg.policy()
    }

    /// The source of a queued item, by its label.
    fn source(&self, label: &str) -> Option<Arc<dyn Source>> {
        self.sources.iter().find(|s| s.id().label() == label).cloned()
    }

    /// Passes a notice to the store; counts it once per run, for `label`'s source too.
    fn store_notice(&mut self, label: &str, arrival: Arrival) -> Result<()> {
        let id = arrival.notice.id.clone();
        let stored = self.store.accept(arrival)?;
        if stored == Stored::Kept || !self.counted.insert(id) {
            return Ok(());
        }
        let per = self.summary.sources.entry(label.to_string()).or_default();
        match stored {
            Stored::New => {
                self.summary.new += 1;
                per.new += 1;
            }
            Stored::Changed => {
                self.summary.changed += 1;
                per.changed += 1;
            }
            Stored::Unchanged => {
                self.summary.unchanged += 1;
                per.unchanged += 1;
            }
            Stored::Kept => {}
        }
        Ok(())
    }

    /// Counts a notice whose page did not change, once per run.
    fn count_unchanged(&mut self, label: &str, id: &str) {
        if self.counted.insert(id.to_string()) {
            self.summary.unchanged += 1;
            self.summary.sources.entry(label.to_string()).or_default().unchanged += 1;
        }
    }

    /// One finished request: what became of the page, then its settlement.
    fn handle(&mut self, done: Done, allowed: &AllowedHosts, q: &mut Queue) -> Result<()> {
        let Done { item, key, mut record, fetch, read } = done;
        let now = now_ms();
        self.summary.requests += fetch.requests as u64;
        self.summary.bytes += fetch.bytes;
        // The interval this URL was last given, to grow or shrink it.
        let last_interval = match (record.failures, record.last_fetched, record.next_due) {
            (0, Some(at), Some(due)) if due > at => Some(chrono::Duration::milliseconds(due - at)),
            _ => None,
        };
        record.last_fetched = Some(now);
        let outcome = match fetch.outcome {
            Outcome::Fetched { page, etag, last_modified, truncated, length } => {
                record.status = Some(page.status);
                record.bytes = Some(page.body.len() as i64);
                record.content_type = page.content_type.clone();
                self.summary.pages += 1;
                let v = Validators { etag, last_modified, length, truncated };
                self.on_page(&item, &mut record, &page, v, read, allowed, q, now)?.seen_by_browser(fetch.browser)
            }
            Outcome::NotModified => {
                record.status = Some(304);
                self.summary.not_modified += 1;
                self.summary.sources.entry(item.source.clone()).or_default().not_modified += 1;
                record.marker = item.changed.clone().or(record.marker.take());
                if item.kind == PageKind::Attachment {
                    self.summary.attachments.unchanged += 1;
                    self.attach_kept(&item, &record, now)?;
                }
                if item.kind == PageKind::Detail
                    && let Some(notice) = self.store.get(&Notice::id_for_url(item.url.as_str()))?
                {
                    // The page stands; its files may have changed on their own.
                    self.enqueue_attachments(&item, &notice, allowed, q);
                }
                if item.kind == PageKind::Listing {
                    // What it led to last time is still what it leads to.
                    let children: Vec<QueueItem> =
                        record.children.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
                    q.enqueue(children);
                }
                PageOutcome::NotModified
            }
            Outcome::Disallowed(reason) => {
                record.status = None;
                PageOutcome::Disallowed { reason }
            }
            Outcome::Failed { status, reason, permanent } => {
                record.status = status;
                if permanent {
                    tracing::debug!(url = %key, "permanent failure");
                }
                match status {
                    Some(status @ (404 | 410)) => PageOutcome::Gone { status, reason },
                    _ => PageOutcome::Failed { reason },
                }
            }
        };
        self.settle(&item, key, record, outcome, last_interval, q, now)
    }

    /// A fetched page: a wall, an error status, or content for the source
    /// to read as the kind of page it is.
    #[allow(clippy::too_many_arguments)]
    fn on_page(
        &mut self,
        item: &QueueItem,
        record: &mut UrlRecord,
        page: &Page,
        v: Validators,
        read: Option<AttachmentFile>,
        allowed: &AllowedHosts,
        q: &mut Queue,
        now: i64,
    ) -> Result<PageOutcome> {
        let source = self.source(&item.source);
        // An attachment over its cap is recorded as such by `read_attachment`.
        if v.truncated && item.kind != PageKind::Attachment {
            let reason = format!("oversized: body larger than {} bytes, cut and not parsed", self.cfg.max_body_bytes);
            return Ok(PageOutcome::Failed { reason });
        }
        if let Some(s) = source.as_ref().filter(|s| s.is_challenge(page)) {
            return Ok(PageOutcome::Challenged(Challenge::of(page, s.unblock_hint())));
        }
        if !(200..300).contains(&page.status) {
            return Ok(match page.status {
                status @ (404 | 410) => {
                    PageOutcome::Gone { status, reason: format!("HTTP {status} (gone, at {})", page.final_url) }
                }
                status => PageOutcome::Failed { reason: format!("HTTP {status}") },
            });
        }
        let Some(source) = source else {
            return Ok(PageOutcome::Failed { reason: format!("no source {:?} in this crawl", item.source) });
        };
        match item.kind {
            PageKind::Listing => self.on_listing(source.as_ref(), item, record, page, v, q, now),
            PageKind::Detail => self.on_detail(source.as_ref(), item, record, page, v, allowed, q, now),
            PageKind::Attachment => self.on_attachment(item, record, page, v, read, now),
        }
    }

    /// A listing: its notices (first sketches) to the store, its links to the queue.
    #[allow(clippy::too_many_arguments)]
    fn on_listing(
        &mut self,
        source: &dyn Source,
        item: &QueueItem,
        record: &mut UrlRecord,
        page: &Page,
        v: Validators,
        q: &mut Queue,
        now: i64,
    ) -> Result<PageOutcome> {
        let listing = match source.parse_listing(page) {
            Ok(l) => l,
            Err(e) => return Ok(PageOutcome::Failed { reason: format!("parse: {e}") }),
        };
        let mut children = Vec::new();
        for d in &listing.details {
            if self.since.is_some_and(|since| d.date.is_some_and(|date| date < since)) {
                continue;
            }
            children.push(QueueItem::new(&item.source, &d.request, Some(d)));
        }
        for r in &listing.next {
            children.push(QueueItem::new(&item.source, r, None));
        }
        let at = fetched_at(now);
        for n in listing.notices {
            match n.validate() {
                // A listing's notice is a first sketch: once stored (and maybe
                // enriched by its detail page) only the detail page replaces it.
                Ok(()) => self.store_notice(&item.source, Arrival::fetched(n, at).if_absent())?,
                Err(e) => tracing::warn!(url = %item.url, error = %e, "listing gave an invalid notice"),
            }
        }
        let hash = text_hash(&page.text);
        let changed = record.note_change(&hash, now);
        record.took(hash, v.etag, v.last_modified);
        record.children = serde_json::to_string(&children).ok();
        q.enqueue(children);
        Ok(PageOutcome::Fetched { changed })
    }

    /// A notice's own page: the notice to the store unless its content is
    /// what this URL gave last time, its attachments looked at or recorded.
    #[allow(clippy::too_many_arguments)]
    fn on_detail(
        &mut self,
        source: &dyn Source,
        item: &QueueItem,
        record: &mut UrlRecord,
        page: &Page,
        v: Validators,
        allowed: &AllowedHosts,
        q: &mut Queue,
        now: i64,
    ) -> Result<PageOutcome> {
        let notice = match source.parse_detail(page, &item.detail_ref()) {
            Ok(n) => n,
            Err(e) => return Ok(PageOutcome::Failed { reason: format!("parse: {e}") }),
        };
        if let Err(e) = notice.validate() {
            return Ok(PageOutcome::Failed { reason: format!("parse: {e}") });
        }
        // The extracted content decides, not the bytes: many pages change a
        // timestamp or a counter on every view.
        let hash = notice.content_hash();
        self.enqueue_attachments(item, &notice, allowed, q);
        let same = record.failures == 0
            && record.content_hash.as_deref() == Some(hash.as_str())
            && self.store.get(&notice.id)?.is_some();
        if same {
            self.count_unchanged(&item.source, &notice.id);
        } else {
            record.last_changed = Some(now);
            self.store_notice(&item.source, Arrival::fetched(notice, fetched_at(now)))?;
        }
        record.took(hash, v.etag, v.last_modified);
        record.marker = item.changed.clone();
        Ok(PageOutcome::Fetched { changed: !same })
    }

    /// A downloaded attachment: what was read of it joins its notice (kept
    /// for a later re-extraction); the same bytes as last time are not read again.
    fn on_attachment(
        &mut self,
        item: &QueueItem,
        record: &mut UrlRecord,
        page: &Page,
        v: Validators,
        read: Option<AttachmentFile>,
        now: i64,
    ) -> Result<PageOutcome> {
        let file = match read {
            Some(file) => {
                self.kept.keep(&page.body, &file);
                let a = &mut self.summary.attachments;
                a.read += 1;
                a.bytes += page.body.len() as u64;
                match (&file.error, file.chars) {
                    (Some(e), _) => {
                        a.unreadable += 1;
                        a.errors.push(UrlError { url: item.url.to_string(), reason: e.clone(), blocked: false });
                        tracing::warn!(url = %item.url, reason = %e, "attachment unreadable");
                    }
                    (None, 0) => a.no_text += 1,
                    (None, _) => a.text += 1,
                }
                Some(file)
            }
            None => {
                self.summary.attachments.unchanged += 1;
                self.kept.read_of(&attachments::sha256(&page.body))
            }
        };
        let fingerprint = match &file {
            Some(f) if !f.sha256.is_empty() => f.sha256.clone(),
            Some(f) => format!("too_large:{}", f.size),
            None => attachments::sha256(&page.body),
        };
        record.bytes = Some(v.length.filter(|_| v.truncated).unwrap_or(page.body.len() as u64) as i64);
        let changed = record.note_change(&fingerprint, now);
        record.took(fingerprint, v.etag, v.last_modified);
        record.marker = item.changed.clone();
        if let Some(file) = file {
            self.attach(item, file, now)?;
        }
        Ok(PageOutcome::Fetched { changed })
    }

    /// The reading kept of an attachment not downloaded this time (304, or
    /// not due) joins its notice, when the notice lacks it.
    fn attach_kept(&mut self, item: &QueueItem, record: &UrlRecord, now: i64) -> Result<()> {
        match record.content_hash.as_deref().and_then(|sha| self.kept.read_of(sha)) {
            Some(file) => self.attach(item, file, now),
            None => Ok(()),
        }
    }

    /// Sets what was read of attachment `item` on the notice that links it,
    /// through the store (a change re-indexes the notice with the text).
    fn attach(&mut self, item: &QueueItem, file: AttachmentFile, now: i64) -> Result<()> {
        let Some(parent) = &item.parent else { return Ok(()) };
        let Some(mut notice) = self.store.get(parent)? else { return Ok(()) };
        // Compared as parsed URLs: a page may link `附件.pdf` that the queue holds percent-encoded.
        let same = |a: &index::Attachment| url::Url::parse(&a.url).is_ok_and(|u| u == item.url);
        let Some(a) = notice.attachments.iter_mut().find(|a| same(a)) else { return Ok(()) };
        if a.file.as_ref() == Some(&file) {
            return Ok(());
        }
        a.file = Some(file);
        if self.store.accept(Arrival::fetched(notice, fetched_at(now)))? == Stored::Changed {
            self.summary.attachments.notices_updated += 1;
        }
        Ok(())
    }

    /// Queues the attachments of `notice` (its page at `item`) that are on
    /// the crawl's hosts; records the others as seen.
    fn enqueue_attachments(&self, item: &QueueItem, notice: &Notice, allowed: &AllowedHosts, q: &mut Queue) {
        let mut looks = Vec::new();
        for a in &notice.attachments {
            match url::Url::parse(&a.url).ok().filter(|u| allowed.allows(u)) {
                Some(url) if self.cfg.fetch_attachments => {
                    looks.push(QueueItem::attachment(&item.source, url, &notice.id, item.changed.clone()));
                }
                _ => q.batch.seen.push(UrlRecord::new(&a.url, &a.url, &item.source, PageKind::Attachment)),
            }
        }
        q.enqueue(looks);
    }

    /// Settles a URL after its outcome: the report's counts, the gone
    /// streak (and withdrawal), the backoff or the next visit, the state row.
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &mut self,
        item: &QueueItem,
        key: String,
        mut record: UrlRecord,
        outcome: PageOutcome,
        last_interval: Option<chrono::Duration>,
        q: &mut Queue,
        now: i64,
    ) -> Result<()> {
        record.outcome = Some(outcome.name().to_string());
        let per = self.summary.sources.entry(item.source.clone()).or_default();
        match &outcome {
            PageOutcome::Disallowed { .. } => {
                // Not a failure of the page: asked again after the robots recheck.
                let reason = outcome.error().unwrap_or_default();
                self.summary.disallowed += 1;
                per.failed += 1;
                let recheck_ms = (self.cfg.recheck_secs as i64).saturating_mul(1000);
                record.last_error = Some(reason.clone());
                record.next_due = Some(now + recheck_ms.max(3_600_000));
                self.summary.errors.push(UrlError { url: key.clone(), reason, blocked: false });
            }
            PageOutcome::Fetched { changed } => {
                let changed = *changed;
                record.gone = 0;
                self.succeeded(item, &mut record, last_interval, changed, now);
            }
            PageOutcome::NotModified => {
                record.gone = 0;
                self.succeeded(item, &mut record, last_interval, false, now);
            }
            PageOutcome::Challenged(c) => {
                // A wall neither counts towards "gone" nor breaks the streak.
                per.blocked += 1;
                if per.hint.is_none() {
                    per.hint = c.hint.clone();
                }
                self.failed(key.clone(), &mut record, c.reason(), true, now);
            }
            PageOutcome::Gone { reason, .. } => {
                per.failed += 1;
                record.gone += 1;
                if item.kind == PageKind::Detail
                    && self.policy().is_withdrawn(record.gone)
                    && self.store.withdraw(item.url.as_str())?
                {
                    self.summary.withdrawn += 1;
                    self.summary.sources.entry(item.source.clone()).or_default().withdrawn += 1;
                    tracing::info!(url = %item.url, "notice withdrawn: its page is gone");
                }
                self.failed(key.clone(), &mut record, reason.clone(), false, now);
            }
            PageOutcome::Failed { reason } => {
                per.failed += 1;
                self.failed(key.clone(), &mut record, reason.clone(), false, now);
            }
        }
        q.batch.records.push(record);
        q.batch.done.push(key);
        Ok(())
    }

    /// A page that gave its content (or stood): no error, next visit by the revisit policy.
    fn succeeded(
        &self,
        item: &QueueItem,
        record: &mut UrlRecord,
        last_interval: Option<chrono::Duration>,
        changed: bool,
        now: i64,
    ) {
        let recheck_ms = (self.cfg.recheck_secs as i64).saturating_mul(1000);
        record.failures = 0;
        record.last_error = None;
        record.next_due = Some(match item.kind {
            PageKind::Listing => now,
            _ if recheck_ms == 0 => now,
            _ => {
                let (due, _) = self.policy().next_due(fetched_at(now), last_interval, changed);
                due.timestamp_millis()
            }
        });
    }

    /// A page that did not give its content: backed off, reported.
    fn failed(&mut self, key: String, record: &mut UrlRecord, reason: String, blocked: bool, now: i64) {
        record.failures += 1;
        // Back off a failing URL: an hour, doubling, at most a week.
        let wait = 3_600_000i64.saturating_mul(1 << record.failures.min(7)).min(7 * 86_400_000);
        record.next_due = Some(now + wait);
        tracing::warn!(url = %key, reason = %reason, failures = record.failures, "fetch failed");
        self.summary.errors.push(UrlError { url: key, reason: reason.clone(), blocked });
        record.last_error = Some(reason);
    }
}

/// Reads a downloaded attachment whose bytes are new (or whose reading is
/// not kept): on a thread of its own under the extraction's caps, so one
/// pathological file never stalls the crawl. `None`: the same bytes as last
/// time, read then; or not a file (an error status, a challenge page).
async fn read_attachment(
    page: &Page,
    truncated: bool,
    length: Option<u64>,
    record: &UrlRecord,
    kept: &KeptFiles,
    limits: &extract::Limits,
) -> Option<AttachmentFile> {
    if !(200..300).contains(&page.status) {
        return None;
    }
    let ct = page.content_type.as_deref();
    if truncated {
        return Some(attachments::too_large(length, limits.max_bytes, ct));
    }
    let sha = attachments::sha256(&page.body);
    if record.content_hash.as_deref() == Some(sha.as_str()) && kept.has(&sha) {
        return None;
    }
    let got = extract::extract_async(page.body.clone(), page.url.as_str(), ct, limits).await;
    Some(attachments::read(&page.body, &sha, ct, got))
}

/// A time in Unix milliseconds as a date-time.
fn fetched_at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_else(Utc::now)
}

fn text_hash(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

/// Queued requests by host, hosts in the order first seen.
#[derive(Debug, Default)]
struct Frontier {
    order: Vec<String>,
    queues: HashMap<String, VecDeque<QueueItem>>,
}

impl Frontier {
    fn push(&mut self, item: QueueItem) {
        let host = item.url.host_str().unwrap_or_default().to_string();
        if !self.queues.contains_key(&host) {
            self.order.push(host.clone());
        }
        self.queues.entry(host).or_default().push_back(item);
    }

    fn pop(&mut self, host: &str) -> Option<QueueItem> {
        self.queues.get_mut(host)?.pop_front()
    }

    fn hosts(&self) -> Vec<String> {
        self.order.iter().filter(|h| self.queues.get(*h).is_some_and(|q| !q.is_empty())).cloned().collect()
    }

    fn len(&self) -> usize {
        self.queues.values().map(VecDeque::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    #[test]
    fn frontier_keeps_hosts_apart_and_in_order() {
        let mut f = Frontier::default();
        for u in ["http://a.cn/1", "http://b.cn/1", "http://a.cn/2"] {
            let req = crate::sources::Request::get(Url::parse(u).unwrap(), PageKind::Detail);
            f.push(QueueItem::new("x", &req, None));
        }
        assert_eq!(f.hosts(), vec!["a.cn".to_string(), "b.cn".to_string()]);
        assert_eq!(f.len(), 3);
        assert_eq!(f.pop("a.cn").unwrap().url.path(), "/1");
        assert_eq!(f.pop("a.cn").unwrap().url.path(), "/2");
        assert!(f.pop("a.cn").is_none());
        assert_eq!(f.hosts(), vec!["b.cn".to_string()]);
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(text_hash("a"), text_hash("a"));
        assert_ne!(text_hash("a"), text_hash("b"));
        assert_eq!(text_hash("a").len(), 32);
    }
}
