//! MHTML single-file saves (RFC 2557 `multipart/related`), as Chrome's
//! "Save page as… single file" and `Page.captureSnapshot` write them: a
//! MIME message whose first `text/html` part is the page and whose other
//! parts (quoted-printable or base64) are its resources, each named by a
//! `Content-Location`. Chrome puts the page's address in a
//! `Snapshot-Content-Location` header.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use mail_parser::{Encoding, Message, MessageParser, MessagePart, MimeHeaders, PartType};
use url::Url;

use super::html::{file_key, linked_files, original_url};
use super::{Reason, SavedFile, SavedPage, UrlEvidence, file_url, page_from};

/// Whether the first bytes are an MHTML: a header block (the first line a
/// `Name: value` header) declaring a `multipart/related` body (or carrying
/// Chrome's `Snapshot-Content-Location`), before the first blank line.
pub fn looks_like(head: &[u8]) -> bool {
    let end = head.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| head.windows(2).position(|w| w == b"\n\n"));
    // Without a blank line in the sniffed bytes, all of them are headers.
    let end = end.unwrap_or(head.len());
    let block = head[..end].to_ascii_lowercase();
    let first = block.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let is_header = first
        .iter()
        .position(|&b| b == b':')
        .is_some_and(|i| i > 0 && first[..i].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-'));
    let has = |needle: &[u8]| block.windows(needle.len()).any(|w| w == needle);
    is_header && has(b"content-type:") && (has(b"multipart/related") || has(b"snapshot-content-location:"))
}

/// A part's body with its transfer encoding undone but no charset applied
/// (the charset is the page decoder's business, as for a crawled page).
fn raw_body(message: &Message<'_>, part: &MessagePart<'_>) -> Vec<u8> {
    match &part.body {
        PartType::Text(_) | PartType::Html(_) => {
            let raw = message.raw_message();
            let (start, end) = (part.offset_body as usize, part.offset_end as usize);
            let Some(slice) = raw.get(start..end.max(start)) else { return part.contents().to_vec() };
            let decoded = match part.encoding {
                Encoding::QuotedPrintable => mail_parser::decoders::quoted_printable::quoted_printable_decode(slice),
                Encoding::Base64 => mail_parser::decoders::base64::base64_decode(slice),
                Encoding::None => Some(slice.to_vec()),
            };
            decoded.unwrap_or_else(|| part.contents().to_vec())
        }
        _ => part.contents().to_vec(),
    }
}

/// `type/subtype; charset=…` of a part, as a Content-Type header would say it.
fn content_type(part: &MessagePart<'_>) -> Option<String> {
    let ct = part.content_type()?;
    let mut s = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")).to_ascii_lowercase();
    if let Some(cs) = ct.attribute("charset") {
        s.push_str("; charset=");
        s.push_str(cs);
    }
    Some(s)
}

fn is_html(ct: Option<&str>) -> bool {
    ct.is_some_and(|c| c.starts_with("text/html") || c.starts_with("application/xhtml+xml"))
}

