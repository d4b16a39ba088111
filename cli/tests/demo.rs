//! `enumera demo` end to end: the campaign it simulates is the one central
//! ends up holding, each response once, nothing lost on the killed tablet.

use std::process::Command;

use serde_json::Value;
use sha2::Digest;

#[test]
fn the_demo_campaign_arrives_whole() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_enumera"))
        .args(["demo", "--dir", demo.to_str().unwrap(), "--json", "--seed", "7"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["problems"], Value::Array(vec![]), "{v}");

    // Every finalized response is at central, exactly once.
    let finalized = v["finalized"].as_u64().unwrap();
    assert!(finalized >= 60, "a campaign of 12 people over 3 rounds: {finalized}");
    assert_eq!(v["central_responses"].as_u64().unwrap(), finalized);
    assert_eq!(v["at_central_more_than_once"], 0);
    assert!(v["duplicates_ignored"].as_u64().unwrap() > 0, "a bundle was delivered twice");
    assert!(v["http_uploads"].as_u64().unwrap() > 0, "a tablet synced over HTTP");
    assert_eq!(v["conflicts"], 0);

    // A supervisor returned one response with a comment at a question; the
    // tablet showed it there, corrected the response, and it was approved.
    let review = &v["review"];
    assert_eq!(review["comments_at_question"], 1, "{review}");
    assert_eq!(review["final_state"], "approved");
    assert_eq!(review["edited_after_return"], true);
    assert_ne!(review["returned"], review["correction"]);
    let ids = v["finalized_ids"].as_array().unwrap();
    assert!(ids.contains(&review["correction"]) && !ids.contains(&review["returned"]));

    // Counts per round add up to what was simulated.
    let per_round = v["finalized_per_round_district"].as_object().unwrap();
    let total: u64 = per_round
        .values()
        .flat_map(|d| d.as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(total, finalized);
    assert_eq!(per_round.len(), 3, "three rounds");

    // One capacity assessment per participant and round.
    let mut seen = std::collections::BTreeSet::new();
    for r in v["capacity_responses"].as_array().unwrap() {
        let key = (r["participant"].as_str().unwrap().to_string(), r["round"].as_u64().unwrap());
        assert!(seen.insert(key.clone()), "two capacity responses for {key:?}");
    }
    assert_eq!(seen.len(), 12 * 3);

    // Sealed responses were held unread and opened with the researcher's key.
    let sealed = v["finalized_sealed"].as_u64().unwrap();
    assert!(sealed > 0);
    assert_eq!(v["sealed_held"].as_u64().unwrap(), sealed);
    assert_eq!(v["sealed_opened"].as_u64().unwrap(), sealed);

    // The tablet killed mid-interview lost nothing it had acknowledged.
    let killed = &v["killed_tablet"];
    assert!(killed["acknowledged"].as_u64().unwrap() > 0);
    assert_eq!(killed["acknowledged"], killed["recovered"]);
    assert_eq!(killed["lost"], Value::Array(vec![]));
    assert_eq!(v["drafts_left"].as_u64().unwrap(), 3, "one interrupted interview per tablet");

    // The researcher's export holds every finalized response exactly once:
    // read the main table of each form back with a CSV reader.
    let export = demo.join("export/stata");
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(&export).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let is_form_table =
            name.starts_with("p2p_") && name.ends_with(".csv") && !name.contains('-');
        if !is_form_table {
            continue;
        }
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let key = reader.headers().unwrap().iter().position(|h| h == "KEY").expect("KEY column");
        for row in reader.records() {
            keys.push(row.unwrap()[key].to_string());
        }
    }
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "a response exported twice");
    let mut expected: Vec<String> = v["finalized_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    expected.sort();
    assert_eq!(unique, expected, "exported responses differ from those finalized");
    // Nothing held aside but the version the supervisor returned, which
    // its correction replaced (listed in report.csv, not exported).
    assert_eq!(v["export"]["held_aside"], serde_json::json!({"replaced": 1}), "held aside");

    // The KII interviews carry a recording and a consent signature (issue
    // 18): each is in every export's media/, byte for byte what the demo
    // attached, and the KII table's cell names it.
    let media = v["media"].as_array().unwrap();
    let kii = v["export"]["rows"]["p2p_kii"].as_u64().unwrap();
    assert!(kii > 0, "{v}");
    assert_eq!(media.len() as u64, 2 * kii, "a recording and a signature per KII: {media:?}");
    assert_eq!(v["export"]["media_files"].as_u64().unwrap(), 2 * kii);
    let mut reader = csv::Reader::from_path(export.join("p2p_kii.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let kii_rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    for m in media {
        let file = m["file"].as_str().unwrap();
        for sub in ["stata", "spss", "xlsx", "json"] {
            let bytes = std::fs::read(demo.join("export").join(sub).join("media").join(file))
                .unwrap_or_else(|e| panic!("{sub}/media/{file}: {e}"));
            let hash = format!("{:x}", sha2::Sha256::digest(&bytes));
            assert_eq!(hash, m["sha256"].as_str().unwrap(), "{sub}/media/{file}");
            assert_eq!(bytes.len() as u64, m["size"].as_u64().unwrap());
        }
        let key = headers.iter().position(|h| h == "KEY").unwrap();
        let row = kii_rows
            .iter()
            .find(|r| &r[key] == m["instance_id"].as_str().unwrap())
            .unwrap_or_else(|| panic!("no KII row for {m}"));
        // Columns are the question's path below /data, joined with '-'.
        let column = m["question"].as_str().unwrap().trim_start_matches("/data/").replace('/', "-");
        let cell = headers.iter().position(|h| h == column).expect("media column");
        assert_eq!(&row[cell], file, "the CSV cell resolves to media/{file}");
    }
    let recordings = media.iter().filter(|m| m["file"].as_str().unwrap().ends_with(".wav"));
    let signatures = media.iter().filter(|m| m["file"].as_str().unwrap().ends_with(".jpg"));
    assert_eq!((recordings.count() as u64, signatures.count() as u64), (kii, kii));

    // The panel: one row per participant and round.
    let mut panel = csv::Reader::from_path(export.join("panel.csv")).unwrap();
    let mut pairs = std::collections::BTreeSet::new();
    for row in panel.records() {
        let row = row.unwrap();
        assert!(pairs.insert((row[0].to_string(), row[1].to_string())), "panel row twice: {row:?}");
    }
    assert_eq!(pairs.len(), 12 * 3);
    assert!(pairs.iter().all(|(p, _)| !p.contains('-')), "participant ids are pseudonymized");

    // Central's own account agrees (read back through the CLI).
    let status = Command::new(env!("CARGO_BIN_EXE_enumera"))
        .args([
            "central",
            "--db",
            demo.join("central/central.db").to_str().unwrap(),
            "status",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let s: Value = serde_json::from_slice(&status.stdout).unwrap();
    // Every version is kept: the returned one beside its correction.
    assert_eq!(s["current"].as_u64().unwrap(), finalized);
    assert_eq!(s["responses"].as_u64().unwrap(), finalized + 1);

    // Every official was assigned to their district's enumerator (issue 17):
    // progress counts each planned interview once.
    let progress = Command::new(env!("CARGO_BIN_EXE_enumera"))
        .args(["central", "--db", demo.join("central/central.db").to_str().unwrap(), "progress"])
        .arg("--json")
        .output()
        .unwrap();
    assert!(progress.status.success(), "{}", String::from_utf8_lossy(&progress.stderr));
    let rows: Value = serde_json::from_slice(&progress.stdout).unwrap();
    let assigned: u64 =
        rows.as_array().unwrap().iter().map(|r| r["assigned"].as_u64().unwrap()).sum();
    assert!(assigned >= 12 * 3, "{rows}");
    assert!(
        rows.as_array().unwrap().iter().all(|r| r["assigned"] == 0 || r["enumerator"].is_string())
    );

    // Running again replaces the demo folder; a folder it did not make is refused.
    let foreign = dir.path().join("mine");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "keep me").unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_enumera"))
        .args(["demo", "--dir", foreign.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(foreign.join("notes.txt").exists());
}
