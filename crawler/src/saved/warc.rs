//! WARC files (ISO 28500; `.warc` or `.warc.gz`, one gzip member per record
//! or one for the whole file), as `wget --warc-file`, browser archivers and
//! Heritrix write them.
//!
//! A `response` record holds the raw HTTP answer (status line, headers,
//! body, possibly chunked or gzipped); a `resource` record holds the bytes
//! alone. Those with status 200 and an HTML content type are pages; the
//! other 200 answers are files, carried with the pages that link them
//! (attachments fetched in the same session). `warcinfo`, `request`,
//! `metadata` and `revisit` records, and redirects, are skipped; an HTML
//! answer with an error status is refused (a 412 or 202 one as a
//! challenge).
//!
//! The file is read twice, record by record, so that a large archive is
//! never held in memory: once for its files, once for its pages.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use url::Url;
use warc::{BufferedBody, Record, RecordIter, RecordType, WarcHeader, WarcReader};

use super::html::{file_key, linked_files};
use super::{Item, Reason, Refusal, SavedFile, SavedPage, UrlEvidence, page_from};

/// How many bytes of linked files one archive may carry in memory.
const MAX_FILES_BYTES: usize = 256 * 1024 * 1024;

type Source = BufReader<Box<dyn Read + Send>>;

/// One archived HTTP answer, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status (200 for a `resource` record).
    pub status: u16,
    /// Content-Type, if given.
    pub content_type: Option<String>,
    /// The body, transfer and content encodings undone.
    pub body: Vec<u8>,
}

/// Opens a WARC, gzipped or not (told by its first bytes).
fn open(path: &Path) -> std::io::Result<RecordIter<Source>> {
    let mut file = BufReader::new(File::open(path)?);
    let gz = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let inner: Box<dyn Read + Send> =
        if gz { Box::new(flate2::read::MultiGzDecoder::new(file)) } else { Box::new(file) };
    Ok(WarcReader::new(BufReader::new(inner)).iter_records())
}

/// The records of one WARC file, as [`Item`]s.
pub struct Records {
    path: PathBuf,
    records: RecordIter<Source>,
    files: HashMap<String, SavedFile>,
    n: usize,
    done: bool,
}

impl Records {
    /// Opens `path` and reads its files (first pass).
    pub fn open(path: &Path) -> Result<Records, Reason> {
        let unreadable = |e: std::io::Error| Reason::Unreadable(e.to_string());
        let mut files = HashMap::new();
        let mut total = 0usize;
        for record in open(path).map_err(unreadable)? {
            // A damaged record ends the first pass; the second reports it.
            let Ok(record) = record else { break };
            let Some((url, answer)) = answer(record) else { continue };
            let Ok(answer) = answer else { continue };
            if answer.status != 200 || is_html(answer.content_type.as_deref()) || total > MAX_FILES_BYTES {
                continue;
            }
            total += answer.body.len();
            let file = SavedFile { url, bytes: answer.body, content_type: answer.content_type };
            files.insert(file_key(&file.url), file);
        }
        Ok(Records { path: path.to_path_buf(), records: open(path).map_err(unreadable)?, files, n: 0, done: false })
    }

    fn origin(&self) -> String {
        format!("{}#{}", self.path.display(), self.n)
    }
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records").field("path", &self.path).field("n", &self.n).finish_non_exhaustive()
    }
}

impl Iterator for Records {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        while !self.done {
            let record = match self.records.next() {
                None => {
                    self.done = true;
                    if self.n == 0 {
                        let origin = self.path.display().to_string();
                        let reason = Reason::Damaged("no WARC record could be read".into());
                        return Some(Item::Refused(Refusal { origin, reason }));
                    }
                    return None;
                }
                Some(r) => r,
            };
            self.n += 1;
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    // Past a damaged record the stream cannot be trusted.
                    self.done = true;
                    let reason =
                        Reason::Damaged(format!("record {} cannot be read ({e}); the rest is skipped", self.n));
                    return Some(Item::Refused(Refusal { origin: self.origin(), reason }));
                }
            };
            let fetched_at: DateTime<Utc> = *record.date();
            let Some((url, answer)) = answer(record) else { continue };
            let refuse = |reason| Some(Item::Refused(Refusal { origin: format!("{} <{url}>", self.origin()), reason }));
            let answer = match answer {
                Ok(a) => a,
                Err(reason) => return refuse(reason),
            };
            let html = is_html(answer.content_type.as_deref()) || (answer.status == 200 && sniffs_html(&answer.body));
            if !html {
                continue;
            }
            match answer.status {
                200 => {}
                202 | 412 => {
                    return refuse(Reason::Challenge(format!("the archived answer was HTTP {}", answer.status)));
                }
                s if s >= 400 => return refuse(Reason::HttpStatus(s)),
                _ => continue,
            }
            let page = page_from(url.clone(), answer.content_type, answer.body);
            let attachments = linked_files(&page.text, &url, &self.files);
            return Some(Item::Page(Box::new(SavedPage {
                origin: self.origin(),
                url: Some(url),
                url_from: UrlEvidence::WarcTargetUri,
                page,
                attachments,
                fetched_at: Some(fetched_at),
            })));
        }
        None
    }
}

