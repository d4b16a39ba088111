//! The client against a scripted central in memory: what it sends, and what
//! each reply does to the store.

use std::cell::RefCell;

use super::*;
use crate::bundle::test_support::device_with;
use crate::bundle::{Receipt, ReceiptEntry, read_bundle};
use crate::remote::TransportErrorKind;
use crate::store::test_support::instrument;

const SEED: [u8; 32] = [7; 32];

/// Answers like central: a verified upload gets a receipt for every entry
/// in it, unless `fail_upload` says how to fail instead.
#[derive(Default)]
struct FakeCentral {
    sent: RefCell<Vec<HttpRequest>>,
    fail_upload: Option<Result<(u16, &'static str), TransportErrorKind>>,
    /// Bodies over this many bytes get 413, as central's limit does.
    max_body: Option<usize>,
    /// Receipts that acknowledge nothing.
    empty_receipts: bool,
    instruments: Vec<(InstrumentListing, Vec<u8>)>,
    rosters: Vec<(RosterListing, Vec<u8>)>,
}

fn body(request: &HttpRequest) -> &[u8] {
    request.body.bytes().expect("recorded as bytes")
}

fn budget(store: &Store, budget: u64) -> UploadOptions {
    UploadOptions { budget, ..UploadOptions::for_store(store) }
}

fn reply(status: u16, body: impl Into<Vec<u8>>) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse { status, headers: Vec::new(), body: body.into() })
}

