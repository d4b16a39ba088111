//! Finalizing and the outbox: one transaction freezes a response, stores its
//! submission, and appends an entry to the device's hash chain. Receipts from
//! central later mark entries as sent.
//!
//! Chain, version 1 (bundles and central recompute it, so it is exact):
//! - `content` is the compact JSON of [`EntryContent`] (fields in the order
//!   declared, which is alphabetical), `content_hash = sha256_hex(content)`;
//! - `entry_hash = sha256_hex("enumera-outbox/1\n{seq}\n{prev_hash}\n{content_hash}")`;
//! - `prev_hash` is the previous entry's `entry_hash`, or [`GENESIS_HASH`] for seq 1.

use crate::bundle::HashingWriter;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::attachments::{AttachmentInfo, check_file};
use super::error::{Result, StoreError};
use super::responses::{ResponseState, load_response, state_of};
use super::{Store, now, sha256_hex};
use sha2::Digest;

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What finalize stores for a response. The session produces it; sealing
/// (issue "Sync") turns a `Plain` payload into a `Sealed` one before calling
/// [`Store::finalize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The submission in plaintext, as XML (ODK) and JSON.
    Plain { xml: String, json: String },
    /// The submission already encrypted to the instrument's researcher keys,
    /// attachments included. The store then keeps no plaintext: the draft's
    /// answers, repeat counts and attachment rows are deleted in the same
    /// transaction, and unreferenced attachment files right after it.
    /// In memory, or (a large one a bundle reader spooled, or one sealed
    /// on the device) in a file: read as a stream.
    Sealed { ciphertext: crate::bundle::AttachmentData },
}

/// What finalize stores, as [`Store::finalize_with`] takes it: the sealed
/// bytes themselves come from a callback.
enum Final<'a> {
    Plain { xml: &'a str, json: &'a str },
    Sealed { size: u64, sha256: String },
}

/// The frozen submission of a finalized response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub instance_id: String,
    pub payload: Payload,
}

/// The description of one outbox entry that its `content_hash` covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryContent {
    /// Attachments by name (none when sealed: they are in the ciphertext).
    pub attachments: Vec<AttachmentInfo>,
    pub deprecated_id: Option<String>,
    pub device_id: String,
    pub enumerator: Option<String>,
    pub finalized_at: String,
    pub form_hash: String,
    pub form_id: String,
    pub form_version: String,
    /// `enumera-outbox-entry/1`.
    pub format: String,
    pub instance_id: String,
    pub json_sha256: Option<String>,
    pub participant_id: Option<String>,
    pub round: Option<i64>,
    pub sealed_sha256: Option<String>,
    pub xml_sha256: Option<String>,
}

/// One entry of the device's outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    pub seq: u64,
    pub instance_id: String,
    /// Canonical JSON of [`EntryContent`].
    pub content: String,
    pub content_hash: String,
    pub prev_hash: String,
    pub entry_hash: String,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// The hash linking an entry to the one before it.
pub fn entry_hash(seq: u64, prev_hash: &str, content_hash: &str) -> String {
    sha256_hex(format!("enumera-outbox/1\n{seq}\n{prev_hash}\n{content_hash}").as_bytes())
}

/// Something wrong with the outbox chain or a response's finalized state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainProblem {
    /// Sequence numbers are not contiguous from 1.
    Gap { expected: u64, found: u64 },
    /// `prev_hash` does not name the previous entry.
    BrokenLink { seq: u64 },
    /// `content_hash` or `entry_hash` does not match what they cover.
    BadHash { seq: u64 },
    /// A stored submission no longer matches the hashes in its entry.
    SubmissionMismatch { seq: u64, instance_id: String },
    /// A finalized or sent response without an outbox entry or submission.
    HalfFinalized { instance_id: String },
    /// An outbox entry whose response is still a draft or discarded.
    NotFinalized { seq: u64, instance_id: String },
}

