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
//!
//! ## Finding the terms without analysing the text
//! Analysing a ~1 KB window of Chinese with the index-mode analyzer (every
//! dictionary word at every character) for each of ten hits was the
//! largest fixed cost of a search (11 % of a selective query's CPU, 9 % of
//! the server's under the mixed load: BENCHMARKS.md §11). It is not needed to find the query's terms: the index mode emits
//! every Han character and every dictionary word wherever it occurs, so a
//! term made of Han characters is a token exactly where its text occurs,
//! and one Aho-Corasick automaton finds them all. Terms with other
//! characters (English stems, codes, `62号`, glossary phrases such as
//! `drug product`) depend on their words, so only the runs of non-Han
//! characters that hold a letter or digit are analysed, each on its own
//! (the analyzer's Latin rules never look past a Han character, except
//! `号` after a number, which is included). A
//! text with characters that NFKC turns into Han ones (Kangxi radicals, the
//! circled ideographs) or with combining marks goes through the analyzer
//! as before. The analyzer path stays as the oracle of a property test:
//! both find the same matches.
//!
//! The fragment is then chosen from the matches alone: the run of matches
//! within `max_bytes` whose terms weigh most (the earliest on a tie), with
//! the rest of `max_bytes` as context, a third of it before the first match,
//! not starting or ending inside a Latin word.

use foldhash::{HashMap, HashMapExt};
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use tantivy::query::Query;
use tantivy::schema::Field;
use tantivy::tokenizer::{TokenStream, Tokenizer};
use tantivy::{Searcher, Term};
use unicode_normalization::char::{canonical_combining_class, decompose_compatible};

use crate::analyzer::{BilingualTokenizer, Mode, is_han};
use crate::error::Result;

/// Finds and highlights the query's terms in texts of one field.
pub(crate) struct Highlighter {
    tokenizer: BilingualTokenizer,
    /// Term text → weight (rarer terms weigh more).
    terms: HashMap<String, f32>,
    /// Finder of the terms made of Han characters only, and their weights
    /// by pattern id.
    han: Option<(AhoCorasick, Vec<f32>)>,
    /// Whether some term has a character that is not Han.
    latin: bool,
    /// Whether some term has a numeric character: if none has, a run of
    /// digits and punctuation (`2017`, `24.5`) cannot hold a match, and
    /// Chinese text is full of them (a Chinese query's English
    /// translations make the highlighter look at non-Han runs).
    numeric: bool,
}

/// One occurrence of a term: byte range in the text and the term's weight.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Match {
    start: usize,
    end: usize,
    weight: f32,
}

