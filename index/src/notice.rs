//! The notice model: one regulatory notice, whether it came from a digest or
//! from a crawl.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::doctype::{DocType, Status};
use crate::error::{Error, Result};

/// The agency a notice comes from; the `source` facet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// China National Intellectual Property Administration (cnipa.gov.cn).
    Cnipa,
    /// Center for Drug Evaluation of the NMPA (cde.org.cn).
    Cde,
    /// National Medical Products Administration (nmpa.gov.cn).
    Nmpa,
    /// US Food and Drug Administration guidance documents (fda.gov).
    Fda,
    /// ECA Academy GMP news (gmp-compliance.org).
    Eca,
    /// Any other site, named by its host.
    Other(String),
}

impl Source {
    /// The five known sources, in display order.
    pub const KNOWN: [Source; 5] = [Source::Cnipa, Source::Cde, Source::Nmpa, Source::Fda, Source::Eca];

    /// The facet label: `CNIPA`, `CDE`, `NMPA`, `FDA`, `ECA` or `other/<host>`.
    pub fn label(&self) -> String {
        match self {
            Source::Other(host) => format!("other/{host}"),
            known => crate::agency::of(known).map(|a| a.label).unwrap_or_default().into(),
        }
    }

    /// The hosts of the agency's site ([`crate::agency::Agency::hosts`]); none for `Other`.
    pub fn hosts(&self) -> &'static [&'static str] {
        crate::agency::of(self).map_or(&[], |a| a.hosts)
    }

    /// The source a URL belongs to, by its host (`sbj.cnipa.gov.cn` is CNIPA).
    pub fn from_host(host: &str) -> Source {
        match crate::agency::by_host(host) {
            Some(a) => a.source.clone(),
            None => Source::Other(host.trim_end_matches('.').to_ascii_lowercase()),
        }
    }

    /// The source of a URL string; `None` when it has no host.
    pub fn from_url(url: &str) -> Option<Source> {
        let rest = url.split_once("://")?.1;
        let host = rest.split(['/', '?', '#']).next()?;
        let host = host.rsplit('@').next()?.split(':').next()?;
        (!host.is_empty()).then(|| Source::from_host(host))
    }

    /// Comma-separated list of the known labels, for error messages.
    pub fn known_list() -> String {
        let mut s: Vec<String> = Source::KNOWN.iter().map(Source::label).collect();
        s.push("other/<host>".into());
        s.join(", ")
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl FromStr for Source {
    type Err = Error;

    /// Parses a label case-insensitively; `other/<host>` keeps the host.
    fn from_str(s: &str) -> Result<Source> {
        let t = s.trim();
        Ok(match crate::agency::by_label(t) {
            Some(a) => a.source.clone(),
            None => match t.split_once('/') {
                Some((other, host))
                    if other.eq_ignore_ascii_case("other")
                        && !host.is_empty()
                        && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c)) =>
                {
                    Source::Other(host.to_ascii_lowercase())
                }
                _ => {
                    return Err(Error::UnknownSource { given: s.to_string(), known: Source::known_list() });
                }
            },
        })
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.label())
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Main language of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Chinese.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Guess: Chinese when at least a tenth of the letters are Han characters.
    pub fn detect(text: &str) -> Lang {
        let (mut han, mut letters) = (0usize, 0usize);
        for c in text.chars().take(4000) {
            if crate::analyzer::is_han(c) {
                han += 1;
                letters += 1;
            } else if c.is_alphabetic() {
                letters += 1;
            }
        }
        if letters == 0 || han * 10 >= letters { Lang::Zh } else { Lang::En }
    }
}

/// A file linked from a notice (.docx, .pdf, a download endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Absolute URL.
    pub url: String,
    /// Name as shown on the page, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What was read of the file, once downloaded (none: not downloaded yet,
    /// off the crawl's hosts, or attachments not fetched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<AttachmentFile>,
}

impl Attachment {
    /// A link to a file, not downloaded yet.
    pub fn new(url: impl Into<String>, name: Option<String>) -> Attachment {
        Attachment { url: url.into(), name, file: None }
    }

    /// The extracted text, when there is some.
    pub fn text(&self) -> Option<&str> {
        self.file.as_ref().and_then(|f| f.text.as_deref()).filter(|t| !t.is_empty())
    }

    /// The attachment as hits and listings show it: everything but the text
    /// (which can run to megabytes), with its length kept in `chars`.
    pub fn without_text(&self) -> Attachment {
        let mut a = self.clone();
        if let Some(f) = &mut a.file {
            f.text = None;
        }
        a
    }

    /// The name shown to a user: the link's text, else the URL's last segment.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ => self.url.rsplit('/').find(|s| !s.is_empty()).unwrap_or(&self.url).to_string(),
        }
    }
}

