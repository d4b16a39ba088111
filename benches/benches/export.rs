//! Export benchmark (issues 7 and 16): 100,000 responses of a 60-question
//! form (integers, 1-5 scales, select_multiple with 5 choices, text,
//! decimals, geopoints in 3 groups) to CSV; target under 3 s, under 100 MiB
//! peak memory, and within 1.5x of the floor: the `sqlite3` CLI dumping a
//! flat table of the same values with `-csv` (when sqlite3 is installed).
//! Then the same responses to Stata and SPSS with the high-frequency
//! checks, in one pass (CSV, `.dta`, `.sav`, checks).
//!
//! The responses are written straight into a central database (with the
//! outbox entries whose hashes export checks), streaming, so that setup
//! does not raise the peak memory the export is measured by.
//!
//! `cargo bench -p enumera-benches --bench export`. Under `cargo test` (no
//! `--bench` argument) it runs a tiny version only.

use std::path::Path;
use std::time::Instant;

use enumera_benches::forms::Rng;
use enumera_benches::peak_rss_bytes;
use enumera_central::Central;
use enumera_central::export::{ExportOptions, Format, export};
use enumera_core::instrument::Instrument;
use enumera_core::store::EntryContent;
use rusqlite::params;
use sha2::{Digest, Sha256};

const QUESTIONS: usize = 60;

fn kind(i: usize) -> &'static str {
    match i % 10 {
        0 => "geopoint",
        1 | 5 => "integer",
        2 | 6 | 8 => "select_one",
        3 => "select_multiple",
        4 | 9 => "text",
        _ => "decimal",
    }
}

