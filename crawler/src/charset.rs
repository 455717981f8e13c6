//! Deciding a page's character set and decoding it.
//!
//! Order of evidence: byte-order mark, then the Content-Type header, then
//! `<meta charset>` / `http-equiv`, then statistical detection
//! (`chardetng`). A declared charset that does not decode the bytes
//! cleanly (a header saying UTF-8 on a GBK page) gives way to the next
//! piece of evidence. GB2312 and GBK are decoded as GB18030, their superset.

use std::sync::LazyLock;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, GB18030, GBK, UTF_8, UTF_16BE, UTF_16LE};
use regex::bytes::Regex;

/// How the charset was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// A byte-order mark.
    Bom,
    /// The `charset` parameter of the Content-Type header.
    Header,
    /// A `<meta>` tag in the document.
    Meta,
    /// Statistical detection.
    Detected,
}

/// A decoded body.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// The encoding used.
    pub encoding: &'static Encoding,
    /// Why that encoding.
    pub evidence: Evidence,
    /// Whether some bytes were malformed (replaced by U+FFFD).
    pub had_errors: bool,
}

/// How much of the document is searched for a `<meta>` charset.
const META_PRESCAN: usize = 4096;

static META_CHARSET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)"#).expect("valid regex"));

/// Maps a label to an encoding, widening GB2312/GBK to GB18030.
pub fn encoding_for_label(label: &str) -> Option<&'static Encoding> {
    let enc = Encoding::for_label_no_replacement(label.trim().trim_matches(['"', '\'']).as_bytes())?;
    Some(if enc == GBK { GB18030 } else { enc })
}

/// The `charset` parameter of a Content-Type value.
pub fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| encoding_for_label(value)).flatten()
    })
}

/// The charset a `<meta>` tag in the first bytes declares.
pub fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(META_PRESCAN)];
    let caps = META_CHARSET.captures(head)?;
    let label = std::str::from_utf8(caps.get(1)?.as_bytes()).ok()?;
    // A meta tag claiming UTF-16 in an ASCII-compatible prescan is a lie (HTML spec).
    encoding_for_label(label).map(|e| if e == UTF_16LE || e == UTF_16BE { UTF_8 } else { e })
}

/// What `chardetng` guesses.
pub fn detect(body: &[u8]) -> &'static Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(body, true);
    let enc = detector.guess(None, Utf8Detection::Allow);
    if enc == GBK { GB18030 } else { enc }
}

/// Decodes a body given its Content-Type header.
pub fn decode(body: &[u8], content_type: Option<&str>) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(body) {
        let (text, had_errors) = enc.decode_without_bom_handling(&body[bom_len..]);
        return Decoded { text: text.into_owned(), encoding: enc, evidence: Evidence::Bom, had_errors };
    }
    let mut candidates: Vec<(&'static Encoding, Evidence)> = Vec::with_capacity(3);
    if let Some(enc) = content_type.and_then(header_charset) {
        candidates.push((enc, Evidence::Header));
    }
    if let Some(enc) = meta_charset(body) {
        candidates.push((enc, Evidence::Meta));
    }
    let detected = detect(body);
    candidates.push((detected, Evidence::Detected));
    let mut last = None;
    for (enc, evidence) in candidates {
        let (text, had_errors) = enc.decode_without_bom_handling(body);
        let decoded = Decoded { text: text.into_owned(), encoding: enc, evidence, had_errors };
        if !had_errors {
            return decoded;
        }
        last = Some(decoded);
    }
    // Nothing decodes cleanly: the detector's guess (the last candidate) is
    // the least bad.
    last.unwrap_or_else(|| Decoded {
        text: String::new(),
        encoding: UTF_8,
        evidence: Evidence::Detected,
        had_errors: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZH: &str = "国家药监局关于开展化学药品注射剂仿制药质量和疗效一致性评价工作的公告（2020年第62号）";

    fn gbk_page(meta: &str) -> Vec<u8> {
        let html = format!(
            "<html><head>{meta}<title>{ZH}</title></head><body><p>{ZH}。发布时间：2020-05-13</p></body></html>"
        );
        let (bytes, _, unmappable) = GBK.encode(&html);
        assert!(!unmappable);
        bytes.into_owned()
    }

    #[test]
    fn gbk_without_any_declaration_is_detected() {
        let d = decode(&gbk_page(""), Some("text/html"));
        assert_eq!(d.encoding, GB18030);
        assert_eq!(d.evidence, Evidence::Detected);
        assert!(d.text.contains(ZH), "{}", d.text);
    }

    #[test]
    fn meta_charset_and_http_equiv_are_read() {
        let d = decode(&gbk_page(r#"<meta charset="gb2312">"#), None);
        assert_eq!((d.encoding, d.evidence), (GB18030, Evidence::Meta));
        assert!(d.text.contains(ZH));
        let d = decode(&gbk_page(r#"<meta http-equiv="Content-Type" content="text/html; charset=GBK">"#), None);
        assert_eq!((d.encoding, d.evidence), (GB18030, Evidence::Meta));
        assert!(d.text.contains(ZH));
    }

    #[test]
    fn a_lying_utf8_header_gives_way() {
        let d = decode(&gbk_page(""), Some("text/html; charset=UTF-8"));
        assert!(d.text.contains(ZH), "{}", d.text);
        assert!(!d.had_errors);
    }

    #[test]
    fn header_wins_over_meta_and_bom_over_all() {
        let body = format!("<meta charset=gbk><p>{ZH}</p>").into_bytes();
        let d = decode(&body, Some("text/html; charset=\"utf-8\""));
        assert_eq!((d.encoding, d.evidence), (UTF_8, Evidence::Header));
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(ZH.as_bytes());
        let d = decode(&bom, Some("text/html; charset=gbk"));
        assert_eq!((d.evidence, d.text.as_str()), (Evidence::Bom, ZH));
    }

    #[test]
    fn labels_widen_to_gb18030_and_garbage_never_panics() {
        assert_eq!(encoding_for_label("GB2312"), Some(GB18030));
        assert_eq!(header_charset("text/html;charset=gbk"), Some(GB18030));
        assert_eq!(header_charset("text/html; charset=nonsense"), None);
        let d = decode(&[0xff, 0xfe, 0x00, 0xd8, 0x80], None);
        assert!(!d.text.is_empty());
        let d = decode(b"", None);
        assert!(d.text.is_empty());
    }
}