impl Transport for FakeCentral {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        // A file body is read now: the client reuses its files.
        let request = &HttpRequest {
            body: Body::Bytes(request.body.to_vec().expect("the body file is there")),
            ..request.clone()
        };
        self.sent.borrow_mut().push(request.clone());
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", api::BUNDLES) => match self.fail_upload {
                Some(Err(kind)) => Err(TransportError { kind, message: "connection reset".into() }),
                Some(Ok((status, body))) => reply(status, body),
                None if self.max_body.is_some_and(|max| body(request).len() > max) => {
                    reply(413, r#"{"error":"too_large","message":"over the limit"}"#)
                }
                None => {
                    let bundle = read_bundle(body(request)).expect("client sends valid bundles");
                    let receipt = Receipt {
                        format: crate::bundle::receipt::RECEIPT_FORMAT.into(),
                        central_public_key: String::new(),
                        device_id: bundle.manifest.device_id.clone(),
                        device_public_key: bundle.manifest.device_public_key.clone(),
                        issued_at: "2026-01-01T00:00:00Z".into(),
                        through: None,
                        entries: bundle
                            .manifest
                            .entries
                            .iter()
                            .filter(|_| !self.empty_receipts)
                            .map(|e| ReceiptEntry {
                                seq: e.seq,
                                instance_id: e.instance_id.clone(),
                                entry_hash: e.entry_hash.clone(),
                            })
                            .collect(),
                    }
                    .sign(&SEED);
                    let body = UploadReply {
                        receipt: String::from_utf8(receipt.file).expect("utf-8"),
                        report: serde_json::Value::Null,
                    };
                    reply(200, serde_json::to_vec(&body).expect("json"))
                }
            },
            // A central from before assignments (issue 17): sync goes on.
            // An older central: no uploads in parts.
            ("POST", api::UPLOADS) => {
                reply(404, r#"{"error":"not_found","message":"no such endpoint"}"#)
            }
            ("POST", api::ASSIGNMENTS) => {
                reply(404, r#"{"error":"not_found","message":"no such endpoint"}"#)
            }
            ("GET", api::INSTRUMENTS) => {
                let list: Vec<_> = self.instruments.iter().map(|(l, _)| l.clone()).collect();
                reply(200, serde_json::to_vec(&list).expect("json"))
            }
            ("GET", api::ROSTERS) => {
                let list: Vec<_> = self.rosters.iter().map(|(l, _)| l.clone()).collect();
                reply(200, serde_json::to_vec(&list).expect("json"))
            }
            ("GET", path) => {
                let found = self
                    .instruments
                    .iter()
                    .find(|(l, _)| api::instrument_path(&l.hash) == path)
                    .map(|(_, b)| b)
                    .or_else(|| {
                        self.rosters
                            .iter()
                            .find(|(l, _)| api::roster_path(&l.name) == path)
                            .map(|(_, b)| b)
                    });
                match found {
                    Some(body) => reply(200, body.clone()),
                    None => reply(404, r#"{"error":"not_found","message":"no such thing"}"#),
                }
            }
            _ => reply(405, "method not allowed"),
        }
    }
}

fn unsent(store: &Store) -> usize {
    store.outbox(0, true).expect("outbox").len()
}

#[test]
fn sync_uploads_then_marks_sent_only_what_the_receipt_covers() {
    let (_dir, mut store, ids) = device_with(3);
    let central = FakeCentral::default();
    let report = sync(&mut store, &central, "tok").expect("sync");
    assert_eq!(report.uploaded, 3);
    assert_eq!(report.receipt.as_ref().map(|r| r.marked.len()), Some(3));
    assert_eq!(unsent(&store), 0);
    let sent = central.sent.borrow();
    assert_eq!(sent[0].path, api::BUNDLES);
    assert!(sent[0].headers.contains(&("Authorization".into(), "Bearer tok".into())));
    assert_eq!(read_bundle(body(&sent[0])).expect("bundle").responses.len(), ids.len());
    drop(sent);

    // Nothing waiting: the next sync uploads nothing.
    let again = sync(&mut store, &central, "tok").expect("sync again");
    assert_eq!(again.uploaded, 0);
    assert!(central.sent.borrow().iter().filter(|r| r.path == api::BUNDLES).count() == 1);
}

#[test]
fn a_failed_upload_marks_nothing_and_a_retry_resends_everything() {
    let (_dir, mut store, _) = device_with(2);
    for failure in [Err(TransportErrorKind::Interrupted), Ok((500, "boom")), Ok((408, "slow"))] {
        let central = FakeCentral { fail_upload: Some(failure), ..Default::default() };
        let err = sync(&mut store, &central, "tok").expect_err("upload fails");
        assert!(err.is_retryable(), "{err}");
        assert_eq!(unsent(&store), 2, "nothing marked sent after {err}");
    }
    let report = sync(&mut store, &FakeCentral::default(), "tok").expect("retry");
    assert_eq!(report.uploaded, 2);
    assert_eq!(unsent(&store), 0);
}

#[test]
fn refusals_map_to_errors_people_can_act_on() {
    let cases: [(u16, &str, &str); 5] = [
        (401, r#"{"error":"bad_token","message":"unknown token"}"#, "refused the token"),
        (403, r#"{"error":"other_device","message":"bundle of device X"}"#, "bundle of device X"),
        (400, r#"{"error":"bad_signature","message":"bad signature"}"#, "bad_signature"),
        (413, "too big", "413"),
        (404, "", "404"),
    ];
    for (status, body, expected) in cases {
        let (_dir, mut store, _) = device_with(1);
        let central = FakeCentral { fail_upload: Some(Ok((status, body))), ..Default::default() };
        let err = sync(&mut store, &central, "tok").expect_err("refused");
        assert!(err.to_string().contains(expected), "{status}: {err}");
        assert!(!err.is_retryable(), "{status} is not retryable");
        assert_eq!(unsent(&store), 1);
    }
}

#[test]
fn instruments_are_installed_once_and_checked_against_their_hash() {
    let (_dir, mut store, _) = device_with(0);
    let new = instrument("g", "2", &["x"]);
    let listing = |i: &Instrument| InstrumentListing {
        form_id: i.form_id.clone(),
        version: i.version.clone(),
        hash: i.hash(),
        title: i.title.clone(),
        media: Vec::new(),
        published_at: String::new(),
    };
    let central = FakeCentral {
        instruments: vec![(listing(&new), new.canonical_json())],
        ..Default::default()
    };
    let report = sync(&mut store, &central, "tok").expect("sync");
    assert_eq!(report.instruments_installed.len(), 1);
    let report = sync(&mut store, &central, "tok").expect("sync again");
    assert_eq!((report.instruments_installed.len(), report.instruments_present), (0, 1));

    // Content that does not match the listed hash is refused.
    let other = instrument("h", "1", &["y"]);
    let central = FakeCentral {
        instruments: vec![(listing(&other), instrument("h", "1", &["z"]).canonical_json())],
        ..Default::default()
    };
    let report = sync(&mut store, &central, "tok").expect("one bad form stops nothing");
    assert_eq!(report.instruments_refused.len(), 1);
    assert!(report.instruments_refused[0].reason.contains("arrived with hash"));
    assert!(store.instruments().expect("list").iter().all(|i| i.key.form_id != "h"));
}

/// Issue 15, finding 8: a published form the device cannot read (central
/// published it before it checked what it serves) and one whose content is
/// not its hash are each refused and reported; every other form is installed and the sync goes on to the
/// rosters. Fails where one bad form made every sync fail.
#[test]
fn publish_validates_one_bad_form_never_stops_the_others_on_the_device() {
    let (_dir, mut store, _) = device_with(0);
    let listing = |form_id: &str, hash: String| InstrumentListing {
        form_id: form_id.into(),
        version: "1".into(),
        hash,
        title: form_id.into(),
        media: Vec::new(),
        published_at: String::new(),
    };
    let good = instrument("good", "1", &["x"]);
    let unreadable = b"{\"model_version\": 1, \"children\": [[[[".to_vec();
    let roster = br#"{"participants":[{"id":"MZ-001"}]}"#.to_vec();
    let central = FakeCentral {
        instruments: vec![
            (listing("deep", crate::bundle::sha256_hex(&unreadable)), unreadable),
            (listing("other", "ab".repeat(32)), instrument("other", "1", &["z"]).canonical_json()),
            (listing("good", good.hash()), good.canonical_json()),
        ],
        rosters: vec![(
            RosterListing {
                name: "r".into(),
                sha256: crate::bundle::sha256_hex(&roster),
                participants: 1,
                published_at: String::new(),
            },
            roster,
        )],
        ..Default::default()
    };
    let report = sync(&mut store, &central, "tok").expect("sync");
    let refused: Vec<&str> =
        report.instruments_refused.iter().map(|r| r.form_id.as_str()).collect();
    assert_eq!(refused, ["deep", "other"]);
    assert!(report.instruments_refused[0].reason.contains("not readable"));
    assert_eq!(report.instruments_installed.len(), 1);
    assert_eq!(report.instruments_installed[0].form_id, "good");
    assert_eq!(report.rosters.len(), 1);
}

#[test]
fn rosters_are_imported_and_bad_names_or_hashes_refused() {
    let (_dir, mut store, _) = device_with(0);
    let roster = br#"{"participants":[{"id":"MZ-001","display":{"lga":"Maputo"}}]}"#.to_vec();
    let listing = |name: &str, body: &[u8]| RosterListing {
        name: name.into(),
        sha256: crate::bundle::hex(&<sha2::Sha256 as sha2::Digest>::digest(body)),
        participants: 1,
        published_at: String::new(),
    };
    let central = FakeCentral {
        rosters: vec![(listing("round-1", &roster), roster.clone())],
        ..Default::default()
    };
    let report = sync(&mut store, &central, "tok").expect("sync");
    assert_eq!(report.rosters[0].import.added, 1);
    let report = sync(&mut store, &central, "tok").expect("sync again");
    assert_eq!(report.rosters[0].import.unchanged, 1);

    let central = FakeCentral {
        rosters: vec![(listing("../etc", &roster), roster.clone())],
        ..Default::default()
    };
    assert!(matches!(sync(&mut store, &central, "tok"), Err(SyncError::Protocol { .. })));
    let mut tampered = listing("round-2", &roster);
    tampered.sha256 = "0".repeat(64);
    let central = FakeCentral { rosters: vec![(tampered, roster)], ..Default::default() };
    assert!(matches!(sync(&mut store, &central, "tok"), Err(SyncError::Protocol { .. })));
}

#[test]
fn a_missing_receipt_is_none_not_an_error() {
    let (_dir, mut store, _) = device_with(1);
    let central = FakeCentral::default();
    assert_eq!(fetch_receipt(&mut store, &central, "tok").expect("fetch"), None);
}

/// The bodies of the bundles the client posted that central took.
fn accepted(central: &FakeCentral) -> Vec<usize> {
    let limit = central.max_body.unwrap_or(usize::MAX);
    let sent = central.sent.borrow();
    sent.iter()
        .filter(|r| r.path == api::BUNDLES)
        .map(|r| body(r).len())
        .filter(|&n| n <= limit)
        .collect()
}

/// The size of a bundle holding all of `store`'s responses.
fn whole_bundle(store: &Store) -> u64 {
    let mut out = Vec::new();
    write_bundle(store, &BundleOptions { since_receipt: true, ..Default::default() }, &mut out)
        .expect("bundle")
        .bytes
}

#[test]
fn a_backlog_goes_as_several_bundles_each_acknowledged() {
    let (_dir, mut store, _) = device_with(12);
    let per_response = whole_bundle(&store) / 12;
    let central = FakeCentral::default();
    let options = budget(&store, per_response * 3);
    let up = upload_with(&mut store, &central, "tok", &options)
        .expect("upload")
        .expect("something was waiting");
    assert_eq!((up.responses, up.receipt.marked), (12, (1..=12).collect::<Vec<u64>>()));
    assert!(up.bundles >= 4, "{} bundles for 12 responses at ~3 each", up.bundles);
    assert_eq!(accepted(&central).len(), up.bundles);
    assert!(up.receipt.already_sent.is_empty(), "{:?}", up.receipt.already_sent);
    assert_eq!(unsent(&store), 0);
    // Each bundle a run of the outbox, in order, none twice.
    let seqs: Vec<u64> = central
        .sent
        .borrow()
        .iter()
        .flat_map(|r| read_bundle(body(r)).expect("bundle").manifest.entries)
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, (1..=12).collect::<Vec<u64>>());
}

#[test]
fn a_server_limit_shrinks_the_bundles_until_they_fit() {
    let (_dir, mut store, _) = device_with(10);
    let whole = whole_bundle(&store) as usize;
    let central = FakeCentral { max_body: Some(whole / 4), ..Default::default() };
    let report = sync(&mut store, &central, "tok").expect("sync");
    assert_eq!(report.uploaded, 10);
    assert_eq!(unsent(&store), 0);
    assert!(report.bundles >= 4, "{} bundles", report.bundles);
    assert!(accepted(&central).iter().all(|&n| n <= whole / 4));
}

#[test]
fn one_response_over_the_servers_limit_is_refused_and_stays_unsent() {
    let (_dir, mut store, _) = device_with(3);
    let central = FakeCentral { max_body: Some(100), ..Default::default() };
    let err = sync(&mut store, &central, "tok").expect_err("too large");
    assert!(matches!(err, SyncError::TooLarge { .. }), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(unsent(&store), 3);
}

#[test]
fn a_receipt_that_acknowledges_nothing_stops_the_upload() {
    let (_dir, mut store, _) = device_with(6);
    let per_response = whole_bundle(&store) / 6;
    let central = FakeCentral { empty_receipts: true, ..Default::default() };
    let options = budget(&store, per_response * 2);
    let up = upload_with(&mut store, &central, "tok", &options)
        .expect("upload")
        .expect("something was waiting");
    // Not the same bundle again and again: one try, nothing marked.
    assert_eq!((up.bundles, up.receipt.marked.len()), (1, 0));
    assert_eq!(unsent(&store), 6);
}

#[test]
fn an_older_central_without_uploads_in_parts_gets_one_streamed_post() {
    let (_dir, mut store, _) = device_with(2);
    let central = FakeCentral::default();
    let options = UploadOptions { part_size: 64, ..UploadOptions::for_store(&store) };
    let up = upload_with(&mut store, &central, "tok", &options).expect("upload").expect("sent");
    assert_eq!(up.receipt.marked.len(), 2);
    let sent: Vec<_> =
        central.sent.borrow().iter().map(|r| (r.method.clone(), r.path.clone())).collect();
    assert_eq!(
        sent[..2],
        [("POST".into(), api::UPLOADS.into()), ("POST".into(), api::BUNDLES.into())]
    );
    // Nothing is left in the upload folder but its lock.
    let dir = options.spool_dir.expect("a folder");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["lock"]);
}
