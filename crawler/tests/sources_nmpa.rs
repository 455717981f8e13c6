//! NMPA: parsing the fixture site (written from the fact sheet: static
//! `.list ul li` listings, 17-digit detail pages with PubDate/ArticleTitle
//! metas and injected Ruishu head scripts, the 412 challenge page).

mod sources_fixtures;

use crawler::sources::nmpa::Nmpa;
use crawler::sources::{DetailRef, PageKind, Request, Source, SourceSettings};
use sources_fixtures::{crawl, page, page_with_status};

fn resolve(req: &Request) -> Option<String> {
    Some(format!("nmpa/{}", req.url.path().trim_start_matches('/')))
}

fn ggtg_only() -> SourceSettings {
    SourceSettings {
        start_urls: vec!["https://www.nmpa.gov.cn/xxgk/ggtg/index.html".parse().unwrap()],
        ..Default::default()
    }
}

#[test]
fn fixture_site_crawls_offline_into_notices() {
    let src = Nmpa::new(&ggtg_only());
    let out = crawl(&src, &resolve);
    assert_eq!(out.notices.len(), 3, "the WeChat item is not an NMPA page");
    insta::assert_yaml_snapshot!(out.requests);
    insta::assert_yaml_snapshot!(out.notices);
}

#[test]
fn listing_prefers_the_title_attribute_and_strips_date_parentheses() {
    let src = Nmpa::new(&SourceSettings::default());
    let l = src.parse_listing(&page("https://www.nmpa.gov.cn/xxgk/ggtg/index.html", "nmpa/xxgk/ggtg/index.html")).unwrap();
    assert_eq!(l.details.len(), 2);
    assert_eq!(
        l.details[1].title.as_deref(),
        Some("国家药监局关于发布医疗器械拓展性临床试验管理规定（试行）的公告（2020年第41号）")
    );
    assert_eq!(l.details[1].date, chrono::NaiveDate::from_ymd_opt(2020, 5, 12));
    assert_eq!(l.next[0].url.as_str(), "https://www.nmpa.gov.cn/xxgk/ggtg/index_1.html");
    let last =
        src.parse_listing(&page("https://www.nmpa.gov.cn/xxgk/ggtg/index_1.html", "nmpa/xxgk/ggtg/index_1.html")).unwrap();
    assert!(last.next.is_empty());
}

#[test]
fn the_412_page_is_a_challenge_and_real_pages_are_not() {
    let src = Nmpa::new(&SourceSettings::default());
    let url = "https://www.nmpa.gov.cn/xxgk/ggtg/index.html";
    assert!(src.is_challenge(&page_with_status(url, "nmpa/challenge-412.html", 412)));
    // Served with 200 (as some clients see it), the tiny page is still one.
    assert!(src.is_challenge(&page_with_status(url, "nmpa/challenge-412.html", 200)));
    assert!(!src.is_challenge(&page(url, "nmpa/xxgk/ggtg/index.html")));
    let detail = "https://www.nmpa.gov.cn/xxgk/ggtg/qtggtg/20200514170101220.html";
    assert!(!src.is_challenge(&page(detail, "nmpa/xxgk/ggtg/qtggtg/20200514170101220.html")));
    // Parsing a challenge as a detail never yields a notice.
    let listed = DetailRef {
        request: Request::get(detail.parse().unwrap(), PageKind::Detail),
        title: None,
        date: None,
        changed: None,
    };
    assert!(src.parse_detail(&page_with_status(detail, "nmpa/challenge-412.html", 412), &listed).is_err());
}
