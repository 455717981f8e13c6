//! The bilingual analyzer: one Tantivy tokenizer for Chinese and English.
//!
//! What it does, in order:
//! 1. **NFKC** per character cluster, so `ＣＯＶＩＤ－１９` is `COVID-19` and
//!    `［2020］` is `[2020]`; a table maps every normalised byte back to the
//!    original text, so offsets always point into what the user wrote.
//! 2. **Han runs** are segmented with jieba's dictionary and algorithm
//!    ([`crate::segmenter`], same results as jieba-rs without HMM) over a
//!    trie built at compile time, so a process starts without loading it.
//! 3. **Latin/digit runs** are lowercased; plain words are stemmed with the
//!    English Snowball stemmer; codes joined by `-`, `.`, `/` or `_`
//!    (`COVID-19`, `pre-IND`, `2020-05-13`) stay whole and are not stemmed;
//!    a number followed by 号 also yields `62号`.
//! 4. At index time, the glossary's English terms of several words are also
//!    emitted whole where their words follow each other ([`crate::phrases`]).
//!
//! ## Positions (why they are what they are)
//! Search-mode segmenters emit overlapping sub-words (`一致`, `一致性`,
//! `评价`) with consecutive positions, which breaks phrase queries and
//! highlighting. Here a Han token's position is the **index of its first
//! character** in the Han run (plus the running position), and a Latin
//! token takes one position. At index time every dictionary word that
//! occurs anywhere in a run is emitted (jieba's full mode) together with
//! every single character, each at its own start position. At query time
//! a Han run is covered by the fewest of its longest dictionary words
//! (overlaps allowed: `仿制药` is `仿制` at 0 and `制药` at 1), each at its
//! start position, single characters only where no word covers them. Hence
//! any query that occurs as a substring of the text matches as a phrase,
//! whatever way the text happened to be segmented around it, and `评价`
//! finds `一致性评价` while `"一致性评价"` only matches the whole phrase.
//! Long words rather than jieba's precise cut, because a phrase query costs
//! what its commonest term costs: `仿制` + `药` reads the positions of 药 in
//! most Chinese notices, `仿制` + `制药` does not (profiled).
//!
//! ```
//! use index::analyzer::{analyze, Mode};
//! let words: Vec<String> = analyze("ＣＯＶＩＤ－１９ trials", Mode::Query).into_iter().map(|t| t.text).collect();
//! assert_eq!(words, ["covid-19", "trial"]);
//! ```

use foldhash::{HashMap, HashMapExt};
use std::cell::RefCell;
use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

use crate::segmenter::{self, Scratch, Word};

/// Name under which the index-time analyzer is registered. It is recorded
/// in the index's schema, so its version suffix changes whenever the index
/// mode's tokens do: an index written with other tokens then fails to open
/// with this schema and is rebuilt from its stored notices
/// ([`crate::NoticeIndex::open_or_create`]). v2: the glossary's Chinese terms
/// are dictionary words; v3: its English terms of several words are index
/// terms too ([`crate::phrases`]).
pub const ANALYZER: &str = "notices_bilingual_v3";
/// Name under which the query-time analyzer is registered.
pub const QUERY_ANALYZER: &str = "notices_bilingual_query";

/// Longest token kept, in bytes; longer runs (base64, hashes) are noise.
const MAX_TOKEN_BYTES: usize = 64;

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));

/// Prepares the dictionary and the stemmer now rather than on the first
/// query, and returns how long it took (for start-up measurements; the
/// dictionary is built at compile time, so this is microseconds).
pub fn warm_up() -> std::time::Duration {
    let t = std::time::Instant::now();
    segmenter::warm_up();
    LazyLock::force(&STEMMER);
    crate::phrases::warm_up();
    t.elapsed()
}

/// Index time or query time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// All dictionary words and every Han character; codes and their parts.
    Index,
    /// Precise segmentation; codes whole.
    Query,
}

/// Whether `c` is a Han ideograph (CJK unified, extensions, compatibility, 〇).
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x323AF | 0x3007)
}

/// The Tantivy tokenizer. Cheap to clone; keeps its buffers between calls.
#[derive(Clone)]
pub struct BilingualTokenizer {
    mode: Mode,
    /// Whether index mode adds the glossary's English phrase tokens.
    phrases: bool,
    buf: Buffers,
}

