//! Pages saved from a browser and web archives, read into the pages a crawl
//! would have fetched.
//!
//! A user whose crawl is blocked can feed `notices ingest` what their browser
//! saw: an `.html`/`.htm` page ("Save page as", complete or HTML only), an
//! `.mhtml` single-file save, a WARC (`.warc`, `.warc.gz`, as `wget
//! --warc-file`, browser archivers and Heritrix write them), or a folder of
//! them, walked recursively. [`read`] turns a path into a stream of
//! [`Item`]s: a [`SavedPage`] (the page as a [`Page`] with status 200, its
//! original URL and the evidence for it, and the files an archive holds that
//! the page links), or a [`Refusal`] naming the file and the reason. The
//! [`extract`] module then sends each page through the same source
//! extractor as a crawled page.
//!
//! Where the original URL comes from, in order of trust:
//! - a WARC record's `WARC-Target-URI`;
//! - an MHTML's `Snapshot-Content-Location` (Chrome) or the HTML part's
//!   `Content-Location`;
//! - for an HTML file, the `<!-- saved from url=(NNNN)… -->` comment browsers
//!   insert (the address the browser was showing), then
//!   `<link rel="canonical">`, then `<meta property="og:url">`.
//!
//! Nothing here writes anything: the caller decides where pages go.

use std::collections::VecDeque;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use url::Url;

use crate::sources::Page;

pub mod extract;
pub mod html;
pub mod mhtml;
pub mod warc;

/// Largest file read as one page or MHTML (a saved page is rarely over a
/// few MB; an MHTML with its images can be tens).
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Where a saved page's original URL was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlEvidence {
    /// The `WARC-Target-URI` of a WARC response record.
    WarcTargetUri,
    /// An MHTML's `Snapshot-Content-Location` or `Content-Location`.
    MhtmlLocation,
    /// The `<!-- saved from url=(NNNN)… -->` comment of a browser save.
    SavedFromComment,
    /// `<link rel="canonical">`.
    Canonical,
    /// `<meta property="og:url">`.
    OgUrl,
    /// No URL could be found.
    None,
}

impl fmt::Display for UrlEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UrlEvidence::WarcTargetUri => "WARC-Target-URI",
            UrlEvidence::MhtmlLocation => "MHTML Content-Location",
            UrlEvidence::SavedFromComment => "\"saved from url\" comment",
            UrlEvidence::Canonical => "canonical link",
            UrlEvidence::OgUrl => "og:url",
            UrlEvidence::None => "none",
        })
    }
}

/// A file an archive (WARC or MHTML) holds that the page links, e.g. an
/// attachment PDF fetched in the same browsing session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedFile {
    /// Its URL.
    pub url: Url,
    /// Its bytes, transfer and content encodings undone.
    pub bytes: Vec<u8>,
    /// Its Content-Type, if the archive says.
    pub content_type: Option<String>,
}

/// One page read from a saved file or an archive record.
#[derive(Debug, Clone)]
pub struct SavedPage {
    /// Where it was read from, for messages: the file, and `#N` for the
    /// Nth record of a WARC.
    pub origin: String,
    /// The original URL, if found.
    pub url: Option<Url>,
    /// Where the URL came from.
    pub url_from: UrlEvidence,
    /// The page as a crawl would have fetched it: status 200, decoded text.
    /// Its `url` is the original URL, or the file's `file://` URL.
    pub page: Page,
    /// Files of the archive the page links (empty for a plain HTML file).
    pub attachments: Vec<SavedFile>,
    /// When the page was fetched, if the archive says (`WARC-Date`, the
    /// MHTML `Date:`).
    pub fetched_at: Option<DateTime<Utc>>,
}

/// Why a file or record was not read as a page.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The file is something else (a PDF, an image, plain text ...).
    NotHtml(String),
    /// An anti-bot challenge page saved instead of the notice.
    Challenge(String),
    /// The file cannot be read (I/O error, too large).
    Unreadable(String),
    /// The file claims a format but is damaged (a truncated WARC, an MHTML
    /// without an HTML part).
    Damaged(String),
    /// An archived answer with an error status (404, 500 ...).
    HttpStatus(u16),
    /// The page has no title nor text to index.
    Empty,
}

impl Reason {
    /// A short name of the kind of reason, for the counts of a folder ingest.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::NotHtml(_) => "not HTML",
            Reason::Challenge(_) => "challenge page",
            Reason::Unreadable(_) => "unreadable",
            Reason::Damaged(_) => "damaged",
            Reason::HttpStatus(_) => "error status",
            Reason::Empty => "no content",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NotHtml(what) => write!(f, "not an HTML page, MHTML or WARC file ({what})"),
            Reason::Challenge(what) => write!(f, "an anti-bot challenge page, not the notice ({what})"),
            Reason::Unreadable(why) => write!(f, "cannot be read: {why}"),
            Reason::Damaged(why) => write!(f, "damaged: {why}"),
            Reason::HttpStatus(s) => write!(f, "the archived answer was HTTP {s}, not a page"),
            Reason::Empty => f.write_str("the page has neither a title nor text"),
        }
    }
}

