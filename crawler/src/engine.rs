//! The crawl engine: drives the sources' requests through the fetcher,
//! hands pages to the sources, writes notices to the index and records
//! every URL in the crawl state.
//!
//! Crash safety: the state rows that say a page is done are written only
//! after the index commit that holds its notices, in one SQLite
//! transaction. A crawl killed at any point loses at most the pages since
//! the last commit, which the next run (resuming the unfinished run's
//! queue) fetches again; it never records a notice the index lacks.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use index::{Notice, NoticeIndex, NoticeWriter};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use crate::config::CrawlConfig;
use crate::error::Result;
use crate::fetch::{AllowedHosts, Conditional, Fetch, Fetcher, Outcome};
use crate::history::History;
use crate::revisit::Policy;
use crate::sources::{PageKind, Source};
use crate::state::{Batch, CrawlState, QueueItem, UrlRecord, now_ms};

/// A URL that ended in an error this run.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// What a crawl did.
#[derive(Debug, Clone, Default)]
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
    /// URLs refused by robots.txt (never requested).
    pub disallowed: u64,
    /// Notices marked withdrawn this run.
    pub withdrawn: u64,
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
    /// Wall time.
    pub elapsed: Duration,
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

/// A crawl over some sources into one index and one state file.
pub struct Engine {
    cfg: CrawlConfig,
    sources: Vec<Box<dyn Source>>,
    index: NoticeIndex,
    state: CrawlState,
    seeds: Vec<Notice>,
    progress: Option<ProgressFn>,
    /// Versions of changed notices, in the state file (opened by `run`).
    history: Option<History>,
    /// Notices counted this run: a notice is new, changed or unchanged once
    /// per run, however many pages touch it (FDA: the feed, then the page).
    counted: Mutex<HashSet<String>>,
    /// Notices a version of which this run stored in the history: a second
    /// change in the same run replaces that version rather than adding one.
    versioned: Mutex<HashSet<String>>,
    /// Set to true to stop the crawl at the next commit boundary.
    stop: Option<tokio::sync::watch::Receiver<bool>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("sources", &self.sources.len()).field("state", &self.state.path()).finish()
    }
}

/// One finished fetch task.
struct Done {
    item: QueueItem,
    key: String,
    record: UrlRecord,
    fetch: Fetch,
}

impl Engine {
    /// A crawl of `sources`. The caller holds the [`crate::lock::CrawlLock`]
    /// of the data directory.
    pub fn new(cfg: CrawlConfig, sources: Vec<Box<dyn Source>>, index: NoticeIndex, state: CrawlState) -> Engine {
        Engine {
            cfg,
            sources,
            index,
            state,
            seeds: Vec::new(),
            progress: None,
            history: None,
            counted: Mutex::new(HashSet::new()),
            versioned: Mutex::new(HashSet::new()),
            stop: None,
        }
    }