#[derive(Clone, Default)]
struct Buffers {
    norm: String,
    /// For every byte of `norm`, the byte offset in the original text of
    /// the cluster it came from; empty when `norm` is the text itself.
    map: Vec<u32>,
    /// Token slots, reused with their `String`s; only the first `len` are
    /// this text's (never truncated, which would free the strings).
    tokens: Vec<Token>,
    len: usize,
    /// Indices into `tokens` of this text's plain Latin words, where a
    /// glossary phrase can start: [`crate::phrases::add_tokens`] looks only
    /// there instead of at every token (reading every token's text was 18 %
    /// of analysing Chinese, profiled).
    latin: Vec<usize>,
    seg: Scratch,
}

/// Entries kept in a thread's stem cache before it starts over.
const STEM_CACHE: usize = 50_000;

thread_local! {
    /// Stems of words seen before: English is Zipfian, and the Snowball
    /// stemmer was most of the time spent on English text (profiled). One
    /// cache per thread rather than per tokenizer, because Tantivy clones a
    /// fresh tokenizer for every snippet generator, so a per-tokenizer cache
    /// started empty on every query (20 % of an English query, profiled).
    static STEMS: RefCell<HashMap<Box<str>, Box<str>>> = RefCell::new(HashMap::new());
}

impl BilingualTokenizer {
    /// A tokenizer for index or query time.
    pub fn new(mode: Mode) -> Self {
        BilingualTokenizer { mode, phrases: true, buf: Buffers::default() }
    }

    /// The same without the glossary's phrase tokens (`drug product`), for
    /// a highlighter whose terms hold none: finding them was 2 % of a
    /// loaded server's work (BENCHMARKS.md §12).
    pub(crate) fn without_phrases(self) -> Self {
        BilingualTokenizer { phrases: false, ..self }
    }
}

/// The stream over the tokens of one text, computed up front.
pub struct BilingualTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl TokenStream for BilingualTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for BilingualTokenizer {
    type TokenStream<'a> = BilingualTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BilingualTokenStream<'a> {
        run(text, self.mode, self.phrases, &mut self.buf);
        BilingualTokenStream { tokens: &mut self.buf.tokens[..self.buf.len], next: 0 }
    }
}

/// Tokenizes `text` into owned tokens (for tests, benchmarks and tools).
pub fn analyze(text: &str, mode: Mode) -> Vec<Token> {
    let mut buf = Buffers::default();
    run(text, mode, true, &mut buf);
    buf.tokens.truncate(buf.len);
    buf.tokens
}

/// Registers both analyzers on an index's tokenizer manager.
pub fn register(manager: &tantivy::tokenizer::TokenizerManager) {
    manager.register(ANALYZER, BilingualTokenizer::new(Mode::Index));
    manager.register(QUERY_ANALYZER, BilingualTokenizer::new(Mode::Query));
}

fn run(text: &str, mode: Mode, phrases: bool, buf: &mut Buffers) {
    STEMS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut stems) => run_with(text, mode, phrases, buf, &mut stems),
        // Only reachable if analysis ever re-entered itself on one thread.
        Err(_) => run_with(text, mode, phrases, buf, &mut HashMap::new()),
    })
}

fn run_with(text: &str, mode: Mode, phrases: bool, buf: &mut Buffers, stems: &mut HashMap<Box<str>, Box<str>>) {
    let Buffers { norm, map, tokens, len, latin, seg } = buf;
    normalize(text, norm, map);
    latin.clear();
    let mut emitter = Emitter { text, map, tokens, used: 0, stems, latin };
    let norm = if map.is_empty() { text } else { norm.as_str() };
    segment(norm, mode, &mut emitter, seg);
    let mut used = emitter.used;
    if mode == Mode::Index && phrases {
        crate::phrases::add_tokens(tokens, &mut used, latin);
    }
    *len = used;
}

