//! Several connections ingesting into one database at the same moment, as
//! several servers (or a server and `central ingest`) do: the result is the
//! result of one after the other. SQLite serializes writers (IMMEDIATE
//! transactions); PostgreSQL runs them at once and retries the one it
//! cannot serialize. Neither relies on a lock of this process.

use std::sync::{Arc, Barrier};

use enumera_central::{AnyStore, Central, IngestError, Location, Quotas};

use super::ingest::mark_all_sent;
use super::stores::Backend;
use crate::common::{Device, instrument};

/// Runs each list of bundles on its own connection, all starting together.
fn race(at: &Location, lists: Vec<Vec<Vec<u8>>>, quotas: Quotas) -> Vec<Result<usize, String>> {
    let barrier = Arc::new(Barrier::new(lists.len()));
    let threads: Vec<_> = lists
        .into_iter()
        .map(|list| {
            let (at, barrier) = (at.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut c: Central<AnyStore> = Central::open_at(&at).expect("open");
                c.set_quotas(quotas);
                barrier.wait();
                let mut new = 0;
                for bundle in &list {
                    match c.ingest(bundle) {
                        Ok(r) => new += r.new_responses,
                        Err(e @ IngestError::Quota { .. }) => return Err(e.code().to_string()),
                        Err(e) => panic!("ingest failed: {e}"),
                    }
                }
                Ok(new)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().expect("thread")).collect()
}

pub fn connections_ingesting_at_once_converge(b: &Backend) {
    let mut a = Device::new("tablet A");
    let mut forger = Device::new("tablet B");
    let mut others: Vec<Device> = (0..3).map(|i| Device::new(&format!("tablet {i}"))).collect();
    let x = a.finalize("v1", false, Some(b"photo"));
    for i in 0..4 {
        a.finalize(&format!("a{i}"), i == 2, None);
    }
    let first = a.bundle(false);
    mark_all_sent(&mut a);
    a.edit(&x, "v2");
    for i in 0..3 {
        a.finalize(&format!("b{i}"), false, Some(b"same photo"));
    }
    let second = a.bundle(true);
    let all = a.bundle(false);
    forger.forge_edit(&x, "forged");
    let forged = forger.bundle(false);
    let mut lists: Vec<Vec<Vec<u8>>> = vec![
        vec![first.clone(), second.clone(), forged.clone()],
        vec![all.clone(), first.clone()],
        vec![second.clone(), forged.clone(), all.clone()],
    ];
    for (k, d) in others.iter_mut().enumerate() {
        for i in 0..3 {
            d.finalize(&format!("other {k}.{i}"), false, Some(b"same photo"));
        }
        lists[k].push(d.bundle(false));
        lists[(k + 1) % 3].push(d.bundle(false));
    }
    // One after the other, on one connection.
    let mut reference = b.fresh();
    reference.publish(&instrument("plain", &[])).expect("publish");
    for list in &lists {
        for bundle in list {
            reference.ingest(bundle).expect("ingest");
        }
    }
    let expected = reference.canonical_dump().expect("dump");
    for round in 0..3 {
        let (mut c, at) = b.fresh_at();
        c.publish(&instrument("plain", &[])).expect("publish");
        let results = race(&at, lists.clone(), Quotas::UNLIMITED);
        let new: usize = results.iter().map(|r| r.clone().expect("no refusal")).sum();
        assert_eq!(new, 5 + 1 + 3 + 1 + 9, "round {round}: a response held twice or lost");
        assert_eq!(c.canonical_dump().expect("dump"), expected, "round {round}");
        let s = c.status().expect("status");
        assert_eq!((s.responses, s.held_aside), (19, 1), "round {round}");
    }
}

pub fn a_quota_holds_across_connections_ingesting_at_once(b: &Backend) {
    let mut d = Device::new("tablet");
    for i in 0..3 {
        d.finalize(&format!("first {i}"), false, None);
    }
    let one = d.bundle(true);
    mark_all_sent(&mut d);
    for i in 0..3 {
        d.finalize(&format!("second {i}"), false, None);
    }
    let two = d.bundle(true);
    for round in 0..3 {
        let (c, at) = b.fresh_at();
        let quotas = Quotas { responses_per_day: 4, ..Quotas::UNLIMITED };
        let results = race(&at, vec![vec![one.clone()], vec![two.clone()]], quotas);
        let refused = results.iter().filter(|r| r.is_err()).count();
        assert_eq!(refused, 1, "round {round}: {results:?}");
        assert_eq!(c.status().expect("status").responses, 3, "round {round}");
    }
}
