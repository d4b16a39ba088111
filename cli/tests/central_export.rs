//! `enumera central export` end to end on the study's own instruments:
//! fill on a device from the step files, bundle, ingest, publish, export.

use std::path::Path;
use std::process::{Command, Output};

fn enumera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_enumera")).args(args).output().expect("enumera runs")
}

fn ok(args: &[&str]) -> String {
    let out = enumera(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn read(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header.iter().cloned().zip(rec.expect("record").iter().map(String::from)).collect()
        })
        .collect()
}

#[test]
fn the_study_exports_with_repeats_labels_and_a_panel() {
    let study = Path::new(env!("CARGO_MANIFEST_DIR")).join("../instruments/p2p-sanitation");
    let dir = tempfile::tempdir().expect("dir");
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let (dev, central, bundle, out) = (p("d.db"), p("c.db"), p("b.bundle"), p("out"));
    ok(&["device", "--db", &dev, "init", "--name", "tab1"]);
    let roster = p("roster.json");
    std::fs::write(&roster, r#"{"participants":[{"id":"MZ-0042","display":{},"personal":{}}]}"#)
        .expect("roster");
    ok(&["device", "--db", &dev, "roster", "import", &roster]);
    let forms = ["capacity", "practice_followup"];
    for f in forms {
        ok(&[
            "device",
            "--db",
            &dev,
            "install",
            &study.join(format!("{f}.xlsx")).to_string_lossy(),
        ]);
    }
    let fill = |form: &str, round: &str, steps: &str| {
        let steps = study.join("steps").join(steps);
        ok(&[
            "device",
            "--db",
            &dev,
            "fill",
            form,
            "--participant",
            "MZ-0042",
            "--round",
            round,
            "--steps",
            &steps.to_string_lossy(),
            "--finalize",
        ])
    };
    let cap = fill("p2p_capacity", "1", "capacity.baseline_pt.json");
    let fup = fill("p2p_practice_followup", "3", "practice_followup.quelimane_round3.json");
    ok(&["device", "--db", &dev, "bundle", "-o", &bundle]);
    ok(&["central", "--db", &central, "init"]);
    ok(&["central", "--db", &central, "ingest", &bundle]);
    for f in forms {
        ok(&[
            "central",
            "--db",
            &central,
            "publish",
            &study.join(format!("{f}.xlsx")).to_string_lossy(),
        ]);
    }
    let run = enumera(&[
        "central", "--db", &central, "export", "--format", "stata", "--out", &out, "--panel",
        "--labels", "--lang", "pt",
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("exported 2 responses"), "{stderr}");
    assert!(stderr.contains("report.csv: nothing held aside"), "{stderr}");

    let out = Path::new(&out);
    let main = read(&out.join("p2p_practice_followup.csv"));
    assert_eq!(main.len(), 1);
    assert_eq!(main[0]["KEY"], fup);
    assert!(main[0]["meta-participant"].starts_with('P'));
    assert_eq!(main[0]["meta-round"], "3");
    // select_multiple split, labels in Portuguese for the value column.
    assert_eq!(main[0]["interview-barriers_enablers-barriers/finance"], "1");
    assert_eq!(main[0]["interview-barriers_enablers-barriers/political"], "0");
    let changes = read(&out.join("p2p_practice_followup-changes.csv"));
    assert_eq!(changes.len(), 3);
    assert!(changes.iter().all(|c| c["PARENT_KEY"] == fup));
    assert_eq!(changes[2]["KEY"], format!("{fup}/changes[3]"));
    assert_eq!(changes[1]["p2p_contribution"], "Nenhuma");
    let panel = read(&out.join("panel.csv"));
    assert_eq!(panel.len(), 2, "rounds 1 and 3 of one participant");
    assert_eq!(panel[0]["capacity_key"], cap);
    assert_eq!(panel[1]["practice_followup_key"], fup);
    assert_eq!(panel[0]["participant"], panel[1]["participant"]);
    for file in [
        "export.do",
        "codebook.csv",
        "codebook.md",
        "report.csv",
        "p2p_practice_followup.dta",
        "p2p_practice_followup-changes.dta",
        "panel.dta",
    ] {
        assert!(out.join(file).exists(), "{file}");
    }
    // Text and .dta files alike: searched as bytes.
    for entry in std::fs::read_dir(out).expect("out") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        assert!(!bytes.windows(7).any(|w| w == b"MZ-0042"), "raw participant id exported");
    }
}

/// A central holding one practice follow-up (round 3, three changes) and
/// one capacity response of MZ-0042, both forms published.
fn study_central(dir: &Path) -> (String, String, String) {
    let study = Path::new(env!("CARGO_MANIFEST_DIR")).join("../instruments/p2p-sanitation");
    let p = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (dev, central, bundle) = (p("d.db"), p("c.db"), p("b.bundle"));
    ok(&["device", "--db", &dev, "init", "--name", "tab1", "--enumerator", "=HYPERLINK(\"x\")"]);
    let roster = p("roster.json");
    std::fs::write(
        &roster,
        r#"{"participants":[{"id":"MZ-0042","display":{"district":"Beira"},"personal":{}},{"id":"MZ-0043","display":{"district":"Beira"},"personal":{}}]}"#,
    )
    .expect("roster");
    ok(&["device", "--db", &dev, "roster", "import", &roster]);
    for f in ["capacity", "practice_followup"] {
        let form = study.join(format!("{f}.xlsx")).to_string_lossy().into_owned();
        ok(&["device", "--db", &dev, "install", &form]);
    }
    let fill = |form: &str, round: &str, steps: &str| {
        let steps = study.join("steps").join(steps).to_string_lossy().into_owned();
        ok(&[
            "device",
            "--db",
            &dev,
            "fill",
            form,
            "--participant",
            "MZ-0042",
            "--round",
            round,
            "--steps",
            &steps,
            "--finalize",
        ])
    };
    let cap = fill("p2p_capacity", "1", "capacity.baseline_pt.json");
    let fup = fill("p2p_practice_followup", "3", "practice_followup.quelimane_round3.json");
    ok(&["device", "--db", &dev, "bundle", "-o", &bundle]);
    ok(&["central", "--db", &central, "init"]);
    ok(&["central", "--db", &central, "ingest", &bundle]);
    ok(&["central", "--db", &central, "roster", "publish", &roster]);
    for f in ["capacity", "practice_followup"] {
        let form = study.join(format!("{f}.xlsx")).to_string_lossy().into_owned();
        ok(&["central", "--db", &central, "publish", &form]);
    }
    (central, cap, fup)
}

/// The first line of a CSV file, its byte-order mark kept.
fn header_line(path: &Path) -> String {
    std::fs::read_to_string(path).expect("csv").lines().next().unwrap_or_default().to_string()
}

/// `--layout odk` writes the columns ODK Central writes for the same form,
/// column for column (the fixture was written from Central's rules, see
/// fixtures/odk-layout/headers.py), with Central's keys and values.
#[test]
fn the_odk_layout_has_centrals_columns_and_keys() {
    let dir = tempfile::tempdir().expect("dir");
    let (central, _cap, fup) = study_central(dir.path());
    let out = dir.path().join("odk");
    let o = out.to_string_lossy().into_owned();
    ok(&[
        "central",
        "export",
        "--db",
        &central,
        "--form",
        "p2p_practice_followup",
        "--layout",
        "odk",
        "-o",
        &o,
    ]);
    let fixture = include_str!("fixtures/odk-layout/p2p_practice_followup.headers");
    let lines: Vec<&str> = fixture.lines().collect();
    for pair in lines.chunks(2) {
        let got = header_line(&out.join(pair[0]));
        let want: Vec<&str> = pair[1].split(',').collect();
        let got: Vec<&str> = got.split(',').collect();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{} column {}", pair[0], i + 1);
        }
        assert_eq!(got.len(), want.len(), "{}: {got:?}", pair[0]);
    }
    let main = read(&out.join("p2p_practice_followup.csv"));
    assert_eq!(main.len(), 1);
    let row = &main[0];
    assert_eq!(row["KEY"], fup);
    assert_eq!(row["meta-instanceID"], fup);
    assert_eq!(row["FormVersion"], "2026112901");
    assert_eq!(row["Edits"], "0");
    assert_eq!(row["Status"], "");
    let date = &row["SubmissionDate"];
    assert!(
        date.len() == 24 && date.ends_with('Z') && date.as_bytes()[19] == b'.',
        "Central writes times as toISOString: {date}"
    );
    // Split select_multiple columns are 0 when not chosen, and when not answered.
    assert_eq!(row["interview-barriers_enablers-barriers/finance"], "1");
    assert_eq!(row["interview-barriers_enablers-barriers/political"], "0");
    assert_eq!(row["interview-practice-any_changes"], "yes");
    assert!(row["start"].starts_with("20"), "the form's own start is a column");
    let changes = read(&out.join("p2p_practice_followup-changes.csv"));
    assert_eq!(changes.len(), 3);
    for (i, c) in changes.iter().enumerate() {
        assert_eq!(c["PARENT_KEY"], fup);
        assert_eq!(c["KEY"], format!("{fup}/interview/practice/changes[{}]", i + 1));
    }
    // As Central writes them: no byte-order mark (Enumera's layout has one).
    assert!(
        !std::fs::read(out.join("p2p_practice_followup.csv"))
            .expect("csv")
            .starts_with(b"\xef\xbb\xbf")
    );
}

