//! Ranking without scoring every match, for the commonest kind of query.
//!
//! A search needs two things from its matches: the facet counts, which
//! need every match but no score, and the page of best hits, which needs
//! scores but not of every match. Collected together (one pass with both
//! collectors), every match is scored. A query of one word (and its one
//! glossary translation) is a sum of weighted BM25 term scores, which
//! Tantivy can rank with block-max WAND: skip every block of postings whose
//! best possible score cannot enter the page. But only when the query
//! reaches it as a flat union of term queries; our query nests the word's
//! per-field union inside the required clause, which hides the terms.
//!
//! So such a query runs twice: the full query with the facet counter only
//! (no scores computed, documents in blocks), and [`ranking_query`], the same
//! terms with the same weights as one flat union, with the page collector
//! only. Same matches (the union of the same terms; withdrawn notices
//! excluded in both), same scores up to the order of the float additions.
//! Filters, exclusions, phrases and other sorts keep the single pass.

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

/// The flat union of `terms`, each with its weight, without the notices
/// marked withdrawn in `withdrawn` (when given).
pub(crate) fn ranking_query(terms: &[(Term, f32)], withdrawn: Option<Field>) -> BooleanQuery {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .iter()
        .map(|(term, weight)| -> (Occur, Box<dyn Query>) {
            let q = Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs));
            (Occur::Should, if *weight == 1.0 { q } else { Box::new(BoostQuery::new(q, *weight)) })
        })
        .collect();
    if let Some(field) = withdrawn {
        let term = Term::from_field_u64(field, 1);
        clauses.push((Occur::MustNot, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
    }
    BooleanQuery::with_minimum_required_clauses(clauses, 1)
}

#[cfg(test)]
mod tests {
    use crate::synth::{Corpus, DEFAULT_SEED, Profile};
    use crate::{NoticeIndex, SearchRequest};

    /// The pruned ranking finds the same page, totals and facets as the
    /// one-pass ranking, for one-word queries with and without expansion,
    /// on later pages, and with a withdrawn notice among the matches.
    #[test]
    fn pruned_ranking_answers_as_the_full_one() {
        let digest = include_str!("../../crawler/data/digest-2020-05-15.txt");
        let index = NoticeIndex::in_memory().unwrap();
        let mut w = index.writer(1).unwrap();
        for (i, mut n) in Corpus::with_profile(DEFAULT_SEED, digest, Profile::Realistic).take(600).enumerate() {
            // A second segment, and withdrawn notices in the first.
            if i == 300 {
                w.commit("test").unwrap();
            }
            n.withdrawn = i % 97 == 0;
            w.upsert(&n).unwrap();
        }
        w.commit("test").unwrap();
        index.reload().unwrap();
        let full = index.clone().without_pruning();
        let mut pruned_queries = 0;
        for q in ["专利", "疫苗", "商标", "审评", "validation", "guidance", "patent", "vaccine", "通知", "药品"]
        {
            for (offset, exact, withdrawn) in
                [(0, false, false), (0, true, false), (10, false, false), (0, false, true)]
            {
                let req = SearchRequest { offset, exact, include_withdrawn: withdrawn, ..SearchRequest::new(q) };
                let a = index.search(&req).unwrap();
                let b = full.search(&req).unwrap();
                let what = format!("{q} offset {offset} exact {exact} withdrawn {withdrawn}");
                assert_eq!((a.total, &a.facets, &a.expanded), (b.total, &b.facets, &b.expanded), "{what}");
                assert_eq!(a.hits.len(), b.hits.len(), "{what}");
                let eps = |s: f32| 1e-4 * s.abs().max(1.0);
                for (i, (x, y)) in a.hits.iter().zip(&b.hits).enumerate() {
                    assert!((x.score - y.score).abs() <= eps(y.score), "{what}: hit {i} {} vs {}", x.score, y.score);
                }
                // Hits that score clearly above the page's last one are the
                // same notices (ties at the end may differ).
                if let Some(last) = b.hits.last().map(|h| h.score) {
                    let above = |hits: &[crate::Hit]| -> std::collections::BTreeSet<String> {
                        hits.iter().filter(|h| h.score > last + eps(last)).map(|h| h.id.clone()).collect()
                    };
                    assert_eq!(above(&a.hits), above(&b.hits), "{what}");
                }
                pruned_queries += usize::from(a.total > 0);
            }
        }
        assert!(pruned_queries > 20, "{pruned_queries}");
    }
}
