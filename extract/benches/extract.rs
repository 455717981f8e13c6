//! Extraction throughput per format, in MB/s of attachment bytes, on the
//! committed fixtures (tests/fixtures, see PROVENANCE.md there). PDF and
//! .doc include starting the child process (pdftotext, catdoc), as in use.
//!
//! `nice cargo bench -p notices-extract`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use extract::{Limits, extract};

const FIXTURES: [(&str, &str); 6] = [
    ("pdf", "chinese.pdf"),
    ("docx", "table.docx"),
    ("doc", "notice.doc"),
    ("xlsx", "sheets.xlsx"),
    ("xls", "sheets.xls"),
    ("zip", "bundle.zip"),
];

fn formats(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("extract");
    for (format, file) in FIXTURES {
        let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).expect("fixture");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format, |b| {
            b.iter(|| {
                let got = extract(&bytes, file, None, &limits).expect("extracts");
                assert!(got.text.is_some());
                got
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = formats
}
criterion_main!(benches);