/// NFKC-normalises `text` into `norm`, filling `map` only when something
/// changed (the common ASCII/CJK case costs one scan and no copy).
fn normalize(text: &str, norm: &mut String, map: &mut Vec<u32>) {
    norm.clear();
    map.clear();
    let needs = |c: char| !(c.is_ascii() || is_han(c)) && is_nfkc_quick(std::iter::once(c)) != IsNormalized::Yes;
    // ASCII and Han characters are NFKC-stable starters: skip the lookups.
    let plain = |c: char| c.is_ascii() || is_han(c);
    let Some(first) = text.char_indices().find(|&(_, c)| !plain(c) && (needs(c) || canonical_combining_class(c) != 0))
    else {
        return;
    };
    norm.reserve(text.len());
    norm.push_str(&text[..first.0]);
    map.extend(0..first.0 as u32);
    let mut rest = text[first.0..].char_indices().map(|(i, c)| (i + first.0, c)).peekable();
    while let Some((start, c)) = rest.next() {
        // A cluster is a starter and the combining marks after it.
        let mut end = start + c.len_utf8();
        while let Some(&(i, next)) = rest.peek() {
            if plain(next) || canonical_combining_class(next) == 0 {
                break;
            }
            end = i + next.len_utf8();
            rest.next();
        }
        let before = norm.len();
        if end == start + c.len_utf8() && !needs(c) {
            norm.push(c);
        } else {
            norm.extend(text[start..end].nfkc());
        }
        map.extend(std::iter::repeat_n(start as u32, norm.len() - before));
    }
}

/// Writes tokens into the reusable vector, reusing their `String`s.
struct Emitter<'t, 'b> {
    text: &'t str,
    map: &'b [u32],
    tokens: &'b mut Vec<Token>,
    used: usize,
    stems: &'b mut HashMap<Box<str>, Box<str>>,
    latin: &'b mut Vec<usize>,
}

impl Emitter<'_, '_> {
    /// Original offset of normalised byte `i` (start of its cluster).
    fn orig_start(&self, i: usize) -> usize {
        if self.map.is_empty() { i } else { self.map.get(i).map_or(self.text.len(), |&o| o as usize) }
    }

    /// Original offset just past the cluster holding normalised byte `i - 1`.
    fn orig_end(&self, i: usize) -> usize {
        if self.map.is_empty() {
            return i;
        }
        let last = self.map[i - 1];
        self.map[i..].iter().find(|&&o| o != last).map_or(self.text.len(), |&o| o as usize)
    }

    /// Pushes a token; false if it was left out (empty or too long).
    fn push(&mut self, text: &str, from: usize, to: usize, position: usize) -> bool {
        if text.len() > MAX_TOKEN_BYTES || text.is_empty() {
            return false;
        }
        let (offset_from, offset_to) = (self.orig_start(from), self.orig_end(to));
        if self.used == self.tokens.len() {
            self.tokens.push(Token::default());
        }
        let t = &mut self.tokens[self.used];
        t.text.clear();
        t.text.push_str(text);
        t.offset_from = offset_from;
        t.offset_to = offset_to;
        t.position = position;
        t.position_length = 1;
        self.used += 1;
        true
    }

    /// Pushes a lowercased (and, for plain words, stemmed) Latin token.
    fn push_word(&mut self, word: &str, from: usize, to: usize, position: usize, stem: bool, lower: &mut String) {
        lower.clear();
        if word.is_ascii() {
            lower.push_str(word);
            lower.make_ascii_lowercase();
        } else {
            lower.extend(word.chars().flat_map(char::to_lowercase));
        }
        let alphabetic = if lower.is_ascii() {
            lower.bytes().all(|b| b.is_ascii_alphabetic())
        } else {
            lower.chars().all(char::is_alphabetic)
        };
        let stemmable = stem && alphabetic;
        if stemmable {
            // Stems come from the cache (copied into `lower`, no allocation);
            // a miss stems and remembers the word.
            match self.stems.get(lower.as_str()) {
                Some(stemmed) => {
                    lower.clear();
                    lower.push_str(stemmed);
                }
                None => {
                    let stemmed: Box<str> = STEMMER.stem(lower).into();
                    if self.stems.len() >= STEM_CACHE {
                        self.stems.clear();
                    }
                    self.stems.insert(lower.as_str().into(), stemmed.clone());
                    lower.clear();
                    lower.push_str(&stemmed);
                }
            }
        }
        // Only a plain stemmed word can start a glossary phrase.
        if self.push(lower, from, to, position)
            && stemmable
            && lower.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        {
            self.latin.push(self.used - 1);
        }
    }
}

fn is_connector(c: char) -> bool {
    matches!(c, '-' | '.' | '/' | '_')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_han(c)
}

