//! Device store benchmarks (issue 5):
//! - commit of one answer (`Store::set_answer`, its own transaction,
//!   `synchronous=FULL`, on this machine's disk), p50/p95, beside a bare
//!   rusqlite insert of the same row with the same settings;
//! - finalize of a 200-answer response;
//! - listing 10,000 responses.
//!
//! `cargo bench -p enumera-benches --bench store`. Under `cargo test` (no
//! `--bench` argument) it runs a tiny version only, to keep it compiling and working.

use std::path::Path;

use enumera_benches::{Samples, fmt_duration, peak_rss_bytes};
use enumera_core::instrument::Instrument;
use enumera_core::store::{NewResponse, Payload, Store};
use rusqlite::{Connection, params};

struct Sizes {
    answer_rounds: usize,
    answers_per_round: usize,
    finalizes: usize,
    listed: usize,
    list_runs: usize,
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes = if full {
        Sizes {
            answer_rounds: 10,
            answers_per_round: 200,
            finalizes: 50,
            listed: 10_000,
            list_runs: 30,
        }
    } else {
        Sizes { answer_rounds: 2, answers_per_round: 5, finalizes: 2, listed: 50, list_runs: 2 }
    };
    // Full runs measure the working directory's disk (not a RAM-backed
    // /tmp) unless ENUMERA_BENCH_DIR says otherwise.
    let base =
        std::env::var_os("ENUMERA_BENCH_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| {
            if full {
                std::env::current_dir().unwrap_or_else(|_| std::env::temp_dir())
            } else {
                std::env::temp_dir()
            }
        });
    let dir =
        tempfile::Builder::new().prefix(".bench-store-").tempdir_in(&base).expect("bench dir");
    println!(
        "store benchmarks in {} ({})",
        dir.path().display(),
        if full { "full" } else { "smoke" }
    );
    answer_commit(dir.path(), &sizes);
    finalize(dir.path(), &sizes);
    listing(dir.path(), &sizes);
    println!("peak RSS: {:.1} MiB", peak_rss_bytes() as f64 / 1_048_576.0);
}

fn instrument(questions: usize) -> Instrument {
    let children: Vec<_> = (0..questions)
        .map(|i| serde_json::json!({"name": format!("q{i}"), "kind": {"kind": "question", "type": "text"}, "row": i + 2}))
        .collect();
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": "bench", "version": "1", "title": "Bench", "root_name": "data",
        "settings": {}, "children": children,
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

fn ready(dir: &Path, name: &str) -> (Store, enumera_core::store::InstrumentKey) {
    let mut store = Store::open(dir.join(name)).expect("open");
    store.init_device("bench", None).expect("init");
    let key = store.install_instrument(&instrument(200)).expect("install");
    (store, key)
}

fn report(what: &str, s: &Samples) {
    println!(
        "{what:<44} n={:<6} p50 {:>10}  p95 {:>10}  p99 {:>10}  max {:>10}",
        s.0.len(),
        fmt_duration(s.quantile(0.5)),
        fmt_duration(s.quantile(0.95)),
        fmt_duration(s.quantile(0.99)),
        fmt_duration(s.max())
    );
}

/// The bare baseline: the same settings Store uses, one autocommit insert
/// of the same row into a table of the same shape.
fn bare_connection(path: &Path) -> Connection {
    let c = Connection::open(path).expect("open bare");
    c.pragma_update(None, "journal_mode", "WAL").expect("wal");
    c.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;
         CREATE TABLE answers (instance_id TEXT NOT NULL, ref TEXT NOT NULL, value TEXT NOT NULL,
                               PRIMARY KEY (instance_id, ref)) WITHOUT ROWID;",
    )
    .expect("bare schema");
    c
}

