//! Parser of weekly digests.
//!
//! A digest is text extracted from a PDF: top-level sections (篇) with a date
//! range, sub-sections (国家级, 北京市, …), numbered items (`1、`) and a
//! signature block per section. The extraction breaks lines mid-sentence,
//! adds blank lines and stray spaces, splits URLs, and moves URL blocks a
//! little after the item they belong to. [`parse`] undoes what it can and
//! reports the rest as [`Warning`]s; it never panics.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use index::{Attachment, Lang, Notice, Origin, Source, docnum};
use regex::Regex;

use crate::date::{self, YMD_CN, from_parts as ymd};

pub mod docx;
pub mod render;

/// A warning about a part of the digest that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

/// What parsing a digest gives.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// One notice per item.
    pub notices: Vec<Notice>,
    /// Problems found.
    pub warnings: Vec<Warning>,
}

/// Parses a digest's text; never panics.
pub fn parse(file_name: &str, text: &str) -> Parsed {
    Parser::new(file_name, text).run()
}

/// Section header: `知识产权信息篇（2020/5/10~2020/5/15）`.
static SECTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([^\s\d]\S{0,19}?篇)\s*(?:[（(]\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[~～\-—至]+\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[）)])?$",
    )
    .expect("valid regex")
});
/// Item start: `1、title`.
static ITEM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(\d{1,3})\s*、\s*(.*)$").expect("valid regex"));
/// Signature of the digest's author: `盈科瑞﹒知识产权部`.
static SIGNATURE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\p{Han}{2,8}\s*[﹒·・•．]\s*\p{Han}{2,12}$").expect("valid regex"));
/// A date at the start of an item title: `5月 11日发布：`.
static LEAD_MD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(?:发布)?\s*[：:]?\s*").expect("valid regex"));
/// `FDA发布` before a title: says who, which the agency already says.
static LEAD_PUBLISHER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z]{2,10}\s*发布\s*[：:]?\s*").expect("valid regex"));
/// A date in parentheses at the end of a title: `（2020-05-11）`.
static TRAIL_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[（(]\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*[）)]\s*$").expect("valid regex")
});
/// Issuer at the start of a title: `国家药监局关于…`.
static LEAD_ISSUER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\p{Han}{1,20}?(?:局|部|委员会|委|办公室|院|中心|署|厅|政府))关于").expect("valid regex")
});
/// `发布时间：2020-05-13`.
static PUBLISHED_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:发布时间|发布日期|日期)\s*[：:]\s*(.+)$").expect("valid regex"));
/// `附件 1 ： name.docx`.
static ATTACHMENT_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^附件\s*\d{0,3}\s*[：:]\s*(.+)$").expect("valid regex"));
/// Numbered sub-points and other line starts that open a paragraph.
static PARAGRAPH_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:\d{1,3}\s*[．、]|\d{1,3}\.\D|[（(][一二三四五六七八九十\d]{1,3}[）)]|[一二三四五六七八九十]{1,3}\s*、|附件\s*\d{0,3}\s*[：:]|发布时间|（文章来源|[•·●○■□◆▪])",
    )
    .expect("valid regex")
});

/// How far past a possible sub-section heading to look for its first item.
const LOOKAHEAD: usize = 24;
/// Width (Han = 2) under which a line is taken as a whole paragraph when the
/// document is too short to measure its own full-line width.
const DEFAULT_SHORT_WIDTH: usize = 100;

/// Kind of a URL in a digest (see [`index::filetype`]).
fn is_attachment_url(url: &str) -> bool {
    index::filetype::is_attachment_url(url)
}

/// Whether a character is Chinese text or CJK punctuation, next to which
/// PDF spaces are artefacts.
fn is_cjk(c: char) -> bool {
    index::analyzer::is_han(c) || is_cjk_punct(c)
}

fn is_cjk_punct(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65 | 0xFE30..=0xFE4F | 0xFE50..=0xFE6F)
        || matches!(c, '“' | '”' | '‘' | '’' | '—' | '…' | '·')
}

/// Display width: Han and full-width forms count two columns.
fn width(s: &str) -> usize {
    s.chars().map(|c| if is_cjk(c) || (c as u32) >= 0x1100 && !c.is_ascii() { 2 } else { 1 }).sum()
}

/// Removes the spaces PDF extraction puts between Han characters and
/// between digits and Han (`2020 年 5 月` → `2020年5月`); keeps spaces
/// between Latin words and between Latin and Han (`FDA发布 COVID-19`).
pub fn normalize_spaces(s: &str) -> String {
    let chars: Vec<char> = s.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != ' ' {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        let prev = start.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i).copied();
        let (Some(p), Some(n)) = (prev, next) else { continue };
        let drop = (is_cjk(p) && (is_cjk(n) || n.is_ascii_digit()))
            || (p.is_ascii_digit() && is_cjk(n))
            || is_cjk_punct(p)
            || is_cjk_punct(n);
        if !drop {
            out.push(' ');
        }
    }
    out
}

