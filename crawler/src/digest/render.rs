//! Rendering notices as a weekly digest in the shape of the ones
//! [`parse`](super::parse) reads: fields (篇) with the period, groups within
//! them, numbered items with their facts, a short extract and links.

use std::fmt::Write as _;

use chrono::NaiveDate;
use index::{Notice, Origin, Source};

/// Output format of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CommonMark.
    Markdown,
    /// A standalone HTML page.
    Html,
}

/// Fields in the order the digests print them.
const FIELDS: [&str; 3] = ["知识产权信息篇", "科技项目篇", "医药信息篇"];
/// Characters of body shown under each item.
const EXTRACT_CHARS: usize = 120;

/// One field (篇) of a digest with its groups, in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct Field<'a> {
    /// Field name, e.g. `医药信息篇`.
    pub name: String,
    /// Groups (sub-sections or agencies) with their notices.
    pub groups: Vec<(String, Vec<&'a Notice>)>,
}

/// The field a notice belongs to and its group inside it: a digest item
/// keeps its own section; a crawled notice goes by source and agency.
fn place(n: &Notice) -> (String, String) {
    if let Origin::Digest { section, .. } = &n.origin {
        let (field, group) = section.split_once(" / ").unwrap_or((section.as_str(), ""));
        let group = if group.is_empty() { agency_or_source(n) } else { group.to_string() };
        return (field.to_string(), group);
    }
    let field = match n.source {
        Source::Cnipa => FIELDS[0],
        Source::Other(_) => FIELDS[1],
        Source::Cde | Source::Nmpa | Source::Fda | Source::Eca => FIELDS[2],
    };
    (field.to_string(), agency_or_source(n))
}

fn agency_or_source(n: &Notice) -> String {
    n.agency.clone().filter(|a| !a.trim().is_empty()).unwrap_or_else(|| n.source.label())
}

/// Groups the notices of the period by field and group, keeping the order
/// in which groups and notices first appear (a parsed digest's own order).
pub fn group(notices: &[Notice], since: NaiveDate, until: NaiveDate) -> Vec<Field<'_>> {
    let mut fields: Vec<Field<'_>> = Vec::new();
    for n in notices.iter().filter(|n| n.in_period(since, until)) {
        let (field, group) = place(n);
        let f = match fields.iter().position(|f| f.name == field) {
            Some(i) => &mut fields[i],
            None => {
                fields.push(Field { name: field, groups: Vec::new() });
                let last = fields.len() - 1;
                &mut fields[last]
            }
        };
        match f.groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, items)) => items.push(n),
            None => f.groups.push((group, vec![n])),
        }
    }
    // Known fields in the digests' order, any other after them.
    fields.sort_by_key(|f| FIELDS.iter().position(|k| *k == f.name).unwrap_or(FIELDS.len()));
    fields
}

/// The first characters of the body on one line.
pub(crate) fn extract(body: &str) -> String {
    // Paragraphs run together; a space stays only where Latin words meet.
    let flat = super::normalize_spaces(&body.split_whitespace().collect::<Vec<_>>().join(" "));
    let mut out: String = flat.chars().take(EXTRACT_CHARS).collect();
    if flat.chars().count() > EXTRACT_CHARS {
        out.push('…');
    }
    out
}

/// Only web links are rendered as links; anything else (`javascript:`) is text.
pub(crate) fn is_web(url: &str) -> bool {
    let l = url.trim_start().to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// Facts line of an item: agency, date, numbers, source.
pub(crate) fn facts(n: &Notice) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(a) = &n.agency {
        out.push(("发布单位", a.clone()));
    }
    if let Some(d) = n.published {
        out.push(("日期", d.to_string()));
    }
    if !n.doc_numbers.is_empty() {
        out.push(("文号", n.doc_numbers.join("、")));
    }
    out.push(("来源", n.source.label()));
    out
}

/// Links of an item as (label, url): the page, further pages, attachments.
pub(crate) fn links(n: &Notice) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(u) = &n.url {
        out.push(("原文".to_string(), u.clone()));
    }
    for u in &n.links {
        out.push(("相关链接".to_string(), u.clone()));
    }
    for a in &n.attachments {
        out.push((a.name.clone().unwrap_or_else(|| "附件".to_string()), a.url.clone()));
    }
    out
}

