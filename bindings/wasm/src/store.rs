//! The device database as the web app sees it: one `DeviceStore` per
//! database, shared by every screen and interview. It lives in the
//! dedicated worker that owns the Origin Private File System pool
//! (`crate::opfs`); every call commits before it returns.

use std::cell::{RefCell, RefMut};
use std::rc::Rc;

use enumera_core::bundle::{BundleOptions, apply_receipt, write_bundle};
use enumera_core::fill::Start;
use enumera_core::instrument::{Imported, Severity};
use enumera_core::store::Store;
use wasm_bindgen::prelude::*;

use crate::errors::{EnumeraError, Result};
use crate::interview::Interview;
use crate::types::{
    BundleInfo, CentralTrust, DeviceInfo, InstalledForm, OutboxItem, ParticipantInfo,
    ReceiptReport, ResponseSummary, RosterSummary, StateCounts, TrustReport, to_js,
};

/// The store, shared by the `DeviceStore`, its interviews and sync clients.
/// JavaScript is single-threaded and no borrow is held across an `await`.
pub(crate) type Shared = Rc<RefCell<Store>>;

/// The device's database: installed forms, responses, the roster, the outbox.
#[wasm_bindgen]
#[derive(Debug)]
pub struct DeviceStore {
    pub(crate) store: Shared,
}

impl DeviceStore {
    pub(crate) fn lock(&self) -> Result<RefMut<'_, Store>> {
        self.store.try_borrow_mut().map_err(|_| EnumeraError::Internal {
            reason: "the device store is busy with another call".into(),
        })
    }

    /// Opens `name` in SQLite's current default file system.
    pub(crate) fn open_named(name: &str) -> Result<DeviceStore> {
        // No folder beside the database in the browser: attachment content
        // is kept in the database's own OPFS file (core's attachment table).
        let place = enumera_core::store::AttachmentPlace::Database;
        let store = Store::open_keeping_attachments(name, place)?;
        Ok(DeviceStore { store: Rc::new(RefCell::new(store)) })
    }
}

#[wasm_bindgen]
impl DeviceStore {
    /// Opens (creating when missing) the device database `name` in the
    /// Origin Private File System, upgrading its schema. Only in a dedicated
    /// worker. Refused with `Storage` when the browser gives no persistent
    /// storage (a private window, an old browser, another tab holding it,
    /// the quota used up): never a database that would vanish.
    pub async fn open(name: String) -> Result<DeviceStore> {
        crate::opfs::install().await?;
        DeviceStore::open_named(&name)
    }

    /// Gives the device its id and signing key; once only.
    #[wasm_bindgen(js_name = initDevice, unchecked_return_type = "DeviceInfo")]
    pub fn init_device(&self, name: String, enumerator_id: Option<String>) -> Result<JsValue> {
        let mut store = self.lock()?;
        let d = store.init_device(&name, enumerator_id.as_deref())?;
        to_js(&DeviceInfo::from_core(d, store.central_trust()?))
    }

    /// This device's identity, or `NotInitialized`.
    #[wasm_bindgen(unchecked_return_type = "DeviceInfo")]
    pub fn device(&self) -> Result<JsValue> {
        let store = self.lock()?;
        to_js(&DeviceInfo::from_core(store.device()?, store.central_trust()?))
    }

    /// Pins central's public key (64 hex digits, as `enumera central init`
    /// prints it; the set-up code carries it with the address and token):
    /// receipts signed by any other key are refused with `BadReceipt`, and
    /// only this central's receipts let responses leave the device.
    /// Responses another key acknowledged go back to the outbox. Same as
    /// `DeviceStore.trustCentral` in enumera-ffi and `enumera device trust`.
    #[wasm_bindgen(js_name = trustCentral, unchecked_return_type = "TrustReport")]
    pub fn trust_central(&self, central_key_hex: String) -> Result<JsValue> {
        let key = enumera_core::bundle::unhex::<32>(central_key_hex.trim()).ok_or_else(|| {
            EnumeraError::BadReceipt {
                reason: "central's key must be 64 hex digits (`enumera central init` prints it)"
                    .into(),
            }
        })?;
        to_js(&TrustReport::from(self.lock()?.pin_central_key(&key)?))
    }

    /// The central key receipts are checked against: pinned by
    /// `trustCentral`, or learned from the first receipt (trust on first
    /// use, which never lets a response be purged). `null` before either.
    #[wasm_bindgen(js_name = centralTrust, unchecked_return_type = "CentralTrust | null")]
    pub fn central_trust(&self) -> Result<JsValue> {
        to_js(&self.lock()?.central_trust()?.map(CentralTrust::from))
    }

    /// Installs a form received as bytes: an Enumera instrument (JSON) or an
    /// XLSForm workbook. A form with errors is refused with all of them.
    #[wasm_bindgen(js_name = installFormBytes, unchecked_return_type = "InstalledForm")]
    pub fn install_form_bytes(&self, bytes: Vec<u8>, file_name: String) -> Result<JsValue> {
        let imported = crate::forms::read(&bytes, &file_name)?;
        to_js(&self.install(imported, &file_name)?)
    }