/// Splits normalised text into Han runs and Latin/digit runs and emits
/// their tokens with positions as described in the module docs.
fn segment(norm: &str, mode: Mode, out: &mut Emitter<'_, '_>, seg: &mut Scratch) {
    let mut position = 0usize;
    let mut lower = String::new();
    let mut i = 0;
    while i < norm.len() {
        let c = norm[i..].chars().next().expect("in bounds");
        if is_han(c) {
            let start = i;
            let mut end = i;
            for (j, ch) in norm[i..].char_indices() {
                if !is_han(ch) {
                    break;
                }
                end = i + j + ch.len_utf8();
            }
            position = han_run(&norm[start..end], start, position, mode, out, seg);
            i = end;
        } else if is_word_char(c) {
            // A code: word chars joined by single connectors.
            let start = i;
            let mut end;
            let mut parts = 1;
            let mut j = i;
            loop {
                let mut k = j;
                for (o, ch) in norm[j..].char_indices() {
                    if !is_word_char(ch) {
                        k = j + o;
                        break;
                    }
                    k = j + o + ch.len_utf8();
                }
                end = k;
                let next = norm[end..].chars().next();
                let after = next.and_then(|n| norm[end + n.len_utf8()..].chars().next());
                match (next, after) {
                    (Some(n), Some(a)) if is_connector(n) && is_word_char(a) => {
                        parts += 1;
                        j = end + n.len_utf8();
                    }
                    _ => break,
                }
            }
            let whole = &norm[start..end];
            let stem = parts == 1;
            out.push_word(whole, start, end, position, stem, &mut lower);
            if parts > 1 && mode == Mode::Index {
                let mut p = start;
                for piece in whole.split(is_connector) {
                    let pend = p + piece.len();
                    out.push_word(piece, p, pend, position, true, &mut lower);
                    p = pend + 1;
                }
            }
            // `62号`: a number and the 号 after it also form one token.
            if whole.bytes().all(|b| b.is_ascii_digit()) && norm[end..].starts_with('号') {
                lower.clear();
                lower.push_str(whole);
                lower.push('号');
                out.push(&lower, start, end + '号'.len_utf8(), position);
            }
            position += 1;
            i = end;
        } else {
            i += c.len_utf8();
        }
    }
}

/// Emits one Han run starting at normalised byte `base`; returns the next position.
fn han_run(run: &str, base: usize, position: usize, mode: Mode, out: &mut Emitter<'_, '_>, seg: &mut Scratch) -> usize {
    match mode {
        Mode::Query => {
            let starts: Vec<usize> = run.char_indices().map(|(b, _)| b).collect();
            let byte_of = |i: usize| starts.get(i).copied().unwrap_or(run.len());
            for (j, end) in cover(run, starts.len(), false, seg) {
                out.push(&run[byte_of(j)..byte_of(end)], base + byte_of(j), base + byte_of(end), position + j);
            }
        }
        Mode::Index => {
            // Every character is emitted, dictionary word or not, so that
            // any query word has a posting at its start; before each
            // longer word come the characters up to its start.
            let mut next_char = 0usize; // next character to emit, as (index, byte)
            let mut next_byte = 0usize;
            let mut emit_chars_to = |upto: usize, out: &mut Emitter<'_, '_>| {
                while next_char <= upto && next_byte < run.len() {
                    let len = utf8_len(run.as_bytes()[next_byte]);
                    let b = base + next_byte;
                    out.push(&run[next_byte..next_byte + len], b, b + len, position + next_char);
                    next_char += 1;
                    next_byte += len;
                }
            };
            segmenter::for_each_word(run, seg, |w: Word| {
                if w.end - w.start > 1 {
                    emit_chars_to(w.start, out);
                    out.push(
                        &run[w.byte_start..w.byte_end],
                        base + w.byte_start,
                        base + w.byte_end,
                        position + w.start,
                    );
                }
            });
            emit_chars_to(usize::MAX, out);
            return position + next_char;
        }
    }
    position + run.chars().count()
}

