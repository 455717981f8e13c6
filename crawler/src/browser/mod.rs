//! The headless browser: found once for every use ([`discover`]), used to
//! print digests to PDF ([`pdf`]), and, for the sites that answer scripts
//! with JavaScript challenges (NMPA's 412 cookie challenge, CDE's 202 page
//! and its list endpoints whose requests the site's own scripts sign), as a
//! fetcher the crawl can use per source.
//!
//! # Crate
//!
//! Chromium is driven over the DevTools protocol with `chromiumoxide`
//! (0.9): it is tokio-native like the rest of the crawler (no second
//! runtime or blocking threads, unlike `headless_chrome`'s synchronous
//! API), is maintained, and without default features pulls no downloader,
//! zip or TLS stack (the browser is the system's; the websocket is
//! loopback). Its generated protocol crate is large, so the workspace builds
//! it without optimisation in dev. The process itself is started and
//! killed here ([`launch`]), not by chromiumoxide, so that the crawl owns
//! its lifetime.
//!
//! # Modes
//!
//! Each source has a [`FetchMode`] (`[crawl.sources.<name>] fetch = …`,
//! `notices crawl --fetch` for one run): `http` never starts a browser;
//! `auto` (NMPA's and CDE's default) fetches plainly and turns to the
//! browser for a page the source calls a challenge; `browser` loads HTML
//! pages in the browser from the start. Once the browser has passed a
//! challenge, its cookies go into the plain client's jar ([`cookies`]), so
//! attachments and conditional re-fetches stay plain requests while the
//! cookies work; a challenge seen again sends the page back to the browser.
//!
//! # Lifetime
//!
//! One browser per crawl, started on first need ([`Browser::get`]), one tab
//! per host (so one page at a time per host, on top of the politeness
//! gate). It is killed, its whole process group, by [`Browser::shutdown`],
//! which the engine calls on every way out of a crawl: its end, a stop
//! (Ctrl-C, SIGTERM), an error; dropping the fetcher does it too. A crash
//! of the browser ends its pages as errors and the crawl goes on without it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::config::CrawlConfig;
use crate::sources::{Page, Source};

pub mod cookies;
pub mod discover;
pub mod intercept;
pub mod launch;
pub mod pdf;
pub mod tab;

pub use discover::{CANDIDATES, INSTALL_HINT, NotFound, find, locate};
pub use launch::{Instance, LaunchError};
pub use pdf::print_to_pdf;
pub use tab::{Loaded, Tab, TabError};

/// How a source's pages are fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FetchMode {
    /// Plain HTTP only; a challenge is reported blocked, with a hint.
    Http,
    /// HTML pages through the browser.
    Browser,
    /// Plain HTTP, the browser for a page that answers with a challenge.
    Auto,
}

impl FetchMode {
    /// The mode of a source that has none configured: `auto` for the sites
    /// known to answer scripts with challenges (NMPA, CDE), else `http`.
    pub fn default_for(source: &str) -> FetchMode {
        match source.to_ascii_lowercase().as_str() {
            "nmpa" | "cde" => FetchMode::Auto,
            _ => FetchMode::Http,
        }
    }
}

impl std::str::FromStr for FetchMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "http" => Ok(FetchMode::Http),
            "browser" => Ok(FetchMode::Browser),
            "auto" => Ok(FetchMode::Auto),
            other => Err(format!("unknown fetch mode {other:?}: use http, browser or auto")),
        }
    }
}

impl std::fmt::Display for FetchMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FetchMode::Http => "http",
            FetchMode::Browser => "browser",
            FetchMode::Auto => "auto",
        })
    }
}

/// A host's mode and the source that tells its challenges from its pages.
#[derive(Clone)]
struct Route {
    mode: FetchMode,
    source: Arc<dyn Source>,
}

/// Which hosts may use the browser, and how each one's challenge looks.
#[derive(Clone, Default)]
pub struct Routes {
    hosts: HashMap<String, Route>,
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let modes: HashMap<&String, FetchMode> = self.hosts.iter().map(|(h, r)| (h, r.mode)).collect();
        f.debug_struct("Routes").field("hosts", &modes).finish()
    }
}

impl Routes {
    /// The routes of a crawl's `sources` under `cfg`: each one's hosts
    /// (those of its start requests, so a fixture's address too) get its
    /// mode, `cfg.fetch` overriding every source's; a source's mode is its
    /// `fetch` setting under `[crawl.sources.<name>]`, else
    /// [`FetchMode::default_for`] its name.
    pub fn new(sources: &[Arc<dyn Source>], cfg: &CrawlConfig) -> Routes {
        let mut hosts = HashMap::new();
        for source in sources {
            let name = source.id().label().to_ascii_lowercase();
            let configured = cfg.sources.get(&name).and_then(|s| s.fetch);
            let mode = cfg.fetch.or(configured).unwrap_or_else(|| FetchMode::default_for(&name));
            if mode == FetchMode::Http {
                continue;
            }
            for req in source.start_requests() {
                hosts.insert(origin_key(&req.url), Route { mode, source: source.clone() });
            }
        }
        Routes { hosts }
    }

    /// The mode of `url`'s host (`http` for hosts no source routes).
    pub fn mode(&self, url: &Url) -> FetchMode {
        self.hosts.get(&origin_key(url)).map_or(FetchMode::Http, |r| r.mode)
    }

    /// Whether `page` is a challenge, by the source of its host.
    pub fn is_challenge(&self, page: &Page) -> bool {
        self.hosts.get(&origin_key(&page.url)).is_some_and(|r| r.source.is_challenge(page))
    }

    /// Whether any host may use the browser.
    pub fn any(&self) -> bool {
        !self.hosts.is_empty()
    }
}

