//! Devices with finalized responses, for bundle tests here and in central.

use crate::store::test_support::instrument;
use crate::store::{NewResponse, Payload, Store};

/// A device with `n` plain responses finalized (answers `a`, XML and JSON
/// naming `n`), the second one with a photo attachment.
pub fn device_with(n: usize) -> (tempfile::TempDir, Store, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path().join("device.db")).expect("open");
    store.init_device("tablet", Some("enum-1")).expect("init");
    let key = store.install_instrument(&instrument("f", "1", &["a"])).expect("install");
    let mut ids = Vec::new();
    for i in 0..n {
        let id = store.create_draft(&NewResponse::new(key.clone())).expect("draft").instance_id;
        store.set_answer(&id, "/data/a", &format!("answer {i}")).expect("answer");
        if i == 1 {
            store.put_attachment(&id, "photo.jpg", b"\xff\xd8 a photo").expect("photo");
        }
        store
            .finalize(
                &id,
                Payload::Plain {
                    xml: format!("<data><a>answer {i}</a></data>"),
                    json: format!("{{\"a\":\"answer {i}\"}}"),
                },
            )
            .expect("finalize");
        ids.push(id);
    }
    (dir, store, ids)
}

/// The committed TEST-ONLY researcher identity and its public key.
pub const TEST_IDENTITY: &str =
    include_str!("../../../instruments/p2p-sanitation/test-keys/researcher.agekey");
pub const TEST_RECIPIENT: &str = "age1gp4hnhu3kv6zpux60qq8cqcfvkvz54yt6pz4m7kcxapa7qnv9yaqm70asn";

/// An answer that must never appear in plaintext outside the sealed item.
pub const SECRET_ANSWER: &str = "Chamanculo faecal sludge plan: SECRET-7741";

/// A device whose instrument seals to the test researcher key, with one
/// response finalized through [`super::finalize_response`] (answer
/// [`SECRET_ANSWER`] and a photo).
pub fn sealed_device() -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path().join("device.db")).expect("open");
    store.init_device("tablet", None).expect("init");
    let json = serde_json::json!({
        "model_version": crate::instrument::model::MODEL_VERSION,
        "form_id": "capacity_sealed", "version": "1", "title": "Capacity (sealed)",
        "root_name": "data", "settings": {"public_keys": [TEST_RECIPIENT]},
        "children": [{"name": "plan", "kind": {"kind": "question", "type": "text"}, "row": 2}],
    });
    let instrument =
        crate::instrument::Instrument::from_json(json.to_string().as_bytes()).expect("instrument");
    let key = store.install_instrument(&instrument).expect("install");
    let id = store.create_draft(&NewResponse::new(key)).expect("draft").instance_id;
    store.set_answer(&id, "/data/plan", SECRET_ANSWER).expect("answer");
    store.put_attachment(&id, "plan.jpg", b"photo of the plan").expect("photo");
    super::finalize_response(
        &mut store,
        &id,
        format!("<data><plan>{SECRET_ANSWER}</plan></data>"),
        format!("{{\"plan\":\"{SECRET_ANSWER}\"}}"),
    )
    .expect("finalize sealed");
    (dir, store, id)
}
