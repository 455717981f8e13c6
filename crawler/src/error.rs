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
    /// Another crawl holds the lock of this data directory.
    #[error(
        "another crawl is already running on the data directory {dir} (its lock file {lock} is held by a `notices crawl` or a server's scheduled re-crawl); wait for it to finish"
    )]
    Busy {
        /// The data directory.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// The crawl state database failed.
    #[error("crawl state {path}: {source}")]
    State {
        /// The SQLite file.
        path: PathBuf,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// The HTTP client could not be built (bad user agent, TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// A source name no registered source has.
    #[error("unknown or unavailable source {name:?}: known sources are {known}")]
    UnknownSource {
        /// The name given.
        name: String,
        /// The registered names, comma-separated.
        known: String,
    },
    /// A digest in which no item was found.
    #[error("{name}: no digest items found (expected numbered items such as \"1、\")")]
    EmptyDigest {
        /// The digest's file name.
        name: String,
    },
    /// A configuration value that cannot be used.
    #[error("invalid crawl configuration: {0}")]
    Config(String),
    /// The headless browser is missing or failed.
    #[error("headless browser: {0}")]
    Browser(String),
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
            Error::InvalidUrl { .. }
            | Error::Busy { .. }
            | Error::Config(_)
            | Error::UnknownSource { .. }
            | Error::EmptyDigest { .. } => true,
            Error::Index(e) => e.is_user_error(),
            _ => false,
        }
    }
}
