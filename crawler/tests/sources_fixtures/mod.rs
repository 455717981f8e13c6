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

fn upsert(list: &mut Vec<Notice>, n: Notice) {
    match list.iter_mut().find(|o| o.id == n.id) {
        Some(o) => *o = n,
        None => list.push(n),
    }
}
