//! Central's promise under SIGKILL: exactly once. The real `enumera` binary
//! is killed at random moments, restarted on the same database, and sent
//! the same responses again:
//! - `central ingest B1 B2 ...`, which prints one line per bundle after its
//!   transaction committed, killed after a random number of those lines or
//!   after a random delay (opening the database, mid-transaction, ...);
//!   the bundles are whole-outbox and since-receipt ones from three devices,
//!   overlapping, re-sent, in any order;
//! - `central serve` while three devices run `device sync` against it at
//!   once; a device's acknowledgement is the receipt it applied.
//!
//! After each kill: `integrity_check` ok, no entry or response held twice,
//! no conflict, no gap or fork, every acknowledged response held with the
//! content its device produced. At the end, after a clean run, central
//! holds exactly the responses the devices produced, each once, and every
//! device's outbox is acknowledged.
//!
//! ENUMERA_CENTRAL_CRASH_ITERATIONS and ENUMERA_SERVER_CRASH_ITERATIONS set
//! the number of kills; ENUMERA_CRASH_SEED replays a run (it is printed).
//! Lives in the cli crate so that cargo builds the binary it kills.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use enumera_central::Central;
use enumera_core::bundle::{BundleOptions, apply_receipt, read_bundle, write_bundle_file};
use enumera_core::store::{NewResponse, Store};
use enumera_tests::device::{device, payload};
use enumera_tests::rng::Rng;

const DEVICES: usize = 3;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn seed(test: &str) -> u64 {
    let seed = env_number(
        "ENUMERA_CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    );
    eprintln!("{test}: ENUMERA_CRASH_SEED={seed}");
    seed
}

/// A RAM file system when there is one: devices fsync every finalize.
/// (SIGKILL loses nothing the kernel was given, so RAM or disk is the same
/// test.)
fn tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::tempdir_in(shm)
    {
        return d;
    }
    tempfile::tempdir().expect("tempdir")
}

fn enumera() -> Command {
    Command::new(env!("CARGO_BIN_EXE_enumera"))
}

/// What a device produced: instance id -> (device id, seq, content hash).
type Produced = BTreeMap<String, (String, u64, String)>;

/// One device, its database on disk (a `device sync` child opens it too).
struct Tablet {
    path: PathBuf,
    device_id: String,
}

impl Tablet {
    fn new(dir: &Path, i: usize) -> Tablet {
        let path = dir.join(format!("device-{i}.db"));
        let device_id = device(&path).device().expect("device").device_id;
        Tablet { path, device_id }
    }

    fn open(&self) -> Store {
        Store::open_existing(&self.path).expect("open the device")
    }

    /// Finalizes `n` responses; about one in four carries a photo of up to
    /// `photo_max` bytes (bigger uploads, longer windows to be killed in).
    fn finalize(&self, n: u64, photo_max: u64, rng: &mut Rng) {
        let mut store = self.open();
        let key = store.latest_instrument("f").expect("installed");
        for _ in 0..n {
            let id = store.create_draft(&NewResponse::new(key.clone())).expect("draft").instance_id;
            let a = format!("answer {}", rng.below(1_000_000));
            store.set_answer(&id, "/data/a", &a).expect("answer");
            if rng.below(4) == 0 {
                let size = 1 + rng.below(photo_max) as usize;
                let photo: Vec<u8> = (0..size).map(|_| rng.below(256) as u8).collect();
                store.put_attachment(&id, "photo.jpg", &photo).expect("photo");
            }
            store.finalize(&id, payload(&a)).expect("finalize");
        }
    }

    fn produced(&self, into: &mut Produced) {
        for e in self.open().outbox(0, false).expect("outbox") {
            into.insert(e.instance_id, (self.device_id.clone(), e.seq, e.content_hash));
        }
    }

    /// Instance ids a receipt acknowledged; the device's store checked.
    fn acknowledged(&self, context: &str) -> BTreeSet<String> {
        let store = self.open();
        let problems = store.integrity_check().expect("integrity_check");
        assert!(problems.is_empty(), "{context}: device integrity_check: {problems:?}");
        let chain = store.verify_outbox().expect("verify_outbox");
        assert!(chain.is_empty(), "{context}: device outbox: {chain:?}");
        let entries = store.outbox(0, false).expect("outbox");
        entries.into_iter().filter(|e| e.sent_at.is_some()).map(|e| e.instance_id).collect()
    }
}

