//! A body for the answers hyper gives by itself. hyper refuses some
//! requests before any routing (an over-long URI: 414, a request line or
//! header it cannot parse: 400, headers too large: 431) and answers them
//! with an empty body. This wraps each connection so that such an answer
//! goes out with a short JSON body saying why, in the API's error shape.
//!
//! Recognised by shape: a response head with a 4xx status and
//! `content-length: 0`. Every response of our own routes that is an error
//! carries a JSON body (see `finish_response`), so only hyper's match.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections explain hyper's own refusals.
pub struct ExplainingListener(pub TcpListener);

impl Listener for ExplainingListener {
    type Io = Explaining<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = Listener::accept(&mut self.0).await;
        (Explaining { inner: io, pending: Vec::new(), sent: 0 }, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Listener::local_addr(&self.0)
    }
}

/// A connection whose bodiless error answers get a body.
pub struct Explaining<T> {
    inner: T,
    /// A rewritten answer not yet fully written.
    pending: Vec<u8>,
    sent: usize,
}

impl<T: AsyncWrite + Unpin> Explaining<T> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Explaining<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Explaining<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(answer) = explain(buf) {
            self.pending = answer;
            // Written now as far as the socket takes it, the rest on flush.
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored, so hyper hands each response head over in one buffer.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// hyper's bodiless refusal in `buf`, rewritten with a JSON body; `None`
/// for anything else.
fn explain(buf: &[u8]) -> Option<Vec<u8>> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    if head_end + 4 != buf.len() {
        return None;
    }
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let status: u16 = status_line.strip_prefix("HTTP/1.")?.get(2..5)?.parse().ok()?;
    let (code, message) = match status {
        400 => ("bad_request", "the request line or a header is not valid HTTP/1.1"),
        414 => ("uri_too_long", "the request target is too long (the limit is 65534 bytes)"),
        431 => ("headers_too_large", "the request headers are too large"),
        _ => return None,
    };
    let rest: Vec<&str> = lines.collect();
    if !rest.iter().any(|l| l.eq_ignore_ascii_case("content-length: 0")) {
        return None;
    }
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    let mut out = format!("{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n", body.len());
    for line in rest.iter().filter(|l| !l.to_ascii_lowercase().starts_with("content-length:")) {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(&body);
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bodiless_refusals_are_rewritten() {
        let hyper_414 = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let out = String::from_utf8(explain(hyper_414).unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{out}");
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        assert!(head.contains("date: x") && !head.contains("content-length: 0"), "{head}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"], "uri_too_long");

        // Our own JSON 400, a 200, and a head followed by body bytes pass untouched.
        assert!(explain(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n").is_none());
        assert!(explain(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(explain(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}").is_none());
        assert!(explain(b"{\"q\":\"HTTP/1.1 400\"}").is_none());
    }
}
