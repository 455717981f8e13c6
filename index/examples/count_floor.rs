//! How long Tantivy takes to count a query's matches without scoring them,
//! next to counting and scoring the top 10 (no facets, no page): the floor
//! under a search's time on a large index (BENCHMARKS.md §14).
//!
//! Each word is cut by the query analyzer and looked up in the four text
//! fields a search uses (the glossary's translations left out, so the real
//! search does more), the words ANDed, withdrawn notices excluded, as
//! `search.rs` builds it.
//!
//! ```sh
//! IX=…/index cargo run --release -p notices-index --example count_floor -- 药品 注册
//! ```
//!
//! With `QUERIES=index/benches/mixed-queries.txt` instead of words, every
//! line's `q` is counted the same way (a quoted or multi-token word as a
//! phrase, `a OR b` as either, `-w` excluded; filters, sort and page left
//! out), then ranked, on one thread: the means are the least a search of
//! the server's mixed load can cost on this index, before any translation,
//! facet, snippet or byte of HTTP (BENCHMARKS.md §16).

mod common;

use common::median;
use index::schema;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Index, Term};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::var("IX").map_err(|_| "set IX to an index directory")?;
    let words: Vec<String> = std::env::args().skip(1).collect();
    let index = Index::open_in_dir(dir)?;
    index::analyzer::register(index.tokenizers());
    let searcher = index.reader()?.searcher();
    if let Ok(path) = std::env::var("QUERIES") {
        return load_floor(&searcher, &std::fs::read_to_string(path)?);
    }
    // The words ANDed, each cut by the query analyzer as a search cuts it.
    let query = line_query(&index.schema(), &words.join(" ")).ok_or("give words to search for")?;
    let executor = searcher.index().search_executor();
    let unscored = EnableScoring::disabled_from_searcher(&searcher);
    let scored = EnableScoring::enabled_from_searcher(&searcher);
    let (ms, n) = median(|| searcher.search_with_executor(&query, &Count, executor, unscored).unwrap_or(0));
    println!("{words:?}: {n} matches; count without scoring {ms:.3} ms");
    let top = (TopDocs::with_limit(10).order_by_score(), Count);
    let (ms, _) = median(|| searcher.search_with_executor(&query, &top, executor, scored).map(|r| r.1).unwrap_or(0));
    println!("{words:?}: top 10 by BM25 and the count {ms:.3} ms");
    Ok(())
}

/// One item (a word or a quoted phrase) on the four text fields, as the
/// query analyzer cuts it: one term, or the phrase of its tokens; a
/// glossary phrase that the index holds as one term (`data integr`) is that
/// term, as in the search.
fn item(s: &tantivy::schema::Schema, text: &str) -> Option<Box<dyn Query>> {
    use index::analyzer::{Mode, analyze};
    use tantivy::query::PhraseQuery;
    let mut tokens = analyze(text, Mode::Query);
    let joined = tokens.iter().map(|t| t.text.as_str()).collect::<Vec<_>>().join(" ");
    if tokens.len() > 1 && analyze(text, Mode::Index).iter().any(|t| t.text == joined) {
        tokens.truncate(1);
        tokens[0].text = joined;
    }
    let first = tokens.first()?.position;
    let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for name in [schema::TITLE, schema::BODY, schema::ATTACHMENT_TEXT, schema::AGENCY] {
        let field = s.get_field(name).ok()?;
        let q: Box<dyn Query> = if tokens.len() == 1 {
            Box::new(TermQuery::new(
                Term::from_field_text(field, &tokens[0].text),
                IndexRecordOption::WithFreqsAndPositions,
            ))
        } else {
            let terms = tokens.iter().map(|t| (t.position - first, Term::from_field_text(field, &t.text))).collect();
            Box::new(PhraseQuery::new_with_offset(terms))
        };
        per_field.push((Occur::Should, q));
    }
    Some(Box::new(BooleanQuery::new(per_field)))
}

/// The `q` of a line of the mixed load as a count-only query.
fn line_query(s: &tantivy::schema::Schema, q: &str) -> Option<BooleanQuery> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let items: Vec<&str> = if q.starts_with('"') { vec![q.trim_matches('"')] } else { q.split_whitespace().collect() };
    let mut i = 0;
    while i < items.len() {
        if items.get(i + 1) == Some(&"OR") && i + 2 < items.len() {
            let either: Vec<Box<dyn Query>> = [items[i], items[i + 2]].iter().filter_map(|w| item(s, w)).collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::union(either))));
            i += 3;
            continue;
        }
        match items[i].strip_prefix('-') {
            Some(w) => clauses.push((Occur::MustNot, item(s, w)?)),
            None => clauses.push((Occur::Must, item(s, items[i])?)),
        }
        i += 1;
    }
    let withdrawn = Term::from_field_u64(s.get_field(schema::WITHDRAWN).ok()?, 1);
    clauses.push((Occur::MustNot, Box::new(TermQuery::new(withdrawn, IndexRecordOption::Basic))));
    Some(BooleanQuery::new(clauses))
}

/// Counts every line's matches on one thread, unscored; prints each
/// line's median and the mean over the lines.
fn load_floor(searcher: &tantivy::Searcher, lines: &str) -> Result<(), Box<dyn std::error::Error>> {
    let s = searcher.schema();
    let unscored = EnableScoring::disabled_from_searcher(searcher);
    let scored = EnableScoring::enabled_from_searcher(searcher);
    let one_thread = tantivy::Executor::single_thread();
    let top = (TopDocs::with_limit(10).order_by_score(), Count);
    let (mut total, mut total_top, mut total_pruned) = (0.0, 0.0, 0.0);
    let mut n = 0;
    for line in lines.lines().filter(|l| l.starts_with("q=")) {
        let q = line[2..].split('&').next().unwrap_or_default();
        let Some(query) = line_query(s, q) else { continue };
        let (ms, count) = median(|| searcher.search_with_executor(&query, &Count, &one_thread, unscored).unwrap_or(0));
        let (ms_top, _) =
            median(|| searcher.search_with_executor(&query, &top, &one_thread, scored).map(|r| r.1).unwrap_or(0));
        // Without the count Tantivy may skip blocks that cannot reach the
        // top 10 (block-max WAND); a search would add the count's pass.
        let (ms_pruned, _) =
            median(|| searcher.search_with_executor(&query, &top.0, &one_thread, scored).map(|r| r.len()).unwrap_or(0));
        println!(
            "{q}: {count} matches; count without scoring {:.1} µs, top 10 by BM25 and the count {:.1} µs, top 10 alone {:.1} µs",
            ms * 1e3,
            ms_top * 1e3,
            ms_pruned * 1e3
        );
        total += ms;
        total_top += ms_top;
        total_pruned += ms_pruned;
        n += 1;
    }
    let n = n as f64;
    println!(
        "mean over {n} lines, one thread: count without scoring {:.1} µs, top 10 by BM25 and the count {:.1} µs, top 10 alone {:.1} µs",
        total / n * 1e3,
        total_top / n * 1e3,
        total_pruned / n * 1e3
    );
    Ok(())
}
