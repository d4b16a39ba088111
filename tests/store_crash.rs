//! The enumerator's promise under SIGKILL: a writer process fills and
//! finalizes responses and is killed at random moments, at least 500 times
//! (ENUMERA_CRASH_ITERATIONS for more, ENUMERA_CRASH_SEED to replay). After
//! each kill: every acknowledged step is in the database, integrity_check is
//! ok, no response is half-finalized and the outbox chain has no gap.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use enumera_core::instrument::Instrument;
use enumera_core::store::{ResponseState, Store};
use enumera_tests::rng::Rng;

/// What the writer acknowledged, accumulated over the runs on one database.
#[derive(Default)]
struct Acked {
    drafts: Vec<String>,
    answers: BTreeMap<(String, String), String>,
    attachments: BTreeMap<(String, String), String>,
    finalized: BTreeMap<String, u64>,
}

impl Acked {
    fn record(&mut self, line: &str) {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts.as_slice() {
            ["D", id] => self.drafts.push(id.to_string()),
            ["A", id, r, v] => {
                self.answers.insert((id.to_string(), r.to_string()), v.to_string());
            }
            ["T", id, name, sha] => {
                self.attachments.insert((id.to_string(), name.to_string()), sha.to_string());
            }
            ["F", id, seq] => {
                self.finalized.insert(id.to_string(), seq.parse().expect("seq"));
            }
            _ => panic!("writer printed an unexpected line: {line:?}"),
        }
    }
}

