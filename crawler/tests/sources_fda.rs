//! FDA: parsing the guidance feed (its first four rows are real bytes from
//! `shared/real-pages/fda/`, the two 2020 COVID-19 rows are written in their
//! image) and the guidance pages (written from the fact sheet).

mod sources_fixtures;

use crawler::sources::fda::Fda;
use crawler::sources::{Page, Request, Source, SourceSettings};
use sources_fixtures::{crawl, page};

const FEED: &str = "https://www.fda.gov/files/api/datatables/static/search-for-guidance.json";

fn resolve(req: &Request) -> Option<String> {
    Some(format!("fda/{}", req.url.path().trim_start_matches('/')))
}

#[test]
fn feed_rows_are_notices_at_once_with_a_change_marker() {
    let src = Fda::new(&SourceSettings::default());
    let l = src.parse_listing(&page(FEED, "fda/files/api/datatables/static/search-for-guidance.json")).unwrap();
    assert_eq!(l.notices.len(), 6);
    assert_eq!(l.details.len(), 6);
    assert!(l.next.is_empty());
    let changed: Vec<Option<&str>> = l.details.iter().map(|d| d.changed.as_deref()).collect();
    assert_eq!(changed[3], Some("2025-03-10T15:42:19-04:00"));
    assert!(changed.iter().all(Option::is_some));
    insta::assert_yaml_snapshot!(l.notices);
}

#[test]
fn fixture_site_crawls_offline_into_notices() {
    let src = Fda::new(&SourceSettings::default());
    let out = crawl(&src, &resolve);
    assert_eq!(out.notices.len(), 6);
    let covid = out.notices.iter().find(|n| n.title.starts_with("COVID-19 Public Health Emergency")).unwrap();
    assert_eq!(covid.doc_numbers, ["FDA-2020-D-1136"]);
    insta::assert_yaml_snapshot!(out.notices);
}

#[test]
fn apology_redirect_is_a_challenge_not_a_page() {
    let src = Fda::new(&SourceSettings::default());
    let mut p: Page = page(FEED, "fda/apology_objects/abuse-detection-apology.html");
    p.final_url = "https://www.fda.gov/apology_objects/abuse-detection-apology.html".parse().unwrap();
    p.status = 404;
    assert!(src.is_challenge(&p));
    assert!(src.parse_listing(&p).is_err());
}
