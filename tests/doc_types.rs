//! End-to-end tests of the fields people filter by: document type, status
//! and comment periods, in `notices search`, `notices comments`, `notices
//! export`, the JSON API and the Atom feed, on a temp data directory.

mod cli_support;

mod server_support;

use std::path::Path;
use std::process::Output;

use chrono::NaiveDate;
use index::{DocType, Notice, Source, Status};
use serde_json::Value;
use server_support::{Server, enc, index_notices};

fn notices(data: &Path, args: &[&str]) -> Output {
    cli_support::run(data, args)
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Five notices about 药品: two FDA guidances (an open draft, a final one),
/// a CDE draft guideline, an NMPA announcement, and one unclassified.
fn fixtures() -> Vec<Notice> {
    let n = |i: u32, source: Source, t: Option<DocType>, s: Option<Status>, close: Option<&str>, date: &str| Notice {
        doc_type: t,
        status: s,
        comment_close: close.map(day),
        published: Some(day(date)),
        ..Notice::crawled(source, &format!("https://example.org/{i}"), format!("药品 通知 {i}"), "药品 正文")
    };
    vec![
        n(0, Source::Fda, Some(DocType::Guidance), Some(Status::Draft), Some("2020-06-30"), "2020-05-01"),
        n(1, Source::Fda, Some(DocType::Guidance), Some(Status::Final), None, "2019-03-11"),
        n(2, Source::Cde, Some(DocType::Guideline), Some(Status::Draft), Some("2020-08-15"), "2020-05-15"),
        n(3, Source::Nmpa, Some(DocType::Announcement), Some(Status::Final), None, "2020-05-14"),
        n(4, Source::Other("example.org".into()), None, None, None, "2020-05-13"),
    ]
}

fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    index_notices(dir.path(), &fixtures());
    dir
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("bad JSON {e}: {} / {}", String::from_utf8_lossy(&o.stdout), stderr(o)))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn numbers(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap().rsplit(' ').next().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn cli_search_filters_and_counts_types_statuses_and_open_comments() {
    let dir = data_dir();
    let search = |args: &[&str]| {
        let mut full = vec!["search", "药品", "--json"];
        full.extend_from_slice(args);
        let out = notices(dir.path(), &full);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}: {}", stderr(&out));
        json(&out)
    };
    let all = search(&[]);
    assert_eq!(all["total"], 5);
    assert_eq!(all["facets"]["doc_type"]["guidance"], 2);
    assert_eq!(all["facets"]["doc_type"]["unknown"], 1);
    assert_eq!(all["facets"]["status"]["draft"], 2);
    assert_eq!(all["facets"]["status"]["final"], 2);
    // Every hit has the three fields, null when unknown.
    for h in all["hits"].as_array().unwrap() {
        for k in ["doc_type", "status", "comment_close"] {
            assert!(h.get(k).is_some(), "{k} missing in {h}");
        }
    }
    let unknown = all["hits"].as_array().unwrap().iter().find(|h| h["source"] == "other/example.org").unwrap();
    assert_eq!((&unknown["doc_type"], &unknown["status"]), (&Value::Null, &Value::Null));

    assert_eq!(numbers(&search(&["--type", "guidance", "--type", "公告"])), ["0", "1", "3"]);
    assert_eq!(numbers(&search(&["--type", "guidance,guideline", "--status", "draft"])), ["0", "2"]);
    assert_eq!(numbers(&search(&["--status", "FINAL"])), ["1", "3"]);
    assert_eq!(numbers(&search(&["--comments-open=2020-06-01"])), ["0", "2"]);
    assert_eq!(numbers(&search(&["--comments-open=2020-07-01"])), ["2"]);
    let drafts = search(&["--status", "draft"]);
    let hit = drafts["hits"].as_array().unwrap().iter().find(|h| h["source"] == "CDE").unwrap();
    assert_eq!(
        (&hit["doc_type"], &hit["status"], &hit["comment_close"]),
        (&"guideline".into(), &"draft".into(), &"2020-08-15".into())
    );
    // `--comments-open` alone means today: every fixture period closed in 2020.
    let out = notices(dir.path(), &["search", "药品", "--comments-open"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // Text output names the type and the draft's deadline, and the facets.
    let out = notices(dir.path(), &["search", "药品", "--source", "CDE"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("指导原则 · draft, comments close 2020-08-15"), "{text}");
    assert!(text.contains("by type:   guideline 1") && text.contains("by status: draft 1"), "{text}");

    // Bad values: exit 2, one line naming the problem.
    for (args, needle) in [
        (&["--type", "memo"][..], "unknown document type \"memo\""),
        (&["--status", "pending"][..], "invalid status \"pending\""),
        (&["--comments-open=soon"][..], "invalid date \"soon\""),
    ] {
        let mut full = vec!["search", "药品"];
        full.extend_from_slice(args);
        let out = notices(dir.path(), &full);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn comments_lists_periods_closing_in_the_window_soonest_first() {
    let dir = data_dir();
    let out = notices(dir.path(), &["comments", "--on", "2020-05-20", "--within", "120d", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["total"], 2);
    let closes: Vec<&str> =
        v["notices"].as_array().unwrap().iter().map(|n| n["comment_close"].as_str().unwrap()).collect();
    assert_eq!(closes, ["2020-06-30", "2020-08-15"]);
    assert_eq!(v["notices"][0]["url"], "https://example.org/0");
    assert_eq!(v["notices"][0]["days_left"], 41);

    let out = notices(dir.path(), &["comments", "--on", "2020-05-20", "--within", "30d", "--source", "cde"]);
    assert_eq!(out.status.code(), Some(1), "nothing of CDE closes by 2020-06-19");
    let out = notices(dir.path(), &["comments", "--on", "2020-05-20", "--within", "6w"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("2020-06-30  (41 days left)  FDA  药品 通知 0\n    https://example.org/0\n"), "{text}");
    // After the last day nothing is open; a bad window is a usage error.
    let out = notices(dir.path(), &["comments", "--on", "2020-08-16", "--within", "365d"]);
    assert_eq!(out.status.code(), Some(1));
    let out = notices(dir.path(), &["comments", "--within", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--within"), "{}", stderr(&out));
}

#[test]
fn export_round_trips_the_fields() {
    let started = chrono::Utc::now() - chrono::Duration::seconds(1);
    let dir = data_dir();
    let out = notices(dir.path(), &["export"]);
    assert!(out.status.success());
    let exported: Vec<Notice> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // What the store stamped on the way in: when each page was fetched, and
    // first seen (now); the rest must come back as it went in.
    let mut want = fixtures();
    for n in &mut want {
        n.fetched_at = Some(server_support::fetched());
    }
    let mut got = exported;
    want.sort_by(|a, b| a.id.cmp(&b.id));
    got.sort_by(|a, b| a.id.cmp(&b.id));
    for (w, g) in want.iter_mut().zip(&got) {
        let seen = g.first_seen.unwrap_or_else(|| panic!("{} has no first_seen", g.id));
        assert!(seen >= started, "{} first seen {seen}, before the test began", g.id);
        w.first_seen = g.first_seen;
    }
    assert_eq!(got, want);
}

#[test]
fn api_and_feed_filter_and_bad_values_are_400s_naming_the_parameter() {
    let dir = data_dir();
    let server = Server::start(dir.path());
    let q = enc("药品");
    let all = server.get_ok(&format!("/api/search?q={q}"));
    assert_eq!(all["facets"]["doc_type"]["announcement"], 1);
    assert_eq!(all["facets"]["status"]["unknown"], 1);
    let v = server.get_ok(&format!("/api/search?q={q}&type=guidance,guideline&status=draft"));
    assert_eq!(numbers(&v), ["0", "2"]);
    let v = server.get_ok(&format!("/api/search?q={q}&type=guidance&type=announcement"));
    assert_eq!(numbers(&v), ["0", "1", "3"]);
    let v = server.get_ok(&format!("/api/search?q={q}&comments_open=2020-07-01"));
    assert_eq!(numbers(&v), ["2"]);
    assert_eq!(v["hits"][0]["comment_close"], "2020-08-15");

    let id = Notice::id_for_url("https://example.org/2");
    let n = server.get_ok(&format!("/api/notices/{id}"));
    assert_eq!(
        (&n["doc_type"], &n["status"], &n["comment_close"]),
        (&"guideline".into(), &"draft".into(), &"2020-08-15".into())
    );
    let id = Notice::id_for_url("https://example.org/4");
    let n = server.get_ok(&format!("/api/notices/{id}"));
    assert_eq!((&n["doc_type"], &n["status"], &n["comment_close"]), (&Value::Null, &Value::Null, &Value::Null));

    let labels = server.get_ok("/api/labels");
    assert_eq!(labels["doc_type"][0], serde_json::json!({"id": "announcement", "zh": "公告", "en": "Announcement"}));
    assert_eq!(labels["status"].as_array().unwrap().len(), 2);

    for (params, parameter, code) in [
        ("&type=memo", "type", "unknown_type"),
        ("&status=pending", "status", "invalid_status"),
        ("&status=draft&status=final", "status", "repeated_parameter"),
        ("&comments_open=soon", "comments_open", "invalid_date"),
    ] {
        let r = server.get(&format!("/api/search?q={q}{params}"));
        assert_eq!(r.status, 400, "{params}: {}", r.text());
        let body = r.json();
        assert_eq!((body["parameter"].as_str(), body["error"].as_str()), (Some(parameter), Some(code)), "{body}");
    }

    let feed = server.get(&format!("/feed.atom?q={q}&type=guidance&status=final"));
    assert_eq!(feed.status, 200);
    let xml = feed.text();
    assert_eq!(xml.matches("<entry>").count(), 1, "{xml}");
    assert!(xml.contains("https://example.org/1") && xml.contains(r#"term="guidance""#), "{xml}");
    let bad = server.get("/feed.atom?type=memo");
    assert_eq!((bad.status, bad.json()["parameter"].as_str()), (400, Some("type")));
}
