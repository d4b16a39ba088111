//! Assignments (issue 17, item 5): central's signed statement, for one
//! device, of the work given to it (or to the enumerator carrying it), with
//! the roster rows of exactly the participants in that work, so that a
//! tablet holds the personal data of its own participants and no others.
//!
//! File (docs/FORMAT.md, "Assignments"): compact JSON
//! `{"format":"enumera-assignments/1","assignments":BODY,"signature":HEX}`,
//! BODY the compact JSON of [`AssignmentsStatement`], the Ed25519
//! signature by central's key over `enumera-assignments/1\n` followed by
//! BODY's bytes. It travels like a returns file: in the reply to
//! `POST /v1/assignments`, or as a file (`enumera central assignments file
//! --device ID -o F`, `enumera device assignments apply F`).
//!
//! A device applies it ([`apply_assignments`]) only when the signature
//! verifies, the key is the central key the device trusts, and the
//! statement names this device's id and key. A statement older than the
//! one applied last changes nothing (files may arrive out of order).
//!
//! A new tablet must get its work before it has made anything, so before
//! central has had a bundle from it and before it has had a receipt: a
//! device that trusts no central key yet learns it from its first
//! assignments file that assigns it anything (trust on first use, as from
//! its first receipt; pin the key at set-up to rule that out; a file with
//! no work changes nothing on such a device), and central, which does not know
//! the key of a device it has had nothing from (unless enrolled), names
//! the device by its id only (`device_public_key` empty).
//!
//! The request a device sends for it ([`AssignmentsRequest`]) is also how
//! central learns what the device has started: per assignment, how many
//! interviews exist on the device (drafts and finalized) and how many are
//! finalized. That is the smallest honest signal: counts the device can
//! compute from its own store, no answers, nothing central could not
//! already see once the responses arrive.

use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use crate::bundle::{hex, unhex};
use crate::store::{Store, StoreError};

pub const ASSIGNMENTS_FORMAT: &str = "enumera-assignments/1";
const ASSIGNMENTS_CONTEXT: &[u8] = b"enumera-assignments/1\n";
/// Largest assignments file read.
pub const MAX_ASSIGNMENTS: usize = 64 << 20;

/// The work central gives one device, at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentsStatement {
    pub format: String,
    /// Ed25519 public key of central (hex).
    pub central_public_key: String,
    pub device_id: String,
    pub device_public_key: String,
    /// The enumerator the device said carries it, whose assignments are
    /// included too.
    #[serde(default)]
    pub enumerator: Option<String>,
    pub issued_at: String,
    /// True when central assigns participants: the device then keeps the
    /// roster rows of its assigned participants only (and of participants
    /// of its own unsent work) and drops the others it got from a roster.
    pub participants_limited: bool,
    pub assignments: Vec<AssignedWork>,
    /// The roster rows of the participants named in `assignments`.
    pub participants: Vec<RosterRow>,
}

/// One assignment as the device receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedWork {
    pub assignment_id: String,
    pub form_id: String,
    #[serde(default)]
    pub round: Option<i64>,
    /// The participant to interview; `None` for a form without a roster.
    #[serde(default)]
    pub participant_id: Option<String>,
    /// How many interviews, for a form without a roster (`None`: open).
    #[serde(default)]
    pub quantity: Option<u32>,
    #[serde(default)]
    pub district: Option<String>,
    /// Given to this device, or to its enumerator.
    #[serde(default)]
    pub device_id: Option<String>,
    #[serde(default)]
    pub enumerator: Option<String>,
    pub assigned_at: String,
}

/// A participant's roster row, as in a roster file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterRow {
    pub id: String,
    #[serde(default)]
    pub display: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub personal: std::collections::BTreeMap<String, String>,
}

/// What a device sends when it asks for its assignments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentsRequest {
    /// Who carries the device (its enumerator id), if set.
    #[serde(default)]
    pub enumerator: Option<String>,
    /// What the device has done of its current assignments.
    #[serde(default)]
    pub progress: Vec<AssignmentProgress>,
}

