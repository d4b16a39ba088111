//! Sync benchmarks (issues 6 and 10), for bundles of 10,000 and 100,000
//! responses (ENUMERA_BENCH_SYNC_SIZES=10000,100000 to choose):
//! - central ingest of one bundle (target over 5,000 responses/s), into a
//!   central database on this machine's disk;
//! - re-ingest of the same file (target at least 10x faster: recognised by
//!   its SHA-256, nothing is written), and of a rebuilt bundle of the same
//!   responses (other bytes: verified and looked up entry by entry, as when
//!   a device re-sends after losing a receipt);
//! - writing and verifying the bundle;
//! - peak memory for each size: writing holds the bundle in memory; central
//!   ingests the file as `enumera central ingest` does, streaming it (the
//!   manifest and one response at a time, issue 15);
//! - bundle bytes per response beside the size of the submission XML, plain
//!   and sealed.
//!
//! `cargo bench -p enumera-benches --bench sync`. Under `cargo test` (no
//! `--bench` argument) it runs a tiny version only.

use std::path::Path;
use std::time::{Duration, Instant};

use enumera_benches::forms::Rng;
use enumera_benches::{peak_rss_bytes, reset_peak_rss};
use enumera_central::{Central, Quotas};
use enumera_core::bundle::{
    BundleOptions, apply_receipt, read_bundle, seal_submission, write_bundle,
};
use enumera_core::instrument::Instrument;
use enumera_core::store::{NewResponse, Payload, Store};

const RECIPIENT: &str = "age1gp4hnhu3kv6zpux60qq8cqcfvkvz54yt6pz4m7kcxapa7qnv9yaqm70asn";

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = std::env::var("ENUMERA_BENCH_SYNC_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| if full { vec![10_000, 100_000] } else { vec![40] });
    let sealed_responses = if full { 1_000 } else { 5 };
    // The device is built on a RAM disk when there is one (building it is
    // not what we measure); central lives on the working directory's disk
    // unless ENUMERA_BENCH_DIR says otherwise.
    let scratch = if Path::new("/dev/shm").is_dir() {
        tempfile::tempdir_in("/dev/shm")
    } else {
        tempfile::tempdir()
    }
    .expect("scratch dir");
    let base =
        std::env::var_os("ENUMERA_BENCH_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| {
            if full {
                std::env::current_dir().unwrap_or_else(|_| std::env::temp_dir())
            } else {
                std::env::temp_dir()
            }
        });
    let disk =
        tempfile::Builder::new().prefix(".bench-sync-").tempdir_in(&base).expect("bench dir");
    println!(
        "sync benchmarks: central in {} ({})",
        disk.path().display(),
        if full { "full" } else { "smoke" }
    );
    println!();
    println!(
        "| responses | build device | write bundle | read + verify | ingest (first) | re-ingest, same file | re-ingest, rebuilt bundle | then 1 new response | bundle size | peak RSS writing | peak RSS ingesting |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut per_response = None;
    for &n in &sizes {
        let m = measure(n, scratch.path(), disk.path());
        per_response
            .get_or_insert((m.bundle_bytes as f64 / n as f64, m.xml_bytes as f64 / n as f64));
        let rate = |d: Duration| format!("{:.0}/s", n as f64 / d.as_secs_f64());
        println!(
            "| {n} | {:.1} s | {:.0} ms ({}) | {:.0} ms ({}) | {:.0} ms ({}) | {:.1} ms ({:.0}x faster) | {:.0} ms ({:.1}x faster) | {:.1} ms | {:.1} MiB | {:.0} MiB | {:.0} MiB |",
            m.build.as_secs_f64(),
            ms(m.write),
            rate(m.write),
            ms(m.verify),
            rate(m.verify),
            ms(m.ingest),
            rate(m.ingest),
            ms(m.reingest),
            m.ingest.as_secs_f64() / m.reingest.as_secs_f64(),
            ms(m.rebuilt),
            m.ingest.as_secs_f64() / m.rebuilt.as_secs_f64(),
            ms(m.one_more),
            m.bundle_bytes as f64 / 1_048_576.0,
            m.write_rss as f64 / 1_048_576.0,
            m.ingest_rss as f64 / 1_048_576.0,
        );
    }
    println!();
    println!("Targets: first ingest > 5000 responses/s; re-ingest of the same file >= 10x faster.");
    if let Some((per, xml)) = per_response {
        println!(
            "plain:  bundle {:>7.0} bytes/response, submission XML {:>6.0} bytes ({:.2}x: XML + JSON + manifest entry)",
            per,
            xml,
            per / xml
        );
    }

    let (sealed_store, sealed_xml) =
        device(&scratch.path().join("sealed.db"), sealed_responses, true);
    let mut sealed = Vec::new();
    write_bundle(&sealed_store, &BundleOptions::default(), &mut sealed).expect("sealed bundle");
    let per = sealed.len() as f64 / sealed_responses as f64;
    let xml = sealed_xml as f64 / sealed_responses as f64;
    println!(
        "sealed: bundle {:>7.0} bytes/response, submission XML {:>6.0} bytes ({:.2}x: age file of XML + JSON + entry)",
        per,
        xml,
        per / xml
    );
}