fn instrument() -> Instrument {
    let groups: Vec<serde_json::Value> = (0..3)
        .map(|g| {
            let children: Vec<serde_json::Value> = (0..20)
                .map(|k| {
                    let i = g * 20 + k;
                    let mut q = serde_json::json!({"name": format!("q{i}"), "row": i + 2,
                        "kind": {"kind": "question", "type": kind(i)},
                        "label": {"English (en)": format!("Question {i}"), "Portuguese (pt)": format!("Pergunta {i}")}});
                    if kind(i) == "select_one" {
                        q["kind"]["list"] = "scale".into();
                    }
                    if kind(i) == "select_multiple" {
                        q["kind"]["list"] = "channels".into();
                    }
                    q
                })
                .collect();
            serde_json::json!({"name": format!("g{g}"), "kind": {"kind": "group"}, "row": 1, "children": children})
        })
        .collect();
    let choice = |n: &str| serde_json::json!({"name": n, "label": {"English (en)": n.to_uppercase()}, "row": 2});
    let scale: Vec<serde_json::Value> = ["1", "2", "3", "4", "5"].map(choice).to_vec();
    let channels: Vec<serde_json::Value> =
        ["call", "email", "visit", "event", "other"].map(choice).to_vec();
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": "bench", "version": "1", "title": "Bench", "root_name": "data",
        "languages": ["English (en)", "Portuguese (pt)"], "settings": {},
        "children": groups,
        "choices": {
            "scale": {"choices": scale},
            "channels": {"choices": channels},
        },
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

/// One response's values, in question order.
fn values(rng: &mut Rng) -> Vec<String> {
    (0..QUESTIONS)
        .map(|i| match kind(i) {
            "geopoint" => {
                format!("-19.{} 34.{} {} 5", rng.below(99999), rng.below(99999), rng.below(200))
            }
            "integer" => rng.below(1000).to_string(),
            "select_one" => (1 + rng.below(5)).to_string(),
            "select_multiple" => {
                ["call", "email visit", "event", "call other"][rng.below(4)].into()
            }
            "text" => format!("Answer {} about sanitation, with a comma", rng.below(1_000_000)),
            _ => format!("{}.{}", rng.below(100), rng.below(100)),
        })
        .collect()
}

fn hex_sha(bytes: &[u8]) -> String {
    enumera_core::bundle::hex(&Sha256::digest(bytes))
}

/// Fills a central database with `n` responses and a flat table of the same values.
fn populate(db: &Path, n: usize) {
    let mut central = Central::init(db).expect("central");
    let form = instrument();
    // Responses name the hash central published: any other is held aside
    // as a form-integrity mismatch (issue 15) and not exported.
    let form_hash = form.hash();
    central.publish(&form).expect("publish");
    drop(central);
    let mut conn = rusqlite::Connection::open(db).expect("sqlite");
    conn.execute_batch("PRAGMA synchronous = OFF").expect("pragma");
    let tx = conn.transaction().expect("tx");
    tx.execute(
        "INSERT INTO devices (device_id, public_key, name, first_seen, last_seen)
         VALUES ('dev-1', zeroblob(32), 'tab', '2026-01-01', '2026-01-01')",
        [],
    )
    .expect("device");
    let cols: Vec<String> = (0..QUESTIONS).map(|i| format!("q{i}")).collect();
    tx.execute_batch(&format!(
        "CREATE TABLE flat (instance_id, participant, round, {})",
        cols.join(", ")
    ))
    .expect("flat");
    {
        let mut entry = tx
            .prepare(
                "INSERT INTO entries (device_id, seq, entry_hash, prev_hash, content_hash, instance_id, content, received_at)
                 VALUES ('dev-1', ?1, ?2, '0', ?3, ?4, ?5, '2026-06-01T00:00:00Z')",
            )
            .expect("prepare");
        let mut response = tx
            .prepare(
                "INSERT INTO responses (instance_id, content_hash, device_id, seq, entry_hash, form_id,
                   form_version, form_hash, participant_id, round, enumerator, finalized_at, xml, json, received_at)
                 VALUES (?1, ?2, 'dev-1', ?3, ?4, 'bench', '1', ?8, ?5, ?6, 'enum', '2026-06-01T00:00:00Z', ?7, '{}',
                   '2026-06-01T00:00:00Z')",
            )
            .expect("prepare");
        let placeholders: Vec<String> = (1..=QUESTIONS + 3).map(|i| format!("?{i}")).collect();
        let mut flat = tx
            .prepare(&format!("INSERT INTO flat VALUES ({})", placeholders.join(", ")))
            .expect("prepare");
        let mut rng = Rng::new(7);
        for seq in 1..=n {
            let id = format!("uuid:00000000-0000-4000-8000-{seq:012}");
            let participant = format!("MZ-{:05}", seq % (n / 3).max(1));
            let round = (seq / (n / 3).max(1)) as i64 + 1;
            let v = values(&mut rng);
            let mut xml = String::from("<data id=\"bench\" version=\"1\">");
            for g in 0..3 {
                xml += &format!("<g{g}>");
                for (i, value) in v.iter().enumerate().skip(g * 20).take(20) {
                    xml += &format!("<q{i}>{value}</q{i}>");
                }
                xml += &format!("</g{g}>");
            }
            xml += &format!("<meta><instanceID>{id}</instanceID></meta></data>");
            let content = EntryContent {
                attachments: Vec::new(),
                deprecated_id: None,
                device_id: "dev-1".into(),
                enumerator: Some("enum".into()),
                finalized_at: "2026-06-01T00:00:00Z".into(),
                form_hash: form_hash.clone(),
                form_id: "bench".into(),
                form_version: "1".into(),
                format: "enumera-outbox-entry/1".into(),
                instance_id: id.clone(),
                json_sha256: Some(hex_sha(b"{}")),
                participant_id: Some(participant.clone()),
                round: Some(round),
                sealed_sha256: None,
                xml_sha256: Some(hex_sha(xml.as_bytes())),
            };
            let content = serde_json::to_string(&content).expect("json");
            let content_hash = hex_sha(content.as_bytes());
            let entry_hash = format!("e{seq}");
            entry
                .execute(params![seq as i64, entry_hash, content_hash, id, content])
                .expect("entry");
            response
                .execute(params![
                    id,
                    content_hash,
                    seq as i64,
                    entry_hash,
                    participant,
                    round,
                    xml,
                    form_hash
                ])
                .expect("response");
            let mut row: Vec<String> = vec![id, participant, round.to_string()];
            row.extend(v);
            flat.execute(rusqlite::params_from_iter(row)).expect("flat");
        }
    }
    tx.commit().expect("commit");
}