/// What a device has done of one assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentProgress {
    pub assignment_id: String,
    /// Interviews on the device for it: drafts, finalized and sent.
    pub started: u32,
    /// Of those, finalized (or sent).
    pub finalized: u32,
}

/// A statement with its signed file bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentsFile {
    pub statement: AssignmentsStatement,
    pub file: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FileJson {
    format: String,
    assignments: String,
    signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AssignmentsError {
    #[error("not an Enumera assignments file: {reason}")]
    Malformed { reason: String },
    #[error(
        "bad signature: the assignments file was not signed by the central key it names; it \
         was altered or forged, and nothing was applied"
    )]
    BadSignature,
    #[error(
        "the assignments file is signed by central key {found}, but this device trusts central \
         key {trusted}: it was not applied"
    )]
    UntrustedCentral { trusted: String, found: String },
    #[error(
        "the assignments are for device {found}, not this device ({expected}); nothing was \
         applied"
    )]
    OtherDevice { expected: String, found: String },
    #[error(
        "central knows device {device_id} by another key ({found}), not this device's \
         ({expected}): it was enrolled with another key, or another tablet uses this id; ask the \
         operator (`enumera central status`); nothing was applied"
    )]
    OtherKey { device_id: String, expected: String, found: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AssignmentsStatement {
    /// Signs with central's Ed25519 seed.
    pub fn sign(self, central_seed: &[u8; 32]) -> AssignmentsFile {
        let key = SigningKey::from_bytes(central_seed);
        let mut statement = self;
        statement.format = ASSIGNMENTS_FORMAT.into();
        statement.central_public_key = hex(key.verifying_key().as_bytes());
        // Plain data with string keys: serializing cannot fail.
        let body = serde_json::to_string(&statement).unwrap_or_default();
        let file = FileJson {
            format: ASSIGNMENTS_FORMAT.into(),
            signature: hex(&key.sign(&message(&body)).to_bytes()),
            assignments: body,
        };
        AssignmentsFile { statement, file: serde_json::to_vec(&file).unwrap_or_default() }
    }

    /// Reads an assignments file and checks its signature against the
    /// central key it names (whether that key is trusted is
    /// [`apply_assignments`]'s call).
    pub fn verify_file(bytes: &[u8]) -> Result<AssignmentsStatement, AssignmentsError> {
        let malformed = |reason: String| AssignmentsError::Malformed { reason };
        if bytes.len() > MAX_ASSIGNMENTS {
            return Err(malformed(format!("{} bytes, over {MAX_ASSIGNMENTS}", bytes.len())));
        }
        let file: FileJson = serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        if file.format != ASSIGNMENTS_FORMAT {
            return Err(malformed(format!("unknown format {:?}", file.format)));
        }
        let statement: AssignmentsStatement =
            serde_json::from_str(&file.assignments).map_err(|e| malformed(e.to_string()))?;
        let key: [u8; 32] = unhex(&statement.central_public_key)
            .ok_or_else(|| malformed("central_public_key is not 64 hex digits".into()))?;
        let signature: [u8; 64] = unhex(&file.signature)
            .ok_or_else(|| malformed("signature is not 128 hex digits".into()))?;
        if !crate::store::verify_signature(&key, &message(&file.assignments), &signature) {
            return Err(AssignmentsError::BadSignature);
        }
        if statement.format != ASSIGNMENTS_FORMAT {
            return Err(malformed(format!("unknown format {:?}", statement.format)));
        }
        Ok(statement)
    }
}

fn message(body: &str) -> Vec<u8> {
    let mut m = ASSIGNMENTS_CONTEXT.to_vec();
    m.extend_from_slice(body.as_bytes());
    m
}

/// What applying an assignments file did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyAssignmentsReport {
    /// Assignments the device now holds.
    pub assignments: usize,
    /// Assignments new since the last file.
    pub new: Vec<String>,
    /// Assignments the last file had and this one has not (revoked or
    /// reassigned to another device).
    pub ended: Vec<String>,
    /// Roster rows added or changed.
    pub participants_updated: usize,
    /// Roster rows from central removed: their participants are no longer
    /// assigned here.
    pub participants_removed: Vec<String>,
    /// Roster rows kept although no longer assigned: this device holds a
    /// draft or an unsent response for them.
    pub participants_kept: Vec<String>,
    /// True when the file was older than the one applied before: nothing
    /// changed.
    pub stale: bool,
    /// True when this device trusted no central key and learned it from
    /// this file (trust on first use).
    pub central_key_learned: bool,
}

