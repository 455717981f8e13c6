//! The glossary's English terms of several words as single index terms.
//!
//! A translation such as `drug product` (of 药品) is a phrase of two words
//! found in nearly every English notice, so matching it read the positions
//! of both words in each of them: half the time of `药品 注册`, the slowest
//! search of the mixed load (BENCHMARKS.md §11). As the glossary's Chinese
//! terms are dictionary words (`build.rs`), its English multi-word terms are
//! emitted at index time as one more token, their stems joined by a space
//! (`drug product`), at the position of their first word, wherever those
//! words stand at consecutive positions — exactly where the phrase query
//! matched, so nothing is found or lost. A query for one of them is then a
//! term query, scored as the phrase ([`crate::concept`]).

use std::collections::HashSet;

use foldhash::{HashMap, HashMapExt};
use std::sync::LazyLock;

use tantivy::tokenizer::Token;

use crate::analyzer::{Mode, analyze};
use crate::glossary;

/// The phrases by their first stem: the stems that follow, and the joined form.
struct Phrases {
    by_first: HashMap<String, Vec<(Vec<String>, String)>>,
    joined: HashSet<String>,
}

static PHRASES: LazyLock<Phrases> = LazyLock::new(|| {
    let mut by_first: HashMap<String, Vec<(Vec<String>, String)>> = HashMap::new();
    let mut joined = HashSet::new();
    for term in glossary::entries().iter().flat_map(|e| e.en) {
        let stems: Vec<String> = analyze(term.text, Mode::Query).into_iter().map(|t| t.text).collect();
        if stems.len() < 2 || !stems.iter().all(|s| is_plain(s)) {
            continue;
        }
        let all = stems.join(" ");
        if joined.insert(all.clone()) {
            by_first.entry(stems[0].clone()).or_default().push((stems[1..].to_vec(), all));
        }
    }
    Phrases { by_first, joined }
});

/// A plain English stem: lowercase ASCII letters (codes are left out).
fn is_plain(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase())
}

/// Whether `stems`, at consecutive positions, form a glossary phrase; then
/// its index term.
pub(crate) fn term_of(stems: &[&str]) -> Option<String> {
    if stems.len() < 2 || !stems.iter().all(|s| is_plain(s)) {
        return None;
    }
    let joined = stems.join(" ");
    PHRASES.joined.contains(&joined).then_some(joined)
}

/// Prepares the table now rather than on the first English text.
pub(crate) fn warm_up() {
    LazyLock::force(&PHRASES);
}

/// Adds the phrase tokens of `tokens[..*used]` (index mode, sorted by
/// position), keeping them sorted by position. `starts` are the indices of
/// the tokens a phrase can start at (stemmed Latin words, in order): the
/// analyzer records them as it emits, so Han tokens are never looked at.
pub(crate) fn add_tokens(tokens: &mut Vec<Token>, used: &mut usize, starts: &[usize]) {
    if starts.is_empty() {
        return;
    }
    let phrases = &*PHRASES;
    let n = *used;
    let mut found: Vec<Token> = Vec::new();
    for &i in starts {
        let first = &tokens[i];
        let Some(candidates) = phrases.by_first.get(first.text.as_str()) else { continue };
        'candidate: for (rest, joined) in candidates {
            let mut end = first.offset_to;
            let mut from = i + 1;
            for (k, stem) in rest.iter().enumerate() {
                let want = first.position + k + 1;
                // Tokens at `want` follow those before it: scan forward.
                let mut j = from;
                while j < n && tokens[j].position < want {
                    j += 1;
                }
                let at = (j..n).take_while(|&j| tokens[j].position == want).find(|&j| tokens[j].text == *stem);
                match at {
                    Some(j) => {
                        end = end.max(tokens[j].offset_to);
                        from = j;
                    }
                    None => continue 'candidate,
                }
            }
            found.push(Token {
                offset_from: first.offset_from,
                offset_to: end,
                position: first.position,
                text: joined.clone(),
                position_length: 1,
            });
        }
    }
    if found.is_empty() {
        return;
    }
    // Merge from the back, in place: the slots past `used` keep their
    // strings for the next text (dropping them cost 20 % of indexing in
    // mallocs), and a phrase goes after the other tokens of its first word.
    let f = found.len();
    while tokens.len() < n + f {
        tokens.push(Token::default());
    }
    let (mut i, mut j, mut dst) = (n, f, n + f);
    while j > 0 {
        dst -= 1;
        if i > 0 && tokens[i - 1].position > found[j - 1].position {
            tokens.swap(i - 1, dst);
            i -= 1;
        } else {
            std::mem::swap(&mut tokens[dst], &mut found[j - 1]);
            j -= 1;
        }
    }
    *used = n + f;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glossary_phrases_are_index_tokens_where_their_words_follow_each_other() {
        let toks = analyze("The drug products, and a drug. Product here; drug substance", Mode::Index);
        let phrase: Vec<(&str, usize)> =
            toks.iter().filter(|t| t.text.contains(' ')).map(|t| (t.text.as_str(), t.position)).collect();
        // Positions run on over punctuation, as the phrase query's did.
        assert_eq!(phrase, [("drug product", 1), ("drug product", 5), ("drug substanc", 8)]);
        assert!(toks.windows(2).all(|w| w[0].position <= w[1].position));
        let first = toks.iter().find(|t| t.text == "drug product").unwrap();
        assert_eq!(first.offset_from, 4);
        assert_eq!(first.offset_to, "The drug products".len());
        assert_eq!(term_of(&["drug", "product"]).as_deref(), Some("drug product"));
        assert_eq!(term_of(&["product", "drug"]), None);
        // Query mode leaves words alone.
        assert!(!analyze("drug product", Mode::Query).iter().any(|t| t.text.contains(' ')));
    }

    /// Only Latin words can start a phrase, so the analyzer hands over
    /// where they are; amid Han tokens and codes the phrases must be the
    /// same as found by looking at every token.
    #[test]
    fn phrases_are_found_among_han_tokens_and_codes() {
        use tantivy::tokenizer::{TokenStream, Tokenizer};
        let text = "药品drug product注册 COVID-19 drug substance，pre-IND drug 一致性评价 product";
        let phrases = |text: &str, tokenizer: &mut crate::analyzer::BilingualTokenizer| {
            let mut stream = tokenizer.token_stream(text);
            let mut out = Vec::new();
            while stream.advance() {
                let t = stream.token();
                if t.text.contains(' ') {
                    out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
                }
            }
            out
        };
        let mut tokenizer = crate::analyzer::BilingualTokenizer::new(Mode::Index);
        let found = phrases(text, &mut tokenizer);
        let drug = text.find("drug").unwrap();
        let substance = text.find("drug substance").unwrap();
        assert_eq!(
            found,
            [
                ("drug product".to_string(), 2, drug, drug + "drug product".len()),
                ("drug substanc".to_string(), 7, substance, substance + "drug substance".len()),
            ]
        );
        // The same tokenizer on a text without Latin words adds none.
        assert_eq!(phrases("药品注册管理办法", &mut tokenizer), []);
        assert_eq!(phrases(text, &mut tokenizer), found);
        let toks = analyze(text, Mode::Index);
        assert!(toks.windows(2).all(|w| w[0].position <= w[1].position));
    }
}
