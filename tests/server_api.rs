//! `notices serve` over real HTTP on 127.0.0.1: every endpoint and filter,
//! facet sums, a commit showing up while the server runs, bad input, and a
//! graceful stop on SIGTERM.

mod server_support;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use crawler::store::{Arrival, NoticeStore};
use index::{Notice, Source};
use serde_json::Value;
use server_support::{BIN, NMPA_62, Server, enc, fixtures, index_notices, request};

fn start() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    index_notices(dir.path(), &fixtures());
    let server = Server::start(dir.path());
    (dir, server)
}

fn search(server: &Server, params: &str) -> Value {
    server.get_ok(&format!("/api/search?q={}{params}", enc("一致性评价")))
}

fn sources_of(v: &Value) -> Vec<String> {
    v["hits"].as_array().unwrap().iter().map(|h| h["source"].as_str().unwrap().to_string()).collect()
}

fn sum(map: &Value) -> u64 {
    map.as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum()
}

#[test]
fn search_ranks_highlights_filters_and_counts() {
    let (_dir, server) = start();

    let all = search(&server, "");
    assert_eq!(all["total"], 4, "{all}");
    let first = &all["hits"][0];
    assert_eq!(first["title"], NMPA_62);
    assert!(first["title_html"].as_str().unwrap().contains("<b>一致性评价</b>"), "{first}");
    assert!(first["snippet_html"].as_str().unwrap().contains("<b>"), "{first}");
    assert!(all["took_ms"].as_f64().unwrap() >= 0.0);
    // Facets count every match, not just the page, and add up to the total.
    assert_eq!(all["facets"]["source"], serde_json::json!({"CDE": 2, "NMPA": 1, "other/yjj.example.gov.cn": 1}));
    assert_eq!(all["facets"]["month"], serde_json::json!({"2020-03": 1, "2020-04": 1, "2020-05": 2}));
    let paged = search(&server, "&limit=1");
    assert_eq!(paged["hits"].as_array().unwrap().len(), 1);
    assert_eq!(sum(&paged["facets"]["source"]), paged["total"].as_u64().unwrap());
    assert_eq!(sum(&paged["facets"]["month"]), paged["total"].as_u64().unwrap());

    // One source, two sources (repeated or comma separated), case-insensitive.
    let cde = search(&server, "&source=CDE");
    assert_eq!(cde["total"], 2);
    assert_eq!(sources_of(&cde), ["CDE", "CDE"]);
    assert_eq!(cde["facets"]["month"], serde_json::json!({"2020-03": 1, "2020-04": 1}));
    assert_eq!(search(&server, "&source=cde&source=NMPA")["total"], 3);
    assert_eq!(search(&server, "&source=CDE,nmpa")["total"], 3);
    assert_eq!(search(&server, "&source=other%2Fyjj.example.gov.cn")["total"], 1);

    // Dates: a month, an open range, a year.
    let may = search(&server, "&since=2020-05&until=2020-05");
    assert_eq!(may["total"], 2);
    assert!(may["hits"].as_array().unwrap().iter().all(|h| h["date"].as_str().unwrap().starts_with("2020-05")));
    assert_eq!(search(&server, "&until=2020-04-20")["total"], 2);
    assert_eq!(search(&server, "&since=2020-04-21")["total"], 2);
    assert_eq!(search(&server, "&since=2021")["total"], 0);

    // Newest first.
    let newest = search(&server, "&sort=newest");
    let dates: Vec<&str> = newest["hits"].as_array().unwrap().iter().map(|h| h["date"].as_str().unwrap()).collect();
    assert_eq!(dates, ["2020-05-18", "2020-05-14", "2020-04-20", "2020-03-02"]);

    // Paging: the pages are disjoint and together are the whole list.
    let mut ids = Vec::new();
    for offset in 0..4 {
        let page = search(&server, &format!("&sort=newest&limit=1&offset={offset}"));
        assert_eq!((page["offset"].as_u64(), page["limit"].as_u64()), (Some(offset), Some(1)));
        ids.push(page["hits"][0]["id"].as_str().unwrap().to_string());
    }
    let expected: Vec<String> =
        newest["hits"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().into()).collect();
    assert_eq!(ids, expected);
    assert_eq!(search(&server, "&offset=4")["hits"].as_array().unwrap().len(), 0);

    // Withdrawn notices only when asked.
    assert_eq!(search(&server, "&include_withdrawn=true")["total"], 5);

    // English, phrases, exclusions.
    let en = server.get_ok("/api/search?q=%22clinical+trial%22");
    assert_eq!(sources_of(&en), ["FDA"]);
    assert_eq!(server.get_ok(&format!("/api/search?q={}", enc("一致性评价 -参比制剂")))["total"], 3);
}

