//! Fetching: one shared HTTP client, robots.txt, politeness, redirects
//! checked hop by hop, retries with backoff, conditional requests and a
//! body size cap; and, for the hosts whose source's fetch mode allows it,
//! the headless browser ([`crate::browser`]) in its place.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION,
    RETRY_AFTER,
};
use url::Url;

use crate::browser::{self, FetchMode};
use crate::charset;
use crate::config::CrawlConfig;
use crate::error::{Error, Result};
use crate::outcome::BrowserVerdict;
use crate::politeness::Politeness;
use crate::robots::{self, RobotsCache, Rules};
use crate::sources::{Method, Page, PageKind, Request};

/// Largest robots.txt read (RFC 9309 asks for at least 500 KiB).
const MAX_ROBOTS_BYTES: usize = 512 * 1024;

/// Validators of the copy we hold, sent back as `If-None-Match` / `If-Modified-Since`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditional {
    /// ETag of the last 200.
    pub etag: Option<String>,
    /// Last-Modified of the last 200.
    pub last_modified: Option<String>,
}

/// How a fetch ended.
#[derive(Debug)]
pub enum Outcome {
    /// A 2xx page, a 403/412 one, or a 4xx one reached through a redirect
    /// (possibly an anti-bot challenge: the engine asks the source).
    Fetched {
        /// The page, decoded (boxed: it dwarfs the other variants).
        page: Box<Page>,
        /// Its ETag.
        etag: Option<String>,
        /// Its Last-Modified.
        last_modified: Option<String>,
        /// Whether the body was cut at the size cap.
        truncated: bool,
        /// The Content-Length the server declared (the size of an attachment looked at with HEAD).
        length: Option<u64>,
    },
    /// 304: our copy is current.
    NotModified,
    /// robots.txt forbids the URL; nothing was requested.
    Disallowed(String),
    /// Given up.
    Failed {
        /// Last HTTP status, if a response came.
        status: Option<u16>,
        /// Why.
        reason: String,
        /// Whether it is final for this URL (404, 410, a redirect loop) rather
        /// than a fault that may clear (timeouts, 5xx).
        permanent: bool,
    },
}

/// A fetch's outcome and its cost.
#[derive(Debug)]
pub struct Fetch {
    /// How it ended.
    pub outcome: Outcome,
    /// HTTP requests made (retries and redirect hops included).
    pub requests: u32,
    /// Body bytes received.
    pub bytes: u64,
    /// Why a page may be a challenge although its source may use the
    /// browser: the browser's challenge never cleared, or there was none.
    pub browser: Option<BrowserVerdict>,
}

/// The hosts a crawl may visit: named hosts, plus every host of the known
/// agencies being crawled (a CNIPA listing on `sbj.cnipa.gov.cn` may link
/// to `www.cnipa.gov.cn`).
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    hosts: HashSet<String>,
    agencies: Vec<index::Source>,
}

impl AllowedHosts {
    /// From host names (case-insensitive).
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(hosts: I) -> Self {
        let hosts = hosts.into_iter().map(|h| h.as_ref().trim().trim_end_matches('.').to_ascii_lowercase()).collect();
        AllowedHosts { hosts, agencies: Vec::new() }
    }

    /// Adds the host of `url`.
    pub fn add_url(&mut self, url: &Url) {
        if let Some(h) = url.host_str() {
            self.hosts.insert(h.trim_end_matches('.').to_ascii_lowercase());
        }
    }

    /// Allows every host of a known agency (not `Other`).
    pub fn add_agency(&mut self, source: index::Source) {
        if !matches!(source, index::Source::Other(_)) && !self.agencies.contains(&source) {
            self.agencies.push(source);
        }
    }

    /// Whether `url` is http(s) on an allowed host.
    pub fn allows(&self, url: &Url) -> bool {
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        let Some(host) = url.host_str() else { return false };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host)
            || (!self.agencies.is_empty() && self.agencies.contains(&index::Source::from_host(&host)))
    }
}

/// What one HTTP exchange gave.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    truncated: bool,
}

