//! The device's identity: an id, an Ed25519 key pair made at `init`, and who
//! carries it (the enumerator). Bundles are signed with this key.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::error::{Result, StoreError};
use super::{Store, now};

/// Who this device is. The secret key never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceIdentity {
    pub device_id: String,
    /// A name people recognise (the tablet's label).
    pub name: String,
    /// The enumerator's id, when given at init.
    pub enumerator_id: Option<String>,
    /// Ed25519 public key.
    #[serde(serialize_with = "hex_bytes")]
    pub public_key: [u8; 32],
    pub created_at: String,
}

impl DeviceIdentity {
    pub fn public_key_hex(&self) -> String {
        crate::instrument::canonical::hex(&self.public_key)
    }
}

fn hex_bytes<S: serde::Serializer>(b: &[u8; 32], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&crate::instrument::canonical::hex(b))
}

/// Checks an Ed25519 signature made by [`Store::sign`].
pub fn verify_signature(public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    key.verify(message, &Signature::from_bytes(signature)).is_ok()
}

impl Store {
    /// Makes the device's identity: a new device id and key pair. Refused
    /// when the device already has one (a key is never replaced silently).
    pub fn init_device(
        &mut self,
        name: &str,
        enumerator_id: Option<&str>,
    ) -> Result<DeviceIdentity> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| StoreError::Io {
            path: self.path.clone(),
            context: "drawing a random device key".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let key = SigningKey::from_bytes(&seed);
        let identity = DeviceIdentity {
            device_id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            enumerator_id: enumerator_id.map(str::to_string),
            public_key: key.verifying_key().to_bytes(),
            created_at: now(),
        };
        let Store { conn, path, .. } = self;
        let tx = super::write_tx(conn, path, "initializing the device")?;
        let existing: Option<String> = tx
            .query_row("SELECT device_id FROM device", [], |r| r.get(0))
            .optional()
            .map_err(|e| StoreError::sql(path, "reading the device identity", e))?;
        if let Some(device_id) = existing {
            return Err(StoreError::AlreadyInitialized { device_id });
        }
        tx.execute(
            "INSERT INTO device (id, device_id, name, enumerator_id, signing_seed, public_key, created_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                identity.device_id,
                identity.name,
                identity.enumerator_id,
                &seed[..],
                &identity.public_key[..],
                identity.created_at
            ],
        )
        .map_err(|e| StoreError::sql(path, "saving the device identity", e))?;
        tx.commit().map_err(|e| StoreError::sql(path, "saving the device identity", e))?;
        Ok(identity)
    }

    /// The device's identity, or [`StoreError::NotInitialized`].
    pub fn device(&self) -> Result<DeviceIdentity> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT device_id, name, enumerator_id, public_key, created_at FROM device",
            )
            .and_then(|mut s| {
                s.query_row([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, Vec<u8>>(3)?, r.get(4)?))
                })
                .optional()
            })
            .map_err(self.err("reading the device identity"))?;
        let (device_id, name, enumerator_id, key, created_at) =
            row.ok_or(StoreError::NotInitialized)?;
        let public_key = key.try_into().map_err(|_| StoreError::NotInitialized)?;
        Ok(DeviceIdentity { device_id, name, enumerator_id, public_key, created_at })
    }

    /// Changes who carries the device (a tablet handed to another enumerator);
    /// new responses are recorded with the new enumerator.
    pub fn set_enumerator(
        &mut self,
        name: Option<&str>,
        enumerator_id: Option<&str>,
    ) -> Result<DeviceIdentity> {
        let n = self
            .conn
            .execute(
                "UPDATE device SET name = coalesce(?1, name), enumerator_id = ?2",
                params![name, enumerator_id],
            )
            .map_err(self.err("changing the enumerator"))?;
        if n == 0 {
            return Err(StoreError::NotInitialized);
        }
        self.device()
    }

    /// The device's Ed25519 public key.
    pub fn public_key(&self) -> Result<[u8; 32]> {
        Ok(self.device()?.public_key)
    }

    /// Signs `message` with the device key (Ed25519, 64 bytes).
    pub fn sign(&self, message: &[u8]) -> Result<[u8; 64]> {
        let seed: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT signing_seed FROM device", [], |r| r.get(0))
            .optional()
            .map_err(self.err("reading the device key"))?;
        let seed: [u8; 32] = seed
            .ok_or(StoreError::NotInitialized)?
            .try_into()
            .map_err(|_| StoreError::NotInitialized)?;
        Ok(SigningKey::from_bytes(&seed).sign(message).to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_makes_a_key_that_signs() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("d.db")).unwrap();
        assert!(matches!(store.device(), Err(StoreError::NotInitialized)));
        assert!(matches!(store.sign(b"x"), Err(StoreError::NotInitialized)));
        let id = store.init_device("Tablet 3", Some("enum-7")).unwrap();
        assert_eq!(store.device().unwrap(), id);
        let sig = store.sign(b"manifest").unwrap();
        assert!(verify_signature(&id.public_key, b"manifest", &sig));
        assert!(!verify_signature(&id.public_key, b"manifesT", &sig));
        let err = store.init_device("again", None).unwrap_err();
        assert!(matches!(err, StoreError::AlreadyInitialized { .. }), "{err}");
        let changed = store.set_enumerator(None, Some("enum-8")).unwrap();
        assert_eq!(
            (changed.name.as_str(), changed.enumerator_id.as_deref()),
            ("Tablet 3", Some("enum-8"))
        );
        assert_eq!(changed.public_key, id.public_key);
        // The identity survives reopening.
        drop(store);
        let store = Store::open(dir.path().join("d.db")).unwrap();
        assert_eq!(store.device().unwrap().public_key, id.public_key);
    }

    #[test]
    fn two_devices_get_different_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Store::open(dir.path().join("a.db")).unwrap();
        let mut b = Store::open(dir.path().join("b.db")).unwrap();
        let ia = a.init_device("a", None).unwrap();
        let ib = b.init_device("b", None).unwrap();
        assert_ne!(ia.public_key, ib.public_key);
        assert_ne!(ia.device_id, ib.device_id);
    }
}
