//! NMPA, the National Medical Products Administration (www.nmpa.gov.cn,
//! 国家药品监督管理局).
//!
//! Site facts this source relies on (from `shared/sources/nmpa-cde.md`;
//! **no real NMPA bytes were available here**: the fact sheet's one real
//! detail page, a 2020 zwfw page, is described but was not copied, so every
//! fact below rests on the fact sheet only):
//!
//! - Static column listings `/<column>/index.html`, `index_1.html`,
//!   `index_2.html` …; defaults are 公告通告 `xxgk/ggtg/` and the drug
//!   column's 公告通知 `yaopin/ypggtg/`. Items are `.list ul li` (also
//!   `ul.list li`), each an `a` (its `title` attribute preferred over its
//!   text; `href` relative like `../../xxgk/…`) and a `span` date
//!   `YYYY-MM-DD`, possibly in parentheses. Items linking off the site
//!   (mp.weixin.qq.com) are skipped.
//! - The pager markup was never seen, so pagination is tolerant: an explicit
//!   `下一页` link is followed; else a page count (`createPageHTML(N, …)`,
//!   `countPage = N`, `共 N 页`) lets `index_<n+1>.html` be built; else
//!   the crawl stays on the pages it has.
//! - Details are named by a 17-digit timestamp (`20200911083851127.html`);
//!   their head carries `meta[name=ArticleTitle]`, `meta[name=PubDate]`
//!   (`YYYY-MM-DD HH:MM`), `ContentSource`, `SiteName`; the body is `.text`
//!   (after `<meta name="ContentStart"/>`); the title is also `h2.title`
//!   and the date `.date` `发布时间：YYYY-MM-DD`. 公告 numbers such as
//!   `2020年第62号` are in the title only. UTF-8 (`<meta charset="utf-8">`).
//! - Attachments are plain static files under
//!   `/directory/web/nmpa/images/<base64 or 19 digits>.<ext>` linked from the
//!   body; they download without a challenge.
//! - The old site (2020 digest links): `/WS04/CL<col>/<id>.html`, body
//!   `.articlecontent3`, date as `YYYY年M月D日` in the page, GBK (decoding is
//!   the engine's). Such pages are parsed as details too.
//! - Anti-bot: HTML pages answer scripts with HTTP 412 (2021: also 202) and a
//!   tiny Ruishu page: `$_ts`, `<script r="m">`, a meta with only a
//!   `content` token. Real 200 pages carry the same injected head scripts,
//!   so a challenge is recognised by status 412/202 or by the markers
//!   without the `ArticleTitle`/`PubDate` metas and without a `.list`.
//!   Cookie names rotate (`NfBCSins2OywS/T`, earlier `neCYtZEjo8GmO/P`,
//!   `FSSBBIl1UgzbN7N80S/T`), so none is hard-coded: the browser fetcher
//!   ([`crate::browser`], `fetch = "auto"` by default) runs the challenge
//!   and hands its cookies to the plain client, or the user may supply a
//!   browser's cookie string in the config.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Html;

use super::util::{self, Site, sel};
use super::{DetailRef, Listing, Page, PageKind, Request, Source, SourceSettings};
use crate::classify::{self, Markers};
use crate::error::{Error, Result};

/// Default listings: 公告通告 and the drug column's 公告通知.
pub const DEFAULT_START_URLS: [&str; 2] =
    ["https://www.nmpa.gov.cn/xxgk/ggtg/index.html", "https://www.nmpa.gov.cn/yaopin/ypggtg/index.html"];

const AGENCY: &str = "国家药品监督管理局";

static PAGE_NO: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"/index(?:_(\d+))?\.html?$").expect("valid regex"));
static PAGE_COUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"createPageHTML\(\s*['\x22]?(\d+)|countPage\s*=\s*(\d+)|共\s*(\d+)\s*页").expect("valid regex")
});
static PUBLISHED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"发布时间\s*[:：]\s*(\S+)").expect("valid regex"));

/// The column a notice's path puts it in, by the column directories of
/// the fact sheet (公告通告 names two genres: the title decides there).
fn column_of(path: &str) -> Option<&'static str> {
    const COLUMNS: [(&str, &str); 6] = [
        ("/zhqyj/", "征求意见"),
        ("/fgwj/", "法规文件"),
        ("zhcjd/", "政策解读"),
        ("/yaowen/", "要闻"),
        ("/ggtg/", "公告通告"),
        ("ggtz/", "公告通知"),
    ];
    COLUMNS.iter().find(|(dir, _)| path.contains(dir)).map(|(_, name)| *name)
}

