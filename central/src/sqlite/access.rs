//! Tokens with their roles (schema version 6) and published rosters in SQLite.

use rusqlite::{OptionalExtension, params};

use enumera_core::remote::api::RosterListing;

use super::SqliteCentral;
use crate::error::CentralError;
use crate::now;
use crate::roles::{Principal, Revoke, Role, Scope, TokenGrant, TokenListing, token_id};

impl SqliteCentral {
    pub(super) fn add_token_impl(
        &mut self,
        token_sha256: &[u8; 32],
        grant: &TokenGrant,
        public_key: Option<&[u8; 32]>,
    ) -> Result<(), CentralError> {
        self.conn
            .execute(
                "INSERT INTO tokens (token_sha256, role, subject, scope, public_key, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    &token_sha256[..],
                    grant.role.as_str(),
                    grant.subject,
                    grant.scope.to_json(),
                    public_key.map(|k| &k[..]),
                    now()
                ],
            )
            .map(|_| ())
            .map_err(self.err(format!("saving a {} token for {}", grant.role, grant.subject)))
    }

    pub(super) fn token_impl(
        &self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<Principal>, CentralError> {
        let row: Option<(String, String, String, Option<Vec<u8>>)> = self
            .conn
            .prepare_cached(
                "SELECT role, subject, scope, public_key FROM tokens
                 WHERE token_sha256 = ?1 AND revoked_at IS NULL",
            )
            .and_then(|mut s| {
                s.query_row([&token_sha256[..]], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
            })
            .map_err(self.err("looking up a token"))?;
        let Some((role, subject, scope, public_key)) = row else { return Ok(None) };
        // The schema's checks make these readable; a row that is not is
        // treated as no token rather than as a wider one.
        let (Some(role), Some(scope)) = (Role::parse(&role), Scope::from_json(&scope)) else {
            return Ok(None);
        };
        Ok(Some(Principal {
            role,
            subject,
            scope,
            token_id: token_id(token_sha256),
            public_key: public_key.and_then(|k| k.try_into().ok()),
        }))
    }

    pub(super) fn revoke_tokens_impl(&mut self, which: &Revoke) -> Result<usize, CentralError> {
        let at = now();
        let (sql, key, what) = match which {
            Revoke::Device(id) => (
                "UPDATE tokens SET revoked_at = ?1
                 WHERE role = 'device' AND subject = ?2 AND revoked_at IS NULL",
                id.clone(),
                format!("the tokens of device {id}"),
            ),
            Revoke::Subject(name) => (
                "UPDATE tokens SET revoked_at = ?1
                 WHERE role <> 'device' AND subject = ?2 AND revoked_at IS NULL",
                name.clone(),
                format!("the tokens of {name}"),
            ),
            Revoke::TokenId(id) => (
                "UPDATE tokens SET revoked_at = ?1
                 WHERE lower(hex(substr(token_sha256, 1, 8))) = lower(?2) AND revoked_at IS NULL",
                id.clone(),
                format!("token {id}"),
            ),
        };
        self.conn.execute(sql, params![at, key]).map_err(self.err(format!("revoking {what}")))
    }

    pub(super) fn tokens_impl(&self) -> Result<Vec<TokenListing>, CentralError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT token_sha256, role, subject, scope, created_at, revoked_at FROM tokens
                 ORDER BY created_at, subject",
            )
            .map_err(self.err("listing tokens"))?;
        let rows = stmt
            .query_map([], |r| {
                let hash: Vec<u8> = r.get(0)?;
                let (role, scope): (String, String) = (r.get(1)?, r.get(3)?);
                Ok(hash.try_into().ok().and_then(|hash: [u8; 32]| {
                    Some(TokenListing {
                        token_id: token_id(&hash),
                        role: Role::parse(&role)?,
                        subject: r.get(2).ok()?,
                        scope: Scope::from_json(&scope)?,
                        created_at: r.get(4).ok()?,
                        revoked_at: r.get(5).ok()?,
                    })
                }))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(self.err("listing tokens"))?;
        Ok(rows.into_iter().flatten().collect())
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
