//! Passes against a real central (in memory), answered as its HTTP server
//! answers: what each step does to the device, and in how many passes.

use enumera_central::Central;
use enumera_core::expr::FixedEnv;
use enumera_core::fill::{Fill, Start};
use enumera_core::instrument::Instrument;
use enumera_core::remote::{self, api};

use super::*;

fn instrument(form_id: &str) -> Instrument {
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": form_id, "version": "1", "title": form_id, "root_name": "data",
        "settings": {}, "children": [
            {"name": "a", "kind": {"kind": "question", "type": "text"}, "row": 2}
        ],
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

fn reply(status: u16, body: Vec<u8>) -> Reply {
    Ok(HttpResponse { status, headers: Vec::new(), body })
}

/// Central's routes, without HTTP: what the server would answer.
fn serve(central: &mut Central, request: &HttpRequest) -> Reply {
    let json = |v: &dyn erased::Json| reply(200, v.bytes());
    match (request.method.as_str(), request.path.as_str()) {
        ("POST", api::BUNDLES) => {
            let report = match central.ingest(request.body.bytes().unwrap_or_default()) {
                Ok(r) => r,
                Err(e) => {
                    return reply(400, format!(r#"{{"error":"bad","message":"{e}"}}"#).into());
                }
            };
            let device =
                enumera_core::bundle::read_bundle(request.body.bytes().unwrap_or_default())
                    .map(|b| b.manifest.device_id)
                    .unwrap_or_default();
            let receipt = central.receipt_for(&device).expect("receipt");
            let body = api::UploadReply {
                receipt: String::from_utf8(receipt.file).expect("utf-8"),
                report: serde_json::to_value(report).unwrap_or_default(),
            };
            json(&body)
        }
        ("GET", api::INSTRUMENTS) => {
            let listed: Vec<api::InstrumentListing> = central
                .published()
                .expect("published")
                .into_iter()
                .map(|p| api::InstrumentListing {
                    form_id: p.form_id,
                    version: p.version,
                    hash: p.hash,
                    title: p.title,
                    media: Vec::new(),
                    published_at: p.published_at,
                })
                .collect();
            json(&listed)
        }
        ("GET", api::ROSTERS) => json(&central.rosters().expect("rosters")),
        ("GET", path) if path.starts_with("/v1/instruments/") => {
            let hash = &path["/v1/instruments/".len()..];
            reply(200, central.published_by_hash(hash).expect("get").unwrap_or_default())
        }
        ("GET", path) if path.starts_with("/v1/rosters/") => {
            let name = &path["/v1/rosters/".len()..];
            reply(200, central.roster_json(name).expect("get").unwrap_or_default())
        }
        _ => reply(404, br#"{"error":"not_found","message":"no such endpoint"}"#.to_vec()),
    }
}

/// Serializes any reply body the same way the server does.
mod erased {
    pub trait Json {
        fn bytes(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Json for T {
        fn bytes(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }
}

/// A device with `n` finalized responses of form `f`.
fn device(n: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path().join("device.db")).expect("open");
    store.init_device("browser", None).expect("init");
    store.install_instrument(&instrument("f")).expect("install");
    for i in 0..n {
        let env = Box::new(FixedEnv::default());
        let mut fill = Fill::start(&mut store, "f", &Start::default(), env).expect("start");
        fill.set(&mut store, "/data/a", &format!("answer {i}")).expect("answer");
        fill.finalize(&mut store).expect("finalize");
    }
    (dir, store)
}

fn unsent(store: &Store) -> usize {
    store.outbox(0, true).map(|o| o.len()).unwrap_or(usize::MAX)
}

#[test]
fn an_upload_takes_two_passes_and_only_the_receipt_marks_responses_sent() {
    let (_dir, mut store) = device(3);
    let mut central = Central::in_memory().expect("central");
    let mut posts = 0;
    let (result, passes) = drive_blocking(&mut store, "t", &remote::upload_in_memory, &mut |r| {
        posts += usize::from(r.method == "POST");
        serve(&mut central, r)
    });
    let up = result.expect("uploaded").expect("something was sent");
    assert_eq!((up.responses, up.receipt.marked.len(), passes, posts), (3, 3, 2, 1));
    assert_eq!(unsent(&store), 0);
    assert_eq!(central.status().expect("status").responses, 3, "held once each");
}

#[test]
fn a_failed_upload_keeps_everything_unsent_and_says_network() {
    let (_dir, mut store) = device(2);
    let (result, _) = drive_blocking(&mut store, "t", &remote::upload_in_memory, &mut |_| {
        Err(TransportError { kind: TransportErrorKind::Unreachable, message: "offline".into() })
    });
    let e = result.expect_err("failed");
    assert!(e.is_retryable(), "{e}");
    assert!(e.to_string().contains("offline"), "{e}");
    assert_eq!(unsent(&store), 2);
}

#[test]
fn forms_and_rosters_arrive_in_one_pass_after_their_listing() {
    let (_dir, mut store) = device(0);
    let mut central = Central::in_memory().expect("central");
    for id in ["g", "h"] {
        central.publish(&instrument(id)).expect("publish");
    }
    central.publish(&instrument("f")).expect("publish");
    let roster = br#"{"participants": [{"id": "MZ-0001", "display": {"lg": "Beira"}}]}"#;
    central.publish_roster("mz", roster).expect("roster");
    let (forms, passes) = drive_blocking(&mut store, "t", &remote::fetch_instruments, &mut |r| {
        serve(&mut central, r)
    });
    let forms = forms.expect("forms");
    let present = forms.present;
    let mut ids: Vec<String> = forms.installed.into_iter().map(|k| k.form_id).collect();
    ids.sort();
    assert_eq!((ids, present, passes), (vec!["g".to_string(), "h".into()], 1, 2));
    let (rosters, passes) =
        drive_blocking(&mut store, "t", &remote::fetch_rosters, &mut |r| serve(&mut central, r));
    let rosters = rosters.expect("rosters");
    assert_eq!((rosters.len(), rosters[0].import.added, passes), (1, 1, 2));
    assert_eq!(store.participants().map(|p| p.len()).unwrap_or(0), 1);
}

#[test]
fn a_backlog_in_several_bundles_gets_a_receipt_for_each() {
    let (_dir, mut store) = device(3);
    let mut central = Central::in_memory().expect("central");
    let mut posts = 0;
    // Central refuses bundles of more than one response: core halves its
    // budget and sends smaller ones.
    let one = {
        let options = enumera_core::bundle::BundleOptions {
            since_receipt: true,
            max_bytes: Some(1),
            ..Default::default()
        };
        let mut bytes = Vec::new();
        enumera_core::bundle::write_bundle(&store, &options, &mut bytes).expect("bundle");
        bytes.len()
    };
    let (result, _) = drive_blocking(&mut store, "t", &remote::upload_in_memory, &mut |r| {
        posts += usize::from(r.method == "POST");
        if r.method == "POST" && r.body.bytes().unwrap_or_default().len() > one + one / 2 {
            return reply(413, br#"{"error":"too_large","message":"over"}"#.to_vec());
        }
        serve(&mut central, r)
    });
    result.expect("uploaded");
    assert_eq!(unsent(&store), 0, "every response acknowledged");
    assert_eq!(central.status().expect("status").responses, 3);
    assert!(posts >= 3, "{posts} posts");
}

#[test]
fn a_refused_token_is_refused() {
    let (_dir, mut store) = device(1);
    let (result, _) = drive_blocking(&mut store, "t", &remote::upload_in_memory, &mut |_| {
        reply(401, br#"{"error":"bad_token","message":"unknown or revoked token"}"#.to_vec())
    });
    let e = result.expect_err("refused");
    assert!(matches!(e, SyncError::Unauthorized { .. }), "{e}");
    assert_eq!(unsent(&store), 1);
}

/// A form media file longer than one range comes range by range from one
/// path: each range is its own reply (matched by its `Range` header),
/// fetched with the form after the listing, so the file arrives whole and
/// checked in the pass that installs the form, and its report counts both.
#[test]
fn form_media_of_several_ranges_arrive_whole() {
    let (_dir, mut store) = device(0);
    let mut central = Central::in_memory().expect("central");
    central.publish(&instrument("g")).expect("publish");
    let size = api::MEDIA_RANGE_MAX as usize * 2 + 1000;
    let file: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let sha256 = enumera_core::bundle::sha256_hex(&file);
    let entry = enumera_core::store::FormMediaEntry {
        name: "map.png".into(),
        sha256: sha256.clone(),
        size: size as u64,
    };
    let media_path = api::form_media_path(&sha256);
    let mut ranges = 0;
    let (forms, passes) = drive_blocking(&mut store, "t", &remote::fetch_instruments, &mut |r| {
        if r.path == api::INSTRUMENTS {
            let listing = serve(&mut central, r).expect("served");
            let mut listed: Vec<api::InstrumentListing> =
                serde_json::from_slice(&listing.body).expect("listing");
            listed[0].media = vec![entry.clone()];
            return reply(200, serde_json::to_vec(&listed).expect("json"));
        }
        if r.path == media_path {
            ranges += 1;
            let range = range(r).expect("ranged");
            let (a, b) = range["bytes=".len()..].split_once('-').expect("a range");
            let (a, b): (usize, usize) = (a.parse().expect("from"), b.parse().expect("to"));
            let b = b.min(size - 1);
            return Ok(HttpResponse {
                status: 206,
                headers: vec![("Content-Range".into(), format!("bytes {a}-{b}/{size}"))],
                body: file[a..=b].to_vec(),
            });
        }
        serve(&mut central, r)
    });
    let forms = forms.expect("forms");
    assert_eq!((forms.installed.len(), forms.media_fetched), (1, 1), "{:?}", forms.media_missing);
    assert_eq!(ranges, 3, "one request per range");
    assert_eq!(passes, 2, "the listing, then the form and its media in one pass");
    let hash = forms.installed[0].hash.clone();
    let kept = store.read_form_media(&hash, "map.png").expect("read").expect("kept");
    assert!(kept == file, "the file arrives byte for byte");
}
