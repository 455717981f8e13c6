//! The notice store: the one door through which a notice enters the data
//! directory, whatever brought it — a crawled page or listing, a digest
//! (`notices ingest`, the bundled sample, `notices crawl --from-digest`),
//! a server's scheduled re-crawl.
//!
//! [`NoticeStore`] owns everything that changes together: the index's
//! single writer, the version history, the crawl state and the crawl lock
//! of the data directory. [`NoticeStore::accept`] takes one [`Arrival`]
//! and does, in this order:
//!
//! 1. read the stored version of the notice (as last accepted, committed or not);
//! 2. stamp it: `first_seen` from the stored version (now for a new notice),
//!    `fetched_at` from the arrival when it was fetched; what was read of
//!    each attachment file the arrival did not read itself is kept from
//!    the stored version (a page parsed again links the same files);
//! 3. compare the content ([`Notice::content_hash`]) with the stored one:
//!    equal → [`Stored::Unchanged`], nothing is written;
//! 4. record the version in the history (SQLite, durable at once);
//! 5. upsert into the index (durable at the next [`NoticeStore::commit`]);
//! 6. report [`Stored::New`] or [`Stored::Changed`].
//!
//! # Order of writes, and why a kill at any point is recoverable
//!
//! history row → index commit → crawl-state rows.
//!
//! - Killed before the index commit: the index still holds the previous
//!   version. The history may already hold the new one; recording is
//!   idempotent (a version equal to the latest is not stored again), so
//!   when the notice arrives again — the crawl state never said its page
//!   was done, so the next crawl fetches it again; an ingest is simply run
//!   again — it is upserted and no version is doubled.
//! - Killed after the index commit, before the crawl-state rows: the pages
//!   are fetched again, compare equal, and are [`Stored::Unchanged`].
//! - The crawl state never says a page is done before the index commit
//!   that holds its notice ([`NoticeStore::checkpoint`]).
//!
//! The other order (history after the commit) would lose a version for
//! good when killed in between: the next arrival compares equal with the
//! index and records nothing.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use index::{Notice, NoticeIndex, NoticeWriter};

use crate::error::Result;
use crate::history::History;
use crate::lock::CrawlLock;
use crate::state::{Batch, CrawlState};

/// The index's directory inside the data directory.
pub const INDEX_DIR: &str = "index";
/// The crawl state (and version history) database inside the data directory.
pub const STATE_FILE: &str = "crawl.sqlite";

/// How a notice arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Via {
    /// An item of a weekly digest.
    Digest,
    /// A crawled page (a notice's own page, or a listing row), fetched at that time.
    Fetched(DateTime<Utc>),
    /// A page saved from a browser or a web archive, fed to `notices ingest`
    /// (when it was fetched is the archive's business, not the crawl's).
    Saved,
    /// A notice exported by `notices export`, imported as it was (its
    /// `fetched_at` and `first_seen` kept).
    Imported,
    /// A stored notice whose attachments a newer extractor read again from
    /// their kept copies (`notices reextract`): nothing was fetched.
    Reextracted,
}

/// A notice arriving at the store, with what came with it. Built with
/// [`Arrival::digest`] or [`Arrival::fetched`]; new kinds of baggage
/// (attachments' text, a saved page) are added as fields here, so every
/// caller keeps compiling.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Arrival {
    /// The notice as read from its origin.
    pub notice: Notice,
    /// How it arrived.
    pub via: Via,
    /// Only store it when the store has no notice with its id: a first
    /// sketch (a listing row, a digest item seeding a crawl) never replaces
    /// what a page gave.
    pub if_absent: bool,
}

impl Arrival {
    /// A digest item.
    pub fn digest(notice: Notice) -> Arrival {
        Arrival { notice, via: Via::Digest, if_absent: false }
    }

    /// A notice read from a page saved from a browser or a web archive.
    pub fn saved(notice: Notice) -> Arrival {
        Arrival { notice, via: Via::Saved, if_absent: false }
    }

    /// A notice exported earlier (`notices import`), kept as it was.
    pub fn imported(notice: Notice) -> Arrival {
        Arrival { notice, via: Via::Imported, if_absent: false }
    }

    /// A stored notice with its attachments read again (`notices reextract`).
    pub fn reextracted(notice: Notice) -> Arrival {
        Arrival { notice, via: Via::Reextracted, if_absent: false }
    }

