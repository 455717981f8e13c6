//! Opening the index on disk (or in memory) and reading notices back.

use std::path::{Path, PathBuf};

use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{AllQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

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
    path: Option<PathBuf>,
}

impl NoticeIndex {
    /// Opens the index in `dir`, creating it (and `dir`) if needed.
    pub fn open_or_create(dir: &Path) -> Result<NoticeIndex> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        let mmap =
            MmapDirectory::open(dir).map_err(|source| Error::OpenDirectory { path: dir.to_path_buf(), source })?;
        let index = Index::open_or_create(mmap, schema::build())?;
        Self::with_index(index, Some(dir.to_path_buf()))
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
        Ok(NoticeIndex { index, reader, fields, facet_tables: TableCache::default(), path })
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
            Some((_, addr)) => Ok(Some(self.decode(&searcher.doc(*addr)?)?)),
            None => Ok(None),
        }
    }

    /// Every notice, in index order (for `notices export` and tests).
    pub fn all(&self) -> Result<Vec<Notice>> {
        let searcher = self.reader.searcher();
        let mut out = Vec::new();
        for segment in searcher.segment_readers() {
            let store = segment
                .get_store_reader(16)
                .map_err(|source| Error::Io { path: self.path.clone().unwrap_or_default(), source })?;
            for doc_id in 0..segment.max_doc() {
                if segment.is_deleted(doc_id) {
                    continue;
                }
                out.push(self.decode(&store.get(doc_id)?)?);
            }
        }
        Ok(out)
    }

    pub(crate) fn decode(&self, doc: &TantivyDocument) -> Result<Notice> {
        let id = doc.get_first(self.fields.id).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let json = doc
            .get_first(self.fields.notice_json)
            .and_then(|v| v.as_str())
            .ok_or_else(|| Error::Corrupt { id: id.clone(), reason: "no stored JSON".into() })?;
        serde_json::from_str(json).map_err(|e| Error::Corrupt { id, reason: e.to_string() })
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
                Ok(old.content_hash() != notice.content_hash())
            }
            None => {
                notice.first_seen.get_or_insert_with(chrono::Utc::now);
                Ok(true)
            }
        }
    }
}
