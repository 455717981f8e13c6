//! Crawler configuration (the `[crawl]` table of the config file).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::browser::FetchMode;
use crate::sources::SourceSettings;

/// Where the crawler says who it is, unless configured otherwise. A
/// placeholder (reserved domain): deployments set `contact_url` to a page
/// where a webmaster can reach the operator.
pub const DEFAULT_CONTACT_URL: &str = "https://notices.example.org/crawler";

/// Crawler settings. Every field has a default fit for real government
/// sites; tests lower the delay and the timeouts.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrawlConfig {
    /// User-Agent sent with every request (default: `notices/<version> (+<contact_url>)`).
    pub user_agent: Option<String>,
    /// The URL named in the default User-Agent, where a webmaster can reach us.
    pub contact_url: String,
    /// Minimum delay between two requests to one host, in milliseconds.
    pub delay_ms: u64,
    /// Per-host delays overriding `delay_ms` (host name → milliseconds).
    pub host_delay_ms: BTreeMap<String, u64>,
    /// Largest robots.txt `Crawl-delay` honoured, in seconds (a larger one is cut to this).
    pub max_crawl_delay_secs: u64,
    /// Requests in flight to one host at once.
    pub concurrency_per_host: usize,
    /// TCP/TLS connect timeout, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Longest wait for the next bytes of a response, in milliseconds.
    pub read_timeout_ms: u64,
    /// Longest time for one whole request, in milliseconds.
    pub request_timeout_ms: u64,
    /// Bodies larger than this are cut here and recorded as oversized.
    pub max_body_bytes: usize,
    /// Redirects followed before a URL is given up.
    pub max_redirects: usize,
    /// Retries after a timeout, a connection error, a 429 or a 5xx.
    pub retries: u32,
    /// First retry delay in milliseconds (doubled each retry, with jitter).
    pub backoff_base_ms: u64,
    /// Longest retry delay (also the cap on `Retry-After`), in milliseconds.
    pub backoff_max_ms: u64,
    /// How long a fetched robots.txt is trusted, in seconds.
    pub robots_ttl_secs: u64,
    /// First revisit interval of a detail page, in seconds; it then doubles
    /// while the page stays the same and halves when it changes (between 6 h
    /// and 30 days by default, see `revisit_min_secs`, `revisit_max_secs` and
    /// [`crate::revisit`]). 0: every run. Listings are
    /// fetched every run regardless.
    pub recheck_secs: u64,
    /// Shortest revisit interval of a detail page that keeps changing, in seconds.
    pub revisit_min_secs: u64,
    /// Longest revisit interval of a detail page that never changes, in seconds.
    pub revisit_max_secs: u64,
    /// Runs in a row a detail page must answer 404/410 before its notice is
    /// marked withdrawn (kept and flagged, hidden from searches by default).
    pub gone_after: u32,
    /// Notices written to the index between two commits.
    pub commit_every: usize,
    /// Stop after this many fetched pages (none: no limit).
    pub max_pages: Option<usize>,
    /// Download the attachments notices link (on the crawl's hosts), read
    /// their text and index it with the notice. Each is one more request to
    /// the agency, made under the same politeness, robots.txt and
    /// conditional re-fetch as pages; an unchanged file is neither
    /// downloaded nor read again.
    pub fetch_attachments: bool,
    /// Caps on reading one attachment: size (`max_bytes`, also the download
    /// cap), time, unzipped bytes, zip members, nesting, text kept.
    pub extract: extract::Limits,
    /// Disk kept for downloaded attachments (their bytes and what was read of
    /// them, under `attachments/` in the data directory), in MiB, so that a
    /// better extractor can read them again without downloading
    /// (`notices reextract`). The oldest go first; 0 keeps none.
    pub attachment_cache_mb: u64,
    /// Hosts the crawl may visit besides those of the sources' start URLs.
    pub allowed_hosts: Vec<String>,
    /// Per-source settings, keyed by source name (`cnipa`, `cde`, `nmpa`, `fda`, `eca`).
    pub sources: BTreeMap<String, SourceSettings>,
    /// The fetch mode of every source, overriding each source's `fetch`
    /// (`notices crawl --fetch` sets it for one run); see [`crate::browser`].
    pub fetch: Option<FetchMode>,
    /// Longest wait, in seconds, for a JavaScript challenge to clear in the
    /// browser; a page still challenged then is recorded as blocked.
    pub challenge_timeout_secs: u64,
    /// The headless browser for `browser` and `auto` sources: a path or a
    /// command on `PATH` (default: the first of
    /// [`crate::browser::CANDIDATES`] on `PATH`). Not read from the
    /// `[crawl]` table: the binary sets it from its one `browser` setting
    /// (`NOTICES_BROWSER`, else the config file's top-level `browser`).
    #[serde(skip)]
    pub browser: Option<PathBuf>,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        CrawlConfig {
            user_agent: None,
            contact_url: DEFAULT_CONTACT_URL.to_string(),
            delay_ms: 1000,
            host_delay_ms: BTreeMap::new(),
            max_crawl_delay_secs: 60,
            concurrency_per_host: 1,
            connect_timeout_ms: 10_000,
            read_timeout_ms: 30_000,
            request_timeout_ms: 120_000,
            max_body_bytes: 20 * 1024 * 1024,
            max_redirects: 5,
            retries: 3,
            backoff_base_ms: 1000,
            backoff_max_ms: 120_000,
            robots_ttl_secs: 24 * 3600,
            recheck_secs: 24 * 3600,
            revisit_min_secs: 6 * 3600,
            revisit_max_secs: 30 * 86_400,
            gone_after: 3,
            commit_every: 50,
            max_pages: None,
            fetch_attachments: true,
            extract: extract::Limits::default(),
            attachment_cache_mb: 1024,
            allowed_hosts: Vec::new(),
            sources: BTreeMap::new(),
            fetch: None,
            challenge_timeout_secs: 30,
            browser: None,
        }
    }
}

