//! What matching on one field would save: a search's words are looked up
//! on four text fields (title, body, attachment text, agency), so every
//! word is a union of four posting lists. This copies an index's notices
//! into a scratch index with one field holding all four texts (and the
//! title again on its own), then times the same words both ways, top 10 by
//! BM25 plus the count, and the count alone (BENCHMARKS.md §15).
//!
//! ```sh
//! SRC=…/index DST=/tmp/one-field cargo run --release -p notices-index --example one_field -- 药品 注册
//! TITLE=1 …   # the combined field required, the title field optional (a title boost)
//! ```
//!
//! The scratch index is built on the first run (and merged into one
//! segment); later runs reuse it. Compare with an index of one segment
//! too (`merge_segments`), as segment count changes the times.

mod common;

use std::path::Path;
use std::time::Instant;

use common::median;
use index::{NoticeIndex, schema};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::{Executor, Index, IndexWriter, Searcher, TantivyDocument, Term};

/// Builds the one-field copy of the notices in `src` at `dst`.
fn build(src: &Path, dst: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let analysed = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(index::analyzer::ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let mut b = Schema::builder();
    let all = b.add_text_field("all", analysed.clone());
    let title = b.add_text_field("title", analysed);
    std::fs::create_dir_all(dst)?;
    let copy = Index::create_in_dir(dst, b.build())?;
    index::analyzer::register(copy.tokenizers());
    let mut writer: IndexWriter = copy.writer_with_num_threads(2, 400_000_000)?;
    let started = Instant::now();
    NoticeIndex::open_or_create(src)?.for_each_notice::<Box<dyn std::error::Error>>(|n| {
        let mut doc = TantivyDocument::default();
        doc.add_text(title, &n.title);
        doc.add_text(all, &n.title);
        doc.add_text(all, &n.body);
        for text in n.attachments.iter().filter_map(|a| a.file.as_ref()?.text.as_ref()) {
            doc.add_text(all, text);
        }
        if let Some(agency) = &n.agency {
            doc.add_text(all, agency);
        }
        writer.add_document(doc)?;
        Ok(())
    })?;
    writer.commit()?;
    writer.merge(&copy.searchable_segment_ids()?).wait()?;
    writer.wait_merging_threads()?;
    eprintln!("built {} in {:.1?}", dst.display(), started.elapsed());
    Ok(())
}

fn term(field: Field, word: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqsAndPositions))
}

fn time(label: &str, words: &[String], searcher: &Searcher, query: &dyn Query) {
    let single = Executor::SingleThread;
    let top = (TopDocs::with_limit(10).order_by_score(), Count);
    let scored = EnableScoring::enabled_from_searcher(searcher);
    let (ms, n) = median(|| searcher.search_with_executor(query, &top, &single, scored).map_or(0, |r| r.1));
    let unscored = EnableScoring::disabled_from_searcher(searcher);
    let (count, _) = median(|| searcher.search_with_executor(query, &Count, &single, unscored).unwrap_or(0));
    let segments = searcher.segment_readers().len();
    println!("{words:?} {label}: {n} matches, top 10 + count {ms:.3} ms, count {count:.3} ms ({segments} segments)");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let src = std::env::var_os("SRC").ok_or("set SRC to an index directory")?;
    let dst = std::env::var_os("DST").ok_or("set DST to a scratch directory")?;
    let (src, dst) = (Path::new(&src), Path::new(&dst));
    let words: Vec<String> = std::env::args().skip(1).collect();
    if !dst.join("meta.json").exists() {
        build(src, dst)?;
    }
    let four = Index::open_in_dir(src)?;
    let one = Index::open_in_dir(dst)?;
    let (s4, s1) = (four.schema(), one.schema());
    let (all, title) = (s1.get_field("all")?, s1.get_field("title")?);
    let optional_title = std::env::var_os("TITLE").is_some();
    let mut union: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut single: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for word in &words {
        let mut per_field: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for name in [schema::TITLE, schema::BODY, schema::ATTACHMENT_TEXT, schema::AGENCY] {
            per_field.push((Occur::Should, term(s4.get_field(name)?, word)));
        }
        union.push((Occur::Must, Box::new(BooleanQuery::new(per_field))));
        let one_word: Box<dyn Query> = if optional_title {
            Box::new(BooleanQuery::new(vec![(Occur::Must, term(all, word)), (Occur::Should, term(title, word))]))
        } else {
            term(all, word)
        };
        single.push((Occur::Must, one_word));
    }
    time("four fields", &words, &four.reader()?.searcher(), &BooleanQuery::new(union));
    let label = if optional_title { "one field, title optional" } else { "one field" };
    time(label, &words, &one.reader()?.searcher(), &BooleanQuery::new(single));
    Ok(())
}
