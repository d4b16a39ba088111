//! The PostgreSQL central store (issue 19): the same tables, rules and
//! meaning as the SQLite store, for deployments that outgrow one machine
//! and for several `central serve` processes on one database.
//!
//! What keeps it correct when several servers ingest at once is the
//! database, not a process: each bundle is applied in one transaction
//! that first locks the instance ids it names (so ingests that touch a
//! response in common queue, and others run side by side; [`ingest`]),
//! the rules SQLite keeps in triggers are PL/pgSQL triggers here, and
//! uniqueness is the tables' own. An ingest first copies the verified
//! bundle into a temporary table of its session, so that a retried
//! transaction reads it again from there and never from the network; a
//! per-device advisory lock makes a device's concurrent uploads queue
//! rather than fail and retry.
//!
//! The client is the synchronous `postgres` crate: the store trait, the
//! CLI and export are blocking, and the server runs store work on blocking
//! threads already (docs/ARCHITECTURE.md).

mod access;
mod assign;
pub(crate) mod backup;
mod chain;
mod export;
mod form_media;
mod ingest;
mod review;
mod status;
mod submissions;
mod uploads;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;

use postgres::{Client, NoTls, Statement};

use crate::error::CentralError;
use crate::now;

/// Numbered schema files, applied in order; released ones never change.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../sql/postgres/0001_init.sql")),
    ("0002_roles_review", include_str!("../../sql/postgres/0002_roles_review.sql")),
    ("0003_assignments", include_str!("../../sql/postgres/0003_assignments.sql")),
    ("0004_data_api", include_str!("../../sql/postgres/0004_data_api.sql")),
    ("0005_blob_chunks", include_str!("../../sql/postgres/0005_blob_chunks.sql")),
    ("0006_uploads", include_str!("../../sql/postgres/0006_uploads.sql")),
    ("0007_form_media", include_str!("../../sql/postgres/0007_form_media.sql")),
    ("0008_sealed_chunks", include_str!("../../sql/postgres/0008_sealed_chunks.sql")),
];

/// The schema version this build writes (its own numbering: PostgreSQL's
/// schema 1 holds what SQLite's schema 5 holds, 2 what its 7 holds).
pub const PG_SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Taken (per transaction) while the schema is read or upgraded, so two
/// servers starting at once never both upgrade. Any fixed number will do.
const MIGRATION_LOCK: i64 = 0x0065_6e75_6d65_7261;

/// Whether the response `r` is current (exported): SQLite's `CURRENT`.
pub(crate) const CURRENT: &str = "r.superseded_by IS NULL AND NOT r.edit_conflict AND r.hold IS NULL
    AND NOT EXISTS (SELECT 1 FROM published p WHERE p.form_id = r.form_id
        AND p.version = r.form_version AND (p.hash <> r.form_hash OR (p.sealed AND r.sealed IS NULL)))";

/// Ed25519 (seed, public key).
type KeyPair = ([u8; 32], [u8; 32]);

/// True for a `--db` value naming a PostgreSQL database rather than a file.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_string(),
    };
    // A password may also come as a query parameter.
    let tail = match tail.split_once('?') {
        None => tail.to_string(),
        Some((path, query)) => {
            let query = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some(("password", _)) => "password=***".to_string(),
                    _ => kv.to_string(),
                })
                .collect::<Vec<_>>()
                .join("&");
            format!("{path}?{query}")
        }
    };
    format!("{scheme}://{authority}{tail}")
}

/// A connection that is closed on a thread of its own: the `postgres`
/// client closes by blocking on its own runtime, which tokio refuses on an
/// async thread (where a server's last reference may go).
struct Conn(Option<Client>);

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Conn")
    }
}

/// Central's database in PostgreSQL: one connection (a server keeps a pool
/// of these). Not `Sync`, like the SQLite store: the trait reads through
/// `&self`, and a connection runs one statement at a time.
#[derive(Debug)]
pub struct PgCentral {
    /// Boxed: the connection's state is large, and a store moves between
    /// a pool and its users.
    inner: Box<RefCell<Inner>>,
    /// The URL as given (to open more connections); never shown.
    url: String,
}

/// The connection and what belongs to its session.
#[derive(Debug)]
pub(crate) struct Inner {
    conn: Conn,
    /// Prepared statements of this connection, by their SQL.
    stmts: HashMap<String, Statement>,
    /// The URL without its password, for messages.
    target: String,
    /// Whether this session has made its staging tables.
    staging: bool,
    /// Whether a read snapshot is open ([`PgCentral::read`] nests).
    in_snapshot: bool,
}

