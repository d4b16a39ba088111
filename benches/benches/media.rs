//! Media benchmark (issue 18, item 5): one large video goes device ->
//! bundle -> central -> export, and the peak resident memory of each step
//! is measured on its own (target: under 64 MiB at every step, for a
//! 200 MiB video). Every step streams: the device store copies the file in
//! through a 64 KiB buffer; the bundle writer streams it from the store's
//! file; central's reader spools it to a temporary file and SQLite takes it
//! through incremental blob I/O; the export reads it back the same way into
//! `media/`. A second pass seals the response to the researcher's key at
//! finalize and exports it with the identity, on SQLite and (with
//! ENUMERA_TEST_POSTGRES) on PostgreSQL: sealing streams through a
//! temporary file into the store's blob, the bundle and central stream the
//! sealed item, and the export opens it from a temporary file into `media/`.
//!
//! Then the same response goes over HTTP: core's sync client uploads it
//! (a bundle file streamed in 8 MiB parts) to central's server in a child
//! process (this program run again, SQLite, a 16 MiB body limit), whose
//! peak memory is read from `/proc/PID/status`; the export follows.
//!
//! `cargo bench -p enumera-benches --bench media` (ENUMERA_BENCH_MEDIA_MIB
//! to choose the size; 200 by default). Under `cargo test` (no `--bench`
//! argument) it runs a 3 MiB version only.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Instant;

use enumera_benches::{peak_rss_bytes, reset_peak_rss};
use enumera_central::export::{ExportOptions, Format, export};
use enumera_central::{AnyStore, Central, Location};
use enumera_core::bundle::{
    BundleOptions, ResearcherIdentity, finalize_response, write_bundle_file,
};
use enumera_core::instrument::Instrument;
use enumera_core::remote::{
    Body, HttpRequest, HttpResponse, Transport, TransportError, TransportErrorKind, UploadOptions,
    upload_with,
};
use enumera_core::store::{NewResponse, Store};

/// Set in the child process that serves central over HTTP: the database.
const SERVE: &str = "ENUMERA_BENCH_MEDIA_SERVE";

/// The server's side: serves the database until stdin closes.
fn serve(db: &str) {
    use enumera_central::server::{Server, ServerConfig};
    let central = Central::open(db).expect("central");
    let spool = Path::new(db).parent().map(Path::to_path_buf);
    let config = ServerConfig { max_body: 16 << 20, spool_dir: spool, ..Default::default() };
    let server = Server::bind(central, "127.0.0.1:0", config).expect("bind");
    println!("{}", server.local_addr().expect("addr"));
    std::io::stdout().flush().expect("flush");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = stop.send(());
    });
    server
        .run(async move {
            let _ = stopped.await;
        })
        .expect("serve");
}

/// HTTP/1.1 over a std TcpStream, one connection a request; a file body is
/// streamed from the file, as the apps' transports do.
struct Http(std::net::SocketAddr);

impl Transport for Http {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let fail = |e: std::io::Error| TransportError {
            kind: TransportErrorKind::Interrupted,
            message: e.to_string(),
        };
        let mut stream = TcpStream::connect(self.0).map_err(fail)?;
        let mut head =
            format!("{} {} HTTP/1.1\r\nHost: {}\r\n", request.method, request.path, self.0);
        for (k, v) in &request.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let len = request.body.len().map_err(fail)?;
        head.push_str(&format!("Content-Length: {len}\r\nConnection: close\r\n\r\n"));
        stream.write_all(head.as_bytes()).map_err(fail)?;
        match &request.body {
            Body::Bytes(b) => stream.write_all(b).map_err(fail)?,
            Body::File(path) => {
                let mut file = std::fs::File::open(path).map_err(fail)?;
                std::io::copy(&mut file, &mut stream).map_err(fail)?;
            }
        }
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).map_err(fail)?;
        let split = reply.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(reply.len());
        let head = String::from_utf8_lossy(&reply[..split]).into_owned();
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = reply.get(split + 4..).unwrap_or_default().to_vec();
        Ok(HttpResponse { status, headers: Vec::new(), body })
    }
}

