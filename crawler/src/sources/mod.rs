//! The sites `notices` knows, behind one [`Source`] trait.
//!
//! A source is a *parser and request builder*: it says where a site's
//! listings start, turns a fetched listing into detail links and further
//! listing requests, and turns a fetched detail page into a [`Notice`].
//! It never fetches anything itself; the engine does, politely, and hands
//! it [`Page`]s. That keeps every source testable on saved bytes.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use index::Notice;
use url::Url;

use crate::error::Result;

pub mod cde;
pub mod cnipa;
pub mod eca;
pub mod fda;
pub mod generic;
pub mod nmpa;

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

    /// The request that fetches a detail page seen on an earlier run, to
    /// revisit it when due although no listing links it any more (it
    /// scrolled off, or was taken down: a page gone several runs in a row
    /// is marked withdrawn). `None`, the default: such pages are fetched
    /// only when listed (the generic source's one-off pages).
    fn revisit(&self, url: &Url) -> Option<Request> {
        let _ = url;
        None
    }

    /// What the user can do when the site blocks the crawl (a challenge, a
    /// 403, an apology redirect), for the crawl report.
    fn unblock_hint(&self) -> Option<String> {
        None
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
    /// How its pages are fetched: `http`, `browser` or `auto` (default
    /// `auto` for nmpa and cde, `http` for the others); see [`crate::browser`].
    pub fetch: Option<crate::browser::FetchMode>,
}

/// A source the crawler knows by name: how to build it from its settings.
#[derive(Clone, Copy)]
pub struct SourceDef {
    /// Its name in the config file (`[crawl.sources.NAME]`) and `--source`.
    pub name: &'static str,
    /// Builds it with its settings applied.
    pub build: fn(&SourceSettings) -> Box<dyn Source>,
}

impl std::fmt::Debug for SourceDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceDef").field("name", &self.name).finish()
    }
}

/// The sources of the crawler, in facet order: **the** registry. Adding a
/// source is a new module here and one line in this table (see the crate
/// documentation for the recipe).
pub const SOURCES: &[SourceDef] = &[
    SourceDef { name: "cnipa", build: |s| Box::new(cnipa::Cnipa::new(s)) },
    SourceDef { name: "cde", build: |s| Box::new(cde::Cde::new(s)) },
    SourceDef { name: "nmpa", build: |s| Box::new(nmpa::Nmpa::new(s)) },
    SourceDef { name: "fda", build: |s| Box::new(fda::Fda::new(s)) },
    SourceDef { name: "eca", build: |s| Box::new(eca::Eca::new(s)) },
];

/// What the search page and `/api/sources` say of a source.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceInfo {
    /// Name in the configuration and `--source` (`nmpa`).
    pub name: String,
    /// Facet label (`NMPA`, or `other/<host>`).
    pub label: String,
    /// Chinese name, when it is a known agency.
    pub name_zh: Option<String>,
    /// English name, when it is a known agency.
    pub name_en: Option<String>,
    /// The hosts of its site.
    pub hosts: Vec<String>,
    /// Where a crawl of it starts, by default.
    pub start_urls: Vec<String>,
}

/// The sources a crawl can pick by name: [`SOURCES`], plus any a caller
/// registers (a test's extra source, an embedding application's own).
#[derive(Debug, Clone)]
pub struct Registry {
    defs: Vec<SourceDef>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::builtin()
    }
}

impl Registry {
    /// The built-in sources, [`SOURCES`].
    pub fn builtin() -> Registry {
        Registry { defs: SOURCES.to_vec() }
    }

    /// Adds (or, by name, replaces) a source.
    pub fn with(mut self, def: SourceDef) -> Registry {
        self.defs.retain(|d| d.name != def.name);
        self.defs.push(def);
        self
    }

