//! Records and enums that cross the boundary: plain data the apps render.
//! Each is built from core's own types here, so core stays free of uniffi.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use enumera_core::session::navigation::HierarchyItem;
use enumera_core::store;

/// A device id: a v4 UUID. `java.util.UUID` in Kotlin, `UUID` in Swift
/// (uniffi.toml), a string in Python.
pub type Uuid = uuid::Uuid;

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |u| u.to_string(),
    try_lift: |s| Ok(uuid::Uuid::parse_str(&s)?),
});

/// Store timestamps are RFC 3339 text; the apps get their platform's time
/// type (`java.time.Instant`, `Date`, `datetime`).
pub(crate) fn timestamp(rfc3339: &str) -> SystemTime {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .and_then(|t| {
            let micros = u64::try_from(t.timestamp_micros()).ok()?;
            SystemTime::UNIX_EPOCH.checked_add(Duration::from_micros(micros))
        })
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Why a question blocks finalizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum IssueKind {
    /// Required and left empty.
    Required,
    /// The answer breaks the question's constraint.
    Constraint,
}

/// A required question left empty or a constraint violated, with the form's
/// message in the current language.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ValidationIssue {
    pub kind: IssueKind,
    pub reference: String,
    /// The form's `constraint_message` / `required_message` (or ODK's default).
    pub text: String,
}

/// One choice of a select, labelled in the current language.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChoiceItem {
    pub value: String,
    pub label: String,
}

/// One question as the enumerator sees it now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Question {
    /// ODK reference, `/data/members[2]/name`: what `answer` takes.
    pub reference: String,
    /// XLSForm type: `text`, `integer`, `select_one`, `note`, ...
    pub question_type: String,
    pub label: Option<String>,
    pub hint: Option<String>,
    /// The `appearance` column (`multiline`, `minimal`, `likert`, ...).
    pub appearance: Option<String>,
    /// The `parameters` column (`start`, `end`, `step` of a range, ...).
    pub parameters: HashMap<String, String>,
    /// ODK's string form of the answer (`"a b"` for a select_multiple).
    pub value: String,
    pub relevant: bool,
    pub required: bool,
    pub readonly: bool,
    /// Set when the answer breaks a constraint or a required one is empty.
    pub issue: Option<ValidationIssue>,
    /// Current choices of a select (choice_filter applied); empty otherwise.
    pub choices: Vec<ChoiceItem>,
    /// Label media (issue 18, item 2): form media file names in the
    /// current language, read with `DeviceStore::form_media` (or
    /// `copy_form_media` for video) by the form's hash and the name.
    pub image: Option<String>,
    pub big_image: Option<String>,
    pub audio: Option<String>,
    pub video: Option<String>,
}

/// One screen of the interview, in order.
// uniffi cannot carry a boxed record, and screens live only as long as a
// call: the size difference costs nothing that matters.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Screen {
    Question {
        question: Question,
    },
    /// A `field-list` group: all its questions on one screen.
    FieldList {
        reference: String,
        label: Option<String>,
        questions: Vec<Question>,
    },
    /// "Add another?" after the last instance of a repeat the enumerator controls.
    AddRepeat {
        reference: String,
        label: String,
        count: u32,
    },
}

/// How far the interview is: questions shown now that can be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Progress {
    pub answered: u64,
    pub asked: u64,
}

/// One line of the hierarchy (jump) view.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HierarchyEntry {
    pub depth: u32,
    pub reference: String,
    pub label: String,
    /// `group`, `repeat`, or the question type.
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

/// Who this device is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceInfo {
    pub device_id: Uuid,
    pub name: String,
    pub enumerator_id: Option<String>,
    /// Ed25519 public key, lowercase hex.
    pub public_key: String,
    pub created_at: SystemTime,
}

impl DeviceInfo {
    pub(crate) fn from_core(d: store::DeviceIdentity) -> crate::Result<Self> {
        Ok(DeviceInfo {
            device_id: uuid::Uuid::parse_str(&d.device_id).map_err(|e| {
                crate::EnumeraError::Internal { reason: format!("stored device id: {e}") }
            })?,
            public_key: d.public_key_hex(),
            name: d.name,
            enumerator_id: d.enumerator_id,
            created_at: timestamp(&d.created_at),
        })
    }
}

