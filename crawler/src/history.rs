//! Version history of notices: every time a notice's content changes, its
//! text and the time are kept, so `notices show ID --history` can say when
//! it changed and what.
//!
//! It lives in its own table of the crawl-state database (not in the
//! index, which holds only the current version of each notice).

use std::path::Path;

use chrono::{DateTime, Utc};
use index::Notice;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};

/// One stored version of a notice.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Version {
    /// 1 for the first version seen, then 2, 3 ...
    pub version: u32,
    /// When this version was first seen.
    pub seen_at: DateTime<Utc>,
    /// [`Notice::content_hash`] of this version.
    pub content_hash: String,
    /// Title of this version.
    pub title: String,
    /// Body of this version.
    pub body: String,
}

/// The history table.
pub struct History {
    conn: Connection,
}

impl History {
    /// Opens (creating if needed) the history in the database at `path`.
    pub fn open(path: &Path) -> Result<History> {
        let sql = |source: rusqlite::Error| Error::State { path: path.to_path_buf(), source };
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sql)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS notice_versions (
                notice_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                seen_at TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                title TEXT NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (notice_id, version)
            )",
        )
        .map_err(sql)?;
        Ok(History { conn })
    }

    fn err(&self, source: rusqlite::Error) -> Error {
        let path = self.conn.path().map(Into::into).unwrap_or_default();
        Error::State { path, source }
    }

    /// Records `notice` as seen at `at`. Returns the new version number when
    /// its content differs from the latest stored version (or it is new),
    /// `None` when nothing changed.
    pub fn record(&self, notice: &Notice, at: DateTime<Utc>) -> Result<Option<u32>> {
        let hash = notice.content_hash();
        let latest: Option<(u32, String)> = self
            .conn
            .query_row(
                "SELECT version, content_hash FROM notice_versions WHERE notice_id = ?1 ORDER BY version DESC LIMIT 1",
                [&notice.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        let next = match latest {
            Some((_, h)) if h == hash => return Ok(None),
            Some((v, _)) => v + 1,
            None => 1,
        };
        self.conn
            .execute(
                "INSERT INTO notice_versions (notice_id, version, seen_at, content_hash, title, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![notice.id, next, at.to_rfc3339(), hash, notice.title, notice.body],
            )
            .map_err(|e| self.err(e))?;
        Ok(Some(next))
    }

    /// Overwrites the latest stored version of `notice` with its current
    /// content (a second change within one crawl run is not a new version),
    /// or records it when none is stored. Returns the version number written.
    pub fn replace_latest(&self, notice: &Notice, at: DateTime<Utc>) -> Result<u32> {
        let latest: Option<u32> = self
            .conn
            .query_row("SELECT MAX(version) FROM notice_versions WHERE notice_id = ?1", [&notice.id], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let Some(version) = latest else {
            return Ok(self.record(notice, at)?.unwrap_or(1));
        };
        self.conn
            .execute(
                "UPDATE notice_versions SET seen_at = ?3, content_hash = ?4, title = ?5, body = ?6
                 WHERE notice_id = ?1 AND version = ?2",
                params![notice.id, version, at.to_rfc3339(), notice.content_hash(), notice.title, notice.body],
            )
            .map_err(|e| self.err(e))?;
        Ok(version)
    }

    /// Every stored version of a notice, oldest first.
    pub fn versions(&self, id: &str) -> Result<Vec<Version>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT version, seen_at, content_hash, title, body FROM notice_versions
                 WHERE notice_id = ?1 ORDER BY version",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([id], |r| {
                let seen: String = r.get(1)?;
                Ok(Version {
                    version: r.get(0)?,
                    seen_at: DateTime::parse_from_rfc3339(&seen).map(|d| d.with_timezone(&Utc)).unwrap_or_default(),
                    content_hash: r.get(2)?,
                    title: r.get(3)?,
                    body: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<_, _>>().map_err(|e| self.err(e))
    }
}

/// A unified line diff of two versions' title and text.
pub fn diff(old: &Version, new: &Version) -> String {
    let a = format!("{}\n\n{}\n", old.title, old.body);
    let b = format!("{}\n\n{}\n", new.title, new.body);
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(2)
        .header(
            &format!("version {} ({})", old.version, old.seen_at),
            &format!("version {} ({})", new.version, new.seen_at),
        )
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use index::Source;

    fn notice(body: &str) -> Notice {
        Notice { id: "n1".into(), ..Notice::crawled(Source::Nmpa, "https://www.nmpa.gov.cn/n1.html", "公告", body) }
    }

    #[test]
    fn records_only_changes_and_diffs_them() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join("crawl.sqlite")).unwrap();
        let t0 = Utc::now();
        assert_eq!(h.record(&notice("第一段\n第二段"), t0).unwrap(), Some(1));
        assert_eq!(h.record(&notice("第一段\n第二段"), t0).unwrap(), None);
        assert_eq!(h.record(&notice("第一段\n第二段（修订）"), t0).unwrap(), Some(2));
        let v = h.versions("n1").unwrap();
        assert_eq!(v.len(), 2);
        let d = diff(&v[0], &v[1]);
        assert!(d.contains("-第二段\n") && d.contains("+第二段（修订）"), "{d}");
        // Reopening keeps what was stored.
        drop(h);
        let h = History::open(&dir.path().join("crawl.sqlite")).unwrap();
        assert_eq!(h.versions("n1").unwrap().len(), 2);
        assert!(h.versions("other").unwrap().is_empty());
    }

    #[test]
    fn replace_latest_overwrites_the_last_version_only() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join("crawl.sqlite")).unwrap();
        let t0 = Utc::now();
        assert_eq!(h.replace_latest(&notice("甲"), t0).unwrap(), 1, "none stored: recorded");
        assert_eq!(h.record(&notice("乙"), t0).unwrap(), Some(2));
        assert_eq!(h.replace_latest(&notice("丙"), t0).unwrap(), 2);
        let v = h.versions("n1").unwrap();
        assert_eq!(v.iter().map(|v| v.body.as_str()).collect::<Vec<_>>(), ["甲", "丙"]);
        assert_eq!(v[1].content_hash, notice("丙").content_hash());
    }
}
