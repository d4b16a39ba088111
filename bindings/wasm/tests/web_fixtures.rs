//! Writes the session differential suite's forms (tests/diff/*.md) as
//! XLSForms beside their step scripts, so that the browser parity test
//! (web/tests/parity.test.mjs) runs each through the WebAssembly build and
//! the native `enumera form run` and compares the documents.
//!
//! `ENUMERA_WEB_FIXTURES=DIR` says where (scripts/test-web.sh sets it);
//! without it they go to a temporary folder, which still checks that every
//! spec becomes a form and scripts.

#[path = "../../../tests/session_odk/spec.rs"]
#[allow(dead_code)]
mod spec;

use std::path::PathBuf;

#[test]
fn every_diff_spec_becomes_a_workbook_and_its_scripts() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let temp = tempfile::tempdir().expect("tempdir");
    let out =
        std::env::var_os("ENUMERA_WEB_FIXTURES").map_or(temp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&out).expect("fixture folder");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(repo.join("tests/diff"))
        .expect("tests/diff")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("README.md"))
        .collect();
    specs.sort();
    let (mut written, mut skipped) = (0, Vec::new());
    for path in specs {
        let spec = spec::parse(&path).unwrap_or_else(|e| panic!("{e}"));
        // A form that reads CSV files beside it cannot be given to the
        // browser as one file: the web build reads forms from bytes.
        if !spec.files.is_empty() {
            skipped.push(spec.name);
            continue;
        }
        spec.xlsform().write_to(out.join(format!("{}.xlsx", spec.name)));
        for (script, steps) in &spec.scripts {
            let file = out.join(format!("{}.{script}.json", spec.name));
            std::fs::write(&file, serde_json::to_vec_pretty(steps).expect("json")).expect("write");
        }
        if let Some((now, _offset)) = &spec.clock {
            std::fs::write(out.join(format!("{}.now", spec.name)), now).expect("write");
        }
        written += 1;
    }
    assert!(written >= 30, "only {written} specs written");
    // Every question type with its appearances, for the widget test
    // (web/tests/widgets.test.mjs) and, with its script, the parity test.
    widgets().write_to(out.join("widgets.xlsx"));
    std::fs::write(out.join("widgets.all.json"), WIDGET_STEPS).expect("write");
    // And a form with mistakes, for the preview's list of errors by cell
    // (no step script: the parity test leaves it alone).
    enumera_tests::XlsForm::new()
        .sheet(
            "survey",
            &[
                &["type", "name", "label", "relevant"],
                &["integer", "age", "Age", ""],
                &["text", "job", "Job", "${agee} > 15"],
                &["select_one nolist", "colour", "Colour", ""],
            ],
        )
        .write_to(out.join("broken_form.xlsx"));
    eprintln!(
        "{written} forms written to {}; with CSV files, not given to the browser: {skipped:?}",
        out.display()
    );
}

/// A form with a question of every type the app draws, each common
/// appearance, a field-list group and a repeat.
fn widgets() -> enumera_tests::XlsForm {
    enumera_tests::XlsForm::new()
        .sheet(
            "survey",
            &[
                &["type", "name", "label", "appearance", "parameters", "required", "constraint"],
                &["text", "name", "Name", "", "", "yes", ""],
                &["text", "story", "Story", "multiline", "", "", ""],
                &["integer", "age", "Age", "", "", "", ". >= 18"],
                &["decimal", "share", "Share", "", "", "", ""],
                &["date", "visit", "Visit date", "", "", "", ""],
                &["time", "at", "Time", "", "", "", ""],
                &["dateTime", "when", "Date and time", "", "", "", ""],
                &["select_one yn", "plain", "Plain", "", "", "", ""],
                &["select_one fruit", "dropdown", "Drop-down", "minimal", "", "", ""],
                &["select_one scale", "likert", "Likert", "likert", "", "", ""],
                &["select_one fruit", "across", "Horizontal", "horizontal", "", "", ""],
                &["select_one fruit", "cols", "Columns", "columns", "", "", ""],
                &["select_one fruit", "find", "Autocomplete", "autocomplete", "", "", ""],
                &["select_multiple fruit", "many", "Several", "", "", "", ""],
                &["select_multiple fruit", "many_min", "Several, drop-down", "minimal", "", "", ""],
                &[
                    "select_multiple fruit",
                    "many_find",
                    "Several, autocomplete",
                    "autocomplete",
                    "",
                    "",
                    "",
                ],
                &["range", "level", "Level", "", "start=0 end=10 step=2", "", ""],
                &["note", "info", "A note: ${name} is ${age}", "", "", "", ""],
                &["acknowledge", "ok", "I read it", "", "", "", ""],
                &["rank fruit", "order", "Order these", "", "", "", ""],
                &["geopoint", "where", "Where", "", "", "", ""],
                &["barcode", "code", "Code", "", "", "", ""],
                &["image", "photo", "Photo", "", "", "", ""],
                &["begin group", "pair", "Two on one screen", "field-list", "", "", ""],
                &["text", "first", "First", "", "", "", ""],
                &["integer", "second", "Second", "", "", "", ""],
                &["end group", "", "", "", "", "", ""],
                &["begin repeat", "kids", "Child", "", "", "", ""],
                &["text", "kid", "Child's name", "", "", "", ""],
                &["end repeat", "", "", "", "", "", ""],
            ],
        )
        .sheet(
            "choices",
            &[
                &["list_name", "name", "label"],
                &["yn", "yes", "Yes"],
                &["yn", "no", "No"],
                &["fruit", "mango", "Mango"],
                &["fruit", "papaya", "Papaya"],
                &["fruit", "banana", "Banana"],
                &["scale", "1", "Low"],
                &["scale", "2", "Middle"],
                &["scale", "3", "High"],
            ],
        )
        .sheet("settings", &[&["form_id", "version"], &["widgets", "1"]])
}

/// Answers for every widget (web/tests/widgets.test.mjs fills them through
/// the screens).
const WIDGET_STEPS: &str = r#"[
 {"set": "/data/name", "value": "Ana"},
 {"set": "/data/story", "value": "Two lines,\nthe second."},
 {"set": "/data/age", "value": "34"},
 {"set": "/data/share", "value": "0.25"},
 {"set": "/data/visit", "value": "2026-11-20"},
 {"set": "/data/at", "value": "09:30:00"},
 {"set": "/data/when", "value": "2026-11-20T09:30"},
 {"set": "/data/plain", "value": "yes"},
 {"set": "/data/dropdown", "value": "papaya"},
 {"set": "/data/likert", "value": "3"},
 {"set": "/data/across", "value": "banana"},
 {"set": "/data/cols", "value": "mango"},
 {"set": "/data/find", "value": "papaya"},
 {"set": "/data/many", "value": "mango banana"},
 {"set": "/data/many_min", "value": "papaya banana"},
 {"set": "/data/many_find", "value": "mango"},
 {"set": "/data/level", "value": "6"},
 {"set": "/data/ok", "value": "OK"},
 {"set": "/data/order", "value": "banana mango papaya"},
 {"set": "/data/where", "value": "-19.8436 34.8389 12 5"},
 {"set": "/data/code", "value": "ABC-123"},
 {"set": "/data/pair/first", "value": "one"},
 {"set": "/data/pair/second", "value": "2"},
 {"add_repeat": "/data/kids"},
 {"set": "/data/kids[1]/kid", "value": "Bo"},
 {"set": "/data/kids[2]/kid", "value": "Cy"}
]"#;