    /// The names, in facet order.
    pub fn names(&self) -> Vec<&'static str> {
        self.defs.iter().map(|d| d.name).collect()
    }

    /// The source called `name` (case-insensitive), configured by `settings`.
    pub fn build(&self, name: &str, settings: &SourceSettings) -> Option<Box<dyn Source>> {
        let name = name.trim();
        self.defs.iter().find(|d| d.name.eq_ignore_ascii_case(name)).map(|d| (d.build)(settings))
    }

    /// Every enabled source, in order; a source missing from `settings`
    /// gets the defaults (enabled, real start URLs).
    pub fn enabled(&self, settings: &BTreeMap<String, SourceSettings>) -> Vec<Box<dyn Source>> {
        let default = SourceSettings::default();
        self.defs
            .iter()
            .filter_map(|d| {
                let s = settings.get(d.name).unwrap_or(&default);
                if s.enabled == Some(false) { None } else { Some((d.build)(s)) }
            })
            .collect()
    }

    /// Labels, names, hosts and default start URLs of every source, in facet order.
    pub fn describe(&self) -> Vec<SourceInfo> {
        self.defs
            .iter()
            .map(|d| {
                let source = (d.build)(&SourceSettings::default());
                let id = source.id();
                let agency = index::agency::of(&id);
                SourceInfo {
                    name: d.name.to_string(),
                    label: id.label(),
                    name_zh: agency.map(|a| a.name_zh.to_string()),
                    name_en: agency.map(|a| a.name_en.to_string()),
                    hosts: id.hosts().iter().map(|h| h.to_string()).collect(),
                    start_urls: source.start_requests().iter().map(|r| r.url.to_string()).collect(),
                }
            })
            .collect()
    }
}

/// The built-in source called `name` (case-insensitive), configured by `settings`.
pub fn by_name(name: &str, settings: &SourceSettings) -> Option<Box<dyn Source>> {
    Registry::builtin().build(name, settings)
}

/// Every enabled built-in source, in facet order.
pub fn all(settings: &BTreeMap<String, SourceSettings>) -> Vec<Box<dyn Source>> {
    Registry::builtin().enabled(settings)
}

/// Helpers the five sources share: settings applied to URLs and requests,
/// text out of HTML, dates.
pub(crate) mod util {
    use std::sync::LazyLock;

    use chrono::NaiveDate;
    use index::Attachment;
    use scraper::{ElementRef, Node, Selector};
    use url::Url;

    use super::{Request, SourceSettings};

    /// A source's settings resolved against its real site.
    #[derive(Debug, Clone)]
    pub(crate) struct Site {
        /// Hosts of the real site (links to them are rebased onto `base`).
        pub hosts: Vec<&'static str>,
        /// Where the site is served from instead, if overridden.
        pub base: Option<Url>,
        /// Start URLs, overridden or rebased.
        pub start_urls: Vec<Url>,
        /// Cookie header for every request.
        pub cookie: Option<String>,
        /// Listing pages per start URL.
        pub max_pages: Option<usize>,
    }

