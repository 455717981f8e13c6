//! Warm query latency with facets on, over a fixed list of queries: single
//! Chinese words, sub-words, two-word AND, phrases, English words and
//! codes, document numbers, with and without source/date filters.
//!
//! Prints p50/p99 over all queries first, then criterion times each one.
//! The index is `$NOTICES_BENCH_INDEX` (an index directory, e.g. one built
//! by `index/benches/indexing.sh` at 100k notices), else 10k notices of the
//! corpus indexed into a temporary directory.
//!
//! `NOTICES_BENCH_INDEX=/tmp/notices-100k/index cargo bench -p notices-index --bench search`

mod common;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use index::{NoticeIndex, SearchRequest, Source};

/// (label, query, sources, since, until)
type Case = (&'static str, &'static str, &'static [Source], Option<&'static str>, Option<&'static str>);

const CASES: &[Case] = &[
    ("zh_word", "专利", &[], None, None),
    ("zh_word", "商标", &[], None, None),
    ("zh_word", "仿制药", &[], None, None),
    ("zh_word", "疫苗", &[], None, None),
    ("zh_word", "知识产权", &[], None, None),
    ("zh_word", "医疗器械", &[], None, None),
    ("zh_word", "注射剂", &[], None, None),
    ("zh_subword", "评价", &[], None, None),
    ("zh_subword", "产权", &[], None, None),
    ("zh_subword", "器械", &[], None, None),
    ("zh_subword", "审评", &[], None, None),
    ("zh_and", "专利 审查", &[], None, None),
    ("zh_and", "药品 注册", &[], None, None),
    ("zh_and", "疫苗 临床试验", &[], None, None),
    ("zh_and", "知识产权 保护", &[], None, None),
    ("zh_phrase", "\"一致性评价\"", &[], None, None),
    ("zh_phrase", "\"上市许可持有人\"", &[], None, None),
    ("zh_phrase", "\"国家知识产权局\"", &[], None, None),
    ("en_word", "validation", &[], None, None),
    ("en_word", "guidance", &[], None, None),
    ("en_word", "sterile", &[], None, None),
    ("en_code", "COVID-19", &[], None, None),
    ("en_code", "pre-IND", &[], None, None),
    ("en_phrase", "\"data integrity\"", &[], None, None),
    ("docnum", "2015年第7号", &[], None, None),
    ("docnum", "国知发保字〔2019〕15号", &[], None, None),
    ("docnum", "药审中心〔2021〕3号", &[], None, None),
    ("filtered", "专利", &[Source::Cnipa], None, None),
    ("filtered", "疫苗", &[], Some("2020-01-01"), None),
    ("filtered", "validation", &[Source::Fda], None, None),
    ("filtered", "一致性评价", &[Source::Nmpa, Source::Cde], Some("2015-01-01"), Some("2016-12-31")),
    ("filtered", "注射剂", &[Source::Nmpa], Some("2018-01-01"), None),
    ("filtered", "guidance", &[Source::Fda, Source::Eca], Some("2012-01-01"), Some("2013-12-31")),
];

fn request(case: &Case) -> SearchRequest {
    let date = |d: Option<&str>| d.map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("valid date"));
    let mut req = SearchRequest::new(case.1);
    req.sources = case.2.to_vec();
    req.since = date(case.3);
    req.until = date(case.4);
    req
}

fn open() -> (NoticeIndex, Option<tempfile::TempDir>) {
    if let Some(dir) = std::env::var_os("NOTICES_BENCH_INDEX") {
        let index = NoticeIndex::open_or_create(std::path::Path::new(&dir)).expect("index opens");
        return (index, None);
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let index = NoticeIndex::open_or_create(tmp.path()).expect("index");
    let (secs, bytes) = common::stream_into(&index, 10_000, 2);
    eprintln!("search bench: indexed 10k notices ({:.0} MB) in {secs:.1} s", bytes as f64 / 1e6);
    (index, Some(tmp))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn bench(c: &mut Criterion) {
    index::analyzer::warm_up();
    let (index, _tmp) = open();
    index.reload().expect("reload");
    let total = index.len().expect("count");
    let requests: Vec<SearchRequest> = CASES.iter().map(request).collect();
    // Warm the page cache and Tantivy's caches.
    for req in &requests {
        index.search(req).expect("search");
    }
    let mut all = Vec::new();
    let mut by_label: std::collections::BTreeMap<&str, Vec<Duration>> = Default::default();
    for _ in 0..30 {
        for (case, req) in CASES.iter().zip(&requests) {
            let t = Instant::now();
            let r = index.search(req).expect("search");
            let d = t.elapsed();
            std::hint::black_box(r);
            all.push(d);
            by_label.entry(case.0).or_default().push(d);
        }
    }
    all.sort();
    println!(
        "warm queries over {total} notices, {} queries x 30 rounds, facets on: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        CASES.len(),
        percentile(&all, 0.5).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3,
        all.last().expect("some").as_secs_f64() * 1e3,
    );
    for (label, mut ds) in by_label {
        ds.sort();
        println!(
            "  {label:<11} p50 {:.3} ms  p99 {:.3} ms",
            percentile(&ds, 0.5).as_secs_f64() * 1e3,
            percentile(&ds, 0.99).as_secs_f64() * 1e3
        );
    }
    let mut group = c.benchmark_group("query");
    group.sample_size(20).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
    for (i, (case, req)) in CASES.iter().zip(&requests).enumerate() {
        group.bench_function(format!("{i:02}_{}_{}", case.0, case.1.replace(['"', ' '], "_")), |b| {
            b.iter(|| index.search(req).expect("search").total)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
