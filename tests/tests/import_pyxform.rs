//! Agreement with pyxform on what is a valid XLSForm: the valid fixtures
//! must convert with pyxform and import here without errors; forms that
//! pyxform refuses must be refused here too. (pyxform is installed from
//! PyPI into the cache on first run; the test skips, saying so, only when
//! the machine has no python3.)

use std::path::{Path, PathBuf};
use std::process::Command;

use enumera_core::instrument::import_xlsform;
use enumera_tests::{XlsForm, fixtures, pyxform_python};

/// pyxform's verdict on each file: `Ok(())` or its first error line.
fn pyxform_verdicts(python: &Path, files: &[PathBuf]) -> Vec<Result<(), String>> {
    let script = r#"
import sys
from pyxform.xls2xform import convert
for p in sys.argv[1:]:
    try:
        convert(xlsform=p, validate=False)
        print("OK")
    except Exception as e:
        msg = " ".join(str(e).split()) or type(e).__name__
        print("ERR " + msg)
"#;
    let out = Command::new(python).arg("-c").arg(script).args(files).output().expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| match l.strip_prefix("ERR ") {
            Some(msg) => Err(msg.to_string()),
            None => Ok(()),
        })
        .collect()
}

fn invalid_forms() -> Vec<(&'static str, XlsForm)> {
    let s = |rows: &[&[&str]]| XlsForm::new().survey(rows);
    let yn = [&["list_name", "name", "label"][..], &["yn", "y", "Y"]];
    vec![
        ("unknown_type", s(&[&["type", "name", "label"], &["intger", "a", "A"]])),
        (
            "duplicate_name",
            s(&[&["type", "name", "label"], &["text", "a", "A"], &["text", "a", "A"]]),
        ),
        (
            "missing_list",
            s(&[&["type", "name", "label"], &["select_one nope", "a", "A"]]).choices(&yn),
        ),
        (
            "unclosed_group",
            s(&[&["type", "name", "label"], &["begin group", "g", "G"], &["text", "a", "A"]]),
        ),
        (
            "end_without_begin",
            s(&[&["type", "name", "label"], &["text", "a", "A"], &["end group", "", ""]]),
        ),
        (
            "unknown_reference",
            s(&[&["type", "name", "label", "relevant"], &["text", "a", "A", "${b} = 1"]]),
        ),
        ("invalid_name", s(&[&["type", "name", "label"], &["text", "1a", "A"]])),
        ("no_name", s(&[&["type", "name", "label"], &["text", "", "A"]])),
        (
            "duplicate_choice",
            s(&[&["type", "name", "label"], &["select_one yn", "a", "A"]]).choices(&[
                &["list_name", "name", "label"],
                &["yn", "y", "Y"],
                &["yn", "y", "Y"],
            ]),
        ),
        (
            "calculate_without_calculation",
            s(&[&["type", "name", "label"], &["calculate", "c", ""]]),
        ),
        ("no_label", s(&[&["type", "name", "label"], &["text", "a", ""]])),
        (
            "range_step_zero",
            s(&[
                &["type", "name", "label", "parameters"],
                &["range", "r", "R", "start=1 end=5 step=0"],
            ]),
        ),
        (
            "range_not_a_number",
            s(&[&["type", "name", "label", "parameters"], &["range", "r", "R", "start=x"]]),
        ),
        (
            "or_other_with_choice_filter",
            s(&[
                &["type", "name", "label", "choice_filter"],
                &["select_one yn or_other", "a", "A", "name = 'y'"],
            ])
            .choices(&yn),
        ),
        (
            "mismatched_end",
            s(&[
                &["type", "name", "label"],
                &["begin group", "g", "G"],
                &["text", "a", "A"],
                &["end repeat", "", ""],
            ]),
        ),
        ("no_type_column", s(&[&["kind", "name", "label"], &["text", "a", "A"]])),
    ]
}

#[test]
fn pyxform_and_enumera_agree_on_validity() {
    let Some(python) = pyxform_python() else {
        eprintln!("SKIP pyxform_and_enumera_agree_on_validity: no python3 on this machine");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let valid = [
        ("all_question_types", fixtures::all_question_types()),
        ("every_column", fixtures::every_column()),
        ("nested_repeats", fixtures::nested_repeats()),
        ("tricky_valid", fixtures::tricky_valid()),
    ];
    let invalid = invalid_forms();
    let mut files = Vec::new();
    for (name, form) in valid.iter().chain(invalid.iter()) {
        let sub = dir.path().join(name);
        files.push(form.write_to(sub.join(format!("{name}.xlsx"))));
    }
    let verdicts = pyxform_verdicts(&python, &files);
    assert_eq!(verdicts.len(), files.len());
    for (i, (name, _)) in valid.iter().chain(invalid.iter()).enumerate() {
        let ours = import_xlsform(&files[i]).expect("readable");
        let our_errors: Vec<String> = ours.errors().map(|d| d.to_string()).collect();
        if i < valid.len() {
            assert_eq!(verdicts[i], Ok(()), "pyxform refuses valid fixture {name}");
            assert!(our_errors.is_empty(), "{name}: {our_errors:#?}");
        } else {
            assert!(verdicts[i].is_err(), "pyxform accepts invalid fixture {name}");
            // Where pyxform names a row, we must name the same one.
            let theirs = verdicts[i].as_ref().err().and_then(|m| {
                m.strip_prefix("[row : ")?.split(']').next()?.trim().parse::<u32>().ok()
            });
            if let Some(row) = theirs {
                assert!(
                    ours.errors().any(|d| d.location.row == Some(row)),
                    "{name}: pyxform names row {row}: {our_errors:?}"
                );
            }
            assert!(
                !our_errors.is_empty(),
                "{name}: pyxform says {:?} but we accept it",
                verdicts[i]
            );
        }
    }
}
