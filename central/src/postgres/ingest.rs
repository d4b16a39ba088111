//! Applying a verified bundle in PostgreSQL, with the rules of the SQLite
//! store (`sqlite/ingest.rs`; docs/FORMAT.md, "What central holds").
//!
//! Two steps, so that the database can settle races between servers:
//!
//! 1. *Staging*: the bundle is read as it streams in, every item checked
//!    against its hash (`BundleSource`), into a temporary table of this
//!    session (never logged, never seen by another connection) by one
//!    `COPY`. A bundle that fails any check leaves nothing.
//! 2. *Placing*: one READ COMMITTED transaction first locks every instance
//!    id the bundle names ([`lock_responses`]): two ingests that could
//!    affect each other name one in common, so they queue and the second
//!    sees what the first committed, as if they had run one after the
//!    other, which is what makes several servers on one database converge;
//!    ingests with nothing in common run side by side. It then applies the
//!    staged responses by the rules in a fixed number of statements
//!    (lookups and writes for the whole bundle at once), payloads going
//!    from the staging table to the real ones inside the database. Should
//!    the tables' constraints still refuse a write a concurrent ingest made
//!    first (a unique key, a deadlock), the transaction is rolled back and
//!    run again from the staging table.
//!
//! Until 2026-12 placing was SERIALIZABLE with a statement or more per
//! response: correct, but every pair of concurrent ingests of new devices
//! read-write conflicted (the enrolment check reads every device), so two
//! servers retried instead of adding throughput (docs/BENCHMARKS.md).
//!
//! A session-level advisory lock per device makes a device's concurrent
//! uploads (a retry racing the original, two relays) wait for each other
//! instead of failing and retrying, and keeps its daily quotas counted one
//! upload at a time.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::time::Duration;

use enumera_core::bundle::{BundleSource, hex};
use enumera_core::store::{AttachmentInfo, EntryContent, Payload};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::ToSql;
use postgres::types::Type;
use postgres::{IsolationLevel, Row, Statement, Transaction};

use super::{Inner, i, u};
use crate::error::{CentralError, IngestError};
use crate::now;
use crate::quota::{self, QuotaKind, Quotas};
use crate::report::{ConflictInfo, IngestReport};
use crate::sqlite::ingest::{Day, FormProblem, Hold, not_author_detail, response_bytes};

/// How many times a placing transaction is run before central gives up
/// and answers busy (each a few milliseconds apart, growing).
const ATTEMPTS: u32 = 40;

/// Advisory lock namespace for per-device ingest locks ("enum").
const DEVICE_LOCKS: i32 = 0x656e_756d;

/// Advisory lock namespace for the responses an ingest names ("resp").
const RESPONSE_LOCKS: i32 = 0x7265_7370;

/// Advisory lock key (single-key space) that devices learned from their
/// first bundle take shared and an enrolment takes exclusive, so that a
/// device is never learned in the moment enrolment is switched on.
pub(super) const ENROLMENT_LOCK: i64 = 0x656e_726f_6c6d_656e;

/// One staging table, written by one `COPY` as the bundle streams in
/// (a response's row has `idx` -1, its attachments 0, 1, ..., each in
/// [`CHUNK`]-sized `part`s), and the two views placing reads it through.
const STAGING: &str = "
    CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
        ord     INTEGER NOT NULL,
        idx     INTEGER NOT NULL,
        content TEXT,
        xml     TEXT,
        json    TEXT,
        sealed  BYTEA,
        sha256  TEXT,
        size    BIGINT,
        part    INTEGER NOT NULL DEFAULT 0,
        bytes   BYTEA,
        PRIMARY KEY (ord, idx, part));
    CREATE OR REPLACE TEMP VIEW ingest_staging AS
        SELECT ord, content, xml, json, sealed FROM ingest_stage WHERE idx = -1;
    CREATE OR REPLACE TEMP VIEW ingest_staging_attachments AS
        SELECT ord, idx, sha256, size, part, bytes FROM ingest_stage WHERE idx >= 0;";

/// Bytes of an attachment a `blob_chunks` row holds (the last one less):
/// the ingest reads a spooled file this much at a time, export reads it
/// back the same way (0005_blob_chunks.sql).
pub(super) const CHUNK: usize = 1 << 20;

/// What placing needs of a staged response (its payload and attachment
/// bytes, and the entry's content text, stay in the staging tables).
struct Staged {
    ord: i32,
    seq: u64,
    entry_hash: String,
    prev_hash: String,
    content_hash: String,
    instance_id: String,
    content: EntryContent,
    plain: bool,
    attachments: Vec<AttachmentInfo>,
    bytes: u64,
}

/// The bundle, staged.
struct Bundle {
    device_id: String,
    device_name: String,
    public_key: [u8; 32],
    entries: usize,
    sha256: String,
    responses: Vec<Staged>,
}

/// Why a placing attempt stopped.
enum Failure {
    Sql(&'static str, postgres::Error),
    Refused(IngestError),
}

impl From<IngestError> for Failure {
    fn from(e: IngestError) -> Self {
        Failure::Refused(e)
    }
}

/// Whether another attempt may succeed: PostgreSQL could not serialize the
/// transaction with a concurrent one, or a concurrent insert of the same
/// key (which serializable transactions may report as a unique violation).
fn retryable(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::UNIQUE_VIOLATION
    })
}

