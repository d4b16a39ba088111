//! Sync with central through the app's transport. The protocol is core's
//! ([`enumera_core::remote`], the same code `enumera device sync` runs):
//! this file only adapts the app's [`HttpTransport`] to core's `Transport`
//! and converts what comes back.
//!
//! A sync opens its own connection to the device database, so the app's
//! interview screens keep saving answers while a slow upload is under way
//! (SQLite serialises the few short write transactions).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use enumera_core::remote::{self, Transport, TransportError, TransportErrorKind};
use enumera_core::store::Store;

use crate::store::DeviceStore;
use crate::transport::{HttpRequest, HttpResponse, HttpTransport};
use crate::types::{
    AssignmentsReport, FormKey, FormRefused, ReceiptReport, ReturnsReport, RosterFetched,
    SyncReport,
};
use crate::{EnumeraError, Result};

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
    /// Runs one core sync step on a connection of its own, turning a
    /// transport failure back into exactly what the app's transport threw.
    fn run<T>(
        &self,
        step: impl FnOnce(&mut Store, &dyn Transport, &str) -> Result<T, remote::SyncError>,
    ) -> Result<T> {
        let path = self.store.lock().path().to_path_buf();
        let mut store = Store::open_existing(&path)?;
        let transport = Foreign { app: &*self.transport, thrown: Mutex::new(None) };
        step(&mut store, &transport, &self.token).map_err(|e| match e {
            remote::SyncError::Transport { .. } => transport.take_thrown().unwrap_or(e.into()),
            e => e.into(),
        })
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

    /// Everything in one call: uploads the responses no receipt covers yet
    /// and applies central's receipt, installs newly published forms and
    /// imports the rosters. Safe to repeat after any failure: every step is
    /// idempotent, central keeps each response once, and only a receipt
    /// marks a response sent.
    pub fn sync(&self) -> Result<SyncReport> {
        self.run(remote::sync).map(SyncReport::from)
    }

    /// Only the upload and its receipt (e.g. right after finalizing).
    pub fn upload(&self) -> Result<SyncReport> {
        let up = self.run(remote::upload)?;
        Ok(SyncReport::from(remote::SyncReport {
            uploaded: up.as_ref().map_or(0, |u| u.responses),
            bundle_bytes: up.as_ref().map_or(0, |u| u.bytes),
            receipt: up.map(|u| u.receipt),
            ..Default::default()
        }))
    }

    /// Only what comes down: newly published forms and the rosters (e.g. at
    /// the start of a field day, before anything is finalized).
    pub fn fetch_updates(&self) -> Result<SyncReport> {
        let (forms, rosters) = self.run(updates)?;
        Ok(SyncReport::from(remote::SyncReport {
            instruments_installed: forms.installed,
            instruments_present: forms.present,
            instruments_refused: forms.refused,
            media_fetched: forms.media_fetched,
            media_missing: forms.media_missing,
            rosters,
            ..Default::default()
        }))
    }

    /// Fetches and applies central's signed returns: responses of this
    /// device a reviewer sent back, with their comments (also part of
    /// `sync`). `None` before the device knows central's key.
    pub fn fetch_returns(&self) -> Result<Option<ReturnsReport>> {
        Ok(self.run(remote::fetch_returns)?.map(Into::into))
    }

    /// Reports what this device has done of its assignments and applies
    /// central's signed assignments file in reply (also part of `sync`).
    /// `None` when central has no assignments endpoint.
    pub fn fetch_assignments(&self) -> Result<Option<AssignmentsReport>> {
        Ok(self.run(remote::fetch_assignments)?.map(Into::into))
    }

    /// Fetches and applies the device's latest receipt, for an upload whose
    /// reply was lost. `None` when central holds nothing from this device.
    pub fn fetch_receipt(&self) -> Result<Option<ReceiptReport>> {
        Ok(self.run(remote::fetch_receipt)?.map(ReceiptReport::from))
    }
}

