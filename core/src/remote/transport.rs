//! The one seam between core and the network: send a request, get a reply.

/// An HTTP request to central. `path` starts with `/` and is relative to the
/// server's base URL, which only the transport knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
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
