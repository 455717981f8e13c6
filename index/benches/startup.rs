//! Where a cold `notices search` spends its time, in one fresh process:
//! dictionary (and stemmer) ready, glossary maps built, index opened, first query, a second
//! (warm) query; then, for reference, what jieba-rs's `Jieba::new()`
//! costs (the dictionary load this crate no longer does).
//!
//! Not a criterion bench: each run is one cold start, so run it several
//! times (`index/benches/cold_search.sh` does, and takes medians).
//!
//! `NOTICES_BENCH_INDEX=/tmp/notices-100k/index cargo bench -p notices-index --bench startup`

mod common;

use std::time::Instant;

use index::{NoticeIndex, SearchRequest};

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let (dir, _tmp) = match std::env::var_os("NOTICES_BENCH_INDEX") {
        Some(dir) => (std::path::PathBuf::from(dir), None),
        None => {
            let tmp = tempfile::tempdir().expect("temp dir");
            let index = NoticeIndex::open_or_create(tmp.path()).expect("index");
            common::stream_into(&index, 200, 1);
            drop(index);
            eprintln!("startup: NOTICES_BENCH_INDEX not set, using 200 notices in a temporary index");
            (tmp.path().to_path_buf(), Some(tmp))
        }
    };
    let query = std::env::var("NOTICES_BENCH_QUERY").unwrap_or_else(|_| "一致性评价".to_string());
    let t = Instant::now();
    index::analyzer::warm_up();
    let dictionary = ms(t);
    // The glossary's lookup maps, built on the first expanded query.
    let glossary = index::glossary::warm_up().as_secs_f64() * 1e3;
    let t = Instant::now();
    let index = NoticeIndex::open_or_create(&dir).expect("index opens");
    let open = ms(t);
    let t = Instant::now();
    let first = index.search(&SearchRequest::new(query.as_str())).expect("search");
    let first_query = ms(t);
    let t = Instant::now();
    index.search(&SearchRequest::new(query.as_str())).expect("search");
    let second_query = ms(t);
    let t = Instant::now();
    std::hint::black_box(jieba_rs::Jieba::new());
    let jieba_new = ms(t);
    println!(
        "{{\"dictionary_ms\":{dictionary:.3},\"glossary_ms\":{glossary:.3},\"open_ms\":{open:.3},\"first_query_ms\":{first_query:.3},\"second_query_ms\":{second_query:.3},\"jieba_rs_new_ms\":{jieba_new:.3},\"hits\":{}}}",
        first.total
    );
}
