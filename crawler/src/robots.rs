//! robots.txt rules per origin (parsed by `texting_robots`), cached with a
//! time to live. Fetching is the fetcher's job; this module decides what a
//! robots.txt response means (RFC 9309): 2xx gives its rules, any other 4xx
//! allows everything, a 5xx or an unreachable server disallows everything
//! for now.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use texting_robots::Robot;
use tokio::time::Instant;
use url::Url;

/// What a site's robots.txt allows.
#[derive(Debug)]
pub enum Rules {
    /// No robots.txt (404 and the like): everything allowed.
    AllowAll,
    /// robots.txt unreachable (5xx, timeout): nothing allowed until it can be read.
    DisallowAll(String),
    /// Parsed rules for our agent.
    Parsed(Robot),
}

impl Rules {
    /// Interprets a robots.txt response for the agent `agent` (its product
    /// token, e.g. `notices`). `status` is `None` when the request failed.
    pub fn from_response(agent: &str, status: Option<u16>, body: &[u8]) -> Rules {
        match status {
            Some(200..=299) => match Robot::new(agent, body) {
                Ok(robot) => Rules::Parsed(robot),
                // An unparsable file says nothing we can follow.
                Err(_) => Rules::AllowAll,
            },
            Some(400..=499) => Rules::AllowAll,
            Some(s) => Rules::DisallowAll(format!("robots.txt answered HTTP {s}")),
            None => Rules::DisallowAll("robots.txt unreachable".into()),
        }
    }

    /// Whether `url` may be fetched. robots.txt itself always may.
    pub fn allowed(&self, url: &Url) -> bool {
        if url.path() == "/robots.txt" {
            return true;
        }
        match self {
            Rules::AllowAll => true,
            Rules::DisallowAll(_) => false,
            Rules::Parsed(robot) => robot.allowed(url.as_str()),
        }
    }

    /// The `Crawl-delay` for our agent.
    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            Rules::Parsed(Robot { delay: Some(d), .. }) if d.is_finite() && *d > 0.0 => {
                Some(Duration::from_secs_f32(d.min(86_400.0)))
            }
            _ => None,
        }
    }
}

/// A cached entry: the rules and when they were fetched.
pub type Entry = Option<(Instant, Arc<Rules>)>;

/// Per-origin robots rules, each refreshed after the TTL. Each origin has
/// its own async lock so that robots.txt is fetched once even when several
/// requests to the host start together.
#[derive(Debug)]
pub struct RobotsCache {
    ttl: Duration,
    origins: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Entry>>>>,
}

impl RobotsCache {
    /// An empty cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        RobotsCache { ttl, origins: Mutex::new(HashMap::new()) }
    }

    /// The slot of `url`'s origin; lock it, check [`RobotsCache::fresh`],
    /// fetch when stale, and store.
    pub fn slot(&self, url: &Url) -> Arc<tokio::sync::Mutex<Entry>> {
        let origin = url.origin().ascii_serialization();
        let mut origins = self.origins.lock().unwrap_or_else(|e| e.into_inner());
        origins.entry(origin).or_default().clone()
    }

    /// The cached rules if still fresh.
    pub fn fresh(&self, entry: &Entry) -> Option<Arc<Rules>> {
        match entry {
            Some((at, rules)) if at.elapsed() < self.ttl => Some(rules.clone()),
            _ => None,
        }
    }
}

/// The robots.txt URL of `url`'s origin.
pub fn robots_url(url: &Url) -> Option<Url> {
    url.join("/robots.txt").ok()
}

/// The product token of a User-Agent (`notices/0.1 (+...)` → `notices`),
/// the name robots.txt groups are matched against.
pub fn product_token(user_agent: &str) -> &str {
    user_agent.split(['/', ' ']).next().filter(|t| !t.is_empty()).unwrap_or("*")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FDA: &str = include_str!("../tests/fixtures/fda/robots.www.fda.gov.2020-10-10.txt");

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn real_fda_robots_txt() {
        let rules = Rules::from_response("notices", Some(200), FDA.as_bytes());
        assert_eq!(rules.crawl_delay(), Some(Duration::from_secs(30)));
        assert!(rules.allowed(&u(
            "https://www.fda.gov/regulatory-information/search-fda-guidance-documents/covid-19-developing-drugs"
        )));
        assert!(!rules.allowed(&u("https://www.fda.gov/search/site/covid")));
        assert!(!rules.allowed(&u("https://www.fda.gov/node/12345")));
        assert!(rules.allowed(&u("https://www.fda.gov/robots.txt")));
        // Other agents' groups are not ours: usasearch has a 2 s delay, vspider is shut out.
        let usa = Rules::from_response("usasearch", Some(200), FDA.as_bytes());
        assert_eq!(usa.crawl_delay(), Some(Duration::from_secs(2)));
        let v = Rules::from_response("vspider", Some(200), FDA.as_bytes());
        assert!(!v.allowed(&u("https://www.fda.gov/regulatory-information")));
    }

    #[test]
    fn statuses_follow_rfc_9309() {
        assert!(Rules::from_response("notices", Some(404), b"").allowed(&u("http://a.cn/x")));
        assert!(!Rules::from_response("notices", Some(503), b"").allowed(&u("http://a.cn/x")));
        assert!(!Rules::from_response("notices", None, b"").allowed(&u("http://a.cn/x")));
        let r = Rules::from_response(
            "notices",
            Some(200),
            b"User-agent: notices\nDisallow: /private\n\nUser-agent: *\nDisallow: /",
        );
        assert!(r.allowed(&u("http://a.cn/public")));
        assert!(!r.allowed(&u("http://a.cn/private/1")));
        let garbage = Rules::from_response("notices", Some(200), &[0xff, 0x00, 0xfe, b'\n', b':']);
        assert!(garbage.allowed(&u("http://a.cn/")));
    }

    #[test]
    fn product_token_and_ttl() {
        assert_eq!(product_token("notices/0.1 (+https://x)"), "notices");
        assert_eq!(product_token(""), "*");
        let cache = RobotsCache::new(Duration::ZERO);
        let entry: Entry = Some((Instant::now(), Arc::new(Rules::AllowAll)));
        assert!(cache.fresh(&entry).is_none(), "a zero TTL is never fresh");
        let cache = RobotsCache::new(Duration::from_secs(60));
        assert!(cache.fresh(&entry).is_some());
        assert!(Arc::ptr_eq(&cache.slot(&u("http://a.cn/x")), &cache.slot(&u("http://a.cn/y"))));
    }
}
