//! End-to-end tests of `notices ingest`, `search`, `stats`, `show` and
//! `export`: the built binary, run in a temporary data directory, on the
//! sample digest the project ships.

mod cli_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_notices");

fn sample_digest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crawler/data/digest-2020-05-15.txt")
}

fn notices(data: &Path, args: &[&str]) -> Output {
    cli_support::run(data, args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// One data directory with the sample ingested, shared by the read-only tests.
fn sample_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = notices(dir.path(), &["ingest", sample_digest().to_str().unwrap()]);
        assert!(out.status.success(), "ingest failed: {}", stderr(&out));
        dir
    })
    .path()
}

fn search_json(args: &[&str]) -> Value {
    let mut full = vec!["search", "--json"];
    full.extend_from_slice(args);
    let out = notices(sample_dir(), &full);
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1), "{args:?}: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{args:?}: bad JSON {e}: {}", stdout(&out)))
}

fn titles(v: &Value) -> Vec<String> {
    v["hits"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap().to_string()).collect()
}

fn export_all() -> Vec<Value> {
    let out = notices(sample_dir(), &["export"]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn the_sample_digest_gives_its_eleven_items() {
    let all = export_all();
    assert_eq!(all.len(), 11, "{all:#?}");
    let by_url = |url: &str| all.iter().find(|n| n["url"] == url).unwrap_or_else(|| panic!("no notice with url {url}"));
    let expect = [
        ("https://www.sdtjpt.cn/news/detail/5696.html", "other/www.sdtjpt.cn", Some("2020-05-11")),
        (
            "http://jxj.beijing.gov.cn/jxdt/tzgg/202005/t20200514_1897545.html",
            "other/jxj.beijing.gov.cn",
            Some("2020-05-14"),
        ),
        ("http://www.cde.org.cn/news.do?method=viewInfoCommon&id=315065", "CDE", None),
        ("http://www.cde.org.cn/news.do?method=viewInfoCommon&id=315067", "CDE", None),
        ("http://www.cde.org.cn/news.do?method=viewInfoCommon&id=315068", "CDE", None),
        ("http://www.nmpa.gov.cn/WS04/CL2138/377442.html", "NMPA", None),
        (
            "https://www.fda.gov/regulatory-information/search-fda-guidance-documents/covid-19-developing-drugs-and-biological-products-treatment-or-prevention",
            "FDA",
            Some("2020-05-11"),
        ),
        (
            "https://www.gmp-compliance.org/gmp-news/audit-trail-in-the-centre-of-an-fda-warning-letter",
            "ECA",
            Some("2020-05-13"),
        ),
    ];
    for (url, source, date) in expect {
        let n = by_url(url);
        assert_eq!(n["source"], source, "{url}");
        assert_eq!(n["published"].as_str(), date, "{url}");
    }
    // The two CNIPA items have no URL in the digest, but a date and a source.
    let cnipa: Vec<&Value> = all.iter().filter(|n| n["source"] == "CNIPA").collect();
    assert_eq!(cnipa.len(), 2, "{cnipa:#?}");
    assert!(cnipa.iter().all(|n| n["published"] == "2020-05-13"), "{cnipa:#?}");
    let first = cnipa.iter().find(|n| n["doc_numbers"][0] == "国知战联办〔2020〕5号").expect("item 1 has its number");
    assert!(first["title"].as_str().unwrap().contains("推进计划"));
    // CDE item 1 has its three .docx attachments.
    let cde1 = by_url("http://www.cde.org.cn/news.do?method=viewInfoCommon&id=315065");
    assert_eq!(cde1["attachments"].as_array().unwrap().len(), 3, "{cde1:#?}");
    // The NMPA announcement keeps its number.
    let nmpa = by_url("http://www.nmpa.gov.cn/WS04/CL2138/377442.html");
    assert_eq!(nmpa["doc_numbers"][0], "2020年第62号");
}

#[test]
fn chinese_word_puts_the_nmpa_announcement_first_with_facets() {
    let v = search_json(&["一致性评价"]);
    let t = titles(&v);
    assert!(t[0].contains("一致性评价") && t[0].contains("2020年第62号"), "{t:?}");
    assert_eq!(v["hits"][0]["source"], "NMPA");
    assert!(v["hits"][0]["title_html"].as_str().unwrap().contains("<b>一致性评价</b>"), "{}", v["hits"][0]);
    assert!(v["facets"]["source"]["NMPA"].as_u64().unwrap() >= 1);
    assert!(v["took_ms"].is_number());
}

#[test]
fn sub_words_find_whole_words() {
    // 评价 is inside 一致性评价; 知识产权 inside 知识产权局.
    let v = search_json(&["评价"]);
    assert!(titles(&v).iter().any(|t| t.contains("一致性评价")), "{:?}", titles(&v));
    let v = search_json(&["审评"]);
    assert!(v["total"].as_u64().unwrap() >= 1);
    let v = search_json(&["知识产权"]);
    assert!(v["total"].as_u64().unwrap() >= 2);
}

#[test]
fn english_words_match_other_inflections() {
    for q in ["trails", "trail", "developed", "product", "consideration", "letters"] {
        let v = search_json(&[q]);
        assert!(v["total"].as_u64().unwrap() >= 1, "{q} found nothing");
    }
    let v = search_json(&["trails"]);
    assert_eq!(v["hits"][0]["source"], "ECA", "{:?}", titles(&v));
}

#[test]
fn full_width_query_matches_half_width_text() {
    let full = search_json(&["ＣＯＶＩＤ－１９"]);
    let half = search_json(&["COVID-19"]);
    assert!(half["total"].as_u64().unwrap() >= 2);
    assert_eq!(full["total"], half["total"]);
    assert!(full["hits"].as_array().unwrap().iter().all(|h| h["source"] == "FDA" || h["source"] == "ECA"));
}

#[test]
fn document_number_in_a_bracket_variant_comes_first() {
    for q in ["国知战联办[2020]5号", "国知战联办（2020）5号", "国知战联办〔2020〕5号"] {
        let v = search_json(&[q]);
        assert_eq!(v["hits"][0]["doc_numbers"][0], "国知战联办〔2020〕5号", "{q}: {:?}", titles(&v));
    }
    let v = search_json(&["2020年第６２号"]);
    assert_eq!(v["hits"][0]["source"], "NMPA");
}

#[test]
fn source_and_date_filters() {
    let v = search_json(&["COVID-19", "--source", "fda"]);
    assert!(v["total"].as_u64().unwrap() >= 1);
    assert!(v["hits"].as_array().unwrap().iter().all(|h| h["source"] == "FDA"));
    let v = search_json(&["通知", "--since", "2020-05-12", "--until", "2020-05-13"]);
    for h in v["hits"].as_array().unwrap() {
        let d = h["date"].as_str().expect("filtered hits have dates");
        assert!(("2020-05-12"..="2020-05-13").contains(&d), "{d}");
    }
    let all = search_json(&["通知"]);
    assert!(v["total"].as_u64() < all["total"].as_u64());
    let two = search_json(&["的", "--source", "CDE", "--source", "NMPA"]);
    assert_eq!(two["facets"]["source"].as_object().unwrap().len(), 2, "{}", two["facets"]);
}

#[test]
fn facet_counts_sum_to_the_total() {
    for q in ["的", "知识产权", "COVID-19", "药品 -注射剂"] {
        let v = search_json(&[q, "--limit", "2"]);
        let total = v["total"].as_u64().unwrap();
        for facet in ["source", "month"] {
            let sum: u64 = v["facets"][facet].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
            assert_eq!(sum, total, "{q} {facet}: {}", v["facets"]);
        }
        assert!(v["hits"].as_array().unwrap().len() <= 2);
    }
}

#[test]
fn phrases_exclusion_and_or() {
    let both = search_json(&["药品 OR 专利"]).get("total").unwrap().as_u64().unwrap();
    let drug = search_json(&["药品"]).get("total").unwrap().as_u64().unwrap();
    let patent = search_json(&["专利"]).get("total").unwrap().as_u64().unwrap();
    assert!(both >= drug.max(patent) && both <= drug + patent);
    let without = search_json(&["药品 -注射剂"]).get("total").unwrap().as_u64().unwrap();
    assert!(without < drug);
    let phrase = search_json(&["\"audit trail\""]);
    assert!(phrase["total"].as_u64().unwrap() >= 1);
    let reversed = search_json(&["\"trail audit\""]);
    assert_eq!(reversed["total"], 0);
}

#[test]
fn newest_sort_puts_dated_notices_in_order() {
    let v = search_json(&["的", "--sort", "newest", "--limit", "20"]);
    let dates: Vec<&str> = v["hits"].as_array().unwrap().iter().filter_map(|h| h["date"].as_str()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
}

#[test]
fn text_output_shows_title_source_date_url_snippet_and_facets() {
    let out = notices(sample_dir(), &["search", "一致性评价"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains(" 1. 国家药监局关于开展化学药品注射剂仿制药质量和疗效一致性评价工作的公告"), "{text}");
    assert!(text.contains("NMPA") && text.contains("2020年第62号") && text.contains("http://www.nmpa.gov.cn/"));
    assert!(text.contains("by source:") && text.contains("by month:"));
    assert!(!text.contains('\x1b'), "no ANSI escapes when piped");
}

#[test]
fn no_hits_exit_1() {
    let out = notices(sample_dir(), &["search", "zzzqqqxxx"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn bad_input_is_one_line_error_with_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["search", ""], "empty query"),
        (&["search", "   "], "empty query"),
        (&["search", "x", "--source", "WHO"], "CNIPA"),
        (&["search", "x", "--since", "not-a-date"], "not-a-date"),
        (&["search", "x", "--until", "2020-13-45"], "2020-13-45"),
        (&["search", "\"unbalanced"], "quote"),
        (&["search", "x", "--limit", "-1"], "limit"),
        (&["search", "x", "--limit", "100000"], "limit"),
        (&["search", "x", "--offset", "-5"], "offset"),
        (&["search", "x", "--sort", "popular"], "popular"),
        (&["search", "x", "--since", "2020-06-01", "--until", "2020-05-01"], "since"),
        (&["ingest", "/definitely/not/here.txt"], "/definitely/not/here.txt"),
        (&["show", "nope"], "nope"),
    ];
    for (args, needle) in cases {
        let out = notices(sample_dir(), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn empty_index_is_built_from_the_bundled_sample() {
    let dir = tempfile::tempdir().unwrap();
    let out = notices(dir.path(), &["search", "一致性评价", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("sample"), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["hits"][0]["source"], "NMPA");
    // Only once: the second search says nothing of the sample, only what
    // the glossary added; `--exact` adds nothing, so says nothing.
    let out = notices(dir.path(), &["search", "一致性评价"]);
    assert_eq!(stderr(&out).trim(), "also searched: consistency evaluation", "{}", stderr(&out));
    let out = notices(dir.path(), &["search", "一致性评价", "--exact"]);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
    let stats = notices(dir.path(), &["stats", "--json"]);
    let s: Value = serde_json::from_str(&stdout(&stats)).unwrap();
    assert_eq!(s["total"], 11);
    assert_eq!(s["latest"], "2020-05-14");
}

#[test]
fn ingest_twice_keeps_one_document_per_notice() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = notices(dir.path(), &["ingest", sample_digest().to_str().unwrap()]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = notices(dir.path(), &["stats", "--json"]);
    let s: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(s["total"], 11);
}

#[test]
fn show_prints_a_notice_by_id() {
    let v = search_json(&["一致性评价"]);
    let id = v["hits"][0]["id"].as_str().unwrap();
    let out = notices(sample_dir(), &["show", id]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("2020年第62号"));
}

#[test]
fn ingest_refuses_a_file_that_is_not_a_digest_and_keeps_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let out = notices(dir.path(), &["ingest", sample_digest().to_str().unwrap()]);
    assert!(out.status.success());
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let out = notices(dir.path(), &["ingest", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("junk.bin: not a digest"), "{}", stderr(&out));
    let out = notices(dir.path(), &["stats", "--json"]);
    let s: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(s["total"], 11, "nothing lost");
}

#[test]
fn ranked_results_snapshot() {
    let mut ranked = Vec::new();
    for q in ["一致性评价", "知识产权", "COVID-19", "audit trail", "国知战联办[2020]5号", "指导原则 -适应性"]
    {
        let v = search_json(&[q]);
        let rows: Vec<String> = v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                format!(
                    "{} | {} | {}",
                    h["source"].as_str().unwrap(),
                    h["date"].as_str().unwrap_or("undated"),
                    h["title"].as_str().unwrap()
                )
            })
            .collect();
        ranked.push((q.to_string(), v["total"].as_u64().unwrap(), rows));
    }
    insta::assert_yaml_snapshot!(ranked);
}

#[test]
fn digest_of_the_sample_week_groups_the_eleven_items_as_the_original() {
    let out = notices(sample_dir(), &["digest", "--since", "2020-05-10", "--until", "2020-05-15"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = stdout(&out);
    let pos = |s: &str| md.find(s).unwrap_or_else(|| panic!("{s} missing from:\n{md}"));
    assert!(pos("知识产权信息篇") < pos("科技项目篇") && pos("科技项目篇") < pos("医药信息篇"), "{md}");
    for needle in [
        "2020年第62号",
        "国知战联办〔2020〕5号",
        "https://www.gmp-compliance.org/gmp-news/audit-trail-in-the-centre-of-an-fda-warning-letter",
    ] {
        pos(needle);
    }
    let html = notices(sample_dir(), &["digest", "--since", "2020-05-10", "--until", "2020-05-15", "--format", "html"]);
    assert!(stdout(&html).contains("<html") || stdout(&html).contains("<h1"), "{}", stdout(&html));
    let bad = notices(sample_dir(), &["digest", "--since", "2020-05-10", "--format", "odt"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn new_lists_recently_seen_notices() {
    let out = notices(sample_dir(), &["new", "--since", "1d", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["total"], 11);
    let out = notices(sample_dir(), &["new", "--since", "2099-01-01"]);
    assert_eq!(out.status.code(), Some(1));
    let out = notices(sample_dir(), &["new", "--since", "soon"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn data_dir_precedence_is_file_then_env_then_flag() {
    let root = tempfile::tempdir().unwrap();
    let (a, b, c) = (root.path().join("a"), root.path().join("b"), root.path().join("c"));
    let config = root.path().join("config.toml");
    std::fs::write(&config, format!("data_dir = {:?}\n", a.to_str().unwrap())).unwrap();
    let run = |env: Option<&Path>, flag: Option<&Path>| {
        let mut cmd = Command::new(BIN);
        cmd.arg("--config").arg(&config).env_remove("NOTICES_DATA_DIR").env_remove("NOTICES_CONFIG");
        if let Some(e) = env {
            cmd.env("NOTICES_DATA_DIR", e);
        }
        if let Some(f) = flag {
            cmd.arg("--data-dir").arg(f);
        }
        let out = cmd.args(["search", "一致性评价"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    run(None, None);
    assert!(a.join("index/meta.json").exists(), "file's data_dir used");
    run(Some(&b), None);
    assert!(b.join("index/meta.json").exists(), "env beats file");
    run(Some(&b), Some(&c));
    assert!(c.join("index/meta.json").exists(), "flag beats env");
    // A config file with an unknown key is a usage error naming the file.
    std::fs::write(&config, "dat_dir = \"x\"\n").unwrap();
    let out = Command::new(BIN).arg("--config").arg(&config).args(["stats"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("config.toml"), "{}", stderr(&out));
}