/// The NMPA source.
#[derive(Debug, Clone)]
pub struct Nmpa {
    site: Site,
}

impl Nmpa {
    /// NMPA with `settings` applied to the real site's defaults.
    pub fn new(settings: &SourceSettings) -> Nmpa {
        Nmpa { site: Site::new(index::Source::Nmpa.hosts(), &DEFAULT_START_URLS, settings) }
    }

    fn next_page(&self, page: &Page, doc: &Html) -> Option<Request> {
        // 0 for index.html, n for index_n.html.
        let n: usize = PAGE_NO
            .captures(page.final_url.path())
            .map(|c| c.get(1).and_then(|m| m.as_str().parse().ok()).unwrap_or(0))?;
        // Page n is the (n+1)th listing page.
        if !self.site.page_allowed(n + 2) {
            return None;
        }
        let explicit = doc
            .select(&sel("a[href]"))
            .find(|a| util::text(*a).contains("下一页"))
            .and_then(|a| self.site.link(&page.final_url, a.attr("href")?))
            .filter(|u| u != &page.final_url && PAGE_NO.is_match(u.path()));
        let url = match explicit {
            Some(u) => u,
            None => {
                let count: usize = PAGE_COUNT
                    .captures(&page.text)
                    .and_then(|c| c.iter().skip(1).flatten().next().and_then(|m| m.as_str().parse().ok()))?;
                if n + 1 >= count {
                    return None;
                }
                page.final_url.join(&format!("index_{}.html", n + 1)).ok()?
            }
        };
        Some(self.site.finish(Request::get(url, PageKind::Listing)))
    }
}

impl Source for Nmpa {
    fn id(&self) -> index::Source {
        index::Source::Nmpa
    }

    fn start_requests(&self) -> Vec<Request> {
        self.site.start_urls.iter().map(|u| self.site.finish(Request::get(u.clone(), PageKind::Listing))).collect()
    }

    fn parse_listing(&self, page: &Page) -> Result<Listing> {
        let doc = Html::parse_document(&page.text);
        let items: Vec<_> = doc.select(&sel(".list ul li, ul.list li, .ListColumnClass15")).collect();
        if items.is_empty() && !page.text.contains("class=\"list") {
            return Err(Error::Parse { url: page.url.to_string(), reason: "no `.list ul li` items".into() });
        }
        let mut listing = Listing::default();
        for li in items {
            let Some(a) = li.select(&sel("a[href]")).next() else { continue };
            let Some(url) = a.attr("href").and_then(|h| self.site.link(&page.final_url, h)) else { continue };
            if !self.site.owns(&url) || listing.details.iter().any(|d| d.request.url == url) {
                continue;
            }
            let title = a
                .attr("title")
                .map(util::squash)
                .filter(|t| !t.is_empty())
                .or_else(|| Some(util::text(a)).filter(|t| !t.is_empty()));
            let date = li.select(&sel("span")).find_map(|s| util::find_ymd(&util::text(s)));
            listing.details.push(DetailRef {
                request: self.site.finish(Request::get(url, PageKind::Detail)),
                title,
                date,
                changed: None,
            });
        }
        listing.next.extend(self.next_page(page, &doc));
        Ok(listing)
    }

    fn parse_detail(&self, page: &Page, listed: &DetailRef) -> Result<index::Notice> {
        let doc = Html::parse_document(&page.text);
        let root = doc.root_element();
        let title = util::meta(&doc, "ArticleTitle")
            .or_else(|| util::first_text(root, &sel("h2.title, .articletitle3, h1")))
            .or_else(|| listed.title.clone())
            .ok_or_else(|| Error::Parse { url: page.url.to_string(), reason: "no ArticleTitle or title".into() })?;
        let published = util::meta(&doc, "PubDate")
            .and_then(|d| util::find_ymd(&d))
            .or_else(|| {
                root.select(&sel(".date"))
                    .find_map(|d| PUBLISHED.captures(&util::text(d)).and_then(|c| util::find_ymd(&c[1])))
            })
            .or(listed.date)
            .or_else(|| crate::date::cn(&page.text));
        let body_el = root.select(&sel("div.text, .text, .articlecontent3")).next();
        let body = body_el.map(util::all_text).unwrap_or_default();
        let mut attachments = Vec::new();
        if let Some(body_el) = body_el {
            for a in body_el.select(&sel("a[href]")) {
                let Some(url) = a.attr("href").and_then(|h| self.site.link(&page.final_url, h)) else { continue };
                if util::is_file_link(&url) || url.path().contains("/directory/web/nmpa/images/") {
                    util::push_attachment(&mut attachments, &url, Some(util::text(a)));
                }
            }
        }
        let mut notice = index::Notice::crawled(index::Source::Nmpa, page.url.as_str(), title, body);
        notice.doc_numbers = util::doc_numbers([notice.title.as_str()]);
        notice.published = published;
        notice.agency = util::meta(&doc, "ContentSource")
            .or_else(|| util::meta(&doc, "SiteName"))
            .or_else(|| Some(AGENCY.to_string()));
        notice.attachments = attachments;
        let column = util::meta(&doc, "ColumnName");
        let column = column.as_deref().or_else(|| column_of(page.url.path()));
        classify::apply(&mut notice, &Markers { column, ..Markers::default() });
        Ok(notice)
    }

