//! Records that cross into JavaScript: plain data the web app renders, built
//! from core's own types here. Names and fields are enumera-ffi's
//! (`bindings/src/types.rs`) in JavaScript's camelCase; timestamps stay
//! RFC 3339 text (`new Date(text)` reads them). Records travel as JSON, so
//! the TypeScript declarations below are the whole contract.

use std::collections::BTreeMap;

use enumera_core::session::navigation::HierarchyItem;
use enumera_core::store;
use serde::Serialize;

#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
export type IssueKind = "required" | "constraint";
export interface ValidationIssue { kind: IssueKind; reference: string; text: string }
export interface ChoiceItem { value: string; label: string }
export interface Question {
  reference: string; questionType: string; label: string | null; hint: string | null;
  appearance: string | null; parameters: Record<string, string>; value: string;
  relevant: boolean; required: boolean; readonly: boolean;
  issue: ValidationIssue | null; choices: ChoiceItem[];
  /** Label media: form media file names in the current language, read with
   * `DeviceStore.formMedia(formHash, name)`. */
  image: string | null; bigImage: string | null; audio: string | null; video: string | null;
}
export type Screen =
  | { kind: "question"; question: Question }
  | { kind: "fieldList"; reference: string; label: string | null; questions: Question[] }
  | { kind: "addRepeat"; reference: string; label: string; count: number };
export interface Progress { answered: number; asked: number }
export interface HierarchyEntry {
  depth: number; reference: string; label: string; kind: string; answered: boolean; relevant: boolean;
}
export interface RepeatPlace { reference: string; repeatReference: string; label: string; position: number; countControlled: boolean }
export interface ScreenView {
  index: number; count: number; anchor: string; screen: Screen | null; breadcrumbs: string[];
  repeat: RepeatPlace | null; progress: Progress; language: string | null; languages: string[];
}
export interface DeviceInfo {
  deviceId: string; name: string; enumeratorId: string | null; publicKey: string; createdAt: string;
  centralKey: string | null; centralKeyPinned: boolean;
}
export interface CentralTrust { centralKeyHex: string; pinned: boolean }
export interface TrustReport { replacedHex: string | null; reopened: number[] }
export interface FormRefused { form: FormKey; reason: string }
export interface InstalledForm { formId: string; version: string; hash: string; title: string; warnings: string[] }
export type ResponseState = "draft" | "finalized" | "sent" | "discarded";
export interface ResponseSummary {
  instanceId: string; formId: string; formVersion: string; participantId: string | null; round: number | null;
  state: ResponseState; createdAt: string; updatedAt: string; finalizedAt: string | null; sentAt: string | null;
}
export interface StateCounts { draft: number; finalized: number; sent: number; discarded: number }
export interface ParticipantInfo { id: string; display: Record<string, string>; personal: Record<string, string> }
export interface RosterSummary { added: number; updated: number; unchanged: number }
export interface OutboxItem { seq: number; instanceId: string; entryHash: string; createdAt: string; sentAt: string | null }
export interface BundleInfo { responses: number; firstSeq: number | null; lastSeq: number | null; bytes: number; sha256: string }
export interface ReceiptReport { marked: number[]; alreadySent: number[]; notMatching: number; centralKeyLearned: boolean }
export interface FormKey { formId: string; version: string; hash: string }
export interface RosterFetched { name: string; summary: RosterSummary }
export interface SyncReport {
  uploaded: number; bundleBytes: number; receipt: ReceiptReport | null; formsInstalled: FormKey[];
  formsPresent: number; formsRefused: FormRefused[]; rosters: RosterFetched[];
  assignments?: AssignmentsReport | null; returns?: ReturnsReport | null;
  mediaFetched: number; mediaMissing: FormMediaMissing[];
}
export interface Diagnostic {
  severity: "error" | "warning"; sheet: string; row: number | null; column: string | null;
  location: string; message: string;
}
export interface LeafState {
  ref: string; type: string; relevant: boolean; required: boolean; readonly: boolean; value: string;
  constraint_valid: boolean; required_valid: boolean; label?: string; options?: string[];
  violation_message?: string;
}
export interface HttpRequest { method: string; path: string; headers: [string, string][]; body: Uint8Array }
export interface HttpResponse { status: number; headers: [string, string][]; body: Uint8Array }
/** The web app's HTTP client: `fetch` against central's base URL. A rejected
 * promise is a network failure (offline, refused); any status is an answer. */
export interface HttpTransport { send(request: HttpRequest): Promise<HttpResponse> }
"#;

