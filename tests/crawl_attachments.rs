//! Attachments end to end: `notices crawl` downloads the files a notice's
//! page links from a loopback server, reads them (real files made by real
//! producers: LibreOffice's .docx/.doc/.xlsx, Chromium's print-to-pdf of a
//! page set in Noto CJK, see `extract/tests/fixtures/PROVENANCE.md`), and a
//! phrase that only a file holds finds the notice. A truncated PDF and a
//! zip bomb are recorded as unreadable and the crawl exits 0.

mod cli_support;
#[path = "../crawler/tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::Path;

use cli_support::run;
use index::Notice;
use serde_json::Value;
use support::{FixtureServer, Response};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/extract/tests/fixtures");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(FIXTURES).join(name)).unwrap()
}

/// 64 MiB of zeros in a 64 KiB zip (the crawl's cap in this test: 16 MiB unzipped).
fn zip_bomb() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    zip.start_file("zeros.txt", options).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..64 {
        zip.write_all(&chunk).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The files of the notice: (path, link text, content type, bytes).
fn files() -> Vec<(&'static str, &'static str, &'static str, Vec<u8>)> {
    let ooxml = "application/vnd.openxmlformats-officedocument";
    vec![
        (
            "/files/table.docx",
            "附件1：原料药登记表",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            fixture("table.docx"),
        ),
        ("/files/chinese.pdf", "附件2：指导原则", "application/pdf", fixture("chinese.pdf")),
        ("/files/notice.doc", "附件3：编号说明", "application/msword", fixture("notice.doc")),
        ("/files/sheets.xlsx", "附件4：目录", ooxml, fixture("sheets.xlsx")),
        ("/files/broken.pdf", "附件5：残缺文件", "application/pdf", fixture("broken.pdf")),
        ("/files/bomb.zip", "附件6：压缩包", "application/zip", zip_bomb()),
    ]
}

fn site() -> FixtureServer {
    let s = FixtureServer::start();
    let mut links = String::new();
    for (path, name, ct, bytes) in files() {
        links.push_str(&format!("<p><a href=\"{path}\">{name}</a></p>"));
        s.route(path, Response::bytes(ct, bytes).validators());
    }
    s.route(
        "/notice/1.html",
        Response::html(&format!(
            "<html><head><title>关于发布附件的通知_测试站</title></head><body><div class=\"nav\">首页</div>\
             <div class=\"content\"><h1>关于发布附件的通知</h1><p>现将有关文件发布，详见附件。</p>\
             <p>发布时间：2020-05-14</p>{links}</div></body></html>"
        ))
        .validators(),
    );
    s
}

fn config(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[crawl]\nread_timeout_ms = 5000\nbackoff_base_ms = 20\nrecheck_secs = 0\n\
         [crawl.extract]\nmax_unzipped_bytes = 16777216\nmax_seconds = 20\n",
    )
    .unwrap();
    path
}