impl fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainProblem::Gap { expected, found } => {
                write!(f, "outbox gap: expected sequence {expected}, found {found}")
            }
            ChainProblem::BrokenLink { seq } => {
                write!(f, "outbox entry {seq} does not link to entry {}", seq - 1)
            }
            ChainProblem::BadHash { seq } => write!(f, "outbox entry {seq} has a wrong hash"),
            ChainProblem::SubmissionMismatch { seq, instance_id } => {
                write!(
                    f,
                    "submission of {instance_id} (outbox entry {seq}) changed after finalizing"
                )
            }
            ChainProblem::HalfFinalized { instance_id } => {
                write!(
                    f,
                    "response {instance_id} is finalized but lacks its outbox entry or submission"
                )
            }
            ChainProblem::NotFinalized { seq, instance_id } => {
                write!(f, "outbox entry {seq} names {instance_id}, which is not finalized")
            }
        }
    }
}

/// What a receipt changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MarkSentReport {
    /// Entries newly marked sent.
    pub marked: Vec<u64>,
    /// Entries the receipt covers that were already sent.
    pub already_sent: Vec<u64>,
    /// (seq, instance id) pairs that match no outbox entry: nothing is
    /// marked for them (a receipt from another device, or a fork).
    pub unknown: Vec<(u64, String)>,
}

const ENTRY_COLUMNS: &str =
    "seq, instance_id, content, content_hash, prev_hash, entry_hash, created_at, sent_at";

fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxEntry> {
    Ok(OutboxEntry {
        seq: r.get(0)?,
        instance_id: r.get(1)?,
        content: r.get(2)?,
        content_hash: r.get(3)?,
        prev_hash: r.get(4)?,
        entry_hash: r.get(5)?,
        created_at: r.get(6)?,
        sent_at: r.get(7)?,
    })
}

impl Store {
    /// Finalizes a draft: in one IMMEDIATE transaction the submission is
    /// stored, the response frozen (answering it afterwards is
    /// [`StoreError::NotDraft`]) and the next outbox entry appended. A
    /// missing or altered attachment file stops it, naming the file.
    pub fn finalize(&mut self, instance_id: &str, payload: Payload) -> Result<OutboxEntry> {
        match &payload {
            Payload::Plain { xml, json } => {
                self.finalize_with(instance_id, Final::Plain { xml, json }, &mut |_| Ok(()))
            }
            Payload::Sealed { ciphertext } => match ciphertext.held() {
                Some(bytes) => self.finalize_with(
                    instance_id,
                    Final::Sealed { size: bytes.len() as u64, sha256: sha256_hex(bytes) },
                    &mut |w| w.write_all(bytes),
                ),
                None => {
                    let io = |source| StoreError::Io {
                        path: self.path.clone(),
                        context: format!("reading the sealed response of {instance_id}"),
                        source,
                    };
                    let mut hashing = HashingWriter::new(std::io::sink());
                    std::io::copy(&mut ciphertext.reader().map_err(io)?, &mut hashing)
                        .map_err(io)?;
                    let sha256 = crate::instrument::canonical::hex(&hashing.sha.finalize());
                    let mut reader = ciphertext.reader().map_err(io)?;
                    self.finalize_with(
                        instance_id,
                        Final::Sealed { size: hashing.n, sha256 },
                        &mut |w| std::io::copy(&mut reader, w).map(|_| ()),
                    )
                }
            },
        }
    }

