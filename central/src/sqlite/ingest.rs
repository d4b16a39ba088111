//! Applying a verified bundle: one IMMEDIATE transaction, all or nothing.

use enumera_core::bundle::{BundleResponse, BundleSource, Manifest, hex};
use enumera_core::store::Payload;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::SqliteCentral;
use crate::error::{CentralError, IngestError};
use crate::now;
use crate::quota::{self, QuotaKind, Quotas};
use crate::report::{ConflictInfo, IngestReport};

type Sql<T> = Result<T, rusqlite::Error>;

impl SqliteCentral {
    pub(super) fn replay_impl(&self, sha256: &str) -> Result<Option<IngestReport>, CentralError> {
        let row: Option<(String, usize)> = self
            .conn
            .prepare_cached("SELECT device_id, entries FROM bundles WHERE sha256 = ?1")
            .and_then(|mut s| s.query_row([sha256], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(self.err("looking up the bundle"))?;
        let Some((device_id, entries)) = row else {
            return Ok(None);
        };
        let (gaps, forks) = super::chain::problems(&self.conn, &device_id)
            .map_err(self.err("checking the sequence"))?;
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

    pub(super) fn ingest_tx(
        &mut self,
        b: &mut dyn BundleSource,
        quotas: &Quotas,
    ) -> Result<IngestReport, IngestError> {
        let path = self.path.clone();
        let wrap = |context: &'static str| {
            let path = path.clone();
            move |e| IngestError::Central(CentralError::sql(&path, context, e))
        };
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
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(wrap("starting the ingest"))?;
        let at = now();
        check_device(&tx, b.manifest(), &b.device_public_key(), &at).map_err(|e| match e {
            DeviceCheck::Refused(e) => e,
            DeviceCheck::Sql(e) => wrap("checking the device")(e),
        })?;
        let day =
            Day::since(&tx, &device_id, &at, quotas).map_err(wrap("counting the device's day"))?;
        let whole = super::chain::whole(&tx, &device_id).map_err(wrap("reading the chain"))?;
        let mut report =
            IngestReport { device_id: device_id.clone(), entries, ..Default::default() };
        let mut stored_bytes = 0u64;
        while let Some(r) = b.next_response()? {
            let e = &r.entry;
            let held: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM entries
                     WHERE device_id = ?1 AND seq = ?2 AND entry_hash = ?3)",
                )
                .and_then(|mut s| {
                    s.query_row(params![device_id, e.seq, e.entry_hash], |r| r.get(0))
                })
                .map_err(wrap("looking up an entry"))?;
            if held {
                report.duplicates += 1;
                continue;
            }
            tx.prepare_cached(
                "INSERT INTO entries (device_id, seq, entry_hash, prev_hash, content_hash,
                                      instance_id, content, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    device_id,
                    e.seq,
                    e.entry_hash,
                    e.prev_hash,
                    e.content_hash,
                    e.instance_id,
                    e.content,
                    at
                ])
            })
            .map_err(wrap("recording an entry"))?;
            super::chain::note_entry(&tx, &device_id, e.seq, &whole)
                .map_err(wrap("recording an entry"))?;
            report.new_entries += 1;
            stored_bytes += response_bytes(&r);
            place_response(&tx, &device_id, &r, &at, &mut report)
                .map_err(wrap("storing a response"))?;
        }
        let (sha256, _) = b.finish()?;
        day.check(quotas, &device_id, report.new_entries as u64, stored_bytes)?;
        report.bundle_sha256 = sha256;
        if report.new_entries > 0 {
            tx.execute(
                "UPDATE devices SET last_seen = ?2 WHERE device_id = ?1",
                params![device_id, at],
            )
            .map_err(wrap("recording the device"))?;
        }
        // Logged once, so that a byte-identical copy is known by its hash.
        tx.prepare_cached(
            "INSERT OR IGNORE INTO bundles (sha256, device_id, entries, new_responses, conflicts,
                                            received_at, stored_bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut s| {
            s.execute(params![
                report.bundle_sha256,
                device_id,
                report.entries,
                report.new_responses,
                report.conflicts.len(),
                at,
                stored_bytes as i64
            ])
        })
        .map_err(wrap("logging the bundle"))?;
        let (gaps, forks) = super::chain::problems_after_ingest(&tx, &device_id)
            .map_err(wrap("checking the sequence"))?;
        report.gaps = gaps;
        report.forks = forks;
        tx.commit().map_err(wrap("committing the ingest"))?;
        Ok(report)
    }
}

