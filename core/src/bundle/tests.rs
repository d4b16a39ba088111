use super::test_support::device_with;
use super::*;
use crate::store::Payload;

fn bundle_of(store: &crate::store::Store, since_receipt: bool) -> Vec<u8> {
    let mut out = Vec::new();
    write_bundle(store, &BundleOptions { since_receipt }, &mut out).unwrap();
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
    assert_eq!(b.responses[1].attachments[0].1, b"\xff\xd8 a photo");
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