/// Peak resident memory of another process, in bytes.
fn peak_rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn instrument(keys: &[String]) -> Instrument {
    let form_id = if keys.is_empty() { "media" } else { "media_sealed" };
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": form_id, "version": "1", "title": "Media", "root_name": "data",
        "settings": {"public_keys": keys},
        "children": [{"name": "video", "kind": {"kind": "question", "type": "video"}, "row": 2}],
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

/// The committed TEST-ONLY researcher identity (the sealed P2P form's).
fn identity() -> ResearcherIdentity {
    ResearcherIdentity::read(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../instruments/p2p-sanitation/test-keys/researcher.agekey"
    )))
    .expect("identity")
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
    if let Ok(db) = std::env::var(SERVE) {
        return serve(&db);
    }
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
    println!(
        "media bench: a {size_mib} MiB video; peak RSS per step, before any step {:.1} MiB [target < 64 MiB each]",
        mib(baseline)
    );
    println!();
    println!("| step | time | throughput | peak RSS |");
    println!("| --- | --- | --- | --- |");
    let sqlite = |name: &str| Location::File(d.join(name));
    run(d, size, &[], &sqlite("central.db"), "");
    http_pass(d, size);
    let keys = identity().recipients();
    run(d, size, &keys, &sqlite("central-sealed.db"), "sealed, SQLite");
    match std::env::var("ENUMERA_TEST_POSTGRES") {
        Ok(admin) if !admin.is_empty() => {
            let (at, name) = new_database(&admin, "plain");
            run(d, size, &[], &at, "PostgreSQL");
            drop_database(&admin, &name);
            let (at, name) = new_database(&admin, "sealed");
            run(d, size, &keys, &at, "sealed, PostgreSQL");
            drop_database(&admin, &name);
        }
        _ => println!(
            "| PostgreSQL | skipped: ENUMERA_TEST_POSTGRES unset (scripts/bench.sh starts a cluster) | | |"
        ),
    }
}

/// One pass: attach, finalize (sealing when `keys` are given), bundle,
/// ingest at `at`, export (with the identity when sealed); prints a row a
/// step.
fn run(d: &Path, size: u64, keys: &[String], at: &Location, label: &str) {
    let size_mib = size >> 20;
    let sealed = !keys.is_empty();
    let tag = if label.is_empty() { String::new() } else { format!(" ({label})") };
    let device = d.join(if sealed { "device-sealed.db" } else { "device.db" });
    let bundle = d.join(if sealed { "video-sealed.bundle" } else { "video.bundle" });
    let form = instrument(keys);
    let finalize = if sealed { "finalize (seal)" } else { "finalize" };
    // The device steps are the same whatever central is: run them once.
    let device_rows = !bundle.exists();
    let (mut attach_s, mut attach_rss, mut bundle_s, mut bundle_rss) = (0.0, 0, 0.0, 0);
    if device_rows {
        ((), attach_s, attach_rss) = measured(|| {
            let mut store = Store::open(&device).expect("device");
            store.init_device("bench tablet", Some("enum-1")).expect("init");
            let key = store.install_instrument(&form).expect("install");
            let id = store.create_draft(&NewResponse::new(key)).expect("draft").instance_id;
            let info = store
                .attach_answer_file(&id, "/data/video", "1796378400000.mp4", &d.join("video.mp4"))
                .expect("attach");
            let xml = format!(
                "<data id=\"{}\" version=\"1\"><video>{}</video><meta><instanceID>{id}</instanceID></meta></data>",
                form.form_id, info.name
            );
            let json = serde_json::json!({"video": info.name}).to_string();
            finalize_response(&mut store, &id, xml, json).expect("finalize");
        });
        (_, bundle_s, bundle_rss) = measured(|| {
            let store = Store::open(&device).expect("device");
            write_bundle_file(&store, &BundleOptions::default(), &bundle).expect("bundle")
        });
    }

    let (report, ingest_s, ingest_rss) = measured(|| {
        let mut central: Central<AnyStore> = Central::init_at(at).expect("central");
        central.publish(&form).expect("publish");
        central.ingest_file(&bundle).expect("ingest")
    });
    assert_eq!(report.new_responses, 1, "{report:?}");

    let out = d.join(format!("out-{}", label.replace([' ', ','], "-")));
    let (exported, export_s, export_rss) = measured(|| {
        let central: Central<AnyStore> = Central::open_at(at).expect("open");
        let opts = ExportOptions {
            format: Some(Format::Csv),
            identity: sealed.then(identity),
            ..Default::default()
        };
        export(central.store(), &opts, &out, &mut |_, _| {}).expect("export")
    });
    assert_eq!(exported.media_files, 1);
    let written = std::fs::metadata(out.join("media").join("1796378400000.mp4")).expect("media");
    assert_eq!(written.len(), size);
    let _ = std::fs::remove_dir_all(&out);

    let mut rows = Vec::new();
    if device_rows {
        rows.push((format!("device: attach the file, {finalize}{tag}"), attach_s, attach_rss));
        rows.push((format!("device: write the bundle{tag}"), bundle_s, bundle_rss));
    }
    let export_step = if sealed { "export --identity with media/" } else { "export with media/" };
    rows.push((format!("central: ingest the bundle file{tag}"), ingest_s, ingest_rss));
    rows.push((format!("central: {export_step}{tag}"), export_s, export_rss));
    for (step, s, rss) in rows {
        println!(
            "| {step} | {s:.2} s | {:.0} MiB/s | {:.1} MiB |",
            size_mib as f64 / s.max(1e-9),
            mib(rss)
        );
    }
}