/// An instrument installed on the device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InstalledForm {
    pub form_id: String,
    pub version: String,
    /// SHA-256 of the canonical instrument: responses name it.
    pub hash: String,
    pub title: String,
    /// Problems that do not stop the form from being used (at install only).
    pub warnings: Vec<String>,
}

/// Where a response is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
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

/// One row of the response list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ResponseSummary {
    /// `uuid:` and a v4 UUID, as ODK writes `instanceID`.
    pub instance_id: String,
    pub form_id: String,
    pub form_version: String,
    pub participant_id: Option<String>,
    pub round: Option<i64>,
    pub state: ResponseState,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    pub finalized_at: Option<SystemTime>,
    pub sent_at: Option<SystemTime>,
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
            created_at: timestamp(&r.created_at),
            updated_at: timestamp(&r.updated_at),
            finalized_at: r.finalized_at.as_deref().map(timestamp),
            sent_at: r.sent_at.as_deref().map(timestamp),
        }
    }
}

/// How many responses are in each state (the home screen's counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
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

/// One person on the roster.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ParticipantInfo {
    /// Stable pseudonymous id, the same in every round.
    pub id: String,
    /// Fields shown to find the person (local government, role).
    pub display: HashMap<String, String>,
    /// Personal data (name, phone): show, never log.
    pub personal: HashMap<String, String>,
}

impl From<store::Participant> for ParticipantInfo {
    fn from(p: store::Participant) -> Self {
        ParticipantInfo {
            id: p.id,
            display: p.display.into_iter().collect(),
            personal: p.personal.into_iter().collect(),
        }
    }
}

/// What a roster import changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
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

/// A finalized response's place in the device outbox.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OutboxItem {
    /// Per-device sequence number, from 1.
    pub seq: u64,
    pub instance_id: String,
    /// Hash chaining this entry to the one before it.
    pub entry_hash: String,
    pub created_at: SystemTime,
    pub sent_at: Option<SystemTime>,
}

impl From<store::OutboxEntry> for OutboxItem {
    fn from(e: store::OutboxEntry) -> Self {
        OutboxItem {
            seq: e.seq,
            instance_id: e.instance_id,
            entry_hash: e.entry_hash,
            created_at: timestamp(&e.created_at),
            sent_at: e.sent_at.as_deref().map(timestamp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_timestamps_keep_their_microseconds() {
        let t = timestamp("2026-03-01T10:20:30.000123Z");
        let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        assert_eq!(since.as_secs(), 1_772_360_430);
        assert_eq!(since.subsec_micros(), 123);
        assert_eq!(timestamp("not a time"), SystemTime::UNIX_EPOCH);
    }
}

/// A bundle written for carrying by hand (USB stick, SD card, email).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BundleInfo {
    pub responses: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub bytes: u64,
    /// SHA-256 of the whole file.
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

/// What central's receipt changed on the device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceiptReport {
    /// Outbox sequence numbers newly marked sent.
    pub marked: Vec<u64>,
    pub already_sent: Vec<u64>,
    /// Entries the receipt names that this device does not have as named.
    pub not_matching: u64,
    /// This first receipt taught the device central's key.
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

/// The central key this device checks receipts against.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CentralTrust {
    /// 64 hex digits.
    pub central_key_hex: String,
    /// Pinned by `DeviceStore.trustCentral` (true) or learned from the
    /// first receipt (false: responses are never purged on its receipts).
    pub pinned: bool,
}

impl From<enumera_core::store::CentralTrust> for CentralTrust {
    fn from(t: enumera_core::store::CentralTrust) -> Self {
        CentralTrust { central_key_hex: enumera_core::bundle::hex(&t.key), pinned: t.pinned }
    }
}

/// What pinning central's key changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TrustReport {
    /// The key trusted before, when it was another one.
    pub replaced_hex: Option<String>,
    /// Outbox sequence numbers another key had acknowledged, to be sent again.
    pub reopened: Vec<u64>,
}

impl From<enumera_core::store::PinReport> for TrustReport {
    fn from(r: enumera_core::store::PinReport) -> Self {
        TrustReport {
            replaced_hex: r.replaced.map(|k| enumera_core::bundle::hex(&k)),
            reopened: r.reopened,
        }
    }
}

/// One round of sync over HTTP.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Responses in the bundle sent (0: nothing to send, nothing was posted).
    pub uploaded: u64,
    pub bundle_bytes: u64,
    /// `None` when nothing was sent.
    pub receipt: Option<ReceiptReport>,
    /// Forms central publishes that this device installed just now.
    pub forms_installed: Vec<FormKey>,
    /// Published forms the device already had.
    pub forms_present: u64,
    /// Published forms this device could not take, each with why; the
    /// others were installed all the same.
    pub forms_refused: Vec<FormRefused>,
    /// Every roster central publishes, as imported.
    pub rosters: Vec<RosterFetched>,
    /// Central's returns, when fetched: responses a reviewer sent back.
    pub returns: Option<ReturnsReport>,
    /// Central's assignments, when fetched: this device's work.
    pub assignments: Option<AssignmentsReport>,
    /// Form media files fetched and checked (issue 18, item 2).
    pub media_fetched: u64,
    /// Form media files that did not arrive (gone, or not matching their
    /// hash); the next sync fetches them again.
    pub media_missing: Vec<FormMediaMissing>,
}

