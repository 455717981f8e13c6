//! `notices serve --recrawl-every`: scheduled re-crawls inside a running
//! server, against the NMPA fixture site on 127.0.0.1; the server's
//! searches see each run's commits without a restart, a CLI crawl started
//! meanwhile is refused or runs between the server's runs (never two
//! writers), and SIGTERM stops both.

#[path = "../crawler/tests/support/mod.rs"]
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{FixtureServer, Response};

const BIN: &str = env!("CARGO_BIN_EXE_notices");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/crawler/tests/fixtures/nmpa");
const LIST: &str = "/xxgk/ggtg/index.html";
const LIST2: &str = "/xxgk/ggtg/index_1.html";
const PAGES: [&str; 3] = [
    "/xxgk/ggtg/qtggtg/20200514170101220.html",
    "/xxgk/ggtg/ylqxggtg/20200512093015146.html",
    "/xxgk/ggtg/qtggtg/20200430160212187.html",
];
const ADDED: &str = "/xxgk/ggtg/qtggtg/20200515103012456.html";

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn config(dir: &Path, s: &FixtureServer) -> PathBuf {
    let path = dir.join("config.toml");
    let text = format!(
        "[crawl]\nfetch_attachments = false\ndelay_ms = 0\nretries = 0\nrecheck_secs = 0\nmax_crawl_delay_secs = 0\n\n\
         [crawl.sources.nmpa]\nstart_urls = [\"{}\"]\n\
         [crawl.sources.cnipa]\nenabled = false\n[crawl.sources.cde]\nenabled = false\n\
         [crawl.sources.fda]\nenabled = false\n[crawl.sources.eca]\nenabled = false\n",
        s.url(LIST)
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// GET on the server, the body as JSON.
fn get_json(addr: &str, target: &str) -> serde_json::Value {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn total(addr: &str, q: &str) -> u64 {
    let q: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
    get_json(addr, &format!("/api/search?q={q}&source=NMPA"))["total"].as_u64().unwrap()
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Serving {
    child: Child,
    addr: String,
}

fn start(data: &Path, cfg: &Path, every: &str) -> Serving {
    let mut child = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .arg("--config")
        .arg(cfg)
        .args(["serve", "--addr", "127.0.0.1:0", "--recrawl-every", every])
        .env("NOTICES_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the server says where it listens").unwrap();
        if let Some(rest) = line.split("on http://").nth(1) {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    Serving { child, addr }
}

#[test]
fn a_server_recrawls_on_schedule_and_its_searches_see_each_run() {
    let site = FixtureServer::start();
    for p in [LIST, LIST2].into_iter().chain(PAGES) {
        site.route(p, Response::bytes("text/html; charset=utf-8", fixture(p)));
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &site);
    let mut server = start(dir.path(), &cfg, "1s");

    // The first scheduled run indexes the site's three notices.
    wait_for("first re-crawl", Duration::from_secs(20), || total(&server.addr, "医疗器械拓展性临床试验") == 1);
    assert_eq!(total(&server.addr, "2020年第63号"), 0);

    // A notice added to the listing shows up after the next run, no restart.
    site.route(LIST, Response::bytes("text/html; charset=utf-8", fixture("/xxgk/ggtg/index.recrawl.html")));
    site.route(ADDED, Response::bytes("text/html; charset=utf-8", fixture(ADDED)));
    wait_for("the added notice", Duration::from_secs(20), || total(&server.addr, "2020年第63号") == 1);
    assert_eq!(site.requests_to(ADDED).len(), 1, "the new page is fetched once");

    // A CLI crawl meanwhile never makes two writers: it either runs between
    // the server's runs or is refused with the data directory named.
    let out =
        Command::new(BIN).arg("--data-dir").arg(dir.path()).arg("--config").arg(&cfg).args(["crawl"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || (out.status.code() == Some(2) && err.contains("already running")),
        "{:?}: {err}",
        out.status
    );
    // One document per notice: the sample's 11 + the site's 4 (62号 is in both,
    // under two URLs, so two notices).
    let stats = get_json(&server.addr, "/api/stats");
    assert_eq!(stats["by_source"]["NMPA"], 5, "{stats}");

    let pid = server.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_bad_schedule_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for args in [["--recrawl-every", "soon"], ["--recrawl", "61 * * * *"]] {
        let out = Command::new(BIN)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(args[1]), "{args:?}");
    }
}