/// CPU seconds (user + system) this process has used, all threads: the
/// export's work whatever else the machine is doing.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime is the
    // 12th, stime the 13th, in clock ticks of 1/100 s.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 100_000 } else { 300 };
    let base = std::env::var_os("ENUMERA_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(base).expect("dir");
    let db = dir.path().join("central.db");
    let t = Instant::now();
    populate(&db, n);
    let db_size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!(
        "export bench: {n} responses x {QUESTIONS} questions; database {:.1} MiB, built in {:.1} s",
        mib(db_size),
        t.elapsed().as_secs_f64()
    );
    let before = peak_rss_bytes();

    let central = Central::open(&db).expect("open");
    let out = dir.path().join("out");
    let opts = ExportOptions { format: Some(Format::Csv), ..Default::default() };
    let t = Instant::now();
    let cpu = cpu_seconds();
    let summary = export(central.store(), &opts, &out, &mut |_, _| {}).expect("export");
    let took = t.elapsed();
    let csv_cpu = cpu_seconds() - cpu;
    let peak = peak_rss_bytes();
    assert_eq!(summary.responses, n as u64);
    assert!(summary.report.is_empty(), "{:?}", summary.report);
    let csv_size = std::fs::metadata(out.join("bench.csv")).map(|m| m.len()).unwrap_or(0);
    println!(
        "enumera export --format csv: {:.2} s ({:.2} s CPU; {:.0} responses/s), {:.1} MiB CSV, peak RSS {:.1} MiB (before export {:.1} MiB) [target < 3 s, < 100 MiB]",
        took.as_secs_f64(),
        csv_cpu,
        n as f64 / took.as_secs_f64(),
        mib(csv_size),
        mib(peak),
        mib(before)
    );

    let csv_took = took;

    // The same responses with --format stata,spss --checks: the CSVs, a
    // .dta and a .sav per table (one spool, written twice), the .do and
    // .sps, and the high-frequency checks.
    let out = dir.path().join("out-typed");
    let opts = ExportOptions {
        format: Some(Format::Stata),
        also: vec![Format::Spss],
        checks: true,
        ..Default::default()
    };
    let t = Instant::now();
    let cpu = cpu_seconds();
    let summary = export(central.store(), &opts, &out, &mut |_, _| {}).expect("export");
    let took = t.elapsed();
    let typed_cpu = cpu_seconds() - cpu;
    assert_eq!(summary.responses, n as u64);
    let size = |f: &str| mib(std::fs::metadata(out.join(f)).map(|m| m.len()).unwrap_or(0));
    println!(
        "enumera export --format stata,spss --checks (CSV + .dta + .sav + checks): {:.2} s ({:.2} s CPU; {:.0} responses/s), {:.1} MiB .dta, {:.1} MiB .sav, peak RSS so far {:.1} MiB",
        took.as_secs_f64(),
        typed_cpu,
        n as f64 / took.as_secs_f64(),
        size("bench.dta"),
        size("bench.sav"),
        mib(peak_rss_bytes())
    );

    let flat = dir.path().join("flat.csv");
    // Through bash for `times`: the CPU the sqlite3 CLI used, beside its wall time.
    let script = format!(
        "sqlite3 -csv -header '{}' 'SELECT * FROM flat' > '{}' && times",
        db.display(),
        flat.display()
    );
    let t = Instant::now();
    let output = std::process::Command::new("bash").args(["-c", &script]).output().ok();
    let floor = t.elapsed();
    match output {
        Some(o) if o.status.success() => {
            // `times`: the shell's user and system time, then its children's.
            let text = String::from_utf8_lossy(&o.stdout);
            let seconds = |t: &str| {
                let (m, s) = t.trim_end_matches('s').split_once('m').unwrap_or(("0", "0"));
                m.parse::<f64>().unwrap_or(0.0) * 60.0 + s.parse::<f64>().unwrap_or(0.0)
            };
            let floor_cpu: f64 =
                text.lines().nth(1).map_or(0.0, |l| l.split_whitespace().map(seconds).sum());
            println!(
                "floor: sqlite3 -csv of a flat table of the same values: {:.2} s ({:.2} s CPU), {:.1} MiB CSV; the CSV export takes {:.2}x the floor's time, {:.2}x its CPU [target 1.5x]",
                floor.as_secs_f64(),
                floor_cpu,
                mib(std::fs::metadata(&flat).map(|m| m.len()).unwrap_or(0)),
                csv_took.as_secs_f64() / floor.as_secs_f64(),
                csv_cpu / floor_cpu.max(0.01)
            )
        }
        _ => println!("floor: sqlite3 CLI not available (apt-get install sqlite3); not measured"),
    }
}
