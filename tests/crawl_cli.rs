//! `notices crawl` end to end: the binary against a fixture server on
//! 127.0.0.1, killed with SIGKILL mid-way, run twice at once, and fed a digest.

#[path = "../crawler/tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crawler::state::CrawlState;
use index::{Notice, NoticeIndex};
use support::{FixtureServer, Response};

const BIN: &str = env!("CARGO_BIN_EXE_notices");

fn page(title: &str, n: usize) -> String {
    format!(
        "<html><head><title>{title}_测试站</title></head><body><div class=\"footer\">版权所有</div><div class=\"content\"><h1>{title}</h1>\
         <p>第{n}号通知正文。为加强管理，现将有关事项通知如下，请遵照执行。</p><p>发布时间：2020-05-{:02}</p></div></body></html>",
        n % 28 + 1
    )
}

/// A site of `n` pages, each answered after `delay`.
fn site(n: usize, delay: Duration) -> (FixtureServer, Vec<String>) {
    let s = FixtureServer::start();
    let mut urls = Vec::new();
    for i in 0..n {
        let path = format!("/notice/{i}.html");
        s.route(&path, Response::html(&page(&format!("关于第{i}项工作的通知"), i)).delayed(delay));
        urls.push(s.url(&path));
    }
    (s, urls)
}

fn config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[crawl]\ncommit_every = 4\nread_timeout_ms = 5000\nbackoff_base_ms = 20\nrecheck_secs = 0\n",
    )
    .unwrap();
    path
}

