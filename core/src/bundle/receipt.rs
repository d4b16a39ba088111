//! Receipts: central's signed statement of which outbox entries of a device
//! it holds. Applying one on the device is the only way a response becomes
//! `sent` (and so, later, purgeable).
//!
//! File (see docs/FORMAT.md): compact JSON
//! `{"format":"enumera-receipt/1","receipt":BODY,"signature":HEX}`, where BODY
//! is the compact JSON of [`Receipt`] as a string and the Ed25519 signature
//! (central's key) covers `enumera-receipt/1\n` followed by BODY's bytes.
//!
//! Trust (issue 15, finding 9; `store/sync_state.rs`): an operator pins
//! central's key at set-up ([`Store::pin_central_key`]); without that, the
//! device learns it from the first receipt it applies (trust on first use).
//! Either way a receipt signed by any other key is refused. A learned key
//! marks responses sent, but only a receipt from the pinned key lets a
//! response be purged, so a receipt from a throwaway central costs nothing.

use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use super::{hex, unhex};
use crate::store::{MarkSentReport, Store, StoreError};

pub const RECEIPT_FORMAT: &str = "enumera-receipt/1";
const RECEIPT_CONTEXT: &[u8] = b"enumera-receipt/1\n";
/// Largest receipt file read (a million entries fit).
pub const MAX_RECEIPT: usize = 256 << 20;

/// What central holds for one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub format: String,
    /// Ed25519 public key of central (hex).
    pub central_public_key: String,
    pub device_id: String,
    /// The device key the held bundles were signed with (hex).
    pub device_public_key: String,
    pub issued_at: String,
    /// Every entry from 1 to this one is held: the device's chain up to an
    /// entry with this hash (each entry hash covers the one before, so one
    /// hash stands for the whole prefix). Keeps a receipt the size of what
    /// is new rather than of the device's history. Absent in older receipts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through: Option<ReceiptThrough>,
    /// Every other entry held, in sequence order (all of them when there is
    /// no `through`).
    pub entries: Vec<ReceiptEntry>,
}

/// The end of the part of a device's chain central holds whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptThrough {
    pub seq: u64,
    pub entry_hash: String,
}

/// One outbox entry central holds: the device marks it sent only when its
/// own entry has this sequence number, instance id and entry hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReceiptEntry {
    pub seq: u64,
    pub instance_id: String,
    pub entry_hash: String,
}

/// A receipt with its signed file bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedReceipt {
    pub receipt: Receipt,
    pub file: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ReceiptFile {
    format: String,
    receipt: String,
    signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("not an Enumera receipt: {reason}")]
    Malformed { reason: String },
    #[error("receipt is {size} bytes, over the limit of {MAX_RECEIPT}")]
    TooLarge { size: usize },
    #[error(
        "bad signature: the receipt was not signed by the central key it names; it was altered or forged"
    )]
    BadSignature,
    #[error(
        "the receipt is signed by central key {found}, but this device trusts central key \
         {trusted} ({}); it was not applied (a receipt from another central server?{})",
        if *pinned { "pinned at set-up" } else { "learned from its first receipt" },
        if *pinned { "" } else {
            " if this one is the real central, pin its key: `enumera device --db DB trust \
             --central-key KEY` with the key `enumera central init` printed"
        }
    )]
    UntrustedCentral { trusted: String, found: String, pinned: bool },
    #[error("the receipt is for device {found}, not this device ({expected}); it was not applied")]
    OtherDevice { expected: String, found: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Receipt {
    /// Signs the receipt with central's Ed25519 seed; returns the file.
    pub fn sign(self, central_seed: &[u8; 32]) -> SignedReceipt {
        let key = SigningKey::from_bytes(central_seed);
        let mut receipt = self;
        receipt.central_public_key = hex(key.verifying_key().as_bytes());
        // Plain data with string keys: serializing cannot fail.
        let body = serde_json::to_string(&receipt).unwrap_or_default();
        let mut message = RECEIPT_CONTEXT.to_vec();
        message.extend_from_slice(body.as_bytes());
        let file = ReceiptFile {
            format: RECEIPT_FORMAT.into(),
            receipt: body,
            signature: hex(&key.sign(&message).to_bytes()),
        };
        SignedReceipt { receipt, file: serde_json::to_vec(&file).unwrap_or_default() }
    }

    /// Reads a receipt file and checks its signature against the central
    /// key it names. Whether that key is trusted is the caller's decision
    /// ([`apply_receipt`] decides for a device).
    pub fn verify_file(bytes: &[u8]) -> Result<Receipt, ReceiptError> {
        if bytes.len() > MAX_RECEIPT {
            return Err(ReceiptError::TooLarge { size: bytes.len() });
        }
        let malformed = |reason: String| ReceiptError::Malformed { reason };
        let file: ReceiptFile =
            serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        if file.format != RECEIPT_FORMAT {
            return Err(malformed(format!("unknown receipt format {:?}", file.format)));
        }
        let receipt: Receipt =
            serde_json::from_str(&file.receipt).map_err(|e| malformed(e.to_string()))?;
        let key: [u8; 32] = unhex(&receipt.central_public_key)
            .ok_or_else(|| malformed("central_public_key is not 64 hex digits".into()))?;
        let signature: [u8; 64] = unhex(&file.signature)
            .ok_or_else(|| malformed("signature is not 128 hex digits".into()))?;
        let mut message = RECEIPT_CONTEXT.to_vec();
        message.extend_from_slice(file.receipt.as_bytes());
        if !crate::store::verify_signature(&key, &message, &signature) {
            return Err(ReceiptError::BadSignature);
        }
        if receipt.format != RECEIPT_FORMAT {
            return Err(malformed(format!("unknown receipt format {:?}", receipt.format)));
        }
        Ok(receipt)
    }
}

/// What applying a receipt did on the device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Sequence numbers newly marked sent.
    pub marked: Vec<u64>,
    /// Covered entries that were already sent.
    pub already_sent: Vec<u64>,
    /// Entries the receipt names that this device does not have with that
    /// instance id and entry hash: nothing was marked for them.
    pub not_matching: Vec<ReceiptEntry>,
    /// True when this receipt taught the device central's key (trust on
    /// first use: responses are marked sent, but purging them waits until
    /// an operator pins that key).
    pub central_key_learned: bool,
}

