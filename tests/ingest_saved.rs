//! End-to-end tests of `notices ingest` on pages saved from a browser, MHTML
//! and WARC files and folders of them: the built binary in a temporary data
//! directory, on the fixtures of `crawler/tests/fixtures/saved/` (made by
//! chromium and wget, see their PROVENANCE.md).

mod cli_support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crawler/tests/fixtures/saved").join(name)
}

fn notices(data: &Path, args: &[&str]) -> Output {
    cli_support::run(data, args)
}

fn ingest(data: &Path, path: &Path) -> Output {
    notices(data, &["ingest", path.to_str().unwrap()])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn export(data: &Path) -> Vec<Value> {
    let out = notices(data, &["export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `search --json` hits' URLs (exit 1, no hits, gives none).
fn search(data: &Path, args: &[&str]) -> Vec<String> {
    let mut full = vec!["search", "--json"];
    full.extend_from_slice(args);
    let out = notices(data, &full);
    match out.status.code() {
        Some(1) => Vec::new(),
        Some(0) => {
            let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
            v["hits"].as_array().unwrap().iter().map(|h| h["url"].as_str().unwrap_or("").to_string()).collect()
        }
        other => panic!("{args:?}: exit {other:?}: {}", stderr(&out)),
    }
}

#[test]
fn a_saved_nmpa_page_is_indexed_once_and_its_furniture_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let out = ingest(dir.path(), &fixture("nmpa-62.html"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("new\tNMPA\t2020-05-14\t"), "{}", stdout(&out));
    assert!(stderr(&out).contains("1 new, 0 updated, 0 unchanged"), "{}", stderr(&out));
    let url = "https://www.nmpa.gov.cn/xxgk/ggtg/qtggtg/20200514170101220.html";
    assert_eq!(search(dir.path(), &["注射剂一致性评价", "--source", "NMPA"]), [url]);
    assert_eq!(search(dir.path(), &["2020年第62号"]), [url]);
    // Footer, share bar and the injected scripts are not indexed.
    for absent in ["镜像", "分享到", "window", "lcd", "nsd", "jquery"] {
        assert!(search(dir.path(), &[absent]).is_empty(), "{absent} was indexed");
    }
    // Again: an update, not a duplicate.
    let again = ingest(dir.path(), &fixture("nmpa-62.html"));
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stderr(&again).contains("0 new, 0 updated, 1 unchanged"), "{}", stderr(&again));
    let all = export(dir.path());
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["url"], url);
    assert_eq!(all[0]["title"], "国家药监局关于开展化学药品注射剂仿制药质量和疗效一致性评价工作的公告（2020年第62号）");
    assert_eq!(all[0]["published"], "2020-05-14");
}

#[test]
fn a_changed_saved_page_updates_its_notice() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    let text = std::fs::read_to_string(fixture("nmpa-62.html")).unwrap();
    std::fs::write(&page, &text).unwrap();
    let data = dir.path().join("data");
    assert_eq!(ingest(&data, &page).status.code(), Some(0));
    std::fs::write(&page, text.replace("特此公告。", "特此公告。自2020年10月1日起施行。")).unwrap();
    let out = ingest(&data, &page);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("0 new, 1 updated"), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("updated\tNMPA"), "{}", stdout(&out));
    let all = export(&data);
    assert_eq!(all.len(), 1);
    assert!(all[0]["body"].as_str().unwrap().contains("自2020年10月1日起施行"));
}

#[test]
fn a_folder_is_ingested_past_its_refusals_with_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = ingest(dir.path(), &fixture("folder"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("3 new, 0 updated, 0 unchanged; 2 refused (challenge page: 1, not HTML: 1)"), "{err}");
    assert!(err.contains("nmpa-blocked.html: an anti-bot challenge page"), "{err}");
    assert!(err.contains("notes.pdf: not an HTML page, MHTML or WARC file (a PDF document)"), "{err}");
    assert!(err.contains("warning:") && err.contains("cde-html-only.htm") && err.contains("other/saved"), "{err}");
    assert!(!err.contains(".js.download"), "companion folders are not read: {err}");
    let mut sources: Vec<String> =
        export(dir.path()).iter().map(|n| n["source"].as_str().unwrap().to_string()).collect();
    sources.sort();
    assert_eq!(sources, ["CDE", "ECA", "other/saved"]);
    assert_eq!(
        search(dir.path(), &["mission statement", "--source", "ECA"]),
        ["https://www.gmp-compliance.org/gmp-news/new-eca-mission-published"]
    );
    assert_eq!(search(dir.path(), &["适应性设计", "--since", "2020-05-15", "--until", "2020-05-15"]).len(), 1);
    assert_eq!(search(dir.path(), &["境外药品注册申请人", "--source", "other/saved"]).len(), 1);
    for absent in ["Heidelberg", "京ICP备09013725号", "当前位置", "Vienna"] {
        assert!(search(dir.path(), &[absent]).is_empty(), "{absent} was indexed");
    }
}

#[test]
fn an_mhtml_and_a_warc_are_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let out = ingest(dir.path(), &fixture("cde-snapshot.mhtml"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        search(dir.path(), &["受理审查指南", "--source", "CDE"]),
        ["http://www.cde.org.cn/main/news/viewInfoCommon/5e6f708192a3b4c5d6e7f8091a2b3c4d"]
    );
    let out = ingest(dir.path(), &fixture("session.warc.gz"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("3 new, 0 updated, 0 unchanged; 1 attachment files found in archives, 1 with text; 2 refused"),
        "{err}"
    );
    // The archived PDF is read as a crawl reads a download: a phrase only it holds finds its notice.
    assert_eq!(
        search(dir.path(), &["\"溶出曲线对比研究\""]),
        ["http://www.nmpa.gov.cn/xxgk/ggtg/qtggtg/20200514170101220.html"]
    );
    assert!(err.contains("challenge.html>: an anti-bot challenge page"), "{err}");
    assert!(err.contains("HTTP 404"), "{err}");
    assert_eq!(
        search(dir.path(), &["医疗器械拓展性临床试验"]),
        ["http://www.nmpa.gov.cn/xxgk/ggtg/ylqxggtg/20200512093015146.html"]
    );
    assert_eq!(search(dir.path(), &["audit trails", "--source", "ECA"]).len(), 1);
    assert_eq!(export(dir.path()).len(), 4);
}

#[test]
fn a_refused_single_file_exits_2_naming_it_and_digests_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = ingest(dir.path(), &fixture("folder/nmpa-blocked.html"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("nmpa-blocked.html: an anti-bot challenge page"), "{}", stderr(&out));
    let out = ingest(dir.path(), &fixture("folder/notes.pdf"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("notes.pdf: not a digest, saved page (.html, .mhtml) or WARC file (a PDF document)"),
        "{}",
        stderr(&out)
    );
    let out = ingest(dir.path(), &fixture("no-such-file.html"));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no-such-file.html"), "{}", stderr(&out));
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(ingest(dir.path(), &empty).status.code(), Some(2));
    // Nothing was stored by the refusals; a digest is still a digest.
    let digest = Path::new(env!("CARGO_MANIFEST_DIR")).join("crawler/data/digest-2020-05-15.txt");
    let out = ingest(dir.path(), &digest);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("indexed 11 notices"), "{}", stderr(&out));
    assert_eq!(export(dir.path()).len(), 11);
}
