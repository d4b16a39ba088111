//! Tokens with their roles (kept hashed) and published rosters in PostgreSQL.

use enumera_core::remote::api::RosterListing;

use super::{Inner, i, u};
use crate::error::CentralError;
use crate::now;
use crate::roles::{Principal, Revoke, Role, Scope, TokenGrant, TokenListing, token_id};

impl Inner {
    pub(super) fn add_token_impl(
        &mut self,
        token_sha256: &[u8; 32],
        grant: &TokenGrant,
        public_key: Option<&[u8; 32]>,
    ) -> Result<(), CentralError> {
        let map = self.err(format!("saving a {} token for {}", grant.role, grant.subject));
        self.client()
            .execute(
                "INSERT INTO tokens (token_sha256, role, subject, scope, public_key, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &&token_sha256[..],
                    &grant.role.as_str(),
                    &grant.subject,
                    &grant.scope.to_json(),
                    &public_key.map(|k| &k[..]),
                    &now(),
                ],
            )
            .map(|_| ())
            .map_err(map)
    }

    pub(super) fn token_impl(
        &mut self,
        token_sha256: &[u8; 32],
    ) -> Result<Option<Principal>, CentralError> {
        let map = self.err("looking up a token");
        let s = self
            .stmt(
                "SELECT role, subject, scope, public_key FROM tokens
                 WHERE token_sha256 = $1 AND revoked_at IS NULL",
            )
            .map_err(map)?;
        let map = self.err("looking up a token");
        let Some(row) = self.client().query_opt(&s, &[&&token_sha256[..]]).map_err(map)? else {
            return Ok(None);
        };
        let (role, subject, scope, public_key): (String, String, String, Option<Vec<u8>>) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        // As in SQLite: a row that does not read is no token, never a
        // wider one.
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
        let (sql, key, what) = match which {
            Revoke::Device(id) => (
                "UPDATE tokens SET revoked_at = $1
                 WHERE role = 'device' AND subject = $2 AND revoked_at IS NULL",
                id.clone(),
                format!("the tokens of device {id}"),
            ),
            Revoke::Subject(name) => (
                "UPDATE tokens SET revoked_at = $1
                 WHERE role <> 'device' AND subject = $2 AND revoked_at IS NULL",
                name.clone(),
                format!("the tokens of {name}"),
            ),
            Revoke::TokenId(id) => (
                "UPDATE tokens SET revoked_at = $1
                 WHERE encode(substring(token_sha256 FROM 1 FOR 8), 'hex') = lower($2)
                   AND revoked_at IS NULL",
                id.clone(),
                format!("token {id}"),
            ),
        };
        let map = self.err(format!("revoking {what}"));
        self.client().execute(sql, &[&now(), &key]).map(|n| n as usize).map_err(map)
    }

    pub(super) fn tokens_impl(&mut self) -> Result<Vec<TokenListing>, CentralError> {
        let map = self.err("listing tokens");
        let rows = self
            .client()
            .query(
                "SELECT token_sha256, role, subject, scope, created_at, revoked_at FROM tokens
                 ORDER BY created_at, subject",
                &[],
            )
            .map_err(map)?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let hash: [u8; 32] = r.get::<_, Vec<u8>>(0).try_into().ok()?;
                Some(TokenListing {
                    token_id: token_id(&hash),
                    role: Role::parse(r.get(1))?,
                    subject: r.get(2),
                    scope: Scope::from_json(r.get(3))?,
                    created_at: r.get(4),
                    revoked_at: r.get(5),
                })
            })
            .collect())
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
