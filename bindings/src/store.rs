//! The device database as the apps see it: one `DeviceStore` per database
//! file, shared by every screen and interview (they lock it in turn).

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use enumera_core::bundle::{BundleOptions, apply_receipt, write_bundle_file};
use enumera_core::fill::Start;
use enumera_core::instrument::{Imported, Instrument, Severity, import_xlsform_bytes, load_form};
use enumera_core::store::Store;

use crate::interview::{Interview, Live};
use crate::types::{
    BundleInfo, CentralTrust, DeviceInfo, InstalledForm, OutboxItem, ParticipantInfo,
    ReceiptReport, ResponseSummary, RosterSummary, StateCounts, TrustReport,
};
use crate::{EnumeraError, Result};

/// The device's database: installed forms, responses, the roster, the outbox.
#[derive(Debug, uniffi::Object)]
pub struct DeviceStore {
    store: Mutex<Store>,
}

impl DeviceStore {
    /// A poisoned lock only means another call panicked half way; SQLite's
    /// transactions kept the file consistent, so carry on with it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[uniffi::export]
impl DeviceStore {
    /// Opens (creating when missing) the database at `path`, upgrading its
    /// schema. A database from a newer app is refused and left untouched.
    #[uniffi::constructor]
    pub fn open(path: String) -> Result<Arc<Self>> {
        let store = Store::open(&path)?;
        Ok(Arc::new(DeviceStore { store: Mutex::new(store) }))
    }

    /// Gives the device its id and signing key; once only.
    pub fn init_device(&self, name: String, enumerator_id: Option<String>) -> Result<DeviceInfo> {
        let d = self.lock().init_device(&name, enumerator_id.as_deref())?;
        DeviceInfo::from_core(d)
    }

    /// This device's identity, or `NotInitialized`.
    pub fn device(&self) -> Result<DeviceInfo> {
        DeviceInfo::from_core(self.lock().device()?)
    }

    /// Installs a form file: an XLSForm (`.xlsx`) or an Enumera instrument
    /// (`.json`). A form with errors is refused with all of them.
    pub fn install_form_file(&self, path: String) -> Result<InstalledForm> {
        let imported = load_form(Path::new(&path))?;
        self.install(imported)
    }

    /// Installs a form received as bytes (a download): an Enumera instrument
    /// (JSON) or an XLSForm workbook. `file_name` gives the form id when the
    /// workbook's settings have none.
    pub fn install_form_bytes(&self, bytes: Vec<u8>, file_name: String) -> Result<InstalledForm> {
        let json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let imported = if json {
            let instrument = Instrument::from_json(&bytes).map_err(|e| {
                EnumeraError::InvalidForm { problems: vec![format!("{file_name}: {e}")] }
            })?;
            let diagnostics = enumera_core::instrument::validate(&instrument, &Default::default());
            Imported { instrument, diagnostics }
        } else {
            import_xlsform_bytes(&bytes, &file_name, None)?
        };
        self.install(imported)
    }

    /// Installed forms, every version.
    pub fn forms(&self) -> Result<Vec<InstalledForm>> {
        Ok(self
            .lock()
            .instruments()?
            .into_iter()
            .map(|i| InstalledForm {
                form_id: i.key.form_id,
                version: i.key.version,
                hash: i.key.hash,
                title: i.title,
                warnings: vec![],
            })
            .collect())
    }

    /// Starts a new response on the latest installed version of `form_id`,
    /// optionally for a participant and round (with `preload`, answers the
    /// form marks are carried over from their latest earlier round).
    pub fn start_interview(
        self: Arc<Self>,
        form_id: String,
        participant_id: Option<String>,
        round: Option<i64>,
        preload: bool,
    ) -> Result<Arc<Interview>> {
        let start = Start { participant_id, round, preload };
        let live = Live::start(&mut self.lock(), &form_id, &start)?;
        Ok(Interview::new(self, live))
    }

    /// Opens a saved draft exactly where it was left.
    pub fn resume_interview(self: Arc<Self>, instance_id: String) -> Result<Arc<Interview>> {
        let live = Live::resume(&self.lock(), &instance_id)?;
        Ok(Interview::new(self, live))
    }

