//! CDE, the Center for Drug Evaluation of the NMPA (www.cde.org.cn,
//! 国家药监局药品审评中心).
//!
//! Site facts this source relies on (from `shared/sources/nmpa-cde.md`;
//! **no real CDE page was available; only the record shape of the 指导原则
//! JSON is real** (tfscu's test record, quoted in the fact sheet), so the
//! rest rests on the fact sheet only):
//!
//! - List pages are JavaScript shells (`/main/news/listpage/<hex>`,
//!   `/zdyz/listpage/<hex>`); their data come from form POSTs answering
//!   JSON `{"code":200,"data":{"records":[…],"total":…,"pages":…,
//!   "current":…}}`, paged by `pageNum` (1-based) and `pageSize`. Defaults:
//!   政务新闻 `POST /main/news/getList` (`classId=545cf855…`) and the 指导原则
//!   database `POST /zdyz/getDomesticGuideList`. Requests carry
//!   `X-Requested-With: XMLHttpRequest`, `Referer` (the list shell) and
//!   `Origin`, as the site's own scripts do.
//! - News records: `title`, `newsIdCode` (32 hex), `isPic` (1: picture
//!   news), `externalLinks` (if set, the item is that link), `publishDate`
//!   `YYYYMMDD`. Details: `/main/news/viewInfoCommon/<newsIdCode>`, picture
//!   news `/main/newspic/view/<newsIdCode>`.
//! - 指导原则 records (real shape): `issueDate` `YYYYMMDD`, `nowstate`,
//!   `fclass`, `title`, `zdyzIdCODE`; details at
//!   `/zdyz/domesticinfopage?zdyzIdCODE=<hex>`, a table with `td#title`,
//!   `td#issueDate`, `td#fclass`, `td#zyfl` and `/zdyz/downloadAtt?idCODE=`
//!   links named by `span.fileLink`.
//! - News details are server HTML: `div.news_detail_title`,
//!   `div.news_detail_date` (`YYYYMMDD`), body `div.new_detail_content`
//!   (sic), attachments `a[href*="/main/att/download/"]`.
//! - Anti-bot (Ruishu): scripts get HTTP 202 and a JavaScript page with
//!   `<meta id="9DhefwqGPrzGxEp9hPaoag">` and `$_ts`; a blocked JSON
//!   endpoint answers HTML instead of JSON. All three are challenges. The
//!   site's own POSTs also carry a `MmEwMD` URL signature computed by that
//!   JavaScript. With plain HTTP and no browser cookie (config `cookie`,
//!   `FSSBBIl1UgzbN7N80S/T`) the live site is expected to be blocked and
//!   reported as such; with the browser fetcher (`fetch = "auto"`, the
//!   default, or `"browser"`; [`crate::browser`]) the list requests are sent
//!   from inside the list page, whose scripts sign them.
//! - UTF-8 assumed (never seen declared).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use scraper::Html;
use serde_json::Value;
use url::Url;

use super::util::{self, Site, sel};
use super::{DetailRef, Listing, Page, PageKind, Request, Source, SourceSettings};
use crate::classify::{self, Markers};
use crate::error::{Error, Result};

/// Default list endpoints: 政务新闻 and the 指导原则 database.
pub const DEFAULT_START_URLS: [&str; 2] =
    ["https://www.cde.org.cn/main/news/getList", "https://www.cde.org.cn/zdyz/getDomesticGuideList"];

const AGENCY: &str = "国家药品监督管理局药品审评中心";
const NEWS_CLASS: &str = "545cf855a50574699b46b26bcb165f32";
const GUIDE_CLASS: &str = "9cd8db3b7530c6fa0c86485e563f93c7";
const PAGE_SIZE: usize = 25;
/// The Ruishu meta id the challenge page carries.
const CHALLENGE_META: &str = "9DhefwqGPrzGxEp9hPaoag";

/// One list endpoint: its form without the page fields, and its shell page.
#[derive(Debug, Clone)]
struct List {
    form: Vec<(String, String)>,
    referer: Option<String>,
}

/// The CDE source.
#[derive(Debug, Clone)]
pub struct Cde {
    site: Site,
    /// List endpoints by URL (without query).
    lists: BTreeMap<String, List>,
}

