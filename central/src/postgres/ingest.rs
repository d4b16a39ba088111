//! Applying a verified bundle in PostgreSQL, with the rules of the SQLite
//! store (`sqlite/ingest.rs`; docs/FORMAT.md, "What central holds").
//!
//! Two steps, so that the database can settle races between servers:
//!
//! 1. *Staging*: the bundle is read as it streams in, every item checked
//!    against its hash (`BundleSource`), into two temporary tables of this
//!    session (never logged, never seen by another connection). A bundle
//!    that fails any check leaves nothing.
//! 2. *Placing*: one SERIALIZABLE transaction applies the staged responses
//!    by the rules; payloads go from the staging tables to the real ones
//!    inside the database. When PostgreSQL cannot serialize it with another
//!    server's ingest (SQLSTATE 40001, or a deadlock), the transaction is
//!    rolled back and run again from the staging tables: the outcome is
//!    then as if the two ingests had run one after the other, which is
//!    what makes several servers on one database converge.
//!
//! A session-level advisory lock per device makes a device's concurrent
//! uploads (a retry racing the original, two relays) wait for each other
//! instead of failing and retrying; correctness does not depend on it.

use std::collections::HashMap;
use std::time::Duration;

use enumera_core::bundle::{BundleSource, hex};
use enumera_core::store::{AttachmentInfo, EntryContent, Payload};
use postgres::types::ToSql;
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

const STAGING: &str = "
    CREATE TEMP TABLE IF NOT EXISTS ingest_staging (
        ord     INTEGER PRIMARY KEY,
        content TEXT NOT NULL,
        xml     TEXT,
        json    TEXT,
        sealed  BYTEA);
    CREATE TEMP TABLE IF NOT EXISTS ingest_staging_attachments (
        ord    INTEGER NOT NULL,
        idx    INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        size   BIGINT NOT NULL,
        bytes  BYTEA NOT NULL,
        PRIMARY KEY (ord, idx));";

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
        // The staged copy is not needed any more; the next ingest of this
        // session would empty it anyway.
        let emptied =
            self.client().batch_execute("TRUNCATE ingest_staging, ingest_staging_attachments");
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
        tx.batch_execute("TRUNCATE ingest_staging, ingest_staging_attachments")
            .map_err(err("staging the bundle"))?;
        let response = tx
            .prepare(
                "INSERT INTO ingest_staging (ord, content, xml, json, sealed)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .map_err(err("staging a response"))?;
        let attachment = tx
            .prepare(
                "INSERT INTO ingest_staging_attachments (ord, idx, sha256, size, bytes)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .map_err(err("staging an attachment"))?;
        let manifest = b.manifest();
        let mut bundle = Bundle {
            device_id: manifest.device_id.clone(),
            device_name: manifest.device_name.clone(),
            public_key: b.device_public_key(),
            entries: manifest.entries.len(),
            sha256: String::new(),
            responses: Vec::with_capacity(manifest.entries.len()),
        };
        let mut ord = 0i32;
        while let Some(r) = b.next_response()? {
            let bytes = response_bytes(&r);
            let (xml, json, sealed) = match &r.payload {
                Payload::Plain { xml, json } => (Some(xml.as_str()), Some(json.as_str()), None),
                Payload::Sealed { ciphertext } => (None, None, Some(ciphertext.as_slice())),
            };
            tx.execute(&response, &[&ord, &r.entry.content, &xml, &json, &sealed])
                .map_err(err("staging a response"))?;
            for (idx, (a, data)) in r.attachments.iter().enumerate() {
                // PostgreSQL takes a bytea whole: a spooled file is read in.
                let data =
                    data.to_vec().map_err(|source| enumera_core::bundle::BundleError::Io {
                        path: Default::default(),
                        context: format!("reading spooled attachment {}", a.name),
                        source,
                    })?;
                tx.execute(&attachment, &[&ord, &(idx as i32), &a.sha256, &i(a.size), &data])
                    .map_err(err("staging an attachment"))?;
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
            .isolation_level(IsolationLevel::Serializable)
            .start()
            .map_err(|e| Failure::Sql("starting the ingest", e))?;
        let mut t = Tx { tx, stmts };
        let sql = |context: &'static str| move |e| Failure::Sql(context, e);
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
        for r in &b.responses {
            let held: bool = t
                .one(
                    "SELECT EXISTS (SELECT 1 FROM entries
                     WHERE device_id = $1 AND seq = $2 AND entry_hash = $3)",
                    &[&b.device_id, &i(r.seq), &r.entry_hash],
                )
                .map_err(sql("looking up an entry"))?
                .get(0);
            if held {
                report.duplicates += 1;
                continue;
            }
            t.exec(
                "INSERT INTO entries (device_id, seq, entry_hash, prev_hash, content_hash,
                                      instance_id, content, received_at)
                 SELECT $1, $2, $3, $4, $5, $6, content, $7 FROM ingest_staging WHERE ord = $8",
                &[
                    &b.device_id,
                    &i(r.seq),
                    &r.entry_hash,
                    &r.prev_hash,
                    &r.content_hash,
                    &r.instance_id,
                    &at,
                    &r.ord,
                ],
            )
            .map_err(sql("recording an entry"))?;
            super::chain::note_entry(&mut t.tx, &b.device_id, r.seq, &whole)
                .map_err(sql("recording an entry"))?;
            report.new_entries += 1;
            stored_bytes += r.bytes;
            place_response(&mut t, &b.device_id, r, &at, &mut report)
                .map_err(sql("storing a response"))?;
        }
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
        t.tx.commit().map_err(sql("committing the ingest"))?;
        Ok(report)
    }
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
    Ok(())
}

