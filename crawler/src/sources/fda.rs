//! FDA guidance documents (www.fda.gov).
//!
//! Site facts this source relies on (from `shared/sources/fda.md`):
//!
//! - **Verified against real bytes** (`shared/real-pages/fda/`: four real
//!   rows of the feed, and robots.txt of 2020): every guidance is listed in
//!   one static JSON file,
//!   `/files/api/datatables/static/search-for-guidance.json`, a bare array of
//!   objects whose values are HTML fragments: `title` (an `<a href>` to the
//!   guidance page, site-relative), `field_associated_media_2` (an `<a>` to
//!   `/media/N/download` with text `PDF (size)` and an `sr-only` span, or
//!   empty), `field_issue_datetime` `MM/DD/YYYY`,
//!   `field_issuing_office_taxonomy`, `field_final_guidance_1`
//!   `Final`/`Draft`, `open-comment` (padded `No`/`Yes`),
//!   `field_comment_close_date`, `field_docket_number` (an `<a>` to
//!   regulations.gov), `field_communication_type`, `term_node_tid`
//!   (topics), `field_regulated_product_field` (entity-encoded), and
//!   `changed` (a `<time datetime>`), the only change signal. robots.txt asks
//!   `Crawl-Delay: 30` of every agent and allows `/regulatory-information/`,
//!   `/files/` and `/media/` (the engine honours the delay).
//! - So the feed is the listing: each row becomes a notice at once (title,
//!   issue date, docket, office, status, PDF link, a summary body) and a
//!   detail request carrying `changed`, so the engine fetches a guidance
//!   page only when its row changed since the last crawl.
//! - **Fact sheet only** (no guidance page bytes were found): guidance pages
//!   have the title in `h1.content-title`, `dt`/`dd` pairs (`Docket
//!   Number:`, `Issued by:` followed by the literal `Guidance Issuing
//!   Office` and one `dd` per office), `.node-current-date time`
//!   (`MM/DD/YYYY`, "Content current as of"), body paragraphs in
//!   `div[role=main]`, and a `/media/N/download` link (not always a PDF).
//!   Parsing is label-driven and falls back to the feed's metadata.
//! - The Akamai bot wall answers a refused client with a 302 to
//!   `/apology_objects/abuse-detection-apology.html` (which then 404s): a
//!   page whose final URL is under `/apology_objects/` is a challenge
//!   (blocked, not gone).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::NaiveDate;
use regex::Regex;
use scraper::{ElementRef, Html};
use serde_json::{Map, Value};

use super::util::{self, Site, sel};
use super::{DetailRef, Listing, Page, PageKind, Request, Source, SourceSettings};
use crate::classify::{self, Markers};
use crate::error::{Error, Result};

/// The guidance feed.
pub const DEFAULT_START_URLS: [&str; 1] = ["https://www.fda.gov/files/api/datatables/static/search-for-guidance.json"];

static MEDIA: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^/media/\d+/download").expect("valid regex"));

/// A date written `MM/DD/YYYY`.
fn mdy(s: &str) -> Option<NaiveDate> {
    crate::date::mdy(s)
}

/// A field of a feed row as a string ("" when missing or not a string).
fn field<'a>(row: &'a Map<String, Value>, key: &str) -> &'a str {
    row.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The first `<a>` of an HTML fragment: its href and its text (without
/// the screen-reader span).
fn anchor(fragment: &str) -> Option<(String, String)> {
    if !fragment.contains("<a") {
        return None;
    }
    let frag = Html::parse_fragment(fragment);
    let a = frag.select(&sel("a[href]")).next()?;
    let text = util::block_text(a, &|e: ElementRef<'_>| {
        if e.value().classes().any(|c| c == "sr-only") { util::Walk::Skip } else { util::Walk::Enter }
    });
    Some((a.attr("href")?.trim().to_string(), util::squash(&text)))
}