#[test]
fn search_json_is_the_same_as_the_cli() {
    let (dir, server) = start();
    let api = search(&server, "&source=CDE&source=NMPA&sort=newest&limit=2");
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["search", "--json", "一致性评价", "-s", "CDE", "-s", "NMPA", "--sort", "newest", "-n", "2"])
        .env_remove("NOTICES_DATA_DIR")
        .env_remove("NOTICES_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut api = api;
    // Everything but the timing.
    cli.as_object_mut().unwrap().remove("took_ms");
    api.as_object_mut().unwrap().remove("took_ms");
    assert_eq!(api, cli);
}

#[test]
fn notices_stats_health_and_page() {
    let (_dir, server) = start();
    let id = Notice::id_for_url("http://www.nmpa.gov.cn/WS04/CL2138/377442.html");
    let n = server.get_ok(&format!("/api/notices/{id}"));
    assert_eq!(n["title"], NMPA_62);
    assert_eq!(n["source"], "NMPA");
    assert_eq!(n["url"], "http://www.nmpa.gov.cn/WS04/CL2138/377442.html");
    assert!(n["body"].as_str().unwrap().contains("未按照与原研药品质量和疗效一致原则审批"));
    assert_eq!(n["doc_numbers"], serde_json::json!(["2020年第62号"]));
    assert_eq!(n["attachments"][0]["url"], "http://www.nmpa.gov.cn/WS04/CL2138/377442/fj1.docx");
    assert_eq!(n["fetched_at"], "2020-05-15T08:30:00Z");
    assert_eq!(n["published"], "2020-05-14");

    let stats = server.get_ok("/api/stats");
    assert_eq!(stats["total"], 8);
    let by_source: BTreeMap<String, u64> = serde_json::from_value(stats["by_source"].clone()).unwrap();
    assert_eq!(by_source.values().sum::<u64>(), 8);
    assert_eq!(by_source["NMPA"], 2);
    assert_eq!(by_source["ECA"], 1);
    assert_eq!((stats["earliest"].as_str(), stats["latest"].as_str()), (Some("2020-03-02"), Some("2020-05-18")));
    assert_eq!(stats["last_commit"]["by"], "test");
    assert_eq!(stats["last_crawl"], "2020-05-15T08:30:00Z", "the newest fetched_at");

    // The search page's source list comes from the crawler's registry.
    let sources = server.get_ok("/api/sources");
    let labels: Vec<&str> = sources.as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["CNIPA", "CDE", "NMPA", "FDA", "ECA"]);
    assert_eq!(sources[2]["name"], "nmpa");
    assert_eq!(sources[2]["name_zh"], "国家药监局");
    assert!(sources[2]["hosts"].as_array().unwrap().contains(&serde_json::json!("www.nmpa.gov.cn")));

    let health = server.get_ok("/healthz");
    assert_eq!(health, serde_json::json!({"status": "ok", "notices": 8}));

    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.header("content-security-policy").unwrap().contains("script-src 'self'"));
    assert!(page.text().contains("搜索 Search"));
    for asset in ["/assets/app.js", "/assets/style.css"] {
        assert_eq!(server.get(asset).status, 200, "{asset}");
    }
    // HEAD works like GET, without a body.
    let head = request(&server.addr, "HEAD", b"/healthz", &[]);
    assert_eq!((head.status, head.body.len()), (200, 0));
}

