//! Crawler configuration (the `[crawl]` table of the config file).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::sources::SourceSettings;

/// Crawler settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrawlConfig {
    /// User-Agent sent with every request.
    pub user_agent: Option<String>,
    /// Per-source settings, keyed by source name (`cnipa`, `cde`, `nmpa`, `fda`, `eca`).
    pub sources: BTreeMap<String, SourceSettings>,
}
