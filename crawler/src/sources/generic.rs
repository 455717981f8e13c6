//! Extraction from pages outside the known sources, and the source that
//! crawls a list of seed URLs (given with `--url`, or linked from a digest).

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use index::{Attachment, Notice, notice::canonical_url};
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use url::Url;

use super::util::{Walk, block_text, find_ymd, sel, squash, text};
use super::{DetailRef, Listing, Page, PageKind, Request, Source};
use crate::error::{Error, Result};

/// What generic extraction finds on a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    /// Title (og:title, `<h1>`, `<title>` minus the site suffix).
    pub title: Option<String>,
    /// Publication date.
    pub published: Option<NaiveDate>,
    /// Main text, navigation and footers removed.
    pub text: String,
    /// Links to files.
    pub attachments: Vec<Attachment>,
    /// Document numbers in the title and text.
    pub doc_numbers: Vec<String>,
}

/// Words in an id or class that mark page furniture, not content.
const BOILERPLATE: &[&str] = &[
    "nav",
    "menu",
    "footer",
    "header",
    "breadcrumb",
    "sidebar",
    "crumb",
    "share",
    "banner",
    "copyright",
    "toolbar",
    "skip",
    "search",
    "login",
    "topbar",
    "bottom",
];

fn is_furniture(el: ElementRef<'_>) -> bool {
    let e = el.value();
    if matches!(e.name(), "nav" | "footer" | "header" | "aside" | "form" | "select" | "button" | "iframe" | "noscript")
    {
        return true;
    }
    let marks = format!("{} {}", e.id().unwrap_or(""), e.classes().collect::<Vec<_>>().join(" ")).to_ascii_lowercase();
    !marks.trim().is_empty()
        && marks
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| BOILERPLATE.iter().any(|b| w == *b || (w.starts_with(b) && w.len() <= b.len() + 4)))
}

fn judge(el: ElementRef<'_>) -> Walk {
    if is_furniture(el) { Walk::Skip } else { Walk::Enter }
}

/// Characters of text an element holds directly: its text nodes and its
/// inline or paragraph children, not its nested blocks (which are scored
/// on their own), links counted as noise.
fn own_score(el: ElementRef<'_>) -> i64 {
    let mut score = 0i64;
    for child in el.children() {
        match child.value() {
            Node::Text(t) => score += t.trim().chars().count() as i64,
            Node::Element(e) => {
                let Some(c) = ElementRef::wrap(child) else { continue };
                if is_furniture(c) {
                    continue;
                }
                let len = c.text().map(|t| t.trim().chars().count()).sum::<usize>() as i64;
                match e.name() {
                    "p" | "span" | "font" | "strong" | "b" | "em" | "i" | "u" | "br" | "center" | "h2" | "h3"
                    | "h4" | "pre" | "blockquote" | "section" => score += len,
                    "a" => score -= len / 2,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    score
}

static ANY: LazyLock<Selector> = LazyLock::new(|| sel("body *"));
static BODY: LazyLock<Selector> = LazyLock::new(|| sel("body"));
static H1: LazyLock<Selector> = LazyLock::new(|| sel("h1"));
static TITLE: LazyLock<Selector> = LazyLock::new(|| sel("title"));
static LINKS: LazyLock<Selector> = LazyLock::new(|| sel("a[href]"));
static META_ANY: LazyLock<Selector> = LazyLock::new(|| sel("meta[content]"));

/// The content of the first `<meta>` whose `name` or `property` is one of `names`.
fn meta_of(doc: &Html, names: &[&str]) -> Option<String> {
    names.iter().find_map(|want| {
        doc.select(&META_ANY)
            .find(|m| {
                let v = m.value();
                v.attr("name")
                    .or(v.attr("property"))
                    .or(v.attr("itemprop"))
                    .is_some_and(|n| n.eq_ignore_ascii_case(want))
            })
            .and_then(|m| m.attr("content"))
            .map(squash)
            .filter(|c| !c.is_empty())
    })
}

/// `<title>` without a trailing site name (`标题_国家药品监督管理局`, `Title | FDA`).
pub fn strip_site_suffix(title: &str) -> String {
    let title = squash(title);
    for sep in [" | ", " - ", " – ", " — ", "_", "－", "——", "|"] {
        if let Some((head, _)) = title.rsplit_once(sep) {
            let head = head.trim();
            if head.chars().count() >= 4 {
                return strip_site_suffix(head);
            }
        }
    }
    title
}

/// A date in a meta tag's content: ISO or Chinese forms, or US `MM/DD/YYYY`.
fn meta_date(s: &str) -> Option<NaiveDate> {
    find_ymd(s).or_else(|| crate::date::mdy(s))
}

/// A date shown on the page next to a label (发布时间：…, Content current as of: …).
fn visible_date(text: &str) -> Option<NaiveDate> {
    static LABELLED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:发布(?:时间|日期)|发文日期|成文日期|印发日期|日期|时间|Published|Posted|Issued|Date)\s*[:：]?\s*([0-9]{4}\s*[-/.年]\s*[0-9]{1,2}\s*[-/.月]\s*[0-9]{1,2})")
            .expect("valid regex")
    });
    static CURRENT_AS_OF: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)Content current as of\s*:?\s*(\d{1,2}/\d{1,2}/\d{4})").expect("valid regex"));
    if let Some(d) = LABELLED.captures(text).and_then(|c| find_ymd(&c[1])) {
        return Some(d);
    }
    if let Some(d) = CURRENT_AS_OF.captures(text).and_then(|c| crate::date::mdy(&c[1])) {
        return Some(d);
    }
    if let Some(d) = crate::date::cn(text) {
        return Some(d);
    }
    find_ymd(text)
}