/// The HTTP method actually sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Post,
}

enum Step {
    Redirect(StatusCode, String),
    Done(Outcome),
}

/// The crawl's fetcher, shared by every task.
#[derive(Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    politeness: Politeness,
    robots: RobotsCache,
    allowed: AllowedHosts,
    agent: String,
    max_body: usize,
    max_attachment: usize,
    max_redirects: usize,
    retries: u32,
    backoff_base: Duration,
    backoff_max: Duration,
    max_crawl_delay: Duration,
    /// The plain client's cookies, where the browser's go once it passed a challenge.
    jar: Arc<reqwest::cookie::Jar>,
    /// Which hosts may use the browser (none unless [`Fetcher::with_routes`]).
    routes: browser::Routes,
    /// The crawl's browser (started on first need, killed by
    /// [`Fetcher::shutdown`] or when the fetcher is dropped).
    browser: browser::Browser,
    /// Hosts whose challenge the browser passed (their cookies are in `jar`).
    passed: std::sync::Mutex<HashSet<String>>,
}

impl Fetcher {
    /// Builds the client and gates from the configuration.
    pub fn new(cfg: &CrawlConfig, allowed: AllowedHosts) -> Result<Fetcher> {
        let user_agent = cfg.user_agent();
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .user_agent(&user_agent)
            .connect_timeout(Duration::from_millis(cfg.connect_timeout_ms))
            .read_timeout(Duration::from_millis(cfg.read_timeout_ms))
            .timeout(Duration::from_millis(cfg.request_timeout_ms))
            // Redirects are followed here, hop by hop, so that each hop is
            // checked against the allowed hosts and robots.txt.
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .map_err(|e| Error::Client(error_chain(&e)))?;
        let overrides: HashMap<String, Duration> =
            cfg.host_delay_ms.iter().map(|(h, ms)| (h.to_ascii_lowercase(), Duration::from_millis(*ms))).collect();
        Ok(Fetcher {
            client,
            politeness: Politeness::new(cfg.concurrency_per_host, Duration::from_millis(cfg.delay_ms), overrides),
            robots: RobotsCache::new(Duration::from_secs(cfg.robots_ttl_secs)),
            allowed,
            agent: robots::product_token(&user_agent).to_string(),
            max_body: cfg.max_body_bytes.max(1),
            max_attachment: usize::try_from(cfg.extract.max_bytes).unwrap_or(usize::MAX).max(1),
            max_redirects: cfg.max_redirects,
            retries: cfg.retries,
            backoff_base: Duration::from_millis(cfg.backoff_base_ms),
            backoff_max: Duration::from_millis(cfg.backoff_max_ms),
            max_crawl_delay: Duration::from_secs(cfg.max_crawl_delay_secs),
            jar,
            routes: browser::Routes::default(),
            browser: browser::Browser::new(browser::Settings {
                path: cfg.browser.clone(),
                challenge_timeout: Duration::from_secs(cfg.challenge_timeout_secs.max(1)),
            }),
            passed: std::sync::Mutex::new(HashSet::new()),
        })
    }

    /// Lets the hosts of `routes` use the browser, by their fetch mode.
    pub fn with_routes(mut self, routes: browser::Routes) -> Fetcher {
        self.routes = routes;
        self
    }

    /// Stops the crawl's browser, if one was started (every process of it).
    pub async fn shutdown(&self) {
        self.browser.shutdown().await;
    }

    /// The allowed hosts.
    pub fn allowed(&self) -> &AllowedHosts {
        &self.allowed
    }