    fn is_challenge(&self, page: &Page) -> bool {
        if page.status == 412 {
            return true;
        }
        let content = page.text.contains("ArticleTitle")
            || page.text.contains("PubDate")
            || page.text.contains("class=\"list")
            || page.text.contains("ListColumnClass");
        (page.status == 202 || util::has_ruishu_markers(&page.text)) && !content
    }

    fn revisit(&self, url: &url::Url) -> Option<Request> {
        self.site.owns(url).then(|| self.site.finish(Request::get(url.clone(), PageKind::Detail)))
    }

    fn unblock_hint(&self) -> Option<String> {
        Some("www.nmpa.gov.cn answers scripts with a JavaScript cookie challenge (HTTP 412). With `fetch = \"auto\"` (the default) or `\"browser\"` under [crawl.sources.nmpa] and Chromium installed, the crawler passes it in a headless browser. Otherwise open https://www.nmpa.gov.cn/ in a browser, copy the Cookie header it sends (NfBCSins2Oyw… and acw_tc) into `cookie` under [crawl.sources.nmpa] in the config, and crawl again soon: the cookie is short-lived.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn page(url: &str, status: u16, text: &str) -> Page {
        let url = Url::parse(url).unwrap();
        Page {
            url: url.clone(),
            final_url: url,
            status,
            content_type: None,
            body: text.as_bytes().to_vec(),
            text: text.to_string(),
        }
    }

    #[test]
    fn challenge_is_told_from_a_real_page_with_injected_scripts() {
        let src = Nmpa::new(&SourceSettings::default());
        let u = "https://www.nmpa.gov.cn/xxgk/ggtg/index.html";
        let challenge = r#"<html><head><meta content="{qqq"><script r="m">$_ts=window['$_ts'];</script></head></html>"#;
        assert!(src.is_challenge(&page(u, 412, challenge)));
        assert!(src.is_challenge(&page(u, 202, challenge)));
        assert!(src.is_challenge(&page(u, 200, challenge)));
        let real = r#"<html><head><script r="m">$_ts</script><meta name="ArticleTitle" content="x"></head></html>"#;
        assert!(!src.is_challenge(&page(u, 200, real)));
    }

    #[test]
    fn pagination_from_a_page_count_and_max_pages() {
        let src = Nmpa::new(&SourceSettings::default());
        let text = r#"<div class="list"><ul><li><a href="./1.html">a</a><span>(2020-05-14)</span></li></ul></div>
            <script>createPageHTML(3, 0, "index", "html");</script>"#;
        let l = src.parse_listing(&page("https://www.nmpa.gov.cn/xxgk/ggtg/index.html", 200, text)).unwrap();
        assert_eq!(l.next[0].url.as_str(), "https://www.nmpa.gov.cn/xxgk/ggtg/index_1.html");
        assert_eq!(l.details[0].date, chrono::NaiveDate::from_ymd_opt(2020, 5, 14));
        let l = src.parse_listing(&page("https://www.nmpa.gov.cn/xxgk/ggtg/index_2.html", 200, text)).unwrap();
        assert!(l.next.is_empty(), "index_2 is the third and last page");
        let capped = Nmpa::new(&SourceSettings { max_pages: Some(1), ..Default::default() });
        let l = capped.parse_listing(&page("https://www.nmpa.gov.cn/xxgk/ggtg/index.html", 200, text)).unwrap();
        assert!(l.next.is_empty());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let src = Nmpa::new(&SourceSettings::default());
        let u = "https://www.nmpa.gov.cn/xxgk/ggtg/index.html";
        assert!(src.parse_listing(&page(u, 200, "\u{0}<<>>")).is_err());
        let listed = DetailRef {
            request: Request::get(Url::parse(u).unwrap(), PageKind::Detail),
            title: None,
            date: None,
            changed: None,
        };
        assert!(src.parse_detail(&page(u, 200, "<div"), &listed).is_err());
    }
}
