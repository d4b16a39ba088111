//! The SQLite central store: one file, nothing to install. WAL,
//! `synchronous=FULL` (a receipt lets a device forget data, so what central
//! acknowledged must be on disk), foreign keys on; schema version in
//! `user_version`, migrations in one IMMEDIATE transaction.

mod access;
mod assign;
mod backup;
pub(crate) mod chain;
pub(crate) mod export;
mod form_media;
pub(crate) mod ingest;
mod review;
mod status;
mod submissions;
mod uploads;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::CentralError;
use crate::now;

/// Numbered schema files, applied in order; released ones never change.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../sql/0001_init.sql")),
    ("0002_tokens_rosters", include_str!("../../sql/0002_tokens_rosters.sql")),
    ("0003_chain_state", include_str!("../../sql/0003_chain_state.sql")),
    ("0004_integrity", include_str!("../../sql/0004_integrity.sql")),
    ("0005_quotas", include_str!("../../sql/0005_quotas.sql")),
    ("0006_roles", include_str!("../../sql/0006_roles.sql")),
    ("0007_review", include_str!("../../sql/0007_review.sql")),
    ("0008_assignments", include_str!("../../sql/0008_assignments.sql")),
    ("0009_data_api", include_str!("../../sql/0009_data_api.sql")),
    ("0010_uploads", include_str!("../../sql/0010_uploads.sql")),
    ("0011_form_media", include_str!("../../sql/0011_form_media.sql")),
    ("0012_sealed_payloads", include_str!("../../sql/0012_sealed_payloads.sql")),
];

/// Whether the response `r` is current, i.e. exported as a row: not
/// replaced by an edit, not an edit conflict, not held aside (`hold`), and
/// filled with the form central published under its form id and version
/// (same hash; sealed when that form names researcher keys). The form check
/// is made here, when central is read, rather than only at ingest, so that
/// a form published after its responses arrived applies to them too.
pub(crate) const CURRENT: &str = "r.superseded_by IS NULL AND r.edit_conflict = 0 AND r.hold IS NULL
    AND NOT EXISTS (SELECT 1 FROM published p WHERE p.form_id = r.form_id
        AND p.version = r.form_version AND (p.hash <> r.form_hash OR (p.sealed = 1 AND r.sealed IS NULL)))";

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Ed25519 (seed, public key).
type KeyPair = ([u8; 32], [u8; 32]);

/// Central's database in SQLite.
#[derive(Debug)]
pub struct SqliteCentral {
    conn: Connection,
    path: PathBuf,
}

impl SqliteCentral {
    /// Creates (or upgrades) the database and makes central's Ed25519 key.
    /// Refused when the database already has a key.
    pub fn init(path: &Path) -> Result<Self, CentralError> {
        let mut store = Self::connect(path)?;
        if let Some(key) = store.identity_row()? {
            return Err(CentralError::AlreadyInitialized {
                path: path.to_path_buf(),
                public_key: enumera_core::bundle::hex(&key.1),
            });
        }
        store.make_identity()?;
        Ok(store)
    }

    /// A new central in memory (tests, benchmarks, dry runs).
    pub fn in_memory() -> Result<Self, CentralError> {
        let mut store = Self::connect(Path::new(":memory:"))?;
        store.make_identity()?;
        Ok(store)
    }

