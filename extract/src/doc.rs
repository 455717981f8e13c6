//! Word 97–2003 binary (`.doc`, and WPS Writer `.wps` saved in that
//! format): read by Debian's `catdoc` in a child process.
//!
//! No Rust crate reads the Word binary format's text (piece table, CJK in
//! UTF-16 pieces) today. Of the two Debian tools, `catdoc -w -d utf-8` keeps
//! each paragraph and each table cell on one line, while `antiword` wraps
//! paragraphs at 80 columns and splits table cells over several lines
//! ("Review / division"), breaking phrases; both decode the Chinese of the
//! fixture. See PROVENANCE.md for the outputs compared.

use crate::child::{self, Tool};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::limits::{Deadline, Limits};
use crate::normalize;

const CATDOC: Tool = Tool { program: "catdoc", package: "catdoc", format: Format::Doc };

/// Raw text of a Word binary document.
pub(crate) struct DocText {
    pub(crate) text: String,
    pub(crate) truncated: bool,
}

/// Reads the text of `bytes`.
pub(crate) fn read(bytes: &[u8], limits: &Limits, deadline: &Deadline) -> Result<DocText> {
    // -w: no wrapping (a paragraph is a line); -d utf-8: output charset.
    let out = child::run(CATDOC, &["-w", "-d", "utf-8"], bytes, limits.max_text_bytes, deadline)?;
    if !out.status.success() {
        let stderr = out.stderr.to_ascii_lowercase();
        if stderr.contains("encrypt") || stderr.contains("password") {
            return Err(Error::Encrypted { format: Format::Doc });
        }
        return Err(Error::Malformed { format: Format::Doc, reason: out.reason() });
    }
    Ok(DocText { text: normalize::clean(&String::from_utf8_lossy(&out.stdout)), truncated: out.stdout_truncated })
}
