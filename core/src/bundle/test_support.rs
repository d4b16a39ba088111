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
