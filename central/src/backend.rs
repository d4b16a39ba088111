//! The central store as a trait, so that a PostgreSQL backend can follow
//! the SQLite one. Verification happens before a backend is called
//! ([`crate::Central::ingest`]); a backend applies a verified bundle in one
//! transaction, all or nothing.

use enumera_core::bundle::VerifiedBundle;
use enumera_core::instrument::Instrument;
use enumera_core::store::Payload;

use crate::error::{CentralError, IngestError};
use crate::report::{DeviceHoldings, IngestReport, PublishedInstrument, Status};

pub trait CentralStore {
    /// Central's Ed25519 public key.
    fn public_key(&self) -> Result<[u8; 32], CentralError>;

    /// Central's Ed25519 seed, for [`enumera_core::bundle::Receipt::sign`].
    fn signing_seed(&self) -> Result<[u8; 32], CentralError>;

    /// Applies a verified bundle in one transaction (see the crate docs for
    /// the rules). Idempotent: applying it again changes nothing.
    fn ingest_verified(&mut self, bundle: &VerifiedBundle) -> Result<IngestReport, IngestError>;

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
    /// is a no-op (returns false), other content under a published version
    /// is refused.
    fn publish(&mut self, instrument: &Instrument) -> Result<bool, CentralError>;

    fn published(&self) -> Result<Vec<PublishedInstrument>, CentralError>;

    /// The canonical JSON of a published instrument.
    fn published_json(&self, form_id: &str, version: &str)
    -> Result<Option<Vec<u8>>, CentralError>;

    /// A deterministic text dump of everything that defines central's state
    /// (not when things arrived): equal for equal holdings, whatever the
    /// order of ingest.
    fn canonical_dump(&self) -> Result<String, CentralError>;
}
