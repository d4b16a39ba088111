//! What operators do besides ingest: tokens, rosters, publishing, quotas,
//! schema versions, backup and restore.

use enumera_central::{AnyStore, Central, CentralError, IngestError, Location, QuotaKind, Quotas};

use super::ingest::{mark_all_sent, status};
use super::stores::Backend;
use crate::common::{Device, instrument};

pub fn tokens_are_kept_hashed_and_revoked(b: &Backend) {
    b.check(|c, _| {
        let token = c.create_token("dev-1").expect("token");
        let other = c.create_token("dev-2").expect("token");
        let second = c.create_token("dev-1").expect("a device may hold several");
        assert_ne!(token, other);
        assert_eq!(c.device_for_token(&token).expect("lookup").as_deref(), Some("dev-1"));
        assert_eq!(c.device_for_token(&second).expect("lookup").as_deref(), Some("dev-1"));
        assert_eq!(c.device_for_token("enm_wrong").expect("lookup"), None);
        assert_eq!(c.revoke_tokens("dev-1").expect("revoke"), 2);
        assert_eq!(c.device_for_token(&token).expect("lookup"), None);
        assert!(c.device_for_token(&other).expect("lookup").is_some());
        // Only hashes are held: the dump of either store never names a token.
        assert!(!c.canonical_dump().expect("dump").contains(&other[4..]));
    });
}

pub fn rosters_are_checked_named_and_replaced(b: &Backend) {
    b.check(|c, _| {
        let r1 = br#"{"participants":[{"id":"A","display":{"lga":"X"}},{"id":"B"}]}"#;
        assert!(c.publish_roster("round-1", r1).expect("publish"));
        assert!(!c.publish_roster("round-1", r1).expect("same again"));
        let r2 = br#"[{"id":"A"}]"#;
        assert!(c.publish_roster("round-1", r2).expect("replace"));
        assert!(c.publish_roster("round-0", r1).expect("another"));
        let listed: Vec<(String, u64)> =
            c.rosters().expect("list").into_iter().map(|r| (r.name, r.participants)).collect();
        assert_eq!(listed, vec![("round-0".into(), 2), ("round-1".into(), 1)]);
        assert_eq!(c.roster_json("round-1").expect("get").as_deref(), Some(&r2[..]));
        assert_eq!(c.roster_json("nope").expect("get"), None);
        assert!(matches!(c.publish_roster("../x", r2), Err(CentralError::BadRosterName { .. })));
        listed
    });
}

pub fn publishing_is_refused_for_other_content_and_unpublish_keeps_the_form(b: &Backend) {
    b.check(|c, _| {
        let form = instrument("plain", &[]);
        assert!(c.publish(&form).expect("publish"));
        assert!(!c.publish(&form).expect("same again"));
        let mut changed = form.clone();
        changed.title = "another title".into();
        assert!(matches!(c.publish(&changed), Err(CentralError::PublishConflict { .. })));
        c.publish(&instrument("sealed", &[crate::common::TEST_RECIPIENT])).expect("sealed");
        assert_eq!(c.unpublish("plain", Some("1")).expect("unpublish"), 1);
        assert_eq!(c.unpublish("plain", None).expect("again"), 0);
        assert!(matches!(c.unpublish("nope", None), Err(CentralError::NotPublished { .. })));
        let served: Vec<String> =
            c.served().expect("served").into_iter().map(|p| p.form_id).collect();
        assert_eq!(served, vec!["sealed".to_string()]);
        assert_eq!(c.published().expect("published").len(), 2);
        assert!(c.published_json("plain", "1").expect("json").is_some());
        assert!(c.published_by_hash(&form.hash()).expect("by hash").is_none());
        // Published again: served again.
        assert!(c.publish(&form).expect("publish again"));
        assert!(c.published_by_hash(&form.hash()).expect("by hash").is_some());
        served
    });
}

fn quota_kind(e: IngestError) -> QuotaKind {
    match e {
        IngestError::Quota { kind, .. } => kind,
        other => panic!("not a quota refusal: {other}"),
    }
}

