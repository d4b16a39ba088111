//! Fault injection at every write step of the device store (answer,
//! attachment, finalize, receipt), of bundle writing, and of central ingest.
//!
//! How faults are made (no code in the store changes for it):
//! - a failing SQL statement: a trigger `BEFORE INSERT|UPDATE|DELETE ON t`
//!   that raises, installed from a second connection, for every table and
//!   every kind of write in turn, so each statement a step runs fails once;
//! - a full disk: SQLite's `max_page_count` capped at the current size, so
//!   the page allocator fails as on a full disk (a real SQLITE_FULL);
//! - failing file writes: a writer that errors after N bytes, for N across
//!   a whole bundle, and a destination that cannot be written.
//!
//! After each fault: the step returned a typed error; the database passes
//! `PRAGMA integrity_check`, its outbox chain verifies, it holds exactly
//! what it held before the step (the step was all or nothing), and
//! everything acknowledged before is there when the database is opened
//! again. Then the fault is lifted and the same step succeeds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use enumera_central::{Central, CentralError, IngestError};
use enumera_core::bundle::{
    BundleError, BundleOptions, ReceiptError, apply_receipt, read_bundle, write_bundle,
    write_bundle_file,
};
use enumera_core::store::{NewResponse, Store, StoreError};
use enumera_tests::device::{device, payload};
use rusqlite::Connection;

/// A second connection to a database, arming and disarming faults.
struct Injector {
    conn: Connection,
}

const OPS: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];
const FAULT: &str = "injected fault";

impl Injector {
    fn open(path: &Path) -> Injector {
        let conn = Connection::open(path).expect("second connection");
        conn.busy_timeout(std::time::Duration::from_secs(10)).expect("busy timeout");
        Injector { conn }
    }

    fn tables(&self) -> Vec<String> {
        let mut stmt = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .expect("tables");
        stmt.query_map([], |r| r.get(0)).expect("tables").map(|r| r.expect("name")).collect()
    }

    /// Makes every `op` on `table` fail until [`Injector::disarm`].
    fn arm(&self, table: &str, op: &str) {
        self.conn
            .execute_batch(&format!(
                "CREATE TRIGGER fault BEFORE {op} ON \"{table}\" \
                 BEGIN SELECT RAISE(ABORT, '{FAULT}: {op} {table}'); END;"
            ))
            .expect("arm");
    }

    fn disarm(&self) {
        self.conn.execute_batch("DROP TRIGGER IF EXISTS fault").expect("disarm");
    }

    /// Every row of every table, sorted: equal dumps mean equal contents.
    fn dump(&self) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        for table in self.tables() {
            let mut stmt =
                self.conn.prepare(&format!("SELECT * FROM \"{table}\"")).expect("select");
            let n = stmt.column_count();
            let mut rows: Vec<String> = stmt
                .query_map([], |r| {
                    let cells: Vec<String> = (0..n)
                        .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i)))
                        .collect();
                    Ok(cells.join("|"))
                })
                .expect("rows")
                .map(|r| r.expect("row"))
                .collect();
            rows.sort();
            out.insert(table, rows);
        }
        out
    }

    fn integrity_ok(&self) -> bool {
        let r: String =
            self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity");
        r == "ok"
    }
}

/// What the device acknowledged: answers (by response and reference) and
/// finalized responses. All of it must survive any later fault.
#[derive(Default)]
struct Acknowledged {
    answers: BTreeMap<(String, String), String>,
    finalized: Vec<String>,
}

impl Acknowledged {
    fn check(&self, path: &Path, when: &str) {
        // A new connection, as after the app restarts.
        let store = Store::open(path).unwrap_or_else(|e| panic!("{when}: reopen: {e}"));
        for ((id, reference), value) in &self.answers {
            let held = store.answer(id, reference).unwrap_or_else(|e| panic!("{when}: {e}"));
            assert_eq!(held.as_deref(), Some(value.as_str()), "{when}: {id} {reference} lost");
        }
        for id in &self.finalized {
            let entry = store.outbox_entry(id).unwrap_or_else(|e| panic!("{when}: {e}"));
            assert!(entry.is_some(), "{when}: finalized {id} lost from the outbox");
        }
        assert_eq!(store.integrity_check().expect("integrity"), Vec::<String>::new(), "{when}");
        assert!(store.verify_outbox().expect("verify").is_empty(), "{when}: outbox chain broken");
    }
}

/// The fault a trigger raises reaches the caller as a typed store error
/// that names what was being done.
fn is_injected_store_error(e: &StoreError) -> bool {
    matches!(e, StoreError::Sqlite { context, source, .. }
        if !context.is_empty() && source.to_string().contains(FAULT))
}

