//! ECA Academy GMP news (www.gmp-compliance.org), in English.
//!
//! Site facts this source relies on (from `shared/sources/cnipa-eca.md`;
//! **no real ECA bytes and no HTML-level selector were available, so every
//! fact below rests on the fact sheet only**, and parsing is deliberately
//! markup-agnostic):
//!
//! - Articles live at `/gmp-news/<slug>` (press releases at
//!   `/gmp-news/press-announcement/<slug>`). Lists: the latest news
//!   `/gmp-news/latest-gmp-news` (default), the yearly archive
//!   `/gmp-news/gmp-news-archive?year=YYYY&page_a32=N`, topic lists
//!   `/gmp-news/news-sort-by-topic/<topic>?page_n160=N`. The page parameter's
//!   name differs per list (`page_<letter><digits>`, a CMS element id), so
//!   the next page is the link the page itself gives (`rel=next`, a "next"
//!   class or text, else the lowest higher-numbered `page_…` link), never a
//!   built URL.
//! - A list item is a title link, a teaser and a "More" link to the same
//!   article; topic lists put a `DD.MM.YY` date before the title. Any link
//!   to an article path is taken; its longest non-"more" text is the title,
//!   and a date is looked for in the smallest element holding only that
//!   article.
//! - The public RSS 2.0 feed `https://app.gxp-services.net/eca_newsfeed.xml`
//!   (default start URL too) gives title, link and an RFC 822 `pubDate`,
//!   the dependable date (articles show no date of their own on current
//!   pages). Atom entries are read as well.
//! - Article pages: an `h1` title, sometimes a "Recommendation" event box,
//!   body paragraphs, then "Related GMP News" (lines `DD.MM.YYYY<title>`),
//!   "Go back", "GMP Conferences by Topics": the body stops at the first of
//!   those and leaves the Recommendation box out. Old articles show
//!   `6 October 2005` under the title, used when the feed gave no date.
//! - The site may answer 403 to scripts (a cloud fetcher saw it every time):
//!   a 403 is a block, never content.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use scraper::{ElementRef, Html};
use url::Url;

use super::util::{self, Site, Walk, sel};
use super::{DetailRef, Listing, Page, PageKind, Request, Source, SourceSettings};
use crate::classify::{self, Markers};
use crate::error::{Error, Result};

/// Default lists: the latest GMP news page and the public RSS feed.
pub const DEFAULT_START_URLS: [&str; 2] =
    ["https://www.gmp-compliance.org/gmp-news/latest-gmp-news", "https://app.gxp-services.net/eca_newsfeed.xml"];

const AGENCY: &str = "ECA Academy";
/// Paths under `/gmp-news/` that are lists, not articles.
const LIST_SLUGS: [&str; 6] =
    ["latest-gmp-news", "gmp-news-archive", "press-announcements-archive", "news-sort-by-topic", "rss", "gmp-news"];

static PAGE_PARAM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^page(?:_[a-z]+\d+)?$").expect("valid regex"));
static ATOM_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"<link\b[^>]*href\s*=\s*["']([^"']+)["']"#).expect("valid regex"));
static ITEM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<(item|entry)\b[^>]*>(.*?)</(?:item|entry)>").expect("valid regex"));

/// `DD.MM.YYYY` or `DD.MM.YY` (20YY).
fn dotted(s: &str) -> Option<NaiveDate> {
    crate::date::dmy_dotted(s)
}

/// `6 October 2005`.
fn worded(s: &str) -> Option<NaiveDate> {
    crate::date::dmy_words(s)
}

/// The text of the first `<tag>` of an XML item, CDATA unwrapped and
/// entities decoded.
fn xml_field(item: &str, tag: &str) -> Option<String> {
    let start = [format!("<{tag}>"), format!("<{tag} ")].iter().filter_map(|o| item.find(o.as_str())).min()?;
    let after = start + item[start..].find('>')? + 1;
    if item[..after].ends_with("/>") {
        return None;
    }
    let end = after + item[after..].find(&format!("</{tag}>"))?;
    let raw = item[after..end].trim();
    let raw = raw.strip_prefix("<![CDATA[").and_then(|r| r.strip_suffix("]]>")).unwrap_or(raw);
    Some(util::squash(&util::unescape(raw))).filter(|s| !s.is_empty())
}

/// An RSS `pubDate` (RFC 822) or Atom date (RFC 3339).
fn feed_date(s: &str) -> Option<NaiveDate> {
    crate::date::feed(s)
}

/// ECA's category of an article, by its path: every article is news about
/// GMP (a warning letter it reports on is not one), press releases too.
fn category(url: &Url) -> &'static str {
    if url.path().contains("/press-announcement/") { "Press release" } else { "GMP News" }
}

