//! Either store, chosen by what `--db` names: a file (SQLite, the embedded
//! default) or a `postgres://` URL. The CLI and the server hold a
//! `Central<AnyStore>`, so every command and route works on both.

use std::path::{Path, PathBuf};

use enumera_core::bundle::BundleSource;
use enumera_core::instrument::Instrument;
use enumera_core::remote::api::RosterListing;
use enumera_core::store::Payload;

use crate::export::{ExportError, ExportSource, Filter, HeldAside, Order, RosterEntry, Visit};
use crate::{
    Central, CentralError, CentralStore, DeviceHoldings, IngestError, IngestReport, PgCentral,
    PublishedInstrument, Quotas, SqliteCentral, Status,
};

/// Where central's database is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    File(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user@host/db`, or
    /// `postgresql:///db?host=/run/postgresql` over a Unix socket).
    Postgres(String),
}

impl Location {
    /// A `--db` value: a `postgres://` or `postgresql://` URL, else a file.
    pub fn parse(db: &str) -> Location {
        if crate::postgres::is_postgres_url(db) {
            Location::Postgres(db.to_string())
        } else {
            Location::File(PathBuf::from(db))
        }
    }

    /// For messages: the file, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Location::File(path) => path.display().to_string(),
            Location::Postgres(url) => crate::postgres::redact(url),
        }
    }
}

/// The SQLite or the PostgreSQL store.
#[derive(Debug)]
pub enum AnyStore {
    Sqlite(SqliteCentral),
    Postgres(PgCentral),
}

macro_rules! each {
    ($self:expr, $s:ident => $body:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $body,
            AnyStore::Postgres($s) => $body,
        }
    };
}

impl AnyStore {
    /// `"sqlite"` or `"postgres"` (logs, `/metrics`).
    pub fn kind(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }

    /// Another connection to the same database for a server's pool: a
    /// read-only one for a SQLite file (reads beside the one writer),
    /// a full one for PostgreSQL (any connection may write). `None` for a
    /// SQLite central in memory, which has no file to open twice.
    pub fn another(
        &self,
        busy_timeout: std::time::Duration,
    ) -> Result<Option<AnyStore>, CentralError> {
        Ok(match self {
            AnyStore::Sqlite(s) => match s.file() {
                Some(path) => {
                    Some(AnyStore::Sqlite(SqliteCentral::open_reader(path, busy_timeout)?))
                }
                None => None,
            },
            AnyStore::Postgres(p) => Some(AnyStore::Postgres(p.reconnect()?)),
        })
    }

    /// Where this store's database is; `None` for a SQLite central in
    /// memory (a server's pool reads through the writer then).
    pub fn location(&self) -> Option<Location> {
        match self {
            AnyStore::Sqlite(s) => s.file().map(|p| Location::File(p.to_path_buf())),
            AnyStore::Postgres(p) => Some(Location::Postgres(p.url().to_string())),
        }
    }

    /// A connection for a server's readers at `at`, which must be at this
    /// build's schema version: read-only for a SQLite file (reads beside
    /// the one writer), a full connection for PostgreSQL.
    pub fn open_reader_at(
        at: &Location,
        busy_timeout: std::time::Duration,
    ) -> Result<AnyStore, CentralError> {
        Ok(match at {
            Location::File(path) => {
                AnyStore::Sqlite(SqliteCentral::open_reader(path, busy_timeout)?)
            }
            Location::Postgres(url) => AnyStore::Postgres(PgCentral::connect_current(url)?),
        })
    }

    /// How long a statement waits for another connection's lock before it
    /// fails as busy. SQLite's busy timeout; PostgreSQL's `lock_timeout`.
    pub fn set_busy_timeout(&mut self, timeout: std::time::Duration) -> Result<(), CentralError> {
        match self {
            AnyStore::Sqlite(s) => s.set_busy_timeout(timeout),
            AnyStore::Postgres(p) => p.set_lock_timeout(timeout),
        }
    }

    /// Replaces a PostgreSQL connection the database closed (a restart,
    /// a failover) with a new one; nothing for SQLite.
    pub fn reconnect_if_broken(&mut self) -> Result<(), CentralError> {
        if let AnyStore::Postgres(p) = self
            && p.is_closed()
        {
            *p = p.reconnect()?;
        }
        Ok(())
    }

    /// Whether the database answers (`/healthz`).
    pub fn ping(&self) -> Result<(), CentralError> {
        each!(self, s => s.ping())
    }

    /// True when the connection is broken and should be dropped.
    pub fn is_broken(&self) -> bool {
        match self {
            AnyStore::Sqlite(_) => false,
            AnyStore::Postgres(p) => p.is_closed(),
        }
    }

    /// A consistent copy of the live database in `out` (SQLite: a database
    /// file, by SQLite's online backup API; PostgreSQL: `pg_dump`'s custom
    /// format).
    pub fn backup_to(&self, out: &Path) -> Result<(), CentralError> {
        if out.exists() {
            return Err(CentralError::Exists { path: out.to_path_buf() });
        }
        each!(self, s => s.backup_to(out))
    }
}