type Pg<T> = Result<T, postgres::Error>;

/// A placing transaction with this connection's prepared statements.
struct Tx<'a> {
    tx: Transaction<'a>,
    stmts: &'a mut HashMap<String, Statement>,
}

impl Tx<'_> {
    fn stmt(&mut self, sql: &str) -> Pg<Statement> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql)?;
        self.stmts.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Pg<Vec<Row>> {
        let s = self.stmt(sql)?;
        self.tx.query(&s, params)
    }

    fn opt(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Pg<Option<Row>> {
        let s = self.stmt(sql)?;
        self.tx.query_opt(&s, params)
    }

    fn one(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Pg<Row> {
        let s = self.stmt(sql)?;
        self.tx.query_one(&s, params)
    }

    fn exec(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Pg<u64> {
        let s = self.stmt(sql)?;
        self.tx.execute(&s, params)
    }
}

impl Inner {
    pub(super) fn replay_impl(
        &mut self,
        sha256: &str,
    ) -> Result<Option<IngestReport>, CentralError> {
        let map = self.err("looking up the bundle");
        let s =
            self.stmt("SELECT device_id, entries FROM bundles WHERE sha256 = $1").map_err(map)?;
        let map = self.err("looking up the bundle");
        let Some(row) = self.client().query_opt(&s, &[&sha256]).map_err(map)? else {
            return Ok(None);
        };
        let device_id: String = row.get(0);
        let entries = u(row.get(1)) as usize;
        let map = self.err("checking the sequence");
        let (gaps, forks) = super::chain::problems(self.client(), &device_id).map_err(map)?;
        Ok(Some(IngestReport {
            bundle_sha256: sha256.to_string(),
            device_id,
            entries,
            duplicates: entries,
            gaps,
            forks,
            ..Default::default()
        }))
    }

    pub(super) fn ingest_impl(
        &mut self,
        b: &mut dyn BundleSource,
        quotas: &Quotas,
    ) -> Result<IngestReport, IngestError> {
        let device_id = b.manifest().device_id.clone();
        let entries = b.manifest().entries.len();
        if quota::over(quotas.responses_per_bundle, entries as u64) {
            return Err(IngestError::Quota {
                device_id,
                kind: QuotaKind::ResponsesPerBundle,
                limit: quotas.responses_per_bundle,
                used: entries as u64,
            });
        }
        let bundle = self.stage(b)?;
        let lock = self.err("waiting for the device's other upload");
        self.client()
            .execute("SELECT pg_advisory_lock($1, hashtext($2))", &[&DEVICE_LOCKS, &device_id])
            .map_err(lock)?;
        let placed = self.place_retrying(&bundle, quotas);
        let unlock = self
            .client()
            .execute("SELECT pg_advisory_unlock($1, hashtext($2))", &[&DEVICE_LOCKS, &device_id]);
        // A placed bundle's staged copy went with its commit; a refused
        // one's goes now. DELETE, not TRUNCATE: a TRUNCATE swaps the
        // table's file, and a transaction that drops a file waits for a
        // WAL flush at commit, an fsync per ingest for nothing.
        let emptied = match &placed {
            Ok(_) => Ok(()),
            Err(_) => self.client().batch_execute("DELETE FROM ingest_stage"),
        };
        let report = placed?;
        let map = self.err("ending the ingest");
        unlock.map_err(map)?;
        let map = self.err("ending the ingest");
        emptied.map_err(map)?;
        Ok(report)
    }

    /// Copies the bundle into this session's staging tables as it is read
    /// and checked; commits only once the whole file has been verified.
    fn stage(&mut self, b: &mut dyn BundleSource) -> Result<Bundle, IngestError> {
        let target = self.target.clone();
        let err = |context: &'static str| {
            let target = &target;
            move |e| IngestError::Central(CentralError::postgres(target, context, e))
        };
        if !self.staging {
            self.client().batch_execute(STAGING).map_err(err("making the staging tables"))?;
            self.staging = true;
        }
        let mut tx = self.client().transaction().map_err(err("staging the bundle"))?;
        // Empty already unless an ingest of this session failed half-way;
        // DELETE for the reason given in `ingest_impl`.
        tx.batch_execute("DELETE FROM ingest_stage").map_err(err("staging the bundle"))?;
        // One COPY for the whole bundle: one round trip, however many
        // responses and attachments it holds.
        let copy = tx
            .copy_in(
                "COPY ingest_stage (ord, idx, content, xml, json, sealed, sha256, size, part, bytes)
                 FROM STDIN BINARY",
            )
            .map_err(err("staging the bundle"))?;
        let mut rows = BinaryCopyInWriter::new(
            copy,
            &[
                Type::INT4,
                Type::INT4,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::BYTEA,
                Type::TEXT,
                Type::INT8,
                Type::INT4,
                Type::BYTEA,
            ],
        );
        let manifest = b.manifest();
        let mut bundle = Bundle {
            device_id: manifest.device_id.clone(),
            device_name: manifest.device_name.clone(),
            public_key: b.device_public_key(),
            entries: manifest.entries.len(),
            sha256: String::new(),
            responses: Vec::with_capacity(manifest.entries.len()),
        };
        let none_text: Option<&str> = None;
        let none_bytes: Option<&[u8]> = None;
        let none_size: Option<i64> = None;
        let mut ord = 0i32;
        while let Some(r) = b.next_response()? {
            let bytes = response_bytes(&r);
            // A sealed payload held in memory is one bytea; a spooled one
            // is staged in CHUNK-sized rows (`idx` -2) read from its file
            // one at a time, its own column the empty marker
            // (0008_sealed_chunks.sql).
            let empty: &[u8] = &[];
            let (xml, json, sealed, spooled) = match &r.payload {
                Payload::Plain { xml, json } => {
                    (Some(xml.as_str()), Some(json.as_str()), None, None)
                }
                Payload::Sealed { ciphertext } => match ciphertext.held() {
                    Some(b) => (None, None, Some(b), None),
                    None => (None, None, Some(empty), Some(ciphertext)),
                },
            };
            rows.write(&[
                &ord,
                &-1i32,
                &Some(r.entry.content.as_str()),
                &xml,
                &json,
                &sealed,
                &none_text,
                &none_size,
                &0i32,
                &none_bytes,
            ])
            .map_err(err("staging a response"))?;
            if let Some(data) = spooled {
                let io = |source| enumera_core::bundle::BundleError::Io {
                    path: Default::default(),
                    context: "reading a spooled sealed item".into(),
                    source,
                };
                let mut src = data.reader().map_err(io)?;
                let mut chunk = Vec::with_capacity(CHUNK);
                let mut part = 0i32;
                loop {
                    chunk.clear();
                    (&mut src).take(CHUNK as u64).read_to_end(&mut chunk).map_err(io)?;
                    if chunk.is_empty() && part > 0 {
                        break;
                    }
                    rows.write(&[
                        &ord,
                        &-2i32,
                        &none_text,
                        &none_text,
                        &none_text,
                        &none_bytes,
                        &none_text,
                        &none_size,
                        &part,
                        &Some(chunk.as_slice()),
                    ])
                    .map_err(err("staging a sealed item"))?;
                    part += 1;
                    if chunk.len() < CHUNK {
                        break;
                    }
                }
            }
            for (idx, (a, data)) in r.attachments.iter().enumerate() {
                // In chunks, read from the spool file one at a time: a
                // video is never held whole (an empty file is one empty
                // chunk, so that its row is still staged).
                let io = |source| enumera_core::bundle::BundleError::Io {
                    path: Default::default(),
                    context: format!("reading spooled attachment {}", a.name),
                    source,
                };
                let mut src = data.reader().map_err(io)?;
                let mut chunk = Vec::with_capacity(CHUNK.min(a.size as usize));
                let mut part = 0i32;
                loop {
                    chunk.clear();
                    (&mut src).take(CHUNK as u64).read_to_end(&mut chunk).map_err(io)?;
                    if chunk.is_empty() && part > 0 {
                        break;
                    }
                    rows.write(&[
                        &ord,
                        &(idx as i32),
                        &none_text,
                        &none_text,
                        &none_text,
                        &none_bytes,
                        &Some(a.sha256.as_str()),
                        &Some(i(a.size)),
                        &part,
                        &Some(chunk.as_slice()),
                    ])
                    .map_err(err("staging an attachment"))?;
                    part += 1;
                    if chunk.len() < CHUNK {
                        break;
                    }
                }
            }
            let e = r.entry;
            bundle.responses.push(Staged {
                ord,
                seq: e.seq,
                entry_hash: e.entry_hash,
                prev_hash: e.prev_hash,
                content_hash: e.content_hash,
                instance_id: e.instance_id,
                content: r.content,
                plain: xml.is_some(),
                attachments: r.attachments.into_iter().map(|(a, _)| a).collect(),
                bytes,
            });
            ord += 1;
        }
        rows.finish().map_err(err("staging the bundle"))?;
        let (sha256, _) = b.finish()?;
        bundle.sha256 = sha256;
        tx.commit().map_err(err("staging the bundle"))?;
        Ok(bundle)
    }

    /// Places the staged bundle, running the transaction again while
    /// PostgreSQL reports it could not serialize it with another.
    fn place_retrying(&mut self, b: &Bundle, quotas: &Quotas) -> Result<IngestReport, IngestError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.place(b, quotas) {
                Ok(report) => return Ok(report),
                Err(Failure::Refused(e)) => return Err(e),
                Err(Failure::Sql(_, e)) if retryable(&e) && attempt < ATTEMPTS => {
                    // Jittered and growing: two servers that collided do
                    // not collide again at once.
                    let jitter = u64::from(getrandom::u32().unwrap_or(0) % 4);
                    let wait = Duration::from_millis((1 << attempt.min(6)) + jitter);
                    std::thread::sleep(wait);
                    crate::postgres::note_retry();
                }
                Err(Failure::Sql(context, e)) => {
                    return Err(IngestError::Central(self.err(context)(e)));
                }
            }
        }
    }

    fn place(&mut self, b: &Bundle, quotas: &Quotas) -> Result<IngestReport, Failure> {
        let Inner { conn, stmts, .. } = self;
        let client = conn.0.as_mut().expect("connection present until dropped");
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .map_err(|e| Failure::Sql("starting the ingest", e))?;
        let mut t = Tx { tx, stmts };
        let sql = |context: &'static str| move |e| Failure::Sql(context, e);
        lock_responses(&mut t, b).map_err(sql("waiting for another ingest of these responses"))?;
        let at = now();
        check_device(&mut t, b, &at)?;
        let day = day_since(&mut t, &b.device_id, &at, quotas)
            .map_err(sql("counting the device's day"))?;
        let whole =
            super::chain::whole(&mut t.tx, &b.device_id).map_err(sql("reading the chain"))?;
        let mut report = IngestReport {
            device_id: b.device_id.clone(),
            entries: b.entries,
            ..Default::default()
        };
        let mut stored_bytes = 0u64;
        // Which entries are held already: one query for the bundle.
        let seqs: Vec<i64> = b.responses.iter().map(|r| i(r.seq)).collect();
        let mut held: HashSet<(u64, String)> = t
            .query(
                "SELECT seq, entry_hash FROM entries WHERE device_id = $1 AND seq = ANY($2)",
                &[&b.device_id, &seqs],
            )
            .map_err(sql("looking up entries"))?
            .iter()
            .map(|row| (u(row.get(0)), row.get(1)))
            .collect();
        let fresh: Vec<&Staged> =
            b.responses.iter().filter(|r| held.insert((r.seq, r.entry_hash.clone()))).collect();
        report.duplicates += b.responses.len() - fresh.len();
        insert_entries(&mut t, &b.device_id, &fresh, &at).map_err(sql("recording entries"))?;
        let forks: Vec<i64> =
            fresh.iter().filter(|r| r.seq <= whole.seq).map(|r| i(r.seq)).collect();
        if !forks.is_empty() {
            t.exec(
                "INSERT INTO chain_forks (device_id, seq) SELECT $1, unnest($2::BIGINT[])
                 ON CONFLICT DO NOTHING",
                &[&b.device_id, &forks],
            )
            .map_err(sql("recording a fork"))?;
        }
        let mut known = Known::read(&mut t, &fresh).map_err(sql("looking up responses"))?;
        for r in &fresh {
            report.new_entries += 1;
            stored_bytes += r.bytes;
            place_response(&mut t, &mut known, &b.device_id, r, &at, &mut report)
                .map_err(sql("storing a response"))?;
        }
        known.flush(&mut t, &b.device_id, &at).map_err(sql("storing responses"))?;
        day.check(quotas, &b.device_id, report.new_entries as u64, stored_bytes)?;
        report.bundle_sha256 = b.sha256.clone();
        if report.new_entries > 0 {
            t.exec("UPDATE devices SET last_seen = $2 WHERE device_id = $1", &[&b.device_id, &at])
                .map_err(sql("recording the device"))?;
        }
        t.exec(
            "INSERT INTO bundles (sha256, device_id, entries, new_responses, conflicts,
                                  received_at, stored_bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sha256) DO NOTHING",
            &[
                &report.bundle_sha256,
                &b.device_id,
                &(report.entries as i64),
                &(report.new_responses as i64),
                &(report.conflicts.len() as i64),
                &at,
                &i(stored_bytes),
            ],
        )
        .map_err(sql("logging the bundle"))?;
        let (gaps, forks) = super::chain::problems_after_ingest(&mut t.tx, &b.device_id)
            .map_err(sql("checking the sequence"))?;
        report.gaps = gaps;
        report.forks = forks;
        // The staged copy goes with this commit, which waits for its WAL
        // flush anyway (a TRUNCATE keeps the temporary table from growing,
        // as DELETE would without VACUUM, which never visits temporary tables).
        t.tx.batch_execute("TRUNCATE ingest_stage").map_err(sql("emptying the staging table"))?;
        t.tx.commit().map_err(sql("committing the ingest"))?;
        Ok(report)
    }
}

