//! One browser tab per host: navigations that wait for a challenge to
//! clear, requests run inside the page, and the tab's cookies.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::cdp::browser_protocol::network::{
    self, Cookie, EventResponseReceived, GetCookiesParams, ResourceType,
};
use chromiumoxide::cdp::browser_protocol::page::NavigateParams;
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use futures::StreamExt;
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use crate::sources::Page;

/// Between two looks at a page whose challenge is running.
const POLL: Duration = Duration::from_millis(100);

/// The last document response the tab received (a challenge's reload
/// replaces the 412 with the real page's 200).
#[derive(Debug, Clone, Default)]
struct DocResponse {
    status: u16,
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    content_type: Option<String>,
}

/// What a navigation or an in-page request gave.
#[derive(Debug)]
pub struct Loaded {
    /// The page as the extractors see it: the DOM after scripts ran, or
    /// the in-page request's answer.
    pub page: Page,
    /// ETag of the document response, if any.
    pub etag: Option<String>,
    /// Last-Modified of the document response, if any.
    pub last_modified: Option<String>,
    /// Whether the challenge was still there when the time was up.
    pub still_challenged: bool,
}

/// Why a tab could not load a page.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TabError {
    /// The DevTools connection failed (the browser crashed, was killed, or hung).
    #[error("browser: {0}")]
    Cdp(String),
    /// The navigation itself failed (DNS, refused connection ...).
    #[error("browser navigation failed: {0}")]
    Navigation(String),
}

fn cdp(e: chromiumoxide::error::CdpError) -> TabError {
    TabError::Cdp(e.to_string())
}

/// A tab and the tasks listening to it.
#[derive(Debug)]
pub struct Tab {
    page: chromiumoxide::Page,
    last_doc: Arc<Mutex<Option<DocResponse>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Requests refused by interception (images, fonts, stylesheets, media).
    pub refused: Arc<AtomicU64>,
}

