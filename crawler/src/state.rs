//! Crawl state in one SQLite file (WAL mode): what is known of every URL,
//! and the queue of the current run so that a killed crawl resumes where
//! it stopped.
//!
//! Times are Unix milliseconds (UTC).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::sources::{DetailRef, Method, PageKind, Request};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS urls (
    key           TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    source        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    first_seen    INTEGER NOT NULL,
    last_fetched  INTEGER,
    last_changed  INTEGER,
    status        INTEGER,
    etag          TEXT,
    last_modified TEXT,
    content_hash  TEXT,
    failures      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    next_due      INTEGER,
    marker        TEXT,
    children      TEXT,
    bytes         INTEGER,
    content_type  TEXT,
    gone          INTEGER NOT NULL DEFAULT 0,
    outcome       TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE TABLE IF NOT EXISTS queue (
    run   INTEGER NOT NULL,
    key   TEXT NOT NULL,
    seq   INTEGER NOT NULL,
    item  TEXT NOT NULL,
    done  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run, key)
);
";

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// What the state knows of one URL (one row of `urls`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlRecord {
    /// [`Request::state_key`].
    pub key: String,
    /// The URL.
    pub url: String,
    /// Source label (`FDA`, `other/host` ...).
    pub source: String,
    /// `listing`, `detail` or `attachment`.
    pub kind: String,
    /// First time the URL was seen.
    pub first_seen: i64,
    /// Last fetch (any outcome).
    pub last_fetched: Option<i64>,
    /// Last time its content changed.
    pub last_changed: Option<i64>,
    /// Last HTTP status (none when no response came).
    pub status: Option<u16>,
    /// ETag of the last 200.
    pub etag: Option<String>,
    /// Last-Modified of the last 200.
    pub last_modified: Option<String>,
    /// Hash of the extracted content of the last success.
    pub content_hash: Option<String>,
    /// Failures in a row.
    pub failures: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the URL should be fetched again.
    pub next_due: Option<i64>,
    /// The listing's change marker ([`DetailRef::changed`]) when last fetched.
    pub marker: Option<String>,
    /// For a listing: what it led to last time (JSON list of queue items),
    /// replayed when it answers 304.
    pub children: Option<String>,
    /// Bytes of the last body (of an attachment: its declared size).
    pub bytes: Option<i64>,
    /// Content-Type of the last 200.
    pub content_type: Option<String>,
    /// "Gone" answers (404/410) in a row. Only a page that answers again
    /// resets it: a timeout or a challenge in between says nothing either way.
    pub gone: u32,
    /// [`crate::outcome::PageOutcome::name`] of the last attempt.
    pub outcome: Option<String>,
}

impl UrlRecord {
    /// Whether `fingerprint` differs from the last success's; stamps
    /// `last_changed` when it does.
    pub fn note_change(&mut self, fingerprint: &str, now: i64) -> bool {
        let changed = self.content_hash.as_deref() != Some(fingerprint);
        if changed {
            self.last_changed = Some(now);
        }
        changed
    }

    /// Keeps what a success leaves for the next fetch: the content's
    /// fingerprint and the validators of a conditional request.
    pub fn took(&mut self, fingerprint: String, etag: Option<String>, last_modified: Option<String>) {
        self.content_hash = Some(fingerprint);
        self.etag = etag;
        self.last_modified = last_modified;
    }

    /// A record for a URL seen for the first time now.
    pub fn new(key: &str, url: &str, source: &str, kind: PageKind) -> Self {
        UrlRecord {
            key: key.into(),
            url: url.into(),
            source: source.into(),
            kind: kind_name(kind).into(),
            first_seen: now_ms(),
            ..Default::default()
        }
    }

    /// Whether the last attempt succeeded and nothing says to look again
    /// before `now`.
    pub fn finished(&self, now: i64) -> bool {
        self.failures == 0 && self.content_hash.is_some() && self.next_due.is_some_and(|due| due > now)
    }