/// A form media file a form needs that the device does not hold, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FormMediaMissing {
    pub form_id: String,
    pub version: String,
    pub name: String,
    pub reason: String,
}

/// A form media file an installed form needs, and whether it is here.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FormMediaInfo {
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub present: bool,
}

/// A published form the device left out (unreadable, not matching its
/// hash, or clashing with the version it holds).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FormRefused {
    pub form: FormKey,
    pub reason: String,
}

/// One version of a form, as responses name it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FormKey {
    pub form_id: String,
    pub version: String,
    pub hash: String,
}

/// A roster fetched from central and what importing it changed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RosterFetched {
    pub name: String,
    pub summary: RosterSummary,
}

/// What applying central's assignments file did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AssignmentsReport {
    /// Assignments the device now holds.
    pub assignments: u64,
    /// New since the last file (assignment ids).
    pub new: Vec<String>,
    /// Gone since the last file: revoked, or reassigned elsewhere.
    pub ended: Vec<String>,
    /// Roster rows removed: no longer assigned here.
    pub participants_removed: Vec<String>,
    /// Roster rows kept although no longer assigned: a draft or an unsent
    /// response names them.
    pub participants_kept: Vec<String>,
    /// The file was older than the one applied before: nothing changed.
    pub stale: bool,
    /// This device learned central's key from the file (first contact).
    pub central_key_learned: bool,
}

/// One assignment: a participant's interview in a form and round, or a
/// quantity of interviews in a form without a roster.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AssignedWork {
    pub assignment_id: String,
    pub form_id: String,
    pub round: Option<i64>,
    pub participant_id: Option<String>,
    pub quantity: Option<u32>,
    pub district: Option<String>,
    /// Interviews on this device for it (drafts, finalized, sent).
    pub started: u32,
    pub finalized: u32,
    /// The participant's interview is finalized, or the quantity reached.
    pub done: bool,
}

/// What applying central's returns did (instance ids).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReturnsReport {
    /// Newly returned responses.
    pub new: Vec<String>,
    /// Returned before; their comments grew.
    pub updated: Vec<String>,
    /// Named no response of this device: left out.
    pub not_ours: Vec<String>,
}

/// A reviewer's comment: on the whole response (`reference` null) or on
/// one question, by its reference (`/data/age`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReviewComment {
    pub reference: Option<String>,
    pub text: String,
}

/// Where a returned response stands on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReturnStatus {
    /// Waiting for the enumerator.
    Returned,
    /// Its correction is a draft being filled.
    Reopened,
    /// Its correction is finalized.
    Corrected,
}

/// A response a reviewer sent back to this device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReturnedResponse {
    pub instance_id: String,
    pub form_id: String,
    pub participant_id: Option<String>,
    pub round: Option<i64>,
    /// Sealed: the device kept no answers, so a correction starts empty.
    pub sealed: bool,
    pub reviewer: String,
    pub returned_at: String,
    /// Every comment, in the order made.
    pub comments: Vec<ReviewComment>,
    pub status: ReturnStatus,
    /// The draft or version that corrects it.
    pub correction_id: Option<String>,
}
