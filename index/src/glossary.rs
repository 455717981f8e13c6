//! Cross-language query expansion from a bilingual glossary of regulatory
//! terms (Chinese ↔ English).
//!
//! The glossary is `data/glossary.tsv`, a readable file in the repository;
//! `build.rs` checks it and compiles it into a static table, so nothing is
//! read at start-up. The lookup maps are built on the first expanded query
//! (English terms are keyed by the query analyzer's tokens, so plurals and
//! other inflections the stemmer folds need no entry of their own).
//!
//! What is expanded, and how (see [`Glossary::expand`]):
//! - runs of plain English words, by the **longest** glossary term that
//!   starts at each word (`marketing authorization holder` is one term, not
//!   three); abbreviations marked `^` in the file (`^BE`, `^WHO`) only when
//!   written in capitals, and they are never searched for as translations
//!   (`be`, `who` are common words);
//! - a Chinese word, as a whole, else when glossary terms cover all of it
//!   (`注射剂一致性评价` = 注射剂 + 一致性评价; `的 和 与 及 、` may sit
//!   between them);
//! - never: words with digits (codes, document numbers: COVID-19, 21 CFR
//!   211), capital abbreviations next to a number (the `CFR` of `21 CFR
//!   211`), words mixing Han and Latin letters. The caller leaves out
//!   quoted phrases, `a OR b` groups and exclusions.
//!
//! Translations that another translation already finds are dropped: a
//! Chinese term matches as a substring, so `仿制药一致性评价` adds nothing to
//! `一致性评价`; an English term matches as a phrase, so `generic drug
//! product` adds nothing to `generic drug`.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use unicode_normalization::UnicodeNormalization;

use crate::analyzer::{self, Mode, is_han};

/// One term of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    /// The term as written in the glossary.
    pub text: &'static str,
    /// Whether it is searched for as a translation (`false` for the
    /// abbreviations marked `^`, which are only recognised in queries).
    pub searched: bool,
}

/// One line of the glossary: terms that mean the same, in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Chinese terms (simplified, traditional, abbreviations).
    pub zh: &'static [Term],
    /// English terms (US/UK spellings, variants, abbreviations).
    pub en: &'static [Term],
}

mod table {
    use super::{Entry, Term};
    include!(concat!(env!("OUT_DIR"), "/glossary.rs"));
}

/// Characters that may join two glossary terms inside one Chinese word.
const JOINERS: [char; 5] = ['的', '和', '与', '及', '、'];
/// Most translations searched for one term (after dropping redundant ones).
const MAX_TRANSLATIONS: usize = 8;

/// The glossary's entries, in file order.
pub fn entries() -> &'static [Entry] {
    table::ENTRIES
}

/// The glossary with its lookup maps.
#[derive(Debug)]
pub struct Glossary {
    /// Query-analyzer tokens of an English term, space-joined → entries,
    /// one map per first character of the key ([`bucket`]), each built when
    /// a query first needs it: analysing every English term was 42 % of a
    /// cold Chinese `notices search`, which never looks at them, and 44 % of
    /// a cold English one, which needs a bucket or two (BENCHMARKS.md §13).
    en: Vec<OnceLock<HashMap<String, Vec<u32>>>>,
    /// The entries the maps index.
    entries: &'static [Entry],
    /// The searched English terms of each bucket, (entry, text), and the
    /// longest English term in tokens (at most its runs of letters or
    /// digits, which is what is counted). Also first built for an English
    /// query word.
    en_terms: OnceLock<EnglishTerms>,
    /// Recognised-only abbreviations, exactly as written → entries.
    abbreviations: HashMap<&'static str, Vec<u32>>,
    /// Chinese term → entries.
    zh: HashMap<&'static str, Vec<u32>>,
    /// Longest Chinese term, in characters.
    max_zh: usize,
}

/// A place in a query that the glossary translates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// Index of the first query word (slot) it covers.
    pub first: usize,
    /// Number of consecutive slots it covers.
    pub len: usize,
    /// The words covered, as the user wrote them, space-joined.
    pub original: String,
    /// What to search as well: every inner list must match (one list per
    /// glossary term the words hold), any term of a list will do.
    pub translations: Vec<Vec<&'static str>>,
}

static GLOSSARY: LazyLock<Glossary> = LazyLock::new(|| Glossary::new(table::ENTRIES));

/// The shipped glossary (its maps built on first use).
pub fn glossary() -> &'static Glossary {
    &GLOSSARY
}