/// Serializes a record for JavaScript (JSON, then `JSON.parse`, so maps
/// arrive as plain objects and numbers as numbers).
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<wasm_bindgen::JsValue, crate::EnumeraError> {
    let text = serde_json::to_string(value)
        .map_err(|e| crate::EnumeraError::Internal { reason: format!("serializing: {e}") })?;
    js_sys::JSON::parse(&text)
        .map_err(|_| crate::EnumeraError::Internal { reason: "JSON.parse refused a record".into() })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum IssueKind {
    Required,
    Constraint,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationIssue {
    pub kind: IssueKind,
    pub reference: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceItem {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Question {
    pub reference: String,
    pub question_type: String,
    pub label: Option<String>,
    pub hint: Option<String>,
    pub appearance: Option<String>,
    pub parameters: BTreeMap<String, String>,
    pub value: String,
    pub relevant: bool,
    pub required: bool,
    pub readonly: bool,
    pub issue: Option<ValidationIssue>,
    pub choices: Vec<ChoiceItem>,
    /// Label media (issue 18, item 2): form media file names in the
    /// current language, read with `DeviceStore::form_media`.
    pub image: Option<String>,
    pub big_image: Option<String>,
    pub audio: Option<String>,
    pub video: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Screen {
    Question { question: Box<Question> },
    FieldList { reference: String, label: Option<String>, questions: Vec<Question> },
    AddRepeat { reference: String, label: String, count: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub answered: u64,
    pub asked: u64,
}

/// Where a screen sits in a repeat: what removing its instance takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepeatPlace {
    pub reference: String,
    pub repeat_reference: String,
    pub label: String,
    pub position: u32,
    pub count_controlled: bool,
}

/// One screen of the interview with what is drawn around it: the web app's
/// addition to the ffi surface, so that one call gives everything a screen
/// needs (the phones ask `screens()` and keep the list themselves).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScreenView {
    /// 0-based position among the screens there are now.
    pub index: u32,
    pub count: u32,
    /// The reference that names this screen (its question, group or
    /// repeat): pass it back to stay on the same screen after an answer
    /// moves others around it.
    pub anchor: String,
    /// `None` past the last screen (the end of the form).
    pub screen: Option<Screen>,
    pub breadcrumbs: Vec<String>,
    pub repeat: Option<RepeatPlace>,
    pub progress: Progress,
    pub language: Option<String>,
    pub languages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HierarchyEntry {
    pub depth: u32,
    pub reference: String,
    pub label: String,
    pub kind: String,
    pub answered: bool,
    pub relevant: bool,
}

impl From<HierarchyItem> for HierarchyEntry {
    fn from(h: HierarchyItem) -> Self {
        HierarchyEntry {
            depth: u32::try_from(h.depth).unwrap_or(u32::MAX),
            reference: h.reference,
            label: h.label,
            kind: h.kind,
            answered: h.answered,
            relevant: h.relevant,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    pub device_id: String,
    pub name: String,
    pub enumerator_id: Option<String>,
    /// Ed25519 public key, lowercase hex.
    pub public_key: String,
    pub created_at: String,
    /// Central's Ed25519 key, once pinned at set-up or learned from a receipt.
    pub central_key: Option<String>,
    /// Pinned (`trustCentral`), not learned from a first receipt.
    pub central_key_pinned: bool,
}

impl DeviceInfo {
    pub(crate) fn from_core(d: store::DeviceIdentity, trust: Option<store::CentralTrust>) -> Self {
        DeviceInfo {
            public_key: d.public_key_hex(),
            device_id: d.device_id,
            name: d.name,
            enumerator_id: d.enumerator_id,
            created_at: d.created_at,
            central_key: trust.as_ref().map(|t| enumera_core::bundle::hex(&t.key)),
            central_key_pinned: trust.is_some_and(|t| t.pinned),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstalledForm {
    pub form_id: String,
    pub version: String,
    pub hash: String,
    pub title: String,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ResponseState {
    Draft,
    Finalized,
    Sent,
    Discarded,
}

impl From<store::ResponseState> for ResponseState {
    fn from(s: store::ResponseState) -> Self {
        match s {
            store::ResponseState::Draft => ResponseState::Draft,
            store::ResponseState::Finalized => ResponseState::Finalized,
            store::ResponseState::Sent => ResponseState::Sent,
            store::ResponseState::Discarded => ResponseState::Discarded,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseSummary {
    pub instance_id: String,
    pub form_id: String,
    pub form_version: String,
    pub participant_id: Option<String>,
    pub round: Option<i64>,
    pub state: ResponseState,
    pub created_at: String,
    pub updated_at: String,
    pub finalized_at: Option<String>,
    pub sent_at: Option<String>,
}

impl From<store::Response> for ResponseSummary {
    fn from(r: store::Response) -> Self {
        ResponseSummary {
            instance_id: r.instance_id,
            form_id: r.instrument.form_id,
            form_version: r.instrument.version,
            participant_id: r.participant_id,
            round: r.round,
            state: r.state.into(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            finalized_at: r.finalized_at,
            sent_at: r.sent_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub draft: u64,
    pub finalized: u64,
    pub sent: u64,
    pub discarded: u64,
}

impl From<store::StateCounts> for StateCounts {
    fn from(c: store::StateCounts) -> Self {
        StateCounts { draft: c.draft, finalized: c.finalized, sent: c.sent, discarded: c.discarded }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParticipantInfo {
    pub id: String,
    pub display: BTreeMap<String, String>,
    /// Personal data (name, phone): shown, never logged.
    pub personal: BTreeMap<String, String>,
}

impl From<store::Participant> for ParticipantInfo {
    fn from(p: store::Participant) -> Self {
        ParticipantInfo { id: p.id, display: p.display, personal: p.personal }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RosterSummary {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl From<store::RosterImport> for RosterSummary {
    fn from(r: store::RosterImport) -> Self {
        RosterSummary {
            added: r.added as u64,
            updated: r.updated as u64,
            unchanged: r.unchanged as u64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    pub seq: u64,
    pub instance_id: String,
    pub entry_hash: String,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<store::OutboxEntry> for OutboxItem {
    fn from(e: store::OutboxEntry) -> Self {
        OutboxItem {
            seq: e.seq,
            instance_id: e.instance_id,
            entry_hash: e.entry_hash,
            created_at: e.created_at,
            sent_at: e.sent_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleInfo {
    pub responses: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub bytes: u64,
    pub sha256: String,
}

impl From<enumera_core::bundle::BundleSummary> for BundleInfo {
    fn from(b: enumera_core::bundle::BundleSummary) -> Self {
        BundleInfo {
            responses: b.responses as u64,
            first_seq: b.first_seq,
            last_seq: b.last_seq,
            bytes: b.bytes,
            sha256: b.sha256,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptReport {
    pub marked: Vec<u64>,
    pub already_sent: Vec<u64>,
    pub not_matching: u64,
    /// This first receipt taught the device central's key (none was pinned).
    pub central_key_learned: bool,
}

impl From<enumera_core::bundle::ApplyReport> for ReceiptReport {
    fn from(r: enumera_core::bundle::ApplyReport) -> Self {
        ReceiptReport {
            marked: r.marked,
            already_sent: r.already_sent,
            not_matching: r.not_matching.len() as u64,
            central_key_learned: r.central_key_learned,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub uploaded: u64,
    pub bundle_bytes: u64,
    pub receipt: Option<ReceiptReport>,
    pub forms_installed: Vec<FormKey>,
    pub forms_present: u64,
    /// Published forms this device could not take, each with why.
    pub forms_refused: Vec<FormRefused>,
    pub rosters: Vec<RosterFetched>,
    /// This device's work, when fetched (issue 17).
    pub assignments: Option<crate::supervision::AssignmentsReport>,
    /// Responses a reviewer sent back, when fetched (issue 17).
    pub returns: Option<crate::supervision::ReturnsReport>,
    /// Form media files fetched and checked (issue 18, item 2).
    pub media_fetched: u64,
    /// Form media files of installed forms that did not arrive.
    pub media_missing: Vec<crate::form_media::FormMediaMissing>,
}

/// A published form the device left out (unreadable, not matching its
/// hash, or clashing with the version it holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormRefused {
    pub form: FormKey,
    pub reason: String,
}

/// The central key this device checks receipts against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CentralTrust {
    /// 64 hex digits.
    pub central_key_hex: String,
    /// Pinned by `trustCentral` (true) or learned from the first receipt.
    pub pinned: bool,
}

impl From<store::CentralTrust> for CentralTrust {
    fn from(t: store::CentralTrust) -> Self {
        CentralTrust { central_key_hex: enumera_core::bundle::hex(&t.key), pinned: t.pinned }
    }
}

/// What pinning central's key changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustReport {
    /// The key trusted before, when it was another one.
    pub replaced_hex: Option<String>,
    /// Outbox sequence numbers another key had acknowledged, to be sent again.
    pub reopened: Vec<u64>,
}

impl From<store::PinReport> for TrustReport {
    fn from(r: store::PinReport) -> Self {
        TrustReport {
            replaced_hex: r.replaced.map(|k| enumera_core::bundle::hex(&k)),
            reopened: r.reopened,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormKey {
    pub form_id: String,
    pub version: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RosterFetched {
    pub name: String,
    pub summary: RosterSummary,
}

/// A problem in a form file, with its place (`survey!E12`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: &'static str,
    pub sheet: String,
    pub row: Option<u32>,
    pub column: Option<String>,
    /// The place as people write it (`survey!E12`), empty when unknown.
    pub location: String,
    pub message: String,
}

impl From<&enumera_core::instrument::Diagnostic> for Diagnostic {
    fn from(d: &enumera_core::instrument::Diagnostic) -> Self {
        use enumera_core::instrument::Severity;
        Diagnostic {
            severity: match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            sheet: d.location.sheet.clone(),
            row: d.location.row,
            column: d.location.column.clone(),
            location: d.location.to_string(),
            message: d.message.clone(),
        }
    }
}
