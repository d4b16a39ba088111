//! `enumera form check` and `enumera form convert`, run as a user runs them.

use std::path::Path;
use std::process::{Command, Output};

use enumera_tests::XlsForm;
use serde_json::Value;

fn enumera(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_enumera")).args(args).output().expect("enumera runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn good_form() -> XlsForm {
    XlsForm::new()
        .survey(&[
            &["type", "name", "label::English (en)", "label::Português (pt)", "relevant"],
            &["integer", "age", "Age", "Idade", ""],
            &["begin group", "g", "G", "G", ""],
            &["select_one yn", "ok", "OK?", "OK?", "${age} > 1"],
            &["begin repeat", "kids", "Kids", "Filhos", ""],
            &["text", "kname", "Name", "Nome", ""],
            &["end repeat", "", "", "", ""],
            &["end group", "", "", "", ""],
        ])
        .choices(&[
            &["list_name", "name", "label::English (en)", "label::Português (pt)"],
            &["yn", "y", "Yes", "Sim"],
        ])
        .settings(&[&["form_title", "form_id", "version"], &["Good form", "good", "3"]])
}

fn bad_form() -> XlsForm {
    XlsForm::new().survey(&[
        &["type", "name", "label", "relevant"],
        &["intger", "a", "A", ""],
        &["text", "b", "B", "${agee} > 1"],
        &["text", "c", "", ""],
    ])
}

#[test]
fn check_valid_form() {
    let (_d, path) = good_form().write_temp("good");
    let out = enumera(&["form", "check", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ok: good (3 questions, 1 groups, 1 repeats)"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn check_invalid_form_lists_every_error_one_a_line() {
    let (_d, path) = bad_form().write_temp("bad");
    let p = path.to_str().unwrap();
    let out = enumera(&["form", "check", p]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = stderr(&out).lines().map(str::to_string).collect();
    assert_eq!(
        lines,
        [
            format!("{p}: survey!A2: unknown question type 'intger'; did you mean 'integer'?"),
            format!("{p}: survey!D3: unknown reference ${{agee}} in relevant"),
            format!("{p}: survey!C4: question 'c' has no label or hint"),
        ]
    );
}

#[test]
fn check_json_summary() {
    let (_d, path) = good_form().write_temp("good");
    let out = enumera(&["form", "check", path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(v["form_id"], "good");
    assert_eq!(v["version"], "3");
    assert_eq!(v["title"], "Good form");
    assert_eq!(v["languages"], serde_json::json!(["English (en)", "Português (pt)"]));
    assert_eq!(
        (v["questions"].as_u64(), v["groups"].as_u64(), v["repeats"].as_u64()),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(v["hash"].as_str().map(str::len), Some(64));
    assert_eq!(v["errors"], serde_json::json!([]));

    let (_d, path) = bad_form().write_temp("bad");
    let out = enumera(&["form", "check", path.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(
        v["errors"][1],
        serde_json::json!({"sheet": "survey", "row": 3, "column": "D", "message": "unknown reference ${agee} in relevant"})
    );
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(3));
}

#[test]
fn warnings_do_not_fail_the_check() {
    let (_d, path) = XlsForm::new()
        .survey(&[&["type", "name", "label::English"], &["text", "q", "Q"]])
        .write_temp("warn");
    let p = path.to_str().unwrap();
    let out = enumera(&["form", "check", p]);
    assert!(out.status.success());
    assert!(
        stderr(&out).starts_with(&format!(
            "{p}: survey!C1: warning: language 'English' has no language code"
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn convert_to_json_and_back_gives_the_same_hash() {
    let (dir, path) = good_form().write_temp("good");
    let json_path = dir.path().join("good.json");
    let out =
        enumera(&["form", "convert", path.to_str().unwrap(), "-o", json_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let written = std::fs::read(&json_path).unwrap();
    let v: Value = serde_json::from_slice(&written).unwrap();
    assert_eq!(v["form_id"], "good");

    let hash_of = |p: &Path| -> String {
        let out = enumera(&["form", "check", p.to_str().unwrap(), "--json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["hash"].as_str().unwrap().to_string()
    };
    assert_eq!(hash_of(&path), hash_of(&json_path));

    // Converting the JSON again writes the same bytes.
    let again = dir.path().join("again.json");
    let out =
        enumera(&["form", "convert", json_path.to_str().unwrap(), "-o", again.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&again).unwrap(), written);
}

#[test]
fn convert_refuses_invalid_forms_and_unknown_outputs() {
    let (dir, path) = bad_form().write_temp("bad");
    let out_path = dir.path().join("bad.json");
    let out =
        enumera(&["form", "convert", path.to_str().unwrap(), "-o", out_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!out_path.exists());

    let (dir, path) = good_form().write_temp("good");
    let out = enumera(&[
        "form",
        "convert",
        path.to_str().unwrap(),
        "-o",
        dir.path().join("x.txt").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("must end in .json"), "{}", stderr(&out));
}

#[test]
fn convert_to_xform_from_xlsx_and_from_json_alike() {
    let (dir, path) = good_form().write_temp("good");
    let xml_path = dir.path().join("good.xml");
    let out =
        enumera(&["form", "convert", path.to_str().unwrap(), "-o", xml_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\"?>\n<h:html "), "{xml}");
    assert!(xml.contains("<data id=\"good\" version=\"3\">"), "{xml}");
    assert!(xml.contains("<bind nodeset=\"/data/age\" type=\"int\"/>"), "{xml}");
    assert!(xml.contains("<translation lang=\"Português (pt)\">"), "{xml}");
    assert!(xml.contains("<repeat nodeset=\"/data/g/kids\">"), "{xml}");

    // The instrument's JSON gives the same XForm.
    let json_path = dir.path().join("good.json");
    let out =
        enumera(&["form", "convert", path.to_str().unwrap(), "-o", json_path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let again = dir.path().join("again.xml");
    let out =
        enumera(&["form", "convert", json_path.to_str().unwrap(), "-o", again.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), xml);
}

#[test]
fn unreadable_files_are_user_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.xlsx");
    std::fs::write(&empty, b"").unwrap();
    let out = enumera(&["form", "check", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim(),
        "enumera: empty.xlsx is empty (0 bytes); an XLSForm is an .xlsx workbook with a survey sheet"
    );
    let missing = dir.path().join("missing.xlsx");
    let out = enumera(&["form", "check", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    let txt = dir.path().join("form.txt");
    std::fs::write(&txt, b"hello").unwrap();
    let out = enumera(&["form", "check", txt.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unknown form file type"), "{}", stderr(&out));
    let bad_json = dir.path().join("f.json");
    std::fs::write(&bad_json, b"{\"model_version\": 1}").unwrap();
    let out = enumera(&["form", "check", bad_json.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("f.json: not an Enumera instrument JSON"), "{}", stderr(&out));
    // Usage errors are clap's: exit 2.
    let out = enumera(&["form", "check"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `form run --coerce` takes values as ODK's engine does, and `--device-id`
/// sets the deviceid metadata, so a run can be compared with ODK's
/// (issue 20, items 6 and 15).
#[test]
fn run_coerces_on_request_and_takes_a_device_id() {
    let dir = tempfile::tempdir().unwrap();
    let form = XlsForm::new()
        .survey(&[
            &["type", "name", "label"],
            &["deviceid", "dev", ""],
            &["integer", "n", "N"],
            &["select_one yn", "ok", "OK?"],
        ])
        .choices(&[&["list_name", "name", "label"], &["yn", "yes", "Yes"]])
        .write_to(dir.path().join("f.xlsx"));
    let steps = dir.path().join("steps.json");
    std::fs::write(
        &steps,
        r#"[{"set": "/data/n", "value": "5"}, {"set": "/data/n", "value": "12.7"},
            {"set": "/data/ok", "value": "maybe"}]"#,
    )
    .unwrap();
    let run = |extra: &[&str]| -> Value {
        let mut args = vec!["form", "run", form.to_str().unwrap(), steps.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = enumera(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let leaf = |v: &Value, r: &str| {
        v["leaves"].as_array().unwrap().iter().find(|l| l["ref"] == r).unwrap()["value"].clone()
    };
    let refused = run(&[]);
    assert_eq!(refused["steps"][1]["ok"], false, "refused without --coerce");
    assert_eq!(leaf(&refused, "/data/n"), "5");
    assert_eq!(leaf(&refused, "/data/dev"), "", "no device id unless given");
    let coerced = run(&["--coerce", "--device-id", "odk-peer"]);
    assert!(coerced["steps"].as_array().unwrap().iter().all(|s| s["ok"] == true), "{coerced}");
    assert_eq!(leaf(&coerced, "/data/n"), "12");
    assert_eq!(leaf(&coerced, "/data/ok"), "");
    assert_eq!(leaf(&coerced, "/data/dev"), "odk-peer");
}
