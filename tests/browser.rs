//! The search page in a real headless Chromium, driven over the DevTools
//! protocol: type a query, read the ranked and highlighted hits, tick a
//! source facet, click a histogram bar, go back, and save screenshots to
//! `tests/artifacts/`.
//!
//! Chromium is driven through `--remote-debugging-pipe` (JSON messages
//! separated by NUL on file descriptors 3 and 4), so no WebSocket client or
//! driver binary is needed. The test fails, never skips, when Chromium
//! cannot run: `.ci/install-browser` installs it (and CJK fonts).

mod server_support;

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use server_support::{NMPA_62, Server, fixtures, index_notices};

/// One browser at a time: the machine may have two cores.
static ONE_BROWSER: Mutex<()> = Mutex::new(());

/// How long any one wait may take.
const PATIENCE: Duration = Duration::from_secs(20);

fn chromium_path() -> PathBuf {
    if let Some(p) = std::env::var_os("NOTICES_CHROMIUM") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "NOTICES_CHROMIUM={} is not a file", p.display());
        return p;
    }
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "no Chromium found (looked for chromium, chromium-browser, google-chrome on PATH; or set NOTICES_CHROMIUM): run .ci/install-browser"
    );
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A headless Chromium and one page (a flat DevTools session).
struct Browser {
    child: Child,
    to_browser: ChildStdin,
    from_browser: Receiver<Value>,
    next_id: u64,
    session: String,
    stderr: std::sync::Arc<Mutex<String>>,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let chromium = chromium_path();
        // The pipe protocol reads commands on fd 3 and writes replies on fd 4;
        // the shell moves our stdin/stdout pipes there.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null"#)
            .arg(&chromium)
            // The crawler's flags (one list), but DevTools over the pipe
            // rather than a port, and stable rendering for screenshots.
            .args(crawler::browser::launch::FLAGS.iter().filter(|f| !f.starts_with("--remote-debugging-port")))
            .args(["--hide-scrollbars", "--font-render-hinting=none", "--remote-debugging-pipe", "--lang=zh-CN"])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
        let to_browser = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut byte = [0u8; 8192];
            loop {
                let n = match out.read(&mut byte) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                buf.extend_from_slice(&byte[..n]);
                while let Some(end) = buf.iter().position(|&b| b == 0) {
                    let msg: Vec<u8> = buf.drain(..=end).collect();
                    if let Ok(v) = serde_json::from_slice::<Value>(&msg[..msg.len() - 1])
                        && tx.send(v).is_err()
                    {
                        return;
                    }
                }
            }
        });
        let stderr = std::sync::Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            if let Ok(mut log) = sink.lock() {
                log.push_str(&s);
            }
        });
        let mut b = Browser {
            child,
            to_browser,
            from_browser: rx,
            next_id: 0,
            session: String::new(),
            stderr,
            _profile: profile,
        };
        let target = b.browser_call("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().expect("a target id").to_string();
        let attached = b.browser_call("Target.attachToTarget", json!({"targetId": target_id, "flatten": true}));
        b.session = attached["sessionId"].as_str().expect("a session id").to_string();
        b.call("Page.enable", json!({}));
        b.call("Runtime.enable", json!({}));
        b
    }

    fn send(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        if let Err(e) = self.to_browser.write_all(&bytes).and_then(|()| self.to_browser.flush()) {
            self.died(&format!("{method}: {e}"));
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from_browser.recv_timeout(left) {
                Ok(v) if v["id"] == id => {
                    if let Some(e) = v.get("error") {
                        panic!("{method} failed: {e}");
                    }
                    return v["result"].clone();
                }
                Ok(_event) => {} // events are not needed: the test polls the page
                Err(RecvTimeoutError::Timeout) => panic!("{method}: no answer from Chromium in {PATIENCE:?}"),
                Err(RecvTimeoutError::Disconnected) => self.died(method),
            }
        }
    }

    /// Fails the test with what Chromium said on its way out.
    fn died(&mut self, during: &str) -> ! {
        let deadline = Instant::now() + Duration::from_secs(3);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(200)); // the stderr thread's last read
        let said = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        panic!("Chromium exited during {during} (is it installed? run .ci/install-browser):\n{said}");
    }

    fn browser_call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, None)
    }

    fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    /// Evaluates `js` in the page (awaiting a promise) and returns its value.
    fn eval(&mut self, js: &str) -> Value {
        let r = self.call("Runtime.evaluate", json!({"expression": js, "returnByValue": true, "awaitPromise": true}));
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("{js}: {ex}");
        }
        r["result"]["value"].clone()
    }

    /// Waits until `js` is truthy; returns its value.
    fn wait_for(&mut self, what: &str, js: &str) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let v = self.eval(js);
            if !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0)) {
                return v;
            }
            if Instant::now() > deadline {
                let page = self.eval("document.body ? document.body.innerText.slice(0, 2000) : ''");
                panic!("timed out waiting for {what} ({js}); the page shows:\n{}", page.as_str().unwrap_or(""));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn viewport(&mut self, width: u32, height: u32, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}),
        );
    }

    fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for(
            "the page to load",
            "document.readyState === 'complete' && !!document.getElementById('q') && location.href !== 'about:blank'",
        );
    }

    /// A real mouse click at the centre of the element `selector` finds.
    fn click(&mut self, selector: &str) {
        let js = format!(
            "(() => {{ const e = document.querySelector({sel}); if (!e) return null; e.scrollIntoView({{block: 'center'}}); \
             const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
            sel = serde_json::to_string(selector).unwrap()
        );
        let at = self.wait_for(&format!("{selector} to exist"), &js);
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        self.call("Input.dispatchMouseEvent", json!({"type": "mouseMoved", "x": x, "y": y}));
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Types `text` into the focused element (as an input method commits
    /// it), then presses Enter.
    fn type_and_enter(&mut self, text: &str) {
        self.call("Input.insertText", json!({"text": text}));
        for kind in ["keyDown", "keyUp"] {
            let mut ev = json!({"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13});
            if kind == "keyDown" {
                ev["text"] = json!("\r");
            }
            self.call("Input.dispatchKeyEvent", ev);
        }
    }

    fn screenshot(&mut self, name: &str) -> PathBuf {
        let r = self.call("Page.captureScreenshot", json!({"format": "png", "captureBeyondViewport": true}));
        let png = base64_decode(r["data"].as_str().expect("screenshot data"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = artifacts().join(name);
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64 (what DevTools sends screenshots in).
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'=' && !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &c)| acc | (val(c) as u32) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// The page state the assertions read.
const READ_PAGE: &str = r#"(() => ({
  url: location.search,
  summary: document.getElementById('summary').textContent,
  hits: [...document.querySelectorAll('#hits .hit')].map(li => ({
    title: li.querySelector('h3 a').textContent,
    href: li.querySelector('h3 a').getAttribute('href'),
    marked: [...li.querySelectorAll('h3 b')].map(b => b.textContent),
    source: li.querySelector('.badge').textContent,
    date: li.querySelector('.date').textContent,
  })),
  sources: Object.fromEntries([...document.querySelectorAll('#sources li')].map(li =>
    [li.querySelector('input').value, [Number(li.querySelector('.count').textContent), li.querySelector('input').checked]])),
  bars: Object.fromEntries([...document.querySelectorAll('#histogram .bar')].map(b =>
    [b.dataset.month, [Number(b.querySelector('.n').textContent), b.classList.contains('selected')]])),
}))()"#;

/// 23 FDA notices about bioequivalence, one a month from 2020-01 to 2021-11.
fn paging_fixtures() -> Vec<index::Notice> {
    let base = fixtures()[6].clone();
    (0..23)
        .map(|i| {
            let (y, m) = (2020 + i / 12, 1 + i % 12);
            let mut n = base.clone();
            n.id = index::Notice::id_for_url(&format!("https://www.fda.gov/be/{i}"));
            n.url = Some(format!("https://www.fda.gov/be/{i}"));
            n.title = format!("Bioequivalence guidance number {i}");
            n.body = "Bioequivalence studies with pharmacokinetic endpoints.".into();
            n.published = chrono::NaiveDate::from_ymd_opt(y, m as u32, 15);
            n
        })
        .collect()
}

/// Whether the chosen date range (and its Clear button) is on screen.
const RANGE_SHOWN: &str = "getComputedStyle(document.getElementById('range')).display !== 'none'";

fn total_of(page: &Value) -> u64 {
    // "共 N 条结果 · N results…"
    let s = page["summary"].as_str().unwrap();
    s.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no total in {s:?}"))
}

#[test]
fn search_page_in_headless_chromium() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let mut notices = fixtures();
    notices.extend(paging_fixtures());
    index_notices(dir.path(), &notices);
    let server = Server::start(dir.path());
    let mut b = Browser::launch();
    b.viewport(1280, 900, false);
    b.goto(&format!("{}/", server.url()));

    // The empty page shows the index statistics.
    b.wait_for("the statistics", "document.getElementById('stats').textContent.includes('31 notices')");

    // Type the query and press Enter.
    b.click("#q");
    b.type_and_enter("一致性评价");
    b.wait_for("hits", "document.querySelectorAll('#hits .hit').length > 0");
    let page = b.eval(READ_PAGE);
    let hits = page["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 4, "{page}");
    assert_eq!(hits[0]["title"], NMPA_62);
    assert_eq!(hits[0]["source"], "NMPA");
    assert_eq!(hits[0]["marked"], json!(["一致性评价"]), "the term is highlighted in the title");
    assert_eq!(hits[0]["href"], "http://www.nmpa.gov.cn/WS04/CL2138/377442.html", "the title links to the original");
    assert_eq!(total_of(&page), 4);
    assert!(page["url"].as_str().unwrap().contains("q=%E4%B8%80%E8%87%B4%E6%80%A7%E8%AF%84%E4%BB%B7"), "{page}");
    assert_eq!(page["sources"]["CDE"], json!([2, false]));
    assert_eq!(page["sources"]["NMPA"], json!([1, false]));
    assert_eq!(page["bars"], json!({"2020-03": [1, false], "2020-04": [1, false], "2020-05": [2, false]}));
    assert_eq!(b.eval(RANGE_SHOWN), json!(false), "no range chosen yet");
    // Document types and statuses are listed with their labels and counts.
    b.wait_for("the type facet", "!!document.querySelector(\"#types input[value='announcement']\")");
    let kinds = b.eval(
        r##"(() => { const li = document.querySelector("#types input[value='announcement']").closest('li');
            const st = document.querySelector("#statuses input[value='final']").closest('li');
            return [li.querySelector('.name').textContent, li.querySelector('.count').textContent,
                    st.querySelector('.count').textContent, document.getElementById('untyped').textContent,
                    document.querySelector('#hits .hit:first-child .doctype').textContent]; })()"##,
    );
    assert_eq!(kinds, json!(["公告", "1", "1", "未分类 unclassified: 3", "公告 Announcement"]));
    // Chinese renders with a real CJK font, not tofu.
    let cjk = b.eval("document.fonts.check('16px \"Noto Sans CJK SC\"', '一致性评价')");
    assert_eq!(cjk, json!(true), "a CJK font is available to the page");
    let shot = b.screenshot("search-page.png");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);

    // The full text opens in place, fetched from /api/notices/{id}.
    b.click("#hits .hit:first-child details.full summary");
    b.wait_for(
        "the full text",
        "(document.querySelector('#hits .hit:first-child .full .body') || {}).textContent?.includes('未按照与原研药品质量和疗效一致原则审批')",
    );
    b.click("#hits .hit:first-child details.full summary");

    // Tick the CDE facet: the list, the total and the histogram change.
    b.click("#sources input[value='CDE']");
    b.wait_for(
        "the CDE filter",
        "location.search.includes('source=CDE') && document.querySelectorAll('#hits .hit').length === 2",
    );
    b.wait_for("the histogram to follow", "document.querySelectorAll('#histogram .bar').length === 2");
    let page = b.eval(READ_PAGE);
    assert_eq!(total_of(&page), 2, "{page}");
    assert!(page["hits"].as_array().unwrap().iter().all(|h| h["source"] == "CDE"), "{page}");
    assert_eq!(page["sources"]["CDE"], json!([2, true]));
    assert_eq!(page["bars"], json!({"2020-03": [1, false], "2020-04": [1, false]}));

    // Click the April bar: only April's CDE notice is left, the bar is marked.
    b.click("#histogram .bar[data-month='2020-04']");
    b.wait_for(
        "the month filter",
        "location.search.includes('since=2020-04') && document.querySelectorAll('#hits .hit').length === 1",
    );
    let page = b.eval(READ_PAGE);
    assert_eq!(total_of(&page), 1, "{page}");
    assert_eq!(page["hits"][0]["date"], "2020-04-20");
    assert_eq!(page["bars"]["2020-04"], json!([1, true]));
    assert_eq!(page["bars"]["2020-03"], json!([1, false]), "the other months stay visible");
    assert_eq!(b.eval(RANGE_SHOWN), json!(true), "the chosen range is shown with a Clear button");
    b.screenshot("search-page-filtered.png");

    // The URL is the state: reloading it shows the same, Back undoes the click.
    let url = b.eval("location.href");
    b.goto(url.as_str().unwrap());
    b.wait_for("the same results after reload", "document.querySelectorAll('#hits .hit').length === 1");
    assert_eq!(b.eval("document.getElementById('q').value"), json!("一致性评价"));
    b.eval("history.back()");
    b.wait_for(
        "Back to undo the month",
        "!location.search.includes('since') && document.querySelectorAll('#hits .hit').length === 2",
    );

    // Newest first, from the sort menu.
    b.eval("(() => { const s = document.getElementById('sort'); s.value = 'newest'; s.dispatchEvent(new Event('change')); })()");
    b.wait_for("the newest-first order", "location.search.includes('sort=newest')");
    b.wait_for(
        "dates in order",
        "(() => { const d = [...document.querySelectorAll('#hits .date')].map(e => e.textContent); return d.join() === '2020-04-20,2020-03-02'; })()",
    );

    // A phone-width screen: one column, nothing wider than the screen.
    b.viewport(390, 844, true);
    b.goto(&format!("{}/?q=%E4%B8%80%E8%87%B4%E6%80%A7%E8%AF%84%E4%BB%B7", server.url()));
    b.wait_for("hits on a phone", "document.querySelectorAll('#hits .hit').length === 4");
    let overflow = b.eval("document.documentElement.scrollWidth - window.innerWidth");
    assert!(overflow.as_f64().unwrap() <= 0.0, "the page is wider than a phone by {overflow}px");
    let columns = b.eval("getComputedStyle(document.querySelector('.layout')).gridTemplateColumns.split(' ').length");
    assert_eq!(columns, json!(1), "one column on a phone");
    b.screenshot("search-page-phone.png");

    // Paging: 23 hits are three pages; Next and a page number move through them.
    b.viewport(1280, 900, false);
    b.goto(&format!("{}/?q=bioequivalence&sort=newest", server.url()));
    b.wait_for("page 1", "document.querySelectorAll('#hits .hit').length === 10");
    assert_eq!(b.eval("document.querySelectorAll('#pager button.num').length"), json!(3));
    assert_eq!(b.eval("document.querySelector('#hits .date').textContent"), json!("2021-11-15"));
    // 23 months: thin bars, labelled only where a year starts.
    assert_eq!(b.eval("document.getElementById('histogram').classList.contains('many')"), json!(true));
    b.click("#pager button.next");
    b.wait_for(
        "page 2",
        "location.search.includes('page=2') && document.querySelector('#hits .date').textContent === '2021-01-15'",
    );
    assert!(b.eval(READ_PAGE)["summary"].as_str().unwrap().contains("11–20"));
    b.click("#pager button.num:nth-of-type(4)");
    b.wait_for("page 3", "location.search.includes('page=3') && document.querySelectorAll('#hits .hit').length === 3");
    assert_eq!(b.eval("document.querySelector('#pager button.next').disabled"), json!(true));

    // A bad query shows the API's message instead of results.
    b.goto(&format!("{}/?q=%22unbalanced", server.url()));
    let err = b.wait_for(
        "an error message",
        "!document.getElementById('error').hidden && document.getElementById('error').textContent",
    );
    assert!(err.as_str().unwrap().contains("unbalanced"), "{err}");
}

#[test]
fn sample_index_in_headless_chromium() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    // An empty data directory: the server builds the bundled sample.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let mut b = Browser::launch();
    b.viewport(1280, 800, false);
    b.goto(&format!("{}/", server.url()));
    b.click("#q");
    b.type_and_enter("一致性评价");
    b.wait_for("hits", "document.querySelectorAll('#hits .hit').length > 0");
    let page = b.eval(READ_PAGE);
    assert_eq!(page["hits"][0]["title"], NMPA_62, "{page}");
    assert_eq!(page["hits"][0]["source"], "NMPA");
    assert_eq!(page["hits"][0]["marked"], json!(["一致性评价"]));
    b.screenshot("search-page-sample.png");
}

#[test]
fn base64_decodes() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGk="), b"hi");
    assert_eq!(base64_decode("YWJj"), b"abc");
}
