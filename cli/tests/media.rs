//! Media end to end (issue 18): a device answers file questions from a
//! steps script, the files travel in the bundle, central ingests them, and
//! `central export` writes them into `media/` byte for byte, reporting any
//! it cannot.

use std::path::Path;
use std::process::{Command, Output};

use enumera_tests::XlsForm;
use serde_json::Value;

fn enumera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_enumera")).args(args).output().expect("enumera runs")
}

fn ok(args: &[&str]) -> String {
    let out = enumera(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header.iter().cloned().zip(rec.expect("record").iter().map(String::from)).collect()
        })
        .collect()
}

/// A small JPEG-shaped file (start and end markers around bytes of every
/// value), made by the test.
fn photo_bytes(seed: u8) -> Vec<u8> {
    let mut b = vec![0xff, 0xd8, 0xff, 0xe0];
    b.extend((0..70_000u32).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    b.extend([0xff, 0xd9]);
    b
}

fn kii_form(dir: &Path) -> String {
    XlsForm::new()
        .survey(&[
            &["type", "name", "label"],
            &["text", "informant", "Informant"],
            &["image", "site", "Photo of the site"],
            &["audio", "interview", "Interview recording"],
        ])
        .settings(&[&["form_id", "version"], &["kii", "1"]])
        .write_to(dir.join("kii.xlsx"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn attached_files_reach_the_export_byte_for_byte() {
    let dir = tempfile::tempdir().expect("dir");
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let form = kii_form(dir.path());
    let (dev, central, bundle, out, bare) =
        (p("d.db"), p("c.db"), p("b.bundle"), p("out"), p("bare"));
    ok(&["device", "--db", &dev, "init", "--name", "tab1"]);
    ok(&["device", "--db", &dev, "install", &form]);

    // The steps live in their own folder; the photos beside them
    // (relative paths), the recording elsewhere (an absolute path).
    let steps_dir = dir.path().join("steps");
    std::fs::create_dir_all(steps_dir.join("media")).expect("steps dir");
    let (first, photo, audio) =
        (photo_bytes(1), photo_bytes(2), b"RIFF\x24\0\0\0WAVEfmt a recording".to_vec());
    std::fs::write(steps_dir.join("media/first.jpg"), &first).expect("first");
    std::fs::write(steps_dir.join("media/site.JPG"), &photo).expect("photo");
    let audio_path = dir.path().join("interview.wav");
    std::fs::write(&audio_path, &audio).expect("audio");
    let steps = steps_dir.join("kii.json");
    let audio_step = serde_json::json!({"attach": "/data/interview", "file": audio_path});
    std::fs::write(
        &steps,
        format!(
            r#"[{{"set": "/data/informant", "value": "Dona Rosa"}},
                {{"attach": "/data/site", "file": "media/first.jpg"}},
                {{"attach": "/data/site", "file": "media/site.JPG"}},
                {{"attach": "/data/site", "file": "media/not-there.jpg"}},
                {audio_step}]"#
        ),
    )
    .expect("steps");
    let run = enumera(&[
        "device",
        "--db",
        &dev,
        "fill",
        "kii",
        "--steps",
        &steps.to_string_lossy(),
        "--finalize",
        "--json",
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let v: Value = serde_json::from_slice(&run.stdout).expect("json");
    // The missing file fails its own step, naming the step and the path;
    // every other step holds.
    assert_eq!(v["failed"], 1, "{v}");
    assert_eq!(v["steps"][3]["ok"], false);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("step 3:") && stderr.contains("not-there.jpg"), "{stderr}");
    let id = v["instance_id"].as_str().expect("id").to_string();

    // On the device: the answers are ODK file names; the replaced photo is
    // gone, the kept one is the last attached.
    let shown: Value =
        serde_json::from_str(&ok(&["device", "--db", &dev, "show", &id])).expect("show");
    let answer = |r: &str| {
        shown["answers"]
            .as_array()
            .expect("answers")
            .iter()
            .find(|a| a["ref"] == r)
            .and_then(|a| a["value"].as_str())
            .map(String::from)
            .unwrap_or_else(|| panic!("{r} unanswered: {shown}"))
    };
    let (site, interview) = (answer("/data/site"), answer("/data/interview"));
    assert!(site.ends_with(".jpg") && site[..site.len() - 4].parse::<u64>().is_ok(), "{site}");
    assert!(interview.ends_with(".wav"), "{interview}");
    let files: usize = std::fs::read_dir(format!("{dev}-attachments"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name() != "tmp")
                .map(|e| std::fs::read_dir(e.path()).map_or(0, Iterator::count))
                .sum()
        })
        .unwrap_or(0);
    assert_eq!(files, 2, "the replaced photo's file is removed");

    ok(&["device", "--db", &dev, "bundle", "-o", &bundle]);
    ok(&["central", "--db", &central, "init"]);
    ok(&["central", "--db", &central, "ingest", &bundle]);
    ok(&["central", "--db", &central, "publish", &form]);
    let summary: Value = serde_json::from_str(&ok(&[
        "central", "--db", &central, "export", "--out", &out, "--json",
    ]))
    .expect("summary");
    assert_eq!(summary["media_files"], 2, "{summary}");
    let media = Path::new(&out).join("media");
    assert_eq!(std::fs::read(media.join(&site)).expect("photo exported"), photo);
    assert_eq!(std::fs::read(media.join(&interview)).expect("audio exported"), audio);
    assert_eq!(std::fs::read_dir(&media).expect("media").count(), 2);
    // The CSV cell names the file in media/, as ODK Central's export does.
    let rows = read_csv(&Path::new(&out).join("kii.csv"));
    assert_eq!(rows.len(), 1);
    assert!(rows[0].values().any(|v| *v == site), "{:?}", rows[0]);
    let report = std::fs::read_to_string(Path::new(&out).join("report.csv")).expect("report");
    assert!(!report.contains("media_"), "{report}");

    // Data only.
    ok(&["central", "--db", &central, "export", "--out", &bare, "--no-media"]);
    assert!(!Path::new(&bare).join("media").exists());

    // A file central lost or holds altered (a damaged database: the
    // foreign key that guards it is switched off here) is reported, never
    // silently dropped or written.
    let conn = rusqlite::Connection::open(&central).expect("central db");
    conn.execute_batch("PRAGMA foreign_keys = OFF").expect("pragma");
    let lost = conn
        .execute("DELETE FROM blobs WHERE length(bytes) = ?1", [audio.len() as i64])
        .expect("delete");
    let altered = conn
        .execute(
            "UPDATE blobs SET bytes = ?1 WHERE length(bytes) = ?2",
            [
                rusqlite::types::Value::Blob(b"not the photo".to_vec()),
                rusqlite::types::Value::Integer(photo.len() as i64),
            ],
        )
        .expect("update");
    assert_eq!((lost, altered), (1, 1));
    drop(conn);
    let again = p("again");
    ok(&["central", "--db", &central, "export", "--out", &again]);
    let report = std::fs::read_to_string(Path::new(&again).join("report.csv")).expect("report");
    assert!(
        report.lines().any(|l| l.starts_with("media_missing") && l.contains(&interview)),
        "{report}"
    );
    assert!(
        report.lines().any(|l| l.starts_with("media_hash_mismatch") && l.contains(&site)),
        "{report}"
    );
    assert!(!Path::new(&again).join("media").exists());
}

/// Two responses whose different photos have the same name (two tablets
/// capturing in the same millisecond; here one test clock): the first
/// keeps `media/NAME`, the second is written under its response's folder,
/// and each response's CSV cell names its own file (and the JSON too).
#[test]
fn a_shared_file_name_gives_each_cell_its_own_file() {
    let dir = tempfile::tempdir().expect("dir");
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let form = kii_form(dir.path());
    let (central, out) = (p("c.db"), p("out"));
    ok(&["central", "--db", &central, "init"]);
    ok(&["central", "--db", &central, "publish", &form]);
    let mut photos = Vec::new();
    for (i, tablet) in ["tab1", "tab2"].iter().enumerate() {
        let dev = p(&format!("{tablet}.db"));
        ok(&["device", "--db", &dev, "init", "--name", tablet]);
        ok(&["device", "--db", &dev, "install", &form]);
        let photo = photo_bytes(10 + i as u8);
        std::fs::write(dir.path().join(format!("{tablet}.jpg")), &photo).expect("photo");
        let steps = dir.path().join(format!("{tablet}.json"));
        std::fs::write(
            &steps,
            format!(
                r#"[{{"set": "/data/informant", "value": "{tablet}"}},
                    {{"attach": "/data/site", "file": "{tablet}.jpg"}}]"#
            ),
        )
        .expect("steps");
        let id = ok(&[
            "device",
            "--db",
            &dev,
            "fill",
            "kii",
            "--steps",
            &steps.to_string_lossy(),
            "--now",
            "2026-12-04T10:00:00Z",
            "--finalize",
        ]);
        let bundle = p(&format!("{tablet}.bundle"));
        ok(&["device", "--db", &dev, "bundle", "-o", &bundle]);
        ok(&["central", "--db", &central, "ingest", &bundle]);
        photos.push((tablet.to_string(), id.lines().last().expect("id").to_string(), photo));
    }
    ok(&["central", "--db", &central, "export", "--out", &out, "--format", "csv,json"]);
    let rows = read_csv(&Path::new(&out).join("kii.csv"));
    assert_eq!(rows.len(), 2);
    let cells: Vec<String> = photos
        .iter()
        .map(|(tablet, _, photo)| {
            let row = rows
                .iter()
                .find(|r| r.values().any(|v| v == tablet))
                .unwrap_or_else(|| panic!("{tablet}'s row: {rows:?}"));
            let cell = row
                .values()
                .find(|v| v.ends_with(".jpg"))
                .unwrap_or_else(|| panic!("{tablet}'s photo cell: {row:?}"))
                .clone();
            let file = Path::new(&out).join("media").join(&cell);
            let held = std::fs::read(&file).expect("the cell's file");
            assert!(held == *photo, "{tablet}'s cell {cell} names another file");
            cell
        })
        .collect();
    assert_ne!(cells[0], cells[1], "two files, two cells");
    assert!(cells.iter().any(|c| !c.contains('/')), "one keeps its name: {cells:?}");
    let report = std::fs::read_to_string(Path::new(&out).join("report.csv")).expect("report");
    assert!(report.contains("media_renamed"), "{report}");
    let json = std::fs::read_to_string(
        std::fs::read_dir(&out)
            .expect("out")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|f| f.to_string_lossy().ends_with(".jsonl"))
            .expect("a JSON lines file"),
    )
    .expect("json");
    for c in &cells {
        assert!(json.contains(&format!("\"{c}\"")), "the JSON names {c}: {json}");
    }
}

/// The interview at the terminal (`device fill` with no steps) answers a
/// file question with a path: a missing file is an error shown at the
/// question, a quoted path (a file dropped on the terminal) is taken, and
/// the file is kept with the response under its ODK name, byte for byte.
#[test]
fn files_are_attached_at_the_terminal_interview() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("dir");
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let form = kii_form(dir.path());
    let dev = p("d.db");
    ok(&["device", "--db", &dev, "init", "--name", "tab1"]);
    ok(&["device", "--db", &dev, "install", &form]);
    let (photo, audio) = (photo_bytes(4), b"RIFF\x24\0\0\0WAVEfmt at the terminal".to_vec());
    std::fs::write(dir.path().join("site 7.jpg"), &photo).expect("photo");
    std::fs::write(dir.path().join("kii.wav"), &audio).expect("audio");

    let script = format!(
        "Dona Rosa\n{missing}\n'{photo}'\n{audio}\n\n",
        missing = p("not-there.jpg"),
        photo = p("site 7.jpg"),
        audio = p("kii.wav"),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_enumera"))
        .args(["device", "--db", &dev, "fill", "kii"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("enumera runs");
    child.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("script");
    let run = child.wait_with_output().expect("enumera ends");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{out}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(out.contains("the path of a file"), "the hint: {out}");
    assert!(
        out.contains(&format!("there is no file {}", p("not-there.jpg"))),
        "the missing file is named: {out}"
    );
    let id = out.lines().last().expect("the instance id").trim().to_string();

    let shown: Value =
        serde_json::from_str(&ok(&["device", "--db", &dev, "show", &id])).expect("show");
    assert_eq!(shown["response"]["state"], "finalized", "{shown}");
    let attachments = shown["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 2, "{shown}");
    for (bytes, ext) in [(&photo, ".jpg"), (&audio, ".wav")] {
        let a = attachments
            .iter()
            .find(|a| a["name"].as_str().is_some_and(|n| n.ends_with(ext)))
            .unwrap_or_else(|| panic!("{ext} kept: {shown}"));
        let name = a["name"].as_str().expect("name");
        assert!(name[..name.len() - 4].parse::<u64>().is_ok(), "an ODK name: {name}");
        assert_eq!(a["sha256"], enumera_core::bundle::sha256_hex(bytes), "{shown}");
        assert!(
            shown["answers"].as_array().expect("answers").iter().any(|x| x["value"] == name),
            "the answer names the file: {shown}"
        );
    }
}

/// `form run` takes the same attach step: the answer is the name ODK
/// would give the file, nothing is kept; a missing file fails the step.
#[test]
fn form_run_answers_attach_steps_with_a_file_name() {
    let dir = tempfile::tempdir().expect("dir");
    let form = kii_form(dir.path());
    std::fs::write(dir.path().join("site.png"), photo_bytes(3)).expect("photo");
    let steps = dir.path().join("steps.json");
    std::fs::write(
        &steps,
        r#"[{"attach": "/data/site", "file": "site.png"},
            {"attach": "/data/interview", "file": "gone.wav"},
            {"attach": "/data/informant", "file": "site.png"}]"#,
    )
    .expect("steps");
    let out: Value = serde_json::from_str(&ok(&[
        "form",
        "run",
        &form,
        &steps.to_string_lossy(),
        "--now",
        "2026-12-04T10:00:00Z",
    ]))
    .expect("json");
    let s = &out["steps"];
    assert_eq!(s[0]["ok"], true, "{s}");
    assert!(s[1]["error"].as_str().is_some_and(|e| e.contains("gone.wav")), "{s}");
    assert!(s[2]["error"].as_str().is_some_and(|e| e.contains("not a file question")), "{s}");
    let xml = out["submission"]["xml"].as_str().expect("xml");
    assert!(xml.contains("<site>1796378400000.png</site>"), "{xml}");
}

/// The study's test key pair (instruments/p2p-sanitation/test-keys).
const RESEARCHER_KEY: &str = "age1gp4hnhu3kv6zpux60qq8cqcfvkvz54yt6pz4m7kcxapa7qnv9yaqm70asn";

fn identity_file() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../instruments/p2p-sanitation/test-keys/researcher.agekey"
    )
    .to_string()
}

/// Sealed media (issue 18, item 4): a sealed form's photo travels inside
/// the sealed file; central's database never holds its bytes; the export
/// writes it only with the researcher's identity, and says so without.
#[test]
fn a_sealed_forms_attachments_open_only_with_the_identity() {
    let dir = tempfile::tempdir().expect("dir");
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let form = XlsForm::new()
        .survey(&[&["type", "name", "label"], &["image", "site", "Photo of the site"]])
        .settings(&[&["form_id", "version", "public_key"], &["kii_sealed", "1", RESEARCHER_KEY]])
        .write_to(dir.path().join("kii_sealed.xlsx"))
        .to_string_lossy()
        .into_owned();
    let (dev, central, bundle) = (p("d.db"), p("c.db"), p("b.bundle"));
    ok(&["device", "--db", &dev, "init", "--name", "tab1"]);
    ok(&["device", "--db", &dev, "install", &form]);
    let photo = photo_bytes(9);
    std::fs::write(dir.path().join("site.jpg"), &photo).expect("photo");
    let steps = dir.path().join("steps.json");
    std::fs::write(&steps, r#"[{"attach": "/data/site", "file": "site.jpg"}]"#).expect("steps");
    ok(&[
        "device",
        "--db",
        &dev,
        "fill",
        "kii_sealed",
        "--steps",
        &steps.to_string_lossy(),
        "--finalize",
    ]);
    ok(&["device", "--db", &dev, "bundle", "-o", &bundle]);
    ok(&["central", "--db", &central, "init"]);
    ok(&["central", "--db", &central, "publish", &form]);
    ok(&["central", "--db", &central, "ingest", &bundle]);

    // Neither the bundle nor central's database holds the photo's bytes.
    let marker = &photo[1000..1064];
    for file in [&bundle, &central] {
        let bytes = std::fs::read(file).expect("read");
        assert!(!bytes.windows(marker.len()).any(|w| w == marker), "{file} holds plaintext");
    }

    let closed = p("closed");
    let summary: Value = serde_json::from_str(&ok(&[
        "central", "--db", &central, "export", "--out", &closed, "--json",
    ]))
    .expect("summary");
    assert_eq!(summary["media_files"], 0, "{summary}");
    assert!(!Path::new(&closed).join("media").exists());
    let report = std::fs::read_to_string(Path::new(&closed).join("report.csv")).expect("report");
    assert!(
        report.lines().any(|l| l.starts_with("sealed_not_opened") && l.contains("attachments")),
        "{report}"
    );

    let opened = p("opened");
    let summary: Value = serde_json::from_str(&ok(&[
        "central",
        "--db",
        &central,
        "export",
        "--out",
        &opened,
        "--identity",
        &identity_file(),
        "--json",
    ]))
    .expect("summary");
    assert_eq!(summary["media_files"], 1, "{summary}");
    let rows = read_csv(&Path::new(&opened).join("kii_sealed.csv"));
    assert_eq!(rows.len(), 1);
    let name = rows[0]["site"].clone();
    assert!(name.ends_with(".jpg"), "{:?}", rows[0]);
    let exported = Path::new(&opened).join("media").join(&name);
    assert_eq!(std::fs::read(exported).expect("sealed photo exported"), photo);
}

/// Issue 18, item 5: a file larger than central's spool threshold (1 MiB)
/// travels as every other: streamed into the bundle, spooled at ingest,
/// streamed into SQLite and back out into `media/`, byte for byte.
#[test]
fn a_large_recording_is_streamed_through_to_the_export() {
    let dir = tempfile::tempdir().expect("dir");
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let form = kii_form(dir.path());
    let (dev, central, bundle, out) = (p("d.db"), p("c.db"), p("b.bundle"), p("out"));
    let audio: Vec<u8> =
        (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(dir.path().join("long.wav"), &audio).expect("audio");
    let steps = dir.path().join("steps.json");
    std::fs::write(&steps, r#"[{"attach": "/data/interview", "file": "long.wav"}]"#)
        .expect("steps");
    ok(&["device", "--db", &dev, "init", "--name", "tab1"]);
    ok(&["device", "--db", &dev, "install", &form]);
    ok(&["device", "--db", &dev, "fill", "kii", "--steps", &steps.to_string_lossy(), "--finalize"]);
    ok(&["device", "--db", &dev, "bundle", "-o", &bundle]);
    ok(&["central", "--db", &central, "init"]);
    ok(&["central", "--db", &central, "publish", &form]);
    ok(&["central", "--db", &central, "ingest", &bundle]);
    ok(&["central", "--db", &central, "export", "--out", &out]);
    let rows = read_csv(&Path::new(&out).join("kii.csv"));
    let name = &rows[0]["interview"];
    assert_eq!(std::fs::read(Path::new(&out).join("media").join(name)).expect("exported"), audio);
    // Nothing is left behind beside media/.
    let stray: Vec<_> = std::fs::read_dir(&out)
        .expect("out")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".media-partial"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}