/// Host and port of `url`: two fixture sites on one loopback address are two sites.
fn origin_key(url: &Url) -> String {
    format!("{}:{}", url.host_str().unwrap_or_default().to_ascii_lowercase(), url.port_or_known_default().unwrap_or(0))
}

/// Browser settings from the crawl configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The executable, if configured (else found on PATH, see [`locate`]).
    pub path: Option<PathBuf>,
    /// Longest wait for a page's challenge to clear.
    pub challenge_timeout: Duration,
}

enum State {
    NotStarted,
    Running(Arc<Instance>),
    Unavailable(String),
}

/// The crawl's browser: found and started on first use, once; stopped
/// (killed with its process group) when dropped.
pub struct Browser {
    settings: Settings,
    state: tokio::sync::Mutex<State>,
    tabs: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Tab>>>>>,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser").field("settings", &self.settings).finish()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let State::Running(i) = self.state.get_mut() {
            i.kill();
        }
    }
}

impl Browser {
    /// A browser not started yet.
    pub fn new(settings: Settings) -> Browser {
        Browser {
            settings,
            state: tokio::sync::Mutex::new(State::NotStarted),
            tabs: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The running browser, started now if this is the first call. `Err`
    /// says why there is none (missing, would not start, crashed earlier);
    /// the reason is logged once, as a warning.
    pub async fn get(&self) -> Result<Arc<Instance>, String> {
        let mut state = self.state.lock().await;
        match &*state {
            State::Running(i) if !i.is_gone() => return Ok(i.clone()),
            State::Running(i) => {
                let why = format!(
                    "the browser (pid {}) crashed or was killed; the rest of this crawl goes on with plain HTTP",
                    i.pid()
                );
                tracing::error!("{why}");
                // What is left of it (renderers, zygotes) goes now, not at the end of the crawl.
                i.kill();
                *state = State::Unavailable(why.clone());
                self.close_tabs();
                return Err(why);
            }
            State::Unavailable(why) => return Err(why.clone()),
            State::NotStarted => {}
        }
        let started = match locate(self.settings.path.as_deref()) {
            Ok(path) => Instance::start(&path).await,
            Err(e) => Err(e.into()),
        };
        match started {
            Ok(i) => {
                let i = Arc::new(i);
                *state = State::Running(i.clone());
                Ok(i)
            }
            Err(e) => {
                let why = e.to_string();
                tracing::warn!("{why}; pages that need a browser are fetched with plain HTTP");
                *state = State::Unavailable(why.clone());
                Err(why)
            }
        }
    }

    /// The tab slot of `host` (one tab per host: its lock is held for a whole page).
    pub fn tab_slot(&self, host: &str) -> Arc<tokio::sync::Mutex<Option<Tab>>> {
        let mut tabs = self.tabs.lock().unwrap_or_else(|p| p.into_inner());
        tabs.entry(host.to_string()).or_default().clone()
    }

    /// Stops the browser if one runs (every process of it) and closes its
    /// tabs; pages asked for later are not loaded in a browser.
    pub async fn shutdown(&self) {
        self.close_tabs();
        let mut state = self.state.lock().await;
        if let State::Running(i) = &*state {
            i.kill();
        }
        *state = State::Unavailable("the crawl is over".into());
    }

    fn close_tabs(&self) {
        self.tabs.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The pid of the running browser, if one runs (for tests and benchmarks).
    pub fn pid(&self) -> Option<u32> {
        match &*self.state.try_lock().ok()? {
            State::Running(i) => Some(i.pid()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::sources::{Registry, SourceSettings};

    #[test]
    fn modes_parse_and_nmpa_and_cde_default_to_auto() {
        assert_eq!(" Browser ".parse::<FetchMode>(), Ok(FetchMode::Browser));
        assert!("firefox".parse::<FetchMode>().unwrap_err().contains("http, browser or auto"));
        let s: SourceSettings = serde_json::from_str(r#"{"fetch": "auto"}"#).unwrap();
        assert_eq!(s.fetch, Some(FetchMode::Auto));
        assert_eq!(
            ["nmpa", "cde", "fda", "cnipa", "eca"].map(FetchMode::default_for),
            [FetchMode::Auto, FetchMode::Auto, FetchMode::Http, FetchMode::Http, FetchMode::Http]
        );
    }

    #[test]
    fn routes_give_each_host_its_sources_mode_and_the_run_overrides_them() {
        let settings = |base: &str, fetch: Option<FetchMode>| SourceSettings {
            base_url: Some(base.parse().unwrap()),
            fetch,
            ..Default::default()
        };
        let sources = BTreeMap::from([
            ("nmpa".to_string(), settings("http://127.0.0.1:1001", None)),
            ("cde".to_string(), settings("http://127.0.0.1:1002", Some(FetchMode::Browser))),
            ("fda".to_string(), settings("http://127.0.0.1:1003", None)),
        ]);
        let mut cfg = CrawlConfig { sources, ..CrawlConfig::default() };
        let sources: Vec<Arc<dyn Source>> =
            Registry::builtin().enabled(&cfg.sources).into_iter().map(Arc::from).collect();
        let url = |port: u16| Url::parse(&format!("http://127.0.0.1:{port}/x")).unwrap();
        let routes = Routes::new(&sources, &cfg);
        assert_eq!(
            [1001, 1002, 1003].map(|p| routes.mode(&url(p))),
            [FetchMode::Auto, FetchMode::Browser, FetchMode::Http]
        );
        cfg.fetch = Some(FetchMode::Http);
        assert!(!Routes::new(&sources, &cfg).any(), "--fetch http: no host may use the browser");
    }
}