/// Bytes a response stores: its submission and attachments.
pub(crate) fn response_bytes(r: &BundleResponse) -> u64 {
    let payload = match &r.payload {
        Payload::Plain { xml, json } => (xml.len() + json.len()) as u64,
        Payload::Sealed { ciphertext } => ciphertext.len(),
    };
    payload + r.attachments.iter().map(|(a, _)| a.size).sum::<u64>()
}

/// What a device delivered in the 24 hours before an ingest.
pub(crate) struct Day {
    pub(crate) responses: u64,
    pub(crate) bytes: u64,
}

impl Day {
    /// Counts only what a quota limits, and never past the limit: an
    /// ingest costs what it brings, not the device's day.
    fn since(tx: &Transaction<'_>, device_id: &str, at: &str, q: &Quotas) -> Sql<Day> {
        let from = chrono::DateTime::parse_from_rfc3339(at)
            .map(|t| {
                (t - chrono::Duration::hours(24))
                    .to_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            })
            .unwrap_or_default();
        let responses = match q.responses_per_day {
            0 => 0,
            limit => {
                tx.prepare_cached(
                    "SELECT count(*) FROM (SELECT 1 FROM entries
                     WHERE device_id = ?1 AND received_at >= ?2 LIMIT ?3)",
                )?
                .query_row(params![device_id, from, limit.saturating_add(1) as i64], |r| r.get(0))?
            }
        };
        let bytes: i64 = match q.bytes_per_day {
            0 => 0,
            _ => tx
                .prepare_cached(
                    "SELECT coalesce(sum(stored_bytes), 0) FROM bundles
                     WHERE device_id = ?1 AND received_at >= ?2",
                )?
                .query_row(params![device_id, from], |r| r.get(0))?,
        };
        Ok(Day { responses, bytes: bytes.max(0) as u64 })
    }

    /// Refused when the day so far plus what this bundle newly brings
    /// passes a quota. A bundle that brings nothing new (sent again after a
    /// lost receipt) is never refused: it costs nothing, and its reply
    /// carries the receipt the device needs.
    pub(crate) fn check(
        &self,
        q: &Quotas,
        device_id: &str,
        responses: u64,
        bytes: u64,
    ) -> Result<(), IngestError> {
        let refuse = |kind, limit, used| {
            Err(IngestError::Quota { device_id: device_id.to_string(), kind, limit, used })
        };
        if responses == 0 && bytes == 0 {
            return Ok(());
        }
        if quota::over(q.responses_per_day, self.responses + responses) {
            return refuse(
                QuotaKind::ResponsesPerDay,
                q.responses_per_day,
                self.responses + responses,
            );
        }
        if quota::over(q.bytes_per_day, self.bytes + bytes) {
            return refuse(QuotaKind::BytesPerDay, q.bytes_per_day, self.bytes + bytes);
        }
        Ok(())
    }
}

enum DeviceCheck {
    Refused(IngestError),
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for DeviceCheck {
    fn from(e: rusqlite::Error) -> Self {
        DeviceCheck::Sql(e)
    }
}

/// A known device must sign with its known key; an unknown one is learned
/// from its first bundle unless devices are enrolled.
fn check_device(
    tx: &Transaction<'_>,
    m: &Manifest,
    device_public_key: &[u8; 32],
    at: &str,
) -> Result<(), DeviceCheck> {
    let known: Option<Vec<u8>> = tx
        .query_row("SELECT public_key FROM devices WHERE device_id = ?1", [&m.device_id], |r| {
            r.get(0)
        })
        .optional()?;
    match known {
        Some(key) if key != device_public_key => {
            Err(DeviceCheck::Refused(IngestError::DeviceKeyMismatch {
                device_id: m.device_id.clone(),
                known: hex(&key),
                found: hex(device_public_key),
            }))
        }
        Some(_) => Ok(()),
        None => {
            let enrolment: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM devices WHERE enrolled = 1)",
                [],
                |r| r.get(0),
            )?;
            if enrolment {
                return Err(DeviceCheck::Refused(IngestError::UnknownDevice {
                    device_id: m.device_id.clone(),
                    public_key: hex(device_public_key),
                }));
            }
            tx.execute(
                "INSERT INTO devices (device_id, public_key, name, enrolled, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, 0, ?4, ?4)",
                params![m.device_id, &device_public_key[..], m.device_name, at],
            )?;
            Ok(())
        }
    }
}

