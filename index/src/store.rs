//! Opening the index on disk (or in memory) and reading notices back.

use std::path::{Path, PathBuf};

use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{AllQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::analyzer;
use crate::error::{Error, Result};
use crate::facets::TableCache;
use crate::notice::Notice;
use crate::schema::{self, Fields};
use crate::writer::NoticeWriter;

/// Most threads one search uses (one per segment at most).
const MAX_SEARCH_THREADS: usize = 4;

/// A notice index: the Tantivy index, one long-lived reader, and the fields.
///
/// The reader reloads by itself shortly after any commit, also a commit
/// made by another process, so a server sees a crawl's notices without a
/// restart.
#[derive(Clone)]
pub struct NoticeIndex {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: Fields,
    /// Per-segment source and month tables for facet counts.
    pub(crate) facet_tables: TableCache,
    /// Searches running now (parallel segments only when alone).
    pub(crate) in_flight: crate::inflight::InFlight,
    /// Store readers per segment, for reading hits back.
    pub(crate) stores: crate::stored::StoreReaders,
    path: Option<PathBuf>,
}

impl NoticeIndex {
    /// Opens the index in `dir`, creating it (and `dir`) if needed.
    pub fn open_or_create(dir: &Path) -> Result<NoticeIndex> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        let mmap =
            MmapDirectory::open(dir).map_err(|source| Error::OpenDirectory { path: dir.to_path_buf(), source })?;
        match Index::open_or_create(mmap, schema::build()) {
            Ok(index) => Self::with_index(index, Some(dir.to_path_buf())),
            // An index written by an older `notices` (fewer fields).
            Err(tantivy::TantivyError::SchemaError(_)) => Self::migrate(dir),
            Err(e) => Err(e.into()),
        }
    }

    /// Rebuilds an index whose schema is older than this build's from the
    /// notice JSON it stores (every notice keeps its id, text, dates and
    /// `first_seen`), then swaps it in: the new index is written beside the
    /// old one and renamed over it only when complete, so a crash loses
    /// nothing (the next open migrates again).
    fn migrate(dir: &Path) -> Result<NoticeIndex> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        let mmap =
            MmapDirectory::open(dir).map_err(|source| Error::OpenDirectory { path: dir.to_path_buf(), source })?;
        let old = Index::open(mmap)?;
        // Held while copying, so that no crawl writes the old index meanwhile.
        let lock = old.writer::<TantivyDocument>(15_000_000).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => Error::Locked(dir.to_path_buf()),
            e => Error::Tantivy(e),
        })?;
        let json = old.schema().get_field(schema::NOTICE_JSON)?;
        // Since the body is stored apart from the JSON (schema::BODY), an
        // old index may hold it there; older ones kept it in the JSON.
        let body = old.schema().get_field(schema::BODY).ok();
        let searcher = old.reader()?.searcher();
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "index".into());
        let fresh = dir.with_file_name(format!("{name}.migrating"));
        let stale = dir.with_file_name(format!("{name}.old"));
        for leftover in [&fresh, &stale] {
            if leftover.exists() {
                std::fs::remove_dir_all(leftover).map_err(io(leftover))?;
            }
        }
        // Each notice is written as it is read: holding them all first took
        // memory in proportion to the index (BENCHMARKS.md §14).
        let migrated = {
            let new = NoticeIndex::open_or_create(&fresh)?;
            // Indexing threads beside this one, which reads and decodes.
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            let mut writer = new.writer(threads)?;
            let migrated = for_each_stored(&searcher, dir, |doc| {
                let text = doc.get_first(json).and_then(|v| v.as_str()).unwrap_or_default();
                let stored_body = body.and_then(|f| doc.get_first(f)).and_then(|v| v.as_str()).map(str::as_bytes);
                let notice = crate::stored::parse(text.as_bytes(), stored_body, String::new).map_err(|e| match e {
                    Error::Corrupt { id, reason } => {
                        Error::Corrupt { id, reason: format!("during migration: {reason}") }
                    }
                    e => e,
                })?;
                writer.upsert(&notice)
            })?;
            writer.commit("migration")?;
            writer.close()?;
            migrated
        };
        drop(lock);
        drop(searcher);
        drop(old);
        std::fs::rename(dir, &stale).map_err(io(dir))?;
        std::fs::rename(&fresh, dir).map_err(io(dir))?;
        std::fs::remove_dir_all(&stale).map_err(io(&stale))?;
        tracing::info!(dir = %dir.display(), notices = migrated, "index migrated to the current schema");
        NoticeIndex::open_or_create(dir)
    }

    /// An index in memory (tests, benchmarks).
    pub fn in_memory() -> Result<NoticeIndex> {
        Self::with_index(Index::create_in_ram(schema::build()), None)
    }

    pub(crate) fn with_index(mut index: Index, path: Option<PathBuf>) -> Result<NoticeIndex> {
        analyzer::register(index.tokenizers());
        // Segments are searched in parallel: a broad query over two large
        // segments takes about half the time on two cores (BENCHMARKS.md).
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_SEARCH_THREADS);
        if threads > 1 {
            index.set_multithread_executor(threads)?;
        }
        let fields = Fields::from_schema(&index.schema())?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::OnCommitWithDelay).try_into()?;
        Ok(NoticeIndex {
            index,
            reader,
            fields,
            facet_tables: TableCache::default(),
            in_flight: Default::default(),
            stores: Default::default(),
            path,
        })
    }

    /// Where the index lives, if on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Takes the single writer of this index. Fails with [`Error::Locked`]
    /// when another writer (in this or another process) holds it; the lock
    /// is released when the holder exits, even by a crash.
    pub fn writer(&self, threads: usize) -> Result<NoticeWriter> {
        let threads = threads.clamp(1, 8);
        let writer = self.index.writer_with_num_threads(threads, 64_000_000 * threads).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => {
                Error::Locked(self.path.clone().unwrap_or_else(|| PathBuf::from("<memory>")))
            }
            e => Error::Tantivy(e),
        })?;
        Ok(NoticeWriter::new(writer, self.fields, self.reader.clone()))
    }

    /// Makes the latest commit visible to this handle now (instead of
    /// within the reload delay).
    pub fn reload(&self) -> Result<()> {
        Ok(self.reader.reload()?)
    }

    /// Identifies what searches see now: a hash of the segments and their
    /// deletes, so it changes with every commit the reader loads that adds,
    /// replaces or deletes a notice (result caches key on it). Not the
    /// reader's generation number: the reader may reload the same commit
    /// twice (a manual reload, then its watcher), which would empty a cache
    /// for nothing.
    pub fn generation(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let searcher = self.reader.searcher();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        searcher.generation().segments().hash(&mut hasher);
        hasher.finish()
    }

    /// Number of notices searchable now.
    pub fn len(&self) -> Result<u64> {
        Ok(self.reader.searcher().search(&AllQuery, &Count)? as u64)
    }

    /// True when no notice is searchable.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The notice with this id.
    pub fn get(&self, id: &str) -> Result<Option<Notice>> {
        let searcher = self.reader.searcher();
        let q = TermQuery::new(Term::from_field_text(self.fields.id, id), IndexRecordOption::Basic);
        let top = searcher.search(&q, &TopDocs::with_limit(1).order_by_score())?;
        match top.first() {
            Some((_, addr)) => Ok(Some(self.load(&searcher, *addr)?)),
            None => Ok(None),
        }
    }

    /// Every notice, in index order, in one vector: for tests and small
    /// indexes. Whatever may run on a large index goes through
    /// [`Self::for_each_notice`] or [`Self::for_each_by_id`], whose memory
    /// does not grow with the index.
    pub fn all(&self) -> Result<Vec<Notice>> {
        let mut out = Vec::new();
        self.for_each_notice(|n| {
            out.push(n);
            Ok::<(), Error>(())
        })?;
        Ok(out)
    }

    /// Calls `f` with every notice, one at a time, in index order; returns
    /// how many there were. What searches see now is read: notices written
    /// meanwhile (by `f` itself, say) are not visited.
    pub fn for_each_notice<E: From<Error>>(
        &self,
        mut f: impl FnMut(Notice) -> std::result::Result<(), E>,
    ) -> std::result::Result<u64, E> {
        for_each_stored(&self.reader.searcher(), &self.dir(), |doc| f(self.decode(&doc)?))
    }

    /// Calls `f` with every notice, one at a time, in the order of their
    /// ids (`notices export`); returns how many there were. The ids come
    /// from each segment's term dictionary, already sorted, so only they
    /// and their addresses are held (about 60 bytes a notice), not the
    /// notices.
    pub fn for_each_by_id<E: From<Error>>(
        &self,
        mut f: impl FnMut(Notice) -> std::result::Result<(), E>,
    ) -> std::result::Result<u64, E> {
        let searcher = self.reader.searcher();
        let mut ids: Vec<(Vec<u8>, DocAddress)> = Vec::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(self.fields.id).map_err(Error::from)?;
            let mut terms = inverted.terms().stream().map_err(|source| Error::Io { path: self.dir(), source })?;
            while terms.advance() {
                let mut postings = inverted
                    .read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)
                    .map_err(|source| Error::Io { path: self.dir(), source })?;
                let mut doc = postings.doc();
                while doc != tantivy::TERMINATED {
                    if !segment.is_deleted(doc) {
                        ids.push((terms.key().to_vec(), DocAddress::new(ord as u32, doc)));
                    }
                    doc = postings.advance();
                }
            }
        }
        ids.sort_unstable();
        for (_, addr) in &ids {
            f(self.load(&searcher, *addr)?)?;
        }
        Ok(ids.len() as u64)
    }

    /// The index's directory, for errors (empty in memory).
    fn dir(&self) -> PathBuf {
        self.path.clone().unwrap_or_default()
    }

    pub(crate) fn decode(&self, doc: &TantivyDocument) -> Result<Notice> {
        let id = doc.get_first(self.fields.id).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        notice_from_document(doc, &self.fields, id)
    }

    /// The notice at `addr` of `searcher` (a hit).
    pub(crate) fn load(&self, searcher: &Searcher, addr: DocAddress) -> Result<Notice> {
        self.stores.notice(searcher, addr, &self.fields)
    }

    /// The payload of the last commit (written by [`NoticeWriter::commit`]).
    pub fn last_commit(&self) -> Result<Option<crate::writer::CommitInfo>> {
        let meta = self.index.load_metas()?;
        Ok(meta.payload.and_then(|p| serde_json::from_str(&p).ok()))
    }
}