    impl Site {
        /// Applies `settings` to a site whose real hosts are `hosts` and
        /// default start URLs `defaults` (all valid absolute URLs).
        pub fn new(hosts: &[&'static str], defaults: &[&str], settings: &SourceSettings) -> Site {
            // With start URLs but no base URL, the start URLs' origin is
            // where the site lives (a fixture), so absolute links to the
            // real host found in its pages are sent there too.
            let base = settings.base_url.clone().or_else(|| {
                settings.start_urls.first().filter(|u| !hosts.iter().any(|h| u.host_str() == Some(*h))).cloned()
            });
            let start_urls = if settings.start_urls.is_empty() {
                defaults
                    .iter()
                    .filter_map(|d| Url::parse(d).ok())
                    .map(|u| match &settings.base_url {
                        Some(b) => rebase(&u, b),
                        None => u,
                    })
                    .collect()
            } else {
                settings.start_urls.clone()
            };
            let cookie = settings.cookie.as_ref().map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
            Site { hosts: hosts.to_vec(), base, start_urls, cookie, max_pages: settings.max_pages }
        }

        /// Adds the configured cookie to a request.
        pub fn finish(&self, req: Request) -> Request {
            match &self.cookie {
                Some(c) => req.with_header("Cookie", c),
                None => req,
            }
        }

        /// `href` resolved against `page`, with links to the real site moved
        /// onto the base URL; `None` for `javascript:`, `mailto:` and the like.
        pub fn link(&self, page: &Url, href: &str) -> Option<Url> {
            let href = href.trim();
            if href.is_empty() || href.starts_with('#') {
                return None;
            }
            let url = page.join(href).ok()?;
            if !matches!(url.scheme(), "http" | "https") {
                return None;
            }
            Some(self.localize(url))
        }

        /// A URL on one of the real hosts, moved to the base URL if one is set.
        pub fn localize(&self, url: Url) -> Url {
            match &self.base {
                Some(b) if self.hosts.iter().any(|h| url.host_str() == Some(*h)) => rebase(&url, b),
                _ => url,
            }
        }

        /// Whether `url` is on the site (a real host, or the base URL's).
        pub fn owns(&self, url: &Url) -> bool {
            let host = url.host_str().unwrap_or("");
            self.hosts.contains(&host) || self.base.as_ref().is_some_and(|b| b.host_str() == Some(host))
        }

        /// Whether pagination may go on to listing page `n` (1-based).
        pub fn page_allowed(&self, n: usize) -> bool {
            self.max_pages.is_none_or(|m| n <= m)
        }
    }

    /// `url` with the scheme, host and port of `base`.
    pub(crate) fn rebase(url: &Url, base: &Url) -> Url {
        let mut out = url.clone();
        // Each setter only fails on URLs that cannot have a host, which
        // http(s) URLs always can; keep the original if one does fail.
        if out.set_scheme(base.scheme()).is_err()
            || out.set_host(base.host_str()).is_err()
            || out.set_port(base.port()).is_err()
        {
            return url.clone();
        }
        out
    }

    /// A CSS selector known to be valid.
    pub(crate) fn sel(css: &str) -> Selector {
        // The selectors are literals of this crate; a bad one is a bug
        // caught by every test that parses a page.
        Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css:?}: {e}"))
    }

    /// White space runs (including full-width spaces) collapsed to one space, trimmed.
    pub(crate) fn squash(s: &str) -> String {
        s.split(|c: char| c.is_whitespace() || c == '\u{a0}').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
    }

    /// An element's text on one line.
    pub(crate) fn text(el: ElementRef<'_>) -> String {
        squash(&el.text().collect::<String>())
    }

    /// The first match of `css` under `root`, as one line of text, if non-empty.
    pub(crate) fn first_text(root: ElementRef<'_>, css: &Selector) -> Option<String> {
        root.select(css).map(text).find(|t| !t.is_empty())
    }

    /// Content of `<meta name=NAME>` (case-insensitive name), if non-empty.
    pub(crate) fn meta(doc: &scraper::Html, name: &str) -> Option<String> {
        static META: LazyLock<Selector> = LazyLock::new(|| sel("meta[name][content]"));
        doc.select(&META)
            .find(|m| m.attr("name").is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .and_then(|m| m.attr("content"))
            .map(squash)
            .filter(|c| !c.is_empty())
    }

    const BLOCKS: &[&str] = &[
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "tr",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "dl",
        "dt",
        "dd",
        "hr",
        "form",
        "center",
    ];

    /// What [`block_text`] does with an element.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Walk {
        /// Take its text.
        Enter,
        /// Leave it out.
        Skip,
        /// Stop the whole text here.
        Stop,
    }

