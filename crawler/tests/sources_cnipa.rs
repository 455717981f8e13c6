//! CNIPA: parsing the fixture site (written from the fact sheet: JCMS
//! column page with an embedded datastore, dataproxy.jsp page 2, art_
//! detail pages with `table.sls` and ContentStart/ContentEnd).

mod sources_fixtures;

use crawler::sources::cnipa::Cnipa;
use crawler::sources::{Method, Request, Source, SourceSettings};
use sources_fixtures::{crawl, page};

/// Maps a CNIPA request to its fixture file.
fn resolve(req: &Request) -> Option<String> {
    let path = req.url.path().trim_start_matches('/');
    if path == "module/web/jpage/dataproxy.jsp" {
        let n = req.url.query_pairs().find(|(k, _)| k == "page")?.1.into_owned();
        return Some(format!("cnipa/module/web/jpage/dataproxy.page{n}.xml"));
    }
    Some(format!("cnipa/{path}"))
}

fn col75_only() -> SourceSettings {
    SourceSettings {
        start_urls: vec!["https://www.cnipa.gov.cn/col/col75/index.html".parse().unwrap()],
        ..Default::default()
    }
}

#[test]
fn column_page_gives_records_and_the_dataproxy_page() {
    let src = Cnipa::new(&SourceSettings::default());
    let listing =
        src.parse_listing(&page("https://www.cnipa.gov.cn/col/col75/index.html", "cnipa/col/col75/index.html")).unwrap();
    let refs: Vec<(String, Option<String>, Option<chrono::NaiveDate>)> =
        listing.details.iter().map(|d| (d.request.url.to_string(), d.title.clone(), d.date)).collect();
    insta::assert_yaml_snapshot!(refs);
    assert_eq!(listing.next.len(), 1);
    let next = &listing.next[0];
    assert_eq!(next.method, Method::Get);
    let q: std::collections::BTreeMap<String, String> = next.url.query_pairs().into_owned().collect();
    assert_eq!(q["page"], "2");
    assert_eq!(q["unitid"], "669");
    assert_eq!(q["columnid"], "75");
    assert_eq!(q["webname"], "国家知识产权局");
}

#[test]
fn fixture_site_crawls_offline_into_notices() {
    let src = Cnipa::new(&col75_only());
    let out = crawl(&src, &resolve);
    assert_eq!(out.notices.len(), 4);
    insta::assert_yaml_snapshot!(out.requests);
    insta::assert_yaml_snapshot!(out.notices);
}

#[test]
fn cookie_is_sent_on_every_request() {
    let settings = SourceSettings { cookie: Some("a=1".into()), ..col75_only() };
    let src = Cnipa::new(&settings);
    let start = &src.start_requests()[0];
    assert!(start.headers.contains(&("Cookie".into(), "a=1".into())));
    let listing = src.parse_listing(&page(start.url.as_str(), "cnipa/col/col75/index.html")).unwrap();
    for r in listing.details.iter().map(|d| &d.request).chain(&listing.next) {
        assert!(r.headers.contains(&("Cookie".into(), "a=1".into())), "{}", r.url);
    }
}