impl NoticeIndex {
    /// Prepares a notice for re-indexing: keeps the `first_seen` time of the
    /// stored version (or sets it to now for a new notice). Returns whether
    /// the notice is new or its content changed.
    pub fn carry_over(&self, notice: &mut Notice) -> Result<bool> {
        match self.get(&notice.id)? {
            Some(old) => {
                notice.first_seen = old.first_seen.or(notice.first_seen);
                notice.inherit_classification(&old);
                Ok(old.content_hash() != notice.content_hash())
            }
            None => {
                notice.first_seen.get_or_insert_with(chrono::Utc::now);
                Ok(true)
            }
        }
    }
}

/// Calls `f` with the stored fields of every live document of `searcher`,
/// one at a time, segment by segment in index order; returns how many there
/// were. The one loop over stored documents: reading notices back, checking
/// an index and migrating one all go through it.
fn for_each_stored<E: From<Error>>(
    searcher: &Searcher,
    dir: &Path,
    mut f: impl FnMut(TantivyDocument) -> std::result::Result<(), E>,
) -> std::result::Result<u64, E> {
    let mut n = 0;
    for segment in searcher.segment_readers() {
        let store = segment.get_store_reader(16).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        for doc_id in (0..segment.max_doc()).filter(|d| !segment.is_deleted(*d)) {
            let doc: TantivyDocument = store.get(doc_id).map_err(Error::from)?;
            f(doc)?;
            n += 1;
        }
    }
    Ok(n)
}

