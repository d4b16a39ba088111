//! Load (issue 19): simulated devices each syncing their responses over
//! HTTP on loopback (one bundle upload, whose reply carries the receipt),
//! from a bounded number of client threads, against one SQLite server, one
//! PostgreSQL server and two PostgreSQL servers on one database. Reports
//! syncs per second, p50/p99 latency and errors, and, as the physical
//! limit every durable commit pays, this disk's fsync rate.
//!
//! `cargo bench -p enumera-benches --bench load`: 500 devices x 20
//! responses (ENUMERA_BENCH_LOAD=DEVICES,RESPONSES,CLIENTS to change).
//! PostgreSQL from ENUMERA_TEST_POSTGRES (scripts/bench.sh starts a durable
//! throwaway cluster); without it those rows say so. Under `cargo test`
//! (no `--bench`) a tiny version runs.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use enumera_central::server::{Server, ServerConfig};
use enumera_central::{AnyStore, Central, Location, Quotas};
use enumera_core::bundle::{BundleOptions, write_bundle};
use enumera_core::instrument::Instrument;
use enumera_core::store::{NewResponse, Payload, Store};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = std::env::var("ENUMERA_BENCH_LOAD")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| v.len() == 3)
        .unwrap_or_else(|| if full { vec![500, 20, 32] } else { vec![6, 2, 3] });
    let (devices, responses, clients) = (sizes[0], sizes[1], sizes[2]);
    let scratch = if Path::new("/dev/shm").is_dir() {
        tempfile::tempdir_in("/dev/shm")
    } else {
        tempfile::tempdir()
    }
    .expect("scratch dir");
    let base = std::env::var_os("ENUMERA_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_else(|_| std::env::temp_dir()));
    let disk =
        tempfile::Builder::new().prefix(".bench-load-").tempdir_in(&base).expect("bench dir");

    let t = Instant::now();
    let bundles: Vec<(String, Vec<u8>)> = (0..devices)
        .map(|d| device_bundle(&scratch.path().join(format!("d{d}.db")), responses))
        .collect();
    println!(
        "load: {devices} devices x {responses} responses, {clients} client threads, loopback; \
         devices built in {:.1} s; SQLite central in {}",
        t.elapsed().as_secs_f64(),
        disk.path().display()
    );
    println!();
    println!(
        "| central | syncs/s | responses/s | p50 | p99 | max | errors | serialization retries |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let sqlite = Location::File(disk.path().join("central.db"));
    row("1 server, SQLite", &sqlite, 1, &bundles, clients, responses);
    match std::env::var("ENUMERA_TEST_POSTGRES") {
        Ok(admin) if !admin.is_empty() => {
            for servers in [1, 2] {
                let (at, name) = new_database(&admin);
                let label =
                    format!("{servers} server{}, PostgreSQL", if servers > 1 { "s" } else { "" });
                row(&label, &at, servers, &bundles, clients, responses);
                drop_database(&admin, &name);
            }
        }
        _ => println!(
            "| PostgreSQL | skipped: ENUMERA_TEST_POSTGRES unset (scripts/bench.sh starts a cluster) | | | | | | |"
        ),
    }
    println!();
    let rate = fsync_rate(
        disk.path(),
        if full { Duration::from_secs(3) } else { Duration::from_millis(200) },
    );
    println!(
        "fsync rate of this disk (4 KiB write + fdatasync, one file, one thread): {rate:.0}/s — \
         the ceiling for commits that each wait for their own sync"
    );
}

/// One row: a fresh central at `at`, `servers` servers over it, every
/// device's bundle uploaded once by `clients` threads.
fn row(
    label: &str,
    at: &Location,
    servers: usize,
    bundles: &[(String, Vec<u8>)],
    clients: usize,
    responses: usize,
) {
    let mut central: Central<AnyStore> = Central::init_at(at).expect("init");
    central.publish(&instrument()).expect("publish");
    let tokens: Vec<String> =
        bundles.iter().map(|(id, _)| central.create_token(id).expect("token")).collect();
    drop(central);
    let running: Vec<_> = (0..servers).map(|_| start(at)).collect();
    let addrs: Vec<SocketAddr> = running.iter().map(|r| r.0).collect();
    let retries = enumera_central::serialization_retries();
    let next = Arc::new(AtomicUsize::new(0));
    let (bundles, tokens) = (Arc::new(bundles.to_vec()), Arc::new(tokens));
    let t = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (next, bundles, tokens, addrs) =
                (next.clone(), bundles.clone(), tokens.clone(), addrs.clone());
            thread::spawn(move || {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bundles.len() {
                        return out;
                    }
                    let addr = addrs[(i + c) % addrs.len()];
                    let t = Instant::now();
                    let status = upload(addr, &tokens[i], &bundles[i].1);
                    out.push((t.elapsed(), status));
                }
            })
        })
        .collect();
    let mut results: Vec<(Duration, u16)> =
        threads.into_iter().flat_map(|t| t.join().expect("client")).collect();
    let wall = t.elapsed();
    for (_, stop, handle) in running {
        let _ = stop.send(());
        handle.join().expect("server stops");
    }
    let errors = results.iter().filter(|(_, s)| *s != 200).count();
    let retries = enumera_central::serialization_retries() - retries;
    let held = Central::open_at(at).expect("open").status().expect("status").responses;
    assert_eq!(
        held as usize,
        (bundles.len() - errors) * responses,
        "{label}: each response of each accepted upload held once"
    );
    results.sort();
    let pick = |q: f64| {
        let i = ((results.len() as f64 * q).ceil() as usize).clamp(1, results.len()) - 1;
        results[i].0.as_secs_f64() * 1e3
    };
    let n = results.len() as f64;
    println!(
        "| {label} | {:.0} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {errors} | {retries} |",
        n / wall.as_secs_f64(),
        n * responses as f64 / wall.as_secs_f64(),
        pick(0.50),
        pick(0.99),
        pick(1.0),
    );
}

