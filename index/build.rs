//! Builds, at compile time:
//!
//! - the segmenter's dictionary trie, so that a process starts without
//!   parsing 349k dictionary lines (jieba-rs's `Jieba::new()` spends ~95 ms
//!   on that). Input: `data/jieba-dict.txt.gz`, `word frequency` per line.
//!   Output: `$OUT_DIR/jieba-dict.bin`, little-endian, read in place by
//!   `src/segmenter.rs` (the layout is documented there and must match).
//!   The glossary's Chinese terms are added to it as words (with
//!   [`DOMAIN_FREQ`]) when jieba's dictionary lacks them: the index then
//!   holds `一致性评价` or `上市许可持有人` as one term wherever it occurs,
//!   and a query for it is a term query instead of a phrase of common words
//!   (the slowest searches of BENCHMARKS.md §9).
//! - the bilingual glossary's table. Input: `data/glossary.tsv` (format in
//!   its header). Output: `$OUT_DIR/glossary.rs`, a static array of entries
//!   included by `src/glossary.rs`. A malformed line fails the build with
//!   its line number, so a bad edit never ships.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

const MAGIC: u32 = 0x4a44_5432; // "JDT2"
const ROOT_TABLE: usize = 0x1_0000;
const NO_FREQ: u16 = u16::MAX;
/// Frequency of a glossary term added to the dictionary. Only jieba's
/// precise cut weighs frequencies (the index mode takes every word and the
/// query mode the longest), and no search uses that cut.
const DOMAIN_FREQ: u64 = 100;

#[derive(Default)]
struct TmpNode {
    children: BTreeMap<char, usize>,
    freq: Option<u64>,
}

fn main() {
    let domain = glossary();
    dictionary(&domain);
}

/// The node of `word` in the temporary trie, added with its path if new.
fn insert(nodes: &mut Vec<TmpNode>, word: &str) -> usize {
    let mut node = 0;
    for c in word.chars() {
        node = match nodes[node].children.get(&c) {
            Some(&n) => n,
            None => {
                nodes.push(TmpNode::default());
                let n = nodes.len() - 1;
                nodes[node].children.insert(c, n);
                n
            }
        };
    }
    node
}

fn dictionary(domain: &[String]) {
    let input = PathBuf::from("data/jieba-dict.txt.gz");
    println!("cargo::rerun-if-changed={}", input.display());
    println!("cargo::rerun-if-changed=build.rs");
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&input).expect("data/jieba-dict.txt.gz exists"))
        .read_to_string(&mut text)
        .expect("the dictionary is gzipped UTF-8");

    // Temporary pointer trie; node 0 is the root.
    let mut nodes = vec![TmpNode::default()];
    let mut total: u64 = 0;
    for line in text.lines() {
        let mut it = line.split_ascii_whitespace();
        let Some(word) = it.next() else { continue };
        let freq: u64 = it.next().map_or(0, |f| f.parse().expect("numeric frequency"));
        // jieba-rs sums every line's frequency, and a repeated word keeps
        // the later frequency (its trie insert overwrites).
        total += freq;
        let node = insert(&mut nodes, word);
        nodes[node].freq = Some(freq);
    }
    // Glossary terms jieba lacks, as jieba-rs's `add_word` would add them
    // (the segmenter's oracle test does exactly that).
    let mut added: Vec<&str> = Vec::new();
    for word in domain {
        let node = insert(&mut nodes, word);
        if nodes[node].freq.is_none() {
            nodes[node].freq = Some(DOMAIN_FREQ);
            total += DOMAIN_FREQ;
            added.push(word.as_str());
        }
    }
    // The added words, sorted, for `segmenter::is_added_word`.
    added.sort_unstable();
    added.dedup();
    let list: String = added.iter().map(|w| format!("{w:?},")).collect();
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("added-words.rs");
    std::fs::write(&dest, format!("/// Glossary words added to jieba's dictionary, sorted (build.rs).\npub(crate) static ADDED: &[&str] = &[{list}];\n"))
        .expect("OUT_DIR is writable");

    // Distinct frequencies, so a node stores a u16 index into a small
    // table of ln(freq) that stays in cache.
    let mut freqs: Vec<u64> = nodes.iter().filter_map(|n| n.freq).collect();
    freqs.sort_unstable();
    freqs.dedup();
    assert!(freqs.len() < NO_FREQ as usize, "too many distinct frequencies");

    // Breadth-first numbering: the children of a node are contiguous and
    // sorted by character.
    let mut order = vec![0usize]; // final index -> tmp node
    let mut chars = vec![0u32]; // final index -> incoming character
    let mut first = vec![0u32; 0];
    let mut i = 0;
    while i < order.len() {
        let tmp = order[i];
        first.push(order.len() as u32);
        for (&c, &child) in &nodes[tmp].children {
            order.push(child);
            chars.push(c as u32);
        }
        i += 1;
    }

    let big_endian = std::env::var("CARGO_CFG_TARGET_ENDIAN").as_deref() == Ok("big");
    assert!(!big_endian, "the dictionary blob is little-endian; add a byte swap for big-endian targets");
    let mut out: Vec<u8> = Vec::with_capacity(16 + 8 + freqs.len() * 8 + ROOT_TABLE * 4 + order.len() * 12);
    for v in [MAGIC, order.len() as u32, freqs.len() as u32, 0] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(total as f64).ln().to_le_bytes());
    for &f in &freqs {
        out.extend_from_slice(&(f as f64).ln().to_le_bytes());
    }
    let mut root = vec![0u32; ROOT_TABLE];
    let root_count = nodes[0].children.len();
    for idx in 1..=root_count {
        if (chars[idx] as usize) < ROOT_TABLE {
            root[chars[idx] as usize] = idx as u32;
        }
    }
    for v in root {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (idx, &tmp) in order.iter().enumerate() {
        let n = &nodes[tmp];
        let count = u16::try_from(n.children.len()).expect("fan-out fits u16");
        let freq = n.freq.map_or(NO_FREQ, |f| freqs.binary_search(&f).expect("listed") as u16);
        out.extend_from_slice(&first[idx].to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&freq.to_le_bytes());
    }
    // The incoming characters apart, so that searching a node's children
    // reads a dense array (16 per cache line), not the 8-byte records.
    for c in &chars {
        out.extend_from_slice(&c.to_le_bytes());
    }
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("jieba-dict.bin");
    std::fs::write(&dest, out).expect("OUT_DIR is writable");
}

