//! Issue 18, item 5, end to end over HTTP: a response whose recording is
//! larger than `central serve`'s body limit syncs with `enumera device
//! sync` (streamed from a file, in parts) and the export holds it byte for
//! byte. The file is generated here, never committed.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use sha2::{Digest, Sha256};

fn enumera() -> &'static str {
    env!("CARGO_BIN_EXE_enumera")
}

fn run(args: &[&str]) -> Output {
    Command::new(enumera()).args(args).output().expect("enumera runs")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// `enumera central serve` on a free port; killed when dropped.
struct Served(Child, String);

impl Served {
    fn start(db: &str, max_body_mib: &str) -> Served {
        use std::io::BufRead;
        let mut child = Command::new(enumera())
            .args(["central", "--db", db, "serve", "--listen", "127.0.0.1:0"])
            .args(["--max-body-mib", max_body_mib])
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
        let addr = lines
            .by_ref()
            .take(20)
            .map_while(Result::ok)
            .find_map(|l| l.split("listening on http://").nth(1).map(str::to_owned))
            .expect("serve prints its address");
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Served(child, format!("http://{addr}"))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Writes `size` bytes that do not compress, 1 MiB at a time; returns
/// their SHA-256.
fn generate(path: &Path, size: usize) -> String {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut sha = Sha256::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        for b in &mut chunk[..n] {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        out.write_all(&chunk[..n]).expect("write");
        sha.update(&chunk[..n]);
        left -= n;
    }
    out.flush().expect("flush");
    hex(&sha.finalize())
}

fn sha_of(path: &Path) -> String {
    let mut file = BufReader::new(std::fs::File::open(path).expect("open"));
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
    }
    hex(&sha.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A form with one video question, as instrument JSON.
fn video_form(dir: &Path) -> String {
    let form = serde_json::json!({
        "model_version": 1, "form_id": "visit", "version": "1", "title": "Visit",
        "root_name": "data", "settings": {},
        "children": [
            {"name": "clip", "kind": {"kind": "question", "type": "video"}, "row": 2,
             "label": {"": "Film the site"}}
        ]
    });
    let path = dir.join("visit.json");
    std::fs::write(&path, form.to_string()).expect("write the form");
    path.to_string_lossy().into_owned()
}

#[test]
fn a_recording_larger_than_the_body_limit_syncs_in_parts_and_exports_whole() {
    let dir = tempfile::tempdir().expect("dir");
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (dev, central, out) = (p("tablet.db"), p("central.db"), p("out"));
    let form = video_form(dir.path());
    let expected = generate(&dir.path().join("visit.mp4"), (100 << 20) + 12_345);
    let steps = dir.path().join("steps.json");
    std::fs::write(&steps, r#"[{"attach": "/data/clip", "file": "visit.mp4"}]"#).expect("steps");

    let device_id = ok(&["device", "--db", &dev, "init", "--name", "tab1"]);
    ok(&["device", "--db", &dev, "install", &form]);
    ok(&["device", "--db", &dev, "fill", "visit", "--steps", &p("steps.json"), "--finalize"]);
    std::fs::remove_file(dir.path().join("visit.mp4")).expect("the original goes");
    ok(&["central", "--db", &central, "init"]);
    ok(&["central", "--db", &central, "publish", &form]);
    let token = ok(&["central", "--db", &central, "token", "create", "--device", &device_id]);

    let served = Served::start(&central, "16");
    let report =
        ok(&["device", "--db", &dev, "sync", "--server", &served.1, "--token", &token, "--json"]);
    drop(served);
    let report: serde_json::Value = serde_json::from_str(&report).expect("json report");
    assert_eq!(report["uploaded"], 1, "{report}");
    assert_eq!(report["receipt"]["marked"].as_array().map(Vec::len), Some(1), "{report}");
    assert!(report["bundle_bytes"].as_u64() > Some(100 << 20), "{report}");
    // The device's upload folder holds no bundle or part after.
    let left: Vec<String> = std::fs::read_dir(format!("{dev}-uploads"))
        .expect("upload folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["lock"]);

    ok(&["central", "--db", &central, "export", "--out", &out]);
    let media: Vec<_> = std::fs::read_dir(Path::new(&out).join("media"))
        .expect("media/")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(media.len(), 1, "{media:?}");
    assert_eq!(sha_of(&media[0]), expected, "byte-identical after the trip");
}