/// Runs `act` once under each armed fault (every table, every write kind),
/// `prepare` before each with no fault armed. Returns how many faults fired.
fn each_fault<C>(
    path: &Path,
    ack: &mut Acknowledged,
    step: &str,
    store: &mut Store,
    mut prepare: impl FnMut(&mut Store, &mut Acknowledged) -> C,
    mut act: impl FnMut(&mut Store, &C) -> Result<(), StoreError>,
    mut acknowledge: impl FnMut(&mut Acknowledged, &C),
) -> usize {
    let inj = Injector::open(path);
    let mut fired = 0;
    for table in inj.tables() {
        for op in OPS {
            let ctx = prepare(store, ack);
            let before = inj.dump();
            inj.arm(&table, op);
            let result = act(store, &ctx);
            inj.disarm();
            let when = format!("{step} with {op} on {table} failing");
            match result {
                Ok(()) => {}
                Err(e) => {
                    fired += 1;
                    assert!(is_injected_store_error(&e), "{when}: untyped or wrong error: {e:?}");
                    assert!(inj.integrity_ok(), "{when}: integrity");
                    assert_eq!(inj.dump(), before, "{when}: the failed step left a partial change");
                    ack.check(path, &when);
                    // The fault lifted, the same step succeeds.
                    act(store, &ctx).unwrap_or_else(|e| panic!("{when}: retry failed: {e}"));
                }
            }
            acknowledge(ack, &ctx);
            ack.check(path, &format!("after {step}"));
        }
    }
    eprintln!("{step}: {fired} of {} armed faults fired", inj.tables().len() * OPS.len());
    fired
}

fn new_draft(store: &mut Store) -> String {
    let key = store.latest_instrument("f").expect("form");
    store.create_draft(&NewResponse::new(key)).expect("draft").instance_id
}

fn setup() -> (tempfile::TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("device.db");
    let store = device(&path);
    (dir, path, store)
}

#[test]
fn a_failed_answer_write_changes_nothing_and_a_retry_succeeds() {
    let (_dir, path, mut store) = setup();
    let mut ack = Acknowledged::default();
    let draft = new_draft(&mut store);
    let mut n = 0;
    let fired = each_fault(
        &path,
        &mut ack,
        "answer",
        &mut store,
        |_, _| {
            n += 1;
            (draft.clone(), format!("value {n}"))
        },
        |s, (id, v)| s.set_answer(id, "/data/a", v),
        |ack, (id, v)| {
            ack.answers.insert((id.clone(), "/data/a".into()), v.clone());
        },
    );
    assert!(fired >= 1, "no write of an answer was made to fail");
}

#[test]
fn a_failed_attachment_write_changes_nothing_and_a_retry_succeeds() {
    let (_dir, path, mut store) = setup();
    let mut ack = Acknowledged::default();
    let draft = new_draft(&mut store);
    let mut n = 0;
    let fired = each_fault(
        &path,
        &mut ack,
        "attachment",
        &mut store,
        |_, _| {
            n += 1;
            (draft.clone(), format!("photo-{n}.jpg"))
        },
        |s, (id, name)| s.put_attachment(id, name, name.as_bytes()).map(|_| ()),
        |_, _| {},
    );
    assert!(fired >= 1, "no write of an attachment was made to fail");
    let names: Vec<String> =
        store.attachments(&draft).expect("list").into_iter().map(|a| a.name).collect();
    assert_eq!(names.len(), n, "each attachment once, after its retry: {names:?}");
}

#[test]
fn a_failed_finalize_changes_nothing_and_a_retry_succeeds() {
    let (_dir, path, mut store) = setup();
    let mut ack = Acknowledged::default();
    let fired = each_fault(
        &path,
        &mut ack,
        "finalize",
        &mut store,
        |s, ack| {
            let id = new_draft(s);
            s.set_answer(&id, "/data/a", "yes").expect("answer");
            ack.answers.insert((id.clone(), "/data/a".into()), "yes".into());
            id
        },
        |s, id| s.finalize(id, payload("yes")).map(|_| ()),
        |ack, id| ack.finalized.push(id.clone()),
    );
    assert!(fired >= 2, "finalize writes the response and the outbox; {fired} faults fired");
    let seqs: Vec<u64> = store.outbox(0, false).expect("outbox").iter().map(|e| e.seq).collect();
    let expected: Vec<u64> = (1..=ack.finalized.len() as u64).collect();
    assert_eq!(seqs, expected, "one outbox entry per finalized response, no gaps");
}