    /// An element's text, one line per block element, blank lines dropped.
    /// `judge` can leave out sub-trees or end the text early; scripts and
    /// styles are always left out.
    pub(crate) fn block_text(root: ElementRef<'_>, judge: &dyn Fn(ElementRef<'_>) -> Walk) -> String {
        let mut out = String::new();
        // An explicit stack rather than recursion: hostile pages can nest
        // deeply. `true` marks the closing of an element.
        let mut stack = vec![(*root, false)];
        while let Some((node, closing)) = stack.pop() {
            match node.value() {
                Node::Text(t) if !closing => out.push_str(t),
                Node::Element(e) => {
                    let name = e.name();
                    if closing {
                        if BLOCKS.contains(&name) {
                            out.push('\n');
                        }
                        continue;
                    }
                    if matches!(name, "script" | "style" | "noscript" | "template" | "head") {
                        continue;
                    }
                    if let Some(el) = ElementRef::wrap(node)
                        && el != root
                    {
                        match judge(el) {
                            Walk::Enter => {}
                            Walk::Skip => continue,
                            Walk::Stop => break,
                        }
                    }
                    if BLOCKS.contains(&name) {
                        out.push('\n');
                    } else if matches!(name, "td" | "th") {
                        out.push(' ');
                    }
                    stack.push((node, true));
                    stack.extend(node.children().rev().map(|c| (c, false)));
                }
                _ => {}
            }
        }
        out.lines().map(squash).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
    }

    /// [`block_text`] with nothing left out.
    pub(crate) fn all_text(root: ElementRef<'_>) -> String {
        block_text(root, &|_| Walk::Enter)
    }

    /// A date written `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`, `YYYY年M月D日`
    /// or `YYYYMMDD`, the first one found in `s` ([`crate::date::ymd`]).
    pub(crate) fn find_ymd(s: &str) -> Option<NaiveDate> {
        crate::date::ymd(s)
    }

    /// Decodes the HTML entities of a text fragment (`&amp;`, `&#039;` ...).
    pub(crate) fn unescape(s: &str) -> String {
        if !s.contains('&') {
            return s.to_string();
        }
        let frag = scraper::Html::parse_fragment(&format!("<p>{}</p>", s.replace('<', "&lt;")));
        frag.root_element().text().collect()
    }

    /// Whether a link's path has an attachment extension ([`index::filetype`]).
    pub(crate) fn is_file_link(url: &Url) -> bool {
        index::filetype::has_attachment_extension(url.path())
    }

    /// Adds an attachment unless its URL is already there.
    pub(crate) fn push_attachment(list: &mut Vec<Attachment>, url: &Url, name: Option<String>) {
        let url = url.to_string();
        if !list.iter().any(|a| a.url == url) {
            list.push(Attachment::new(url, name.filter(|n| !n.is_empty())));
        }
    }

    /// Document numbers of all `texts`, in order, without repeats.
    pub(crate) fn doc_numbers<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in texts {
            index::docnum::merge(&mut out, index::docnum::extract(t));
        }
        out
    }

    /// Whether an answer looks like a Ruishu (瑞数) JavaScript challenge:
    /// the `$_ts` bootstrap or `r="m"`/`r='m'` scripts.
    pub(crate) fn has_ruishu_markers(text: &str) -> bool {
        text.contains("$_ts") || text.contains("r=\"m\"") || text.contains("r='m'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_build_their_sources_and_disabled_ones_are_left_out() {
        let default = SourceSettings::default();
        for name in Registry::builtin().names() {
            let source = by_name(name, &default).unwrap();
            assert_eq!(source.id().label().to_ascii_lowercase(), name);
            assert!(!source.start_requests().is_empty(), "{name}");
        }
        assert!(by_name("who", &default).is_none());
        assert_eq!(by_name(" NMPA ", &default).map(|s| s.id()), Some(index::Source::Nmpa));
        let mut settings = BTreeMap::new();
        settings.insert("fda".to_string(), SourceSettings { enabled: Some(false), ..Default::default() });
        let ids: Vec<index::Source> = all(&settings).iter().map(|s| s.id()).collect();
        assert_eq!(ids, [index::Source::Cnipa, index::Source::Cde, index::Source::Nmpa, index::Source::Eca]);
    }

    #[test]
    fn every_source_sends_the_cookie_and_says_how_to_get_unblocked() {
        let settings = SourceSettings { cookie: Some(" k=v ".into()), ..Default::default() };
        for name in Registry::builtin().names() {
            let source = by_name(name, &settings).unwrap();
            for r in source.start_requests() {
                assert!(r.headers.contains(&("Cookie".to_string(), "k=v".to_string())), "{name} {}", r.url);
            }
            let hint = source.unblock_hint().unwrap();
            assert!(hint.contains("[crawl"), "{name}: {hint}");
        }
    }

    #[test]
    fn no_source_panics_on_hostile_pages() {
        let inputs = [
            "",
            "\u{0}\u{feff}<<<>>>",
            "<datastore><recordset><record><![CDATA[<li><a href='http://[::1'>x</a><span>2020-99-99</span>",
            "{\"code\":200,\"data\":{\"records\":[{\"newsIdCode\":null,\"title\":[1]}],\"pages\":\"x\"}}",
            "[{\"title\":\"<a href='javascript:alert(1)'>x</a>\"},null,[]]",
            "<?xml version='1.0'?><rss><item><link>",
            "<rss><item><title>t</title><link/></item><entry><link href='/gmp-news/x'/></entry></rss>",
            &"<div>".repeat(5000),
            "<table class='sls'><td>文号：</td></table><meta name='ContentStart'/><a href='/attach/x.pdf'>",
        ];
        let url: Url = "https://www.example.org/a/index.html".parse().unwrap();
        for name in Registry::builtin().names() {
            let source = by_name(name, &SourceSettings::default()).unwrap();
            for (i, text) in inputs.iter().enumerate() {
                for status in [200, 202, 403, 412] {
                    let page = Page {
                        url: url.clone(),
                        final_url: url.clone(),
                        status,
                        content_type: None,
                        body: text.as_bytes().to_vec(),
                        text: text.to_string(),
                    };
                    let _ = source.is_challenge(&page);
                    let _ = source.parse_listing(&page);
                    let listed = DetailRef {
                        request: Request::get(url.clone(), PageKind::Detail),
                        title: Some(format!("t{i}")),
                        date: None,
                        changed: None,
                    };
                    if let Ok(n) = source.parse_detail(&page, &listed) {
                        assert!(!n.title.is_empty(), "{name} {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn base_url_rebases_defaults_and_start_urls_replace_them() {
        let base: Url = "http://127.0.0.1:8080".parse().unwrap();
        let rebased = by_name("fda", &SourceSettings { base_url: Some(base), ..Default::default() }).unwrap();
        assert_eq!(
            rebased.start_requests()[0].url.as_str(),
            "http://127.0.0.1:8080/files/api/datatables/static/search-for-guidance.json"
        );
        let start: Url = "http://127.0.0.2:9/gmp-news/latest-gmp-news".parse().unwrap();
        let replaced =
            by_name("eca", &SourceSettings { start_urls: vec![start.clone()], ..Default::default() }).unwrap();
        let urls: Vec<Url> = replaced.start_requests().into_iter().map(|r| r.url).collect();
        assert_eq!(urls, [start]);
    }

    #[test]
    fn block_text_keeps_blocks_apart_and_skips_scripts() {
        let doc = scraper::Html::parse_document(
            "<div><p>一 <b>二</b></p><script>var x;</script><p>三</p><div class='x'>四</div><p>停</p><p>五</p></div>",
        );
        let text = util::block_text(doc.root_element(), &|e| match (e.value().attr("class"), util::text(e).as_str()) {
            (Some("x"), _) => util::Walk::Skip,
            (_, "停") if e.value().name() == "p" => util::Walk::Stop,
            _ => util::Walk::Enter,
        });
        assert_eq!(text, "一 二\n三");
        assert_eq!(util::find_ymd("发布时间：2020年5月14日"), chrono::NaiveDate::from_ymd_opt(2020, 5, 14));
        assert_eq!(util::find_ymd("20200514"), chrono::NaiveDate::from_ymd_opt(2020, 5, 14));
        assert_eq!(util::find_ymd("2020-13-45"), None);
    }
}
