//! Loopback fixture sites whose challenges really need JavaScript, in the
//! image of NMPA and CDE (axum, one thread and runtime of their own, so
//! they serve a `#[tokio::test]`, a plain `#[test]` and a child process).
//!
//! - [`Nmpa`]: every page without a valid token cookie answers HTTP 412 with
//!   a page whose script computes the token from a per-request nonce (a
//!   200 000-round FNV loop), sets it as a cookie and reloads; the server
//!   also sets an HttpOnly cookie holding the nonce (as Ruishu's `…S`
//!   cookie), and checks both. With a valid pair it serves the NMPA
//!   fixture pages with ETags and answers `If-None-Match` with 304.
//! - [`Cde`]: the list endpoint refuses (an HTML `$_ts` page, as CDE's WAF)
//!   any POST without an `X-Sign` header, which the list shell's script adds
//!   to the page's XMLHttpRequests from a nonce and the request body; details
//!   are plain pages.
//!
//! Use from other test crates with
//! `#[path = "../crawler/tests/challenge_sites/mod.rs"] mod challenge_sites;`.
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// FNV rounds of the NMPA-like token: enough to be real work for a script.
pub const ROUNDS: u32 = 200_000;

/// The token the challenge script computes from `nonce`.
pub fn token(nonce: &str) -> String {
    let b = nonce.as_bytes();
    let mut h: u32 = 2_166_136_261;
    for i in 0..ROUNDS {
        let c = u32::from(b[(i as usize) % b.len()]);
        h = (h ^ (c.wrapping_add(i) & 255)).wrapping_mul(16_777_619);
    }
    format!("{h:x}")
}

/// The signature the CDE-like shell's script adds to a request body.
pub fn sign(body: &str, nonce: &str) -> String {
    let mut h: u32 = 2_166_136_261;
    for c in format!("{body}{nonce}").encode_utf16() {
        h = (h ^ u32::from(c)).wrapping_mul(16_777_619);
    }
    format!("{h:x}")
}

/// The crawler's fixtures, from this crate or from the workspace root
/// (where the binary's tests include this module).
fn fixtures(dir: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let crawler = if root.join("crawler/tests/fixtures").is_dir() { root.join("crawler") } else { root };
    crawler.join("tests/fixtures").join(dir)
}

fn nonce() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn etag_of(body: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// What a fixture site counted.
#[derive(Debug, Default)]
pub struct Counters {
    /// Every request (robots.txt included).
    pub requests: AtomicU64,
    /// Challenges served (412 pages, refused list POSTs).
    pub challenges: AtomicU64,
    /// Real pages served (200).
    pub pages: AtomicU64,
    /// 304 answers.
    pub not_modified: AtomicU64,
    /// Requests that carried `If-None-Match`.
    pub conditional: AtomicU64,
    /// Requests for stylesheets, images and fonts (the browser blocks them).
    pub assets: AtomicU64,
    /// Requests that carried a valid token (a browser's, or the plain client's with harvested cookies).
    pub with_token: AtomicU64,
    /// Requests with a valid token that did not come from a browser (User-Agent without Chrome).
    pub plain_with_token: AtomicU64,
    /// List POSTs accepted with a valid signature.
    pub signed: AtomicU64,
}

impl Counters {
    /// A counter's value.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::SeqCst)
    }
}

struct Inner {
    kind: Kind,
    issued: Mutex<HashSet<String>>,
    counters: Counters,
    never_clears: bool,
    delay: Duration,
    /// Pages served without any challenge (a plain-HTTP baseline).
    open: bool,
    /// Details of the generated `/bench/index.html` listing.
    bench: usize,
    log: Mutex<Vec<String>>,
}

