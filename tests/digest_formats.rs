//! `notices digest --format docx|pdf`: the files read back with the tools
//! people's machines have (unzip and the document XML; poppler's
//! `pdftotext`) hold every item's title and document number.

mod cli_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_notices");
const WEEK: [&str; 4] = ["--since", "2020-05-11", "--until", "2020-05-15"];

fn notices(data: &Path, args: &[&str]) -> Output {
    cli_support::run(data, args)
}

fn sample_dir(root: &Path) -> PathBuf {
    let data = root.join("data");
    let digest = Path::new(env!("CARGO_MANIFEST_DIR")).join("crawler/data/digest-2020-05-15.txt");
    let out = notices(&data, &["ingest", digest.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    data
}

/// (title, document numbers) of every item, from the Markdown digest.
fn items(data: &Path) -> Vec<(String, Vec<String>)> {
    let mut args = vec!["digest", "--format", "markdown"];
    args.extend(WEEK);
    let md = String::from_utf8(notices(data, &args).stdout).unwrap();
    let unescape = |s: &str| s.replace('\\', "");
    let mut items: Vec<(String, Vec<String>)> = Vec::new();
    for line in md.lines().map(str::trim) {
        if let Some(title) = line
            .split_once(". **")
            .and_then(|(n, rest)| n.chars().all(|c| c.is_ascii_digit()).then(|| rest.trim_end_matches("**")))
        {
            items.push((unescape(title), Vec::new()));
        } else if let Some(numbers) = line.split(" | ").find_map(|f| f.strip_prefix("文号：")) {
            items.last_mut().unwrap().1 = numbers.split('、').map(unescape).collect();
        }
    }
    assert_eq!(items.len(), 11, "the sample week has 11 items:\n{md}");
    assert!(items.iter().filter(|(_, n)| !n.is_empty()).count() >= 2, "{items:?}");
    items
}

/// Without white space, so that wrapped lines and split runs compare equal.
fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_has_every_item(text: &str, items: &[(String, Vec<String>)], what: &str) {
    let text = squash(text);
    for (title, numbers) in items {
        assert!(text.contains(&squash(title)), "{what} lacks the title {title}");
        for n in numbers {
            assert!(text.contains(&squash(n)), "{what} lacks the document number {n}");
        }
    }
}

#[test]
fn the_docx_digest_holds_every_title_and_document_number() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_dir(tmp.path());
    let file = tmp.path().join("digest.docx");
    let mut args = vec!["digest", "--format", "docx", "--output", file.to_str().unwrap()];
    args.extend(WEEK);
    let out = notices(&data, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let xml = Command::new("unzip").arg("-p").arg(&file).arg("word/document.xml").output().unwrap();
    assert!(xml.status.success(), "a zip with word/document.xml: {}", String::from_utf8_lossy(&xml.stderr));
    let xml = String::from_utf8(xml.stdout).unwrap();
    // The text of the document: every element's text, entities decoded.
    let mut text = String::new();
    let mut in_tag = false;
    for c in xml.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    assert_has_every_item(&text, &items(&data), "the .docx");
    assert!(text.contains("每周信息（2020/5/11~2020/5/15）"), "{text}");
}

#[test]
fn the_pdf_digest_holds_every_title_and_document_number() {
    let tmp = tempfile::tempdir().unwrap();
    let data = sample_dir(tmp.path());
    let file = tmp.path().join("digest.pdf");
    let mut args = vec!["digest", "--format", "pdf", "-o", file.to_str().unwrap()];
    args.extend(WEEK);
    let out = notices(&data, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fonts = Command::new("pdffonts").arg(&file).output().unwrap();
    // Every font embedded (columns from the end: object id (2), uni, sub, emb).
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    let rows: Vec<Vec<&str>> =
        fonts.lines().skip_while(|l| !l.starts_with("---")).skip(1).map(|l| l.split_whitespace().collect()).collect();
    assert!(!rows.is_empty(), "{fonts}");
    for row in &rows {
        assert_eq!(row[row.len() - 5], "yes", "a font not embedded: {fonts}");
    }
    let text = Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(&file).arg("-").output().unwrap();
    assert!(text.status.success(), "{}", String::from_utf8_lossy(&text.stderr));
    assert_has_every_item(&String::from_utf8(text.stdout).unwrap(), &items(&data), "the PDF");

    // No browser: a usage error that says what to install.
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(&data)
        .args(["digest", "--format", "pdf", "-o", tmp.path().join("x.pdf").to_str().unwrap()])
        .args(WEEK)
        .env_remove("NOTICES_CONFIG")
        .env("NOTICES_BROWSER", tmp.path().join("no-such-browser"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("chromium"), "{stderr}");
}

#[test]
fn a_binary_format_is_refused_on_an_unknown_format_name() {
    let tmp = tempfile::tempdir().unwrap();
    let out = notices(tmp.path(), &["digest", "--since", "2020-05-11", "--format", "odt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("docx"), "the message lists the formats");
}
