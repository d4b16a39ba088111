//! The HTTP transport is the app's: OkHttp on Android, URLSession on iOS,
//! anything in tests. Rust says what to send; the app sends it, with its own
//! TLS, proxy and certificate settings, and hands back the answer. Keeping
//! the network out of Rust keeps the library small and free of async.

use std::collections::HashMap;

use crate::Result;

/// One request to the central server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// Path and query under the server's base URL (`/v1/bundles`).
    pub path: String,
    /// Includes `Authorization: Bearer <device token>` where the call needs it.
    pub headers: HashMap<String, String>,
    /// The body in memory (small requests); empty when `body_path` is set.
    pub body: Vec<u8>,
    /// A file whose whole content is the body (a bundle, or one part of a
    /// large one: at most 8 MiB): stream it, e.g. OkHttp's
    /// `File.asRequestBody()` or URLSession's `uploadTask(with:fromFile:)`,
    /// with its size as `Content-Length`. The file stays until `send`
    /// returns; then Enumera removes or reuses it.
    pub body_path: Option<String>,
}

/// The server's answer, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// Sends requests to the central server; implemented by the app.
///
/// Throw `EnumeraError.Network` for a failure the user should see as such
/// (offline, timeout, TLS); the sync call that asked throws the same error
/// back. Any other exception arrives as `Network` too, with its text. A
/// non-2xx status is not an error here: return it, and the sync call turns
/// it into `Network` (worth retrying) or `Refused` (not).
#[uniffi::export(foreign)]
pub trait HttpTransport: Send + Sync {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}
