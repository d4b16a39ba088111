//! Per-device quotas (issue 15, finding 13): responses per bundle, new
//! responses and bytes per 24 hours. A bundle over a quota is refused whole
//! (nothing from it stored, its responses stay on the device); other
//! devices are not affected; a bundle that brings nothing new is never
//! refused; and the quota holds across processes, because it is checked
//! inside the ingest's own transaction.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::Device;
use enumera_central::{Central, IngestError, QuotaKind, Quotas};

fn quotas(per_bundle: u64, per_day: u64, bytes: u64) -> Quotas {
    Quotas { responses_per_bundle: per_bundle, responses_per_day: per_day, bytes_per_day: bytes }
}

fn quota_kind(e: IngestError) -> QuotaKind {
    match e {
        IngestError::Quota { kind, .. } => kind,
        other => panic!("not a quota refusal: {other}"),
    }
}

/// The review's flood: one bundle of many junk responses. Over the
/// per-bundle quota it is refused before anything is written; a device
/// over its day is refused whole; another device is not affected; a bundle
/// of responses already held (a device re-sending after a lost receipt) is
/// taken even at the quota. Fails where central took all of it.
#[test]
fn quotas_hold_one_device_to_its_share_and_never_cost_another() {
    let mut flood = Device::new("flooding tablet");
    for k in 0..4 {
        flood.finalize(&format!("junk {k}"), false, None);
    }
    let four = flood.bundle(false);
    let mut c = Central::in_memory().unwrap();
    c.set_quotas(quotas(3, 5, 0));
    let empty = c.canonical_dump().unwrap();
    let err = c.ingest(&four).unwrap_err();
    assert_eq!(err.code(), "too_many_responses");
    assert_eq!(quota_kind(err), QuotaKind::ResponsesPerBundle);
    assert_eq!(c.canonical_dump().unwrap(), empty);

    c.set_quotas(quotas(0, 4, 0));
    assert_eq!(c.ingest(&four).unwrap().new_responses, 4);
    // The same responses in another file, as after a lost receipt.
    let four_again = flood.bundle(false);
    let entries = flood.store.outbox(0, false).unwrap();
    flood
        .store
        .mark_sent(&entries.iter().map(|e| (e.seq, e.instance_id.clone())).collect::<Vec<_>>())
        .unwrap();
    for k in 4..6 {
        flood.finalize(&format!("junk {k}"), false, None);
    }
    let held = c.canonical_dump().unwrap();
    let err = c.ingest(&flood.bundle(true)).unwrap_err();
    assert_eq!(err.code(), "quota_exceeded");
    assert!(err.to_string().contains("stay on the device"), "{err}");
    assert_eq!(quota_kind(err), QuotaKind::ResponsesPerDay);
    assert_eq!(c.canonical_dump().unwrap(), held, "nothing from the refused bundle");
    // At its quota, a device re-sending what central holds is answered.
    let report = c.ingest(&four_again).unwrap();
    assert_eq!((report.new_entries, report.duplicates), (0, 4));

    let mut other = Device::new("another tablet");
    for k in 0..4 {
        other.finalize(&format!("real {k}"), false, None);
    }
    assert_eq!(c.ingest(&other.bundle(false)).unwrap().new_responses, 4);
}

/// Bytes per day count what a bundle newly stores (submissions and
/// attachments).
#[test]
fn quotas_bytes_per_day_count_what_is_newly_stored() {
    let mut d = Device::new("tablet");
    d.finalize("small", false, None);
    let small = d.bundle(false);
    let entries = d.store.outbox(0, false).unwrap();
    d.store.mark_sent(&[(entries[0].seq, entries[0].instance_id.clone())]).unwrap();
    d.finalize("with a photo", false, Some(&[7u8; 20_000]));
    let big = d.bundle(true);
    let mut c = Central::in_memory().unwrap();
    c.set_quotas(quotas(0, 0, 10_000));
    c.ingest(&small).unwrap();
    let err = c.ingest(&big).unwrap_err();
    assert_eq!(quota_kind(err), QuotaKind::BytesPerDay);
    c.set_quotas(Quotas::UNLIMITED);
    assert_eq!(c.ingest(&big).unwrap().new_responses, 1);
}

/// Two processes ingesting the same device's bundles at once cannot both
/// pass the day's quota: each checks inside its own IMMEDIATE transaction,
/// so the database, not a lock in one process, holds the line.
#[test]
fn quotas_hold_across_connections_ingesting_at_once() {
    let dir = common::tempdir();
    let db = dir.path().join("central.db");
    Central::init(&db).unwrap();
    let mut d = Device::new("tablet");
    for k in 0..3 {
        d.finalize(&format!("a{k}"), false, None);
    }
    let first = d.bundle(false);
    let entries = d.store.outbox(0, false).unwrap();
    d.store
        .mark_sent(&entries.iter().map(|e| (e.seq, e.instance_id.clone())).collect::<Vec<_>>())
        .unwrap();
    for k in 3..6 {
        d.finalize(&format!("a{k}"), false, None);
    }
    let second = d.bundle(true);
    let outcomes: Vec<bool> = std::thread::scope(|s| {
        let runs: Vec<_> = [first, second]
            .into_iter()
            .map(|bundle| {
                let db = db.clone();
                s.spawn(move || {
                    let mut c = Central::open(&db).unwrap();
                    c.set_quotas(quotas(0, 5, 0));
                    c.ingest(&bundle).is_ok()
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{outcomes:?}");
    assert_eq!(Central::open(&db).unwrap().status().unwrap().responses, 3);
}
