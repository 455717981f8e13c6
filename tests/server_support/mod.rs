//! Shared by the server tests: fixture notices, a running `notices serve`
//! process, and a raw HTTP/1.1 client (raw so that tests can send request
//! targets a polite client would normalise or refuse: `..`, invalid UTF-8).
#![allow(dead_code)] // each test file uses a different part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use crawler::store::{Arrival, NoticeStore};
use index::{Attachment, Notice, Source};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_notices");

/// The title the issue names: first for 一致性评价.
pub const NMPA_62: &str = "国家药监局关于开展化学药品注射剂仿制药质量和疗效一致性评价工作的公告（2020年第62号）";

fn notice(url: &str, source: Source, title: &str, body: &str, date: &str) -> Notice {
    Notice { published: NaiveDate::parse_from_str(date, "%Y-%m-%d").ok(), ..Notice::crawled(source, url, title, body) }
}

/// Eight notices over five sources and three months. For 一致性评价: four
/// live matches (NMPA 1, CDE 2, other 1; 2020-03 1, 2020-04 1, 2020-05 2)
/// plus one withdrawn.
pub fn fixtures() -> Vec<Notice> {
    let mut nmpa = notice(
        "http://www.nmpa.gov.cn/WS04/CL2138/377442.html",
        Source::Nmpa,
        NMPA_62,
        "为加快推进仿制药一致性评价工作，国家药监局决定开展化学药品注射剂仿制药质量和疗效一致性评价工作。\
         已上市的化学药品注射剂仿制药，未按照与原研药品质量和疗效一致原则审批的品种均需开展一致性评价。",
        "2020-05-14",
    );
    nmpa.doc_numbers = vec!["2020年第62号".into()];
    nmpa.agency = Some("国家药品监督管理局".into());
    nmpa.attachments = vec![Attachment::new(
        "http://www.nmpa.gov.cn/WS04/CL2138/377442/fj1.docx",
        Some("化学药品注射剂仿制药质量和疗效一致性评价技术要求".into()),
    )];
    nmpa.doc_type = Some(index::DocType::Announcement);
    nmpa.status = Some(index::Status::Final);
    let mut withdrawn = notice(
        "http://www.nmpa.gov.cn/old.html",
        Source::Nmpa,
        "已撤下的一致性评价通知",
        "此页面已从网站撤下，一致性评价。",
        "2020-05-01",
    );
    withdrawn.withdrawn = true;
    vec![
        nmpa,
        withdrawn,
        notice(
            "https://www.cde.org.cn/main/news/viewInfoCommon/1.html",
            Source::Cde,
            "药审中心关于发布《化学药品注射剂仿制药（特殊注射剂）药学研究技术指导原则》的通告",
            "本指导原则适用于特殊注射剂仿制药的研发，与一致性评价的要求相衔接。",
            "2020-04-20",
        ),
        notice(
            "https://www.cde.org.cn/main/news/viewInfoCommon/2.html",
            Source::Cde,
            "关于仿制药参比制剂目录（第二十八批）的公示",
            "参比制剂是开展一致性评价的基础。",
            "2020-03-02",
        ),
        notice(
            "http://yjj.example.gov.cn/tzgg/1.html",
            Source::Other("yjj.example.gov.cn".into()),
            "省药监局关于转发注射剂仿制药相关工作通知的通知",
            "各有关单位：现将一致性评价通知转发给你们。",
            "2020-05-18",
        ),
        notice(
            "https://www.cnipa.gov.cn/art/2020/5/10/art_1.html",
            Source::Cnipa,
            "国家知识产权局关于进一步加强专利代理行业监管的通知",
            "专利代理机构应当依法执业。",
            "2020-05-10",
        ),
        notice(
            "https://www.fda.gov/regulatory-information/covid-19-developing-drugs",
            Source::Fda,
            "COVID-19: Developing Drugs and Biological Products for Treatment or Prevention",
            "This guidance describes clinical trial design for drugs to treat or prevent COVID-19.",
            "2020-05-11",
        ),
        notice(
            "https://www.gmp-compliance.org/gmp-news/data-integrity",
            Source::Eca,
            "Data Integrity in GMP Laboratories",
            "Inspectors keep finding data integrity gaps in laboratories.",
            "2020-04-08",
        ),
    ]
}

/// When the fixture pages were fetched, as the store stamps them.
pub fn fetched() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 5, 15, 8, 30, 0).unwrap()
}

/// Stores `notices` in the data directory `data` as a crawl would: through
/// the notice store, as pages fetched at [`fetched`].
pub fn index_notices(data: &Path, notices: &[Notice]) {
    let mut store = NoticeStore::open(data).unwrap();
    for n in notices {
        store.accept(Arrival::fetched(n.clone(), fetched())).unwrap();
    }
    store.close("test").unwrap();
}

/// A `notices serve` process on an ephemeral loopback port; killed on drop.
pub struct Server {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Everything the server wrote to stderr so far.
    pub log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the server on `data` and waits until it listens.
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, &["--addr", "127.0.0.1:0"], &[])
    }

    /// Starts `notices serve ARGS` on `data` with extra environment variables.
    pub fn start_with(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .arg("--data-dir")
            .arg(data)
            .env_remove("NOTICES_ADDR")
            .env_remove("NOTICES_CONFIG")
            .env_remove("NOTICES_DATA_DIR")
            .env_remove("NOTICES_TOKEN")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the notices binary starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split_once("on http://").map(|(_, r)| r) {
                    let _ = tx.send(rest.split('/').next().unwrap_or_default().to_string());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start: {}", log.lock().unwrap());
            }
        };
        Server { child: Some(child), addr, log }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// GET `target` (sent byte for byte).
    pub fn get(&self, target: &str) -> Reply {
        request(&self.addr, "GET", target.as_bytes(), &[])
    }

    /// GET and parse the body as JSON, asserting a 200.
    pub fn get_ok(&self, target: &str) -> Value {
        let r = self.get(target);
        assert_eq!(r.status, 200, "{target}: {}", r.text());
        r.json()
    }

    /// Sends `signal` (`TERM`, `INT`) and waits for the exit.
    pub fn stop(mut self, signal: &str) -> (ExitStatus, String) {
        let mut child = self.child.take().unwrap();
        let ok = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                // Let the stderr thread catch the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.log.lock().unwrap().clone());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the server ignored SIG{signal}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// One request on a fresh connection (`Connection: close`).
pub fn request(addr: &str, method: &str, target: &[u8], extra: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = Vec::new();
    req.extend_from_slice(method.as_bytes());
    req.push(b' ');
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    req.extend_from_slice(extra);
    req.extend_from_slice(b"\r\n");
    s.write_all(&req).unwrap();
    let mut raw = Vec::new();
    // The server may close early (e.g. after refusing a body); keep what came.
    let _ = s.read_to_end(&mut raw);
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| {
        panic!("no HTTP response: {:?}", String::from_utf8_lossy(raw));
    });
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Reply { status, headers, body }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
    out
}

/// Percent-encodes everything but unreserved ASCII (for query values).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
