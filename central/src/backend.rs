//! The central store as a trait, so that a PostgreSQL backend can follow
//! the SQLite one. The manifest and signature are verified before a backend
//! is called ([`crate::Central::ingest`]); a backend applies the bundle's
//! responses as they are read, each checked against its hash, in one
//! transaction, all or nothing. Rules that matter (authorship, quotas) are
//! enforced inside that transaction, by the database where it can.

use enumera_core::bundle::BundleSource;
use enumera_core::instrument::Instrument;
use enumera_core::remote::api::RosterListing;
use enumera_core::store::Payload;

use crate::Quotas;
use crate::error::{CentralError, IngestError};
use crate::report::{DeviceHoldings, IngestReport, PublishedInstrument, Status};
use crate::roles::{Principal, Revoke, TokenGrant, TokenListing};

pub trait CentralStore {
    /// Central's Ed25519 public key.
    fn public_key(&self) -> Result<[u8; 32], CentralError>;

    /// Central's Ed25519 seed, for [`enumera_core::bundle::Receipt::sign`].
    fn signing_seed(&self) -> Result<[u8; 32], CentralError>;

    /// Applies a bundle in one transaction (see the crate docs for the
    /// rules), reading its responses one at a time from `bundle`, whose
    /// manifest and signature are already checked: an item that fails its
    /// hash, or a quota passed, rolls everything back. Idempotent: applying
    /// it again changes nothing.
    fn ingest_stream(
        &mut self,
        bundle: &mut dyn BundleSource,
        quotas: &Quotas,
    ) -> Result<IngestReport, IngestError>;

    /// The payload held for a response (plain XML and JSON, or the sealed
    /// ciphertext as received: central never decrypts).
    fn payload(&self, instance_id: &str) -> Result<Option<Payload>, CentralError>;

    /// The report of a no-op when this exact file (by SHA-256) was
    /// ingested before: re-ingesting it would change nothing, so it is
    /// neither parsed nor verified again. `None` for a file not seen.
    fn replay(&self, bundle_sha256: &str) -> Result<Option<IngestReport>, CentralError>;

    /// Every entry held for a device, in sequence order.
    fn holdings(&self, device_id: &str) -> Result<DeviceHoldings, CentralError>;

    fn status(&self) -> Result<Status, CentralError>;

    /// Enrols a device key; from then on only enrolled devices are accepted.
    fn enrol_device(
        &mut self,
        device_id: &str,
        public_key: &[u8; 32],
        name: &str,
    ) -> Result<(), CentralError>;

    /// Publishes an instrument for devices to fetch; the same content again
    /// is a no-op (returns false; or serves it again after `unpublish`,
    /// true), other content under a published version is refused. The
    /// caller ([`crate::Central::publish`]) has checked that its canonical
    /// JSON reads back.
    fn publish(&mut self, instrument: &Instrument) -> Result<bool, CentralError>;

    /// Every instrument published, served or not.
    fn published(&self) -> Result<Vec<PublishedInstrument>, CentralError>;

    /// Stops serving a published instrument (every version of the form when
    /// `version` is `None`) to devices; it stays at central. Returns how many
    /// versions were served before. Publishing the same content again
    /// serves it again.
    fn unpublish(&mut self, form_id: &str, version: Option<&str>) -> Result<usize, CentralError>;

    /// Authorises `device_id` to replace the response `instance_id` made by
    /// another device (the review flow's return, issue 17): an edit from
    /// that device arriving after this is placed as if its author had sent
    /// it. Only the author may replace a response otherwise; the store
    /// enforces that rule itself (in SQLite, by a trigger).
    fn grant_edit(
        &mut self,
        instance_id: &str,
        device_id: &str,
        reason: &str,
    ) -> Result<(), CentralError>;

    /// Publishes the media files of a published version (issue 18, item
    /// 2), each streamed from its path and checked against its listed
    /// SHA-256 and size while it is stored. The same files again are a
    /// no-op (false); other files under a version that has media are
    /// refused ([`CentralError::MediaConflict`]).
    fn publish_media(
        &mut self,
        form_id: &str,
        version: &str,
        media: &[crate::form_media::MediaSource],
    ) -> Result<bool, CentralError>;

