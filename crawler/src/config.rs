//! Crawler configuration (the `[crawl]` table of the config file).

use serde::Deserialize;

/// Crawler settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrawlConfig {
    /// User-Agent sent with every request.
    pub user_agent: Option<String>,
}
