//! Analyzer throughput on the sample digest (MB/s), next to raw jieba-rs
//! segmentation of the same text, which bounds what this design can do.
//!
//! `cargo bench -p notices-index --bench analyzer`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use index::analyzer::{BilingualTokenizer, Mode};
use tantivy::tokenizer::{TokenStream, Tokenizer};

const DIGEST: &str = include_str!("../../crawler/data/digest-2020-05-15.txt");

fn bench(c: &mut Criterion) {
    index::analyzer::warm_up();
    let jieba = jieba_rs::Jieba::new();
    let mut group = c.benchmark_group("digest");
    group.throughput(Throughput::Bytes(DIGEST.len() as u64));
    for (name, mode) in [("analyzer_index", Mode::Index), ("analyzer_query", Mode::Query)] {
        let mut tokenizer = BilingualTokenizer::new(mode);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut stream = tokenizer.token_stream(DIGEST);
                let mut n = 0usize;
                while stream.advance() {
                    n += stream.token().text.len();
                }
                n
            })
        });
    }
    group.bench_function("jieba_cut_all", |b| b.iter(|| jieba.cut_all(DIGEST).len()));
    group.bench_function("jieba_cut_for_search", |b| b.iter(|| jieba.cut_for_search(DIGEST, true).len()));
    group.bench_function("jieba_cut", |b| b.iter(|| jieba.cut(DIGEST, false).len()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