/// Verifies a receipt file and marks as sent exactly the outbox entries it
/// covers (same sequence number, instance id and entry hash), in one
/// transaction. Refused whole when the signature is bad, the receipt is for
/// another device or device key, or it is signed by another central than the
/// one this device trusts.
pub fn apply_receipt(store: &mut Store, file: &[u8]) -> Result<ApplyReport, ReceiptError> {
    let receipt = Receipt::verify_file(file)?;
    let device = store.device()?;
    if receipt.device_id != device.device_id || receipt.device_public_key != hex(&device.public_key)
    {
        return Err(ReceiptError::OtherDevice {
            expected: device.device_id,
            found: receipt.device_id,
        });
    }
    let key: [u8; 32] = unhex(&receipt.central_public_key)
        .ok_or_else(|| ReceiptError::Malformed { reason: "central_public_key".into() })?;
    let mut learned = false;
    match store.central_trust()? {
        Some(trusted) if trusted.key != key => {
            return Err(ReceiptError::UntrustedCentral {
                trusted: hex(&trusted.key),
                found: receipt.central_public_key,
                pinned: trusted.pinned,
            });
        }
        Some(_) => {}
        None => learned = store.learn_central_key(&key)?,
    }
    let mut ours = std::collections::HashMap::new();
    for e in store.outbox(0, false)? {
        ours.insert(e.seq, e);
    }
    let mut covered = Vec::new();
    let mut not_matching = Vec::new();
    if let Some(through) = &receipt.through {
        match ours.get(&through.seq) {
            // Our entry there has that hash, so every entry before it is
            // ours too: each entry hash covers the previous one.
            Some(e) if e.entry_hash == through.entry_hash => covered.extend(
                ours.values()
                    .filter(|e| e.seq <= through.seq)
                    .map(|e| (e.seq, e.instance_id.clone())),
            ),
            found => not_matching.push(ReceiptEntry {
                seq: through.seq,
                instance_id: found.map(|e| e.instance_id.clone()).unwrap_or_default(),
                entry_hash: through.entry_hash.clone(),
            }),
        }
        covered.sort_unstable();
    }
    for r in &receipt.entries {
        match ours.get(&r.seq) {
            Some(e) if e.instance_id == r.instance_id && e.entry_hash == r.entry_hash => {
                covered.push((r.seq, r.instance_id.clone()))
            }
            _ => not_matching.push(r.clone()),
        }
    }
    let MarkSentReport { marked, already_sent, unknown } =
        store.mark_sent_by(Some(&key), &covered)?;
    // mark_sent re-checks each pair; anything it did not know is reported.
    for (seq, instance_id) in unknown {
        if let Some(r) =
            receipt.entries.iter().find(|r| r.seq == seq && r.instance_id == instance_id)
        {
            not_matching.push(r.clone());
        }
    }
    Ok(ApplyReport { marked, already_sent, not_matching, central_key_learned: learned })
}

/// The Ed25519 public key of a seed (for central's init).
pub fn public_key_of(seed: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(seed).verifying_key().to_bytes()
}
