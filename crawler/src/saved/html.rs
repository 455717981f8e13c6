//! An HTML page saved from a browser: telling one from other files, and
//! finding its original URL (the "saved from url" comment, the canonical
//! link, `og:url`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use scraper::{Html, Selector};
use url::Url;

use super::{SavedFile, SavedPage, UrlEvidence, file_url, page_from};

/// Tags whose presence near the start makes a file HTML.
const HTML_MARKERS: [&str; 7] = ["<!doctype html", "<html", "<head", "<body", "<meta", "<title", "saved from url="];

/// Whether the first bytes of a file are HTML: one of the usual tags near
/// the start, or, for a file named `.html`/`.htm`, any tag at all.
pub fn looks_like(head: &[u8], html_name: bool) -> bool {
    let lower = head.to_ascii_lowercase();
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if HTML_MARKERS.iter().any(|m| has(m.as_bytes())) {
        return true;
    }
    html_name && lower.windows(2).any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'!'))
}

/// How far into a page the "saved from url" comment is looked for (browsers
/// put it before `<html>`, after the doctype at most).
const COMMENT_WINDOW: usize = 4096;

/// The URL of a browser's "Mark of the Web" comment,
/// `<!-- saved from url=(0047)http://… -->` (the number is the URL's length). `None` for a missing comment, or one that names no http(s) URL
/// (`about:internet` for a page that came from disk).
pub fn saved_from_url(text: &str) -> Option<Url> {
    static COMMENT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)<!--\s*saved from url=\(\s*\d{1,5}\s*\)\s*(\S*)").expect("valid regex"));
    let window = match text.char_indices().nth(COMMENT_WINDOW) {
        Some((i, _)) => &text[..i],
        None => text,
    };
    let caps = COMMENT.captures(window)?;
    // Browsers write the URL, then ` -->`; the declared length is not
    // trusted (hand-edited comments get it wrong).
    let token = caps.get(1)?.as_str();
    let raw = token.split("-->").next().unwrap_or(token);
    http_url(raw)
}