/// Builds the lookup maps now rather than on the first query, and returns
/// how long it took (for start-up measurements).
pub fn warm_up() -> std::time::Duration {
    let t = std::time::Instant::now();
    let g = LazyLock::force(&GLOSSARY);
    for terms in &g.english_terms().0 {
        if let Some(&(_, text)) = terms.first() {
            g.english(text);
        }
    }
    t.elapsed()
}

/// The searched English terms of each bucket, (entry, text), and the
/// longest in tokens.
type EnglishTerms = (Vec<Vec<(u32, &'static str)>>, usize);

/// Maps of English terms: one per letter and digit, one for the rest.
const BUCKETS: usize = 37;

/// The map of an English term or key: by its first letter or digit,
/// lowercased, which is where its key starts (the analyzer lowercases and
/// drops what is not a letter or digit before the first token; a test
/// checks every glossary term).
fn bucket(text: &str) -> usize {
    match text.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_ascii_lowercase()) {
        Some(c @ 'a'..='z') => c as usize - 'a' as usize,
        Some(c @ '0'..='9') => 26 + (c as usize - '0' as usize),
        _ => 36,
    }
}

/// Runs of letters and of digits in `text`: at least its number of tokens.
fn pieces(text: &str) -> usize {
    let mut n = 0;
    let mut last: Option<bool> = None;
    for c in text.chars() {
        let kind = c.is_alphanumeric().then(|| c.is_numeric());
        if kind.is_some() && kind != last {
            n += 1;
        }
        last = kind;
    }
    n.max(1)
}

/// The query analyzer's tokens of `text`, space-joined.
fn key(text: &str) -> String {
    let tokens: Vec<String> = analyzer::analyze(text, Mode::Query).into_iter().map(|t| t.text).collect();
    tokens.join(" ")
}

impl Glossary {
    /// Builds the lookup maps of `entries`.
    pub fn new(entries: &'static [Entry]) -> Glossary {
        let mut g = Glossary {
            en: (0..BUCKETS).map(|_| OnceLock::new()).collect(),
            entries,
            en_terms: OnceLock::new(),
            abbreviations: HashMap::new(),
            zh: HashMap::new(),
            max_zh: 2,
        };
        for (i, e) in entries.iter().enumerate() {
            let i = i as u32;
            for t in e.en.iter().filter(|t| !t.searched) {
                push(g.abbreviations.entry(t.text).or_default(), i);
            }
            for t in e.zh {
                g.max_zh = g.max_zh.max(t.text.chars().count());
                push(g.zh.entry(t.text).or_default(), i);
            }
        }
        g
    }

    /// The English terms by bucket, and the longest in tokens.
    fn english_terms(&self) -> &EnglishTerms {
        self.en_terms.get_or_init(|| {
            let (mut terms, mut max_en) = (vec![Vec::new(); BUCKETS], 1);
            for (i, e) in self.entries.iter().enumerate() {
                for t in e.en.iter().filter(|t| t.searched) {
                    max_en = max_en.max(pieces(t.text));
                    terms[bucket(t.text)].push((i as u32, t.text));
                }
            }
            (terms, max_en)
        })
    }

    /// The English map of the terms whose key starts as `k` does.
    fn english(&self, k: &str) -> &HashMap<String, Vec<u32>> {
        let b = bucket(k);
        self.en[b].get_or_init(|| {
            let mut en = HashMap::<String, Vec<u32>>::new();
            for &(i, text) in &self.english_terms().0[b] {
                let k = key(text);
                if !k.is_empty() {
                    push(en.entry(k).or_default(), i);
                }
            }
            en
        })
    }

    /// The expansions of a query given as slots: one per query word that may
    /// be expanded (`Some(word)`), `None` for anything else (a phrase, an OR
    /// group), which also breaks runs of English words.
    pub fn expand(&self, slots: &[Option<&str>]) -> Vec<Expansion> {
        let entries = table::ENTRIES;
        // Per slot: its English key (one token, no digits), if it is an
        // expandable English word.
        let english: Vec<Option<String>> = slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let w = (*s)?;
                if !is_plain_english(w) || is_code_part(slots, i) {
                    return None;
                }
                let k = key(w);
                (!k.is_empty() && !k.contains(' ')).then_some(k)
            })
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < slots.len() {
            let Some(word) = slots[i] else {
                i += 1;
                continue;
            };
            if english[i].is_some() {
                let run = english[i..].iter().take_while(|k| k.is_some()).count();
                let mut found = None;
                for len in (1..=run.min(self.english_terms().1)).rev() {
                    let k: Vec<&str> = english[i..i + len].iter().map(|k| k.as_deref().unwrap_or("")).collect();
                    let k = k.join(" ");
                    let mut ids: Vec<u32> = self.english(&k).get(&k).cloned().unwrap_or_default();
                    if len == 1
                        && let Some(more) = self.abbreviations.get(word)
                    {
                        more.iter().for_each(|&m| push(&mut ids, m));
                    }
                    if !ids.is_empty() {
                        found = Some((len, ids));
                        break;
                    }
                }
                if let Some((len, ids)) = found {
                    let original = slots[i..i + len].iter().map(|s| s.unwrap_or("")).collect::<Vec<_>>().join(" ");
                    let zh = chinese_targets(entries, &ids);
                    if !zh.is_empty() {
                        out.push(Expansion { first: i, len, original, translations: vec![zh] });
                    }
                    i += len;
                } else {
                    i += 1;
                }
                continue;
            }
            if word.chars().all(is_han)
                || (word.chars().any(is_han) && word.chars().all(|c| !c.is_alphanumeric() || is_han(c)))
            {
                let norm: String = word.nfkc().filter(|&c| is_han(c)).collect();
                if let Some(pieces) = self.cover(&norm) {
                    let translations: Vec<Vec<&'static str>> =
                        pieces.iter().map(|ids| english_targets(entries, ids)).filter(|t| !t.is_empty()).collect();
                    if translations.len() == pieces.len() && !translations.is_empty() {
                        out.push(Expansion { first: i, len: 1, original: word.to_string(), translations });
                    }
                }
            }
            i += 1;
        }
        out
    }

    /// The glossary terms that make up a Chinese word: the word itself, else
    /// the longest term at each place (joiners may sit between them); `None`
    /// when some part of it is not in the glossary.
    fn cover(&self, word: &str) -> Option<Vec<Vec<u32>>> {
        if let Some(ids) = self.zh.get(word) {
            return Some(vec![ids.clone()]);
        }
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        let byte_at = |i: usize| chars.get(i).map_or(word.len(), |c| c.0);
        let mut pieces = Vec::new();
        let mut at = 0;
        while at < chars.len() {
            let longest = (2..=self.max_zh.min(chars.len() - at))
                .rev()
                .find_map(|n| self.zh.get(&word[byte_at(at)..byte_at(at + n)]).map(|ids| (n, ids)));
            match longest {
                Some((n, ids)) => {
                    pieces.push(ids.clone());
                    at += n;
                }
                None if JOINERS.contains(&chars[at].1) && !pieces.is_empty() => at += 1,
                None => return None,
            }
        }
        (!pieces.is_empty()).then_some(pieces)
    }
}

