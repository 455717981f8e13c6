//! `notices crawl` with the browser fetcher, as a user runs it: `--fetch`
//! for one run, and a SIGTERM in the middle of a browser crawl, which ends
//! the crawl cleanly and takes the browser (every process of it) along.
//! Uses the system's Chromium and fails, never skips, when there is none.

#[path = "../crawler/tests/challenge_sites/mod.rs"]
mod challenge_sites;
mod cli_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use challenge_sites::{Site, processes_with, wait_gone};
use cli_support::notices_at;

/// A config crawling only NMPA, from the fixture `site`, with `fetch`.
fn config(dir: &Path, site: &Site, fetch: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[crawl]\nfetch_attachments = false\ndelay_ms = 0\nretries = 0\nrecheck_secs = 0\nmax_crawl_delay_secs = 0\nchallenge_timeout_secs = 20\n\n\
             [crawl.sources.nmpa]\nfetch = \"{fetch}\"\nstart_urls = [\"{}\"]\n\n\
             [crawl.sources.cnipa]\nenabled = false\n[crawl.sources.cde]\nenabled = false\n\
             [crawl.sources.fda]\nenabled = false\n[crawl.sources.eca]\nenabled = false\n",
            site.url("/xxgk/ggtg/index.html")
        ),
    )
    .unwrap();
    path
}

fn assert_chromium() {
    assert!(
        crawler::browser::locate(None).is_ok(),
        "no Chromium on PATH: install it (Debian: apt-get install chromium); this test does not skip"
    );
}

#[test]
fn fetch_flag_overrides_the_sources_mode_for_one_run() {
    assert_chromium();
    let site = Site::nmpa(false, Duration::ZERO);
    let tmp = tempfile::tempdir().unwrap();
    let profiles = tmp.path().join("tmp");
    std::fs::create_dir_all(&profiles).unwrap();
    let cfg = config(tmp.path(), &site, "browser");
    let crawl = |fetch: &str| {
        notices_at(&tmp.path().join("data"))
            .arg("--config")
            .arg(&cfg)
            .args(["crawl", "--source", "nmpa", "--json", "--fetch", fetch])
            .env("TMPDIR", &profiles)
            .output()
            .unwrap()
    };
    // `--fetch http` over a source configured `browser`: blocked, no browser.
    let out = crawl("http");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sources"]["NMPA"]["blocked"], 1, "{v}");
    assert_eq!(v["new"], 0, "{v}");
    assert_eq!(site.count(|c| &c.with_token), 0, "{:?}", site.log());
    assert!(std::fs::read_dir(&profiles).unwrap().next().is_none(), "no browser profile was made");
    // `--fetch auto`: the browser passes the challenge, the notices come in.
    let out = crawl("auto");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"], serde_json::json!([]), "{v}");
    assert_eq!(v["new"], 3, "{v}");
    // A mode that does not exist is a usage error.
    let out = crawl("firefox");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("http, browser or auto"));
    let left: Vec<_> = std::fs::read_dir(&profiles).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "the temporary profile is removed: {left:?}");
}

#[test]
fn sigterm_mid_crawl_stops_the_browser_with_the_crawl() {
    assert_chromium();
    // Slow pages: the crawl is certainly mid-way when the signal comes.
    let site = Site::nmpa(false, Duration::from_millis(1500));
    let tmp = tempfile::tempdir().unwrap();
    // The browser's profile goes under this test's own temporary directory,
    // so its processes are told apart from any other browser by command line.
    let profiles = tmp.path().join("tmp");
    std::fs::create_dir_all(&profiles).unwrap();
    let cfg = config(tmp.path(), &site, "browser");
    let mut child = notices_at(&tmp.path().join("data"))
        .arg("--config")
        .arg(&cfg)
        .args(["crawl", "--source", "nmpa", "--json"])
        .env("TMPDIR", &profiles)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let needle = format!("--user-data-dir={}", profiles.display());
    let start = Instant::now();
    // The browser passed the challenge and a real page is being served.
    while site.count(|c| &c.with_token) < 1 {
        assert!(start.elapsed() < Duration::from_secs(30), "the browser never passed the challenge: {:?}", site.log());
        assert!(child.try_wait().unwrap().is_none(), "the crawl ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!processes_with(&needle).is_empty(), "the crawl's browser runs");
    assert!(std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the crawl did not end within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    assert!(status.success(), "{status}: {}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["interrupted"], true, "{summary}");
    let left = wait_gone(|| processes_with(&needle), Duration::from_secs(5));
    assert!(left.is_empty(), "browser processes outlived the crawl: {left:?}");
    let left: Vec<_> = std::fs::read_dir(&profiles).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "the temporary profile is removed: {left:?}");
}