impl PgCentral {
    /// Connects, creates or upgrades the schema and makes central's key.
    /// Refused when the database already has one.
    pub fn init(url: &str) -> Result<Self, CentralError> {
        let store = Self::connect(url, true)?;
        {
            let mut inner = store.inner.borrow_mut();
            if let Some(key) = inner.identity_row()? {
                return Err(CentralError::AlreadyInitialized {
                    path: PathBuf::from(&inner.target),
                    public_key: enumera_core::bundle::hex(&key.1),
                });
            }
            inner.make_identity()?;
        }
        Ok(store)
    }

    /// Connects to an initialized database, upgrading its schema.
    pub fn open(url: &str) -> Result<Self, CentralError> {
        let store = Self::connect(url, true)?;
        {
            let mut inner = store.inner.borrow_mut();
            if inner.identity_row()?.is_none() {
                return Err(CentralError::NotInitialized { path: PathBuf::from(&inner.target) });
            }
        }
        Ok(store)
    }

    /// Another connection to the same database, which must be at this
    /// build's schema version (a server's pool).
    pub fn reconnect(&self) -> Result<Self, CentralError> {
        Self::connect(&self.url, false)
    }

    /// A connection to a database at this build's schema version (a
    /// server's readers); refused at any other version, never upgraded.
    pub fn connect_current(url: &str) -> Result<Self, CentralError> {
        Self::connect(url, false)
    }

    /// How long a statement waits for a lock another connection holds
    /// before it fails (`55P03`, answered as busy).
    pub fn set_lock_timeout(&self, timeout: std::time::Duration) -> Result<(), CentralError> {
        self.with(|s| {
            let map = s.err("setting lock_timeout");
            let sql = format!("SET lock_timeout = {}", timeout.as_millis().max(1));
            s.client().batch_execute(&sql).map_err(map)
        })
    }

    /// The database, password left out.
    pub fn target(&self) -> String {
        redact(&self.url)
    }

    /// The URL given, password included (for `pg_dump`); never print it.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    fn connect(url: &str, upgrade: bool) -> Result<Self, CentralError> {
        let target = redact(url);
        let client = Client::connect(url, NoTls).map_err(|e| {
            CentralError::postgres(
                &target,
                "connecting (is the server running, and the database created?)",
                e,
            )
        })?;
        let mut inner = Inner {
            conn: Conn(Some(client)),
            stmts: HashMap::new(),
            target,
            staging: false,
            in_snapshot: false,
        };
        inner.migrate(upgrade)?;
        Ok(PgCentral { inner: Box::new(RefCell::new(inner)), url: url.to_string() })
    }

    /// Runs `job` on the connection as it is (one statement is atomic).
    fn with<T>(
        &self,
        job: impl FnOnce(&mut Inner) -> Result<T, CentralError>,
    ) -> Result<T, CentralError> {
        job(&mut self.inner.borrow_mut())
    }

    /// Runs `job` inside a read-only REPEATABLE READ transaction, so that
    /// what its statements read belongs to one moment even while other
    /// servers ingest. Nested calls share the outer snapshot.
    pub(crate) fn read<T, E: From<CentralError>>(
        &self,
        job: impl FnOnce(&mut Inner) -> Result<T, E>,
    ) -> Result<T, E> {
        self.begin_snapshot()?;
        let out = job(&mut self.inner.borrow_mut());
        self.end_snapshot(out.is_ok())?;
        out
    }

    /// Opens a snapshot unless one is open; true when this call opened it.
    pub(crate) fn begin_snapshot(&self) -> Result<bool, CentralError> {
        let mut inner = self.inner.borrow_mut();
        if inner.in_snapshot {
            return Ok(false);
        }
        let map = inner.err("starting a read");
        inner
            .client()
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(map)?;
        inner.in_snapshot = true;
        Ok(true)
    }

    fn end_snapshot(&self, _ok: bool) -> Result<(), CentralError> {
        let mut inner = self.inner.borrow_mut();
        if !inner.in_snapshot {
            return Ok(());
        }
        inner.in_snapshot = false;
        let map = inner.err("ending a read");
        inner.client().batch_execute("COMMIT").map_err(map)
    }

    /// Closes a snapshot this caller opened ([`PgCentral::begin_snapshot`]).
    pub(crate) fn close_snapshot(&self, opened: bool) -> Result<(), CentralError> {
        if opened { self.end_snapshot(true) } else { Ok(()) }
    }

    pub(crate) fn inner(&self) -> std::cell::RefMut<'_, Inner> {
        self.inner.borrow_mut()
    }

    /// Whether the connection still answers (a server's `/healthz`).
    pub fn ping(&self) -> Result<(), CentralError> {
        self.with(|s| {
            let map = s.err("checking the connection");
            s.client().simple_query("SELECT 1").map(|_| ()).map_err(map)
        })
    }

    /// True once the connection is broken: a pool drops it.
    pub fn is_closed(&self) -> bool {
        self.inner.borrow().conn.0.as_ref().is_none_or(Client::is_closed)
    }
}

