//! The one table of attachment types: which links are files (a notice's
//! attachments) rather than pages. The crawler's sources, generic
//! extraction and the digest parser all ask here.

/// File extensions of attachments, lowercase, without the dot: documents
/// (PDF, Word, WPS, OFD), spreadsheets, slides and archives.
pub const ATTACHMENT_EXTENSIONS: &[&str] =
    &["pdf", "doc", "docx", "xls", "xlsx", "et", "ppt", "pptx", "wps", "ofd", "zip", "rar", "7z"];

/// Words in a URL's path or query that mark a download endpoint without a
/// file extension (`attachmentOut.do?…`, `/media/123/download`, `getFile`).
pub const DOWNLOAD_MARKERS: &[&str] = &["download", "attachment", "getfile", "down.jsp", "/media/"];

/// Whether a URL path ends in an attachment extension (case-insensitive).
pub fn has_attachment_extension(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    path.rsplit_once('.').is_some_and(|(_, ext)| ATTACHMENT_EXTENSIONS.contains(&ext))
}

/// Whether a URL (absolute, as a string) points at a file: its path has an
/// attachment extension, or its path or query names a download endpoint.
pub fn is_attachment_url(url: &str) -> bool {
    let url = url.split('#').next().unwrap_or(url);
    // Path and query only: a host such as download.example.org says nothing.
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let tail = rest.find(['/', '?']).map_or("", |i| &rest[i..]).to_ascii_lowercase();
    let path = tail.split('?').next().unwrap_or("");
    has_attachment_extension(path) || DOWNLOAD_MARKERS.iter().any(|m| tail.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_download_endpoints_are_attachments() {
        assert!(has_attachment_extension("/a/B.PDF"));
        assert!(has_attachment_extension("/x/y.docx"));
        assert!(!has_attachment_extension("/x/y.html"));
        assert!(!has_attachment_extension("/pdf"));
        assert!(is_attachment_url("http://www.cde.org.cn/attachmentout.do?id=1"));
        assert!(is_attachment_url("https://www.fda.gov/media/136440/download"));
        assert!(is_attachment_url("http://a.cn/f.wps#p2"));
        assert!(!is_attachment_url("http://download.example.org/news/1.html"));
        assert!(!is_attachment_url("http://www.nmpa.gov.cn/WS04/CL2138/377442.html"));
    }
}