#[test]
fn a_commit_while_the_server_runs_shows_up_without_restart() {
    let (dir, server) = start();
    assert_eq!(server.get_ok("/api/search?q=zebrafish")["total"], 0);
    assert_eq!(server.get_ok("/api/stats")["last_crawl"], "2020-05-15T08:30:00Z");
    // Another process's commit, as a crawl makes it: through the store.
    let mut store = NoticeStore::open(dir.path()).unwrap();
    let mut new = fixtures()[6].clone();
    new.id = Notice::id_for_url("https://www.fda.gov/zebrafish");
    new.title = "Zebrafish models in nonclinical safety studies".into();
    new.source = Source::Fda;
    store.accept(Arrival::fetched(new, chrono::Utc::now())).unwrap();
    store.close("crawl").unwrap();
    let committed = Instant::now();
    let seen = loop {
        if server.get_ok("/api/search?q=zebrafish")["total"] == 1 {
            break committed.elapsed();
        }
        assert!(committed.elapsed() < Duration::from_secs(5), "the commit never showed up");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(seen < Duration::from_millis(1500), "took {seen:?}");
    let stats = server.get_ok("/api/stats");
    assert_eq!(stats["last_commit"]["by"], "crawl");
    assert!(stats["last_crawl"].as_str().unwrap() > "2020-05-15T08:30:00Z", "{stats}");
    assert_eq!(server.get_ok("/healthz")["notices"], 9);
}

#[test]
fn bad_input_gets_a_json_400_or_404_never_a_500() {
    let (_dir, server) = start();
    let huge_cjk = enc(&"药".repeat(501));
    let huge_ascii = "a".repeat(20_000);
    let long_id = "x".repeat(200);
    let cases: Vec<(String, u16, &str, Option<&str>)> = vec![
        ("/api/search".into(), 400, "empty_query", Some("q")),
        ("/api/search?q=".into(), 400, "empty_query", Some("q")),
        ("/api/search?q=+++".into(), 400, "empty_query", Some("q")),
        (format!("/api/search?q={huge_cjk}"), 400, "query_too_long", Some("q")),
        (format!("/api/search?q={huge_ascii}"), 400, "query_too_long", Some("q")),
        ("/api/search?q=x&limit=-1".into(), 400, "out_of_range", Some("limit")),
        ("/api/search?q=x&limit=0".into(), 400, "out_of_range", Some("limit")),
        ("/api/search?q=x&limit=100000".into(), 400, "out_of_range", Some("limit")),
        ("/api/search?q=x&limit=ten".into(), 400, "invalid_number", Some("limit")),
        ("/api/search?q=x&offset=-5".into(), 400, "out_of_range", Some("offset")),
        ("/api/search?q=x&offset=10001".into(), 400, "out_of_range", Some("offset")),
        ("/api/search?q=x&offset=1e3".into(), 400, "invalid_number", Some("offset")),
        ("/api/search?q=x&since=not-a-date".into(), 400, "invalid_date", Some("since")),
        ("/api/search?q=x&until=2020-13".into(), 400, "invalid_date", Some("until")),
        ("/api/search?q=x&since=2020-02-30".into(), 400, "invalid_date", Some("since")),
        ("/api/search?q=x&since=2021&until=2020".into(), 400, "empty_date_range", Some("until")),
        ("/api/search?q=x&source=WHO".into(), 400, "unknown_source", Some("source")),
        ("/api/search?q=x&source=NMPA&source=%3Cscript%3E".into(), 400, "unknown_source", Some("source")),
        ("/api/search?q=x&source=other%2F".into(), 400, "unknown_source", Some("source")),
        ("/api/search?q=x&sort=oldest".into(), 400, "invalid_sort", Some("sort")),
        ("/api/search?q=x&include_withdrawn=maybe".into(), 400, "invalid_boolean", Some("include_withdrawn")),
        ("/api/search?q=%22abc".into(), 400, "unbalanced_quote", Some("q")),
        (format!("/api/search?q={}", enc("“一致性评价")), 400, "unbalanced_quote", Some("q")),
        ("/api/search?q=%FF%FE".into(), 400, "invalid_utf8", Some("q")),
        ("/api/search?q=%E4%B8".into(), 400, "invalid_utf8", Some("q")),
        ("/api/search?q=x&source=%C0%AF".into(), 400, "invalid_utf8", Some("source")),
        ("/api/search?q=x&%FF=1".into(), 400, "invalid_utf8", None),
        ("/api/search?q=x&limt=5".into(), 400, "unknown_parameter", None),
        ("/api/search?q=x&q=y".into(), 400, "repeated_parameter", Some("q")),
        ("/api/notices/%FF%FE".into(), 400, "invalid_id", Some("id")),
        (format!("/api/notices/{long_id}"), 400, "invalid_id", Some("id")),
        ("/api/notices/0123456789abcdef".into(), 404, "not_found", None),
        ("/api/notices/..%2F..%2F..%2Fetc%2Fpasswd".into(), 404, "not_found", None),
        // Path traversal and other files: only the embedded assets exist.
        ("/../../../../etc/passwd".into(), 404, "not_found", None),
        ("/assets/../../Cargo.toml".into(), 404, "not_found", None),
        ("/assets/..%2F..%2F..%2FCargo.toml".into(), 404, "not_found", None),
        ("/assets/%2e%2e/%2e%2e/Cargo.toml".into(), 404, "not_found", None),
        ("/assets/..%5C..%5CCargo.toml".into(), 404, "not_found", None),
        ("/%2e%2e/%2e%2e/etc/passwd".into(), 404, "not_found", None),
        ("/src/server/assets/app.js".into(), 404, "not_found", None),
        ("/assets/screenshot.png".into(), 404, "not_found", None),
        ("/Cargo.toml".into(), 404, "not_found", None),
        ("/api/notices".into(), 404, "not_found", None),
        ("/nope".into(), 404, "not_found", None),
    ];
    for (target, status, code, parameter) in &cases {
        let r = server.get(target);
        let shown: String = target.chars().take(80).collect();
        assert_eq!(r.status, *status, "{shown}: {}", r.text());
        assert!(r.header("content-type").unwrap().starts_with("application/json"), "{shown}");
        let body = r.json();
        assert_eq!(body["error"], *code, "{shown}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{shown}: {body}");
        if let Some(p) = parameter {
            assert_eq!(body["parameter"], *p, "{shown}: {body}");
            assert!(body["message"].as_str().unwrap().contains(p), "{shown}: the message names {p}: {body}");
        }
        let text = r.text();
        assert!(!text.contains("[package]") && !text.contains("root:x:"), "{shown} leaked a file");
    }

    // Raw bytes that are not UTF-8 at all (not percent-encoded).
    let r = request(&server.addr, "GET", b"/api/search?q=\xff\xfe", &[]);
    assert!(r.status == 400, "{}", r.status);
    // hyper refuses it before routing; the answer still says why.
    let code = r.json()["error"].as_str().unwrap_or_default().to_string();
    assert!(code == "invalid_utf8" || code == "bad_request", "{}", r.text());

    // Writes are refused, bodies are bounded.
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = request(&server.addr, method, b"/api/search?q=x", b"Content-Length: 0\r\n");
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.json()["error"], "method_not_allowed");
    }
    let mut big = b"Content-Length: 100000\r\n\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'x', 100_000));
    let r = request(&server.addr, "GET", b"/api/stats", &big[..big.len() - 2]);
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"], "body_too_large");

    // The server is still fine after all that.
    assert_eq!(server.get_ok("/healthz")["status"], "ok");
}