/// The plain pass's device (its response bundled to a file, not yet sent)
/// syncs over HTTP to central's server in a child process (this program
/// run again, SQLite, a 16 MiB body limit, so the bundle goes in 8 MiB
/// parts); the server's peak is read from `/proc/PID/status`.
fn http_pass(d: &Path, size: u64) {
    let size_mib = size >> 20;
    let form = instrument(&[]);
    let http_db = d.join("central-http.db");
    let token = {
        let mut central = Central::init(&http_db).expect("central");
        central.publish(&form).expect("publish");
        let store = Store::open(d.join("device.db")).expect("device");
        central.create_token(&store.device().expect("device").device_id).expect("token")
    };
    let mut child = std::process::Command::new(std::env::current_exe().expect("this program"))
        .env(SERVE, &http_db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("server process");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("address");
    let addr: std::net::SocketAddr = line.trim().parse().expect("server address");
    let server_idle = peak_rss_of(child.id());
    let (uploaded, upload_s, upload_rss) = measured(|| {
        let mut store = Store::open(d.join("device.db")).expect("device");
        let options = UploadOptions::for_store(&store);
        upload_with(&mut store, &Http(addr), &token, &options).expect("upload").expect("sent")
    });
    assert_eq!(uploaded.receipt.marked.len(), 1, "{uploaded:?}");
    let server_rss = peak_rss_of(child.id());
    drop(child.stdin.take());
    child.wait().expect("server stops");
    let http_out = d.join("out-http");
    let (exported, http_export_s, http_export_rss) = measured(|| {
        let central = Central::open(&http_db).expect("open");
        let opts = ExportOptions { format: Some(Format::Csv), ..Default::default() };
        export(central.store(), &opts, &http_out, &mut |_, _| {}).expect("export")
    });
    assert_eq!(exported.media_files, 1);
    let written =
        std::fs::metadata(http_out.join("media").join("1796378400000.mp4")).expect("media");
    assert_eq!(written.len(), size);
    for (step, s, rss) in [
        ("device: sync over HTTP (bundle file, 8 MiB parts)", upload_s, upload_rss),
        ("central serve: receive the parts, join, ingest (whole process)", upload_s, server_rss),
        ("central: export what came over HTTP", http_export_s, http_export_rss),
    ] {
        println!(
            "| {step} | {s:.2} s | {:.0} MiB/s | {:.1} MiB |",
            size_mib as f64 / s.max(1e-9),
            mib(rss)
        );
    }
    println!();
    println!(
        "HTTP: {} part(s) of at most 8 MiB under a 16 MiB body limit; the server process held {:.1} MiB before the upload",
        uploaded.bytes.div_ceil(8 << 20),
        mib(server_idle)
    );
}

fn new_database(admin: &str, tag: &str) -> (Location, String) {
    let name = format!("enumera_media_{tag}_{}", std::process::id());
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