    /// Fetches `req` politely, following redirects and retrying faults.
    /// Never fails: every fault ends as an [`Outcome`].
    pub async fn fetch(&self, req: &Request, cond: &Conditional) -> Fetch {
        let mut fetch = Fetch { outcome: Outcome::NotModified, requests: 0, bytes: 0, browser: None };
        let mut url = req.url.clone();
        let mut method = req.method;
        let mut seen = vec![url.clone()];
        loop {
            if !self.allowed.allows(&url) {
                let what = if seen.len() > 1 { "redirect to" } else { "URL" };
                fetch.outcome = failed(None, format!("{what} {url} is outside the hosts this crawl may visit"), true);
                return fetch;
            }
            let rules = self.rules(&url, &mut fetch).await;
            if !rules.allowed(&url) {
                let why = match rules.as_ref() {
                    Rules::DisallowAll(why) => why.clone(),
                    _ => "disallowed by robots.txt".to_string(),
                };
                fetch.outcome = Outcome::Disallowed(format!("{url}: {why}"));
                return fetch;
            }
            match self.attempt(req, &url, method, cond, &mut fetch).await {
                Step::Done(outcome) => {
                    fetch.outcome = outcome;
                    return fetch;
                }
                Step::Redirect(status, location) => {
                    let next = match url.join(&location) {
                        Ok(next) => next,
                        Err(e) => {
                            fetch.outcome =
                                failed(Some(status.as_u16()), format!("bad redirect {location:?}: {e}"), true);
                            return fetch;
                        }
                    };
                    if seen.len() > self.max_redirects || seen.contains(&next) {
                        let n = seen.len();
                        fetch.outcome = failed(
                            Some(status.as_u16()),
                            format!(
                                "redirect loop or more than {} redirects ({n} hops, last to {next})",
                                self.max_redirects
                            ),
                            true,
                        );
                        return fetch;
                    }
                    // 303 always, and 301/302 after a POST by custom, turn into a GET.
                    if status == StatusCode::SEE_OTHER
                        || (method == Method::Post && matches!(status.as_u16(), 301 | 302))
                    {
                        method = Method::Get;
                    }
                    seen.push(next.clone());
                    url = next;
                }
            }
        }
    }