/// A downloaded attachment: its size and digest, the format found in its
/// bytes, and its text or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentFile {
    /// Bytes downloaded.
    pub size: u64,
    /// SHA-256 of the bytes (hex): the key of the kept copy in the data directory.
    pub sha256: String,
    /// Format found in the bytes (`pdf`, `docx`, `xls` ...).
    pub format: String,
    /// Content-Type the server sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The text, normalised to what a user types (absent in hits; see `chars`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Characters of text extracted (0 when none).
    #[serde(default)]
    pub chars: u64,
    /// Why the file gave no text although it was read (a scan, an unsupported format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_text: Option<String>,
    /// Why the file could not be read (malformed, encrypted, too large, a zip bomb ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the text was cut at the extraction's text cap.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Version of the extractors that read it (re-extraction when older).
    #[serde(default)]
    pub extractor: u32,
}

impl AttachmentFile {
    /// One word for listings: `text`, `no text` or `error`.
    pub fn state(&self) -> &'static str {
        if self.error.is_some() {
            "error"
        } else if self.chars > 0 {
            "text"
        } else {
            "no text"
        }
    }
}

/// Where a notice came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Origin {
    /// An item of a weekly digest.
    Digest {
        /// The digest's file name.
        file: String,
        /// Section path, e.g. `医药信息篇 / 国家级`.
        section: String,
        /// Item number within its section.
        item: u32,
        /// The date range the digest's section covers, e.g. 2020-05-11..2020-05-15.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period: Option<[NaiveDate; 2]>,
    },
    /// A crawled page.
    Crawl,
}

/// One regulatory notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Stable id: a hash of the canonical URL, or of digest + section + item.
    pub id: String,
    /// Canonical URL of the original page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Issuing source (facet).
    pub source: Source,
    /// Title.
    pub title: String,
    /// Full text (or the digest's summary when the page was never fetched).
    pub body: String,
    /// Publication date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<NaiveDate>,
    /// Document numbers as written (e.g. `国知战联办〔2020〕5号`, `2020年第62号`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doc_numbers: Vec<String>,
    /// Issuing agency as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// Main language.
    #[serde(default)]
    pub lang: Lang,
    /// Attachment links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Other pages linked as the notice's sources (e.g. a second URL in a digest item).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// Where it came from.
    pub origin: Origin,
    /// When the page was last fetched, for crawled notices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<DateTime<Utc>>,
    /// When this notice was first seen by `notices`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<DateTime<Utc>>,
    /// The page disappeared from the site (404/410 several runs in a row).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
    // The three below are written as null when unknown (every reader of the
    // JSON sees the fields), and default to unknown in notices stored before
    // they existed.
    /// What kind of document it is, when the source says.
    #[serde(default)]
    pub doc_type: Option<DocType>,
    /// Draft for comment or final, when the source says.
    #[serde(default)]
    pub status: Option<Status>,
    /// Last day comments are taken, when the notice names one.
    #[serde(default)]
    pub comment_close: Option<NaiveDate>,
}

impl Notice {
    /// The stable id of a notice known by its URL.
    pub fn id_for_url(url: &str) -> String {
        short_hash(&canonical_url(url))
    }

    /// The stable id of a digest item without a URL.
    pub fn id_for_digest_item(file: &str, section: &str, item: u32) -> String {
        short_hash(&format!("digest:{file}:{section}:{item}"))
    }

    /// A crawled notice known by its URL: id and canonical URL from `url`,
    /// language detected from title and body, every other field empty for
    /// the caller to fill. Every source builds its notices through this.
    pub fn crawled(source: Source, url: &str, title: impl Into<String>, body: impl Into<String>) -> Notice {
        let (title, body) = (title.into(), body.into());
        let url = canonical_url(url);
        let lang = Lang::detect(&format!("{title}\n{body}"));
        Notice {
            id: Notice::id_for_url(&url),
            url: Some(url),
            source,
            title,
            body,
            published: None,
            doc_numbers: Vec::new(),
            agency: None,
            lang,
            attachments: Vec::new(),
            links: Vec::new(),
            origin: Origin::Crawl,
            fetched_at: None,
            first_seen: None,
            withdrawn: false,
            doc_type: None,
            status: None,
            comment_close: None,
        }
    }

    /// Checks what indexing needs: an id and a title.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: &str| Err(Error::InvalidNotice { id: self.id.clone(), reason: reason.into() });
        if self.id.trim().is_empty() {
            return bad("empty id");
        }
        if self.title.trim().is_empty() {
            return bad("empty title");
        }
        Ok(())
    }

    /// A hash of the text that matters for change detection (title, body,
    /// date, document numbers, attachments), hex encoded.
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [self.title.as_str(), self.body.as_str()] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        if let Some(d) = self.published {
            h.update(d.to_string().as_bytes());
        }
        for n in &self.doc_numbers {
            h.update(n.as_bytes());
            h.update([0]);
        }
        for a in &self.attachments {
            h.update(a.url.as_bytes());
            h.update([0]);
            // Only once downloaded, so that a notice keeps the hash it had
            // before attachments were read; new text is a change.
            if let Some(f) = &a.file {
                h.update(format!("file:{}:", f.sha256).as_bytes());
                h.update(f.text.as_deref().unwrap_or_default().as_bytes());
                h.update(f.no_text.as_deref().or(f.error.as_deref()).unwrap_or_default().as_bytes());
                h.update([0]);
            }
        }
        // Only when known, so that a notice without them keeps the hash it
        // had before these fields existed; a draft becoming final is a change.
        if let Some(t) = self.doc_type {
            h.update(format!("type:{t}").as_bytes());
        }
        if let Some(s) = self.status {
            h.update(format!("status:{s}").as_bytes());
        }
        if let Some(d) = self.comment_close {
            h.update(format!("comments:{d}").as_bytes());
        }
        hex::encode(&h.finalize()[..16])
    }
}

