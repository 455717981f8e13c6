//! Scheduled re-crawls end to end: `notices crawl --watch --every 1s`
//! against the NMPA fixture site on 127.0.0.1, the site changed between
//! runs (a notice added to a listing, a detail page edited, one removed),
//! then `search`, `new`, `show --history`, `export` and `stats` on the
//! result; a watcher that finds the lock taken; a watcher killed with
//! SIGKILL mid-crawl.

#[path = "../crawler/tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use support::{FixtureServer, Response};

const BIN: &str = env!("CARGO_BIN_EXE_notices");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/crawler/tests/fixtures/nmpa");

const LIST: &str = "/xxgk/ggtg/index.html";
const LIST2: &str = "/xxgk/ggtg/index_1.html";
/// Edited between the first and the second run.
const EDITED: &str = "/xxgk/ggtg/qtggtg/20200514170101220.html";
/// Left alone.
const KEPT: &str = "/xxgk/ggtg/ylqxggtg/20200512093015146.html";
/// Removed (404) after the first run; still linked from the second listing page.
const REMOVED: &str = "/xxgk/ggtg/qtggtg/20200430160212187.html";
/// Added to the first listing page after the first run.
const ADDED: &str = "/xxgk/ggtg/qtggtg/20200515103012456.html";

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn serve(s: &FixtureServer, path: &str, body: Vec<u8>) {
    s.route(path, Response::bytes("text/html; charset=utf-8", body));
}

/// The NMPA 公告通告 column: two listing pages, three notices.
fn nmpa_site() -> FixtureServer {
    let s = FixtureServer::start();
    for p in [LIST, LIST2, EDITED, KEPT, REMOVED] {
        serve(&s, p, fixture(p));
    }
    s
}

/// Config: the NMPA source on the fixture site (the other sources off: no
/// test leaves the loopback), details revisited every run, withdrawn after
/// two gone answers.
fn config(dir: &Path, s: &FixtureServer) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            // About pages: the fixture site does not serve the files its pages link.
            "[crawl]\nfetch_attachments = false\ndelay_ms = 0\nretries = 0\nbackoff_base_ms = 20\nrecheck_secs = 0\ngone_after = 2\n\
             max_crawl_delay_secs = 0\ncommit_every = 2\n\n[crawl.sources.nmpa]\nstart_urls = [\"{}\"]\n\n\
             [crawl.sources.cnipa]\nenabled = false\n[crawl.sources.cde]\nenabled = false\n\
             [crawl.sources.fda]\nenabled = false\n[crawl.sources.eca]\nenabled = false\n",
            s.url(LIST)
        ),
    )
    .unwrap();
    path
}

fn notices(data: &Path, cfg: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(data).arg("--config").arg(cfg).env_remove("NOTICES_LOG").stdin(Stdio::null());
    cmd
}

fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A running `crawl --watch` whose stdout lines (JSON, one per run) arrive on a channel.
struct Watcher {
    child: Child,
    lines: Receiver<String>,
}

impl Watcher {
    fn start(mut cmd: Command) -> Watcher {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watcher { child, lines }
    }

    /// The summary of the next run.
    fn next_run(&mut self) -> serde_json::Value {
        let line = self.lines.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|e| {
            let _ = self.child.kill();
            let out = self.child.wait_with_output_ref();
            panic!("no run summary within 20 s ({e}); stderr: {out}")
        });
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    /// SIGTERM, then the exit status and stderr.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let status = wait_timeout(&mut self.child, Duration::from_secs(10));
        (status, self.child.wait_with_output_ref())
    }
}

trait StderrOf {
    fn wait_with_output_ref(&mut self) -> String;
}

impl StderrOf for Child {
    fn wait_with_output_ref(&mut self) -> String {
        let mut err = String::new();
        if let Some(mut e) = self.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        err
    }
}

fn wait_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            panic!("the watcher did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn watch(data: &Path, cfg: &Path, extra: &[&str]) -> Watcher {
    let mut cmd = notices(data, cfg);
    cmd.args(["crawl", "--watch", "--every", "1s", "--json"]).args(extra);
    Watcher::start(cmd)
}

fn n(v: &serde_json::Value, field: &str) -> u64 {
    v[field].as_u64().unwrap_or_else(|| panic!("no {field} in {v}"))
}