    /// Edits a finalized (or sent) response: a new draft with its answers
    /// that names it (`deprecatedID`). A form with
    /// `track-changes-reasons=on-form-edit` asks for the reason before the
    /// edit is finalized (`Interview.changeReasonNeeded`).
    pub fn edit_response(self: Arc<Self>, instance_id: String) -> Result<Arc<Interview>> {
        let live = {
            let mut store = self.lock();
            let draft = store.edit(&instance_id)?;
            Live::resume(&store, &draft.instance_id)?
        };
        Ok(Interview::new(self, live))
    }

    /// Every response, newest first.
    pub fn list_responses(&self) -> Result<Vec<ResponseSummary>> {
        Ok(self.lock().list_responses()?.into_iter().map(ResponseSummary::from).collect())
    }

    pub fn state_counts(&self) -> Result<StateCounts> {
        Ok(self.lock().state_counts()?.into())
    }

    /// Gives up a draft (kept until purged, never silently deleted).
    pub fn discard(&self, instance_id: String) -> Result<()> {
        Ok(self.lock().discard(&instance_id)?)
    }

    /// Imports a roster from central (`{"participants": [...]}` JSON).
    pub fn import_roster(&self, json: Vec<u8>) -> Result<RosterSummary> {
        Ok(self.lock().import_roster(&json)?.into())
    }

    pub fn participants(&self) -> Result<Vec<ParticipantInfo>> {
        Ok(self.lock().participants()?.into_iter().map(ParticipantInfo::from).collect())
    }

    pub fn participant(&self, id: String) -> Result<ParticipantInfo> {
        Ok(self.lock().participant(&id)?.into())
    }

    /// Writes the unsent finalized responses (every one still on the device
    /// with `all`) as a signed bundle file at `path`, for carrying by hand.
    pub fn export_bundle(&self, path: String, all: bool) -> Result<BundleInfo> {
        let options = BundleOptions { since_receipt: !all, ..Default::default() };
        Ok(write_bundle_file(&self.lock(), &options, Path::new(&path))?.into())
    }

    /// Applies central's receipt (a file or an HTTP answer): exactly the
    /// responses it covers become `sent`. A forged or foreign receipt is
    /// refused whole with `BadReceipt`.
    pub fn apply_receipt(&self, receipt: Vec<u8>) -> Result<ReceiptReport> {
        Ok(apply_receipt(&mut self.lock(), &receipt)?.into())
    }

    /// Pins central's public key (64 hex digits, as `enumera central init`
    /// prints it; an app gets it with its server address and token at
    /// set-up): receipts signed by any other key are refused with
    /// `BadReceipt`, and only this central's receipts let responses leave
    /// the device. Responses another key acknowledged go back to the outbox.
    pub fn trust_central(&self, central_key_hex: String) -> Result<TrustReport> {
        let key = enumera_core::bundle::unhex::<32>(central_key_hex.trim()).ok_or_else(|| {
            EnumeraError::BadReceipt { reason: "central's key must be 64 hex digits".into() }
        })?;
        Ok(self.lock().pin_central_key(&key)?.into())
    }

    /// The central key receipts are checked against: pinned by
    /// `trust_central`, or learned from the first receipt (trust on first
    /// use, which never lets a response be purged). `None` before either.
    pub fn central_trust(&self) -> Result<Option<CentralTrust>> {
        Ok(self.lock().central_trust()?.map(CentralTrust::from))
    }

    /// Finalized responses in outbox order; with `unsent_only`, those no
    /// receipt has acknowledged yet.
    pub fn outbox(&self, unsent_only: bool) -> Result<Vec<OutboxItem>> {
        Ok(self.lock().outbox(0, unsent_only)?.into_iter().map(OutboxItem::from).collect())
    }
}

impl DeviceStore {
    fn install(&self, imported: Imported) -> Result<InstalledForm> {
        let problems: Vec<String> = imported.errors().map(ToString::to_string).collect();
        if !problems.is_empty() {
            return Err(EnumeraError::InvalidForm { problems });
        }
        let warnings = imported
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .map(ToString::to_string)
            .collect();
        let key = self.lock().install_instrument(&imported.instrument)?;
        Ok(InstalledForm {
            form_id: key.form_id,
            version: key.version,
            hash: key.hash,
            title: imported.instrument.title,
            warnings,
        })
    }
}
