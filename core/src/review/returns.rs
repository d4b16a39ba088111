//! Returns: central's signed statement, for one device, of the responses
//! it made that a reviewer sent back, with the comments at their questions.
//!
//! File (docs/FORMAT.md, "Returns"): compact JSON
//! `{"format":"enumera-returns/1","returns":BODY,"signature":HEX}`, BODY
//! the compact JSON of [`ReturnsStatement`], the Ed25519 signature by
//! central's key over `enumera-returns/1\n` followed by BODY's bytes. It
//! travels like a receipt: in the reply to `GET /v1/returns`, or as a file
//! (`enumera central returns --device ID -o F`, `enumera device return F`).
//!
//! A device applies it ([`apply_returns`]) only when the signature
//! verifies, the key is the central key the device trusts (pinned, or
//! learned from a receipt: never from a return), the statement names this
//! device's id and key, and each return names one of this device's own
//! outbox entries (sequence number, instance id and entry hash): a return
//! cannot reopen another device's response, nor a response the device did
//! not make. Returns are only ever added (a rejected version stays
//! rejected), so an old statement applied late changes nothing.

use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use super::Comment;
use crate::bundle::{hex, unhex};
use crate::store::{Store, StoreError};

pub const RETURNS_FORMAT: &str = "enumera-returns/1";
const RETURNS_CONTEXT: &[u8] = b"enumera-returns/1\n";
/// Largest returns file read.
pub const MAX_RETURNS: usize = 64 << 20;

/// Everything central has returned to one device and the device has not
/// yet corrected (at central's last look).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnsStatement {
    pub format: String,
    /// Ed25519 public key of central (hex).
    pub central_public_key: String,
    pub device_id: String,
    /// The device key the returned responses were signed with (hex).
    pub device_public_key: String,
    pub issued_at: String,
    pub returns: Vec<ReturnedResponse>,
}

/// One returned version, as the device made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedResponse {
    pub instance_id: String,
    /// The device's own outbox entry the version came in.
    pub seq: u64,
    pub entry_hash: String,
    pub form_id: String,
    #[serde(default)]
    pub participant_id: Option<String>,
    #[serde(default)]
    pub round: Option<i64>,
    /// A sealed response: central cannot read it, so the return carries
    /// only the comments (docs/FORMAT.md, "Returns of sealed responses").
    pub sealed: bool,
    /// The reviewer's rejection: its action id, who, when.
    pub action_id: String,
    pub reviewer: String,
    pub returned_at: String,
    /// Every comment made on this version, in the order they were made:
    /// the rejection's and any made on it after.
    pub comments: Vec<Comment>,
}

/// A statement with its signed file bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnsFile {
    pub statement: ReturnsStatement,
    pub file: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FileJson {
    format: String,
    returns: String,
    signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReturnError {
    #[error("not an Enumera returns file: {reason}")]
    Malformed { reason: String },
    #[error(
        "bad signature: the returns file was not signed by the central key it names; it was \
         altered or forged, and nothing was applied"
    )]
    BadSignature,
    #[error(
        "the returns file is signed by central key {found}, but this device trusts central key \
         {trusted}: it was not applied (a return from another central?)"
    )]
    UntrustedCentral { trusted: String, found: String },
    #[error(
        "this device does not know central's key yet, so it cannot check who returned these \
         responses: pin it (`enumera device --db DB trust --central-key KEY`, \
         `DeviceStore.trustCentral`) or sync once; nothing was applied"
    )]
    NoCentralKey,
    #[error(
        "the returns are for device {found}, not this device ({expected}); nothing was applied"
    )]
    OtherDevice { expected: String, found: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReturnsStatement {
    /// Signs with central's Ed25519 seed.
    pub fn sign(self, central_seed: &[u8; 32]) -> ReturnsFile {
        let key = SigningKey::from_bytes(central_seed);
        let mut statement = self;
        statement.format = RETURNS_FORMAT.into();
        statement.central_public_key = hex(key.verifying_key().as_bytes());
        // Plain data with string keys: serializing cannot fail.
        let body = serde_json::to_string(&statement).unwrap_or_default();
        let file = FileJson {
            format: RETURNS_FORMAT.into(),
            signature: hex(&key.sign(&message(&body)).to_bytes()),
            returns: body,
        };
        ReturnsFile { statement, file: serde_json::to_vec(&file).unwrap_or_default() }
    }

    /// Reads a returns file and checks its signature against the central key
    /// it names (whether that key is trusted is [`apply_returns`]'s call).
    pub fn verify_file(bytes: &[u8]) -> Result<ReturnsStatement, ReturnError> {
        let malformed = |reason: String| ReturnError::Malformed { reason };
        if bytes.len() > MAX_RETURNS {
            return Err(malformed(format!("{} bytes, over {MAX_RETURNS}", bytes.len())));
        }
        let file: FileJson = serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        if file.format != RETURNS_FORMAT {
            return Err(malformed(format!("unknown format {:?}", file.format)));
        }
        let statement: ReturnsStatement =
            serde_json::from_str(&file.returns).map_err(|e| malformed(e.to_string()))?;
        let key: [u8; 32] = unhex(&statement.central_public_key)
            .ok_or_else(|| malformed("central_public_key is not 64 hex digits".into()))?;
        let signature: [u8; 64] = unhex(&file.signature)
            .ok_or_else(|| malformed("signature is not 128 hex digits".into()))?;
        if !crate::store::verify_signature(&key, &message(&file.returns), &signature) {
            return Err(ReturnError::BadSignature);
        }
        if statement.format != RETURNS_FORMAT {
            return Err(malformed(format!("unknown format {:?}", statement.format)));
        }
        Ok(statement)
    }
}

fn message(body: &str) -> Vec<u8> {
    let mut m = RETURNS_CONTEXT.to_vec();
    m.extend_from_slice(body.as_bytes());
    m
}

/// What applying a returns file did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReturnsReport {
    /// Returns newly recorded (instance ids of the returned versions).
    pub new: Vec<String>,
    /// Returns already known whose comments grew.
    pub updated: Vec<String>,
    /// Returns that name no outbox entry of this device with that sequence
    /// number, instance id and entry hash: refused, nothing recorded.
    pub not_ours: Vec<String>,
}

