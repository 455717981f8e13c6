//! Offline helpers for the source tests: fixture files as [`Page`]s, and a
//! crawl of a fixture site without the network (the engine-driven,
//! loopback end-to-end tests live beside these).
#![allow(dead_code)]

use std::path::PathBuf;

use crawler::sources::{DetailRef, Page, Request, Source};
use index::Notice;
use url::Url;

/// Path of a fixture file.
pub fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// A fixture file served at `url` with `status`.
pub fn page_with_status(url: &str, rel: &str, status: u16) -> Page {
    let body = std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"));
    let url = Url::parse(url).unwrap();
    Page {
        url: url.clone(),
        final_url: url,
        status,
        content_type: None,
        text: String::from_utf8_lossy(&body).into_owned(),
        body,
    }
}

/// A fixture file served at `url` with status 200.
pub fn page(url: &str, rel: &str) -> Page {
    page_with_status(url, rel, 200)
}

/// What an offline crawl saw.
#[derive(Debug, Default)]
pub struct Crawl {
    /// Notices from listings and details, in order (a detail replaces its
    /// listing notice of the same id).
    pub notices: Vec<Notice>,
    /// Requests made (state keys), in order.
    pub requests: Vec<String>,
}

/// Crawls a fixture site: `resolve` maps a request to its fixture file
/// (`None`: not found). Listings first, breadth-first, then details.
pub fn crawl(source: &dyn Source, resolve: &dyn Fn(&Request) -> Option<String>) -> Crawl {
    let mut out = Crawl::default();
    let mut queue: Vec<Request> = source.start_requests();
    let mut details: Vec<DetailRef> = Vec::new();
    while !queue.is_empty() {
        let req = queue.remove(0);
        out.requests.push(req.state_key());
        let rel = resolve(&req).unwrap_or_else(|| panic!("no fixture for {}", req.state_key()));
        let page = page(req.url.as_str(), &rel);
        assert!(!source.is_challenge(&page), "{} is not a challenge", req.url);
        let listing = source.parse_listing(&page).unwrap_or_else(|e| panic!("{}: {e}", req.url));
        for n in listing.notices {
            upsert(&mut out.notices, n);
        }
        details.extend(listing.details);
        queue.extend(listing.next);
    }
    for d in details {
        if out.requests.contains(&d.request.state_key()) {
            continue;
        }
        out.requests.push(d.request.state_key());
        let rel = resolve(&d.request).unwrap_or_else(|| panic!("no fixture for {}", d.request.url));
        let page = page(d.request.url.as_str(), &rel);
        assert!(!source.is_challenge(&page), "{} is not a challenge", d.request.url);
        let notice = source.parse_detail(&page, &d).unwrap_or_else(|e| panic!("{}: {e}", d.request.url));
        notice.validate().unwrap();
        upsert(&mut out.notices, notice);
    }
    out
}

/// As the index re-indexes: a detail replaces its listing notice, keeping
/// what only the listing knew (FDA's comment close date).
fn upsert(list: &mut Vec<Notice>, mut n: Notice) {
    match list.iter_mut().find(|o| o.id == n.id) {
        Some(o) => {
            n.inherit_classification(o);
            *o = n
        }
        None => list.push(n),
    }
}

/// End-to-end helpers: a fixture site served over loopback by the shared
/// fixture server, crawled by the real engine into a temp index.
pub mod e2e {
    use std::path::Path;

    use crawler::config::CrawlConfig;
    use crawler::engine::{Engine, Summary};
    use crawler::sources::{Source, SourceSettings};
    use crawler::store::NoticeStore;
    use index::{Notice, NoticeIndex};

    use super::fixture;
    use crate::support::{FixtureServer, Response};

    /// A fixture site on its own loopback address.
    pub struct Site {
        /// The server.
        pub server: FixtureServer,
        /// The fixture directory under `tests/fixtures`.
        pub dir: &'static str,
    }

    impl Site {
        /// A site for fixture directory `dir`, on 127.0.0.`n`.
        pub fn start(dir: &'static str, n: u8) -> Site {
            Site { server: FixtureServer::start_on(&format!("127.0.0.{n}")), dir }
        }

        /// Serves fixture file `rel` (under the site's directory) at `route`
        /// (path and query) with `content_type`, status 200 and validators.
        pub fn file(&self, route: &str, rel: &str, content_type: &str) {
            self.server.route(route, Response::bytes(content_type, self.read(rel)));
        }

