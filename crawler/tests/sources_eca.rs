//! ECA: parsing the fixture site (written from the fact sheet, which has
//! no ECA markup at all: a latest-news list paged by `page_a32`, articles
//! at `gmp-news/<slug>` with a Recommendation box and Related GMP News,
//! the public RSS feed, a 403).

mod sources_fixtures;
mod support;

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
fn articles_are_news_even_about_warning_letters() {
    let out = crawl(&Eca::new(&SourceSettings::default()), &resolve);
    assert!(out.notices.iter().any(|n| n.title.contains("Warning Letter")));
    for n in &out.notices {
        // A report on a warning letter or a draft is news, with no status of its own.
        assert_eq!((n.doc_type, n.status, n.comment_close), (Some(index::DocType::News), None, None), "{}", n.title);
    }
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

mod end_to_end {
    use crawler::sources::Source;
    use crawler::sources::eca::Eca;

    use crate::sources_fixtures::e2e::{Site, crawl, errors, portable};

    const ARTICLES: [&str; 5] = [
        "gmp-news/audit-trail-in-the-centre-of-an-fda-warning-letter",
        "gmp-news/missing-audit-trail-review-led-to-warning-letter",
        "gmp-news/press-announcement/new-gdp-certification-scheme",
        "gmp-news/fda-warning-letter-due-to-not-functioning-hplc-audit-trail",
        "gmp-news/new-eca-mission-published",
    ];

    /// The ECA site (news list, feed and articles on one fixture host);
    /// `list_forbidden` answers the news list with 403.
    fn eca_site(list_forbidden: bool) -> Site {
        let site = Site::start("eca", 1);
        if list_forbidden {
            site.status("/gmp-news/latest-gmp-news", "forbidden-403.html", 403);
        } else {
            site.html("gmp-news/latest-gmp-news");
            site.file(
                "/gmp-news/latest-gmp-news?page_a32=2",
                "gmp-news/latest-gmp-news.page_a32=2",
                "text/html; charset=utf-8",
            );
        }
        site.file("/eca_newsfeed.xml", "eca_newsfeed.xml", "application/rss+xml; charset=utf-8");
        for a in ARTICLES {
            site.html(a);
        }
        site
    }

    fn eca(site: &Site) -> Vec<Box<dyn Source>> {
        vec![Box::new(Eca::new(&site.settings()))]
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn crawls_the_list_and_the_feed_into_the_index() {
        let site = eca_site(false);
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl(dir.path(), eca(&site)).await;
        assert_eq!(errors(&summary, &[&site]), vec![]);
        assert_eq!(notices.len(), 5);
        // Each article fetched once though both the list and the feed link it.
        for a in ARTICLES {
            assert_eq!(site.server.requests_to(&format!("/{a}")).len(), 1, "{a}");
        }
        insta::assert_yaml_snapshot!(portable(&notices, &[&site]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_403_list_is_reported_blocked_and_the_feed_goes_on() {
        let site = eca_site(true);
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl(dir.path(), eca(&site)).await;
        let errs = errors(&summary, &[&site]);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].0, "http://fixture/gmp-news/latest-gmp-news");
        assert!(errs[0].1.contains("challenge"), "{errs:?}");
        // The three articles of the feed, nothing from the 403 page.
        assert_eq!(notices.len(), 3);
        assert!(notices.iter().all(|n| n.title != "Forbidden"));
    }
}
