//! The replies hyper writes on its own, in the documented shape.
//!
//! A request whose head hyper cannot parse (headers over its limits: 431;
//! a path too long: 414; anything else malformed: 400) never reaches the
//! router: hyper answers it itself with an empty body, and offers no hook
//! to change that. docs/HTTP.md promises `{"error", "message"}` on every
//! error (issue 15, finding 11), so this wrapper around the connection
//! recognises those replies as hyper writes them (a head whose status is
//! 4xx or 5xx and whose `content-length` is 0: the router never sends an
//! error without a body) and writes a JSON one in their place.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose empty error replies become JSON ones.
pub(super) struct JsonErrors<T> {
    inner: T,
    /// A replacement reply still to be written, and how much of it is.
    pending: Vec<u8>,
    written: usize,
}

impl<T> JsonErrors<T> {
    pub fn new(inner: T) -> Self {
        JsonErrors { inner, pending: Vec::new(), written: 0 }
    }
}

/// The JSON reply for an empty error reply hyper wrote, and the length of
/// that reply's head, if `buf` starts with one.
fn replacement(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    if status < 400 {
        return None;
    }
    let mut empty = false;
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let name = name.trim().to_ascii_lowercase();
        if name == "content-type" || name == "transfer-encoding" {
            return None;
        }
        empty |= name == "content-length" && value.trim() == "0";
    }
    if !empty {
        return None;
    }
    let (code, message) = match status {
        431 => ("headers_too_large", "the request's headers are too large or too many"),
        414 => ("uri_too_long", "the request's path is too long"),
        _ => ("bad_request", "the request is not valid HTTP/1.1"),
    };
    let body = serde_json::json!({ "error": code, "message": message }).to_string();
    let reason = head.lines().next().and_then(|l| l.get(13..)).unwrap_or("").trim();
    let reply = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    Some((reply.into_bytes(), end))
}

impl<T: AsyncWrite + Unpin> JsonErrors<T> {
    /// Writes what is left of a replacement reply.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonErrors<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if let Some((reply, head)) = replacement(buf) {
            self.pending = reply;
            self.written = 0;
            // What hyper asked to write counts as written: the reply in its
            // place goes out now or at the next flush.
            let _ = self.drain(cx)?;
            return Poll::Ready(Ok(head));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored, so hyper writes each reply's head as one buffer.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonErrors<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_error_replies_become_json_and_others_pass() {
        let hyper431 =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let (reply, head) = replacement(hyper431).expect("replaced");
        assert_eq!(head, hyper431.len());
        let text = String::from_utf8(reply).expect("utf-8");
        assert!(text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{text}");
        let body = text.split("\r\n\r\n").nth(1).expect("body");
        let json: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(json["error"], "headers_too_large");
        for kept in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n", // head not whole
            b"{\"receipt\": \"HTTP/1.1 400 \"}",
        ] {
            assert!(replacement(kept).is_none(), "{}", String::from_utf8_lossy(kept));
        }
    }
}
