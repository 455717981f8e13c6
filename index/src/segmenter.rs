//! Chinese word segmentation over a dictionary trie built at compile time.
//!
//! The two operations the analyzer needs, with the results of jieba-rs
//! (0.11, default dictionary, no HMM) — a test checks that on the sample
//! digest and on generated text:
//! - [`for_each_word`]: every dictionary word at every position, in
//!   position order and shortest first (jieba's `cut_all`);
//! - [`cut`]: the maximum-probability route (jieba's `cut(text, false)`).
//!
//! Why not jieba-rs itself: `Jieba::new()` parses its 349k-line dictionary
//! into a hash trie on every start (~95 ms), more than the whole budget of
//! a cold `notices search`. Here `build.rs` lays the trie out as flat
//! little-endian arrays in the binary, read in place: start-up costs
//! nothing and only the pages a text touches are ever loaded.
//!
//! Blob layout (see `build.rs`):
//! `magic u32, nodes u32, freqs u32, 0 u32, ln(total) f64,
//! ln(freq) f64 × freqs, root u32 × 65536, node × nodes, char u32 × nodes`
//! where a node is `first_child u32, children u16, freq_index u16` (8
//! bytes, `u16::MAX` when the node ends no word) and `char` is the
//! character leading to it (kept apart so a search over a node's children
//! reads a dense array). Nodes are numbered breadth first, node 0 is the
//! root, and a node's children are contiguous and sorted by character;
//! `root[c]` is the root's child for a BMP `c`.

use std::sync::LazyLock;

static BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/jieba-dict.bin"));

const MAGIC: u32 = 0x4a44_5432;
const ROOT_TABLE: usize = 0x1_0000;
const NODE_BYTES: usize = 8;
const NO_FREQ: u16 = u16::MAX;

/// The dictionary: views into the blob.
struct Dict {
    log_total: f64,
    log_freqs: &'static [u8],
    root: &'static [u8],
    nodes: &'static [u8],
    chars: &'static [u8],
}

/// Splitting the blob is a few arithmetic operations, not a load.
static DICT: LazyLock<Dict> = LazyLock::new(|| {
    let u32_at = |i: usize| u32::from_le_bytes(BLOB[i..i + 4].try_into().expect("4 bytes"));
    assert_eq!(u32_at(0), MAGIC, "dictionary blob from another build.rs");
    let (nodes, freqs) = (u32_at(4) as usize, u32_at(8) as usize);
    let log_total = f64::from_le_bytes(BLOB[16..24].try_into().expect("8 bytes"));
    let (freq_end, root_end) = (24 + freqs * 8, 24 + freqs * 8 + ROOT_TABLE * 4);
    let nodes_end = root_end + nodes * NODE_BYTES;
    assert_eq!(BLOB.len(), nodes_end + nodes * 4, "dictionary blob truncated");
    Dict {
        log_total,
        log_freqs: &BLOB[24..freq_end],
        root: &BLOB[freq_end..root_end],
        nodes: &BLOB[root_end..nodes_end],
        chars: &BLOB[nodes_end..],
    }
});

#[inline(always)]
fn u32_at(bytes: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"))
}

#[inline(always)]
fn u16_at(bytes: &[u8], i: usize) -> u16 {
    u16::from_le_bytes(bytes[i..i + 2].try_into().expect("2 bytes"))
}

/// A node as read from the blob.
#[derive(Clone, Copy)]
struct Node {
    first: u32,
    children: u16,
    freq: u16,
}

impl Dict {
    #[inline(always)]
    fn node(&self, i: u32) -> Node {
        let at = i as usize * NODE_BYTES;
        Node { first: u32_at(self.nodes, at), children: u16_at(self.nodes, at + 4), freq: u16_at(self.nodes, at + 6) }
    }

    #[inline(always)]
    fn node_char(&self, i: u32) -> u32 {
        u32_at(self.chars, i as usize * 4)
    }

    #[inline(always)]
    fn log_freq(&self, freq: u16) -> f64 {
        let at = freq as usize * 8;
        f64::from_le_bytes(self.log_freqs[at..at + 8].try_into().expect("8 bytes"))
    }