fn payload_columns(p: &Payload) -> (Option<&str>, Option<&str>, Option<SealedColumn<'_>>) {
    match p {
        Payload::Plain { xml, json } => (Some(xml), Some(json), None),
        Payload::Sealed { ciphertext } => (None, None, Some(SealedColumn(ciphertext))),
    }
}

/// A sealed payload as a column value: its bytes when held in memory, or
/// an empty marker (`X''`) when the reader spooled it, the bytes then
/// written by [`fill_sealed`] into `sealed_payloads` (0012_sealed_payloads).
#[derive(Clone, Copy)]
struct SealedColumn<'a>(&'a enumera_core::bundle::AttachmentData);

impl rusqlite::ToSql for SealedColumn<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self.0.held() {
            Some(bytes) => bytes.to_sql(),
            None => {
                Ok(rusqlite::types::ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Blob(&[])))
            }
        }
    }
}

/// Streams a spooled sealed payload into `sealed_payloads`, whose bytes are
/// the last column of its row so SQLite keeps the zeroblob unexpanded until
/// blob I/O fills it a page at a time (nothing to do for one held in
/// memory). The same instance id and content hash name the same payload,
/// so a second copy (a conflict row of a stored response) is not written.
fn fill_sealed(
    tx: &Transaction<'_>,
    r: &BundleResponse,
    sealed: Option<SealedColumn<'_>>,
) -> Sql<()> {
    let Some(SealedColumn(data)) = sealed else { return Ok(()) };
    if data.held().is_some() {
        return Ok(());
    }
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO sealed_payloads (instance_id, content_hash, bytes)
             VALUES (?1, ?2, zeroblob(?3))",
        )?
        .execute(params![r.entry.instance_id, r.entry.content_hash, data.len()])?;
    if inserted == 0 {
        return Ok(());
    }
    let rowid = tx.last_insert_rowid();
    let mut blob = tx.blob_open(rusqlite::MAIN_DB, "sealed_payloads", "bytes", rowid, false)?;
    let copied = data.reader().and_then(|mut src| std::io::copy(&mut src, &mut blob));
    match copied {
        Ok(n) if n == data.len() => Ok(()),
        Ok(n) => Err(rusqlite::Error::ToSqlConversionFailure(
            format!("sealed item: spooled {n} bytes of {}", data.len()).into(),
        )),
        Err(e) => Err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))),
    }
}

fn store_blobs(tx: &Transaction<'_>, r: &BundleResponse) -> Sql<()> {
    use enumera_core::bundle::AttachmentData;
    let mut held =
        tx.prepare_cached("INSERT OR IGNORE INTO blobs (sha256, size, bytes) VALUES (?1, ?2, ?3)")?;
    let mut room = tx.prepare_cached(
        "INSERT OR IGNORE INTO blobs (sha256, size, bytes) VALUES (?1, ?2, zeroblob(?2))",
    )?;
    for (a, data) in &r.attachments {
        match data {
            AttachmentData::Held(bytes) => {
                held.execute(params![a.sha256, a.size, bytes])?;
            }
            // A large file the reader spooled: room made for it, then
            // streamed in through incremental blob I/O, never held whole.
            AttachmentData::Spooled(_) => {
                if room.execute(params![a.sha256, a.size])? == 0 {
                    continue;
                }
                let rowid = tx.last_insert_rowid();
                let mut blob = tx.blob_open(rusqlite::MAIN_DB, "blobs", "bytes", rowid, false)?;
                let copied = data.reader().and_then(|mut src| std::io::copy(&mut src, &mut blob));
                match copied {
                    Ok(n) if n == a.size => {}
                    Ok(n) => {
                        return Err(rusqlite::Error::ToSqlConversionFailure(
                            format!("attachment {}: spooled {n} bytes of {}", a.name, a.size)
                                .into(),
                        ));
                    }
                    Err(e) => return Err(rusqlite::Error::ToSqlConversionFailure(Box::new(e))),
                }
            }
        }
    }
    Ok(())
}