    /// One try at `url` by its host's [`FetchMode`]: plain HTTP (retries
    /// included); the browser first (`browser` mode, a page rather than an
    /// attachment, unless a conditional re-fetch can go plainly with cookies
    /// the browser earned); or the browser after a plain answer the source
    /// calls a challenge. Without a browser the plain answer stands, and
    /// [`Fetch::browser`] says why.
    async fn attempt(&self, req: &Request, url: &Url, method: Method, cond: &Conditional, fetch: &mut Fetch) -> Step {
        let mode = self.routes.mode(url);
        if mode == FetchMode::Http || req.kind == PageKind::Attachment {
            return self.with_retries(req, url, method, cond, fetch).await;
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let passed = self.passed.lock().is_ok_and(|p| p.contains(&host));
        let conditional = cond.etag.is_some() || cond.last_modified.is_some();
        if mode == FetchMode::Browser && !(passed && conditional) {
            match self.through_browser(req, url, method, fetch).await {
                Ok(step) => return step,
                Err(why) => fetch.browser = Some(BrowserVerdict::Unavailable(why)),
            }
        }
        let step = self.with_retries(req, url, method, cond, fetch).await;
        match &step {
            Step::Done(Outcome::Fetched { page, .. }) if self.routes.is_challenge(page) => {
                if let Ok(mut p) = self.passed.lock() {
                    // The cookies stopped working (or there were none): the browser again.
                    p.remove(&host);
                }
                match self.through_browser(req, url, method, fetch).await {
                    Ok(step) => step,
                    Err(why) => {
                        fetch.browser = Some(BrowserVerdict::Unavailable(why));
                        step
                    }
                }
            }
            _ => step,
        }
    }

    /// `req` loaded in the browser, politely (the host's gate and delay, one
    /// tab per host); `Err` says why there is no browser. A GET is a
    /// navigation that waits for the challenge to clear; a POST is sent from
    /// inside a page of the site (its `Referer`, else its origin) so that
    /// the site's scripts sign it. The cookies of a cleared page go to the
    /// plain client.
    async fn through_browser(
        &self,
        req: &Request,
        url: &Url,
        method: Method,
        fetch: &mut Fetch,
    ) -> std::result::Result<Step, String> {
        let instance = self.browser.get().await?;
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let slot = self.browser.tab_slot(&host);
        let mut tab = slot.lock().await;
        let permit = self.politeness.acquire(&host).await;
        fetch.requests += 1;
        let started = std::time::Instant::now();
        let timeout = self.browser.settings().challenge_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let routes = &self.routes;
        let is_challenge = |p: &Page| routes.is_challenge(p);
        let loaded = async {
            if tab.is_none() {
                *tab = Some(browser::Tab::open(&instance.browser).await?);
            }
            let Some(t) = tab.as_ref() else { unreachable!("tab opened above") };
            let loaded = match method {
                Method::Get => t.navigate(url, deadline, &is_challenge).await?,
                Method::Post => {
                    let shell = req
                        .headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("referer"))
                        .and_then(|(_, v)| url.join(v).ok())
                        .unwrap_or_else(|| url.join("/").unwrap_or_else(|_| url.clone()));
                    t.post_in_page(&shell, url, &req.form, deadline, &is_challenge).await?
                }
            };
            if !loaded.still_challenged {
                let cookies = t.cookies(&loaded.page.final_url).await?;
                let n = browser::cookies::harvest(&self.jar, &loaded.page.final_url, &cookies);
                if n > 0
                    && let Ok(mut p) = self.passed.lock()
                {
                    p.insert(host.clone());
                }
            }
            Ok::<_, browser::TabError>(loaded)
        }
        .await;
        drop(permit);
        let outcome = match loaded {
            Ok(loaded) => {
                fetch.bytes += loaded.page.body.len() as u64;
                let ms = started.elapsed().as_millis() as u64;
                tracing::debug!(%url, status = loaded.page.status, ms, challenged = loaded.still_challenged, "browser");
                if loaded.still_challenged {
                    fetch.browser = Some(BrowserVerdict::NotCleared { waited_secs: timeout.as_secs() });
                }
                if !self.allowed.allows(&loaded.page.final_url) {
                    let why = format!(
                        "the browser ended on {}, outside the hosts this crawl may visit",
                        loaded.page.final_url
                    );
                    failed(None, why, true)
                } else {
                    let mut page = loaded.page;
                    page.url = req.url.clone();
                    Outcome::Fetched {
                        page: Box::new(page),
                        etag: loaded.etag,
                        last_modified: loaded.last_modified,
                        truncated: false,
                        length: None,
                    }
                }
            }
            Err(e) => {
                if matches!(e, browser::TabError::Cdp(_)) {
                    // A broken tab is not reused; a dead browser is noticed by the next `get`.
                    *tab = None;
                }
                failed(None, e.to_string(), false)
            }
        };
        Ok(Step::Done(outcome))
    }

    /// The robots rules of `url`'s origin, fetching them when stale.
    async fn rules(&self, url: &Url, fetch: &mut Fetch) -> Arc<Rules> {
        let slot = self.robots.slot(url);
        let mut entry = slot.lock().await;
        if let Some(rules) = self.robots.fresh(&entry) {
            return rules;
        }
        let rules = Arc::new(self.fetch_robots(url, fetch).await);
        if let (Some(delay), Some(host)) = (rules.crawl_delay(), url.host_str()) {
            self.politeness.at_least(host, delay.min(self.max_crawl_delay));
        }
        *entry = Some((tokio::time::Instant::now(), rules.clone()));
        rules
    }

    async fn fetch_robots(&self, url: &Url, fetch: &mut Fetch) -> Rules {
        let Some(mut robots_url) = robots::robots_url(url) else { return Rules::AllowAll };
        for _ in 0..=self.max_redirects {
            let host = robots_url.host_str().unwrap_or_default().to_string();
            let permit = self.politeness.acquire(&host).await;
            fetch.requests += 1;
            let raw = self.send(&robots_url, Verb::Get, &[], &[], &Conditional::default(), MAX_ROBOTS_BYTES).await;
            drop(permit);
            let raw = match raw {
                Ok(raw) => raw,
                Err(e) => {
                    tracing::warn!(url = %robots_url, error = %error_chain(&e), "robots.txt unreachable");
                    return Rules::from_response(&self.agent, None, b"");
                }
            };
            fetch.bytes += raw.body.len() as u64;
            if raw.status.is_redirection()
                && let Some(next) = location(&raw.headers).and_then(|l| robots_url.join(&l).ok())
                && self.allowed.allows(&next)
            {
                robots_url = next;
                continue;
            }
            tracing::debug!(url = %robots_url, status = raw.status.as_u16(), "robots.txt");
            return Rules::from_response(&self.agent, Some(raw.status.as_u16()), &raw.body);
        }
        Rules::AllowAll
    }