/// Takes, until commit, a lock on every instance id the bundle names (its
/// responses and the versions its edits replace), in one order so that
/// two ingests never wait for each other in a circle. Two ingests can only
/// affect each other through a response both name: the same instance id
/// (a duplicate, a conflict, a contest) or an edit and the version it
/// replaces (an edit placed, or waiting for it). Those queue here, and
/// every statement after the lock sees what the other committed (READ
/// COMMITTED), so they place as one after the other; every other pair
/// touches disjoint rows and runs side by side, with no serialization
/// failures to retry. A device's own uploads already queue on its
/// session lock; the tables' constraints stay the last word.
fn lock_responses(t: &mut Tx<'_>, b: &Bundle) -> Pg<()> {
    let mut ids: Vec<&str> = b.responses.iter().map(|r| r.instance_id.as_str()).collect();
    ids.extend(b.responses.iter().filter_map(|r| r.content.deprecated_id.as_deref()));
    if ids.is_empty() {
        return Ok(());
    }
    t.query(
        "SELECT pg_advisory_xact_lock($1, k)
         FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($2::TEXT[]) AS id ORDER BY 1) AS keys",
        &[&RESPONSE_LOCKS, &ids],
    )?;
    Ok(())
}

/// A known device must sign with its known key; an unknown one is learned
/// from its first bundle unless devices are enrolled.
fn check_device(t: &mut Tx<'_>, b: &Bundle, at: &str) -> Result<(), Failure> {
    let sql = |context: &'static str| move |e| Failure::Sql(context, e);
    let known = t
        .opt("SELECT public_key FROM devices WHERE device_id = $1", &[&b.device_id])
        .map_err(sql("checking the device"))?;
    match known.map(|r| r.get::<_, Vec<u8>>(0)) {
        Some(key) if key != b.public_key => Err(Failure::Refused(IngestError::DeviceKeyMismatch {
            device_id: b.device_id.clone(),
            known: hex(&key),
            found: hex(&b.public_key),
        })),
        Some(_) => Ok(()),
        None => {
            t.query("SELECT pg_advisory_xact_lock_shared($1)", &[&ENROLMENT_LOCK])
                .map_err(sql("checking the device"))?;
            let enrolment: bool = t
                .one("SELECT EXISTS (SELECT 1 FROM devices WHERE enrolled)", &[])
                .map_err(sql("checking the device"))?
                .get(0);
            if enrolment {
                return Err(Failure::Refused(IngestError::UnknownDevice {
                    device_id: b.device_id.clone(),
                    public_key: hex(&b.public_key),
                }));
            }
            t.exec(
                "INSERT INTO devices (device_id, public_key, name, enrolled, first_seen, last_seen)
                 VALUES ($1, $2, $3, false, $4, $4)",
                &[&b.device_id, &&b.public_key[..], &b.device_name, &at],
            )
            .map_err(sql("recording the device"))?;
            Ok(())
        }
    }
}