/// The ECA source.
#[derive(Debug, Clone)]
pub struct Eca {
    site: Site,
}

impl Eca {
    /// ECA with `settings` applied to the real site's defaults.
    pub fn new(settings: &SourceSettings) -> Eca {
        Eca { site: Site::new(index::Source::Eca.hosts(), &DEFAULT_START_URLS, settings) }
    }

    /// Whether `url` is an article (not a list) of the GMP news.
    fn is_article(&self, url: &Url) -> bool {
        if !self.site.owns(url) {
            return false;
        }
        let segs: Vec<&str> = url.path().trim_matches('/').split('/').collect();
        match segs.as_slice() {
            ["gmp-news", slug] => !LIST_SLUGS.contains(slug) && !slug.is_empty(),
            ["gmp-news", "press-announcement", slug] => !slug.is_empty(),
            _ => false,
        }
    }

    fn detail(&self, url: Url, title: Option<String>, date: Option<NaiveDate>) -> DetailRef {
        DetailRef { request: self.site.finish(Request::get(url, PageKind::Detail)), title, date, changed: None }
    }

    fn parse_feed(&self, page: &Page) -> Listing {
        let mut listing = Listing::default();
        for cap in ITEM.captures_iter(&page.text) {
            let item = &cap[2];
            let href = xml_field(item, "link").or_else(|| ATOM_LINK.captures(item).map(|c| util::unescape(&c[1])));
            let Some(url) = href.and_then(|h| self.site.link(&page.final_url, &h)) else { continue };
            if !self.is_article(&url) || listing.details.iter().any(|d| d.request.url == url) {
                continue;
            }
            let title = xml_field(item, "title");
            let date = ["pubDate", "published", "updated", "dc:date"]
                .iter()
                .find_map(|t| xml_field(item, t))
                .and_then(|d| feed_date(&d));
            listing.details.push(self.detail(url, title, date));
        }
        listing
    }

    fn parse_html_list(&self, page: &Page) -> Listing {
        let doc = Html::parse_document(&page.text);
        let mut listing = Listing::default();
        let links: Vec<(ElementRef<'_>, Url)> = doc
            .select(&sel("a[href]"))
            .filter_map(|a| Some((a, self.site.link(&page.final_url, a.attr("href")?)?)))
            .filter(|(_, u)| self.is_article(u))
            .collect();
        for (a, url) in &links {
            if listing.details.iter().any(|d| &d.request.url == url) {
                continue;
            }
            let same: Vec<&ElementRef<'_>> = links.iter().filter(|(_, u)| u == url).map(|(a, _)| a).collect();
            let title = same
                .iter()
                .map(|a| util::text(**a))
                .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("more") && !t.eq_ignore_ascii_case("read more"))
                .max_by_key(|t| t.chars().count());
            // The item: the largest ancestor that holds links to this
            // article only.
            let mut item = *a;
            for anc in a.ancestors().filter_map(ElementRef::wrap) {
                let only_this = links
                    .iter()
                    .filter(|(_, u)| u != url)
                    .all(|(other, _)| !other.ancestors().any(|o| o.id() == anc.id()));
                if !only_this || anc.value().name() == "body" {
                    break;
                }
                item = anc;
            }
            let text = util::text(item);
            let date = dotted(&text).or_else(|| worded(&text));
            listing.details.push(self.detail(url.clone(), title, date));
        }
        listing.next.extend(self.next_page(page, &doc));
        listing
    }

