//! Form media over HTTP (issue 18, item 2), end to end on SQLite and, when
//! the test command provides a cluster, PostgreSQL: central publishes a
//! form with its media; a device's sync step fetches the form and every
//! file in ranges, checked by SHA-256; a file tampered with at central is
//! refused by the device and its form reported, then fetched once right;
//! tokens central does not know are refused.

// Test code: a failed expectation is a failed test.
#![allow(clippy::unwrap_used)]

mod common;
// Shared with the conformance suite, which uses all of it.
#[allow(dead_code)]
#[path = "conformance/stores.rs"]
mod stores;

use std::net::SocketAddr;

use common::http::{StdTransport, serve_at};
use enumera_central::form_media::gather_media;
use enumera_core::instrument::Instrument;
use enumera_core::remote::{HttpRequest, HttpResponse, Transport, api, fetch_instruments};
use enumera_core::store::Store;
use stores::{Backend, Kind};

fn get(addr: SocketAddr, token: &str, path: &str, range: Option<&str>) -> HttpResponse {
    let mut headers = vec![("Authorization".to_string(), format!("Bearer {token}"))];
    if let Some(r) = range {
        headers.push(("Range".into(), r.into()));
    }
    let request =
        HttpRequest { method: "GET".into(), path: path.into(), headers, body: Default::default() };
    StdTransport(addr).send(&request).expect("reply")
}

fn form() -> Instrument {
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": "kii", "version": "1", "title": "KII", "root_name": "data", "settings": {},
        "children": [{"name": "site", "kind": {"kind": "question", "type": "text"}, "row": 2,
            "label": {"": "Site"},
            "media": {"image": {"": "card.png"}, "video": {"": "tour.mp4"}}}],
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

fn run(b: &Backend) {
    let (mut central, at) = b.fresh_at();
    let dir = b.dir().join("kii-media");
    std::fs::create_dir_all(&dir).unwrap();
    let card: Vec<u8> = (0..5000u32).map(|i| (i % 200) as u8 + 1).collect();
    // Over two ranges and several store chunks.
    let tour: Vec<u8> =
        (0..(api::MEDIA_RANGE_MAX as usize + (3 << 20))).map(|i| (i % 241) as u8 + 1).collect();
    std::fs::write(dir.join("card.png"), &card).unwrap();
    std::fs::write(dir.join("tour.mp4"), &tour).unwrap();
    let gathered = gather_media(&form(), Some(&dir)).unwrap();
    central.publish_with_media(&form(), &gathered.files).unwrap();
    let token = central.create_token("tablet-1").unwrap();
    drop(central);
    let (addr, stop, handle) = serve_at(&at);

    let listed: Vec<api::InstrumentListing> =
        serde_json::from_slice(&get(addr, &token, api::INSTRUMENTS, None).body).unwrap();
    let media = &listed[0].media;
    assert_eq!(media.len(), 2);
    let card_sha = media.iter().find(|m| m.name == "card.png").unwrap().sha256.clone();
    let tour_sha = media.iter().find(|m| m.name == "tour.mp4").unwrap().sha256.clone();

    // The contract: whole, ranged, refused.
    let whole = get(addr, &token, &api::form_media_path(&tour_sha), None);
    assert_eq!(whole.status, 200);
    assert!(whole.body == tour, "a whole video streams back byte-identical");
    let part = get(addr, &token, &api::form_media_path(&card_sha), Some("bytes=10-19"));
    assert_eq!(part.status, 206);
    assert_eq!(part.header("Content-Range"), Some("bytes 10-19/5000"));
    assert_eq!(part.body, card[10..20]);
    let capped = get(addr, &token, &api::form_media_path(&tour_sha), Some("bytes=0-"));
    assert_eq!(capped.body.len() as u64, api::MEDIA_RANGE_MAX);
    assert_eq!(
        get(addr, &token, &api::form_media_path(&card_sha), Some("bytes=9000-")).status,
        416
    );
    assert_eq!(get(addr, "enm_unknown", &api::form_media_path(&card_sha), None).status, 401);
    assert_eq!(get(addr, &token, &api::form_media_path(&"ab".repeat(32)), None).status, 404);
    assert_eq!(get(addr, &token, &format!("{}/..%2Fx", api::FORM_MEDIA), None).status, 400);

    // A device: the form and its media, checked.
    let dev_dir = common::tempdir();
    let mut device = Store::open(dev_dir.path().join("device.db")).unwrap();
    let transport = StdTransport(addr);
    let fetched = fetch_instruments(&mut device, &transport, &token).unwrap();
    assert_eq!((fetched.installed.len(), fetched.media_fetched), (1, 2));
    assert!(fetched.media_missing.is_empty(), "{:?}", fetched.media_missing);
    let hash = form().hash();
    assert_eq!(device.read_form_media(&hash, "card.png").unwrap().unwrap(), card);
    assert!(device.read_form_media(&hash, "tour.mp4").unwrap().unwrap() == tour);

    // Tampered at central: a second device refuses it and reports the form.
    let tamper = match b.kind {
        Kind::Sqlite => format!(
            "UPDATE form_media_blobs SET bytes = zeroblob(size) WHERE sha256 = '{card_sha}'"
        ),
        Kind::Postgres => {
            format!(
                "UPDATE form_media_chunks SET bytes = set_byte(bytes, 0, 0) WHERE sha256 = '{card_sha}'"
            )
        }
    };
    b.raw(&at, &tamper).unwrap();
    let other_dir = common::tempdir();
    let mut other = Store::open(other_dir.path().join("device.db")).unwrap();
    let fetched = fetch_instruments(&mut other, &transport, &token).unwrap();
    assert_eq!((fetched.installed.len(), fetched.media_fetched), (1, 1));
    let missing = &fetched.media_missing;
    assert_eq!(missing.len(), 1);
    assert_eq!((missing[0].form_id.as_str(), missing[0].name.as_str()), ("kii", "card.png"));
    assert!(missing[0].reason.contains("listed as"), "{}", missing[0].reason);
    assert_eq!(other.read_form_media(&hash, "card.png").unwrap(), None);
    // The first device, syncing again, fetches nothing: it holds both.
    let again = fetch_instruments(&mut device, &transport, &token).unwrap();
    assert_eq!((again.present, again.media_fetched, again.media_missing.len()), (1, 0, 0));

    let _ = stop.send(());
    handle.join().unwrap();
}

#[test]
fn form_media_reach_devices_checked_sqlite() {
    run(&Backend::sqlite().unwrap());
}

#[test]
fn form_media_reach_devices_checked_postgres() {
    if let Some(b) = Backend::postgres() {
        run(&b);
    }
}
