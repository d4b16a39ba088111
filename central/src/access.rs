//! Who may talk to central over HTTP, and what devices fetch besides
//! instruments: per-device bearer tokens (kept hashed) and rosters.

use sha2::{Digest, Sha256};

use enumera_core::remote::api::{RosterListing, valid_roster_name};

use crate::{Central, CentralError, CentralStore};

/// SHA-256 of a token as central stores it.
fn token_sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl<S: CentralStore> Central<S> {
    /// Makes a new bearer token for a device (its device id, as `enumera
    /// device init` prints it) and returns it: the only time it is seen,
    /// since central keeps only its hash. A device may hold several.
    pub fn create_token(&mut self, device_id: &str) -> Result<String, CentralError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| CentralError::Random(e.to_string()))?;
        let token = format!("enm_{}", enumera_core::bundle::hex(&secret));
        self.store_mut().add_token(device_id, &token_sha256(&token))?;
        Ok(token)
    }

    /// The device id a token was made for, or `None` for an unknown token.
    pub fn device_for_token(&self, token: &str) -> Result<Option<String>, CentralError> {
        self.store().token_device(&token_sha256(token))
    }

    /// Removes every token of a device; returns how many there were.
    pub fn revoke_tokens(&mut self, device_id: &str) -> Result<usize, CentralError> {
        self.store_mut().revoke_tokens(device_id)
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
