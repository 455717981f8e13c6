//! CDE: parsing the fixture site (written from the fact sheet: JSON POST
//! list endpoints with `YYYYMMDD` dates, server-rendered news and 指导原则
//! detail pages, the 202 challenge page).

mod sources_fixtures;

use crawler::sources::cde::Cde;
use crawler::sources::{DetailRef, Method, PageKind, Request, Source, SourceSettings};
use sources_fixtures::{crawl, page, page_with_status};

/// Maps a CDE request to its fixture file: POST lists by endpoint and
/// `pageNum`, 指导原则 details by `zdyzIdCODE`.
fn resolve(req: &Request) -> Option<String> {
    let path = req.url.path().trim_start_matches('/');
    if req.method == Method::Post {
        let n = &req.form.iter().find(|(k, _)| k == "pageNum")?.1;
        return Some(format!("cde/{path}/page{n}.json"));
    }
    if path == "zdyz/domesticinfopage" {
        let id = req.url.query_pairs().find(|(k, _)| k == "zdyzIdCODE")?.1.into_owned();
        return Some(format!("cde/zdyz/domesticinfopage/{id}.html"));
    }
    Some(format!("cde/{path}"))
}

#[test]
fn fixture_site_crawls_offline_into_notices() {
    let src = Cde::new(&SourceSettings::default());
    let out = crawl(&src, &resolve);
    // 4 news (the NMPA link is another site's notice) + 2 指导原则.
    assert_eq!(out.notices.len(), 6);
    insta::assert_yaml_snapshot!(out.requests);
    insta::assert_yaml_snapshot!(out.notices);
}

#[test]
fn second_page_is_the_same_endpoint_with_the_next_page_number() {
    let src = Cde::new(&SourceSettings { max_pages: Some(2), ..Default::default() });
    let url = "https://www.cde.org.cn/main/news/getList";
    let l = src.parse_listing(&page(url, "cde/main/news/getList/page1.json")).unwrap();
    assert_eq!(l.details.len(), 3);
    assert_eq!(l.next.len(), 1);
    assert_eq!(l.next[0].url.as_str(), url);
    assert!(l.next[0].form.contains(&("pageNum".into(), "2".into())));
    assert!(l.next[0].form.contains(&("classId".into(), "545cf855a50574699b46b26bcb165f32".into())));
    let capped = Cde::new(&SourceSettings { max_pages: Some(1), ..Default::default() });
    assert!(capped.parse_listing(&page(url, "cde/main/news/getList/page1.json")).unwrap().next.is_empty());
}

#[test]
fn the_202_page_is_a_challenge_wherever_it_is_served() {
    let src = Cde::new(&SourceSettings::default());
    for url in ["https://www.cde.org.cn/main/news/getList", "https://www.cde.org.cn/main/news/viewInfoCommon/ab"] {
        assert!(src.is_challenge(&page_with_status(url, "cde/challenge-202.html", 202)), "{url}");
        assert!(src.is_challenge(&page_with_status(url, "cde/challenge-202.html", 200)), "{url}");
    }
    let url = "https://www.cde.org.cn/main/news/viewInfoCommon/2f8ad5c3e0b14a7f9b6c1d2e3f405162";
    assert!(!src.is_challenge(&page(url, "cde/main/news/viewInfoCommon/2f8ad5c3e0b14a7f9b6c1d2e3f405162")));
    assert!(src.parse_listing(&page("https://www.cde.org.cn/main/news/getList", "cde/challenge-202.html")).is_err());
    let listed = DetailRef {
        request: Request::get(url.parse().unwrap(), PageKind::Detail),
        title: None,
        date: None,
        changed: None,
    };
    assert!(src.parse_detail(&page(url, "cde/challenge-202.html"), &listed).is_err());
}