/// What the device delivered in the 24 hours before `at`, counting only
/// what a quota limits (as `Day::since` in the SQLite store).
fn day_since(t: &mut Tx<'_>, device_id: &str, at: &str, q: &Quotas) -> Pg<Day> {
    let from = chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| {
            (t - chrono::Duration::hours(24))
                .to_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        })
        .unwrap_or_default();
    let responses = match q.responses_per_day {
        0 => 0,
        limit => u(t
            .one(
                "SELECT count(*) FROM (SELECT 1 FROM entries
                 WHERE device_id = $1 AND received_at >= $2 LIMIT $3) AS day",
                &[&device_id, &from, &i(limit.saturating_add(1))],
            )?
            .get(0)),
    };
    let bytes = match q.bytes_per_day {
        0 => 0,
        _ => u(t
            .one(
                "SELECT coalesce(sum(stored_bytes), 0)::BIGINT FROM bundles
                 WHERE device_id = $1 AND received_at >= $2",
                &[&device_id, &from],
            )?
            .get(0)),
    };
    Ok(Day { responses, bytes })
}

fn insert_conflict(
    t: &mut Tx<'_>,
    device_id: &str,
    r: &Staged,
    kind: &str,
    with_payload: bool,
    detail: &str,
    at: &str,
) -> Pg<()> {
    t.exec(
        "INSERT INTO conflicts (instance_id, content_hash, kind, device_id, seq, entry_hash,
                                content, xml, json, sealed, detail, received_at)
         SELECT $1, $2, $3, $4, $5, $6, content,
                CASE WHEN $7 THEN xml END, CASE WHEN $7 THEN json END,
                CASE WHEN $7 THEN sealed END, $8, $9
         FROM ingest_staging WHERE ord = $10",
        &[
            &r.instance_id,
            &r.content_hash,
            &kind,
            &device_id,
            &i(r.seq),
            &r.entry_hash,
            &with_payload,
            &detail,
            &at,
            &r.ord,
        ],
    )?;
    if with_payload {
        t.exec(
            "INSERT INTO sealed_chunks (instance_id, content_hash, seq, bytes)
             SELECT $1, $2, part, bytes FROM ingest_stage WHERE ord = $3 AND idx = -2
             ON CONFLICT DO NOTHING",
            &[&r.instance_id, &r.content_hash, &r.ord],
        )?;
    }
    Ok(())
}

