//! The CLI's blocking HTTP transport for `device sync` (ureq). Core builds
//! the requests and reads the replies; this only moves bytes. A file body
//! (a bundle, or one part of it) is streamed from the file with its size
//! as `Content-Length`, never read whole into memory.

use std::time::Duration;

use enumera_core::remote::api::MAX_REPLY;
use enumera_core::remote::{
    Body, HttpRequest, HttpResponse, Transport, TransportError, TransportErrorKind,
};

#[derive(Debug)]
pub struct UreqTransport {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    base: String,
    agent: ureq::Agent,
}

impl UreqTransport {
    pub fn new(base: &str, timeout: Duration) -> Result<Self, String> {
        let base = base.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!("--server {base:?} must start with http:// or https://"));
        }
        let config = ureq::Agent::config_builder()
            // A 4xx/5xx is an answer for core to read, not a transport error.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_global(Some(timeout))
            // Redirects would resend a bundle and token to another place.
            .max_redirects(0)
            .build();
        Ok(UreqTransport { base, agent: config.into() })
    }
}

fn kind_of(e: &ureq::Error) -> TransportErrorKind {
    use std::io::ErrorKind as Io;
    match e {
        ureq::Error::Timeout(_) => TransportErrorKind::TimedOut,
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            TransportErrorKind::Unreachable
        }
        ureq::Error::Io(io) => match io.kind() {
            Io::ConnectionRefused | Io::AddrNotAvailable | Io::NotFound => {
                TransportErrorKind::Unreachable
            }
            Io::TimedOut | Io::WouldBlock => TransportErrorKind::TimedOut,
            _ => TransportErrorKind::Interrupted,
        },
        _ => TransportErrorKind::Other,
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = format!("{}{}", self.base, request.path);
        let fail =
            |e: ureq::Error| TransportError { kind: kind_of(&e), message: format!("{url}: {e}") };
        let mut builder = ureq::http::Request::builder().method(request.method.as_str()).uri(&url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let other = |e: &dyn std::fmt::Display| TransportError {
            kind: TransportErrorKind::Other,
            message: format!("{url}: {e}"),
        };
        let mut response = match &request.body {
            Body::Bytes(bytes) => {
                let http_request = builder.body(bytes.as_slice()).map_err(|e| other(&e))?;
                self.agent.run(http_request)
            }
            Body::File(path) => {
                let file = std::fs::File::open(path)
                    .map_err(|e| other(&format!("the body file {}: {e}", path.display())))?;
                let http_request = builder.body(file).map_err(|e| other(&e))?;
                self.agent.run(http_request)
            }
        }
        .map_err(fail)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body =
            response.body_mut().with_config().limit(MAX_REPLY).read_to_vec().map_err(fail)?;
        Ok(HttpResponse { status, headers, body })
    }
}