fn instrument() -> Instrument {
    let children: Vec<_> = (0..40)
        .map(|i| serde_json::json!({"name": format!("q{i}"), "kind": {"kind": "question", "type": "text"}, "row": i + 2}))
        .collect();
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": "crash", "version": "1", "title": "Crash", "root_name": "data",
        "settings": {}, "children": children,
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

fn fresh_db(dir: &Path, n: usize) -> std::path::PathBuf {
    let path = dir.join(format!("crash-{n}.db"));
    let mut store = Store::open(&path).expect("create");
    store.init_device("crash tablet", None).expect("init");
    store.install_instrument(&instrument()).expect("install");
    path
}

fn spawn(db: &Path, seed: u64) -> Child {
    spawn_with(db, seed, &[])
}

fn spawn_with(db: &Path, seed: u64, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_store-crash-writer"))
        .arg(db)
        .arg(seed.to_string())
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn writer")
}

fn check(db: &Path, acked: &Acked, context: &str) {
    let store = Store::open(db).unwrap_or_else(|e| panic!("{context}: reopening failed: {e}"));
    let problems = store.integrity_check().expect("integrity_check");
    assert!(problems.is_empty(), "{context}: integrity_check: {problems:?}");
    let chain = store.verify_outbox().expect("verify_outbox");
    assert!(chain.is_empty(), "{context}: outbox: {chain:?}");
    let files = store.verify_attachments().expect("verify_attachments");
    assert!(files.is_empty(), "{context}: attachments: {files:?}");
    for id in &acked.drafts {
        store.response(id).unwrap_or_else(|e| panic!("{context}: acknowledged draft lost: {e}"));
    }
    for ((id, reference), value) in &acked.answers {
        let got = store.answer(id, reference).expect("answer");
        assert_eq!(
            got.as_deref(),
            Some(value.as_str()),
            "{context}: acknowledged answer {id} {reference}"
        );
    }
    for ((id, name), sha) in &acked.attachments {
        let info = store.attachments(id).expect("attachments");
        assert!(
            info.iter().any(|a| &a.name == name && &a.sha256 == sha),
            "{context}: attachment {id} {name}"
        );
        store.read_attachment(id, name).unwrap_or_else(|e| panic!("{context}: {e}"));
    }
    for (id, seq) in &acked.finalized {
        assert_eq!(
            store.response(id).expect("response").state,
            ResponseState::Finalized,
            "{context}: {id}"
        );
        let entry = store.outbox_entry(id).expect("outbox").expect("entry");
        assert_eq!(entry.seq, *seq, "{context}: sequence of {id}");
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    let iterations: usize =
        std::env::var("ENUMERA_CRASH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let seed: u64 = std::env::var("ENUMERA_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("store crash test: {iterations} kills, ENUMERA_CRASH_SEED={seed}");
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().expect("tempdir");
    // A fresh database every so often keeps each check quick.
    const PER_DB: usize = 50;
    let mut db = fresh_db(dir.path(), 0);
    let mut acked = Acked::default();
    let mut total_acks = 0usize;
    let started = Instant::now();
    for i in 0..iterations {
        if i > 0 && i % PER_DB == 0 {
            db = fresh_db(dir.path(), i);
            acked = Acked::default();
        }
        let mut child = spawn(&db, rng.below(u64::MAX));
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout);
        let mut buf = String::new();
        let mut partial = Vec::new();
        // Half the kills land after a random number of acknowledgements (in
        // the middle of writing), half after a random delay (any moment,
        // opening the database included).
        if rng.below(2) == 0 {
            let wanted = 1 + rng.below(25);
            let mut seen = 0;
            while seen < wanted {
                buf.clear();
                if lines.read_line(&mut buf).expect("read") == 0 {
                    break;
                }
                if buf.ends_with('\n') {
                    partial.push(buf.trim_end().to_string());
                    seen += 1;
                }
            }
        } else {
            std::thread::sleep(Duration::from_micros(rng.below(20_000)));
        }
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        // Whatever the writer printed before dying is acknowledged too; an
        // unfinished last line is not.
        loop {
            buf.clear();
            if lines.read_line(&mut buf).expect("read") == 0 {
                break;
            }
            if buf.ends_with('\n') {
                partial.push(buf.trim_end().to_string());
            }
        }
        if status.success() || status.code().is_some() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("iteration {i}: writer exited by itself ({status}): {err}");
        }
        total_acks += partial.len();
        for line in &partial {
            acked.record(line);
        }
        check(&db, &acked, &format!("iteration {i} (seed {seed})"));
    }
    eprintln!(
        "store crash test: {iterations} kills, {total_acks} acknowledged steps checked in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert!(total_acks > iterations, "the writer made too little progress to test anything");
}

/// Killing the process while it upgrades a schema version 1 database leaves
/// either version 1 untouched or the upgraded database, never a mixture.
#[test]
fn sigkill_during_schema_upgrade_leaves_old_or_new_never_half() {
    let fixture = include_str!("../core/sql/fixtures/v1.sql");
    let seed: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut old, mut new) = (0, 0);
    for i in 0..60 {
        let db = dir.path().join(format!("v1-{i}.db"));
        let answers_before = {
            let c = rusqlite::Connection::open(&db).expect("open");
            c.execute_batch(&format!("BEGIN; {fixture}; COMMIT;")).expect("fixture");
            c.query_row("SELECT count(*) FROM answers", [], |r| r.get::<_, i64>(0)).expect("count")
        };
        let mut child = spawn_with(&db, 1, &["--open-only"]);
        std::thread::sleep(Duration::from_micros(rng.below(100_000)));
        let _ = child.kill();
        let _ = child.wait();
        {
            let c = rusqlite::Connection::open(&db).expect("open");
            let version: u32 =
                c.pragma_query_value(None, "user_version", |r| r.get(0)).expect("version");
            let roster: i64 = c
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'participants'",
                    [],
                    |r| r.get(0),
                )
                .expect("schema");
            // Every step runs in one transaction: version 1, or the latest
            // with everything each step adds (v2's roster, v3's sent_by).
            let sent_by: i64 = c
                .query_row(
                    "SELECT count(*) FROM pragma_table_info('outbox') WHERE name = 'sent_by'",
                    [],
                    |r| r.get(0),
                )
                .expect("schema");
            match version {
                1 => {
                    assert_eq!(
                        (roster, sent_by),
                        (0, 0),
                        "iteration {i}: v1 with part of a later one"
                    );
                    old += 1;
                }
                v if v == enumera_core::store::SCHEMA_VERSION => {
                    assert_eq!(
                        (roster, sent_by),
                        (1, 1),
                        "iteration {i}: v{v} without all its steps"
                    );
                    new += 1;
                }
                v => panic!("iteration {i}: unexpected version {v}"),
            }
        }
        let store = Store::open(&db).expect("reopen");
        assert!(store.integrity_check().expect("integrity").is_empty());
        assert!(store.verify_outbox().expect("outbox").is_empty(), "iteration {i}");
        let answers_after: usize = store
            .list_responses()
            .expect("list")
            .iter()
            .map(|r| store.answers(&r.instance_id).expect("answers").len())
            .sum();
        assert_eq!(answers_after as i64, answers_before, "iteration {i}: answers lost");
        store.participant("MZ-001").expect("migrated participant");
    }
    eprintln!("schema upgrade kills: {old} left at v1, {new} upgraded (seed {seed})");
}