/// A file or record that was not ingested, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The file (and `#N` record of a WARC).
    pub origin: String,
    /// Why.
    pub reason: Reason,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.reason)
    }
}

/// What [`read`] yields.
#[derive(Debug, Clone)]
pub enum Item {
    /// A page to extract.
    Page(Box<SavedPage>),
    /// A file or record refused.
    Refused(Refusal),
}

/// What a file is, by its first bytes and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// An HTML page.
    Html,
    /// An MHTML single-file save (a MIME `multipart/related` message).
    Mhtml,
    /// A WARC file, gzipped or not.
    Warc,
    /// UTF-8 text that is none of the above (a digest, for one).
    Text,
    /// Anything else, described.
    Other(String),
}

/// How many bytes are looked at to tell what a file is.
const SNIFF_BYTES: usize = 8192;

/// Tells what a file is from its first bytes (`head`, up to a few KB) and
/// its name. Content decides; the extension only breaks ties (an
/// `.html` file that starts with text is still HTML if a tag follows).
pub fn classify(name: &Path, head: &[u8]) -> Kind {
    let ext = name.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if head.starts_with(&[0x1f, 0x8b]) {
        let mut inner = Vec::new();
        let _ = flate2::read::MultiGzDecoder::new(head).take(64).read_to_end(&mut inner);
        return if inner.starts_with(b"WARC/") {
            Kind::Warc
        } else {
            Kind::Other("a gzip file that is not a WARC".into())
        };
    }
    if head.starts_with(b"WARC/") {
        return Kind::Warc;
    }
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if mhtml::looks_like(head) {
        return Kind::Mhtml;
    }
    if let Some(what) = binary_kind(head) {
        return Kind::Other(what.into());
    }
    if html::looks_like(head, matches!(ext.as_str(), "html" | "htm" | "xhtml" | "shtml" | "xht")) {
        return Kind::Html;
    }
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        // A multi-byte character cut at the end of the sniffed bytes.
        Err(e) => e.error_len().is_none(),
    };
    if text && !head.contains(&0) { Kind::Text } else { Kind::Other("binary data".into()) }
}

/// Names of common non-HTML formats by their magic bytes.
fn binary_kind(head: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive (or a .docx/.xlsx)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (.doc/.xls)"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xbc\xaf", "a 7z archive"),
        (b"{\\rtf", "an RTF document"),
    ];
    MAGIC.iter().find(|(m, _)| head.starts_with(m)).map(|(_, what)| *what)
}

/// Reads the first bytes of a file.
fn sniff(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    std::fs::File::open(path)?.take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// What a path is: a folder, or a file and its [`Kind`].
pub fn classify_path(path: &Path) -> std::io::Result<Option<Kind>> {
    if std::fs::metadata(path)?.is_dir() {
        return Ok(None);
    }
    Ok(Some(classify(path, &sniff(path)?)))
}

/// Reads every saved page under `path` (a file, or a folder walked
/// recursively in name order), lazily: a WARC's records are read one at a
/// time. Files whose name starts with a dot are left out, and so is the
/// `NAME_files` folder a "complete" save puts beside `NAME.html` (the
/// page's scripts, styles and images).
pub fn read(path: &Path) -> Reader {
    Reader { pending: VecDeque::from([path.to_path_buf()]), current: VecDeque::new(), warc: None }
}

/// The stream [`read`] returns.
pub struct Reader {
    pending: VecDeque<PathBuf>,
    current: VecDeque<Item>,
    warc: Option<warc::Records>,
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader").field("pending", &self.pending).finish_non_exhaustive()
    }
}

impl Iterator for Reader {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.current.pop_front() {
                return Some(item);
            }
            if let Some(records) = &mut self.warc {
                match records.next() {
                    Some(item) => return Some(item),
                    None => self.warc = None,
                }
            }
            let path = self.pending.pop_front()?;
            self.open(&path);
        }
    }
}