    /// The next list page, as the page links it.
    fn next_page(&self, page: &Page, doc: &Html) -> Option<Request> {
        let number = |u: &Url| -> Option<(String, usize)> {
            u.query_pairs()
                .find(|(k, _)| PAGE_PARAM.is_match(k))
                .and_then(|(k, v)| Some((k.into_owned(), v.parse().ok()?)))
        };
        let current = number(&page.final_url).map(|(_, n)| n).unwrap_or(0);
        let mut candidates: Vec<(Url, bool)> = Vec::new();
        for a in doc.select(&sel("a[href]")) {
            let Some(url) = a.attr("href").and_then(|h| self.site.link(&page.final_url, h)) else { continue };
            if url.path() != page.final_url.path() {
                continue;
            }
            let text = util::text(a).to_ascii_lowercase();
            let explicit = a.attr("rel").is_some_and(|r| r.split_whitespace().any(|r| r == "next"))
                || a.value().classes().any(|c| c.contains("next"))
                || text == "next"
                || text.starts_with("next ")
                || text == "›"
                || text == "»"
                || text == ">";
            candidates.push((url, explicit));
        }
        let pick = candidates.iter().find(|(_, explicit)| *explicit).map(|(u, _)| u.clone()).or_else(|| {
            candidates
                .iter()
                .filter_map(|(u, _)| number(u).map(|(_, n)| (n, u)))
                .filter(|(n, _)| *n > current)
                .min_by_key(|(n, _)| *n)
                .map(|(_, u)| u.clone())
        })?;
        let n = number(&pick).map(|(_, n)| n)?;
        // The first page carries no number, so `page_x=n` is counted as the
        // nth page.
        if pick == page.final_url || n <= current || !self.site.page_allowed(n) {
            return None;
        }
        Some(self.site.finish(Request::get(pick, PageKind::Listing)))
    }
}

impl Source for Eca {
    fn id(&self) -> index::Source {
        index::Source::Eca
    }

    fn start_requests(&self) -> Vec<Request> {
        self.site.start_urls.iter().map(|u| self.site.finish(Request::get(u.clone(), PageKind::Listing))).collect()
    }

    fn parse_listing(&self, page: &Page) -> Result<Listing> {
        let head: String = page.text.trim_start().chars().take(200).collect();
        let is_feed = head.starts_with("<?xml") || head.contains("<rss") || head.contains("<feed");
        if is_feed {
            if !page.text.contains("<rss") && !page.text.contains("<feed") {
                return Err(Error::Parse {
                    url: page.url.to_string(),
                    reason: "XML that is neither RSS nor Atom".into(),
                });
            }
            return Ok(self.parse_feed(page));
        }
        if !page.text.contains("<a") {
            return Err(Error::Parse { url: page.url.to_string(), reason: "a news list without links".into() });
        }
        Ok(self.parse_html_list(page))
    }

