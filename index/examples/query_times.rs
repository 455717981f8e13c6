//! Median time of a few searches on an existing index, in one process:
//! the quick before/after check used for BENCHMARKS.md's optimisation
//! table (criterion's `search` bench is the full, slower one).
//!
//! ```sh
//! NOTICES_BENCH_INDEX=/tmp/notices-benchmarks/n100000-t2/index ROUNDS=200 \
//!   cargo run --release -p notices-index --example query_times -- 商标 validation '"一致性评价"'
//! ```
//!
//! `EXACT=both` times each query with and without cross-language expansion.

use std::time::Instant;

use index::{NoticeIndex, SearchRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::var_os("NOTICES_BENCH_INDEX").ok_or("set NOTICES_BENCH_INDEX to an index directory")?;
    let rounds: usize = std::env::var("ROUNDS").ok().map(|n| n.parse()).transpose()?.unwrap_or(50).max(1);
    let index = NoticeIndex::open_or_create(std::path::Path::new(&dir))?;
    // `EXACT=both` times each query without and with cross-language
    // expansion; `EXACT=1` only without.
    let modes: &[bool] = match std::env::var("EXACT").as_deref() {
        Ok("both") => &[true, false],
        Ok("1" | "true") => &[true],
        _ => &[false],
    };
    for query in std::env::args().skip(1) {
        for &exact in modes {
            let req = SearchRequest { exact, ..SearchRequest::new(query.clone()) };
            // Warm the page cache, the facet tables and the thread's caches.
            for _ in 0..20 {
                index.search(&req)?;
            }
            let mut times = Vec::with_capacity(rounds);
            let mut total = 0;
            for _ in 0..rounds {
                let t = Instant::now();
                total = index.search(&req)?.total;
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            times.sort_by(f64::total_cmp);
            let how = if exact { "exact" } else { "expanded" };
            println!("{query} ({how}): {total} matches, median {:.3} ms over {rounds} searches", times[rounds / 2]);
        }
    }
    Ok(())
}