fn produced(tablets: &[Tablet]) -> Produced {
    let mut all = Produced::new();
    for t in tablets {
        t.produced(&mut all);
    }
    all
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Checks central's database after a kill; returns what it holds.
fn check_central(
    db: &Path,
    produced: &Produced,
    acked: &BTreeSet<String>,
    context: &str,
) -> Produced {
    // A new connection, as after a restart: it recovers the WAL first.
    let conn = rusqlite::Connection::open(db).unwrap_or_else(|e| panic!("{context}: open: {e}"));
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("integrity_check");
    assert_eq!(integrity, ["ok"], "{context}: integrity_check");
    let foreign = count(&conn, "SELECT count(*) FROM pragma_foreign_key_check");
    assert_eq!(foreign, 0, "{context}: foreign key violations");
    assert_eq!(count(&conn, "SELECT count(*) FROM conflicts"), 0, "{context}: conflicts");
    // Each response from exactly one entry, each entry once.
    let twice = count(
        &conn,
        "SELECT count(*) FROM (SELECT instance_id FROM entries GROUP BY instance_id HAVING count(*) > 1)",
    );
    assert_eq!(twice, 0, "{context}: an instance id received in two entries");
    let (entries, responses) = (
        count(&conn, "SELECT count(*) FROM entries"),
        count(&conn, "SELECT count(*) FROM responses"),
    );
    assert_eq!(entries, responses, "{context}: entries and responses differ");
    let unmatched = count(
        &conn,
        "SELECT count(*) FROM responses r WHERE NOT EXISTS (SELECT 1 FROM entries e
         WHERE e.device_id = r.device_id AND e.seq = r.seq AND e.entry_hash = r.entry_hash)",
    );
    assert_eq!(unmatched, 0, "{context}: a response without its entry");
    let distinct = count(&conn, "SELECT count(DISTINCT instance_id) FROM responses");
    assert_eq!(distinct, responses, "{context}: a response held twice");

    let mut held = Produced::new();
    let mut stmt = conn
        .prepare("SELECT instance_id, device_id, seq, content_hash FROM responses")
        .expect("sql");
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))
        .expect("responses");
    for row in rows {
        let (id, value) = row.expect("row");
        assert_eq!(produced.get(&id), Some(&value), "{context}: {id} is not what a device sent");
        assert!(held.insert(id, value).is_none(), "{context}: held twice");
    }
    for id in acked {
        assert!(held.contains_key(id), "{context}: acknowledged response {id} lost");
    }
    // Central's own view: no gap, no fork in any device's sequence.
    let status = Central::open(db).and_then(|c| c.status()).expect("status");
    assert_eq!(status.responses as usize, held.len(), "{context}");
    for d in &status.devices {
        assert!(d.gaps.is_empty() && d.forks.is_empty(), "{context}: {d:?}");
    }
    held
}

fn exactly_the_produced(held: &Produced, produced: &Produced, context: &str) {
    let missing: Vec<_> = produced.keys().filter(|id| !held.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "{context}: central lacks {} responses: {missing:?}",
        missing.len()
    );
    assert_eq!(held, produced, "{context}: central holds other responses than the devices made");
}

/// Complete lines from a child's stderr (an unfinished last line is not one).
fn read_lines(stderr: &mut BufReader<ChildStderr>, want: Option<usize>) -> Vec<String> {
    let mut lines = Vec::new();
    let mut buf = String::new();
    while want.is_none_or(|w| lines.len() < w) {
        buf.clear();
        match stderr.read_line(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) if buf.ends_with('\n') => lines.push(buf.trim_end().to_string()),
            Ok(_) => {}
        }
    }
    lines
}

/// Kills a child (it may have finished already) and reaps it.
fn kill(child: &mut Child) -> ExitStatus {
    let _ = child.kill();
    child.wait().expect("wait")
}

/// One bundle file and the responses in it.
struct BundleFile {
    path: PathBuf,
    device: usize,
    ids: Vec<String>,
}

fn write_bundle(
    dir: &Path,
    tablets: &[Tablet],
    d: usize,
    since_receipt: bool,
    pool: &mut Vec<BundleFile>,
) {
    let path = dir.join(format!("b{}-d{d}.bundle", pool.len()));
    write_bundle_file(
        &tablets[d].open(),
        &BundleOptions { since_receipt, ..Default::default() },
        &path,
    )
    .expect("write bundle");
    let bytes = std::fs::read(&path).expect("read bundle");
    let ids = read_bundle(&bytes).expect("bundle").responses.into_iter();
    let ids = ids.map(|r| r.entry.instance_id).collect();
    pool.push(BundleFile { path, device: d, ids });
}