    async fn with_retries(
        &self,
        req: &Request,
        url: &Url,
        method: Method,
        cond: &Conditional,
        fetch: &mut Fetch,
    ) -> Step {
        let host = url.host_str().unwrap_or_default().to_string();
        let mut attempt = 0u32;
        loop {
            let permit = self.politeness.acquire(&host).await;
            fetch.requests += 1;
            let started = std::time::Instant::now();
            let verb = match method {
                Method::Post => Verb::Post,
                Method::Get => Verb::Get,
            };
            // An attachment is read up to the extraction's size cap, a page up to the body cap.
            let cap = if req.kind == PageKind::Attachment { self.max_attachment } else { self.max_body };
            let result = self.send(url, verb, &req.form, &req.headers, cond, cap).await;
            drop(permit);
            let (status, reason, retry_after) = match result {
                Ok(raw) => {
                    fetch.bytes += raw.body.len() as u64;
                    let status = raw.status;
                    tracing::debug!(%url, status = status.as_u16(), bytes = raw.body.len(), ms = started.elapsed().as_millis() as u64, "fetched");
                    if matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
                        return match location(&raw.headers) {
                            Some(loc) => Step::Redirect(status, loc),
                            None => Step::Done(failed(Some(status.as_u16()), "redirect without Location".into(), true)),
                        };
                    }
                    if status == StatusCode::NOT_MODIFIED {
                        return Step::Done(Outcome::NotModified);
                    }
                    let code = status.as_u16();
                    // 403 and 412 come back as pages too: they are how anti-bot
                    // walls answer, and only the source can tell one (`is_challenge`).
                    // So does any 4xx at the end of a redirect: FDA's bot wall
                    // redirects to an apology page that may itself answer 404,
                    // which must not read as the asked page being gone.
                    let redirected = url != &req.url && status.is_client_error() && !matches!(code, 408 | 429);
                    if status.is_success() || matches!(code, 403 | 412) || redirected {
                        return Step::Done(self.page(req, url, raw));
                    }
                    if !(code == 408 || code == 429 || status.is_server_error()) {
                        let gone = matches!(code, 404 | 410);
                        let reason = if gone { format!("HTTP {code} (gone)") } else { format!("HTTP {code}") };
                        return Step::Done(failed(Some(code), reason, true));
                    }
                    (Some(code), format!("HTTP {code}"), retry_after(&raw.headers))
                }
                Err(e) => {
                    let chain = error_chain(&e);
                    let kind = if e.is_timeout() {
                        "timeout"
                    } else if e.is_connect() {
                        "connection failed"
                    } else if e.is_body() || e.is_decode() {
                        "body cut short"
                    } else if chain.contains("reset") {
                        "connection reset"
                    } else {
                        "request failed"
                    };
                    tracing::debug!(%url, error = %chain, "fetch error");
                    (None, format!("{kind}: {chain}"), None)
                }
            };
            if attempt >= self.retries {
                let n = attempt + 1;
                return Step::Done(failed(status, format!("{reason} (gave up after {n} attempts)"), false));
            }
            let wait = match retry_after {
                // A wait longer than we would ever back off is honoured by
                // not asking again in this run, rather than by stalling it.
                Some(wait) if wait > self.backoff_max => {
                    self.politeness.defer(&host, self.backoff_max);
                    let secs = wait.as_secs();
                    return Step::Done(failed(
                        status,
                        format!("{reason}, Retry-After {secs} s: not asked again this run"),
                        false,
                    ));
                }
                Some(wait) => wait,
                None => self.backoff(attempt),
            };
            tracing::info!(%url, attempt, wait_ms = wait.as_millis() as u64, reason = %reason, "retrying");
            // The whole host waits, not only this URL: a 429 or 5xx is about the server.
            self.politeness.defer(&host, wait);
            attempt += 1;
        }
    }

    /// Exponential backoff with "equal jitter": half fixed, half random.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.backoff_base.saturating_mul(1u32 << attempt.min(16)).min(self.backoff_max);
        let half = exp / 2;
        half + half.mul_f64(rand::rng().random_range(0.0..=1.0))
    }

    fn page(&self, req: &Request, url: &Url, raw: Raw) -> Outcome {
        let content_type = raw.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let header = |name| {
            raw.headers.get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_string)
        };
        let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
        let length = header(CONTENT_LENGTH).and_then(|l| l.trim().parse::<u64>().ok());
        let texty = content_type.as_deref().is_none_or(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("text/") || ct.contains("html") || ct.contains("xml") || ct.contains("json")
        });
        let text = if texty && req.kind != PageKind::Attachment {
            charset::decode(&raw.body, content_type.as_deref()).text
        } else {
            String::new()
        };
        let page = Page {
            url: req.url.clone(),
            final_url: url.clone(),
            status: raw.status.as_u16(),
            content_type,
            body: raw.body,
            text,
        };
        Outcome::Fetched { page: Box::new(page), etag, last_modified, truncated: raw.truncated, length }
    }

    /// One HTTP exchange, reading at most `cap` body bytes.
    async fn send(
        &self,
        url: &Url,
        verb: Verb,
        form: &[(String, String)],
        headers: &[(String, String)],
        cond: &Conditional,
        cap: usize,
    ) -> std::result::Result<Raw, reqwest::Error> {
        let mut rb = match verb {
            Verb::Get => self.client.get(url.clone()),
            Verb::Post => self.client.post(url.clone()).form(form),
        };
        for (name, value) in headers {
            rb = rb.header(name.as_str(), value.as_str());
        }
        if let Some(etag) = &cond.etag {
            rb = rb.header(IF_NONE_MATCH, etag.as_str());
        }
        if let Some(lm) = &cond.last_modified {
            rb = rb.header(IF_MODIFIED_SINCE, lm.as_str());
        }
        let mut resp = rb.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let mut body = Vec::with_capacity(declared.unwrap_or(0).min(cap));
        // A body declared larger than the cap is not downloaded at all: the
        // bytes would be thrown away.
        let mut truncated = declared.is_some_and(|d| d > cap);
        while !truncated && let Some(chunk) = resp.chunk().await? {
            let room = cap - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Raw { status, headers, body, truncated })
    }
}