        /// Serves `body` at `route` with `content_type`, status 200 and validators.
        pub fn bytes(&self, route: &str, body: Vec<u8>, content_type: &str) {
            self.server.route(route, Response::bytes(content_type, body));
        }

        /// The bytes of fixture file `rel`.
        pub fn read(&self, rel: &str) -> Vec<u8> {
            let path = fixture(&format!("{}/{rel}", self.dir));
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        }

        /// Serves `rel` as HTML at its own path.
        pub fn html(&self, rel: &str) {
            self.file(&format!("/{rel}"), rel, "text/html; charset=utf-8");
        }

        /// Serves `rel` with `status` at `route` (a challenge page).
        pub fn status(&self, route: &str, rel: &str, status: u16) {
            self.server.route(route, Response::new(status, "text/html; charset=utf-8", self.read(rel)));
        }

        /// Serves `rel` for a POST to `path` with exactly this form.
        pub fn post(&self, path: &str, form: &[(String, String)], rel: &str, content_type: &str) {
            let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
            self.file(&format!("POST {path} {body}"), rel, content_type);
        }

        /// Settings pointing a source at this site.
        pub fn settings(&self) -> SourceSettings {
            SourceSettings { base_url: Some(self.server.base().parse().unwrap()), ..Default::default() }
        }

        /// The requests the site received, as `METHOD path[ body]`, robots.txt left out.
        pub fn log(&self) -> Vec<String> {
            self.server
                .requests()
                .into_iter()
                .filter(|l| l.path != "/robots.txt")
                .map(|l| {
                    if l.body.is_empty() {
                        format!("{} {}", l.method, l.path)
                    } else {
                        format!("{} {} {}", l.method, l.path, String::from_utf8_lossy(&l.body))
                    }
                })
                .collect()
        }
    }

    /// Test settings: no delay, and details left alone for an hour once
    /// fetched (so a re-crawl shows what the listings alone cause).
    /// Plain HTTP only (`fetch = "http"`): these tests show what the sources
    /// make of pages and challenges; the browser has its own (`challenges.rs`).
    pub fn config() -> CrawlConfig {
        CrawlConfig {
            retries: 0,
            recheck_secs: 3600,
            max_crawl_delay_secs: 0,
            fetch: Some(crawler::browser::FetchMode::Http),
            ..CrawlConfig::for_tests()
        }
    }

    /// Crawls `sources` into the index and state under `dir`.
    pub async fn crawl(dir: &Path, sources: Vec<Box<dyn Source>>) -> (Summary, Vec<Notice>) {
        crawl_with(dir, config(), sources).await
    }

    /// [`crawl`] with these settings.
    pub async fn crawl_with(dir: &Path, cfg: CrawlConfig, sources: Vec<Box<dyn Source>>) -> (Summary, Vec<Notice>) {
        let summary = Engine::new(cfg, sources, NoticeStore::open(dir).unwrap()).run().await.unwrap();
        let index = NoticeIndex::open_or_create(&dir.join("index")).unwrap();
        index.reload().unwrap();
        let mut notices = index.all().unwrap();
        notices.sort_by(|a, b| a.url.cmp(&b.url));
        (summary, notices)
    }

    /// Notices with the fixture origin written `http://fixture` and the
    /// fields that vary between runs (ids hash the port; times) left out,
    /// for snapshots. Every crawled notice must have been stamped by the
    /// store: first seen, and fetched (asserted here, for every source).
    pub fn portable(notices: &[Notice], sites: &[&Site]) -> Vec<Notice> {
        let fix =
            |s: &str| sites.iter().fold(s.to_string(), |acc, site| acc.replace(&site.server.base(), "http://fixture"));
        notices
            .iter()
            .cloned()
            .map(|mut n| {
                n.id = String::new();
                n.url = n.url.as_deref().map(fix);
                for a in &mut n.attachments {
                    a.url = fix(&a.url);
                }
                assert!(n.fetched_at.is_some() && n.first_seen.is_some(), "not stamped by the store: {:?}", n.url);
                Notice { fetched_at: None, first_seen: None, ..n }
            })
            .collect()
    }

    /// The error reasons of a crawl, with the fixture origins written `http://fixture`.
    pub fn errors(summary: &Summary, sites: &[&Site]) -> Vec<(String, String)> {
        summary
            .errors
            .iter()
            .map(|e| {
                let fix = |s: &str| {
                    sites.iter().fold(s.to_string(), |acc, site| acc.replace(&site.server.base(), "http://fixture"))
                };
                (fix(&e.url), fix(&e.reason))
            })
            .collect()
    }
}
