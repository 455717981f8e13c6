//! How long Tantivy takes to count a query's matches without scoring them,
//! next to counting and scoring the top 10 (no facets, no page): the floor
//! under a search's time on a large index (BENCHMARKS.md §14).
//!
//! Each word is looked up in the four text fields a search uses (the
//! glossary's translations left out, so the real search does more), the
//! words ANDed, withdrawn notices excluded, as `search.rs` builds it.
//!
//! ```sh
//! IX=…/index cargo run --release -p notices-index --example count_floor -- 药品 注册
//! ```

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
    let s = index.schema();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for word in &words {
        let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for name in [schema::TITLE, schema::BODY, schema::ATTACHMENT_TEXT, schema::AGENCY] {
            let term = Term::from_field_text(s.get_field(name)?, word);
            per_field.push((Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqsAndPositions))));
        }
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(per_field))));
    }
    let withdrawn = Term::from_field_u64(s.get_field(schema::WITHDRAWN)?, 1);
    clauses.push((Occur::MustNot, Box::new(TermQuery::new(withdrawn, IndexRecordOption::Basic))));
    let query = BooleanQuery::new(clauses);
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