/// Places one newly received entry's response: new, duplicate, conflict or
/// edit. The rules (issue 15): a response is replaced only by an edit from
/// the device that made it (or one central authorised, [`edit_authorised`]);
/// an edit whose version has not arrived waits for it ([`settle_pending`]);
/// other content under an instance id another device sent contests it.
fn place_response(
    tx: &Transaction<'_>,
    device_id: &str,
    r: &BundleResponse,
    at: &str,
    report: &mut IngestReport,
) -> Sql<()> {
    let e = &r.entry;
    let c = &r.content;
    let held: Option<(String, String)> = tx
        .prepare_cached("SELECT content_hash, device_id FROM responses WHERE instance_id = ?1")?
        .query_row([&e.instance_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match held {
        Some((hash, _)) if hash == e.content_hash => {
            report.duplicates += 1;
            return Ok(());
        }
        Some((hash, holder)) => {
            let detail = format!(
                "instance id already held with other content (held {hash}, received {})",
                e.content_hash
            );
            let already: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM conflicts WHERE instance_id = ?1 AND content_hash = ?2)",
                )?
                .query_row(params![e.instance_id, e.content_hash], |r| r.get(0))?;
            if already {
                report.duplicates += 1;
                return Ok(());
            }
            store_blobs(tx, r)?;
            let (xml, json, sealed) = payload_columns(&r.payload);
            insert_conflict(
                tx,
                device_id,
                r,
                "different_content",
                (xml, json, sealed),
                &detail,
                at,
            )?;
            report.conflicts.push(ConflictInfo {
                instance_id: e.instance_id.clone(),
                kind: "different_content".into(),
                device_id: device_id.to_string(),
                seq: e.seq,
                detail,
            });
            // Instance ids are no secret (anyone carrying a bundle reads
            // them): when two devices claim one, neither is taken as made.
            if holder != device_id {
                let contested = tx
                    .prepare_cached(
                        "UPDATE responses SET hold = 'contested'
                         WHERE instance_id = ?1 AND hold IS NOT 'contested'",
                    )?
                    .execute([&e.instance_id])?;
                if contested > 0 {
                    report.held_aside.push(ConflictInfo {
                        instance_id: e.instance_id.clone(),
                        kind: Hold::Contested.as_str().into(),
                        device_id: holder,
                        seq: e.seq,
                        detail: format!(
                            "device {device_id} sent other content under this instance id; \
                             neither version is exported until someone decides"
                        ),
                    });
                }
            }
            return Ok(());
        }
        None => {}
    }

    store_blobs(tx, r)?;
    let mut edit_conflict: Option<String> = None;
    let mut hold: Option<(Hold, String)> = None;
    let mut replaces = false;
    if let Some(d) = &c.deprecated_id {
        let target: Option<(String, Option<String>)> = tx
            .prepare_cached(
                "SELECT device_id, superseded_by FROM responses WHERE instance_id = ?1",
            )?
            .query_row([d], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if d == &e.instance_id {
            edit_conflict = Some("the edit names itself as the version it replaces".into());
        } else {
            match target {
                None => {
                    hold = Some((
                        Hold::PendingEdit,
                        format!("an edit of {d}, which central has not received yet"),
                    ))
                }
                Some((author, _)) if !edit_authorised(tx, d, &author, device_id)? => {
                    hold = Some((Hold::NotAuthor, not_author_detail(d, &author)))
                }
                Some((_, Some(other))) => {
                    edit_conflict = Some(format!("edits {d}, which {other} already replaced"))
                }
                Some((_, None)) => replaces = true,
            }
        }
    }
    let (xml, json, sealed) = payload_columns(&r.payload);
    tx.prepare_cached(
        "INSERT INTO responses (instance_id, content_hash, device_id, seq, entry_hash, form_id,
             form_version, form_hash, participant_id, round, enumerator, deprecated_id,
             finalized_at, xml, json, sealed, superseded_by, edit_conflict, hold, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, NULL, ?17,
                 ?18, ?19)",
    )?
    .execute(params![
        e.instance_id,
        e.content_hash,
        device_id,
        e.seq,
        e.entry_hash,
        c.form_id,
        c.form_version,
        c.form_hash,
        c.participant_id,
        c.round,
        c.enumerator,
        c.deprecated_id,
        c.finalized_at,
        xml,
        json,
        sealed,
        edit_conflict.is_some(),
        hold.as_ref().map(|(h, _)| h.as_str()),
        at
    ])?;
    fill_sealed(tx, r, sealed)?;
    {
        let mut s = tx.prepare_cached(
            "INSERT INTO response_attachments (instance_id, name, sha256, size) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (a, _) in &r.attachments {
            s.execute(params![e.instance_id, a.name, a.sha256, a.size])?;
        }
    }
    report.new_responses += 1;
    let info = |kind: &str, detail: String| ConflictInfo {
        instance_id: e.instance_id.clone(),
        kind: kind.into(),
        device_id: device_id.to_string(),
        seq: e.seq,
        detail,
    };
    if let Some(detail) = edit_conflict {
        insert_conflict(tx, device_id, r, "edit_of_superseded", (None, None, None), &detail, at)?;
        report.conflicts.push(info("edit_of_superseded", detail));
    } else if let Some((h, detail)) = hold {
        report.held_aside.push(info(h.as_str(), detail));
    } else if replaces {
        report.edits += 1;
        tx.prepare_cached(
            "UPDATE responses SET superseded_by = ?2 WHERE instance_id = ?1 AND superseded_by IS NULL",
        )?
        .execute(params![c.deprecated_id, e.instance_id])?;
    }
    if let Some(problem) = form_problem(tx, c, &r.payload)? {
        report.held_aside.push(info(problem.kind(), problem.detail(c)));
    }
    settle_pending(tx, &e.instance_id, device_id, report)
}

