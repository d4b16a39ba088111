//! Roles and tokens (issue 17, item 3): every token has a role, is kept
//! hashed, and a role gets only what it needs.

mod common;

use enumera_central::{Central, CentralError, Permission, Revoke, Role, Scope, TokenGrant};

fn grant(role: Role, subject: &str, districts: &[&str], devices: &[&str]) -> TokenGrant {
    TokenGrant {
        role,
        subject: subject.into(),
        scope: Scope {
            districts: districts.iter().map(|s| s.to_string()).collect(),
            devices: devices.iter().map(|s| s.to_string()).collect(),
        },
    }
}

#[test]
fn tokens_of_every_role_are_kept_hashed_and_say_who_they_are() {
    let dir = common::tempdir();
    let db = dir.path().join("c.db");
    let mut c = Central::init(&db).unwrap();
    let device = c.create_token("dev-1").unwrap();
    let sup = c.create_role_token(&grant(Role::Supervisor, "Ana", &["Beira"], &["dev-9"])).unwrap();
    let res = c.create_role_token(&grant(Role::Researcher, "Rui", &[], &[])).unwrap();
    let admin = c.create_role_token(&grant(Role::Admin, "Ops", &[], &[])).unwrap();

    let p = c.principal(&device).unwrap().unwrap();
    assert_eq!((p.role, p.subject.as_str(), p.public_key), (Role::Device, "dev-1", None));
    assert_eq!(c.device_for_token(&device).unwrap().as_deref(), Some("dev-1"));
    let p = c.principal(&sup).unwrap().unwrap();
    assert_eq!((p.role, p.subject.as_str()), (Role::Supervisor, "Ana"));
    assert!(p.scope.districts.contains("Beira") && p.scope.devices.contains("dev-9"));
    // The key review actions are signed with is the token's own.
    assert_eq!(p.public_key, Some(enumera_central::roles::reviewer_public_key(&sup)));
    assert_eq!(c.token_role(&res).unwrap(), Some((Role::Researcher, Scope::default())));
    assert_eq!(c.token_role(&admin).unwrap().map(|r| r.0), Some(Role::Admin));
    // A person's token is no device's.
    assert_eq!(c.device_for_token(&sup).unwrap(), None);
    assert_eq!(c.principal("enm_unknown").unwrap(), None);

    // Least privilege, as central enforces it for any caller.
    assert!(c.authorize(&device, Permission::Sync).is_ok());
    assert!(matches!(
        c.authorize(&device, Permission::Review),
        Err(CentralError::Forbidden { .. })
    ));
    assert!(c.authorize(&sup, Permission::Review).is_ok());
    let err = c.authorize(&sup, Permission::Export).unwrap_err();
    assert!(err.to_string().contains("researcher or admin"), "{err}");
    assert!(c.authorize(&res, Permission::Export).is_ok());
    assert!(matches!(c.authorize(&admin, Permission::Review), Err(CentralError::Forbidden { .. })));
    assert!(matches!(c.authorize("enm_x", Permission::Sync), Err(CentralError::Unauthorized)));

    // Bad grants are refused before anything is stored.
    for bad in [
        grant(Role::Supervisor, "Ana", &[], &[]),
        grant(Role::Researcher, "Rui", &["Beira"], &[]),
        grant(Role::Admin, "  ", &[], &[]),
        grant(Role::Device, "d", &[], &["x"]),
    ] {
        assert!(matches!(c.create_role_token(&bad), Err(CentralError::BadToken { .. })), "{bad:?}");
    }
    assert_eq!(c.tokens().unwrap().len(), 4);

    // Revoked tokens stop working and stay listed (their keys still verify
    // what they signed).
    assert_eq!(c.revoke(&Revoke::Subject("Ana".into())).unwrap(), 1);
    assert_eq!(c.principal(&sup).unwrap(), None);
    let id = c.principal(&res).unwrap().unwrap().token_id;
    assert_eq!(c.revoke(&Revoke::TokenId(id)).unwrap(), 1);
    assert_eq!(c.principal(&res).unwrap(), None);
    assert_eq!(c.revoke_tokens("dev-1").unwrap(), 1);
    assert_eq!(c.revoke_tokens("dev-1").unwrap(), 0);
    let listed = c.tokens().unwrap();
    assert_eq!(listed.iter().filter(|t| t.revoked_at.is_some()).count(), 3);
    assert!(c.principal(&admin).unwrap().is_some());
    drop(c);

    // Neither the database nor its log holds a token.
    for file in ["c.db", "c.db-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        for token in [&device, &sup, &res, &admin] {
            let secret = token.trim_start_matches("enm_").as_bytes();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret), "{file}");
        }
    }
}

#[test]
fn the_database_holds_the_token_rules_itself() {
    let dir = common::tempdir();
    let db = dir.path().join("c.db");
    let mut c = Central::init(&db).unwrap();
    c.create_role_token(&grant(Role::Supervisor, "Ana", &["Beira"], &[])).unwrap();
    drop(c);
    let conn = rusqlite::Connection::open(&db).unwrap();
    for (sql, why) in [
        (
            "INSERT INTO tokens (token_sha256, role, subject, public_key, created_at)
             VALUES (randomblob(32), 'supervisor', 'Bo', randomblob(32), 't')",
            "CHECK",
        ),
        (
            "INSERT INTO tokens (token_sha256, role, subject, scope, public_key, created_at)
             VALUES (randomblob(32), 'researcher', 'R', '{\"districts\":[\"X\"]}', randomblob(32), 't')",
            "CHECK",
        ),
        (
            "INSERT INTO tokens (token_sha256, role, subject, public_key, created_at)
             VALUES (randomblob(32), 'device', 'd', randomblob(32), 't')",
            "CHECK",
        ),
        (
            "INSERT INTO tokens (token_sha256, role, subject, created_at)
             VALUES (randomblob(32), 'root', 'd', 't')",
            "CHECK",
        ),
        ("UPDATE tokens SET role = 'researcher', scope = '{}'", "cannot change"),
        ("UPDATE tokens SET scope = '{\"districts\":[\"Khulna\"]}'", "cannot change"),
        ("DELETE FROM tokens", "never deleted"),
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains(why), "{sql}: {err}");
    }
    conn.execute("UPDATE tokens SET revoked_at = 't'", []).unwrap();
    let err = conn.execute("UPDATE tokens SET revoked_at = NULL", []).unwrap_err();
    assert!(err.to_string().contains("stays revoked"), "{err}");
}

/// A central of schema 5 keeps its device tokens working after the upgrade,
/// as device tokens.
#[test]
fn a_schema_5_central_keeps_its_device_tokens() {
    let dir = common::tempdir();
    let db = dir.path().join("c.db");
    let (live, revoked) = {
        let mut c = Central::init(&db).unwrap();
        let live = c.create_token("dev-1").unwrap();
        let revoked = c.create_token("dev-2").unwrap();
        c.revoke_tokens("dev-2").unwrap();
        (live, revoked)
    };
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(common::UNDO_SCHEMA_6).unwrap();
        let n: i64 =
            conn.query_row("SELECT count(*) FROM device_tokens", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "schema 5 deleted revoked tokens");
    }
    let c = Central::open(&db).unwrap();
    assert_eq!(c.token_role(&live).unwrap(), Some((Role::Device, Scope::default())));
    assert_eq!(c.device_for_token(&live).unwrap().as_deref(), Some("dev-1"));
    assert_eq!(c.principal(&revoked).unwrap(), None);
    assert_eq!(c.tokens().unwrap().len(), 1);
}