    /// The child of `node` on `c`.
    #[inline(always)]
    fn child(&self, node: u32, n: Node, c: char) -> Option<u32> {
        if node == 0 && (c as usize) < ROOT_TABLE {
            let child = u32_at(self.root, c as usize * 4);
            return (child != 0).then_some(child);
        }
        let c = c as u32;
        let (mut lo, mut hi) = (n.first, n.first + n.children as u32);
        // Most nodes have one to three children: scan a few (dense u32s).
        while hi - lo > 8 {
            let mid = lo + (hi - lo) / 2;
            if self.node_char(mid) <= c {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (lo..hi).find(|&i| self.node_char(i) == c)
    }

    /// Calls `f(end, ln(freq))` for every dictionary word that starts at
    /// `chars[start]` and lies within `chars`, shortest first.
    #[inline(always)]
    fn words_at(&self, chars: &[(u32, char)], start: usize, mut f: impl FnMut(usize, f64)) {
        let (mut id, mut node) = (0u32, self.node(0));
        for (k, &(_, c)) in chars[start..].iter().enumerate() {
            let Some(next) = self.child(id, node, c) else { return };
            id = next;
            node = self.node(id);
            if node.freq != NO_FREQ {
                f(start + k + 1, self.log_freq(node.freq));
            }
            if node.children == 0 {
                return;
            }
        }
    }
}

/// The characters jieba-rs segments with its dictionary (its CJK classes);
/// any other character, 〇 say, is a word of its own.
#[inline(always)]
pub fn is_dictionary_char(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2A6DF}'
        | '\u{2A700}'..='\u{2B73F}'
        | '\u{2B740}'..='\u{2B81F}'
        | '\u{2B820}'..='\u{2CEAF}'
        | '\u{2CEB0}'..='\u{2EBEF}'
        | '\u{2F800}'..='\u{2FA1F}')
}

/// A word found in a text: byte and character spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word {
    /// Byte offset of the first character.
    pub byte_start: usize,
    /// Byte offset past the last character.
    pub byte_end: usize,
    /// Index of the first character.
    pub start: usize,
    /// Index past the last character.
    pub end: usize,
}

/// Reusable buffers, so segmenting allocates nothing once warm.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    /// Byte offset and value of each character of the text.
    chars: Vec<(u32, char)>,
    /// Best route from each character: log-probability and end.
    route: Vec<(f64, u32)>,
}

mod added {
    include!(concat!(env!("OUT_DIR"), "/added-words.rs"));
}

/// Whether `word` is a glossary term that `build.rs` added to jieba's
/// dictionary (see `index/data/README.md`).
pub fn is_added_word(word: &str) -> bool {
    added::ADDED.binary_search(&word).is_ok()
}

/// Touches the dictionary so a later first call does no set-up (there is
/// nothing to load: this only splits the blob into its tables).
pub fn warm_up() {
    LazyLock::force(&DICT);
}

fn decode(text: &str, chars: &mut Vec<(u32, char)>) {
    chars.clear();
    chars.extend(text.char_indices().map(|(i, c)| (i as u32, c)));
}

/// Byte offset of character `i` of `chars`, or the text's end.
#[inline(always)]
fn byte_at(chars: &[(u32, char)], i: usize, len: usize) -> usize {
    chars.get(i).map_or(len, |&(b, _)| b as usize)
}

/// Every dictionary word of `text` (single characters included), by start
/// position, shortest first: jieba-rs's `cut_all` restricted to words.
pub fn for_each_word(text: &str, scratch: &mut Scratch, mut f: impl FnMut(Word)) {
    let dict = &*DICT;
    decode(text, &mut scratch.chars);
    let chars = &scratch.chars[..];
    let mut block_start = 0;
    while block_start < chars.len() {
        // A block: a maximal run of dictionary characters.
        if !is_dictionary_char(chars[block_start].1) {
            block_start += 1;
            continue;
        }
        let block_end = chars[block_start..]
            .iter()
            .position(|&(_, c)| !is_dictionary_char(c))
            .map_or(chars.len(), |p| block_start + p);
        let block = &chars[..block_end];
        for start in block_start..block_end {
            let byte_start = block[start].0 as usize;
            dict.words_at(block, start, |end, _| {
                f(Word { byte_start, byte_end: byte_at(chars, end, text.len()), start, end });
            });
        }
        block_start = block_end;
    }
}

/// The most probable segmentation of `text` by word frequencies (jieba-rs's
/// `cut(text, false)` for text of Han characters); characters outside the
/// dictionary's classes are words of their own.
pub fn cut(text: &str, scratch: &mut Scratch, mut f: impl FnMut(Word)) {
    let dict = &*DICT;
    decode(text, &mut scratch.chars);
    let Scratch { chars, route } = scratch;
    let chars = &chars[..];
    let log1 = 0.0f64 - dict.log_total;
    let mut i = 0;
    while i < chars.len() {
        if !is_dictionary_char(chars[i].1) {
            f(Word {
                byte_start: chars[i].0 as usize,
                byte_end: byte_at(chars, i + 1, text.len()),
                start: i,
                end: i + 1,
            });
            i += 1;
            continue;
        }
        let end = chars[i..].iter().position(|&(_, c)| !is_dictionary_char(c)).map_or(chars.len(), |p| i + p);
        let block = &chars[..end];
        // Best route from the end back, exactly as jieba-rs computes it
        // (same operations in the same order, same tie-break: the longer
        // word wins a tie), so the floating-point results are identical.
        route.clear();
        route.resize(end - i + 1, (0.0, 0));
        route[end - i] = (0.0, end as u32);
        for idx in (i..end).rev() {
            let mut best: Option<(f64, u32)> = None;
            dict.words_at(block, idx, |e, log_freq| {
                let prob = log_freq - dict.log_total + route[e - i].0;
                match best {
                    Some((p, be)) if !(prob > p || (prob == p && e as u32 > be)) => {}
                    _ => best = Some((prob, e as u32)),
                }
            });
            route[idx - i] = best.unwrap_or((log1 + route[idx + 1 - i].0, idx as u32 + 1));
        }
        let mut x = i;
        while x < end {
            let y = route[x - i].1 as usize;
            f(Word { byte_start: chars[x].0 as usize, byte_end: byte_at(chars, y, text.len()), start: x, end: y });
            x = y;
        }
        i = end;
    }
}

