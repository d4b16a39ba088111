//! Uploads in parts (issue 18, item 5) on every store: parts only at the
//! received offset, a part sent again is a no-op, the per-device limits,
//! the parts joined in order, expiry and removal.

use enumera_central::uploads::{Begun, PartOutcome, StagedUpload, UploadLimits, UploadStore};

use super::stores::Backend;

fn upload(id: &str, device: &str, size: u64, at: i64) -> StagedUpload {
    StagedUpload {
        upload_id: id.into(),
        device_id: device.into(),
        size,
        sha256: "cd".repeat(32),
        received: 0,
        created_at: at,
        touched_at: at,
    }
}

pub fn uploads_in_parts_are_staged_joined_and_expired(b: &Backend) {
    let mut central = b.fresh();
    let store = central.store_mut();
    let limits = UploadLimits { max_open: 2, max_staged_bytes: 100 };
    let a = upload("a".repeat(32).as_str(), "dev-1", 10, 1_000);
    assert_eq!(store.begin_upload(&a, &limits).unwrap(), Begun::Created);
    assert_eq!(store.staged_upload(&a.upload_id).unwrap(), Some(a.clone()));
    assert_eq!(store.staged_upload(&"f".repeat(32)).unwrap(), None);

    // In order only; the same part again changes nothing.
    let stored = |o: PartOutcome| match o {
        PartOutcome::Stored(u) => ("stored", u.received, u.touched_at),
        PartOutcome::Held(u) => ("held", u.received, u.touched_at),
        PartOutcome::NotAt(u) => ("not at", u.received, u.touched_at),
        PartOutcome::Missing => ("missing", 0, 0),
    };
    let id = a.upload_id.as_str();
    assert_eq!(stored(store.put_part(id, 0, b"0123", 1_001).unwrap()), ("stored", 4, 1_001));
    assert_eq!(stored(store.put_part(id, 0, b"0123", 1_002).unwrap()), ("held", 4, 1_001));
    assert_eq!(stored(store.put_part(id, 6, b"67", 1_002).unwrap()), ("not at", 4, 1_001));
    assert_eq!(stored(store.put_part(id, 4, b"4567890", 1_002).unwrap()), ("not at", 4, 1_001));
    assert_eq!(stored(store.put_part(id, 4, b"", 1_002).unwrap()), ("not at", 4, 1_001));
    assert_eq!(stored(store.put_part(id, 4, b"456789", 1_003).unwrap()), ("stored", 10, 1_003));
    assert_eq!(stored(store.put_part(&"e".repeat(32), 0, b"x", 1).unwrap()), ("missing", 0, 0));
    let mut joined = Vec::new();
    assert_eq!(store.copy_upload(id, &mut joined).unwrap(), 10);
    assert_eq!(joined, b"0123456789");

    // Limits count one device's open uploads only.
    let big = upload(&"b".repeat(32), "dev-1", 91, 1_000);
    assert_eq!(store.begin_upload(&big, &limits).unwrap(), Begun::OverStaged { staged: 101 });
    let second = upload(&"c".repeat(32), "dev-1", 90, 2_000);
    assert_eq!(store.begin_upload(&second, &limits).unwrap(), Begun::Created);
    let third = upload(&"d".repeat(32), "dev-1", 1, 2_000);
    assert_eq!(store.begin_upload(&third, &limits).unwrap(), Begun::TooMany { open: 2 });
    let other = upload(&"d".repeat(32), "dev-2", 100, 2_000);
    assert_eq!(store.begin_upload(&other, &limits).unwrap(), Begun::Created);

    // Expiry by last touch: `a` (1_003) goes, the others (2_000) stay.
    assert_eq!(store.expire_uploads(1_500).unwrap(), 1);
    assert_eq!(store.staged_upload(id).unwrap(), None);
    assert_eq!(store.copy_upload(id, &mut Vec::new()).unwrap(), 0, "its parts are gone");
    assert!(store.drop_upload(&second.upload_id).unwrap());
    assert!(!store.drop_upload(&second.upload_id).unwrap());
    assert_eq!(store.expire_uploads(i64::MAX).unwrap(), 1);
}
