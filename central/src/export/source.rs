//! What export reads from a central store, one response at a time so that
//! memory does not grow with the number of responses.

use enumera_core::instrument::Instrument;

use super::ExportError;

/// Which responses to export.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub form: Option<String>,
    pub version: Option<String>,
    /// Received at or after this time (RFC 3339 text or a date, `2026-11-01`).
    pub since: Option<String>,
}

/// A response as held by central, with the outbox entry it came in.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub instance_id: String,
    pub device_id: String,
    pub form_id: String,
    pub form_version: String,
    pub participant_id: Option<String>,
    pub round: Option<i64>,
    pub enumerator: Option<String>,
    pub finalized_at: String,
    pub received_at: String,
    pub xml: Option<String>,
    /// The size of the sealed payload when the response is sealed; its
    /// bytes are streamed with [`ExportSource::copy_sealed`] (a sealed
    /// response carries its attachments, so it can be large).
    pub sealed: Option<u64>,
    /// The outbox entry's content (JSON), whose hashes the payload must match.
    pub entry_content: Option<String>,
}

/// A held item that is not exported as a current response.
#[derive(Debug, Clone)]
pub struct HeldAside {
    /// `conflict:different_content`, `edit_conflict`, `replaced`.
    pub kind: String,
    pub instance_id: String,
    pub form_id: String,
    pub device_id: String,
    pub detail: String,
}

/// Order of iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// By form and version, then arrival.
    Form,
    /// By participant and round (responses without a participant left out).
    Participant,
}

pub type Visit<'a, T> = &'a mut dyn FnMut(T) -> Result<(), ExportError>;

/// A store export can read. Implemented by [`crate::SqliteCentral`].
pub trait ExportSource {
    /// Every published version of the selected forms, parsed, by form then version.
    fn instruments(&self, filter: &Filter) -> Result<Vec<Instrument>, ExportError>;

    /// How many current responses match (for progress).
    fn count(&self, filter: &Filter) -> Result<u64, ExportError>;

    /// Current responses (not replaced by an edit, not an edit conflict).
    fn responses(
        &self,
        filter: &Filter,
        order: Order,
        visit: Visit<'_, StoredResponse>,
    ) -> Result<(), ExportError>;

    /// Conflicts, edit conflicts and replaced versions matching the filter.
    fn held_aside(&self, filter: &Filter, visit: Visit<'_, HeldAside>) -> Result<(), ExportError>;

    /// The per-central secret for participant pseudonyms (made on first use).
    fn pseudonym_secret(&self) -> Result<[u8; 32], ExportError>;

    /// The bytes of an attachment central holds, by SHA-256 (None when it
    /// holds none): export checks them against the hash the bundle carried.
    fn attachment(&self, sha256: &str) -> Result<Option<Vec<u8>>, ExportError>;

    /// Streams an attachment central holds, by SHA-256, into `out`; the
    /// bytes written, or None when it holds none. Stores that can read a
    /// value in pieces override it, so that a video is never held whole.
    fn copy_attachment(
        &self,
        sha256: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, ExportError> {
        let Some(bytes) = self.attachment(sha256)? else { return Ok(None) };
        out.write_all(&bytes).map_err(|e| ExportError::io(std::path::Path::new("media"), e))?;
        Ok(Some(bytes.len() as u64))
    }

    /// Streams the sealed payload of the current response `instance_id`
    /// into `out` (a chunk at a time); the bytes written, or None when it
    /// holds none.
    fn copy_sealed(
        &self,
        instance_id: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, ExportError>;

    /// How many earlier versions a response replaces (its edits, one after
    /// another): ODK Central's `Edits` column.
    fn edits(&self, instance_id: &str) -> Result<u64, ExportError> {
        let _ = instance_id;
        Ok(0)
    }

    /// Every participant of the published rosters, for the progress check.
    fn roster(&self) -> Result<Vec<RosterEntry>, ExportError> {
        Ok(Vec::new())
    }

    /// Review events and the review state of the current responses
    /// matching the filter (issue 17); none for a source without review.
    fn review(&self, filter: &Filter) -> Result<super::review::ReviewExport, ExportError> {
        let _ = filter;
        Ok(Default::default())
    }
}

/// A participant on a published roster: the id and the fields shown to
/// find them (district, group, ...); never their personal fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    pub id: String,
    pub display: std::collections::BTreeMap<String, String>,
}