/// The query mode's cover of a Han run of `n` characters: the longest
/// dictionary word at each character (the character itself if none), then
/// the fewest of those that cover the run, as (start, end) in characters.
/// With `parts`, a word spanning the whole run is not used.
fn cover(run: &str, n: usize, parts: bool, seg: &mut Scratch) -> Vec<(usize, usize)> {
    let mut longest: Vec<usize> = (1..=n).collect(); // end (exclusive) per start
    segmenter::for_each_word(run, seg, |w: Word| {
        if w.end > longest[w.start] && !(parts && w.start == 0 && w.end == n) {
            longest[w.start] = w.end;
        }
    });
    let mut out = Vec::new();
    let (mut covered, mut next_start) = (0, 0);
    while covered < n {
        // Among the words starting after the previous one and at or before
        // the first uncovered character, the one reaching furthest (the
        // earliest, i.e. longest, on a tie).
        let j = (next_start..=covered).max_by_key(|&j| (longest[j], std::cmp::Reverse(j))).unwrap_or(covered);
        out.push((j, longest[j]));
        covered = longest[j];
        next_start = j + 1;
    }
    out
}

/// The words a Han word would be searched as if it were not itself a
/// dictionary word: the query cover of its text without it (`一致性评价` →
/// `一致性`, `评价`). Glossary terms added to the dictionary are scored as
/// the phrase of these (`crate::concept`).
pub fn parts(word: &str) -> Vec<String> {
    let starts: Vec<usize> = word.char_indices().map(|(b, _)| b).collect();
    let byte_of = |i: usize| starts.get(i).copied().unwrap_or(word.len());
    cover(word, starts.len(), true, &mut Scratch::default())
        .into_iter()
        .map(|(j, end)| word[byte_of(j)..byte_of(end)].to_string())
        .collect()
}

