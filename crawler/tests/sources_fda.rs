//! FDA: parsing the guidance feed (its first four rows are real bytes from
//! `shared/real-pages/fda/`, the two 2020 COVID-19 rows are written in their
//! image) and the guidance pages (written from the fact sheet).

mod sources_fixtures;
mod support;

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
fn type_status_and_comment_close_from_the_feed_and_the_pages() {
    use chrono::NaiveDate;
    use index::{DocType, Status};
    let src = Fda::new(&SourceSettings::default());
    let l = src.parse_listing(&page(FEED, "fda/files/api/datatables/static/search-for-guidance.json")).unwrap();
    let kinds: Vec<_> = l.notices.iter().map(|n| (n.doc_type, n.status, n.comment_close)).collect();
    let final_guidance = (Some(DocType::Guidance), Some(Status::Final), None);
    let draft = (Some(DocType::Guidance), Some(Status::Draft), NaiveDate::from_ymd_opt(2006, 4, 18));
    // Rows 1-2 are Small Entity Compliance Guides, row 3 the real draft
    // (closed 04/18/2006), the others final guidance documents.
    assert_eq!(kinds, [final_guidance, final_guidance, draft, final_guidance, final_guidance, final_guidance]);

    // The page states the type and the bare status word, not the closing date.
    let slug = "draft-guidance-industry-and-fda-staff-whole-grain-label-statements";
    let url = format!("https://www.fda.gov/regulatory-information/search-fda-guidance-documents/{slug}");
    let rel = format!("fda/regulatory-information/search-fda-guidance-documents/{slug}");
    let fresh = Fda::new(&SourceSettings::default());
    let detail = fresh.parse_detail(&page(&url, &rel), &l.details[2]).unwrap();
    assert_eq!((detail.doc_type, detail.status, detail.comment_close), (draft.0, draft.1, None));
    // After the feed in the same run, the page keeps the row's closing date.
    let after_feed = src.parse_detail(&page(&url, &rel), &l.details[2]).unwrap();
    assert_eq!((after_feed.doc_type, after_feed.status, after_feed.comment_close), draft);
    // And so does a crawl.
    let out = crawl(&Fda::new(&SourceSettings::default()), &resolve);
    let n = out.notices.iter().find(|n| n.id == detail.id).unwrap();
    assert_eq!((n.doc_type, n.status, n.comment_close), draft);
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

mod end_to_end {
    use crawler::sources::Source;
    use crawler::sources::fda::Fda;

    use crawler::config::CrawlConfig;

    use crate::sources_fixtures::e2e::{Site, config, crawl, crawl_with, errors, portable};

    const FEED_PATH: &str = "/files/api/datatables/static/search-for-guidance.json";
    const GUIDE: &str = "/regulatory-information/search-fda-guidance-documents/";
    const SLUGS: [&str; 6] = [
        "small-entity-compliance-guide-safe-handling-statements-labeling-shell-eggs-and-refrigeration-shell",
        "small-entity-compliance-guide-standard-identity-white-chocolate",
        "draft-guidance-industry-and-fda-staff-whole-grain-label-statements",
        "guidance-industry-voluntary-labeling-indicating-whether-foods-have-or-have-not-been-derived",
        "covid-19-developing-drugs-and-biological-products-treatment-or-prevention",
        "covid-19-public-health-emergency-general-considerations-pre-ind-meeting-requests-covid-19-related",
    ];

    /// The FDA site with fda.gov's real robots.txt (its Crawl-Delay 30 is
    /// capped to 0 by the test config).
    fn fda_site() -> Site {
        let site = Site::start("fda", 1);
        // Real bytes: fda.gov's robots.txt of 2020-10-10.
        site.file("/robots.txt", "robots.txt", "text/plain");
        site.file(FEED_PATH, "files/api/datatables/static/search-for-guidance.json", "application/json");
        for s in SLUGS {
            site.file(
                &format!("{GUIDE}{s}"),
                &format!("regulatory-information/search-fda-guidance-documents/{s}"),
                "text/html; charset=UTF-8",
            );
        }
        site
    }

    fn fda(site: &Site) -> Vec<Box<dyn Source>> {
        vec![Box::new(Fda::new(&site.settings()))]
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn crawls_the_feed_and_the_guidance_pages_into_the_index() {
        let site = fda_site();
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl(dir.path(), fda(&site)).await;
        assert_eq!(errors(&summary, &[&site]), vec![]);
        assert_eq!(notices.len(), 6);
        assert_eq!(site.log().len(), 7, "the feed and six pages");
        // Each notice counted once though the feed and then its page indexed it.
        assert_eq!((summary.new, summary.changed, summary.unchanged), (6, 0, 0));
        assert_eq!(summary.sources["FDA"].new, 6);
        assert_eq!(summary.sources["FDA"].changed, 0);
        // The draft's closing date (feed only) survived its page replacing the feed's notice.
        let draft = notices.iter().find(|n| n.title.starts_with("Draft Guidance")).unwrap();
        assert_eq!(draft.comment_close, chrono::NaiveDate::from_ymd_opt(2006, 4, 18));
        assert_eq!(draft.status, Some(index::Status::Draft));
        // And one version of each in the history: what the run ended with.
        let history = crawler::history::History::open(&dir.path().join("crawl.sqlite")).unwrap();
        for n in &notices {
            let versions = history.versions(&n.id).unwrap();
            assert_eq!(versions.len(), 1, "{}", n.title);
            assert_eq!(versions[0].content_hash, n.content_hash());
        }
        insta::assert_yaml_snapshot!(portable(&notices, &[&site]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn recrawl_fetches_only_the_page_whose_row_changed() {
        let site = fda_site();
        let dir = tempfile::tempdir().unwrap();
        crawl(dir.path(), fda(&site)).await;
        let feed = String::from_utf8(site.read("files/api/datatables/static/search-for-guidance.json")).unwrap();
        let moved = feed.replace("2020-05-11T16:30:12-04:00", "2020-06-02T09:00:00-04:00");
        assert_ne!(moved, feed);
        site.bytes(FEED_PATH, moved.into_bytes(), "application/json");
        site.server.clear_log();
        let (summary, notices) = crawl(dir.path(), fda(&site)).await;
        assert_eq!(errors(&summary, &[&site]), vec![]);
        // The feed's metadata did not replace what the pages added.
        for n in &notices {
            assert!(n.body.contains("Content current as of"), "{}: {}", n.title, n.body);
        }
        let mut log = site.log();
        log.sort();
        assert_eq!(log, [format!("GET {FEED_PATH}"), format!("GET {GUIDE}{}", SLUGS[5])]);
    }

    /// The guidance PDFs (a real PDF, Chromium's print of a Chinese page, with
    /// a distinct tail each) behind the feed's `/media/N/download` links.
    fn with_pdfs(site: &Site) -> Vec<&'static str> {
        let pdf = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../extract/tests/fixtures/chinese.pdf")).unwrap();
        let media = ["/media/120958/download", "/media/137926/download", "/media/137927/download"];
        for (i, m) in media.iter().enumerate() {
            let mut bytes = pdf.clone();
            bytes.extend_from_slice(format!("\n% {i}\n").as_bytes());
            site.server.route(m, crate::support::Response::bytes("application/pdf", bytes).validators());
        }
        media.to_vec()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn guidance_pdfs_are_read_once_then_only_when_their_row_changed() {
        let site = fda_site();
        let media = with_pdfs(&site);
        let cfg = || CrawlConfig { fetch_attachments: true, ..config() };
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl_with(dir.path(), cfg(), fda(&site)).await;
        assert_eq!(errors(&summary, &[&site]), vec![]);
        assert_eq!(summary.attachments.text, 3, "{:?}", summary.attachments);
        for m in &media {
            assert_eq!(site.log().iter().filter(|l| l.ends_with(m)).count(), 1, "{m} downloaded once");
        }
        let covid = notices.iter().find(|n| n.url.as_deref().is_some_and(|u| u.ends_with(SLUGS[5]))).unwrap();
        let pdf = covid.attachments.iter().find(|a| a.url.ends_with(media[2])).expect("its PDF");
        assert!(pdf.text().unwrap().contains("确保文件要求落实到位"), "{pdf:?}");

        // The feed row of SLUGS[5] moves: its page and its PDF are asked again, nothing else.
        let feed = String::from_utf8(site.read("files/api/datatables/static/search-for-guidance.json")).unwrap();
        let moved = feed.replace("2020-05-11T16:30:12-04:00", "2020-06-02T09:00:00-04:00");
        site.bytes(FEED_PATH, moved.into_bytes(), "application/json");
        site.server.clear_log();
        let (summary, _) = crawl_with(dir.path(), cfg(), fda(&site)).await;
        assert_eq!(errors(&summary, &[&site]), vec![]);
        let mut log = site.log();
        log.sort();
        let mut want = [format!("GET {FEED_PATH}"), format!("GET {GUIDE}{}", SLUGS[5]), format!("GET {}", media[2])];
        want.sort();
        assert_eq!(log, want);
        let asked = site.server.requests_to(media[2]);
        assert!(asked[0].conditional(), "the unchanged PDF is asked with its validators");
        assert_eq!((summary.attachments.read, summary.attachments.unchanged), (0, 1), "{:?}", summary.attachments);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_apology_redirect_is_reported_blocked_not_gone() {
        let site = fda_site();
        site.server.route(
            FEED_PATH,
            crate::support::Response::redirect(302, "/apology_objects/abuse-detection-apology.html")
                .header("Server", "AkamaiGHost"),
        );
        site.server.route(
            "/apology_objects/abuse-detection-apology.html",
            crate::support::Response::new(404, "text/html", b"Not found\n".to_vec()),
        );
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl(dir.path(), fda(&site)).await;
        assert!(notices.is_empty());
        let errs = errors(&summary, &[&site]);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].1.contains("challenge"), "{errs:?}");
        assert!(!errs[0].1.contains("gone"), "{errs:?}");
        assert!(summary.errors[0].blocked);
        let fda = &summary.sources["FDA"];
        assert_eq!((fda.blocked, fda.failed, fda.new), (1, 0, 0));
        assert!(fda.hint.as_deref().is_some_and(|h| h.contains("user_agent")), "{fda:?}");
        // Blocked, not gone: the state keeps no gone streak for the feed.
        let state = crawler::state::CrawlState::open(&dir.path().join("crawl.sqlite")).unwrap();
        assert_eq!(state.get(&site.server.url(FEED_PATH)).unwrap().unwrap().gone, 0);
    }
}