/// `s` as an absolute http(s) URL.
fn http_url(s: &str) -> Option<Url> {
    let url = Url::parse(s.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// The original URL of a saved HTML page and where it was found: the
/// "saved from url" comment, else `<link rel=canonical>`, else `og:url`
/// (relative ones resolved against the comment's URL when there is one).
pub fn original_url(text: &str) -> (Option<Url>, UrlEvidence) {
    static CANONICAL: LazyLock<Selector> = LazyLock::new(|| crate::sources::util::sel("link[rel][href]"));
    static OG: LazyLock<Selector> = LazyLock::new(|| crate::sources::util::sel("meta[property][content]"));
    if let Some(url) = saved_from_url(text) {
        return (Some(url), UrlEvidence::SavedFromComment);
    }
    let doc = Html::parse_document(text);
    let canonical = doc
        .select(&CANONICAL)
        .find(|l| {
            l.attr("rel").is_some_and(|r| r.split_ascii_whitespace().any(|w| w.eq_ignore_ascii_case("canonical")))
        })
        .and_then(|l| http_url(l.attr("href")?));
    if let Some(url) = canonical {
        return (Some(url), UrlEvidence::Canonical);
    }
    let og = doc
        .select(&OG)
        .find(|m| m.attr("property").is_some_and(|p| p.eq_ignore_ascii_case("og:url")))
        .and_then(|m| http_url(m.attr("content")?));
    match og {
        Some(url) => (Some(url), UrlEvidence::OgUrl),
        None => (None, UrlEvidence::None),
    }
}

/// A saved HTML file as a page: decoded, its original URL found (or its
/// `file://` URL standing in), `modified` as its fetch time.
pub fn saved_page(path: &Path, bytes: &[u8], modified: Option<DateTime<Utc>>) -> SavedPage {
    // The first decode only finds the URL; the page is decoded once more
    // with the same rules inside `page_from`, which is cheap next to parsing.
    let text = crate::charset::decode(bytes, None).text;
    let (url, url_from) = original_url(&text);
    let at = url.clone().unwrap_or_else(|| file_url(path));
    SavedPage {
        origin: path.display().to_string(),
        url,
        url_from,
        page: page_from(at, None, bytes.to_vec()),
        attachments: Vec::new(),
        fetched_at: modified,
    }
}

/// A URL as a key for matching links to archived files (no fragment).
pub(crate) fn file_key(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    u.to_string()
}

/// The archived `files` (keyed by [`file_key`]) that the page at `base`
/// links from an `<a href>`, `<iframe src>`, `<embed src>` or `<object data>`.
pub(crate) fn linked_files(text: &str, base: &Url, files: &HashMap<String, SavedFile>) -> Vec<SavedFile> {
    static LINKS: LazyLock<Selector> =
        LazyLock::new(|| crate::sources::util::sel("a[href], iframe[src], embed[src], object[data]"));
    if files.is_empty() {
        return Vec::new();
    }
    let doc = Html::parse_document(text);
    let mut out: Vec<SavedFile> = Vec::new();
    for el in doc.select(&LINKS) {
        let v = el.value();
        let Some(href) = v.attr("href").or(v.attr("src")).or(v.attr("data")) else { continue };
        let Ok(url) = base.join(href.trim()) else { continue };
        if let Some(file) = files.get(&file_key(&url))
            && !out.iter().any(|f| f.url == file.url)
        {
            out.push(file.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saved_from_comment_is_read_by_its_length() {
        let t = "<!DOCTYPE html>\r\n<!-- saved from url=(0063)https://www.nmpa.gov.cn/xxgk/ggtg/qtggtg/20200514170101220.html -->\n<html>";
        assert_eq!(
            saved_from_url(t).unwrap().as_str(),
            "https://www.nmpa.gov.cn/xxgk/ggtg/qtggtg/20200514170101220.html"
        );
        // A wrong length (hand-edited): the URL as written.
        let t = "<!-- saved from url=(0010)http://example.org/a-b -->";
        assert_eq!(saved_from_url(t).unwrap().as_str(), "http://example.org/a-b");
        // Pages from disk say about:internet.
        assert_eq!(saved_from_url("<!-- saved from url=(0014)about:internet -->"), None);
        assert_eq!(saved_from_url("<html><!-- saved from url=(99999)"), None);
    }

    #[test]
    fn the_comment_wins_then_canonical_then_og_url() {
        let both = r#"<!-- saved from url=(0022)http://example.org/a/b -->
            <html><head><link rel="canonical" href="http://example.org/c"></head></html>"#;
        assert_eq!(original_url(both), (Url::parse("http://example.org/a/b").ok(), UrlEvidence::SavedFromComment));
        let canon = r#"<html><head><meta property="og:url" content="http://example.org/og">
            <link rel="Canonical" href="https://example.org/c"></head></html>"#;
        assert_eq!(original_url(canon), (Url::parse("https://example.org/c").ok(), UrlEvidence::Canonical));
        let og = r#"<html><head><link rel="canonical" href="/relative"><meta property="og:url" content="http://example.org/og"></head></html>"#;
        assert_eq!(original_url(og), (Url::parse("http://example.org/og").ok(), UrlEvidence::OgUrl));
        assert_eq!(original_url("<p>nothing</p>"), (None, UrlEvidence::None));
    }

    #[test]
    fn html_is_told_from_text() {
        assert!(looks_like(b"\n\n<!DOCTYPE HTML PUBLIC", false));
        assert!(looks_like(b"<div>x</div>", true));
        assert!(!looks_like(b"<div>x</div>", false));
        assert!(!looks_like("1、国家药监局 <2020>".as_bytes(), false));
    }

    proptest::proptest! {
        #[test]
        fn url_finding_never_panics(s in "\\PC{0,300}", n in 0u32..200) {
            let text = format!("<!-- saved from url=({n:04}){s} -->{s}");
            let _ = saved_from_url(&text);
            let _ = original_url(&text);
            let _ = looks_like(text.as_bytes(), true);
        }
    }
}
