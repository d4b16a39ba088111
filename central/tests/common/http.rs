//! The HTTP server in-process on a free port, and a minimal std-only
//! client transport for core's sync steps (as the apps drive them through
//! theirs): what the server, form media and two-server tests share.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use enumera_central::server::{Server, ServerConfig};
use enumera_central::{AnyStore, Central, Location};
use enumera_core::remote::{
    HttpRequest, HttpResponse, Transport, TransportError, TransportErrorKind,
};

/// A server on a free port, serving until the returned sender is used or
/// dropped; the handle ends when it has shut down.
pub fn serve(
    central: impl Into<Central<AnyStore>>,
    config: ServerConfig,
) -> (SocketAddr, mpsc::Sender<()>, thread::JoinHandle<()>) {
    let server = Server::bind(central, "127.0.0.1:0", config).expect("bind");
    let addr = server.local_addr().expect("addr");
    let (stop, stopped) = mpsc::channel::<()>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    thread::spawn(move || {
        let _ = stopped.recv();
        let _ = tx.send(());
    });
    let handle = thread::spawn(move || {
        server
            .run(async move {
                let _ = rx.await;
            })
            .expect("serve");
    });
    (addr, stop, handle)
}

/// A server with the default configuration over its own connection to
/// `at` (a test can start two on one database).
pub fn serve_at(at: &Location) -> (SocketAddr, mpsc::Sender<()>, thread::JoinHandle<()>) {
    let central: Central<AnyStore> = Central::open_at(at).expect("open");
    serve(central, ServerConfig::default())
}

/// HTTP/1.1 over a std TcpStream, one connection per request. A file body
/// is read whole (the tests' bundles are small); a chunked reply (a whole
/// form media file is streamed) is joined.
pub struct StdTransport(pub SocketAddr);

impl Transport for StdTransport {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let fail = |kind| move |e: std::io::Error| TransportError { kind, message: e.to_string() };
        let mut stream =
            TcpStream::connect(self.0).map_err(fail(TransportErrorKind::Unreachable))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(fail(TransportErrorKind::Other))?;
        let mut head =
            format!("{} {} HTTP/1.1\r\nHost: {}\r\n", request.method, request.path, self.0);
        for (k, v) in &request.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let body = request.body.to_vec().map_err(fail(TransportErrorKind::Other))?;
        head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
        stream.write_all(head.as_bytes()).map_err(fail(TransportErrorKind::Interrupted))?;
        stream.write_all(&body).map_err(fail(TransportErrorKind::Interrupted))?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).map_err(fail(TransportErrorKind::Interrupted))?;
        let split = reply.windows(4).position(|w| w == b"\r\n\r\n").ok_or(TransportError {
            kind: TransportErrorKind::Interrupted,
            message: "no complete reply head".into(),
        })?;
        let head = String::from_utf8_lossy(&reply[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let mut body = reply[split + 4..].to_vec();
        if headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
        }) {
            body = unchunk(&body).ok_or(TransportError {
                kind: TransportErrorKind::Interrupted,
                message: "a chunked reply cut short".into(),
            })?;
        }
        Ok(HttpResponse { status, headers, body })
    }
}

/// The body of a chunked reply; `None` when it is cut short or malformed.
fn unchunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..eol]).ok()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(eol + 2..eol + 2 + size)?);
        data = data.get(eol + 2 + size + 2..)?;
    }
}