/// Parses `data/glossary.tsv`, writes `$OUT_DIR/glossary.rs` and returns
/// its Chinese terms, in file order.
fn glossary() -> Vec<String> {
    let input = PathBuf::from("data/glossary.tsv");
    println!("cargo::rerun-if-changed={}", input.display());
    let text = std::fs::read_to_string(&input).expect("data/glossary.tsv exists and is UTF-8");
    let mut out = String::from(
        "/// The glossary's entries, in file order (generated by build.rs).\npub(crate) static ENTRIES: &[Entry] = &[\n",
    );
    let mut seen = std::collections::HashSet::new();
    let mut count = 0usize;
    let mut chinese = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fail = |why: &str| -> ! { panic!("data/glossary.tsv line {n}: {why}: {line:?}") };
        let cols: Vec<&str> = line.split('\t').collect();
        if !(2..=3).contains(&cols.len()) {
            fail("expected `chinese terms<TAB>english terms[<TAB>note]`");
        }
        let terms = |col: &str, zh: bool| -> Vec<(String, bool)> {
            let mut v = Vec::new();
            for raw in col.split('|') {
                let raw = raw.trim();
                let (text, searched) = match raw.strip_prefix('^') {
                    Some(t) => (t, false),
                    None => (raw, true),
                };
                if text.is_empty() {
                    fail("empty term");
                }
                if zh {
                    if text.chars().count() < 2 || !text.chars().all(is_han) {
                        fail(&format!("Chinese term {text:?} must be two or more Han characters"));
                    }
                    if !searched {
                        fail("`^` (recognised only) is for English abbreviations");
                    }
                } else {
                    if !text.chars().all(|c| c.is_ascii_alphabetic() || matches!(c, ' ' | '-' | '\'' | '/')) {
                        fail(&format!(
                            "English term {text:?} may hold letters, spaces, - / ' only (codes are never expanded)"
                        ));
                    }
                    if text.contains("  ") {
                        fail(&format!("English term {text:?} has a double space"));
                    }
                    let letters = text.chars().filter(char::is_ascii_alphabetic).count();
                    if searched && letters <= 2 {
                        fail(&format!(
                            "two-letter term {text:?} would match common words: mark it `^{text}` (recognised only)"
                        ));
                    }
                    if !searched && !text.chars().all(|c| c.is_ascii_uppercase() || c == '-') {
                        fail(&format!("`^{text}`: only capital abbreviations are recognised-only"));
                    }
                }
                v.push((text.to_string(), searched));
            }
            v
        };
        let zh = terms(cols[0], true);
        let en = terms(cols[1], false);
        let key = (cols[0].to_string(), cols[1].to_string());
        if !seen.insert(key) {
            fail("duplicate line");
        }
        let list = |v: &[(String, bool)]| {
            v.iter().map(|(t, s)| format!("Term {{ text: {t:?}, searched: {s} }}")).collect::<Vec<_>>().join(", ")
        };
        out.push_str(&format!("    Entry {{ zh: &[{}], en: &[{}] }},\n", list(&zh), list(&en)));
        chinese.extend(zh.into_iter().map(|(t, _)| t));
        count += 1;
    }
    out.push_str("];\n");
    assert!(count > 0, "data/glossary.tsv has no entries");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("glossary.rs");
    std::fs::write(&dest, out).expect("OUT_DIR is writable");
    chinese
}

/// Han ideographs (the analyzer's `is_han`; build scripts cannot use the crate).
fn is_han(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x323AF | 0x3007)
}