/// Caps the database at its current size: the next write that needs a new
/// page fails as on a full disk.
fn fill_disk(store: &Store, inj: &Injector) {
    let pages: u64 = inj.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).expect("pages");
    store.set_max_page_count(pages).expect("cap at the current size");
}

fn free_disk(store: &Store) {
    store.set_max_page_count(1 << 30).expect("lift the cap");
}

#[test]
fn a_full_disk_at_an_answer_is_a_typed_error_and_loses_nothing() {
    let (_dir, path, mut store) = setup();
    let inj = Injector::open(&path);
    let mut ack = Acknowledged::default();
    let id = new_draft(&mut store);
    fill_disk(&store, &inj);
    let big = "x".repeat(3000);
    let mut i = 0;
    let (reference, value) = loop {
        let (reference, value) = (format!("/data/a{i}"), format!("{i} {big}"));
        match store.set_answer(&id, &reference, &value) {
            Ok(()) => ack.answers.insert((id.clone(), reference), value),
            Err(e) => {
                assert!(matches!(e, StoreError::DiskFull { .. }), "{e:?}");
                break (reference, value);
            }
        };
        i += 1;
        assert!(i < 1000, "the cap never filled");
    };
    ack.check(&path, "disk full at an answer");
    assert_eq!(store.answer(&id, &reference).expect("read"), None, "half an answer was kept");
    free_disk(&store);
    store.set_answer(&id, &reference, &value).expect("the same answer once there is room");
    ack.answers.insert((id, reference), value);
    ack.check(&path, "after the disk was freed");
}

#[test]
fn a_full_disk_at_finalize_is_a_typed_error_and_loses_nothing() {
    let (_dir, path, mut store) = setup();
    let inj = Injector::open(&path);
    let mut ack = Acknowledged::default();
    let drafts: Vec<String> = (0..200)
        .map(|i| {
            let id = new_draft(&mut store);
            store.set_answer(&id, "/data/a", &i.to_string()).expect("answer");
            ack.answers.insert((id.clone(), "/data/a".into()), i.to_string());
            id
        })
        .collect();
    fill_disk(&store, &inj);
    let big = "x".repeat(3000);
    let failed = drafts.iter().find(|id| match store.finalize(id, payload(&big)) {
        Ok(_) => {
            ack.finalized.push((*id).clone());
            false
        }
        Err(e) => {
            assert!(matches!(e, StoreError::DiskFull { .. }), "{e:?}");
            true
        }
    });
    let failed = failed.expect("the cap never filled").clone();
    ack.check(&path, "disk full at finalize");
    assert!(store.outbox_entry(&failed).expect("read").is_none(), "half a finalize was kept");
    free_disk(&store);
    store.finalize(&failed, payload(&big)).expect("the same finalize once there is room");
    ack.finalized.push(failed);
    ack.check(&path, "after the disk was freed");
    let seqs: Vec<u64> = store.outbox(0, false).expect("outbox").iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=ack.finalized.len() as u64).collect::<Vec<_>>(), "no gap in the chain");
}

/// A writer that fails after `left` bytes.
struct FailingWriter {
    left: usize,
    written: Vec<u8>,
}

impl std::io::Write for FailingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other(FAULT));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_bundle_write_failing_at_any_byte_is_a_typed_error_and_changes_nothing() {
    let (dir, path, mut store) = setup();
    enumera_tests::device::finalize_some(&mut store, 3);
    let inj = Injector::open(&path);
    let before = inj.dump();
    let mut whole = Vec::new();
    write_bundle(&store, &BundleOptions::default(), &mut whole).expect("bundle");
    let mut failures = 0;
    // Every byte boundary of the first KiB (header, manifest), then every 61st.
    let cuts: Vec<usize> =
        (0..whole.len().min(1024)).chain((1024..whole.len()).step_by(61)).collect();
    for cut in cuts {
        let mut w = FailingWriter { left: cut, written: Vec::new() };
        match write_bundle(&store, &BundleOptions::default(), &mut w) {
            Err(BundleError::Io { .. }) => failures += 1,
            Err(e) => panic!("failing after {cut} bytes: not an I/O error: {e:?}"),
            Ok(_) => panic!("failing after {cut} of {} bytes went unnoticed", whole.len()),
        }
        // A partial bundle never reads as a bundle.
        assert!(read_bundle(&w.written).is_err(), "a bundle cut at {cut} bytes was accepted");
    }
    assert!(failures > 100);
    assert_eq!(inj.dump(), before, "writing bundles changed the store");