fn store_blobs(t: &mut Tx<'_>, r: &Staged) -> Pg<()> {
    if !r.attachments.is_empty() {
        t.exec(
            "INSERT INTO blobs (sha256, size, bytes)
             SELECT DISTINCT ON (sha256) sha256, size, bytes FROM ingest_staging_attachments
             WHERE ord = $1 ORDER BY sha256
             ON CONFLICT (sha256) DO NOTHING",
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

/// Places one newly received entry's response: new, duplicate, conflict or
/// edit, by the rules of `sqlite/ingest.rs` `place_response`.
fn place_response(
    t: &mut Tx<'_>,
    device_id: &str,
    r: &Staged,
    at: &str,
    report: &mut IngestReport,
) -> Pg<()> {
    let c = &r.content;
    let held = t.opt(
        "SELECT content_hash, device_id FROM responses WHERE instance_id = $1",
        &[&r.instance_id],
    )?;
    if let Some(row) = held {
        let (hash, holder): (String, String) = (row.get(0), row.get(1));
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
        let target = t
            .opt("SELECT device_id, superseded_by FROM responses WHERE instance_id = $1", &[d])?
            .map(|row| (row.get::<_, String>(0), row.get::<_, Option<String>>(1)));
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
    t.exec(
        "INSERT INTO responses (instance_id, content_hash, device_id, seq, entry_hash, form_id,
             form_version, form_hash, participant_id, round, enumerator, deprecated_id,
             finalized_at, xml, json, sealed, superseded_by, edit_conflict, hold, received_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, xml, json, sealed, NULL,
                $14, $15, $16
         FROM ingest_staging WHERE ord = $17",
        &[
            &r.instance_id,
            &r.content_hash,
            &device_id,
            &i(r.seq),
            &r.entry_hash,
            &c.form_id,
            &c.form_version,
            &c.form_hash,
            &c.participant_id,
            &c.round,
            &c.enumerator,
            &c.deprecated_id,
            &c.finalized_at,
            &edit_conflict.is_some(),
            &hold.as_ref().map(|(h, _)| h.as_str()),
            &at,
            &r.ord,
        ],
    )?;
    for a in &r.attachments {
        t.exec(
            "INSERT INTO response_attachments (instance_id, name, sha256, size)
             VALUES ($1, $2, $3, $4)",
            &[&r.instance_id, &a.name, &a.sha256, &i(a.size)],
        )?;
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
    } else if replaces {
        report.edits += 1;
        t.exec(
            "UPDATE responses SET superseded_by = $2 WHERE instance_id = $1 AND superseded_by IS NULL",
            &[&c.deprecated_id, &r.instance_id],
        )?;
    }
    if let Some(problem) = form_problem(t, c, r.plain)? {
        report.held_aside.push(info(problem.kind(), problem.detail(c)));
    }
    settle_pending(t, &r.instance_id, device_id, report)
}

fn form_problem(t: &mut Tx<'_>, c: &EntryContent, plain: bool) -> Pg<Option<FormProblem>> {
    let published = t
        .opt(
            "SELECT hash, sealed FROM published WHERE form_id = $1 AND version = $2",
            &[&c.form_id, &c.form_version],
        )?
        .map(|row| (row.get::<_, String>(0), row.get::<_, bool>(1)));
    Ok(match published {
        Some((hash, _)) if hash != c.form_hash => {
            Some(FormProblem::HashMismatch { published: hash })
        }
        Some((_, true)) if plain => Some(FormProblem::PlaintextForSealedForm),
        _ => None,
    })
}

/// Edits that arrived before the version they replace, now that it has
/// arrived (made by `author`): as `settle_pending` in the SQLite store.
fn settle_pending(
    t: &mut Tx<'_>,
    instance_id: &str,
    author: &str,
    report: &mut IngestReport,
) -> Pg<()> {
    let pending: Vec<(String, String, u64)> = t
        .query(
            "SELECT instance_id, device_id, seq FROM responses
             WHERE deprecated_id = $1 AND hold = 'pending_edit' ORDER BY arrival",
            &[&instance_id],
        )?
        .iter()
        .map(|row| (row.get(0), row.get(1), u(row.get(2))))
        .collect();
    for (edit, editor, seq) in pending {
        let replaced: Option<String> = t
            .one("SELECT superseded_by FROM responses WHERE instance_id = $1", &[&instance_id])?
            .get(0);
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
            }
        }
    }
    Ok(())
}