impl Drop for Tab {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Tab {
    /// A new blank tab of `browser`, heavy resources blocked.
    pub async fn open(browser: &chromiumoxide::Browser) -> Result<Tab, TabError> {
        let page = browser.new_page("about:blank").await.map_err(cdp)?;
        page.execute(network::EnableParams::default()).await.map_err(cdp)?;
        let mut responses = page.event_listener::<EventResponseReceived>().await.map_err(cdp)?;
        let last_doc: Arc<Mutex<Option<DocResponse>>> = Arc::default();
        let slot = last_doc.clone();
        let listener = tokio::spawn(async move {
            while let Some(ev) = responses.next().await {
                if ev.r#type != ResourceType::Document {
                    continue;
                }
                let r = &ev.response;
                let header = |name: &str| {
                    r.headers.inner().as_object().and_then(|h| {
                        h.iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(name))
                            .and_then(|(_, v)| v.as_str())
                            .map(str::to_string)
                    })
                };
                let doc = DocResponse {
                    status: u16::try_from(r.status).unwrap_or(0),
                    url: r.url.clone(),
                    etag: header("etag"),
                    last_modified: header("last-modified"),
                    content_type: header("content-type").or_else(|| Some(r.mime_type.clone())),
                };
                if let Ok(mut s) = slot.lock() {
                    *s = Some(doc);
                }
            }
        });
        let (blocker, refused) = super::intercept::block_heavy_resources(&page).await.map_err(cdp)?;
        Ok(Tab { page, last_doc, tasks: vec![listener, blocker], refused })
    }

    fn take_doc(&self) -> Option<DocResponse> {
        self.last_doc.lock().ok().and_then(|s| s.clone())
    }

    fn clear_doc(&self) {
        if let Ok(mut s) = self.last_doc.lock() {
            *s = None;
        }
    }

    /// Evaluates `expr` in the page's current document, awaiting a promise,
    /// and returns its value (`None` while the document is being replaced).
    async fn eval(&self, expr: &str) -> Result<Option<Value>, TabError> {
        let params = EvaluateParams::builder()
            .expression(expr)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .map_err(TabError::Cdp)?;
        match self.page.execute(params).await {
            Ok(r) if r.result.exception_details.is_none() => Ok(r.result.result.value.clone()),
            Ok(_) => Ok(None),
            // A reload in progress destroys the context the call was made in.
            Err(e) if e.to_string().contains("context") => Ok(None),
            Err(e) => Err(cdp(e)),
        }
    }

    /// The page now in the tab, once loaded and once its document response is known.
    async fn snapshot(&self, asked: &Url) -> Result<Option<(Page, DocResponse)>, TabError> {
        let js = "document.readyState === 'complete' ? JSON.stringify({u: location.href, h: document.documentElement ? document.documentElement.outerHTML : '', t: document.contentType}) : null";
        let Some(Value::String(json)) = self.eval(js).await? else { return Ok(None) };
        let Some(doc) = self.take_doc() else { return Ok(None) };
        let v: Value = serde_json::from_str(&json).map_err(|e| TabError::Cdp(e.to_string()))?;
        let html = v.get("h").and_then(Value::as_str).unwrap_or_default().to_string();
        let final_url = v
            .get("u")
            .and_then(Value::as_str)
            .and_then(|u| Url::parse(u).ok())
            // An error page (a 404 without a body, a refused connection) is
            // the address asked for, not Chromium's own.
            .filter(|u| u.scheme() != "chrome-error")
            .or_else(|| Url::parse(&doc.url).ok())
            .unwrap_or_else(|| asked.clone());
        let page = Page {
            url: asked.clone(),
            final_url,
            status: doc.status,
            content_type: doc.content_type.clone().or_else(|| v.get("t").and_then(Value::as_str).map(str::to_string)),
            body: html.clone().into_bytes(),
            text: html,
        };
        Ok(Some((page, doc)))
    }

    /// Navigates to `url` and waits until the page is loaded and is no
    /// challenge (`is_challenge`), or `deadline`: then the challenge page is
    /// returned, marked `still_challenged`.
    pub async fn navigate(
        &self,
        url: &Url,
        deadline: Instant,
        is_challenge: &(dyn Fn(&Page) -> bool + Sync),
    ) -> Result<Loaded, TabError> {
        self.clear_doc();
        let nav = tokio::time::timeout_at(deadline, self.page.execute(NavigateParams::new(url.to_string()))).await;
        match nav {
            Ok(Ok(r)) => {
                if let Some(err) = r.result.error_text.clone().filter(|e| !e.is_empty()) {
                    // A refused connection or DNS failure, not a challenge.
                    if self.take_doc().is_none() {
                        return Err(TabError::Navigation(err));
                    }
                }
            }
            // chromiumoxide may give up waiting on a page that reloads itself;
            // the polling below sees what the tab ends up showing.
            Ok(Err(e)) if !is_fatal(&e) => tracing::debug!(%url, error = %e, "navigation wait"),
            Ok(Err(e)) => return Err(cdp(e)),
            Err(_) => {}
        }
        self.settle(url, deadline, is_challenge).await
    }

    async fn settle(
        &self,
        asked: &Url,
        deadline: Instant,
        is_challenge: &(dyn Fn(&Page) -> bool + Sync),
    ) -> Result<Loaded, TabError> {
        let mut last: Option<(Page, DocResponse)> = None;
        loop {
            if let Some((page, doc)) = self.snapshot(asked).await? {
                if !is_challenge(&page) {
                    return Ok(Loaded {
                        page,
                        etag: doc.etag,
                        last_modified: doc.last_modified,
                        still_challenged: false,
                    });
                }
                last = Some((page, doc));
            }
            if Instant::now() + POLL >= deadline {
                return match last {
                    Some((page, doc)) => {
                        Ok(Loaded { page, etag: doc.etag, last_modified: doc.last_modified, still_challenged: true })
                    }
                    None => Err(TabError::Navigation(format!("{asked} did not finish loading in time"))),
                };
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Whether the tab shows a page of `url`'s origin that is no challenge.
    async fn on_origin(&self, url: &Url, is_challenge: &(dyn Fn(&Page) -> bool + Sync)) -> Result<bool, TabError> {
        let Some((page, _)) = self.snapshot(url).await? else { return Ok(false) };
        Ok(page.final_url.origin() == url.origin() && !is_challenge(&page))
    }

    /// POSTs `form` to `url` from inside a page of its site (`shell`, the
    /// page the site's own scripts make that request from), with
    /// XMLHttpRequest, so that whatever the site's scripts add to their own
    /// requests (a signature header, a URL token) is added to this one.
    pub async fn post_in_page(
        &self,
        shell: &Url,
        url: &Url,
        form: &[(String, String)],
        deadline: Instant,
        is_challenge: &(dyn Fn(&Page) -> bool + Sync),
    ) -> Result<Loaded, TabError> {
        if !self.on_origin(url, is_challenge).await? {
            let loaded = self.navigate(shell, deadline, is_challenge).await?;
            if loaded.still_challenged {
                return Ok(Loaded { page: Page { url: url.clone(), ..loaded.page }, ..loaded });
            }
        }
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let js = format!(
            r#"new Promise(resolve => {{
  const x = new XMLHttpRequest();
  x.open('POST', {url});
  x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8');
  x.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
  x.onload = () => resolve(JSON.stringify({{s: x.status, u: x.responseURL, t: x.getResponseHeader('content-type'), b: x.responseText}}));
  x.onerror = () => resolve(JSON.stringify({{s: 0, b: ''}}));
  x.send({body});
}})"#,
            url = Value::String(url.to_string()),
            body = Value::String(body),
        );
        let answer = tokio::time::timeout_at(deadline, self.eval(&js))
            .await
            .map_err(|_| TabError::Navigation(format!("in-page request to {url} timed out")))??;
        let Some(Value::String(json)) = answer else {
            return Err(TabError::Navigation(format!("in-page request to {url} gave no answer")));
        };
        let v: Value = serde_json::from_str(&json).map_err(|e| TabError::Cdp(e.to_string()))?;
        let status = v.get("s").and_then(Value::as_u64).unwrap_or(0) as u16;
        if status == 0 {
            return Err(TabError::Navigation(format!("in-page request to {url} failed")));
        }
        let text = v.get("b").and_then(Value::as_str).unwrap_or_default().to_string();
        let final_url =
            v.get("u").and_then(Value::as_str).and_then(|u| Url::parse(u).ok()).unwrap_or_else(|| url.clone());
        let page = Page {
            url: url.clone(),
            final_url,
            status,
            content_type: v.get("t").and_then(Value::as_str).map(str::to_string),
            body: text.clone().into_bytes(),
            text,
        };
        let still_challenged = is_challenge(&page);
        Ok(Loaded { page, etag: None, last_modified: None, still_challenged })
    }

    /// The cookies the browser holds for `url` (HttpOnly ones included).
    pub async fn cookies(&self, url: &Url) -> Result<Vec<Cookie>, TabError> {
        let params = GetCookiesParams::builder().urls(vec![url.to_string()]).build();
        Ok(self.page.execute(params).await.map_err(cdp)?.result.cookies.clone())
    }
}

/// Whether a DevTools error means the browser is gone rather than one call failing.
pub(crate) fn is_fatal(e: &chromiumoxide::error::CdpError) -> bool {
    use chromiumoxide::error::CdpError;
    matches!(e, CdpError::Ws(_) | CdpError::ChannelSendError(_) | CdpError::Io(_) | CdpError::NoResponse)
}
