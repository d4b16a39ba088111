//! Applying a verified bundle: one IMMEDIATE transaction, all or nothing.

use enumera_core::bundle::{BundleResponse, VerifiedBundle, hex};
use enumera_core::store::Payload;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::SqliteCentral;
use crate::error::{CentralError, IngestError};
use crate::now;
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

    pub(super) fn ingest_tx(&mut self, b: &VerifiedBundle) -> Result<IngestReport, IngestError> {
        let path = self.path.clone();
        let wrap = |context: &'static str| {
            let path = path.clone();
            move |e| IngestError::Central(CentralError::sql(&path, context, e))
        };
        let m = &b.manifest;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(wrap("starting the ingest"))?;
        let at = now();
        check_device(&tx, b, &at).map_err(|e| match e {
            DeviceCheck::Refused(e) => e,
            DeviceCheck::Sql(e) => wrap("checking the device")(e),
        })?;
        let whole = super::chain::whole(&tx, &m.device_id).map_err(wrap("reading the chain"))?;
        let mut report = IngestReport {
            bundle_sha256: b.sha256.clone(),
            device_id: m.device_id.clone(),
            entries: b.responses.len(),
            ..Default::default()
        };
        for r in &b.responses {
            let e = &r.entry;
            let held: bool = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM entries
                     WHERE device_id = ?1 AND seq = ?2 AND entry_hash = ?3)",
                )
                .and_then(|mut s| {
                    s.query_row(params![m.device_id, e.seq, e.entry_hash], |r| r.get(0))
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
                    m.device_id,
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
            super::chain::note_entry(&tx, &m.device_id, e.seq, &whole)
                .map_err(wrap("recording an entry"))?;
            report.new_entries += 1;
            place_response(&tx, &m.device_id, r, &at, &mut report)
                .map_err(wrap("storing a response"))?;
        }
        if report.new_entries > 0 {
            tx.execute(
                "UPDATE devices SET last_seen = ?2 WHERE device_id = ?1",
                params![m.device_id, at],
            )
            .map_err(wrap("recording the device"))?;
        }
        // Logged once, so that a byte-identical copy is known by its hash.
        tx.prepare_cached(
            "INSERT OR IGNORE INTO bundles (sha256, device_id, entries, new_responses, conflicts, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut s| {
            s.execute(params![
                b.sha256,
                m.device_id,
                report.entries,
                report.new_responses,
                report.conflicts.len(),
                at
            ])
        })
        .map_err(wrap("logging the bundle"))?;
        let (gaps, forks) = super::chain::problems_after_ingest(&tx, &m.device_id)
            .map_err(wrap("checking the sequence"))?;
        report.gaps = gaps;
        report.forks = forks;
        tx.commit().map_err(wrap("committing the ingest"))?;
        Ok(report)
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
fn check_device(tx: &Transaction<'_>, b: &VerifiedBundle, at: &str) -> Result<(), DeviceCheck> {
    let m = &b.manifest;
    let known: Option<Vec<u8>> = tx
        .query_row("SELECT public_key FROM devices WHERE device_id = ?1", [&m.device_id], |r| {
            r.get(0)
        })
        .optional()?;
    match known {
        Some(key) if key != b.device_public_key => {
            Err(DeviceCheck::Refused(IngestError::DeviceKeyMismatch {
                device_id: m.device_id.clone(),
                known: hex(&key),
                found: hex(&b.device_public_key),
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
                    public_key: hex(&b.device_public_key),
                }));
            }
            tx.execute(
                "INSERT INTO devices (device_id, public_key, name, enrolled, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, 0, ?4, ?4)",
                params![m.device_id, &b.device_public_key[..], m.device_name, at],
            )?;
            Ok(())
        }
    }
}

fn payload_columns(p: &Payload) -> (Option<&str>, Option<&str>, Option<&[u8]>) {
    match p {
        Payload::Plain { xml, json } => (Some(xml), Some(json), None),
        Payload::Sealed { ciphertext } => (None, None, Some(ciphertext)),
    }
}

