//! Saved pages and web archives (fixtures in `fixtures/saved/`, made by
//! real producers, see their PROVENANCE.md) through the same extractors as
//! crawled pages.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use crawler::saved::extract::{SavedNotice, notices};
use crawler::saved::{Reason, Refusal, UrlEvidence};
use index::{Notice, Source};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/saved").join(name)
}

fn read(name: &str) -> (Vec<SavedNotice>, Vec<Refusal>) {
    let (mut ok, mut refused) = (Vec::new(), Vec::new());
    for item in notices(&fixture(name)) {
        match item {
            Ok(n) => ok.push(n),
            Err(r) => refused.push(r),
        }
    }
    (ok, refused)
}

fn by_url<'a>(found: &'a [SavedNotice], url: &str) -> &'a SavedNotice {
    found
        .iter()
        .find(|n| n.notice.url.as_deref() == Some(url))
        .unwrap_or_else(|| panic!("no notice at {url}: {:?}", found.iter().map(|n| &n.notice.url).collect::<Vec<_>>()))
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Nothing of the page furniture or its scripts got into the notice.
fn assert_clean(n: &Notice, absent: &[&str]) {
    let all = format!("{}\n{}", n.title, n.body);
    for s in ["$_ts", "r=\"m\"", "<script", "<", "saved from url", "_files/", "function"].iter().chain(absent) {
        assert!(!all.contains(s), "{s:?} in {}: {all}", n.id);
    }
}

/// What a snapshot shows of a notice: what extraction decides.
fn shown(n: &SavedNotice) -> serde_json::Value {
    serde_json::json!({
        "url": n.notice.url, "url_from": n.url_from, "source": n.notice.source, "title": n.notice.title,
        "published": n.notice.published, "doc_numbers": n.notice.doc_numbers, "agency": n.notice.agency,
        "body": n.notice.body, "attachments": n.notice.attachments,
        "archived_files": n.attachments.iter().map(|f| (f.url.as_str(), f.content_type.as_deref(), f.bytes.len())).collect::<Vec<_>>(),
    })
}

#[test]
fn a_page_saved_from_nmpa_goes_through_the_nmpa_extractor() {
    let (found, refused) = read("nmpa-62.html");
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(found.len(), 1);
    let n = &found[0];
    let url = "https://www.nmpa.gov.cn/xxgk/ggtg/qtggtg/20200514170101220.html";
    assert_eq!(n.url_from, UrlEvidence::SavedFromComment);
    assert_eq!(n.notice.url.as_deref(), Some(url));
    // The same id a crawl of that URL gives: re-ingest or a later crawl updates it.
    assert_eq!(n.notice.id, Notice::id_for_url(url));
    assert_eq!(n.notice.source, Source::Nmpa);
    assert_eq!(n.notice.title, "国家药监局关于开展化学药品注射剂仿制药质量和疗效一致性评价工作的公告（2020年第62号）");
    assert_eq!(n.notice.published, date(2020, 5, 14));
    assert_eq!(n.notice.doc_numbers, ["2020年第62号"]);
    assert!(n.notice.body.contains("注射剂一致性评价研究"), "{}", n.notice.body);
    assert_clean(&n.notice, &["本站由国家药品监督管理局主办", "分享到", "微信"]);
    let att: Vec<&str> = n.notice.attachments.iter().map(|a| a.url.as_str()).collect();
    assert_eq!(att[1], "https://www.nmpa.gov.cn/directory/web/nmpa/images/1589446876253071392.pdf");
    assert!(n.warnings.is_empty(), "{:?}", n.warnings);
    insta::assert_json_snapshot!(shown(n));
}

#[test]
fn a_folder_goes_past_what_it_refuses_and_skips_companion_folders() {
    let (found, refused) = read("folder");
    let cde = by_url(&found, "https://www.cde.org.cn/main/news/viewInfoCommon/2f8ad5c3e0b14a7f9b6c1d2e3f405162");
    assert_eq!(cde.notice.source, Source::Cde);
    assert_eq!(cde.notice.title, "关于公开征求《药物临床试验适应性设计指导原则》意见的通知");
    assert_eq!(cde.notice.published, date(2020, 5, 15));
    assert_eq!(cde.notice.attachments.len(), 3);
    assert_clean(&cde.notice, &["当前位置", "京ICP备09013725号", "政务新闻"]);

    let eca = by_url(&found, "https://www.gmp-compliance.org/gmp-news/new-eca-mission-published");
    assert_eq!(eca.notice.source, Source::Eca);
    assert_eq!(eca.notice.title, "New ECA Mission Published");
    assert_eq!(eca.notice.published, date(2005, 10, 6));
    assert!(eca.notice.body.contains("new mission statement"));
    assert_clean(&eca.notice, &["Heidelberg", "Related GMP News", "Go back", "Quality Assurance", "Vienna"]);

    // No URL in an "HTML only" save: generic extraction, other/saved, a warning, never dropped.
    let html_only = found.iter().find(|n| n.origin.ends_with("cde-html-only.htm")).expect("the HTML-only page");
    assert_eq!(html_only.notice.source, Source::Other("saved".into()));
    assert_eq!(html_only.url_from, UrlEvidence::None);
    assert!(html_only.notice.url.as_deref().is_some_and(|u| u.starts_with("file:///")));
    assert!(html_only.notice.body.contains("境外药品注册申请人"), "{}", html_only.notice.body);
    assert!(html_only.warnings.iter().any(|w| w.contains("cde-html-only.htm") && w.contains("other/saved")));
    assert_eq!(found.len(), 3, "{:?}", found.iter().map(|n| &n.origin).collect::<Vec<_>>());

    // Refused, each naming its file and why; the companion folders' scripts are not files to refuse.
    assert_eq!(refused.len(), 2, "{refused:?}");
    let blocked = refused.iter().find(|r| r.origin.ends_with("nmpa-blocked.html")).expect("the challenge");
    assert!(matches!(&blocked.reason, Reason::Challenge(m) if m.contains("NMPA")), "{blocked}");
    let pdf = refused.iter().find(|r| r.origin.ends_with("notes.pdf")).expect("the PDF");
    assert_eq!(pdf.reason, Reason::NotHtml("a PDF document".into()));
    assert!(pdf.to_string().contains("notes.pdf: not an HTML page"), "{pdf}");
}

