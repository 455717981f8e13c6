//! CNIPA, the China National Intellectual Property Administration
//! (www.cnipa.gov.cn, 国家知识产权局).
//!
//! Site facts this source relies on (from `shared/sources/cnipa-eca.md`;
//! **no real CNIPA bytes were available, so every fact below rests on the
//! fact sheet only**, and the fixture site is written from it):
//!
//! - The site runs Hanweb JCMS. Column pages are `/col/col<N>/index.html`
//!   (col74 政策文件, col75 通知 are the defaults). A column page embeds its
//!   first records as XML in `<script type="text/xml"><datastore>…<recordset>
//!   <record><![CDATA[<li><a href=…>TITLE</a><span>YYYY-MM-DD</span></li>]]>
//!   </record>…`; records are cut out with the regex every public scraper
//!   uses, then read as HTML (`a@title` if present, else the link text).
//! - Record links are absolute, site-absolute, or (one scraper) prefixed
//!   with `/col/colNN`, which 404s: that prefix is stripped.
//! - Further pages come from `/module/web/jpage/dataproxy.jsp`, GET form
//!   `?page=N&webid=1&path=/&columnid=<N>&unitid=<U>&webname=…&permissiontype=0`
//!   answered with `<datastore><totalpage>…<recordset>…`. The unitid depends
//!   on the column and changes over time, so it is read from the column page
//!   (the `<nextgroup>` link when there is one, else `unitid:'U'` in the
//!   jpage script, else the `<div id="U">` wrapping the datastore), never
//!   hard-coded. Pages go on while `page < totalpage`; without a
//!   `totalpage` they go on while a page still has records.
//! - Details are `/art/YYYY/M/D/art_<COL>_<ID>.html` (date path not
//!   zero-padded). Title: `meta[name=ArticleTitle]`, else the `h1`. Date:
//!   the `.article-info span` reading `发布时间：YYYY-MM-DD`, else
//!   `meta[name=pubdate]`. The 文号 sits in `table.sls`, found by its label
//!   (the one scraper that reads it uses row/column positions, which the
//!   fact sheet marks uncertain). The body sits between
//!   `<meta name="ContentStart"/>` and `<meta name="ContentEnd"/>`, else in
//!   `div.article-content`.
//! - Attachments are `/module/download/down.jsp?…`,
//!   `/module/download/downfile.jsp?…&showname=<name>` (name URL-decoded
//!   from `showname`), `/attach/0/<hex>.pdf` or plain file links.
//! - UTF-8; not reported as protected (RSSHub marks it `antiCrawler:
//!   false`), so only a Ruishu-style challenge (412/202 with `$_ts`) is
//!   treated as one, in case it ever appears.

use std::sync::LazyLock;

use regex::Regex;
use scraper::Html;
use url::Url;

use super::util::{self, Site, sel};
use super::{DetailRef, Listing, Page, PageKind, Request, Source, SourceSettings};
use crate::classify::{self, Markers};
use crate::error::{Error, Result};

/// Default column pages: 政策文件 and 通知.
pub const DEFAULT_START_URLS: [&str; 2] =
    ["https://www.cnipa.gov.cn/col/col74/index.html", "https://www.cnipa.gov.cn/col/col75/index.html"];

const WEBNAME: &str = "国家知识产权局";
/// Stops pagination of a list that never says how long it is.
const PAGE_CEILING: usize = 500;

static RECORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>").expect("valid regex"));
static NEXTGROUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)<nextgroup>\s*<!\[CDATA\[.*?href\s*=\s*["']([^"']+)["']"#).expect("valid regex")
});
static UNITID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"unitid['"\s:,=]+['"]?(\d+)"#).expect("valid regex"));
static UNIT_DIV: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?s)<div\s+id\s*=\s*["']?(\d+)["']?\s*>\s*<script[^>]*text/xml[^>]*>\s*<datastore>"#)
        .expect("valid regex")
});
static COLUMNID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"columnid['\s:,=]+(\d+)").expect("valid regex"));
static COL_IN_URL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"/col/col(\d+)/").expect("valid regex"));
static COL_PREFIX: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(?:/col/col\d+)+(/art/)").expect("valid regex"));
static TOTALPAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<totalpage>\s*(\d+)\s*</totalpage>").expect("valid regex"));
static PUBLISHED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"发布时间\s*[:：]?\s*(\S+)").expect("valid regex"));
static CONTENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?is)<meta\s+name\s*=\s*["']?ContentStart["']?\s*/?>(.*?)<meta\s+name\s*=\s*["']?ContentEnd"#)
        .expect("valid regex")
});

static ART_COLUMN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"/art_(\d+)_\d+\.html?$").expect("valid regex"));