    fn parse_detail(&self, page: &Page, listed: &DetailRef) -> Result<index::Notice> {
        let doc = Html::parse_document(&page.text);
        let root = doc.root_element();
        let h1 = root.select(&sel("h1")).next();
        let title = h1
            .map(util::text)
            .filter(|t| !t.is_empty())
            .or_else(|| listed.title.clone())
            .ok_or_else(|| Error::Parse { url: page.url.to_string(), reason: "no h1 title".into() })?;
        // The article container: `article` or `main` holding the h1, else
        // the h1's parent.
        let container = root
            .select(&sel("article, main, [role=main]"))
            .find(|c| h1.is_none_or(|h| c.descendants().any(|d| d.id() == h.id())))
            .or_else(|| h1.and_then(|h| h.parent()).and_then(ElementRef::wrap))
            .unwrap_or(root);
        let stop = ["related gmp news", "go back", "gmp conferences by topics"];
        let text = util::block_text(container, &|e: ElementRef<'_>| {
            let own = util::text(e);
            let lower = own.to_ascii_lowercase();
            if stop.iter().any(|s| lower.starts_with(s)) {
                return Walk::Stop;
            }
            if e.value().name() == "h1" || (lower.starts_with("recommendation") && own.chars().count() < 600) {
                return Walk::Skip;
            }
            if matches!(e.value().name(), "nav" | "aside" | "footer" | "header" | "form") {
                return Walk::Skip;
            }
            Walk::Enter
        });
        // Old articles carry a `GMP News No. 616` / date line under the title.
        let own_date = text.lines().take(4).find_map(worded);
        let mut notice = index::Notice::crawled(index::Source::Eca, page.url.as_str(), title, text);
        notice.published = listed.date.or(own_date);
        notice.doc_numbers = util::doc_numbers([notice.title.as_str()]);
        notice.agency = Some(AGENCY.to_string());
        for a in container.select(&sel("a[href]")) {
            let Some(url) = a.attr("href").and_then(|h| self.site.link(&page.final_url, h)) else { continue };
            if util::is_file_link(&url) {
                util::push_attachment(&mut notice.attachments, &url, Some(util::text(a)));
            }
        }
        classify::apply(&mut notice, &Markers { kind: Some(category(&page.url)), ..Markers::default() });
        Ok(notice)
    }

    fn is_challenge(&self, page: &Page) -> bool {
        page.status == 403
    }

    fn revisit(&self, url: &Url) -> Option<Request> {
        self.site.owns(url).then(|| self.site.finish(Request::get(url.clone(), PageKind::Detail)))
    }

    fn unblock_hint(&self) -> Option<String> {
        Some("www.gmp-compliance.org answered 403 (it refuses some clients and networks). The RSS feed may still work; otherwise copy a browser's Cookie header into `cookie` under [crawl.sources.eca] in the config, or crawl from another network.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_sites_forms() {
        assert_eq!(dotted("17.02.22 Title"), NaiveDate::from_ymd_opt(2022, 2, 17));
        assert_eq!(dotted("09.05.2025New ECA"), NaiveDate::from_ymd_opt(2025, 5, 9));
        assert_eq!(worded("GMP News 6 October 2005"), NaiveDate::from_ymd_opt(2005, 10, 6));
        assert_eq!(feed_date("Wed, 13 May 2020 08:00:00 +0200"), NaiveDate::from_ymd_opt(2020, 5, 13));
        assert_eq!(feed_date("2020-05-13T08:00:00Z"), NaiveDate::from_ymd_opt(2020, 5, 13));
        assert_eq!(dotted("99.99.99"), None);
    }

    #[test]
    fn articles_and_lists_are_told_apart() {
        let src = Eca::new(&SourceSettings::default());
        let is = |u: &str| src.is_article(&Url::parse(u).unwrap());
        assert!(is("https://www.gmp-compliance.org/gmp-news/audit-trail-in-the-centre-of-an-fda-warning-letter"));
        assert!(is("https://www.gmp-compliance.org/gmp-news/press-announcement/new-gdp-certification-scheme"));
        assert!(!is("https://www.gmp-compliance.org/gmp-news/latest-gmp-news"));
        assert!(!is("https://www.gmp-compliance.org/gmp-news/news-sort-by-topic/quality-assurance"));
        assert!(!is("https://example.org/gmp-news/x"));
    }

    #[test]
    fn a_403_is_a_block_and_junk_is_an_error() {
        let src = Eca::new(&SourceSettings::default());
        let url = Url::parse(DEFAULT_START_URLS[0]).unwrap();
        let page = |status, text: &str| Page {
            url: url.clone(),
            final_url: url.clone(),
            status,
            content_type: None,
            body: text.into(),
            text: text.into(),
        };
        assert!(src.is_challenge(&page(403, "<html>Forbidden</html>")));
        assert!(!src.is_challenge(&page(200, "<html></html>")));
        assert!(src.parse_listing(&page(200, "<?xml version=\"1.0\"?><x/>")).is_err());
        assert!(src.parse_listing(&page(200, "plain text")).is_err());
    }
}
