//! Errors of the extract crate: a file that could not be read at all.
//!
//! A file that was read but holds no text (a scan, an unsupported format) is
//! not an error: it is an [`crate::Extracted`] with a [`crate::NoText`] reason.

use std::time::Duration;

use crate::format::Format;

/// Result type of the extract crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an attachment could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is larger than [`crate::Limits::max_bytes`].
    #[error("the file is {size} bytes, over the cap of {max} bytes per attachment")]
    TooLarge {
        /// Size of the file.
        size: u64,
        /// The cap.
        max: u64,
    },
    /// Extraction did not finish within [`crate::Limits::max_seconds`].
    #[error("extraction of the {format} file took longer than {:.1} s and was stopped", limit.as_secs_f64())]
    Timeout {
        /// The format being read when time ran out.
        format: Format,
        /// The time cap.
        limit: Duration,
    },
    /// The file needs a password.
    #[error("the {format} file is encrypted (password protected)")]
    Encrypted {
        /// The format of the file.
        format: Format,
    },
    /// The file is truncated or malformed.
    #[error("the {format} file is malformed or truncated: {reason}")]
    Malformed {
        /// The format the file claims to be.
        format: Format,
        /// What the reader said.
        reason: String,
    },
    /// An archive (or an OOXML file, which is a zip) unpacks to more than the caps allow.
    #[error("refused as a zip bomb: {reason}")]
    ZipBomb {
        /// Which cap was hit.
        reason: String,
    },
    /// Archives nested deeper than [`crate::Limits::max_depth`].
    #[error("archives nested deeper than {max_depth} levels")]
    TooDeep {
        /// The cap.
        max_depth: u32,
    },
    /// A Debian tool the extractor runs is not installed.
    #[error("{tool} is not installed (install the Debian package {package}) and is needed to read {format} files")]
    ToolMissing {
        /// The program.
        tool: &'static str,
        /// The Debian package that provides it.
        package: &'static str,
        /// The format it reads.
        format: Format,
    },
    /// A child process failed in an unexpected way.
    #[error("{tool} failed: {reason}")]
    Tool {
        /// The program.
        tool: &'static str,
        /// Its exit status and first line of stderr.
        reason: String,
    },
    /// Too many earlier extractions overran their time cap and still run.
    #[error(
        "{running} earlier extractions overran their time cap and are still running; refusing new work until they end"
    )]
    Busy {
        /// How many abandoned extractions still run.
        running: usize,
    },
    /// An operating-system error (spawning a process, a pipe).
    #[error("extraction I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// A short stable code for the kind of error, for storing per attachment.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TooLarge { .. } => "too_large",
            Error::Timeout { .. } => "timeout",
            Error::Encrypted { .. } => "encrypted",
            Error::Malformed { .. } => "malformed",
            Error::ZipBomb { .. } => "zip_bomb",
            Error::TooDeep { .. } => "too_deep",
            Error::ToolMissing { .. } => "tool_missing",
            Error::Tool { .. } => "tool_failed",
            Error::Busy { .. } => "busy",
            Error::Io(_) => "io",
        }
    }

    /// Whether trying the same bytes again later may succeed (the file itself
    /// is not at fault): a missing tool, a busy extractor, an I/O failure.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::ToolMissing { .. } | Error::Busy { .. } | Error::Io(_) | Error::Tool { .. })
    }
}
