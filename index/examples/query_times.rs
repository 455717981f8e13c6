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
//! `QUERIES=index/benches/mixed-queries.txt` takes the queries (the `q=`
//! of each line; filters and pages are ignored) from that file, and prints
//! p50/p99 over all of them as well. With `MIXED=1` each line is timed as
//! the server runs it, filters, sort and page included, and each line's
//! share of the summed medians is printed (where a load's time goes).
//! `MIXED=interleaved` runs the lines round-robin instead, as a server
//! meets them, and prints the mean time a search against the same lines
//! each repeated in a row, and what turning the results into JSON adds.

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
    let handles: Vec<(&str, NoticeIndex)> = vec![("", index.clone())];
    let mut queries: Vec<String> = std::env::args().skip(1).collect();
    if let Ok(how @ ("1" | "interleaved")) = std::env::var("MIXED").as_deref() {
        let file = std::env::var_os("QUERIES").ok_or("MIXED needs QUERIES=file")?;
        let text = std::fs::read_to_string(file)?;
        return if how == "1" { mixed(&index, &text, rounds) } else { interleaved(&index, &text, rounds) };
    }
    if let Some(file) = std::env::var_os("QUERIES") {
        let text = std::fs::read_to_string(file)?;
        for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let q = line.split('&').find_map(|p| p.strip_prefix("q=")).unwrap_or_default();
            if !q.is_empty() && !queries.iter().any(|x| x == q) {
                queries.push(q.to_string());
            }
        }
    }
    let mut all = vec![Vec::new(); handles.len()];
    for query in &queries {
        for &exact in modes {
            let req = SearchRequest { exact, ..SearchRequest::new(query.clone()) };
            // Warm the page cache, the facet tables and the thread's caches.
            for (_, h) in &handles {
                for _ in 0..20 {
                    h.search(&req)?;
                }
            }
            let mut times = vec![Vec::with_capacity(rounds); handles.len()];
            let mut total = 0;
            for _ in 0..rounds {
                for (i, (_, h)) in handles.iter().enumerate() {
                    let t = Instant::now();
                    total = h.search(&req)?.total;
                    times[i].push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
            for (a, t) in all.iter_mut().zip(&times) {
                a.extend_from_slice(t);
            }
            let how = if exact { "exact" } else { "expanded" };
            let medians: Vec<String> = handles
                .iter()
                .zip(&mut times)
                .map(|((label, _), t)| {
                    t.sort_by(f64::total_cmp);
                    let m = t[rounds / 2];
                    if label.is_empty() { format!("median {m:.3} ms") } else { format!("{label} {m:.3} ms") }
                })
                .collect();
            println!("{query} ({how}): {total} matches, {} over {rounds} searches", medians.join(", "));
        }
    }
    for ((label, _), t) in handles.iter().zip(&mut all).filter(|(_, t)| !t.is_empty()) {
        t.sort_by(f64::total_cmp);
        let at = |p: f64| t[((t.len() - 1) as f64 * p).round() as usize];
        println!(
            "all {} queries {label}: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            queries.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
    Ok(())
}

/// A request of the mixed load: `q=...&source=A,B&since=..&until=..&sort=..&offset=..`.
fn request(line: &str) -> Result<SearchRequest, Box<dyn std::error::Error>> {
    let mut req = SearchRequest::new(String::new());
    for part in line.split('&') {
        let (name, value) = part.split_once('=').ok_or("a parameter without =")?;
        match name {
            "q" => req.query = value.to_string(),
            "source" => req.sources = value.split(',').map(str::parse).collect::<Result<_, _>>()?,
            "since" => req.since = Some(index::parse_date(value, index::DateEnd::Start)?),
            "until" => req.until = Some(index::parse_date(value, index::DateEnd::End)?),
            "sort" => req.sort = value.parse()?,
            "offset" => req.offset = value.parse()?,
            other => return Err(format!("unknown parameter {other}").into()),
        }
    }
    Ok(req)
}

/// Mean time of a search over the lines each repeated ten times in a row,
/// then over the lines round-robin (caches hold one search's data less
/// long), and of serialising the results as the server does; medians of
/// `rounds` passes.
fn interleaved(index: &NoticeIndex, text: &str, rounds: usize) -> Result<(), Box<dyn std::error::Error>> {
    let reqs: Vec<SearchRequest> =
        text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(request).collect::<Result<_, _>>()?;
    let per_search = |t: f64| t * 1e6 / (reqs.len() * 10) as f64;
    let (mut repeated, mut round_robin, mut json) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        for req in &reqs {
            for _ in 0..10 {
                index.search(req)?;
            }
        }
        repeated.push(per_search(t.elapsed().as_secs_f64()));
        let (t, mut serialising) = (Instant::now(), 0.0);
        for _ in 0..10 {
            for req in &reqs {
                let results = index.search(req)?;
                let s = Instant::now();
                std::hint::black_box(serde_json::to_vec(&results)?);
                serialising += s.elapsed().as_secs_f64();
            }
        }
        round_robin.push(per_search(t.elapsed().as_secs_f64() - serialising));
        json.push(per_search(serialising));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "{} lines: {:.0} µs a search repeated in a row, {:.0} µs round-robin, JSON {:.0} µs",
        reqs.len(),
        median(&mut repeated),
        median(&mut round_robin),
        median(&mut json)
    );
    Ok(())
}

/// Times every line of the mixed load and prints its share of the total.
fn mixed(index: &NoticeIndex, text: &str, rounds: usize) -> Result<(), Box<dyn std::error::Error>> {
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let req = request(line)?;
        for _ in 0..5 {
            index.search(&req)?;
        }
        let mut times: Vec<f64> = (0..rounds)
            .map(|_| {
                let t = Instant::now();
                index.search(&req).map(|_| t.elapsed().as_secs_f64() * 1e3)
            })
            .collect::<Result<_, _>>()?;
        times.sort_by(f64::total_cmp);
        rows.push((times[rounds / 2], index.search(&req)?.total, line.to_string()));
    }
    let sum: f64 = rows.iter().map(|r| r.0).sum();
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, total, line) in &rows {
        println!("{ms:8.3} ms {:5.1} % {total:7} matches  {line}", ms / sum * 100.0);
    }
    println!(
        "sum of medians {sum:.2} ms over {} lines: {:.0} searches/s on one core",
        rows.len(),
        rows.len() as f64 / sum * 1e3
    );
    Ok(())
}