    /// Whether the last attempt met an anti-bot wall whose backoff is not
    /// over at `now` (it is not knocked on again before).
    pub fn walled(&self, now: i64) -> bool {
        self.outcome.as_deref() == Some(crate::outcome::CHALLENGED) && self.next_due.is_some_and(|due| due > now)
    }
}

/// The name of a page kind as stored.
pub fn kind_name(kind: PageKind) -> &'static str {
    match kind {
        PageKind::Listing => "listing",
        PageKind::Detail => "detail",
        PageKind::Attachment => "attachment",
    }
}

/// A request waiting in the queue of a run, with what its listing said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueItem {
    /// Label of the source that owns it.
    pub source: String,
    /// URL.
    pub url: Url,
    /// GET or POST.
    pub method: Method,
    /// POST form.
    #[serde(default)]
    pub form: Vec<(String, String)>,
    /// Extra headers.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// Listing, detail or attachment.
    pub kind: PageKind,
    /// Title the listing gave.
    #[serde(default)]
    pub title: Option<String>,
    /// Date the listing gave.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Change marker the listing gave (of an attachment: its notice's).
    #[serde(default)]
    pub changed: Option<String>,
    /// Of an attachment: the id of the notice that links it, whose text it joins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

impl QueueItem {
    /// From a request, with the listing's reference when it is a detail.
    pub fn new(source: &str, request: &Request, listed: Option<&DetailRef>) -> Self {
        QueueItem {
            source: source.to_string(),
            url: request.url.clone(),
            method: request.method,
            form: request.form.clone(),
            headers: request.headers.clone(),
            kind: request.kind,
            title: listed.and_then(|d| d.title.clone()),
            date: listed.and_then(|d| d.date),
            changed: listed.and_then(|d| d.changed.clone()),
            parent: None,
        }
    }

    /// An attachment of notice `parent`, fetched again when the notice's
    /// listed change marker moves (`changed`), else on its revisit schedule.
    pub fn attachment(source: &str, url: Url, parent: &str, changed: Option<String>) -> Self {
        let request = Request::get(url, PageKind::Attachment);
        QueueItem { parent: Some(parent.to_string()), changed, ..QueueItem::new(source, &request, None) }
    }

    /// The request.
    pub fn request(&self) -> Request {
        Request {
            url: self.url.clone(),
            method: self.method,
            form: self.form.clone(),
            headers: self.headers.clone(),
            kind: self.kind,
        }
    }

    /// The listing's reference (empty fields for a start request).
    pub fn detail_ref(&self) -> DetailRef {
        DetailRef { request: self.request(), title: self.title.clone(), date: self.date, changed: self.changed.clone() }
    }

    /// The state key.
    pub fn key(&self) -> String {
        self.request().state_key()
    }
}

/// Writes applied together in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    /// Rows to write whole.
    pub records: Vec<UrlRecord>,
    /// Rows to add only if absent (attachments seen).
    pub seen: Vec<UrlRecord>,
    /// Queue items to add to the run.
    pub enqueue: Vec<QueueItem>,
    /// Queue keys finished in the run.
    pub done: Vec<String>,
}

impl Batch {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.seen.is_empty() && self.enqueue.is_empty() && self.done.is_empty()
    }
}

/// A run of the crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Its id.
    pub id: i64,
    /// Whether it is an unfinished run taken up again.
    pub resumed: bool,
}

/// The crawl state database.
#[derive(Debug)]
pub struct CrawlState {
    conn: Connection,
    path: PathBuf,
}

