//! `notices import` and `notices export` end to end: the exact round trip,
//! a malformed line (refused whole, or skipped and counted), and the
//! OpenSearch bulk file and template checked against the schema.

mod cli_support;

mod server_support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::Value;
use server_support::{fixtures, index_notices};

fn notices(data: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = cli_support::notices_at(data)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the notices binary runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn sample_digest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crawler/data/digest-2020-05-15.txt")
}

/// A data directory with the sample digest and the server fixtures (five
/// sources, a withdrawn notice, attachments, dates, fetch times).
fn corpus(root: &Path) -> PathBuf {
    let data = root.join("original");
    ok(notices(&data, &["ingest", sample_digest().to_str().unwrap()], None));
    index_notices(&data, &fixtures());
    data
}

fn ids(data: &Path, query: &str) -> Vec<String> {
    let out = notices(data, &["search", "--json", "--limit", "100", "--include-withdrawn", query], None);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["hits"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn export_then_import_into_an_empty_data_dir_is_an_exact_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let original = corpus(tmp.path());
    let exported = ok(notices(&original, &["export"], None));
    // The sample's NMPA item and a fixture are one page, hence one notice.
    let count = exported.lines().count();
    assert_eq!(count, 11 + fixtures().len() - 1);

    let file = tmp.path().join("notices.jsonl");
    std::fs::write(&file, &exported).unwrap();
    let copy = tmp.path().join("copy");
    let out = notices(&copy, &["import", file.to_str().unwrap()], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.contains(&format!("imported {count} notices")), "{stderr}");
    assert_eq!(ok(notices(&copy, &["export"], None)), exported, "export → import → export changes nothing");

    for q in ["一致性评价", "注射剂", "guidance", "专利", "2020年第62号", "data integrity"] {
        let want = ids(&original, q);
        assert!(!want.is_empty(), "{q} finds something");
        assert_eq!(ids(&copy, q), want, "same ids in the same order for {q}");
    }

    // From stdin, into a third directory: the same.
    let third = tmp.path().join("third");
    ok(notices(&third, &["import", "-"], Some(exported.as_bytes())));
    assert_eq!(ok(notices(&third, &["export"], None)), exported);
}

#[test]
fn a_malformed_line_is_named_and_nothing_of_the_file_is_committed() {
    let tmp = tempfile::tempdir().unwrap();
    let original = corpus(tmp.path());
    let exported = ok(notices(&original, &["export"], None));
    let mut lines: Vec<&str> = exported.lines().collect();
    let broken = lines[4].replacen("\"title\":", "\"titel\":", 1);
    lines[4] = &broken;
    let bad = lines.join("\n") + "\n";

    // Into a data dir that already holds notices: they stay as they were.
    let target = tmp.path().join("target");
    index_notices(&target, &fixtures()[..2]);
    let before = ok(notices(&target, &["export"], None));
    let out = notices(&target, &["import", "-"], Some(bad.as_bytes()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 5") && stderr.contains("missing field `title`"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert_eq!(ok(notices(&target, &["export"], None)), before, "nothing from the file was committed");

    // Not JSON at all, on the last line.
    let garbage = format!("{}\n{{\"id\": oops\n", lines[0]);
    let out = notices(&target, &["import", "-"], Some(garbage.as_bytes()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 2") && stderr.contains("column"), "{stderr}");

    // --skip-bad: the rest goes in, the bad line is counted.
    let out = notices(&target, &["import", "--skip-bad", "-"], Some(bad.as_bytes()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("1 bad lines skipped") && stderr.contains("line=5"), "{stderr}");
    let after = ok(notices(&target, &["export"], None));
    assert_eq!(after.lines().count(), exported.lines().count() - 1);

    // A file that does not exist is a usage error too.
    let out = notices(&target, &["import", tmp.path().join("nope.jsonl").to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn opensearch_bulk_and_template_match_the_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let original = corpus(tmp.path());
    let jsonl = ok(notices(&original, &["export"], None));
    let bulk = ok(notices(&original, &["export", "--format", "opensearch"], None));
    let template: Value =
        serde_json::from_str(&ok(notices(&original, &["export", "--opensearch-template"], None))).unwrap();
    let props = template["template"]["mappings"]["properties"].as_object().unwrap();
    assert_eq!(template["template"]["mappings"]["dynamic"], "strict");

    // Every schema field is in the template, or deliberately left out.
    let schema = index::schema::build();
    for (_, entry) in schema.fields() {
        let name = entry.name();
        let left_out = index::opensearch::NOT_MAPPED.iter().any(|(f, _)| *f == name);
        assert!(
            props.contains_key(name) != left_out,
            "schema field {name}: in the template {}",
            props.contains_key(name)
        );
    }
    for (field, kind) in [
        (index::schema::TITLE, "text"),
        (index::schema::BODY, "text"),
        (index::schema::ATTACHMENT_TEXT, "text"),
        (index::schema::SOURCE, "keyword"),
        (index::schema::DOC_NUMBER, "keyword"),
        (index::schema::PUBLISHED, "date"),
        (index::schema::FIRST_SEEN, "date"),
    ] {
        assert_eq!(props[field]["type"], kind, "{field}");
    }
    for field in [index::schema::TITLE, index::schema::BODY, index::schema::AGENCY] {
        assert_eq!(props[field]["analyzer"], "ik_max_word", "{field}");
        assert_eq!(props[field]["search_analyzer"], "ik_smart", "{field}");
        assert_eq!(props[field]["fields"]["en"]["analyzer"], "english", "{field}");
    }

    // Bulk: pairs of (action with _id, document), one pair per notice, in
    // the order of the JSON-lines export; every key of every document mapped.
    let lines: Vec<Value> = bulk.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let notices: Vec<Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2 * notices.len());
    for (pair, notice) in lines.chunks(2).zip(&notices) {
        let (action, doc) = (&pair[0], &pair[1]);
        assert_eq!(action.as_object().unwrap().len(), 1, "{action}");
        assert_eq!(action["index"]["_id"], notice["id"]);
        assert_eq!(action["index"]["_index"], "notices");
        assert_eq!(doc["id"], notice["id"]);
        assert_eq!(doc["title"], notice["title"]);
        assert_eq!(doc["source"], notice["source"]);
        for key in doc.as_object().unwrap().keys() {
            assert!(props.contains_key(key), "document key {key} is not in the template");
        }
        if let Some(date) = notice.get("published") {
            assert_eq!(&doc["published"], date);
        }
    }
    let name = "化学药品注射剂仿制药质量和疗效一致性评价技术要求";
    assert!(
        lines.iter().any(|d| d["attachment_text"].as_array().is_some_and(|a| a.iter().any(|t| t == name))),
        "the attachment's text is in its own field"
    );
}