impl Inner {
    pub(crate) fn client(&mut self) -> &mut Client {
        // Only `Drop` takes the client out.
        self.conn.0.as_mut().expect("connection present until dropped")
    }

    /// Reads the schema version under the migration lock, refuses a newer
    /// one (or, when not `upgrade`, any other), and applies what is
    /// missing in one transaction.
    fn migrate(&mut self, upgrade: bool) -> Result<(), CentralError> {
        let target = self.target.clone();
        let sql = |context: &'static str| {
            let target = target.clone();
            move |e| CentralError::postgres(&target, context, e)
        };
        let mut tx = self.client().transaction().map_err(sql("starting the schema upgrade"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(sql("waiting for another schema upgrade"))?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS enumera_schema (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 version INTEGER NOT NULL,
                 upgraded_at TEXT NOT NULL)",
        )
        .map_err(sql("reading the schema version"))?;
        let version: i32 = tx
            .query_opt("SELECT version FROM enumera_schema WHERE id = 1", &[])
            .map_err(sql("reading the schema version"))?
            .map_or(0, |r| r.get(0));
        let version = version.max(0) as u32;
        if version > PG_SCHEMA_VERSION || (!upgrade && version != PG_SCHEMA_VERSION) {
            return Err(CentralError::NewerVersion {
                path: PathBuf::from(&target),
                found: version,
                supported: PG_SCHEMA_VERSION,
            });
        }
        for (i, (name, migration)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(migration).map_err(|e| {
                CentralError::postgres(&target, format!("applying migration {name}"), e)
            })?;
            tx.execute(
                "INSERT INTO enumera_schema (id, version, upgraded_at) VALUES (1, $1, $2)
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version,
                     upgraded_at = excluded.upgraded_at",
                &[&(i as i32 + 1), &now()],
            )
            .map_err(sql("recording the schema version"))?;
        }
        tx.commit().map_err(sql("upgrading the schema"))
    }

    pub(crate) fn err<C: Into<String>>(
        &self,
        context: C,
    ) -> impl FnOnce(postgres::Error) -> CentralError + use<C> {
        let target = self.target.clone();
        let context = context.into();
        move |e| CentralError::postgres(&target, context, e)
    }