fn store_blobs(t: &mut Tx<'_>, r: &Staged) -> Pg<()> {
    if !r.attachments.is_empty() {
        // The row first (its bytes in chunks), then the chunks of the
        // files this transaction is the first to store.
        t.exec(
            "WITH new AS (
                 INSERT INTO blobs (sha256, size, bytes)
                 SELECT DISTINCT ON (sha256) sha256, size, NULL::BYTEA
                 FROM ingest_staging_attachments WHERE ord = $1 ORDER BY sha256
                 ON CONFLICT (sha256) DO NOTHING
                 RETURNING sha256)
             INSERT INTO blob_chunks (sha256, seq, bytes)
             SELECT DISTINCT ON (s.sha256, s.part) s.sha256, s.part, s.bytes
             FROM ingest_staging_attachments s JOIN new ON new.sha256 = s.sha256
             WHERE s.ord = $1 AND octet_length(s.bytes) > 0
             ORDER BY s.sha256, s.part",
            &[&r.ord],
        )?;
    }
    Ok(())
}

fn edit_authorised(t: &mut Tx<'_>, instance_id: &str, author: &str, editor: &str) -> Pg<bool> {
    if author == editor {
        return Ok(true);
    }
    Ok(t.one(
        "SELECT EXISTS (SELECT 1 FROM edit_grants WHERE instance_id = $1 AND device_id = $2)",
        &[&instance_id, &editor],
    )?
    .get(0))
}

