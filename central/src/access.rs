//! Who may talk to central over HTTP, and what devices fetch besides
//! instruments: bearer tokens with roles (kept hashed; [`crate::roles`])
//! and rosters.

use enumera_core::remote::api::{RosterListing, valid_roster_name};

use crate::roles::{
    Permission, Principal, Revoke, Role, Scope, TokenGrant, TokenListing, reviewer_public_key,
    token_sha256,
};
use crate::{Central, CentralError, CentralStore};

impl<S: CentralStore> Central<S> {
    /// Makes a new bearer token for a device (its device id, as `enumera
    /// device init` prints it) and returns it: the only time it is seen,
    /// since central keeps only its hash. A device may hold several.
    pub fn create_token(&mut self, device_id: &str) -> Result<String, CentralError> {
        self.create_role_token(&TokenGrant::device(device_id))
    }

    /// Makes a new bearer token with a role (see [`crate::roles`]) and
    /// returns it; central keeps its hash and, for the people's roles, the
    /// public key their review actions are signed with.
    pub fn create_role_token(&mut self, grant: &TokenGrant) -> Result<String, CentralError> {
        if let Some(reason) = grant.problem() {
            return Err(CentralError::BadToken { reason });
        }
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| CentralError::Random(e.to_string()))?;
        let token = format!("enm_{}", enumera_core::bundle::hex(&secret));
        let public_key = (grant.role != Role::Device).then(|| reviewer_public_key(&token));
        let grant = TokenGrant { subject: grant.subject.trim().to_string(), ..grant.clone() };
        self.store_mut().add_token(&token_sha256(&token), &grant, public_key.as_ref())?;
        Ok(token)
    }

    /// Who a token belongs to (role, device id or name, scope), or `None`
    /// for a token central does not know or that was revoked.
    pub fn principal(&self, token: &str) -> Result<Option<Principal>, CentralError> {
        self.store().token(&token_sha256(token))
    }

    /// A token's role and scope, or `None` for an unknown or revoked token.
    pub fn token_role(&self, token: &str) -> Result<Option<(Role, Scope)>, CentralError> {
        Ok(self.principal(token)?.map(|p| (p.role, p.scope)))
    }

    /// The device id a device token was made for; `None` for an unknown or
    /// revoked token, or one of another role.
    pub fn device_for_token(&self, token: &str) -> Result<Option<String>, CentralError> {
        Ok(self.principal(token)?.filter(|p| p.role == Role::Device).map(|p| p.subject))
    }

    /// The principal of `token` when it may do `what`; otherwise why not
    /// ([`CentralError::Unauthorized`] for an unknown token,
    /// [`CentralError::Forbidden`] for a role that may not).
    pub fn authorize(&self, token: &str, what: Permission) -> Result<Principal, CentralError> {
        let principal = self.principal(token)?.ok_or(CentralError::Unauthorized)?;
        if !principal.can(what) {
            return Err(CentralError::Forbidden {
                role: principal.role,
                action: what.describe(),
                allowed: Role::allowed(what),
            });
        }
        Ok(principal)
    }

    /// Revokes every token of a device; returns how many were live.
    pub fn revoke_tokens(&mut self, device_id: &str) -> Result<usize, CentralError> {
        self.store_mut().revoke_tokens(&Revoke::Device(device_id.into()))
    }

    /// Revokes tokens by device, person or token id; returns how many.
    pub fn revoke(&mut self, which: &Revoke) -> Result<usize, CentralError> {
        self.store_mut().revoke_tokens(which)
    }

    /// Every token made, live or revoked (never the tokens themselves).
    pub fn tokens(&self) -> Result<Vec<TokenListing>, CentralError> {
        self.store().tokens()
    }

    /// Publishes a roster (`{"participants": [...]}` or a bare list of
    /// `{"id", "display", "personal"}`) under `name`, replacing the one
    /// published under that name before. Checked here so that devices are
    /// never served a roster they would refuse whole.
    pub fn publish_roster(&mut self, name: &str, json: &[u8]) -> Result<bool, CentralError> {
        if !valid_roster_name(name) {
            return Err(CentralError::BadRosterName { name: name.into() });
        }
        let participants = check_roster(json)
            .map_err(|reason| CentralError::BadRoster { name: name.into(), reason })?;
        self.store_mut().publish_roster(name, json, participants)
    }

    pub fn rosters(&self) -> Result<Vec<RosterListing>, CentralError> {
        self.store().rosters()
    }

    pub fn roster_json(&self, name: &str) -> Result<Option<Vec<u8>>, CentralError> {
        self.store().roster_json(name)
    }

    /// The canonical JSON of the served instrument with this hash.
    pub fn published_by_hash(&self, hash: &str) -> Result<Option<Vec<u8>>, CentralError> {
        match self.served()?.into_iter().find(|p| p.hash == hash) {
            Some(p) => self.published_json(&p.form_id, &p.version),
            None => Ok(None),
        }
    }
}