    /// A notice read from a page fetched at `at`.
    pub fn fetched(notice: Notice, at: DateTime<Utc>) -> Arrival {
        Arrival { notice, via: Via::Fetched(at), if_absent: false }
    }

    /// The same arrival, stored only when no notice has its id yet.
    pub fn if_absent(mut self) -> Arrival {
        self.if_absent = true;
        self
    }
}

/// What [`NoticeStore::accept`] did with an arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stored {
    /// A notice not stored before: indexed, version 1 recorded.
    New,
    /// Its content changed (or a withdrawn notice's page is back): re-indexed, a version recorded.
    Changed,
    /// Same content as stored: nothing written.
    Unchanged,
    /// An [`Arrival::if_absent`] for a notice already stored: nothing written.
    Kept,
}

/// The data directory's notices: index writer, version history, crawl
/// state and crawl lock, changed only through this type. See the module
/// documentation for the order of writes.
pub struct NoticeStore {
    root: PathBuf,
    index: NoticeIndex,
    writer: NoticeWriter,
    history: History,
    state: CrawlState,
    /// Notices this session stored a version of: a second change within one
    /// session (FDA's feed row, then its page) replaces that version rather
    /// than adding one.
    versioned: HashSet<String>,
    /// Notices accepted since the last commit, as accepted: reads through
    /// the store see them before the commit makes them visible to searches
    /// (an attachment read minutes after its notice's page, in one batch).
    /// Imported and re-extracted notices are not kept here: their callers
    /// give each id once per commit (an import refuses repeated ids,
    /// `reextract` visits each stored notice once), and keeping them held a
    /// whole import in memory until its one commit (BENCHMARKS.md §14).
    pending: HashMap<String, Notice>,
    // Last, so that it is released after everything else is closed.
    _lock: CrawlLock,
}

impl std::fmt::Debug for NoticeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoticeStore").field("root", &self.root).finish()
    }
}

impl NoticeStore {
    /// Opens the store of `data_dir` (creating it): takes the crawl lock
    /// (failing at once with [`Error::Busy`] when another process holds
    /// it), opens the index and its writer, the crawl state and history.
    pub fn open(data_dir: &Path) -> Result<NoticeStore> {
        let lock = CrawlLock::acquire(data_dir)?;
        let index = NoticeIndex::open_or_create(&data_dir.join(INDEX_DIR))?;
        Self::with_lock(data_dir, index, lock)
    }

    /// [`NoticeStore::open`] with an index handle the caller already has
    /// open on `data_dir` (a server's), so both see the same commits.
    pub fn open_with_index(data_dir: &Path, index: NoticeIndex) -> Result<NoticeStore> {
        let lock = CrawlLock::acquire(data_dir)?;
        Self::with_lock(data_dir, index, lock)
    }