/// Heading of the open comment periods section.
const OPEN_COMMENTS: &str = "征求意见 / Open comment periods";

/// Notices whose comment period is open on `day` (published by then, not
/// withdrawn), soonest closing first: the digest's last section, whatever
/// the notices' own publication week.
pub fn open_comment_periods(notices: &[Notice], day: NaiveDate) -> Vec<&Notice> {
    let mut open: Vec<&Notice> = notices.iter().filter(|n| !n.withdrawn && n.comments_open_on(day)).collect();
    open.sort_by(|a, b| a.comment_close.cmp(&b.comment_close).then_with(|| a.title.cmp(&b.title)));
    open
}

/// Facts line of an open comment period: the closing day first.
fn comment_facts(n: &Notice) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> =
        n.comment_close.map(|d| ("意见截止 / Comments close", d.to_string())).into_iter().collect();
    out.extend(facts(n));
    out
}

/// Renders the notices of `since..=until` as a weekly digest, with the
/// comment periods still open on `until` at the end.
pub fn render(notices: &[Notice], since: NaiveDate, until: NaiveDate, format: Format) -> String {
    let fields = group(notices, since, until);
    let open = open_comment_periods(notices, until);
    match format {
        Format::Markdown => markdown(&fields, &open, since, until),
        Format::Html => html(&fields, &open, since, until),
    }
}

pub(crate) fn period(since: NaiveDate, until: NaiveDate) -> String {
    format!("{}~{}", since.format("%Y/%-m/%-d"), until.format("%Y/%-m/%-d"))
}