fn is_html(ct: Option<&str>) -> bool {
    ct.is_some_and(|c| {
        let c = c.trim_start().to_ascii_lowercase();
        c.starts_with("text/html") || c.starts_with("application/xhtml+xml")
    })
}

/// An answer without a Content-Type that starts like HTML.
fn sniffs_html(body: &[u8]) -> bool {
    super::html::looks_like(&body[..body.len().min(1024)], false)
}

/// The target URL and the answer of a `response` or `resource` record with
/// an http(s) target; `None` for every other record.
fn answer(record: Record<BufferedBody>) -> Option<(Url, Result<Answer, Reason>)> {
    let kind = record.warc_type().clone();
    if !matches!(kind, RecordType::Response | RecordType::Resource) {
        return None;
    }
    // Raw headers: `Record::header` panics on a value that is not UTF-8.
    let (head, body) = record.into_raw_parts();
    let header = |h: WarcHeader| head.as_ref().get(&h).map(|v| String::from_utf8_lossy(v).into_owned());
    let target = header(WarcHeader::TargetURI)?;
    let url = Url::parse(target.trim().trim_start_matches('<').trim_end_matches('>')).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let answer = if kind == RecordType::Response {
        parse_http(&body)
    } else {
        Ok(Answer { status: 200, content_type: header(WarcHeader::ContentType), body })
    };
    Some((url, answer))
}

/// Parses a raw HTTP/1.x response: status, Content-Type, and the body with
/// chunked transfer coding and gzip/deflate content coding undone.
pub fn parse_http(raw: &[u8]) -> Result<Answer, Reason> {
    let damaged = Reason::Damaged;
    let mut headers = vec![httparse::EMPTY_HEADER; 256];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(raw) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err(damaged("the archived HTTP headers are cut short".into())),
        Err(e) => return Err(damaged(format!("the archived HTTP answer is malformed ({e})"))),
    };
    let status = resp.code.unwrap_or(0);
    let header = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    let content_type = header("Content-Type");
    let mut body = raw[head_len..].to_vec();
    if header("Transfer-Encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) {
        body = dechunk(&body).ok_or_else(|| damaged("the archived chunked body is malformed".into()))?;
    }
    match header("Content-Encoding").map(|e| e.to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("identity") => {}
        Some("gzip") | Some("x-gzip") => body = inflate(flate2::read::MultiGzDecoder::new(&body[..]))?,
        Some("deflate") => {
            body = inflate(flate2::read::ZlibDecoder::new(&body[..]))
                .or_else(|_| inflate(flate2::read::DeflateDecoder::new(&body[..])))?;
        }
        Some(other) => return Err(damaged(format!("content encoding {other:?} is not supported"))),
    }
    Ok(Answer { status, content_type, body })
}

/// Reads a decompressor to its end, at most [`super::MAX_FILE_BYTES`].
fn inflate(r: impl Read) -> Result<Vec<u8>, Reason> {
    let mut out = Vec::new();
    r.take(super::MAX_FILE_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| Reason::Damaged(format!("the archived body does not decompress ({e})")))?;
    if out.len() as u64 > super::MAX_FILE_BYTES {
        return Err(Reason::Damaged("the archived body decompresses to more than the size limit".into()));
    }
    Ok(out)
}

/// Undoes HTTP/1.1 chunked transfer coding; `None` when malformed. A body
/// cut inside its last chunk keeps what arrived.
fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        if b.len() < size {
            out.extend_from_slice(b);
            return Some(out);
        }
        out.extend_from_slice(&b[..size]);
        b = b.get(size..)?;
        b = b.strip_prefix(b"\r\n").unwrap_or(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_and_gzipped_answers_are_undone() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, "<html><p>公告</p></html>".as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let mut raw = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        let (a, b) = gz.split_at(10);
        raw.extend_from_slice(format!("{:x}\r\n", a.len()).as_bytes());
        raw.extend_from_slice(a);
        raw.extend_from_slice(format!("\r\n{:X};ext=1\r\n", b.len()).as_bytes());
        raw.extend_from_slice(b);
        raw.extend_from_slice(b"\r\n0\r\n\r\n");
        let answer = parse_http(&raw).unwrap();
        assert_eq!(answer.status, 200);
        assert_eq!(answer.content_type.as_deref(), Some("text/html; charset=utf-8"));
        assert_eq!(String::from_utf8(answer.body).unwrap(), "<html><p>公告</p></html>");
        assert!(matches!(parse_http(b"HTTP/1.1 200 OK\r\nContent-Ty"), Err(Reason::Damaged(_))));
        assert!(matches!(parse_http(b"\x00\x01garbage\r\n\r\n"), Err(Reason::Damaged(_))));
        let br = parse_http(b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\n\r\nxx");
        assert!(matches!(br, Err(Reason::Damaged(m)) if m.contains("br")));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_http_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse_http(&bytes);
            let _ = dechunk(&bytes);
            let mut with_head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
            with_head.extend_from_slice(&bytes);
            let _ = parse_http(&with_head);
        }
    }
}
