//! CNIPA: parsing the fixture site (written from the fact sheet: JCMS
//! column page with an embedded datastore, dataproxy.jsp page 2, art_
//! detail pages with `table.sls` and ContentStart/ContentEnd).

mod sources_fixtures;
mod support;

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
    let listing = src
        .parse_listing(&page("https://www.cnipa.gov.cn/col/col75/index.html", "cnipa/col/col75/index.html"))
        .unwrap();
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
fn notices_of_the_notice_column_are_final_notices() {
    let out = crawl(&Cnipa::new(&col75_only()), &resolve);
    assert_eq!(out.notices.len(), 4);
    for n in &out.notices {
        assert_eq!(n.doc_type, Some(index::DocType::Notice), "{}", n.title);
        assert_eq!((n.status, n.comment_close), (Some(index::Status::Final), None), "{}", n.title);
    }
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

mod end_to_end {
    use crawler::sources::SourceSettings;
    use crawler::sources::cnipa::Cnipa;

    use crate::sources_fixtures::e2e::{Site, crawl, errors, portable};

    const PAGE2: &str = "/module/web/jpage/dataproxy.jsp?page=2&appid=1&webid=1&path=%2F&columnid=75&unitid=669&webname=%E5%9B%BD%E5%AE%B6%E7%9F%A5%E8%AF%86%E4%BA%A7%E6%9D%83%E5%B1%80&permissiontype=0";

    fn cnipa_site() -> Site {
        let site = Site::start("cnipa", 1);
        site.html("col/col75/index.html");
        site.file(PAGE2, "module/web/jpage/dataproxy.page2.xml", "text/xml; charset=utf-8");
        for d in [
            "art/2020/6/17/art_75_126939.html",
            "art/2020/5/14/art_75_125301.html",
            "art/2020/4/2/art_75_124220.html",
            "art/2020/3/20/art_75_123101.html",
        ] {
            site.html(d);
        }
        site
    }

    fn settings(site: &Site) -> SourceSettings {
        SourceSettings {
            start_urls: vec![site.server.url("/col/col75/index.html").parse().unwrap()],
            ..site.settings()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn crawls_the_fixture_site_into_the_index() {
        let site = cnipa_site();
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl(dir.path(), vec![Box::new(Cnipa::new(&settings(&site)))]).await;
        assert_eq!(errors(&summary, &[&site]), vec![]);
        assert_eq!(summary.new, 4);
        // The real-host link in the first record was followed on the fixture site.
        assert_eq!(site.server.requests_to("/art/2020/6/17/art_75_126939.html").len(), 1);
        insta::assert_yaml_snapshot!(portable(&notices, &[&site]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn recrawl_after_one_new_record_on_page_two_fetches_that_detail_only() {
        let site = cnipa_site();
        let dir = tempfile::tempdir().unwrap();
        let src = || -> Vec<Box<dyn crawler::sources::Source>> { vec![Box::new(Cnipa::new(&settings(&site)))] };
        assert_eq!(crawl(dir.path(), src()).await.0.new, 4);
        let xml = String::from_utf8(site.read("module/web/jpage/dataproxy.page2.xml")).unwrap().replace(
            "<recordset>\n",
            "<recordset>\n<record><![CDATA[\n<li><a href=\"/art/2020/3/25/art_75_123500.html\">关于做好2020年专利审查工作的通知</a><span>2020-03-25</span></li>]]></record>\n",
        );
        site.bytes(PAGE2, xml.into_bytes(), "text/xml; charset=utf-8");
        site.file("/art/2020/3/25/art_75_123500.html", "art/2020/3/20/art_75_123101.html", "text/html; charset=utf-8");
        site.server.clear_log();
        let (second, notices) = crawl(dir.path(), src()).await;
        let mut log = site.log();
        log.sort();
        assert_eq!(
            log,
            [
                "GET /art/2020/3/25/art_75_123500.html".to_string(),
                "GET /col/col75/index.html".into(),
                format!("GET {PAGE2}")
            ]
        );
        assert_eq!(second.new, 1);
        assert_eq!(notices.len(), 5);
    }
}