/// The notice stored as `doc`, decoded by Tantivy (`id` names it in errors).
pub(crate) fn notice_from_document(doc: &TantivyDocument, fields: &Fields, id: String) -> Result<Notice> {
    let json = doc
        .get_first(fields.notice_json)
        .and_then(|v| v.as_str())
        .ok_or_else(|| Error::Corrupt { id: id.clone(), reason: "no stored JSON".into() })?;
    let body = doc.get_first(fields.body).and_then(|v| v.as_str()).map(str::as_bytes);
    crate::stored::parse(json.as_bytes(), body, || id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{STORED, STRING, Schema};

    /// Writes an index of an older schema into `dir`: one document with its
    /// id and notice JSON, and its body stored apart when given.
    fn write_old_index(dir: &std::path::Path, notice_id: &str, json_text: &str, body_text: Option<&str>) {
        std::fs::create_dir_all(dir).unwrap();
        let mut b = Schema::builder();
        let id = b.add_text_field(schema::ID, STRING | STORED);
        let json = b.add_text_field(schema::NOTICE_JSON, STORED);
        let body = body_text.map(|_| b.add_text_field(schema::BODY, STORED));
        let old = Index::create_in_dir(dir, b.build()).unwrap();
        let mut w = old.writer::<TantivyDocument>(15_000_000).unwrap();
        let mut doc = TantivyDocument::default();
        doc.add_text(id, notice_id);
        doc.add_text(json, json_text);
        if let (Some(field), Some(text)) = (body, body_text) {
            doc.add_text(field, text);
        }
        w.add_document(doc).unwrap();
        w.commit().unwrap();
    }

    /// Reading every notice one at a time: in id order across segments,
    /// replaced versions left out, and an error from the caller stops it.
    #[test]
    fn notices_are_read_one_at_a_time_in_index_and_id_order() {
        use crate::notice::Source;
        let index = NoticeIndex::in_memory().unwrap();
        let urls = ["https://e.org/c", "https://e.org/a", "https://e.org/d", "https://e.org/b"];
        // Two commits, so two segments; the second replaces a notice of the first.
        for (k, batch) in [&urls[..2], &urls[2..]].iter().enumerate() {
            let mut w = index.writer(1).unwrap();
            for u in batch.iter().chain((k == 1).then_some(&urls[0])) {
                w.upsert(&Notice::crawled(Source::Fda, u, format!("{u} v{k}"), "body")).unwrap();
            }
            w.commit("t").unwrap();
        }
        index.reload().unwrap();
        let mut by_id = Vec::new();
        let n = index
            .for_each_by_id(|n| {
                by_id.push((n.id, n.title));
                Ok::<(), Error>(())
            })
            .unwrap();
        assert_eq!(n, 4);
        let mut ids: Vec<String> = urls.iter().map(|u| Notice::id_for_url(u)).collect();
        ids.sort();
        assert_eq!(by_id.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), ids);
        assert!(by_id.iter().any(|(_, t)| t == "https://e.org/c v1"), "the newer version: {by_id:?}");
        assert!(!by_id.iter().any(|(_, t)| t == "https://e.org/c v0"), "the replaced version: {by_id:?}");
        // Index order, the same notices.
        let all = index.all().unwrap();
        assert_eq!(all.len(), 4);
        let mut seen = 0;
        let err = index.for_each_notice(|_| {
            seen += 1;
            if seen == 2 { Err(Error::InvalidQuery("stop".into())) } else { Ok(()) }
        });
        assert!(matches!(err, Err(Error::InvalidQuery(_))) && seen == 2, "stopped at the caller's error");
    }

    /// An index written with an older schema (only id and notice JSON) is
    /// rebuilt on open and keeps its notices.
    #[test]
    fn an_index_of_an_older_schema_is_migrated() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("index");
        let stored = r#"{"id":"ab12","source":"NMPA","title":"关于发布指导原则的通告","body":"正文","published":"2020-05-14","origin":{"kind":"crawl"}}"#;
        write_old_index(&dir, "ab12", stored, None);

        let index = NoticeIndex::open_or_create(&dir).unwrap();
        let n = index.get("ab12").unwrap().unwrap();
        assert_eq!(n.title, "关于发布指导原则的通告");
        assert_eq!(n.doc_type, None);
        assert_eq!(index.search(&crate::SearchRequest::new("指导原则")).unwrap().total, 1);
        assert!(!tmp.path().join("index.migrating").exists() && !tmp.path().join("index.old").exists());
        drop(index);
        // Opening again needs no migration.
        assert_eq!(NoticeIndex::open_or_create(&dir).unwrap().len().unwrap(), 1);
    }

    /// An index whose body is stored apart from its JSON (this schema's
    /// way) keeps its bodies when a later schema migrates it.
    #[test]
    fn a_migration_keeps_bodies_stored_apart_from_the_json() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("index");
        let stored = r#"{"id":"cd34","source":"NMPA","title":"关于发布指导原则的通告","body":"","published":"2020-05-14","origin":{"kind":"crawl"}}"#;
        write_old_index(&dir, "cd34", stored, Some("正文在此"));

        let index = NoticeIndex::open_or_create(&dir).unwrap();
        assert_eq!(index.get("cd34").unwrap().unwrap().body, "正文在此");
        assert_eq!(index.search(&crate::SearchRequest::new("正文")).unwrap().total, 1);
    }
}