/// Verifies a returns file and records the returns it carries, in one
/// transaction. Refused whole when the signature is bad, the key is not the
/// central key this device trusts (or it trusts none yet), or the file is
/// for another device; a return naming an outbox entry that is not this
/// device's is left out and reported.
pub fn apply_returns(store: &mut Store, file: &[u8]) -> Result<ApplyReturnsReport, ReturnError> {
    let statement = ReturnsStatement::verify_file(file)?;
    let trusted = store.central_trust()?.ok_or(ReturnError::NoCentralKey)?;
    if hex(&trusted.key) != statement.central_public_key {
        return Err(ReturnError::UntrustedCentral {
            trusted: hex(&trusted.key),
            found: statement.central_public_key,
        });
    }
    let device = store.device()?;
    if statement.device_id != device.device_id
        || statement.device_public_key != hex(&device.public_key)
    {
        return Err(ReturnError::OtherDevice {
            expected: device.device_id,
            found: statement.device_id,
        });
    }
    Ok(store.record_returns(&statement.issued_at, &statement.returns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::ready_store;
    use crate::store::{NewResponse, Payload};

    const CENTRAL: [u8; 32] = [3; 32];

    fn statement(store: &Store, id: &str) -> ReturnsStatement {
        let device = store.device().unwrap();
        let e = store.outbox_entry(id).unwrap().unwrap();
        ReturnsStatement {
            format: RETURNS_FORMAT.into(),
            central_public_key: String::new(),
            device_id: device.device_id,
            device_public_key: hex(&device.public_key),
            issued_at: "2026-12-01T10:00:00Z".into(),
            returns: vec![ReturnedResponse {
                instance_id: id.into(),
                seq: e.seq,
                entry_hash: e.entry_hash,
                form_id: "f".into(),
                participant_id: None,
                round: None,
                sealed: false,
                action_id: "a1".into(),
                reviewer: "Ana".into(),
                returned_at: "2026-12-01T10:00:00Z".into(),
                comments: vec![Comment::at("/data/a", "check a")],
            }],
        }
    }

    #[test]
    fn only_a_return_signed_by_the_trusted_central_for_this_device_applies() {
        let (_d, mut store, key) = ready_store(&["a"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        store.finalize(&id, Payload::Plain { xml: "<data/>".into(), json: "{}".into() }).unwrap();
        let good = statement(&store, &id).sign(&CENTRAL);
        // No central key known yet: nothing applied.
        assert!(matches!(apply_returns(&mut store, &good.file), Err(ReturnError::NoCentralKey)));
        store.pin_central_key(&crate::bundle::receipt::public_key_of(&CENTRAL)).unwrap();
        // Forged: signed by another key (a key of its own, named in the file).
        let forged = statement(&store, &id).sign(&[4; 32]);
        assert!(matches!(
            apply_returns(&mut store, &forged.file),
            Err(ReturnError::UntrustedCentral { .. })
        ));
        // Altered after signing.
        let text = String::from_utf8(good.file.clone()).unwrap().replace("check a", "check b");
        assert!(matches!(
            apply_returns(&mut store, text.as_bytes()),
            Err(ReturnError::BadSignature)
        ));
        // For another device.
        let mut other = statement(&store, &id);
        other.device_id = "someone-else".into();
        assert!(matches!(
            apply_returns(&mut store, &other.sign(&CENTRAL).file),
            Err(ReturnError::OtherDevice { .. })
        ));
        assert!(store.returned_responses().unwrap().is_empty());
        assert_eq!(apply_returns(&mut store, &good.file).unwrap().new, vec![id.clone()]);
        assert_eq!(
            store.returned_responses().unwrap()[0].comments_at("/data/a")[0].text,
            "check a"
        );
    }
}