impl Inner {
    fn new(kind: Kind, never_clears: bool, delay: Duration) -> Inner {
        Inner {
            kind,
            issued: Mutex::new(HashSet::new()),
            counters: Counters::default(),
            never_clears,
            delay,
            open: false,
            bench: 0,
            log: Mutex::new(Vec::new()),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Nmpa,
    Cde,
}

/// A running fixture site.
pub struct Site {
    inner: Arc<Inner>,
    addr: std::net::SocketAddr,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl Site {
    /// The NMPA-like site on 127.0.0.1; `never_clears`: its challenge
    /// script sets a wrong token (the challenge comes back for ever);
    /// `delay`: each real page is answered after this long.
    pub fn nmpa(never_clears: bool, delay: Duration) -> Site {
        Site::start(Inner::new(Kind::Nmpa, never_clears, delay))
    }

    /// The NMPA-like site with a generated listing `/bench/index.html` of
    /// `details` notices (each a copy of one fixture detail page), behind
    /// the challenge or (`open`) not.
    pub fn nmpa_bench(details: usize, open: bool) -> Site {
        let mut inner = Inner::new(Kind::Nmpa, false, Duration::ZERO);
        inner.bench = details;
        inner.open = open;
        Site::start(inner)
    }

    /// The CDE-like site on 127.0.0.1.
    pub fn cde() -> Site {
        Site::start(Inner::new(Kind::Cde, false, Duration::ZERO))
    }

    fn start(inner: Inner) -> Site {
        let inner = Arc::new(inner);
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let state = inner.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new().fallback(handle).with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Site { inner, addr, _shutdown: stop_tx }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An absolute URL on the site.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// A counter's value, by name.
    pub fn count(&self, f: impl Fn(&Counters) -> &AtomicU64) -> u64 {
        Counters::get(f(&self.inner.counters))
    }

    /// `METHOD path STATUS` of every request, in order.
    pub fn log(&self) -> Vec<String> {
        self.inner.log.lock().unwrap().clone()
    }
}

async fn handle(State(site): State<Arc<Inner>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let path = parts.uri.path().to_string();
    let c = &site.counters;
    c.requests.fetch_add(1, Ordering::SeqCst);
    let resp = if path == "/robots.txt" {
        ([(header::CONTENT_TYPE, "text/plain")], "User-agent: *\nAllow: /\n").into_response()
    } else if [".css", ".png", ".jpg", ".gif", ".woff", ".woff2"].iter().any(|e| path.ends_with(e)) {
        c.assets.fetch_add(1, Ordering::SeqCst);
        StatusCode::NOT_FOUND.into_response()
    } else if path.ends_with(".js") {
        StatusCode::NOT_FOUND.into_response()
    } else {
        match site.kind {
            Kind::Nmpa => nmpa(&site, &parts.headers, &path).await,
            Kind::Cde => cde(&site, &parts.method, &parts.headers, &path, &body).await,
        }
    };
    site.log.lock().unwrap().push(format!("{} {} {}", parts.method, path, resp.status().as_u16()));
    resp
}

/// A fixture file with an ETag; 304 when `If-None-Match` matches.
fn file(site: &Inner, dir: &str, rel: &str, content_type: &str, headers: &HeaderMap) -> Response {
    let Ok(body) = std::fs::read(fixtures(dir).join(rel.trim_start_matches('/'))) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = etag_of(&body);
    if let Some(inm) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        site.counters.conditional.fetch_add(1, Ordering::SeqCst);
        if inm == etag {
            site.counters.not_modified.fetch_add(1, Ordering::SeqCst);
            return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
        }
    }
    site.counters.pages.fetch_add(1, Ordering::SeqCst);
    ([(header::CONTENT_TYPE, content_type.to_string()), (header::ETAG, etag)], body).into_response()
}

async fn nmpa(site: &Inner, headers: &HeaderMap, path: &str) -> Response {
    let c = &site.counters;
    let valid = site.open
        || match (cookie(headers, "nmpa_s"), cookie(headers, "nmpa_t")) {
            (Some(s), Some(t)) => site.issued.lock().unwrap().contains(&s) && t == token(&s),
            _ => false,
        };
    if !valid {
        c.challenges.fetch_add(1, Ordering::SeqCst);
        let n = nonce();
        site.issued.lock().unwrap().insert(n.clone());
        let set = if site.never_clears { "'bad'" } else { "h.toString(16)" };
        let page = format!(
            r#"<html><head><meta content="{n}" r="m"><script type="text/javascript" r="m">$_ts=window['$_ts']||{{}};
(function(){{var n=document.querySelector('meta[r=m]').content,h=2166136261;
for(var i=0;i<{ROUNDS};i++){{h=Math.imul(h^((n.charCodeAt(i%n.length)+i)&255),16777619)>>>0;}}
document.cookie='nmpa_t='+{set}+'; path=/';setTimeout(function(){{location.reload();}},{wait});}})();</script></head><body></body></html>"#,
            wait = if site.never_clears { 300 } else { 0 },
        );
        return (
            StatusCode::PRECONDITION_FAILED,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                (header::SET_COOKIE, format!("nmpa_s={n}; Path=/; HttpOnly")),
            ],
            page,
        )
            .into_response();
    }
    c.with_token.fetch_add(1, Ordering::SeqCst);
    let browser = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).is_some_and(|ua| ua.contains("Chrome"));
    if !browser {
        c.plain_with_token.fetch_add(1, Ordering::SeqCst);
    }
    if !site.delay.is_zero() {
        tokio::time::sleep(site.delay).await;
    }
    if site.bench > 0 && path == "/bench/index.html" {
        c.pages.fetch_add(1, Ordering::SeqCst);
        let items: String = (0..site.bench)
            .map(|i| {
                format!("<li><a href=\"./2020051417{i:07}.html\">国家药监局公告第{i}号</a><span>2020-05-14</span></li>")
            })
            .collect();
        let page = format!(
            "<html><head><meta charset=\"utf-8\"><title>公告通告</title></head><body><div class=\"list\"><ul>{items}</ul></div></body></html>"
        );
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    }
    if site.bench > 0 && path.starts_with("/bench/") {
        return file(site, "nmpa", "xxgk/ggtg/qtggtg/20200514170101220.html", "text/html; charset=utf-8", headers);
    }
    file(site, "nmpa", path, "text/html; charset=utf-8", headers)
}

/// The news list shell: its script signs the page's XMLHttpRequests.
fn shell(nonce: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>政务新闻</title>
<link rel="stylesheet" href="/main/css/news.css"><script>
(function(){{var nonce='{nonce}';var send=XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send=function(body){{var s=(body||'')+nonce,h=2166136261;
for(var i=0;i<s.length;i++){{h=Math.imul(h^s.charCodeAt(i),16777619)>>>0;}}
this.setRequestHeader('X-Sign',nonce+':'+h.toString(16));return send.call(this,body);}};}})();
</script></head><body><div class="listWrapper"><img src="/main/images/banner.png"></div></body></html>"#
    )
}

