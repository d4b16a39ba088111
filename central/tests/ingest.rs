//! Central ingest: idempotence, conflicts, edits, gaps and forks, refusals,
//! receipts and sealed responses, through the public API.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Device, assemble, contains, split};
use enumera_central::{Central, IngestError};
use enumera_core::bundle::{
    BundleError, ResearcherIdentity, SealError, apply_receipt, open_sealed,
};
use enumera_core::store::ResponseState;

fn status_json(c: &Central) -> serde_json::Value {
    serde_json::to_value(c.status().unwrap()).unwrap()
}

#[test]
fn the_same_bundle_twice_is_held_once() {
    let mut d = Device::new("t1");
    let ids: Vec<String> =
        (0..3).map(|i| d.finalize(&format!("a{i}"), false, Some(b"jpg"))).collect();
    let bundle = d.bundle(false);
    let mut c = Central::in_memory().unwrap();
    let first = c.ingest(&bundle).unwrap();
    assert_eq!((first.entries, first.new_responses, first.duplicates), (3, 3, 0));
    let dump = c.canonical_dump().unwrap();
    for id in &ids {
        assert!(dump.contains(id));
    }
    let again = c.ingest(&bundle).unwrap();
    assert_eq!((again.new_entries, again.new_responses, again.duplicates), (0, 0, 3));
    assert_eq!(c.canonical_dump().unwrap(), dump);
    // A damaged copy of a bundle already held is still refused with its reason.
    let mut bad = bundle.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    assert_eq!(c.ingest(&bad).unwrap_err().code(), "hash_mismatch");
    // Verified again from scratch (not recognised by its hash): still a no-op.
    let verified = enumera_core::bundle::read_bundle(&bundle).unwrap();
    let third = c.ingest_verified(&verified, bundle.len() as u64).unwrap();
    assert_eq!((third.new_entries, third.duplicates), (0, 3));
    assert_eq!(c.canonical_dump().unwrap(), dump);
    let s = status_json(&c);
    assert_eq!(s["responses"], 3);
    assert_eq!(s["conflicts"], 0);
    assert_eq!(s["devices"][0]["max_seq"], 3);
    assert_eq!(s["devices"][0]["gaps"], serde_json::json!([]));
}

#[test]
fn receipts_mark_exactly_what_central_holds() {
    let mut d = Device::new("t1");
    let a = d.finalize("a", false, None);
    let early = d.bundle(true);
    let b = d.finalize("b", false, None);
    let mut c = Central::in_memory().unwrap();
    c.ingest(&early).unwrap();
    let receipt = c.receipt_for(&d.device_id()).unwrap();
    // One hash stands for the chain held whole; nothing else to list.
    let through = receipt.receipt.through.clone().unwrap();
    assert_eq!((through.seq, receipt.receipt.entries.len()), (1, 0));
    let report = apply_receipt(&mut d.store, &receipt.file).unwrap();
    assert_eq!(report.marked, vec![1]);
    assert_eq!(d.store.response(&a).unwrap().state, ResponseState::Sent);
    assert_eq!(d.store.response(&b).unwrap().state, ResponseState::Finalized);
    // The next bundle since the receipt carries only what is not acknowledged.
    let rest = d.bundle(true);
    assert_eq!(enumera_core::bundle::read_bundle(&rest).unwrap().responses.len(), 1);
    c.ingest(&rest).unwrap();
    let receipt = c.receipt_for(&d.device_id()).unwrap();
    assert_eq!(apply_receipt(&mut d.store, &receipt.file).unwrap().marked, vec![2]);
    assert_eq!(d.store.response(&b).unwrap().state, ResponseState::Sent);
    assert!(matches!(
        c.receipt_for("no-such-device"),
        Err(enumera_central::CentralError::UnknownDevice { .. })
    ));
}

