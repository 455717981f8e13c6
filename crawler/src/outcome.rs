//! What became of one page of a crawl, typed: the engine decides on these,
//! not on the wording of an error message.

use url::Url;

use crate::sources::Page;

/// How a site refused the crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    /// A JavaScript challenge page (NMPA's 412/202 `$_ts` page, CDE's 202).
    Script,
    /// A 403 wall (ECA's).
    Forbidden,
    /// A redirect to an apology or bot-check page (FDA's).
    Redirect,
}

/// An anti-bot answer, never parsed as content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Which kind of wall.
    pub kind: ChallengeKind,
    /// HTTP status of the answer.
    pub status: u16,
    /// Where a redirect led, for [`ChallengeKind::Redirect`].
    pub redirected_to: Option<Url>,
    /// What the user can do about it ([`crate::sources::Source::unblock_hint`]).
    pub hint: Option<String>,
    /// What the headless browser made of it, when the source's fetch mode
    /// let it try ([`crate::browser`]).
    pub browser: Option<BrowserVerdict>,
}

/// Why a challenge stands although the source may use the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserVerdict {
    /// The browser ran the page's scripts and the challenge was still
    /// there when its time was up.
    NotCleared {
        /// How long it waited, in seconds.
        waited_secs: u64,
    },
    /// No browser could be used (none installed, it would not start, it
    /// crashed): the plain answer stands.
    Unavailable(String),
}

impl Challenge {
    /// The challenge a source recognised in `page`.
    pub fn of(page: &Page, hint: Option<String>) -> Challenge {
        let redirected = page.final_url != page.url;
        let kind = if redirected {
            ChallengeKind::Redirect
        } else if page.status == 403 {
            ChallengeKind::Forbidden
        } else {
            ChallengeKind::Script
        };
        Challenge {
            kind,
            status: page.status,
            redirected_to: redirected.then(|| page.final_url.clone()),
            hint,
            browser: None,
        }
    }

    /// The reason shown in the crawl report.
    pub fn reason(&self) -> String {
        let wall = match &self.redirected_to {
            Some(to) => format!("challenged: redirected to {to} (HTTP {}), an anti-bot page, not parsed", self.status),
            None => format!("challenged: HTTP {} anti-bot page, not parsed", self.status),
        };
        match &self.browser {
            None => wall,
            Some(BrowserVerdict::NotCleared { waited_secs }) => {
                format!("{wall}; the browser waited {waited_secs} s and the challenge did not clear")
            }
            Some(BrowserVerdict::Unavailable(why)) => format!("{wall}; no browser to pass it: {why}"),
        }
    }
}

/// What became of one page (a listing, a notice's page or an attachment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOutcome {
    /// Fetched and read; `changed` when its content differs from last time.
    Fetched {
        /// Whether what it says changed.
        changed: bool,
    },
    /// 304: the copy from last time stands.
    NotModified,
    /// The site blocked the crawl.
    Challenged(Challenge),
    /// 404 / 410: the page is gone (counts towards withdrawing its notice).
    Gone {
        /// 404 or 410.
        status: u16,
        /// The report's wording.
        reason: String,
    },
    /// Anything else that went wrong: a timeout, a 5xx, a page that cannot be read.
    Failed {
        /// Why.
        reason: String,
    },
    /// robots.txt forbids it; never requested.
    Disallowed {
        /// robots.txt's rule.
        reason: String,
    },
}

/// [`PageOutcome::name`] of a challenge, as kept in the crawl state.
pub const CHALLENGED: &str = "challenged";

impl PageOutcome {
    /// A short name, kept in the crawl state with the URL.
    pub fn name(&self) -> &'static str {
        match self {
            PageOutcome::Fetched { .. } => "fetched",
            PageOutcome::NotModified => "not_modified",
            PageOutcome::Challenged(_) => CHALLENGED,
            PageOutcome::Gone { .. } => "gone",
            PageOutcome::Failed { .. } => "failed",
            PageOutcome::Disallowed { .. } => "disallowed",
        }
    }

    /// The outcome with the browser's verdict on a challenge attached
    /// (other outcomes are left as they are).
    pub fn seen_by_browser(self, verdict: Option<BrowserVerdict>) -> PageOutcome {
        match (self, verdict) {
            (PageOutcome::Challenged(c), Some(v)) => {
                // Without a browser, what to install comes before the source's own advice.
                let hint = match (&v, c.hint) {
                    (BrowserVerdict::Unavailable(why), Some(h)) => Some(format!("{why}. Meanwhile: {h}")),
                    (BrowserVerdict::Unavailable(why), None) => Some(why.clone()),
                    (_, hint) => hint,
                };
                PageOutcome::Challenged(Challenge { browser: Some(v), hint, ..c })
            }
            (outcome, _) => outcome,
        }
    }

    /// Why the page did not give its content, `None` when it did (or stood).
    pub fn error(&self) -> Option<String> {
        match self {
            PageOutcome::Fetched { .. } | PageOutcome::NotModified => None,
            PageOutcome::Challenged(c) => Some(c.reason()),
            PageOutcome::Gone { reason, .. } | PageOutcome::Failed { reason } => Some(reason.clone()),
            PageOutcome::Disallowed { reason } => Some(format!("robots: {reason}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(url: &str, final_url: &str, status: u16) -> Page {
        Page {
            url: url.parse().unwrap(),
            final_url: final_url.parse().unwrap(),
            status,
            content_type: None,
            body: Vec::new(),
            text: String::new(),
        }
    }

    #[test]
    fn challenges_are_told_apart_and_worded_for_the_report() {
        let c = Challenge::of(&page("http://a.cn/x", "http://a.cn/x", 412), None);
        assert_eq!(
            (c.kind, c.reason().as_str()),
            (ChallengeKind::Script, "challenged: HTTP 412 anti-bot page, not parsed")
        );
        assert_eq!(Challenge::of(&page("http://a.cn/x", "http://a.cn/x", 403), None).kind, ChallengeKind::Forbidden);
        let r = Challenge::of(&page("http://a.cn/x", "http://a.cn/sorry", 200), Some("hint".into()));
        assert_eq!(r.kind, ChallengeKind::Redirect);
        assert!(r.reason().contains("redirected to http://a.cn/sorry"));
        assert_eq!(PageOutcome::Challenged(r).name(), CHALLENGED);
        assert_eq!(PageOutcome::NotModified.error(), None);
        assert_eq!(PageOutcome::Disallowed { reason: "/x".into() }.error().unwrap(), "robots: /x");
    }

    #[test]
    fn the_browser_verdict_goes_with_a_challenge_only() {
        let c = Challenge::of(&page("http://a.cn/x", "http://a.cn/x", 412), None);
        let seen = PageOutcome::Challenged(c).seen_by_browser(Some(BrowserVerdict::NotCleared { waited_secs: 30 }));
        assert_eq!(
            seen.error().unwrap(),
            "challenged: HTTP 412 anti-bot page, not parsed; the browser waited 30 s and the challenge did not clear"
        );
        let fetched = PageOutcome::Fetched { changed: true };
        assert_eq!(fetched.clone().seen_by_browser(Some(BrowserVerdict::Unavailable("x".into()))), fetched);
    }
}