/// Forms, then rosters: [`SyncClient::fetch_updates`] as one core step.
// Core's own error, converted by the caller at once; boxing it would only
// add an allocation on the error path.
#[allow(clippy::result_large_err)]
fn updates(
    store: &mut Store,
    transport: &dyn Transport,
    token: &str,
) -> Result<Updates, remote::SyncError> {
    let forms = remote::fetch_instruments(store, transport, token)?;
    Ok((forms, remote::fetch_rosters(store, transport, token)?))
}

type Updates = (remote::InstrumentsFetched, Vec<remote::RosterFetched>);

/// Core's `Transport` over the app's: converts the records and keeps what
/// the app threw, so it reaches the app again unchanged.
struct Foreign<'a> {
    app: &'a dyn HttpTransport,
    thrown: Mutex<Option<EnumeraError>>,
}

impl Foreign<'_> {
    fn take_thrown(&self) -> Option<EnumeraError> {
        self.thrown.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl Transport for Foreign<'_> {
    fn send(&self, request: &remote::HttpRequest) -> Result<remote::HttpResponse, TransportError> {
        let mut headers: HashMap<String, String> = HashMap::new();
        for (name, value) in &request.headers {
            // A map on the app's side: repeated headers join as HTTP allows.
            headers
                .entry(name.clone())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(value);
                })
                .or_insert_with(|| value.clone());
        }
        let (body, body_path) = match &request.body {
            remote::Body::Bytes(bytes) => (bytes.clone(), None),
            remote::Body::File(path) => (Vec::new(), Some(path.to_string_lossy().into_owned())),
        };
        let sent = self.app.send(HttpRequest {
            method: request.method.clone(),
            path: request.path.clone(),
            headers,
            body,
            body_path,
        });
        match sent {
            Ok(HttpResponse { status, headers, body }) => {
                Ok(remote::HttpResponse { status, headers: headers.into_iter().collect(), body })
            }
            Err(thrown) => {
                let message = match &thrown {
                    EnumeraError::Network { detail } => detail.clone(),
                    other => other.to_string(),
                };
                *self.thrown.lock().unwrap_or_else(|p| p.into_inner()) = Some(thrown);
                Err(TransportError { kind: TransportErrorKind::Other, message })
            }
        }
    }
}