fn store_blobs(tx: &Transaction<'_>, r: &BundleResponse) -> Sql<()> {
    let mut s =
        tx.prepare_cached("INSERT OR IGNORE INTO blobs (sha256, size, bytes) VALUES (?1, ?2, ?3)")?;
    for (a, bytes) in &r.attachments {
        s.execute(params![a.sha256, a.size, bytes])?;
    }
    Ok(())
}

/// Places one newly received entry's response: new, duplicate, conflict or edit.
fn place_response(
    tx: &Transaction<'_>,
    device_id: &str,
    r: &BundleResponse,
    at: &str,
    report: &mut IngestReport,
) -> Sql<()> {
    let e = &r.entry;
    let c = &r.content;
    let held: Option<String> = tx
        .prepare_cached("SELECT content_hash FROM responses WHERE instance_id = ?1")?
        .query_row([&e.instance_id], |r| r.get(0))
        .optional()?;
    match held {
        Some(hash) if hash == e.content_hash => {
            report.duplicates += 1;
            return Ok(());
        }
        Some(hash) => {
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
            return Ok(());
        }
        None => {}
    }

    store_blobs(tx, r)?;
    // An edit replaces the version it names only while that version is current.
    let mut edit_conflict: Option<String> = None;
    let mut replaces_held = false;
    if let Some(d) = &c.deprecated_id {
        let target: Option<Option<String>> = tx
            .prepare_cached("SELECT superseded_by FROM responses WHERE instance_id = ?1")?
            .query_row([d], |r| r.get(0))
            .optional()?;
        let claimant: Option<String> = tx
            .prepare_cached(
                "SELECT instance_id FROM responses WHERE deprecated_id = ?1 AND edit_conflict = 0",
            )?
            .query_row([d], |r| r.get(0))
            .optional()?;
        if d == &e.instance_id {
            edit_conflict = Some("the edit names itself as the version it replaces".into());
        } else if let Some(other) = claimant {
            edit_conflict = Some(format!("edits {d}, which {other} already replaced"));
        } else {
            match target {
                Some(Some(other)) => {
                    edit_conflict = Some(format!("edits {d}, which {other} already replaced"))
                }
                Some(None) => replaces_held = true,
                None => {} // The older version arrives later and is marked then.
            }
        }
    }
    // An edit of this version may have arrived first.
    let superseded_by: Option<String> = tx
        .prepare_cached(
            "SELECT instance_id FROM responses WHERE deprecated_id = ?1 AND edit_conflict = 0",
        )?
        .query_row([&e.instance_id], |r| r.get(0))
        .optional()?;
    let (xml, json, sealed) = payload_columns(&r.payload);
    tx.prepare_cached(
        "INSERT INTO responses (instance_id, content_hash, device_id, seq, entry_hash, form_id,
             form_version, form_hash, participant_id, round, enumerator, deprecated_id,
             finalized_at, xml, json, sealed, superseded_by, edit_conflict, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
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
        superseded_by,
        edit_conflict.is_some(),
        at
    ])?;
    {
        let mut s = tx.prepare_cached(
            "INSERT INTO response_attachments (instance_id, name, sha256, size) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (a, _) in &r.attachments {
            s.execute(params![e.instance_id, a.name, a.sha256, a.size])?;
        }
    }
    report.new_responses += 1;
    if let Some(detail) = edit_conflict {
        insert_conflict(tx, device_id, r, "edit_of_superseded", (None, None, None), &detail, at)?;
        report.conflicts.push(ConflictInfo {
            instance_id: e.instance_id.clone(),
            kind: "edit_of_superseded".into(),
            device_id: device_id.to_string(),
            seq: e.seq,
            detail,
        });
    } else if c.deprecated_id.is_some() {
        report.edits += 1;
        if replaces_held {
            tx.prepare_cached(
                "UPDATE responses SET superseded_by = ?2 WHERE instance_id = ?1 AND superseded_by IS NULL",
            )?
            .execute(params![c.deprecated_id, e.instance_id])?;
        }
    }
    Ok(())
}

fn insert_conflict(
    tx: &Transaction<'_>,
    device_id: &str,
    r: &BundleResponse,
    kind: &str,
    (xml, json, sealed): (Option<&str>, Option<&str>, Option<&[u8]>),
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
    Ok(())
}
