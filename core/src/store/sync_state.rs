//! What the device remembers about central: its public key, against which
//! every receipt is checked, and whether an operator pinned it.
//!
//! Trust (issue 15, finding 9): a key is either *pinned* by an operator at
//! set-up ([`Store::pin_central_key`]: `enumera device init --central-key`,
//! `enumera device trust`, the apps' `DeviceStore.trustCentral`) or
//! *learned* from the first receipt the device applies (trust on first
//! use). Either way a receipt signed by another key is refused. A learned
//! key marks responses sent, so they stop being uploaded, but a response
//! leaves the device ([`Store::purge`]) only on a receipt from the pinned
//! key: a throwaway central's receipt can never cost data.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::error::{Result, StoreError};
use super::{Store, now};

pub(crate) const CENTRAL_KEY: &str = "sync.central_public_key";
pub(crate) const CENTRAL_KEY_PINNED: &str = "sync.central_key_pinned";

/// The central key this device checks receipts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CentralTrust {
    /// Ed25519 public key of central.
    #[serde(serialize_with = "hex_key")]
    pub key: [u8; 32],
    /// Set by an operator (true), or learned from the first receipt (false).
    pub pinned: bool,
}

fn hex_key<S: serde::Serializer>(b: &[u8; 32], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&crate::bundle::hex(b))
}

/// What pinning changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PinReport {
    /// The key the device trusted before, when it was another one.
    #[serde(serialize_with = "hex_opt")]
    pub replaced: Option<[u8; 32]>,
    /// Outbox entries acknowledged by another key, back in the outbox: they
    /// go to the pinned central at the next sync.
    pub reopened: Vec<u64>,
}

fn hex_opt<S: serde::Serializer>(
    b: &Option<[u8; 32]>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match b {
        Some(b) => s.serialize_str(&crate::bundle::hex(b)),
        None => s.serialize_none(),
    }
}

impl Store {
    /// Central's Ed25519 public key, once known (pinned or learned).
    pub fn central_key(&self) -> Result<Option<[u8; 32]>> {
        Ok(self.central_trust()?.map(|t| t.key))
    }

    /// The central key receipts are checked against, and whether it was
    /// pinned by an operator.
    pub fn central_trust(&self) -> Result<Option<CentralTrust>> {
        let read = |key: &str| -> Result<Option<String>> {
            self.conn
                .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(self.err("reading central's key"))
        };
        let Some(key) = read(CENTRAL_KEY)?.and_then(|h| crate::bundle::unhex(&h)) else {
            return Ok(None);
        };
        Ok(Some(CentralTrust { key, pinned: read(CENTRAL_KEY_PINNED)?.as_deref() == Some("1") }))
    }

    /// Learns central's key from a first receipt (trust on first use); does
    /// nothing when a key is already known. True when it learned it.
    pub(crate) fn learn_central_key(&mut self, key: &[u8; 32]) -> Result<bool> {
        self.conn
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![CENTRAL_KEY, crate::bundle::hex(key)],
            )
            .map(|n| n == 1)
            .map_err(self.err("saving central's key"))
    }

    /// Pins central's key (an operator's step at set-up, with the key
    /// `enumera central init` printed): from then on receipts signed by any
    /// other key are refused, and responses acknowledged by this key may be
    /// purged. Replacing another key puts back in the outbox every response
    /// that key acknowledged and the device still holds, so that they reach
    /// this central too. One transaction.
    pub fn pin_central_key(&mut self, key: &[u8; 32]) -> Result<PinReport> {
        let hex = crate::bundle::hex(key);
        let Store { conn, path, .. } = self;
        let map = |e| StoreError::sql(path, "pinning central's key", e);
        let tx = super::write_tx(conn, path, "pinning central's key")?;
        let before: Option<String> = tx
            .query_row("SELECT value FROM settings WHERE key = ?1", [CENTRAL_KEY], |r| r.get(0))
            .optional()
            .map_err(map)?;
        let replaced = before.filter(|b| *b != hex).and_then(|b| crate::bundle::unhex(&b));
        // Entries some other key acknowledged whose response is still here.
        let reopened: Vec<(u64, String)> = tx
            .prepare(
                "SELECT o.seq, o.instance_id FROM outbox o
                 JOIN responses r ON r.instance_id = o.instance_id AND r.state = 'sent'
                 WHERE o.sent_at IS NOT NULL AND o.sent_by IS NOT ?1 ORDER BY o.seq",
            )
            .and_then(|mut s| s.query_map([&hex], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(map)?;
        let at = now();
        for (seq, instance_id) in &reopened {
            tx.execute("UPDATE outbox SET sent_at = NULL, sent_by = NULL WHERE seq = ?1", [seq])
                .map_err(map)?;
            tx.execute(
                "UPDATE responses SET state = 'finalized', sent_at = NULL, updated_at = ?2
                 WHERE instance_id = ?1",
                params![instance_id, at],
            )
            .map_err(map)?;
        }
        for (k, v) in [(CENTRAL_KEY, hex.as_str()), (CENTRAL_KEY_PINNED, "1")] {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![k, v],
            )
            .map_err(map)?;
        }
        tx.commit().map_err(map)?;
        Ok(PinReport { replaced, reopened: reopened.into_iter().map(|(seq, _)| seq).collect() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::ready_store;
    use crate::store::{NewResponse, Payload, ResponseState};

    #[test]
    fn a_learned_key_is_kept_and_a_pinned_one_replaces_it_reopening_its_entries() {
        let (_d, mut store, key) = ready_store(&["a"]);
        assert_eq!(store.central_trust().unwrap(), None);
        assert!(store.learn_central_key(&[1; 32]).unwrap());
        assert!(!store.learn_central_key(&[2; 32]).unwrap(), "a learned key stays");
        assert_eq!(
            store.central_trust().unwrap(),
            Some(CentralTrust { key: [1; 32], pinned: false })
        );
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        let plain = Payload::Plain { xml: "<data/>".into(), json: "{}".into() };
        let e = store.finalize(&id, plain).unwrap();
        store.mark_sent(&[(e.seq, id.clone())]).unwrap();
        // Pinning the same key reopens nothing; another key reopens what the first acknowledged.
        let same = store.pin_central_key(&[1; 32]).unwrap();
        assert_eq!(same, PinReport::default());
        assert_eq!(
            store.central_trust().unwrap(),
            Some(CentralTrust { key: [1; 32], pinned: true })
        );
        let other = store.pin_central_key(&[3; 32]).unwrap();
        assert_eq!((other.replaced, other.reopened), (Some([1; 32]), vec![e.seq]));
        assert_eq!(store.response(&id).unwrap().state, ResponseState::Finalized);
        assert_eq!(store.outbox(0, true).unwrap().len(), 1);
        assert!(store.verify_outbox().unwrap().is_empty());
    }
}
