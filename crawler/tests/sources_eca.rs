//! ECA: parsing the fixture site (written from the fact sheet, which has
//! no ECA markup at all: a latest-news list paged by `page_a32`, articles
//! at `gmp-news/<slug>` with a Recommendation box and Related GMP News,
//! the public RSS feed, a 403).

mod sources_fixtures;

use crawler::sources::eca::Eca;
use crawler::sources::{Request, Source, SourceSettings};
use sources_fixtures::{crawl, page, page_with_status};

fn resolve(req: &Request) -> Option<String> {
    let path = req.url.path().trim_start_matches('/');
    Some(match req.url.query() {
        Some(q) => format!("eca/{path}.{q}"),
        None => format!("eca/{path}"),
    })
}

#[test]
fn fixture_site_crawls_offline_into_notices() {
    let src = Eca::new(&SourceSettings::default());
    let out = crawl(&src, &resolve);
    // 4 articles from the list pages, 1 more from the feed; the feed's
    // training link is not a news article.
    assert_eq!(out.notices.len(), 5);
    insta::assert_yaml_snapshot!(out.requests);
    insta::assert_yaml_snapshot!(out.notices);
}

#[test]
fn list_follows_its_own_next_link_and_reads_item_dates() {
    let src = Eca::new(&SourceSettings::default());
    let url = "https://www.gmp-compliance.org/gmp-news/latest-gmp-news";
    let l = src.parse_listing(&page(url, "eca/gmp-news/latest-gmp-news")).unwrap();
    assert_eq!(l.details.len(), 3);
    assert_eq!(l.details[0].title.as_deref(), Some("Audit Trail in the Centre of an FDA Warning Letter"));
    assert_eq!(l.details[0].date, chrono::NaiveDate::from_ymd_opt(2020, 5, 13));
    assert_eq!(l.next.len(), 1);
    assert_eq!(l.next[0].url.as_str(), "https://www.gmp-compliance.org/gmp-news/latest-gmp-news?page_a32=2");
    let last = src.parse_listing(&page(l.next[0].url.as_str(), "eca/gmp-news/latest-gmp-news.page_a32=2")).unwrap();
    assert_eq!(last.details.len(), 1);
    assert!(last.next.is_empty(), "the previous-page link is not followed");
    let capped = Eca::new(&SourceSettings { max_pages: Some(1), ..Default::default() });
    assert!(capped.parse_listing(&page(url, "eca/gmp-news/latest-gmp-news")).unwrap().next.is_empty());
}

#[test]
fn a_403_is_a_block() {
    let src = Eca::new(&SourceSettings::default());
    let url = "https://www.gmp-compliance.org/gmp-news/latest-gmp-news";
    assert!(src.is_challenge(&page_with_status(url, "eca/forbidden-403.html", 403)));
    assert!(!src.is_challenge(&page(url, "eca/gmp-news/latest-gmp-news")));
}