/// The line `central ingest` prints once a bundle's transaction committed.
fn acknowledged_bundle<'p>(line: &str, pool: &'p [BundleFile]) -> Option<&'p BundleFile> {
    if line.contains("refused") || line.contains("cannot read") {
        panic!("ingest refused a bundle: {line}");
    }
    pool.iter().find(|b| line.starts_with(&format!("{}: device ", b.path.display())))
}

fn ingest_child(db: &Path, bundles: &[&BundleFile]) -> (Child, BufReader<ChildStderr>) {
    let mut child = enumera()
        .args(["central", "--db"])
        .arg(db)
        .arg("ingest")
        .args(bundles.iter().map(|b| &b.path))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn enumera central ingest");
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    (child, stderr)
}

/// Runs `central ingest` to the end; returns how long it took.
fn ingest_clean(db: &Path, bundles: &[&BundleFile], context: &str) -> Duration {
    let t = Instant::now();
    let (mut child, mut stderr) = ingest_child(db, bundles);
    let lines = read_lines(&mut stderr, None);
    let status = child.wait().expect("wait");
    assert!(status.success(), "{context}: central ingest failed: {lines:?}");
    t.elapsed()
}

#[test]
fn sigkill_during_central_ingest_keeps_each_response_exactly_once() {
    let iterations = env_number("ENUMERA_CENTRAL_CRASH_ITERATIONS", 200) as usize;
    let seed = seed("central ingest crash test");
    let mut rng = Rng(seed | 1);
    // A fresh central and fresh devices every so often keep each run small.
    const PER_CENTRAL: usize = 50;
    let started = Instant::now();
    let (mut acks, mut mid_run, mut finished) = (0usize, 0usize, 0usize);
    let mut done = 0;
    while done < iterations {
        let dir = tempdir();
        let db = dir.path().join("central.db");
        Central::init(&db).expect("central");
        let tablets: Vec<Tablet> = (0..DEVICES).map(|i| Tablet::new(dir.path(), i)).collect();
        let mut pool = Vec::new();
        for (d, t) in tablets.iter().enumerate() {
            t.finalize(20 + rng.below(60), 4096, &mut rng);
            write_bundle(dir.path(), &tablets, d, false, &mut pool);
        }
        // How long a whole run takes here, for the random delays: the first
        // bundles ingested into a scratch central.
        let scratch = dir.path().join("scratch.db");
        Central::init(&scratch).expect("scratch central");
        let all: Vec<&BundleFile> = pool.iter().collect();
        let typical = ingest_clean(&scratch, &all, "calibration").as_micros() as u64 + 1;
        // The windows the kills are drawn from: after the last
        // acknowledged bundle, and from the start. Each narrows when a run
        // finished before its kill and widens when it did not, so that about
        // four runs in five are cut.
        let mut windows = [typical / all.len() as u64 + 1, typical];

        let mut acked = BTreeSet::new();
        for _ in 0..PER_CENTRAL.min(iterations - done) {
            let context = format!("kill {done} (ENUMERA_CRASH_SEED={seed})");
            done += 1;
            // The devices carry on: new responses, in a bundle of the whole
            // outbox or (after applying central's receipt) of what is unsent.
            let grew = rng.below(3) != 0;
            if grew {
                let d = rng.below(DEVICES as u64) as usize;
                tablets[d].finalize(1 + rng.below(30), 4096, &mut rng);
                let since_receipt = rng.below(3) == 0;
                if since_receipt {
                    let receipt = Central::open(&db)
                        .and_then(|c| c.receipt_for(&tablets[d].device_id))
                        .map(|r| r.file);
                    // No receipt yet when central holds nothing from it.
                    if let Ok(file) = receipt {
                        apply_receipt(&mut tablets[d].open(), &file).expect("apply receipt");
                    }
                }
                write_bundle(dir.path(), &tablets, d, since_receipt, &mut pool);
            }
            // Re-send: a few bundles, the newest of a device more often, and
            // the new one if there is one (anywhere in the run).
            let k = 1 + rng.below(5) as usize;
            let mut chosen: Vec<&BundleFile> = (0..k)
                .map(|_| {
                    if rng.below(2) == 0 {
                        let d = rng.below(DEVICES as u64) as usize;
                        pool.iter().rev().find(|b| b.device == d).expect("a bundle per device")
                    } else {
                        &pool[rng.below(pool.len() as u64) as usize]
                    }
                })
                .collect();
            if grew {
                let at = rng.below(k as u64 + 1) as usize;
                chosen.insert(at, pool.last().expect("the new bundle"));
            }
            chosen.dedup_by(|a, b| a.path == b.path);
            let (mut child, mut stderr) = ingest_child(&db, &chosen);
            // Half the kills land soon after a bundle committed (so during
            // the next one), half after a random delay (any moment).
            let mode = rng.below(2) as usize;
            let mut lines = if mode == 0 {
                let wanted = rng.below(chosen.len() as u64) as usize;
                read_lines(&mut stderr, Some(wanted))
            } else {
                Vec::new()
            };
            // In the next bundle (reading, verifying, writing), or anywhere.
            std::thread::sleep(Duration::from_micros(rng.below(windows[mode])));
            let status = kill(&mut child);
            windows[mode] = if status.success() {
                windows[mode] * 2 / 3 + 1
            } else {
                (windows[mode] * 11 / 10).min(typical * 4)
            };
            lines.extend(read_lines(&mut stderr, None));
            let committed: Vec<&BundleFile> =
                lines.iter().filter_map(|l| acknowledged_bundle(l, &pool)).collect();
            if status.success() {
                finished += 1;
                assert_eq!(committed.len(), chosen.len(), "{context}: {lines:?}");
            } else {
                assert!(status.code().is_none(), "{context}: ingest failed ({status}): {lines:?}");
                if !committed.is_empty() {
                    mid_run += 1;
                }
            }
            acks += committed.len();
            for b in committed {
                acked.extend(b.ids.iter().cloned());
            }
            check_central(&db, &produced(&tablets), &acked, &context);
        }
        // A clean run of everything, and a fresh whole-outbox bundle of
        // each device: central holds exactly what the devices made.
        for d in 0..DEVICES {
            write_bundle(dir.path(), &tablets, d, false, &mut pool);
        }
        let all: Vec<&BundleFile> = pool.iter().collect();
        ingest_clean(&db, &all, "final ingest");
        let produced = produced(&tablets);
        let held = check_central(&db, &produced, &acked, "after the final ingest");
        exactly_the_produced(&held, &produced, &format!("seed {seed}"));
    }
    eprintln!(
        "central ingest crash test: {iterations} kills ({mid_run} after part of a run committed, \
         {finished} runs finished first), {acks} acknowledged bundles checked in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert!(mid_run > 0, "no kill landed in the middle of a run: the test tested nothing");
}

/// `enumera central serve` on a free port of 127.0.0.1.
struct Served {
    child: Child,
    url: String,
}

impl Served {
    fn start(db: &Path) -> Served {
        let mut child = enumera()
            .args(["central", "--db"])
            .arg(db)
            .args(["serve", "--listen", "127.0.0.1:0", "--request-timeout", "20"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn enumera central serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let addr = lines
            .by_ref()
            .take(20)
            .map_while(Result::ok)
            .find_map(|l| l.split("listening on http://").nth(1).map(str::to_owned))
            .expect("serve prints its address");
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Served { child, url: format!("http://{addr}") }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

fn sync_child(tablet: &Tablet, url: &str, token: &str) -> Child {
    enumera()
        .args(["device", "--db"])
        .arg(&tablet.path)
        .args(["sync", "--server", url, "--attempts", "1", "--timeout", "20", "--json"])
        .env("ENUMERA_TOKEN", token)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn enumera device sync")
}

/// Waits for a sync child; true when it synced.
fn synced(mut child: Child, context: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            if !status.success() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                // Only the connection may fail: central was killed.
                assert!(
                    err.contains("cannot reach central"),
                    "{context}: sync failed for another reason: {err}"
                );
            }
            return status.success();
        }
        if Instant::now() > deadline {
            kill(&mut child);
            panic!("{context}: device sync hung");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn sigkill_of_the_sync_server_keeps_each_response_exactly_once() {
    let iterations = env_number("ENUMERA_SERVER_CRASH_ITERATIONS", 40) as usize;
    let seed = seed("sync server crash test");
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    let dir = tempdir();
    let db = dir.path().join("central.db");
    let tablets: Vec<Tablet> = (0..DEVICES).map(|i| Tablet::new(dir.path(), i)).collect();
    let tokens: Vec<String> = {
        let mut central = Central::init(&db).expect("central");
        tablets.iter().map(|t| central.create_token(&t.device_id).expect("token")).collect()
    };
    let round = |rng: &mut Rng| {
        for t in &tablets {
            if rng.below(2) == 0 {
                t.finalize(1 + rng.below(40), 64 * 1024, rng);
            }
        }
    };
    // The first round runs clean: how long a round of syncs takes here,
    // for the random delays.
    for t in &tablets {
        t.finalize(20 + rng.below(40), 64 * 1024, &mut rng);
    }
    let typical = {
        let served = Served::start(&db);
        let t = Instant::now();
        let children: Vec<Child> =
            tablets.iter().zip(&tokens).map(|(t, tok)| sync_child(t, &served.url, tok)).collect();
        for c in children {
            assert!(synced(c, "first round"), "the first, clean, sync failed");
        }
        t.elapsed()
    };

    // Kills spread over a window that follows how long syncs take: wider
    // when every sync was cut (the backlog grows), narrower when none was.
    let mut window = typical.as_micros() as u64 + 1;
    let (mut completed, mut interrupted, mut reply_lost) = (0usize, 0usize, 0usize);
    let mut client_kills = 0usize;
    for i in 0..iterations {
        let context = format!("server kill {i} (ENUMERA_CRASH_SEED={seed})");
        round(&mut rng);
        let mut served = Served::start(&db);
        let mut children: Vec<Child> =
            tablets.iter().zip(&tokens).map(|(t, tok)| sync_child(t, &served.url, tok)).collect();
        std::thread::sleep(Duration::from_micros(rng.below(window)));
        // Mostly central dies; one time in four a device's sync does
        // instead (central may have committed what it never acknowledged to
        // the device, which then sends it again).
        let victim = (rng.below(4) == 0).then(|| rng.below(DEVICES as u64) as usize);
        match victim {
            Some(d) => {
                kill(&mut children[d]);
                client_kills += 1;
            }
            None => {
                kill(&mut served.child);
            }
        }
        let mut ok = Vec::new();
        for (d, c) in children.into_iter().enumerate() {
            ok.push(if victim == Some(d) { false } else { synced(c, &context) });
        }
        if ok.iter().all(|o| *o) {
            window = window * 2 / 3 + 1;
        } else if !ok.iter().any(|o| *o) {
            window = (window * 3 / 2).min(typical.as_micros() as u64 * 20 + 1);
        }
        drop(served);
        let mut acked = BTreeSet::new();
        for t in &tablets {
            acked.extend(t.acknowledged(&context));
        }
        let produced = produced(&tablets);
        let held = check_central(&db, &produced, &acked, &context);
        for (t, ok) in tablets.iter().zip(ok) {
            if ok {
                completed += 1;
            } else {
                interrupted += 1;
                // Central committed but the device never got the receipt.
                let unsent = t.open().outbox(0, true).expect("outbox");
                if unsent.iter().any(|e| held.contains_key(&e.instance_id)) {
                    reply_lost += 1;
                }
            }
        }
    }
    // A clean restart: every device syncs, and is acknowledged in full.
    round(&mut rng);
    let served = Served::start(&db);
    for (t, tok) in tablets.iter().zip(&tokens) {
        assert!(synced(sync_child(t, &served.url, tok), "final sync"), "final sync failed");
    }
    drop(served);
    let mut acked = BTreeSet::new();
    for t in &tablets {
        acked.extend(t.acknowledged("after the final sync"));
        let unsent = t.open().outbox(0, true).expect("outbox");
        assert!(unsent.is_empty(), "seed {seed}: {} entries without a receipt", unsent.len());
    }
    let produced = produced(&tablets);
    let held = check_central(&db, &produced, &acked, "after the final sync");
    exactly_the_produced(&held, &produced, &format!("seed {seed}"));
    eprintln!(
        "sync server crash test: {iterations} kills ({client_kills} of a device's sync, the others \
         of central); {} syncs completed, {interrupted} interrupted ({reply_lost} after central \
         committed); {} responses held once each, in {:.1}s",
        completed,
        held.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(interrupted > 0, "no sync was interrupted: the test tested nothing");
}
