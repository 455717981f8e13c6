//! Errors of the crawler crate.

use std::path::PathBuf;

/// Result type of the crawler crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while crawling or parsing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A URL that cannot be parsed or is not http/https.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// A page that does not have the expected shape.
    #[error("cannot parse {url}: {reason}")]
    Parse {
        /// The page URL.
        url: String,
        /// What was missing or malformed.
        reason: String,
    },
    /// The index refused or failed.
    #[error(transparent)]
    Index(#[from] index::Error),
    /// Filesystem error.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// True when the error is the user's (bad input), false when it is internal.
    pub fn is_user_error(&self) -> bool {
        match self {
            Error::InvalidUrl { .. } => true,
            Error::Index(e) => e.is_user_error(),
            _ => false,
        }
    }
}
