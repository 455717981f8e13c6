//! The sites `notices` knows, behind one [`Source`] trait.
//!
//! A source is a *parser and request builder*: it says where a site's
//! listings start, turns a fetched listing into detail links and further
//! listing requests, and turns a fetched detail page into a [`Notice`].
//! It never fetches anything itself; the engine does, politely, and hands
//! it [`Page`]s. That keeps every source testable on saved bytes.

use chrono::NaiveDate;
use index::Notice;
use url::Url;

use crate::error::Result;

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Method {
    /// GET.
    Get,
    /// POST with a form body.
    Post,
}

/// What a URL is to the crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    /// A list of notices (checked every run).
    Listing,
    /// One notice.
    Detail,
    /// A file linked from a notice.
    Attachment,
}

/// A request the engine should make.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Request {
    /// Absolute URL.
    pub url: Url,
    /// GET or POST.
    pub method: Method,
    /// Form fields for POST (sent `application/x-www-form-urlencoded`).
    pub form: Vec<(String, String)>,
    /// Extra headers (Referer, X-Requested-With ...).
    pub headers: Vec<(String, String)>,
    /// Listing, detail or attachment.
    pub kind: PageKind,
}

impl Request {
    /// A plain GET.
    pub fn get(url: Url, kind: PageKind) -> Request {
        Request { url, method: Method::Get, form: Vec::new(), headers: Vec::new(), kind }
    }

    /// A form POST.
    pub fn post(url: Url, form: Vec<(String, String)>, kind: PageKind) -> Request {
        Request { url, method: Method::Post, form, headers: Vec::new(), kind }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// A key that tells two requests apart in the crawl state: the URL, and
    /// for a POST its form (two pages of one POST endpoint are two URLs).
    pub fn state_key(&self) -> String {
        match self.method {
            Method::Get => self.url.to_string(),
            Method::Post => {
                let form: Vec<String> = self.form.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("POST {} {}", self.url, form.join("&"))
            }
        }
    }
}

/// A fetched page, decoded.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL asked for.
    pub url: Url,
    /// The URL answered, after redirects.
    pub final_url: Url,
    /// HTTP status.
    pub status: u16,
    /// Content-Type header, if any.
    pub content_type: Option<String>,
    /// Raw body bytes (possibly cut at the size cap).
    pub body: Vec<u8>,
    /// The body decoded to text (see the charset module).
    pub text: String,
}

/// A link to a notice found on a listing, with what the listing says of it.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailRef {
    /// How to fetch the notice.
    pub request: Request,
    /// Title as listed.
    pub title: Option<String>,
    /// Date as listed.
    pub date: Option<NaiveDate>,
    /// A change marker the listing gives (e.g. FDA's `changed`), if any: when
    /// it is the same as last time the detail need not be fetched again.
    pub changed: Option<String>,
}

/// What a listing gives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// Notices to fetch.
    pub details: Vec<DetailRef>,
    /// Further listing pages to fetch.
    pub next: Vec<Request>,
    /// Notices complete from the listing alone (e.g. FDA feed metadata),
    /// indexed at once; a later detail fetch enriches them.
    pub notices: Vec<Notice>,
}

/// A site `notices` can crawl.
pub trait Source: Send + Sync {
    /// The facet this source fills.
    fn id(&self) -> index::Source;

    /// The listing requests a crawl starts from.
    fn start_requests(&self) -> Vec<Request>;

    /// Reads a fetched listing page.
    fn parse_listing(&self, page: &Page) -> Result<Listing>;

    /// Reads a fetched detail page into a notice. `listed` is what the
    /// listing said of it (its title and date fill gaps).
    fn parse_detail(&self, page: &Page, listed: &DetailRef) -> Result<Notice>;

    /// Whether a 200 page is really an anti-bot challenge (NMPA's 412/202
    /// `$_ts` page, FDA's apology redirect ...), never to be parsed as content.
    fn is_challenge(&self, page: &Page) -> bool {
        let _ = page;
        false
    }
}

/// Per-source settings from the `[crawl.sources.<name>]` tables of the
/// config file (names: `cnipa`, `cde`, `nmpa`, `fda`, `eca`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceSettings {
    /// Replaces the site's origin (scheme, host, port) in every default
    /// start URL, e.g. `http://127.0.0.1:8080` for a fixture site.
    pub base_url: Option<Url>,
    /// Replaces the default start URLs altogether.
    pub start_urls: Vec<Url>,
    /// Crawl this source (default true).
    pub enabled: Option<bool>,
    /// A cookie header to send (e.g. a challenge cookie from a browser).
    pub cookie: Option<String>,
    /// Stop after this many listing pages per start URL.
    pub max_pages: Option<usize>,
}
