//! What the device remembers about central: its public key, learned from
//! the first receipt or set at enrolment, against which every later receipt
//! is checked.

use rusqlite::{OptionalExtension, params};

use super::Store;
use super::error::Result;

const CENTRAL_KEY: &str = "sync.central_public_key";

impl Store {
    /// Central's Ed25519 public key, once known.
    pub fn central_key(&self) -> Result<Option<[u8; 32]>> {
        let hex: Option<String> = self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [CENTRAL_KEY], |r| r.get(0))
            .optional()
            .map_err(self.err("reading central's key"))?;
        Ok(hex.and_then(|h| crate::bundle::unhex(&h)))
    }

    /// Records central's public key (replacing one recorded before: an
    /// explicit enrolment step, not something a receipt can do).
    pub fn set_central_key(&mut self, key: &[u8; 32]) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![CENTRAL_KEY, crate::bundle::hex(key)],
            )
            .map_err(self.err("saving central's key"))?;
        Ok(())
    }
}