    fn make_identity(&mut self) -> Result<(), CentralError> {
        let path = self.path.clone();
        let path = path.as_path();
        let store = self;
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| CentralError::Random(e.to_string()))?;
        let public_key = enumera_core::bundle::receipt::public_key_of(&seed);
        let tx = store
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| CentralError::sql(path, "initializing", e))?;
        tx.execute(
            "INSERT INTO central (id, central_id, signing_seed, public_key, created_at)
             VALUES (1, ?1, ?2, ?3, ?4)",
            params![uuid::Uuid::new_v4().to_string(), &seed[..], &public_key[..], now()],
        )
        .map_err(|e| CentralError::sql(path, "saving central's key", e))?;
        tx.commit().map_err(|e| CentralError::sql(path, "saving central's key", e))
    }

    /// Opens an initialized database (upgrading its schema).
    pub fn open(path: &Path) -> Result<Self, CentralError> {
        if !path.exists() {
            return Err(CentralError::NotFound { path: path.to_path_buf() });
        }
        let store = Self::connect(path)?;
        if store.identity_row()?.is_none() {
            return Err(CentralError::NotInitialized { path: path.to_path_buf() });
        }
        Ok(store)
    }

    /// Opens an initialized database for reading only: no schema upgrade,
    /// no write lock ever taken (a server's readers beside its writer).
    /// Refused unless the database is at this build's schema version.
    pub fn open_reader(
        path: &Path,
        busy_timeout: std::time::Duration,
    ) -> Result<Self, CentralError> {
        use rusqlite::OpenFlags;
        let sql = |context: &'static str| move |e| CentralError::sql(path, context, e);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql("opening for reading"))?;
        conn.busy_timeout(busy_timeout).map_err(sql("setting busy_timeout"))?;
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql("reading the schema version"))?;
        if version != SCHEMA_VERSION {
            return Err(CentralError::NewerVersion {
                path: path.to_path_buf(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let store = SqliteCentral { conn, path: path.to_path_buf() };
        if store.identity_row()?.is_none() {
            return Err(CentralError::NotInitialized { path: path.to_path_buf() });
        }
        Ok(store)
    }

    /// How long a statement waits for another connection's lock before it
    /// fails as busy (30 s from the command line; a server answers sooner).
    pub fn set_busy_timeout(&mut self, timeout: std::time::Duration) -> Result<(), CentralError> {
        self.conn.busy_timeout(timeout).map_err(self.err("setting busy_timeout"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database file, or `None` for a central in memory.
    pub fn file(&self) -> Option<&Path> {
        (self.path != Path::new(":memory:")).then_some(self.path.as_path())
    }

    fn connect(path: &Path) -> Result<Self, CentralError> {
        let sql = |context: &'static str| move |e| CentralError::sql(path, context, e);
        let mut conn = Connection::open(path).map_err(sql("opening"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql("setting busy_timeout"))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(sql("configuring"))?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("starting the schema upgrade"))?;
        let version: u32 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql("reading the schema version"))?;
        if version > SCHEMA_VERSION {
            return Err(CentralError::NewerVersion {
                path: path.to_path_buf(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        for (i, (name, migration)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(migration)
                .map_err(|e| CentralError::sql(path, format!("applying migration {name}"), e))?;
            tx.pragma_update(None, "user_version", i as u32 + 1)
                .map_err(sql("recording the schema version"))?;
        }
        tx.commit().map_err(sql("upgrading the schema"))?;
        Ok(SqliteCentral { conn, path: path.to_path_buf() })
    }

    fn err(&self, context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> CentralError + '_ {
        let context = context.into();
        move |e| CentralError::sql(&self.path, context, e)
    }

    /// Central's (signing seed, public key), once initialized.
    fn identity_row(&self) -> Result<Option<KeyPair>, CentralError> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .conn
            .query_row("SELECT signing_seed, public_key FROM central", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(self.err("reading central's key"))?;
        Ok(row.and_then(|(s, p)| Some((s.try_into().ok()?, p.try_into().ok()?))))
    }

    fn identity(&self) -> Result<KeyPair, CentralError> {
        self.identity_row()?.ok_or_else(|| CentralError::NotInitialized { path: self.path.clone() })
    }
}

impl crate::CentralStore for SqliteCentral {
    fn public_key(&self) -> Result<[u8; 32], CentralError> {
        self.public_key_impl()
    }

    fn signing_seed(&self) -> Result<[u8; 32], CentralError> {
        Ok(self.identity()?.0)
    }

    fn ingest_stream(
        &mut self,
        bundle: &mut dyn enumera_core::bundle::BundleSource,
        quotas: &crate::Quotas,
    ) -> Result<crate::IngestReport, crate::IngestError> {
        self.ingest_tx(bundle, quotas)
    }

    fn payload(
        &self,
        instance_id: &str,
    ) -> Result<Option<enumera_core::store::Payload>, CentralError> {
        self.payload_impl(instance_id)
    }

    fn replay(&self, bundle_sha256: &str) -> Result<Option<crate::IngestReport>, CentralError> {
        self.replay_impl(bundle_sha256)
    }

    fn holdings(&self, device_id: &str) -> Result<crate::DeviceHoldings, CentralError> {
        self.holdings_impl(device_id)
    }

    fn status(&self) -> Result<crate::Status, CentralError> {
        self.status_impl()
    }

    fn enrol_device(
        &mut self,
        device_id: &str,
        public_key: &[u8; 32],
        name: &str,
    ) -> Result<(), CentralError> {
        self.enrol_impl(device_id, public_key, name)
    }

    fn publish(
        &mut self,
        instrument: &enumera_core::instrument::Instrument,
    ) -> Result<bool, CentralError> {
        self.publish_impl(instrument)
    }

    fn published(&self) -> Result<Vec<crate::PublishedInstrument>, CentralError> {
        self.published_impl()
    }

    fn unpublish(&mut self, form_id: &str, version: Option<&str>) -> Result<usize, CentralError> {
        self.unpublish_impl(form_id, version)
    }

    fn grant_edit(
        &mut self,
        instance_id: &str,
        device_id: &str,
        reason: &str,
    ) -> Result<(), CentralError> {
        self.grant_edit_impl(instance_id, device_id, reason)
    }

    fn published_json(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Option<Vec<u8>>, CentralError> {
        self.published_json_impl(form_id, version)
    }

    fn canonical_dump(&self) -> Result<String, CentralError> {
        self.dump_impl()
    }

    fn publish_media(
        &mut self,
        form_id: &str,
        version: &str,
        media: &[crate::form_media::MediaSource],
    ) -> Result<bool, CentralError> {
        self.publish_media_impl(form_id, version, media)
    }

    fn published_media(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Vec<enumera_core::store::FormMediaEntry>, CentralError> {
        self.published_media_impl(form_id, version)
    }

    fn media_range(
        &self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, CentralError> {
        self.media_range_impl(sha256, offset, len)
    }

    fn add_token(
        &mut self,
        token_sha256: &[u8; 32],
        grant: &crate::roles::TokenGrant,
        public_key: Option<&[u8; 32]>,
    ) -> Result<(), CentralError> {
        self.add_token_impl(token_sha256, grant, public_key)
    }

    fn token(
        &self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<crate::roles::Principal>, CentralError> {
        self.token_impl(token_sha256)
    }

    fn revoke_tokens(&mut self, which: &crate::roles::Revoke) -> Result<usize, CentralError> {
        self.revoke_tokens_impl(which)
    }

    fn tokens(&self) -> Result<Vec<crate::roles::TokenListing>, CentralError> {
        self.tokens_impl()
    }

    fn publish_roster(
        &mut self,
        name: &str,
        json: &[u8],
        participants: u64,
    ) -> Result<bool, CentralError> {
        self.publish_roster_impl(name, json, participants)
    }

    fn rosters(&self) -> Result<Vec<enumera_core::remote::api::RosterListing>, CentralError> {
        self.rosters_impl()
    }

    fn roster_json(&self, name: &str) -> Result<Option<Vec<u8>>, CentralError> {
        self.roster_json_impl(name)
    }

    fn review_item(
        &self,
        instance_id: &str,
    ) -> Result<Option<crate::review::ReviewItem>, CentralError> {
        self.review_item_impl(instance_id)
    }

    fn review_items(&self) -> Result<Vec<crate::review::ReviewItem>, CentralError> {
        self.review_items_impl()
    }

    fn review_events(
        &self,
        instance_id: &str,
    ) -> Result<Vec<crate::review::ReviewEvent>, CentralError> {
        self.review_events_impl(instance_id)
    }

    fn record_review(
        &mut self,
        who: &crate::roles::Principal,
        action: &enumera_core::review::SignedAction,
    ) -> Result<crate::review::ReviewOutcome, CentralError> {
        self.record_review_impl(who, action)
    }

    fn returned_to(
        &self,
        device_id: &str,
    ) -> Result<Vec<enumera_core::review::ReturnedResponse>, CentralError> {
        self.returned_to_impl(device_id)
    }

    fn add_assignments(&mut self, new: &[crate::assign::Assignment]) -> Result<(), CentralError> {
        self.add_assignments_impl(new)
    }

    fn assignments(&self) -> Result<Vec<crate::assign::Assignment>, CentralError> {
        self.assignments_impl()
    }

    fn end_assignment(
        &mut self,
        id: &str,
        at: &str,
        by: &str,
        replacement: Option<&crate::assign::Assignment>,
    ) -> Result<bool, CentralError> {
        self.end_assignment_impl(id, at, by, replacement)
    }

    fn record_device_report(
        &mut self,
        report: &crate::assign::DeviceReport,
    ) -> Result<(), CentralError> {
        self.record_device_report_impl(report)
    }

    fn device_reports(&self) -> Result<Vec<crate::assign::DeviceReport>, CentralError> {
        self.device_reports_impl()
    }
}