/// Verifies an assignments file and applies it in one transaction: the
/// device's assignments become the statement's, the participants' roster
/// rows are added or updated, and (when central limits participants) the
/// roster rows of participants no longer assigned here are removed, except
/// those of participants named by a draft or an unsent response on this
/// device (docs/FORMAT.md, "Assignments").
pub fn apply_assignments(
    store: &mut Store,
    file: &[u8],
) -> Result<ApplyAssignmentsReport, AssignmentsError> {
    let statement = AssignmentsStatement::verify_file(file)?;
    let device = store.device()?;
    if statement.device_id != device.device_id {
        return Err(AssignmentsError::OtherDevice {
            expected: device.device_id,
            found: statement.device_id,
        });
    }
    // Empty: central has had nothing from this device yet (module docs).
    let key = hex(&device.public_key);
    if !statement.device_public_key.is_empty() && statement.device_public_key != key {
        return Err(AssignmentsError::OtherKey {
            device_id: device.device_id,
            expected: key,
            found: statement.device_public_key,
        });
    }
    let mut learned = false;
    match store.central_trust()? {
        Some(trusted) if hex(&trusted.key) != statement.central_public_key => {
            return Err(AssignmentsError::UntrustedCentral {
                trusted: hex(&trusted.key),
                found: statement.central_public_key,
            });
        }
        Some(_) => {}
        // Nothing assigned yet: nothing to learn the key for, nothing to
        // change (the first receipt may teach the key instead).
        None if statement.assignments.is_empty() => {
            return Ok(ApplyAssignmentsReport::default());
        }
        None => {
            let key: [u8; 32] = unhex(&statement.central_public_key).ok_or_else(|| {
                AssignmentsError::Malformed { reason: "central_public_key is not hex".into() }
            })?;
            learned = store.learn_central_key(&key)?;
        }
    }
    let mut report = store.replace_assignments(&statement)?;
    report.central_key_learned = learned;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::ready_store;
    use crate::store::{NewResponse, Payload};

    const CENTRAL: [u8; 32] = [3; 32];

    fn work(id: &str, participant: Option<&str>) -> AssignedWork {
        AssignedWork {
            assignment_id: id.into(),
            form_id: "f".into(),
            round: Some(1),
            participant_id: participant.map(str::to_string),
            quantity: None,
            district: None,
            device_id: None,
            enumerator: None,
            assigned_at: "2026-12-01T09:00:00Z".into(),
        }
    }

    fn row(id: &str) -> RosterRow {
        RosterRow {
            id: id.into(),
            display: [("district".to_string(), "Beira".to_string())].into(),
            personal: [("name".to_string(), format!("Name of {id}"))].into(),
        }
    }

    fn statement(store: &Store, at: &str, ids: &[&str]) -> AssignmentsStatement {
        let device = store.device().unwrap();
        AssignmentsStatement {
            format: ASSIGNMENTS_FORMAT.into(),
            central_public_key: String::new(),
            device_id: device.device_id,
            device_public_key: hex(&device.public_key),
            enumerator: None,
            issued_at: at.into(),
            participants_limited: true,
            assignments: ids.iter().map(|p| work(&format!("a-{p}"), Some(p))).collect(),
            participants: ids.iter().map(|p| row(p)).collect(),
        }
    }

    #[test]
    fn only_a_file_signed_by_the_trusted_central_for_this_device_applies() {
        let (_d, mut store, _key) = ready_store(&["a"]);
        let good = statement(&store, "2026-12-01T10:00:00Z", &["P1"]).sign(&CENTRAL);
        // A file for another device teaches nothing, not even the key.
        let mut other = statement(&store, "2026-12-01T10:00:00Z", &["P1"]);
        other.device_id = "someone-else".into();
        assert!(matches!(
            apply_assignments(&mut store, &other.clone().sign(&CENTRAL).file),
            Err(AssignmentsError::OtherDevice { .. })
        ));
        assert!(store.central_trust().unwrap().is_none());
        // A fresh tablet learns central's key from its first file with work
        // (an empty one changes nothing).
        let mut empty = statement(&store, "2026-12-01T08:00:00Z", &[]);
        empty.device_public_key = String::new();
        let report = apply_assignments(&mut store, &empty.sign(&CENTRAL).file).unwrap();
        assert!(!report.central_key_learned && store.central_trust().unwrap().is_none());
        let mut first = statement(&store, "2026-12-01T09:00:00Z", &["P0"]);
        first.device_public_key = String::new();
        let report = apply_assignments(&mut store, &first.sign(&CENTRAL).file).unwrap();
        assert!(report.central_key_learned);
        let forged = statement(&store, "2026-12-01T10:00:00Z", &["P1"]).sign(&[4; 32]);
        assert!(matches!(
            apply_assignments(&mut store, &forged.file),
            Err(AssignmentsError::UntrustedCentral { .. })
        ));
        let text = String::from_utf8(good.file.clone()).unwrap().replace("P1", "P2");
        assert!(matches!(
            apply_assignments(&mut store, text.as_bytes()),
            Err(AssignmentsError::BadSignature)
        ));
        assert_eq!(store.assignments().unwrap()[0].work.assignment_id, "a-P0");
        let report = apply_assignments(&mut store, &good.file).unwrap();
        assert_eq!(report.new, ["a-P1"]);
        assert_eq!(store.assignments().unwrap()[0].work.participant_id.as_deref(), Some("P1"));
        assert_eq!(store.participant("P1").unwrap().personal["name"], "Name of P1");
    }

    #[test]
    fn a_reassignment_removes_the_row_unless_unsent_work_names_it() {
        let (_d, mut store, key) = ready_store(&["a"]);
        store.pin_central_key(&crate::bundle::receipt::public_key_of(&CENTRAL)).unwrap();
        let first = statement(&store, "2026-12-01T10:00:00Z", &["P1", "P2", "P3"]);
        apply_assignments(&mut store, &first.clone().sign(&CENTRAL).file).unwrap();
        // A draft for P2 on this device.
        let mut new = NewResponse::new(key.clone());
        new.participant_id = Some("P2".into());
        new.round = Some(1);
        let draft = store.create_draft(&new).unwrap().instance_id;
        let progress = store.assignment_progress().unwrap();
        let p2 = progress.iter().find(|p| p.assignment_id == "a-P2").unwrap();
        assert_eq!((p2.started, p2.finalized), (1, 0));

        // P2 and P3 go to another device.
        let second = statement(&store, "2026-12-02T10:00:00Z", &["P1"]);
        let report = apply_assignments(&mut store, &second.sign(&CENTRAL).file).unwrap();
        assert_eq!(report.ended, ["a-P2", "a-P3"]);
        assert_eq!(report.participants_removed, ["P3"]);
        assert_eq!(report.participants_kept, ["P2"]);
        assert!(store.participant("P3").is_err());
        assert!(store.participant("P2").is_ok());

        // Once the draft is finalized and acknowledged it would go; an old
        // file arriving late changes nothing.
        store
            .finalize(&draft, Payload::Plain { xml: "<data/>".into(), json: "{}".into() })
            .unwrap();
        let report = apply_assignments(&mut store, &first.sign(&CENTRAL).file).unwrap();
        assert!(report.stale);
        assert_eq!(store.assignments().unwrap().len(), 1);
    }
}