fn failed(status: Option<u16>, reason: String, permanent: bool) -> Outcome {
    Outcome::Failed { status, reason, permanent }
}

fn location(headers: &HeaderMap) -> Option<String> {
    headers.get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// An error and its causes on one line (reqwest's own message is terse).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(25) && d <= Duration::from_secs(30), "{d:?}");
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn allowed_hosts_check_scheme_and_host() {
        let a = AllowedHosts::new(["WWW.FDA.gov"]);
        assert!(a.allows(&Url::parse("https://www.fda.gov/x").unwrap()));
        assert!(!a.allows(&Url::parse("ftp://www.fda.gov/x").unwrap()));
        assert!(!a.allows(&Url::parse("https://evil.example/x").unwrap()));
        let mut a = AllowedHosts::default();
        a.add_agency(index::Source::Cnipa);
        a.add_agency(index::Source::Other("x.cn".into()));
        assert!(a.allows(&Url::parse("https://www.cnipa.gov.cn/art/1.html").unwrap()));
        assert!(!a.allows(&Url::parse("https://x.cn/").unwrap()));
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let cfg = CrawlConfig { backoff_base_ms: 100, backoff_max_ms: 1000, ..CrawlConfig::default() };
        let f = Fetcher::new(&cfg, AllowedHosts::default()).unwrap();
        for attempt in 0..8 {
            let d = f.backoff(attempt);
            let full = Duration::from_millis((100u64 << attempt).min(1000));
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }
}