    fn with_lock(data_dir: &Path, index: NoticeIndex, lock: CrawlLock) -> Result<NoticeStore> {
        let state_path = data_dir.join(STATE_FILE);
        let state = CrawlState::open(&state_path)?;
        let history = History::open(&state_path)?;
        let writer = index.writer(1)?;
        Ok(NoticeStore {
            root: data_dir.to_path_buf(),
            index,
            writer,
            history,
            state,
            versioned: HashSet::new(),
            pending: HashMap::new(),
            _lock: lock,
        })
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The index (reads see the last commit).
    pub fn index(&self) -> &NoticeIndex {
        &self.index
    }

    /// The crawl state.
    pub fn state(&self) -> &CrawlState {
        &self.state
    }

    /// The crawl state, to begin and finish runs.
    pub fn state_mut(&mut self) -> &mut CrawlState {
        &mut self.state
    }

    /// The version history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The stored notice with this id: as accepted, even when not committed
    /// yet (but for imported and re-extracted notices: see `pending`).
    pub fn get(&self, id: &str) -> Result<Option<Notice>> {
        match self.pending.get(id) {
            Some(n) => Ok(Some(n.clone())),
            None => Ok(self.index.get(id)?),
        }
    }

    /// Takes a notice from any origin: compares, stamps, records the
    /// version, upserts, and says what it did. In the order of the module
    /// documentation; visible to searches after [`NoticeStore::commit`].
    pub fn accept(&mut self, arrival: Arrival) -> Result<Stored> {
        let Arrival { mut notice, via, if_absent } = arrival;
        notice.validate()?;
        let stored = self.get(&notice.id)?;
        if if_absent && stored.is_some() {
            return Ok(Stored::Kept);
        }
        if let Some(old) = &stored {
            keep_attachment_files(&mut notice, old);
        }
        let now = Utc::now();
        if let Via::Fetched(at) = via {
            notice.fetched_at = Some(at);
        }
        notice.first_seen = stored.as_ref().and_then(|s| s.first_seen).or(notice.first_seen).or(Some(now));
        if let Some(old) = &stored {
            // A withdrawn notice whose page is back is re-indexed even when
            // its content is the same.
            let back = old.withdrawn && !notice.withdrawn;
            if old.content_hash() == notice.content_hash() && !back {
                return Ok(Stored::Unchanged);
            }
        }
        if self.versioned.contains(&notice.id) {
            self.history.replace_latest(&notice, now)?;
        } else if self.history.record(&notice, now)?.is_some() {
            self.versioned.insert(notice.id.clone());
        }
        self.writer.upsert(&notice)?;
        if !matches!(via, Via::Imported | Via::Reextracted) {
            self.pending.insert(notice.id.clone(), notice);
        }
        Ok(if stored.is_some() { Stored::Changed } else { Stored::New })
    }

    /// Marks the notice of `url` withdrawn (kept, flagged, hidden from
    /// searches by default). Returns whether it was stored and not withdrawn yet.
    pub fn withdraw(&mut self, url: &str) -> Result<bool> {
        match self.get(&Notice::id_for_url(url))? {
            Some(mut notice) if !notice.withdrawn => {
                notice.withdrawn = true;
                self.writer.upsert(&notice)?;
                self.pending.insert(notice.id.clone(), notice);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Index changes not committed yet.
    pub fn pending(&self) -> u64 {
        self.writer.pending()
    }

    /// Makes the accepted notices durable and visible (one atomic index
    /// commit recorded as made `by` …), if there are any.
    pub fn commit(&mut self, by: &str) -> Result<()> {
        if self.writer.pending() > 0 {
            self.writer.commit(by)?;
        }
        self.pending.clear();
        Ok(())
    }

    /// [`NoticeStore::commit`], then the crawl-state rows of run `run` that
    /// depend on it: never the other way round (see the module documentation).
    pub fn checkpoint(&mut self, by: &str, run: i64, batch: &Batch) -> Result<()> {
        self.commit(by)?;
        self.state.apply(run, batch)
    }

    /// Commits what is pending and waits for the index's merges.
    pub fn close(mut self, by: &str) -> Result<()> {
        self.commit(by)?;
        let NoticeStore { writer, .. } = self;
        writer.close()?;
        Ok(())
    }
}

/// What was read of the attachments of `old` stays with the same files of
/// `new` when the arrival did not read them (a page parsed again links the
/// same file; its download answered 304 or is still queued).
fn keep_attachment_files(new: &mut Notice, old: &Notice) {
    for a in new.attachments.iter_mut().filter(|a| a.file.is_none()) {
        if let Some(file) = old.attachments.iter().find(|o| o.url == a.url).and_then(|o| o.file.clone()) {
            a.file = Some(file);
        }
    }
}

/// Indexes the items of a parsed digest through `store` and commits them
/// (`by`: `ingest`, `sample` …). Re-ingesting replaces, never duplicates.
/// Returns what happened to each item, in order.
pub fn ingest_digest(store: &mut NoticeStore, notices: &[Notice], by: &str) -> Result<Vec<Stored>> {
    let mut out = Vec::with_capacity(notices.len());
    for n in notices {
        out.push(store.accept(Arrival::digest(n.clone()))?);
    }
    store.commit(by)?;
    Ok(out)
}

/// Builds the index of `data_dir` from the bundled sample digest when
/// `index` (open on it) is empty. Returns how many notices were indexed,
/// `None` when the index was not empty (nothing opened, nothing locked).
pub fn ensure_sample(data_dir: &Path, index: &NoticeIndex) -> Result<Option<usize>> {
    if !index.is_empty()? {
        return Ok(None);
    }
    let parsed = crate::digest::parse(crate::SAMPLE_DIGEST_NAME, crate::SAMPLE_DIGEST);
    let mut store = NoticeStore::open_with_index(data_dir, index.clone())?;
    // Another process may have filled it meanwhile.
    if !store.index().is_empty()? {
        return Ok(None);
    }
    ingest_digest(&mut store, &parsed.notices, "sample")?;
    store.close("sample")?;
    Ok(Some(parsed.notices.len()))
}

#[cfg(test)]
mod tests {
    use index::Source;

    use crate::error::Error;

    use super::*;

    fn page(body: &str) -> Notice {
        Notice::crawled(Source::Nmpa, "http://www.nmpa.gov.cn/n1.html", "公告", body)
    }

    #[test]
    fn one_door_compares_stamps_records_and_reports() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = NoticeStore::open(dir.path()).unwrap();
        let t1 = DateTime::parse_from_rfc3339("2020-05-15T08:30:00Z").unwrap().with_timezone(&Utc);
        let id = page("甲").id;
        let mut digest = page("甲");
        digest.origin = index::Origin::Digest { file: "d.txt".into(), section: "s".into(), item: 1, period: None };
        assert_eq!(store.accept(Arrival::digest(digest)).unwrap(), Stored::New);
        store.close("ingest").unwrap();
        let mut store = NoticeStore::open(dir.path()).unwrap();
        let first_seen = store.get(&id).unwrap().unwrap().first_seen.unwrap();
        assert_eq!(store.get(&id).unwrap().unwrap().fetched_at, None, "a digest item was not fetched");

        assert_eq!(store.accept(Arrival::fetched(page("甲"), t1).if_absent()).unwrap(), Stored::Kept);
        assert_eq!(store.accept(Arrival::fetched(page("甲"), t1)).unwrap(), Stored::Unchanged);
        assert_eq!(store.accept(Arrival::fetched(page("乙"), t1)).unwrap(), Stored::Changed);
        store.commit("crawl").unwrap();
        let n = store.get(&id).unwrap().unwrap();
        assert_eq!((n.fetched_at, n.first_seen, n.body.as_str()), (Some(t1), Some(first_seen), "乙"));
        assert_eq!(store.index().stats().unwrap().last_crawl, Some(t1));
        // A second change in the same session (a crawl run) is one version.
        assert_eq!(store.accept(Arrival::fetched(page("丙"), t1)).unwrap(), Stored::Changed);
        let bodies: Vec<String> = store.history().versions(&id).unwrap().into_iter().map(|v| v.body).collect();
        assert_eq!(bodies, ["甲", "丙"]);

        // The lock is the store's: a second store on the directory is refused.
        assert!(matches!(NoticeStore::open(dir.path()).unwrap_err(), Error::Busy { .. }));
        store.close("crawl").unwrap();
        let store = NoticeStore::open(dir.path()).unwrap();
        assert_eq!(store.get(&id).unwrap().unwrap().body, "丙");
    }

    #[test]
    fn a_version_recorded_before_a_kill_is_not_recorded_twice() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = NoticeStore::open(dir.path()).unwrap();
        let id = page("甲").id;
        store.accept(Arrival::fetched(page("甲"), Utc::now())).unwrap();
        // Killed before the commit: nothing reached the index.
        drop(store);
        let mut store = NoticeStore::open(dir.path()).unwrap();
        assert!(store.get(&id).unwrap().is_none());
        assert_eq!(store.accept(Arrival::fetched(page("甲"), Utc::now())).unwrap(), Stored::New);
        store.close("crawl").unwrap();
        let store = NoticeStore::open(dir.path()).unwrap();
        assert_eq!(store.history().versions(&id).unwrap().len(), 1);
        assert!(store.get(&id).unwrap().is_some());
    }

    #[test]
    fn the_sample_is_built_once_through_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let index = NoticeIndex::open_or_create(&dir.path().join(INDEX_DIR)).unwrap();
        assert_eq!(ensure_sample(dir.path(), &index).unwrap(), Some(11));
        assert_eq!(ensure_sample(dir.path(), &index).unwrap(), None);
        assert_eq!(index.len().unwrap(), 11);
        let store = NoticeStore::open(dir.path()).unwrap();
        let any = &index.all().unwrap()[0];
        assert_eq!(store.history().versions(&any.id).unwrap().len(), 1);
        assert!(any.first_seen.is_some());
    }
}
