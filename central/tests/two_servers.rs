//! Several `central serve` processes on one database (issue 19): two
//! servers in this process, each with its own connections and its own
//! writer mutex, receive the same and overlapping bundles at the same
//! moment. What keeps them apart is the database (PostgreSQL's
//! transactions and constraints; SQLite's IMMEDIATE transactions on one
//! file), so the result must be the result of one ingest after the other:
//! nothing lost, nothing held twice.
//!
//! Runs against SQLite always and against PostgreSQL when the test command
//! provides a cluster (`ENUMERA_TEST_POSTGRES`, see conformance/stores.rs).

// Test code: a failed expectation is a failed test.
#![allow(clippy::unwrap_used)]

mod common;
// Shared with the conformance suite, which uses all of it.
#[allow(dead_code)]
#[path = "conformance/stores.rs"]
mod stores;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use common::http::serve_at;
use common::{Device, instrument};
use enumera_central::{AnyStore, Central};
use stores::Backend;

/// POSTs a bundle; the reply's status and body.
fn upload(addr: SocketAddr, token: &str, bundle: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        enumera_core::remote::api::BUNDLES,
        bundle.len()
    );
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(bundle).expect("write body");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("read reply");
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let status = reply.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn two_servers_ingesting_overlapping_bundles_converge(b: &Backend) {
    // Device A sends a first bundle, then one that holds it and more (an
    // edit included); three other devices one bundle each. Every bundle
    // goes to both servers, in different orders, from three clients.
    let mut a = Device::new("tablet A");
    let x = a.finalize("v1", false, Some(b"photo"));
    for i in 0..4 {
        a.finalize(&format!("a{i}"), i == 2, None);
    }
    let first = a.bundle(false);
    a.edit(&x, "v2");
    for i in 0..3 {
        a.finalize(&format!("b{i}"), false, Some(b"same photo"));
    }
    let all = a.bundle(false);
    let mut others: Vec<Device> = (0..3).map(|i| Device::new(&format!("tablet {i}"))).collect();
    for (k, d) in others.iter_mut().enumerate() {
        for i in 0..3 {
            d.finalize(&format!("other {k}.{i}"), false, Some(b"same photo"));
        }
    }
    let o: Vec<Vec<u8>> = others.iter().map(|d| d.bundle(false)).collect();
    let (ida, ido): (String, Vec<String>) =
        (a.device_id(), others.iter().map(Device::device_id).collect());
    // (server, device index: 0 for A, 1.. for the others, bundle)
    let lists: Vec<Vec<(usize, usize, Vec<u8>)>> = vec![
        vec![
            (0, 0, first.clone()),
            (1, 0, all.clone()),
            (0, 1, o[0].clone()),
            (1, 2, o[1].clone()),
        ],
        vec![
            (1, 0, all.clone()),
            (0, 0, first.clone()),
            (1, 1, o[0].clone()),
            (0, 3, o[2].clone()),
        ],
        vec![
            (0, 3, o[2].clone()),
            (1, 0, first.clone()),
            (0, 0, all.clone()),
            (1, 2, o[1].clone()),
        ],
    ];

    // The same bundles one after the other on one connection.
    let mut reference = b.fresh();
    reference.publish(&instrument("plain", &[])).expect("publish");
    for list in &lists {
        for (_, _, bundle) in list {
            reference.ingest(bundle).expect("ingest");
        }
    }
    let expected = reference.canonical_dump().expect("dump");
    let expected_status = reference.status().expect("status");
    // A: 5, its edit and 3 more; the others 3 each.
    assert_eq!(expected_status.responses, 5 + 1 + 3 + 9, "the reference holds each response once");

    for round in 0..3 {
        let (mut c, at) = b.fresh_at();
        c.publish(&instrument("plain", &[])).expect("publish");
        let tokens: Vec<String> =
            std::iter::once(&ida).chain(&ido).map(|d| c.create_token(d).expect("token")).collect();
        let servers = [serve_at(&at), serve_at(&at)];
        let addrs = [servers[0].0, servers[1].0];
        let barrier = Arc::new(Barrier::new(lists.len()));
        let clients: Vec<_> = lists
            .iter()
            .cloned()
            .map(|list| {
                let (tokens, barrier) = (tokens.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    list.into_iter()
                        .map(|(server, device, bundle)| {
                            upload(addrs[server], &tokens[device], &bundle)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for client in clients {
            for (status, body) in client.join().expect("client") {
                assert_eq!(status, 200, "round {round}: {body}");
            }
        }
        for (_, stop, handle) in servers {
            let _ = stop.send(());
            handle.join().expect("server stops");
        }
        assert_eq!(c.canonical_dump().expect("dump"), expected, "round {round}");
        let s = c.status().expect("status");
        assert_eq!(
            (s.responses, s.conflicts, s.devices.len()),
            (expected_status.responses, expected_status.conflicts, 4),
            "round {round}: a response held twice or lost"
        );
    }
}

#[test]
fn sqlite_two_servers_on_one_file_converge() {
    if let Some(b) = Backend::sqlite() {
        two_servers_ingesting_overlapping_bundles_converge(&b);
    }
}

#[test]
fn postgres_two_servers_on_one_database_converge() {
    if let Some(b) = Backend::postgres() {
        two_servers_ingesting_overlapping_bundles_converge(&b);
    }
}

/// The race the ingest's locks are for (PostgreSQL's placing is READ
/// COMMITTED behind advisory locks on the instance ids a bundle names): a
/// response and an authorised edit of it from another device, ingested at
/// the same moment over two connections, many times. Whichever commits
/// first, the edit must end up replacing the response, never left waiting
/// for a version central holds (a lost update) and never both current.
fn a_response_and_its_edit_racing_converge(b: &Backend) {
    use enumera_central::submissions::SubmissionSource;
    for round in 0..8 {
        let mut a = Device::new("tablet A");
        let mut supervisor = Device::new("supervisor's tablet");
        let x = a.finalize(&format!("as entered {round}"), false, None);
        let e = supervisor.forge_edit(&x, "as corrected on review");
        let (mut c, at) = b.fresh_at();
        c.publish(&instrument("plain", &[])).expect("publish");
        c.grant_edit(&x, &supervisor.device_id(), "review return (test)").expect("grant");
        drop(c);
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = [a.bundle(false), supervisor.bundle(false)]
            .into_iter()
            .map(|bundle| {
                let (at, barrier) = (at.clone(), Arc::clone(&barrier));
                thread::spawn(move || {
                    let mut c: Central<AnyStore> = Central::open_at(&at).expect("open");
                    barrier.wait();
                    c.ingest(&bundle).expect("ingest");
                })
            })
            .collect();
        for r in racers {
            r.join().expect("racer");
        }
        let c: Central<AnyStore> = Central::open_at(&at).expect("open");
        let store = c.store();
        assert!(store.submission(&x).expect("read").is_none(), "round {round}: X still current");
        assert!(store.submission(&e).expect("read").is_some(), "round {round}: edit not current");
    }
}

#[test]
fn sqlite_a_response_and_its_edit_racing_converge() {
    a_response_and_its_edit_racing_converge(&Backend::sqlite().expect("sqlite"));
}

#[test]
fn postgres_a_response_and_its_edit_racing_converge() {
    if let Some(b) = Backend::postgres() {
        a_response_and_its_edit_racing_converge(&b);
    }
}
