//! Highlighted snippets and titles of hits.
//!
//! The fragment choice is Tantivy's `SnippetGenerator`'s (consecutive
//! fragments of at most `max_bytes`, each scored by the sum of
//! `1 / (1 + doc_freq)` of the query terms in it, the best one wins), but
//! done here because Tantivy's lowercases every token into a new `String`
//! and starts each query with a freshly cloned tokenizer: that was 45 % of a
//! selective query's time (profile in BENCHMARKS.md). Our tokens are
//! already lowercase, and one tokenizer with its buffers serves every hit of
//! a query.

use std::collections::HashMap;
use std::ops::Range;

use tantivy::query::Query;
use tantivy::schema::Field;
use tantivy::tokenizer::{TokenStream, Tokenizer};
use tantivy::{Searcher, Term};

use crate::analyzer::{BilingualTokenizer, Mode};
use crate::error::Result;

/// Finds and highlights the query's terms in texts of one field.
pub(crate) struct Highlighter {
    tokenizer: BilingualTokenizer,
    /// Term text → weight (rarer terms weigh more).
    terms: HashMap<String, f32>,
}

/// A fragment of a text and the byte ranges in it that match.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Fragment {
    /// Byte range of the fragment in the text.
    pub range: Range<usize>,
    /// Matches, relative to the fragment's start, in text order.
    pub highlights: Vec<[usize; 2]>,
    /// Sum of the weights of the terms it holds (to compare fragments of
    /// two texts: the body's and an attachment's).
    pub score: f32,
}

impl Highlighter {
    /// Highlights the terms `query` has on `field`, weighted by how rare
    /// they are in the index.
    pub(crate) fn for_query(searcher: &Searcher, query: &dyn Query, field: Field) -> Result<Highlighter> {
        let wanted = field_terms(query, field);
        let mut terms = HashMap::with_capacity(wanted.len());
        for (text, term) in wanted {
            if terms.contains_key(&text) {
                continue;
            }
            let doc_freq = searcher.doc_freq(&term)?;
            if doc_freq > 0 {
                terms.insert(text, 1.0 / (1.0 + doc_freq as f32));
            }
        }
        Ok(Highlighter { tokenizer: BilingualTokenizer::new(Mode::Index), terms })
    }

    /// Highlights the terms `query` has on `field`, all weighing the same
    /// (for short texts highlighted whole, such as titles).
    pub(crate) fn for_query_unweighted(query: &dyn Query, field: Field) -> Highlighter {
        Self::for_terms(field_terms(query, field).into_iter().map(|(text, _)| text))
    }

    /// Highlights `terms`, all weighing the same.
    pub(crate) fn for_terms(terms: impl IntoIterator<Item = String>) -> Highlighter {
        Highlighter {
            tokenizer: BilingualTokenizer::new(Mode::Index),
            terms: terms.into_iter().map(|t| (t, 1.0)).collect(),
        }
    }

    /// The term texts highlighted.
    pub(crate) fn terms(&self) -> impl Iterator<Item = &str> {
        self.terms.keys().map(String::as_str)
    }

    /// Every match in `text`, as merged byte ranges.
    pub(crate) fn highlight_all(&mut self, text: &str) -> Vec<[usize; 2]> {
        if self.terms.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut stream = self.tokenizer.token_stream(text);
        while let Some(t) = stream.next() {
            if self.terms.contains_key(t.text.as_str()) {
                out.push([t.offset_from, t.offset_to]);
            }
        }
        merge_ranges(out)
    }

    /// The best fragment of at most `max_bytes` of `text`, or `None` when no
    /// term of the query occurs in it.
    pub(crate) fn best_fragment(&mut self, text: &str, max_bytes: usize) -> Option<Fragment> {
        if self.terms.is_empty() {
            return None;
        }
        // (score, range, highlights) of the best fragment so far and of the
        // one being built; ties go to the earlier fragment.
        let mut best: Option<(f32, Range<usize>, Vec<[usize; 2]>)> = None;
        let (mut score, mut start, mut stop, mut marks) = (0.0f32, 0usize, 0usize, Vec::new());
        let mut stream = self.tokenizer.token_stream(text);
        let mut close = |score: f32, range: Range<usize>, marks: &mut Vec<[usize; 2]>| {
            if score > 0.0 && best.as_ref().is_none_or(|b| score > b.0) {
                best = Some((score, range, std::mem::take(marks)));
            }
            marks.clear();
        };
        while let Some(t) = stream.next() {
            if t.offset_to.saturating_sub(start) > max_bytes {
                close(score, start..stop, &mut marks);
                score = 0.0;
                start = t.offset_from;
                stop = start;
            }
            // Index mode emits a word and then its characters at the same
            // offset: the fragment ends at the furthest token, not the last.
            stop = stop.max(t.offset_to);
            if let Some(&w) = self.terms.get(t.text.as_str()) {
                score += w;
                marks.push([t.offset_from, t.offset_to]);
            }
        }
        close(score, start..stop, &mut marks);
        let (score, range, marks) = best?;
        let highlights = merge_ranges(
            marks
                .into_iter()
                .map(|[s, e]| [s.max(range.start) - range.start, e.min(range.end) - range.start])
                .filter(|[s, e]| s < e)
                .collect(),
        );
        Some(Fragment { range, highlights, score })
    }
}

/// The text terms `query` has on `field`, with their terms.
fn field_terms(query: &dyn Query, field: Field) -> Vec<(String, Term)> {
    let mut out = Vec::new();
    query.query_terms(&mut |term, _| {
        if term.field() == field
            && let Some(text) = term.value().as_str()
        {
            out.push((text.to_string(), term.clone()));
        }
    });
    out
}

/// Sorts and merges overlapping or touching ranges (`一致性` + `评价` → one).
pub(crate) fn merge_ranges(mut v: Vec<[usize; 2]>) -> Vec<[usize; 2]> {
    v.sort_unstable();
    let mut out: Vec<[usize; 2]> = Vec::with_capacity(v.len());
    for r in v {
        match out.last_mut() {
            Some(last) if r[0] <= last[1] => last[1] = last[1].max(r[1]),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_sub_words_and_merges_them() {
        let mut h = Highlighter::for_terms(["一致性".to_string(), "评价".to_string()]);
        let text = "开展一致性评价工作";
        let r = h.highlight_all(text);
        assert_eq!(r.len(), 1);
        assert_eq!(&text[r[0][0]..r[0][1]], "一致性评价");
    }

    #[test]
    fn picks_the_fragment_with_the_most_weight() {
        let mut h = Highlighter::for_terms(["trial".to_string()]);
        let text = format!("{} clinical trials and trials {}", "filler ".repeat(40), "tail ".repeat(40));
        let f = h.best_fragment(&text, 60).expect("a fragment");
        let frag = &text[f.range.clone()];
        assert!(frag.contains("trials and trials"), "{frag:?}");
        assert!(frag.len() <= 60);
        assert_eq!(f.highlights.len(), 2);
        for [s, e] in &f.highlights {
            assert_eq!(&frag[*s..*e], "trials");
        }
        assert!(h.best_fragment("nothing here", 60).is_none());
        assert!(Highlighter::for_terms([]).best_fragment(&text, 60).is_none());
    }

    #[test]
    fn ranges_merge() {
        assert_eq!(merge_ranges(vec![[9, 15], [0, 9], [20, 22]]), vec![[0, 15], [20, 22]]);
    }
}
