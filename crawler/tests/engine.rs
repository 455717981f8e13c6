//! The engine against a real HTTP server on 127.0.0.1, asserting from the
//! server's own request log.

mod support;

use std::path::Path;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use crawler::config::CrawlConfig;
use crawler::engine::{Engine, Summary};
use crawler::sources::generic::notice_from_page;
use crawler::sources::{DetailRef, Listing, Page, PageKind, Request, Source};
use crawler::state::CrawlState;
use crawler::store::NoticeStore;
use index::{Notice, NoticeIndex};
use scraper::{Html, Selector};
use support::{Fault, FixtureServer, Response};
use url::Url;

/// A test source: listings link details with `<a class="d">` (optional
/// `data-changed`) and further listings with `<a class="next">`.
struct TestSite {
    starts: Vec<Url>,
    /// Start with a form POST (`page=1&size=20`) instead of a GET.
    post: bool,
}

static DETAIL: LazyLock<Selector> = LazyLock::new(|| Selector::parse("a.d").unwrap());
static NEXT: LazyLock<Selector> = LazyLock::new(|| Selector::parse("a.next").unwrap());

impl Source for TestSite {
    fn id(&self) -> index::Source {
        index::Source::Other("fixture".into())
    }
    fn start_requests(&self) -> Vec<Request> {
        let form = vec![("page".to_string(), "1".to_string()), ("size".to_string(), "20".to_string())];
        self.starts
            .iter()
            .map(|u| match self.post {
                true => Request::post(u.clone(), form.clone(), PageKind::Listing)
                    .with_header("X-Requested-With", "XMLHttpRequest"),
                false => Request::get(u.clone(), PageKind::Listing),
            })
            .collect()
    }
    fn parse_listing(&self, page: &Page) -> crawler::Result<Listing> {
        let doc = Html::parse_document(&page.text);
        let mut listing = Listing::default();
        for a in doc.select(&DETAIL) {
            let url = page.final_url.join(a.attr("href").unwrap_or_default()).unwrap();
            listing.details.push(DetailRef {
                request: Request::get(url, PageKind::Detail),
                title: Some(a.text().collect()),
                date: None,
                changed: a.attr("data-changed").map(str::to_string),
            });
        }
        for a in doc.select(&NEXT) {
            let url = page.final_url.join(a.attr("href").unwrap_or_default()).unwrap();
            listing.next.push(Request::get(url, PageKind::Listing));
        }
        Ok(listing)
    }
    fn parse_detail(&self, page: &Page, listed: &DetailRef) -> crawler::Result<Notice> {
        notice_from_page(page, listed)
    }
    fn is_challenge(&self, page: &Page) -> bool {
        page.text.contains("$_ts")
    }
    fn revisit(&self, url: &Url) -> Option<Request> {
        Some(Request::get(url.clone(), PageKind::Detail))
    }
}

fn site(starts: &[String]) -> Vec<Box<dyn Source>> {
    vec![Box::new(TestSite { starts: starts.iter().map(|s| Url::parse(s).unwrap()).collect(), post: false })]
}

fn detail_html(title: &str, body: &str) -> String {
    format!(
        "<html><head><title>{title}_测试站</title></head><body><div class=\"nav\"><a href=\"/\">首页</a></div><div class=\"content\"><h1>{title}</h1><p>{body}</p><p>发布时间：2020-05-13</p></div></body></html>"
    )
}

fn listing_html(details: &[&str], next: Option<&str>) -> String {
    let mut s = String::from("<html><body><ul>");
    for d in details {
        s.push_str(&format!("<li><a class=\"d\" href=\"{d}\">标题 {d}</a></li>"));
    }
    s.push_str("</ul>");
    if let Some(n) = next {
        s.push_str(&format!("<a class=\"next\" href=\"{n}\">下一页</a>"));
    }
    s.push_str("</body></html>");
    s
}

async fn crawl(dir: &Path, cfg: CrawlConfig, sources: Vec<Box<dyn Source>>) -> (Summary, NoticeIndex) {
    let summary = Engine::new(cfg, sources, NoticeStore::open(dir).unwrap()).run().await.unwrap();
    let index = NoticeIndex::open_or_create(&dir.join("index")).unwrap();
    (summary, index)
}

