//! Media benchmark (issue 18, item 5): one large video goes device ->
//! bundle -> central -> export, and the peak resident memory of each step
//! is measured on its own (target: under 64 MiB at every step, for a
//! 200 MiB video). Every step streams: the device store copies the file in
//! through a 64 KiB buffer; the bundle writer streams it from the store's
//! file; central's reader spools it to a temporary file and SQLite takes it
//! through incremental blob I/O; the export reads it back the same way into
//! `media/`.
//!
//! `cargo bench -p enumera-benches --bench media` (ENUMERA_BENCH_MEDIA_MIB
//! to choose the size; 200 by default). Under `cargo test` (no `--bench`
//! argument) it runs a 3 MiB version only.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use enumera_benches::{peak_rss_bytes, reset_peak_rss};
use enumera_central::Central;
use enumera_central::export::{ExportOptions, Format, export};
use enumera_core::bundle::{BundleOptions, write_bundle_file};
use enumera_core::instrument::Instrument;
use enumera_core::store::{NewResponse, Payload, Store};

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn instrument() -> Instrument {
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": "media", "version": "1", "title": "Media", "root_name": "data",
        "settings": {},
        "children": [{"name": "video", "kind": {"kind": "question", "type": "video"}, "row": 2}],
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

/// Writes a `size`-byte file of varied bytes, 1 MiB at a time.
fn video(path: &Path, size: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("video"));
    let mut chunk = vec![0u8; 1 << 20];
    let mut x: u32 = 0x9e37_79b9;
    let mut left = size;
    while left > 0 {
        for b in chunk.iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        let n = left.min(chunk.len() as u64) as usize;
        f.write_all(&chunk[..n]).expect("write");
        left -= n as u64;
    }
    f.flush().expect("flush");
}

/// Runs `step`, returning its result, seconds and peak RSS in bytes.
fn measured<T>(step: impl FnOnce() -> T) -> (T, f64, u64) {
    reset_peak_rss();
    let t = Instant::now();
    let out = step();
    (out, t.elapsed().as_secs_f64(), peak_rss_bytes())
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let size_mib: u64 = std::env::var("ENUMERA_BENCH_MEDIA_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 200 } else { 3 });
    let size = size_mib << 20;
    // On disk, not /dev/shm: the files are what is large, not memory.
    let base = std::env::var_os("ENUMERA_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new().prefix(".bench-media-").tempdir_in(&base).expect("dir");
    let d = dir.path();
    video(&d.join("video.mp4"), size);
    let baseline = peak_rss_bytes();

    let form = instrument();
    let ((), attach_s, attach_rss) = measured(|| {
        let mut store = Store::open(d.join("device.db")).expect("device");
        store.init_device("bench tablet", Some("enum-1")).expect("init");
        let key = store.install_instrument(&form).expect("install");
        let id = store.create_draft(&NewResponse::new(key)).expect("draft").instance_id;
        let info = store
            .attach_answer_file(&id, "/data/video", "1796378400000.mp4", &d.join("video.mp4"))
            .expect("attach");
        let xml = format!(
            "<data id=\"media\" version=\"1\"><video>{}</video><meta><instanceID>{id}</instanceID></meta></data>",
            info.name
        );
        let json = serde_json::json!({"video": info.name}).to_string();
        store.finalize(&id, Payload::Plain { xml, json }).expect("finalize");
    });

    let (summary, bundle_s, bundle_rss) = measured(|| {
        let store = Store::open(d.join("device.db")).expect("device");
        write_bundle_file(&store, &BundleOptions::default(), &d.join("video.bundle"))
            .expect("bundle")
    });

    let (report, ingest_s, ingest_rss) = measured(|| {
        let mut central = Central::init(d.join("central.db")).expect("central");
        central.publish(&form).expect("publish");
        central.ingest_file(&d.join("video.bundle")).expect("ingest")
    });
    assert_eq!(report.new_responses, 1, "{report:?}");

    let out = d.join("out");
    let (exported, export_s, export_rss) = measured(|| {
        let central = Central::open(d.join("central.db")).expect("open");
        let opts = ExportOptions { format: Some(Format::Csv), ..Default::default() };
        export(central.store(), &opts, &out, &mut |_, _| {}).expect("export")
    });
    assert_eq!(exported.media_files, 1);
    let written = std::fs::metadata(out.join("media").join("1796378400000.mp4")).expect("media");
    assert_eq!(written.len(), size);

    println!(
        "media bench: a {size_mib} MiB video (bundle {:.1} MiB); peak RSS per step, before any step {:.1} MiB [target < 64 MiB each]",
        mib(summary.bytes),
        mib(baseline)
    );
    println!();
    println!("| step | time | throughput | peak RSS |");
    println!("| --- | --- | --- | --- |");
    for (step, s, rss) in [
        ("device: attach the file, finalize", attach_s, attach_rss),
        ("device: write the bundle", bundle_s, bundle_rss),
        ("central: ingest the bundle file", ingest_s, ingest_rss),
        ("central: export with media/", export_s, export_rss),
    ] {
        println!(
            "| {step} | {s:.2} s | {:.0} MiB/s | {:.1} MiB |",
            size_mib as f64 / s.max(1e-9),
            mib(rss)
        );
    }
}