/// Whether a link points at a file rather than a page.
pub fn is_attachment_link(url: &Url) -> bool {
    index::filetype::is_attachment_url(url.as_str())
}

/// Generic extraction: title, date, main text, attachments, document numbers.
pub fn extract(html: &str, base: &Url) -> Extracted {
    let doc = Html::parse_document(html);
    let title = meta_of(&doc, &["og:title"])
        .or_else(|| doc.select(&H1).map(text).find(|t| !t.is_empty()))
        .or_else(|| doc.select(&TITLE).map(text).find(|t| !t.is_empty()).map(|t| strip_site_suffix(&t)))
        .filter(|t| !t.is_empty());

    let best = doc
        .select(&ANY)
        .filter(|el| !is_furniture(*el) && !el.ancestors().filter_map(ElementRef::wrap).any(is_furniture))
        .map(|el| (own_score(el), el))
        .filter(|(s, _)| *s > 0)
        .max_by_key(|(s, _)| *s);
    let text = match best {
        Some((score, el)) if score >= 40 => block_text(el, &judge),
        _ => doc.select(&BODY).next().map(|b| block_text(b, &judge)).unwrap_or_default(),
    };

    let published = meta_of(
        &doc,
        &[
            "article:published_time",
            "PubDate",
            "publishdate",
            "pubdate",
            "publish_date",
            "firstpublishedtime",
            "dc.date",
            "dc.date.issued",
            "dcterms.created",
            "date",
        ],
    )
    .and_then(|c| meta_date(&c))
    .or_else(|| {
        let all = doc.select(&BODY).next().map(|b| block_text(b, &|_| Walk::Enter)).unwrap_or_default();
        visible_date(&all)
    });

    let mut attachments: Vec<Attachment> = Vec::new();
    for a in doc.select(&LINKS) {
        let Some(url) = a.attr("href").and_then(|h| base.join(h.trim()).ok()) else { continue };
        if !matches!(url.scheme(), "http" | "https") || !is_attachment_link(&url) {
            continue;
        }
        let url = url.to_string();
        if attachments.iter().any(|x| x.url == url) {
            continue;
        }
        let name = Some(super::util::text(a)).filter(|t| !t.is_empty());
        attachments.push(Attachment::new(url, name));
    }

    let doc_numbers = super::util::doc_numbers([title.as_deref().unwrap_or(""), text.as_str()]);
    Extracted { title, published, text, attachments, doc_numbers }
}

/// A notice from a page outside the known sources.
pub fn notice_from_page(page: &Page, listed: &DetailRef) -> Result<Notice> {
    let x = extract(&page.text, &page.final_url);
    let url = page.url.to_string();
    let title = x
        .title
        .or_else(|| listed.title.clone())
        .ok_or_else(|| Error::Parse { url: url.clone(), reason: "no title (no og:title, <h1> or <title>)".into() })?;
    let source = index::Source::from_url(&url).unwrap_or_else(|| index::Source::Other("web".into()));
    let mut notice = Notice {
        published: x.published.or(listed.date),
        doc_numbers: x.doc_numbers,
        attachments: x.attachments,
        ..Notice::crawled(source, &url, title, x.text)
    };
    // No source markers: the title and text say what they can.
    crate::classify::apply(&mut notice, &crate::classify::Markers::default());
    Ok(notice)
}