async fn cde(site: &Inner, method: &Method, headers: &HeaderMap, path: &str, body: &[u8]) -> Response {
    let c = &site.counters;
    if path.starts_with("/main/news/listpage/") {
        let n = nonce();
        site.issued.lock().unwrap().insert(n.clone());
        c.pages.fetch_add(1, Ordering::SeqCst);
        return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], shell(&n)).into_response();
    }
    if path == "/main/news/getList" && method == Method::POST {
        let body = String::from_utf8_lossy(body).to_string();
        let signed = headers
            .get("x-sign")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(':'))
            .is_some_and(|(n, h)| site.issued.lock().unwrap().contains(n) && h == sign(&body, n));
        if !signed {
            c.challenges.fetch_add(1, Ordering::SeqCst);
            let waf = r#"<html><head><meta id="9DhefwqGPrzGxEp9hPaoag" content="x"><script>$_ts=window['$_ts'];</script></head><body></body></html>"#;
            return ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], waf).into_response();
        }
        c.signed.fetch_add(1, Ordering::SeqCst);
        let page = body
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "pageNum")
            .map(|(_, v)| v.to_string())
            .unwrap_or_else(|| "1".into());
        return file(
            site,
            "cde",
            &format!("main/news/getList/page{page}.json"),
            "application/json;charset=UTF-8",
            headers,
        );
    }
    if method == Method::GET {
        return file(site, "cde", path, "text/html; charset=utf-8", headers);
    }
    StatusCode::METHOD_NOT_ALLOWED.into_response()
}

/// Pids of the running processes whose command line holds `needle` (a
/// browser's `--user-data-dir`), read from /proc.
pub fn processes_with(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else { return out };
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        // A zombie has an empty command line and is already dead.
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let state = stat.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().next()).unwrap_or("");
            if state != "Z" && state != "X" {
                out.push(pid);
            }
        }
    }
    out
}

/// Pids of this crawler's browsers (profile prefix `notices-browser-`) still running.
pub fn our_browsers() -> Vec<u32> {
    processes_with("--user-data-dir=")
        .into_iter()
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains("notices-browser-"))
                .unwrap_or(false)
        })
        .collect()
}

/// Waits up to `patience` for `pids()` to be empty; returns what is left.
pub fn wait_gone(pids: impl Fn() -> Vec<u32>, patience: Duration) -> Vec<u32> {
    let start = std::time::Instant::now();
    loop {
        let left = pids();
        if left.is_empty() || start.elapsed() > patience {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
