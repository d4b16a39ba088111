//! Enumera central: where bundles from the field arrive, are checked and kept,
//! and are exported for analysis. Composes `enumera-core`; adds the server and
//! the export formats.
//!
//! Ingest rules (issue 6, docs/FORMAT.md):
//! - a bundle is verified whole (signature, every hash, framing, version)
//!   before anything is written; a refused bundle writes nothing;
//! - a device is known by the key of its first bundle (or enrolled by an
//!   operator; once any device is enrolled, unknown devices are refused) and
//!   a bundle signed by another key for a known device id is refused;
//! - one transaction per bundle; the instance id is unique in the database;
//! - an entry already held, or a response held with the same content, is a
//!   no-op; the same instance id with other content is kept as a conflict,
//!   never an overwrite;
//! - an edit (`deprecated_id`) replaces a version only when it comes from
//!   the device that made that version (or one central authorised,
//!   [`Central::grant_edit`]); an edit of another device's response is held
//!   aside (`not_author`), never applied. An edit of the current version
//!   becomes the current version; an edit of a version already replaced is
//!   kept as a conflict; an edit that arrives before the version it replaces
//!   waits (`pending_edit`) and is placed by these rules when that version
//!   arrives (order-free);
//! - other content under an instance id another device sent contests it:
//!   both are kept, neither is exported (instance ids are no secret);
//! - a response is current (exported) only when it matches the form central
//!   published under its form id and version, sealed when that form names
//!   researcher keys; otherwise it is held aside (`CURRENT` in sqlite/);
//! - per device, every outbox entry is recorded, so sequence gaps and forks
//!   are visible in [`Status`];
//! - sealed responses are stored as ciphertext; central never decrypts.

mod access;
mod any;
pub mod assign;
mod backend;
mod error;
pub mod export;
pub mod form_media;
mod postgres;
mod quota;
mod report;
pub mod review;
pub mod roles;
#[cfg(feature = "server")]
pub mod server;
mod sqlite;
pub mod submissions;
pub mod uploads;

use std::path::Path;

use std::io::{Read, Seek};

use enumera_core::bundle::{BundleError, BundleReader, Limits, Receipt, SignedReceipt};
use enumera_core::instrument::Instrument;

/// Attachments larger than this wait in temporary files during ingest
/// rather than in memory (issue 18, item 5).
pub const SPOOL_ATTACHMENTS_ABOVE: u64 = 1 << 20;

pub use any::{AnyStore, Location};
pub use assign::{Assignment, AssignmentFilter, DeviceReport, NewAssignment, Target};
pub use backend::CentralStore;
pub use error::{CentralError, IngestError};
pub use postgres::{PG_SCHEMA_VERSION, PgCentral, is_postgres_url, redact, serialization_retries};
pub use quota::{QuotaKind, Quotas};
pub use report::{
    ConflictInfo, DeviceHoldings, DeviceStatus, IngestReport, PublishedInstrument, SeqRange, Status,
};
pub use review::{ProgressRow, ReviewDetail, ReviewEvent, ReviewFilter, ReviewItem, ReviewOutcome};
pub use roles::{Permission, Principal, Revoke, Role, Scope, TokenGrant, TokenListing};
pub use sqlite::{SCHEMA_VERSION, SqliteCentral};

/// Central: a store plus the rules around it. Not `Sync`; a server holds
/// one per worker or behind a mutex. Several `Central`s may open the same
/// SQLite file: ingests are serialized by the database (IMMEDIATE
/// transactions), so the same bundle uploaded twice at once is held once.
#[derive(Debug)]
pub struct Central<S: CentralStore = SqliteCentral> {
    store: S,
    quotas: Quotas,
}

impl Central<SqliteCentral> {
    /// Creates a central database with a new Ed25519 key.
    pub fn init(path: impl AsRef<Path>) -> Result<Self, CentralError> {
        Ok(Central::with_store(SqliteCentral::init(path.as_ref())?))
    }

    /// A new central in memory, with its own key (tests, benchmarks).
    pub fn in_memory() -> Result<Self, CentralError> {
        Ok(Central::with_store(SqliteCentral::in_memory()?))
    }

    /// Opens an initialized central database.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CentralError> {
        Ok(Central::with_store(SqliteCentral::open(path.as_ref())?))
    }
}

