//! Model-based property tests: random sequences of store operations compared
//! with a plain in-memory model of what they should do.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::test_support::ready_store;
use super::{NewResponse, Payload, ResponseState, StoreError};

#[derive(Debug, Clone)]
enum Op {
    Set(String, u8),
    Clear(String),
    Count(String, u32),
    Remove(String, u32),
}

/// References in a repeat `m` with a nested repeat `n`, plus a plain one.
fn reference() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/data/a".to_string()),
        (1u32..5).prop_map(|k| format!("/data/m[{k}]/x")),
        (1u32..5, 1u32..4).prop_map(|(k, j)| format!("/data/m[{k}]/n[{j}]/y")),
    ]
}

/// A repeat (its path with enclosing indices) for counts and removals.
fn repeat() -> impl Strategy<Value = String> {
    prop_oneof![Just("/data/m".to_string()), (1u32..5).prop_map(|k| format!("/data/m[{k}]/n"))]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (reference(), any::<u8>()).prop_map(|(r, v)| Op::Set(r, v)),
        1 => reference().prop_map(Op::Clear),
        1 => (repeat(), 0u32..5).prop_map(|(r, c)| Op::Count(r, c)),
        2 => (repeat(), 1u32..5).prop_map(|(r, k)| Op::Remove(r, k)),
    ]
}

/// What removing `base[k]` does to a map keyed by reference.
fn model_remove<V: Clone>(map: &mut BTreeMap<String, V>, base: &str, k: u32) {
    let old = std::mem::take(map);
    for (key, v) in old {
        match super::refs::instance_of(&key, base) {
            Some((i, _)) if i == k => {}
            Some((i, rest)) if i > k => {
                map.insert(format!("{base}[{}]{rest}", i - 1), v);
            }
            _ => {
                map.insert(key, v);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn draft_edits_match_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let (_d, mut store, key) = ready_store(&["a", "m/x"]);
        let id = store.create_draft(&NewResponse::new(key)).unwrap().instance_id;
        let mut answers: BTreeMap<String, String> = BTreeMap::new();
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for op in &ops {
            match op {
                Op::Set(r, v) => {
                    store.set_answer(&id, r, &v.to_string()).unwrap();
                    answers.insert(r.clone(), v.to_string());
                }
                Op::Clear(r) => {
                    store.clear_answer(&id, r).unwrap();
                    answers.remove(r);
                }
                Op::Count(r, c) => {
                    store.set_repeat_count(&id, r, *c).unwrap();
                    counts.insert(r.clone(), *c);
                }
                Op::Remove(base, k) => {
                    store.remove_repeat_instance(&id, &format!("{base}[{k}]")).unwrap();
                    model_remove(&mut answers, base, *k);
                    model_remove(&mut counts, base, *k);
                    if let Some(c) = counts.get_mut(base) {
                        *c = c.saturating_sub(1);
                    }
                }
            }
            let got: BTreeMap<String, String> =
                store.answers(&id).unwrap().into_iter().map(|a| (a.reference, a.value)).collect();
            prop_assert_eq!(&got, &answers, "after {:?}", op);
            let got: BTreeMap<String, u32> = store.repeat_counts(&id).unwrap().into_iter().collect();
            prop_assert_eq!(&got, &counts, "after {:?}", op);
        }
    }

    #[test]
    fn outbox_stays_a_whole_chain(steps in proptest::collection::vec(0u8..5, 1..30)) {
        let (_d, mut store, key) = ready_store(&["a"]);
        // Receipts from a pinned central: what lets sent responses be purged.
        store.pin_central_key(&[7; 32]).unwrap();
        let mut drafts: Vec<String> = Vec::new();
        let mut finalized: Vec<(u64, String)> = Vec::new();
        let mut sent: Vec<String> = Vec::new();
        for step in steps {
            match step {
                0 | 1 => drafts.push(store.create_draft(&NewResponse::new(key.clone())).unwrap().instance_id),
                2 => if let Some(id) = drafts.pop() {
                    let e = store.finalize(&id, Payload::Plain { xml: format!("<x>{id}</x>"), json: "{}".into() }).unwrap();
                    prop_assert_eq!(e.seq, finalized.len() as u64 + 1);
                    finalized.push((e.seq, id));
                },
                3 => if let Some((seq, id)) = finalized.iter().find(|(_, id)| !sent.contains(id)).cloned() {
                    prop_assert_eq!(store.mark_sent(&[(seq, id.clone())]).unwrap().marked, vec![seq]);
                    sent.push(id);
                },
                _ => if let Some(id) = sent.first().cloned()
                    && store.response(&id).is_ok()
                {
                    store.purge(&id).unwrap();
                },
            }
            prop_assert!(store.verify_outbox().unwrap().is_empty());
        }
        for (_, id) in &finalized {
            let err = store.set_answer(id, "/data/a", "late").unwrap_err();
            let frozen = matches!(err, StoreError::NotDraft { state: ResponseState::Finalized | ResponseState::Sent, .. }
                | StoreError::UnknownResponse { .. });
            prop_assert!(frozen, "{}", err);
        }
        prop_assert_eq!(store.outbox(0, false).unwrap().len(), finalized.len());
    }
}