fn fast() -> CrawlConfig {
    CrawlConfig { retries: 2, ..CrawlConfig::for_tests() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_disallowed_paths_are_never_requested() {
    let s = FixtureServer::start();
    s.route("/robots.txt", Response::text("User-agent: *\nDisallow: /private/\n"));
    s.html("/list", &listing_html(&["/a", "/private/b", "/c"], None));
    for p in ["/a", "/private/b", "/c"] {
        s.html(p, &detail_html(&format!("通知{p}"), "正文内容足够长，用于测试提取正文的功能是否正常工作。"));
    }
    let dir = tempfile::tempdir().unwrap();
    let (summary, index) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert!(s.requests_to("/private/b").is_empty(), "a disallowed URL was requested");
    assert_eq!(s.requests_to("/robots.txt").len(), 1, "robots.txt fetched once and cached");
    assert_eq!(s.requests_to("/a").len(), 1);
    assert_eq!(summary.disallowed, 1);
    assert_eq!(summary.new, 2);
    assert_eq!(index.len().unwrap(), 2);
    assert!(s.requests()[0].path == "/robots.txt", "robots.txt comes first");
    let ua = s.requests()[0].header("user-agent").unwrap().to_string();
    assert!(ua.starts_with("notices/") && ua.contains("+http"), "{ua}");
    let accept = s.requests()[1].header("accept-encoding").unwrap_or_default().to_string();
    assert!(accept.contains("gzip") && accept.contains("br"), "compressed bodies accepted: {accept}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_delay_and_concurrency_are_respected_and_hosts_run_in_parallel() {
    let a = FixtureServer::start_on("127.0.0.1");
    let b = FixtureServer::start_on("127.0.0.2");
    let paths: Vec<String> = (0..5).map(|i| format!("/d{i}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    for s in [&a, &b] {
        s.html("/list", &listing_html(&refs, None));
        for p in &paths {
            s.route(p, Response::html(&detail_html(&format!("页面{p}"), "正文")).delayed(Duration::from_millis(50)));
        }
    }
    let cfg = CrawlConfig { delay_ms: 200, ..fast() };
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let (summary, _) = crawl(dir.path(), cfg, site(&[a.url("/list"), b.url("/list")])).await;
    let took = t0.elapsed();
    assert_eq!(summary.new, 10, "{summary:?}");
    for s in [&a, &b] {
        let log = s.requests();
        assert_eq!(log.len(), 7, "robots + listing + 5 details");
        for w in log.windows(2) {
            let gap = w[1].at - w[0].at;
            // Arrival times jitter with connection setup; without the delay they would be ~50 ms apart.
            assert!(gap >= Duration::from_millis(120), "requests {} and {} only {gap:?} apart", w[0].path, w[1].path);
            assert!(w[1].at >= w[0].finished.unwrap(), "two requests in flight on one host");
        }
    }
    // 7 requests 200 ms apart on each host: about 1.2 s if the hosts run in parallel, 2.6 s if not.
    assert!(took < Duration::from_millis(2400), "hosts did not proceed in parallel: {took:?}");

    // Two in flight allowed, no delay: overlaps of two, never three.
    let c = FixtureServer::start();
    c.html("/list", &listing_html(&refs, None));
    for p in &paths {
        c.route(p, Response::html(&detail_html(&format!("页面{p}"), "正文")).delayed(Duration::from_millis(300)));
    }
    let cfg = CrawlConfig { concurrency_per_host: 2, ..fast() };
    let dir = tempfile::tempdir().unwrap();
    crawl(dir.path(), cfg, site(&[c.url("/list")])).await;
    let log =
        c.requests_to("/d0").into_iter().chain(paths[1..].iter().flat_map(|p| c.requests_to(p))).collect::<Vec<_>>();
    let max_overlap =
        log.iter().map(|r| log.iter().filter(|o| o.at <= r.at && o.finished.unwrap() > r.at).count()).max().unwrap();
    assert_eq!(max_overlap, 2, "at most two requests in flight, and two used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_500_then_200_succeeds() {
    let s = FixtureServer::start();
    s.html("/list", &listing_html(&["/a", "/b"], None));
    s.html("/a", &detail_html("甲", "正文甲"));
    s.html("/b", &detail_html("乙", "正文乙"));
    s.fault("/a", Fault::StatusWith(429, vec![("Retry-After".into(), "1".into())]));
    s.fault("/b", Fault::Status(500));
    let dir = tempfile::tempdir().unwrap();
    let (summary, index) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(index.len().unwrap(), 2);
    let a = s.requests_to("/a");
    assert_eq!(a.iter().map(|r| r.status).collect::<Vec<_>>(), vec![429, 200]);
    assert!(a[1].at - a[0].at >= Duration::from_millis(990), "Retry-After: 1 not honoured: {:?}", a[1].at - a[0].at);
    let b = s.requests_to("/b");
    assert_eq!(b.iter().map(|r| r.status).collect::<Vec<_>>(), vec![500, 200]);

    // A Retry-After beyond the backoff cap: the URL waits for the next run.
    s.html("/list", &listing_html(&["/c"], None));
    s.html("/c", &detail_html("丙", "正文丙"));
    s.fault("/c", Fault::StatusWith(503, vec![("Retry-After".into(), "3600".into())]));
    let (summary, _) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert_eq!(s.requests_to("/c").len(), 1, "not asked again this run");
    assert!(summary.errors[0].reason.contains("Retry-After 3600"), "{:?}", summary.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_ends_as_a_recorded_error_and_the_rest_completes() {
    let s = FixtureServer::start();
    let bad = ["/timeout", "/reset", "/truncated", "/loop", "/big", "/gone", "/challenge", "/offsite"];
    let mut all: Vec<&str> = bad.to_vec();
    all.extend(["/ok1", "/ok2", "/untitled"]);
    s.html("/list", &listing_html(&all, None));
    s.html("/ok1", &detail_html("正常一", "正文一"));
    s.html("/ok2", &detail_html("正常二", "正文二"));
    s.route("/timeout", Response::html(&detail_html("慢", "慢")).delayed(Duration::from_secs(3)));
    s.html("/reset", &detail_html("重置", "重置"));
    s.faults("/reset", Fault::Reset, 10);
    s.html("/truncated", &detail_html("截断", &"长".repeat(2000)));
    s.faults("/truncated", Fault::Truncate, 10);
    s.route("/loop", Response::redirect(302, "/loop"));
    s.html("/big", &detail_html("大", &"大".repeat(20_000)));
    s.route("/challenge", Response::new(412, "text/html", "<script>$_ts=1</script>").header("Retry-After", "0"));
    s.route("/challenge", Response::new(200, "text/html", "<html><script>var $_ts={};</script></html>"));
    s.route("/offsite", Response::redirect(301, "http://127.0.0.3:9/elsewhere"));
    s.route("/untitled", Response::html("<html><body></body></html>"));
    let cfg = CrawlConfig { retries: 1, read_timeout_ms: 300, max_body_bytes: 30_000, ..fast() };
    let dir = tempfile::tempdir().unwrap();
    let (summary, index) = crawl(dir.path(), cfg, site(&[s.url("/list")])).await;
    assert_eq!(index.len().unwrap(), 3, "the good pages are indexed: {:?}", summary.errors);
    let untitled = index.get(&Notice::id_for_url(&s.url("/untitled"))).unwrap().unwrap();
    assert_eq!(untitled.title, "标题 /untitled", "a page without a title takes the listing's");
    let reason = |p: &str| {
        summary
            .errors
            .iter()
            .find(|e| e.url == s.url(p))
            .map(|e| e.reason.clone())
            .unwrap_or_else(|| panic!("no error for {p}: {:?}", summary.errors))
    };
    assert!(reason("/timeout").contains("timeout"), "{}", reason("/timeout"));
    assert!(
        reason("/reset").starts_with("connection reset") && reason("/reset").contains("gave up after 2 attempts"),
        "{}",
        reason("/reset")
    );
    assert!(reason("/truncated").contains("gave up"), "{}", reason("/truncated"));
    assert!(reason("/loop").contains("redirect loop"), "{}", reason("/loop"));
    assert!(reason("/big").contains("oversized"), "{}", reason("/big"));
    assert!(reason("/gone").contains("404"), "{}", reason("/gone"));
    assert!(reason("/challenge").contains("challenged"), "{}", reason("/challenge"));
    assert!(reason("/offsite").contains("outside the hosts"), "{}", reason("/offsite"));
    assert_eq!(summary.errors.len(), bad.len());
    // Retried faults were retried, permanent ones were not.
    assert_eq!(s.requests_to("/reset").len(), 2);
    assert_eq!(s.requests_to("/truncated").len(), 2);
    assert_eq!(s.requests_to("/timeout").len(), 2);
    assert_eq!(s.requests_to("/gone").len(), 1);
    assert_eq!(s.requests_to("/big").len(), 1);
    assert!(s.requests_to("/loop").len() <= 2);
    // Each error is in the state with its reason.
    let state = CrawlState::open(&dir.path().join("crawl.sqlite")).unwrap();
    let recorded = state.errors().unwrap();
    for p in bad {
        let row = recorded.iter().find(|r| r.url == s.url(p)).unwrap_or_else(|| panic!("{p} not recorded"));
        assert_eq!(row.failures, 1);
        assert!(row.next_due.is_some());
    }
    assert_eq!(state.get(&s.url("/gone")).unwrap().unwrap().status, Some(404));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recrawl_is_conditional_and_reindexes_only_what_changed() {
    let s = FixtureServer::start();
    let paths: Vec<String> = (0..6).map(|i| format!("/n{i}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    s.html("/list", &listing_html(&refs[..3], Some("/list2")));
    s.html("/list2", &listing_html(&refs[3..], None));
    for p in &paths[..5] {
        s.html(
            p,
            &detail_html(&format!("公告{p}"), &format!("正文{p}，国家药品监督管理局发布的公告内容。").repeat(300)),
        );
    }
    // One page sends no validators: the text hash decides for it.
    s.route("/n5", Response::html(&detail_html("公告/n5", "无校验头的页面。")).no_validators());
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert_eq!((first.new, first.changed), (6, 0));
    let first_bytes = s.bytes_sent();
    let page_kb = s.requests_to("/n0")[0].bytes_sent / 1024;

    s.clear_log();
    let (second, index) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    let second_bytes = s.bytes_sent();
    assert_eq!((second.new, second.changed), (0, 0), "nothing re-indexed: {second:?}");
    assert_eq!(second.not_modified, 7, "two listings and five details answered 304");
    for r in s.requests().iter().filter(|r| r.path != "/robots.txt" && r.path != "/n5") {
        assert!(r.conditional(), "{} sent without validators", r.path);
        assert_eq!(r.status, 304, "{}", r.path);
    }
    assert_eq!(s.requests_to("/n5")[0].status, 200);
    assert_eq!(index.len().unwrap(), 6);
    println!(
        "re-crawl of an unchanged site: {second_bytes} bytes vs {first_bytes} on the first crawl ({:.1}%; detail pages ~{} KB)",
        100.0 * second_bytes as f64 / first_bytes as f64,
        page_kb
    );
    assert!(second_bytes * 4 < first_bytes);

    // One page changes: re-indexed once, the rest left alone.
    s.html("/n1", &detail_html("公告/n1", "修订后的正文。"));
    let (third, index) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert_eq!((third.new, third.changed, third.unchanged), (0, 1, 1), "{third:?}");
    let id = Notice::id_for_url(&s.url("/n1"));
    assert!(index.get(&id).unwrap().unwrap().body.contains("修订后的正文"));
    let versions = crawler::history::History::open(&dir.path().join("crawl.sqlite")).unwrap().versions(&id).unwrap();
    assert_eq!(versions.len(), 2, "both versions kept for `notices show --history`");
    assert!(versions[1].body.contains("修订后的正文"));
    assert_eq!(index.len().unwrap(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gbk_pages_decode_whatever_their_headers_say() {
    let title = "国家药监局关于开展化学药品注射剂仿制药质量和疗效一致性评价工作的公告";
    let gbk = |meta: &str| {
        let html = format!(
            "<html><head>{meta}<title>{title}</title></head><body><div><h1>{title}</h1><p>为加快推进仿制药一致性评价工作，现将有关事项公告如下。发布时间：2020年5月14日</p></div></body></html>"
        );
        encoding_rs::GBK.encode(&html).0.into_owned()
    };
    let s = FixtureServer::start();
    s.html("/list", &listing_html(&["/plain", "/meta", "/liar"], None));
    s.route("/plain", Response::bytes("text/html", gbk("")));
    s.route(
        "/meta",
        Response::bytes("text/html", gbk("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">")),
    );
    s.route("/liar", Response::bytes("text/html; charset=utf-8", gbk("")));
    let dir = tempfile::tempdir().unwrap();
    let (summary, index) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    for p in ["/plain", "/meta", "/liar"] {
        let n = index.get(&Notice::id_for_url(&s.url(p))).unwrap().unwrap_or_else(|| panic!("{p} not indexed"));
        assert_eq!(n.title, title, "{p}");
        assert!(n.body.contains("仿制药一致性评价"), "{p}: {}", n.body);
        assert_eq!(n.published, chrono::NaiveDate::from_ymd_opt(2020, 5, 14));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_detail_is_not_fetched_again_until_due_or_its_marker_changes() {
    let s = FixtureServer::start();
    let list = |marker: &str| {
        format!(
            "<html><body><a class=\"d\" href=\"/x\" data-changed=\"{marker}\">x</a><a class=\"d\" href=\"/y\">y</a></body></html>"
        )
    };
    s.html("/list", &list("1"));
    s.html("/x", &detail_html("某通知", "正文"));
    s.html("/y", &detail_html("另一通知", "正文"));
    let cfg = CrawlConfig { recheck_secs: 3600, ..fast() };
    let dir = tempfile::tempdir().unwrap();
    crawl(dir.path(), cfg.clone(), site(&[s.url("/list")])).await;
    s.clear_log();
    let (again, _) = crawl(dir.path(), cfg.clone(), site(&[s.url("/list")])).await;
    assert_eq!(again.skipped, 2);
    assert!(s.requests_to("/x").is_empty() && s.requests_to("/y").is_empty());
    assert_eq!(s.requests_to("/list").len(), 1, "a listing is fetched every run");
    s.html("/list", &list("2"));
    s.clear_log();
    let (third, _) = crawl(dir.path(), cfg, site(&[s.url("/list")])).await;
    assert_eq!(s.requests_to("/x").len(), 1, "a new change marker brings the detail back");
    assert!(s.requests_to("/y").is_empty());
    assert_eq!(third.skipped, 1);
    // The revisit interval starts at recheck_secs and doubles while the page stays the same.
    let state = CrawlState::open(&dir.path().join("crawl.sqlite")).unwrap();
    let interval = |p: &str| {
        let r = state.get(&s.url(p)).unwrap().unwrap();
        (r.next_due.unwrap() - r.last_fetched.unwrap()) / 1000
    };
    assert_eq!(interval("/y"), 3600, "fetched once");
    assert_eq!(interval("/x"), 7200, "fetched twice, unchanged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_per_second_at_zero_delay() {
    let s = FixtureServer::start();
    let n = 200;
    let paths: Vec<String> = (0..n).map(|i| format!("/p{i}")).collect();
    for chunk in paths.chunks(20).enumerate() {
        let refs: Vec<&str> = chunk.1.iter().map(String::as_str).collect();
        let next = (chunk.0 + 1 < n / 20).then(|| format!("/list{}", chunk.0 + 1));
        s.html(&format!("/list{}", chunk.0), &listing_html(&refs, next.as_deref()));
    }
    for p in &paths {
        s.html(p, &detail_html(&format!("公告{p}"), &"国家药品监督管理局发布通知，正文内容。".repeat(40)));
    }
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let (summary, index) =
        crawl(dir.path(), CrawlConfig { commit_every: 100, ..fast() }, site(&[s.url("/list0")])).await;
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(index.len().unwrap(), n as u64);
    let pages = summary.pages as f64;
    println!("{pages} pages in {secs:.2} s: {:.0} pages/s (loopback, delay 0, 1 request in flight)", pages / secs);
}

/// Bytes under a directory.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// What attachments add to a crawl, per notice (BENCHMARKS.md §7): the same
/// site crawled with and without them; each notice links a .docx and a
/// Chinese PDF (the committed fixtures, real files). A measurement, not a
/// check: `cargo test -p notices-crawler --test engine -- --ignored --nocapture attachment_cost`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark; run it by name"]
async fn attachment_cost_per_notice() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../extract/tests/fixtures");
    let s = FixtureServer::start();
    let n = 40;
    let paths: Vec<String> = (0..n).map(|i| format!("/p{i}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    s.html("/list0", &listing_html(&refs, None));
    for (i, p) in paths.iter().enumerate() {
        let page = detail_html(&format!("公告{p}"), &"国家药品监督管理局发布通知，正文内容。".repeat(40)).replace(
            "</div></body>",
            &format!("<a href=\"/f/{i}.docx\">附件1</a><a href=\"/f/{i}.pdf\">附件2</a></div></body>"),
        );
        s.html(p, &page);
        // Each file distinct (a different tail), so each is read.
        let mut docx = std::fs::read(fixtures.join("table.docx")).unwrap();
        let mut pdf = std::fs::read(fixtures.join("chinese.pdf")).unwrap();
        docx.extend_from_slice(&[0, i as u8]);
        pdf.extend_from_slice(format!("\n% {i}\n").as_bytes());
        s.route(&format!("/f/{i}.docx"), Response::bytes("application/octet-stream", docx));
        s.route(&format!("/f/{i}.pdf"), Response::bytes("application/pdf", pdf));
    }
    let mut rows = Vec::new();
    for fetch_attachments in [false, true, false, true, false, true] {
        let dir = tempfile::tempdir().unwrap();
        let cfg = CrawlConfig { commit_every: 100, fetch_attachments, ..fast() };
        let t = Instant::now();
        let (summary, index) = crawl(dir.path(), cfg, site(&[s.url("/list0")])).await;
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(index.len().unwrap(), n as u64);
        if fetch_attachments {
            assert_eq!(summary.attachments.text, 2 * n as u64, "{:?}", summary.attachments);
        }
        drop(index);
        let kept = dir_bytes(&dir.path().join("attachments"));
        rows.push((fetch_attachments, secs, summary.bytes, dir_bytes(&dir.path().join("index")), kept));
    }
    for with in [false, true] {
        let mut secs: Vec<f64> = rows.iter().filter(|r| r.0 == with).map(|r| r.1).collect();
        secs.sort_by(f64::total_cmp);
        let r = rows.iter().find(|r| r.0 == with).unwrap();
        println!(
            "attachments {}: median {:.1} ms per notice, {:.1} KB downloaded per notice, index {:.1} KB per notice, kept files {:.1} KB per notice",
            if with { "on " } else { "off" },
            secs[secs.len() / 2] * 1000.0 / n as f64,
            r.2 as f64 / 1024.0 / n as f64,
            r.3 as f64 / 1024.0 / n as f64,
            r.4 as f64 / 1024.0 / n as f64
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_crawl_delay_is_honoured() {
    let s = FixtureServer::start();
    s.route("/robots.txt", Response::text("User-agent: *\nCrawl-delay: 1\n"));
    s.html("/list", &listing_html(&["/a", "/b"], None));
    s.html("/a", &detail_html("甲", "正文"));
    s.html("/b", &detail_html("乙", "正文"));
    let dir = tempfile::tempdir().unwrap();
    let (summary, _) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert_eq!(summary.new, 2);
    let log = s.requests();
    assert_eq!(log.len(), 4);
    for w in log.windows(2) {
        assert!(
            w[1].at - w[0].at >= Duration::from_millis(990),
            "{} after {}: {:?}",
            w[1].path,
            w[0].path,
            w[1].at - w[0].at
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_listings_send_their_form_and_headers() {
    let s = FixtureServer::start();
    s.html("/api/list", &listing_html(&["/a"], None));
    s.html("/a", &detail_html("甲", "正文"));
    let dir = tempfile::tempdir().unwrap();
    let sources: Vec<Box<dyn Source>> =
        vec![Box::new(TestSite { starts: vec![Url::parse(&s.url("/api/list")).unwrap()], post: true })];
    let (summary, _) = crawl(dir.path(), fast(), sources).await;
    assert_eq!(summary.new, 1);
    let post = &s.requests_to("/api/list")[0];
    assert_eq!(post.method, "POST");
    assert_eq!(String::from_utf8_lossy(&post.body), "page=1&size=20");
    assert_eq!(post.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(post.header("x-requested-with"), Some("XMLHttpRequest"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_gone_three_runs_in_a_row_is_withdrawn_and_comes_back() {
    let s = FixtureServer::start();
    s.html("/list", &listing_html(&["/x"], None));
    s.html("/x", &detail_html("将被撤回的通知", "正文"));
    let dir = tempfile::tempdir().unwrap();
    let id = Notice::id_for_url(&s.url("/x"));
    crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    s.remove("/x");
    for run in 1..=3 {
        let (summary, index) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
        assert_eq!(summary.errors.len(), 1);
        let n = index.get(&id).unwrap().expect("a gone page's notice is kept");
        assert_eq!(n.withdrawn, run == 3, "run {run}");
    }
    s.html("/x", &detail_html("将被撤回的通知", "正文"));
    let (summary, index) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert_eq!(summary.changed, 1);
    assert!(!index.get(&id).unwrap().unwrap().withdrawn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenged_detail_waits_for_its_backoff() {
    let s = FixtureServer::start();
    s.html("/list", &listing_html(&["/wall", "/wall412", "/forbidden"], None));
    s.route("/wall", Response::new(202, "text/html", "<html><script>var $_ts={};</script></html>"));
    s.route("/wall412", Response::new(412, "text/html", "<html><script>$_ts=window['$_ts'];</script></html>"));
    s.route("/forbidden", Response::new(403, "text/html", "<html><h1>Forbidden</h1></html>"));
    let dir = tempfile::tempdir().unwrap();
    let (first, index) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    let reasons: Vec<&str> = first.errors.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons,
        vec![
            "challenged: HTTP 202 anti-bot page, not parsed",
            "challenged: HTTP 412 anti-bot page, not parsed",
            "HTTP 403"
        ]
    );
    assert!(index.is_empty().unwrap(), "a challenge page is never indexed");
    let (second, _) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert_eq!(s.requests_to("/wall").len(), 1, "not fetched again during its backoff");
    assert_eq!(s.requests_to("/wall412").len(), 1, "not fetched again during its backoff");
    assert_eq!(second.skipped, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_over_the_cap_are_recorded_not_downloaded_and_offsite_ones_not_requested() {
    let s = FixtureServer::start();
    s.html("/list", &listing_html(&["/n"], None));
    s.html(
        "/n",
        "<html><head><title>附件通知</title></head><body><div><h1>附件通知</h1><p>正文。</p>\
         <a href=\"/files/a.pdf\">附件1</a> <a href=\"http://127.0.0.9:9/b.docx\">附件2</a></div></body></html>",
    );
    s.route("/files/a.pdf", Response::bytes("application/pdf", vec![b'%'; 50_000]));
    let dir = tempfile::tempdir().unwrap();
    let extract = extract::Limits { max_bytes: 10_000, ..extract::Limits::default() };
    let cfg = CrawlConfig { fetch_attachments: true, extract, ..fast() };
    let (summary, index) = crawl(dir.path(), cfg, site(&[s.url("/list")])).await;
    assert!(summary.errors.is_empty(), "an unreadable attachment is no crawl error: {:?}", summary.errors);
    assert_eq!(summary.attachments.unreadable, 1);
    assert!(summary.attachments.errors[0].reason.starts_with("too_large"), "{:?}", summary.attachments.errors);
    assert_eq!(index.len().unwrap(), 1);
    let notice = index.all().unwrap().remove(0);
    let file = notice.attachments[0].file.as_ref().expect("what became of the file is recorded");
    assert_eq!((file.size, file.state()), (50_000, "error"));
    assert!(notice.attachments[1].file.is_none(), "an offsite file is not downloaded");
    let state = CrawlState::open(&dir.path().join("crawl.sqlite")).unwrap();
    let pdf = state.get(&s.url("/files/a.pdf")).unwrap().unwrap();
    assert_eq!((pdf.kind.as_str(), pdf.status, pdf.bytes), ("attachment", Some(200), Some(50_000)));
    assert_eq!(pdf.content_type.as_deref(), Some("application/pdf"));
    let offsite = state.get("http://127.0.0.9:9/b.docx").unwrap().expect("an offsite attachment is still recorded");
    assert_eq!(offsite.status, None, "and never requested");
    assert_eq!(state.count(PageKind::Attachment).unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_followed_a_few_hops_and_each_hop_is_checked() {
    let s = FixtureServer::start();
    s.route("/robots.txt", Response::text("User-agent: *\nDisallow: /secret\n"));
    s.html("/list", &listing_html(&["/old", "/hop0", "/to-secret"], None));
    s.route("/old", Response::redirect(301, "/new"));
    s.html("/new", &detail_html("搬家的通知", "正文"));
    for i in 0..7 {
        s.route(&format!("/hop{i}"), Response::redirect(302, &format!("/hop{}", i + 1)));
    }
    s.route("/to-secret", Response::redirect(302, "/secret/page"));
    s.html("/secret/page", &detail_html("秘密", "正文"));
    let dir = tempfile::tempdir().unwrap();
    let (summary, index) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert_eq!(index.len().unwrap(), 1);
    assert!(index.get(&Notice::id_for_url(&s.url("/old"))).unwrap().is_some(), "known by the URL asked for");
    assert_eq!(s.requests_to("/hop5").len(), 1);
    assert!(s.requests_to("/hop6").is_empty(), "no more than 5 redirects followed");
    assert!(s.requests_to("/secret/page").is_empty(), "a redirect into a disallowed path is not followed");
    assert_eq!(summary.disallowed, 1);
    assert!(summary.errors.iter().any(|e| e.url == s.url("/hop0") && e.reason.contains("more than 5 redirects")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_crawl_resumes_its_queue_without_fetching_anything_twice() {
    let s = FixtureServer::start();
    s.html("/list", &listing_html(&["/a", "/b", "/c"], Some("/list2")));
    s.html("/list2", &listing_html(&["/d", "/e"], None));
    for p in ["/a", "/b", "/c", "/d", "/e"] {
        s.html(p, &detail_html(&format!("通知{p}"), "正文"));
    }
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = crawl(dir.path(), CrawlConfig { max_pages: Some(3), ..fast() }, site(&[s.url("/list")])).await;
    assert!(first.stopped_early && !first.resumed);
    let (second, index) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert!(second.resumed && !second.stopped_early);
    assert_eq!(index.len().unwrap(), 5);
    for p in ["/list", "/list2", "/a", "/b", "/c", "/d", "/e"] {
        assert_eq!(s.requests_to(p).len(), 1, "{p} fetched once over both runs");
    }
    // The run is finished: the next one starts afresh from the listings.
    let (third, _) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert!(!third.resumed);
    assert_eq!(s.requests_to("/list").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_gone_answers_in_a_row_withdraw_a_notice() {
    let s = FixtureServer::start();
    s.html("/list", &listing_html(&["/x"], None));
    s.html("/x", &detail_html("将被撤回的通知", "正文"));
    let dir = tempfile::tempdir().unwrap();
    let id = Notice::id_for_url(&s.url("/x"));
    let cfg = CrawlConfig { gone_after: 2, retries: 0, ..fast() };
    crawl(dir.path(), cfg.clone(), site(&[s.url("/list")])).await;
    let withdrawn = |index: &NoticeIndex| index.get(&id).unwrap().unwrap().withdrawn;
    // Gone, then a server error, then a challenge: two failures in a row but one gone answer.
    s.remove("/x");
    let (first, index) = crawl(dir.path(), cfg.clone(), site(&[s.url("/list")])).await;
    assert!(!withdrawn(&index));
    assert_eq!(first.sources["other/fixture"].failed, 1);
    s.fault("/x", Fault::Status(503));
    let (_, index) = crawl(dir.path(), cfg.clone(), site(&[s.url("/list")])).await;
    assert!(!withdrawn(&index), "a 503 is not a gone answer");
    s.route("/x", Response::new(200, "text/html", "<html><script>var $_ts={};</script></html>"));
    let (walled, index) = crawl(dir.path(), cfg.clone(), site(&[s.url("/list")])).await;
    assert!(!withdrawn(&index), "a challenge is not a gone answer");
    assert!(walled.errors[0].blocked);
    assert_eq!((walled.sources["other/fixture"].blocked, walled.sources["other/fixture"].failed), (1, 0));
    // The wall's backoff keeps the page from being asked until it is due: clear it.
    let state_path = dir.path().join("crawl.sqlite");
    assert!(make_due(&state_path, &s.url("/x")));
    s.remove("/x");
    let (second, index) = crawl(dir.path(), cfg.clone(), site(&[s.url("/list")])).await;
    assert!(withdrawn(&index), "the second gone answer withdraws it: {:?}", second.errors);
    assert_eq!((second.withdrawn, second.sources["other/fixture"].withdrawn), (1, 1));
    let state = CrawlState::open(&state_path).unwrap();
    assert_eq!(state.get(&s.url("/x")).unwrap().unwrap().gone, 2);
}

/// Makes a challenged URL due now (its backoff over), through the state API.
fn make_due(path: &Path, key: &str) -> bool {
    let mut state = CrawlState::open(path).unwrap();
    let Some(mut rec) = state.get(key).unwrap() else { return false };
    rec.next_due = Some(0);
    state.apply(0, &crawler::state::Batch { records: vec![rec], ..Default::default() }).unwrap();
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_request_commits_what_is_done_and_the_next_run_resumes() {
    let s = FixtureServer::start();
    let paths: Vec<String> = (0..8).map(|i| format!("/s{i}")).collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    s.html("/list", &listing_html(&refs, None));
    for p in &paths {
        s.route(p, Response::html(&detail_html(&format!("通知{p}"), "正文")).delayed(Duration::from_millis(150)));
    }
    let dir = tempfile::tempdir().unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let engine = Engine::new(fast(), site(&[s.url("/list")]), NoticeStore::open(dir.path()).unwrap()).stop_on(rx);
    let index = NoticeIndex::open_or_create(&dir.path().join("index")).unwrap();
    let crawl_task = tokio::spawn(engine.run());
    let t = Instant::now();
    while s.requests().iter().filter(|r| r.path.starts_with("/s") && r.finished.is_some()).count() < 2 {
        assert!(t.elapsed() < Duration::from_secs(10), "no progress");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tx.send(true).unwrap();
    let first =
        tokio::time::timeout(Duration::from_secs(5), crawl_task).await.expect("stops promptly").unwrap().unwrap();
    assert!(first.interrupted && first.stopped_early, "{first:?}");
    assert!(first.new >= 1 && first.new < 8, "{first:?}");
    index.reload().unwrap();
    assert_eq!(index.len().unwrap(), first.new, "what was handled is committed");
    let asked_before: Vec<String> = s.requests().into_iter().map(|r| r.path).collect();
    s.clear_log();
    let (second, index) = crawl(dir.path(), fast(), site(&[s.url("/list")])).await;
    assert!(second.resumed && !second.stopped_early && !second.interrupted);
    assert_eq!(index.len().unwrap(), 8);
    assert_eq!(first.new + second.new, 8);
    assert!(s.requests_to("/list").is_empty(), "the listing was done before the stop");
    let done_before = first.new as usize;
    let refetched = s.requests().iter().filter(|r| asked_before.contains(&r.path)).count();
    assert!(refetched <= asked_before.len() - 1 - done_before, "only the dropped fetches are asked again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detail_no_listing_links_is_revisited_when_due_and_withdrawn_when_gone() {
    let s = FixtureServer::start();
    s.html("/list", &listing_html(&["/a", "/b"], None));
    s.html("/a", &detail_html("甲通知", "正文"));
    s.html("/b", &detail_html("乙通知", "正文"));
    let dir = tempfile::tempdir().unwrap();
    let every_run = CrawlConfig { gone_after: 2, ..fast() };
    crawl(dir.path(), every_run.clone(), site(&[s.url("/list")])).await;
    // /b drops off the listing but stays on the site.
    s.html("/list", &listing_html(&["/a"], None));
    // Not due yet (a long first interval): left alone.
    let slow = CrawlConfig { recheck_secs: 3600, ..every_run.clone() };
    let dir2 = tempfile::tempdir().unwrap();
    crawl(dir2.path(), slow.clone(), site(&[s.url("/list")])).await;
    s.html("/list", &listing_html(&["/a", "/b"], None));
    crawl(dir2.path(), slow.clone(), site(&[s.url("/list")])).await;
    s.html("/list", &listing_html(&["/a"], None));
    s.clear_log();
    crawl(dir2.path(), slow, site(&[s.url("/list")])).await;
    assert!(s.requests_to("/b").is_empty(), "not due: not revisited");
    // Due at every run: revisited though unlisted, after the listing, conditionally.
    s.clear_log();
    let (run, _) = crawl(dir.path(), every_run.clone(), site(&[s.url("/list")])).await;
    let b = s.requests_to("/b");
    assert_eq!(b.len(), 1, "revisited once");
    assert!(b[0].conditional() && b[0].status == 304);
    assert!(b[0].at > s.requests_to("/list")[0].at, "after the listings");
    assert_eq!((run.new, run.changed, run.not_modified), (0, 0, 2), "the listing changed; both details 304");
    // Taken down: withdrawn after two gone answers, though no listing links it.
    s.remove("/b");
    let id = Notice::id_for_url(&s.url("/b"));
    let (_, index) = crawl(dir.path(), every_run.clone(), site(&[s.url("/list")])).await;
    assert!(!index.get(&id).unwrap().unwrap().withdrawn);
    // The failure backoff (an hour) makes it due later; bring that time forward.
    assert!(make_due(&dir.path().join("crawl.sqlite"), &s.url("/b")));
    let (last, index) = crawl(dir.path(), every_run, site(&[s.url("/list")])).await;
    assert!(index.get(&id).unwrap().unwrap().withdrawn, "{:?}", last.errors);
    assert_eq!(last.withdrawn, 1);
}
