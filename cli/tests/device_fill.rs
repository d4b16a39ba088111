//! `enumera device fill`: a response filled on a device, saved answer by
//! answer, resumed, refused while blocked, finalized into the outbox.

use std::process::{Command, Output};

use enumera_tests::XlsForm;
use serde_json::Value;

fn enumera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_enumera")).args(args).output().expect("enumera runs")
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn fill_resume_refuse_then_finalize() {
    let dir = tempfile::tempdir().unwrap();
    let form = XlsForm::new()
        .survey(&[
            &["type", "name", "label", "required", "constraint", "constraint_message"],
            &["text", "name", "Name", "yes", "", ""],
            &["integer", "age", "Age", "yes", ". < 120", "Too old"],
            &["begin repeat", "kids", "Kids", "", "", ""],
            &["text", "kname", "Kid", "", "", ""],
            &["end repeat", "", "", "", "", ""],
        ])
        .settings(&[&["form_id", "version"], &["hh", "1"]])
        .write_to(dir.path().join("hh.xlsx"));
    let db = dir.path().join("tablet.db");
    let db = db.to_str().unwrap();
    ok(enumera(&["device", "--db", db, "init", "--name", "tablet-1"]));
    ok(enumera(&["device", "--db", db, "install", form.to_str().unwrap()]));

    let first = dir.path().join("first.json");
    std::fs::write(
        &first,
        r#"[{"set": "/data/name", "value": "Ana"},
            {"set": "/data/kids/kname", "value": "Bo"},
            {"add_repeat": "/data/kids"},
            {"set": "/data/kids[2]/kname", "value": "Cy"},
            {"set": "/data/age", "value": "150"}]"#,
    )
    .unwrap();
    let id = ok(enumera(&["device", "--db", db, "fill", "hh", "--steps", first.to_str().unwrap()]));
    assert!(id.starts_with("uuid:"), "{id}");

    // The process ended: the draft is in the store, constraint and all.
    let refused = enumera(&[
        "device",
        "--db",
        db,
        "fill",
        "--resume",
        &id,
        "--steps",
        "/dev/stdin",
        "--finalize",
    ]);
    assert!(!refused.status.success());

    let fix = dir.path().join("fix.json");
    std::fs::write(&fix, r#"[{"set": "/data/age", "value": "41"}]"#).unwrap();
    let out = ok(enumera(&[
        "device",
        "--db",
        db,
        "fill",
        "--resume",
        &id,
        "--steps",
        fix.to_str().unwrap(),
        "--finalize",
        "--json",
    ]));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["finalized_seq"], 1);

    let shown: Value =
        serde_json::from_str(&ok(enumera(&["device", "--db", db, "show", &id]))).unwrap();
    let answers: Vec<(String, String)> = shown["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["ref"].as_str().unwrap().to_string(), a["value"].as_str().unwrap().to_string()))
        .collect();
    for (r, v) in [
        ("/data/name", "Ana"),
        ("/data/age", "41"),
        ("/data/kids[1]/kname", "Bo"),
        ("/data/kids[2]/kname", "Cy"),
    ] {
        assert!(answers.contains(&(r.to_string(), v.to_string())), "{r}={v} missing: {answers:?}");
    }
    assert_eq!(shown["response"]["state"], "finalized");
    let list: Value =
        serde_json::from_str(&ok(enumera(&["device", "--db", db, "list", "--json"]))).unwrap();
    assert!(list.to_string().contains("finalized"), "{list}");
}

#[test]
fn unknown_form_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tablet.db");
    let db = db.to_str().unwrap();
    ok(enumera(&["device", "--db", db, "init", "--name", "tablet-1"]));
    let out = enumera(&["device", "--db", db, "fill", "nope", "--steps", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

/// `device fill --steps --coerce --device-id`: the same as `form run`'s
/// flags, on a device (issue 20, items 6 and 15).
#[test]
fn fill_steps_coerce_on_request_and_take_a_device_id() {
    let dir = tempfile::tempdir().unwrap();
    let form = XlsForm::new()
        .survey(&[&["type", "name", "label"], &["deviceid", "dev", ""], &["integer", "n", "N"]])
        .settings(&[&["form_id", "version"], &["c", "1"]])
        .write_to(dir.path().join("c.xlsx"));
    let db = dir.path().join("tablet.db");
    let db = db.to_str().unwrap();
    ok(enumera(&["device", "--db", db, "init", "--name", "tablet-1"]));
    ok(enumera(&["device", "--db", db, "install", form.to_str().unwrap()]));
    let steps = dir.path().join("steps.json");
    std::fs::write(&steps, r#"[{"set": "/data/n", "value": "1e3"}]"#).unwrap();
    let steps = steps.to_str().unwrap();
    let answers = |id: &str| -> Value {
        let shown: Value =
            serde_json::from_str(&ok(enumera(&["device", "--db", db, "show", id]))).unwrap();
        shown["answers"].clone()
    };
    let plain = ok(enumera(&["device", "--db", db, "fill", "c", "--steps", steps, "--json"]));
    let plain: Value = serde_json::from_str(&plain).unwrap();
    assert_eq!(plain["failed"], 1, "1e3 is refused for an integer: {plain}");
    let coerced = ok(enumera(&[
        "device",
        "--db",
        db,
        "fill",
        "c",
        "--steps",
        steps,
        "--coerce",
        "--device-id",
        "peer",
        "--json",
    ]));
    let coerced: Value = serde_json::from_str(&coerced).unwrap();
    assert_eq!(coerced["failed"], 0, "{coerced}");
    let got = answers(coerced["instance_id"].as_str().unwrap()).to_string();
    assert!(got.contains(r#""value":"1000""#) && got.contains(r#""value":"peer""#), "{got}");
}
