use super::test_support::device_with;
use super::*;
use crate::store::Payload;

fn bundle_of(store: &crate::store::Store, since_receipt: bool) -> Vec<u8> {
    let mut out = Vec::new();
    write_bundle(store, &BundleOptions { since_receipt, ..Default::default() }, &mut out).unwrap();
    out
}

#[test]
fn a_written_bundle_reads_back_verified() {
    let (_d, store, ids) = device_with(3);
    let bytes = bundle_of(&store, false);
    assert_eq!(&bytes[..8], MAGIC);
    let b = read_bundle(&bytes).unwrap();
    assert_eq!(b.manifest.device_id, store.device().unwrap().device_id);
    assert_eq!((b.manifest.first_seq, b.manifest.last_seq), (Some(1), Some(3)));
    assert_eq!(b.manifest.prev_hash.as_deref(), Some(crate::store::GENESIS_HASH));
    assert_eq!(b.responses.iter().map(|r| r.entry.instance_id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(
        b.responses[0].payload,
        Payload::Plain {
            xml: "<data><a>answer 0</a></data>".into(),
            json: "{\"a\":\"answer 0\"}".into()
        }
    );
    assert_eq!(b.responses[1].attachments.len(), 1);
    assert_eq!(b.responses[1].attachments[0].1, AttachmentData::Held(b"\xff\xd8 a photo".to_vec()));
    // 3 xml + 3 json + 1 attachment
    assert_eq!(b.manifest.items.len(), 7);
    assert_eq!(b.sha256, sha256_hex(&bytes));
}

#[test]
fn since_receipt_leaves_out_what_was_acknowledged() {
    let (_d, mut store, ids) = device_with(3);
    let first = store.outbox_entry(&ids[0]).unwrap().unwrap();
    store.mark_sent(&[(first.seq, first.instance_id)]).unwrap();
    let b = read_bundle(&bundle_of(&store, true)).unwrap();
    assert_eq!(b.responses.len(), 2);
    assert_eq!(b.manifest.first_seq, Some(2));
    let all = read_bundle(&bundle_of(&store, false)).unwrap();
    assert_eq!(all.responses.len(), 3);
}

#[test]
fn an_empty_device_writes_an_empty_bundle() {
    let (_d, store, _) = device_with(0);
    let b = read_bundle(&bundle_of(&store, false)).unwrap();
    assert!(b.responses.is_empty());
    assert_eq!(b.manifest.first_seq, None);
}

#[test]
fn hex_round_trips_and_rejects_junk() {
    assert_eq!(unhex::<2>("0aFf"), Some([0x0a, 0xff]));
    assert_eq!(unhex::<2>("0aF"), None);
    assert_eq!(unhex::<1>("zz"), None);
    assert_eq!(hex(&[1, 255]), "01ff");
}

/// Byte ranges of a bundle by what they hold, from its own framing.
fn position_classes(bytes: &[u8]) -> Vec<(&'static str, std::ops::Range<usize>)> {
    let m = u32::from_be_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let manifest: Manifest = serde_json::from_slice(&bytes[16..16 + m]).unwrap();
    let mut classes = vec![
        ("magic", 0..8),
        ("version", 8..12),
        ("manifest length", 12..16),
        ("manifest", 16..16 + m),
        ("signature", 16 + m..16 + m + 64),
    ];
    let mut at = 16 + m + 64;
    for item in &manifest.items {
        classes.push(("item length", at..at + 8));
        let kind = match item.kind {
            ItemKind::Xml => "xml item",
            ItemKind::Json => "json item",
            ItemKind::Sealed => "sealed item",
            ItemKind::Attachment => "attachment",
        };
        classes.push((kind, at + 8..at + 8 + item.size as usize));
        at += 8 + item.size as usize;
    }
    assert_eq!(at, bytes.len());
    classes
}

/// Every position of a short range; about 48 spread over a long one (with
/// its first and last byte), to keep the test fast in debug builds.
pub(crate) fn sample(range: std::ops::Range<usize>) -> Vec<usize> {
    let step = (range.len() / 48).max(1);
    let mut v: Vec<usize> = range.clone().step_by(step).collect();
    if let Some(last) = range.clone().last()
        && v.last() != Some(&last)
    {
        v.push(last);
    }
    v
}

#[test]
fn a_flipped_byte_in_any_position_class_is_detected() {
    let (_d, store, _) = device_with(3);
    let bytes = bundle_of(&store, false);
    let classes = position_classes(&bytes);
    let mut seen = std::collections::BTreeSet::new();
    for (class, range) in &classes {
        seen.insert(*class);
        for i in sample(range.clone()) {
            for mask in [0x01u8, 0x80] {
                let mut bad = bytes.clone();
                bad[i] ^= mask;
                let err = read_bundle(&bad).expect_err(&format!("flip {mask:#x} at {i} ({class})"));
                let expected: &[&str] = match *class {
                    "magic" => &["not_a_bundle"],
                    "version" => &["unknown_format_version"],
                    "signature" => &["bad_signature"],
                    "item length" => &["bad_framing", "truncated"],
                    "xml item" | "json item" | "attachment" | "sealed item" => &["hash_mismatch"],
                    _ => &["bad_manifest", "bad_signature", "too_large", "truncated"],
                };
                assert!(expected.contains(&err.code()), "{class} at {i}: {err}");
            }
        }
    }
    for class in ["magic", "manifest", "signature", "xml item", "json item", "attachment"] {
        assert!(seen.contains(class), "sample lacks {class}");
    }
}

#[test]
fn truncation_anywhere_and_trailing_bytes_are_refused() {
    let (_d, store, _) = device_with(2);
    let bytes = bundle_of(&store, false);
    let mut cuts: Vec<usize> = (0..200.min(bytes.len())).collect();
    cuts.extend(sample(200..bytes.len()));
    for len in cuts {
        let err = read_bundle(&bytes[..len]).unwrap_err();
        assert!(
            matches!(err, BundleError::Truncated { .. } | BundleError::NotABundle),
            "cut at {len}: {err}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(read_bundle(&longer), Err(BundleError::TrailingBytes { extra: 1, .. })));
}

#[test]
fn hostile_lengths_are_capped_before_allocation() {
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    b.extend_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(read_bundle(&b), Err(BundleError::TooLarge { .. })));
    b.truncate(12);
    b.extend_from_slice(&2u32.to_be_bytes());
    b.extend_from_slice(b"{}");
    assert!(matches!(read_bundle(&b), Err(BundleError::Truncated { .. })));
    b.extend_from_slice(&[0u8; 64]);
    assert!(matches!(read_bundle(&b), Err(BundleError::BadManifest { .. })));
    // Garbage of every short length never panics.
    for n in 0..64usize {
        let junk: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
        assert!(read_bundle(&junk).is_err());
    }
}

#[test]
fn a_bundle_signed_by_another_key_is_refused() {
    let (_d, store, _) = device_with(1);
    let (_d2, other, _) = device_with(1);
    let bytes = bundle_of(&store, false);
    let m = u32::from_be_bytes(bytes[12..16].try_into().unwrap()) as usize;
    // Re-sign the genuine manifest with another device's key.
    let sig = other.sign(&signed_message(&bytes[16..16 + m])).unwrap();
    let mut forged = bytes.clone();
    forged[16 + m..16 + m + 64].copy_from_slice(&sig);
    assert!(matches!(read_bundle(&forged), Err(BundleError::BadSignature { .. })));
}

#[test]
fn sealed_responses_travel_as_ciphertext_and_open_with_the_identity() {
    let (_d, store, id) = test_support::sealed_device();
    let bytes = bundle_of(&store, false);
    assert!(
        !bytes
            .windows(test_support::SECRET_ANSWER.len())
            .any(|w| w == test_support::SECRET_ANSWER.as_bytes()),
        "plaintext in the bundle"
    );
    assert!(!bytes.windows(17).any(|w| w == b"photo of the plan"));
    let b = read_bundle(&bytes).unwrap();
    assert_eq!(b.manifest.items.len(), 1);
    assert_eq!(b.manifest.items[0].kind, ItemKind::Sealed);
    let Payload::Sealed { ciphertext } = &b.responses[0].payload else { panic!("not sealed") };
    let identity = ResearcherIdentity::parse(test_support::TEST_IDENTITY).unwrap();
    let opened = open_sealed(&ciphertext.to_vec().unwrap(), &identity).unwrap();
    assert_eq!(opened.instance_id, id);
    assert!(opened.xml.contains(test_support::SECRET_ANSWER));
    assert_eq!(opened.attachments.len(), 1);
    assert_eq!(opened.attachments[0].1, b"photo of the plan");
    // Every sealed byte class is covered too.
    let classes = position_classes(&bytes);
    let (_, sealed) = classes.iter().find(|(c, _)| *c == "sealed item").unwrap();
    for i in sample(sealed.clone()) {
        let mut bad = bytes.clone();
        bad[i] ^= 0x20;
        assert_eq!(read_bundle(&bad).unwrap_err().code(), "hash_mismatch");
    }
}

mod receipts {
    use super::*;
    use crate::store::ResponseState;

    const CENTRAL: [u8; 32] = [7; 32];

    fn receipt_for(store: &crate::store::Store, seqs: &[u64], seed: &[u8; 32]) -> Vec<u8> {
        let device = store.device().unwrap();
        let entries = store
            .outbox(0, false)
            .unwrap()
            .into_iter()
            .filter(|e| seqs.contains(&e.seq))
            .map(|e| ReceiptEntry {
                seq: e.seq,
                instance_id: e.instance_id,
                entry_hash: e.entry_hash,
            })
            .collect();
        Receipt {
            format: receipt::RECEIPT_FORMAT.into(),
            central_public_key: String::new(),
            device_id: device.device_id,
            device_public_key: hex(&device.public_key),
            issued_at: "2026-11-29T08:00:00Z".into(),
            through: None,
            entries,
        }
        .sign(seed)
        .file
    }

    fn states(store: &crate::store::Store, ids: &[String]) -> Vec<ResponseState> {
        ids.iter().map(|id| store.response(id).unwrap().state).collect()
    }

    #[test]
    fn a_receipt_marks_exactly_what_it_covers() {
        let (_d, mut store, ids) = device_with(3);
        let file = receipt_for(&store, &[1, 3], &CENTRAL);
        let report = apply_receipt(&mut store, &file).unwrap();
        assert_eq!(report.marked, vec![1, 3]);
        assert!(report.central_key_learned);
        assert_eq!(store.central_key().unwrap(), Some(receipt::public_key_of(&CENTRAL)));
        assert_eq!(
            states(&store, &ids),
            [ResponseState::Sent, ResponseState::Finalized, ResponseState::Sent]
        );
        let again = apply_receipt(&mut store, &file).unwrap();
        assert_eq!((again.marked.len(), again.already_sent.len()), (0, 2));
        assert!(!again.central_key_learned);
    }

    #[test]
    fn receipts_from_another_central_or_for_another_device_are_refused() {
        let (_d, mut store, ids) = device_with(2);
        let first = receipt_for(&store, &[1], &CENTRAL);
        apply_receipt(&mut store, &first).unwrap();
        let other_central = receipt_for(&store, &[2], &[9; 32]);
        assert!(matches!(
            apply_receipt(&mut store, &other_central),
            Err(ReceiptError::UntrustedCentral { .. })
        ));
        let (_d2, other_device, _) = device_with(2);
        let foreign = receipt_for(&other_device, &[2], &CENTRAL);
        assert!(matches!(
            apply_receipt(&mut store, &foreign),
            Err(ReceiptError::OtherDevice { .. })
        ));
        assert_eq!(states(&store, &ids), [ResponseState::Sent, ResponseState::Finalized]);
    }

    /// Issue 15, finding 9, the review's attack: a receipt from a
    /// throwaway central is applied first. It marks responses sent (they
    /// stop being uploaded) but purging them is refused, in the store and by
    /// the database's own trigger; the real central's receipt is refused
    /// with the way out in its message; the operator pins the real key,
    /// which puts the throwaway's responses back in the outbox; the real
    /// receipt then marks them and they may be purged. Fails where the
    /// first receipt's key let purge delete the responses.
    #[test]
    fn trust_a_throwaway_centrals_receipt_never_lets_a_response_be_purged() {
        let (_d, mut store, ids) = device_with(2);
        let rogue = [9; 32];
        let throwaway = receipt_for(&store, &[1, 2], &rogue);
        apply_receipt(&mut store, &throwaway).unwrap();
        assert_eq!(states(&store, &ids), [ResponseState::Sent, ResponseState::Sent]);
        let err = store.purge(&ids[0]).unwrap_err();
        assert!(err.to_string().contains("trust --central-key"), "{err}");
        let raw = rusqlite::Connection::open(store.path()).unwrap();
        let err = raw.execute("DELETE FROM responses WHERE instance_id = ?1", [&ids[0]]);
        assert!(err.unwrap_err().to_string().contains("pinned"));

        let real = receipt_for(&store, &[1, 2], &CENTRAL);
        let err = apply_receipt(&mut store, &real).unwrap_err();
        assert!(matches!(err, ReceiptError::UntrustedCentral { pinned: false, .. }), "{err}");
        assert!(err.to_string().contains("trust --central-key"), "{err}");

        let pin = store.pin_central_key(&receipt::public_key_of(&CENTRAL)).unwrap();
        assert_eq!(pin.reopened, vec![1, 2]);
        assert_eq!(store.outbox(0, true).unwrap().len(), 2, "back in the outbox");
        let report = apply_receipt(&mut store, &real).unwrap();
        assert_eq!(report.marked, vec![1, 2]);
        store.purge(&ids[0]).unwrap();
        assert!(store.verify_outbox().unwrap().is_empty());
    }

    /// A key pinned at set-up refuses every other central's receipt, so
    /// nothing is marked by it at all.
    #[test]
    fn trust_a_key_pinned_at_set_up_refuses_every_other_central() {
        let (_d, mut store, ids) = device_with(1);
        store.pin_central_key(&receipt::public_key_of(&CENTRAL)).unwrap();
        let other = receipt_for(&store, &[1], &[9; 32]);
        let err = apply_receipt(&mut store, &other).unwrap_err();
        assert!(matches!(err, ReceiptError::UntrustedCentral { pinned: true, .. }), "{err}");
        assert_eq!(states(&store, &ids), [ResponseState::Finalized]);
        let real = receipt_for(&store, &[1], &CENTRAL);
        let report = apply_receipt(&mut store, &real).unwrap();
        assert!(!report.central_key_learned);
        store.purge(&ids[0]).unwrap();
    }

    #[test]
    fn a_tampered_receipt_marks_nothing() {
        let (_d, mut store, ids) = device_with(2);
        let file = receipt_for(&store, &[1, 2], &CENTRAL);
        for i in sample(0..file.len()) {
            let mut bad = file.clone();
            bad[i] ^= 0x01;
            assert!(apply_receipt(&mut store, &bad).is_err(), "flip at {i} accepted");
        }
        assert_eq!(states(&store, &ids), [ResponseState::Finalized, ResponseState::Finalized]);
        assert_eq!(store.central_key().unwrap(), None);
    }

    #[test]
    fn an_entry_whose_hash_differs_is_not_marked() {
        let (_d, mut store, ids) = device_with(2);
        let device = store.device().unwrap();
        let e = store.outbox_entry(&ids[0]).unwrap().unwrap();
        let file = Receipt {
            format: receipt::RECEIPT_FORMAT.into(),
            central_public_key: String::new(),
            device_id: device.device_id,
            device_public_key: hex(&device.public_key),
            issued_at: String::new(),
            through: None,
            entries: vec![ReceiptEntry {
                seq: e.seq,
                instance_id: e.instance_id,
                entry_hash: "0".repeat(64),
            }],
        }
        .sign(&CENTRAL)
        .file;
        let report = apply_receipt(&mut store, &file).unwrap();
        assert!(report.marked.is_empty());
        assert_eq!(report.not_matching.len(), 1);
        assert_eq!(states(&store, &ids), [ResponseState::Finalized, ResponseState::Finalized]);
    }
}

/// Re-signs a bundle after `edit` changed its manifest (with the device's
/// real key): what a buggy or malicious device could send.
fn resigned(
    store: &crate::store::Store,
    bytes: &[u8],
    edit: impl FnOnce(&mut Manifest),
) -> Vec<u8> {
    let m = u32::from_be_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let mut manifest: Manifest = serde_json::from_slice(&bytes[16..16 + m]).unwrap();
    edit(&mut manifest);
    let json = serde_json::to_vec(&manifest).unwrap();
    let mut out = bytes[..12].to_vec();
    out.extend_from_slice(&(json.len() as u32).to_be_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&store.sign(&signed_message(&json)).unwrap());
    out.extend_from_slice(&bytes[16 + m + 64..]);
    out
}

/// Rewrites an entry's content and recomputes its hashes.
fn rewrite_content(e: &mut ManifestEntry, edit: impl FnOnce(&mut crate::store::EntryContent)) {
    let mut c: crate::store::EntryContent = serde_json::from_str(&e.content).unwrap();
    edit(&mut c);
    e.content = serde_json::to_string(&c).unwrap();
    e.content_hash = sha256_hex(e.content.as_bytes());
    e.entry_hash = crate::store::entry_hash(e.seq, &e.prev_hash, &e.content_hash);
}

#[test]
fn a_signed_but_inconsistent_manifest_is_refused() {
    let (_d, store, _) = device_with(3);
    let bytes = bundle_of(&store, false);
    assert!(read_bundle(&resigned(&store, &bytes, |_| {})).is_ok());
    type Edit = Box<dyn Fn(&mut Manifest)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("broken link", Box::new(|m| m.entries[1].prev_hash = "1".repeat(64))),
        ("content hash", Box::new(|m| m.entries[0].content_hash = "2".repeat(64))),
        ("entry hash", Box::new(|m| m.entries[2].entry_hash = "3".repeat(64))),
        ("order", Box::new(|m| m.entries.swap(0, 1))),
        ("range", Box::new(|m| m.last_seq = Some(9))),
        (
            "item dropped",
            Box::new(|m| {
                m.items.pop();
            }),
        ),
        ("item hash", Box::new(|m| m.items[0].sha256 = "4".repeat(64))),
        (
            "other device",
            Box::new(|m| rewrite_content(&mut m.entries[0], |c| c.device_id = "x".into())),
        ),
        (
            "xml hash",
            Box::new(|m| {
                rewrite_content(&mut m.entries[0], |c| c.xml_sha256 = Some("5".repeat(64)))
            }),
        ),
        (
            "unsafe attachment name",
            Box::new(|m| {
                rewrite_content(&mut m.entries[1], |c| {
                    c.attachments[0].name = "../../etc/passwd".into()
                });
                m.items[4].name = Some("../../etc/passwd".into());
            }),
        ),
        ("format", Box::new(|m| m.format = "enumera-bundle/2".into())),
    ];
    for (what, edit) in cases {
        let bad = resigned(&store, &bytes, edit);
        let err = read_bundle(&bad).expect_err(what);
        assert!(
            matches!(err, BundleError::BadEntry { .. } | BundleError::BadManifest { .. }),
            "{what}: {err}"
        );
    }
}

#[test]
fn a_response_purged_after_its_receipt_is_left_out() {
    let (_d, mut store, ids) = device_with(3);
    store.pin_central_key(&[7; 32]).unwrap();
    let first = store.outbox_entry(&ids[0]).unwrap().unwrap();
    store.mark_sent(&[(first.seq, first.instance_id)]).unwrap();
    store.purge(&ids[0]).unwrap();
    let b = read_bundle(&bundle_of(&store, false)).unwrap();
    assert_eq!(
        b.responses.iter().map(|r| r.entry.seq).collect::<Vec<_>>(),
        [2, 3],
        "entry 1 is gone from the device but central has it"
    );
    // Entry 2 still names entry 1's hash: the chain stays checkable at central.
    assert_eq!(
        b.manifest.prev_hash.as_deref(),
        Some(store.outbox(0, false).unwrap()[0].entry_hash.as_str())
    );
}

/// A reader that hands out a few bytes at a time, as a network or a pipe
/// may.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step % 7 + 1;
        let n = self.step.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// Issue 15, finding 3: the streaming reader (what central ingests a file
/// or an upload with, one response at a time) reads exactly what reading
/// the whole bundle does, from a source that trickles, and refuses every
/// cut or altered copy with the same error; checking without keeping
/// (`verify_rest`) agrees too.
#[test]
fn resource_bounds_the_streaming_reader_agrees_with_reading_whole() {
    let (_d, store, _) = device_with(3);
    let (_d2, sealed, _) = test_support::sealed_device();
    for bytes in [bundle_of(&store, false), bundle_of(&sealed, false)] {
        let whole = read_bundle(&bytes).unwrap();
        let mut reader =
            BundleReader::open(Trickle { bytes: &bytes, step: 0 }, &Limits::default()).unwrap();
        let mut streamed = Vec::new();
        while let Some(r) = reader.next_response().unwrap() {
            streamed.push(r);
        }
        assert_eq!(streamed, whole.responses);
        assert_eq!(reader.finish().unwrap(), (whole.sha256.clone(), bytes.len() as u64));
        let checked = BundleReader::open(&bytes[..], &Limits::default()).unwrap().verify_rest();
        assert_eq!(checked.unwrap().0, whole.sha256);

        let stream_error = |b: &[u8]| -> Option<&'static str> {
            let mut r = match BundleReader::open(Trickle { bytes: b, step: 3 }, &Limits::default())
            {
                Ok(r) => r,
                Err(e) => return Some(e.code()),
            };
            loop {
                match r.next_response() {
                    Ok(Some(_)) => {}
                    Ok(None) => return r.finish().err().map(|e| e.code()),
                    Err(e) => return Some(e.code()),
                }
            }
        };
        for cut in sample(0..bytes.len()) {
            let want = read_bundle(&bytes[..cut]).err().map(|e| e.code());
            assert_eq!(stream_error(&bytes[..cut]), want, "cut at {cut}");
            let mut flipped = bytes.clone();
            flipped[cut] ^= 0x10;
            let want = read_bundle(&flipped).err().map(|e| e.code());
            assert_eq!(stream_error(&flipped), want, "flip at {cut}");
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(b"more");
        assert_eq!(stream_error(&longer), Some("trailing_bytes"));
    }
}

/// Issue 18, item 5: with a spool folder, a large attachment is read into a
/// temporary file there (checked against its hash), not into memory, and
/// the file goes when the response is dropped.
#[test]
fn large_attachments_are_spooled_and_removed_after_use() {
    let (_d, store, _) = device_with(2);
    let bytes = bundle_of(&store, false);
    let spool = tempfile::tempdir().unwrap();
    let mut reader = BundleReader::open(bytes.as_slice(), &Limits::default())
        .unwrap()
        .spool_to(spool.path().to_path_buf(), 4);
    let _first = reader.next_response().unwrap().unwrap();
    let second = reader.next_response().unwrap().unwrap();
    let (info, data) = &second.attachments[0];
    let AttachmentData::Spooled(file) = data else { panic!("held in memory: {data:?}") };
    assert!(file.path.starts_with(spool.path()));
    assert_eq!(data.len(), info.size);
    assert_eq!(data.to_vec().unwrap(), b"\xff\xd8 a photo");
    let mut streamed = Vec::new();
    std::io::copy(&mut data.reader().unwrap(), &mut streamed).unwrap();
    assert_eq!(streamed, b"\xff\xd8 a photo");
    assert!(reader.next_response().unwrap().is_none());
    reader.finish().unwrap();
    drop(second);
    assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0, "spool file removed");

    // An altered attachment fails its hash and leaves no spool file.
    let at = bytes.windows(4).rposition(|w| w == b" a p").unwrap();
    let mut bad = bytes.clone();
    bad[at] ^= 1;
    let mut reader = BundleReader::open(bad.as_slice(), &Limits::default())
        .unwrap()
        .spool_to(spool.path().to_path_buf(), 4);
    reader.next_response().unwrap();
    assert!(matches!(reader.next_response(), Err(BundleError::HashMismatch { .. })));
    assert_eq!(std::fs::read_dir(spool.path()).unwrap().count(), 0);
}
