//! NMPA: parsing the fixture site (written from the fact sheet: static
//! `.list ul li` listings, 17-digit detail pages with PubDate/ArticleTitle
//! metas and injected Ruishu head scripts, the 412 challenge page).

mod sources_fixtures;
mod support;

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
fn type_status_and_comment_close_from_the_title_and_column() {
    use index::{DocType, Status};
    let out = crawl(&Nmpa::new(&ggtg_only()), &resolve);
    for n in &out.notices {
        let want = if n.title.contains("的通告") { DocType::Circular } else { DocType::Announcement };
        assert_eq!((n.doc_type, n.status, n.comment_close), (Some(want), Some(Status::Final), None), "{}", n.title);
    }
    // A 征求意见 page: draft by its column and title, typed by the document
    // it quotes (…办法), with the deadline of its "请于…前将意见反馈".
    let src = Nmpa::new(&SourceSettings::default());
    let url = "https://www.nmpa.gov.cn/xxgk/zhqyj/zhqyjyp/20200601170512345.html";
    let listed = DetailRef {
        request: Request::get(url.parse().unwrap(), PageKind::Detail),
        title: None,
        date: None,
        changed: None,
    };
    let n = src.parse_detail(&page(url, "nmpa/xxgk/zhqyj/zhqyjyp/20200601170512345.html"), &listed).unwrap();
    assert_eq!(n.doc_type, Some(DocType::Regulation));
    assert_eq!(n.status, Some(Status::Draft));
    assert_eq!(n.comment_close, chrono::NaiveDate::from_ymd_opt(2020, 6, 30));
}

