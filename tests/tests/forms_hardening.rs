//! Regression tests for the hardening classes of issue 15 in forms and
//! sessions, named after their class (docs/RELIABILITY.md, "Hardening
//! classes"): fail closed, input at entry, resource bounds.

use enumera_core::instrument::{Imported, import_xlsform};
use enumera_tests::XlsForm;

fn check(form: XlsForm) -> Imported {
    let (_dir, path) = form.write_temp("hostile");
    import_xlsform(&path).expect("a readable workbook")
}

fn errors(form: XlsForm) -> Vec<String> {
    check(form).errors().map(|d| d.to_string()).collect()
}

#[test]
fn fail_closed_form_check_reports_what_can_never_be_evaluated() {
    let errs = errors(XlsForm::new().survey(&[
        &["type", "name", "label", "constraint", "calculation"],
        &["text", "code", "Code", "regex(., '^\\w{100000}$')", ""],
        &["text", "bad", "Bad", "regex(., '(?i)abc')", ""],
        &["calculate", "h", "", "", "digest(${code}, 'SHA-999')"],
        &["text", "fine", "Fine", "regex(., '^\\w{10}$')", ""],
    ]));
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert!(
        errs[0].starts_with("survey!D2: bad regular expression") && errs[0].contains("size limit")
    );
    assert!(
        errs[1].starts_with("survey!D3: bad regular expression")
            && errs[1].contains("inline flags")
    );
    assert!(errs[2].starts_with("survey!E4: digest(): unsupported algorithm 'SHA-999'"));
}
