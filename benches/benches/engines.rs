//! Enumera's form engine beside ODK Web Forms' (`@getodk/xforms-engine`),
//! on the same generated forms (500, 2,000, 5,000 rows) and the same 200
//! answers: load + first compute, one answer p50/p95/max, 200 answers in
//! all, and peak memory. Each engine and size runs in its own process so
//! peak memory is its own.
//!
//! `cargo bench -p enumera-benches --bench engines [-- SIZES...]`

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use enumera_benches::{Samples, fmt_duration, forms, peak_rss_bytes};
use enumera_core::expr::FixedEnv;
use enumera_core::session::{Form, Session, SessionOptions};
use serde_json::{Value, json};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--one") {
        let n = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(2000);
        println!("{}", enumera_one(n));
        return;
    }
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![500, 2000, 5000];
    }
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let odk = odk_engine(&repo);
    let work = tempfile::tempdir().expect("temp dir");
    println!(
        "| rows | engine | load + first compute | answer p50 | answer p95 | answer max | 200 answers | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let ours = run_self(n);
        row(n, "Enumera", &ours);
        if let Some(engine_dir) = &odk {
            match run_odk(&repo, engine_dir, work.path(), n) {
                Ok(theirs) => row(n, "ODK Web Forms", &theirs),
                Err(e) => println!("| {n} | ODK Web Forms | {e} | | | | | |"),
            }
        }
    }
    if odk.is_none() {
        println!("\n(ODK Web Forms not measured: node/npm unavailable)");
    }
}

/// One size through Enumera, in this process: JSON with times in ms.
fn enumera_one(n: usize) -> Value {
    let rows = forms::rows(n, 42, 0.30, 0.10);
    let instrument = forms::instrument(&rows);
    let answers = forms::hot_answers(&rows, 200, 7);
    let t = Instant::now();
    let form = Arc::new(Form::compile(instrument).expect("generated form compiles"));
    let mut session =
        Session::with_env(form, SessionOptions::default(), Box::new(FixedEnv::default()));
    let load = t.elapsed();
    let mut samples = Samples::default();
    for (r, v) in &answers {
        samples.time(|| session.set(r, v)).expect("generated answer is valid");
    }
    json!({
        "load_ms": ms(load),
        "set_ms": samples.0.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
        "peak_rss_mb": peak_rss_bytes() as f64 / (1024.0 * 1024.0),
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run_self(n: usize) -> Value {
    let exe = std::env::current_exe().expect("own path");
    let out = Command::new(exe).args(["--one", &n.to_string()]).output().expect("runs itself");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Installs the project's ODK harness (tests/odk) into the cache; None
/// without node/npm.
fn odk_engine(repo: &Path) -> Option<PathBuf> {
    let out = Command::new("bash").arg(repo.join("tests/odk/install.sh")).output().ok()?;
    out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn run_odk(repo: &Path, engine_dir: &Path, work: &Path, n: usize) -> Result<Value, String> {
    let rows = forms::rows(n, 42, 0.30, 0.10);
    let instrument = forms::instrument(&rows);
    let xml = instrument.to_xform().map_err(|e| e.to_string())?;
    let form = work.join(format!("large_{n}.xml"));
    std::fs::write(&form, xml).map_err(|e| e.to_string())?;
    let answers = work.join(format!("answers_{n}.json"));
    let list: Vec<[String; 2]> =
        forms::hot_answers(&rows, 200, 7).into_iter().map(|(r, v)| [r, v]).collect();
    std::fs::write(&answers, serde_json::to_vec(&list).unwrap_or_default())
        .map_err(|e| e.to_string())?;
    let out = Command::new("node")
        .arg(repo.join("tests/odk/bench.mjs"))
        .arg(&form)
        .arg(&answers)
        .env("ENUMERA_ODK_ENGINE", engine_dir)
        .env("TZ", "UTC")
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("failed")
            .to_string());
    }
    let mut v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let load = v["load_ms"].as_f64().unwrap_or(0.0) + v["create_ms"].as_f64().unwrap_or(0.0);
    v["load_ms"] = json!(load);
    Ok(v)
}

fn row(n: usize, engine: &str, v: &Value) {
    let sets: Vec<Duration> = v["set_ms"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_f64)
                .map(|x| Duration::from_secs_f64(x / 1000.0))
                .collect()
        })
        .unwrap_or_default();
    let s = Samples(sets);
    let load = Duration::from_secs_f64(v["load_ms"].as_f64().unwrap_or(0.0) / 1000.0);
    println!(
        "| {n} | {engine} | {} | {} | {} | {} | {} | {:.1} MiB |",
        fmt_duration(load),
        fmt_duration(s.quantile(0.5)),
        fmt_duration(s.quantile(0.95)),
        fmt_duration(s.max()),
        fmt_duration(s.total()),
        v["peak_rss_mb"].as_f64().unwrap_or(0.0)
    );
}