impl CrawlConfig {
    /// Settings for tests against a loopback server: no delay, short
    /// timeouts, quick retries.
    pub fn for_tests() -> Self {
        CrawlConfig {
            delay_ms: 0,
            connect_timeout_ms: 1000,
            read_timeout_ms: 1000,
            request_timeout_ms: 5000,
            backoff_base_ms: 20,
            backoff_max_ms: 2000,
            recheck_secs: 0,
            // Tests of pages link files their fixture sites do not serve;
            // the attachment tests turn this on.
            fetch_attachments: false,
            ..CrawlConfig::default()
        }
    }

    /// The User-Agent header: the configured one, else one naming the
    /// project and the contact URL.
    pub fn user_agent(&self) -> String {
        match &self.user_agent {
            Some(ua) if !ua.trim().is_empty() => ua.trim().to_string(),
            _ => format!("notices/{} (+{})", env!("CARGO_PKG_VERSION"), self.contact_url),
        }
    }

    /// The revisit policy: first interval `recheck_secs`, bounds
    /// `revisit_min_secs`..`revisit_max_secs` (widened to include it), withdrawn
    /// after `gone_after` gone answers (at least 1).
    pub fn policy(&self) -> crate::revisit::Policy {
        let secs = |s: u64| chrono::Duration::seconds(s.min(i64::MAX as u64 / 1000) as i64);
        let initial = secs(self.recheck_secs);
        let (min, max) = (secs(self.revisit_min_secs), secs(self.revisit_max_secs));
        crate::revisit::Policy {
            initial,
            min: min.min(initial),
            max: max.max(initial).max(min),
            gone_after: self.gone_after.max(1),
        }
    }

    /// The politeness delay of a host.
    pub fn delay_for(&self, host: &str) -> Duration {
        Duration::from_millis(*self.host_delay_ms.get(host).unwrap_or(&self.delay_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_polite_and_toml_overrides_them() {
        let d = CrawlConfig::default();
        assert_eq!(d.delay_ms, 1000);
        assert_eq!(d.concurrency_per_host, 1);
        assert!(d.user_agent().contains(DEFAULT_CONTACT_URL));
        let c: CrawlConfig =
            serde_json::from_str(r#"{"delay_ms": 0, "host_delay_ms": {"www.fda.gov": 5000}, "user_agent": "x/1"}"#)
                .unwrap();
        assert_eq!(c.delay_for("www.fda.gov"), Duration::from_secs(5));
        assert_eq!(c.delay_for("a.cn"), Duration::ZERO);
        assert_eq!(c.user_agent(), "x/1");
        assert_eq!(c.retries, 3, "unset fields keep their defaults");
    }

    #[test]
    fn the_revisit_policy_comes_from_the_config() {
        let d = CrawlConfig::default().policy();
        assert_eq!(d, crate::revisit::Policy::default());
        let c: CrawlConfig = serde_json::from_str(
            r#"{"recheck_secs": 10, "revisit_min_secs": 5, "revisit_max_secs": 40, "gone_after": 2}"#,
        )
        .unwrap();
        let p = c.policy();
        assert_eq!((p.initial.num_seconds(), p.min.num_seconds(), p.max.num_seconds()), (10, 5, 40));
        assert!(p.is_withdrawn(2) && !p.is_withdrawn(1));
        let zero = CrawlConfig { gone_after: 0, revisit_max_secs: 0, ..CrawlConfig::default() }.policy();
        assert_eq!(zero.gone_after, 1, "a page is never withdrawn before it answered gone once");
        assert!(zero.max >= zero.initial);
    }
}