    // A destination that cannot be written: a typed error, nothing left
    // behind under either name; the retry to a good place succeeds.
    let bad = dir.path().join("no such folder").join("out.bundle");
    let e = write_bundle_file(&store, &BundleOptions::default(), &bad).expect_err("no folder");
    assert!(matches!(e, BundleError::Io { .. }), "{e:?}");
    let good = dir.path().join("out.bundle");
    std::fs::create_dir(dir.path().join("out.bundle.partial")).expect("block the temporary name");
    let e = write_bundle_file(&store, &BundleOptions::default(), &good).expect_err("blocked");
    assert!(matches!(e, BundleError::Io { .. }), "{e:?}");
    assert!(!good.exists(), "a failed write left a file under the final name");
    std::fs::remove_dir(dir.path().join("out.bundle.partial")).expect("unblock");
    write_bundle_file(&store, &BundleOptions::default(), &good).expect("retry");
    let written = read_bundle(&std::fs::read(&good).expect("read")).expect("the retry's bundle");
    let expected = read_bundle(&whole).expect("the first bundle");
    // The same responses (the manifest's creation time differs).
    assert!(written.responses == expected.responses, "the retry wrote other responses");
    assert!(!dir.path().join("out.bundle.partial").exists());
}

/// One more finalized response on the device, ingested at central: returns
/// central's receipt file for the device.
fn round_trip(store: &mut Store, central: &mut Central) -> Vec<u8> {
    enumera_tests::device::finalize_some(store, 1);
    let mut bundle = Vec::new();
    write_bundle(store, &BundleOptions::default(), &mut bundle).expect("bundle");
    central.ingest(&bundle).expect("ingest");
    let device_id = store.device().expect("device").device_id;
    central.receipt_for(&device_id).expect("receipt").file
}

#[test]
fn a_failed_receipt_apply_marks_nothing_and_a_retry_marks_all() {
    let (dir, path, mut store) = setup();
    let mut central = Central::init(dir.path().join("central.db")).expect("central");
    let mut ack = Acknowledged::default();
    let mut marked = 0usize;
    let fired = each_fault(
        &path,
        &mut ack,
        "receipt",
        &mut store,
        |s, _| round_trip(s, &mut central),
        |s, file| match apply_receipt(s, file) {
            Ok(r) => {
                marked += r.marked.len();
                Ok(())
            }
            Err(ReceiptError::Store(e)) => Err(e),
            Err(e) => panic!("receipt refused for another reason: {e}"),
        },
        |_, _| {},
    );
    assert!(fired >= 1, "no write of a receipt was made to fail");
    let unsent = store.outbox(0, true).expect("outbox");
    assert!(unsent.is_empty(), "after the retries every entry is sent: {unsent:?}");
    assert_eq!(marked, store.outbox(0, false).expect("outbox").len(), "each marked once");
}

#[test]
fn a_failed_ingest_writes_nothing_and_a_retry_holds_each_response_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = device(&dir.path().join("device.db"));
    let central_path = dir.path().join("central.db");
    let mut central = Central::init(&central_path).expect("central");
    let inj = Injector::open(&central_path);
    let mut fired = 0;
    let mut finalized = 0;
    for table in inj.tables() {
        for op in OPS {
            finalized += enumera_tests::device::finalize_some(&mut store, 1).len();
            let mut bundle = Vec::new();
            write_bundle(&store, &BundleOptions::default(), &mut bundle).expect("bundle");
            let before = inj.dump();
            let dump_before = central.canonical_dump().expect("dump");
            inj.arm(&table, op);
            let result = central.ingest(&bundle);
            inj.disarm();
            let when = format!("ingest with {op} on {table} failing");
            if let Err(e) = result {
                fired += 1;
                assert!(
                    matches!(&e, IngestError::Central(CentralError::Sql { .. }) if e.to_string().contains(FAULT)),
                    "{when}: untyped or wrong error: {e:?}"
                );
                assert!(inj.integrity_ok(), "{when}: integrity");
                assert_eq!(inj.dump(), before, "{when}: a refused ingest wrote something");
                assert_eq!(central.canonical_dump().expect("dump"), dump_before, "{when}");
                // Central, reopened (as after a restart), takes the re-sent bundle.
                central = Central::open(&central_path).expect("reopen");
                central.ingest(&bundle).unwrap_or_else(|e| panic!("{when}: retry: {e}"));
            }
            // Exactly once: every finalized response held, none twice.
            let status = central.status().expect("status");
            assert_eq!(status.responses as usize, finalized, "{when}: {status:?}");
            assert_eq!(status.conflicts, 0, "{when}: {status:?}");
        }
    }
    eprintln!("ingest: {fired} of {} armed faults fired", inj.tables().len() * OPS.len());
    assert!(fired >= 3, "ingest writes several tables; {fired} faults fired");
}
