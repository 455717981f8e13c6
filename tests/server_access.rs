//! Who the server answers: only its own host names (DNS rebinding), a
//! token off loopback, and a body that says why for the requests hyper
//! refuses before routing. Raw sockets, so the Host header and the request
//! line are exactly what the test says.

mod server_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use server_support::{BIN, Server, fixtures, index_notices};

/// Sends `raw` and returns the status and the body.
fn raw(addr: &str, raw: &[u8]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(raw).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no response: {text:?}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_string(), body.to_string())
}

fn get(addr: &str, host: &str, extra: &str) -> (u16, String, String) {
    raw(addr, format!("GET /api/stats HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n").as_bytes())
}

fn error_code(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body:?}"));
    v["error"].as_str().unwrap().to_string()
}

fn port(addr: &str) -> &str {
    addr.rsplit(':').next().unwrap()
}

#[test]
fn only_its_own_host_names_are_answered() {
    let tmp = tempfile::tempdir().unwrap();
    index_notices(tmp.path(), &fixtures());
    let cfg = tmp.path().join("config.toml");
    std::fs::write(&cfg, "[server]\nallowed_hosts = [\"notices.lan\"]\n").unwrap();
    let server =
        Server::start_with(tmp.path(), &["--addr", "127.0.0.1:0"], &[("NOTICES_CONFIG", cfg.to_str().unwrap())]);
    let p = port(&server.addr);
    for host in [
        format!("127.0.0.1:{p}"),
        format!("localhost:{p}"),
        "LOCALHOST".into(),
        format!("[::1]:{p}"),
        "notices.lan".into(),
    ] {
        let (status, _, body) = get(&server.addr, &host, "");
        assert_eq!(status, 200, "{host}: {body}");
    }
    for host in ["evil.example", "evil.example:7878", "127.0.0.1.nip.io", "localhost.evil.example", "notices.lan.evil"]
    {
        let (status, head, body) = get(&server.addr, host, "");
        assert_eq!(status, 421, "{host}: {body}");
        assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
        assert_eq!(error_code(&body), "wrong_host", "{body}");
        assert!(body.contains("allowed_hosts"), "says what to do: {body}");
    }
    // HTTP/1.0 without any Host header: refused as well.
    let (status, _, body) = raw(&server.addr, b"GET /api/stats HTTP/1.0\r\n\r\n");
    assert_eq!((status, error_code(&body).as_str()), (421, "wrong_host"));
}

#[test]
fn off_loopback_a_token_is_required_unless_public() {
    let tmp = tempfile::tempdir().unwrap();
    index_notices(tmp.path(), &fixtures());

    // No token, no --public: refused at start, saying how to fix it.
    let out = Command::new(BIN)
        .args(["serve", "--addr", "0.0.0.0:0", "--data-dir"])
        .arg(tmp.path())
        .env_remove("NOTICES_TOKEN")
        .env_remove("NOTICES_CONFIG")
        .env_remove("NOTICES_ADDR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--token") && stderr.contains("--public"), "{stderr}");

    // A token from the environment: requests without it get a JSON 401.
    let server = Server::start_with(tmp.path(), &["--addr", "0.0.0.0:0"], &[("NOTICES_TOKEN", "s3cret")]);
    let addr = format!("127.0.0.1:{}", port(&server.addr));
    let (status, head, body) = get(&addr, "127.0.0.1", "");
    assert_eq!((status, error_code(&body).as_str()), (401, "unauthorized"), "{body}");
    assert!(head.to_ascii_lowercase().contains("www-authenticate: bearer"), "{head}");
    let (status, _, body) = get(&addr, "127.0.0.1", "Authorization: Bearer wrong\r\n");
    assert_eq!((status, error_code(&body).as_str()), (401, "unauthorized"));
    let (status, _, body) = get(&addr, "127.0.0.1", "Authorization: Bearer s3cret\r\n");
    assert_eq!(status, 200, "{body}");
    // The host check still applies with a token.
    let (status, _, _) = get(&addr, "evil.example", "Authorization: Bearer s3cret\r\n");
    assert_eq!(status, 421);
    drop(server);

    // --token on the command line, and --public without any.
    let server = Server::start_with(tmp.path(), &["--addr", "0.0.0.0:0", "--token", "flag-token"], &[]);
    let addr = format!("127.0.0.1:{}", port(&server.addr));
    assert_eq!(get(&addr, "127.0.0.1", "Authorization: Bearer flag-token\r\n").0, 200);
    assert_eq!(get(&addr, "127.0.0.1", "").0, 401);
    drop(server);
    let server = Server::start_with(tmp.path(), &["--addr", "0.0.0.0:0", "--public"], &[]);
    let addr = format!("127.0.0.1:{}", port(&server.addr));
    assert_eq!(get(&addr, "127.0.0.1", "").0, 200);
}

#[test]
fn requests_hyper_refuses_before_routing_still_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    index_notices(tmp.path(), &fixtures());
    let server = Server::start(tmp.path());

    let long =
        format!("GET /api/search?q={} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", "a".repeat(70_000));
    let (status, head, body) = raw(&server.addr, long.as_bytes());
    assert_eq!(status, 414, "{head}");
    assert_eq!(error_code(&body), "uri_too_long", "{body}");
    assert!(head.to_ascii_lowercase().contains(&format!("content-length: {}", body.len())), "{head}");

    let (status, _, body) = raw(&server.addr, b"THIS IS NOT HTTP\r\n\r\n");
    assert_eq!(status, 400);
    assert_eq!(error_code(&body), "bad_request", "{body}");

    let (status, _, body) = raw(&server.addr, b"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n");
    assert_eq!(status, 400);
    assert!(serde_json::from_str::<Value>(&body).unwrap()["message"].as_str().unwrap().contains("not valid HTTP"));

    // Our own errors are untouched (one JSON body, not two).
    let (status, _, body) =
        raw(&server.addr, b"GET /api/search?q= HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assert_eq!((status, error_code(&body).as_str()), (400, "empty_query"));
}
