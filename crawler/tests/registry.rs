//! Adding a source is one new file and one registry line: an RSS-feed
//! source, written here as a sixth source would be written in
//! `crawler/src/sources/`, registered with one line and crawled end to end
//! through the library's crawl API over loopback.

mod support;

use std::collections::BTreeMap;

use crawler::config::CrawlConfig;
use crawler::crawl::{CrawlPlan, crawl};
use crawler::sources::{DetailRef, Listing, Page, PageKind, Registry, Request, Source, SourceDef, SourceSettings};
use index::{Notice, NoticeIndex};
use support::{FixtureServer, Response};
use url::Url;

/// A source that reads an RSS 2.0 feed: every item is a notice at once.
struct RssFeed {
    starts: Vec<Url>,
}

impl RssFeed {
    fn new(settings: &SourceSettings) -> RssFeed {
        RssFeed { starts: settings.start_urls.clone() }
    }
}

/// The text between `<tag>` and `</tag>` in `item`.
fn field<'a>(item: &'a str, tag: &str) -> Option<&'a str> {
    let start = item.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + item[start..].find(&format!("</{tag}>"))?;
    Some(item[start..end].trim())
}

impl Source for RssFeed {
    fn id(&self) -> index::Source {
        let host = self.starts.first().and_then(|u| u.host_str()).unwrap_or("feed");
        index::Source::Other(host.to_string())
    }
    fn start_requests(&self) -> Vec<Request> {
        self.starts.iter().map(|u| Request::get(u.clone(), PageKind::Listing)).collect()
    }
    fn parse_listing(&self, page: &Page) -> crawler::Result<Listing> {
        let mut listing = Listing::default();
        for item in page.text.split("<item>").skip(1) {
            let (Some(title), Some(link)) = (field(item, "title"), field(item, "link")) else { continue };
            let body = field(item, "description").unwrap_or_default();
            let mut notice = Notice::crawled(self.id(), link, title, body);
            notice.published = field(item, "pubDate").and_then(crawler::date::feed);
            listing.notices.push(notice);
        }
        Ok(listing)
    }
    fn parse_detail(&self, page: &Page, _listed: &DetailRef) -> crawler::Result<Notice> {
        Err(crawler::Error::Parse { url: page.url.to_string(), reason: "a feed has no detail pages".into() })
    }
}

const FEED: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>省药监局</title>
<item><title>关于开展药品安全专项检查的通知</title><link>http://127.0.0.1/notice/1.html</link>
<description>各有关单位：现开展药品安全专项检查。</description><pubDate>Thu, 14 May 2020 08:00:00 +0800</pubDate></item>
<item><title>关于公布第二批药品抽检结果的公告</title><link>http://127.0.0.1/notice/2.html</link>
<description>现将第二批药品抽检结果予以公告。</description><pubDate>Fri, 15 May 2020 08:00:00 +0800</pubDate></item>
</channel></rss>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_extra_source_is_crawled_end_to_end() {
    let site = FixtureServer::start();
    site.route("/feed.xml", Response::bytes("application/rss+xml", FEED.as_bytes().to_vec()));
    // The one registry line.
    let registry = Registry::builtin().with(SourceDef { name: "feed", build: |s| Box::new(RssFeed::new(s)) });
    assert!(registry.names().contains(&"feed"));
    assert!(registry.describe().iter().any(|s| s.name == "feed" && s.name_zh.is_none()));

    let dir = tempfile::tempdir().unwrap();
    let settings = SourceSettings { start_urls: vec![site.url("/feed.xml").parse().unwrap()], ..Default::default() };
    let config = CrawlConfig { sources: BTreeMap::from([("feed".to_string(), settings)]), ..CrawlConfig::for_tests() };
    let plan = CrawlPlan { config, sources: vec!["FEED".into()], registry, ..CrawlPlan::new(dir.path()) };
    let summary = crawl(&plan, None).await.unwrap();
    let label = index::Source::Other(site.url("/").parse::<Url>().unwrap().host_str().unwrap().to_string()).label();
    assert_eq!((summary.new, summary.sources[&label].new), (2, 2), "{summary:?}");
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);

    let index = NoticeIndex::open_or_create(&dir.path().join("index")).unwrap();
    let notices = index.all().unwrap();
    assert_eq!(notices.len(), 2);
    assert!(notices.iter().all(|n| n.fetched_at.is_some() && n.first_seen.is_some()), "stamped by the store");
    assert!(notices.iter().any(|n| n.published == chrono::NaiveDate::from_ymd_opt(2020, 5, 15)));
    let stats = index.stats().unwrap();
    assert_eq!(stats.by_source[&label], 2);
    assert!(stats.last_crawl.is_some());

    // Crawled again, nothing is new and the summary's JSON has the report's keys.
    let again = crawl(&plan, None).await.unwrap();
    let json = serde_json::to_value(&again).unwrap();
    for key in ["resumed", "pages", "not_modified", "new", "changed", "unchanged", "errors", "sources", "seconds"] {
        assert!(json.get(key).is_some(), "{key} missing: {json}");
    }
    assert_eq!(json["new"], 0);
}
