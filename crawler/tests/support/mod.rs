//! A fixture HTTP/1.1 server for crawler tests, on 127.0.0.x, with faults
//! on demand and a log of every request it received.
//!
//! Written on bare tokio sockets rather than axum because some faults (a
//! connection reset, a body cut short) need control below the HTTP layer.
//! It runs on its own thread and runtime, so it serves equally a
//! `#[tokio::test]`, a plain `#[test]` and a child process.
//!
//! Use it from other test crates with
//! `#[path = "../crawler/tests/support/mod.rs"] mod support;` (root tests)
//! or `mod support;` (crawler tests).
//!
//! ```ignore
//! let site = support::FixtureServer::start();
//! site.route("/robots.txt", Response::text("User-agent: *\nDisallow: /private/\n"));
//! site.route("/list", Response::html("<a href='/a'>a</a>"));        // ETag + Last-Modified, 304 handled
//! site.fault("/a", Fault::Status(500));                              // next request to /a fails once
//! // ... crawl ...
//! assert_eq!(site.requests_to("/a").len(), 2);
//! assert!(site.requests_to("/private/x").is_empty());
//! ```
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A canned response.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers besides Content-Length, ETag and Last-Modified.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
    /// ETag to send and to match against If-None-Match.
    pub etag: Option<String>,
    /// Last-Modified to send and to match against If-Modified-Since.
    pub last_modified: Option<String>,
    /// Wait this long before answering (a slow server; a timeout when long).
    pub delay: Duration,
}

impl Response {
    /// A response with this status, content type and body, no validators.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            etag: None,
            last_modified: None,
            delay: Duration::ZERO,
        }
    }

    /// 200 `text/html; charset=utf-8` with an ETag (a hash of the body) and a Last-Modified.
    pub fn html(body: &str) -> Response {
        Response::new(200, "text/html; charset=utf-8", body.as_bytes().to_vec()).validators()
    }

    /// 200 `text/plain` without validators (robots.txt).
    pub fn text(body: &str) -> Response {
        Response::new(200, "text/plain", body.as_bytes().to_vec())
    }

    /// 200 with raw bytes and a content type, with validators.
    pub fn bytes(content_type: &str, body: Vec<u8>) -> Response {
        Response::new(200, content_type, body).validators()
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Response {
        Response::new(status, "text/html", Vec::new()).header("Location", location)
    }

    /// A status with an empty body.
    pub fn status(status: u16) -> Response {
        Response::new(status, "text/html", format!("<h1>{status}</h1>").into_bytes())
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets ETag (a hash of the body) and a fixed Last-Modified.
    pub fn validators(mut self) -> Response {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.body.hash(&mut h);
        self.etag = Some(format!("\"{:016x}\"", h.finish()));
        self.last_modified = Some("Wed, 13 May 2020 08:00:00 GMT".into());
        self
    }

    /// Removes ETag and Last-Modified (many real sites send neither).
    pub fn no_validators(mut self) -> Response {
        self.etag = None;
        self.last_modified = None;
        self
    }

    /// Answers only after `delay`.
    pub fn delayed(mut self, delay: Duration) -> Response {
        self.delay = delay;
        self
    }
}

/// A one-shot fault, served instead of (or on the way to) the route.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer this status (with these headers), empty body.
    Status(u16),
    /// Answer this status with headers (e.g. `Retry-After`).
    StatusWith(u16, Vec<(String, String)>),
    /// Sleep, then serve the route normally.
    Delay(Duration),
    /// Close the connection with a TCP reset, no response.
    Reset,
    /// Send the headers and half the body, declaring the full length, then close.
    Truncate,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    /// When it arrived.
    pub at: Instant,
    /// When the answer was finished (or the connection dropped).
    pub finished: Option<Instant>,
    /// `GET`, `POST` ...
    pub method: String,
    /// Path with query.
    pub path: String,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Vec<u8>,
    /// Status answered (0 for a reset).
    pub status: u16,
    /// Bytes written on the socket for the response (head and body).
    pub bytes_sent: u64,
}

impl Logged {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// Whether it carried If-None-Match or If-Modified-Since.
    pub fn conditional(&self) -> bool {
        self.header("if-none-match").is_some() || self.header("if-modified-since").is_some()
    }
}

#[derive(Default)]
struct Inner {
    routes: HashMap<String, Response>,
    faults: HashMap<String, VecDeque<Fault>>,
    log: Vec<Logged>,
}

