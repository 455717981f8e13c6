//! A saved page through the same extractor as a crawled page.
//!
//! The source is the one the original URL's host belongs to (the registry
//! in [`crate::sources`]); its `is_challenge` refuses a saved challenge
//! page and its `parse_detail` makes the notice, exactly as after a fetch.
//! A page on another host gets generic extraction and `other/<host>`; a
//! page whose URL could not be found gets generic extraction under
//! `other/saved` (its id from its `file://` URL) and a warning.

use index::{Notice, Source as Facet};

use super::{Reason, Refusal, SavedFile, SavedPage, UrlEvidence};
use crate::sources::{self, DetailRef, PageKind, Request, Source, SourceSettings, generic};

/// The `other/…` name of pages whose original URL is unknown.
pub const UNKNOWN_URL_SOURCE: &str = "saved";

/// A saved page made into a notice.
#[derive(Debug, Clone)]
pub struct SavedNotice {
    /// The notice, as a crawl of its URL would have made it.
    pub notice: Notice,
    /// The archived files the page links (attachments).
    pub attachments: Vec<SavedFile>,
    /// Where it was read from.
    pub origin: String,
    /// Where its URL came from.
    pub url_from: UrlEvidence,
    /// Things the user should know (no URL found, fallback extraction).
    pub warnings: Vec<String>,
}

/// The registered source for a URL's host, if any.
fn source_for(url: &url::Url) -> Option<Box<dyn Source>> {
    let facet = Facet::from_host(url.host_str()?);
    if matches!(facet, Facet::Other(_)) {
        return None;
    }
    sources::by_name(&facet.label(), &SourceSettings::default())
}

/// The source whose challenge this page is, if it is one: the page's own
/// source, or for a page of unknown origin any registered source.
fn challenge_of(saved: &SavedPage, own: Option<&dyn Source>) -> Option<Facet> {
    if let Some(source) = own {
        return source.is_challenge(&saved.page).then(|| source.id());
    }
    let default = SourceSettings::default();
    sources::NAMES
        .iter()
        .filter_map(|n| sources::by_name(n, &default))
        .find(|s| s.is_challenge(&saved.page))
        .map(|s| s.id())
}

/// Extracts the notice of a saved page, or refuses it (a challenge page, a
/// page with nothing to index).
pub fn to_notice(saved: SavedPage) -> Result<SavedNotice, Refusal> {
    let refuse = |reason| Refusal { origin: saved.origin.clone(), reason };
    let source = saved.url.as_ref().and_then(source_for);
    if let Some(facet) = challenge_of(&saved, source.as_deref()) {
        return Err(refuse(Reason::Challenge(format!(
            "{facet}'s anti-bot page was saved; open the notice in a browser, wait for it to show, then save it"
        ))));
    }
    let listed = DetailRef {
        request: Request::get(saved.page.url.clone(), PageKind::Detail),
        title: None,
        date: None,
        changed: None,
    };
    let mut warnings = Vec::new();
    let extracted = match &source {
        Some(source) => source.parse_detail(&saved.page, &listed).or_else(|e| {
            warnings.push(format!("{}: {e}; read with generic extraction instead", saved.origin));
            generic::notice_from_page(&saved.page, &listed)
        }),
        None => generic::notice_from_page(&saved.page, &listed),
    };
    let mut notice = extracted.map_err(|_| refuse(Reason::Empty))?;
    if notice.title.trim().is_empty() && notice.body.trim().is_empty() {
        return Err(refuse(Reason::Empty));
    }
    if saved.url.is_none() {
        notice.source = Facet::Other(UNKNOWN_URL_SOURCE.into());
        warnings.push(format!(
            "{}: no original URL found (no \"saved from url\" comment, canonical link or og:url); indexed as other/{UNKNOWN_URL_SOURCE} under {}",
            saved.origin, saved.page.url
        ));
    }
    notice.fetched_at = saved.fetched_at.or(notice.fetched_at);
    Ok(SavedNotice {
        notice,
        attachments: saved.attachments,
        origin: saved.origin,
        url_from: saved.url_from,
        warnings,
    })
}

/// Every notice under `path` (a file or a folder), read and extracted
/// lazily, with the refusals in between, in the order the files are read.
pub fn notices(path: &std::path::Path) -> impl Iterator<Item = Result<SavedNotice, Refusal>> {
    super::read(path).map(|item| match item {
        super::Item::Page(page) => to_notice(*page),
        super::Item::Refused(r) => Err(r),
    })
}