impl From<remote::SyncReport> for SyncReport {
    fn from(r: remote::SyncReport) -> Self {
        SyncReport {
            uploaded: r.uploaded as u64,
            bundle_bytes: r.bundle_bytes,
            receipt: r.receipt.map(ReceiptReport::from),
            forms_installed: r
                .instruments_installed
                .into_iter()
                .map(|k| FormKey { form_id: k.form_id, version: k.version, hash: k.hash })
                .collect(),
            forms_present: r.instruments_present as u64,
            forms_refused: r
                .instruments_refused
                .into_iter()
                .map(|f| FormRefused {
                    form: FormKey { form_id: f.form_id, version: f.version, hash: f.hash },
                    reason: f.reason,
                })
                .collect(),
            rosters: r
                .rosters
                .into_iter()
                .map(|f| RosterFetched { name: f.name, summary: f.import.into() })
                .collect(),
            returns: r.returns.map(Into::into),
            assignments: r.assignments.map(Into::into),
            media_fetched: r.media_fetched as u64,
            media_missing: r
                .media_missing
                .into_iter()
                .map(|m| crate::types::FormMediaMissing {
                    form_id: m.form_id,
                    version: m.version,
                    name: m.name,
                    reason: m.reason,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers every request with `status` and `body`, or throws `error`;
    /// keeps what it was sent.
    struct Fake {
        status: u16,
        body: Vec<u8>,
        error: Option<EnumeraError>,
        seen: Mutex<Vec<HttpRequest>>,
    }

    impl HttpTransport for Fake {
        fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
            self.seen.lock().unwrap_or_else(|p| p.into_inner()).push(request);
            if let Some(e) = &self.error {
                return Err(e.clone());
            }
            Ok(HttpResponse {
                status: self.status,
                headers: HashMap::new(),
                body: self.body.clone(),
            })
        }
    }

    fn client(fake: Fake) -> (tempfile::TempDir, Arc<Fake>, Arc<SyncClient>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("device.db").to_string_lossy().into_owned();
        let store = DeviceStore::open(path).expect("open");
        store.init_device("t".into(), None).expect("init");
        let fake = Arc::new(fake);
        let sync = SyncClient::new(store, fake.clone(), "secret-token".into());
        (dir, fake, sync)
    }

    fn answering(status: u16, body: &[u8]) -> Fake {
        Fake { status, body: body.to_vec(), error: None, seen: Mutex::new(vec![]) }
    }

    fn seen(fake: &Fake) -> Vec<HttpRequest> {
        fake.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    #[test]
    fn updates_use_core_paths_and_the_token() {
        let (_dir, fake, sync) = client(answering(200, b"[]"));
        let report = sync.fetch_updates().expect("fetch");
        assert_eq!((report.forms_installed.len(), report.rosters.len()), (0, 0));
        let seen = seen(&fake);
        let paths: Vec<_> = seen.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
        assert_eq!(
            paths,
            [("GET", remote::api::INSTRUMENTS), ("GET", remote::api::ROSTERS)],
            "the paths central serves"
        );
        assert_eq!(
            seen[0].headers.get("Authorization").map(String::as_str),
            Some("Bearer secret-token")
        );
        assert!(!format!("{sync:?}").contains("secret"), "the token stays out of logs");
    }

    #[test]
    fn a_server_failure_is_a_network_error_and_changes_nothing() {
        let (_dir, _fake, sync) = client(answering(503, br#"{"error":"busy","message":"later"}"#));
        match sync.fetch_updates() {
            Err(EnumeraError::Network { detail }) => assert!(detail.contains("503"), "{detail}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(sync.store.participants().map(|p| p.len()), Ok(0));
    }

    #[test]
    fn a_refused_token_is_refused_not_retried() {
        let (_dir, _fake, sync) = client(answering(
            401,
            br#"{"error":"bad_token","message":"unknown or revoked token"}"#,
        ));
        match sync.fetch_updates() {
            Err(EnumeraError::Refused { status: 401, detail, .. }) => {
                assert!(detail.contains("unknown or revoked token"), "{detail}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_the_app_throws_comes_back_unchanged() {
        let thrown = EnumeraError::Internal { reason: "certificate pinning failed".into() };
        let (_dir, _fake, sync) = client(Fake {
            status: 0,
            body: vec![],
            error: Some(thrown.clone()),
            seen: Mutex::new(vec![]),
        });
        assert_eq!(sync.fetch_updates(), Err(thrown));
    }

    #[test]
    fn nothing_to_send_posts_nothing() {
        let (_dir, fake, sync) = client(answering(200, b""));
        let report = sync.upload().expect("upload");
        assert_eq!((report.uploaded, report.receipt), (0, None));
        assert!(seen(&fake).is_empty());
    }

    #[test]
    fn repeated_headers_join() {
        let fake = answering(200, b"[]");
        let foreign = Foreign { app: &fake, thrown: Mutex::new(None) };
        let request = remote::HttpRequest {
            method: "GET".into(),
            path: "/v1/rosters".into(),
            headers: vec![("Accept".into(), "a".into()), ("Accept".into(), "b".into())],
            body: remote::Body::default(),
        };
        assert_eq!(foreign.send(&request).map(|r| r.status), Ok(200));
        assert_eq!(seen(&fake)[0].headers.get("Accept").map(String::as_str), Some("a, b"));
    }

    #[test]
    fn a_file_body_reaches_the_app_as_its_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("bundle");
        std::fs::write(&file, b"bundle bytes").expect("write");
        let fake = answering(200, b"{}");
        let foreign = Foreign { app: &fake, thrown: Mutex::new(None) };
        let request = remote::HttpRequest {
            method: "POST".into(),
            path: remote::api::BUNDLES.into(),
            headers: vec![],
            body: remote::Body::File(file.clone()),
        };
        assert_eq!(foreign.send(&request).map(|r| r.status), Ok(200));
        let sent = &seen(&fake)[0];
        assert!(sent.body.is_empty());
        assert_eq!(sent.body_path.as_deref(), Some(file.to_string_lossy().as_ref()));
    }
}
