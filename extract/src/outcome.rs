//! What an extraction gives: the text, or the reason there is none.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::format::Format;

/// Why a file that was read yields no text. Recorded per attachment; the
/// attachment is then not indexed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NoText {
    /// A PDF whose pages carry no text layer: a scan, images only.
    NoTextLayer {
        /// Pages in the PDF.
        pages: u32,
    },
    /// A format this crate does not read.
    Unsupported {
        /// The format found.
        format: Format,
    },
    /// The text layer decodes to private-use, replacement or control
    /// characters: fonts without a usable ToUnicode map.
    Unreadable,
    /// The document is readable and empty.
    Empty,
}

impl fmt::Display for NoText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoText::NoTextLayer { pages } => {
                write!(f, "no text layer (a scan? {pages} pages of images only)")
            }
            NoText::Unsupported { format } => write!(f, "unsupported format: {format}"),
            NoText::Unreadable => f.write_str("unreadable text layer (fonts without Unicode maps)"),
            NoText::Empty => f.write_str("the document holds no text"),
        }
    }
}

/// The outcome of one member of a zip archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The member's path inside the archive (nested: `outer.zip/inner.docx`).
    pub name: String,
    /// Its format.
    pub format: Format,
    /// Characters of text it gave (0 when none).
    pub chars: u64,
    /// Why it gave none, when it read fine.
    pub no_text: Option<NoText>,
    /// Why it could not be read (the error's message), when it could not.
    pub error: Option<String>,
}

impl Entry {
    /// A member that could not be read.
    pub(crate) fn failed(name: String, format: Format, error: String) -> Self {
        Entry { name, format, chars: 0, no_text: None, error: Some(error) }
    }
}

/// The text of one attachment, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    /// The format found in the bytes (a `.wps` that is Word says `doc`).
    pub format: Format,
    /// The text, normalised to what a user types; `None` exactly when
    /// `no_text` is set.
    pub text: Option<String>,
    /// Why there is no text.
    pub no_text: Option<NoText>,
    /// Pages, for PDFs.
    pub pages: Option<u32>,
    /// Sheets, for spreadsheets.
    pub sheets: Option<u32>,
    /// The members, for zip archives.
    pub entries: Vec<Entry>,
    /// Whether the text was cut at [`crate::Limits::max_text_bytes`].
    pub truncated: bool,
}

impl Extracted {
    /// An outcome with no text.
    pub fn none(format: Format, why: NoText) -> Self {
        Extracted {
            format,
            text: None,
            no_text: Some(why),
            pages: None,
            sheets: None,
            entries: Vec::new(),
            truncated: false,
        }
    }

    /// The text, or `""`.
    pub fn text_or_empty(&self) -> &str {
        self.text.as_deref().unwrap_or_default()
    }
}
