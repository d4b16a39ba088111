//! A device store with finalized responses, for the fuzz seeds and the fault
//! injection tests.

use std::path::Path;

use enumera_core::instrument::{Instrument, MODEL_VERSION};
use enumera_core::store::{NewResponse, Payload, Store};

/// A two-question text form `f` version 1 (`/data/a`, `/data/b`).
pub fn instrument() -> Instrument {
    let q = |name: &str| serde_json::json!({"name": name, "kind": {"kind": "question", "type": "text"}, "row": 2});
    let json = serde_json::json!({
        "model_version": MODEL_VERSION,
        "form_id": "f", "version": "1", "title": "f", "root_name": "data",
        "settings": {}, "children": [q("a"), q("b")],
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("test instrument")
}

/// Opens (creating) a device at `path` with the form installed.
pub fn device(path: &Path) -> Store {
    let mut store = Store::open(path).expect("open the device store");
    store.init_device("tablet", Some("enum-1")).expect("init");
    store.install_instrument(&instrument()).expect("install");
    store
}

/// The payload a response with answer `a` finalizes to.
pub fn payload(a: &str) -> Payload {
    Payload::Plain {
        xml: format!("<data><a>{a}</a></data>"),
        json: serde_json::json!({ "a": a }).to_string(),
    }
}

/// Adds `n` finalized responses (answers `answer i`); the second carries a
/// photo. Returns their instance ids.
pub fn finalize_some(store: &mut Store, n: usize) -> Vec<String> {
    let key = store.latest_instrument("f").expect("installed");
    let mut ids = Vec::new();
    for i in 0..n {
        let id = store.create_draft(&NewResponse::new(key.clone())).expect("draft").instance_id;
        let a = format!("answer {i}");
        store.set_answer(&id, "/data/a", &a).expect("answer");
        if i == 1 {
            store.put_attachment(&id, "photo.jpg", b"\xff\xd8 a photo").expect("photo");
        }
        store.finalize(&id, payload(&a)).expect("finalize");
        ids.push(id);
    }
    ids
}
