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

/// Hands Tantivy tokens computed beforehand, text by text in indexing order
/// (one thread, one field per document), copying each into a reused token
/// as an analyzer would: indexing with it costs Tantivy's share only.
#[derive(Clone)]
struct Replay {
    texts: std::sync::Arc<Vec<Vec<tantivy::tokenizer::Token>>>,
    next: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    token: tantivy::tokenizer::Token,
}

struct ReplayStream<'a> {
    tokens: &'a [tantivy::tokenizer::Token],
    at: usize,
    token: &'a mut tantivy::tokenizer::Token,
}

impl tantivy::tokenizer::TokenStream for ReplayStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(t) = self.tokens.get(self.at) else { return false };
        self.token.text.clone_from(&t.text);
        self.token.offset_from = t.offset_from;
        self.token.offset_to = t.offset_to;
        self.token.position = t.position;
        self.at += 1;
        true
    }
    fn token(&self) -> &tantivy::tokenizer::Token {
        self.token
    }
    fn token_mut(&mut self) -> &mut tantivy::tokenizer::Token {
        self.token
    }
}

impl tantivy::tokenizer::Tokenizer for Replay {
    type TokenStream<'a> = ReplayStream<'a>;
    fn token_stream<'a>(&'a mut self, _text: &'a str) -> ReplayStream<'a> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ReplayStream { tokens: self.texts.get(i).map_or(&[], |v| v.as_slice()), at: 0, token: &mut self.token }
    }
}

/// What Tantivy alone costs for a token stream, one thread: the notices'
/// titles and bodies into a one-field index with positions, (a) analysed by
/// our analyzer while indexing, (b) replaying our index-mode tokens computed
/// beforehand (Tantivy's share only: the ceiling of this design's token
/// stream with a free analyzer), (c) replaying jieba's precise cut (what a
/// plain jieba tokenizer emits, under half the tokens).
fn ceiling(c: &mut Criterion) {
    use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
    use tantivy::tokenizer::Token;
    use tantivy::{Index, TantivyDocument};

    let notices = common::notices(NOTICES);
    let bytes = common::text_bytes(&notices);
    let schema_for = |tokenizer: &str| {
        let mut builder = Schema::builder();
        let field = builder.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        );
        (builder.build(), field)
    };
    let texts: Vec<String> = notices.iter().map(|n| format!("{}\n{}", n.title, n.body)).collect();
    let ours: Vec<Vec<Token>> =
        texts.iter().map(|t| index::analyzer::analyze(t, index::analyzer::Mode::Index)).collect();
    let jieba = jieba_rs::Jieba::new();
    let precise: Vec<Vec<Token>> = texts
        .iter()
        .map(|t| {
            let mut tokens = Vec::new();
            let mut at = 0;
            for word in jieba.cut(t, false) {
                let (from, text) = (at, word.word);
                at += text.len();
                if text.chars().any(char::is_alphanumeric) {
                    let position = tokens.len();
                    tokens.push(Token {
                        offset_from: from,
                        offset_to: at,
                        position,
                        text: text.to_lowercase(),
                        position_length: 1,
                    });
                }
            }
            tokens
        })
        .collect();
    let count = |v: &[Vec<Token>]| v.iter().map(Vec::len).sum::<usize>();
    eprintln!(
        "ceiling bench: {:.1} MB of text; our index mode {} tokens, jieba precise cut {} tokens",
        bytes as f64 / 1e6,
        count(&ours),
        count(&precise)
    );
    let ours = std::sync::Arc::new(ours);
    let precise = std::sync::Arc::new(precise);
    let run = |replay: Option<&std::sync::Arc<Vec<Vec<Token>>>>| {
        let name = if replay.is_some() { "replay" } else { index::analyzer::ANALYZER };
        let (schema, field) = schema_for(name);
        let index = Index::create_in_ram(schema);
        index::analyzer::register(index.tokenizers());
        if let Some(texts) = replay {
            let replay = Replay { texts: texts.clone(), next: Default::default(), token: Token::default() };
            index.tokenizers().register("replay", replay);
        }
        let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(1, 64_000_000).expect("writer");
        for t in &texts {
            let mut doc = TantivyDocument::new();
            doc.add_text(field, t);
            writer.add_document(doc).expect("add");
        }
        writer.commit().expect("commit");
    };
    let mut group = c.benchmark_group("ceiling_threads_1");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("our_analyzer", |b| b.iter(|| run(None)));
    group.bench_function("replay_our_tokens", |b| b.iter(|| run(Some(&ours))));
    group.bench_function("replay_jieba_cut_tokens", |b| b.iter(|| run(Some(&precise))));
    group.finish();
}

criterion_group!(benches, bench, ceiling);
criterion_main!(benches);