#[test]
fn a_gap_shows_until_the_missing_bundle_arrives() {
    let mut d = Device::new("t1");
    for i in 0..2 {
        d.finalize(&format!("a{i}"), false, None);
    }
    let full_early = d.bundle(false);
    let entries = d.store.outbox(0, false).unwrap();
    d.store
        .mark_sent(&entries.iter().map(|e| (e.seq, e.instance_id.clone())).collect::<Vec<_>>())
        .unwrap();
    d.finalize("a2", false, None);
    let late = d.bundle(true);
    let mut c = Central::in_memory().unwrap();
    let report = c.ingest(&late).unwrap();
    assert_eq!(report.gaps.len(), 1);
    assert_eq!((report.gaps[0].from, report.gaps[0].to), (1, 2));
    assert_eq!(status_json(&c)["devices"][0]["gaps"], serde_json::json!([{"from": 1, "to": 2}]));
    c.ingest(&full_early).unwrap();
    assert_eq!(status_json(&c)["devices"][0]["gaps"], serde_json::json!([]));
    assert_eq!(status_json(&c)["responses"], 3);
}

#[test]
fn same_id_with_other_content_is_kept_as_a_conflict_never_an_overwrite() {
    let mut d = Device::new("t1");
    d.finalize("before", false, None);
    let id = d
        .store
        .create_draft(&enumera_core::store::NewResponse::new(d.plain.clone()))
        .unwrap()
        .instance_id;
    let (mut one, mut two) = d.fork();
    // The same draft finalized differently on a tablet and its restored copy.
    for (dev, answer) in [(&mut one, "first"), (&mut two, "second")] {
        dev.store.set_answer(&id, "/data/a", answer).unwrap();
        enumera_core::bundle::finalize_response(
            &mut dev.store,
            &id,
            format!("<a>{answer}</a>"),
            "{}".into(),
        )
        .unwrap();
    }
    let mut c = Central::in_memory().unwrap();
    c.ingest(&one.bundle(false)).unwrap();
    let held = c.canonical_dump().unwrap();
    let report = c.ingest(&two.bundle(false)).unwrap();
    assert_eq!(report.conflicts.len(), 1);
    assert_eq!(report.conflicts[0].kind, "different_content");
    assert_eq!(report.conflicts[0].instance_id, id);
    assert_eq!(report.forks, vec![2]);
    let s = status_json(&c);
    assert_eq!((s["responses"].as_u64(), s["conflicts"].as_u64()), (Some(2), Some(1)));
    assert_eq!(s["devices"][0]["forks"], serde_json::json!([2]));
    // The held version is unchanged.
    let line = |dump: &str| {
        dump.lines().find(|l| l.starts_with(&format!("response {id}"))).map(str::to_string)
    };
    assert_eq!(line(&c.canonical_dump().unwrap()), line(&held));
    // Again: no second conflict row.
    assert!(c.ingest(&two.bundle(false)).unwrap().conflicts.is_empty());
    assert_eq!(status_json(&c)["conflicts"], 1);
}

fn superseded_by(c: &Central, id: &str) -> Option<String> {
    let dump = c.canonical_dump().unwrap();
    let line = dump.lines().find(|l| l.starts_with(&format!("response {id} ")))?;
    let v = line.split(" superseded_by=").nth(1)?.split(' ').next()?;
    (v != "-").then(|| v.to_string())
}

#[test]
fn an_edit_replaces_the_current_version_in_either_order() {
    let mut d = Device::new("t1");
    let a = d.finalize("v1", false, None);
    let early = d.bundle(false);
    let entries = d.store.outbox(0, false).unwrap();
    d.store.mark_sent(&[(entries[0].seq, entries[0].instance_id.clone())]).unwrap();
    let b = d.edit(&a, "v2");
    let edit_only = d.bundle(true);
    let full = d.bundle(false);

    let mut in_order = Central::in_memory().unwrap();
    in_order.ingest(&early).unwrap();
    assert_eq!(in_order.ingest(&edit_only).unwrap().edits, 1);
    let mut reversed = Central::in_memory().unwrap();
    reversed.ingest(&edit_only).unwrap();
    reversed.ingest(&early).unwrap();
    let mut whole = Central::in_memory().unwrap();
    whole.ingest(&full).unwrap();
    for c in [&in_order, &reversed, &whole] {
        assert_eq!(superseded_by(c, &a), Some(b.clone()));
        assert_eq!(superseded_by(c, &b), None);
        let s = status_json(c);
        assert_eq!(
            (s["responses"].as_u64(), s["current"].as_u64(), s["conflicts"].as_u64()),
            (Some(2), Some(1), Some(0))
        );
    }
    assert_eq!(in_order.canonical_dump().unwrap(), reversed.canonical_dump().unwrap());
}