    /// [`Store::finalize`] with a sealed payload held in the file at
    /// `path` (`size` bytes, SHA-256 `sha256`, as the sealing computed
    /// them): streamed into the database with incremental blob I/O inside
    /// the finalize transaction, checked against `sha256` as it goes, so a
    /// large sealed response is never held whole. The caller removes the
    /// file afterwards.
    pub fn finalize_sealed_file(
        &mut self,
        instance_id: &str,
        path: &Path,
        size: u64,
        sha256: &str,
    ) -> Result<OutboxEntry> {
        let io = |source| StoreError::Io {
            path: path.to_path_buf(),
            context: format!("reading the sealed response of {instance_id}"),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(io)?;
        self.finalize_with(
            instance_id,
            Final::Sealed { size, sha256: sha256.to_string() },
            &mut |w| {
                std::io::copy(&mut file, w)?;
                Ok(())
            },
        )
    }

    fn finalize_with(
        &mut self,
        instance_id: &str,
        payload: Final<'_>,
        sealed_bytes: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<OutboxEntry> {
        let device = self.device()?;
        let sealed = matches!(payload, Final::Sealed { .. });
        let files = self.files.clone();
        let Store { conn, path, .. } = self;
        let map = |e| StoreError::sql(path, format!("finalizing {instance_id}"), e);
        let tx = super::write_tx(conn, path, "finalizing a response")?;
        let response = load_response(&tx, instance_id)
            .map_err(map)?
            .ok_or_else(|| StoreError::UnknownResponse { instance_id: instance_id.to_string() })?;
        if response.state != ResponseState::Draft {
            return Err(StoreError::NotDraft {
                instance_id: instance_id.to_string(),
                state: response.state,
                action: "finalized",
            });
        }
        let mut attachments = super::attachments::rows(&tx, instance_id).map_err(map)?;
        if sealed {
            attachments.clear();
        } else {
            for a in &attachments {
                check_file(&tx, &files, instance_id, a)?;
            }
        }
        let at = now();
        let (xml, json, blob) = match &payload {
            Final::Plain { xml, json } => (Some(*xml), Some(*json), None),
            Final::Sealed { size, sha256 } => (None, None, Some((*size, sha256.as_str()))),
        };
        let content = EntryContent {
            attachments,
            deprecated_id: response.deprecated_id.clone(),
            device_id: device.device_id,
            enumerator: response.enumerator.clone(),
            finalized_at: at.clone(),
            form_hash: response.instrument.hash.clone(),
            form_id: response.instrument.form_id.clone(),
            form_version: response.instrument.version.clone(),
            format: "enumera-outbox-entry/1".into(),
            instance_id: instance_id.to_string(),
            json_sha256: json.map(|j| sha256_hex(j.as_bytes())),
            participant_id: response.participant_id.clone(),
            round: response.round,
            sealed_sha256: blob.map(|(_, sha)| sha.to_string()),
            xml_sha256: xml.map(|x| sha256_hex(x.as_bytes())),
        };
        // Plain data with string keys: serializing cannot fail.
        let content = serde_json::to_string(&content).unwrap_or_default();
        let content_hash = sha256_hex(content.as_bytes());
        let last: Option<(u64, String)> = tx
            .query_row("SELECT seq, entry_hash FROM outbox ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(map)?;
        let (seq, prev_hash) = match last {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, GENESIS_HASH.to_string()),
        };
        let entry = OutboxEntry {
            seq,
            instance_id: instance_id.to_string(),
            entry_hash: entry_hash(seq, &prev_hash, &content_hash),
            content,
            content_hash,
            prev_hash,
            created_at: at.clone(),
            sent_at: None,
        };
        tx.execute(
            "INSERT INTO submissions (instance_id, xml, json, sealed) VALUES (?1, ?2, ?3, \
             CASE WHEN ?4 IS NULL THEN NULL ELSE zeroblob(?4) END)",
            params![instance_id, xml, json, blob.map(|(size, _)| size)],
        )
        .map_err(map)?;
        if let Some((size, sha256)) = blob {
            // Streamed in with incremental blob I/O (which fires no
            // trigger: the row was inserted just above in this
            // transaction), hashed as it goes.
            let rowid = tx.last_insert_rowid();
            let mut blob = tx
                .blob_open(rusqlite::MAIN_DB, "submissions", "sealed", rowid, false)
                .map_err(map)?;
            let mut hashing = HashingWriter::new(&mut blob);
            sealed_bytes(&mut hashing).map_err(|source| {
                let context = format!("storing the sealed response of {instance_id}");
                if super::attachments::is_disk_full(&source) {
                    StoreError::DiskFull { path: path.clone(), context }
                } else {
                    StoreError::Io { path: path.clone(), context, source }
                }
            })?;
            let found = crate::instrument::canonical::hex(&hashing.sha.finalize());
            if found != sha256 || hashing.n != size {
                return Err(StoreError::Io {
                    path: path.clone(),
                    context: format!(
                        "storing the sealed response of {instance_id}: it is {} bytes with \
                         SHA-256 {found}, sealing made {size} bytes with {sha256}",
                        hashing.n
                    ),
                    source: std::io::Error::other("the sealed file changed"),
                });
            }
        }
        tx.execute(
            &format!(
                "INSERT INTO outbox ({ENTRY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)"
            ),
            params![
                entry.seq,
                entry.instance_id,
                entry.content,
                entry.content_hash,
                entry.prev_hash,
                entry.entry_hash,
                entry.created_at
            ],
        )
        .map_err(map)?;
        if sealed {
            for table in ["answers", "repeats", "attachments", "audit_events"] {
                tx.execute(&format!("DELETE FROM {table} WHERE instance_id = ?1"), [instance_id])
                    .map_err(map)?;
            }
        }
        tx.execute(
            "UPDATE responses SET state = 'finalized', finalized_at = ?2, updated_at = ?2
             WHERE instance_id = ?1",
            params![instance_id, at],
        )
        .map_err(map)?;
        tx.commit().map_err(map)?;
        if sealed {
            // Committed already; a file left behind is removed by the next
            // collection, so a failure here must not report the finalize failed.
            let _ = self.collect_garbage();
            // Old WAL frames still hold the plaintext until checkpointed.
            let _ = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
        }
        Ok(entry)
    }

    /// The frozen submission of a finalized (or sent) response.
    pub fn submission(&self, instance_id: &str) -> Result<Submission> {
        type Row = (Option<String>, Option<String>, Option<Vec<u8>>);
        let row: Option<Row> = self
            .conn
            .prepare_cached("SELECT xml, json, sealed FROM submissions WHERE instance_id = ?1")
            .and_then(|mut s| {
                s.query_row([instance_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()
            })
            .map_err(self.err(format!("reading the submission of {instance_id}")))?;
        let payload = match row {
            Some((_, _, Some(ciphertext))) => Payload::Sealed { ciphertext: ciphertext.into() },
            Some((Some(xml), Some(json), None)) => Payload::Plain { xml, json },
            _ => {
                let state = self.response(instance_id)?.state;
                return Err(StoreError::InvalidState {
                    instance_id: instance_id.to_string(),
                    state,
                    action: "read as a submission (it has none)",
                });
            }
        };
        Ok(Submission { instance_id: instance_id.to_string(), payload })
    }

    /// The size of a finalized response's sealed payload; None when it has
    /// none (plain, purged or unknown).
    pub fn sealed_size(&self, instance_id: &str) -> Result<Option<u64>> {
        self.conn
            .prepare_cached(
                "SELECT length(sealed) FROM submissions WHERE instance_id = ?1 \
                 AND sealed IS NOT NULL",
            )
            .and_then(|mut s| s.query_row([instance_id], |r| r.get(0)).optional())
            .map_err(self.err(format!("reading the submission of {instance_id}")))
    }

    /// Streams a finalized response's sealed payload into `out` with
    /// incremental blob I/O (a sealed video is never held whole); returns
    /// how many bytes. [`StoreError::InvalidState`] when it has none.
    pub fn copy_sealed(&self, instance_id: &str, out: &mut dyn Write) -> Result<u64> {
        let map = || self.err(format!("reading the sealed submission of {instance_id}"));
        let rowid: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT rowid FROM submissions WHERE instance_id = ?1 AND sealed IS NOT NULL",
            )
            .and_then(|mut s| s.query_row([instance_id], |r| r.get(0)).optional())
            .map_err(map())?;
        let Some(rowid) = rowid else {
            let state = self.response(instance_id)?.state;
            return Err(StoreError::InvalidState {
                instance_id: instance_id.to_string(),
                state,
                action: "read as a sealed submission (it has none)",
            });
        };
        let mut blob = self
            .conn
            .blob_open(rusqlite::MAIN_DB, "submissions", "sealed", rowid, true)
            .map_err(map())?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut n = 0u64;
        loop {
            let read = blob.read(&mut buf).map_err(|source| StoreError::Io {
                path: self.path.clone(),
                context: format!("reading the sealed submission of {instance_id}"),
                source,
            })?;
            if read == 0 {
                break;
            }
            out.write_all(&buf[..read]).map_err(|source| StoreError::Io {
                path: self.path.clone(),
                context: format!("copying the sealed submission of {instance_id}"),
                source,
            })?;
            n += read as u64;
        }
        Ok(n)
    }

    /// A path for a temporary file the sealing writes, in the attachment
    /// folder's `tmp/` (named `.tmp-...`, so the orphan cleanup at open
    /// removes one a crash left).
    pub(crate) fn sealing_temp_file(&self) -> Result<PathBuf> {
        let dir = self.files.dir.join("tmp");
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            path: dir.clone(),
            context: "making the folder for sealing".into(),
            source,
        })?;
        Ok(dir.join(format!(".tmp-seal-{}", uuid::Uuid::new_v4().simple())))
    }

    /// An I/O error on a temporary file of the sealing of `instance_id`.
    pub(crate) fn temp_io_error(
        &self,
        path: &Path,
        instance_id: &str,
        source: std::io::Error,
    ) -> StoreError {
        let context = format!("sealing {instance_id}");
        if super::attachments::is_disk_full(&source) {
            StoreError::DiskFull { path: path.to_path_buf(), context }
        } else {
            StoreError::Io { path: path.to_path_buf(), context, source }
        }
    }

    /// Outbox entries after `after_seq` (0 for all), in sequence order;
    /// with `unsent_only`, those no receipt has acknowledged yet.
    pub fn outbox(&self, after_seq: u64, unsent_only: bool) -> Result<Vec<OutboxEntry>> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM outbox WHERE seq > ?1 AND (?2 = 0 OR sent_at IS NULL)
                 ORDER BY seq"
            ))
            .and_then(|mut s| {
                s.query_map(params![after_seq, unsent_only], entry_from_row)?.collect()
            })
            .map_err(self.err("reading the outbox"))
    }

    /// The outbox entry of a response, if it was finalized.
    pub fn outbox_entry(&self, instance_id: &str) -> Result<Option<OutboxEntry>> {
        self.conn
            .prepare_cached(&format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE instance_id = ?1"))
            .and_then(|mut s| s.query_row([instance_id], entry_from_row).optional())
            .map_err(self.err(format!("reading the outbox entry of {instance_id}")))
    }

    /// Checks the whole outbox: contiguous sequence numbers, every link and
    /// hash, every kept submission against its entry, and that no response
    /// is finalized without its entry (or the reverse). Empty when sound.
    pub fn verify_outbox(&self) -> Result<Vec<ChainProblem>> {
        let mut problems = Vec::new();
        let entries = self.outbox(0, false)?;
        let mut prev = GENESIS_HASH.to_string();
        for (i, e) in entries.iter().enumerate() {
            let expected = i as u64 + 1;
            if e.seq != expected {
                problems.push(ChainProblem::Gap { expected, found: e.seq });
            }
            if e.prev_hash != prev {
                problems.push(ChainProblem::BrokenLink { seq: e.seq });
            }
            if e.content_hash != sha256_hex(e.content.as_bytes())
                || e.entry_hash != entry_hash(e.seq, &e.prev_hash, &e.content_hash)
            {
                problems.push(ChainProblem::BadHash { seq: e.seq });
            }
            prev = e.entry_hash.clone();
            match state_of(&self.conn, &e.instance_id).map_err(self.err("verifying the outbox"))? {
                Some(ResponseState::Finalized | ResponseState::Sent)
                    if !self.submission_matches(e)? =>
                {
                    problems.push(ChainProblem::SubmissionMismatch {
                        seq: e.seq,
                        instance_id: e.instance_id.clone(),
                    });
                }
                // Purged after its receipt: only the entry remains, by design.
                Some(ResponseState::Finalized | ResponseState::Sent) | None => {}
                Some(_) => problems.push(ChainProblem::NotFinalized {
                    seq: e.seq,
                    instance_id: e.instance_id.clone(),
                }),
            }
        }
        let orphans: Vec<String> = self
            .conn
            .prepare(
                "SELECT r.instance_id FROM responses r
                 WHERE r.state IN ('finalized', 'sent')
                   AND (NOT EXISTS (SELECT 1 FROM outbox o WHERE o.instance_id = r.instance_id)
                        OR NOT EXISTS (SELECT 1 FROM submissions s WHERE s.instance_id = r.instance_id))",
            )
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(self.err("verifying the outbox"))?;
        problems.extend(
            orphans.into_iter().map(|instance_id| ChainProblem::HalfFinalized { instance_id }),
        );
        Ok(problems)
    }

    fn submission_matches(&self, e: &OutboxEntry) -> Result<bool> {
        let Ok(content) = serde_json::from_str::<EntryContent>(&e.content) else {
            return Ok(false);
        };
        if self.sealed_size(&e.instance_id)?.is_some() {
            // Hashed as a stream: a sealed response can be large.
            let mut hashing = HashingWriter::new(std::io::sink());
            self.copy_sealed(&e.instance_id, &mut hashing)?;
            let found = crate::instrument::canonical::hex(&hashing.sha.finalize());
            return Ok(content.sealed_sha256.as_deref() == Some(found.as_str()));
        }
        let sub = match self.submission(&e.instance_id) {
            Ok(s) => s,
            Err(StoreError::InvalidState { .. }) => return Ok(false),
            Err(err) => return Err(err),
        };
        Ok(match sub.payload {
            Payload::Plain { xml, json } => {
                content.xml_sha256.as_deref() == Some(&sha256_hex(xml.as_bytes()))
                    && content.json_sha256.as_deref() == Some(&sha256_hex(json.as_bytes()))
            }
            // Hashed as a stream above.
            Payload::Sealed { .. } => false,
        })
    }

    /// Marks as sent exactly the entries a receipt covers, each named by
    /// sequence number and instance id; a pair that matches no entry marks
    /// nothing and is reported. Each entry records the central key trusted
    /// at that moment as the one that acknowledged it (a response is purged
    /// only when that key is pinned). One transaction.
    pub fn mark_sent(&mut self, covered: &[(u64, String)]) -> Result<MarkSentReport> {
        self.mark_sent_by(None, covered)
    }

    /// [`Store::mark_sent`] for a receipt signed by `central_key`: refused
    /// (nothing marked) unless that key is the one the device trusts, read
    /// in the same transaction.
    pub(crate) fn mark_sent_by(
        &mut self,
        central_key: Option<&[u8; 32]>,
        covered: &[(u64, String)],
    ) -> Result<MarkSentReport> {
        let Store { conn, path, .. } = self;
        let map = |e| StoreError::sql(path, "applying a receipt", e);
        let tx = super::write_tx(conn, path, "applying a receipt")?;
        let trusted: Option<String> = tx
            .query_row(
                "SELECT value FROM settings WHERE key = ?1",
                [super::sync_state::CENTRAL_KEY],
                |r| r.get(0),
            )
            .optional()
            .map_err(map)?;
        if let Some(key) = central_key
            && trusted.as_deref() != Some(crate::bundle::hex(key).as_str())
        {
            return Err(StoreError::CentralChanged);
        }
        let at = now();
        let mut report = MarkSentReport::default();
        for (seq, instance_id) in covered {
            let row: Option<(String, Option<String>)> = tx
                .prepare_cached("SELECT instance_id, sent_at FROM outbox WHERE seq = ?1")
                .and_then(|mut s| s.query_row([seq], |r| Ok((r.get(0)?, r.get(1)?))).optional())
                .map_err(map)?;
            match row {
                Some((id, _)) if id != *instance_id => {
                    report.unknown.push((*seq, instance_id.clone()))
                }
                None => report.unknown.push((*seq, instance_id.clone())),
                Some((_, Some(_))) => report.already_sent.push(*seq),
                Some((_, None)) => {
                    tx.execute(
                        "UPDATE outbox SET sent_at = ?2, sent_by = ?3 WHERE seq = ?1",
                        params![seq, at, trusted],
                    )
                    .map_err(map)?;
                    tx.execute(
                        "UPDATE responses SET state = 'sent', sent_at = ?2, updated_at = ?2
                         WHERE instance_id = ?1 AND state = 'finalized'",
                        params![instance_id, at],
                    )
                    .map_err(map)?;
                    report.marked.push(*seq);
                }
            }
        }
        tx.commit().map_err(map)?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewResponse;
    use crate::store::test_support::ready_store;

    fn plain(n: usize) -> Payload {
        Payload::Plain { xml: format!("<data><n>{n}</n></data>"), json: format!("{{\"n\":{n}}}") }
    }

    #[test]
    fn finalize_appends_a_chain_without_gaps() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let mut entries = Vec::new();
        for n in 0..5 {
            let id = store.create_draft(&NewResponse::new(key.clone())).unwrap().instance_id;
            store.set_answer(&id, "/data/a", &n.to_string()).unwrap();
            entries.push(store.finalize(&id, plain(n)).unwrap());
        }
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!(entries[0].prev_hash, GENESIS_HASH);
        for w in entries.windows(2) {
            assert_eq!(w[1].prev_hash, w[0].entry_hash);
        }
        assert_eq!(store.outbox(0, false).unwrap(), entries);
        assert_eq!(store.outbox(3, true).unwrap(), entries[3..]);
        assert!(store.verify_outbox().unwrap().is_empty());
        let content: EntryContent = serde_json::from_str(&entries[2].content).unwrap();
        assert_eq!(content.instance_id, entries[2].instance_id);
        assert_eq!(content.device_id, store.device().unwrap().device_id);
        assert_eq!(content.xml_sha256, Some(sha256_hex(b"<data><n>2</n></data>")));
        let sub = store.submission(&entries[2].instance_id).unwrap();
        assert_eq!(sub.payload, plain(2));
    }

    #[test]
    fn verify_detects_tampering_behind_the_triggers() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let mut ids = Vec::new();
        for n in 0..3 {
            let id = store.create_draft(&NewResponse::new(key.clone())).unwrap().instance_id;
            store.finalize(&id, plain(n)).unwrap();
            ids.push(id);
        }
        store
            .conn
            .execute_batch("DROP TRIGGER outbox_frozen; DROP TRIGGER outbox_kept; DROP TRIGGER submissions_frozen;")
            .unwrap();
        store
            .conn
            .execute("UPDATE submissions SET xml = '<evil/>' WHERE instance_id = ?1", [&ids[0]])
            .unwrap();
        store.conn.execute("DELETE FROM outbox WHERE seq = 2", []).unwrap();
        let problems = store.verify_outbox().unwrap();
        assert!(
            problems.contains(&ChainProblem::SubmissionMismatch {
                seq: 1,
                instance_id: ids[0].clone()
            })
        );
        assert!(problems.contains(&ChainProblem::Gap { expected: 2, found: 3 }));
        assert!(problems.contains(&ChainProblem::BrokenLink { seq: 3 }));
        assert!(problems.contains(&ChainProblem::HalfFinalized { instance_id: ids[1].clone() }));
    }

    #[test]
    fn finalize_needs_an_initialized_device() {
        let (_d, mut store) = crate::store::test_support::temp_store();
        let key = store
            .install_instrument(&crate::store::test_support::instrument("f", "1", &["a"]))
            .unwrap();
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        assert!(matches!(store.finalize(&id, plain(0)), Err(StoreError::NotInitialized)));
        assert_eq!(store.response(&id).unwrap().state, ResponseState::Draft);
    }

    #[test]
    fn mark_sent_marks_only_what_the_receipt_covers() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let mut entries = Vec::new();
        for n in 0..4 {
            let id = store.create_draft(&NewResponse::new(key.clone())).unwrap().instance_id;
            entries.push(store.finalize(&id, plain(n)).unwrap());
        }
        let pair = |e: &OutboxEntry| (e.seq, e.instance_id.clone());
        let report = store
            .mark_sent(&[
                pair(&entries[0]),
                pair(&entries[2]),
                (2, entries[3].instance_id.clone()),
                (9, "uuid:x".into()),
            ])
            .unwrap();
        assert_eq!(report.marked, vec![1, 3]);
        assert_eq!(report.unknown, vec![(2, entries[3].instance_id.clone()), (9, "uuid:x".into())]);
        let states: Vec<ResponseState> =
            entries.iter().map(|e| store.response(&e.instance_id).unwrap().state).collect();
        assert_eq!(
            states,
            [
                ResponseState::Sent,
                ResponseState::Finalized,
                ResponseState::Sent,
                ResponseState::Finalized
            ]
        );
        assert_eq!(
            store.outbox(0, true).unwrap().iter().map(|e| e.seq).collect::<Vec<_>>(),
            [2, 4]
        );
        let again = store.mark_sent(&[pair(&entries[0])]).unwrap();
        assert_eq!(again.already_sent, vec![1]);
        assert!(again.marked.is_empty());
        // Unsent responses cannot be purged; sent ones can (once central's
        // key is pinned), keeping the chain whole.
        assert!(matches!(
            store.purge(&entries[0].instance_id),
            Err(StoreError::InvalidState { .. })
        ));
        store.pin_central_key(&[7; 32]).unwrap();
        store.mark_sent(&[pair(&entries[0])]).unwrap();
        assert!(matches!(
            store.purge(&entries[1].instance_id),
            Err(StoreError::InvalidState { .. })
        ));
        store.purge(&entries[0].instance_id).unwrap();
        assert_eq!(store.outbox(0, false).unwrap().len(), 4);
        assert!(store.verify_outbox().unwrap().is_empty());
        let next = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        assert_eq!(store.finalize(&next, plain(9)).unwrap().seq, 5);
    }

    #[test]
    fn a_sealed_payload_in_a_file_is_stored_as_a_stream() {
        let (d, mut store, key) = ready_store(&["a"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let path = d.path().join("spooled.age");
        std::fs::write(&path, &bytes).unwrap();
        let spooled = crate::bundle::AttachmentData::Spooled(std::sync::Arc::new(
            crate::bundle::SpooledFile { path: path.clone(), size: bytes.len() as u64 },
        ));
        let entry = store.finalize(&id, Payload::Sealed { ciphertext: spooled }).unwrap();
        let content: EntryContent = serde_json::from_str(&entry.content).unwrap();
        assert_eq!(content.sealed_sha256, Some(sha256_hex(&bytes)));
        assert_eq!(store.sealed_size(&id).unwrap(), Some(bytes.len() as u64));
        let mut copied = Vec::new();
        store.copy_sealed(&id, &mut copied).unwrap();
        assert_eq!(copied, bytes);
        assert!(store.verify_outbox().unwrap().is_empty());
        assert!(!path.exists(), "the spool file goes with its last reference");
    }

    #[test]
    fn sealed_finalize_keeps_no_plaintext() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        store.set_answer(&id, "/data/a", "secret answer").unwrap();
        let photo = store.put_attachment(&id, "photo.jpg", b"secret photo").unwrap();
        let file = store.attachments_dir().join(&photo.sha256[..2]).join(&photo.sha256);
        assert!(file.exists());
        let entry = store
            .finalize(&id, Payload::Sealed { ciphertext: b"age-encrypted".to_vec().into() })
            .unwrap();
        assert!(store.answers(&id).unwrap().is_empty());
        assert!(store.attachments(&id).unwrap().is_empty());
        assert!(!file.exists());
        let content: EntryContent = serde_json::from_str(&entry.content).unwrap();
        assert_eq!(content.sealed_sha256, Some(sha256_hex(b"age-encrypted")));
        assert_eq!(content.xml_sha256, None);
        assert!(matches!(store.edit(&id), Err(StoreError::InvalidState { .. })));
        assert!(store.verify_outbox().unwrap().is_empty());
        // Not in the database file or its WAL either.
        for file in ["device.db", "device.db-wal"] {
            let bytes = std::fs::read(store.path().with_file_name(file)).unwrap_or_default();
            assert!(!bytes.windows(13).any(|w| w == b"secret answer"), "plaintext left in {file}");
        }
    }
}
