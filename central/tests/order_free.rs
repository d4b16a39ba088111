//! Property: whatever bundles are made on several devices, ingesting them in
//! any order, with duplicates and overlaps, ends in the same central state,
//! holding every finalized response exactly once.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::Device;
use enumera_central::Central;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Finalize {
        device: usize,
        sealed: bool,
        attach: bool,
    },
    /// Edit the `pick`-th still-editable plain response of the device.
    Edit {
        device: usize,
        pick: usize,
    },
    /// A hostile device signs an edit of the `pick`-th response another
    /// device made (issue 15, finding 1): it must never take effect.
    Forge {
        device: usize,
        pick: usize,
    },
    /// Mark everything finalized so far as sent (as a receipt would).
    MarkSent {
        device: usize,
    },
    /// Write a bundle now.
    Bundle {
        device: usize,
        since_receipt: bool,
    },
}

fn step(devices: usize) -> impl Strategy<Value = Step> {
    let d = 0..devices;
    prop_oneof![
        3 => (d.clone(), prop::bool::weighted(0.3), prop::bool::weighted(0.2))
            .prop_map(|(device, sealed, attach)| Step::Finalize { device, sealed, attach }),
        2 => (d.clone(), 0..8usize).prop_map(|(device, pick)| Step::Edit { device, pick }),
        1 => (d.clone(), 0..8usize).prop_map(|(device, pick)| Step::Forge { device, pick }),
        2 => d.clone().prop_map(|device| Step::MarkSent { device }),
        3 => (d, prop::bool::weighted(0.7)).prop_map(|(device, since_receipt)| Step::Bundle { device, since_receipt }),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Step>, Vec<u32>, Vec<usize>)> {
    (1..=3usize).prop_flat_map(|devices| {
        (
            Just(devices),
            prop::collection::vec(step(devices), 1..24),
            prop::collection::vec(any::<u32>(), 40),
            prop::collection::vec(0..40usize, 0..6),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn any_order_of_ingest_gives_the_same_state((n, steps, keys, dups) in scenario()) {
        let mut devices: Vec<Device> = (0..n).map(|i| Device::new(&format!("tablet {i}"))).collect();
        let mut editable: Vec<Vec<String>> = vec![Vec::new(); n];
        let mut finalized: Vec<String> = Vec::new();
        // Plain responses each device made, and the forged edits.
        let mut made: Vec<(usize, String)> = Vec::new();
        let mut forged: Vec<(String, String)> = Vec::new();
        let mut bundles: Vec<Vec<u8>> = Vec::new();
        for (i, s) in steps.iter().enumerate() {
            match *s {
                Step::Finalize { device, sealed, attach } => {
                    let photo = format!("photo {i}");
                    let id = devices[device].finalize(&format!("answer {i}"), sealed, attach.then_some(photo.as_bytes()));
                    if !sealed {
                        editable[device].push(id.clone());
                        made.push((device, id.clone()));
                    }
                    finalized.push(id);
                }
                Step::Edit { device, pick } => {
                    if editable[device].is_empty() {
                        continue;
                    }
                    let at = pick % editable[device].len();
                    let old = editable[device].remove(at);
                    let id = devices[device].edit(&old, &format!("edited {i}"));
                    editable[device].push(id.clone());
                    made.push((device, id.clone()));
                    finalized.push(id);
                }
                Step::Forge { device, pick } => {
                    let others: Vec<&String> =
                        made.iter().filter(|(d, _)| *d != device).map(|(_, id)| id).collect();
                    if others.is_empty() {
                        continue;
                    }
                    let victim = others[pick % others.len()].clone();
                    let id = devices[device].forge_edit(&victim, &format!("forged {i}"));
                    forged.push((victim, id.clone()));
                    finalized.push(id);
                }
                Step::MarkSent { device } => {
                    let store = &mut devices[device].store;
                    let all: Vec<(u64, String)> = store.outbox(0, true).unwrap()
                        .into_iter().map(|e| (e.seq, e.instance_id)).collect();
                    store.mark_sent(&all).unwrap();
                }
                Step::Bundle { device, since_receipt } => bundles.push(devices[device].bundle(since_receipt)),
            }
        }
        // Each device's complete bundle, so that everything reaches central.
        let finals: Vec<Vec<u8>> = devices.iter().map(|d| d.bundle(false)).collect();
        bundles.extend(finals.iter().cloned());

        let mut reference = Central::in_memory().unwrap();
        for b in &finals {
            reference.ingest(b).unwrap();
        }
        let expected = reference.canonical_dump().unwrap();

        // Shuffle by the drawn keys, then add duplicates anywhere.
        let mut order: Vec<usize> = (0..bundles.len()).collect();
        order.sort_by_key(|&i| keys[i % keys.len()].wrapping_mul(i as u32 + 1));
        for &d in &dups {
            order.insert(d % (order.len() + 1), order[d % order.len()]);
        }
        let mut central = Central::in_memory().unwrap();
        for &i in &order {
            central.ingest(&bundles[i]).unwrap();
        }
        let dump = central.canonical_dump().unwrap();
        prop_assert_eq!(&dump, &expected);

        // Nothing lost, nothing duplicated.
        let mut held: BTreeMap<String, usize> = BTreeMap::new();
        for line in dump.lines().filter(|l| l.starts_with("response ")) {
            let id = line.split(' ').nth(1).unwrap().to_string();
            *held.entry(id).or_default() += 1;
        }
        finalized.sort();
        prop_assert_eq!(held.keys().cloned().collect::<Vec<_>>(), finalized.clone());
        prop_assert!(held.values().all(|&n| n == 1));
        let status = central.status().unwrap();
        prop_assert_eq!(status.responses as usize, finalized.len());
        prop_assert_eq!(status.conflicts, 0);
        // No forged edit ever replaced anything.
        for (victim, id) in &forged {
            let victim_line = format!("response {victim} ");
            let line = dump.lines().find(|l| l.starts_with(&victim_line)).unwrap();
            prop_assert!(!line.contains(&format!("superseded_by={id}")), "{}", line);
            let forged_line = format!("response {id} ");
            let line = dump.lines().find(|l| l.starts_with(&forged_line)).unwrap();
            prop_assert!(line.contains("hold=not_author"), "{}", line);
        }
        prop_assert!(status.devices.iter().all(|d| d.gaps.is_empty() && d.forks.is_empty()));

        // Every device's receipt covers all it finalized and marks it sent.
        for d in &mut devices {
            let receipt = central.receipt_for(&d.device_id()).unwrap();
            enumera_core::bundle::apply_receipt(&mut d.store, &receipt.file).unwrap();
            prop_assert!(d.store.outbox(0, true).unwrap().is_empty());
        }
    }
}