impl Central<SqliteCentral> {
    /// A read-only connection to an initialized database at this build's
    /// schema version (see [`SqliteCentral::open_reader`]).
    pub fn open_reader(
        path: &Path,
        busy_timeout: std::time::Duration,
    ) -> Result<Self, CentralError> {
        Ok(Central::with_store(SqliteCentral::open_reader(path, busy_timeout)?))
    }
}

impl<S: CentralStore> Central<S> {
    /// Central over a store, with the default [`Quotas`].
    pub fn with_store(store: S) -> Self {
        Central { store, quotas: Quotas::DEFAULT }
    }

    /// The per-device quotas every ingest is held to.
    pub fn quotas(&self) -> Quotas {
        self.quotas
    }

    pub fn set_quotas(&mut self, quotas: Quotas) {
        self.quotas = quotas;
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Verifies a bundle held in memory and applies it in one transaction.
    /// Idempotent and order-free; a bundle that fails any check, or would
    /// pass a quota, writes nothing.
    pub fn ingest(&mut self, bundle: &[u8]) -> Result<IngestReport, IngestError> {
        self.ingest_from(&enumera_core::bundle::sha256_hex(bundle), bundle)
    }

    /// Ingests a bundle file, reading it twice (once to hash it, once to
    /// apply it) and never whole: memory is the manifest and one response.
    pub fn ingest_file(&mut self, path: &Path) -> Result<IngestReport, IngestError> {
        let io = |e| {
            IngestError::Bundle(BundleError::Io {
                path: path.to_path_buf(),
                context: "reading".into(),
                source: e,
            })
        };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let sha256 = hash_reader(&mut file).map_err(io)?;
        file.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
        self.ingest_from(&sha256, std::io::BufReader::new(file))
    }

    /// Applies the bundle `input`, whose SHA-256 the caller computed as it
    /// arrived (a server hashes an upload while spooling it): a file already
    /// ingested is known by that hash alone and not read again. Otherwise
    /// the manifest and signature are checked, then each response is read,
    /// checked and applied inside one transaction.
    pub fn ingest_from(
        &mut self,
        sha256: &str,
        input: impl std::io::Read,
    ) -> Result<IngestReport, IngestError> {
        // A byte-identical copy of a bundle already applied (a retried
        // upload, the same file from two relays) is known by its hash alone.
        if let Some(report) = self.store.replay(sha256)? {
            return Ok(report);
        }
        // Attachments above 1 MiB wait in temporary files, not in memory:
        // a bundle with a video is ingested in the memory of a buffer.
        let mut reader = BundleReader::open_hashed(input, &Limits::default(), sha256.into())?
            .spool_to(std::env::temp_dir(), SPOOL_ATTACHMENTS_ABOVE);
        self.store.ingest_stream(&mut reader, &self.quotas)
    }

    /// Applies a bundle already read whole with
    /// [`enumera_core::bundle::read_bundle`] (`bytes`: its file size).
    pub fn ingest_verified(
        &mut self,
        bundle: &enumera_core::bundle::VerifiedBundle,
        bytes: u64,
    ) -> Result<IngestReport, IngestError> {
        self.store.ingest_stream(&mut bundle.source(bytes), &self.quotas)
    }

    /// The signed receipt for a device: every entry central holds from it.
    pub fn receipt_for(&self, device_id: &str) -> Result<SignedReceipt, CentralError> {
        let holdings = self.store.holdings(device_id)?;
        let receipt = Receipt {
            format: enumera_core::bundle::receipt::RECEIPT_FORMAT.into(),
            central_public_key: String::new(),
            device_id: holdings.device_id,
            device_public_key: enumera_core::bundle::hex(&holdings.public_key),
            issued_at: now(),
            through: holdings.through,
            entries: holdings.entries,
        };
        Ok(receipt.sign(&self.store.signing_seed()?))
    }

    /// The payload held for a response (sealed ones as ciphertext).
    pub fn payload(
        &self,
        instance_id: &str,
    ) -> Result<Option<enumera_core::store::Payload>, CentralError> {
        self.store.payload(instance_id)
    }

    pub fn public_key(&self) -> Result<[u8; 32], CentralError> {
        self.store.public_key()
    }

    pub fn status(&self) -> Result<Status, CentralError> {
        self.store.status()
    }

    pub fn enrol_device(
        &mut self,
        device_id: &str,
        public_key: &[u8; 32],
        name: &str,
    ) -> Result<(), CentralError> {
        self.store.enrol_device(device_id, public_key, name)
    }

    /// Publishes an instrument; true when it was new (or served again after
    /// [`Central::unpublish`]). Refused when its canonical JSON, which is
    /// what devices fetch and export reads, does not read back as the same
    /// instrument (issue 15, finding 8): central never serves what it
    /// cannot read itself.
    pub fn publish(&mut self, instrument: &Instrument) -> Result<bool, CentralError> {
        let unservable = |reason: String| CentralError::Unservable {
            form_id: instrument.form_id.clone(),
            version: instrument.version.clone(),
            reason,
        };
        match Instrument::from_json(&instrument.canonical_json()) {
            Ok(back) if back.hash() == instrument.hash() => {}
            Ok(_) => return Err(unservable("it reads back as other content".into())),
            Err(e) => return Err(unservable(e.to_string())),
        }
        self.store.publish(instrument)
    }

    /// Publishes an instrument with its form media files (gathered by
    /// [`form_media::gather_media`]): media are checked against what the
    /// version already has before anything is written, so a changed file
    /// under a published version is refused and changes nothing. Returns
    /// whether the instrument and whether its media were newly published.
    pub fn publish_with_media(
        &mut self,
        instrument: &Instrument,
        media: &[form_media::MediaSource],
    ) -> Result<(bool, bool), CentralError> {
        let hash = instrument.hash();
        let clash = self.store.published()?.into_iter().find(|p| {
            p.form_id == instrument.form_id && p.version == instrument.version && p.hash != hash
        });
        if let Some(p) = clash {
            return Err(CentralError::PublishConflict {
                form_id: p.form_id,
                version: p.version,
                published: p.hash,
                new: hash,
            });
        }
        let have = self.store.published_media(&instrument.form_id, &instrument.version)?;
        let want: Vec<_> = media.iter().map(form_media::MediaSource::entry).collect();
        if !have.is_empty() && !form_media::same_media(&have, &want) {
            return Err(CentralError::MediaConflict {
                form_id: instrument.form_id.clone(),
                version: instrument.version.clone(),
                change: form_media::media_change(&have, &want),
            });
        }
        // Media are stored first, so that a form is never served without
        // them: a failure leaves the version unpublished (or as it was).
        let media_new =
            self.store.publish_media(&instrument.form_id, &instrument.version, media)?;
        let new = self.publish(instrument)?;
        Ok((new, media_new))
    }

    /// The form media files published with a version.
    pub fn published_media(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Vec<enumera_core::store::FormMediaEntry>, CentralError> {
        self.store.published_media(form_id, version)
    }

    /// Up to `len` bytes from `offset` of a form media file a served
    /// version names, with its whole size.
    pub fn media_range(
        &self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, CentralError> {
        self.store.media_range(sha256, offset, len)
    }

    /// Every instrument published, including those no longer served.
    pub fn published(&self) -> Result<Vec<PublishedInstrument>, CentralError> {
        self.store.published()
    }

    /// The instruments served to devices (published and not unpublished).
    pub fn served(&self) -> Result<Vec<PublishedInstrument>, CentralError> {
        Ok(self.store.published()?.into_iter().filter(|p| p.unpublished_at.is_none()).collect())
    }

    /// Stops serving a form's versions (all when `version` is `None`) to
    /// devices; central keeps them, and responses to them are still checked
    /// and exported. Returns how many versions were being served.
    pub fn unpublish(
        &mut self,
        form_id: &str,
        version: Option<&str>,
    ) -> Result<usize, CentralError> {
        self.store.unpublish(form_id, version)
    }

    /// Authorises a device to replace a response another device made (the
    /// review flow's return; see [`CentralStore::grant_edit`]).
    pub fn grant_edit(
        &mut self,
        instance_id: &str,
        device_id: &str,
        reason: &str,
    ) -> Result<(), CentralError> {
        self.store.grant_edit(instance_id, device_id, reason)
    }

    pub fn published_json(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Option<Vec<u8>>, CentralError> {
        self.store.published_json(form_id, version)
    }

    pub fn canonical_dump(&self) -> Result<String, CentralError> {
        self.store.canonical_dump()
    }
}

/// SHA-256 of everything `input` holds, read in chunks.
pub fn hash_reader(input: &mut impl Read) -> std::io::Result<String> {
    use sha2::Digest;
    let mut sha = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => sha.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(enumera_core::bundle::hex(&sha.finalize()))
}

/// Current time as RFC 3339 UTC with microseconds: sortable as text.
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