/// What one bundle size measured.
struct Measured {
    build: Duration,
    write: Duration,
    verify: Duration,
    ingest: Duration,
    reingest: Duration,
    rebuilt: Duration,
    /// Ingest of a one-response bundle from the device after the others.
    one_more: Duration,
    bundle_bytes: usize,
    xml_bytes: usize,
    /// Peak resident memory while writing the bundle (the device's side)
    /// and while verifying and ingesting it (central's), each from what was
    /// resident before the step.
    write_rss: u64,
    ingest_rss: u64,
}

fn measure(n: usize, scratch: &Path, disk: &Path) -> Measured {
    let t = Instant::now();
    let device_path = scratch.join(format!("plain-{n}.db"));
    let (mut store, xml_bytes) = device(&device_path, n, false);
    let build = t.elapsed();

    reset_peak_rss();
    let t = Instant::now();
    let mut bundle = Vec::new();
    write_bundle(&store, &BundleOptions::default(), &mut bundle).expect("bundle");
    let write = t.elapsed();
    let write_rss = peak_rss_bytes();
    let t = Instant::now();
    let verified = read_bundle(&bundle).expect("read");
    let verify = t.elapsed();
    assert_eq!(verified.responses.len(), n);
    drop(verified);

    let mut central = Central::init(disk.join(format!("central-{n}.db"))).expect("central");
    // One bundle of the whole backlog: past the per-device quotas a
    // server holds devices to, which measuring ingest does not.
    central.set_quotas(Quotas::UNLIMITED);
    let bundle_file = disk.join(format!("bundle-{n}.bundle"));
    std::fs::write(&bundle_file, &bundle).expect("bundle file");
    let bundle_bytes = bundle.len();
    drop(bundle);
    reset_peak_rss();
    let t = Instant::now();
    let first = central.ingest_file(&bundle_file).expect("ingest");
    let ingest = t.elapsed();
    assert_eq!(first.new_responses, n);
    let ingest_rss = peak_rss_bytes();
    let t = Instant::now();
    let again = central.ingest_file(&bundle_file).expect("re-ingest");
    let reingest = t.elapsed();
    assert_eq!((again.new_responses, again.duplicates), (0, n));

    // The same responses in a new file (another creation time, so other
    // bytes): nothing can be skipped by the file's hash.
    let mut rebuilt_bundle = Vec::new();
    write_bundle(&store, &BundleOptions::default(), &mut rebuilt_bundle).expect("bundle");
    std::fs::write(&bundle_file, &rebuilt_bundle).expect("bundle file");
    drop(rebuilt_bundle);
    let t = Instant::now();
    let again = central.ingest_file(&bundle_file).expect("re-ingest rebuilt");
    let rebuilt = t.elapsed();
    assert_eq!((again.new_responses, again.duplicates), (0, n));
    let _ = std::fs::remove_file(&bundle_file);

    // The next sync of this device: its receipt applied, one new response.
    let device_id = store.device().expect("device").device_id;
    let receipt = central.receipt_for(&device_id).expect("receipt").file;
    apply_receipt(&mut store, &receipt).expect("apply receipt");
    let key = store.latest_instrument("capacity").expect("form");
    let id = store.create_draft(&NewResponse::new(key)).expect("draft").instance_id;
    let xml = format!("<data><q0>1</q0><meta><instanceID>{id}</instanceID></meta></data>");
    store.finalize(&id, Payload::Plain { xml, json: "{\"q0\":\"1\"}".into() }).expect("finalize");
    let mut next = Vec::new();
    write_bundle(&store, &BundleOptions { since_receipt: true, ..Default::default() }, &mut next)
        .expect("bundle");
    let t = Instant::now();
    let report = central.ingest(&next).expect("ingest the next bundle");
    let one_more = t.elapsed();
    assert_eq!((report.entries, report.new_responses), (1, 1));
    drop((store, central));
    let _ = std::fs::remove_file(&device_path);
    Measured {
        build,
        write,
        verify,
        ingest,
        reingest,
        rebuilt,
        one_more,
        bundle_bytes,
        xml_bytes,
        write_rss,
        ingest_rss,
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A capacity-assessment-like form: 30 scores 1-5, 6 knowledge answers,
/// 4 short texts.
fn instrument(sealed: bool) -> Instrument {
    let children: Vec<_> = (0..40)
        .map(|i| serde_json::json!({"name": format!("q{i}"), "kind": {"kind": "question", "type": "text"}, "row": i + 2}))
        .collect();
    let keys: Vec<&str> = if sealed { vec![RECIPIENT] } else { vec![] };
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": "capacity", "version": "2026-11", "title": "Capacity", "root_name": "data",
        "settings": {"public_keys": keys}, "children": children,
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

/// A device holding `n` finalized responses; returns it and the total size
/// of their submission XML.
fn device(path: &Path, n: usize, sealed: bool) -> (Store, usize) {
    let mut store = Store::open(path).expect("open");
    store.init_device("bench tablet", Some("enum-1")).expect("init");
    let key = store.install_instrument(&instrument(sealed)).expect("install");
    let roster: Vec<_> =
        (0..500).map(|i| serde_json::json!({"id": format!("MZ-{i:04}")})).collect();
    store.import_roster(serde_json::Value::from(roster).to_string().as_bytes()).expect("roster");
    let mut rng = Rng::new(6);
    let mut xml_total = 0;
    for _ in 0..n {
        let mut new = NewResponse::new(key.clone());
        new.participant_id = Some(format!("MZ-{:04}", rng.below(500)));
        new.round = Some(1 + rng.below(3) as i64);
        let id = store.create_draft(&new).expect("draft").instance_id;
        let mut xml = String::from(
            "<data xmlns:jr=\"http://openrosa.org/javarosa\" id=\"capacity\" version=\"2026-11\">",
        );
        let mut json = serde_json::Map::new();
        for q in 0..40 {
            let value = match q {
                0..30 => (1 + rng.below(5)).to_string(),
                30..36 => ["a", "b", "c", "d"][rng.below(4)].to_string(),
                _ => format!("free text answer {} about sludge emptying", rng.below(100_000)),
            };
            xml.push_str(&format!("<q{q}>{value}</q{q}>"));
            json.insert(format!("q{q}"), value.into());
        }
        xml.push_str(&format!("<meta><instanceID>{id}</instanceID></meta></data>"));
        let json = serde_json::Value::Object(json).to_string();
        xml_total += xml.len();
        let payload = if sealed {
            Payload::Sealed {
                ciphertext: seal_submission(&[RECIPIENT.into()], &id, &xml, &json, &[])
                    .expect("seal")
                    .into(),
            }
        } else {
            Payload::Plain { xml, json }
        };
        store.finalize(&id, payload).expect("finalize");
    }
    (store, xml_total)
}
