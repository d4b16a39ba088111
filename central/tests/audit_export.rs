//! The audit log from the tablet to the researcher (issue 17, item 4):
//! responses filled through core's `Fill` under the injected clock, one
//! plain and one sealed, bundled, ingested, and exported. `FORM-audit.csv`
//! holds each event at the time the clock gave it; the sealed response's
//! log is read only with the researcher's identity, like its answers.

mod common;

use std::path::Path;

use enumera_central::Central;
use enumera_central::export::{ExportOptions, export};
use enumera_core::bundle::{BundleOptions, ResearcherIdentity, write_bundle};
use enumera_core::expr::FixedEnv;
use enumera_core::fill::{Fill, Start};
use enumera_core::instrument::Instrument;
use enumera_core::store::Store;

fn audited(form_id: &str, keys: &[&str]) -> Instrument {
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": form_id, "version": "1", "title": form_id, "root_name": "data",
        "settings": {"public_keys": keys},
        "children": [
            {"name": "a", "kind": {"kind": "question", "type": "text"}, "row": 2},
            {"name": "audit", "kind": {"kind": "question", "type": "audit"}, "row": 3,
             "parameters": {"track-changes": "true"}},
        ],
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

/// Fills `form_id`: 2 s before answering `a`, 3 s on it, then finalizes.
fn fill(store: &mut Store, form_id: &str) -> String {
    let mut fill = Fill::start(store, form_id, &Start::default(), Box::new(FixedEnv::default()))
        .expect("start");
    fill.parts().0.advance_clock(2000);
    fill.set(store, "/data/a", "yes").expect("answer");
    fill.parts().0.advance_clock(3000);
    let id = fill.instance_id().to_string();
    fill.finalize(store).expect("finalize");
    id
}

fn audit_rows(out: &Path) -> Vec<String> {
    match std::fs::read_to_string(out.join("au-audit.csv")) {
        Ok(text) => text.trim_start_matches('\u{feff}').lines().skip(1).map(String::from).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn the_log_is_exported_row_for_row_and_a_sealed_one_only_with_the_identity() {
    let dir = common::tempdir();
    let mut store = Store::open(dir.path().join("device.db")).expect("open");
    store.init_device("tablet-1", None).expect("init");
    let forms = [audited("au", &[]), audited("aus", &[common::TEST_RECIPIENT])];
    for f in &forms {
        store.install_instrument(f).expect("install");
    }
    let plain = fill(&mut store, "au");
    let sealed = fill(&mut store, "aus");
    let mut bundle = Vec::new();
    write_bundle(&store, &BundleOptions::default(), &mut bundle).expect("bundle");
    let db = dir.path().join("central.db");
    let mut central = Central::init(&db).expect("central");
    for f in &forms {
        central.publish(f).expect("publish");
    }
    central.ingest(&bundle).expect("ingest");

    let t = FixedEnv::default().now.timestamp_millis();
    let (a, e) = (t + 2000, t + 5000);
    let expected = |key: &str| {
        vec![
            format!("{key},form start,,{t},,,,,,,,"),
            format!("{key},question,/data/a,{a},{e},,,,,yes,,"),
            format!("{key},end screen,,{e},{e},,,,,,,"),
            format!("{key},form save,,{e},,,,,,,,"),
            format!("{key},form finalize,,{e},,,,,,,,"),
        ]
    };
    let out = common::tempdir();
    export(central.store(), &ExportOptions::default(), out.path(), &mut |_, _| {}).expect("export");
    assert_eq!(audit_rows(out.path()), expected(&plain));
    assert!(!out.path().join("aus-audit.csv").exists(), "sealed, no identity: no log");
    let main = std::fs::read_to_string(out.path().join("au.csv")).expect("au.csv");
    assert!(
        main.lines().next().expect("header").ends_with(
            "meta-audit_duration,meta-audit_active,meta-audit_pauses,meta-audit_changes"
        )
    );
    assert!(main.lines().nth(1).expect("row").ends_with(",5,3,0,0"), "{main}");

    let identity = ResearcherIdentity::parse(common::TEST_IDENTITY).expect("identity");
    let out = common::tempdir();
    let opts = ExportOptions { identity: Some(identity), ..Default::default() };
    export(central.store(), &opts, out.path(), &mut |_, _| {}).expect("export");
    let sealed_rows = std::fs::read_to_string(out.path().join("aus-audit.csv")).expect("log");
    let sealed_rows: Vec<String> =
        sealed_rows.trim_start_matches('\u{feff}').lines().skip(1).map(String::from).collect();
    assert_eq!(sealed_rows, expected(&sealed));
    // The device kept no plaintext of the sealed log.
    assert!(store.audit_events(&sealed).expect("events").is_empty());
    assert_eq!(store.audit_events(&plain).expect("events").len(), 5);
}