/// The number of participants, or why the roster would be refused.
fn check_roster(json: &[u8]) -> Result<u64, String> {
    use serde_json::Value;
    let value: Value = serde_json::from_slice(json).map_err(|e| format!("not JSON: {e}"))?;
    let list = match &value {
        Value::Array(list) => list,
        Value::Object(map) => match map.get("participants") {
            Some(Value::Array(list)) => list,
            _ => return Err("expected {\"participants\": [...]} or a list".into()),
        },
        _ => return Err("expected {\"participants\": [...]} or a list".into()),
    };
    let mut seen = std::collections::BTreeSet::new();
    for (i, entry) in list.iter().enumerate() {
        let index = i + 1;
        let Some(obj) = entry.as_object() else {
            return Err(format!("participant {index} is not an object"));
        };
        for (key, field) in obj {
            match key.as_str() {
                "id" => {}
                "display" | "personal" => {
                    let ok = field.as_object().is_some_and(|m| m.values().all(|v| v.is_string()));
                    if !ok {
                        return Err(format!(
                            "participant {index}: {key} must be an object of text fields"
                        ));
                    }
                }
                other => return Err(format!("participant {index}: unknown field {other:?}")),
            }
        }
        let id = match obj.get("id") {
            Some(Value::String(id)) if !id.trim().is_empty() => id,
            _ => return Err(format!("participant {index} has no id")),
        };
        if !seen.insert(id.clone()) {
            return Err(format!("participant id {id:?} appears twice"));
        }
    }
    Ok(list.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_hashed_and_name_their_device() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("central.db");
        let mut central = Central::init(&db).expect("central");
        let token = central.create_token("dev-1").expect("token");
        let other = central.create_token("dev-2").expect("token");
        assert_ne!(token, other);
        assert_eq!(central.device_for_token(&token).expect("lookup").as_deref(), Some("dev-1"));
        assert_eq!(central.device_for_token("enm_wrong").expect("lookup"), None);
        drop(central);
        // Neither the database nor its write-ahead log holds a token.
        for file in ["central.db", "central.db-wal"] {
            let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
            let secret = token.trim_start_matches("enm_").as_bytes();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret), "{file}");
        }
        let mut central = Central::open(&db).expect("open");
        assert_eq!(central.revoke_tokens("dev-1").expect("revoke"), 1);
        assert_eq!(central.device_for_token(&token).expect("lookup"), None);
        assert!(central.device_for_token(&other).expect("lookup").is_some());
    }

    #[test]
    fn rosters_are_checked_named_and_replaced() {
        let mut central = Central::in_memory().expect("central");
        let r1 = br#"{"participants":[{"id":"A","display":{"lga":"X"}},{"id":"B"}]}"#;
        assert!(central.publish_roster("round-1", r1).expect("publish"));
        assert!(!central.publish_roster("round-1", r1).expect("same again"));
        let r2 = br#"[{"id":"A"}]"#;
        assert!(central.publish_roster("round-1", r2).expect("replace"));
        let listed = central.rosters().expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].participants, 1);
        assert_eq!(central.roster_json("round-1").expect("get").as_deref(), Some(&r2[..]));

        for bad in ["../x", "", ".h", "a/b"] {
            assert!(matches!(
                central.publish_roster(bad, r2),
                Err(CentralError::BadRosterName { .. })
            ));
        }
        for bad in [
            &b"nope"[..],
            br#"{"people":[]}"#,
            br#"[{"display":{}}]"#,
            br#"[{"id":"A"},{"id":"A"}]"#,
            br#"[{"id":"A","age":3}]"#,
            br#"[{"id":"A","display":{"n":1}}]"#,
        ] {
            let err = central.publish_roster("r", bad).expect_err("refused");
            assert!(matches!(err, CentralError::BadRoster { .. }), "{err}");
        }
        assert_eq!(central.rosters().expect("list").len(), 1);
    }
}