fn crawl_cmd(data: &Path, cfg: &Path, urls: &[String]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(data).arg("--config").arg(cfg).args(["crawl", "--delay-ms", "0"]);
    for u in urls {
        cmd.arg("--url").arg(u);
    }
    cmd.env_remove("NOTICES_LOG").stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "crawl failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The index as comparable rows (fetch times left out).
fn contents(data: &Path) -> Vec<(String, String, String, Option<chrono::NaiveDate>)> {
    let index = NoticeIndex::open_or_create(&data.join("index")).unwrap();
    let mut rows: Vec<_> = index.all().unwrap().into_iter().map(|n| (n.id, n.title, n.body, n.published)).collect();
    rows.sort();
    rows
}

#[test]
fn a_crawl_killed_with_sigkill_resumes_and_ends_with_the_same_index() {
    let n = 24;
    let (s, urls) = site(n, Duration::from_millis(60));
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());

    // Reference: one uninterrupted crawl.
    let reference = tmp.path().join("reference");
    run(&mut crawl_cmd(&reference, &cfg, &urls));
    let want = contents(&reference);
    assert_eq!(want.len(), n);

    // Killed mid-way: once 10 pages have been answered.
    s.clear_log();
    let data = tmp.path().join("data");
    let mut child = crawl_cmd(&data, &cfg, &urls).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let t = Instant::now();
    while s.requests().iter().filter(|r| r.path.starts_with("/notice/") && r.finished.is_some()).count() < 10 {
        assert!(t.elapsed() < Duration::from_secs(30), "the crawl made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let first_run: Vec<String> = s.requests().into_iter().map(|r| r.path).collect();
    assert!(first_run.len() < n + 1, "killed before the end");

    // What the state says is finished, the index holds.
    let finished: Vec<String> = {
        let state = CrawlState::open(&data.join("crawl.sqlite")).unwrap();
        urls.iter().filter(|u| state.get(u).unwrap().is_some_and(|r| r.content_hash.is_some())).cloned().collect()
    };
    eprintln!("killed after {} requests; {} pages recorded finished", first_run.len(), finished.len());
    assert!(!finished.is_empty(), "some batches were committed before the kill");
    let index = NoticeIndex::open_or_create(&data.join("index")).unwrap();
    for u in &finished {
        assert!(index.get(&Notice::id_for_url(u)).unwrap().is_some(), "state claims {u}, the index lacks it");
    }
    drop(index);

    // Resume.
    s.clear_log();
    let out = run(&mut crawl_cmd(&data, &cfg, &urls));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("resumed"), "{stdout}");
    for u in &finished {
        let path = u.trim_start_matches(&s.url(""));
        assert!(s.requests_to(path).is_empty(), "{path} was finished before the kill and fetched again");
    }
    assert_eq!(contents(&data), want, "the resumed crawl's index differs from an uninterrupted one");
}

#[test]
fn two_crawls_on_one_data_dir_the_second_is_refused() {
    let (s, urls) = site(4, Duration::from_millis(700));
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let data = tmp.path().join("data");
    let first = crawl_cmd(&data, &cfg, &urls).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let t = Instant::now();
    while !s.requests().iter().any(|r| r.path.starts_with("/notice/")) {
        assert!(t.elapsed() < Duration::from_secs(30), "the first crawl never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = crawl_cmd(&data, &cfg, &urls).output().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("another crawl is already running"), "{stderr}");
    assert!(stderr.contains(&data.display().to_string()), "the message names the data dir: {stderr}");
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    // Every page fetched once: the second crawl sent nothing.
    for u in &urls {
        let path = u.trim_start_matches(&s.url(""));
        assert_eq!(s.requests_to(path).len(), 1, "{path}");
    }
}

#[test]
fn summary_reports_errors_and_the_crawl_goes_on() {
    let (s, mut urls) = site(2, Duration::ZERO);
    urls.push(s.url("/missing.html"));
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let out = run(crawl_cmd(&tmp.path().join("d"), &cfg, &urls).arg("--json"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["new"], 2);
    assert_eq!(v["errors"][0]["url"], s.url("/missing.html"));
    assert!(v["errors"][0]["reason"].as_str().unwrap().contains("404"));
    let bad =
        Command::new(BIN).args(["crawl", "--url", "ftp://x/y"]).arg("--data-dir").arg(tmp.path()).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));
}

#[test]
fn from_digest_fetches_linked_pages_and_merges_them_into_the_items() {
    let s = FixtureServer::start();
    s.html("/d/1.html", &page("某市关于第一项工作的通知", 1));
    s.html("/d/2.html", &page("某市关于第二项工作的通知", 2));
    let digest = format!(
        " 知识产权信息篇（2020/5/10~2020/5/15）\n\n国家级\n\n1、关于第一项工作的通知（国家知识产权局）\n\n{}\n 摘要一：请各单位认真组织申报。\n\n\
         2、关于第二项工作的通知（国家知识产权局）\n\n{}\n 摘要二：请按要求报送材料。\n",
        s.url("/d/1.html"),
        s.url("/d/2.html")
    );
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("digest-2020-05-15.txt");
    std::fs::write(&file, digest).unwrap();
    let cfg = config(tmp.path());
    let data = tmp.path().join("data");
    let mut cmd = crawl_cmd(&data, &cfg, &[]);
    let out = run(cmd.arg("--from-digest").arg(&file));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Items indexed, then enriched by their pages: each counted once, as new.
    assert!(stdout.contains("notices: 2 new, 0 changed"), "{stdout}");
    assert_eq!(s.requests_to("/d/1.html").len(), 1);
    assert_eq!(s.requests_to("/d/2.html").len(), 1);
    let index = NoticeIndex::open_or_create(&data.join("index")).unwrap();
    let all = index.all().unwrap();
    assert_eq!(all.len(), 2, "{all:#?}");
    for n in &all {
        assert!(matches!(n.origin, index::Origin::Digest { .. }), "the digest item's notice, not a new one");
        assert!(n.body.contains("摘要") && n.body.contains("号通知正文"), "summary and page text: {}", n.body);
        assert!(n.published.is_some(), "a date from the digest or the page");
    }
    assert!(all.iter().any(|n| n.title == "关于第一项工作的通知"), "the digest's title stays");
}

#[test]
fn max_pages_stops_early_and_the_next_crawl_picks_up_the_rest() {
    let (s, urls) = site(6, Duration::ZERO);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    let data = tmp.path().join("data");
    let out = run(crawl_cmd(&data, &cfg, &urls).args(["--max-pages", "4"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("stopped at --max-pages"), "{stdout}");
    let first: Vec<String> = s.requests().into_iter().map(|r| r.path).filter(|p| p.starts_with("/notice/")).collect();
    assert_eq!(first.len(), 4);
    s.clear_log();
    let out = run(&mut crawl_cmd(&data, &cfg, &urls));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("resumed") && stdout.contains("2 new"), "{stdout}");
    let second: Vec<String> = s.requests().into_iter().map(|r| r.path).filter(|p| p.starts_with("/notice/")).collect();
    assert_eq!(second.len(), 2);
    assert!(second.iter().all(|p| !first.contains(p)), "nothing fetched twice: {first:?} then {second:?}");
}

#[test]
fn a_blocked_source_is_reported_with_what_to_do_and_the_rest_goes_on() {
    let (s, urls) = site(1, Duration::ZERO);
    let challenge =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/crawler/tests/fixtures/nmpa/challenge-412.html")).unwrap();
    s.route("/xxgk/ggtg/index.html", Response::new(412, "text/html; charset=utf-8", challenge));
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[crawl]
fetch_attachments = false
recheck_secs = 0
backoff_base_ms = 20

[crawl.sources.nmpa]
fetch = \"http\"
start_urls = [\"{}\"]
",
            s.url("/xxgk/ggtg/index.html")
        ),
    )
    .unwrap();
    let out = run(crawl_cmd(&tmp.path().join("text"), &cfg, &urls).args(["--source", "nmpa"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let row = |label: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
    };
    // source, new, changed, unchanged, failed, blocked
    assert_eq!(row("NMPA").as_deref(), Some("0 0 0 0 1"), "{stdout}");
    assert_eq!(row("other/web").as_deref(), Some("1 0 0 0 0"), "{stdout}");
    let hint = stdout.lines().find(|l| l.starts_with("NMPA is blocking the crawl")).unwrap_or_default();
    assert!(hint.contains("`cookie` under [crawl.sources.nmpa]"), "{stdout}");
    assert_eq!(s.requests_to("/xxgk/ggtg/index.html").len(), 1, "a challenge is not retried");

    let out = run(crawl_cmd(&tmp.path().join("json"), &cfg, &urls).args(["--source", "nmpa", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let nmpa = &v["sources"]["NMPA"];
    assert_eq!((nmpa["blocked"].as_u64(), nmpa["failed"].as_u64(), nmpa["new"].as_u64()), (Some(1), Some(0), Some(0)));
    assert!(nmpa["hint"].as_str().unwrap().contains("[crawl.sources.nmpa]"));
    assert_eq!(v["sources"]["other/web"]["new"], 1);
    assert_eq!(v["new"], 1, "nothing indexed from the challenge page");
    assert_eq!(v["errors"][0]["blocked"], true);
    assert!(v["errors"][0]["reason"].as_str().unwrap().starts_with("challenged"), "{v}");
}
