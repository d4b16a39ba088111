//! The interview with its input piped in: commands parsed, the transcript
//! readable (inputs echoed, no colours), the outcome printed, errors as
//! the command-line contract says (message on stderr, exit 1).

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use enumera_tests::XlsForm;

fn preview(args: &[&str], script: &str) -> (tempfile::TempDir, Output) {
    let dir = tempfile::tempdir().expect("temp dir");
    let form = common::form_file(&dir);
    let mut child = Command::new(common::enumera())
        .args(["form", "preview"])
        .arg(&form)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run enumera");
    child.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("write the script");
    let out = child.wait_with_output().expect("wait for enumera");
    (dir, out)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_scripted_interview_finalizes_and_prints_the_submission() {
    let (_d, o) = preview(&[], "17\n34\n:b\n\n2\n:j\n1\n40\n\nBea\n\n");
    let out = stdout(&o);
    assert!(o.status.success(), "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("> 17\n! Must be 18 to 119\n> 34\n"), "inputs echoed: {out}");
    assert!(out.contains("    1 [x] How old are you?: 34"), "hierarchy: {out}");
    assert!(out.contains("Finalized.\nSubmission:\n<data id=\"hh\" version=\"3\"><age>40</age><school>no</school><name>Bea</name>"), "{out}");
    assert!(!out.contains('\x1b'), "no colours when piped");
}

#[test]
fn commands_are_parsed_from_the_pipe() {
    let script = ":x\n:h\n:l\n:l pt\n:j 9\n:j school\n::odd\n:n\n:c\n:s\n";
    let (_d, o) = preview(&[], script);
    let out = stdout(&o);
    assert!(o.status.success());
    assert!(out.contains("! unknown command :x (type :h for the list)"), "{out}");
    assert!(out.contains("  :f           finalize"), "help: {out}");
    assert!(out.contains(" * English (en)\n   Português (pt)"), "languages: {out}");
    assert!(out.contains("Quantos anos tem?"), "{out}");
    assert!(out.contains("! There is no screen 9: screens are 1 to 3 (4 is the end)."), "{out}");
    assert!(out.contains("[2/3]"), "jumped to school: {out}");
    assert!(out.contains("! \":odd\" is not one of the choices"), "{out}");
    assert!(out.contains("A preview keeps nothing"), "{out}");
}

#[test]
fn the_end_of_the_input_ends_the_interview() {
    let (_d, o) = preview(&[], "30\n");
    let out = stdout(&o);
    assert!(o.status.success());
    assert!(out.contains("Input ended.\nNot finalized; nothing kept."), "{out}");
}

#[test]
fn bad_language_and_bad_files_are_user_errors() {
    let (_d, o) = preview(&["--lang", "xx"], "");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("the form has no language \"xx\" (it has: English (en), Português (pt))"),
        "{err}"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").expect("write");
    let o =
        Command::new(common::enumera()).args(["form", "preview"]).arg(&bad).output().expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.json"));

    let o = Command::new(common::enumera())
        .args(["form", "preview"])
        .arg(dir.path().join("missing.json"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
}

#[test]
fn an_xlsform_is_previewed_in_its_language() {
    let (_d, path) = XlsForm::new()
        .survey(&[
            &[
                "type",
                "name",
                "label::English (en)",
                "label::Português (pt)",
                "constraint",
                "constraint_message::English (en)",
                "constraint_message::Português (pt)",
            ],
            &["integer", "age", "Age?", "Idade?", ". > 0", "Positive", "Positivo"],
            &["select_one yn", "ok", "OK?", "Certo?", "", "", ""],
        ])
        .choices(&[
            &["list_name", "name", "label::English (en)", "label::Português (pt)"],
            &["yn", "y", "Yes", "Sim"],
            &["yn", "n", "No", "Não"],
        ])
        .settings(&[&["form_title", "form_id", "version"], &["Tiny", "tiny", "2"]])
        .write_temp("tiny");
    let o = Command::new(common::enumera())
        .args(["form", "preview"])
        .arg(&path)
        .args(["--lang", "pt"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().expect("stdin").write_all(b"-3\n3\nsim\n\n")?;
            c.wait_with_output()
        })
        .expect("run enumera");
    let out = stdout(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("Idade?") && out.contains("! Positivo"), "{out}");
    assert!(out.contains("( )   1) Sim"), "{out}");
    assert!(out.contains("<data id=\"tiny\" version=\"2\"><age>3</age><ok>y</ok>"), "{out}");
}

#[test]
fn a_form_with_errors_is_refused_with_its_errors() {
    let (_d, path) = XlsForm::new()
        .survey(&[&["type", "name", "label"], &["intger", "a", "A"]])
        .write_temp("bad");
    let o = Command::new(common::enumera())
        .args(["form", "preview"])
        .arg(&path)
        .output()
        .expect("run enumera");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("survey!A2"), "{err}");
    assert!(err.contains("has 1 error(s); fix them first"), "{err}");
}
