//! Attachments: what was read of a downloaded file ([`read`]), and the
//! copies kept in the data directory ([`KeptFiles`]) so that a better
//! extractor can read them again without downloading
//! ([`reextract`]).
//!
//! A file is kept under `attachments/` by the SHA-256 of its bytes: the
//! bytes as `<sha>.bin`, what was read of them as `<sha>.json` (an
//! [`AttachmentFile`], text included). The JSON serves a second notice
//! that links a file already read, and a notice whose file answered 304.
//! The directory is bounded by `attachment_cache_mb`: after each write the
//! oldest files go first. Losing a kept copy loses nothing stored: the
//! notice holds its text, and the next download writes the copy again.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use index::AttachmentFile;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The folder of kept attachments inside the data directory.
pub const ATTACHMENTS_DIR: &str = "attachments";

/// The SHA-256 of `bytes`, in hex: the key of a kept file.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What was read of a downloaded attachment: its text, or why there is none
/// (a scan, an unsupported format), or why it could not be read (malformed,
/// encrypted, a zip bomb, the time cap). Never an error of the crawl.
pub fn read(
    bytes: &[u8],
    sha: &str,
    content_type: Option<&str>,
    got: std::result::Result<extract::Extracted, extract::Error>,
) -> AttachmentFile {
    let mut file = AttachmentFile {
        size: bytes.len() as u64,
        sha256: sha.to_string(),
        format: extract::Format::Unknown.as_str().to_string(),
        content_type: content_type.map(str::to_string),
        text: None,
        chars: 0,
        no_text: None,
        error: None,
        truncated: false,
        extractor: extract::EXTRACTOR_VERSION,
    };
    match got {
        Ok(x) => {
            file.format = x.format.as_str().to_string();
            file.truncated = x.truncated;
            file.no_text = x.no_text.map(|w| w.to_string());
            file.chars = x.text.as_deref().map_or(0, |t| t.chars().count() as u64);
            file.text = x.text.filter(|t| !t.is_empty());
        }
        Err(e) => {
            file.format = extract::sniff(bytes, "", content_type).as_str().to_string();
            file.error = Some(format!("{}: {e}", e.code()));
        }
    }
    file
}

/// An attachment not downloaded because it is larger than the cap.
pub fn too_large(declared: Option<u64>, cap: u64, content_type: Option<&str>) -> AttachmentFile {
    let size = declared.unwrap_or(cap);
    AttachmentFile {
        size,
        sha256: String::new(),
        format: extract::Format::Unknown.as_str().to_string(),
        content_type: content_type.map(str::to_string),
        text: None,
        chars: 0,
        no_text: None,
        error: Some(format!("too_large: larger than the {cap}-byte cap (crawl.extract.max_bytes), not downloaded")),
        truncated: false,
        extractor: extract::EXTRACTOR_VERSION,
    }
}

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

/// What [`reextract`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reextracted {
    /// Attachments read again from their kept copy.
    pub read_again: u64,
    /// Notices whose text changed and were re-indexed.
    pub notices_changed: u64,
    /// Attachments read by an older extractor whose copy is no longer kept
    /// (the next crawl downloads them again).
    pub not_kept: u64,
    /// Attachments already read by this extractor version.
    pub current: u64,
}

/// Reads again, from their kept copies, the attachments read by an older
/// extractor version (every downloaded one with `all`), and stores the
/// notices whose text changed through the store. No download.
pub fn reextract(
    store: &mut crate::store::NoticeStore,
    kept: &KeptFiles,
    limits: &extract::Limits,
    all: bool,
) -> Result<Reextracted> {
    let mut done = Reextracted::default();
    for mut notice in store.index().all()? {
        let mut changed = false;
        for a in &mut notice.attachments {
            let Some(old) = &a.file else { continue };
            if !all && old.extractor >= extract::EXTRACTOR_VERSION {
                done.current += 1;
                continue;
            }
            let Some(bytes) = kept.bytes_of(&old.sha256) else {
                done.not_kept += 1;
                continue;
            };
            let got = extract::extract_capped(bytes.clone(), &a.url, old.content_type.as_deref(), limits);
            let new = read(&bytes, &old.sha256, old.content_type.as_deref(), got);
            done.read_again += 1;
            kept.keep(&bytes, &new);
            if &new != old {
                a.file = Some(new);
                changed = true;
            }
        }
        if changed && store.accept(crate::store::Arrival::reextracted(notice))? != crate::store::Stored::Unchanged {
            done.notices_changed += 1;
        }
    }
    store.commit("reextract")?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn an_extraction_error_is_recorded_with_its_code() {
        let bytes = b"%PDF-1.4 cut";
        let f = read(bytes, &sha256(bytes), None, Err(extract::Error::Encrypted { format: extract::Format::Pdf }));
        assert_eq!(f.state(), "error");
        assert!(f.error.as_deref().unwrap().starts_with("encrypted: "), "{:?}", f.error);
        assert_eq!(f.format, "pdf");
        assert!(too_large(Some(9 << 20), 1 << 20, None).error.unwrap().contains("cap"));
    }
}