    /// The media files published with a version, by name.
    fn published_media(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Vec<enumera_core::store::FormMediaEntry>, CentralError>;

    /// Up to `len` bytes from `offset` of a published media file, with its
    /// whole size; `None` when no published version names that SHA-256.
    fn media_range(
        &self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, CentralError>;

    /// The canonical JSON of a published instrument.
    fn published_json(&self, form_id: &str, version: &str)
    -> Result<Option<Vec<u8>>, CentralError>;

    /// A deterministic text dump of everything that defines central's state
    /// (not when things arrived): equal for equal holdings, whatever the
    /// order of ingest.
    fn canonical_dump(&self) -> Result<String, CentralError>;

    /// Stores a new bearer token by its SHA-256, with what it grants (the
    /// caller checked [`TokenGrant::problem`]) and, for the people's roles,
    /// the Ed25519 public key their review actions are signed with (`None`
    /// for a device). The database refuses a supervisor without a scope,
    /// another role with one, and a device token with a key or a person's
    /// without one.
    fn add_token(
        &mut self,
        token_sha256: &[u8; 32],
        grant: &TokenGrant,
        public_key: Option<&[u8; 32]>,
    ) -> Result<(), CentralError>;

    /// Who a token (by its SHA-256) belongs to; `None` for a token central
    /// does not know or that was revoked.
    fn token(&self, token_sha256: &[u8; 32]) -> Result<Option<Principal>, CentralError>;

    /// Marks tokens revoked (never deletes them: the public keys of
    /// revoked tokens still verify the review actions they signed);
    /// returns how many were live.
    fn revoke_tokens(&mut self, which: &Revoke) -> Result<usize, CentralError>;

    /// Every token, live or revoked, oldest first (never the token itself).
    fn tokens(&self) -> Result<Vec<TokenListing>, CentralError>;

    /// Publishes (or replaces) a roster under a checked name; false when the
    /// same content was already published under it.
    fn publish_roster(
        &mut self,
        name: &str,
        json: &[u8],
        participants: u64,
    ) -> Result<bool, CentralError>;

    fn rosters(&self) -> Result<Vec<RosterListing>, CentralError>;

    fn roster_json(&self, name: &str) -> Result<Option<Vec<u8>>, CentralError>;

    /// The current response `instance_id` as review sees it (state, district).
    fn review_item(
        &self,
        instance_id: &str,
    ) -> Result<Option<crate::review::ReviewItem>, CentralError>;

    /// Every current response as review sees it, oldest received first.
    fn review_items(&self) -> Result<Vec<crate::review::ReviewItem>, CentralError>;

    /// The review events of one version, in order.
    fn review_events(
        &self,
        instance_id: &str,
    ) -> Result<Vec<crate::review::ReviewEvent>, CentralError>;

    /// Appends a signed action by `who` (the caller checked the signer and
    /// the scope), in one transaction with the check of the move from the
    /// version's state; an action id already recorded is a no-op.
    fn record_review(
        &mut self,
        who: &Principal,
        action: &enumera_core::review::SignedAction,
    ) -> Result<crate::review::ReviewOutcome, CentralError>;

    /// The current versions made by `device_id` whose state is rejected.
    fn returned_to(
        &self,
        device_id: &str,
    ) -> Result<Vec<enumera_core::review::ReturnedResponse>, CentralError>;

    /// Adds assignments in one transaction, all or none (the caller checked
    /// them; the database refuses a second live assignment of a
    /// participant in one form and round).
    fn add_assignments(&mut self, new: &[crate::assign::Assignment]) -> Result<(), CentralError>;

    /// Every assignment, live or ended, oldest first.
    fn assignments(&self) -> Result<Vec<crate::assign::Assignment>, CentralError>;

    /// Ends a live assignment (`ended_at`, `ended_by`) and, for a
    /// reassignment, adds its replacement, in one transaction; false when
    /// it was not live.
    fn end_assignment(
        &mut self,
        id: &str,
        at: &str,
        by: &str,
        replacement: Option<&crate::assign::Assignment>,
    ) -> Result<bool, CentralError>;

    /// Replaces what a device last reported of its assignments.
    fn record_device_report(
        &mut self,
        report: &crate::assign::DeviceReport,
    ) -> Result<(), CentralError>;

    /// Every device's last report.
    fn device_reports(&self) -> Result<Vec<crate::assign::DeviceReport>, CentralError>;
}