#[test]
fn an_mhtml_snapshot_lands_with_its_location() {
    let (found, refused) = read("cde-snapshot.mhtml");
    assert!(refused.is_empty(), "{refused:?}");
    let n = by_url(&found, "http://www.cde.org.cn/main/news/viewInfoCommon/5e6f708192a3b4c5d6e7f8091a2b3c4d");
    assert_eq!(n.url_from, UrlEvidence::MhtmlLocation);
    assert_eq!(n.notice.source, Source::Cde);
    assert_eq!(n.notice.title, "关于发布《药品注册受理审查指南（试行）》的通告");
    assert_eq!(n.notice.published, date(2020, 4, 30));
    assert!(n.notice.body.contains("药审中心制定了"), "{}", n.notice.body);
    assert_clean(&n.notice, &["当前位置", "京ICP备09013725号", "=3D", "=E5"]);
    assert!(n.notice.fetched_at.is_some(), "the MHTML's Date:");
    insta::assert_json_snapshot!(shown(n));
}

#[test]
fn a_wget_warc_gives_its_pages_with_their_archived_attachment() {
    let (found, refused) = read("session.warc.gz");
    let urls: Vec<&str> = found.iter().filter_map(|n| n.notice.url.as_deref()).collect();
    assert_eq!(
        urls,
        [
            "http://www.nmpa.gov.cn/xxgk/ggtg/qtggtg/20200514170101220.html",
            "http://www.nmpa.gov.cn/xxgk/ggtg/ylqxggtg/20200512093015146.html",
            "http://www.gmp-compliance.org/gmp-news/audit-trail-in-the-centre-of-an-fda-warning-letter",
        ]
    );
    let nmpa = &found[0];
    assert_eq!(nmpa.url_from, UrlEvidence::WarcTargetUri);
    assert_eq!(nmpa.notice.source, Source::Nmpa);
    assert_eq!(nmpa.notice.published, date(2020, 5, 14));
    assert_clean(&nmpa.notice, &["本站由国家药品监督管理局主办", "分享到"]);
    // The PDF the page links was fetched in the same session: it comes along.
    assert_eq!(nmpa.attachments.len(), 1);
    let pdf = &nmpa.attachments[0];
    assert_eq!(pdf.url.as_str(), "http://www.nmpa.gov.cn/directory/web/nmpa/images/1589446876253071392.pdf");
    assert_eq!(pdf.content_type.as_deref(), Some("application/pdf"));
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    assert!(nmpa.notice.fetched_at.is_some(), "the WARC-Date");

    let second = &found[1];
    assert_eq!(second.notice.title, "国家药监局关于发布医疗器械拓展性临床试验管理规定（试行）的公告（2020年第41号）");
    assert_eq!(second.notice.published, date(2020, 5, 12));
    let eca = &found[2];
    assert_eq!(
        (eca.notice.source.clone(), eca.notice.title.as_str()),
        (Source::Eca, "Audit Trail in the Centre of an FDA Warning Letter")
    );
    assert_eq!(eca.notice.attachments.len(), 1, "{:?}", eca.notice.attachments);
    assert!(eca.attachments.is_empty(), "its PDF was not archived");

    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(matches!(refused[0].reason, Reason::Challenge(_)), "{}", refused[0]);
    assert!(refused[0].origin.contains("session.warc.gz#") && refused[0].origin.contains("challenge.html"));
    assert_eq!(refused[1].reason, Reason::HttpStatus(404));
}

#[test]
fn a_truncated_warc_keeps_what_came_before_and_says_where_it_broke() {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(fixture("session.warc.gz")).unwrap()),
        &mut raw,
    )
    .unwrap();
    let cut = dir.path().join("cut.warc");
    // Cut inside the ECA answer: the pages before it are read.
    let at = raw.windows(10).rposition(|w| w == b"Audit Trai").unwrap();
    std::fs::write(&cut, &raw[..at]).unwrap();
    let (found, refused) = read(cut.to_str().unwrap());
    assert_eq!(found.len(), 2);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(matches!(&refused[0].reason, Reason::Damaged(m) if m.contains("the rest is skipped")), "{}", refused[0]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn mutated_warcs_and_garbage_never_panic(
        at in 0usize..20_000, byte in proptest::prelude::any::<u8>(), cut in 0usize..40_000, gz in proptest::prelude::any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut raw = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(fixture("session.warc.gz")).unwrap()),
            &mut raw,
        ).unwrap();
        if at < raw.len() { raw[at] = byte; }
        raw.truncate(cut.min(raw.len()));
        let path = dir.path().join("x.warc");
        let bytes = if gz {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            std::io::Write::write_all(&mut e, &raw).unwrap();
            e.finish().unwrap()
        } else { raw };
        std::fs::write(&path, bytes).unwrap();
        for item in notices(&path) {
            let _ = item;
        }
    }
}
