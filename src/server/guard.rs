//! Who may talk to the server: only requests for its own host names
//! (so a web page cannot reach it through DNS rebinding), and, when a
//! token is set, only requests that carry it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// Host names every server answers to.
pub const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// The access rules of one server.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Host names accepted besides [`LOOPBACK_HOSTS`] (ports ignored).
    pub allowed_hosts: Vec<String>,
    /// The bearer token every request must carry, if any.
    pub token: Option<String>,
}

impl Access {
    /// Whether a `Host` header value names this server.
    pub fn allows_host(&self, host: &str) -> bool {
        let name = host_name(host);
        LOOPBACK_HOSTS.iter().any(|h| *h == name) || self.allowed_hosts.iter().any(|h| host_name(h) == name)
    }

    fn token_ok(&self, req: &Request) -> bool {
        let Some(token) = &self.token else { return true };
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim);
        given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes()))
    }
}

/// The host part of a `Host` value, lowercased, without port or final dot:
/// `LocalHost.:7878` → `localhost`, `[::1]:80` → `[::1]`.
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host })
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The middleware: 421 for another host, 401 without the token.
pub(crate) async fn guard(State(access): State<Arc<Access>>, req: Request, next: Next) -> Response {
    // HTTP/2 and absolute-form requests carry the host in the URI.
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    match host {
        Some(h) if access.allows_host(&h) => {}
        Some(h) => {
            tracing::warn!(host = %h, "refused a request for another host");
            let message = format!(
                "this server does not answer for host {h:?}; use 127.0.0.1, localhost or [::1], or add the name to server.allowed_hosts"
            );
            return ApiError::new(StatusCode::MISDIRECTED_REQUEST, "wrong_host", message).into_response();
        }
        None => {
            return ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "wrong_host",
                "the request names no host (Host header)",
            )
            .into_response();
        }
    }
    if !access.token_ok(&req) {
        let mut res = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this server needs a token: send the header `Authorization: Bearer <token>`",
        )
        .into_response();
        res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return res;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_compared_without_port_case_or_final_dot() {
        let access = Access { allowed_hosts: vec!["Notices.Example.org:443".into()], token: None };
        for ok in
            ["127.0.0.1", "127.0.0.1:7878", "localhost", "LOCALHOST.:80", "[::1]", "[::1]:7878", "notices.example.org"]
        {
            assert!(access.allows_host(ok), "{ok}");
        }
        for bad in
            ["evil.example", "127.0.0.1.evil.example", "localhost.evil", "[::2]:80", "", "notices.example.org.evil"]
        {
            assert!(!access.allows_host(bad), "{bad}");
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