fn is_han_term(t: &str) -> bool {
    t.chars().all(is_han)
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
        Ok(Self::with_weights(terms))
    }

    fn with_weights(terms: HashMap<String, f32>) -> Highlighter {
        let han: Vec<(&str, f32)> =
            terms.iter().filter(|(t, _)| is_han_term(t)).map(|(t, &w)| (t.as_str(), w)).collect();
        // An NFA, built per query: ten windows of ~1 KB do not repay a DFA.
        let finder = (!han.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .kind(Some(AhoCorasickKind::NoncontiguousNFA))
                    .match_kind(MatchKind::Standard)
                    .build(han.iter().map(|(t, _)| t))
                    .ok()
                    .map(|ac| (ac, han.iter().map(|(_, w)| *w).collect()))
            })
            .flatten();
        let latin = terms.keys().any(|t| !is_han_term(t));
        let numeric = terms.keys().any(|t| t.chars().any(char::is_numeric));
        // Only a glossary phrase token holds a space.
        let tokenizer = match terms.keys().any(|t| t.contains(' ')) {
            true => BilingualTokenizer::new(Mode::Index),
            false => BilingualTokenizer::new(Mode::Index).without_phrases(),
        };
        Highlighter { tokenizer, terms, han: finder, latin, numeric }
    }

    /// Highlights the terms `query` has on `field`, all weighing the same
    /// (for short texts highlighted whole, such as titles).
    pub(crate) fn for_query_unweighted(query: &dyn Query, field: Field) -> Highlighter {
        Self::for_terms(field_terms(query, field).into_iter().map(|(text, _)| text))
    }

    /// Highlights `terms`, all weighing the same.
    pub(crate) fn for_terms(terms: impl IntoIterator<Item = String>) -> Highlighter {
        Self::with_weights(terms.into_iter().map(|t| (t, 1.0)).collect())
    }

    /// The term texts highlighted.
    pub(crate) fn terms(&self) -> impl Iterator<Item = &str> {
        self.terms.keys().map(String::as_str)
    }

    /// The Han term that weighs most (the rarest in the index; the longest,
    /// then the first in order, on a tie).
    pub(crate) fn rarest_han_term(&self) -> Option<&str> {
        self.terms
            .iter()
            .filter(|(t, _)| is_han_term(t))
            .max_by(|a, b| a.1.total_cmp(b.1).then(a.0.len().cmp(&b.0.len())).then(b.0.cmp(a.0)))
            .map(|(t, _)| t.as_str())
    }

    /// Sets a term's weight (tests).
    #[cfg(test)]
    pub(crate) fn set_weight(&mut self, term: &str, weight: f32) {
        if let Some(w) = self.terms.get_mut(term) {
            *w = weight;
        }
    }

    /// Every match in `text`, as merged byte ranges.
    pub(crate) fn highlight_all(&mut self, text: &str) -> Vec<[usize; 2]> {
        merge_ranges(self.matches(text).iter().map(|m| [m.start, m.end]).collect())
    }

    /// Every occurrence of a query term in `text`, by start then end.
    fn matches(&mut self, text: &str) -> Vec<Match> {
        if self.terms.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        if !self.scan(text, &mut out) {
            out.clear();
            self.token_matches(text, &mut out);
        }
        out.sort_by_key(|m| (m.start, m.end));
        out
    }

    /// The analyzer's matches: every token of `text` that is a term.
    fn token_matches(&mut self, text: &str, out: &mut Vec<Match>) {
        let mut stream = self.tokenizer.token_stream(text);
        while let Some(t) = stream.next() {
            if let Some(&weight) = self.terms.get(t.text.as_str()) {
                out.push(Match { start: t.offset_from, end: t.offset_to, weight });
            }
        }
    }

    /// The same matches found without analysing Han text (module docs);
    /// false when `text` needs the analyzer.
    fn scan(&mut self, text: &str, out: &mut Vec<Match>) -> bool {
        // Runs of characters that are not Han worth analysing: those with
        // a letter, and those with a digit when a term has one (a run
        // keeps its white space: a glossary phrase, `drug product`, is one
        // token across it).
        let mut runs: Vec<(usize, usize)> = Vec::new();
        // Start of the current run, whether it has a letter, a digit.
        let mut run: Option<(usize, bool, bool)> = None;
        let worth = |letter: bool, digit: bool| letter || (digit && self.numeric);
        for (i, c) in text.char_indices() {
            let han = is_han(c);
            if !c.is_ascii() && !han && changes_into_han_or_combines(c) {
                return false;
            }
            if han {
                if let Some((start, letter, digit)) = run.take()
                    && worth(letter, digit)
                {
                    runs.push((start, i));
                }
            } else {
                let r = run.get_or_insert((i, false, false));
                r.1 |= c.is_alphabetic();
                r.2 |= c.is_numeric();
            }
        }
        if let Some((start, letter, digit)) = run
            && worth(letter, digit)
        {
            runs.push((start, text.len()));
        }
        if let Some((finder, weights)) = &self.han {
            for m in finder.find_overlapping_iter(text) {
                out.push(Match { start: m.start(), end: m.end(), weight: weights[m.pattern().as_usize()] });
            }
        }
        if self.latin {
            for (start, mut end) in runs {
                // `62号` is a token of the number and the 号 after it.
                if text[end..].starts_with('号') {
                    end += '号'.len_utf8();
                }
                let mut stream = self.tokenizer.token_stream(&text[start..end]);
                while let Some(t) = stream.next() {
                    if is_han_term(&t.text) {
                        continue;
                    }
                    if let Some(&weight) = self.terms.get(t.text.as_str()) {
                        out.push(Match { start: start + t.offset_from, end: start + t.offset_to, weight });
                    }
                }
            }
        }
        true
    }

    /// The best fragment of at most `max_bytes` of `text`, or `None` when no
    /// term of the query occurs in it.
    pub(crate) fn best_fragment(&mut self, text: &str, max_bytes: usize) -> Option<Fragment> {
        let matches = self.matches(text);
        // The run of matches that fits in `max_bytes` and weighs most.
        let (mut best, mut best_score) = (None, 0.0f32);
        let (mut j, mut score) = (0, 0.0f32);
        for i in 0..matches.len() {
            j = j.max(i);
            let limit = matches[i].start + max_bytes;
            while j < matches.len() && matches[j].end <= limit {
                score += matches[j].weight;
                j += 1;
            }
            if j > i && score > best_score {
                best = Some(i..j);
                best_score = score;
            }
            if j > i {
                score -= matches[i].weight;
            }
        }
        let group = &matches[best?];
        let first = group[0].start;
        let last = group.iter().map(|m| m.end).max().unwrap_or(first);
        let range = place(text, first, last, max_bytes);
        let highlights = merge_ranges(
            group
                .iter()
                .map(|m| [m.start.max(range.start) - range.start, m.end.min(range.end) - range.start])
                .filter(|[s, e]| s < e)
                .collect(),
        );
        Some(Fragment { range, highlights, score: best_score })
    }
}

