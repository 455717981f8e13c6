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

/// The registered source that recognises this page (of unknown origin) as
/// its challenge, if any.
fn anyones_challenge(saved: &SavedPage) -> Option<Facet> {
    let default = SourceSettings::default();
    sources::SOURCES.iter().map(|d| (d.build)(&default)).find(|s| s.is_challenge(&saved.page)).map(|s| s.id())
}

/// A challenge page holds next to no text; a real page of one site can
/// look like another site's challenge to that site's test (NMPA's notices
/// carry the same injected scripts as CDE's challenge), so a page of
/// unknown origin must be nearly empty too.
const CHALLENGE_MAX_CHARS: usize = 50;

fn challenge_refusal(facet: &Facet) -> Reason {
    Reason::Challenge(format!(
        "{facet}'s anti-bot page was saved; open the notice in a browser, wait for it to show, then save it"
    ))
}

/// Extracts the notice of a saved page, or refuses it (a challenge page, a
/// page with nothing to index).
pub fn to_notice(saved: SavedPage) -> Result<SavedNotice, Refusal> {
    let refuse = |reason| Refusal { origin: saved.origin.clone(), reason };
    let source = saved.url.as_ref().and_then(source_for);
    if let Some(source) = &source
        && source.is_challenge(&saved.page)
    {
        return Err(refuse(challenge_refusal(&source.id())));
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
    let extracted = extracted.ok().filter(|n| !(n.title.trim().is_empty() && n.body.trim().is_empty()));
    if source.is_none()
        && extracted.as_ref().is_none_or(|n| n.body.chars().count() < CHALLENGE_MAX_CHARS)
        && let Some(facet) = anyones_challenge(&saved)
    {
        return Err(refuse(challenge_refusal(&facet)));
    }
    let mut notice = extracted.ok_or_else(|| refuse(Reason::Empty))?;
    if saved.url.is_none() {
        notice.source = Facet::Other(UNKNOWN_URL_SOURCE.into());
        warnings.push(format!(
            "{}: no original URL found (no \"saved from url\" comment, canonical link or og:url); indexed as other/{UNKNOWN_URL_SOURCE} under {}",
            saved.origin, saved.page.url
        ));
    }
    notice.fetched_at = saved.fetched_at.or(notice.fetched_at);
    Ok(SavedNotice { notice, attachments: saved.attachments, origin: saved.origin, url_from: saved.url_from, warnings })
}

impl SavedNotice {
    /// Reads the archived files the page links (an .mhtml's or a WARC's
    /// attachments) into the notice's attachments, under `limits`, keeping
    /// copies in `kept`: the same reading a crawl gives a downloaded file.
    /// Returns how many gave text.
    pub fn read_files(&mut self, limits: &extract::Limits, kept: &crate::attachments::KeptFiles) -> usize {
        let mut with_text = 0;
        for f in &self.attachments {
            let same = |a: &index::Attachment| url::Url::parse(&a.url).is_ok_and(|u| u == f.url);
            let Some(a) = self.notice.attachments.iter_mut().find(|a| same(a)) else { continue };
            let sha = crate::attachments::sha256(&f.bytes);
            let got = extract::extract_capped(f.bytes.clone(), f.url.as_str(), f.content_type.as_deref(), limits);
            let file = crate::attachments::read(&f.bytes, &sha, f.content_type.as_deref(), got);
            kept.keep(&f.bytes, &file);
            with_text += usize::from(file.chars > 0);
            a.file = Some(file);
        }
        with_text
    }
}

/// Every notice under `path` (a file or a folder), read and extracted
/// lazily, with the refusals in between, in the order the files are read.
pub fn notices(path: &std::path::Path) -> impl Iterator<Item = Result<SavedNotice, Refusal>> {
    super::read(path).map(|item| match item {
        super::Item::Page(page) => to_notice(*page),
        super::Item::Refused(r) => Err(r),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const NMPA_PAGE: &str = include_str!("../../tests/fixtures/nmpa/xxgk/ggtg/qtggtg/20200514170101220.html");
    const NMPA_CHALLENGE: &str = include_str!("../../tests/fixtures/nmpa/challenge-412.html");

    fn saved(text: &str) -> SavedPage {
        super::super::html::saved_page(Path::new("/tmp/x.html"), text.as_bytes(), None)
    }

    #[test]
    fn a_challenge_is_refused_with_or_without_its_url() {
        let with = format!("<!-- saved from url=(0032)https://www.nmpa.gov.cn/x/1.html -->{NMPA_CHALLENGE}");
        let r = to_notice(saved(&with)).unwrap_err();
        assert!(matches!(&r.reason, Reason::Challenge(m) if m.starts_with("NMPA")), "{r}");
        let r = to_notice(saved(NMPA_CHALLENGE)).unwrap_err();
        assert!(matches!(r.reason, Reason::Challenge(_)), "{r}");
    }

    #[test]
    fn a_real_page_of_unknown_origin_is_not_taken_for_a_challenge() {
        // NMPA's injected scripts look like CDE's challenge to CDE's test.
        let n = to_notice(saved(NMPA_PAGE)).unwrap();
        assert_eq!(n.notice.source, Facet::Other(UNKNOWN_URL_SOURCE.into()));
        assert!(n.notice.body.contains("注射剂一致性评价"), "{}", n.notice.body);
        assert!(n.warnings.iter().any(|w| w.contains("/tmp/x.html")), "{:?}", n.warnings);
    }

    #[test]
    fn a_page_with_nothing_in_it_is_refused() {
        let r = to_notice(saved("<html><head></head><body> </body></html>")).unwrap_err();
        assert_eq!(r.reason, Reason::Empty);
    }
}
