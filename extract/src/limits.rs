//! The caps one extraction runs under, and the deadline that carries the
//! time cap through the readers.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::Format;

/// Caps on one extraction. Part of the crawler's configuration (serde, every
/// field optional with the defaults below).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest attachment read, in bytes (default 50 MiB).
    pub max_bytes: u64,
    /// Time cap per attachment, in seconds (default 30).
    pub max_seconds: u64,
    /// Total bytes all zip members of one attachment may unpack to, nested
    /// archives and OOXML parts included (default 200 MiB).
    pub max_unzipped_bytes: u64,
    /// Total zip members one attachment may have, nested included (default 1000).
    pub max_zip_entries: u64,
    /// Deepest nesting of archives in archives (default 3).
    pub max_depth: u32,
    /// Longest text kept per attachment, in bytes of UTF-8; longer text is
    /// cut at a character boundary and marked truncated (default 8 MiB).
    pub max_text_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 50 << 20,
            max_seconds: 30,
            max_unzipped_bytes: 200 << 20,
            max_zip_entries: 1000,
            max_depth: 3,
            max_text_bytes: 8 << 20,
        }
    }
}

impl Limits {
    /// The time cap as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.max_seconds)
    }
}

/// The instant an extraction must be done by. Child processes are killed at
/// it; in-process readers check it between units of work.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    pub(crate) fn starting_now(limits: &Limits) -> Self {
        let limit = limits.timeout();
        let now = Instant::now();
        Deadline {
            // A cap too large for the clock means no cap in practice.
            at: now.checked_add(limit).unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400)),
            limit,
        }
    }

    /// Time left, zero when past.
    pub(crate) fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// The timeout error, for `format`.
    pub(crate) fn error(&self, format: Format) -> Error {
        Error::Timeout { format, limit: self.limit }
    }

    /// Fails once the deadline has passed.
    pub(crate) fn check(&self, format: Format) -> Result<()> {
        if Instant::now() >= self.at { Err(self.error(format)) } else { Ok(()) }
    }
}

/// What is left of the unzipped-bytes and zip-entries caps for one
/// attachment, shared by every archive nested in it.
#[derive(Debug)]
pub(crate) struct Budget {
    pub(crate) unzipped_left: u64,
    pub(crate) entries_left: u64,
}

impl Budget {
    pub(crate) fn new(limits: &Limits) -> Self {
        Budget { unzipped_left: limits.max_unzipped_bytes, entries_left: limits.max_zip_entries }
    }
}
