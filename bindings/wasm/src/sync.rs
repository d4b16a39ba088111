//! Sync with central from the browser: core's protocol
//! ([`enumera_core::remote`], the code `enumera device sync` runs) over the
//! web app's `fetch`, through [`crate::replay`]'s passes. This file adapts
//! the app's [`HttpTransport`] and converts what comes back; the calls and
//! reports are enumera-ffi's `SyncClient`'s.

use enumera_core::remote::{self, HttpRequest, HttpResponse, TransportError, TransportErrorKind};
use wasm_bindgen::prelude::*;

use crate::errors::{EnumeraError, Result};
use crate::replay::{Pass, Replay, Step, implied_by};
use crate::store::{DeviceStore, Shared};
use crate::types::{FormKey, FormRefused, ReceiptReport, RosterFetched, SyncReport, to_js};

#[wasm_bindgen]
extern "C" {
    /// The app's HTTP client (`web/src/engine/transport.ts`).
    #[wasm_bindgen(typescript_type = "HttpTransport")]
    #[derive(Debug)]
    pub type HttpTransport;

    #[wasm_bindgen(method, catch)]
    fn send(
        this: &HttpTransport,
        request: JsValue,
    ) -> std::result::Result<js_sys::Promise, JsValue>;
}

/// Sync with central for one device store, through the app's transport.
#[wasm_bindgen]
pub struct SyncClient {
    store: Shared,
    transport: HttpTransport,
    /// The device's bearer token, issued by central.
    token: String,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("SyncClient").finish_non_exhaustive()
    }
}

impl SyncClient {
    /// Runs one core step to the end, fetching what each pass needs.
    async fn drive<T>(&self, step: &Step<T>) -> Result<T> {
        let mut replay = Replay::default();
        loop {
            let pass = {
                let mut store = self.store.try_borrow_mut().map_err(|_| busy())?;
                replay.pass(&mut store, &self.token, step)
            };
            match pass {
                Pass::Done(result) => return result.map_err(EnumeraError::from),
                Pass::Need(request) => {
                    let reply = self.fetch(&request).await;
                    let implied = {
                        let store = self.store.try_borrow().map_err(|_| busy())?;
                        implied_by(&store, &request, &reply)
                    };
                    replay.record(request, reply);
                    for r in implied {
                        if !replay.has(&r) {
                            let reply = self.fetch(&r).await;
                            replay.record(r, reply);
                        }
                    }
                }
            }
        }
    }

    /// One exchange through the app's transport. A rejected promise is a
    /// network failure, with the app's message.
    async fn fetch(
        &self,
        request: &HttpRequest,
    ) -> std::result::Result<HttpResponse, TransportError> {
        let failed = |e: JsValue| TransportError {
            kind: TransportErrorKind::Unreachable,
            message: js_message(&e),
        };
        let promise = self.transport.send(request_to_js(request)).map_err(failed)?;
        let reply = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(failed)?;
        response_from_js(&reply)
            .map_err(|message| TransportError { kind: TransportErrorKind::Other, message })
    }

    async fn upload_report(&self) -> Result<SyncReport> {
        // Counted from the outbox: a backlog sent in several bundles takes
        // several passes, each acting on the receipts it was given.
        let before = self.unsent()?;
        let up = self.drive(&remote::upload_in_memory).await?;
        let after = self.unsent()?;
        let marked: Vec<u64> = before.iter().copied().filter(|s| !after.contains(s)).collect();
        Ok(SyncReport {
            uploaded: marked.len() as u64,
            bundle_bytes: up.as_ref().map_or(0, |u| u.bytes),
            receipt: up.map(|u| ReceiptReport {
                already_sent: u
                    .receipt
                    .already_sent
                    .into_iter()
                    .filter(|s| !marked.contains(s))
                    .collect(),
                not_matching: u.receipt.not_matching.len() as u64,
                central_key_learned: u.receipt.central_key_learned,
                marked,
            }),
            ..Default::default()
        })
    }

    async fn updates_report(&self) -> Result<SyncReport> {
        let forms = self.drive(&remote::fetch_instruments).await?;
        let rosters = self.drive(&remote::fetch_rosters).await?;
        Ok(SyncReport {
            forms_installed: forms
                .installed
                .into_iter()
                .map(|k| FormKey { form_id: k.form_id, version: k.version, hash: k.hash })
                .collect(),
            forms_present: forms.present as u64,
            forms_refused: forms
                .refused
                .into_iter()
                .map(|f| FormRefused {
                    form: FormKey { form_id: f.form_id, version: f.version, hash: f.hash },
                    reason: f.reason,
                })
                .collect(),
            rosters: rosters
                .into_iter()
                .map(|f| RosterFetched { name: f.name, summary: f.import.into() })
                .collect(),
            media_fetched: forms.media_fetched as u64,
            media_missing: forms.media_missing.into_iter().map(Into::into).collect(),
            ..Default::default()
        })
    }