/// The column of an article, from the column number in its file name
/// (`art_75_…`): the two default columns are known by name.
fn column_of(path: &str) -> Option<&'static str> {
    match ART_COLUMN.captures(path)?.get(1)?.as_str() {
        "74" => Some("政策文件"),
        "75" => Some("通知"),
        _ => None,
    }
}

/// The CNIPA source.
#[derive(Debug, Clone)]
pub struct Cnipa {
    site: Site,
}

impl Cnipa {
    /// CNIPA with `settings` applied to the real site's defaults.
    pub fn new(settings: &SourceSettings) -> Cnipa {
        Cnipa { site: Site::new(index::Source::Cnipa.hosts(), &DEFAULT_START_URLS, settings) }
    }

    /// The records of a datastore (column page or dataproxy answer).
    fn records(&self, page: &Page) -> Vec<DetailRef> {
        let li = sel("li");
        let a = sel("a[href]");
        let span = sel("span");
        let mut out: Vec<DetailRef> = Vec::new();
        for cap in RECORD.captures_iter(&page.text) {
            let frag = Html::parse_fragment(&cap[1]);
            let root = frag.root_element();
            let item = root.select(&li).next().unwrap_or(root);
            let Some(link) = item.select(&a).next() else { continue };
            let Some(href) = link.attr("href") else { continue };
            // One scraper saw `/col/colNN/art/...` hrefs that 404 unless
            // the column prefix is dropped.
            let href = COL_PREFIX.replace(href.trim(), "$1");
            let Some(url) = self.site.link(&page.final_url, &href) else { continue };
            if out.iter().any(|d| d.request.url == url) {
                continue;
            }
            let title = link
                .attr("title")
                .map(util::squash)
                .filter(|t| !t.is_empty())
                .or_else(|| Some(util::text(link)).filter(|t| !t.is_empty()));
            let date = item.select(&span).find_map(|s| util::find_ymd(&util::text(s)));
            out.push(DetailRef {
                request: self.site.finish(Request::get(url, PageKind::Detail)),
                title,
                date,
                changed: None,
            });
        }
        out
    }

    /// A dataproxy.jsp GET request for page `n` of a column.
    fn proxy_request(&self, page: &Url, columnid: &str, unitid: &str, n: usize) -> Option<Request> {
        let mut url = page.join("/module/web/jpage/dataproxy.jsp").ok()?;
        url.query_pairs_mut()
            .append_pair("page", &n.to_string())
            .append_pair("webid", "1")
            .append_pair("path", "/")
            .append_pair("columnid", columnid)
            .append_pair("unitid", unitid)
            .append_pair("webname", WEBNAME)
            .append_pair("permissiontype", "0");
        Some(self.proxy(url, page))
    }

    fn proxy(&self, url: Url, referer: &Url) -> Request {
        self.site.finish(
            Request::get(url, PageKind::Listing)
                .with_header("Accept", "application/xml, text/xml, */*; q=0.01")
                .with_header("X-Requested-With", "XMLHttpRequest")
                .with_header("Referer", referer.as_str()),
        )
    }

    /// The request for the page after a column page.
    fn after_column(&self, page: &Page) -> Option<Request> {
        if !self.site.page_allowed(2) {
            return None;
        }
        // A `<nextgroup>` link names the dataproxy call for the next page.
        if let Some(href) = NEXTGROUP.captures(&page.text).map(|c| util::unescape(&c[1]))
            && let Some(mut url) = self.site.link(&page.final_url, &href)
        {
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(
                    |(k, v)| {
                        if k == "page" { (k.into_owned(), "2".to_string()) } else { (k.into_owned(), v.into_owned()) }
                    },
                )
                .collect();
            if pairs.iter().any(|(k, _)| k == "page") {
                url.query_pairs_mut().clear().extend_pairs(pairs);
                return Some(self.proxy(url, &page.final_url));
            }
        }
        let unitid = UNITID.captures(&page.text).or_else(|| UNIT_DIV.captures(&page.text))?[1].to_string();
        let columnid = COLUMNID
            .captures(&page.text)
            .or_else(|| COL_IN_URL.captures(page.final_url.path()))
            .map(|c| c[1].to_string())?;
        self.proxy_request(&page.final_url, &columnid, &unitid, 2)
    }

    /// The request for the page after a dataproxy answer.
    fn after_proxy(&self, page: &Page, had_records: bool) -> Option<Request> {
        let n: usize = page.url.query_pairs().find(|(k, _)| k == "page").and_then(|(_, v)| v.parse().ok())?;
        let total: Option<usize> = TOTALPAGE.captures(&page.text).and_then(|c| c[1].parse().ok());
        let more = match total {
            Some(t) => n < t,
            None => had_records,
        };
        if !more || n + 1 > PAGE_CEILING || !self.site.page_allowed(n + 1) {
            return None;
        }
        let mut url = page.url.clone();
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(
                |(k, v)| {
                    if k == "page" { (k.into_owned(), (n + 1).to_string()) } else { (k.into_owned(), v.into_owned()) }
                },
            )
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        Some(self.proxy(url, &page.url))
    }
}