pub fn quotas_refuse_a_bundle_whole(b: &Backend) {
    let mut flood = Device::new("flooding tablet");
    for k in 0..4 {
        flood.finalize(&format!("junk {k}"), false, Some(&[7u8; 2000]));
    }
    let four = flood.bundle(false);
    mark_all_sent(&mut flood);
    for k in 4..6 {
        flood.finalize(&format!("junk {k}"), false, None);
    }
    let two_more = flood.bundle(true);
    let mut other = Device::new("another tablet");
    other.finalize("fine", false, None);
    let fine = other.bundle(false);
    b.check(|c, _| {
        let q = |per_bundle, per_day, bytes| Quotas {
            responses_per_bundle: per_bundle,
            responses_per_day: per_day,
            bytes_per_day: bytes,
        };
        let empty = c.canonical_dump().expect("dump");
        c.set_quotas(q(3, 5, 0));
        assert_eq!(
            quota_kind(c.ingest(&four).expect_err("per bundle")),
            QuotaKind::ResponsesPerBundle
        );
        c.set_quotas(q(0, 0, 4000));
        assert_eq!(quota_kind(c.ingest(&four).expect_err("bytes")), QuotaKind::BytesPerDay);
        assert_eq!(c.canonical_dump().expect("dump"), empty);
        c.set_quotas(q(0, 4, 0));
        assert_eq!(c.ingest(&four).expect("at the quota").new_responses, 4);
        let held = c.canonical_dump().expect("dump");
        assert_eq!(
            quota_kind(c.ingest(&two_more).expect_err("over the day")),
            QuotaKind::ResponsesPerDay
        );
        assert_eq!(c.canonical_dump().expect("dump"), held);
        // Nothing new: never refused. Another device: not affected.
        assert_eq!(c.ingest(&four).expect("again").new_responses, 0);
        assert_eq!(c.ingest(&fine).expect("other device").new_responses, 1);
        status(c)
    });
}

pub fn a_database_newer_than_this_build_is_left_untouched(b: &Backend) {
    let (c, at) = b.fresh_at();
    let dump = c.canonical_dump().expect("dump");
    drop(c);
    let bump = match &at {
        Location::File(_) => "PRAGMA user_version = 99",
        Location::Postgres(_) => "UPDATE enumera_schema SET version = 99",
    };
    b.raw(&at, bump).expect("bump");
    match Central::open_at(&at) {
        Err(CentralError::NewerVersion { found: 99, .. }) => {}
        other => panic!("opened a newer database: {other:?}"),
    }
    let undo = match &at {
        Location::File(_) => format!("PRAGMA user_version = {}", enumera_central::SCHEMA_VERSION),
        Location::Postgres(_) => {
            format!("UPDATE enumera_schema SET version = {}", enumera_central::PG_SCHEMA_VERSION)
        }
    };
    b.raw(&at, &undo).expect("undo");
    assert_eq!(Central::open_at(&at).expect("open").canonical_dump().expect("dump"), dump);
}

/// A backup of a live central, restored elsewhere, holds the same: the
/// same canonical dump, the same key, the same tokens; a restore never
/// overwrites anything.
pub fn a_backup_restores_to_the_same_central(b: &Backend) {
    let mut d = Device::new("tablet");
    for i in 0..3 {
        d.finalize(&format!("answer {i}"), i == 1, Some(b"photo"));
    }
    let (mut c, _) = b.fresh_at();
    c.publish(&instrument("plain", &[])).expect("publish");
    c.ingest(&d.bundle(false)).expect("ingest");
    let token = c.create_token(&d.device_id()).expect("token");
    c.publish_roster("r", br#"[{"id":"P1"}]"#).expect("roster");
    let file = b.dir().join(format!("backup-{}", uuid::Uuid::new_v4().simple()));
    c.store().backup_to(&file).expect("backup");
    assert!(matches!(c.store().backup_to(&file), Err(CentralError::Exists { .. })));
    // The live central goes on after its backup; the backup does not.
    d.finalize("after the backup", false, None);
    let backed_up = c.canonical_dump().expect("dump");
    c.ingest(&d.bundle(false)).expect("ingest more");

    let target = b.new_location();
    let restored: Central<AnyStore> = Central::restore_at(&target, &file).expect("restore");
    assert_eq!(restored.canonical_dump().expect("dump"), backed_up);
    assert_eq!(restored.public_key().expect("key"), c.public_key().expect("key"));
    assert_eq!(restored.device_for_token(&token).expect("token"), Some(d.device_id()));
    assert_eq!(restored.rosters().expect("rosters").len(), 1);
    drop(restored);
    // Restoring over a central is refused, and leaves it as it was.
    assert!(Central::restore_at(&target, &file).is_err());
    assert_eq!(Central::open_at(&target).expect("open").canonical_dump().expect("dump"), backed_up);
}