/// Merges a fetched page into the notice a digest item made: the page's
/// text joins the item's summary, the page's title and date fill what the
/// item lacks, and the item keeps its id.
pub fn merge_into_digest(item: &Notice, page: &Notice) -> Notice {
    let mut out = item.clone();
    if out.title.trim().is_empty() {
        out.title = page.title.clone();
    }
    if out.published.is_none() {
        out.published = page.published;
    }
    if !page.body.trim().is_empty() && !out.body.contains(page.body.trim()) {
        out.body = if out.body.trim().is_empty() {
            page.body.clone()
        } else {
            format!("{}\n\n{}", out.body.trim_end(), page.body)
        };
    }
    index::docnum::merge(&mut out.doc_numbers, page.doc_numbers.iter().cloned());
    for a in &page.attachments {
        if !out.attachments.iter().any(|x| x.url == a.url) {
            out.attachments.push(a.clone());
        }
    }
    // The page knows the deadline the digest's summary left out.
    out.inherit_classification(page);
    out
}

/// Crawls a list of pages with generic extraction; pages that a digest
/// item links are merged into that item's notice.
#[derive(Debug, Clone)]
pub struct Generic {
    label: String,
    seeds: Vec<Url>,
    digest: HashMap<String, Notice>,
}

impl Generic {
    /// A source over `seeds`, each fetched as a detail page.
    pub fn new(seeds: Vec<Url>) -> Self {
        Generic { label: "web".into(), seeds, digest: HashMap::new() }
    }

    /// A source over URLs given as text (e.g. `--url` flags); refuses
    /// anything that is not an absolute http(s) URL.
    pub fn from_strs<S: AsRef<str>>(urls: &[S]) -> Result<Self> {
        let mut seeds = Vec::with_capacity(urls.len());
        for u in urls {
            let u = u.as_ref().trim();
            let url = Url::parse(u).map_err(|e| Error::InvalidUrl { url: u.to_string(), reason: e.to_string() })?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(Error::InvalidUrl { url: u.to_string(), reason: "only http and https are crawled".into() });
            }
            seeds.push(url);
        }
        Ok(Generic::new(seeds))
    }

    /// A source over the pages a digest's items link to (each item's `url`).
    pub fn from_digest(items: &[Notice]) -> Self {
        let mut g = Generic { label: "digest".into(), seeds: Vec::new(), digest: HashMap::new() };
        for item in items {
            let Some(url) = item.url.as_deref().and_then(|u| Url::parse(u).ok()) else { continue };
            if !matches!(url.scheme(), "http" | "https") {
                continue;
            }
            if g.digest.insert(canonical_url(url.as_str()), item.clone()).is_none() {
                g.seeds.push(url);
            }
        }
        g
    }

    /// The seed URLs.
    pub fn seeds(&self) -> &[Url] {
        &self.seeds
    }
}

impl Source for Generic {
    fn id(&self) -> index::Source {
        index::Source::Other(self.label.clone())
    }

    fn start_requests(&self) -> Vec<Request> {
        self.seeds.iter().map(|u| Request::get(u.clone(), PageKind::Detail)).collect()
    }

    fn parse_listing(&self, page: &Page) -> Result<Listing> {
        // Seeds are details; a listing here is a caller's mistake, read as a detail.
        let listed = DetailRef {
            request: Request::get(page.url.clone(), PageKind::Detail),
            title: None,
            date: None,
            changed: None,
        };
        Ok(Listing { notices: vec![self.parse_detail(page, &listed)?], ..Listing::default() })
    }