/// Whether NFKC can turn `c` into a Han character (a Kangxi radical, a
/// circled ideograph) or `c` is a combining mark: the analyzer's
/// normalisation then makes tokens a plain scan does not see.
fn changes_into_han_or_combines(c: char) -> bool {
    if canonical_combining_class(c) != 0 {
        return true;
    }
    let mut han = false;
    decompose_compatible(c, |d| han |= is_han(d));
    han
}

/// A range of at most `max_bytes` of `text` around `first..last`: a third
/// of the room before, on character boundaries, not cutting a Latin word
/// where that can be helped, without white space at either end.
fn place(text: &str, first: usize, last: usize, max_bytes: usize) -> Range<usize> {
    let in_word = |i: usize| {
        i > 0
            && i < text.len()
            && text.as_bytes()[i - 1].is_ascii_alphanumeric()
            && text.as_bytes()[i].is_ascii_alphanumeric()
    };
    let room = max_bytes.saturating_sub(last - first);
    let mut start = first.saturating_sub(room / 3);
    if start + max_bytes > text.len() {
        start = text.len().saturating_sub(max_bytes).min(first);
    }
    while !text.is_char_boundary(start) {
        start += 1;
    }
    if in_word(start) {
        let next = text[start..first].find(|c: char| !c.is_ascii_alphanumeric()).map_or(first, |o| start + o);
        start = next;
    }
    while start < first && text[start..].starts_with(char::is_whitespace) {
        start += text[start..].chars().next().map_or(1, char::len_utf8);
    }
    let mut end = (start + max_bytes).min(text.len()).max(last);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if in_word(end)
        && let Some(cut) = text[last..end].rfind(|c: char| !c.is_ascii_alphanumeric())
    {
        end = last + cut;
    }
    while end > last && text[..end].ends_with(char::is_whitespace) {
        end -= text[..end].chars().next_back().map_or(1, char::len_utf8);
    }
    start..end
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

    /// The scan's matches, and the analyzer's (the oracle), sorted.
    fn both(terms: &[&str], text: &str) -> (Vec<Match>, Vec<Match>) {
        let mut h = Highlighter::for_terms(terms.iter().map(|t| t.to_string()));
        let mut fast = Vec::new();
        let scanned = h.scan(text, &mut fast);
        let mut slow = Vec::new();
        h.token_matches(text, &mut slow);
        if !scanned {
            fast = slow.clone();
        }
        let key = |m: &Match| (m.start, m.end);
        fast.sort_by_key(key);
        slow.sort_by_key(key);
        (fast, slow)
    }

    #[test]
    fn the_scan_finds_what_the_analyzer_finds() {
        let text =
            "国家药监局关于仿制药一致性评价的通知（2020年第62号）。Clinical trials, COVID-19 and pre-IND trials.";
        let terms = ["仿制", "制药", "一致性", "评价", "62号", "trial", "covid-19", "pre", "ind", "号"];
        let (fast, slow) = both(&terms, text);
        assert_eq!(fast, slow);
        assert!(fast.len() >= 10, "{fast:?}");
        // A stem is not a prefix match: "pretrial" is its own word.
        assert!(both(&["trial"], "pretrial").0.is_empty());
        // Kangxi radicals become Han under NFKC: the analyzer decides.
        let mut h = Highlighter::for_terms(["一致性".to_string()]);
        assert!(!h.scan("⼀致性", &mut Vec::new()));
        assert_eq!(h.highlight_all("⼀致性"), vec![[0, "⼀致性".len()]]);
    }

    #[test]
    fn the_fragment_holds_the_heaviest_run_of_matches_with_context() {
        let mut h = Highlighter::for_terms(["评价".to_string()]);
        let text = format!("{}开展一致性评价工作，评价结果{}", "前文".repeat(50), "后文".repeat(50));
        let f = h.best_fragment(&text, 60).expect("a fragment");
        let frag = &text[f.range.clone()];
        assert!(frag.len() <= 60, "{frag}");
        assert!(frag.contains("评价工作，评价"), "{frag}");
        // A third of the room (13 bytes: four characters) comes before.
        assert!(frag.starts_with("展一致性评价"), "context before: {frag}");
        assert!(frag.ends_with("后"), "the rest after: {frag}");
        assert_eq!(f.highlights.len(), 2);
        assert_eq!(f.score, 2.0);
        // English: no word is cut at either end.
        let mut h = Highlighter::for_terms(["trial".to_string()]);
        let text = format!("{} clinical trials {}", "alpha beta gamma ".repeat(20), "delta epsilon ".repeat(20));
        let f = h.best_fragment(&text, 60).expect("a fragment");
        let frag = &text[f.range.clone()];
        for w in frag.split(' ') {
            assert!(text.split(' ').any(|x| x == w), "{w:?} cut in {frag:?}");
        }
    }

    /// A glossary phrase term is highlighted whole; a highlighter without
    /// one does not look for phrases and still finds the words.
    #[test]
    fn phrase_terms_are_found_only_when_asked_for() {
        let text = "Quality of drug products: the drug product file.";
        let mut phrase = Highlighter::for_terms(["drug product".to_string()]);
        let ranges = phrase.highlight_all(text);
        let found: Vec<&str> = ranges.iter().map(|&[s, e]| &text[s..e]).collect();
        assert_eq!(found, ["drug products", "drug product"]);
        let mut word = Highlighter::for_terms(["drug".to_string()]);
        assert_eq!(word.highlight_all(text).len(), 2);
    }

    proptest::proptest! {
        #[test]
        fn scan_and_analyzer_agree(
            text in "[a-zA-Z0-9 ,.\\-ＡＢ１２½٣Ⅻ一致性评价仿制药品上市许可持有人知识产权局〔〕（）号年第的了⼀\u{301}]{0,80}",
            picks in proptest::collection::vec(0usize..1000, 1..6),
        ) {
            // Terms: some of the text's own index tokens, and a few others.
            let tokens: Vec<String> = crate::analyzer::analyze(&text, Mode::Index).into_iter().map(|t| t.text).collect();
            let mut terms: Vec<String> = ["一致性", "评价", "trial", "药"].map(String::from).to_vec();
            // Half the time no term has a digit (runs of digits are skipped).
            if picks[0] % 2 == 0 {
                terms.push("62号".to_string());
            }
            if !tokens.is_empty() {
                terms.extend(picks.iter().map(|&i| tokens[i % tokens.len()].clone()));
            }
            let refs: Vec<&str> = terms.iter().map(String::as_str).collect();
            let (fast, slow) = both(&refs, &text);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn ranges_merge() {
        assert_eq!(merge_ranges(vec![[9, 15], [0, 9], [20, 22]]), vec![[0, 15], [20, 22]]);
    }
}