impl Notice {
    /// Whether the notice belongs to the period `since..=until` (a digest's):
    /// by publication date, else by when it was first seen; an undated
    /// digest item belongs to its digest.
    pub fn in_period(&self, since: NaiveDate, until: NaiveDate) -> bool {
        if let Some(d) = self.published {
            return since <= d && d <= until;
        }
        // An undated digest item belongs to the week its digest covers; an
        // undated crawled notice to the day it was first seen.
        match (&self.origin, self.first_seen) {
            (Origin::Digest { period: Some([start, end]), .. }, _) => *start <= until && since <= *end,
            (Origin::Digest { period: None, .. }, _) => true,
            (Origin::Crawl, Some(seen)) => (since..=until).contains(&seen.date_naive()),
            (Origin::Crawl, None) => false,
        }
    }

    /// Whether the comment period is open on `day`: a closing date on or
    /// after it (a draft without a known date is not counted open).
    pub fn comments_open_on(&self, day: NaiveDate) -> bool {
        self.comment_close.is_some_and(|c| c >= day) && self.published.is_none_or(|p| p <= day)
    }

    /// Fills the document type, status and comment closing date this
    /// notice lacks from an earlier version of it: FDA's feed row knows the
    /// comment closing date, the guidance page that replaces it does not.
    /// A closing date is not kept once the notice says it is final.
    pub fn inherit_classification(&mut self, old: &Notice) {
        self.doc_type = self.doc_type.or(old.doc_type);
        let turned_final = self.status == Some(Status::Final) && old.status == Some(Status::Draft);
        self.status = self.status.or(old.status);
        if !turned_final {
            self.comment_close = self.comment_close.or(old.comment_close);
        }
    }
}

/// The URL with its fragment removed and scheme and host lowercased, so
/// that `HTTP://WWW.X.CN/a#top` and `http://www.x.cn/a` are one notice.
pub fn canonical_url(url: &str) -> String {
    let url = url.trim();
    let url = url.split('#').next().unwrap_or(url);
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = match rest.find(['/', '?']) {
                Some(i) => rest.split_at(i),
                None => (rest, "/"),
            };
            format!("{}://{}{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase(), path)
        }
        None => url.to_string(),
    }
}

fn short_hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_from_host_and_label_round_trip() {
        assert_eq!(Source::from_url("http://www.nmpa.gov.cn/WS04/CL2138/377442.html"), Some(Source::Nmpa));
        assert_eq!(Source::from_url("https://sbj.cnipa.gov.cn/sbj/tzgg/"), Some(Source::Cnipa));
        assert_eq!(Source::from_url("https://www.gmp-compliance.org/gmp-news/x"), Some(Source::Eca));
        assert_eq!(
            Source::from_url("http://jxj.beijing.gov.cn/jxdt/tzgg/202005/t20200514_1897545.html"),
            Some(Source::Other("jxj.beijing.gov.cn".into()))
        );
        for s in ["CNIPA", "cde", "Nmpa", "FDA", "eca", "other/www.sdtjpt.cn"] {
            let parsed: Source = s.parse().unwrap();
            assert!(parsed.label().eq_ignore_ascii_case(s));
        }
    }

    #[test]
    fn unknown_source_lists_known_ones() {
        let err = "WHO".parse::<Source>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("WHO") && msg.contains("CNIPA") && msg.contains("ECA"), "{msg}");
    }

    #[test]
    fn ids_are_stable_and_canonical() {
        assert_eq!(Notice::id_for_url("HTTP://WWW.X.CN/a#top"), Notice::id_for_url("http://www.x.cn/a"));
        assert_ne!(Notice::id_for_url("http://www.x.cn/a"), Notice::id_for_url("http://www.x.cn/b"));
        assert_eq!(Notice::id_for_url("http://a.cn/x").len(), 16);
    }

    #[test]
    fn language_detection() {
        assert_eq!(Lang::detect("国家药监局关于开展化学药品注射剂"), Lang::Zh);
        assert_eq!(Lang::detect("COVID-19: Developing Drugs and Biological Products"), Lang::En);
        assert_eq!(Lang::detect("FDA发布 COVID-19：开发用于治疗或预防的药物"), Lang::Zh);
    }
}
