//! Median time of a few searches on an existing index, in one process:
//! the quick before/after check used for BENCHMARKS.md's optimisation
//! table (criterion's `search` bench is the full, slower one).
//!
//! ```sh
//! NOTICES_BENCH_INDEX=/tmp/notices-benchmarks/n100000-t2/index ROUNDS=200 \
//!   cargo run --release -p notices-index --example query_times -- 商标 validation '"一致性评价"'
//! ```

use std::time::Instant;

use index::{NoticeIndex, SearchRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::var_os("NOTICES_BENCH_INDEX").ok_or("set NOTICES_BENCH_INDEX to an index directory")?;
    let rounds: usize = std::env::var("ROUNDS").ok().map(|n| n.parse()).transpose()?.unwrap_or(50).max(1);
    let index = NoticeIndex::open_or_create(std::path::Path::new(&dir))?;
    for query in std::env::args().skip(1) {
        let req = SearchRequest::new(query.clone());
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
        println!("{query}: {total} matches, median {:.3} ms over {rounds} searches", times[rounds / 2]);
    }
    Ok(())
}