/// The endpoint URL a request or page is for, without its query.
fn endpoint(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

impl Cde {
    /// CDE with `settings` applied to the real site's defaults. A start URL's
    /// query fields (e.g. `?classId=…`) become fields of the POST form.
    pub fn new(settings: &SourceSettings) -> Cde {
        let site = Site::new(index::Source::Cde.hosts(), &DEFAULT_START_URLS, settings);
        let mut lists = BTreeMap::new();
        for url in &site.start_urls {
            let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            let path = url.path();
            let (defaults, referer): (&[(&str, &str)], Option<String>) = if path.ends_with("/main/news/getList") {
                (&[("classId", NEWS_CLASS)], Some(format!("/main/news/listpage/{NEWS_CLASS}")))
            } else if path.ends_with("/zdyz/getDomesticGuideList") {
                (
                    &[("searchTitle", ""), ("zyfl1", ""), ("zyfl2", ""), ("issueDate1", ""), ("issueDate2", "")],
                    Some(format!("/zdyz/listpage/{GUIDE_CLASS}")),
                )
            } else {
                (&[], None)
            };
            for (k, v) in defaults {
                if !form.iter().any(|(fk, _)| fk == k) {
                    form.push((k.to_string(), v.to_string()));
                }
            }
            let referer = referer.and_then(|r| url.join(&r).ok()).map(|u| u.to_string());
            lists.insert(endpoint(url), List { form, referer });
        }
        Cde { site, lists }
    }

    fn list_request(&self, url: &Url, page_num: usize) -> Request {
        let key = endpoint(url);
        let mut post_url = url.clone();
        post_url.set_query(None);
        let list = self.lists.get(&key);
        let mut form =
            vec![("pageNum".to_string(), page_num.to_string()), ("pageSize".to_string(), PAGE_SIZE.to_string())];
        form.extend(list.map(|l| l.form.clone()).unwrap_or_default());
        let origin = post_url.origin().ascii_serialization();
        let mut req = Request::post(post_url, form, PageKind::Listing)
            .with_header("X-Requested-With", "XMLHttpRequest")
            .with_header("Accept", "application/json, text/javascript, */*; q=0.01")
            .with_header("Origin", &origin);
        if let Some(r) = list.and_then(|l| l.referer.as_deref()) {
            req = req.with_header("Referer", r);
        }
        self.site.finish(req)
    }

    fn detail(&self, page: &Page, path: &str, title: Option<String>, date: Option<NaiveDate>) -> Option<DetailRef> {
        let url = self.site.link(&page.final_url, path)?;
        // Items that are links to other sites are not CDE notices.
        if !self.site.owns(&url) {
            return None;
        }
        Some(DetailRef { request: self.site.finish(Request::get(url, PageKind::Detail)), title, date, changed: None })
    }

    fn record(&self, page: &Page, r: &Value) -> Option<DetailRef> {
        let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty());
        let title = s("title").map(util::squash);
        let date = s("publishDate").or_else(|| s("issueDate")).and_then(util::find_ymd);
        if let Some(link) = s("externalLinks") {
            return self.detail(page, link, title, date);
        }
        let path = if let Some(id) = s("newsIdCode") {
            let pic = r.get("isPic").is_some_and(|v| v.as_i64() == Some(1) || v.as_str() == Some("1"));
            if pic { format!("/main/newspic/view/{id}") } else { format!("/main/news/viewInfoCommon/{id}") }
        } else if let Some(id) = s("zdyzIdCODE") {
            format!("/zdyz/domesticinfopage?zdyzIdCODE={id}")
        } else if let Some(id) = s("regulatIdCODE") {
            format!("/main/policy/regulatview/{id}")
        } else if let Some(id) = s("policyIdCODE") {
            format!("/main/policy/view/{id}")
        } else {
            return None;
        };
        if !path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/?=_-".contains(&b)) {
            return None;
        }
        self.detail(page, &path, title, date)
    }
}

