//! `notices backup` while a crawl is writing (a fixture site on
//! 127.0.0.1, slow enough that the crawl is mid-way): the backup restores,
//! holds every notice committed before it began, and its crawl state
//! claims nothing its index lacks. Also: logs piped to a file carry no
//! terminal escape codes.

mod cli_support;

#[path = "../crawler/tests/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crawler::state::CrawlState;
use index::{Notice, NoticeIndex};
use support::{FixtureServer, Response};

const BIN: &str = env!("CARGO_BIN_EXE_notices");

fn page(i: usize) -> String {
    format!(
        "<html><head><title>关于第{i}项工作的通知</title></head><body><div class=\"content\"><h1>关于第{i}项工作的通知</h1>\
         <p>第{i}号通知正文。为加强管理，现将有关事项通知如下，请遵照执行。</p><p>发布时间：2020-05-{:02}</p></div></body></html>",
        i % 28 + 1
    )
}

// Colour is left to the binary: a test here checks it stays off when piped.
fn notices(data: &Path, args: &[&str]) -> Output {
    cli_support::notices_at(data).args(args).output().expect("the notices binary runs")
}

fn committed_ids(data: &Path) -> BTreeSet<String> {
    let index = NoticeIndex::open_or_create(&data.join("index")).unwrap();
    index.reload().unwrap();
    index.all().unwrap().into_iter().map(|n| n.id).collect()
}

#[test]
fn a_backup_taken_during_a_crawl_restores_with_everything_committed_before_it() {
    let n = 40;
    let s = FixtureServer::start();
    let urls: Vec<String> = (0..n)
        .map(|i| {
            let path = format!("/notice/{i}.html");
            s.route(&path, Response::html(&page(i)).delayed(Duration::from_millis(120)));
            s.url(&path)
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "[crawl]\ncommit_every = 4\nread_timeout_ms = 5000\nrecheck_secs = 0\n").unwrap();
    let data = tmp.path().join("data");
    let mut crawl = Command::new(BIN);
    crawl.arg("--data-dir").arg(&data).arg("--config").arg(&cfg).args(["crawl", "--delay-ms", "0"]);
    for u in &urls {
        crawl.arg("--url").arg(u);
    }
    let mut child = crawl.env_remove("NOTICES_LOG").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();

    // Mid-way: a few commits made, most pages still to come.
    let t = Instant::now();
    let before = loop {
        if data.join("index/meta.json").exists() {
            let ids = committed_ids(&data);
            if ids.len() >= 8 {
                break ids;
            }
        }
        assert!(t.elapsed() < Duration::from_secs(60), "the crawl made no progress");
        std::thread::sleep(Duration::from_millis(20));
    };
    let backup = tmp.path().join("backup");
    let out = notices(&data, &["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(child.try_wait().unwrap().is_none(), "the crawl was still running when the backup ended");
    eprintln!("backup: {}", String::from_utf8_lossy(&out.stderr).trim());

    // Restore: the backup is a data directory; put it where the data goes.
    let restored = tmp.path().join("restored");
    let copied = Command::new("cp").arg("-a").arg(&backup).arg(&restored).status().unwrap();
    assert!(copied.success());
    let export = notices(&restored, &["export"]);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let ids: BTreeSet<String> = String::from_utf8(export.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<_> = before.difference(&ids).collect();
    assert!(missing.is_empty(), "committed before the backup began, missing from it: {missing:?}");
    assert!(ids.len() < n, "the backup is of a crawl mid-way ({} of {n})", ids.len());

    // The state copy claims nothing the index copy lacks.
    let state = CrawlState::open(&restored.join("crawl.sqlite")).unwrap();
    let index = NoticeIndex::open_or_create(&restored.join("index")).unwrap();
    let mut claimed = 0;
    for u in &urls {
        if state.get(u).unwrap().is_some_and(|r| r.content_hash.is_some()) {
            claimed += 1;
            assert!(index.get(&Notice::id_for_url(u)).unwrap().is_some(), "state claims {u}, the index lacks it");
        }
    }
    assert!(claimed > 0, "the state copy holds the crawl's progress");
    drop((state, index));
    let doctor = notices(&restored, &["doctor"]);
    assert_eq!(doctor.status.code(), Some(0), "{}", String::from_utf8_lossy(&doctor.stdout));

    // Into a directory that is not empty: refused, nothing touched.
    let again = notices(&data, &["backup", backup.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "{}", String::from_utf8_lossy(&again.stderr));

    let status = child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn crawl_warnings_piped_to_a_file_carry_no_escape_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(tmp.path().join("crawl.log")).unwrap();
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "[crawl]\nretries = 0\nconnect_timeout_ms = 500\n").unwrap();
    // Nothing listens on this port: the fetch fails with a warning.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let status = Command::new(BIN)
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .arg("--config")
        .arg(&cfg)
        .args(["crawl", "--delay-ms", "0", "--url", &format!("http://{closed}/notice.html")])
        .env_remove("NOTICES_LOG")
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .unwrap();
    let text = std::fs::read_to_string(tmp.path().join("crawl.log")).unwrap();
    assert!(text.contains("WARN"), "a warning was logged (exit {status}): {text}");
    assert!(!text.contains('\u{1b}'), "escape codes in a piped log: {text:?}");
}
