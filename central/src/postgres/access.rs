//! Device tokens (kept hashed) and published rosters in PostgreSQL.

use enumera_core::remote::api::RosterListing;

use super::{Inner, i, u};
use crate::error::CentralError;
use crate::now;

impl Inner {
    pub(super) fn add_token_impl(
        &mut self,
        device_id: &str,
        token_sha256: &[u8; 32],
    ) -> Result<(), CentralError> {
        let map = self.err(format!("saving a token for device {device_id}"));
        self.client()
            .execute(
                "INSERT INTO device_tokens (token_sha256, device_id, created_at) VALUES ($1, $2, $3)",
                &[&&token_sha256[..], &device_id, &now()],
            )
            .map(|_| ())
            .map_err(map)
    }

    pub(super) fn token_device_impl(
        &mut self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<String>, CentralError> {
        let map = self.err("looking up a token");
        let s = self
            .stmt("SELECT device_id FROM device_tokens WHERE token_sha256 = $1")
            .map_err(map)?;
        let map = self.err("looking up a token");
        Ok(self.client().query_opt(&s, &[&&token_sha256[..]]).map_err(map)?.map(|r| r.get(0)))
    }

    pub(super) fn revoke_tokens_impl(&mut self, device_id: &str) -> Result<usize, CentralError> {
        let map = self.err(format!("revoking the tokens of device {device_id}"));
        self.client()
            .execute("DELETE FROM device_tokens WHERE device_id = $1", &[&device_id])
            .map(|n| n as usize)
            .map_err(map)
    }

    pub(super) fn publish_roster_impl(
        &mut self,
        name: &str,
        json: &[u8],
        participants: u64,
    ) -> Result<bool, CentralError> {
        let sha256 = enumera_core::bundle::hex(&<sha2::Sha256 as sha2::Digest>::digest(json));
        let map = self.err(format!("publishing roster {name}"));
        // One statement: replaced only when the content differs, so the
        // answer (new or not) holds even with another server publishing.
        let changed = self
            .client()
            .execute(
                "INSERT INTO rosters (name, json, sha256, participants, published_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (name) DO UPDATE SET json = excluded.json, sha256 = excluded.sha256,
                   participants = excluded.participants, published_at = excluded.published_at
                 WHERE rosters.sha256 <> excluded.sha256",
                &[&name, &json, &sha256, &i(participants), &now()],
            )
            .map_err(map)?;
        Ok(changed > 0)
    }

    pub(super) fn rosters_impl(&mut self) -> Result<Vec<RosterListing>, CentralError> {
        let map = self.err("listing rosters");
        Ok(self
            .client()
            .query(
                "SELECT name, sha256, participants, published_at FROM rosters ORDER BY name",
                &[],
            )
            .map_err(map)?
            .iter()
            .map(|r| RosterListing {
                name: r.get(0),
                sha256: r.get(1),
                participants: u(r.get(2)),
                published_at: r.get(3),
            })
            .collect())
    }

    pub(super) fn roster_json_impl(&mut self, name: &str) -> Result<Option<Vec<u8>>, CentralError> {
        let map = self.err(format!("reading roster {name}"));
        Ok(self
            .client()
            .query_opt("SELECT json FROM rosters WHERE name = $1", &[&name])
            .map_err(map)?
            .map(|r| r.get(0)))
    }
}
