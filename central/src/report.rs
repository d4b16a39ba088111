//! What central reports: per ingest, and its overall status.

use serde::Serialize;

/// What one ingest did. Ingesting the same bundle again gives
/// `new_responses == 0` and everything counted in `duplicates`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    /// SHA-256 of the bundle file.
    pub bundle_sha256: String,
    pub device_id: String,
    /// Entries in the bundle.
    pub entries: usize,
    /// Entries newly recorded from this bundle.
    pub new_entries: usize,
    /// Responses newly held (new instance ids).
    pub new_responses: usize,
    /// Of those, edits that became the current version of an earlier one.
    pub edits: usize,
    /// Entries already held, or responses held with the same content: no-ops.
    pub duplicates: usize,
    /// Conflicts newly kept for review.
    pub conflicts: Vec<ConflictInfo>,
    /// Responses newly held aside, kept but not exported (issue 15):
    /// `not_author` (an edit of another device's response), `pending_edit`
    /// (an edit of a version not received yet), `edit_of_superseded`,
    /// `contested` (an instance id two devices claim), `form_hash_mismatch`,
    /// `plaintext_for_sealed_form`.
    pub held_aside: Vec<ConflictInfo>,
    /// This device's sequence gaps and forks after the ingest.
    pub gaps: Vec<SeqRange>,
    pub forks: Vec<u64>,
}

/// A version kept for review instead of being applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConflictInfo {
    pub instance_id: String,
    /// `different_content` or `edit_of_superseded` (a conflict); for a
    /// response held aside, the reason (see [`IngestReport::held_aside`]).
    pub kind: String,
    pub device_id: String,
    pub seq: u64,
    pub detail: String,
}

/// Missing sequence numbers `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SeqRange {
    pub from: u64,
    pub to: u64,
}

/// `enumera central status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub central_public_key: String,
    /// Distinct responses held (instance ids).
    pub responses: u64,
    /// Of those, the current versions (not replaced by an edit, not conflicts).
    pub current: u64,
    /// Of those, sealed ones (held unread).
    pub sealed: u64,
    /// Conflicts kept for review.
    pub conflicts: u64,
    /// Responses neither current nor replaced: held aside for review (an
    /// edit by a device that did not make the response, an edit waiting for
    /// its version, a contested instance id, a form central did not publish
    /// under that version, plaintext for a sealed form).
    pub held_aside: u64,
    pub devices: Vec<DeviceStatus>,
    pub published: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceStatus {
    pub device_id: String,
    pub name: String,
    pub public_key: String,
    pub enrolled: bool,
    /// Outbox entries received.
    pub entries: u64,
    pub max_seq: u64,
    /// Sequence numbers below `max_seq` not received yet.
    pub gaps: Vec<SeqRange>,
    /// Sequence numbers with two different entries, or whose entry does not
    /// link to the entry before it: the device's history split.
    pub forks: Vec<u64>,
    pub last_seen: String,
}

/// A published instrument (without its JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedInstrument {
    pub form_id: String,
    pub version: String,
    pub hash: String,
    pub title: String,
    pub published_at: String,
    /// When `central unpublish` stopped serving it to devices (it stays at
    /// central: responses to it are still checked and exported).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpublished_at: Option<String>,
}

/// What central holds for one device: the content of its receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceHoldings {
    pub device_id: String,
    pub public_key: [u8; 32],
    /// Entries 1 to this one are all held, linked (see `chain.rs`).
    pub through: Option<enumera_core::bundle::receipt::ReceiptThrough>,
    /// The entries held past `through` (all of them without it).
    pub entries: Vec<enumera_core::bundle::ReceiptEntry>,
}
