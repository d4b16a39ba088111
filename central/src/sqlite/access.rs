//! Device tokens and published rosters in SQLite (schema version 2).

use rusqlite::{OptionalExtension, params};

use enumera_core::remote::api::RosterListing;

use super::SqliteCentral;
use crate::error::CentralError;
use crate::now;

impl SqliteCentral {
    pub(super) fn add_token_impl(
        &mut self,
        device_id: &str,
        token_sha256: &[u8; 32],
    ) -> Result<(), CentralError> {
        self.conn
            .execute(
                "INSERT INTO device_tokens (token_sha256, device_id, created_at) VALUES (?1, ?2, ?3)",
                params![&token_sha256[..], device_id, now()],
            )
            .map(|_| ())
            .map_err(self.err(format!("saving a token for device {device_id}")))
    }

    pub(super) fn token_device_impl(
        &self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<String>, CentralError> {
        self.conn
            .prepare_cached("SELECT device_id FROM device_tokens WHERE token_sha256 = ?1")
            .and_then(|mut s| s.query_row([&token_sha256[..]], |r| r.get(0)).optional())
            .map_err(self.err("looking up a token"))
    }

    pub(super) fn revoke_tokens_impl(&mut self, device_id: &str) -> Result<usize, CentralError> {
        self.conn
            .execute("DELETE FROM device_tokens WHERE device_id = ?1", [device_id])
            .map_err(self.err(format!("revoking the tokens of device {device_id}")))
    }

    pub(super) fn publish_roster_impl(
        &mut self,
        name: &str,
        json: &[u8],
        participants: u64,
    ) -> Result<bool, CentralError> {
        let sha256 = enumera_core::bundle::hex(&<sha2::Sha256 as sha2::Digest>::digest(json));
        let held: Option<String> = self
            .conn
            .query_row("SELECT sha256 FROM rosters WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(self.err(format!("reading roster {name}")))?;
        if held.as_deref() == Some(sha256.as_str()) {
            return Ok(false);
        }
        self.conn
            .execute(
                "INSERT INTO rosters (name, json, sha256, participants, published_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (name) DO UPDATE SET json = excluded.json, sha256 = excluded.sha256,
                   participants = excluded.participants, published_at = excluded.published_at",
                params![name, json, sha256, participants as i64, now()],
            )
            .map_err(self.err(format!("publishing roster {name}")))?;
        Ok(true)
    }

    pub(super) fn rosters_impl(&self) -> Result<Vec<RosterListing>, CentralError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, sha256, participants, published_at FROM rosters ORDER BY name",
            )
            .map_err(self.err("listing rosters"))?;
        stmt.query_map([], |r| {
            Ok(RosterListing {
                name: r.get(0)?,
                sha256: r.get(1)?,
                participants: r.get::<_, i64>(2)?.max(0) as u64,
                published_at: r.get(3)?,
            })
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(self.err("listing rosters"))
    }

    pub(super) fn roster_json_impl(&self, name: &str) -> Result<Option<Vec<u8>>, CentralError> {
        self.conn
            .query_row("SELECT json FROM rosters WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(self.err(format!("reading roster {name}")))
    }
}