impl Central<AnyStore> {
    /// Creates central at `db` with a new key (a SQLite file, or the
    /// schema in an existing, empty PostgreSQL database).
    pub fn init_at(db: &Location) -> Result<Self, CentralError> {
        Ok(Central::with_store(match db {
            Location::File(path) => AnyStore::Sqlite(SqliteCentral::init(path)?),
            Location::Postgres(url) => AnyStore::Postgres(PgCentral::init(url)?),
        }))
    }

    /// Opens an initialized central at `db` (upgrading its schema).
    pub fn open_at(db: &Location) -> Result<Self, CentralError> {
        Ok(Central::with_store(match db {
            Location::File(path) => AnyStore::Sqlite(SqliteCentral::open(path)?),
            Location::Postgres(url) => AnyStore::Postgres(PgCentral::open(url)?),
        }))
    }

    /// Restores `backup` (written by [`AnyStore::backup_to`] for the same
    /// kind of database) into `db`: a new file, or an empty PostgreSQL
    /// database. Then opens it.
    pub fn restore_at(db: &Location, backup: &Path) -> Result<Self, CentralError> {
        match db {
            Location::File(path) => Ok(Central::with_store(AnyStore::Sqlite(
                SqliteCentral::restore_from(path, backup)?,
            ))),
            Location::Postgres(url) => {
                PgCentral::restore_from(url, backup)?;
                Central::open_at(db)
            }
        }
    }
}

impl From<Central<SqliteCentral>> for Central<AnyStore> {
    fn from(c: Central<SqliteCentral>) -> Self {
        Central { store: AnyStore::Sqlite(c.store), quotas: c.quotas }
    }
}

impl From<Central<PgCentral>> for Central<AnyStore> {
    fn from(c: Central<PgCentral>) -> Self {
        Central { store: AnyStore::Postgres(c.store), quotas: c.quotas }
    }
}