fn crawl(data: &Path, cfg: &Path, url: &str) -> String {
    let cfg = cfg.to_str().unwrap();
    let out = run(data, &["--config", cfg, "crawl", "--delay-ms", "0", "--url", url]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "crawl exits 0 with unreadable files: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn search(data: &Path, query: &str) -> Value {
    let out = run(data, &["search", query, "--json"]);
    // Exit 1: no results, with the JSON all the same.
    assert!(matches!(out.status.code(), Some(0 | 1)), "{query}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_phrase_only_an_attachment_holds_finds_its_notice_and_broken_files_are_recorded() {
    let s = site();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let cfg = config(tmp.path());
    let url = s.url("/notice/1.html");
    let id = Notice::id_for_url(&url);

    let report = crawl(&data, &cfg, &url);
    assert!(report.contains("attachments: 6 read"), "{report}");
    assert!(report.contains("4 with text, 0 without, 2 unreadable"), "{report}");
    assert!(report.contains("malformed"), "the broken PDF's reason is shown: {report}");
    assert!(report.contains("zip_bomb"), "the zip bomb's reason is shown: {report}");
    for (path, ..) in files() {
        let got = s.requests_to(path);
        assert_eq!(got.len(), 1, "{path} downloaded once");
        assert_eq!(got[0].method, "GET");
    }

    // Each phrase is in one file only, never in the page.
    for (phrase, file) in [
        ("\"化学原料药登记号查询\"", "附件1：原料药登记表"),
        ("\"request a bioequivalence waiver\"", "附件1：原料药登记表"),
        // Wrapped across lines in the PDF, and written with Kangxi radicals.
        ("\"确保文件要求落实到位\"", "附件2：指导原则"),
        ("\"广东省人民政府食品药品监督管理局文件\"", "附件2：指导原则"),
        ("\"医疗器械注册证编号的编排方式\"", "附件3：编号说明"),
        ("\"亚硝胺杂质超出可接受摄入量\"", "附件4：目录"),
        ("\"NDMA impurity above the acceptable intake limit\"", "附件4：目录"),
    ] {
        let r = search(&data, phrase);
        assert_eq!(r["total"], 1, "{phrase}: {r}");
        let hit = &r["hits"][0];
        assert_eq!(hit["id"], id.as_str(), "{phrase}");
        assert_eq!(hit["matched_attachment"]["name"], file, "{phrase}: {hit}");
        assert!(
            hit["snippet_html"].as_str().unwrap().contains("<b>"),
            "{phrase}: the snippet is the attachment's: {hit}"
        );
        for a in hit["attachments"].as_array().unwrap() {
            assert!(a["file"].get("text").is_none(), "hits carry no attachment text: {a}");
        }
    }
    // A title match outranks an attachment match (attachments weigh less).
    let r = search(&data, "附件");
    assert_eq!(r["hits"][0]["id"], id.as_str());
    assert!(r["hits"][0].get("matched_attachment").is_none(), "the body matched: {}", r["hits"][0]);

    // `show` lists each file with its type, size and what was read.
    let out = run(&data, &["show", &id]);
    let shown = String::from_utf8_lossy(&out.stdout);
    for want in ["docx, ", "pdf, ", "doc, ", "xlsx, ", "text extracted: ", "error: malformed: ", "error: zip_bomb: "] {
        assert!(shown.contains(want), "{want:?} not in:\n{shown}");
    }
    assert_eq!(shown.matches("text extracted: ").count(), 4, "{shown}");

    // A re-crawl asks conditionally; unchanged files are neither downloaded nor read again.
    s.clear_log();
    let report = crawl(&data, &cfg, &url);
    for (path, ..) in files() {
        let got = s.requests_to(path);
        assert_eq!(got.len(), 1, "{path}: {report}");
        assert!(got[0].conditional(), "{path} asked with its validators");
    }
    assert!(report.contains("0 read") && report.contains("6 unchanged"), "{report}");
    assert_eq!(search(&data, "\"化学原料药登记号查询\"")["total"], 1, "the text stays after a 304");

    // A newer extractor reads the kept copies again, without a download.
    s.clear_log();
    let out = run(&data, &["--config", cfg.to_str().unwrap(), "reextract", "--all", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let done: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((done["read_again"].as_u64(), done["not_kept"].as_u64()), (Some(6), Some(0)), "{done}");
    assert_eq!(done["notices_changed"], 0, "the same extractor reads the same text: {done}");
    assert!(s.requests().is_empty(), "re-extraction downloads nothing");
    assert!(data.join("attachments").read_dir().unwrap().count() >= 12, "bytes and reading of each file kept");
}

#[test]
fn a_changed_attachment_is_read_again_and_its_old_text_goes() {
    let s = site();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let cfg = config(tmp.path());
    let url = s.url("/notice/1.html");
    crawl(&data, &cfg, &url);
    assert_eq!(search(&data, "\"医疗器械注册证编号的编排方式\"")["total"], 1);
    // The .doc is replaced by the .xls (other bytes, other validators).
    s.route("/files/notice.doc", Response::bytes("application/vnd.ms-excel", fixture("sheets.xls")).validators());
    let report = crawl(&data, &cfg, &url);
    assert!(report.contains("attachments: 1 read"), "{report}");
    assert!(report.contains("1 notices updated"), "{report}");
    assert_eq!(search(&data, "\"医疗器械注册证编号的编排方式\"")["total"], 0, "the old text is gone");
    assert_eq!(search(&data, "\"罕见病用药伊米苷酶\"")["total"], 1, "the new text is found");
}
