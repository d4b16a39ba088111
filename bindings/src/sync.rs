//! Talking to central through the app's transport: rosters and published
//! forms come down; finalized responses go up as bundles and a receipt
//! comes back (once the bundle layer is in core).
//!
//! Paths are relative to the server's base URL, which the transport holds.

use std::collections::HashMap;
use std::sync::Arc;

use crate::Result;
use crate::store::DeviceStore;
use crate::transport::{HttpRequest, HttpTransport, exchange};
use crate::types::{InstalledForm, RosterSummary, SyncReport};

/// The roster of participants this device may interview.
pub const ROSTER_PATH: &str = "/v1/roster";
/// Where bundles are posted; the answer is the device's signed receipt.
pub const BUNDLES_PATH: &str = "/v1/bundles";
/// A published form, by id (`/v1/forms/{form_id}`): the instrument as JSON.
pub const FORMS_PATH: &str = "/v1/forms";

/// Sync with central for one device store, through the app's transport.
#[derive(uniffi::Object)]
pub struct SyncClient {
    store: Arc<DeviceStore>,
    transport: Arc<dyn HttpTransport>,
    /// The device's bearer token, issued by central at enrolment.
    token: String,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("SyncClient").finish_non_exhaustive()
    }
}

impl SyncClient {
    fn request(
        &self,
        method: &str,
        path: String,
        body: Vec<u8>,
        content_type: &str,
    ) -> HttpRequest {
        let mut headers = HashMap::new();
        headers.insert("Authorization".to_string(), format!("Bearer {}", self.token));
        headers.insert("Accept".to_string(), "application/json".to_string());
        if !body.is_empty() {
            headers.insert("Content-Type".to_string(), content_type.to_string());
        }
        HttpRequest { method: method.into(), path, headers, body }
    }
}

#[uniffi::export]
impl SyncClient {
    #[uniffi::constructor]
    pub fn new(
        store: Arc<DeviceStore>,
        transport: Arc<dyn HttpTransport>,
        token: String,
    ) -> Arc<Self> {
        Arc::new(SyncClient { store, transport, token })
    }

    /// Downloads the roster and imports it (added, updated, unchanged).
    pub fn fetch_roster(&self) -> Result<RosterSummary> {
        let body = exchange(&*self.transport, self.request("GET", ROSTER_PATH.into(), vec![], ""))?;
        self.store.import_roster(body)
    }

    /// Sends the responses no receipt covers yet as one bundle and applies
    /// the receipt central answers with. Safe to repeat after any failure:
    /// ingest is idempotent, and only a receipt marks anything sent.
    pub fn sync(&self) -> Result<SyncReport> {
        let (info, bundle) = self.store.bundle_bytes()?;
        if info.responses == 0 {
            return Ok(SyncReport { sent: 0, bundle_bytes: 0, receipt: None });
        }
        let request =
            self.request("POST", BUNDLES_PATH.into(), bundle, "application/vnd.enumera.bundle");
        let receipt = exchange(&*self.transport, request)?;
        let report = self.store.apply_receipt(receipt)?;
        Ok(SyncReport { sent: info.responses, bundle_bytes: info.bytes, receipt: Some(report) })
    }

    /// Downloads a published form and installs it.
    pub fn fetch_form(&self, form_id: String) -> Result<InstalledForm> {
        let path = format!("{FORMS_PATH}/{}", percent_encode(&form_id));
        let body = exchange(&*self.transport, self.request("GET", path, vec![], ""))?;
        self.store.install_form_bytes(body, format!("{form_id}.json"))
    }
}

/// Escapes everything but unreserved URL characters in a path segment.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EnumeraError;
    use crate::transport::HttpResponse;
    use std::sync::Mutex;

    /// Answers every request with `status` and `body`; keeps what it was sent.
    struct Fake {
        status: u16,
        body: Vec<u8>,
        seen: Mutex<Vec<HttpRequest>>,
    }

    impl HttpTransport for Fake {
        fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
            self.seen
                .lock()
                .map_err(|_| EnumeraError::Internal { reason: "lock".into() })?
                .push(request);
            Ok(HttpResponse {
                status: self.status,
                headers: HashMap::new(),
                body: self.body.clone(),
            })
        }
    }

    fn client(status: u16, body: &[u8]) -> (tempfile::TempDir, Arc<Fake>, Arc<SyncClient>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("device.db").to_string_lossy().into_owned();
        let store = DeviceStore::open(path).expect("open");
        let fake = Arc::new(Fake { status, body: body.to_vec(), seen: Mutex::new(vec![]) });
        let sync = SyncClient::new(store, fake.clone(), "secret-token".into());
        (dir, fake, sync)
    }

    #[test]
    fn a_roster_is_fetched_with_the_token_and_imported() {
        let (_dir, fake, sync) = client(200, br#"[{"id": "MZ-0042"}]"#);
        assert_eq!(sync.fetch_roster().map(|r| r.added), Ok(1));
        let seen = fake.seen.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(seen.len(), 1);
        assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("GET", ROSTER_PATH));
        assert_eq!(
            seen[0].headers.get("Authorization").map(String::as_str),
            Some("Bearer secret-token")
        );
        assert!(!format!("{sync:?}").contains("secret"), "the token stays out of logs");
    }

    #[test]
    fn an_error_status_is_a_network_error_and_changes_nothing() {
        let (_dir, _fake, sync) = client(503, b"");
        assert_eq!(
            sync.fetch_roster(),
            Err(EnumeraError::Network { detail: "the server answered 503 to /v1/roster".into() })
        );
        assert_eq!(sync.store.participants().map(|p| p.len()), Ok(0));
    }

    #[test]
    fn nothing_to_send_posts_nothing() {
        let (_dir, fake, sync) = client(200, b"");
        sync.store.init_device("t".into(), None).expect("init");
        let report = sync.sync().expect("sync");
        assert_eq!((report.sent, report.receipt), (0, None));
        assert!(fake.seen.lock().map(|s| s.is_empty()).unwrap_or(false));
    }

    #[test]
    fn form_ids_are_escaped_in_paths() {
        assert_eq!(percent_encode("p2p_capacity"), "p2p_capacity");
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
    }
}