#[test]
fn sigterm_and_ctrl_c_stop_the_server_gracefully() {
    for signal in ["TERM", "INT"] {
        let (_dir, server) = start();
        assert_eq!(server.get_ok("/healthz")["status"], "ok");
        let addr = server.addr.clone();
        let (status, log) = server.stop(signal);
        assert!(status.success(), "SIG{signal}: {status:?}: {log}");
        assert!(log.contains("server stopped"), "SIG{signal}: {log}");
        assert!(std::net::TcpStream::connect(&addr).is_err(), "still listening after SIG{signal}");
    }
}

#[test]
fn it_listens_on_loopback_by_default_and_refuses_a_bad_address() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--addr", "not-an-address"])
        .env_remove("NOTICES_ADDR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid --addr"));
    let help = Command::new(BIN).args(["serve", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("127.0.0.1:7878"));
}

/// On the bundled sample (built when the index is empty), the notice the
/// issue names comes first for 一致性评价.
#[test]
fn on_the_sample_index_the_nmpa_notice_comes_first() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let r = server.get_ok(&format!("/api/search?q={}", enc("一致性评价")));
    assert!(r["total"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(r["hits"][0]["title"], NMPA_62, "{r}");
    assert!(r["hits"][0]["title_html"].as_str().unwrap().contains("<b>一致性评价</b>"));
}

#[test]
fn atom_feed_of_a_saved_search_is_valid_and_follows_new_commits() {
    let (dir, server) = start();
    let reply = server.get("/feed.atom?q=zebrafish");
    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").unwrap().starts_with("application/atom+xml"));
    let feed: atom_syndication::Feed = reply.text().parse().expect("valid Atom");
    assert!(feed.entries.is_empty());
    assert!(feed.id.ends_with("/feed.atom?q=zebrafish"), "{}", feed.id);

    let mut new = fixtures()[6].clone();
    new.id = Notice::id_for_url("https://www.fda.gov/zebrafish");
    new.url = Some("https://www.fda.gov/zebrafish".into());
    new.title = "Zebrafish models in nonclinical safety studies".into();
    new.source = Source::Fda;
    // First seen (by the store, now) a second after every fixture, so it heads the feed.
    std::thread::sleep(Duration::from_millis(1100));
    let mut store = NoticeStore::open(dir.path()).unwrap();
    store.accept(Arrival::fetched(new.clone(), chrono::Utc::now())).unwrap();
    store.close("crawl").unwrap();
    let started = Instant::now();
    let feed: atom_syndication::Feed = loop {
        let feed: atom_syndication::Feed = server.get("/feed.atom?q=zebrafish").text().parse().unwrap();
        if !feed.entries.is_empty() || started.elapsed() > Duration::from_secs(5) {
            break feed;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(feed.entries.len(), 1);
    let entry = &feed.entries[0];
    assert_eq!(entry.id, format!("urn:notices:{}", new.id), "stable entry id");
    assert_eq!(entry.links[0].href, "https://www.fda.gov/zebrafish");
    assert_eq!(entry.title.value, "Zebrafish models in nonclinical safety studies");

    // Without q it follows every notice, newest first seen first; filters apply.
    let all: atom_syndication::Feed = server.get("/feed.atom").text().parse().unwrap();
    let visible = fixtures().iter().filter(|n| !n.withdrawn).count() + 1;
    assert_eq!(all.entries.len(), visible);
    assert_eq!(all.entries[0].id, format!("urn:notices:{}", new.id));
    let fda: atom_syndication::Feed = server.get("/feed.atom?source=FDA").text().parse().unwrap();
    assert!(fda.entries.iter().all(|e| e.categories[0].term == "FDA"));
    // Bad parameters are JSON 400s like the API's.
    let bad = server.get("/feed.atom?source=WHO");
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["parameter"], "source");
}