#[test]
fn listing_prefers_the_title_attribute_and_strips_date_parentheses() {
    let src = Nmpa::new(&SourceSettings::default());
    let l =
        src.parse_listing(&page("https://www.nmpa.gov.cn/xxgk/ggtg/index.html", "nmpa/xxgk/ggtg/index.html")).unwrap();
    assert_eq!(l.details.len(), 2);
    assert_eq!(
        l.details[1].title.as_deref(),
        Some("国家药监局关于发布医疗器械拓展性临床试验管理规定（试行）的公告（2020年第41号）")
    );
    assert_eq!(l.details[1].date, chrono::NaiveDate::from_ymd_opt(2020, 5, 12));
    assert_eq!(l.next[0].url.as_str(), "https://www.nmpa.gov.cn/xxgk/ggtg/index_1.html");
    let last = src
        .parse_listing(&page("https://www.nmpa.gov.cn/xxgk/ggtg/index_1.html", "nmpa/xxgk/ggtg/index_1.html"))
        .unwrap();
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

mod end_to_end {
    use crawler::sources::cnipa::Cnipa;
    use crawler::sources::nmpa::Nmpa;
    use crawler::sources::{Source, SourceSettings};

    use crate::sources_fixtures::e2e::{Site, crawl, errors, portable};

    const DETAILS: [&str; 3] = [
        "xxgk/ggtg/qtggtg/20200514170101220.html",
        "xxgk/ggtg/ylqxggtg/20200512093015146.html",
        "xxgk/ggtg/qtggtg/20200430160212187.html",
    ];

    /// The NMPA fixture site, its 公告通告 column only.
    fn nmpa_site(n: u8) -> Site {
        let site = Site::start("nmpa", n);
        site.html("xxgk/ggtg/index.html");
        site.html("xxgk/ggtg/index_1.html");
        for d in DETAILS {
            site.html(d);
        }
        site
    }

    fn nmpa(site: &Site) -> Box<dyn Source> {
        let settings = SourceSettings {
            start_urls: vec![site.server.url("/xxgk/ggtg/index.html").parse().unwrap()],
            ..site.settings()
        };
        Box::new(Nmpa::new(&settings))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn crawls_the_fixture_site_into_the_index() {
        let site = nmpa_site(1);
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl(dir.path(), vec![nmpa(&site)]).await;
        assert_eq!(errors(&summary, &[&site]), vec![]);
        assert_eq!(summary.new, 3);
        insta::assert_yaml_snapshot!(portable(&notices, &[&site]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn recrawl_after_one_new_notice_fetches_that_detail_and_the_listings_only() {
        let site = nmpa_site(1);
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = crawl(dir.path(), vec![nmpa(&site)]).await;
        assert_eq!(first.new, 3);
        site.file("/xxgk/ggtg/index.html", "xxgk/ggtg/index.recrawl.html", "text/html; charset=utf-8");
        site.html("xxgk/ggtg/qtggtg/20200515103012456.html");
        site.server.clear_log();
        let (second, notices) = crawl(dir.path(), vec![nmpa(&site)]).await;
        let mut log = site.log();
        log.sort();
        assert_eq!(
            log,
            [
                "GET /xxgk/ggtg/index.html",
                "GET /xxgk/ggtg/index_1.html",
                "GET /xxgk/ggtg/qtggtg/20200515103012456.html",
            ]
        );
        assert_eq!((second.new, second.changed), (1, 0));
        assert_eq!(notices.len(), 4);
        assert!(notices.iter().any(|n| n.doc_numbers == ["2020年第63号"]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_412_challenge_is_reported_blocked_and_the_rest_goes_on() {
        let blocked = Site::start("nmpa", 1);
        blocked.status("/xxgk/ggtg/index.html", "challenge-412.html", 412);
        // A second source on another host is crawled as usual.
        let cnipa = Site::start("cnipa", 2);
        cnipa.html("col/col75/index.html");
        cnipa.file(
            "/module/web/jpage/dataproxy.jsp?page=2&appid=1&webid=1&path=%2F&columnid=75&unitid=669&webname=%E5%9B%BD%E5%AE%B6%E7%9F%A5%E8%AF%86%E4%BA%A7%E6%9D%83%E5%B1%80&permissiontype=0",
            "module/web/jpage/dataproxy.page2.xml",
            "text/xml; charset=utf-8",
        );
        for d in [
            "art/2020/6/17/art_75_126939.html",
            "art/2020/5/14/art_75_125301.html",
            "art/2020/4/2/art_75_124220.html",
            "art/2020/3/20/art_75_123101.html",
        ] {
            cnipa.html(d);
        }
        let cnipa_settings = SourceSettings {
            start_urls: vec![cnipa.server.url("/col/col75/index.html").parse().unwrap()],
            ..cnipa.settings()
        };
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl(dir.path(), vec![nmpa(&blocked), Box::new(Cnipa::new(&cnipa_settings))]).await;
        let errs = errors(&summary, &[&blocked, &cnipa]);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].0, "http://fixture/xxgk/ggtg/index.html");
        assert!(errs[0].1.contains("challenge"), "{}", errs[0].1);
        assert!(notices.iter().all(|n| n.source == index::Source::Cnipa));
        assert_eq!(notices.len(), 4);
        // Nothing but the challenged listing was asked of the blocked site.
        assert_eq!(blocked.log(), ["GET /xxgk/ggtg/index.html"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_old_gbk_site_that_2020_digests_link_is_read_too() {
        let site = Site::start("nmpa", 1);
        // No charset in the header: the page's own meta says gb2312.
        for rel in ["WS04/CL2138/index.html", "WS04/CL2138/377442.html"] {
            site.file(&format!("/{rel}"), rel, "text/html");
        }
        let settings = SourceSettings {
            start_urls: vec![site.server.url("/WS04/CL2138/index.html").parse().unwrap()],
            ..site.settings()
        };
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl(dir.path(), vec![Box::new(Nmpa::new(&settings)) as Box<dyn Source>]).await;
        assert_eq!(errors(&summary, &[&site]), vec![]);
        assert_eq!(notices.len(), 1);
        let n = &notices[0];
        assert_eq!(n.title, "国家药监局关于开展化学药品注射剂仿制药质量和疗效一致性评价工作的公告（2020年第62号）");
        assert_eq!(n.doc_numbers, ["2020年第62号"]);
        assert_eq!(n.published, chrono::NaiveDate::from_ymd_opt(2020, 5, 14));
        assert!(n.body.starts_with("为加快推进仿制药一致性评价工作"), "{}", n.body);
        assert!(n.url.as_deref().is_some_and(|u| u.ends_with("/WS04/CL2138/377442.html")));
    }
}
