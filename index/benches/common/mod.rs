//! Shared by the benchmarks: the seed text, corpus slices and index builds.
#![allow(dead_code)] // each bench uses a part

use std::time::Instant;

use index::synth::{Corpus, DEFAULT_SEED};
use index::{Lang, Notice, NoticeIndex};

/// The sample digest, the seed text of the synthetic corpus.
pub const DIGEST: &str = include_str!("../../../crawler/data/digest-2020-05-15.txt");

/// The first `n` notices of the default corpus.
pub fn notices(n: usize) -> Vec<Notice> {
    Corpus::new(DEFAULT_SEED, DIGEST).take(n).collect()
}

/// About `bytes` of Chinese-heavy or English-heavy corpus text.
pub fn text(lang: Lang, bytes: usize) -> String {
    index::synth::text(DEFAULT_SEED, DIGEST, lang, bytes)
}

/// Bytes of analysed text (titles, bodies, agencies) of notices.
pub fn text_bytes(notices: &[Notice]) -> u64 {
    notices.iter().map(|n| (n.title.len() + n.body.len() + n.agency.as_ref().map_or(0, String::len)) as u64).sum()
}

/// Indexes `notices` with `threads` indexing threads and commits.
pub fn index_into(index: &NoticeIndex, notices: &[Notice], threads: usize) {
    let mut writer = index.writer(threads).expect("writer");
    for n in notices {
        writer.upsert(n).expect("upsert");
    }
    writer.commit("bench").expect("commit");
}

/// Streams the first `count` notices of the corpus into `index` in
/// batches (never all in memory); returns (seconds, bytes of text).
pub fn stream_into(index: &NoticeIndex, count: u64, threads: usize) -> (f64, u64) {
    let t = Instant::now();
    let mut writer = index.writer(threads).expect("writer");
    let mut bytes = 0u64;
    for n in Corpus::new(DEFAULT_SEED, DIGEST).take(count as usize) {
        bytes += text_bytes(std::slice::from_ref(&n));
        writer.upsert(&n).expect("upsert");
    }
    writer.commit("bench").expect("commit");
    (t.elapsed().as_secs_f64(), bytes)
}
