//! Errors of the index crate.
//!
//! Two families, as in meilisearch: *user* errors (a bad query, an unknown
//! source, a malformed date) that the caller should show as they are and map
//! to a usage exit code or an HTTP 400, and *internal* errors (I/O, a damaged
//! index) that are the program's or the machine's fault.

use std::path::PathBuf;

/// Result type of the index crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while indexing or searching.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The query string is empty or only white space.
    #[error("empty query: give at least one word to search for")]
    EmptyQuery,
    /// The query is longer than the allowed maximum.
    #[error("query too long: {len} characters, the limit is {max}")]
    QueryTooLong {
        /// Length of the query in characters.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The query has an odd number of double quotes.
    #[error("unbalanced quote in query: every \" must be closed")]
    UnbalancedQuote,
    /// The query could not be parsed.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// A source name that is not one of the known sources.
    #[error("unknown source {given:?}: known sources are {known}")]
    UnknownSource {
        /// What the user gave.
        given: String,
        /// The known sources, comma separated.
        known: String,
    },
    /// A document type that is not one of the known ones.
    #[error("unknown document type {given:?}: known types are {known}")]
    UnknownDocType {
        /// What the user gave.
        given: String,
        /// The known type ids, comma separated.
        known: String,
    },
    /// A status other than `draft` or `final`.
    #[error("invalid status {0:?}: expected draft or final")]
    InvalidStatus(String),
    /// A date that is not `YYYY-MM-DD` (or `YYYY-MM`, `YYYY`).
    #[error("invalid date {given:?}: expected YYYY-MM-DD, YYYY-MM or YYYY")]
    InvalidDate {
        /// What the user gave.
        given: String,
    },
    /// `since` is after `until`.
    #[error("empty date range: since {since} is after until {until}")]
    EmptyDateRange {
        /// Start of the range.
        since: String,
        /// End of the range.
        until: String,
    },
    /// A sort order other than `relevance` or `newest`.
    #[error("invalid sort {0:?}: expected relevance or newest")]
    InvalidSort(String),
    /// `limit` or `offset` outside the allowed range.
    #[error("invalid {name}: {value} (allowed {min}..={max})")]
    OutOfRange {
        /// Parameter name.
        name: &'static str,
        /// Given value.
        value: i64,
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A notice that cannot be indexed (e.g. no id or no title).
    #[error("invalid notice {id:?}: {reason}")]
    InvalidNotice {
        /// The notice id, possibly empty.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A line of a JSON-lines import that is not a notice (see [`crate::import`]).
    #[error("line {line}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// No notice with that id.
    #[error("no notice with id {0:?}")]
    NotFound(String),
    /// Another process holds the index writer lock.
    #[error("the index in {0} is being written by another process (a crawl or server); try again when it has finished")]
    Locked(PathBuf),
    /// Tantivy failed (I/O, corrupt segment, ...).
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The index directory could not be opened.
    #[error("cannot open index directory {path}: {source}")]
    OpenDirectory {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: tantivy::directory::error::OpenDirectoryError,
    },
    /// Filesystem error.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A stored document could not be decoded.
    #[error("stored notice {id:?} is unreadable: {reason}")]
    Corrupt {
        /// Notice id.
        id: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// True when the error is the user's (bad input), false when it is internal.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Error::EmptyQuery
                | Error::QueryTooLong { .. }
                | Error::UnbalancedQuote
                | Error::InvalidQuery(_)
                | Error::UnknownSource { .. }
                | Error::UnknownDocType { .. }
                | Error::InvalidStatus(_)
                | Error::InvalidDate { .. }
                | Error::EmptyDateRange { .. }
                | Error::InvalidSort(_)
                | Error::OutOfRange { .. }
                | Error::InvalidNotice { .. }
                | Error::BadLine { .. }
        )
    }

    /// A short stable machine-readable code, used by the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            Error::EmptyQuery => "empty_query",
            Error::QueryTooLong { .. } => "query_too_long",
            Error::UnbalancedQuote => "unbalanced_quote",
            Error::InvalidQuery(_) => "invalid_query",
            Error::UnknownSource { .. } => "unknown_source",
            Error::UnknownDocType { .. } => "unknown_type",
            Error::InvalidStatus(_) => "invalid_status",
            Error::InvalidDate { .. } => "invalid_date",
            Error::EmptyDateRange { .. } => "empty_date_range",
            Error::InvalidSort(_) => "invalid_sort",
            Error::OutOfRange { .. } => "out_of_range",
            Error::InvalidNotice { .. } => "invalid_notice",
            Error::BadLine { .. } => "bad_line",
            Error::NotFound(_) => "not_found",
            Error::Locked(_) => "locked",
            Error::Tantivy(_) | Error::OpenDirectory { .. } | Error::Io { .. } | Error::Corrupt { .. } => "internal",
        }
    }
}
