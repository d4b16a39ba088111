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