/// The server. Dropping it stops it.
pub struct FixtureServer {
    /// Where it listens.
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FixtureServer {
    /// Starts a server on 127.0.0.1 and a free port.
    pub fn start() -> FixtureServer {
        FixtureServer::start_on("127.0.0.1")
    }

    /// Starts a server on `ip` (any 127.0.0.x works on Linux: another "host").
    pub fn start_on(ip: &str) -> FixtureServer {
        let std_listener = std::net::TcpListener::bind((ip, 0)).expect("bind fixture server");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("local addr");
        let inner = Arc::new(Mutex::new(Inner::default()));
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let shared = inner.clone();
        let thread = std::thread::spawn(move || {
            let rt =
                tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("listener");
                loop {
                    tokio::select! {
                        _ = &mut stop_rx => break,
                        accepted = listener.accept() => {
                            if let Ok((stream, _)) = accepted {
                                tokio::spawn(serve(stream, shared.clone()));
                            }
                        }
                    }
                }
            });
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        FixtureServer { addr, inner, stop: Some(stop_tx), thread: Some(thread) }
    }

    /// `http://ip:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `http://ip:port` (for `base_url` settings).
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The host (IP) as the crawler sees it.
    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// Serves `response` at `path` (path and query, exact match).
    pub fn route(&self, path: &str, response: Response) {
        self.inner.lock().unwrap().routes.insert(path.to_string(), response);
    }

    /// Serves `html` at `path` with validators.
    pub fn html(&self, path: &str, html: &str) {
        self.route(path, Response::html(html));
    }

    /// Stops serving `path` (it answers 404).
    pub fn remove(&self, path: &str) {
        self.inner.lock().unwrap().routes.remove(path);
    }

    /// Queues a one-shot fault for the next request to `path`.
    pub fn fault(&self, path: &str, fault: Fault) {
        self.inner.lock().unwrap().faults.entry(path.to_string()).or_default().push_back(fault);
    }

    /// Queues `fault` for the next `n` requests to `path`.
    pub fn faults(&self, path: &str, fault: Fault, n: usize) {
        for _ in 0..n {
            self.fault(path, fault.clone());
        }
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Logged> {
        let mut log = self.inner.lock().unwrap().log.clone();
        log.sort_by_key(|l| l.at);
        log
    }

    /// The requests to `path` (path and query).
    pub fn requests_to(&self, path: &str) -> Vec<Logged> {
        self.requests().into_iter().filter(|l| l.path == path).collect()
    }

    /// Forgets the log.
    pub fn clear_log(&self) {
        self.inner.lock().unwrap().log.clear();
    }

    /// Response bytes written so far.
    pub fn bytes_sent(&self) -> u64 {
        self.inner.lock().unwrap().log.iter().map(|l| l.bytes_sent).sum()
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Reads one request: head up to 64 KiB, then a Content-Length body.
async fn read_request(stream: &mut TcpStream) -> Option<(String, String, Vec<(String, String)>, Vec<u8>)> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split_whitespace();
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((method, path, headers, body))
}

async fn serve(mut stream: TcpStream, inner: Arc<Mutex<Inner>>) {
    let Some((method, path, headers, body)) = read_request(&mut stream).await else { return };
    let at = Instant::now();
    let (fault, route) = {
        let mut g = inner.lock().unwrap();
        let fault = g.faults.get_mut(&path).and_then(VecDeque::pop_front);
        // A route keyed `METHOD path body` (a POST form) wins over the path alone.
        let keyed = format!("{method} {path} {}", String::from_utf8_lossy(&body));
        (fault, g.routes.get(&keyed).or_else(|| g.routes.get(&path)).cloned())
    };
    let index = {
        let mut g = inner.lock().unwrap();
        g.log.push(Logged {
            at,
            finished: None,
            method: method.clone(),
            path: path.clone(),
            headers: headers.clone(),
            body,
            status: 0,
            bytes_sent: 0,
        });
        g.log.len() - 1
    };
    let finish = |status: u16, bytes: u64| {
        let mut g = inner.lock().unwrap();
        if let Some(l) = g.log.get_mut(index) {
            l.status = status;
            l.bytes_sent = bytes;
            l.finished = Some(Instant::now());
        }
    };
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let mut truncate = false;
    let response = match fault {
        Some(Fault::Reset) => {
            let _ = stream.set_zero_linger();
            drop(stream);
            finish(0, 0);
            return;
        }
        Some(Fault::Status(s)) => Some(Response::status(s)),
        Some(Fault::StatusWith(s, hs)) => {
            let mut r = Response::status(s);
            r.headers.extend(hs);
            Some(r)
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            route
        }
        Some(Fault::Truncate) => {
            truncate = true;
            route
        }
        None => route,
    };
    let mut response = response.unwrap_or_else(|| Response::status(404));
    if !response.delay.is_zero() {
        tokio::time::sleep(response.delay).await;
    }
    let not_modified = response.status == 200
        && (response
            .etag
            .as_ref()
            .is_some_and(|e| header("if-none-match").is_some_and(|h| h.split(',').any(|x| x.trim() == e)))
            || (header("if-none-match").is_none()
                && response.last_modified.as_ref().is_some_and(|lm| header("if-modified-since").as_ref() == Some(lm))));
    if not_modified {
        response.status = 304;
        response.body.clear();
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", response.status, reason(response.status));
    for (n, v) in &response.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(e) = &response.etag {
        head.push_str(&format!("ETag: {e}\r\n"));
    }
    if let Some(lm) = &response.last_modified {
        head.push_str(&format!("Last-Modified: {lm}\r\n"));
    }
    let body: &[u8] = if method == "HEAD" { &[] } else { &response.body };
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", response.body.len()));
    let send: &[u8] = if truncate { &body[..body.len() / 2] } else { body };
    let mut sent = 0u64;
    if stream.write_all(head.as_bytes()).await.is_ok() {
        sent += head.len() as u64;
        if stream.write_all(send).await.is_ok() {
            sent += send.len() as u64;
        }
    }
    let _ = stream.flush().await;
    if truncate {
        let _ = stream.set_zero_linger();
    } else {
        let _ = stream.shutdown().await;
    }
    finish(response.status, sent);
}