/// Records the bundle's new entries in one statement.
fn insert_entries(t: &mut Tx<'_>, device_id: &str, fresh: &[&Staged], at: &str) -> Pg<()> {
    if fresh.is_empty() {
        return Ok(());
    }
    let ords: Vec<i32> = fresh.iter().map(|r| r.ord).collect();
    let seqs: Vec<i64> = fresh.iter().map(|r| i(r.seq)).collect();
    let text = |f: fn(&Staged) -> &String| fresh.iter().map(|r| f(r).as_str()).collect::<Vec<_>>();
    t.exec(
        "INSERT INTO entries (device_id, seq, entry_hash, prev_hash, content_hash, instance_id,
                              content, received_at)
         SELECT $1, v.seq, v.entry_hash, v.prev_hash, v.content_hash, v.instance_id, s.content, $2
         FROM unnest($3::INTEGER[], $4::BIGINT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[])
              AS v (ord, seq, entry_hash, prev_hash, content_hash, instance_id)
         JOIN ingest_staging s ON s.ord = v.ord",
        &[
            &device_id,
            &at,
            &ords,
            &seqs,
            &text(|r| &r.entry_hash),
            &text(|r| &r.prev_hash),
            &text(|r| &r.content_hash),
            &text(|r| &r.instance_id),
        ],
    )?;
    Ok(())
}

/// A response as placing needs to know it.
struct Held {
    content_hash: String,
    device_id: String,
    superseded_by: Option<String>,
}

/// A response placed by this ingest, written with the others in one
/// statement ([`Known::flush`]) before anything reads or updates it.
struct NewRow<'a> {
    r: &'a Staged,
    edit_conflict: bool,
    hold: Option<&'static str>,
}

/// What placing reads of central, read once for the bundle and kept up to
/// date as it places: the responses it names (by instance id and by the
/// versions its edits replace), the edits waiting for them, and the
/// published forms. They are made after [`lock_responses`], so no other
/// ingest can change what they read before this one commits.
struct Known<'a> {
    responses: HashMap<String, Held>,
    /// Edits held `pending_edit`, by the version they wait for, in arrival order.
    pending: HashMap<String, Vec<(String, String, u64)>>,
    published: HashMap<(String, String), Option<(String, bool)>>,
    rows: Vec<NewRow<'a>>,
}