/// Every notice of the index, from `notices export`.
fn export(data: &Path, cfg: &Path) -> Vec<serde_json::Value> {
    let out = ok(notices(data, cfg).arg("export"));
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn id_of(all: &[serde_json::Value], s: &FixtureServer, path: &str) -> String {
    let url = s.url(path);
    let n = all.iter().find(|n| n["url"] == url.as_str()).unwrap_or_else(|| panic!("{path} not indexed"));
    n["id"].as_str().unwrap().to_string()
}

#[test]
fn scheduled_runs_pick_up_exactly_what_changed_on_the_site() {
    let s = nmpa_site();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), &s);
    let data = tmp.path().join("data");
    let mut w = watch(&data, &cfg, &[]);

    let first = w.next_run();
    assert_eq!((n(&first, "new"), n(&first, "changed")), (3, 0), "{first}");
    let crawled: Vec<&String> = first["sources"].as_object().unwrap().keys().collect();
    assert_eq!(crawled, ["NMPA"], "only the fixture site is crawled");
    assert!(first["errors"].as_array().unwrap().is_empty(), "{first}");

    // The site changes before the next tick.
    serve(&s, LIST, fixture("/xxgk/ggtg/index.recrawl.html"));
    serve(&s, ADDED, fixture(ADDED));
    let edited =
        String::from_utf8(fixture(EDITED)).unwrap().replace("<p>特此公告。</p>", "<p>本公告自发布之日起施行。</p>");
    serve(&s, EDITED, edited.into_bytes());
    s.remove(REMOVED);

    let second = w.next_run();
    assert_eq!((n(&second, "new"), n(&second, "changed"), n(&second, "withdrawn")), (1, 1, 0), "{second}");
    assert_eq!(second["sources"]["NMPA"]["new"], 1, "{second}");
    assert_eq!(second["sources"]["NMPA"]["failed"], 1, "{second}");
    let errors = second["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{second}");
    assert!(errors[0]["url"].as_str().unwrap().ends_with(REMOVED) && errors[0]["blocked"] == false, "{second}");

    // Gone twice in a row (gone_after = 2): withdrawn, nothing else touched.
    let third = w.next_run();
    assert_eq!((n(&third, "new"), n(&third, "changed"), n(&third, "withdrawn")), (0, 0, 1), "{third}");

    // The site stays as it is: the next run re-indexes nothing, and asks
    // with validators, answered 304, for everything it holds.
    s.clear_log();
    let fourth = w.next_run();
    assert_eq!((n(&fourth, "new"), n(&fourth, "changed"), n(&fourth, "withdrawn")), (0, 0, 0), "{fourth}");
    assert_eq!(n(&fourth, "not_modified"), 5, "two listings and three details: {fourth}");
    let log: Vec<_> = s.requests().into_iter().filter(|r| r.path != "/robots.txt").collect();
    assert_eq!(log.len(), 6, "{:?}", log.iter().map(|r| &r.path).collect::<Vec<_>>());
    for r in &log {
        if r.path == REMOVED {
            assert_eq!(r.status, 404);
        } else {
            assert!(r.conditional(), "{} asked without validators", r.path);
            assert_eq!(r.status, 304, "{}", r.path);
        }
    }
    let (status, stderr) = w.terminate();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("watch stopped"), "{stderr}");

    // One document per notice: four notices, the edited one in place.
    let all = export(&data, &cfg);
    assert_eq!(all.len(), 4, "{all:#?}");
    let ids: std::collections::BTreeSet<&str> = all.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 4);
    let (added, edited_id, removed) = (id_of(&all, &s, ADDED), id_of(&all, &s, EDITED), id_of(&all, &s, REMOVED));
    let edited_notice = all.iter().find(|n| n["id"] == edited_id.as_str()).unwrap();
    assert!(edited_notice["body"].as_str().unwrap().contains("本公告自发布之日起施行"));
    assert!(!edited_notice["body"].as_str().unwrap().contains("特此公告"));

    // `notices new`: the added notice is the newest discovery; the withdrawn one is hidden.
    let out = ok(notices(&data, &cfg).args(["new", "--since", "1h", "--json"]));
    let new: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hits: Vec<&str> = new["hits"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap()).collect();
    assert_eq!(hits.len(), 3, "{new}");
    assert_eq!(hits[0], added, "newest first");
    assert!(!hits.contains(&removed.as_str()));

    // `show --history`: two versions of the edited notice and the diff of the edit.
    let out = ok(notices(&data, &cfg).args(["show", &edited_id, "--history"]));
    let history = String::from_utf8_lossy(&out.stdout);
    assert_eq!(history.lines().filter(|l| l.starts_with("version ")).count(), 2, "{history}");
    assert!(history.contains("-特此公告。") && history.contains("+本公告自发布之日起施行。"), "{history}");
    let out = ok(notices(&data, &cfg).args(["show", &added, "--history", "--json"]));
    let versions: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 1, "an unchanged notice has one version");

    // Search hides the withdrawn notice unless asked for it.
    let query = "药物临床试验数据管理";
    let hidden = notices(&data, &cfg).args(["search", query, "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&hidden.stdout).unwrap();
    assert_eq!(v["total"], 0, "{v}");
    assert_eq!(hidden.status.code(), Some(1), "no results");
    let out = ok(notices(&data, &cfg).args(["search", query, "--include-withdrawn", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["hits"][0]["id"], removed.as_str());
    assert_eq!(v["hits"][0]["withdrawn"], true);
    let out = ok(notices(&data, &cfg).args(["search", query, "--include-withdrawn"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("withdrawn"));

    // The page comes back: the notice is restored on the next run.
    serve(&s, REMOVED, fixture(REMOVED));
    let out = ok(notices(&data, &cfg).args(["crawl", "--json"]));
    let back: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(n(&back, "changed"), 1, "{back}");
    let out = ok(notices(&data, &cfg).args(["search", query, "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"], 1, "{v}");
}

#[test]
fn a_watcher_that_finds_the_lock_taken_skips_that_run_and_crawls_at_the_next() {
    let s = nmpa_site();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), &s);
    let data = tmp.path().join("data");
    // Another process's crawl, as far as the lock can tell.
    let held = crawler::lock::CrawlLock::acquire(&data).unwrap();
    let mut w = watch(&data, &cfg, &[]);
    let t = Instant::now();
    // Two ticks go by refused, and nothing is asked of the site.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(w.lines.try_recv().is_err(), "no run completes while the lock is held");
    assert!(s.requests().is_empty(), "a refused run sends nothing");
    drop(held);
    let run = w.next_run();
    assert_eq!(n(&run, "new"), 3, "{run}");
    assert!(t.elapsed() < Duration::from_secs(10));
    let (status, stderr) = w.terminate();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("skipped") && stderr.contains("another crawl is already running"), "{stderr}");
    assert!(stderr.contains("trying again at the next scheduled time"), "{stderr}");
    // A one-shot crawl refused the same way exits 2 with the reason.
    let held = crawler::lock::CrawlLock::acquire(&data).unwrap();
    let refused = notices(&data, &cfg).arg("crawl").output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("another crawl is already running"));
    drop(held);
}

/// A slow site of 16 pages (≈ 1.3 s a crawl), to be stopped in the middle,
/// and the `--url` arguments that crawl it.
fn slow_site() -> (FixtureServer, Vec<String>) {
    let s = FixtureServer::start();
    let mut args = Vec::new();
    for i in 0..16 {
        let path = format!("/n/{i}.html");
        let html = format!(
            "<html><head><title>关于第{i}项工作的通知</title></head><body><div class=\"content\"><h1>关于第{i}项工作的通知</h1>\
             <p>第{i}号通知正文，现将有关事项通知如下。</p><p>发布时间：2020-05-{:02}</p></div></body></html>",
            i % 28 + 1
        );
        s.route(&path, Response::html(&html).delayed(Duration::from_millis(80)));
        args.push("--url".to_string());
        args.push(s.url(&path));
    }
    (s, args)
}

fn slow_config(dir: &Path) -> PathBuf {
    let cfg = dir.join("config.toml");
    std::fs::write(&cfg, "[crawl]\ndelay_ms = 0\nrecheck_secs = 0\ncommit_every = 3\nbackoff_base_ms = 20\n").unwrap();
    cfg
}

/// Waits until the site has answered `n` notice pages.
fn wait_for_pages(s: &FixtureServer, n: usize) {
    let t = Instant::now();
    while s.requests().iter().filter(|r| r.path.starts_with("/n/") && r.finished.is_some()).count() < n {
        assert!(t.elapsed() < Duration::from_secs(20), "the crawl made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sigterm_during_a_scheduled_run_stops_it_at_a_commit_and_the_next_run_resumes() {
    let (s, url_args) = slow_site();
    let args: Vec<&str> = url_args.iter().map(String::as_str).collect();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = slow_config(tmp.path());
    let data = tmp.path().join("data");
    let mut w = watch(&data, &cfg, &args);
    wait_for_pages(&s, 5);
    let t = Instant::now();
    let lines = std::mem::replace(&mut w.lines, channel().1);
    let (status, stderr) = w.terminate();
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(t.elapsed() < Duration::from_secs(3), "stopped without finishing the run: {:?}", t.elapsed());
    let line = lines.recv_timeout(Duration::from_secs(5)).expect("the interrupted run's summary");
    let first: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!((first["interrupted"].as_bool(), first["stopped_early"].as_bool()), (Some(true), Some(true)), "{first}");
    let done = n(&first, "new");
    assert!((1..16).contains(&done), "{first}");
    let out = ok(notices(&data, &cfg).args(["stats", "--json"]));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["total"].as_u64(), Some(done), "what the run reported is committed");
    let out = ok(notices(&data, &cfg).arg("crawl").arg("--json").args(&args));
    let next: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(next["resumed"], true, "{next}");
    assert_eq!(n(&next, "new"), 16 - done, "{next}");
}

#[test]
fn a_watcher_killed_mid_crawl_leaves_a_readable_index_and_the_next_run_completes() {
    let (s, url_args) = slow_site();
    let args: Vec<&str> = url_args.iter().map(String::as_str).collect();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = slow_config(tmp.path());
    let data = tmp.path().join("data");
    let mut w = watch(&data, &cfg, &args);
    wait_for_pages(&s, 7);
    w.child.kill().unwrap(); // SIGKILL, mid-run
    w.child.wait().unwrap();
    assert!(w.lines.try_recv().is_err(), "killed before its first run ended");
    assert!(data.join("crawl.lock").exists(), "the dead process's lock file is left behind");

    // The index is readable.
    let out = ok(notices(&data, &cfg).args(["stats", "--json"]));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let before = stats["total"].as_u64().unwrap();
    assert!(before < 16, "{stats}");

    // The next run (a new watcher) takes over the stale lock, resumes and completes.
    s.clear_log();
    let mut w = watch(&data, &cfg, &args);
    let run = w.next_run();
    let (status, _) = w.terminate();
    assert!(status.success());
    assert_eq!(run["resumed"], true, "{run}");
    assert!(!run["stopped_early"].as_bool().unwrap(), "{run}");
    assert_eq!(n(&run, "new"), 16 - before, "{run}");
    let out = ok(notices(&data, &cfg).args(["stats", "--json"]));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["total"], 16, "{stats}");
    assert_eq!(export(&data, &cfg).len(), 16, "one document per notice");
}

#[test]
fn watch_arguments_are_checked_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "").unwrap();
    let data = tmp.path().join("data");
    for args in [
        &["crawl", "--watch", "--every", "soon"][..],
        &["crawl", "--watch", "--recrawl", "61 * * * *"],
        &["crawl", "--every", "1h"],
        &["crawl", "--watch", "--every", "1h", "--recrawl", "0 * * * *"],
        &["crawl", "--watch", "--source", "nope"],
    ] {
        let out = notices(&data, &cfg).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(!data.join("crawl.lock").exists(), "nothing was locked or crawled");
}

/// A digest of one item that links `url`.
fn digest_linking(url: &str) -> String {
    format!(
        " 医药信息篇（2020/5/11~2020/5/15）\n\n国家级\n\n1、国家药监局关于发布某项公告的通知（国家药监局）\n\n{url}\n \
         摘要：周报中的摘要文字。\n"
    )
}

#[test]
fn a_notice_from_a_digest_then_a_crawl_then_a_change_has_three_versions_under_one_id() {
    let s = nmpa_site();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path(), &s);
    let data = tmp.path().join("data");
    let id = index::Notice::id_for_url(&s.url(EDITED));

    // 1. The weekly digest names the page.
    let file = tmp.path().join("digest-2020-05-15.txt");
    std::fs::write(&file, digest_linking(&s.url(EDITED))).unwrap();
    ok(notices(&data, &cfg).arg("ingest").arg(&file));
    // 2. A crawl fetches it: the same notice, now with the page's text.
    let crawled: serde_json::Value =
        serde_json::from_slice(&ok(notices(&data, &cfg).args(["crawl", "--json"])).stdout).unwrap();
    assert_eq!((n(&crawled, "new"), n(&crawled, "changed")), (2, 1), "{crawled}");
    // 3. The page changes on the site; the next crawl sees it.
    let edited =
        String::from_utf8(fixture(EDITED)).unwrap().replace("<p>特此公告。</p>", "<p>本公告自发布之日起施行。</p>");
    serve(&s, EDITED, edited.into_bytes());
    let recrawled: serde_json::Value =
        serde_json::from_slice(&ok(notices(&data, &cfg).args(["crawl", "--json"])).stdout).unwrap();
    assert_eq!(n(&recrawled, "changed"), 1, "{recrawled}");

    let out = ok(notices(&data, &cfg).args(["show", &id, "--history", "--json"]));
    let versions: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let numbers: Vec<u64> = versions.iter().map(|v| n(v, "version")).collect();
    assert_eq!(numbers, [1, 2, 3], "{versions:#?}");
    let body = |i: usize| versions[i]["body"].as_str().unwrap().to_string();
    assert!(body(0).contains("周报中的摘要文字"), "the digest's version first: {}", body(0));
    assert!(body(1).contains("特此公告") && !body(1).contains("周报中的摘要文字"), "then the page's: {}", body(1));
    assert!(body(2).contains("本公告自发布之日起施行"), "then the changed page's: {}", body(2));
    let seen: Vec<&str> = versions.iter().map(|v| v["seen_at"].as_str().unwrap()).collect();
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "in order: {seen:?}");
    let text = String::from_utf8(ok(notices(&data, &cfg).args(["show", &id, "--history"])).stdout).unwrap();
    assert!(text.contains("version   3"), "{text}");

    // One id, and every crawled notice says when it was fetched.
    let all = export(&data, &cfg);
    assert_eq!(all.iter().filter(|n| n["id"] == id.as_str()).count(), 1);
    assert_eq!(all.len(), 3, "{all:#?}");
    for notice in &all {
        assert!(notice["fetched_at"].is_string(), "{notice}");
        assert!(notice["first_seen"].is_string(), "{notice}");
    }
    let stats = String::from_utf8(ok(notices(&data, &cfg).arg("stats")).stdout).unwrap();
    assert!(stats.contains("last crawl  20"), "{stats}");
    let json: serde_json::Value =
        serde_json::from_slice(&ok(notices(&data, &cfg).args(["stats", "--json"])).stdout).unwrap();
    let newest = all.iter().filter_map(|n| n["fetched_at"].as_str()).max().unwrap();
    assert_eq!(json["last_crawl"], newest, "{json}");
}

