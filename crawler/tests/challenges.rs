//! The browser fetcher against loopback sites whose challenges really need
//! JavaScript (`challenge_sites`): an NMPA-like 412 cookie challenge and a
//! CDE-like list endpoint that wants a signature the page's script computes.
//! Uses the system's Chromium (Debian: `chromium`) and fails, never skips,
//! when there is none.

mod challenge_sites;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use challenge_sites::{Site, our_browsers, wait_gone};
use crawler::browser::FetchMode;
use crawler::config::CrawlConfig;
use crawler::engine::{Engine, Summary};
use crawler::sources::{self, SourceSettings};
use crawler::state::{CrawlState, UrlRecord};
use crawler::store::NoticeStore;
use index::{Notice, NoticeIndex};

/// One browser at a time: the machine may have two cores, and the process
/// scans must see only this test's browser. (An async mutex: each test has
/// its own runtime, and the guard is held across the crawl's awaits.)
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn one_browser() -> tokio::sync::MutexGuard<'static, ()> {
    let guard = ONE_BROWSER.lock().await;
    assert!(
        crawler::browser::locate(None).is_ok(),
        "no Chromium on PATH: install it (Debian: apt-get install chromium); these tests do not skip"
    );
    guard
}

const NMPA_LIST: &str = "/xxgk/ggtg/index.html";
const NMPA_DETAILS: usize = 3;

fn nmpa_settings(site: &Site, mode: FetchMode) -> SourceSettings {
    SourceSettings { start_urls: vec![site.url(NMPA_LIST).parse().unwrap()], fetch: Some(mode), ..Default::default() }
}

fn cde_settings(site: &Site, mode: FetchMode) -> SourceSettings {
    SourceSettings {
        start_urls: vec![site.url("/main/news/getList").parse().unwrap()],
        fetch: Some(mode),
        ..Default::default()
    }
}

fn config(name: &str, settings: SourceSettings) -> CrawlConfig {
    CrawlConfig {
        retries: 0,
        max_crawl_delay_secs: 0,
        recheck_secs: 0,
        challenge_timeout_secs: 20,
        sources: BTreeMap::from([(name.to_string(), settings)]),
        ..CrawlConfig::for_tests()
    }
}

async fn crawl(dir: &Path, cfg: CrawlConfig) -> (Summary, Vec<Notice>) {
    let registry = sources::Registry::builtin();
    let list = cfg.sources.iter().filter_map(|(name, settings)| registry.build(name, settings)).collect();
    let summary = Engine::new(cfg, list, NoticeStore::open(dir).unwrap()).run().await.unwrap();
    let index = NoticeIndex::open_or_create(&dir.join(crawler::store::INDEX_DIR)).unwrap();
    index.reload().unwrap();
    (summary, index.all().unwrap())
}

/// The crawl state's row of `url`.
fn record(dir: &Path, url: &str) -> UrlRecord {
    let state = CrawlState::open(&dir.join(crawler::store::STATE_FILE)).unwrap();
    state.get(url).unwrap().unwrap_or_else(|| panic!("no state row for {url}"))
}

fn assert_no_browser_left() {
    let left = wait_gone(our_browsers, Duration::from_secs(5));
    assert!(left.is_empty(), "browser processes outlived the crawl: {left:?}");
}