    /// Notices to index before crawling (a digest's items), unless the
    /// index already has them (a previous crawl may have enriched them).
    pub fn with_seed_notices(mut self, seeds: Vec<Notice>) -> Engine {
        self.seeds = seeds;
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

    /// Runs the crawl to its end (or `max_pages`).
    pub async fn run(mut self) -> Result<Summary> {
        let started = Instant::now();
        let fetcher = Arc::new(Fetcher::new(&self.cfg, self.allowed_hosts())?);
        let mut writer = self.index.writer(1)?;
        self.history = Some(History::open(self.state.path())?);
        let run = self.state.begin_run()?;
        let mut summary = Summary { resumed: run.resumed, ..Summary::default() };
        for s in &self.sources {
            summary.sources.entry(s.id().label()).or_default();
        }
        if run.resumed {
            tracing::info!(run = run.id, "resuming an interrupted crawl");
        }
        let (mut seen, pending) = self.state.queue(run.id)?;
        let labels: HashMap<String, usize> =
            self.sources.iter().enumerate().map(|(i, s)| (s.id().label(), i)).collect();

        for mut seed in std::mem::take(&mut self.seeds) {
            if self.index.get(&seed.id)?.is_none() {
                self.index.carry_over(&mut seed)?;
                writer.upsert(&seed)?;
                self.first_count(&seed.id);
                summary.new += 1;
                summary.sources.entry("digest".into()).or_default().new += 1;
            }
        }
        if writer.pending() > 0 {
            // Committed now so that a page merged into a seed later counts as a change of it.
            writer.commit("crawl")?;
        }

        let mut frontier = Frontier::default();
        let mut batch = Batch::default();
        for item in pending {
            if labels.contains_key(&item.source) {
                frontier.push(item);
            }
        }
        for s in &self.sources {
            let label = s.id().label();
            for req in s.start_requests() {
                let item = QueueItem::new(&label, &req, None);
                if seen.insert(item.key()) {
                    batch.enqueue.push(item.clone());
                    frontier.push(item);
                }
            }
        }

        let per_host = self.cfg.concurrency_per_host.max(1);
        let mut tasks: JoinSet<Done> = JoinSet::new();
        let mut in_flight: HashMap<String, usize> = HashMap::new();
        let mut started_fetches = 0usize;
        let mut done_count = 0u64;
        let recheck_ms = (self.cfg.recheck_secs as i64).saturating_mul(1000);
        let mut stop = self.stop.take();
        let mut interrupted = stop.as_ref().is_some_and(|s| *s.borrow());
        let mut deaf = false;
        let mut revisited = false;
        loop {
            // Start what the per-host limits allow.
            for host in frontier.hosts() {
                if interrupted {
                    break;
                }
                while in_flight.get(&host).copied().unwrap_or(0) < per_host {
                    if self.cfg.max_pages.is_some_and(|m| started_fetches >= m) {
                        break;
                    }
                    let Some(item) = frontier.pop(&host) else { break };
                    let key = item.key();
                    let record = match self.state.get(&key)? {
                        Some(r) => r,
                        None => UrlRecord::new(&key, item.url.as_str(), &item.source, item.kind),
                    };
                    let now = now_ms();
                    let finished = record.finished(now) && (item.changed.is_none() || item.changed == record.marker);
                    // An anti-bot wall is not knocked on again before its backoff is over.
                    let walled = record.last_error.as_deref().is_some_and(|e| e.starts_with("challenged"))
                        && record.next_due.is_some_and(|due| due > now);
                    if matches!(item.kind, PageKind::Detail | PageKind::Attachment) && (finished || walled) {
                        summary.skipped += 1;
                        batch.done.push(key);
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
                    tasks.spawn(async move {
                        let fetch = fetcher.fetch(&item.request(), &cond).await;
                        Done { item, key, record, fetch }
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
                if !revisited && !interrupted && !capped && frontier.len() == 0 {
                    revisited = true;
                    let n = self.enqueue_due(&mut frontier, &mut seen, &mut batch)?;
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
            let allowed = fetcher.allowed();
            self.handle(done, allowed, &mut writer, &mut batch, &mut frontier, &mut seen, &mut summary, recheck_ms)?;
            done_count += 1;
            if let Some(f) = &self.progress {
                f(&Progress {
                    done: done_count,
                    remaining: (frontier.len() + tasks.len()) as u64,
                    errors: summary.errors.len() as u64,
                    url,
                });
            }
            if writer.pending() as usize >= self.cfg.commit_every.max(1)
                || batch.records.len() >= self.cfg.commit_every.max(1)
            {
                self.flush(run.id, &mut writer, &mut batch)?;
            }
        }
        summary.interrupted = interrupted;
        summary.stopped_early = frontier.len() > 0 || interrupted;
        self.flush(run.id, &mut writer, &mut batch)?;
        if !summary.stopped_early {
            self.state.finish_run(run.id)?;
        }
        writer.close()?;
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
    fn enqueue_due(&self, frontier: &mut Frontier, seen: &mut HashSet<String>, batch: &mut Batch) -> Result<usize> {
        let now = now_ms();
        let mut n = 0;
        for source in &self.sources {
            let label = source.id().label();
            for (key, url) in self.state.due(&label, PageKind::Detail, now)? {
                if seen.contains(&key) {
                    continue;
                }
                let Some(req) = url::Url::parse(&url).ok().and_then(|u| source.revisit(&u)) else { continue };
                let mut item = QueueItem::new(&label, &req, None);
                // The marker it was last fetched with: a revisit is not a listed change.
                item.changed = self.state.get(&key)?.and_then(|r| r.marker);
                if item.key() != key || !seen.insert(key) {
                    continue;
                }
                batch.enqueue.push(item.clone());
                frontier.push(item);
                n += 1;
            }
        }
        Ok(n)
    }

    /// Index commit first, then the state rows that depend on it.
    fn flush(&mut self, run: i64, writer: &mut NoticeWriter, batch: &mut Batch) -> Result<()> {
        if writer.pending() > 0 {
            writer.commit("crawl")?;
        }
        self.state.apply(run, batch)?;
        *batch = Batch::default();
        Ok(())
    }

    /// The revisit policy of the configuration.
    fn policy(&self) -> Policy {
        self.cfg.policy()
    }

    /// Whether `id` is counted for the first time this run (and marks it counted).
    fn first_count(&self, id: &str) -> bool {
        // Never poisoned: nothing panics while holding it.
        self.counted.lock().map(|mut c| c.insert(id.to_string())).unwrap_or(true)
    }

    /// Indexes a notice if new or changed; counts it once per run, for `label`'s source too.
    fn index_notice(
        &self,
        label: &str,
        mut notice: Notice,
        writer: &mut NoticeWriter,
        summary: &mut Summary,
    ) -> Result<()> {
        let old = self.index.get(&notice.id)?;
        // A notice marked withdrawn whose page is back is re-indexed even
        // though its content is the same.
        let back = old.as_ref().is_some_and(|o| o.withdrawn && !notice.withdrawn);
        let first = self.first_count(&notice.id);
        let per = summary.sources.entry(label.to_string()).or_default();
        if self.index.carry_over(&mut notice)? || back {
            writer.upsert(&notice)?;
            // Recorded before the commit: if the crawl dies in between, the
            // page is fetched again and the same version is not stored twice.
            // A second change in one run (FDA's feed row, then its page) is one
            // version: what the run ended with.
            if let Some(history) = &self.history {
                let now = chrono::Utc::now();
                let ours = self.versioned.lock().map(|v| v.contains(&notice.id)).unwrap_or(false);
                if ours {
                    history.replace_latest(&notice, now)?;
                } else if history.record(&notice, now)?.is_some()
                    && let Ok(mut v) = self.versioned.lock()
                {
                    v.insert(notice.id.clone());
                }
            }
            if !first {
                // Already counted this run.
            } else if old.is_some() {
                summary.changed += 1;
                per.changed += 1;
            } else {
                summary.new += 1;
                per.new += 1;
            }
        } else if first {
            summary.unchanged += 1;
            per.unchanged += 1;
        }
        Ok(())
    }

    /// Marks the notice of a detail that answered 404/410 on
    /// several runs in a row ([`Policy::gone_after`]) as withdrawn (kept, flagged).
    fn withdraw(&self, label: &str, url: &str, writer: &mut NoticeWriter, summary: &mut Summary) -> Result<()> {
        if let Some(mut notice) = self.index.get(&Notice::id_for_url(url))?
            && !notice.withdrawn
        {
            notice.withdrawn = true;
            writer.upsert(&notice)?;
            summary.withdrawn += 1;
            summary.sources.entry(label.to_string()).or_default().withdrawn += 1;
            tracing::info!(%url, id = %notice.id, "notice withdrawn: its page is gone");
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn handle(
        &self,
        done: Done,
        allowed: &AllowedHosts,
        writer: &mut NoticeWriter,
        batch: &mut Batch,
        frontier: &mut Frontier,
        seen: &mut HashSet<String>,
        summary: &mut Summary,
        recheck_ms: i64,
    ) -> Result<()> {
        let Done { item, key, mut record, fetch } = done;
        let now = now_ms();
        // The interval this URL was last given, to grow or shrink it.
        let last_interval = match (record.failures, record.last_fetched, record.next_due) {
            (0, Some(at), Some(due)) if due > at => Some(chrono::Duration::milliseconds(due - at)),
            _ => None,
        };
        summary.requests += fetch.requests as u64;
        summary.bytes += fetch.bytes;
        record.last_fetched = Some(now);
        let source = self.sources.iter().find(|s| s.id().label() == item.source);
        let mut error: Option<String> = None;
        // Whether the answer says the page is gone (404/410, not a wall's 404).
        let mut gone = false;
        let mut blocked = false;
        let mut changed = false;
        let mut enqueue = |children: Vec<QueueItem>, batch: &mut Batch| {
            for child in children {
                if seen.insert(child.key()) {
                    batch.enqueue.push(child.clone());
                    frontier.push(child);
                }
            }
        };
        match fetch.outcome {
            Outcome::Fetched { page, etag, last_modified, truncated, length } => {
                record.status = Some(page.status);
                record.bytes = Some(page.body.len() as i64);
                record.content_type = page.content_type.clone();
                summary.pages += 1;
                if truncated && item.kind != PageKind::Attachment {
                    error = Some(format!(
                        "oversized: body larger than {} bytes, cut and not parsed",
                        self.cfg.max_body_bytes
                    ));
                } else if source.is_some_and(|s| s.is_challenge(&page)) {
                    blocked = true;
                    error = Some(if page.final_url != page.url {
                        format!(
                            "challenged: redirected to {} (HTTP {}), an anti-bot page, not parsed",
                            page.final_url, page.status
                        )
                    } else {
                        format!("challenged: HTTP {} anti-bot page, not parsed", page.status)
                    });
                } else if !(200..300).contains(&page.status) {
                    gone = matches!(page.status, 404 | 410);
                    error = Some(if gone {
                        format!("HTTP {} (gone, at {})", page.status, page.final_url)
                    } else {
                        format!("HTTP {}", page.status)
                    });
                } else if let Some(source) = source {
                    match item.kind {
                        PageKind::Listing => match source.parse_listing(&page) {
                            Ok(listing) => {
                                let mut children = Vec::new();
                                for d in &listing.details {
                                    children.push(QueueItem::new(&item.source, &d.request, Some(d)));
                                }
                                for r in &listing.next {
                                    children.push(QueueItem::new(&item.source, r, None));
                                }
                                for n in listing.notices {
                                    match n.validate() {
                                        // A listing's notice is a first sketch: once indexed
                                        // (and maybe enriched by its detail page) only the
                                        // detail page replaces it.
                                        Ok(()) if self.index.get(&n.id)?.is_some() => {}
                                        Ok(()) => self.index_notice(&item.source, n, writer, summary)?,
                                        Err(e) => {
                                            tracing::warn!(url = %key, error = %e, "listing gave an invalid notice")
                                        }
                                    }
                                }
                                let hash = text_hash(&page.text);
                                if record.content_hash.as_deref() != Some(hash.as_str()) {
                                    record.last_changed = Some(now);
                                    changed = true;
                                }
                                record.content_hash = Some(hash);
                                record.children = serde_json::to_string(&children).ok();
                                record.etag = etag;
                                record.last_modified = last_modified;
                                enqueue(children, batch);
                            }
                            Err(e) => error = Some(format!("parse: {e}")),
                        },
                        PageKind::Detail => match source.parse_detail(&page, &item.detail_ref()) {
                            Ok(notice) if notice.validate().is_err() => {
                                let why = notice.validate().err().map(|e| e.to_string()).unwrap_or_default();
                                error = Some(format!("parse: {why}"));
                            }
                            Ok(notice) => {
                                // The extracted content decides, not the bytes: many
                                // pages change a timestamp or a counter on every view.
                                let hash = notice.content_hash();
                                let mut looks = Vec::new();
                                for a in &notice.attachments {
                                    let url = url::Url::parse(&a.url).ok().filter(|u| allowed.allows(u));
                                    match url {
                                        Some(url) if self.cfg.fetch_attachments => {
                                            let req = crate::sources::Request::get(url, PageKind::Attachment);
                                            looks.push(QueueItem::new(&item.source, &req, None));
                                        }
                                        _ => batch.seen.push(UrlRecord::new(
                                            &a.url,
                                            &a.url,
                                            &item.source,
                                            PageKind::Attachment,
                                        )),
                                    }
                                }
                                enqueue(looks, batch);
                                if record.failures == 0
                                    && record.content_hash.as_deref() == Some(hash.as_str())
                                    && self.index.get(&notice.id)?.is_some()
                                {
                                    if self.first_count(&notice.id) {
                                        summary.unchanged += 1;
                                        summary.sources.entry(item.source.clone()).or_default().unchanged += 1;
                                    }
                                } else {
                                    record.last_changed = Some(now);
                                    changed = true;
                                    self.index_notice(&item.source, notice, writer, summary)?;
                                }
                                record.content_hash = Some(hash);
                                record.etag = etag;
                                record.last_modified = last_modified;
                                record.marker = item.changed.clone();
                            }
                            Err(e) => error = Some(format!("parse: {e}")),
                        },
                        PageKind::Attachment => {
                            // Looked at with HEAD: size and validators stand for its content.
                            let size = length.map(|l| l as i64).unwrap_or(page.body.len() as i64);
                            record.bytes = Some(size);
                            let fingerprint = format!(
                                "{size}:{}:{}",
                                etag.as_deref().unwrap_or(""),
                                last_modified.as_deref().unwrap_or("")
                            );
                            if record.content_hash.as_deref() != Some(fingerprint.as_str()) {
                                record.last_changed = Some(now);
                                changed = true;
                            }
                            record.content_hash = Some(fingerprint);
                            record.etag = etag;
                            record.last_modified = last_modified;
                        }
                    }
                } else {
                    error = Some(format!("no source {:?} in this crawl", item.source));
                }
            }
            Outcome::NotModified => {
                record.status = Some(304);
                summary.not_modified += 1;
                summary.sources.entry(item.source.clone()).or_default().not_modified += 1;
                record.marker = item.changed.clone().or(record.marker.take());
                if item.kind == PageKind::Listing {
                    // What it led to last time is still what it leads to.
                    let children: Vec<QueueItem> =
                        record.children.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
                    enqueue(children, batch);
                }
            }
            Outcome::Disallowed(reason) => {
                summary.disallowed += 1;
                record.status = None;
                record.last_error = Some(format!("robots: {reason}"));
                record.next_due = Some(now + recheck_ms.max(3_600_000));
                summary.errors.push(UrlError { url: key.clone(), reason: format!("robots: {reason}"), blocked: false });
                summary.sources.entry(item.source.clone()).or_default().failed += 1;
                batch.records.push(record);
                batch.done.push(key);
                return Ok(());
            }
            Outcome::Failed { status, reason, permanent } => {
                record.status = status;
                error = Some(reason);
                if permanent {
                    tracing::debug!(url = %key, "permanent failure");
                }
                gone = matches!(status, Some(404 | 410));
            }
        }
        // Only "gone" answers in a row withdraw a notice; a timeout or a wall
        // in between neither counts nor breaks the streak, a page back resets it.
        if gone {
            record.gone += 1;
            if item.kind == PageKind::Detail && self.policy().is_withdrawn(record.gone) {
                self.withdraw(&item.source, item.url.as_str(), writer, summary)?;
            }
        } else if error.is_none() {
            record.gone = 0;
        }
        match error {
            Some(reason) => {
                let per = summary.sources.entry(item.source.clone()).or_default();
                if blocked {
                    per.blocked += 1;
                    if per.hint.is_none() {
                        per.hint = source.and_then(|s| s.unblock_hint());
                    }
                } else {
                    per.failed += 1;
                }
                record.failures += 1;
                // Back off a failing URL: an hour, doubling, at most a week.
                let wait = 3_600_000i64.saturating_mul(1 << record.failures.min(7)).min(7 * 86_400_000);
                record.next_due = Some(now + wait);
                tracing::warn!(url = %key, reason = %reason, failures = record.failures, "fetch failed");
                summary.errors.push(UrlError { url: key.clone(), reason: reason.clone(), blocked });
                record.last_error = Some(reason);
            }
            None => {
                record.failures = 0;
                record.last_error = None;
                record.next_due = Some(match item.kind {
                    PageKind::Listing => now,
                    _ if recheck_ms == 0 => now,
                    _ => {
                        let at = chrono::DateTime::from_timestamp_millis(now).unwrap_or_else(chrono::Utc::now);
                        let (due, _) = self.policy().next_due(at, last_interval, changed);
                        due.timestamp_millis()
                    }
                });
            }
        }
        batch.records.push(record);
        batch.done.push(key);
        Ok(())
    }
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