impl Cde {
    /// Applies the page's own markers: a 指导原则 page is in the guideline
    /// database and states its 状态 (征求意见, 颁布, 现行有效); a news page
    /// names its column (政务新闻, 征求意见) in the breadcrumb.
    fn markers<'a>(root: scraper::ElementRef<'a>, guide: bool) -> Markers<'a> {
        if guide {
            let state = root
                .select(&sel("td#nowstate"))
                .next()
                .or_else(|| {
                    let label = root.select(&sel("td")).find(|td| util::text(*td) == "状态")?;
                    label.next_siblings().find_map(scraper::ElementRef::wrap)
                })
                .and_then(|td| td.text().find(|t| !t.trim().is_empty()));
            return Markers { column: Some("指导原则"), status: state, ..Markers::default() };
        }
        let column = root.select(&sel(".location a")).last().and_then(|a| a.text().find(|t| !t.trim().is_empty()));
        Markers { column: column.or(Some("新闻")), ..Markers::default() }
    }
}

impl Source for Cde {
    fn id(&self) -> index::Source {
        index::Source::Cde
    }

    fn start_requests(&self) -> Vec<Request> {
        self.site.start_urls.iter().map(|u| self.list_request(u, 1)).collect()
    }

    fn parse_listing(&self, page: &Page) -> Result<Listing> {
        let bad = |reason: String| Error::Parse { url: page.url.to_string(), reason };
        let json: Value = serde_json::from_str(page.text.trim_start_matches('\u{feff}'))
            .map_err(|e| bad(format!("list answer is not JSON: {e}")))?;
        if let Some(code) = json.get("code").and_then(Value::as_i64).filter(|c| *c != 200) {
            let msg = json.get("msg").and_then(Value::as_str).unwrap_or("");
            return Err(bad(format!("list answered code {code} {msg}")));
        }
        let data = json.get("data").ok_or_else(|| bad("no `data` in the list answer".into()))?;
        let records = data.get("records").or_else(|| data.get("list")).and_then(Value::as_array);
        let records = records.ok_or_else(|| bad("no `data.records` array".into()))?;
        let mut listing = Listing::default();
        for r in records {
            if let Some(d) = self.record(page, r)
                && !listing.details.iter().any(|o| o.request.url == d.request.url)
            {
                listing.details.push(d);
            }
        }
        let num = |k: &str| data.get(k).and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()));
        let current = num("current").unwrap_or(1) as usize;
        let pages = num("pages").map(|p| p as usize).or_else(|| num("total").map(|t| (t as usize).div_ceil(PAGE_SIZE)));
        if pages.is_some_and(|p| current < p) && !records.is_empty() && self.site.page_allowed(current + 1) {
            listing.next.push(self.list_request(&page.url, current + 1));
        }
        Ok(listing)
    }

    fn parse_detail(&self, page: &Page, listed: &DetailRef) -> Result<index::Notice> {
        let doc = Html::parse_document(&page.text);
        let root = doc.root_element();
        let guide = root.select(&sel("td#title")).next().is_some();
        let title = util::first_text(root, &sel("div.news_detail_title, td#title"))
            .or_else(|| listed.title.clone())
            .ok_or_else(|| Error::Parse { url: page.url.to_string(), reason: "no news_detail_title".into() })?;
        let published = root
            .select(&sel("div.news_detail_date, td#issueDate"))
            .find_map(|d| util::find_ymd(&util::text(d)))
            .or(listed.date);
        let body = if guide {
            // A 指导原则 page is a table of fields; its text is the body.
            root.select(&sel("table")).next().map(util::all_text).unwrap_or_default()
        } else {
            root.select(&sel("div.new_detail_content")).next().map(util::all_text).unwrap_or_default()
        };
        let mut attachments = Vec::new();
        for a in root.select(&sel("a[href]")) {
            let Some(url) = a.attr("href").and_then(|h| self.site.link(&page.final_url, h)) else { continue };
            let path = url.path();
            if !(path.contains("/main/att/download/")
                || path.ends_with("/zdyz/downloadAtt")
                || util::is_file_link(&url))
            {
                continue;
            }
            let name = a
                .select(&sel("span.fileLink"))
                .next()
                .map(util::text)
                .or_else(|| Some(util::text(a)))
                .filter(|n| !n.is_empty());
            util::push_attachment(&mut attachments, &url, name);
        }
        let mut notice = index::Notice::crawled(index::Source::Cde, page.url.as_str(), title, body);
        notice.doc_numbers = util::doc_numbers([notice.title.as_str()]);
        notice.published = published;
        notice.agency = Some(AGENCY.to_string());
        notice.attachments = attachments;
        classify::apply(&mut notice, &Self::markers(root, guide));
        Ok(notice)
    }

    fn is_challenge(&self, page: &Page) -> bool {
        if page.status == 202 || page.status == 412 {
            return true;
        }
        let head: String = page.text.chars().take(5000).collect();
        if head.contains(CHALLENGE_META) {
            return true;
        }
        // A list endpoint that answers HTML instead of JSON was stopped by the WAF.
        let is_list = self.lists.contains_key(&endpoint(&page.url));
        if is_list {
            return page.text.trim_start().starts_with('<');
        }
        head.contains("$_ts") && !page.text.contains("news_detail") && !page.text.contains("id=\"title\"")
    }

    fn revisit(&self, url: &Url) -> Option<Request> {
        self.site.owns(url).then(|| self.site.finish(Request::get(url.clone(), PageKind::Detail)))
    }

    fn unblock_hint(&self) -> Option<String> {
        Some("www.cde.org.cn answers scripts with a JavaScript challenge (HTTP 202). With `fetch = \"auto\"` (the default) or `\"browser\"` under [crawl.sources.cde] and Chromium installed, the crawler passes it in a headless browser, whose page signs the list requests. Otherwise open https://www.cde.org.cn/ in a browser, copy the Cookie header it sends (FSSBBIl1UgzbN7N80S/T) into `cookie` under [crawl.sources.cde] in the config, and crawl again soon: the cookie is short-lived, and the list endpoints may still refuse requests without the page's own URL signature.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::Method;

    fn page(url: &str, status: u16, text: &str) -> Page {
        let url = Url::parse(url).unwrap();
        Page { url: url.clone(), final_url: url, status, content_type: None, body: text.into(), text: text.into() }
    }

    #[test]
    fn start_requests_are_form_posts_with_the_list_fields() {
        let src = Cde::new(&SourceSettings::default());
        let reqs = src.start_requests();
        assert_eq!(reqs.len(), 2);
        assert!(reqs.iter().all(|r| r.method == Method::Post));
        assert!(reqs[0].form.contains(&("classId".into(), NEWS_CLASS.into())));
        assert!(reqs[0].form.contains(&("pageNum".into(), "1".into())));
        assert!(reqs[0].headers.iter().any(|(k, v)| k == "Referer" && v.ends_with(NEWS_CLASS)));
    }

    #[test]
    fn html_instead_of_json_and_202_are_challenges() {
        let src = Cde::new(&SourceSettings::default());
        let list = "https://www.cde.org.cn/main/news/getList";
        assert!(src.is_challenge(&page(list, 200, "<html><script>$_ts={}</script></html>")));
        assert!(!src.is_challenge(&page(list, 200, r#"{"code":200,"data":{"records":[]}}"#)));
        assert!(src.is_challenge(&page("https://www.cde.org.cn/main/news/viewInfoCommon/ab", 202, "<html></html>")));
        let meta = r#"<html><head><meta id="9DhefwqGPrzGxEp9hPaoag" content="x"></head></html>"#;
        assert!(src.is_challenge(&page("https://www.cde.org.cn/", 200, meta)));
    }

    #[test]
    fn bad_json_is_a_parse_error_and_bad_records_are_skipped() {
        let src = Cde::new(&SourceSettings::default());
        let list = "https://www.cde.org.cn/main/news/getList";
        assert!(src.parse_listing(&page(list, 200, "{not json")).is_err());
        assert!(src.parse_listing(&page(list, 200, r#"{"code":500,"msg":"busy"}"#)).is_err());
        let odd = r#"{"code":200,"data":{"records":[{"title":"x"},{"newsIdCode":"../../etc"},42,
            {"title":"ok","newsIdCode":"ab12","publishDate":"20200514"}],"pages":1,"current":1}}"#;
        let l = src.parse_listing(&page(list, 200, odd)).unwrap();
        assert_eq!(l.details.len(), 1);
        assert_eq!(l.details[0].date, NaiveDate::from_ymd_opt(2020, 5, 14));
        assert!(l.next.is_empty());
    }
}
