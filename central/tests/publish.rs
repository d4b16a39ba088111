//! Publish validates what it will serve (issue 15, finding 8): central
//! refuses to publish an instrument it could not read back, one bad
//! published form never stops the export of the others, and an operator
//! can stop serving a form (`central unpublish`).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::Device;
use enumera_central::export::{ExportOptions, Format, export};
use enumera_central::{Central, CentralError};
use enumera_core::instrument::Instrument;

/// A form whose groups nest `depth` deep: built in memory, as an import
/// that allowed it would (its canonical JSON nests past what the reader
/// takes).
fn deep_form(depth: usize) -> Instrument {
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": "deep", "version": "1", "title": "deep", "root_name": "data", "settings": {},
        "children": [{"name": "g", "kind": {"kind": "group"}, "row": 2,
            "children": [{"name": "a", "kind": {"kind": "question", "type": "text"}, "row": 3}]}],
    });
    let mut form = Instrument::from_json(json.to_string().as_bytes()).unwrap();
    let group = form.children[0].clone();
    let mut node = group.children[0].clone();
    for i in 0..depth {
        let mut g = group.clone();
        g.name = format!("g{i}");
        g.children = vec![node];
        node = g;
    }
    form.children = vec![node];
    form
}

/// The review's form: groups nested so deep that its canonical JSON does
/// not read back. Publishing it is refused with a message that says what
/// to do, and nothing is published; a form that reads back is published.
/// Fails where central published it and then failed every sync and export.
#[test]
fn publish_validates_a_form_central_cannot_read_back_is_refused() {
    let deep = deep_form(200);
    assert!(
        Instrument::from_json(&deep.canonical_json()).is_err(),
        "the test form must not read back"
    );
    let mut c = Central::in_memory().unwrap();
    let err = c.publish(&deep).unwrap_err();
    assert!(matches!(err, CentralError::Unservable { .. }), "{err}");
    assert!(err.to_string().contains("nested"), "{err}");
    assert!(c.published().unwrap().is_empty());
    assert!(c.publish(&deep_form(10)).unwrap());
}

/// A form published before central checked (its row put there as an older
/// central would have) no longer stops the export: the other form's
/// responses are exported, the report names the unreadable form; and once
/// unpublished it is no longer served to devices, while the other is.
#[test]
fn publish_validates_one_bad_published_form_never_stops_export_or_sync() {
    let dir = common::tempdir();
    let db = dir.path().join("c.db");
    let mut d = Device::new("tablet");
    let id = d.finalize("kept", false, None);
    let mut c = Central::init(&db).unwrap();
    c.publish(&common::instrument("plain", &[])).unwrap();
    let deep = deep_form(200);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "INSERT INTO published (form_id, version, hash, title, json, published_at)
             VALUES ('deep', '1', ?1, 'deep', ?2, 'then')",
            rusqlite::params![deep.hash(), deep.canonical_json()],
        )
        .unwrap();
    }
    c.ingest(&d.bundle(false)).unwrap();
    let out = common::tempdir();
    let opts = ExportOptions { format: Some(Format::Csv), ..Default::default() };
    let summary = export(c.store(), &opts, out.path(), &mut |_, _| {}).unwrap();
    assert_eq!(summary.responses, 1);
    assert!(std::fs::read_to_string(out.path().join("plain.csv")).unwrap().contains(&id));
    let report = std::fs::read_to_string(out.path().join("report.csv")).unwrap();
    assert!(
        report.lines().any(|l| l.starts_with("unreadable_form,") && l.contains("deep")),
        "{report}"
    );

    let served =
        |c: &Central| c.served().unwrap().into_iter().map(|p| p.form_id).collect::<Vec<_>>();
    assert_eq!(served(&c), ["deep", "plain"]);
    assert_eq!(c.unpublish("deep", Some("1")).unwrap(), 1);
    assert_eq!(served(&c), ["plain"]);
    assert!(c.published_by_hash(&deep.hash()).unwrap().is_none());
    assert_eq!(c.published().unwrap().len(), 2, "kept at central");
    assert!(matches!(c.unpublish("nope", None), Err(CentralError::NotPublished { .. })));
    // Publishing a form again serves it again.
    c.unpublish("plain", None).unwrap();
    assert!(c.publish(&common::instrument("plain", &[])).unwrap());
    assert_eq!(served(&c), ["plain"]);
}