/// Joins two pieces of one sentence broken by the PDF's line end.
fn join_broken(a: &str, b: &str) -> String {
    let last = a.chars().last();
    let first = b.chars().next();
    let mut out = String::with_capacity(a.len() + b.len() + 1);
    out.push_str(a);
    // A URL cut at the line end continues on the next line without a gap.
    let last_token = a.rsplit(char::is_whitespace).next().unwrap_or("");
    let url_cut = last_token.contains("://") && first.is_some_and(is_url_char);
    if !url_cut
        && let (Some(l), Some(f)) = (last, first)
        && l.is_ascii_alphanumeric()
        && f.is_ascii_alphanumeric()
    {
        // `（A` + `IPPI）`: one capital split off a word is a broken word,
        // anything else is two words.
        let trailing: String = a.chars().rev().take_while(|c| c.is_ascii_alphabetic()).collect();
        let before = a.chars().rev().nth(trailing.chars().count());
        let split_word = trailing.len() == 1
            && l.is_ascii_uppercase()
            && f.is_ascii_uppercase()
            && before.is_none_or(|c| !c.is_ascii_alphanumeric() && c != ' ');
        if !split_word {
            out.push(' ');
        }
    }
    out.push_str(b);
    out
}

fn is_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'*+,;=%".contains(c)
}

/// A standalone URL line, trimmed of surrounding punctuation.
fn standalone_url(t: &str) -> Option<String> {
    let lower = t.get(..8).unwrap_or(t).to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) || t.contains(char::is_whitespace) {
        return None;
    }
    // Trailing punctuation is trimmed by the caller, once a cut URL is rejoined.
    let url: String = t.chars().take_while(|c| is_url_char(*c)).collect();
    (url.len() > 8 && !t.chars().any(index::analyzer::is_han)).then_some(url)
}

/// Whether `next` is the rest of a URL split at the line end.
fn url_continuation(url: &str, next: &str) -> bool {
    if next.is_empty() || next.contains("://") || !next.chars().all(is_url_char) {
        return false;
    }
    let ends_open = url.ends_with(['.', '/', '-', '_', '=', '?', '&', '%', '#']);
    let starts_open = next.starts_with(['.', '/', '-', '_', '=', '?', '&', '%', '#']);
    let ext = ["html", "htm", "shtml", "jsp", "asp", "aspx", "php", "pdf", "doc", "docx"]
        .contains(&next.to_ascii_lowercase().as_str());
    ends_open || starts_open || ext
}

/// Parses the first date in `s` in any form the digests use; `year` is used
/// for dates written without one (`5月 11日`). See [`crate::date::in_digest`].
pub fn find_date(s: &str, year: Option<i32>) -> Option<NaiveDate> {
    date::in_digest(s, year)
}

fn num(m: Option<regex::Match<'_>>) -> Option<i32> {
    m?.as_str().parse().ok()
}

/// A line that is nothing but a date (a signature date).
fn is_date_line(t: &str) -> Option<NaiveDate> {
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    let inner = compact.trim_start_matches(['（', '(']).trim_end_matches(['）', ')']);
    let whole = |re: &Regex| re.find(inner).is_some_and(|m| m.as_str().trim().len() == inner.len());
    if whole(&YMD_CN) { find_date(inner, None) } else { None }.or_else(|| {
        let looks = inner.len() <= 10 && inner.chars().all(|c| c.is_ascii_digit() || "-/.".contains(c));
        if looks { find_date(inner, None) } else { None }
    })
}

/// The section's date range, for the year of `5月 11日`.
#[derive(Debug, Clone, Copy)]
struct Range {
    start: NaiveDate,
    end: NaiveDate,
}

impl Range {
    /// The year of a month in this range (a range can span new year).
    fn year_for(&self, month: u32) -> i32 {
        if self.start.year() != self.end.year() && month >= self.start.month() {
            self.start.year()
        } else {
            self.end.year()
        }
    }
}

/// An item being collected.
#[derive(Debug)]
struct Draft {
    /// Id of the (sub-)section block the item is in; URLs are queued per block.
    block: usize,
    path: String,
    n: u32,
    line: usize,
    first: String,
    lines: Vec<(usize, String)>,
    range: Option<Range>,
    page_url: Option<String>,
    links: Vec<String>,
    attachments: Vec<String>,
}

/// A standalone URL line.
#[derive(Debug)]
struct UrlEvent {
    line: usize,
    url: String,
    block: usize,
    current: Option<usize>,
}

struct Parser<'a> {
    file: &'a str,
    lines: Vec<&'a str>,
    file_year: Option<i32>,
    drafts: Vec<Draft>,
    urls: Vec<UrlEvent>,
    warnings: Vec<Warning>,
}

/// Trims the white space PDF extraction leaves, including ideographic
/// spaces and a byte-order mark.
fn clean(line: &str) -> &str {
    line.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}' || c.is_control())
}

