//! File formats and how a file's format is recognised: by its first bytes
//! (magic numbers) first, because sites serve `.doc` files that are HTML,
//! `.wps` files that are Word, and error pages named `.pdf`; the name's
//! extension and the Content-Type only break ties the bytes leave open.

use std::fmt;
use std::io::Cursor;

use serde::{Deserialize, Serialize};

/// The format of an attachment, as found in its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// PDF (read: its text layer).
    Pdf,
    /// Word 97–2003 binary (OLE2 `WordDocument`), also WPS Writer `.wps` (read).
    Doc,
    /// Word 2007+ OOXML (read: paragraphs, tables, footnotes).
    Docx,
    /// Excel 97–2003 binary (OLE2 `Workbook`), also WPS Spreadsheets `.et` (read).
    Xls,
    /// Excel 2007+ OOXML (read: every sheet).
    Xlsx,
    /// OpenDocument spreadsheet (read: every sheet).
    Ods,
    /// A zip archive of other files (read: each member, recursively).
    Zip,
    /// Plain text (read: UTF-8, or GB18030 when not UTF-8).
    Text,
    /// RTF (not read).
    Rtf,
    /// An HTML page or a Word "web page" (not read: pages go through the
    /// crawler's own HTML extractors).
    Html,
    /// PowerPoint, binary or OOXML (not read).
    Presentation,
    /// OpenDocument text (not read).
    Odt,
    /// An image: PNG, JPEG, GIF, TIFF, BMP (not read: no OCR).
    Image,
    /// Other archives: rar, 7z, gzip (not read).
    OtherArchive,
    /// Anything else.
    Unknown,
}

impl Format {
    /// Whether this crate reads text from the format.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Format::Pdf
                | Format::Doc
                | Format::Docx
                | Format::Xls
                | Format::Xlsx
                | Format::Ods
                | Format::Zip
                | Format::Text
        )
    }

    /// Short lower-case name, as shown to users and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Doc => "doc",
            Format::Docx => "docx",
            Format::Xls => "xls",
            Format::Xlsx => "xlsx",
            Format::Ods => "ods",
            Format::Zip => "zip",
            Format::Text => "text",
            Format::Rtf => "rtf",
            Format::Html => "html",
            Format::Presentation => "presentation",
            Format::Odt => "odt",
            Format::Image => "image",
            Format::OtherArchive => "archive",
            Format::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The format a name's extension or a Content-Type suggests, if any.
fn declared(name_or_url: &str, content_type: Option<&str>) -> Option<Format> {
    // A URL's query or fragment is not part of the file name.
    let path = name_or_url.split(['?', '#']).next().unwrap_or_default();
    let ext =
        path.rsplit(['/', '\\']).next().and_then(|file| file.rsplit_once('.')).map(|(_, ext)| ext.to_ascii_lowercase());
    let by_ext = match ext.as_deref() {
        Some("pdf") => Some(Format::Pdf),
        Some("doc" | "wps" | "dot") => Some(Format::Doc),
        Some("docx" | "docm" | "dotx") => Some(Format::Docx),
        Some("xls" | "et" | "xlt") => Some(Format::Xls),
        Some("xlsx" | "xlsm") => Some(Format::Xlsx),
        Some("ods") => Some(Format::Ods),
        Some("zip") => Some(Format::Zip),
        Some("txt" | "csv") => Some(Format::Text),
        Some("rtf") => Some(Format::Rtf),
        Some("htm" | "html" | "mht" | "mhtml") => Some(Format::Html),
        Some("ppt" | "pptx" | "dps") => Some(Format::Presentation),
        Some("odt") => Some(Format::Odt),
        Some("rar" | "7z" | "gz" | "tgz" | "bz2" | "xz") => Some(Format::OtherArchive),
        Some("png" | "jpg" | "jpeg" | "gif" | "tif" | "tiff" | "bmp") => Some(Format::Image),
        _ => None,
    };
    by_ext.or_else(|| {
        let ct = content_type?.split(';').next()?.trim().to_ascii_lowercase();
        Some(match ct.as_str() {
            "application/pdf" => Format::Pdf,
            "application/msword" | "application/kswps" | "application/wps-office.wps" => Format::Doc,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Format::Docx,
            "application/vnd.ms-excel" | "application/kset" | "application/wps-office.et" => Format::Xls,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Format::Xlsx,
            "application/zip" | "application/x-zip-compressed" => Format::Zip,
            "text/plain" | "text/csv" => Format::Text,
            _ => return None,
        })
    })
}

const OLE2: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Recognises the format of `bytes`. `name_or_url` (its extension) and
/// `content_type` are used only where the bytes do not decide.
pub fn sniff(bytes: &[u8], name_or_url: &str, content_type: Option<&str>) -> Format {
    let declared = declared(name_or_url, content_type);
    let head = &bytes[..bytes.len().min(1024)];
    // The PDF header may follow some junk; readers accept it within 1 KiB.
    if find(head, b"%PDF-").is_some() {
        return Format::Pdf;
    }
    if bytes.starts_with(OLE2) {
        return sniff_ole2(bytes, declared);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return sniff_zip(bytes);
    }
    if bytes.starts_with(b"{\\rtf") {
        return Format::Rtf;
    }
    if bytes.starts_with(b"\x89PNG")
        || bytes.starts_with(b"\xFF\xD8\xFF")
        || bytes.starts_with(b"GIF8")
        || bytes.starts_with(b"II*\0")
        || bytes.starts_with(b"MM\0*")
        || bytes.starts_with(b"BM")
    {
        return Format::Image;
    }
    if bytes.starts_with(b"Rar!")
        || bytes.starts_with(b"7z\xBC\xAF")
        || bytes.starts_with(b"\x1F\x8B")
        || bytes.starts_with(b"BZh")
        || bytes.starts_with(b"\xFD7zXZ")
    {
        return Format::OtherArchive;
    }
    if looks_like_html(head) {
        return Format::Html;
    }
    match declared {
        // Plain text has no magic: trust the name only if the bytes decode.
        Some(Format::Text) if is_text(head) => Format::Text,
        // Bytes without the format's magic: the reader will say what is wrong.
        Some(f @ (Format::Pdf | Format::Doc | Format::Docx | Format::Xls | Format::Xlsx)) => f,
        Some(Format::Zip) => Format::Zip,
        Some(f) if !f.is_read() => f,
        _ if !head.is_empty() && is_text(head) => Format::Text,
        _ => Format::Unknown,
    }
}