fn push(v: &mut Vec<u32>, i: u32) {
    if !v.contains(&i) {
        v.push(i);
    }
}

/// A word of Latin letters (and `-`, `'`), no digits, no Han.
fn is_plain_english(w: &str) -> bool {
    w.chars().any(|c| c.is_alphabetic())
        && w.chars().all(|c| (c.is_alphabetic() && !is_han(c)) || matches!(c, '-' | '\'' | '’'))
}

/// A capital abbreviation next to a number is part of a code (`21 CFR 211`).
fn is_code_part(slots: &[Option<&str>], i: usize) -> bool {
    let Some(w) = slots[i] else { return false };
    if !w.chars().all(|c| c.is_uppercase()) {
        return false;
    }
    let has_digit = |j: usize| slots.get(j).copied().flatten().is_some_and(|s| s.chars().any(|c| c.is_ascii_digit()));
    (i > 0 && has_digit(i - 1)) || has_digit(i + 1)
}

/// The Chinese terms of `ids` worth searching: one that contains another
/// is found by it (Chinese terms match as substrings).
fn chinese_targets(entries: &[Entry], ids: &[u32]) -> Vec<&'static str> {
    let all: Vec<&'static str> = ids.iter().flat_map(|&i| entries[i as usize].zh).map(|t| t.text).collect();
    let mut out: Vec<&'static str> = Vec::new();
    for &t in &all {
        let covered = all.iter().any(|&o| o != t && t.contains(o));
        if !covered && !out.contains(&t) {
            out.push(t);
        }
    }
    out.truncate(MAX_TRANSLATIONS);
    out
}

