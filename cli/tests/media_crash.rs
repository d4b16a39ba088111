//! Media under SIGKILL and a full disk (issue 18): the real `enumera device
//! fill` is killed while it attaches a large recording and a photo, at the
//! moment the copied file appears under its hash (between the copy and its
//! answer's commit) or after a random delay. After each kill, read straight
//! from the database: every attachment row has its file, whole, and every
//! file answer has its row (never an answer without its file). Files the
//! kill left unreferenced are then collected by the next open once they
//! are older than the grace period (`ORPHAN_GRACE`; the test ages them), so
//! no orphan is kept forever.
//!
//! ENUMERA_MEDIA_CRASH_ITERATIONS sets the number of kills;
//! ENUMERA_CRASH_SEED replays a run (it is printed).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use enumera_core::store::Store;
use enumera_tests::XlsForm;
use enumera_tests::rng::Rng;

fn enumera(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_enumera")).args(args).output().expect("runs");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::tempdir_in(shm)
    {
        return d;
    }
    tempfile::tempdir().expect("tempdir")
}

/// Every file in the attachment folder: (path, is a finished content file).
fn files(dir: &Path) -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    for folder in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let finished = folder.file_name() != "tmp";
        for f in std::fs::read_dir(folder.path()).into_iter().flatten().flatten() {
            out.push((f.path(), finished));
        }
    }
    out
}

/// What the database says, read without opening the store (an open would
/// collect garbage): (rows as (sha256, size), file answers without a row).
fn recorded(db: &Path) -> (Vec<(String, u64)>, Vec<String>) {
    let conn = rusqlite::Connection::open(db).expect("db");
    let rows = conn
        .prepare("SELECT sha256, size FROM attachments")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .expect("attachments");
    let unbacked = conn
        .prepare(
            "SELECT a.instance_id || ' ' || a.ref FROM answers a
             WHERE a.ref IN ('/data/interview', '/data/site') AND a.value <> ''
               AND NOT EXISTS (SELECT 1 FROM attachments t
                               WHERE t.instance_id = a.instance_id AND t.name = a.value)",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("answers");
    (rows, unbacked)
}

#[test]
fn a_kill_mid_attachment_leaves_no_answer_without_its_file_and_no_lasting_orphan() {
    let iterations = std::env::var("ENUMERA_MEDIA_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8u64);
    let seed = std::env::var("ENUMERA_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("media crash: ENUMERA_CRASH_SEED={seed}");
    let mut rng = Rng(seed | 1);
    let dir = tempdir();
    let d = dir.path();
    let form = XlsForm::new()
        .survey(&[
            &["type", "name", "label"],
            &["text", "informant", "Informant"],
            &["audio", "interview", "Interview recording"],
            &["image", "site", "Photo of the site"],
        ])
        .settings(&[&["form_id", "version"], &["kii", "1"]])
        .write_to(d.join("kii.xlsx"));
    let db = d.join("device.db");
    let db_s = db.to_string_lossy().into_owned();
    enumera(&["device", "--db", &db_s, "init", "--name", "tab1"]);
    enumera(&["device", "--db", &db_s, "install", &form.to_string_lossy()]);
    let attachments = PathBuf::from(format!("{db_s}-attachments"));

    let (mut in_window, mut orphans_seen, mut tmp_seen) = (0, 0, 0);
    for i in 0..iterations {
        // Other content each time, so each copy is a new file.
        let salt = rng.below(u64::MAX);
        let recording: Vec<u8> =
            (0..(16u64 << 20)).map(|j| (j.wrapping_mul(salt | 1) >> 17) as u8).collect();
        std::fs::write(d.join("long.wav"), &recording).expect("recording");
        std::fs::write(d.join("site.jpg"), [&[0xff, 0xd8][..], &i.to_be_bytes()].concat())
            .expect("photo");
        let steps = d.join("steps.json");
        std::fs::write(
            &steps,
            r#"[{"set": "/data/informant", "value": "x"},
                {"attach": "/data/interview", "file": "long.wav"},
                {"attach": "/data/site", "file": "site.jpg"}]"#,
        )
        .expect("steps");
        let before: BTreeSet<PathBuf> =
            files(&attachments).into_iter().filter(|f| f.1).map(|f| f.0).collect();
        let mut child = Command::new(env!("CARGO_BIN_EXE_enumera"))
            .args(["device", "--db", &db_s, "fill", "kii", "--steps", &steps.to_string_lossy()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        if i % 2 == 0 {
            // The moment a new finished file appears: copied, not committed.
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(30) {
                let new = files(&attachments).into_iter().any(|f| f.1 && !before.contains(&f.0));
                if new || child.try_wait().expect("wait").is_some() {
                    in_window += usize::from(new);
                    break;
                }
                std::hint::spin_loop();
            }
        } else {
            std::thread::sleep(Duration::from_millis(rng.below(400)));
        }
        let _ = child.kill();
        let _ = child.wait();

        // Straight after the kill: no answer without its file, and every
        // recorded file whole.
        let (rows, unbacked) = recorded(&db);
        assert!(unbacked.is_empty(), "kill {i}: answers without their file: {unbacked:?}");
        for (sha, size) in &rows {
            let bytes = std::fs::read(attachments.join(&sha[..2]).join(sha))
                .unwrap_or_else(|e| panic!("kill {i}: recorded file {sha} missing: {e}"));
            assert_eq!(bytes.len() as u64, *size, "kill {i}: {sha} size");
            let found = enumera_core::bundle::sha256_hex(&bytes);
            assert_eq!(&found, sha, "kill {i}: {sha} content");
        }
        let referenced: BTreeSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        let left = files(&attachments);
        let orphans = left
            .iter()
            .filter(|(p, finished)| {
                *finished
                    && !referenced.contains(p.file_name().and_then(|n| n.to_str()).unwrap_or(""))
            })
            .count();
        orphans_seen += usize::from(orphans > 0);
        tmp_seen += usize::from(left.iter().any(|f| !f.1));

        // A recent orphan is spared by an open (it may be another
        // process's copy about to commit); once older than the grace
        // period, the next open removes it.
        let old = SystemTime::now() - enumera_core::store::ORPHAN_GRACE - Duration::from_secs(60);
        for (p, _) in &left {
            let f = std::fs::File::options().write(true).open(p).expect("open file");
            f.set_modified(old).expect("age the file");
        }
        let store = Store::open_existing(&db).expect("reopen");
        assert!(store.verify_attachments().expect("verify").is_empty(), "kill {i}");
        drop(store);
        let kept: Vec<_> = files(&attachments)
            .into_iter()
            .filter(|(p, finished)| {
                !*finished
                    || !referenced.contains(p.file_name().and_then(|n| n.to_str()).unwrap_or(""))
            })
            .collect();
        assert!(kept.is_empty(), "kill {i}: orphans kept after an open: {kept:?}");
    }
    eprintln!(
        "media crash: {iterations} kills, {in_window} at a finished copy, {orphans_seen} left an orphan file, {tmp_seen} a temporary file; all collected"
    );
}
