//! Analyzer throughput (MB/s) on Chinese-heavy and English-heavy corpus
//! text and on the sample digest, next to raw segmentation of the same
//! text: jieba-rs (the reference, the limit of this design) and our
//! compile-time-dictionary segmenter.
//!
//! `cargo bench -p notices-index --bench analyzer`

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use index::Lang;
use index::analyzer::{BilingualTokenizer, Mode};
use index::segmenter::{self, Scratch};
use tantivy::tokenizer::{TokenStream, Tokenizer};

/// Text per iteration: large enough that per-call overheads vanish.
const TEXT_BYTES: usize = 1 << 20;

fn tokens(tokenizer: &mut impl Tokenizer, text: &str) -> usize {
    let mut stream = tokenizer.token_stream(text);
    let mut n = 0usize;
    while stream.advance() {
        n += stream.token().text.len();
    }
    n
}

fn bench(c: &mut Criterion) {
    index::analyzer::warm_up();
    let jieba = jieba_rs::Jieba::new();
    let texts = [
        ("zh", common::text(Lang::Zh, TEXT_BYTES)),
        ("en", common::text(Lang::En, TEXT_BYTES)),
        ("digest", common::DIGEST.to_string()),
    ];
    for (name, text) in &texts {
        let text = text.as_str();
        let mut group = c.benchmark_group(*name);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.sample_size(20);
        for (label, mode) in [("analyzer_index", Mode::Index), ("analyzer_query", Mode::Query)] {
            let mut tokenizer = BilingualTokenizer::new(mode);
            group.bench_function(label, |b| b.iter(|| tokens(&mut tokenizer, text)));
        }
        // Tantivy's "default" analyzer, the 70 MB/s reference.
        let mut default = tantivy::tokenizer::TextAnalyzer::builder(tantivy::tokenizer::SimpleTokenizer::default())
            .filter(tantivy::tokenizer::RemoveLongFilter::limit(40))
            .filter(tantivy::tokenizer::LowerCaser)
            .build();
        group.bench_function("tantivy_default_analyzer", |b| {
            b.iter(|| {
                let mut stream = default.token_stream(text);
                let mut n = 0usize;
                while stream.advance() {
                    n += stream.token().text.len();
                }
                n
            })
        });
        group.bench_function("jieba_cut_all", |b| b.iter(|| jieba.cut_all(text).len()));
        group.bench_function("jieba_cut", |b| b.iter(|| jieba.cut(text, false).len()));
        group.bench_function("jieba_cut_for_search", |b| b.iter(|| jieba.cut_for_search(text, false).len()));
        let mut scratch = Scratch::default();
        group.bench_function("segmenter_all_words", |b| {
            b.iter(|| {
                let mut n = 0usize;
                segmenter::for_each_word(text, &mut scratch, |w| n += w.end);
                n
            })
        });
        group.bench_function("segmenter_cut", |b| {
            b.iter(|| {
                let mut n = 0usize;
                segmenter::cut(text, &mut scratch, |w| n += w.end);
                n
            })
        });
        group.finish();
    }
}

fn startup(c: &mut Criterion) {
    // What a cold process pays before its first Chinese query.
    let mut group = c.benchmark_group("startup");
    group.sample_size(10);
    group.bench_function("jieba_rs_new", |b| b.iter(jieba_rs::Jieba::new));
    group.bench_function("segmenter_first_cut", |b| {
        b.iter(|| {
            let mut n = 0;
            segmenter::cut("国家药监局关于开展一致性评价工作的公告", &mut Scratch::default(), |_| n += 1);
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench, startup);
criterion_main!(benches);
