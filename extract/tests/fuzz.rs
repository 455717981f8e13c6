//! Mutated real files: byte flips and truncations of every fixture end as
//! text, "no text" or an error, never a panic, and within the time cap.
//! Cases proptest finds are kept in `fuzz.proptest-regressions` and, when
//! they taught something, as named tests below.

use std::time::{Duration, Instant};

use extract::Limits;
use proptest::prelude::*;

const FIXTURES: [&str; 9] = [
    "chinese.pdf",
    "scan.pdf",
    "broken.pdf",
    "encrypted.pdf",
    "table.docx",
    "notice.doc",
    "sheets.xlsx",
    "sheets.xls",
    "bundle.zip",
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn limits() -> Limits {
    Limits { max_seconds: 10, max_unzipped_bytes: 32 << 20, ..Limits::default() }
}

/// Runs one mutated file: it must come back, in time, with text that is
/// not garbage or with a reason.
fn check(bytes: Vec<u8>, name: &str) {
    let limits = limits();
    let started = Instant::now();
    // `extract_capped`: a hang would fail the test instead of stalling it.
    match extract::extract_capped(bytes, name, None, &limits) {
        Ok(got) => {
            assert_eq!(got.text.is_some(), got.no_text.is_none(), "{got:?}");
            if let Some(text) = &got.text {
                assert!(!text.is_empty());
                assert!(!extract::normalize::is_unreadable(text), "{text}");
            }
        }
        Err(e) => {
            // A reader's panic is caught and reported as malformed; report
            // it here too, so new crash cases are seen and kept.
            if e.to_string().contains("panicked") {
                eprintln!("caught panic on mutated {name}: {e}");
            }
            assert!(!e.to_string().is_empty());
        }
    }
    assert!(started.elapsed() < limits.timeout() + Duration::from_secs(2), "{name} took {:?}", started.elapsed());
}

/// 96 cases per property, or `PROPTEST_CASES` for a longer hunt.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(96)
}

fn fixture_index() -> impl Strategy<Value = usize> {
    0..FIXTURES.len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn byte_flips_never_panic(
        which in fixture_index(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
    ) {
        let name = FIXTURES[which];
        let mut bytes = fixture(name);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        check(bytes, name);
    }

    #[test]
    fn truncations_never_panic(which in fixture_index(), keep in any::<prop::sample::Index>()) {
        let name = FIXTURES[which];
        let mut bytes = fixture(name);
        bytes.truncate(keep.index(bytes.len()));
        check(bytes, name);
    }

    #[test]
    fn spliced_fixtures_never_panic(
        a in fixture_index(),
        b in fixture_index(),
        cut in any::<prop::sample::Index>(),
    ) {
        // The head of one file with the tail of another: plausible headers,
        // nonsense structures.
        let (x, y) = (fixture(FIXTURES[a]), fixture(FIXTURES[b]));
        let at = cut.index(x.len().min(y.len()));
        let mut bytes = x[..at].to_vec();
        bytes.extend_from_slice(&y[at..]);
        check(bytes, FIXTURES[a]);
    }
}

#[test]
fn empty_and_tiny_inputs() {
    for name in FIXTURES {
        check(Vec::new(), name);
        check(b"%PDF-".to_vec(), name);
        check(b"PK\x03\x04".to_vec(), name);
        check(vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1], name);
    }
}

/// Cases the properties above found in `sheets.xls` (calamine 0.38 panics
/// on them: slice and index out of range in its CFB and BIFF readers; an
/// underflow in its Dimensions arithmetic that in a release build would
/// reserve gigabytes). Each must end as a malformed-file error.
#[test]
fn xls_crash_cases_found_by_the_properties() {
    let original = fixture("sheets.xls");
    let flips: [(usize, u8); 5] = [
        (3915, 0xFF), // Dimensions: last row before first
        (64, 0x00),
        (2050, 0x00),
        (3072, 0x00),
        (3076, 0xFF),
    ];
    for (at, value) in flips {
        let mut bytes = original.clone();
        bytes[at] = value;
        let err = extract::extract(&bytes, "sheets.xls", None, &limits())
            .expect_err(&format!("byte {at} set to {value:#04x}"));
        assert!(matches!(err, extract::Error::Malformed { .. }), "byte {at}: {err}");
    }
    // The Dimensions underflow is caught before calamine runs.
    let mut bytes = original.clone();
    bytes[3915] = 0xFF;
    let err = extract::extract(&bytes, "sheets.xls", None, &limits()).unwrap_err();
    assert!(err.to_string().contains("Dimensions"), "{err}");
    // Truncated inside the workbook stream.
    for keep in [4760, 4969, 5003, 5117] {
        let err = extract::extract(&original[..keep], "sheets.xls", None, &limits()).unwrap_err();
        assert!(matches!(err, extract::Error::Malformed { .. }), "kept {keep}: {err}");
    }
}

#[test]
fn hostile_spreadsheet_sizes_are_refused() {
    // An .xlsx whose sharedStrings declares four billion strings.
    let original = fixture("sheets.xlsx");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&original[..])).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut member = archive.by_index(i).unwrap();
        let name = member.name().unwrap().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut member, &mut data).unwrap();
        if name == "xl/sharedStrings.xml" {
            let text = String::from_utf8(data).unwrap();
            let start = text.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
            let end = start + text[start..].find('"').unwrap();
            data = format!("{}4000000000{}", &text[..start], &text[end..]).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut out, &data).unwrap();
    }
    let bytes = out.finish().unwrap().into_inner();
    let err = extract::extract(&bytes, "sheets.xlsx", None, &limits()).unwrap_err();
    assert!(err.to_string().contains("4000000000 strings"), "{err}");
}
