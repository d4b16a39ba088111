//! The one seam between core and the network: send a request, get a reply.

use std::path::PathBuf;

/// An HTTP request to central. `path` starts with `/` and is relative to the
/// server's base URL, which only the transport knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

/// What a request carries: bytes for small requests, or a file the
/// transport streams (an upload of a large bundle or one part of it), so a
/// body is never held whole in memory. The file stays until `send`
/// returns; the transport only reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Bytes(Vec<u8>),
    /// The whole file is the body (`Content-Length` is its size).
    File(PathBuf),
}

impl Default for Body {
    fn default() -> Self {
        Body::Bytes(Vec::new())
    }
}

impl Body {
    /// The bytes of a [`Body::Bytes`]; `None` for a file.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Body::Bytes(b) => Some(b),
            Body::File(_) => None,
        }
    }

    /// The body's length in bytes (a file's size).
    pub fn len(&self) -> std::io::Result<u64> {
        match self {
            Body::Bytes(b) => Ok(b.len() as u64),
            Body::File(path) => Ok(std::fs::metadata(path)?.len()),
        }
    }

    pub fn is_empty(&self) -> std::io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The whole body in memory: for transports that cannot stream a file
    /// and for tests. Large uploads come as parts of a bounded size
    /// ([`crate::remote::UploadOptions::part_size`]), so even then memory
    /// stays bounded.
    pub fn to_vec(&self) -> std::io::Result<Vec<u8>> {
        match self {
            Body::Bytes(b) => Ok(b.clone()),
            Body::File(path) => std::fs::read(path),
        }
    }
}

/// A complete reply, whatever its status (a 4xx is an answer, not a
/// transport error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why no reply came back. Every kind may succeed when tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// No connection (refused, no route, unknown host).
    Unreachable,
    /// The connection broke during the exchange.
    Interrupted,
    TimedOut,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    pub kind: TransportErrorKind,
    pub message: String,
}

/// Moves one request to central and its reply back. Implementations follow
/// no redirects on their own judgement of safety and read at most
/// [`crate::remote::api::MAX_REPLY`] bytes of a reply.
pub trait Transport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError>;
}