impl Reader {
    /// Queues what `path` holds.
    fn open(&mut self, path: &Path) {
        let origin = path.display().to_string();
        let refuse = |reason| Item::Refused(Refusal { origin: origin.clone(), reason });
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => return self.current.push_back(refuse(Reason::Unreadable(e.to_string()))),
        };
        if meta.is_dir() {
            return self.queue_dir(path);
        }
        let head = match sniff(path) {
            Ok(h) => h,
            Err(e) => return self.current.push_back(refuse(Reason::Unreadable(e.to_string()))),
        };
        let kind = classify(path, &head);
        if kind == Kind::Warc {
            match warc::Records::open(path) {
                Ok(records) => self.warc = Some(records),
                Err(reason) => self.current.push_back(refuse(reason)),
            }
            return;
        }
        let refused_as = match &kind {
            Kind::Html | Kind::Mhtml | Kind::Warc => None,
            Kind::Text => Some("plain text; a digest is ingested on its own, not inside a folder".to_string()),
            Kind::Other(what) => Some(what.clone()),
        };
        if let Some(what) = refused_as {
            return self.current.push_back(refuse(Reason::NotHtml(what)));
        }
        if meta.len() > MAX_FILE_BYTES {
            return self.current.push_back(refuse(Reason::Unreadable(format!(
                "{} bytes, over the {} MB limit",
                meta.len(),
                MAX_FILE_BYTES >> 20
            ))));
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return self.current.push_back(refuse(Reason::Unreadable(e.to_string()))),
        };
        let modified = meta.modified().ok().map(DateTime::<Utc>::from);
        let item = match kind {
            Kind::Html => Item::Page(Box::new(html::saved_page(path, &bytes, modified))),
            _ => match mhtml::read(path, &bytes) {
                Ok(page) => Item::Page(Box::new(page)),
                Err(reason) => refuse(reason),
            },
        };
        self.current.push_back(item);
    }

    /// Queues a folder's entries in name order, folders after files.
    fn queue_dir(&mut self, dir: &Path) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                let origin = dir.display().to_string();
                return self
                    .current
                    .push_back(Item::Refused(Refusal { origin, reason: Reason::Unreadable(e.to_string()) }));
            }
        };
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            // Symlinked folders are not followed (no loops); symlinked files are.
            match entry.file_type() {
                Ok(t) if t.is_dir() => dirs.push(path),
                _ => files.push(path),
            }
        }
        files.sort();
        dirs.sort();
        dirs.retain(|d| !is_companion_dir(d, &files));
        // Depth-first: this folder's files and sub-folders before the
        // rest of the parent's queue.
        for p in files.into_iter().chain(dirs).rev() {
            self.pending.push_front(p);
        }
    }
}

/// Whether `dir` is the `NAME_files` folder of a `NAME.htm(l)` in `files`.
fn is_companion_dir(dir: &Path, files: &[PathBuf]) -> bool {
    let Some(name) = dir.file_name().and_then(|n| n.to_str()) else { return false };
    let Some(stem) = name.strip_suffix("_files") else { return false };
    files.iter().any(|f| {
        f.file_stem().and_then(|s| s.to_str()) == Some(stem)
            && f.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["html", "htm", "xhtml", "shtml"].contains(&e.to_ascii_lowercase().as_str()))
    })
}

/// A `Page` as a crawl would have made it from `bytes` served as
/// `content_type` at `url`: status 200, text decoded by the charset rules.
pub(crate) fn page_from(url: Url, content_type: Option<String>, body: Vec<u8>) -> Page {
    let text = crate::charset::decode(&body, content_type.as_deref()).text;
    Page { final_url: url.clone(), url, status: 200, content_type, body, text }
}

/// The `file://` URL that stands for a page whose original URL is unknown.
pub(crate) fn file_url(path: &Path) -> Url {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Url::from_file_path(&abs).unwrap_or_else(|()| {
        // Only relative paths fail, and `canonicalize` made it absolute;
        // a path that vanished meanwhile still gets a stable URL.
        let mut u = Url::parse("file:///").expect("valid URL");
        u.set_path(&abs.to_string_lossy());
        u
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides_what_a_file_is() {
        let p = Path::new("x.html");
        assert_eq!(classify(p, b"<!DOCTYPE html><html>"), Kind::Html);
        assert_eq!(
            classify(Path::new("x.txt"), b"\xef\xbb\xbf<!-- saved from url=(0014)about:internet -->"),
            Kind::Html
        );
        assert_eq!(classify(Path::new("x"), b"WARC/1.0\r\nWARC-Type: warcinfo\r\n"), Kind::Warc);
        assert_eq!(classify(p, b"%PDF-1.7\n"), Kind::Other("a PDF document".into()));
        assert_eq!(classify(Path::new("d.txt"), "1、国家药监局关于…\n".as_bytes()), Kind::Text);
        assert_eq!(classify(Path::new("d.bin"), b"\x00\x01\x02"), Kind::Other("binary data".into()));
        assert_eq!(
            classify(
                Path::new("a.mhtml"),
                b"From: <Saved by Blink>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n"
            ),
            Kind::Mhtml
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"WARC/1.1\r\n").unwrap();
        assert_eq!(classify(Path::new("a.warc.gz"), &gz.finish().unwrap()), Kind::Warc);
    }

    #[test]
    fn a_complete_save_s_companion_folder_is_recognised() {
        let files = vec![PathBuf::from("/a/page.html"), PathBuf::from("/a/other.pdf")];
        assert!(is_companion_dir(Path::new("/a/page_files"), &files));
        assert!(!is_companion_dir(Path::new("/a/other_files"), &files));
        assert!(!is_companion_dir(Path::new("/a/sub"), &files));
    }
}