impl<'a> Known<'a> {
    fn read(t: &mut Tx<'_>, fresh: &[&'a Staged]) -> Pg<Known<'a>> {
        let mut ids: Vec<&str> = fresh.iter().map(|r| r.instance_id.as_str()).collect();
        ids.extend(fresh.iter().filter_map(|r| r.content.deprecated_id.as_deref()));
        let mut known = Known {
            responses: HashMap::new(),
            pending: HashMap::new(),
            published: HashMap::new(),
            rows: Vec::new(),
        };
        if fresh.is_empty() {
            return Ok(known);
        }
        for row in t.query(
            "SELECT instance_id, content_hash, device_id, superseded_by FROM responses
             WHERE instance_id = ANY($1)",
            &[&ids],
        )? {
            known.responses.insert(
                row.get(0),
                Held { content_hash: row.get(1), device_id: row.get(2), superseded_by: row.get(3) },
            );
        }
        let mine: Vec<&str> = fresh.iter().map(|r| r.instance_id.as_str()).collect();
        for row in t.query(
            "SELECT deprecated_id, instance_id, device_id, seq FROM responses
             WHERE deprecated_id = ANY($1) AND hold = 'pending_edit' ORDER BY arrival",
            &[&mine],
        )? {
            known.pending.entry(row.get(0)).or_default().push((
                row.get(1),
                row.get(2),
                u(row.get(3)),
            ));
        }
        Ok(known)
    }

    /// Writes the responses placed so far (and their attachments).
    fn flush(&mut self, t: &mut Tx<'_>, device_id: &str, at: &str) -> Pg<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.rows);
        let text = |f: &dyn Fn(&NewRow<'a>) -> &'a str| rows.iter().map(f).collect::<Vec<&str>>();
        let opt = |f: &dyn Fn(&NewRow<'a>) -> Option<&'a str>| {
            rows.iter().map(f).collect::<Vec<Option<&str>>>()
        };
        let ords: Vec<i32> = rows.iter().map(|n| n.r.ord).collect();
        let seqs: Vec<i64> = rows.iter().map(|n| i(n.r.seq)).collect();
        let rounds: Vec<Option<i64>> = rows.iter().map(|n| n.r.content.round).collect();
        let conflicts: Vec<bool> = rows.iter().map(|n| n.edit_conflict).collect();
        // In the order placed: arrival numbers follow it.
        t.exec(
            "INSERT INTO responses (instance_id, content_hash, device_id, seq, entry_hash, form_id,
                 form_version, form_hash, participant_id, round, enumerator, deprecated_id,
                 finalized_at, xml, json, sealed, superseded_by, edit_conflict, hold, received_at)
             SELECT v.instance_id, v.content_hash, $1, v.seq, v.entry_hash, v.form_id,
                    v.form_version, v.form_hash, v.participant_id, v.round, v.enumerator,
                    v.deprecated_id, v.finalized_at, s.xml, s.json, s.sealed, NULL,
                    v.edit_conflict, v.hold, $2
             FROM unnest($3::INTEGER[], $4::TEXT[], $5::TEXT[], $6::BIGINT[], $7::TEXT[],
                         $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::BIGINT[],
                         $13::TEXT[], $14::TEXT[], $15::TEXT[], $16::BOOLEAN[], $17::TEXT[])
                  WITH ORDINALITY AS v (ord, instance_id, content_hash, seq, entry_hash, form_id,
                      form_version, form_hash, participant_id, round, enumerator, deprecated_id,
                      finalized_at, edit_conflict, hold, n)
             JOIN ingest_staging s ON s.ord = v.ord
             ORDER BY v.n",
            &[
                &device_id,
                &at,
                &ords,
                &text(&|n| &n.r.instance_id),
                &text(&|n| &n.r.content_hash),
                &seqs,
                &text(&|n| &n.r.entry_hash),
                &text(&|n| &n.r.content.form_id),
                &text(&|n| &n.r.content.form_version),
                &text(&|n| &n.r.content.form_hash),
                &opt(&|n| n.r.content.participant_id.as_deref()),
                &rounds,
                &opt(&|n| n.r.content.enumerator.as_deref()),
                &opt(&|n| n.r.content.deprecated_id.as_deref()),
                &text(&|n| &n.r.content.finalized_at),
                &conflicts,
                &opt(&|n| n.hold),
            ],
        )?;
        // Sealed payloads staged in chunks (0008_sealed_chunks.sql): moved
        // from the staging table inside the server, never through here.
        t.exec(
            "INSERT INTO sealed_chunks (instance_id, content_hash, seq, bytes)
             SELECT v.instance_id, v.content_hash, s.part, s.bytes
             FROM unnest($1::INTEGER[], $2::TEXT[], $3::TEXT[]) AS v (ord, instance_id, content_hash)
             JOIN ingest_stage s ON s.ord = v.ord AND s.idx = -2
             ON CONFLICT DO NOTHING",
            &[&ords, &text(&|n| &n.r.instance_id), &text(&|n| &n.r.content_hash)],
        )?;
        let attachments: Vec<(&str, &AttachmentInfo)> = rows
            .iter()
            .flat_map(|n| n.r.attachments.iter().map(|a| (n.r.instance_id.as_str(), a)))
            .collect();
        if !attachments.is_empty() {
            let ids: Vec<&str> = attachments.iter().map(|(id, _)| *id).collect();
            let names: Vec<&str> = attachments.iter().map(|(_, a)| a.name.as_str()).collect();
            let hashes: Vec<&str> = attachments.iter().map(|(_, a)| a.sha256.as_str()).collect();
            let sizes: Vec<i64> = attachments.iter().map(|(_, a)| i(a.size)).collect();
            t.exec(
                "INSERT INTO response_attachments (instance_id, name, sha256, size)
                 SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[])",
                &[&ids, &names, &hashes, &sizes],
            )?;
        }
        Ok(())
    }

    fn published(&mut self, t: &mut Tx<'_>, c: &EntryContent) -> Pg<Option<(String, bool)>> {
        let key = (c.form_id.clone(), c.form_version.clone());
        if let Some(p) = self.published.get(&key) {
            return Ok(p.clone());
        }
        let p = t
            .opt(
                "SELECT hash, sealed FROM published WHERE form_id = $1 AND version = $2",
                &[&c.form_id, &c.form_version],
            )?
            .map(|row| (row.get::<_, String>(0), row.get::<_, bool>(1)));
        self.published.insert(key, p.clone());
        Ok(p)
    }
}