fn answer_commit(dir: &Path, sizes: &Sizes) {
    let (mut store, key) = ready(dir, "answers.db");
    let id = store.create_draft(&NewResponse::new(key)).expect("draft").instance_id;
    let bare = bare_connection(&dir.join("bare.db"));
    let mut insert = bare
        .prepare(
            "INSERT INTO answers (instance_id, ref, value) VALUES (?1, ?2, ?3)
                  ON CONFLICT (instance_id, ref) DO UPDATE SET value = excluded.value",
        )
        .expect("prepare");
    let (mut ours, mut baseline) = (Samples::default(), Samples::default());
    // Alternate blocks so that both see the same disk weather.
    for round in 0..sizes.answer_rounds {
        for i in 0..sizes.answers_per_round {
            let reference = format!("/data/r{round}/q{i}");
            let value = format!("answer {round} {i}");
            ours.time(|| store.set_answer(&id, &reference, &value)).expect("set_answer");
        }
        for i in 0..sizes.answers_per_round {
            let reference = format!("/data/r{round}/q{i}");
            let value = format!("answer {round} {i}");
            baseline.time(|| insert.execute(params![id, reference, value])).expect("insert");
        }
    }
    report("answer commit: Store::set_answer", &ours);
    report("answer commit: bare rusqlite insert", &baseline);
    let ratio = |q| ours.quantile(q).as_secs_f64() / baseline.quantile(q).as_secs_f64().max(1e-9);
    println!(
        "answer commit: ratio to bare  p50 {:.2}x  p95 {:.2}x (target within 1.5x)",
        ratio(0.5),
        ratio(0.95)
    );
}

fn finalize(dir: &Path, sizes: &Sizes) {
    let (mut store, key) = ready(dir, "finalize.db");
    let mut s = Samples::default();
    for _ in 0..sizes.finalizes {
        let id = store.create_draft(&NewResponse::new(key.clone())).expect("draft").instance_id;
        let answers: Vec<_> = (0..200)
            .map(|i| enumera_core::store::Answer {
                reference: format!("/data/q{i}"),
                value: format!("value {i}"),
            })
            .collect();
        store.set_answers(&id, &answers).expect("answers");
        let xml = format!(
            "<data>{}</data>",
            answers
                .iter()
                .enumerate()
                .map(|(i, a)| format!("<q{i}>{}</q{i}>", a.value))
                .collect::<String>()
        );
        let payload =
            Payload::Plain { json: serde_json::to_string(&answers).unwrap_or_default(), xml };
        s.time(|| store.finalize(&id, payload)).expect("finalize");
    }
    report("finalize of a 200-answer response", &s);
}

fn listing(dir: &Path, sizes: &Sizes) {
    let (store, key) = ready(dir, "list.db");
    // Setup in one transaction with plain SQL: committing 10,000 drafts one
    // by one would measure the disk, not the listing.
    {
        let mut c = Connection::open(store.path()).expect("open");
        let tx = c.transaction().expect("tx");
        {
            let mut ins = tx
                .prepare(
                    "INSERT INTO responses (instance_id, form_id, form_version, form_hash, participant_id,
                        round, enumerator, state, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'bench', ?7, ?8, ?8)",
                )
                .expect("prepare");
            for i in 0..sizes.listed {
                let state = ["draft", "discarded", "draft", "draft"][i % 4];
                let at = format!("2026-01-01T00:00:{:02}.{:06}Z", i / 1_000_000, i % 1_000_000);
                ins.execute(params![
                    format!("uuid:bench-{i:08}"),
                    key.form_id,
                    key.version,
                    key.hash,
                    format!("P-{:04}", i % 500),
                    (i % 3) as i64 + 1,
                    state,
                    at
                ])
                .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    let mut s = Samples::default();
    let mut n = 0;
    for _ in 0..sizes.list_runs {
        n = s.time(|| store.list_responses()).expect("list").len();
    }
    assert_eq!(n, sizes.listed);
    report(&format!("list_responses of {n} responses"), &s);
    let mut c = Samples::default();
    for _ in 0..sizes.list_runs {
        c.time(|| store.state_counts()).expect("counts");
    }
    report(&format!("state_counts over {n} responses"), &c);
}
