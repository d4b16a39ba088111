//! Sync benchmarks (issue 6):
//! - central ingest of one bundle of 10,000 responses (target over 5,000
//!   responses/s), into a central database on this machine's disk;
//! - re-ingest of the same bundle (target at least 10x faster: nothing is
//!   written);
//! - writing and verifying the bundle;
//! - bundle bytes per response beside the size of the submission XML, plain
//!   and sealed.
//!
//! `cargo bench -p enumera-benches --bench sync`. Under `cargo test` (no
//! `--bench` argument) it runs a tiny version only.

use std::path::Path;
use std::time::Instant;

use enumera_benches::forms::Rng;
use enumera_benches::peak_rss_bytes;
use enumera_central::Central;
use enumera_core::bundle::{BundleOptions, read_bundle, seal_submission, write_bundle};
use enumera_core::instrument::Instrument;
use enumera_core::store::{NewResponse, Payload, Store};

const RECIPIENT: &str = "age1gp4hnhu3kv6zpux60qq8cqcfvkvz54yt6pz4m7kcxapa7qnv9yaqm70asn";

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (responses, sealed_responses) = if full { (10_000, 1_000) } else { (40, 5) };
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

    let (store, xml_bytes) = device(&scratch.path().join("plain.db"), responses, false);
    let t = Instant::now();
    let mut bundle = Vec::new();
    write_bundle(&store, &BundleOptions::default(), &mut bundle).expect("bundle");
    let write = t.elapsed();
    let t = Instant::now();
    let verified = read_bundle(&bundle).expect("read");
    let verify = t.elapsed();
    assert_eq!(verified.responses.len(), responses);
    drop(verified);

    let mut central = Central::init(disk.path().join("central.db")).expect("central");
    let t = Instant::now();
    let first = central.ingest(&bundle).expect("ingest");
    let ingest = t.elapsed();
    assert_eq!(first.new_responses, responses);
    let t = Instant::now();
    let again = central.ingest(&bundle).expect("re-ingest");
    let reingest = t.elapsed();
    assert_eq!((again.new_responses, again.duplicates), (0, responses));

    let rate = |d: std::time::Duration| responses as f64 / d.as_secs_f64();
    println!("responses per bundle: {responses}");
    println!("write bundle:        {:>9.1} ms ({:>8.0} responses/s)", ms(write), rate(write));
    println!("read + verify:       {:>9.1} ms ({:>8.0} responses/s)", ms(verify), rate(verify));
    println!(
        "ingest (first):      {:>9.1} ms ({:>8.0} responses/s; target > 5000)",
        ms(ingest),
        rate(ingest)
    );
    println!(
        "re-ingest (no-op):   {:>9.1} ms ({:>8.0} responses/s; {:.1}x faster, target >= 10x)",
        ms(reingest),
        rate(reingest),
        ingest.as_secs_f64() / reingest.as_secs_f64()
    );
    let per = bundle.len() as f64 / responses as f64;
    let xml = xml_bytes as f64 / responses as f64;
    println!(
        "plain:  bundle {:>7.0} bytes/response, submission XML {:>6.0} bytes ({:.2}x: XML + JSON + manifest entry)",
        per,
        xml,
        per / xml
    );

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
    println!("peak RSS: {:.1} MiB", peak_rss_bytes() as f64 / 1_048_576.0);
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
                    .expect("seal"),
            }
        } else {
            Payload::Plain { xml, json }
        };
        store.finalize(&id, payload).expect("finalize");
    }
    (store, xml_total)
}
