//! CDE: parsing the fixture site (written from the fact sheet: JSON POST
//! list endpoints with `YYYYMMDD` dates, server-rendered news and 指导原则
//! detail pages, the 202 challenge page).

mod sources_fixtures;
mod support;

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

/// (title, type, status, comment close) of every notice of a crawl, by title.
fn kinds(out: &sources_fixtures::Crawl) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = out
        .notices
        .iter()
        .map(|n| {
            let t = n.doc_type.map_or("-".to_string(), |t| t.to_string());
            let s = n.status.map_or("-".to_string(), |s| s.to_string());
            let c = n.comment_close.map_or("-".to_string(), |c| c.to_string());
            (n.title.clone(), format!("{t} {s} {c}"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn type_status_and_comment_close_from_columns_titles_and_text() {
    let out = crawl(&Cde::new(&SourceSettings::default()), &resolve);
    let want = [
        // 政务新闻 column, title genre 通知, "征求意见时限为自发布之日起3个月" from 2020-05-15.
        ("关于公开征求《药物临床试验适应性设计指导原则》意见的通知", "notice draft 2020-08-15"),
        ("关于发布《药品注册受理审查指南（试行）》的通告", "circular final -"),
        ("关于开发适宜药品包装规格的指导原则", "guideline final -"),
        ("关于境外生产药品注册申请证明性文件有关事宜的通知", "notice final -"),
        // 指导原则 database, 状态 征求意见: no deadline on the page.
        ("药物临床试验适应性设计指导原则（征求意见稿）", "guideline draft -"),
        ("药审中心召开2020年第一季度工作会议", "news - -"),
    ];
    let mut want: Vec<(String, String)> = want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    want.sort();
    assert_eq!(kinds(&out), want);
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

mod end_to_end {
    use crawler::sources::cde::Cde;
    use crawler::sources::{Request, Source};

    use crate::sources_fixtures::e2e::{Site, crawl, errors, portable};

    const NEWS: [&str; 4] = [
        "main/news/viewInfoCommon/2f8ad5c3e0b14a7f9b6c1d2e3f405162",
        "main/news/viewInfoCommon/7c1e9a2b3d4f5a6b7c8d9e0f1a2b3c4d",
        "main/newspic/view/a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "main/news/viewInfoCommon/5e6f708192a3b4c5d6e7f8091a2b3c4d",
    ];
    const GUIDES: [&str; 2] = ["981efd549bda05ee430ec550583776fc", "3c0a5f7e9b1d2c4e6f8a0b2d4c6e8f01"];

    /// Page `n` of a start request's list: its form with `pageNum=n`.
    fn page_form(req: &Request, n: usize) -> Vec<(String, String)> {
        req.form.iter().map(|(k, v)| (k.clone(), if k == "pageNum" { n.to_string() } else { v.clone() })).collect()
    }

    /// The CDE site; `news_challenge` answers the news list with the 202 page.
    fn cde_site(news_challenge: bool) -> (Site, Cde) {
        let site = Site::start("cde", 1);
        let src = Cde::new(&site.settings());
        let starts = src.start_requests();
        let json = "application/json;charset=UTF-8";
        if news_challenge {
            site.status("/main/news/getList", "challenge-202.html", 202);
        } else {
            site.post("/main/news/getList", &page_form(&starts[0], 1), "main/news/getList/page1.json", json);
            site.post("/main/news/getList", &page_form(&starts[0], 2), "main/news/getList/page2.json", json);
        }
        site.post(
            "/zdyz/getDomesticGuideList",
            &page_form(&starts[1], 1),
            "zdyz/getDomesticGuideList/page1.json",
            json,
        );
        for d in NEWS {
            site.html(d);
        }
        for g in GUIDES {
            site.file(
                &format!("/zdyz/domesticinfopage?zdyzIdCODE={g}"),
                &format!("zdyz/domesticinfopage/{g}.html"),
                "text/html; charset=utf-8",
            );
        }
        (site, src)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn crawls_the_fixture_site_into_the_index() {
        let (site, src) = cde_site(false);
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl(dir.path(), vec![Box::new(src)]).await;
        assert_eq!(errors(&summary, &[&site]), vec![]);
        assert_eq!(summary.new, 6);
        // The list endpoints were POSTed as the site's own scripts do.
        let posts = site.server.requests().into_iter().filter(|l| l.method == "POST").collect::<Vec<_>>();
        assert_eq!(posts.len(), 3);
        assert!(posts.iter().all(|l| l.header("x-requested-with") == Some("XMLHttpRequest")));
        assert!(posts.iter().all(|l| l.header("content-type").is_some_and(|c| c.contains("x-www-form-urlencoded"))));
        insta::assert_yaml_snapshot!(portable(&notices, &[&site]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_202_challenge_is_reported_blocked_and_the_other_list_goes_on() {
        let (site, src) = cde_site(true);
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl(dir.path(), vec![Box::new(src)]).await;
        let errs = errors(&summary, &[&site]);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].0.contains("/main/news/getList"), "{errs:?}");
        assert!(errs[0].1.contains("challenge"), "{errs:?}");
        // Only the 指导原则 list's two notices; no news detail was fetched.
        assert_eq!(notices.len(), 2);
        assert!(notices.iter().all(|n| n.url.as_deref().is_some_and(|u| u.contains("/zdyz/"))));
        assert!(site.log().iter().all(|l| !l.contains("/main/news/view") && !l.contains("newspic")));
    }
}