fn start(at: &Location) -> (SocketAddr, mpsc::Sender<()>, thread::JoinHandle<()>) {
    let mut central: Central<AnyStore> = Central::open_at(at).expect("open");
    central.set_quotas(Quotas::DEFAULT);
    let config = ServerConfig { spool_dir: None, ..ServerConfig::default() };
    let server = Server::bind(central, "127.0.0.1:0", config).expect("bind");
    let addr = server.local_addr().expect("addr");
    let (stop, stopped) = mpsc::channel::<()>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    thread::spawn(move || {
        let _ = stopped.recv();
        let _ = tx.send(());
    });
    let handle = thread::spawn(move || {
        server
            .run(async move {
                let _ = rx.await;
            })
            .expect("serve");
    });
    (addr, stop, handle)
}

/// POSTs a bundle over a new connection (as a tablet does); the status.
fn upload(addr: SocketAddr, token: &str, bundle: &[u8]) -> u16 {
    let attempt = || -> std::io::Result<u16> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            enumera_core::remote::api::BUNDLES,
            bundle.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(bundle)?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply)?;
        let reply = String::from_utf8_lossy(&reply);
        Ok(reply.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0))
    };
    attempt().unwrap_or(0)
}

fn new_database(admin: &str) -> (Location, String) {
    let name = format!("enumera_bench_{}", std::process::id());
    let mut client = postgres::Client::connect(admin, postgres::NoTls).expect("connect");
    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop");
    client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create");
    let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    (Location::Postgres(format!("{base}/{name}?{query}")), name)
}

fn drop_database(admin: &str, name: &str) {
    if let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls) {
        let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

/// Sequential 4 KiB writes, each followed by fdatasync, for `time`.
fn fsync_rate(dir: &Path, time: Duration) -> f64 {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).expect("probe file");
    let block = [7u8; 4096];
    let (t, mut n) = (Instant::now(), 0u64);
    while t.elapsed() < time {
        file.write_all(&block).expect("write");
        file.sync_data().expect("fdatasync");
        n += 1;
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    rate
}

fn instrument() -> Instrument {
    let children: Vec<_> = (0..10)
        .map(|i| serde_json::json!({"name": format!("q{i}"), "kind": {"kind": "question", "type": "text"}, "row": i + 2}))
        .collect();
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": "load", "version": "1", "title": "Load", "root_name": "data",
        "settings": {}, "children": children,
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

/// A device with `n` finalized responses: its id and its bundle.
fn device_bundle(path: &Path, n: usize) -> (String, Vec<u8>) {
    let mut store = Store::open(path).expect("open");
    store.init_device("load tablet", None).expect("init");
    let key = store.install_instrument(&instrument()).expect("install");
    for r in 0..n {
        let id = store.create_draft(&NewResponse::new(key.clone())).expect("draft").instance_id;
        let mut xml = String::from("<data id=\"load\" version=\"1\">");
        let mut json = serde_json::Map::new();
        for q in 0..10 {
            let value = format!("answer {r}.{q}");
            xml.push_str(&format!("<q{q}>{value}</q{q}>"));
            json.insert(format!("q{q}"), value.into());
        }
        xml.push_str(&format!("<meta><instanceID>{id}</instanceID></meta></data>"));
        let json = serde_json::Value::Object(json).to_string();
        store.finalize(&id, Payload::Plain { xml, json }).expect("finalize");
    }
    let mut bundle = Vec::new();
    write_bundle(&store, &BundleOptions::default(), &mut bundle).expect("bundle");
    let id = store.device().expect("device").device_id;
    drop(store);
    let _ = std::fs::remove_file(path);
    (id, bundle)
}