/// Why a held response is not current (the `hold` column; schema 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    PendingEdit,
    NotAuthor,
    EditOfSuperseded,
    Contested,
}

impl Hold {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Hold::PendingEdit => "pending_edit",
            Hold::NotAuthor => "not_author",
            Hold::EditOfSuperseded => "edit_of_superseded",
            Hold::Contested => "contested",
        }
    }
}

pub(crate) fn not_author_detail(target: &str, author: &str) -> String {
    format!(
        "an edit of {target}, which device {author} made: only the device that made a response \
         (or one central authorised) may replace it"
    )
}

/// Whether `editor` may replace the response `instance_id` that `author`
/// made: the author itself, or a device central authorised
/// ([`crate::CentralStore::grant_edit`]; the review flow's return). The
/// database's trigger `responses_replaced_by_author` says the same.
fn edit_authorised(
    tx: &Transaction<'_>,
    instance_id: &str,
    author: &str,
    editor: &str,
) -> Sql<bool> {
    if author == editor {
        return Ok(true);
    }
    tx.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM edit_grants WHERE instance_id = ?1 AND device_id = ?2)",
    )?
    .query_row(params![instance_id, editor], |r| r.get(0))
}

/// Run for every response an ingest places: it must find its rows through
/// an index (`responses_pending_edits`), never by reading every response.
const PENDING_EDITS: &str = "SELECT instance_id, device_id, seq FROM responses
     WHERE deprecated_id = ?1 AND hold = 'pending_edit' ORDER BY rowid";