impl CrawlState {
    /// Opens (creating) the state file, in WAL mode.
    pub fn open(path: &Path) -> Result<CrawlState> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        }
        let err = |source| Error::State { path: path.to_path_buf(), source };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(err)?;
        // WAL with synchronous=NORMAL survives a killed process (not a power cut
        // mid-commit), which is the failure that matters here.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        // Files made before a column was added get it.
        for (column, decl) in [("content_type", "TEXT"), ("gone", "INTEGER NOT NULL DEFAULT 0"), ("outcome", "TEXT")] {
            let has: bool = conn
                .query_row("SELECT COUNT(*) FROM pragma_table_info('urls') WHERE name = ?1", [column], |r| r.get(0))
                .map_err(err)?;
            if !has {
                conn.execute_batch(&format!("ALTER TABLE urls ADD COLUMN {column} {decl}")).map_err(err)?;
            }
        }
        Ok(CrawlState { conn, path: path.to_path_buf() })
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        |source| Error::State { path: self.path.clone(), source }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The unfinished run if there is one, else a new run.
    pub fn begin_run(&mut self) -> Result<Run> {
        let open: Option<i64> = self
            .conn
            .query_row("SELECT id FROM runs WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(self.err())?;
        if let Some(id) = open {
            return Ok(Run { id, resumed: true });
        }
        self.conn.execute("INSERT INTO runs (started_at) VALUES (?1)", [now_ms()]).map_err(self.err())?;
        Ok(Run { id: self.conn.last_insert_rowid(), resumed: false })
    }

    /// Marks a run finished and forgets its queue.
    pub fn finish_run(&mut self, run: i64) -> Result<()> {
        let tx = self.conn.transaction().map_err(|source| Error::State { path: self.path.clone(), source })?;
        tx.execute("UPDATE runs SET finished_at = ?1 WHERE id = ?2", params![now_ms(), run])
            .and_then(|_| tx.execute("DELETE FROM queue WHERE run = ?1", [run]))
            .and_then(|_| tx.commit())
            .map_err(|source| Error::State { path: self.path.clone(), source })
    }

    /// The queue of a run: every key (to skip duplicates) and the items not done, in order.
    pub fn queue(&self, run: i64) -> Result<(HashSet<String>, Vec<QueueItem>)> {
        let mut stmt =
            self.conn.prepare("SELECT key, item, done FROM queue WHERE run = ?1 ORDER BY seq").map_err(self.err())?;
        let rows = stmt
            .query_map([run], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, bool>(2)?)))
            .map_err(self.err())?;
        let (mut keys, mut pending) = (HashSet::new(), Vec::new());
        for row in rows {
            let (key, item, done) = row.map_err(self.err())?;
            if !done && let Ok(item) = serde_json::from_str::<QueueItem>(&item) {
                pending.push(item);
            }
            keys.insert(key);
        }
        Ok((keys, pending))
    }

    /// The record of a key.
    pub fn get(&self, key: &str) -> Result<Option<UrlRecord>> {
        self.conn
            .query_row(
                "SELECT key, url, source, kind, first_seen, last_fetched, last_changed, status, etag, last_modified,
                        content_hash, failures, last_error, next_due, marker, children, bytes, content_type, gone, outcome
                 FROM urls WHERE key = ?1",
                [key],
                |r| {
                    Ok(UrlRecord {
                        key: r.get(0)?,
                        url: r.get(1)?,
                        source: r.get(2)?,
                        kind: r.get(3)?,
                        first_seen: r.get(4)?,
                        last_fetched: r.get(5)?,
                        last_changed: r.get(6)?,
                        status: r.get(7)?,
                        etag: r.get(8)?,
                        last_modified: r.get(9)?,
                        content_hash: r.get(10)?,
                        failures: r.get(11)?,
                        last_error: r.get(12)?,
                        next_due: r.get(13)?,
                        marker: r.get(14)?,
                        children: r.get(15)?,
                        bytes: r.get(16)?,
                        content_type: r.get(17)?,
                        gone: r.get(18)?,
                        outcome: r.get(19)?,
                    })
                },
            )
            .optional()
            .map_err(self.err())
    }

    /// Applies a batch in one transaction: all of it or, if the process
    /// dies, none of it.
    pub fn apply(&mut self, run: i64, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let err = |source| Error::State { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut put = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO urls (key, url, source, kind, first_seen, last_fetched, last_changed, status,
                        etag, last_modified, content_hash, failures, last_error, next_due, marker, children, bytes,
                        content_type, gone, outcome)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
                )
                .map_err(err)?;
            let mut add = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO urls (key, url, source, kind, first_seen) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err)?;
            for r in &batch.records {
                put.execute(params![
                    r.key,
                    r.url,
                    r.source,
                    r.kind,
                    r.first_seen,
                    r.last_fetched,
                    r.last_changed,
                    r.status,
                    r.etag,
                    r.last_modified,
                    r.content_hash,
                    r.failures,
                    r.last_error,
                    r.next_due,
                    r.marker,
                    r.children,
                    r.bytes,
                    r.content_type,
                    r.gone,
                    r.outcome
                ])
                .map_err(err)?;
            }
            for r in &batch.seen {
                add.execute(params![r.key, r.url, r.source, r.kind, r.first_seen]).map_err(err)?;
            }
            let mut enqueue = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO queue (run, key, seq, item)
                     VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM queue WHERE run = ?1), ?3)",
                )
                .map_err(err)?;
            for item in &batch.enqueue {
                let json = serde_json::to_string(item).expect("queue items serialize");
                enqueue.execute(params![run, item.key(), json]).map_err(err)?;
            }
            let mut done = tx.prepare_cached("UPDATE queue SET done = 1 WHERE run = ?1 AND key = ?2").map_err(err)?;
            for key in &batch.done {
                done.execute(params![run, key]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// The (key, URL) of every GET page of `kind` from `source` due again
    /// at `now` (its `next_due` passed), oldest due first.
    pub fn due(&self, source: &str, kind: PageKind, now: i64) -> Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT key, url FROM urls WHERE source = ?1 AND kind = ?2 AND next_due IS NOT NULL
                 AND next_due <= ?3 AND key NOT LIKE 'POST %' ORDER BY next_due, key",
            )
            .map_err(self.err())?;
        let rows = stmt
            .query_map(params![source, kind_name(kind), now], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?;
        rows.collect::<rusqlite::Result<_>>().map_err(self.err())
    }

    /// Every URL whose last attempt failed, with its error (for reports).
    pub fn errors(&self) -> Result<Vec<UrlRecord>> {
        let mut stmt =
            self.conn.prepare("SELECT key FROM urls WHERE last_error IS NOT NULL ORDER BY key").map_err(self.err())?;
        let keys: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .map_err(self.err())?
            .collect::<rusqlite::Result<_>>()
            .map_err(self.err())?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.extend(self.get(&key)?);
        }
        Ok(out)
    }

    /// Number of URLs known, by kind name.
    pub fn count(&self, kind: PageKind) -> Result<u64> {
        self.conn
            .query_row("SELECT COUNT(*) FROM urls WHERE kind = ?1", [kind_name(kind)], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(self.err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(path: &str, kind: PageKind) -> QueueItem {
        let req = Request::get(Url::parse(&format!("http://a.cn{path}")).unwrap(), kind);
        let listed = DetailRef {
            request: req.clone(),
            title: Some("标题".into()),
            date: NaiveDate::from_ymd_opt(2020, 5, 13),
            changed: Some("1589".into()),
        };
        QueueItem::new("other/a.cn", &req, Some(&listed))
    }

    #[test]
    fn records_round_trip_on_a_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crawl.sqlite");
        let mut state = CrawlState::open(&path).unwrap();
        let mut rec = UrlRecord::new("http://a.cn/1", "http://a.cn/1", "other/a.cn", PageKind::Detail);
        rec.status = Some(200);
        rec.etag = Some("\"abc\"".into());
        rec.last_modified = Some("Wed, 13 May 2020 08:00:00 GMT".into());
        rec.content_hash = Some("ff00".into());
        rec.next_due = Some(now_ms() + 60_000);
        rec.bytes = Some(1234);
        rec.content_type = Some("application/pdf".into());
        rec.gone = 2;
        let run = state.begin_run().unwrap();
        state.apply(run.id, &Batch { records: vec![rec.clone()], ..Default::default() }).unwrap();
        drop(state);
        let state = CrawlState::open(&path).unwrap();
        let back = state.get("http://a.cn/1").unwrap().unwrap();
        assert_eq!(back, rec);
        assert!(back.finished(now_ms()));
        assert!(!back.finished(now_ms() + 120_000), "due again later");
        assert_eq!(state.count(PageKind::Detail).unwrap(), 1);
        let mode: String = state.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn an_unfinished_run_resumes_with_its_pending_queue_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crawl.sqlite");
        let mut state = CrawlState::open(&path).unwrap();
        let run = state.begin_run().unwrap();
        assert!(!run.resumed);
        let (a, b, c) = (item("/list", PageKind::Listing), item("/1", PageKind::Detail), item("/2", PageKind::Detail));
        let batch = Batch { enqueue: vec![a.clone(), b.clone(), c.clone(), b.clone()], ..Default::default() };
        state.apply(run.id, &batch).unwrap();
        state.apply(run.id, &Batch { done: vec![a.key()], ..Default::default() }).unwrap();
        drop(state);
        let mut state = CrawlState::open(&path).unwrap();
        let again = state.begin_run().unwrap();
        assert_eq!(again, Run { id: run.id, resumed: true });
        let (keys, pending) = state.queue(again.id).unwrap();
        assert_eq!(keys.len(), 3, "a duplicate is queued once");
        assert_eq!(pending, vec![b.clone(), c]);
        assert_eq!(pending[0].detail_ref().changed.as_deref(), Some("1589"));
        state.finish_run(again.id).unwrap();
        let next = state.begin_run().unwrap();
        assert!(!next.resumed && next.id != run.id);
        assert!(state.queue(run.id).unwrap().0.is_empty());
    }

    #[test]
    fn a_file_from_before_the_content_type_column_is_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            &SCHEMA.replace(",\n    content_type  TEXT,\n    gone          INTEGER NOT NULL DEFAULT 0", ""),
        )
        .unwrap();
        old.execute("INSERT INTO urls (key, url, source, kind, first_seen) VALUES ('k', 'u', 's', 'detail', 1)", [])
            .unwrap();
        let cols: i64 = old
            .query_row("SELECT COUNT(*) FROM pragma_table_info('urls') WHERE name = 'content_type'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(cols, 0, "the old layout");
        drop(old);
        let state = CrawlState::open(&path).unwrap();
        let rec = state.get("k").unwrap().unwrap();
        assert_eq!((rec.first_seen, rec.content_type, rec.gone), (1, None, 0));
    }

    #[test]
    fn due_pages_are_those_whose_time_has_come() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = CrawlState::open(&dir.path().join("s.sqlite")).unwrap();
        let rec = |key: &str, due: Option<i64>, source: &str| {
            let mut r = UrlRecord::new(key, key, source, PageKind::Detail);
            r.next_due = due;
            r
        };
        let records = vec![
            rec("http://a.cn/late", Some(20), "x"),
            rec("http://a.cn/early", Some(10), "x"),
            rec("http://a.cn/later", Some(1000), "x"),
            rec("http://a.cn/never", None, "x"),
            rec("http://a.cn/other", Some(10), "y"),
            rec("POST http://a.cn/api p=1", Some(10), "x"),
        ];
        state.apply(1, &Batch { records, ..Default::default() }).unwrap();
        let due = state.due("x", PageKind::Detail, 100).unwrap();
        let keys: Vec<&str> = due.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["http://a.cn/early", "http://a.cn/late"]);
        assert!(state.due("x", PageKind::Listing, 100).unwrap().is_empty());
    }

    #[test]
    fn seen_rows_do_not_overwrite_and_errors_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = CrawlState::open(&dir.path().join("s.sqlite")).unwrap();
        let mut rec = UrlRecord::new("k", "http://a.cn/f.pdf", "x", PageKind::Attachment);
        rec.last_error = Some("HTTP 404".into());
        rec.failures = 1;
        state.apply(1, &Batch { records: vec![rec], ..Default::default() }).unwrap();
        let plain = UrlRecord::new("k", "http://a.cn/f.pdf", "x", PageKind::Attachment);
        state.apply(1, &Batch { seen: vec![plain], ..Default::default() }).unwrap();
        let errors = state.errors().unwrap();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].last_error.as_deref(), Some("HTTP 404"));
    }
}
