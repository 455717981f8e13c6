//! A glossary term searched as one index term and scored as the phrase of
//! its parts.
//!
//! `build.rs` adds the glossary's Chinese terms to the segmenter's
//! dictionary, so `一致性评价` is one index term and a search for it reads
//! one posting list instead of matching the phrase `一致性` + `评价` (the
//! speed-up is in BENCHMARKS.md §11). BM25 would then weigh it by the idf
//! of one rare term, where the phrase weighed the sum of its words' idfs,
//! and the balance between what was typed and its translations (tuned and
//! judged on phrases: `crawler/tests/crosslang.rs`) would shift. So the term
//! query's score is multiplied by (sum of the parts' idf) / (the term's
//! idf): the same BM25 as the phrase, the term's frequency standing for the
//! phrase's.

use tantivy::query::{BoostQuery, EnableScoring, Query, TermQuery, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{Score, Term};

/// A term query scored with the idf of the phrase it replaces.
#[derive(Debug, Clone)]
pub(crate) struct ConceptQuery {
    term: Term,
    parts: Vec<Term>,
}

impl ConceptQuery {
    /// `term`, scored as the phrase of `parts` (terms of the same field).
    pub(crate) fn new(term: Term, parts: Vec<Term>) -> ConceptQuery {
        ConceptQuery { term, parts }
    }
}

/// BM25's idf, as Tantivy computes it.
fn idf(doc_freq: u64, docs: u64) -> Score {
    let x = (docs.saturating_sub(doc_freq) as Score + 0.5) / (doc_freq as Score + 0.5);
    (1.0 + x).ln()
}

impl Query for ConceptQuery {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let query = TermQuery::new(self.term.clone(), IndexRecordOption::WithFreqsAndPositions);
        let EnableScoring::Enabled { statistics_provider: stats, .. } = scoring else {
            return query.weight(scoring);
        };
        let docs = stats.total_num_docs()?;
        let own = idf(stats.doc_freq(&self.term)?, docs);
        let mut phrase = 0.0;
        for part in &self.parts {
            phrase += idf(stats.doc_freq(part)?, docs);
        }
        if own <= 0.0 || phrase <= 0.0 {
            return query.weight(scoring);
        }
        BoostQuery::new(Box::new(query), phrase / own).weight(scoring)
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        visitor(&self.term, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::{Notice, Source};
    use crate::store::NoticeIndex;
    use tantivy::DocAddress;
    use tantivy::collector::TopDocs;
    use tantivy::query::PhraseQuery;

    #[test]
    fn scores_as_the_phrase_of_its_parts() {
        let index = NoticeIndex::in_memory().unwrap();
        let mut w = index.writer(1).unwrap();
        for (i, body) in ["开展一致性评价工作", "一致性评价和一致性评价", "评价工作", "一致性要求"].iter().enumerate()
        {
            let n = Notice::crawled(Source::Nmpa, &format!("https://e.org/{i}"), format!("通知{i}"), *body);
            w.upsert(&n).unwrap();
        }
        w.commit("t").unwrap();
        index.reload().unwrap();
        let searcher = index.reader.searcher();
        let body = index.fields.body;
        let t = |s: &str| Term::from_field_text(body, s);
        let scores = |q: &dyn Query| -> Vec<(f32, DocAddress)> {
            let mut v = searcher.search(q, &TopDocs::with_limit(10).order_by_score()).unwrap();
            v.sort_by_key(|x| x.1);
            v
        };
        let concept = scores(&ConceptQuery::new(t("一致性评价"), vec![t("一致性"), t("评价")]));
        let phrase = scores(&PhraseQuery::new_with_offset(vec![(0, t("一致性")), (3, t("评价"))]));
        assert_eq!(concept.len(), 2);
        assert_eq!(concept.iter().map(|x| x.1).collect::<Vec<_>>(), phrase.iter().map(|x| x.1).collect::<Vec<_>>());
        for (c, p) in concept.iter().zip(&phrase) {
            assert!((c.0 - p.0).abs() < 1e-4 * p.0, "{c:?} vs {p:?}");
        }
    }
}
