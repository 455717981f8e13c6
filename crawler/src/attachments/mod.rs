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

mod kept;
mod reextract;

use index::AttachmentFile;
use sha2::{Digest, Sha256};

pub use kept::KeptFiles;
pub use reextract::{Reextracted, reextract};

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

#[cfg(test)]
mod tests {
    use super::*;

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