fn http_url(s: &str) -> Option<Url> {
    let url = Url::parse(s.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// Reads an MHTML file into its page.
pub fn read(path: &Path, bytes: &[u8]) -> Result<SavedPage, Reason> {
    let message = MessageParser::default().parse(bytes).ok_or_else(|| Reason::Damaged("not a MIME message".into()))?;
    let leaves: Vec<&MessagePart<'_>> =
        message.parts.iter().filter(|p| !matches!(p.body, PartType::Multipart(_))).collect();
    let (main_i, main) = leaves
        .iter()
        .enumerate()
        .find(|(_, p)| is_html(content_type(p).as_deref()))
        .ok_or_else(|| Reason::Damaged("an MHTML without a text/html part".into()))?;
    let ct = content_type(main);
    let body = raw_body(&message, main);
    let located = message
        .header_raw("Snapshot-Content-Location")
        .and_then(http_url)
        .or_else(|| main.content_location().and_then(http_url));
    let (url, url_from) = match located {
        Some(u) => (Some(u), UrlEvidence::MhtmlLocation),
        None => original_url(&crate::charset::decode(&body, ct.as_deref()).text),
    };
    let at = url.clone().unwrap_or_else(|| file_url(path));
    let page = page_from(at.clone(), ct, body);
    let mut files = HashMap::new();
    for (i, part) in leaves.iter().enumerate() {
        if i == main_i {
            continue;
        }
        let Some(loc) = part.content_location().and_then(http_url) else { continue };
        let file = SavedFile { bytes: raw_body(&message, part), content_type: content_type(part), url: loc };
        files.entry(file_key(&file.url)).or_insert(file);
    }
    let attachments = linked_files(&page.text, &at, &files);
    let fetched_at = message.date().and_then(|d| DateTime::<Utc>::from_timestamp(d.to_timestamp(), 0));
    Ok(SavedPage { origin: path.display().to_string(), url, url_from, page, attachments, fetched_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An MHTML as Chrome writes one: quoted-printable HTML with soft line
    /// breaks and `=3D`, a base64 PDF the page links, a CSS it does not.
    pub(crate) const CHROME: &str = "From: <Saved by Blink>\r\n\
Snapshot-Content-Location: https://www.cde.org.cn/main/news/viewInfoCommon/abc\r\n\
Subject: =?utf-8?Q?=E5=9B=BD=E5=AE=B6?=\r\n\
Date: Mon, 7 Dec 2026 01:02:03 -0000\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/related;\r\n\
\ttype=\"text/html\";\r\n\
\tboundary=\"----MultipartBoundary--x----\"\r\n\
\r\n\
\r\n\
------MultipartBoundary--x----\r\n\
Content-Type: text/html\r\n\
Content-ID: <frame-1@mhtml.blink>\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
Content-Location: https://www.cde.org.cn/main/news/viewInfoCommon/abc\r\n\
\r\n\
<html><head><meta http-equiv=3D\"Content-Type\" content=3D\"text/html; charset=\r\n\
=3DUTF-8\"><title>=E9=80=9A=E7=9F=A5</title></head><body><p>=E4=B8=80=E8=87=B4=\r\n\
=E6=80=A7</p><a href=3D\"/att/a.pdf\">a</a></body></html>\r\n\
------MultipartBoundary--x----\r\n\
Content-Type: application/pdf\r\n\
Content-Transfer-Encoding: base64\r\n\
Content-Location: https://www.cde.org.cn/att/a.pdf\r\n\
\r\n\
JVBERi0xLjQK\r\n\
------MultipartBoundary--x----\r\n\
Content-Type: text/css\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
Content-Location: https://www.cde.org.cn/x.css\r\n\
\r\n\
p { color: red; }\r\n\
------MultipartBoundary--x------\r\n";

    #[test]
    fn chrome_mhtml_gives_page_url_date_and_linked_files() {
        assert!(looks_like(CHROME.as_bytes()));
        let page = read(Path::new("x.mhtml"), CHROME.as_bytes()).unwrap();
        assert_eq!(page.url.as_ref().unwrap().as_str(), "https://www.cde.org.cn/main/news/viewInfoCommon/abc");
        assert_eq!(page.url_from, UrlEvidence::MhtmlLocation);
        assert!(page.page.text.contains("<title>通知</title>"), "{}", page.page.text);
        assert!(page.page.text.contains("<p>一致性</p>"), "{}", page.page.text);
        assert!(page.page.text.contains("charset=UTF-8"), "{}", page.page.text);
        assert_eq!(page.attachments.len(), 1);
        assert_eq!(page.attachments[0].url.as_str(), "https://www.cde.org.cn/att/a.pdf");
        assert_eq!(page.attachments[0].bytes, b"%PDF-1.4\n");
        assert_eq!(page.attachments[0].content_type.as_deref(), Some("application/pdf"));
        assert_eq!(page.fetched_at.unwrap().to_rfc3339(), "2026-12-07T01:02:03+00:00");
    }

    #[test]
    fn a_gbk_part_is_decoded_by_its_charset() {
        let (gbk, _, _) = encoding_rs::GBK.encode("<html><body><p>国家药品监督管理局</p></body></html>");
        let mut m = b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/html; charset=gbk\r\nContent-Location: http://example.org/p\r\nContent-Transfer-Encoding: binary\r\n\r\n".to_vec();
        m.extend_from_slice(&gbk);
        m.extend_from_slice(b"\r\n--b--\r\n");
        let page = read(Path::new("x.mht"), &m).unwrap();
        assert!(page.page.text.contains("国家药品监督管理局"), "{}", page.page.text);
    }

    #[test]
    fn no_html_part_is_damaged() {
        let m = "MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: image/png\r\n\r\nxx\r\n--b--\r\n";
        assert!(matches!(read(Path::new("x.mhtml"), m.as_bytes()), Err(Reason::Damaged(_))));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = looks_like(&bytes);
            let _ = read(Path::new("x.mhtml"), &bytes);
        }

        #[test]
        fn mutated_chrome_mhtml_never_panics(at in 0usize..1500, byte in proptest::prelude::any::<u8>(), cut in 0usize..1600) {
            let mut m = CHROME.as_bytes().to_vec();
            if at < m.len() { m[at] = byte; }
            m.truncate(cut.min(m.len()));
            let _ = read(Path::new("x.mhtml"), &m);
        }
    }
}
