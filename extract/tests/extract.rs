//! Extraction of the real fixtures (see tests/fixtures/PROVENANCE.md): a
//! phrase found only inside each file comes out as a user types it; files
//! without text and broken files end as typed outcomes.

use std::io::Write;
use std::time::{Duration, Instant};

use extract::{Error, Extracted, Format, Limits, NoText, extract};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text_of(name: &str) -> Extracted {
    extract(&fixture(name), name, None, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn assert_has(got: &Extracted, phrases: &[&str]) {
    let text = got.text.as_deref().expect("text");
    for phrase in phrases {
        assert!(text.contains(phrase), "{phrase:?} not in:\n{text}");
    }
}

#[test]
fn chinese_pdf_reads_as_a_user_types() {
    let got = text_of("chinese.pdf");
    assert_eq!(got.format, Format::Pdf);
    assert_eq!(got.pages, Some(1));
    assert_has(
        &got,
        &[
            // Wrapped across lines in the PDF.
            "国家药品监督管理局组织制定了《化学药物中药制剂研究技术指导原则》",
            "确保文件要求落实到位。",
            "国家药监局关于发布化学药物中药制剂研究技术指导原则的通告",
            // Radical code points in the text layer.
            "广东省人民政府食品药品监督管理局文件",
            "按政府网站常见的文本层写入康熙部首",
            // Soft hyphens, and a hyphenated line break.
            "follow this guidance when preparing the",
            "section of the submission, including",
        ],
    );
    let text = got.text.unwrap();
    assert!(
        !text.chars().any(|c| ('\u{2E80}'..='\u{2FDF}').contains(&c) || c == '\u{AD}'),
        "radicals or soft hyphens left: {text}"
    );
    insta::assert_snapshot!("chinese_pdf", text);
}

#[test]
fn docx_paragraphs_and_table_cells() {
    let got = text_of("table.docx");
    assert_eq!(got.format, Format::Docx);
    assert_has(
        &got,
        &[
            "化学原料药登记号查询",
            "request a bioequivalence waiver",
            // Cells of one row, in order.
            "Y20190005678\t阿托伐他汀钙\t江苏恒瑞医药股份有限公司\tPending technical review",
        ],
    );
    insta::assert_yaml_snapshot!("table_docx", got);
}

#[test]
fn doc_via_catdoc() {
    let got = text_of("notice.doc");
    assert_eq!(got.format, Format::Doc);
    assert_has(
        &got,
        &[
            "医疗器械注册证编号的编排方式",
            "medical device registration certificate identifies",
            "Review division\tCenter for Medical Device Evaluation",
        ],
    );
    insta::assert_yaml_snapshot!("notice_doc", got);
}

#[test]
fn xlsx_every_sheet() {
    let got = text_of("sheets.xlsx");
    assert_eq!(got.format, Format::Xlsx);
    assert_eq!(got.sheets, Some(2));
    assert_has(
        &got,
        &[
            "参比制剂目录",
            "注射用紫杉醇（白蛋白结合型）",
            "Withdrawn",
            "NDMA impurity above the acceptable intake limit",
            "亚硝胺杂质超出可接受摄入量",
        ],
    );
    insta::assert_yaml_snapshot!("sheets_xlsx", got);
}

#[test]
fn xls_every_sheet() {
    let got = text_of("sheets.xls");
    assert_eq!(got.format, Format::Xls);
    assert_eq!(got.sheets, Some(2));
    assert_has(&got, &["一次性进口药品清单", "罕见病用药伊米苷酶", "Valsartan film-coated tablets", "缬沙坦片"]);
    insta::assert_yaml_snapshot!("sheets_xls", got);
}

#[test]
fn zip_of_a_docx_and_an_xls() {
    let got = text_of("bundle.zip");
    assert_eq!(got.format, Format::Zip);
    assert_has(&got, &["附件1.docx", "阿托伐他汀钙", "附件2.xls", "缬沙坦片"]);
    let entries: Vec<_> = got.entries.iter().map(|e| (e.name.as_str(), e.format)).collect();
    assert_eq!(entries, [("附件1.docx", Format::Docx), ("附件2.xls", Format::Xls)]);
    insta::assert_yaml_snapshot!("bundle_zip", got.entries);
}

#[test]
fn wps_and_et_are_routed_by_what_they_are() {
    let wps = extract(&fixture("notice.doc"), "通知.wps", None, &Limits::default()).unwrap();
    assert_eq!(wps.format, Format::Doc);
    assert!(wps.text.unwrap().contains("医疗器械注册证编号"));
    let et = extract(&fixture("sheets.xls"), "清单.et", None, &Limits::default()).unwrap();
    assert_eq!(et.format, Format::Xls);
    assert!(et.text.unwrap().contains("缬沙坦片"));
    // WPS also saves OOXML under its own extensions.
    let wps = extract(&fixture("table.docx"), "a.wps", None, &Limits::default()).unwrap();
    assert_eq!(wps.format, Format::Docx);
}

#[test]
fn scan_has_no_text_layer() {
    let got = text_of("scan.pdf");
    assert_eq!(got.text, None);
    assert_eq!(got.no_text, Some(NoText::NoTextLayer { pages: 1 }));
}

#[test]
fn truncated_pdf_is_malformed() {
    let err = extract(&fixture("broken.pdf"), "broken.pdf", None, &Limits::default()).unwrap_err();
    assert!(matches!(err, Error::Malformed { format: Format::Pdf, .. }), "{err}");
    assert_eq!(err.code(), "malformed");
}

#[test]
fn encrypted_pdf_is_encrypted() {
    let err = extract(&fixture("encrypted.pdf"), "e.pdf", None, &Limits::default()).unwrap_err();
    assert!(matches!(err, Error::Encrypted { format: Format::Pdf }), "{err}");
}

#[test]
fn an_error_page_named_pdf_is_not_read_as_text() {
    let html = b"<!DOCTYPE html><html><body>412 Precondition Failed</body></html>";
    let got = extract(html, "https://www.nmpa.gov.cn/a.pdf", Some("application/pdf"), &Limits::default()).unwrap();
    assert_eq!(got.no_text, Some(NoText::Unsupported { format: Format::Html }));
}

/// A zip whose one member is `mib` MiB of zeros (deflate: ~1000:1).
fn zeros_zip(mib: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    zip.start_file("zeros.txt", options).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..mib {
        zip.write_all(&chunk).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn zip_bomb_is_refused() {
    let bomb = zeros_zip(64);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let limits = Limits { max_unzipped_bytes: 16 << 20, ..Limits::default() };
    let started = Instant::now();
    let err = extract(&bomb, "bomb.zip", None, &limits).unwrap_err();
    assert!(matches!(err, Error::ZipBomb { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // The same bomb inside an .xlsx's container, and a zip of it.
    let nested = {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("inner.zip", options).unwrap();
        zip.write_all(&bomb).unwrap();
        zip.finish().unwrap().into_inner()
    };
    let err = extract(&nested, "outer.zip", None, &limits).unwrap_err();
    assert!(matches!(err, Error::ZipBomb { .. }), "{err}");
}

#[test]
fn too_many_members_is_refused() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..50 {
        zip.start_file(format!("{i}.txt"), zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(b"x").unwrap();
    }
    let many = zip.finish().unwrap().into_inner();
    let limits = Limits { max_zip_entries: 20, ..Limits::default() };
    let err = extract(&many, "many.zip", None, &limits).unwrap_err();
    assert!(matches!(err, Error::ZipBomb { .. }), "{err}");
}

#[test]
fn nesting_is_capped() {
    let mut inner = fixture("bundle.zip");
    for level in 0..3 {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file(format!("level{level}.zip"), zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(&inner).unwrap();
        inner = zip.finish().unwrap().into_inner();
    }
    let limits = Limits { max_depth: 3, ..Limits::default() };
    let err = extract(&inner, "deep.zip", None, &limits).unwrap_err();
    assert!(matches!(err, Error::TooDeep { max_depth: 3 }), "{err}");
    let limits = Limits { max_depth: 4, ..Limits::default() };
    let got = extract(&inner, "deep.zip", None, &limits).unwrap();
    assert!(got.text.unwrap().contains("缬沙坦片"));
    assert!(got.entries.iter().any(|e| e.name == "level2.zip/level1.zip/level0.zip/附件2.xls"), "{:?}", got.entries);
}

#[test]
fn a_broken_member_does_not_sink_the_archive() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("broken.pdf", options).unwrap();
    zip.write_all(&fixture("broken.pdf")).unwrap();
    zip.start_file("notice.doc", options).unwrap();
    zip.write_all(&fixture("notice.doc")).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let got = extract(&bytes, "a.zip", None, &Limits::default()).unwrap();
    assert!(got.text.unwrap().contains("医疗器械注册证编号"));
    assert_eq!(got.entries[0].format, Format::Pdf);
    assert!(got.entries[0].error.as_deref().unwrap().contains("malformed"));
    assert_eq!(got.entries[1].error, None);
}

#[test]
fn time_cap_stops_waiting() {
    let limits = Limits { max_seconds: 0, ..Limits::default() };
    let started = Instant::now();
    let err = extract::extract_capped(fixture("chinese.pdf"), "a.pdf", None, &limits).unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "current_thread")]
async fn async_extraction_leaves_the_runtime_free() {
    // On a one-thread runtime, a ticker task keeps running while the
    // extraction works: it is not on the runtime's thread.
    let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = ticks.clone();
    let ticker = tokio::spawn(async move {
        loop {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    let mut got = Vec::new();
    for name in ["chinese.pdf", "notice.doc", "sheets.xlsx", "bundle.zip"] {
        let e = extract::extract_async(fixture(name), name, None, &Limits::default()).await.unwrap();
        got.push(e.text.is_some());
    }
    ticker.abort();
    assert_eq!(got, [true; 4]);
    assert!(ticks.load(std::sync::atomic::Ordering::SeqCst) > 1);
}
