//! Who may do what at central (issue 17, item 3): every bearer token has a
//! role, and a role sees only what it needs.
//!
//! | role | may | scope |
//! | --- | --- | --- |
//! | device | sync: upload its own bundles, fetch its receipt, instruments, its assignments, its roster rows and its returns | its own device id |
//! | supervisor | review and follow progress; assign work | the districts and devices named when the token was made |
//! | researcher | review and follow progress everywhere; export and read the data | everywhere |
//! | admin | publish forms, make and revoke tokens, enrol devices, assign work, follow progress; read the data | everywhere |
//!
//! Least privilege: a device can never review, a supervisor cannot export
//! (sealed or not), an admin does not review. Central keeps only the
//! SHA-256 of a token; for the people's roles (not devices) it also keeps
//! the Ed25519 public key derived from the token ([`reviewer_public_key`]),
//! so that each review action is signed by the token that made it and
//! stays verifiable after the token is revoked.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Device,
    Supervisor,
    Researcher,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Device, Role::Supervisor, Role::Researcher, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Device => "device",
            Role::Supervisor => "supervisor",
            Role::Researcher => "researcher",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may do `what` at all; a supervisor is further held
    /// to its [`Scope`] ([`Principal::covers`]).
    pub fn can(self, what: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Device => matches!(what, Sync),
            Role::Supervisor => matches!(what, Review | Progress | Assign),
            Role::Researcher => matches!(what, Review | Progress | Export),
            Role::Admin => {
                matches!(what, Publish | ManageTokens | ManageDevices | Assign | Progress | Export)
            }
        }
    }

    /// The roles that may do `what`, for messages.
    pub fn allowed(what: Permission) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| r.can(what)).collect()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a caller asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// A device's sync: upload, receipt, instruments, rosters, assignments, returns.
    Sync,
    /// Approve, reject, comment; read the responses under review.
    Review,
    /// Assign participants and forms to devices or enumerators.
    Assign,
    /// Read progress (assigned, started, finalized, received, approved, returned).
    Progress,
    /// Export and read the data (the researchers' data API).
    Export,
    /// Publish and unpublish forms and rosters.
    Publish,
    /// Make and revoke tokens.
    ManageTokens,
    /// Enrol devices.
    ManageDevices,
}

impl Permission {
    pub fn describe(self) -> &'static str {
        match self {
            Permission::Sync => "sync as a device",
            Permission::Review => "review responses",
            Permission::Assign => "assign work",
            Permission::Progress => "read progress",
            Permission::Export => "export or read the data",
            Permission::Publish => "publish forms",
            Permission::ManageTokens => "manage tokens",
            Permission::ManageDevices => "enrol devices",
        }
    }
}

/// Where a supervisor works: responses from these devices, or from
/// participants of these districts. Empty for the other roles (a device
/// works on its own data; researchers and admins everywhere).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    #[serde(default)]
    pub districts: BTreeSet<String>,
    #[serde(default)]
    pub devices: BTreeSet<String>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        self.districts.is_empty() && self.devices.is_empty()
    }

    /// Compact JSON, as stored.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    pub fn from_json(json: &str) -> Option<Scope> {
        serde_json::from_str(json).ok()
    }
}

/// What a new token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub role: Role,
    /// The device id for a device; for the people's roles, the person the
    /// token is given to (their name or staff id), recorded with every
    /// review action they sign.
    pub subject: String,
    /// A supervisor's districts and devices; empty for the other roles.
    pub scope: Scope,
}

impl TokenGrant {
    pub fn device(device_id: &str) -> TokenGrant {
        TokenGrant { role: Role::Device, subject: device_id.into(), scope: Scope::default() }
    }

    /// Why this grant cannot be made, or `None`.
    pub fn problem(&self) -> Option<String> {
        let subject = self.subject.trim();
        if subject.is_empty() || subject.len() > 200 || subject.chars().any(char::is_control) {
            return Some(format!(
                "a {} token needs a {} of 1 to 200 printable characters",
                self.role,
                if self.role == Role::Device { "device id" } else { "name" }
            ));
        }
        match (self.role, self.scope.is_empty()) {
            (Role::Supervisor, true) => Some(
                "a supervisor token needs a scope: at least one --district or --device it \
                 reviews"
                    .into(),
            ),
            (Role::Supervisor, false) => None,
            (role, false) => Some(format!(
                "a {role} token has no scope ({}); only supervisors are limited to districts \
                 or devices",
                if role == Role::Device { "a device works on its own data" } else { "everywhere" }
            )),
            (_, true) => None,
        }
    }
}

/// Who a valid token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub role: Role,
    /// Device id, or the person's name.
    pub subject: String,
    pub scope: Scope,
    /// The first 16 hex digits of the token's SHA-256: names the token in
    /// lists and review events without revealing it.
    pub token_id: String,
    /// The Ed25519 key review actions are signed with (people's roles only).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "hex_opt")]
    pub public_key: Option<[u8; 32]>,
}

fn hex_opt<S: serde::Serializer>(b: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
    match b {
        Some(b) => s.serialize_str(&enumera_core::bundle::hex(b)),
        None => s.serialize_none(),
    }
}