/// `--json` says what was written; `--db` may follow the subcommand or come
/// from ENUMERA_DB; `-o` and `--out` are the same; several formats in one pass.
#[test]
fn export_and_checks_are_scriptable() {
    let dir = tempfile::tempdir().expect("dir");
    let (central, cap, fup) = study_central(dir.path());
    let out = dir.path().join("all");
    let o = out.to_string_lossy().into_owned();
    let run = Command::new(env!("CARGO_BIN_EXE_enumera"))
        .args([
            "central",
            "export",
            "--format",
            "stata,spss,xlsx",
            "--checks",
            "--panel",
            "--json",
            "-o",
            &o,
        ])
        .env("ENUMERA_DB", &central)
        .output()
        .expect("enumera");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json on stdout");
    assert_eq!(v["responses"], 2);
    assert_eq!(v["tables"]["p2p_practice_followup-changes"], 3);
    assert_eq!(v["panel_rows"], 2);
    assert_eq!(v["held_aside"], serde_json::json!({}));
    let files: Vec<&str> =
        v["files"].as_array().expect("files").iter().filter_map(|f| f.as_str()).collect();
    for f in [
        "p2p_capacity.dta",
        "p2p_capacity.sav",
        "p2p_capacity.xlsx",
        "p2p_practice_followup-changes.sav",
        "panel.sav",
        "export.do",
        "export.sps",
        "export-bn.sps",
        "codebook.csv",
        "checks/index.html",
        "checks/progress.csv",
        "report.csv",
    ] {
        assert!(files.contains(&f), "{f} not in {files:?}");
        assert!(out.join(f).exists(), "{f} listed but not written");
    }
    assert_eq!(v["checks"]["interviews"], 2);
    // The device-chosen enumerator id never reaches a CSV cell as a formula.
    let main = read(&out.join("p2p_capacity.csv"));
    assert_eq!(main[0]["KEY"], cap);
    assert_eq!(main[0]["meta-enumerator"], "'=HYPERLINK(\"x\")");
    // Progress against the roster: one of two Beira participants, per form.
    let progress = read(&out.join("checks/progress.csv"));
    let cell = progress.iter().find(|r| r["form_id"] == "p2p_practice_followup").expect("progress");
    assert_eq!((cell["district"].as_str(), cell["round"].as_str()), ("Beira", "3"));
    assert_eq!((cell["expected"].as_str(), cell["interviewed"].as_str()), ("2", "1"));
    // --db after the subcommand, checks alone.
    let checks = dir.path().join("checks");
    let c = checks.to_string_lossy().into_owned();
    let stdout = ok(&["central", "checks", "--db", &central, "--out", &c, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["checks"]["interviews"], 2);
    assert!(checks.join("index.html").exists());
    let html = std::fs::read_to_string(checks.join("index.html")).expect("html");
    assert!(html.contains("<svg") && !html.contains("<script"), "plots drawn, no JavaScript");
    // No database anywhere: a usage error.
    let run = Command::new(env!("CARGO_BIN_EXE_enumera"))
        .args(["central", "status"])
        .env_remove("ENUMERA_DB")
        .output()
        .expect("enumera");
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("ENUMERA_DB"));
    let _ = fup;
}