    fn make_identity(&mut self) -> Result<(), CentralError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| CentralError::Random(e.to_string()))?;
        let public_key = enumera_core::bundle::receipt::public_key_of(&seed);
        let map = self.err("saving central's key");
        self.client()
            .execute(
                "INSERT INTO central (id, central_id, signing_seed, public_key, created_at)
                 VALUES (1, $1, $2, $3, $4)",
                &[&uuid::Uuid::new_v4().to_string(), &&seed[..], &&public_key[..], &now()],
            )
            .map(|_| ())
            .map_err(map)
    }

    fn identity_row(&mut self) -> Result<Option<KeyPair>, CentralError> {
        let map = self.err("reading central's key");
        let row = self
            .client()
            .query_opt("SELECT signing_seed, public_key FROM central WHERE id = 1", &[])
            .map_err(map)?;
        Ok(row.and_then(|r| {
            let (seed, key): (Vec<u8>, Vec<u8>) = (r.get(0), r.get(1));
            Some((seed.try_into().ok()?, key.try_into().ok()?))
        }))
    }

    fn identity(&mut self) -> Result<KeyPair, CentralError> {
        let path = PathBuf::from(&self.target);
        self.identity_row()?.ok_or(CentralError::NotInitialized { path })
    }

    /// A prepared statement of this connection, prepared on first use.
    pub(crate) fn stmt(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client().prepare(sql)?;
        self.stmts.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// `u64` from a BIGINT column (never negative by the schema).
fn u(v: i64) -> u64 {
    v.max(0) as u64
}

/// A BIGINT parameter from a `u64` (sequence numbers, sizes).
fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl crate::CentralStore for PgCentral {
    fn public_key(&self) -> Result<[u8; 32], CentralError> {
        self.with(|s| Ok(s.identity()?.1))
    }

    fn signing_seed(&self) -> Result<[u8; 32], CentralError> {
        self.with(|s| Ok(s.identity()?.0))
    }

    fn ingest_stream(
        &mut self,
        bundle: &mut dyn enumera_core::bundle::BundleSource,
        quotas: &crate::Quotas,
    ) -> Result<crate::IngestReport, crate::IngestError> {
        self.inner.get_mut().ingest_impl(bundle, quotas)
    }

    fn payload(
        &self,
        instance_id: &str,
    ) -> Result<Option<enumera_core::store::Payload>, CentralError> {
        self.with(|s| s.payload_impl(instance_id))
    }

    fn replay(&self, bundle_sha256: &str) -> Result<Option<crate::IngestReport>, CentralError> {
        self.read(|s| s.replay_impl(bundle_sha256))
    }

    fn holdings(&self, device_id: &str) -> Result<crate::DeviceHoldings, CentralError> {
        self.read(|s| s.holdings_impl(device_id))
    }

    fn status(&self) -> Result<crate::Status, CentralError> {
        self.read(|s| s.status_impl())
    }

    fn enrol_device(
        &mut self,
        device_id: &str,
        public_key: &[u8; 32],
        name: &str,
    ) -> Result<(), CentralError> {
        self.inner.get_mut().enrol_impl(device_id, public_key, name)
    }

    fn publish(
        &mut self,
        instrument: &enumera_core::instrument::Instrument,
    ) -> Result<bool, CentralError> {
        self.inner.get_mut().publish_impl(instrument)
    }

    fn published(&self) -> Result<Vec<crate::PublishedInstrument>, CentralError> {
        self.with(|s| s.published_impl())
    }

    fn unpublish(&mut self, form_id: &str, version: Option<&str>) -> Result<usize, CentralError> {
        self.inner.get_mut().unpublish_impl(form_id, version)
    }

    fn grant_edit(
        &mut self,
        instance_id: &str,
        device_id: &str,
        reason: &str,
    ) -> Result<(), CentralError> {
        self.inner.get_mut().grant_edit_impl(instance_id, device_id, reason)
    }

    fn published_json(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Option<Vec<u8>>, CentralError> {
        self.with(|s| s.published_json_impl(form_id, version))
    }

    fn canonical_dump(&self) -> Result<String, CentralError> {
        self.read(|s| s.dump_impl())
    }

    fn publish_media(
        &mut self,
        form_id: &str,
        version: &str,
        media: &[crate::form_media::MediaSource],
    ) -> Result<bool, CentralError> {
        self.inner.get_mut().publish_media_impl(form_id, version, media)
    }

    fn published_media(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Vec<enumera_core::store::FormMediaEntry>, CentralError> {
        self.with(|s| s.published_media_impl(form_id, version))
    }

    fn media_range(
        &self,
        sha256: &str,
        offset: u64,
        len: u64,
    ) -> Result<Option<(u64, Vec<u8>)>, CentralError> {
        self.with(|s| s.media_range_impl(sha256, offset, len))
    }

    fn add_token(
        &mut self,
        token_sha256: &[u8; 32],
        grant: &crate::roles::TokenGrant,
        public_key: Option<&[u8; 32]>,
    ) -> Result<(), CentralError> {
        self.inner.get_mut().add_token_impl(token_sha256, grant, public_key)
    }

    fn token(
        &self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<crate::roles::Principal>, CentralError> {
        self.with(|s| s.token_impl(token_sha256))
    }

    fn revoke_tokens(&mut self, which: &crate::roles::Revoke) -> Result<usize, CentralError> {
        self.inner.get_mut().revoke_tokens_impl(which)
    }

    fn tokens(&self) -> Result<Vec<crate::roles::TokenListing>, CentralError> {
        self.with(|s| s.tokens_impl())
    }

    fn publish_roster(
        &mut self,
        name: &str,
        json: &[u8],
        participants: u64,
    ) -> Result<bool, CentralError> {
        self.inner.get_mut().publish_roster_impl(name, json, participants)
    }

    fn rosters(&self) -> Result<Vec<enumera_core::remote::api::RosterListing>, CentralError> {
        self.with(|s| s.rosters_impl())
    }

    fn roster_json(&self, name: &str) -> Result<Option<Vec<u8>>, CentralError> {
        self.with(|s| s.roster_json_impl(name))
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
        PgCentral::review_events(self, instance_id)
    }

    fn record_review(
        &mut self,
        who: &crate::roles::Principal,
        action: &enumera_core::review::SignedAction,
    ) -> Result<crate::review::ReviewOutcome, CentralError> {
        self.record_review_outer(who, action)
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

static RETRIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub(crate) fn note_retry() {
    RETRIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Ingest transactions run again, in this process, because PostgreSQL
/// could not serialize them with another (a server's `/metrics`).
pub fn serialization_retries() -> u64 {
    RETRIES.load(std::sync::atomic::Ordering::Relaxed)
}