#[test]
fn a_second_edit_of_the_same_version_is_a_conflict() {
    let mut d = Device::new("t1");
    let a = d.finalize("v1", false, None);
    let (mut one, mut two) = d.fork();
    let b = one.edit(&a, "edit on one");
    let c_id = two.edit(&a, "edit on two");
    let mut c = Central::in_memory().unwrap();
    c.ingest(&one.bundle(false)).unwrap();
    let report = c.ingest(&two.bundle(false)).unwrap();
    assert_eq!(report.conflicts.len(), 1);
    assert_eq!(report.conflicts[0].kind, "edit_of_superseded");
    assert_eq!(report.conflicts[0].instance_id, c_id);
    assert_eq!(superseded_by(&c, &a), Some(b));
    let s = status_json(&c);
    assert_eq!(
        (s["responses"].as_u64(), s["current"].as_u64(), s["conflicts"].as_u64()),
        (Some(3), Some(1), Some(1))
    );
}

#[test]
fn a_tampered_bundle_stores_nothing() {
    let mut d = Device::new("t1");
    d.finalize("a", false, Some(b"photo bytes"));
    d.finalize("b", true, Some(b"sealed photo"));
    let bundle = d.bundle(false);
    let mut c = Central::in_memory().unwrap();
    let empty = c.canonical_dump().unwrap();
    let m = u32::from_be_bytes(bundle[12..16].try_into().unwrap()) as usize;
    // magic, version, length, manifest, signature, then the items.
    let positions = [
        0,
        9,
        13,
        16,
        16 + m / 2,
        16 + m - 1,
        16 + m,
        16 + m + 63,
        16 + m + 64,
        16 + m + 72,
        bundle.len() - 300,
        bundle.len() - 1,
    ];
    for i in positions {
        let mut bad = bundle.clone();
        bad[i] ^= 0x04;
        let err = c.ingest(&bad).unwrap_err();
        assert!(err.is_rejection(), "{err}");
        assert_eq!(c.canonical_dump().unwrap(), empty, "flip at {i} stored something");
    }
    assert!(matches!(
        c.ingest(&bundle[..bundle.len() - 1]),
        Err(IngestError::Bundle(BundleError::Truncated { .. }))
    ));
    assert_eq!(c.canonical_dump().unwrap(), empty);
    c.ingest(&bundle).unwrap();
    assert_eq!(status_json(&c)["responses"], 2);
}

