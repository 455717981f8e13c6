//! The kept copies of downloaded attachments (see the parent module).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use index::AttachmentFile;

use super::{ATTACHMENTS_DIR, sha256};
use crate::error::{Error, Result};

/// The kept copies of downloaded attachments, within a disk cap.
#[derive(Debug, Clone)]
pub struct KeptFiles {
    dir: PathBuf,
    cap_bytes: u64,
}

impl KeptFiles {
    /// The kept files of the data directory `root`, at most `cap_mb` MiB.
    pub fn new(root: &Path, cap_mb: u64) -> KeptFiles {
        KeptFiles { dir: root.join(ATTACHMENTS_DIR), cap_bytes: cap_mb.saturating_mul(1 << 20) }
    }

    fn path(&self, sha: &str, ext: &str) -> PathBuf {
        self.dir.join(format!("{sha}.{ext}"))
    }

    /// Keeps the bytes of a file and what was read of them (best effort:
    /// a full disk or the cap loses the copy, never the notice).
    pub fn keep(&self, bytes: &[u8], file: &AttachmentFile) {
        if self.cap_bytes == 0 || file.sha256.is_empty() {
            return;
        }
        let result = (|| -> Result<()> {
            std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))?;
            write_atomic(&self.path(&file.sha256, "bin"), bytes)?;
            let json = serde_json::to_vec(file).expect("an attachment file serialises");
            write_atomic(&self.path(&file.sha256, "json"), &json)?;
            self.trim()
        })();
        if let Err(e) = result {
            tracing::warn!(error = %e, "cannot keep a copy of an attachment");
        }
    }

    /// What was read of the file with this digest, when kept.
    pub fn read_of(&self, sha: &str) -> Option<AttachmentFile> {
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let bytes = std::fs::read(self.path(sha, "json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Whether what was read of this file is kept.
    pub fn has(&self, sha: &str) -> bool {
        self.path(sha, "json").is_file()
    }

    /// The kept bytes of the file with this digest.
    pub fn bytes_of(&self, sha: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.path(sha, "bin")).ok()?;
        (sha256(&bytes) == sha).then_some(bytes)
    }

    /// Bytes kept now.
    pub fn size(&self) -> u64 {
        self.entries().iter().map(|(_, len, _)| len).sum()
    }

    fn entries(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let Ok(dir) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        dir.filter_map(|e| {
            let e = e.ok()?;
            let meta = e.metadata().ok()?;
            meta.is_file().then(|| (e.path(), meta.len(), meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
        })
        .collect()
    }

    /// Removes the oldest files until the folder fits its cap.
    fn trim(&self) -> Result<()> {
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|(_, len, _)| len).sum();
        if total <= self.cap_bytes {
            return Ok(());
        }
        entries.sort_by_key(|(_, _, modified)| *modified);
        for (path, len, _) in entries {
            if total <= self.cap_bytes {
                break;
            }
            std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
            total -= len;
        }
        Ok(())
    }
}

/// Writes through a temporary file and a rename: a kill never leaves half a copy.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))
}

fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attachments::read;

    fn file(sha: &str, text: &str) -> AttachmentFile {
        let mut f = read(
            text.as_bytes(),
            sha,
            Some("text/plain"),
            Ok(extract::Extracted::none(extract::Format::Text, extract::NoText::Empty)),
        );
        f.text = Some(text.to_string());
        f
    }

    #[test]
    fn kept_files_round_trip_and_stay_within_their_cap() {
        let tmp = tempfile::tempdir().unwrap();
        let kept = KeptFiles::new(tmp.path(), 1);
        let big = vec![b'x'; 400 << 10];
        let mut shas = Vec::new();
        for i in 0..4u8 {
            let mut bytes = big.clone();
            bytes[0] = i;
            let sha = sha256(&bytes);
            kept.keep(&bytes, &file(&sha, "正文"));
            assert_eq!(kept.bytes_of(&sha).as_deref(), Some(&bytes[..]));
            assert_eq!(kept.read_of(&sha).unwrap().text.as_deref(), Some("正文"));
            shas.push(sha);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(kept.size() <= 1 << 20, "{} bytes kept", kept.size());
        assert!(kept.bytes_of(&shas[0]).is_none(), "the oldest went first");
        assert!(kept.bytes_of(&shas[3]).is_some(), "the newest stays");
        assert!(kept.read_of("../../etc/passwd").is_none(), "only digests name kept files");
    }
}
