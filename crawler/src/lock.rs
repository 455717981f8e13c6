//! The crawl lock: an exclusive `flock` on a file in the data directory,
//! so that two crawls on one data directory are refused rather than
//! interleaved. The kernel drops the lock when the process dies, even by
//! SIGKILL, so a stale lock file never blocks the next crawl.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "crawl.lock";

/// Held for the whole crawl; dropping it releases the lock.
#[derive(Debug)]
pub struct CrawlLock {
    file: File,
    path: PathBuf,
}

impl CrawlLock {
    /// Takes the lock of `data_dir` (created if needed), or fails at once
    /// with [`Error::Busy`] naming the directory.
    pub fn acquire(data_dir: &Path) -> Result<CrawlLock> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::Io { path: data_dir.to_path_buf(), source })?;
        let path = data_dir.join(LOCK_FILE);
        let io = |source| Error::Io { path: path.clone(), source };
        let mut file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Error::Busy { dir: data_dir.to_path_buf(), lock: path });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // The pid is only a hint for a person looking at the file; the lock is the flock.
        file.set_len(0).map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(CrawlLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether a crawl holds the lock of `data_dir`: `Some(pid)` (the pid
/// the holder wrote, 0 if unreadable) or `None`. Checked with a shared lock
/// taken and dropped at once, so a crawl starting in that instant may be
/// refused as busy; it is meant for `notices doctor`, not for scripts.
pub fn holder(data_dir: &Path) -> Result<Option<u32>> {
    let path = data_dir.join(LOCK_FILE);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::Io { path, source }),
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            Ok(None)
        }
        Err(TryLockError::WouldBlock) => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            Ok(Some(text.trim().parse().unwrap_or(0)))
        }
        Err(TryLockError::Error(source)) => Err(Error::Io { path, source }),
    }
}

impl Drop for CrawlLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_with_the_dir_named_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = CrawlLock::acquire(dir.path()).unwrap();
        // flock locks belong to the open file, so a second open sees it held.
        assert_eq!(holder(dir.path()).unwrap(), Some(std::process::id()));
        let err = CrawlLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Busy { .. }));
        assert!(err.to_string().contains(&dir.path().display().to_string()), "{err}");
        assert!(err.is_user_error());
        drop(first);
        assert_eq!(holder(dir.path()).unwrap(), None);
        let again = CrawlLock::acquire(dir.path()).unwrap();
        assert!(again.path().ends_with(LOCK_FILE));
    }
}
