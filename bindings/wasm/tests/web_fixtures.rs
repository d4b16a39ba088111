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