fn looks_like_html(head: &[u8]) -> bool {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = body.iter().position(|b| !b.is_ascii_whitespace()).map_or(&[][..], |i| &body[i..]);
    let lower: Vec<u8> = start.iter().take(64).map(u8::to_ascii_lowercase).collect();
    lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || lower.starts_with(b"<?xml") && find(head, b"<html").is_some()
        || lower.starts_with(b"mime-version:")
}

/// Bytes without control characters that decode as UTF-8 or GB18030.
fn is_text(head: &[u8]) -> bool {
    if head.iter().any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)) {
        return false;
    }
    // The sniffing window may cut a multi-byte character at its end.
    let whole = &head[..head.len().saturating_sub(4)];
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.valid_up_to() >= whole.len(),
    };
    utf8 || encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(whole).is_some()
}

/// An OLE2 compound file names its streams in its directory, in UTF-16LE:
/// Word keeps the text in `WordDocument`, Excel in `Workbook` (`Book` for
/// Excel 5), PowerPoint in `PowerPoint Document`. WPS Office writes the same
/// streams into `.wps` and `.et` files.
fn sniff_ole2(bytes: &[u8], declared: Option<Format>) -> Format {
    let word = find(bytes, &utf16le("WordDocument")).is_some();
    let excel = find(bytes, &utf16le("Workbook")).is_some() || find(bytes, &utf16le("Book\0")).is_some();
    let ppt = find(bytes, &utf16le("PowerPoint Document")).is_some();
    match (word, excel, ppt) {
        // A document with an embedded object has both: the name decides.
        (true, true, _) if declared == Some(Format::Xls) => Format::Xls,
        (true, _, _) => Format::Doc,
        (false, true, _) => Format::Xls,
        (false, false, true) => Format::Presentation,
        (false, false, false) => match declared {
            Some(f @ (Format::Doc | Format::Xls)) => f,
            _ => Format::Unknown,
        },
    }
}

/// An OOXML or OpenDocument file is a zip: its part names say which.
fn sniff_zip(bytes: &[u8]) -> Format {
    let Ok(archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        // A truncated zip: the zip reader will report why.
        return Format::Zip;
    };
    let has = |name: &str| archive.index_for_name(name).is_some();
    if has("word/document.xml") {
        Format::Docx
    } else if has("xl/workbook.xml") || has("xl/workbook.bin") {
        Format::Xlsx
    } else if has("ppt/presentation.xml") {
        Format::Presentation
    } else if has("content.xml") && has("mimetype") {
        if find(&bytes[..bytes.len().min(200)], b"opendocument.spreadsheet").is_some() {
            Format::Ods
        } else if find(&bytes[..bytes.len().min(200)], b"opendocument.presentation").is_some() {
            Format::Presentation
        } else {
            Format::Odt
        }
    } else {
        Format::Zip
    }
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Position of `needle` in `haystack`.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_beats_the_extension() {
        assert_eq!(sniff(b"%PDF-1.7\n...", "a.doc", None), Format::Pdf);
        assert_eq!(sniff(b"<!DOCTYPE html><html>", "report.pdf", Some("application/pdf")), Format::Html);
        assert_eq!(sniff(b"{\\rtf1\\ansi", "a.doc", None), Format::Rtf);
        assert_eq!(sniff(b"\xEF\xBB\xBF\n  <html><body>", "a.doc", None), Format::Html);
        assert_eq!(sniff(b"\x89PNG\r\n", "a.pdf", None), Format::Image);
    }

    #[test]
    fn extension_and_content_type_break_ties() {
        assert_eq!(sniff(b"garbage", "a.pdf", None), Format::Pdf);
        assert_eq!(sniff(b"\0\x01\x02", "x", Some("application/msword")), Format::Doc);
        assert_eq!(sniff(b"\0\x01\x02", "https://h/x.XLSX?id=1#p", None), Format::Xlsx);
        assert_eq!(sniff(b"\0\x01", "blob", None), Format::Unknown);
        assert_eq!(sniff("公告正文".as_bytes(), "a.txt", None), Format::Text);
    }

    #[test]
    fn ole2_streams_decide_word_or_excel() {
        let mut doc = OLE2.to_vec();
        doc.extend(utf16le("WordDocument"));
        assert_eq!(sniff(&doc, "a.wps", None), Format::Doc);
        let mut xls = OLE2.to_vec();
        xls.extend(utf16le("Workbook"));
        assert_eq!(sniff(&xls, "a.et", None), Format::Xls);
        assert_eq!(sniff(OLE2, "a.et", None), Format::Xls);
        assert_eq!(sniff(OLE2, "a.bin", None), Format::Unknown);
    }
}