/// Plain text of an HTML fragment, `<br>` runs joined by `; `.
fn plain(fragment: &str) -> String {
    let frag = Html::parse_fragment(fragment);
    let text = util::all_text(frag.root_element());
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

/// What a feed row said of a guidance's type, status and comment close
/// date, by notice id.
type FeedKinds = HashMap<String, (Option<index::DocType>, Option<index::Status>, Option<NaiveDate>)>;

/// The FDA guidance source.
#[derive(Debug, Clone)]
pub struct Fda {
    site: Site,
    /// The feed's classification of each row seen this run: the guidance
    /// page, parsed later in the same run (before the feed's notice is
    /// committed), does not state the comment close date. Across runs the
    /// index keeps it ([`index::Notice::inherit_classification`]).
    feed_kinds: Arc<Mutex<FeedKinds>>,
}

impl Fda {
    /// FDA with `settings` applied to the real site's defaults.
    pub fn new(settings: &SourceSettings) -> Fda {
        Fda { site: Site::new(index::Source::Fda.hosts(), &DEFAULT_START_URLS, settings), feed_kinds: Arc::default() }
    }

    /// One feed row: its notice from the metadata and its page request.
    fn row(&self, page: &Page, row: &Map<String, Value>) -> Option<(index::Notice, DetailRef)> {
        let (href, title) = anchor(field(row, "title"))?;
        let url = self.site.link(&page.final_url, &href)?;
        let title = util::unescape(&title);
        if title.is_empty() {
            return None;
        }
        let issued = mdy(field(row, "field_issue_datetime"));
        let status = util::squash(field(row, "field_final_guidance_1"));
        let office = plain(field(row, "field_issuing_office_taxonomy"));
        let docket = anchor(field(row, "field_docket_number"))
            .map(|(_, t)| t)
            .unwrap_or_else(|| plain(field(row, "field_docket_number")));
        let kind = util::squash(field(row, "field_communication_type"));
        let topics = plain(field(row, "term_node_tid"));
        let products = plain(field(row, "field_regulated_product_field"));
        let open = util::squash(field(row, "open-comment"));
        let close = mdy(field(row, "field_comment_close_date"));
        let changed = Html::parse_fragment(field(row, "changed"))
            .select(&sel("time[datetime]"))
            .next()
            .and_then(|t| t.attr("datetime").map(str::to_string))
            .or_else(|| Some(util::squash(field(row, "changed"))).filter(|c| !c.is_empty()));

        // The feed has no summary: the body lists what it does say, so that
        // a notice is findable before its page is fetched.
        let mut lines = Vec::new();
        let mut line = |label: &str, v: &str| {
            if !v.is_empty() {
                lines.push(format!("{label}: {v}"));
            }
        };
        line("Status", &status);
        line("Document type", &kind);
        line("Issued by", &office);
        line("Docket number", &docket);
        line("Topics", &topics);
        line("Regulated products", &products);
        line("Open for comment", &open);
        line("Comment close date", &close.map(|d| d.to_string()).unwrap_or_default());
        let mut notice = index::Notice::crawled(index::Source::Fda, url.as_str(), title.clone(), lines.join("\n"));
        notice.published = issued;
        notice.doc_numbers = util::doc_numbers([title.as_str(), docket.as_str()]);
        notice.agency = Some(office).filter(|o| !o.is_empty());
        // The feed states all three: communication type, Final/Draft, comment close date.
        let markers = Markers { kind: Some(&kind), column: None, status: Some(&status), comment_close: close };
        classify::apply(&mut notice, &markers);
        if let Ok(mut kinds) = self.feed_kinds.lock() {
            kinds.insert(notice.id.clone(), (notice.doc_type, notice.status, notice.comment_close));
        }
        if let Some((pdf, name)) = anchor(field(row, "field_associated_media_2"))
            && let Some(pdf) = self.site.link(&page.final_url, &pdf)
        {
            util::push_attachment(&mut notice.attachments, &pdf, Some(name));
        }
        let detail = DetailRef {
            request: self.site.finish(Request::get(url, PageKind::Detail)),
            title: Some(title),
            date: issued,
            changed,
        };
        Some((notice, detail))
    }

    /// The `dd` values after each `dt` whose text contains `label`
    /// (lower case), without the `Guidance Issuing Office` sub-label.
    fn dt_values<'a>(root: ElementRef<'a>, label: &str) -> Vec<String> {
        let mut out = Vec::new();
        for dt in root.select(&sel("dt")) {
            if !util::text(dt).to_ascii_lowercase().contains(label) {
                continue;
            }
            for sib in dt.next_siblings().filter_map(ElementRef::wrap) {
                match sib.value().name() {
                    "dd" => {
                        let v = util::text(sib);
                        if !v.is_empty() && v != "Guidance Issuing Office" {
                            out.push(v);
                        }
                    }
                    "dt" => break,
                    _ => {}
                }
            }
        }
        out
    }
}