    /// Installed forms, every version.
    #[wasm_bindgen(unchecked_return_type = "InstalledForm[]")]
    pub fn forms(&self) -> Result<JsValue> {
        let forms: Vec<InstalledForm> = self
            .lock()?
            .instruments()?
            .into_iter()
            .map(|i| InstalledForm {
                form_id: i.key.form_id,
                version: i.key.version,
                hash: i.key.hash,
                title: i.title,
                warnings: vec![],
            })
            .collect();
        to_js(&forms)
    }

    /// Starts a new response on the latest installed version of `form_id`,
    /// optionally for a participant and round (with `preload`, answers the
    /// form marks are carried over from their latest earlier round).
    #[wasm_bindgen(js_name = startInterview)]
    pub fn start_interview(
        &self,
        form_id: String,
        participant_id: Option<String>,
        round: Option<i32>,
        preload: bool,
    ) -> Result<Interview> {
        let start = Start { participant_id, round: round.map(i64::from), preload };
        Interview::start(self.store.clone(), &form_id, &start)
    }

    /// Opens a saved draft exactly where it was left.
    #[wasm_bindgen(js_name = resumeInterview)]
    pub fn resume_interview(&self, instance_id: String) -> Result<Interview> {
        Interview::resume(self.store.clone(), &instance_id)
    }

    /// Every response, newest first.
    #[wasm_bindgen(js_name = listResponses, unchecked_return_type = "ResponseSummary[]")]
    pub fn list_responses(&self) -> Result<JsValue> {
        let list: Vec<ResponseSummary> =
            self.lock()?.list_responses()?.into_iter().map(ResponseSummary::from).collect();
        to_js(&list)
    }

    #[wasm_bindgen(js_name = stateCounts, unchecked_return_type = "StateCounts")]
    pub fn state_counts(&self) -> Result<JsValue> {
        to_js(&StateCounts::from(self.lock()?.state_counts()?))
    }

    /// Gives up a draft (kept until purged, never silently deleted).
    pub fn discard(&self, instance_id: String) -> Result<()> {
        Ok(self.lock()?.discard(&instance_id)?)
    }

    /// Imports a roster (`{"participants": [...]}` JSON).
    #[wasm_bindgen(js_name = importRoster, unchecked_return_type = "RosterSummary")]
    pub fn import_roster(&self, json: Vec<u8>) -> Result<JsValue> {
        to_js(&RosterSummary::from(self.lock()?.import_roster(&json)?))
    }

    #[wasm_bindgen(unchecked_return_type = "ParticipantInfo[]")]
    pub fn participants(&self) -> Result<JsValue> {
        let list: Vec<ParticipantInfo> =
            self.lock()?.participants()?.into_iter().map(ParticipantInfo::from).collect();
        to_js(&list)
    }

    #[wasm_bindgen(unchecked_return_type = "ParticipantInfo")]
    pub fn participant(&self, id: String) -> Result<JsValue> {
        to_js(&ParticipantInfo::from(self.lock()?.participant(&id)?))
    }

    /// The unsent finalized responses (every one still on the device with
    /// `all`) as a signed bundle, for carrying by hand; `info` says what is in
    /// it. The browser saves `bytes` as a download.
    #[wasm_bindgen(js_name = exportBundle, unchecked_return_type = "{info: BundleInfo, bytes: Uint8Array}")]
    pub fn export_bundle(&self, all: bool) -> Result<JsValue> {
        let options = BundleOptions { since_receipt: !all, ..Default::default() };
        let mut bytes = Vec::new();
        let summary = write_bundle(&*self.lock()?, &options, &mut bytes)?;
        let out = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&out, &k.into(), v);
        set("info", &to_js(&BundleInfo::from(summary))?)
            .and_then(|_| set("bytes", &js_sys::Uint8Array::from(bytes.as_slice()).into()))
            .map_err(|_| EnumeraError::Internal { reason: "building the bundle record".into() })?;
        Ok(out.into())
    }

    /// Applies central's receipt (a file or an HTTP answer): exactly the
    /// responses it covers become `sent`.
    #[wasm_bindgen(js_name = applyReceipt, unchecked_return_type = "ReceiptReport")]
    pub fn apply_receipt(&self, receipt: Vec<u8>) -> Result<JsValue> {
        to_js(&ReceiptReport::from(apply_receipt(&mut *self.lock()?, &receipt)?))
    }

    /// Finalized responses in outbox order; with `unsentOnly`, those no
    /// receipt has acknowledged yet.
    #[wasm_bindgen(unchecked_return_type = "OutboxItem[]")]
    pub fn outbox(&self, unsent_only: bool) -> Result<JsValue> {
        let list: Vec<OutboxItem> =
            self.lock()?.outbox(0, unsent_only)?.into_iter().map(OutboxItem::from).collect();
        to_js(&list)
    }

    /// SQLite's `integrity_check`: empty when the database is sound.
    #[wasm_bindgen(js_name = integrityCheck)]
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        Ok(self.lock()?.integrity_check()?)
    }
}

impl DeviceStore {
    fn install(&self, imported: Imported, file_name: &str) -> Result<InstalledForm> {
        if let Some(problems) = crate::forms::errors(&imported, file_name) {
            return Err(EnumeraError::InvalidForm { problems });
        }
        let warnings = imported
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .map(ToString::to_string)
            .collect();
        let key = self.lock()?.install_instrument(&imported.instrument)?;
        Ok(InstalledForm {
            form_id: key.form_id,
            version: key.version,
            hash: key.hash,
            title: imported.instrument.title,
            warnings,
        })
    }
}