impl Source for Cnipa {
    fn id(&self) -> index::Source {
        index::Source::Cnipa
    }

    fn start_requests(&self) -> Vec<Request> {
        self.site.start_urls.iter().map(|u| self.site.finish(Request::get(u.clone(), PageKind::Listing))).collect()
    }

    fn parse_listing(&self, page: &Page) -> Result<Listing> {
        let is_proxy = page.url.path().ends_with("/dataproxy.jsp");
        if !page.text.contains("<datastore") && !is_proxy {
            return Err(Error::Parse {
                url: page.url.to_string(),
                reason: "no <datastore> of records in this column page".into(),
            });
        }
        let details = self.records(page);
        let next = if is_proxy { self.after_proxy(page, !details.is_empty()) } else { self.after_column(page) };
        Ok(Listing { details, next: next.into_iter().collect(), notices: Vec::new() })
    }

    fn parse_detail(&self, page: &Page, listed: &DetailRef) -> Result<index::Notice> {
        let doc = Html::parse_document(&page.text);
        let root = doc.root_element();
        let title = util::meta(&doc, "ArticleTitle")
            .or_else(|| util::first_text(root, &sel(".content h1, .article h1, h1")))
            .or_else(|| listed.title.clone())
            .or_else(|| util::first_text(root, &sel("title")))
            .ok_or_else(|| Error::Parse { url: page.url.to_string(), reason: "no title".into() })?;

        // 文号 and other labelled cells of `table.sls`, by label.
        let mut wenhao = None;
        let mut agency = None;
        let mut table_date = None;
        for td in root.select(&sel("table.sls td, table.sls th")) {
            let cell = util::text(td);
            let compact: String = cell.chars().filter(|c| !c.is_whitespace() && *c != '\u{3000}').collect();
            let value = || {
                td.select(&sel("span"))
                    .map(util::text)
                    .find(|t| !t.is_empty())
                    .or_else(|| compact.split_once(['：', ':']).map(|(_, v)| v.to_string()).filter(|v| !v.is_empty()))
                    .or_else(|| {
                        td.next_siblings().filter_map(scraper::ElementRef::wrap).map(util::text).find(|t| !t.is_empty())
                    })
            };
            if compact.starts_with("文号") {
                wenhao = value();
            } else if compact.starts_with("发文机关") || compact.starts_with("发布机构") {
                agency = value();
            } else if compact.starts_with("发布日期") || compact.starts_with("成文日期") {
                table_date = value().and_then(|v| util::find_ymd(&v));
            }
        }

        let published = root
            .select(&sel(".article-info span, .article-info, .info span"))
            .find_map(|s| PUBLISHED.captures(&util::text(s)).and_then(|c| util::find_ymd(&c[1])))
            .or_else(|| util::meta(&doc, "pubdate").and_then(|d| util::find_ymd(&d)))
            .or(table_date)
            .or(listed.date);

        // The body: between the ContentStart/ContentEnd markers when the
        // page has them, else the article container.
        let marked = CONTENT.captures(&page.text).map(|c| Html::parse_fragment(&c[1]));
        let body_root = match &marked {
            Some(frag) => Some(frag.root_element()),
            None => root.select(&sel("div.article-content, .article-content, div.article")).next(),
        };
        let body = body_root.map(util::all_text).unwrap_or_default();

        let mut attachments = Vec::new();
        for a in root.select(&sel("a[href]")) {
            let Some(url) = a.attr("href").and_then(|h| self.site.link(&page.final_url, h)) else { continue };
            let path = url.path();
            if !(path.starts_with("/module/download/") || path.starts_with("/attach/") || util::is_file_link(&url)) {
                continue;
            }
            let showname = url.query_pairs().find(|(k, _)| k == "showname").map(|(_, v)| v.into_owned());
            let name = Some(util::text(a)).filter(|t| !t.is_empty()).or(showname);
            util::push_attachment(&mut attachments, &url, name);
        }

        let mut notice = index::Notice::crawled(index::Source::Cnipa, page.url.as_str(), title, body);
        notice.doc_numbers =
            util::doc_numbers([notice.title.as_str()].into_iter().chain(wenhao.as_deref().map(|w| w.trim())));
        // A 文号 cell that the patterns do not recognise is still the
        // page's own statement of its number.
        if let Some(w) = wenhao.filter(|w| !w.is_empty() && w != "无" && !w.contains('/'))
            && !notice.doc_numbers.iter().any(|n| index::docnum::same(n, &w))
        {
            notice.doc_numbers.push(w);
        }
        notice.published = published;
        notice.agency = agency.or_else(|| Some(WEBNAME.to_string()));
        notice.attachments = attachments;
        let column = util::meta(&doc, "ColumnName");
        let column = column.as_deref().or_else(|| column_of(page.url.path()));
        classify::apply(&mut notice, &Markers { column, ..Markers::default() });
        Ok(notice)
    }