impl Principal {
    pub fn can(&self, what: Permission) -> bool {
        self.role.can(what)
    }

    /// Whether a response from `device_id`, of a participant in `district`
    /// (when known), is within this principal's reach: a supervisor's
    /// scope; everything for researchers and admins; a device's own.
    pub fn covers(&self, device_id: &str, district: Option<&str>) -> bool {
        match self.role {
            Role::Device => self.subject == device_id,
            Role::Supervisor => {
                self.scope.devices.contains(device_id)
                    || district.is_some_and(|d| self.scope.districts.contains(d))
            }
            Role::Researcher | Role::Admin => true,
        }
    }

    /// "supervisor Ana (token 0123abcd…)", for messages and logs.
    pub fn describe(&self) -> String {
        format!("{} {} (token {})", self.role, self.subject, self.token_id)
    }
}

/// A token as listed for an admin (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenListing {
    pub token_id: String,
    pub role: Role,
    pub subject: String,
    pub scope: Scope,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Which tokens to revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoke {
    /// Every token of this device.
    Device(String),
    /// Every token of the people's roles given to this name.
    Subject(String),
    /// The one token with this id (as [`Principal::token_id`] shows it).
    TokenId(String),
}

/// SHA-256 of a token as central stores it.
pub(crate) fn token_sha256(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// How a token is named without being revealed.
pub(crate) fn token_id(token_sha256: &[u8; 32]) -> String {
    enumera_core::bundle::hex(&token_sha256[..8])
}

/// The Ed25519 seed a person's token signs review actions with: derived
/// from the token, so whoever holds the token can sign and central, which
/// keeps only the token's hash and this key's public half, cannot.
pub fn reviewer_seed(token: &str) -> [u8; 32] {
    use sha2::Digest;
    let mut sha = sha2::Sha256::new();
    sha.update(b"enumera-reviewer-key/1\n");
    sha.update(token.as_bytes());
    sha.finalize().into()
}

/// The public half of [`reviewer_seed`].
pub fn reviewer_public_key(token: &str) -> [u8; 32] {
    enumera_core::bundle::receipt::public_key_of(&reviewer_seed(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_privilege_by_role() {
        use Permission::*;
        let all = [Sync, Review, Assign, Progress, Export, Publish, ManageTokens, ManageDevices];
        let may = |r: Role| all.into_iter().filter(|p| r.can(*p)).collect::<Vec<_>>();
        assert_eq!(may(Role::Device), [Sync]);
        assert_eq!(may(Role::Supervisor), [Review, Assign, Progress]);
        assert_eq!(may(Role::Researcher), [Review, Progress, Export]);
        assert_eq!(
            may(Role::Admin),
            [Assign, Progress, Export, Publish, ManageTokens, ManageDevices]
        );
        // A device never reviews; a supervisor never exports; only devices sync.
        assert!(!Role::Device.can(Review));
        assert!(!Role::Supervisor.can(Export));
        assert_eq!(Role::allowed(Sync), [Role::Device]);
    }

    #[test]
    fn scopes_are_required_for_supervisors_only() {
        let mut grant =
            TokenGrant { role: Role::Supervisor, subject: "Ana".into(), scope: Scope::default() };
        assert!(grant.problem().is_some_and(|p| p.contains("scope")));
        grant.scope.districts.insert("Beira".into());
        assert_eq!(grant.problem(), None);
        grant.role = Role::Researcher;
        assert!(grant.problem().is_some_and(|p| p.contains("no scope")));
        grant.scope = Scope::default();
        assert_eq!(grant.problem(), None);
        grant.subject = " ".into();
        assert!(grant.problem().is_some());
        assert_eq!(TokenGrant::device("d1").problem(), None);
    }

    #[test]
    fn a_supervisor_covers_its_districts_and_devices_only() {
        let p = |role, scope| Principal {
            role,
            subject: "x".into(),
            scope,
            token_id: "0".into(),
            public_key: None,
        };
        let scope = Scope {
            districts: ["Beira".to_string()].into(),
            devices: ["dev-9".to_string()].into(),
        };
        let sup = p(Role::Supervisor, scope);
        assert!(sup.covers("dev-1", Some("Beira")));
        assert!(sup.covers("dev-9", None));
        assert!(!sup.covers("dev-1", Some("Khulna")));
        assert!(!sup.covers("dev-1", None));
        assert!(p(Role::Researcher, Scope::default()).covers("dev-1", None));
        let dev = Principal { subject: "dev-1".into(), ..p(Role::Device, Scope::default()) };
        assert!(dev.covers("dev-1", None) && !dev.covers("dev-2", Some("Beira")));
    }

    #[test]
    fn the_reviewer_key_comes_from_the_token_alone() {
        let a = reviewer_public_key("enm_aa");
        assert_eq!(a, reviewer_public_key("enm_aa"));
        assert_ne!(a, reviewer_public_key("enm_ab"));
        assert_ne!(&a[..], &token_sha256("enm_aa")[..]);
    }
}