/// Escapes what CommonMark would read as markup in inline text.
fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\`*_[]<>#|!".contains(c) {
            out.push('\\');
        }
        out.push(if c == '\n' || c == '\r' { ' ' } else { c });
    }
    out
}

/// A URL as a CommonMark link destination: `<…>` with the characters that
/// would end it percent-encoded.
fn md_url(url: &str) -> String {
    let mut out = String::from("<");
    for c in url.trim().chars() {
        match c {
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            ' ' => out.push_str("%20"),
            '\n' | '\r' | '\t' => {}
            c => out.push(c),
        }
    }
    out.push('>');
    out
}

/// The title and facts of item `k` of a list; returns the indentation of
/// its continuation blocks (the width of its marker).
fn md_item(out: &mut String, k: usize, n: &Notice, facts: Vec<(&'static str, String)>) -> String {
    let marker = format!("{}. ", k + 1);
    let pad = " ".repeat(marker.len());
    let _ = writeln!(out, "{marker}**{}**\n", md_escape(&n.title));
    let facts: Vec<String> = facts.iter().map(|(l, v)| format!("{l}：{}", md_escape(v))).collect();
    let _ = writeln!(out, "{pad}{}\n", facts.join(" | "));
    pad
}

fn markdown(fields: &[Field<'_>], open: &[&Notice], since: NaiveDate, until: NaiveDate) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# 每周信息（{}）\n", period(since, until));
    if fields.is_empty() {
        out.push_str("本期无信息。\n");
    }

    for f in fields {
        let _ = writeln!(out, "## {}（{}）\n", md_escape(&f.name), period(since, until));
        for (g, items) in &f.groups {
            let _ = writeln!(out, "### {}\n", md_escape(g));
            for (k, n) in items.iter().enumerate() {
                let pad = md_item(&mut out, k, n, facts(n));
                let ex = extract(&n.body);
                if !ex.is_empty() {
                    let _ = writeln!(out, "{pad}> {}\n", md_escape(&ex));
                }
                for (label, url) in links(n) {
                    if is_web(&url) {
                        let _ = writeln!(out, "{pad}- [{}]({})", md_escape(&label), md_url(&url));
                    } else {
                        let _ = writeln!(out, "{pad}- {}：{}", md_escape(&label), md_escape(&url));
                    }
                }
                out.push('\n');
            }
        }
    }
    if !open.is_empty() {
        let _ = writeln!(out, "## {OPEN_COMMENTS}（{}）\n", until.format("%Y/%-m/%-d"));
        for (k, n) in open.iter().enumerate() {
            let pad = md_item(&mut out, k, n, comment_facts(n));
            if let Some(url) = n.url.as_deref().filter(|u| is_web(u)) {
                let _ = writeln!(out, "{pad}- [原文]({})\n", md_url(url));
            }
        }
    }
    out
}

/// Escapes text and attribute values for HTML.
fn h(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html(fields: &[Field<'_>], open: &[&Notice], since: NaiveDate, until: NaiveDate) -> String {
    let title = format!("每周信息（{}）", period(since, until));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"zh\">\n<head><meta charset=\"utf-8\"><title>{0}</title></head>\n<body>\n<h1>{0}</h1>",
        h(&title)
    );
    if fields.is_empty() {
        out.push_str("<p>本期无信息。</p>\n");
    }
    for f in fields {
        let _ = writeln!(out, "<section>\n<h2>{}（{}）</h2>", h(&f.name), h(&period(since, until)));
        for (g, items) in &f.groups {
            let _ = writeln!(out, "<h3>{}</h3>\n<ol>", h(g));
            for n in items {
                let _ = writeln!(out, "<li><strong>{}</strong>", h(&n.title));
                let facts: Vec<String> = facts(n).iter().map(|(l, v)| format!("{l}：{}", h(v))).collect();
                let _ = writeln!(out, "<div class=\"facts\">{}</div>", facts.join(" | "));
                let ex = extract(&n.body);
                if !ex.is_empty() {
                    let _ = writeln!(out, "<blockquote>{}</blockquote>", h(&ex));
                }
                let links = links(n);
                if !links.is_empty() {
                    out.push_str("<ul>\n");
                    for (label, url) in links {
                        if is_web(&url) {
                            let _ = writeln!(out, "<li><a href=\"{}\">{}</a></li>", h(url.trim()), h(&label));
                        } else {
                            let _ = writeln!(out, "<li>{}：{}</li>", h(&label), h(&url));
                        }
                    }
                    out.push_str("</ul>\n");
                }
                out.push_str("</li>\n");
            }
            out.push_str("</ol>\n");
        }
        out.push_str("</section>\n");
    }
    if !open.is_empty() {
        let _ = writeln!(
            out,
            "<section class=\"comments\">\n<h2>{OPEN_COMMENTS}（{}）</h2>\n<ol>",
            until.format("%Y/%-m/%-d")
        );
        for n in open {
            let _ = writeln!(out, "<li><strong>{}</strong>", h(&n.title));
            let facts: Vec<String> = comment_facts(n).iter().map(|(l, v)| format!("{l}：{}", h(v))).collect();
            let _ = writeln!(out, "<div class=\"facts\">{}</div>", facts.join(" | "));
            if let Some(url) = n.url.as_deref().filter(|u| is_web(u)) {
                let _ = writeln!(out, "<a href=\"{}\">原文</a>", h(url.trim()));
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ol>\n</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2020, m, d).unwrap_or_default()
    }

    fn sample() -> Vec<Notice> {
        super::super::parse(crate::SAMPLE_DIGEST_NAME, crate::SAMPLE_DIGEST).notices
    }

    /// (field, group, item count) as the original digest has them.
    const ORIGINAL: [(&str, &str, usize); 5] = [
        ("知识产权信息篇", "国家级", 1),
        ("知识产权信息篇", "资讯", 1),
        ("科技项目篇", "北京市", 2),
        ("医药信息篇", "国家级", 4),
        ("医药信息篇", "国际医药法规", 3),
    ];

    #[test]
    fn sample_groups_like_the_original() {
        let notices = sample();
        let fields = group(&notices, day(5, 10), day(5, 15));
        let shape: Vec<(&str, &str, usize)> = fields
            .iter()
            .flat_map(|f| f.groups.iter().map(move |(g, items)| (f.name.as_str(), g.as_str(), items.len())))
            .collect();
        assert_eq!(shape, ORIGINAL);
    }

    #[test]
    fn markdown_has_the_original_sections_and_counts() {
        let notices = sample();
        let md = render(&notices, day(5, 10), day(5, 15), Format::Markdown);
        // Re-read the headings and numbered items from the text itself.
        let mut shape: Vec<(String, String, usize)> = Vec::new();
        let mut field = String::new();
        for line in md.lines() {
            if let Some(f) = line.strip_prefix("## ") {
                field = f.split('（').next().unwrap_or("").to_string();
            } else if let Some(g) = line.strip_prefix("### ") {
                shape.push((field.clone(), g.to_string(), 0));
            } else if line.split_once(". **").is_some_and(|(n, _)| n.parse::<u32>().is_ok())
                && let Some(last) = shape.last_mut()
            {
                last.2 += 1;
            }
        }
        let want: Vec<(String, String, usize)> =
            ORIGINAL.iter().map(|(f, g, n)| (f.to_string(), g.to_string(), *n)).collect();
        assert_eq!(shape, want);
        assert!(md.starts_with("# 每周信息（2020/5/10~2020/5/15）"));
        assert!(md.contains("文号：国知战联办〔2020〕5号"));
        assert!(md.contains("[原文](<http://www.nmpa.gov.cn/WS04/CL2138/377442.html>)"));
        assert!(md.contains("[药物临床试验适应性设计指导原则（征求意见稿）.docx](<http://www.cde.org.cn/attachmentout.do?mothed=list&id=8164>)"));
    }

    #[test]
    fn html_is_escaped_and_grouped() {
        let mut notices = sample();
        notices[0].title = "<script>alert('x')</script> & co".into();
        notices[0].url = Some("javascript:alert(1)".into());
        let page = render(&notices, day(5, 10), day(5, 15), Format::Html);
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
        assert!(!page.contains("href=\"javascript"));
        assert_eq!(page.matches("<section>").count(), 3);
        assert_eq!(page.matches("<h3>").count(), 5);
        assert!(
            page.contains("<a href=\"http://www.cde.org.cn/news.do?method=viewInfoCommon&amp;id=315065\">原文</a>")
        );
    }

    #[test]
    fn period_filters_and_crawled_notices_group_by_source() {
        let mut notices = sample();
        // Dated items outside the period drop out; undated digest items stay.
        let md = render(&notices, day(5, 12), day(5, 15), Format::Markdown);
        assert!(!md.contains("关于2020年度首都科技创新券项目申报的通知"));
        assert!(md.contains("关于调整疫情期间进口药品证明性文件提交时间和形式的通知"));
        // A crawled notice is placed by its source and agency.
        let mut crawled = notices[7].clone();
        crawled.origin = Origin::Crawl;
        crawled.published = Some(day(5, 14));
        notices = vec![crawled];
        let fields = group(&notices, day(5, 10), day(5, 15));
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].name, "医药信息篇");
        assert_eq!(fields[0].groups[0].0, "国家药监局");
        assert!(render(&[], day(5, 10), day(5, 15), Format::Markdown).contains("本期无信息"));
    }

    #[test]
    fn open_comment_periods_close_the_digest_soonest_first() {
        // The sample's two CDE calls for comments, dated as their pages are.
        let mut notices = sample();
        for n in notices.iter_mut().filter(|n| n.title.starts_with("关于公开征求")) {
            n.published = Some(day(5, 15));
            crate::classify::apply(n, &crate::classify::Markers::default());
        }
        let mut closed = notices[0].clone();
        closed.title = "已截止的征求意见".into();
        closed.comment_close = Some(day(5, 14));
        notices.push(closed);
        let open = open_comment_periods(&notices, day(5, 15));
        let got: Vec<(String, Option<NaiveDate>)> =
            open.iter().map(|n| (n.title.chars().take(10).collect(), n.comment_close)).collect();
        // "自发布之日起一个月", "自发布之日起 3个月": soonest first; the closed one left out.
        assert_eq!(
            got,
            [
                ("关于公开征求《抗肿瘤".to_string(), Some(day(6, 15))),
                ("关于公开征求《药物临".to_string(), Some(day(8, 15)))
            ]
        );
        let md = render(&notices, day(5, 11), day(5, 15), Format::Markdown);
        let section = md.split("## 征求意见 / Open comment periods（2020/5/15）\n\n").nth(1).expect("the section");
        assert!(section.starts_with("1. **关于公开征求《抗肿瘤创新药"), "{section}");
        assert!(
            section.contains("   意见截止 / Comments close：2020-06-15 | 日期：2020-05-15 | 来源：CDE"),
            "{section}"
        );
        assert!(section.contains("2. **关于公开征求《药物临床试验适应性设计指导原则》意见的通知**"), "{section}");
        assert!(
            section.contains("   - [原文](<http://www.cde.org.cn/news.do?method=viewInfoCommon&id=315068>)"),
            "{section}"
        );
        let html = render(&notices, day(5, 11), day(5, 15), Format::Html);
        let part = html.split("<section class=\"comments\">").nth(1).expect("the HTML section");
        assert_eq!(part.matches("<li>").count(), 2);
        // Once every period has closed, the section is gone; an undated sample has none.
        assert!(!render(&notices, day(8, 10), day(8, 16), Format::Markdown).contains("Open comment periods"));
        assert!(!render(&sample(), day(5, 11), day(5, 15), Format::Markdown).contains("Open comment periods"));
    }

    /// The index finds what a digest needs without reading every notice:
    /// the digest of its candidates is the digest of all notices, for
    /// periods around every kind of date a notice can have.
    #[test]
    fn the_index_finds_every_notice_a_digest_shows() {
        let mut notices = sample();
        let at = |m: u32, d: u32| day(m, d).and_hms_opt(9, 0, 0).unwrap_or_default().and_utc();
        let crawled = |k: usize, published: Option<NaiveDate>, seen: Option<NaiveDate>, close: Option<NaiveDate>| {
            let url = format!("https://www.nmpa.gov.cn/n{k}.html");
            let mut n = Notice::crawled(index::Source::Nmpa, &url, format!("公告{k}"), "正文");
            n.published = published;
            n.first_seen = seen.map(|d| at(d.month(), d.day()));
            n.comment_close = close;
            n
        };
        let mut withdrawn = crawled(11, None, None, Some(day(7, 1)));
        withdrawn.withdrawn = true;
        notices.extend([
            crawled(1, Some(day(5, 10)), None, None),
            crawled(2, Some(day(5, 15)), None, None),
            crawled(3, Some(day(5, 9)), None, None),
            crawled(4, Some(day(5, 16)), None, None),
            crawled(5, None, Some(day(5, 12)), None),
            crawled(6, None, Some(day(6, 1)), None),
            crawled(7, None, None, None),
            // Comment periods: open on the last day, closed, not yet
            // published, withdrawn.
            crawled(8, Some(day(3, 1)), None, Some(day(6, 30))),
            crawled(9, Some(day(3, 1)), None, Some(day(5, 14))),
            crawled(10, Some(day(5, 20)), None, Some(day(6, 30))),
            withdrawn,
            crawled(12, Some(day(4, 1)), None, Some(day(5, 15))),
        ]);
        let index = index::NoticeIndex::in_memory().unwrap();
        let mut w = index.writer(1).unwrap();
        for n in &notices {
            w.upsert(n).unwrap();
        }
        w.commit("test").unwrap();
        let all = index.all().unwrap();
        assert_eq!(all.len(), notices.len());
        for (since, until) in
            [(day(5, 10), day(5, 15)), (day(5, 12), day(5, 12)), (day(5, 16), day(6, 30)), (day(1, 1), day(12, 31))]
        {
            let found = index.digest_notices(since, until).unwrap();
            for format in [Format::Markdown, Format::Html] {
                assert_eq!(
                    render(&found, since, until, format),
                    render(&all, since, until, format),
                    "{since}..{until}"
                );
            }
            if until < day(12, 31) {
                assert!(found.len() < all.len(), "{since}..{until}: the index narrowed nothing");
            }
        }
        assert!(index.digest_notices(day(5, 15), day(5, 10)).is_err(), "an empty period is refused");
    }

    #[test]
    fn markdown_snapshot() {
        let notices = sample();
        insta::assert_snapshot!(render(&notices, day(5, 10), day(5, 15), Format::Markdown));
    }

    #[test]
    fn markdown_escapes_markup() {
        assert_eq!(md_escape("a*b_[c](d)"), "a\\*b\\_\\[c\\](d)");
        assert_eq!(md_url("http://x.cn/a b>"), "<http://x.cn/a%20b%3E>");
    }
}