/// A forger who knows the researcher's public key (and so can seal
/// anything) but not the device's signing key.
#[test]
fn a_bundle_forged_with_only_the_researcher_public_key_is_refused() {
    let mut victim = Device::new("victim");
    victim.finalize("genuine", true, None);
    let genuine = victim.bundle(false);
    let mut forger = Device::new("forger");
    forger.finalize("forged answer", true, None);
    let forged_src = forger.bundle(false);

    let mut c = Central::in_memory().unwrap();
    c.ingest(&genuine).unwrap();
    let held = c.canonical_dump().unwrap();

    // 1. Swap the victim's sealed item for the forger's ciphertext.
    let (_, forged_items) = split(&forged_src);
    let (vm, _) = split(&genuine);
    let m = u32::from_be_bytes(genuine[12..16].try_into().unwrap()) as usize;
    let mut swapped = genuine[..16 + m + 64].to_vec();
    swapped.extend_from_slice(&forged_items);
    assert!(c.ingest(&swapped).is_err());

    // 2. Rewrite the manifest to match and sign with the forger's own key,
    //    claiming the victim's device id.
    let (mut fm, items) = split(&forged_src);
    let victim_id = vm["device_id"].clone();
    fm["device_id"] = victim_id.clone();
    for e in fm["entries"].as_array_mut().unwrap() {
        let mut content: serde_json::Value =
            serde_json::from_str(e["content"].as_str().unwrap()).unwrap();
        content["device_id"] = victim_id.clone();
        let text = serde_json::to_string(&content).unwrap();
        let hash = sha256_hex(text.as_bytes());
        let entry_hash = enumera_core::store::entry_hash(
            e["seq"].as_u64().unwrap(),
            e["prev_hash"].as_str().unwrap(),
            &hash,
        );
        e["content"] = text.into();
        e["content_hash"] = hash.into();
        e["entry_hash"] = entry_hash.into();
    }
    let forger_seed = [42u8; 32];
    let forger_key = ed25519_dalek::SigningKey::from_bytes(&forger_seed).verifying_key();
    fm["device_public_key"] = enumera_core::bundle::hex(forger_key.as_bytes()).into();
    let forged = assemble(&fm, &items, &forger_seed);
    // Well-formed and signed by the key it names ...
    enumera_core::bundle::read_bundle(&forged).unwrap();
    // ... but not the key central knows for that device.
    assert!(matches!(c.ingest(&forged), Err(IngestError::DeviceKeyMismatch { .. })));
    // 3. Keeping the victim's public key in the manifest breaks the signature.
    fm["device_public_key"] = vm["device_public_key"].clone();
    let forged = assemble(&fm, &items, &forger_seed);
    assert!(matches!(
        c.ingest(&forged),
        Err(IngestError::Bundle(BundleError::BadSignature { .. }))
    ));
    assert_eq!(c.canonical_dump().unwrap(), held);
}

