//! Indexing throughput (notices/s and MB/s of analysed text) with 1 and 2
//! indexing threads, next to raw segmentation of the same text on the same
//! number of threads (jieba-rs full mode, and our segmenter), whose ratio
//! says how much Tantivy and the analyzer add on top.
//!
//! The 100k and 1M figures (index size, peak RSS) come from the
//! whole-process script `index/benches/indexing.sh`; this bench indexes a
//! slice of the same corpus in memory, commit included.
//!
//! `cargo bench -p notices-index --bench indexing`

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use index::segmenter::{self, Scratch};
use index::{Notice, NoticeIndex};

/// Notices per iteration (about 12 MB of text).
const NOTICES: usize = 2_000;

/// Runs `f` over the notices split into `threads` contiguous parts.
fn on_threads(notices: &[Notice], threads: usize, f: impl Fn(&[Notice]) -> usize + Sync) -> usize {
    let chunk = notices.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = notices.chunks(chunk).map(|part| s.spawn(|| f(part))).collect();
        handles.into_iter().map(|h| h.join().expect("no panic")).sum()
    })
}

fn bench(c: &mut Criterion) {
    index::analyzer::warm_up();
    let jieba = jieba_rs::Jieba::new();
    let notices = common::notices(NOTICES);
    let bytes = common::text_bytes(&notices);
    eprintln!("indexing bench: {NOTICES} notices, {:.1} MB of text", bytes as f64 / 1e6);
    for threads in [1usize, 2] {
        let mut group = c.benchmark_group(format!("threads_{threads}"));
        group.sample_size(10);
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function("index_notices", |b| {
            b.iter(|| {
                let index = NoticeIndex::in_memory().expect("index");
                common::index_into(&index, &notices, threads);
            })
        });
        group.bench_function("jieba_cut_all", |b| {
            b.iter(|| {
                on_threads(&notices, threads, |part| {
                    part.iter().map(|n| jieba.cut_all(&n.title).len() + jieba.cut_all(&n.body).len()).sum()
                })
            })
        });
        group.bench_function("segmenter_all_words", |b| {
            b.iter(|| {
                on_threads(&notices, threads, |part| {
                    let mut scratch = Scratch::default();
                    let mut n = 0;
                    for notice in part {
                        segmenter::for_each_word(&notice.title, &mut scratch, |_| n += 1);
                        segmenter::for_each_word(&notice.body, &mut scratch, |_| n += 1);
                    }
                    n
                })
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
