//! What an operator sees of a running server (issue 19): `/healthz`,
//! `/metrics` in the Prometheus text format, and a structured log line per
//! request and per ingest that names the device, route, status, bytes and
//! time, and never a token or an answer. On SQLite and, when the test
//! command provides a cluster, PostgreSQL.

// Test code: a failed expectation is a failed test.
#![allow(clippy::unwrap_used)]

mod common;
// Shared with the conformance suite, which uses all of it.
#[allow(dead_code)]
#[path = "conformance/stores.rs"]
mod stores;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{Device, instrument};
use enumera_central::server::ServerConfig;
use stores::Backend;

/// Every JSON log line this test process wrote (one global subscriber).
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
            .with_writer(move || Sink(sink.clone()))
            .init();
        buffer
    })
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One HTTP/1.1 request; the status and body.
fn request(addr: SocketAddr, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let auth =
        if token.is_empty() { String::new() } else { format!("Authorization: Bearer {token}\r\n") };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, reply.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

fn a_server_reports_its_health_metrics_and_requests(b: &Backend) {
    let logs = logs();
    let (mut c, _) = b.fresh_at();
    c.publish(&instrument("plain", &[])).unwrap();
    let mut d = Device::new("tablet");
    d.finalize("a secret answer", false, None);
    d.finalize("another secret answer", false, None);
    let device = d.device_id();
    let token = c.create_token(&device).unwrap();
    let (addr, stop, handle) = common::http::serve(c, ServerConfig::default());

    let (status, body) = request(addr, "GET", "/healthz", "", b"");
    assert_eq!(status, 200, "{body}");
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["database"],
        if b.kind == stores::Kind::Postgres { "postgres" } else { "sqlite" }
    );
    assert_eq!(request(addr, "POST", "/v1/bundles", &token, &d.bundle(true)).0, 200);
    assert_eq!(request(addr, "GET", "/v1/rosters/nobody", &token, b"").0, 404);
    assert_eq!(request(addr, "GET", "/no/such/thing", "", b"").0, 404);
    assert_eq!(request(addr, "GET", "/v1/receipt", "not-a-token", b"").0, 401);

    let (status, metrics) = request(addr, "GET", "/metrics", "", b"");
    assert_eq!(status, 200);
    for line in [
        r#"enumera_http_requests_total{method="POST",route="/v1/bundles",status="200"} 1"#,
        r#"enumera_http_requests_total{method="GET",route="/healthz",status="200"} 1"#,
        r#"enumera_http_requests_total{method="GET",route="/v1/rosters/{name}",status="404"} 1"#,
        r#"enumera_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"enumera_http_requests_total{method="GET",route="/v1/receipt",status="401"} 1"#,
        r#"enumera_ingests_total{outcome="ok"} 1"#,
        "enumera_ingested_responses_total 2",
        "enumera_ingested_duplicates_total 0",
        r#"enumera_http_request_duration_seconds_count{route="/v1/bundles"} 1"#,
        "# TYPE enumera_db_pool_idle_connections gauge",
        "# TYPE enumera_db_serialization_retries gauge",
        "# EOF",
    ] {
        assert!(metrics.lines().any(|l| l == line), "no {line:?} in\n{metrics}");
    }
    let _ = stop.send(());
    handle.join().unwrap();

    // The log: this device's upload and ingest, as JSON lines, and not
    // one token or answer anywhere in it.
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(!text.contains(&token), "a token in the log");
    assert!(!text.contains("not-a-token"), "a rejected token in the log");
    assert!(!text.contains("secret answer"), "an answer in the log");
    let events: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let mine = |e: &&serde_json::Value| e["fields"]["device"] == device.as_str();
    let upload = events
        .iter()
        .filter(mine)
        .find(|e| e["fields"]["route"] == "/v1/bundles")
        .expect("a request line for the upload");
    assert_eq!(upload["fields"]["status"], 200);
    assert_eq!(upload["fields"]["method"], "POST");
    assert!(upload["fields"]["bytes_in"].as_u64().unwrap() > 0);
    assert!(upload["fields"]["bytes_out"].as_u64().unwrap() > 0);
    assert!(upload["fields"]["ms"].as_f64().unwrap() >= 0.0);
    let ingest = events
        .iter()
        .filter(mine)
        .find(|e| e["fields"]["message"] == "ingest")
        .expect("an ingest summary");
    assert_eq!(ingest["fields"]["new_responses"], 2);
    assert_eq!(ingest["target"], "enumera::ingest");
}

#[test]
fn sqlite_server_reports_health_metrics_and_requests() {
    if let Some(b) = Backend::sqlite() {
        a_server_reports_its_health_metrics_and_requests(&b);
    }
}

#[test]
fn postgres_server_reports_health_metrics_and_requests() {
    if let Some(b) = Backend::postgres() {
        a_server_reports_its_health_metrics_and_requests(&b);
    }
}
