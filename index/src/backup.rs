//! A consistent copy of an index that another process may be writing.
//!
//! Tantivy never changes a segment file once a commit names it; a commit
//! writes new files and then swaps `meta.json` atomically. So the files
//! named by one `meta.json`, copied with that `meta.json` written last, are
//! that commit exactly. The only race is the writer's garbage collection
//! deleting a segment that a later commit merged away: the copy then finds
//! a file missing and starts again from the newer `meta.json`.

use std::path::{Path, PathBuf};

use tantivy::Index;
use tantivy::directory::MmapDirectory;

use crate::error::{Error, Result};

/// Name of Tantivy's commit file.
const META: &str = "meta.json";
/// Attempts before giving up when merges keep deleting files under us.
const ATTEMPTS: usize = 10;

/// What [`copy_committed`] copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexCopy {
    /// Notices in the copied commit.
    pub notices: u64,
    /// Segments copied.
    pub segments: usize,
    /// Bytes copied.
    pub bytes: u64,
}

/// Copies the last commit of the index in `src` into `dest` (created; must
/// not hold an index already). Safe while a writer works on `src`.
pub fn copy_committed(src: &Path, dest: &Path) -> Result<IndexCopy> {
    if dest.join(META).exists() {
        return Err(Error::Io {
            path: dest.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "an index is already there"),
        });
    }
    let dir = MmapDirectory::open(src).map_err(|source| Error::OpenDirectory { path: src.to_path_buf(), source })?;
    let index = Index::open(dir)?;
    std::fs::create_dir_all(dest).map_err(|source| Error::Io { path: dest.to_path_buf(), source })?;
    let mut last_missing = None;
    for _ in 0..ATTEMPTS {
        let meta = index.load_metas()?;
        match copy_segments(src, dest, &meta) {
            Ok(bytes) => {
                let text = serde_json::to_vec_pretty(&meta).map_err(|e| Error::Corrupt {
                    id: META.into(),
                    reason: format!("cannot serialise the commit: {e}"),
                })?;
                let path = dest.join(META);
                std::fs::write(&path, text).map_err(|source| Error::Io { path, source })?;
                let notices = meta.segments.iter().map(|s| u64::from(s.num_docs())).sum();
                return Ok(IndexCopy { notices, segments: meta.segments.len(), bytes });
            }
            Err(Missing(path)) => last_missing = Some(path),
        }
    }
    let path = last_missing.unwrap_or_else(|| src.to_path_buf());
    Err(Error::Io { path, source: std::io::Error::other("the index kept changing under the copy (merges); try again") })
}

/// A segment file vanished (merged away and collected) during the copy.
struct Missing(PathBuf);

fn copy_segments(src: &Path, dest: &Path, meta: &tantivy::IndexMeta) -> std::result::Result<u64, Missing> {
    let names: Vec<String> = match std::fs::read_dir(src) {
        Ok(entries) => entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => return Err(Missing(src.to_path_buf())),
    };
    let mut bytes = 0;
    for segment in &meta.segments {
        let prefix = format!("{}.", segment.id().uuid_string());
        // A segment's files: its components, and of its delete files only
        // the one this commit names (older ones are obsolete).
        let deletes = segment.relative_path(tantivy::index::SegmentComponent::Delete);
        let wanted = names.iter().filter(|n| {
            n.starts_with(&prefix)
                && !n.ends_with(".temp")
                && (!n.ends_with(".del") || (segment.delete_opstamp().is_some() && Path::new(n.as_str()) == deletes))
        });
        let mut found_deletes = segment.delete_opstamp().is_none();
        for name in wanted {
            found_deletes |= name.ends_with(".del");
            match std::fs::copy(src.join(name), dest.join(name)) {
                Ok(n) => bytes += n,
                Err(_) => return Err(Missing(src.join(name))),
            }
        }
        if !found_deletes {
            return Err(Missing(src.join(deletes)));
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::{Notice, Source};
    use crate::store::NoticeIndex;

    #[test]
    fn the_copy_holds_the_last_commit_and_not_what_came_after() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("index");
        let index = NoticeIndex::open_or_create(&src).unwrap();
        let mut w = index.writer(1).unwrap();
        let n = |i: usize| Notice::crawled(Source::Fda, &format!("https://www.fda.gov/{i}"), format!("T{i}"), "b");
        for i in 0..5 {
            w.upsert(&n(i)).unwrap();
        }
        w.commit("test").unwrap();
        // Replacing one notice leaves a delete file in the first segment.
        w.upsert(&n(0)).unwrap();
        w.commit("test").unwrap();
        // Uncommitted: not in the copy.
        w.upsert(&n(9)).unwrap();

        let dest = tmp.path().join("copy");
        let copied = copy_committed(&src, &dest).unwrap();
        assert_eq!(copied.notices, 5);
        let back = NoticeIndex::open_or_create(&dest).unwrap();
        assert_eq!(back.len().unwrap(), 5);
        assert!(back.get(&n(0).id).unwrap().is_some());
        assert!(back.get(&n(9).id).unwrap().is_none());
        // A second copy into the same place is refused.
        assert!(copy_committed(&src, &dest).is_err());
    }
}