/// The English terms of `ids` worth searching: one whose tokens contain
/// another's as a run is found by it (English terms match as phrases).
fn english_targets(entries: &[Entry], ids: &[u32]) -> Vec<&'static str> {
    let all: Vec<(&'static str, String)> = ids
        .iter()
        .flat_map(|&i| entries[i as usize].en)
        .filter(|t| t.searched)
        .map(|t| (t.text, format!(" {} ", key(t.text))))
        .filter(|(_, k)| !k.trim().is_empty())
        .collect();
    let mut out: Vec<&'static str> = Vec::new();
    let mut keys: Vec<&str> = Vec::new();
    for (t, k) in &all {
        let covered = all.iter().any(|(_, o)| o != k && k.contains(o.as_str()));
        if !covered && !keys.contains(&k.as_str()) {
            out.push(t);
            keys.push(k);
        }
    }
    out.truncate(MAX_TRANSLATIONS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(q: &str) -> Vec<(String, Vec<Vec<&'static str>>)> {
        let words: Vec<&str> = q.split_whitespace().collect();
        let slots: Vec<Option<&str>> = words.iter().map(|w| Some(*w)).collect();
        glossary().expand(&slots).into_iter().map(|e| (e.original, e.translations)).collect()
    }

    /// The buckets and the token bound hold for every term: computed from
    /// the text, they agree with the analyzer's key.
    #[test]
    fn english_buckets_and_lengths_agree_with_the_keys() {
        let mut checked = 0;
        for e in entries() {
            for t in e.en.iter().filter(|t| t.searched) {
                let k = key(t.text);
                if k.is_empty() {
                    continue;
                }
                assert_eq!(bucket(&k), bucket(t.text), "{:?} has the key {k:?}", t.text);
                assert!(k.split(' ').count() <= pieces(t.text), "{:?} has the key {k:?}", t.text);
                checked += 1;
            }
        }
        assert!(checked > 3000, "{checked}");
        assert_eq!((bucket("Drug product"), bucket("21 CFR"), bucket("§ x"), bucket("—")), (3, 28, 23, 36));
        assert_eq!((pieces("pre-IND"), pieces("21CFR"), pieces("drug product"), pieces("")), (2, 2, 2, 1));
    }

    #[test]
    fn the_glossary_is_big_enough_and_every_entry_has_both_languages() {
        assert!(entries().len() >= 1500, "{} entries", entries().len());
        for e in entries() {
            assert!(!e.zh.is_empty() && !e.en.is_empty(), "{e:?}");
            for t in e.zh {
                let nfkc: String = t.text.nfkc().collect();
                assert_eq!(nfkc, t.text, "Chinese terms are NFKC already");
            }
        }
    }

    #[test]
    fn the_maps_build_in_milliseconds() {
        // Built on the first expanded query of a process: a cold `notices
        // search` pays it once (BENCHMARKS.md §4 has the release figure).
        let took = warm_up();
        eprintln!("glossary maps: {} entries in {took:?}", entries().len());
        assert!(took < std::time::Duration::from_millis(500), "{took:?}");
    }

    #[test]
    fn english_words_take_the_longest_term() {
        let e = expand("marketing authorization holder");
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].0, "marketing authorization holder");
        assert!(e[0].1[0].contains(&"上市许可持有人"), "{e:?}");
        let e = expand("Consistency Evaluations");
        assert_eq!(e[0].1, vec![vec!["一致性评价", "一致性評價"]], "longer variants are dropped: {e:?}");
        let e = expand("generic drug bioequivalence");
        assert_eq!(e.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["generic drug", "bioequivalence"]);
    }

    #[test]
    fn chinese_words_whole_or_covered_by_terms() {
        let e = expand("过敏原");
        assert!(e[0].1[0].contains(&"allergen"), "{e:?}");
        let e = expand("注射剂仿制药");
        assert_eq!(e[0].1.len(), 2, "{e:?}");
        assert!(e[0].1[0].contains(&"injection") && e[0].1[1].contains(&"generic drug"), "{e:?}");
        assert!(expand("注射剂仿制药工作安排").is_empty(), "工作安排 is not in the glossary");
    }

    #[test]
    fn codes_numbers_and_common_word_abbreviations_are_not_expanded() {
        assert!(expand("COVID-19").is_empty());
        assert!(expand("21 CFR 211").is_empty());
        assert!(expand("be").is_empty(), "only BE in capitals");
        let e = expand("BE");
        assert!(e[0].1[0].contains(&"生物等效"), "{e:?}");
        // A recognised-only abbreviation is never a translation.
        let e = expand("生物等效性");
        assert!(!e[0].1[0].contains(&"BE"), "{e:?}");
    }
}
