//! Checking an index on disk without changing it (for `notices doctor`).

use std::path::Path;

use tantivy::Index;
use tantivy::directory::MmapDirectory;

use crate::error::{Error, Result};
use crate::schema::Fields;
use crate::store::NoticeIndex;
use crate::writer::CommitInfo;

/// What [`check`] found in a healthy index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexHealth {
    /// Notices searchable.
    pub notices: u64,
    /// Segments of the last commit.
    pub segments: usize,
    /// The last commit's payload, if any.
    pub last_commit: Option<CommitInfo>,
}

/// Opens the index in `dir` read-only (no writer, no lock, nothing
/// created), verifies every file's checksum, that the schema is ours and
/// that every stored notice decodes.
pub fn check(dir: &Path) -> Result<IndexHealth> {
    if !dir.join("meta.json").exists() {
        return Err(Error::Corrupt { id: String::new(), reason: format!("no meta.json in {}", dir.display()) });
    }
    let mmap = MmapDirectory::open(dir).map_err(|source| Error::OpenDirectory { path: dir.to_path_buf(), source })?;
    let index = Index::open(mmap)?;
    Fields::from_schema(&index.schema()).map_err(|e| Error::Corrupt {
        id: String::new(),
        reason: format!("the schema is not this version's ({e}); rebuild with export and import"),
    })?;
    let damaged = index.validate_checksum()?;
    if !damaged.is_empty() {
        let mut names: Vec<String> = damaged.iter().map(|p| p.display().to_string()).collect();
        names.sort();
        return Err(Error::Corrupt { id: String::new(), reason: format!("damaged files: {}", names.join(", ")) });
    }
    let segments = index.searchable_segment_metas()?.len();
    // Every notice read back through the normal path.
    let notices = NoticeIndex::with_index(index, Some(dir.to_path_buf()))?;
    let count = notices.for_each_notice(|_| Ok::<(), Error>(()))?;
    Ok(IndexHealth { notices: count, segments, last_commit: notices.last_commit()? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::{Notice, Source};

    #[test]
    fn a_healthy_index_passes_and_a_damaged_one_names_the_problem() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("index");
        assert!(check(&dir).is_err(), "no index yet");
        let index = NoticeIndex::open_or_create(&dir).unwrap();
        let mut w = index.writer(1).unwrap();
        w.upsert(&Notice::crawled(Source::Fda, "https://www.fda.gov/1", "T", "b")).unwrap();
        w.commit("test").unwrap();
        drop((w, index));
        let health = check(&dir).unwrap();
        assert_eq!((health.notices, health.segments), (1, 1));
        assert_eq!(health.last_commit.unwrap().by, "test");

        // A segment's store file overwritten: the checksum catches it.
        let store = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "store"))
            .unwrap();
        let mut bytes = std::fs::read(&store).unwrap();
        bytes[0] ^= 0xff;
        // Replaced, not rewritten in place: something of the index above
        // (its reload watcher, most likely) may still map the file, and
        // reading a mapping while the file is truncated is a SIGBUS (21 of
        // 30 runs of this test alone did).
        let damaged = store.with_extension("damaged");
        std::fs::write(&damaged, bytes).unwrap();
        std::fs::rename(&damaged, &store).unwrap();
        let err = check(&dir).unwrap_err().to_string();
        assert!(err.contains("damaged") || err.contains("store"), "{err}");
    }
}