    fn parse_detail(&self, page: &Page, listed: &DetailRef) -> Result<Notice> {
        let item = self.digest.get(&canonical_url(page.url.as_str()));
        let listed = match item {
            Some(item) => DetailRef {
                title: Some(item.title.clone()).filter(|t| !t.is_empty()),
                date: item.published,
                ..listed.clone()
            },
            None => listed.clone(),
        };
        let notice = notice_from_page(page, &listed)?;
        Ok(match item {
            Some(item) => merge_into_digest(item, &notice),
            None => notice,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use index::{Lang, Origin};

    fn base() -> Url {
        Url::parse("http://www.example.gov.cn/a/b/page.html").unwrap()
    }

    const CN_PAGE: &str = r#"<html><head><title>关于开展2020年知识产权试点工作的通知_某某市市场监督管理局</title>
        <meta name="PubDate" content="2020-05-13 09:30">
        </head><body>
        <div class="nav"><a href="/">首页</a> <a href="/x">机构</a> <a href="/y">政务公开</a></div>
        <div id="breadcrumb">当前位置：首页 &gt; 通知公告</div>
        <div class="content"><h1>关于开展2020年知识产权试点工作的通知</h1>
          <p>各区县市场监管局：</p>
          <p>根据《国家知识产权局关于开展试点工作的通知》（国知发管字〔2020〕12号）要求，现将有关事项通知如下。</p>
          <p>一、申报条件。企业应当具有独立法人资格，拥有有效发明专利。</p>
          <p>附件：<a href="/files/申报表.docx">申报表</a> <a href="download.jsp?id=7">汇总表</a></p>
        </div>
        <div class="footer">版权所有 某某市市场监督管理局 备案号 京ICP备123号</div>
        </body></html>"#;

    #[test]
    fn chinese_page_title_date_text_attachments_numbers() {
        let x = extract(CN_PAGE, &base());
        assert_eq!(x.title.as_deref(), Some("关于开展2020年知识产权试点工作的通知"));
        assert_eq!(x.published, NaiveDate::from_ymd_opt(2020, 5, 13));
        assert!(x.text.contains("一、申报条件"), "{}", x.text);
        assert!(!x.text.contains("版权所有"), "footer removed: {}", x.text);
        assert!(!x.text.contains("当前位置"), "breadcrumb removed: {}", x.text);
        let urls: Vec<&str> = x.attachments.iter().map(|a| a.url.as_str()).collect();
        assert_eq!(urls.len(), 2, "{urls:?}");
        assert!(urls[0].ends_with(".docx") && urls[1].contains("download.jsp?id=7"));
        assert_eq!(x.attachments[0].name.as_deref(), Some("申报表"));
        assert!(x.doc_numbers.iter().any(|n| n.contains("12号")), "{:?}", x.doc_numbers);
    }

    #[test]
    fn visible_dates_and_title_fallbacks() {
        let page = "<html><head><title>Some Guidance | FDA</title></head><body><main><p>Long enough text of the guidance body for scoring purposes here.</p>\
                    <p>Content current as of: 05/11/2020</p></main></body></html>";
        let x = extract(page, &base());
        assert_eq!(x.title.as_deref(), Some("Some Guidance"));
        assert_eq!(x.published, NaiveDate::from_ymd_opt(2020, 5, 11));
        let zh = "<html><body><div><p>发布时间：2020-05-13</p><p>正文内容</p></div></body></html>";
        assert_eq!(extract(zh, &base()).published, NaiveDate::from_ymd_opt(2020, 5, 13));
        let zh = "<html><body><div><p>某某局 2020年5月13日</p></div></body></html>";
        assert_eq!(extract(zh, &base()).published, NaiveDate::from_ymd_opt(2020, 5, 13));
        let og = r#"<html><head><meta property="og:title" content="OG title"><meta property="article:published_time" content="2020-05-14T10:00:00Z"></head><body><h1>H1</h1></body></html>"#;
        let x = extract(og, &base());
        assert_eq!((x.title.as_deref(), x.published), (Some("OG title"), NaiveDate::from_ymd_opt(2020, 5, 14)));
    }

    #[test]
    fn seed_urls_are_checked() {
        assert_eq!(Generic::from_strs(&["http://a.cn/x"]).unwrap().seeds().len(), 1);
        assert!(Generic::from_strs(&["ftp://a.cn/x"]).unwrap_err().is_user_error());
        assert!(Generic::from_strs(&["not a url"]).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        for html in ["", "<", "<html><body>", "<div><div><div>", "\u{0}\u{ffff}"] {
            let x = extract(html, &base());
            assert!(x.title.is_none() || !x.title.unwrap().is_empty());
        }
        assert_eq!(strip_site_suffix("A - B - Site"), "A - B");
    }

    #[test]
    fn digest_item_absorbs_the_page() {
        let item = Notice {
            id: "digest-id".into(),
            url: Some("http://www.example.gov.cn/a/b/page.html".into()),
            source: index::Source::Other("www.example.gov.cn".into()),
            title: "试点工作的通知".into(),
            body: "摘要。".into(),
            published: None,
            doc_numbers: vec![],
            agency: None,
            lang: Lang::Zh,
            attachments: vec![],
            links: vec![],
            origin: Origin::Digest { file: "d.txt".into(), section: "s".into(), item: 1, period: None },
            fetched_at: None,
            first_seen: None,
            withdrawn: false,
            doc_type: None,
            status: None,
            comment_close: None,
        };
        let g = Generic::from_digest(std::slice::from_ref(&item));
        let reqs = g.start_requests();
        assert_eq!(reqs.len(), 1);
        let page = Page {
            url: base(),
            final_url: base(),
            status: 200,
            content_type: Some("text/html".into()),
            body: CN_PAGE.as_bytes().to_vec(),
            text: CN_PAGE.into(),
        };
        let listed = DetailRef { request: reqs[0].clone(), title: None, date: None, changed: None };
        let n = g.parse_detail(&page, &listed).unwrap();
        assert_eq!(n.id, "digest-id");
        assert_eq!(n.title, "试点工作的通知", "the digest's title stays");
        assert_eq!(n.published, NaiveDate::from_ymd_opt(2020, 5, 13), "the page's date fills the gap");
        assert!(n.body.starts_with("摘要。") && n.body.contains("一、申报条件"));
        assert!(matches!(n.origin, Origin::Digest { .. }));
    }
}
