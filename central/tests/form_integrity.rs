//! Form integrity (issue 15, finding 2): a response is exported only when
//! it was filled with the form central published under its form id and
//! version, and sealed when that form names researcher keys. A device that
//! drops a form's key locally (same id and version, another content hash)
//! or finalizes in plaintext anyway gets its response held aside, kept for
//! review, never exported as a row, whether the form was published before
//! or after the response arrived.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Device, TEST_RECIPIENT};
use enumera_central::Central;
use enumera_central::export::{ExportOptions, Format, export};
use enumera_core::bundle::ResearcherIdentity;
use enumera_core::store::{InstrumentKey, NewResponse, Payload};

/// The sealed form without its key, put on the device under the same id
/// and version behind the store's back (the store refuses a second content
/// for an installed version), as a modified app would.
fn install_keyless(d: &Device) -> InstrumentKey {
    let keyless = common::instrument("sealed", &[]);
    let json = String::from_utf8(keyless.canonical_json()).unwrap();
    let hash = keyless.hash();
    d.raw_sql(
        "INSERT INTO instruments (form_id, version, hash, title, json, installed_at)
         VALUES ('sealed', '1', ?1, 'sealed', CAST(?2 AS BLOB), 'now')",
        &[&hash, &json],
    );
    InstrumentKey { form_id: "sealed".into(), version: "1".into(), hash }
}

/// (current, held aside).
fn counts(c: &Central) -> (u64, u64) {
    let s = c.status().unwrap();
    (s.current, s.held_aside)
}

/// The report.csv of an export with the researcher's identity.
fn export_report(c: &Central) -> (u64, String) {
    let dir = common::tempdir();
    let identity = ResearcherIdentity::parse(common::TEST_IDENTITY).unwrap();
    let opts =
        ExportOptions { format: Some(Format::Csv), identity: Some(identity), ..Default::default() };
    let summary = export(c.store(), &opts, dir.path(), &mut |_, _| {}).unwrap();
    (summary.responses, std::fs::read_to_string(dir.path().join("report.csv")).unwrap())
}

/// The review's attack, and its variant: a device whose copy of a sealed
/// form lost its key (same id and version, another hash) finalizes in
/// plaintext; another finalizes plaintext under the published form's own
/// hash. Both are held aside; an honest sealed response is exported. Fails
/// on a central that stores and exports both as normal rows.
#[test]
fn form_integrity_plaintext_for_a_sealed_form_is_never_exported() {
    let mut d = Device::new("tablet");
    let honest = d.finalize("sealed as it should be", true, None);
    // The form without its key, installed on the device under the same id and version.
    let keyless = install_keyless(&d);
    let dropped = d.store.create_draft(&NewResponse::new(keyless)).unwrap().instance_id;
    d.store.set_answer(&dropped, "/data/a", "in the clear").unwrap();
    let plain = |id: &str| Payload::Plain {
        xml: format!("<data><a>in the clear</a><meta><instanceID>{id}</instanceID></meta></data>"),
        json: "{}".into(),
    };
    d.store.finalize(&dropped, plain(&dropped)).unwrap();
    // Plaintext under the published hash (sealing skipped by a modified app).
    let skipped = d.store.create_draft(&NewResponse::new(d.sealed.clone())).unwrap().instance_id;
    d.store.finalize(&skipped, plain(&skipped)).unwrap();

    let mut c = Central::in_memory().unwrap();
    c.publish(&common::instrument("sealed", &[TEST_RECIPIENT])).unwrap();
    let report = c.ingest(&d.bundle(false)).unwrap();
    let kinds: Vec<(&str, &str)> =
        report.held_aside.iter().map(|h| (h.instance_id.as_str(), h.kind.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            (dropped.as_str(), "form_hash_mismatch"),
            (skipped.as_str(), "plaintext_for_sealed_form")
        ]
    );
    assert_eq!(counts(&c), (1, 2));
    let (exported, report_csv) = export_report(&c);
    assert_eq!(exported, 1);
    assert!(!report_csv.contains(&honest), "{report_csv}");
    let line = report_csv.lines().find(|l| l.contains(&dropped)).unwrap();
    assert!(line.starts_with("form_hash_mismatch,"), "{line}");
    let line = report_csv.lines().find(|l| l.contains(&skipped)).unwrap();
    assert!(line.starts_with("plaintext_for_sealed_form,"), "{line}");
}

/// Publishing the form after its responses arrived applies to them too:
/// the check is made whenever central is read, not only at ingest.
#[test]
fn form_integrity_a_form_published_after_its_responses_applies_to_them() {
    let mut d = Device::new("tablet");
    let keyless = install_keyless(&d);
    let id = d.store.create_draft(&NewResponse::new(keyless)).unwrap().instance_id;
    d.store.set_answer(&id, "/data/a", "x").unwrap();
    let xml = format!("<data><a>x</a><meta><instanceID>{id}</instanceID></meta></data>");
    d.store.finalize(&id, Payload::Plain { xml, json: "{}".into() }).unwrap();
    d.finalize("sealed", true, None);

    let mut c = Central::in_memory().unwrap();
    let report = c.ingest(&d.bundle(false)).unwrap();
    assert!(report.held_aside.is_empty(), "nothing published yet: {report:?}");
    assert_eq!(counts(&c), (2, 0));
    c.publish(&common::instrument("sealed", &[TEST_RECIPIENT])).unwrap();
    assert_eq!(counts(&c), (1, 1));
    // Unpublishing stops serving the form, not checking against it.
    c.unpublish("sealed", None).unwrap();
    assert_eq!(counts(&c), (1, 1));
}