impl<'a> Parser<'a> {
    fn new(file: &'a str, text: &'a str) -> Self {
        let file_year = date::year_of_numeric(file)
            .or_else(|| Regex::new(r"(?:19|20)\d{2}").ok()?.find(file)?.as_str().parse().ok());
        Parser {
            file,
            lines: text.lines().collect(),
            file_year,
            drafts: Vec::new(),
            urls: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn warn(&mut self, line: usize, message: impl Into<String>) {
        self.warnings.push(Warning { line, message: message.into() });
    }

    /// Whether the next significant line after `from` (0-based) starts item 1.
    fn item_one_follows(&self, from: usize) -> bool {
        for raw in self.lines.iter().skip(from).take(LOOKAHEAD) {
            let t = clean(raw);
            if t.is_empty() || standalone_url(t).is_some() {
                continue;
            }
            return ITEM.captures(t).and_then(|c| num(c.get(1))) == Some(1);
        }
        false
    }

    fn run(mut self) -> Parsed {
        let mut top: Option<String> = None;
        let mut sub: Option<String> = None;
        let mut range: Option<Range> = None;
        let mut block = 0usize;
        let mut expected = 1u32;
        let mut current: Option<usize> = None;
        let mut in_signature = false;
        let mut i = 0;
        while i < self.lines.len() {
            let lineno = i + 1;
            let t = clean(self.lines[i]);
            i += 1;
            if t.is_empty() {
                continue;
            }
            if let Some(c) = SECTION.captures(t) {
                top = c.get(1).map(|m| normalize_spaces(m.as_str()));
                sub = None;
                let start = ymd(num(c.get(2)), num(c.get(3)), num(c.get(4)));
                let end = ymd(num(c.get(5)), num(c.get(6)), num(c.get(7)));
                range = match (start, end) {
                    (Some(start), Some(end)) => Some(Range { start, end }),
                    _ => {
                        self.warn(lineno, "section without a readable date range");
                        None
                    }
                };
                block += 1;
                expected = 1;
                current = None;
                in_signature = false;
                continue;
            }
            if let Some(mut url) = standalone_url(t) {
                // A URL split over two lines: the rest stands alone on the next one.
                if let Some((j, next)) = self.lines.iter().enumerate().skip(i).find(|(_, l)| !clean(l).is_empty())
                    && url_continuation(&url, clean(next))
                {
                    url.push_str(clean(next));
                    i = j + 1;
                }
                let url = url.trim_end_matches(['.', ',', ';', ')']).to_string();
                self.urls.push(UrlEvent { line: lineno, url, block, current });
                continue;
            }
            if SIGNATURE.is_match(t) {
                current = None;
                in_signature = true;
                continue;
            }
            if let Some(c) = ITEM.captures(t) {
                let n = num(c.get(1)).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
                if n == expected || current.is_none() {
                    if n != expected {
                        self.warn(lineno, format!("item {n} where item {expected} was expected"));
                    }
                    let path = match (&top, &sub) {
                        (Some(t), Some(s)) => format!("{t} / {s}"),
                        (Some(t), None) => t.clone(),
                        (None, Some(s)) => s.clone(),
                        (None, None) => {
                            self.warn(lineno, "item outside any section");
                            "digest".to_string()
                        }
                    };
                    self.drafts.push(Draft {
                        block,
                        path,
                        n,
                        line: lineno,
                        first: c.get(2).map_or("", |m| m.as_str()).to_string(),
                        lines: Vec::new(),
                        range,
                        page_url: None,
                        links: Vec::new(),
                        attachments: Vec::new(),
                    });
                    current = Some(self.drafts.len() - 1);
                    expected = n.saturating_add(1);
                    in_signature = false;
                    continue;
                }
            }
            let heading = t.chars().count() <= 12 && t.chars().all(index::analyzer::is_han);
            if heading && self.item_one_follows(i) {
                sub = Some(t.to_string());
                block += 1;
                expected = 1;
                current = None;
                in_signature = false;
                continue;
            }
            match current {
                Some(d) => self.drafts[d].lines.push((lineno, t.to_string())),
                None if in_signature && is_date_line(t).is_some() => {}
                None if in_signature => self.warn(lineno, "text after a signature block ignored"),
                None => self.warn(lineno, "text outside any item ignored"),
            }
        }
        self.assign_urls();
        let short = self.short_width();
        let drafts = std::mem::take(&mut self.drafts);
        let notices = drafts.into_iter().filter_map(|d| self.build(d, short)).collect();
        Parsed { notices, warnings: self.warnings }
    }

    /// Gives each URL to its item: page URLs to the earliest item of the
    /// block still without one, attachments to the item of the last page URL.
    fn assign_urls(&mut self) {
        let urls = std::mem::take(&mut self.urls);
        let mut last_page: Option<(usize, usize)> = None; // (block, draft)
        for ev in urls {
            let started: Vec<usize> = (0..self.drafts.len())
                .filter(|&k| self.drafts[k].block == ev.block && self.drafts[k].line < ev.line)
                .collect();
            let known = started.iter().any(|&k| {
                let d = &self.drafts[k];
                d.page_url.as_deref() == Some(ev.url.as_str())
                    || d.links.contains(&ev.url)
                    || d.attachments.contains(&ev.url)
            });
            if known {
                continue;
            }
            let fallback = ev.current.or_else(|| started.last().copied());
            if is_attachment_url(&ev.url) {
                let target = last_page.filter(|(b, _)| *b == ev.block).map(|(_, k)| k).or(fallback);
                match target {
                    Some(k) => self.drafts[k].attachments.push(ev.url),
                    None => self.warn(ev.line, format!("attachment URL outside any item: {}", ev.url)),
                }
                continue;
            }
            match started.iter().copied().find(|&k| self.drafts[k].page_url.is_none()) {
                Some(k) => {
                    self.drafts[k].page_url = Some(ev.url);
                    last_page = Some((ev.block, k));
                }
                None => match fallback {
                    Some(k) => {
                        self.drafts[k].links.push(ev.url);
                        last_page = Some((ev.block, k));
                    }
                    None => self.warn(ev.line, format!("URL outside any item: {}", ev.url)),
                },
            }
        }
    }

    /// The width under which a line ends its paragraph: four fifths of a
    /// typical full line of this document.
    fn short_width(&self) -> usize {
        let mut widths: Vec<usize> = self.drafts.iter().flat_map(|d| d.lines.iter().map(|(_, l)| width(l))).collect();
        if widths.len() < 20 {
            return DEFAULT_SHORT_WIDTH;
        }
        widths.sort_unstable();
        let p75 = widths.get(widths.len() * 3 / 4).copied().unwrap_or(DEFAULT_SHORT_WIDTH);
        (p75 * 4 / 5).max(20)
    }

    fn build(&mut self, d: Draft, short: usize) -> Option<Notice> {
        let year = d.range.map(|r| r.end.year()).or(self.file_year);
        let (raw_title, used) = assemble_title(&d.first, &d.lines);
        let info = analyse_title(&raw_title, d.range, year);
        if info.bad_date {
            self.warn(d.line, format!("item {}: unreadable date in the title", d.n));
        }
        let body_lines: Vec<&str> = d.lines.iter().skip(used).map(|(_, l)| l.as_str()).collect();

        let mut published = info.date;
        if published.is_none() {
            published = body_lines.iter().find_map(|l| {
                is_date_line(l).or_else(|| PUBLISHED_LINE.captures(l).and_then(|c| find_date(c.get(1)?.as_str(), year)))
            });
        }

        let body = repair(&body_lines, short).join("\n");
        let mut title = info.title;
        if title.is_empty() {
            title = body.chars().take(40).collect();
            self.warn(d.line, format!("item {} has no title", d.n));
            if title.is_empty() {
                return None;
            }
        }

        let mut doc_numbers = docnum::extract(&title);
        if let Some(first) = body_lines.first()
            && docnum::is_doc_number(first)
        {
            docnum::merge(&mut doc_numbers, docnum::extract(first));
        }

        let names: Vec<String> = body_lines
            .iter()
            .filter_map(|l| ATTACHMENT_NAME.captures(l).and_then(|c| c.get(1)).map(|m| normalize_spaces(m.as_str())))
            .collect();
        if !names.is_empty() && !d.attachments.is_empty() && names.len() != d.attachments.len() {
            self.warn(
                d.line,
                format!("item {}: {} attachment names for {} attachment URLs", d.n, names.len(), d.attachments.len()),
            );
        }
        let attachments: Vec<Attachment> = d
            .attachments
            .iter()
            .enumerate()
            .map(|(k, url)| Attachment::new(url.clone(), names.get(k).cloned()))
            .collect();

        let agency = info.agency;
        let source = d
            .page_url
            .as_deref()
            .and_then(Source::from_url)
            .or_else(|| agency.as_deref().and_then(source_from_agency))
            .or_else(|| (d.path.contains("医药") && body.contains("我中心")).then_some(Source::Cde))
            .unwrap_or_else(|| {
                self.warn(d.line, format!("item {}: source unknown", d.n));
                Source::Other("digest".into())
            });

        let id = match &d.page_url {
            Some(url) => Notice::id_for_url(url),
            None => Notice::id_for_digest_item(self.file, &d.path, d.n),
        };
        let lang = Lang::detect(&format!("{title}\n{body}"));
        let mut notice = Notice {
            id,
            url: d.page_url,
            source,
            title,
            body,
            published,
            doc_numbers,
            agency,
            lang,
            attachments,
            links: d.links,
            origin: Origin::Digest {
                file: self.file.to_string(),
                section: d.path,
                item: d.n,
                period: d.range.map(|r| [r.start, r.end]),
            },
            fetched_at: None,
            first_seen: None,
            withdrawn: false,
            doc_type: None,
            status: None,
            comment_close: None,
        };
        // A digest item has no source markers: its title and summary say what they can.
        crate::classify::apply(&mut notice, &crate::classify::Markers::default());
        Some(notice)
    }
}

/// The source an agency name stands for.
fn source_from_agency(agency: &str) -> Option<Source> {
    let a = agency.to_ascii_uppercase();
    if a.contains("药品审评中心") || a.contains("药审中心") || a.contains("CDE") {
        Some(Source::Cde)
    } else if a.contains("国家药监局") || a.contains("国家药品监督管理局") || a.contains("NMPA") {
        Some(Source::Nmpa)
    } else if a.contains("知识产权局") || a.contains("CNIPA") {
        Some(Source::Cnipa)
    } else if a.contains("FDA") || a.contains("美国食品药品监督管理局") {
        Some(Source::Fda)
    } else if a.contains("ECA") || a.contains("欧洲合规研究院") {
        Some(Source::Eca)
    } else {
        None
    }
}

fn unbalanced(s: &str) -> bool {
    let count = |c: char| s.chars().filter(|&x| x == c).count();
    count('《') > count('》') || count('（') > count('）') || count('(') > count(')') || count('“') > count('”')
}

/// Joins a title broken over lines; returns it and how many body lines it used.
fn assemble_title(first: &str, lines: &[(usize, String)]) -> (String, usize) {
    let mut title = first.trim().to_string();
    let mut used = 0;
    while used < 2 {
        let Some((_, next)) = lines.get(used) else { break };
        let t = title.trim_end();
        if t.ends_with(['）', ')', '。']) {
            break;
        }
        let continues = !next.contains('。')
            && !PARAGRAPH_START.is_match(next)
            && is_date_line(next).is_none()
            && (unbalanced(t) || (next.ends_with(['）', ')']) && width(next) <= 80));
        if !continues {
            break;
        }
        title = join_broken(&title, next);
        used += 1;
    }
    (title, used)
}

/// What an item's title line says.
#[derive(Debug, Default)]
struct TitleInfo {
    title: String,
    agency: Option<String>,
    date: Option<NaiveDate>,
    /// A date was written but is not a real day (`2020-13-45`).
    bad_date: bool,
}

/// Parentheses closing the string: the byte where they open and their content.
fn trailing_paren(s: &str) -> Option<(usize, &str)> {
    let close = s.chars().last()?;
    let open = match close {
        '）' => '（',
        ')' => '(',
        _ => return None,
    };
    let mut depth = 0usize;
    for (i, c) in s.char_indices().rev() {
        if c == close || (close == '）' && c == ')') || (close == ')' && c == '）') {
            depth += 1;
        } else if c == open || c == '（' || c == '(' {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                let inner = s.get(i + c.len_utf8()..s.len() - close.len_utf8())?;
                return (!inner.trim().is_empty()).then_some((i, inner));
            }
        }
    }
    None
}

/// Parenthesised text that belongs to the title, not an agency: numbers,
/// dates and draft markers.
fn title_part(inner: &str) -> bool {
    !docnum::extract(inner).is_empty()
        || find_date(inner, Some(2000)).is_some()
        || !inner.chars().any(|c| c.is_alphabetic())
        || ["稿", "试行", "修订", "暂行", "草案", "批", "版"].iter().any(|k| inner.contains(k))
}

fn analyse_title(raw: &str, range: Option<Range>, year: Option<i32>) -> TitleInfo {
    let mut s = raw.trim();
    let mut info = TitleInfo::default();
    if let Some(c) = LEAD_MD.captures(s) {
        let month = num(c.get(1));
        let y = match (range, month) {
            (Some(r), Some(m)) => u32::try_from(m).ok().map(|m| r.year_for(m)),
            _ => year,
        };
        info.date = ymd(y, month, num(c.get(2)));
        info.bad_date = info.date.is_none() && y.is_some();
        s = s.get(c.get(0).map_or(0, |m| m.end())..).unwrap_or("").trim();
    }
    if let Some(m) = LEAD_PUBLISHER.find(s) {
        s = s.get(m.end()..).unwrap_or("").trim();
    }
    if let Some(c) = TRAIL_DATE.captures(s) {
        let trailing = ymd(num(c.get(1)), num(c.get(2)), num(c.get(3)));
        info.bad_date |= trailing.is_none();
        info.date = info.date.or(trailing);
        s = s.get(..c.get(0).map_or(s.len(), |m| m.start())).unwrap_or("").trim();
        // 科技项目 items: `title issuer （date）`, the issuer after the last space.
        if let Some((head, tail)) = s.rsplit_once(char::is_whitespace) {
            let tail = tail.trim();
            let n = tail.chars().count();
            if (2..=20).contains(&n) && tail.chars().all(index::analyzer::is_han) && head.trim().chars().count() >= 4 {
                info.agency = Some(tail.to_string());
                s = head.trim();
            }
        }
    }
    if info.agency.is_none()
        && let Some((start, inner)) = trailing_paren(s)
        && !title_part(inner)
    {
        info.agency = Some(normalize_spaces(inner.trim()));
        s = s.get(..start).unwrap_or("").trim();
    }
    info.title = normalize_spaces(s);
    if info.agency.is_none() {
        info.agency = LEAD_ISSUER.captures(&info.title).and_then(|c| c.get(1)).map(|m| m.as_str().to_string());
    }
    if info.date.is_none() {
        info.date = date::cn(&info.title);
    }
    info
}

/// Rebuilds paragraphs from PDF lines: a line ends its paragraph when it
/// ends a sentence or is short (a heading, a signature); a numbered point
/// starts a new one; anything else was broken by the page width.
fn repair(lines: &[&str], short: usize) -> Vec<String> {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut cur = String::new();
    for line in lines {
        let line = clean(line);
        if line.is_empty() {
            continue;
        }
        let aside = line.starts_with('（') && line.ends_with('）') && !PARAGRAPH_START.is_match(line);
        if cur.is_empty()
            && aside
            && let Some(last) = paragraphs.last_mut()
            && last.ends_with('。')
        {
            // `（知识产权局负责）` wrapped onto its own line after a point's last sentence.
            last.push_str(&normalize_spaces(line));
            continue;
        }
        if cur.is_empty() {
            cur = line.to_string();
        } else if PARAGRAPH_START.is_match(line) || is_date_line(line).is_some() {
            paragraphs.push(normalize_spaces(&cur));
            cur = line.to_string();
        } else {
            cur = join_broken(&cur, line);
        }
        let end = line.trim_end_matches(['”', '’', '」', '』', '）', ')']);
        let sentence_end =
            line.ends_with(['。', '：', '；', '！', '？', '!', '?']) || end.ends_with(['。', '！', '？']);
        if sentence_end || width(line) < short {
            paragraphs.push(normalize_spaces(&cur));
            cur.clear();
        }
    }
    if !cur.is_empty() {
        paragraphs.push(normalize_spaces(&cur));
    }
    paragraphs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Parsed {
        parse(crate::SAMPLE_DIGEST_NAME, crate::SAMPLE_DIGEST)
    }

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn sample_has_eleven_items_and_no_warnings() {
        let p = sample();
        assert_eq!(p.warnings, vec![]);
        let items: Vec<(String, u32)> = p
            .notices
            .iter()
            .map(|n| match &n.origin {
                Origin::Digest { section, item, .. } => (section.clone(), *item),
                Origin::Crawl => (String::new(), 0),
            })
            .collect();
        let expect = [
            ("知识产权信息篇 / 国家级", 1),
            ("知识产权信息篇 / 资讯", 1),
            ("科技项目篇 / 北京市", 1),
            ("科技项目篇 / 北京市", 2),
            ("医药信息篇 / 国家级", 1),
            ("医药信息篇 / 国家级", 2),
            ("医药信息篇 / 国家级", 3),
            ("医药信息篇 / 国家级", 4),
            ("医药信息篇 / 国际医药法规", 1),
            ("医药信息篇 / 国际医药法规", 2),
            ("医药信息篇 / 国际医药法规", 3),
        ];
        let expect: Vec<(String, u32)> = expect.iter().map(|(s, n)| (s.to_string(), *n)).collect();
        assert_eq!(items, expect);
        for n in &p.notices {
            assert!(n.validate().is_ok(), "{n:?}");
        }
    }

    #[test]
    fn sample_items_source_date_and_url() {
        let p = sample();
        let cde = |id: u32| Some(format!("http://www.cde.org.cn/news.do?method=viewInfoCommon&id={id}"));
        let expect: Vec<(Source, Option<NaiveDate>, Option<String>)> = vec![
            (Source::Cnipa, date(2020, 5, 13), None),
            (Source::Cnipa, date(2020, 5, 13), None),
            (
                Source::Other("www.sdtjpt.cn".into()),
                date(2020, 5, 11),
                Some("https://www.sdtjpt.cn/news/detail/5696.html".into()),
            ),
            (
                Source::Other("jxj.beijing.gov.cn".into()),
                date(2020, 5, 14),
                Some("http://jxj.beijing.gov.cn/jxdt/tzgg/202005/t20200514_1897545.html".into()),
            ),
            (Source::Cde, None, cde(315065)),
            (Source::Cde, None, cde(315067)),
            (Source::Cde, None, cde(315068)),
            (Source::Nmpa, None, Some("http://www.nmpa.gov.cn/WS04/CL2138/377442.html".into())),
            (
                Source::Fda,
                date(2020, 5, 11),
                Some("https://www.fda.gov/regulatory-information/search-fda-guidance-documents/covid-19-developing-drugs-and-biological-products-treatment-or-prevention".into()),
            ),
            (
                Source::Fda,
                date(2020, 5, 11),
                Some("https://www.fda.gov/regulatory-information/search-fda-guidance-documents/covid-19-public-health-emergency-general-considerations-pre-ind-meeting-requests-covid-19-related".into()),
            ),
            (
                Source::Eca,
                date(2020, 5, 13),
                Some("https://www.gmp-compliance.org/gmp-news/audit-trail-in-the-centre-of-an-fda-warning-letter".into()),
            ),
        ];
        assert_eq!(p.notices.len(), expect.len());
        for (k, (n, (source, published, url))) in p.notices.iter().zip(expect).enumerate() {
            assert_eq!(n.source, source, "item {k}");
            assert_eq!(n.published, published, "item {k}");
            assert_eq!(n.url, url, "item {k}");
            match &n.url {
                Some(u) => assert_eq!(n.id, Notice::id_for_url(u)),
                None => assert_eq!(n.id.len(), 16),
            }
        }
    }

    #[test]
    fn sample_titles_agencies_numbers_attachments() {
        let p = sample();
        let n = &p.notices;
        assert_eq!(
            n[0].title,
            "国务院知识产权战略实施工作部际联席会议办公室关于印发《2020年深入实施国家知识产权战略加快建设知识产权强国推进计划》的通知"
        );
        assert_eq!(n[0].agency.as_deref(), Some("国家知识产权局"));
        assert_eq!(n[0].doc_numbers, vec!["国知战联办〔2020〕5号"]);
        assert_eq!(n[2].title, "关于2020年度首都科技创新券项目申报的通知");
        assert_eq!(n[2].agency.as_deref(), Some("首都科技条件平台"));
        assert_eq!(n[3].agency.as_deref(), Some("科技标准处"));
        assert!(n[3].doc_numbers.is_empty(), "numbers cited in the body are not the item's own");
        assert_eq!(n[7].title, "国家药监局关于开展化学药品注射剂仿制药质量和疗效一致性评价工作的公告（2020年第62号）");
        assert_eq!(n[7].doc_numbers, vec!["2020年第62号"]);
        assert_eq!(n[8].agency.as_deref(), Some("FDA，美国食品药品监督管理局"));
        assert_eq!(n[10].agency.as_deref(), Some("ECA，欧洲合规研究院"));
        // CDE items 1 and 3 carry three attachments each, named from their 附件 lines.
        for (k, ids) in [(4, [8156, 8161, 8162]), (6, [8164, 8165, 8166])] {
            let urls: Vec<String> = n[k].attachments.iter().map(|a| a.url.clone()).collect();
            let want: Vec<String> =
                ids.iter().map(|i| format!("http://www.cde.org.cn/attachmentout.do?mothed=list&id={i}")).collect();
            assert_eq!(urls, want);
            assert!(n[k].attachments.iter().all(|a| a.name.as_deref().is_some_and(|s| s.contains(".doc"))));
        }
        assert_eq!(
            n[6].attachments[1].name.as_deref(),
            Some("Guideline on Adaptive Designs for Clinical Trials (Draft for public review).docx")
        );
        assert!(n[5].attachments.is_empty() && n[7].attachments.is_empty());
        // The English source title is searchable in the body.
        assert!(n[8].body.contains("COVID-19: Developing Drugs and Biological Products for Treatment or Prevention"));
        assert_eq!(n[8].lang, Lang::Zh);
        // URLs and the signature block are not body text.
        for x in n {
            assert!(!x.body.contains("http://www.cde.org.cn/news.do"), "{}", x.title);
            assert!(!x.body.contains("盈科瑞"), "{}", x.title);
        }
        // The URL block in item 2's body was cut out and the sentence rejoined.
        assert!(n[5].body.contains("于批准前一次性提交完整。"));
    }

    #[test]
    fn pdf_artefacts_are_repaired() {
        let p = sample();
        let n = &p.notices;
        // Split URL inside a sentence.
        assert!(n[3].body.contains("(http://banshi.beijing.gov.cn/newhall/bszn/18/20433.html）"), "{}", n[3].body);
        // Broken Latin word at a line end.
        assert!(n[0].body.contains("（AIPPI）"));
        // Stray spaces between Han and digits go, spaces between Latin words stay.
        assert!(n[0].body.contains("2020年5月13日"));
        assert!(n[1].title.contains("压至4个月内"));
        assert!(n[0].body.contains("国知战联办〔2020〕5号"));
        assert!(n[9].body.contains("COVID-19 Public Health Emergency: General Considerations"));
        // Numbered sub-points start their own paragraphs.
        assert!(n[0].body.lines().any(|l| l.starts_with("2．复制推广")));
        assert!(n[0].body.lines().any(|l| l == "（一）改革完善知识产权政策"));
    }

    #[test]
    #[ignore = "prints the sample's bodies for review"]
    fn dump_sample() {
        for n in sample().notices {
            println!("=== {}\n{}\n", n.title, n.body);
        }
    }

    #[test]
    fn split_url_repair() {
        assert_eq!(
            join_broken("网(http://banshi.beijing.gov.cn/newhall/bszn/18/20433.", "html）或者"),
            "网(http://banshi.beijing.gov.cn/newhall/bszn/18/20433.html）或者"
        );
        assert_eq!(join_broken("Developing Drugs", "and Biological"), "Developing Drugs and Biological");
        assert_eq!(join_broken("协会（A", "IPPI）世界"), "协会（AIPPI）世界");
        // A standalone URL split over two lines.
        let text = "医药信息篇（2020/5/11~2020/5/15）\n国家级\n1、标题（国家药监局）\n正文。\nhttp://www.nmpa.gov.cn/WS04/CL2138/\n\n377442.html\n";
        let p = parse("d.txt", text);
        assert_eq!(p.notices[0].url.as_deref(), Some("http://www.nmpa.gov.cn/WS04/CL2138/377442.html"));
        assert_eq!(p.warnings, vec![]);
        let text = "医药信息篇（2020/5/11~2020/5/15）\n国家级\n1、标题（国家药监局）\n正文。\nhttp://www.nmpa.gov.cn/WS04/CL2138/377442.\n\nhtml\nhttp://www.nmpa.gov.cn/x.html.\n";
        let p = parse("d.txt", text);
        assert_eq!(p.notices[0].url.as_deref(), Some("http://www.nmpa.gov.cn/WS04/CL2138/377442.html"));
        assert_eq!(p.notices[0].links, vec!["http://www.nmpa.gov.cn/x.html"]);
    }

    #[test]
    fn date_forms() {
        assert_eq!(find_date("2020 年 5 月 13 日", None), date(2020, 5, 13));
        assert_eq!(find_date("发布时间：2020-05-13", None), date(2020, 5, 13));
        assert_eq!(find_date("（2020-05-11）", None), date(2020, 5, 11));
        assert_eq!(find_date("5月 11日发布", Some(2020)), date(2020, 5, 11));
        assert_eq!(find_date("5月 11日发布", None), None);
        assert_eq!(find_date("2020/5/15", None), date(2020, 5, 15));
        assert_eq!(find_date("2020年 13月 40日", None), None);
        assert_eq!(is_date_line("2020年 5月 15日"), date(2020, 5, 15));
        assert_eq!(is_date_line("2020 年深入实施"), None);
        // The year of `12月 30日` in a range across new year is the range's first.
        let r = Range {
            start: NaiveDate::from_ymd_opt(2020, 12, 28).unwrap(),
            end: NaiveDate::from_ymd_opt(2021, 1, 3).unwrap(),
        };
        let t = analyse_title("12月 30日发布：标题（FDA）", Some(r), Some(2021));
        assert_eq!((t.date, t.title.as_str(), t.agency.as_deref()), (date(2020, 12, 30), "标题", Some("FDA")));
    }

    #[test]
    fn normalizes_spaces() {
        assert_eq!(normalize_spaces("2020 年 5 月 13 日"), "2020年5月13日");
        assert_eq!(normalize_spaces("国知战联办〔2020〕5 号"), "国知战联办〔2020〕5号");
        assert_eq!(normalize_spaces("FDA发布 COVID-19：开发"), "FDA发布 COVID-19：开发");
        assert_eq!(normalize_spaces("Guideline on  Adaptive"), "Guideline on Adaptive");
        assert_eq!(normalize_spaces("一、 已上市"), "一、已上市");
    }

    #[test]
    fn url_queue_assignment() {
        // Page URLs land after their items: each goes to the earliest item
        // without one; attachments follow the last page URL.
        let text = "医药信息篇（2020/5/11~2020/5/15）\n国家级\n1、甲的通知\n甲正文。\n2、乙的通知\n乙正文一。\n\
            http://www.cde.org.cn/news.do?id=1\nhttp://www.cde.org.cn/attachmentout.do?id=10\n\
            http://www.cde.org.cn/news.do?id=2\n乙正文二。\n3、丙的通知\n附件 1 ： 丙.docx\n\
            http://www.cde.org.cn/news.do?id=3\nhttp://www.cde.org.cn/a/b.pdf\nhttp://www.example.org/x.html\n";
        let p = parse("d.txt", text);
        assert_eq!(p.warnings, vec![]);
        let urls: Vec<Option<&str>> = p.notices.iter().map(|n| n.url.as_deref()).collect();
        assert_eq!(
            urls,
            vec![
                Some("http://www.cde.org.cn/news.do?id=1"),
                Some("http://www.cde.org.cn/news.do?id=2"),
                Some("http://www.cde.org.cn/news.do?id=3")
            ]
        );
        assert_eq!(p.notices[0].attachments.len(), 1);
        assert_eq!(p.notices[0].attachments[0].name, None);
        assert_eq!(p.notices[1].body, "乙正文一。\n乙正文二。");
        assert_eq!(p.notices[2].attachments[0].name.as_deref(), Some("丙.docx"));
        assert_eq!(p.notices[2].links, vec!["http://www.example.org/x.html"]);
        // Items without a URL get ids from digest, section and number.
        assert!(p.notices.iter().all(|n| n.source == Source::Cde));
    }

    #[test]
    fn malformed_parts_warn() {
        let text = "前言：本期一条。\n1、无章节的条目（国家知识产权局）\n正文。\n3、跳号条目\n";
        let p = parse("d.txt", text);
        assert_eq!(p.notices.len(), 1, "3、 is not item 2: it stays body text");
        assert!(p.warnings.iter().any(|w| w.line == 1), "{:?}", p.warnings);
        assert!(p.warnings.iter().any(|w| w.line == 2), "{:?}", p.warnings);
        assert_eq!(p.notices[0].source, Source::Cnipa);
        assert!(p.notices[0].body.contains("3、跳号条目"));
        assert!(parse("x", "").notices.is_empty());
        let p = parse("d.txt", "科技项目篇（2020/05/11~2020/05/15）\n北京市\n1、关于某事的通知 某处 （2020-13-45）\n");
        assert_eq!(p.notices[0].published, None);
        assert_eq!(p.notices[0].agency.as_deref(), Some("某处"));
        assert!(p.warnings.iter().any(|w| w.line == 3 && w.message.contains("unreadable date")), "{:?}", p.warnings);
        // Windows line ends read the same.
        let crlf = crate::SAMPLE_DIGEST.replace('\n', "\r\n");
        assert_eq!(parse(crate::SAMPLE_DIGEST_NAME, &crlf).notices, sample().notices);
    }

    #[test]
    fn snapshot_of_sample_items() {
        #[derive(serde::Serialize)]
        struct Item {
            section: String,
            item: u32,
            title: String,
            source: String,
            date: Option<String>,
            agency: Option<String>,
            doc_numbers: Vec<String>,
            url: Option<String>,
            links: Vec<String>,
            attachments: Vec<Attachment>,
            body: String,
            doc_type: Option<index::DocType>,
            status: Option<index::Status>,
            comment_close: Option<NaiveDate>,
        }
        let items: Vec<Item> = sample()
            .notices
            .into_iter()
            .map(|n| {
                let (section, item) = match n.origin {
                    Origin::Digest { section, item, .. } => (section, item),
                    Origin::Crawl => (String::new(), 0),
                };
                Item {
                    section,
                    item,
                    title: n.title,
                    source: n.source.label(),
                    date: n.published.map(|d| d.to_string()),
                    agency: n.agency,
                    doc_numbers: n.doc_numbers,
                    url: n.url,
                    links: n.links,
                    attachments: n.attachments,
                    body: n.body.chars().take(60).collect(),
                    doc_type: n.doc_type,
                    status: n.status,
                    comment_close: n.comment_close,
                }
            })
            .collect();
        insta::assert_yaml_snapshot!(items);
    }

    mod fuzz {
        use proptest::prelude::*;

        fn digest_line() -> impl Strategy<Value = String> {
            let lines: Vec<&'static str> = crate::SAMPLE_DIGEST.lines().collect();
            prop_oneof![
                proptest::sample::select(lines).prop_map(str::to_string),
                Just("1、".to_string()),
                Just("http://".to_string()),
                Just("（".to_string()),
                Just("5月 99日发布 X（）".to_string()),
                Just("附件 1 ：".to_string()),
                "\\PC{0,12}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn never_panics_on_arbitrary_text(s in "\\PC{0,400}") {
                let _ = super::parse("f", &s);
            }

            #[test]
            fn never_panics_on_mixed_digest_lines(lines in proptest::collection::vec(digest_line(), 0..60)) {
                let p = super::parse("digest-2020-05-15.txt", &lines.join("\n"));
                for n in &p.notices {
                    prop_assert!(n.validate().is_ok());
                }
            }
        }
    }
}