impl CentralStore for AnyStore {
    fn public_key(&self) -> Result<[u8; 32], CentralError> {
        each!(self, s => s.public_key())
    }
    fn signing_seed(&self) -> Result<[u8; 32], CentralError> {
        each!(self, s => s.signing_seed())
    }
    fn ingest_stream(
        &mut self,
        bundle: &mut dyn BundleSource,
        quotas: &Quotas,
    ) -> Result<IngestReport, IngestError> {
        each!(self, s => s.ingest_stream(bundle, quotas))
    }
    fn payload(&self, instance_id: &str) -> Result<Option<Payload>, CentralError> {
        each!(self, s => s.payload(instance_id))
    }
    fn replay(&self, bundle_sha256: &str) -> Result<Option<IngestReport>, CentralError> {
        each!(self, s => s.replay(bundle_sha256))
    }
    fn holdings(&self, device_id: &str) -> Result<DeviceHoldings, CentralError> {
        each!(self, s => s.holdings(device_id))
    }
    fn status(&self) -> Result<Status, CentralError> {
        each!(self, s => s.status())
    }
    fn enrol_device(
        &mut self,
        device_id: &str,
        public_key: &[u8; 32],
        name: &str,
    ) -> Result<(), CentralError> {
        each!(self, s => s.enrol_device(device_id, public_key, name))
    }
    fn publish(&mut self, instrument: &Instrument) -> Result<bool, CentralError> {
        each!(self, s => s.publish(instrument))
    }
    fn published(&self) -> Result<Vec<PublishedInstrument>, CentralError> {
        each!(self, s => s.published())
    }
    fn unpublish(&mut self, form_id: &str, version: Option<&str>) -> Result<usize, CentralError> {
        each!(self, s => s.unpublish(form_id, version))
    }
    fn grant_edit(
        &mut self,
        instance_id: &str,
        device_id: &str,
        reason: &str,
    ) -> Result<(), CentralError> {
        each!(self, s => s.grant_edit(instance_id, device_id, reason))
    }
    fn published_json(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Option<Vec<u8>>, CentralError> {
        each!(self, s => s.published_json(form_id, version))
    }
    fn canonical_dump(&self) -> Result<String, CentralError> {
        each!(self, s => s.canonical_dump())
    }
    fn publish_media(
        &mut self,
        form_id: &str,
        version: &str,
        media: &[crate::form_media::MediaSource],
    ) -> Result<bool, CentralError> {
        each!(self, s => s.publish_media(form_id, version, media))
    }
    fn published_media(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Vec<enumera_core::store::FormMediaEntry>, CentralError> {
        each!(self, s => s.published_media(form_id, version))
    }
    fn media_range(
        &self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, CentralError> {
        each!(self, s => s.media_range(sha256, offset, len))
    }
    fn add_token(
        &mut self,
        token_sha256: &[u8; 32],
        grant: &crate::roles::TokenGrant,
        public_key: Option<&[u8; 32]>,
    ) -> Result<(), CentralError> {
        each!(self, s => s.add_token(token_sha256, grant, public_key))
    }
    fn token(
        &self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<crate::roles::Principal>, CentralError> {
        each!(self, s => s.token(token_sha256))
    }
    fn revoke_tokens(&mut self, which: &crate::roles::Revoke) -> Result<usize, CentralError> {
        each!(self, s => s.revoke_tokens(which))
    }
    fn tokens(&self) -> Result<Vec<crate::roles::TokenListing>, CentralError> {
        each!(self, s => s.tokens())
    }
    fn publish_roster(
        &mut self,
        name: &str,
        json: &[u8],
        participants: u64,
    ) -> Result<bool, CentralError> {
        each!(self, s => s.publish_roster(name, json, participants))
    }
    fn rosters(&self) -> Result<Vec<RosterListing>, CentralError> {
        each!(self, s => s.rosters())
    }
    fn roster_json(&self, name: &str) -> Result<Option<Vec<u8>>, CentralError> {
        each!(self, s => s.roster_json(name))
    }
    fn review_item(
        &self,
        instance_id: &str,
    ) -> Result<Option<crate::review::ReviewItem>, CentralError> {
        each!(self, s => s.review_item(instance_id))
    }
    fn review_items(&self) -> Result<Vec<crate::review::ReviewItem>, CentralError> {
        each!(self, s => s.review_items())
    }
    fn review_events(
        &self,
        instance_id: &str,
    ) -> Result<Vec<crate::review::ReviewEvent>, CentralError> {
        each!(self, s => s.review_events(instance_id))
    }
    fn record_review(
        &mut self,
        who: &crate::roles::Principal,
        action: &enumera_core::review::SignedAction,
    ) -> Result<crate::review::ReviewOutcome, CentralError> {
        each!(self, s => s.record_review(who, action))
    }
    fn returned_to(
        &self,
        device_id: &str,
    ) -> Result<Vec<enumera_core::review::ReturnedResponse>, CentralError> {
        each!(self, s => s.returned_to(device_id))
    }
    fn add_assignments(&mut self, new: &[crate::assign::Assignment]) -> Result<(), CentralError> {
        each!(self, s => s.add_assignments(new))
    }
    fn assignments(&self) -> Result<Vec<crate::assign::Assignment>, CentralError> {
        each!(self, s => s.assignments())
    }
    fn end_assignment(
        &mut self,
        id: &str,
        at: &str,
        by: &str,
        replacement: Option<&crate::assign::Assignment>,
    ) -> Result<bool, CentralError> {
        each!(self, s => s.end_assignment(id, at, by, replacement))
    }
    fn record_device_report(
        &mut self,
        report: &crate::assign::DeviceReport,
    ) -> Result<(), CentralError> {
        each!(self, s => s.record_device_report(report))
    }
    fn device_reports(&self) -> Result<Vec<crate::assign::DeviceReport>, CentralError> {
        each!(self, s => s.device_reports())
    }
}

impl ExportSource for AnyStore {
    fn instruments(&self, filter: &Filter) -> Result<Vec<Instrument>, ExportError> {
        each!(self, s => s.instruments(filter))
    }
    fn count(&self, filter: &Filter) -> Result<u64, ExportError> {
        each!(self, s => s.count(filter))
    }
    fn responses(
        &self,
        filter: &Filter,
        order: Order,
        visit: Visit<'_, crate::export::StoredResponse>,
    ) -> Result<(), ExportError> {
        each!(self, s => s.responses(filter, order, visit))
    }
    fn held_aside(&self, filter: &Filter, visit: Visit<'_, HeldAside>) -> Result<(), ExportError> {
        each!(self, s => s.held_aside(filter, visit))
    }
    fn pseudonym_secret(&self) -> Result<[u8; 32], ExportError> {
        each!(self, s => s.pseudonym_secret())
    }
    fn attachment(&self, sha256: &str) -> Result<Option<Vec<u8>>, ExportError> {
        each!(self, s => s.attachment(sha256))
    }
    fn copy_attachment(
        &self,
        sha256: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, ExportError> {
        each!(self, s => s.copy_attachment(sha256, out))
    }
    fn copy_sealed(
        &self,
        instance_id: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<Option<u64>, ExportError> {
        each!(self, s => s.copy_sealed(instance_id, out))
    }
    fn edits(&self, instance_id: &str) -> Result<u64, ExportError> {
        each!(self, s => s.edits(instance_id))
    }
    fn roster(&self) -> Result<Vec<RosterEntry>, ExportError> {
        each!(self, s => s.roster())
    }
    fn review(&self, filter: &Filter) -> Result<crate::export::ReviewExport, ExportError> {
        each!(self, s => s.review(filter))
    }
}

impl crate::submissions::SubmissionSource for AnyStore {
    fn submission_page(
        &self,
        query: &crate::submissions::SubmissionQuery,
        after: Option<&crate::submissions::Cursor>,
        offset: u64,
        limit: usize,
    ) -> Result<crate::submissions::SubmissionPage, CentralError> {
        each!(self, s => s.submission_page(query, after, offset, limit))
    }
    fn submission_count(
        &self,
        query: &crate::submissions::SubmissionQuery,
    ) -> Result<u64, CentralError> {
        each!(self, s => s.submission_count(query))
    }
    fn submission(
        &self,
        instance_id: &str,
    ) -> Result<Option<(crate::export::StoredResponse, String)>, CentralError> {
        each!(self, s => s.submission(instance_id))
    }
}