/// jieba-rs with the glossary's Chinese terms added as `build.rs` adds them
/// to our dictionary (the words it lacks, at the same frequency): the oracle
/// of this module's and the analyzer's tests.
#[cfg(test)]
pub(crate) fn jieba_oracle() -> jieba_rs::Jieba {
    let mut jieba = jieba_rs::Jieba::new();
    for term in crate::glossary::entries().iter().flat_map(|e| e.zh) {
        if !jieba.has_word(term.text) {
            jieba.add_word(term.text, Some(100), None);
        }
    }
    jieba
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, full: bool) -> Vec<(usize, usize, String)> {
        let mut out = Vec::new();
        let mut s = Scratch::default();
        let mut push = |w: Word| out.push((w.start, w.end, text[w.byte_start..w.byte_end].to_string()));
        if full {
            for_each_word(text, &mut s, &mut push)
        } else {
            cut(text, &mut s, &mut push)
        }
        out
    }

    fn jieba_words(jieba: &jieba_rs::Jieba, text: &str, full: bool) -> Vec<(usize, usize, String)> {
        let toks = if full { jieba.cut_all(text) } else { jieba.cut(text, false) };
        toks.into_iter()
            // cut_all also lists the characters outside its classes.
            .filter(|t| !full || t.word.chars().all(is_dictionary_char))
            .map(|t| (t.start, t.end, t.word.to_string()))
            .collect()
    }

    /// Han runs of a text, as the analyzer hands them to the segmenter.
    fn han_runs(text: &str) -> Vec<&str> {
        text.split(|c: char| !crate::analyzer::is_han(c)).filter(|r| !r.is_empty()).collect()
    }

    #[test]
    fn small_examples() {
        let cut_words: Vec<String> = words("评价工作", false).into_iter().map(|w| w.2).collect();
        assert_eq!(cut_words, ["评价", "工作"]);
        let all: Vec<String> = words("知识产权", true).into_iter().map(|w| w.2).collect();
        assert!(all.contains(&"知识产权".to_string()) && all.contains(&"产权".to_string()), "{all:?}");
        // 〇 is outside jieba's classes: a word of its own, never in a longer word.
        assert_eq!(words("二〇二〇", false).len(), 4);
    }

    #[test]
    fn glossary_terms_are_words() {
        assert!(is_added_word("一致性评价") && is_added_word("上市许可持有人"));
        assert!(!is_added_word("知识产权"), "jieba's own word");
        let all: Vec<String> = words("开展仿制药一致性评价工作", true).into_iter().map(|w| w.2).collect();
        assert!(all.iter().any(|w| w == "一致性评价"), "{all:?}");
        let all: Vec<String> = words("药品上市许可持有人", true).into_iter().map(|w| w.2).collect();
        assert!(all.iter().any(|w| w == "上市许可持有人"), "{all:?}");
    }

    #[test]
    fn identical_to_jieba_rs() {
        let jieba = jieba_oracle();
        let digest = include_str!("../../crawler/data/digest-2020-05-15.txt");
        let synth = crate::synth::text(5, digest, crate::Lang::Zh, 200_000);
        // Random strings over the digest's characters reach odd routes.
        let alphabet: Vec<char> = digest.chars().filter(|&c| crate::analyzer::is_han(c)).collect();
        let mut rng = crate::synth::Rng::new(9);
        let random: Vec<String> = (0..300)
            .map(|_| (0..1 + rng.below(30)).map(|_| alphabet[rng.below(alphabet.len() as u64) as usize]).collect())
            .collect();
        let mut runs = han_runs(digest);
        runs.extend(han_runs(&synth));
        runs.extend(random.iter().map(String::as_str));
        runs.push("二〇二〇年𠀀𪜀");
        for run in runs {
            for full in [true, false] {
                assert_eq!(words(run, full), jieba_words(&jieba, run, full), "{run} (full mode: {full})");
            }
        }
    }
}
