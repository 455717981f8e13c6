//! PDF: the text layer, read by Poppler's `pdftotext` in a child process.
//!
//! Why not a Rust crate: on the Chinese fixture (Chromium's print of a page
//! set in Noto Sans CJK: Type 3 fonts with ToUnicode maps) see the crate's
//! PROVENANCE.md for what each reader produced. Poppler reads CID fonts,
//! Type 3, ToUnicode and the predefined Adobe-GB1 CMaps, and as a child
//! process it can be killed at the time cap, which a parser looping inside
//! our own process cannot.

use crate::child::{self, Tool};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::{Deadline, Limits};
use crate::normalize;

const PDFTOTEXT: Tool = Tool { program: "pdftotext", package: "poppler-utils", format: Format::Pdf };

/// Raw text of a PDF with its page count.
pub(crate) struct PdfText {
    pub(crate) text: String,
    pub(crate) pages: u32,
    pub(crate) truncated: bool,
}

/// Reads the text layer of `bytes`.
pub(crate) fn read(bytes: &[u8], limits: &Limits, deadline: &Deadline) -> Result<PdfText> {
    // `-` `-`: the PDF from stdin, text to stdout; pages end with a form feed.
    let out =
        child::run(PDFTOTEXT, &["-enc", "UTF-8", "-eol", "unix", "-", "-"], bytes, limits.max_text_bytes, deadline)?;
    if !out.status.success() {
        // Exit codes: 1 cannot open (damaged, or a password), 3 permissions.
        let stderr = out.stderr.to_ascii_lowercase();
        if out.status.code() == Some(3) || stderr.contains("password") {
            return Err(Error::Encrypted { format: Format::Pdf });
        }
        if out.status.code() == Some(1) {
            return Err(Error::Malformed { format: Format::Pdf, reason: out.reason() });
        }
        return Err(Error::Tool { tool: PDFTOTEXT.program, reason: out.reason() });
    }
    let raw = String::from_utf8_lossy(&out.stdout);
    let pages = raw.matches('\u{0C}').count() as u32;
    // Pages become paragraphs; then layout breaks inside words go.
    let text = normalize::join_broken_lines(&normalize::clean(&raw).replace('\u{0C}', "\n\n"));
    Ok(PdfText { text, pages, truncated: out.stdout_truncated })
}
