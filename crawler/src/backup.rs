//! The crawl state database copied and checked while a crawl may be
//! writing it, through SQLite's online backup API (a snapshot of one
//! moment, never a half-written page).

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// How long a step waits when the writer holds a lock, and how often.
const BUSY_PAUSE: Duration = Duration::from_millis(50);
const BUSY_TRIES: usize = 600;

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::State { path: path.to_path_buf(), source }
}

fn open_read_only(path: &Path) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(sql(path))?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(sql(path))?;
    Ok(conn)
}

/// Copies the database `src` into the new file `dest` in one backup step,
/// so the copy is the database as of one transaction.
pub fn copy_state(src: &Path, dest: &Path) -> Result<()> {
    if dest.exists() {
        return Err(Error::Io {
            path: dest.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "the file is already there"),
        });
    }
    let from = open_read_only(src)?;
    let mut to = Connection::open(dest).map_err(sql(dest))?;
    {
        let backup = Backup::new(&from, &mut to).map_err(sql(dest))?;
        let mut tries = 0;
        loop {
            // -1: every page in one step, under one read transaction.
            match backup.step(-1).map_err(sql(src))? {
                StepResult::Done => break,
                StepResult::More => {}
                StepResult::Busy | StepResult::Locked if tries < BUSY_TRIES => {
                    tries += 1;
                    std::thread::sleep(BUSY_PAUSE);
                }
                _ => {
                    return Err(Error::Io {
                        path: src.to_path_buf(),
                        source: std::io::Error::other("the crawl state stayed locked; try again"),
                    });
                }
            }
        }
    }
    Ok(())
}

/// What [`check_state`] found in a healthy database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateHealth {
    /// URLs the crawl state knows.
    pub urls: u64,
}

/// Opens the database read-only and runs SQLite's `quick_check`.
pub fn check_state(path: &Path) -> Result<StateHealth> {
    let conn = open_read_only(path)?;
    let verdict: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0)).map_err(sql(path))?;
    if verdict != "ok" {
        return Err(Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(format!("damaged: {verdict}")),
        });
    }
    let has_urls: bool = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'urls'", [], |r| r.get(0))
        .map_err(sql(path))?;
    let urls: i64 =
        if has_urls { conn.query_row("SELECT count(*) FROM urls", [], |r| r.get(0)).map_err(sql(path))? } else { 0 };
    Ok(StateHealth { urls: urls as u64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_taken_while_a_connection_writes_is_whole_and_checks_ok() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("crawl.sqlite");
        let state = crate::state::CrawlState::open(&src).unwrap();
        // An open write transaction in another connection: the copy sees
        // what was committed before it, nothing of it.
        let writer = Connection::open(&src).unwrap();
        writer.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1); BEGIN; INSERT INTO t VALUES (2);").unwrap();
        let dest = tmp.path().join("copy.sqlite");
        copy_state(&src, &dest).unwrap();
        writer.execute_batch("COMMIT").unwrap();
        drop(state);
        let copy = Connection::open(&dest).unwrap();
        let n: i64 = copy.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
        assert_eq!(check_state(&dest).unwrap(), StateHealth { urls: 0 });
        assert!(copy_state(&src, &dest).is_err(), "never overwrites");
    }

    #[test]
    fn a_file_that_is_not_a_database_fails_the_check() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("crawl.sqlite");
        std::fs::write(&path, vec![b'x'; 8192]).unwrap();
        assert!(check_state(&path).is_err());
        assert!(check_state(&tmp.path().join("missing.sqlite")).is_err());
    }
}