impl Source for Fda {
    fn id(&self) -> index::Source {
        index::Source::Fda
    }

    fn start_requests(&self) -> Vec<Request> {
        self.site.start_urls.iter().map(|u| self.site.finish(Request::get(u.clone(), PageKind::Listing))).collect()
    }

    fn parse_listing(&self, page: &Page) -> Result<Listing> {
        let bad = |reason: String| Error::Parse { url: page.url.to_string(), reason };
        let json: Value = serde_json::from_str(page.text.trim_start_matches('\u{feff}'))
            .map_err(|e| bad(format!("guidance feed is not JSON: {e}")))?;
        // A bare array as served; a DataTables `{"data": [...]}` wrapper is
        // accepted too.
        let rows = json
            .as_array()
            .or_else(|| json.get("data").and_then(Value::as_array))
            .ok_or_else(|| bad("guidance feed is not an array of rows".into()))?;
        let mut listing = Listing::default();
        for row in rows.iter().filter_map(Value::as_object) {
            let Some((notice, detail)) = self.row(page, row) else { continue };
            if listing.notices.iter().any(|n: &index::Notice| n.id == notice.id) {
                continue;
            }
            listing.notices.push(notice);
            listing.details.push(detail);
        }
        Ok(listing)
    }

    fn parse_detail(&self, page: &Page, listed: &DetailRef) -> Result<index::Notice> {
        let doc = Html::parse_document(&page.text);
        let root = doc.root_element();
        let title = root
            .select(&sel("h1.content-title, h1"))
            .next()
            .and_then(|h| {
                // The first text node: the h1 may hold a sub-heading span.
                h.text().map(util::squash).find(|t| !t.is_empty())
            })
            .or_else(|| util::meta(&doc, "dcterms.title"))
            .or_else(|| listed.title.clone())
            .ok_or_else(|| Error::Parse { url: page.url.to_string(), reason: "no h1.content-title".into() })?;
        let dockets = Self::dt_values(root, "docket");
        let offices = Self::dt_values(root, "issued by");
        let current = root
            .select(&sel(".node-current-date time"))
            .next()
            .and_then(|t| mdy(&util::text(t)).or_else(|| t.attr("datetime").and_then(util::find_ymd)));
        // `div[role=main]` is the guidance text column; the whole `main`
        // also holds the title and the docket list.
        let main = ["div[role=main]", "main", "article"].iter().find_map(|css| root.select(&sel(css)).next());
        // The page's text up to its "Submit Comments" box (docket
        // boilerplate), without the download button.
        let mut body = main
            .map(|m| {
                util::block_text(m, &|e: ElementRef<'_>| match e.value().name() {
                    "h2" | "h3" if util::text(e).to_ascii_lowercase().starts_with("submit comments") => {
                        util::Walk::Stop
                    }
                    "a" if e.attr("href").is_some_and(|h| h.contains("/media/")) => util::Walk::Skip,
                    _ => util::Walk::Enter,
                })
            })
            .unwrap_or_default();
        if let Some(d) = current {
            body.push_str(&format!("\nContent current as of: {d}"));
        }
        // The page's own metadata heads the body, as the feed's did: the
        // status is a bare `Final`/`Draft` line before the docket list.
        let page_text = util::all_text(root.select(&sel("main")).next().unwrap_or(root));
        let status =
            page_text.lines().take_while(|l| !l.starts_with("Docket Number")).find(|l| matches!(*l, "Final" | "Draft"));
        let mut head = Vec::new();
        if let Some(s) = status {
            head.push(format!("Status: {s}"));
        }
        if !offices.is_empty() {
            head.push(format!("Issued by: {}", offices.join("; ")));
        }
        if !dockets.is_empty() {
            head.push(format!("Docket number: {}", dockets.join("; ")));
        }
        if !head.is_empty() {
            body = format!("{}\n{}", head.join("\n"), body.trim());
        }
        let mut notice =
            index::Notice::crawled(index::Source::Fda, page.url.as_str(), title.clone(), body.trim().to_string());
        notice.published = listed.date;
        notice.doc_numbers = util::doc_numbers([title.as_str()].into_iter().chain(dockets.iter().map(String::as_str)));
        notice.agency = Some(offices.join("; ")).filter(|o| !o.is_empty());
        for a in root.select(&sel("a[href]")) {
            let Some(url) = a.attr("href").and_then(|h| self.site.link(&page.final_url, h)) else { continue };
            if MEDIA.is_match(url.path()) {
                util::push_attachment(&mut notice.attachments, &url, Some(util::text(a)));
            }
        }
        // The page states the type above the title and the bare status word;
        // no comment close date (the feed row's is kept when re-indexed).
        let kind = util::first_text(root, &sel(".content-type"));
        let markers = Markers { kind: kind.as_deref(), column: Some("Guidance"), status, comment_close: None };
        classify::apply(&mut notice, &markers);
        let feed = self.feed_kinds.lock().ok().and_then(|k| k.get(&notice.id).copied());
        if let Some((doc_type, status, comment_close)) = feed {
            let row = index::Notice { doc_type, status, comment_close, ..notice.clone() };
            notice.inherit_classification(&row);
        }
        Ok(notice)
    }

    fn is_challenge(&self, page: &Page) -> bool {
        [&page.final_url, &page.url].iter().any(|u| u.path().starts_with("/apology_objects/"))
    }

    fn revisit(&self, url: &url::Url) -> Option<Request> {
        self.site.owns(url).then(|| self.site.finish(Request::get(url.clone(), PageKind::Detail)))
    }

    fn unblock_hint(&self) -> Option<String> {
        Some("www.fda.gov's bot wall redirected the crawl to its apology page (blocked, not gone). It keys on the User-Agent and the client's network: set `user_agent` under [crawl] to one naming you and a contact, keep the 30 s crawl delay, and try again later or from another network.".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    #[test]
    fn dates_and_anchors_of_feed_fields() {
        assert_eq!(mdy("03/11/2019"), NaiveDate::from_ymd_opt(2019, 3, 11));
        assert_eq!(mdy("13/45/2019"), None);
        let (href, text) =
            anchor(r#"<a href="/media/1/download">PDF (1 KB)<span class="sr-only">PDF of X</span></a>"#).unwrap();
        assert_eq!((href.as_str(), text.as_str()), ("/media/1/download", "PDF (1 KB)"));
        assert_eq!(anchor(""), None);
        assert_eq!(plain("Office A<br><br>Office B"), "Office A; Office B");
    }

    #[test]
    fn apology_redirect_is_a_challenge() {
        let src = Fda::new(&SourceSettings::default());
        let asked = Url::parse("https://www.fda.gov/files/api/datatables/static/search-for-guidance.json").unwrap();
        let apology = Url::parse("https://www.fda.gov/apology_objects/abuse-detection-apology.html").unwrap();
        let page = |final_url: Url, status| Page {
            url: asked.clone(),
            final_url,
            status,
            content_type: None,
            body: b"Not found".to_vec(),
            text: "Not found".into(),
        };
        assert!(src.is_challenge(&page(apology, 404)));
        assert!(!src.is_challenge(&page(asked.clone(), 200)));
    }

    #[test]
    fn bad_feeds_give_errors_or_skip_rows() {
        let src = Fda::new(&SourceSettings::default());
        let url = Url::parse(DEFAULT_START_URLS[0]).unwrap();
        let page = |text: &str| Page {
            url: url.clone(),
            final_url: url.clone(),
            status: 200,
            content_type: None,
            body: text.into(),
            text: text.into(),
        };
        assert!(src.parse_listing(&page("<html>")).is_err());
        assert!(src.parse_listing(&page(r#"{"x":1}"#)).is_err());
        let l = src.parse_listing(&page(r#"[1, {"title": "no link"}, {"title": "<a href='/x'>X</a>"}]"#)).unwrap();
        assert_eq!(l.notices.len(), 1);
        assert_eq!(l.details[0].changed, None);
    }
}