/// Places one newly received entry's response: new, duplicate, conflict or
/// edit, by the rules of `sqlite/ingest.rs` `place_response`.
fn place_response<'a>(
    t: &mut Tx<'_>,
    known: &mut Known<'a>,
    device_id: &str,
    r: &'a Staged,
    at: &str,
    report: &mut IngestReport,
) -> Pg<()> {
    let c = &r.content;
    let held =
        known.responses.get(&r.instance_id).map(|h| (h.content_hash.clone(), h.device_id.clone()));
    if let Some((hash, holder)) = held {
        if hash == r.content_hash {
            report.duplicates += 1;
            return Ok(());
        }
        let detail = format!(
            "instance id already held with other content (held {hash}, received {})",
            r.content_hash
        );
        let already: bool = t
            .one(
                "SELECT EXISTS (SELECT 1 FROM conflicts WHERE instance_id = $1 AND content_hash = $2)",
                &[&r.instance_id, &r.content_hash],
            )?
            .get(0);
        if already {
            report.duplicates += 1;
            return Ok(());
        }
        store_blobs(t, r)?;
        insert_conflict(t, device_id, r, "different_content", true, &detail, at)?;
        report.conflicts.push(ConflictInfo {
            instance_id: r.instance_id.clone(),
            kind: "different_content".into(),
            device_id: device_id.to_string(),
            seq: r.seq,
            detail,
        });
        if holder != device_id {
            known.flush(t, device_id, at)?;
            let contested = t.exec(
                "UPDATE responses SET hold = 'contested'
                 WHERE instance_id = $1 AND hold IS DISTINCT FROM 'contested'",
                &[&r.instance_id],
            )?;
            if contested > 0 {
                report.held_aside.push(ConflictInfo {
                    instance_id: r.instance_id.clone(),
                    kind: Hold::Contested.as_str().into(),
                    device_id: holder,
                    seq: r.seq,
                    detail: format!(
                        "device {device_id} sent other content under this instance id; \
                         neither version is exported until someone decides"
                    ),
                });
            }
        }
        return Ok(());
    }

    store_blobs(t, r)?;
    let mut edit_conflict: Option<String> = None;
    let mut hold: Option<(Hold, String)> = None;
    let mut replaces = false;
    if let Some(d) = &c.deprecated_id {
        let target = known.responses.get(d).map(|h| (h.device_id.clone(), h.superseded_by.clone()));
        if d == &r.instance_id {
            edit_conflict = Some("the edit names itself as the version it replaces".into());
        } else {
            match target {
                None => {
                    hold = Some((
                        Hold::PendingEdit,
                        format!("an edit of {d}, which central has not received yet"),
                    ))
                }
                Some((author, _)) if !edit_authorised(t, d, &author, device_id)? => {
                    hold = Some((Hold::NotAuthor, not_author_detail(d, &author)))
                }
                Some((_, Some(other))) => {
                    edit_conflict = Some(format!("edits {d}, which {other} already replaced"))
                }
                Some((_, None)) => replaces = true,
            }
        }
    }
    known.rows.push(NewRow {
        r,
        edit_conflict: edit_conflict.is_some(),
        hold: hold.as_ref().map(|(h, _)| h.as_str()),
    });
    known.responses.insert(
        r.instance_id.clone(),
        Held {
            content_hash: r.content_hash.clone(),
            device_id: device_id.to_string(),
            superseded_by: None,
        },
    );
    if let (Some((Hold::PendingEdit, _)), Some(d)) = (&hold, &c.deprecated_id) {
        known.pending.entry(d.clone()).or_default().push((
            r.instance_id.clone(),
            device_id.to_string(),
            r.seq,
        ));
    }
    report.new_responses += 1;
    let info = |kind: &str, detail: String| ConflictInfo {
        instance_id: r.instance_id.clone(),
        kind: kind.into(),
        device_id: device_id.to_string(),
        seq: r.seq,
        detail,
    };
    if let Some(detail) = edit_conflict {
        insert_conflict(t, device_id, r, "edit_of_superseded", false, &detail, at)?;
        report.conflicts.push(info("edit_of_superseded", detail));
    } else if let Some((h, detail)) = hold {
        report.held_aside.push(info(h.as_str(), detail));
    } else if replaces && let Some(d) = &c.deprecated_id {
        report.edits += 1;
        known.flush(t, device_id, at)?;
        t.exec(
            "UPDATE responses SET superseded_by = $2 WHERE instance_id = $1 AND superseded_by IS NULL",
            &[d, &r.instance_id],
        )?;
        if let Some(h) = known.responses.get_mut(d) {
            h.superseded_by = Some(r.instance_id.clone());
        }
    }
    if let Some(problem) = form_problem(known.published(t, c)?, c, r.plain) {
        report.held_aside.push(info(problem.kind(), problem.detail(c)));
    }
    settle_pending(t, known, &r.instance_id, device_id, at, report)
}

fn form_problem(
    published: Option<(String, bool)>,
    c: &EntryContent,
    plain: bool,
) -> Option<FormProblem> {
    match published {
        Some((hash, _)) if hash != c.form_hash => {
            Some(FormProblem::HashMismatch { published: hash })
        }
        Some((_, true)) if plain => Some(FormProblem::PlaintextForSealedForm),
        _ => None,
    }
}

/// Edits that arrived before the version they replace, now that it has
/// arrived (made by `author`): as `settle_pending` in the SQLite store.
fn settle_pending(
    t: &mut Tx<'_>,
    known: &mut Known<'_>,
    instance_id: &str,
    author: &str,
    at: &str,
    report: &mut IngestReport,
) -> Pg<()> {
    let Some(pending) = known.pending.remove(instance_id) else {
        return Ok(());
    };
    known.flush(t, author, at)?;
    for (edit, editor, seq) in pending {
        let replaced = known.responses.get(instance_id).and_then(|h| h.superseded_by.clone());
        let (hold, detail) = if !edit_authorised(t, instance_id, author, &editor)? {
            (Some(Hold::NotAuthor), not_author_detail(instance_id, author))
        } else if let Some(other) = replaced {
            (
                Some(Hold::EditOfSuperseded),
                format!("edits {instance_id}, which {other} already replaced"),
            )
        } else {
            (None, String::new())
        };
        t.exec(
            "UPDATE responses SET hold = $2 WHERE instance_id = $1",
            &[&edit, &hold.map(Hold::as_str)],
        )?;
        match hold {
            Some(h) => report.held_aside.push(ConflictInfo {
                instance_id: edit,
                kind: h.as_str().into(),
                device_id: editor,
                seq,
                detail,
            }),
            None => {
                report.edits += 1;
                t.exec(
                    "UPDATE responses SET superseded_by = $2 WHERE instance_id = $1",
                    &[&instance_id, &edit],
                )?;
                if let Some(h) = known.responses.get_mut(instance_id) {
                    h.superseded_by = Some(edit);
                }
            }
        }
    }
    Ok(())
}