fn detail_notices(notices: &[Notice]) -> usize {
    notices.iter().filter(|n| !n.body.is_empty()).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nmpa_with_http_is_blocked_and_indexes_nothing() {
    let _one = one_browser().await;
    let site = Site::nmpa(false, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let (summary, notices) = crawl(dir.path(), config("nmpa", nmpa_settings(&site, FetchMode::Http))).await;
    assert!(notices.is_empty(), "{notices:?}");
    let nmpa = &summary.sources["NMPA"];
    assert_eq!(nmpa.blocked, 1, "{summary:?}");
    assert!(nmpa.hint.as_deref().is_some_and(|h| h.contains("[crawl.sources.nmpa]")));
    assert!(summary.errors[0].reason.starts_with("challenged: HTTP 412"), "{:?}", summary.errors);
    assert_eq!(site.count(|c| &c.with_token), 0);
    assert!(our_browsers().is_empty(), "http mode never starts a browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nmpa_with_the_browser_indexes_the_listing_and_details_without_images_or_styles() {
    let _one = one_browser().await;
    let site = Site::nmpa(false, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let (summary, notices) = crawl(dir.path(), config("nmpa", nmpa_settings(&site, FetchMode::Browser))).await;
    assert_eq!(summary.errors, vec![], "{:?}", site.log());
    assert_eq!(notices.len(), NMPA_DETAILS, "{notices:?}");
    assert_eq!(detail_notices(&notices), NMPA_DETAILS, "every detail page was parsed");
    assert!(site.count(|c| &c.challenges) >= 1, "the first page was challenged");
    assert!(site.count(|c| &c.with_token) >= 2 + NMPA_DETAILS as u64, "{:?}", site.log());
    assert_eq!(site.count(|c| &c.assets), 0, "stylesheets and images are blocked in the browser: {:?}", site.log());
    // The navigation is recorded like a plain fetch: status, validators, content hash.
    let listing = record(dir.path(), &site.url(NMPA_LIST));
    assert_eq!(
        (listing.status, listing.outcome.as_deref(), listing.failures),
        (Some(200), Some("fetched"), 0),
        "{listing:?}"
    );
    assert!(listing.content_hash.is_some() && listing.etag.is_some(), "{listing:?}");
    assert!(listing.content_type.as_deref().is_some_and(|t| t.contains("html")), "{listing:?}");
    assert_no_browser_left();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nmpa_auto_switches_to_the_browser_and_a_recrawl_is_conditional_through_its_cookies() {
    let _one = one_browser().await;
    let site = Site::nmpa(false, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config("nmpa", nmpa_settings(&site, FetchMode::Auto));
    let (first, notices) = crawl(dir.path(), cfg.clone()).await;
    assert_eq!(first.errors, vec![], "{:?}", site.log());
    assert_eq!(notices.len(), NMPA_DETAILS);
    assert_eq!(detail_notices(&notices), NMPA_DETAILS);
    // The browser passed the challenge once; the rest went plainly with its cookies.
    assert!(site.count(|c| &c.plain_with_token) > NMPA_DETAILS as u64, "{:?}", site.log());
    assert_no_browser_left();

    let (second, notices) = crawl(dir.path(), cfg).await;
    assert_eq!(second.errors, vec![], "{:?}", site.log());
    assert_eq!(notices.len(), NMPA_DETAILS);
    // A new crawl meets the challenge again (a new browser), then asks
    // conditionally, plainly, with the cookies it harvested.
    assert!(second.not_modified > NMPA_DETAILS as u64, "{second:?} {:?}", site.log());
    assert!(site.count(|c| &c.not_modified) > NMPA_DETAILS as u64);
    assert_no_browser_left();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_that_never_clears_is_recorded_blocked_with_the_reason() {
    let _one = one_browser().await;
    let site = Site::nmpa(true, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config("nmpa", nmpa_settings(&site, FetchMode::Browser));
    cfg.challenge_timeout_secs = 2;
    let (summary, notices) = crawl(dir.path(), cfg).await;
    assert!(notices.is_empty());
    assert_eq!(summary.sources["NMPA"].blocked, 1, "{summary:?}");
    let reason = &summary.errors[0].reason;
    assert!(
        reason.contains("challenged") && reason.contains("the browser waited 2 s and the challenge did not clear"),
        "{reason}"
    );
    let listing = record(dir.path(), &site.url(NMPA_LIST));
    assert_eq!((listing.status, listing.outcome.as_deref()), (Some(412), Some("challenged")), "{listing:?}");
    assert_eq!(listing.last_error.as_ref(), Some(reason));
    assert!(site.count(|c| &c.challenges) >= 2, "the script did reload: {:?}", site.log());
    assert_no_browser_left();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_browser_auto_falls_back_to_http_and_says_blocked() {
    let _one = one_browser().await;
    let site = Site::nmpa(false, Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config("nmpa", nmpa_settings(&site, FetchMode::Auto));
    cfg.browser = Some("/nonexistent/chromium".into());
    let (summary, notices) = crawl(dir.path(), cfg).await;
    assert!(notices.is_empty());
    let nmpa = &summary.sources["NMPA"];
    assert_eq!(nmpa.blocked, 1, "{summary:?}");
    // The report says what to install, in the reason and first in the hint.
    let reason = &summary.errors[0].reason;
    assert!(reason.starts_with("challenged: HTTP 412"), "{reason}");
    assert!(reason.contains("no browser to pass it") && reason.contains("apt-get install chromium"), "{reason}");
    let hint = nmpa.hint.as_deref().unwrap();
    assert!(hint.starts_with("the configured browser /nonexistent/chromium"), "{hint}");
    assert!(hint.contains("`cookie` under [crawl.sources.nmpa]"), "{hint}");
    assert!(our_browsers().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cde_lists_are_signed_by_the_page_in_browser_and_auto_modes_and_blocked_with_http() {
    let _one = one_browser().await;
    for mode in [FetchMode::Http, FetchMode::Auto, FetchMode::Browser] {
        let site = Site::cde();
        let dir = tempfile::tempdir().unwrap();
        let (summary, notices) = crawl(dir.path(), config("cde", cde_settings(&site, mode))).await;
        if mode == FetchMode::Http {
            assert!(notices.is_empty(), "{notices:?}");
            assert_eq!(summary.sources["CDE"].blocked, 1, "{summary:?}");
            assert_eq!(site.count(|c| &c.signed), 0);
        } else {
            assert_eq!(summary.errors, vec![], "{mode}: {:?}", site.log());
            assert_eq!(notices.len(), 4, "{mode}: {notices:?}");
            assert_eq!(detail_notices(&notices), 4, "{mode}");
            assert_eq!(
                site.count(|c| &c.signed),
                2,
                "{mode}: both list pages were signed in the page: {:?}",
                site.log()
            );
            assert_eq!(site.count(|c| &c.assets), 0, "{mode}: {:?}", site.log());
        }
        assert_no_browser_left();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_crash_mid_crawl_is_recorded_and_the_crawl_ends_cleanly() {
    let _one = one_browser().await;
    // Slow pages, so that the kill lands while the browser waits for one.
    let site = std::sync::Arc::new(Site::nmpa(false, Duration::from_millis(800)));
    let dir = tempfile::tempdir().unwrap();
    let watcher = site.clone();
    let killer = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        while watcher.count(|c| &c.with_token) < 1 {
            assert!(start.elapsed() < Duration::from_secs(30), "the browser never passed the challenge");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The main browser process: ours, and not one of its --type= children.
        let main: Vec<u32> = our_browsers()
            .into_iter()
            .filter(|p| {
                !String::from_utf8_lossy(&std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default())
                    .contains("--type=")
            })
            .collect();
        assert_eq!(main.len(), 1, "{main:?}");
        assert!(std::process::Command::new("kill").args(["-KILL", &main[0].to_string()]).status().unwrap().success());
    });
    let (summary, _notices) = crawl(dir.path(), config("nmpa", nmpa_settings(&site, FetchMode::Browser))).await;
    killer.join().unwrap();
    assert!(summary.errors.iter().any(|e| e.reason.contains("browser")), "the crash is recorded: {:?}", summary.errors);
    assert_no_browser_left();
}

/// Memory (bytes) of `root` and all its descendants: the sum of their
/// proportional set sizes (PSS: a page shared by n processes counts 1/n in
/// each), so that Chromium's shared libraries are not counted once per process.
fn tree_pss(root: u32) -> u64 {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let ppid = stat.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().nth(1)?.parse().ok()).unwrap_or(0);
        parents.push((pid, ppid));
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parents.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    tree.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).ok())
        .filter_map(|s| s.lines().find(|l| l.starts_with("Pss:"))?.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// Pages/s through the browser next to plain HTTP, and the browser's peak
/// memory. `cargo test -p notices-crawler --test challenges -- --ignored --nocapture bench`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a test: run by hand for BENCHMARKS.md"]
async fn bench_browser_against_plain_http() {
    let _one = one_browser().await;
    const DETAILS: usize = 40;
    const RUNS: usize = 3;
    let mut rows = Vec::new();
    for (label, open, mode) in [
        ("plain HTTP, no challenge", true, FetchMode::Http),
        ("auto: browser once, then plain HTTP with its cookies", false, FetchMode::Auto),
        ("browser: every page a navigation", false, FetchMode::Browser),
    ] {
        let mut secs = Vec::new();
        let mut peak = 0u64;
        for _ in 0..RUNS {
            let site = Site::nmpa_bench(DETAILS, open);
            let dir = tempfile::tempdir().unwrap();
            let settings = SourceSettings {
                start_urls: vec![site.url("/bench/index.html").parse().unwrap()],
                fetch: Some(mode),
                ..Default::default()
            };
            let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = done.clone();
            let sampler = std::thread::spawn(move || {
                let mut peak = 0u64;
                while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                    let mains = our_browsers().into_iter().filter(|p| {
                        !String::from_utf8_lossy(&std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default())
                            .contains("--type=")
                    });
                    peak = peak.max(mains.map(tree_pss).sum());
                    std::thread::sleep(Duration::from_millis(25));
                }
                peak
            });
            let started = std::time::Instant::now();
            let (summary, notices) = crawl(dir.path(), config("nmpa", settings)).await;
            let elapsed = started.elapsed().as_secs_f64();
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            peak = peak.max(sampler.join().unwrap());
            assert_eq!(summary.errors, vec![]);
            assert_eq!(notices.len(), DETAILS);
            secs.push(elapsed);
            assert_no_browser_left();
        }
        secs.sort_by(f64::total_cmp);
        let median = secs[RUNS / 2];
        let pages = (DETAILS + 1) as f64;
        rows.push(format!(
            "| {label} | {:.1} | {:.3} | {:.2} ({}) | {} |",
            pages / median,
            median / pages,
            median,
            secs.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>().join(", "),
            if peak == 0 { "—".to_string() } else { format!("{:.0} MiB", peak as f64 / 1048576.0) }
        ));
    }
    println!("| mode | pages/s | s/page | crawl of {} pages, median s (runs) | browser peak PSS |", DETAILS + 1);
    println!("|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}