    fn unsent(&self) -> Result<Vec<u64>> {
        let store = self.store.try_borrow().map_err(|_| busy())?;
        Ok(store.outbox(0, true)?.into_iter().map(|e| e.seq).collect())
    }
}

fn busy() -> EnumeraError {
    EnumeraError::Internal { reason: "the device store is busy with another call".into() }
}

#[wasm_bindgen]
impl SyncClient {
    #[wasm_bindgen(constructor)]
    pub fn new(store: &DeviceStore, transport: HttpTransport, token: String) -> SyncClient {
        SyncClient { store: store.store.clone(), transport, token }
    }

    /// Everything in one call: uploads the responses no receipt covers yet
    /// and applies central's receipt, installs newly published forms,
    /// imports the rosters, reports its assignments' progress and applies
    /// its assignments and returns. Safe to repeat after any failure.
    #[wasm_bindgen(unchecked_return_type = "SyncReport")]
    pub async fn sync(&self) -> Result<JsValue> {
        let mut report = self.upload_report().await?;
        let updates = self.updates_report().await?;
        report.forms_installed = updates.forms_installed;
        report.forms_present = updates.forms_present;
        report.forms_refused = updates.forms_refused;
        report.rosters = updates.rosters;
        report.media_fetched = updates.media_fetched;
        report.media_missing = updates.media_missing;
        report.assignments = self.drive(&remote::fetch_assignments).await?.map(Into::into);
        report.returns = self.drive(&remote::fetch_returns).await?.map(Into::into);
        to_js(&report)
    }

    /// Only the upload and its receipt.
    #[wasm_bindgen(unchecked_return_type = "SyncReport")]
    pub async fn upload(&self) -> Result<JsValue> {
        to_js(&self.upload_report().await?)
    }

    /// Only what comes down: newly published forms and the rosters. Also
    /// what set-up calls to check central's address and the token.
    #[wasm_bindgen(js_name = fetchUpdates, unchecked_return_type = "SyncReport")]
    pub async fn fetch_updates(&self) -> Result<JsValue> {
        to_js(&self.updates_report().await?)
    }

    /// Fetches and applies the device's latest receipt, for an upload whose
    /// reply was lost. `null` when central holds nothing from this device.
    #[wasm_bindgen(js_name = fetchReceipt, unchecked_return_type = "ReceiptReport | null")]
    pub async fn fetch_receipt(&self) -> Result<JsValue> {
        let report = self.drive(&remote::fetch_receipt).await?;
        to_js(&report.map(ReceiptReport::from))
    }
}

fn request_to_js(r: &HttpRequest) -> JsValue {
    let o = js_sys::Object::new();
    let headers = js_sys::Array::new();
    for (k, v) in &r.headers {
        headers.push(&js_sys::Array::of2(&k.into(), &v.into()));
    }
    let fields: [(&str, JsValue); 4] = [
        ("method", r.method.as_str().into()),
        ("path", r.path.as_str().into()),
        ("headers", headers.into()),
        ("body", js_sys::Uint8Array::from(r.body.bytes().unwrap_or_default()).into()),
    ];
    for (k, v) in fields {
        let _ = js_sys::Reflect::set(&o, &k.into(), &v);
    }
    o.into()
}

fn response_from_js(v: &JsValue) -> std::result::Result<HttpResponse, String> {
    let get = |k: &str| js_sys::Reflect::get(v, &k.into()).unwrap_or(JsValue::UNDEFINED);
    let status = get("status")
        .as_f64()
        .filter(|s| (100.0..600.0).contains(s))
        .ok_or("the transport gave no HTTP status")? as u16;
    let mut headers = Vec::new();
    let list = get("headers");
    if js_sys::Array::is_array(&list) {
        for pair in js_sys::Array::from(&list).iter() {
            let pair = js_sys::Array::from(&pair);
            if let (Some(k), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                headers.push((k, v));
            }
        }
    }
    let body = get("body");
    let body = if body.is_instance_of::<js_sys::Uint8Array>() {
        js_sys::Uint8Array::from(body).to_vec()
    } else {
        Vec::new()
    };
    Ok(HttpResponse { status, headers, body })
}

/// The message of whatever JavaScript threw.
fn js_message(e: &JsValue) -> String {
    if let Some(s) = e.as_string() {
        return s;
    }
    js_sys::Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| "the request failed".into())
}
