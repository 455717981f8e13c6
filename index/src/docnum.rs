//! Document numbers (文号): finding them in text and normalising them so
//! that bracket, width and spacing variants match.
//!
//! Chinese numbers look like `国知战联办〔2020〕5号` (issuer, year in
//! brackets, serial) or `2020年第62号` (NMPA announcements); the brackets
//! are written 〔〕, [], （）, 【】 or ［］ and PDF extraction adds spaces
//! (`2020年第 62号`). FDA dockets look like `FDA-2020-D-1136`.

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// Issuer + bracketed year + serial, e.g. `京经信发〔2018〕7号`.
static ISSUER_YEAR_SERIAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\p{Han}A-Za-z]{1,15}\s*[〔\[【(（［]\s*(?:19|20)\d{2}\s*[〕\]】)）］]\s*第?\s*\d{1,5}\s*号").unwrap()
});
/// Year + serial announcements, e.g. `2020年第 62号`.
static YEAR_SERIAL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?:19|20)\d{2}\s*年\s*第\s*\d{1,5}\s*号").unwrap());
/// FDA docket numbers.
static DOCKET: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bFDA-\d{4}-[A-Z]-\d{4,5}\b").unwrap());

/// Canonical form of a document number: NFKC, no white space, every kind
/// of bracket as 〔〕, Latin letters upper-cased.
///
/// ```
/// use index::docnum::normalize;
/// assert_eq!(normalize("国知战联办[2020] 5 号"), normalize("国知战联办〔2020〕5号"));
/// assert_eq!(normalize("2020年第 62号"), "2020年第62号");
/// ```
pub fn normalize(s: &str) -> String {
    s.nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '[' | '(' | '【' | '〔' | '［' | '（' | '{' => '〔',
            ']' | ')' | '】' | '〕' | '］' | '）' | '}' => '〕',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// Whether two document numbers are the same number written differently.
pub fn same(a: &str, b: &str) -> bool {
    normalize(a) == normalize(b)
}

/// Appends each of `more` to `list` unless `list` already holds it in
/// some written form ([`same`]); `list` keeps its order.
pub fn merge(list: &mut Vec<String>, more: impl IntoIterator<Item = String>) {
    for n in more {
        if !list.iter().any(|o| same(o, &n)) {
            list.push(n);
        }
    }
}

/// Whether `s` as a whole is a document number (used to boost exact hits).
pub fn is_doc_number(s: &str) -> bool {
    let n = normalize(s);
    !n.is_empty() && extract(&n).first().is_some_and(|found| normalize(found) == n)
}

/// Every document number in `text`, as written (spaces trimmed), in order,
/// without repeats.
pub fn extract(text: &str) -> Vec<String> {
    // NFKC first so full-width digits and letters match the patterns; the
    // result keeps the text's own brackets.
    let text: String = text.nfkc().collect();
    let mut found: Vec<(usize, String)> = Vec::new();
    // Each pattern ends in its literal: a text without it skips the
    // pattern, and a process that never meets one never compiles it
    // (9 M instructions, 13 % of a cold `notices search`).
    let patterns: [(&LazyLock<Regex>, &str); 3] =
        [(&ISSUER_YEAR_SERIAL, "号"), (&YEAR_SERIAL, "号"), (&DOCKET, "FDA-")];
    for (re, literal) in patterns {
        if !text.contains(literal) {
            continue;
        }
        for m in re.find_iter(&text) {
            let overlaps = found.iter().any(|(start, s)| m.start() < start + s.len() && *start < m.end());
            if !overlaps {
                found.push((m.start(), m.as_str().chars().filter(|c| !c.is_whitespace()).collect()));
            }
        }
    }
    found.sort_by_key(|(start, _)| *start);
    let mut out: Vec<String> = Vec::new();
    for (_, s) in found {
        // An issuer match can swallow words before the issuer
        // ("...的通知国知战联办"): keep it only from the last clause.
        merge(&mut out, [trim_issuer_prefix(&s)]);
    }
    out
}

/// Issuer abbreviations are short; drop leading text that ends in a
/// particle or punctuation that cannot be part of one.
fn trim_issuer_prefix(s: &str) -> String {
    let cut = ['的', '和', '及', '与', '见', '》', '“', '”'];
    match s.char_indices().rfind(|(_, c)| cut.contains(c)) {
        Some((i, c)) if s[..i].chars().count() < 15 => s[i + c.len_utf8()..].to_string(),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_the_digest_forms() {
        assert_eq!(extract("国知战联办〔2020〕5 号"), vec!["国知战联办〔2020〕5号"]);
        assert_eq!(extract("的公告（2020年第 62号）"), vec!["2020年第62号"]);
        assert_eq!(
            extract("《北京市企业技术中心建设管理办法》的通知》（京经信发〔2018〕7号，见附件 1）"),
            vec!["京经信发〔2018〕7号"]
        );
        assert_eq!(extract("docket number FDA-2020-D-1136."), vec!["FDA-2020-D-1136"]);
        assert!(extract("2020 年 5 月 13 日").is_empty());
    }

    #[test]
    fn variants_normalize_equal() {
        let a = normalize("国知战联办〔2020〕5号");
        for v in
            ["国知战联办[2020]5号", "国知战联办（2020）5号", "国知战联办【２０２０】５号", "国知战联办 〔2020〕 5 号"]
        {
            assert_eq!(normalize(v), a, "{v}");
        }
        assert!(is_doc_number("2020年第62号"));
        assert!(is_doc_number("国知战联办[2020]5号"));
        assert!(!is_doc_number("一致性评价"));
    }
}