/// Edits that arrived before the version they replace, now that it has
/// arrived (made by `author`): the first authorised one replaces it, later
/// ones are edit conflicts, those of other devices are held aside.
fn settle_pending(
    tx: &Transaction<'_>,
    instance_id: &str,
    author: &str,
    report: &mut IngestReport,
) -> Sql<()> {
    let pending: Vec<(String, String, u64)> = tx
        .prepare_cached(PENDING_EDITS)?
        .query_map([instance_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Sql<_>>()?;
    for (edit, editor, seq) in pending {
        let replaced: Option<String> = tx
            .prepare_cached("SELECT superseded_by FROM responses WHERE instance_id = ?1")?
            .query_row([instance_id], |r| r.get(0))?;
        let (hold, detail) = if !edit_authorised(tx, instance_id, author, &editor)? {
            (Some(Hold::NotAuthor), not_author_detail(instance_id, author))
        } else if let Some(other) = replaced {
            (
                Some(Hold::EditOfSuperseded),
                format!("edits {instance_id}, which {other} already replaced"),
            )
        } else {
            (None, String::new())
        };
        tx.prepare_cached("UPDATE responses SET hold = ?2 WHERE instance_id = ?1")?
            .execute(params![edit, hold.map(Hold::as_str)])?;
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
                tx.prepare_cached(
                    "UPDATE responses SET superseded_by = ?2 WHERE instance_id = ?1",
                )?
                .execute(params![instance_id, edit])?;
            }
        }
    }
    Ok(())
}

/// Why a response does not match the form central published under its
/// form id and version (issue 15, finding 2), if it does not. Checked
/// again whenever central is read (`CURRENT` in status.rs), so a form
/// published after its responses arrived is applied to them too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FormProblem {
    /// Filled with other content than central published under that version.
    HashMismatch { published: String },
    /// In plaintext, for a form that names researcher keys.
    PlaintextForSealedForm,
}

impl FormProblem {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            FormProblem::HashMismatch { .. } => "form_hash_mismatch",
            FormProblem::PlaintextForSealedForm => "plaintext_for_sealed_form",
        }
    }

    pub(crate) fn detail(&self, c: &enumera_core::store::EntryContent) -> String {
        match self {
            FormProblem::HashMismatch { published } => format!(
                "filled with form {} version {:?} hash {}, but central published that version \
                 with hash {published}",
                c.form_id, c.form_version, c.form_hash
            ),
            FormProblem::PlaintextForSealedForm => format!(
                "arrived in plaintext, but form {} version {:?} requires sealing to the \
                 researcher's key",
                c.form_id, c.form_version
            ),
        }
    }
}

fn form_problem(
    tx: &Transaction<'_>,
    c: &enumera_core::store::EntryContent,
    payload: &Payload,
) -> Sql<Option<FormProblem>> {
    let published: Option<(String, bool)> = tx
        .prepare_cached("SELECT hash, sealed FROM published WHERE form_id = ?1 AND version = ?2")?
        .query_row(params![c.form_id, c.form_version], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match published {
        Some((hash, _)) if hash != c.form_hash => {
            Some(FormProblem::HashMismatch { published: hash })
        }
        Some((_, true)) if matches!(payload, Payload::Plain { .. }) => {
            Some(FormProblem::PlaintextForSealedForm)
        }
        _ => None,
    })
}

fn insert_conflict(
    tx: &Transaction<'_>,
    device_id: &str,
    r: &BundleResponse,
    kind: &str,
    (xml, json, sealed): (Option<&str>, Option<&str>, Option<SealedColumn<'_>>),
    detail: &str,
    at: &str,
) -> Sql<()> {
    let e = &r.entry;
    tx.prepare_cached(
        "INSERT INTO conflicts (instance_id, content_hash, kind, device_id, seq, entry_hash,
                                content, xml, json, sealed, detail, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        e.instance_id,
        e.content_hash,
        kind,
        device_id,
        e.seq,
        e.entry_hash,
        e.content,
        xml,
        json,
        sealed,
        detail,
        at
    ])?;
    fill_sealed(tx, r, sealed)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ingest costs what it brings, not what central holds: the lookup
    /// run for every placed response goes through an index.
    #[test]
    fn pending_edits_are_found_through_an_index() {
        let central = SqliteCentral::in_memory().expect("central");
        let plan: Vec<String> = central
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {PENDING_EDITS}"))
            .and_then(|mut s| s.query_map(["x"], |r| r.get::<_, String>(3))?.collect())
            .expect("plan");
        assert!(plan.iter().any(|l| l.contains("responses_pending_edits")), "{plan:?}");
        assert!(!plan.iter().any(|l| l.starts_with("SCAN")), "{plan:?}");
    }
}