/// Length of the UTF-8 sequence that starts with `first`.
#[inline(always)]
fn utf8_len(first: u8) -> usize {
    match first {
        0..0x80 => 1,
        0xC0..0xE0 => 2,
        0xE0..0xF0 => 3,
        _ => 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(text: &str, mode: Mode) -> Vec<String> {
        analyze(text, mode).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn han_index_has_subwords_and_query_is_precise() {
        let idx = texts("一致性评价", Mode::Index);
        for w in ["一致", "一致性", "评价", "评"] {
            assert!(idx.contains(&w.to_string()), "{w} missing from {idx:?}");
        }
        assert_eq!(texts("评价工作", Mode::Query), ["评价", "工作"]);
        // A glossary term is one word, at index and at query time.
        assert!(idx.contains(&"一致性评价".to_string()), "{idx:?}");
        assert_eq!(texts("一致性评价", Mode::Query), ["一致性评价"]);
        assert_eq!(parts("一致性评价"), ["一致性", "评价"]);
        assert_eq!(parts("仿制药"), ["仿制", "制药"]);
        let idx = texts("国家知识产权局", Mode::Index);
        assert!(idx.contains(&"知识产权".to_string()), "{idx:?}");
    }

    #[test]
    fn positions_are_character_starts() {
        let toks = analyze("开展一致性评价", Mode::Index);
        let pos = |w: &str| toks.iter().find(|t| t.text == w).map(|t| t.position);
        assert_eq!(pos("一致性"), Some(2));
        assert_eq!(pos("评价"), Some(5));
        let q = analyze("评价工作", Mode::Query);
        assert_eq!(q[1].position - q[0].position, 2);
        // Positions never go backwards (Tantivy's postings need that).
        assert!(toks.windows(2).all(|w| w[0].position <= w[1].position));
    }

    #[test]
    fn english_is_lowercased_and_stemmed() {
        assert_eq!(texts("Guidances Trails", Mode::Query), ["guidanc", "trail"]);
        assert_eq!(texts("guidance trail", Mode::Query), ["guidanc", "trail"]);
    }

    #[test]
    fn codes_stay_whole() {
        assert_eq!(texts("COVID-19 pre-IND 21 CFR 211", Mode::Query), ["covid-19", "pre-ind", "21", "cfr", "211"]);
        let idx = texts("COVID-19", Mode::Index);
        assert_eq!(idx, ["covid-19", "covid", "19"]);
        assert!(texts("2020年第62号", Mode::Index).contains(&"62号".to_string()));
        assert!(texts("2020年第62号", Mode::Query).contains(&"62号".to_string()));
    }

    #[test]
    fn full_width_matches_half_width() {
        assert_eq!(texts("ＣＯＶＩＤ－１９", Mode::Query), texts("COVID-19", Mode::Query));
        assert_eq!(texts("〔2020〕", Mode::Query), texts("[2020]", Mode::Query));
        let t = analyze("ＣＯＶＩＤ－１９", Mode::Query);
        assert_eq!((t[0].offset_from, t[0].offset_to), (0, "ＣＯＶＩＤ－１９".len()));
    }

    #[test]
    fn offsets_point_into_the_original() {
        let text = "关于 COVID-19 的 Guidances（２０２０年第６２号）";
        for t in analyze(text, Mode::Index) {
            let orig = &text[t.offset_from..t.offset_to];
            let renorm: String = orig.nfkc().collect::<String>().to_lowercase();
            assert!(renorm.contains(&t.text) || t.text.starts_with("guidanc"), "{t:?} vs {orig}");
        }
    }

    /// The Han tokens are those of the former jieba-rs-based analyzer:
    /// every character plus `cut_all`'s longer words (index), `cut` (query).
    #[test]
    fn han_tokens_follow_jieba_rs_words() {
        let jieba = crate::segmenter::jieba_oracle();
        let digest = include_str!("../../crawler/data/digest-2020-05-15.txt");
        let synth = crate::synth::text(11, digest, crate::Lang::Zh, 100_000);
        let runs: Vec<&str> = [digest, synth.as_str()]
            .into_iter()
            .flat_map(|t| t.split(|c: char| !is_han(c)))
            .filter(|r| !r.is_empty())
            .collect();
        // `、` separates runs without a token or a position of its own.
        let text = runs.join("、");
        let (mut index, mut query) = (Vec::new(), Vec::new());
        let (mut byte, mut position) = (0, 0);
        for run in &runs {
            let all = jieba.cut_all(run);
            for (ci, (bi, ch)) in run.char_indices().enumerate() {
                index.push((ch.to_string(), byte + bi, byte + bi + ch.len_utf8(), position + ci));
                for w in all.iter().filter(|w| w.start == ci && w.end - w.start > 1) {
                    index.push((w.word.to_string(), byte + w.byte_start, byte + w.byte_end, position + ci));
                }
            }
            // Query mode: the fewest longest words covering the run.
            let starts: Vec<usize> = run.char_indices().map(|(b, _)| b).chain([run.len()]).collect();
            let n = starts.len() - 1;
            let end_at =
                |j: usize| all.iter().filter(|w| w.start == j).map(|w| w.end).max().unwrap_or(j + 1).max(j + 1);
            let (mut covered, mut from) = (0, 0);
            while covered < n {
                let mut best = covered;
                for j in from..=covered {
                    if end_at(j) > end_at(best) || (end_at(j) == end_at(best) && j < best) {
                        best = j;
                    }
                }
                let (b, e) = (starts[best], starts[end_at(best)]);
                query.push((run[b..e].to_string(), byte + b, byte + e, position + best));
                covered = end_at(best);
                from = best + 1;
            }
            byte += run.len() + "、".len();
            position += run.chars().count();
        }
        let got = |mode| -> Vec<_> {
            analyze(&text, mode).into_iter().map(|t| (t.text, t.offset_from, t.offset_to, t.position)).collect()
        };
        assert_eq!(got(Mode::Index), index);
        assert_eq!(got(Mode::Query), query);
    }

    proptest! {
        #[test]
        fn offsets_are_char_boundaries(s in "[a-zA-Z0-9 ,.\\-ＡＢ１２一致性评价药品知识产权局〔〕（）号年第\u{301}㈱ﬁ]{0,60}") {
            for mode in [Mode::Index, Mode::Query] {
                let toks = analyze(&s, mode);
                let mut last_pos = 0;
                for t in &toks {
                    prop_assert!(t.offset_from < t.offset_to, "{:?}", t);
                    prop_assert!(t.offset_to <= s.len());
                    prop_assert!(s.is_char_boundary(t.offset_from) && s.is_char_boundary(t.offset_to), "{:?}", t);
                    prop_assert!(t.position >= last_pos);
                    last_pos = t.position;
                }
            }
        }

        /// Every query token is an index token at the same position, so a
        /// query that is a substring of a text matches it as a phrase.
        #[test]
        fn query_tokens_are_index_tokens(s in "[a-zA-Z0-9 \\-一致性评价仿制药品上市许可持有人知识产权局号年第的了]{0,40}") {
            let index: std::collections::HashSet<(String, usize)> =
                analyze(&s, Mode::Index).into_iter().map(|t| (t.text, t.position)).collect();
            for t in analyze(&s, Mode::Query) {
                prop_assert!(index.contains(&(t.text.clone(), t.position)), "{:?} not among index tokens of {:?}", t, s);
            }
        }
    }
}