fn sha256_hex(bytes: &[u8]) -> String {
    // The chain's hash, computed through the public entry-hash helper's sibling.
    use std::fmt::Write;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(bytes);
    digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[test]
fn enrolled_devices_only_once_enrolment_is_used() {
    let mut known = Device::new("known");
    known.finalize("a", false, None);
    let mut stranger = Device::new("stranger");
    stranger.finalize("b", false, None);
    let mut c = Central::in_memory().unwrap();
    let key = known.store.public_key().unwrap();
    c.enrol_device(&known.device_id(), &key, "known").unwrap();
    c.ingest(&known.bundle(false)).unwrap();
    let before = c.canonical_dump().unwrap();
    let err = c.ingest(&stranger.bundle(false)).unwrap_err();
    assert_eq!(err.code(), "unknown_device_key");
    assert!(err.to_string().contains(&stranger.device_id()));
    assert_eq!(c.canonical_dump().unwrap(), before);
    assert!(c.enrol_device(&known.device_id(), &[1; 32], "x").is_err());
}

#[test]
fn central_never_holds_sealed_plaintext_and_the_researcher_opens_it() {
    const SECRET: &str = "Nhamatanda sludge budget SECRET-90210";
    let dir = common::tempdir();
    let db = dir.path().join("central.db");
    let mut d = Device::new("t1");
    let id = d.finalize(SECRET, true, Some(b"SECRET-PHOTO-BYTES"));
    let mut c = Central::init(&db).unwrap();
    c.ingest(&d.bundle(false)).unwrap();
    assert_eq!(status_json(&c)["sealed"], 1);
    drop(c);
    let mut bytes = std::fs::read(&db).unwrap();
    bytes.extend(std::fs::read(dir.path().join("central.db-wal")).unwrap_or_default());
    assert!(bytes.len() > 4096);
    assert!(!contains(&bytes, SECRET.as_bytes()), "plaintext answer in the central database");
    assert!(
        !contains(&bytes, b"SECRET-PHOTO-BYTES"),
        "plaintext attachment in the central database"
    );

    // The researcher opens it from what central holds.
    let conn = held_ciphertext(&db, &id);
    let identity = ResearcherIdentity::parse(common::TEST_IDENTITY).unwrap();
    let opened = open_sealed(&conn, &identity).unwrap();
    assert!(opened.xml.contains(SECRET));
    assert_eq!(opened.attachments[0].1, b"SECRET-PHOTO-BYTES");
    use age::secrecy::ExposeSecret;
    let other = age::x25519::Identity::generate().to_string();
    let wrong = ResearcherIdentity::parse(other.expose_secret()).unwrap();
    let err = open_sealed(&conn, &wrong).unwrap_err();
    assert!(matches!(err, SealError::WrongIdentity));
    assert!(err.to_string().contains("identity file does not open it"), "{err}");
}

/// The sealed blob central holds for a response (it never decrypts it).
fn held_ciphertext(db: &std::path::Path, id: &str) -> Vec<u8> {
    match Central::open(db).unwrap().payload(id).unwrap() {
        Some(enumera_core::store::Payload::Sealed { ciphertext }) => ciphertext.to_vec().unwrap(),
        other => panic!("expected a sealed payload, got {other:?}"),
    }
}

#[test]
fn init_open_and_publish_refuse_what_they_must() {
    let dir = common::tempdir();
    let db = dir.path().join("c.db");
    assert!(matches!(Central::open(&db), Err(enumera_central::CentralError::NotFound { .. })));
    let c = Central::init(&db).unwrap();
    let key = c.public_key().unwrap();
    drop(c);
    assert!(matches!(
        Central::init(&db),
        Err(enumera_central::CentralError::AlreadyInitialized { .. })
    ));
    let mut c = Central::open(&db).unwrap();
    assert_eq!(c.public_key().unwrap(), key);
    let form = common::instrument("capacity", &[]);
    assert!(c.publish(&form).unwrap());
    assert!(!c.publish(&form).unwrap());
    assert_eq!(c.published().unwrap().len(), 1);
    assert_eq!(c.published_json("capacity", "1").unwrap(), Some(form.canonical_json()));
    let changed = common::instrument("capacity", &[common::TEST_RECIPIENT]);
    assert!(matches!(
        c.publish(&changed),
        Err(enumera_central::CentralError::PublishConflict { .. })
    ));
}

#[test]
fn the_same_bundle_uploaded_twice_at_once_is_held_once() {
    let dir = common::tempdir();
    let db = dir.path().join("c.db");
    drop(Central::init(&db).unwrap());
    let mut d = Device::new("t1");
    for i in 0..20 {
        d.finalize(&format!("a{i}"), i % 3 == 0, None);
    }
    let full = d.bundle(false);
    let entries = d.store.outbox(0, false).unwrap();
    d.store
        .mark_sent(
            &entries[..10].iter().map(|e| (e.seq, e.instance_id.clone())).collect::<Vec<_>>(),
        )
        .unwrap();
    let tail = d.bundle(true);
    let uploads = [full.clone(), full.clone(), tail.clone(), full, tail];
    let reports: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = uploads
            .iter()
            .map(|b| {
                let db = db.clone();
                s.spawn(move || Central::open(&db).unwrap().ingest(b).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(reports.iter().map(|r| r.new_responses).sum::<usize>(), 20);
    let c = Central::open(&db).unwrap();
    let s = c.status().unwrap();
    assert_eq!((s.responses, s.conflicts), (20, 0));
}

#[test]
fn a_database_newer_than_this_build_is_left_untouched() {
    let dir = common::tempdir();
    let db = dir.path().join("c.db");
    drop(Central::init(&db).unwrap());
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", enumera_central::SCHEMA_VERSION + 1).unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    assert!(matches!(Central::open(&db), Err(enumera_central::CentralError::NewerVersion { .. })));
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

/// A central from before the chain state (schema 2) upgrades in place and
/// then reports gaps as before: the first ingest walks each device's chain
/// once and remembers how far it is whole.
#[test]
fn a_schema_2_central_upgrades_and_keeps_checking_chains() {
    let dir = common::tempdir();
    let db = dir.path().join("c.db");
    let mut d = Device::new("t1");
    for i in 0..4 {
        d.finalize(&format!("a{i}"), false, None);
    }
    let first = d.bundle(false);
    {
        let mut c = Central::init(&db).unwrap();
        c.ingest(&first).unwrap();
    }
    {
        // As schema 2 left it: later migrations undone, newest first.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(common::UNDO_SCHEMA_6).unwrap();
        conn.execute_batch(common::UNDO_SCHEMA_4).unwrap();
        conn.execute_batch("DROP TABLE chain_state; DROP TABLE chain_forks;").unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
    }
    let mut c = Central::open(&db).unwrap();
    assert_eq!(status_json(&c)["devices"][0]["gaps"], serde_json::json!([]));
    // Two more responses, only the last of them delivered: a gap at 5.
    d.finalize("a4", false, None);
    let everything = d.bundle(false);
    let entries = d.store.outbox(0, false).unwrap();
    d.store
        .mark_sent(&entries.iter().map(|e| (e.seq, e.instance_id.clone())).collect::<Vec<_>>())
        .unwrap();
    d.finalize("a5", false, None);
    let only_last = d.bundle(true);
    let report = c.ingest(&only_last).unwrap();
    assert_eq!(report.gaps.len(), 1);
    assert_eq!((report.gaps[0].from, report.gaps[0].to), (5, 5));
    c.ingest(&everything).unwrap();
    assert_eq!(status_json(&c)["devices"][0]["gaps"], serde_json::json!([]));
    assert_eq!(c.status().unwrap().responses, 6);
}

/// A receipt's size follows what is not yet whole at central, not the
/// device's history: a long chain is one hash, and what lies past a gap is
/// listed. A device marks exactly its own entries either way, and a
/// receipt claiming a chain the device does not have marks nothing.
#[test]
fn receipts_stay_small_and_mark_only_the_devices_own_chain() {
    let mut d = Device::new("t1");
    for i in 0..50 {
        d.finalize(&format!("a{i}"), false, None);
    }
    let first_50 = d.bundle(false);
    let entries = d.store.outbox(0, false).unwrap();
    d.store
        .mark_sent(&entries.iter().map(|e| (e.seq, e.instance_id.clone())).collect::<Vec<_>>())
        .unwrap();
    d.finalize("a50", false, None);
    d.finalize("a51", false, None);
    let last_2 = d.bundle(true);
    let mut fresh = Device::new("t2");
    for i in 0..3 {
        fresh.finalize(&format!("b{i}"), false, None);
    }
    let mut c = Central::in_memory().unwrap();

    // Only the last two arrived: no whole prefix, both listed.
    c.ingest(&last_2).unwrap();
    let r = c.receipt_for(&d.device_id()).unwrap().receipt;
    assert_eq!((r.through, r.entries.len()), (None, 2));
    // Then the first fifty: whole through 52, nothing listed.
    c.ingest(&first_50).unwrap();
    let signed = c.receipt_for(&d.device_id()).unwrap();
    assert_eq!(signed.receipt.through.as_ref().map(|t| t.seq), Some(52));
    assert!(signed.receipt.entries.is_empty());
    let report = apply_receipt(&mut d.store, &signed.file).unwrap();
    assert_eq!(report.marked, vec![51, 52]);
    assert_eq!(report.already_sent.len(), 50);
    assert!(report.not_matching.is_empty());
    assert!(d.store.outbox(0, true).unwrap().is_empty());

    // The same kind of receipt for a chain the device does not have (another
    // central's view, or a fork): nothing marked, the claim reported.
    c.ingest(&fresh.bundle(false)).unwrap();
    let theirs = c.receipt_for(&fresh.device_id()).unwrap();
    let report = apply_receipt(&mut fresh.store, &theirs.file).unwrap();
    assert_eq!(report.marked, vec![1, 2, 3]);
    let mut twin = Device::new("t3");
    twin.finalize("c0", false, None);
    let forged = enumera_core::bundle::Receipt {
        device_id: twin.device_id(),
        device_public_key: enumera_core::bundle::hex(&twin.store.device().unwrap().public_key),
        ..theirs.receipt.clone()
    }
    .sign(&[9; 32]);
    let report = apply_receipt(&mut twin.store, &forged.file).unwrap();
    assert!(report.marked.is_empty());
    assert_eq!(report.not_matching.len(), 1);
    assert_eq!(twin.store.outbox(0, true).unwrap().len(), 1);
}