#[test]
fn an_ingest_killed_with_sigkill_at_any_point_loses_nothing_and_doubles_no_version() {
    let items = 900; // item numbers have at most three digits
    let mut digest = String::from(" 医药信息篇（2020/5/11~2020/5/15）\n\n国家级\n\n");
    for i in 1..=items {
        digest.push_str(&format!(
            "{i}、关于第{i}项工作的通知（某局）\n\nhttp://www.example.gov.cn/n{i}.html\n 第{i}项工作的摘要。\n\n"
        ));
    }
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("digest-2020-05-15.txt");
    std::fs::write(&file, digest).unwrap();
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "").unwrap();
    for (round, delay_ms) in [5u64, 30, 80, 150, 300].into_iter().enumerate() {
        let data = tmp.path().join(format!("data{round}"));
        let mut child =
            notices(&data, &cfg).arg("ingest").arg(&file).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL, wherever it is
        child.wait().unwrap();
        // Whatever the index holds now, it reads, and it is all or nothing.
        let held = export(&data, &cfg).len();
        assert!(held == 0 || held == items, "round {round}: {held} notices");
        // Run again: everything there, each notice with exactly one version.
        ok(notices(&data, &cfg).arg("ingest").arg(&file));
        let all = export(&data, &cfg);
        assert_eq!(all.len(), items);
        let history = crawler::history::History::open(&data.join("crawl.sqlite")).unwrap();
        for notice in &all {
            let id = notice["id"].as_str().unwrap();
            assert_eq!(history.versions(id).unwrap().len(), 1, "round {round}: {id}");
        }
    }
}