    fn is_challenge(&self, page: &Page) -> bool {
        matches!(page.status, 202 | 412) && util::has_ruishu_markers(&page.text)
    }

    fn revisit(&self, url: &Url) -> Option<Request> {
        self.site.owns(url).then(|| self.site.finish(Request::get(url.clone(), PageKind::Detail)))
    }

    fn unblock_hint(&self) -> Option<String> {
        Some("www.cnipa.gov.cn refused the crawl. It is not known to challenge scripts; if it starts to, open the site in a browser, copy the Cookie header of a page into `cookie` under [crawl.sources.cnipa] in the config, and crawl again.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(url: &str, text: &str) -> Page {
        let url = Url::parse(url).unwrap();
        Page {
            url: url.clone(),
            final_url: url,
            status: 200,
            content_type: Some("text/html; charset=utf-8".into()),
            body: text.as_bytes().to_vec(),
            text: text.to_string(),
        }
    }

    #[test]
    fn column_prefix_is_stripped_and_real_host_rebased() {
        let settings = SourceSettings { base_url: Url::parse("http://127.0.0.1:9/").ok(), ..Default::default() };
        let src = Cnipa::new(&settings);
        assert_eq!(src.start_requests()[0].url.as_str(), "http://127.0.0.1:9/col/col74/index.html");
        let text = r#"<div id="669"><script type="text/xml"><datastore><recordset>
            <record><![CDATA[<li><a href="/col/col55/art/2020/6/17/art_75_1.html">甲</a><span>2020-06-17</span></li>]]></record>
            <record><![CDATA[<li><a href="https://www.cnipa.gov.cn/art/2020/6/1/art_75_2.html" title="乙 全称">乙</a><span>2020-06-01</span></li>]]></record>
            </recordset></datastore></script></div>"#;
        let listing = src.parse_listing(&page("http://127.0.0.1:9/col/col75/index.html", text)).unwrap();
        let urls: Vec<&str> = listing.details.iter().map(|d| d.request.url.as_str()).collect();
        assert_eq!(
            urls,
            ["http://127.0.0.1:9/art/2020/6/17/art_75_1.html", "http://127.0.0.1:9/art/2020/6/1/art_75_2.html"]
        );
        assert_eq!(listing.details[1].title.as_deref(), Some("乙 全称"));
        assert_eq!(listing.details[0].date, chrono::NaiveDate::from_ymd_opt(2020, 6, 17));
        // No nextgroup: the unitid comes from the wrapper div, the column from the URL.
        let next = &listing.next[0].url;
        assert_eq!(next.path(), "/module/web/jpage/dataproxy.jsp");
        let q: Vec<(String, String)> = next.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
        assert!(q.contains(&("unitid".into(), "669".into())) && q.contains(&("columnid".into(), "75".into())));
        assert!(q.contains(&("page".into(), "2".into())));
    }

    #[test]
    fn proxy_pages_stop_at_totalpage_and_max_pages() {
        let src = Cnipa::new(&SourceSettings::default());
        let url = "https://www.cnipa.gov.cn/module/web/jpage/dataproxy.jsp?page=2&webid=1&columnid=75&unitid=669";
        let more = "<datastore><totalpage>3</totalpage><recordset></recordset></datastore>";
        assert_eq!(src.parse_listing(&page(url, more)).unwrap().next.len(), 1);
        let last = "<datastore><totalpage>2</totalpage><recordset></recordset></datastore>";
        assert!(src.parse_listing(&page(url, last)).unwrap().next.is_empty());
        let capped = Cnipa::new(&SourceSettings { max_pages: Some(2), ..Default::default() });
        assert!(capped.parse_listing(&page(url, more)).unwrap().next.is_empty());
    }

    #[test]
    fn malformed_pages_give_errors_or_partial_results() {
        let src = Cnipa::new(&SourceSettings::default());
        let col = "https://www.cnipa.gov.cn/col/col75/index.html";
        assert!(src.parse_listing(&page(col, "<html>nothing</html>")).is_err());
        let broken = "<datastore><recordset><record><![CDATA[<li><a>no href</a>]]></record><record><![CDATA[<li";
        assert!(src.parse_listing(&page(col, broken)).unwrap().details.is_empty());
        let listed = DetailRef {
            request: Request::get(Url::parse(col).unwrap(), PageKind::Detail),
            title: None,
            date: None,
            changed: None,
        };
        assert!(src.parse_detail(&page(col, "<p>"), &listed).is_err());
    }
}
