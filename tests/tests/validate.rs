//! Invalid XLSForms: each must be reported with the exact sheet, row, column
//! and sentence, all problems at once, and never a panic.

use enumera_core::instrument::{ImportError, Imported, import_xlsform, import_xlsform_bytes};
use enumera_tests::XlsForm;

fn check(form: XlsForm) -> Imported {
    let (_dir, path) = form.write_temp("bad");
    import_xlsform(&path).expect("a readable workbook")
}

fn errors(form: XlsForm) -> Vec<String> {
    check(form).errors().map(|d| d.to_string()).collect()
}

fn warnings(form: XlsForm) -> Vec<String> {
    check(form).warnings().map(|d| d.to_string()).collect()
}

fn survey(rows: &[&[&str]]) -> XlsForm {
    XlsForm::new().survey(rows)
}

#[test]
fn unknown_type_suggests_a_close_one() {
    assert_eq!(
        errors(survey(&[&["type", "name", "label"], &["intger", "age", "Age"]])),
        ["survey!A2: unknown question type 'intger'; did you mean 'integer'?"]
    );
    assert_eq!(
        errors(survey(&[&["type", "name", "label"], &["Text", "t", "T"]])),
        ["survey!A2: unknown question type 'Text'; did you mean 'text'?"]
    );
    assert_eq!(
        errors(survey(&[&["name", "type", "label"], &["q", "wibble", "Q"]])),
        ["survey!B2: unknown question type 'wibble'"]
    );
}

#[test]
fn select_command_misspelt() {
    assert_eq!(
        errors(
            survey(&[&["type", "name", "label"], &["select_onee yn", "q", "Q"]])
                .choices(&[&["list_name", "name", "label"], &["yn", "y", "Y"]])
        ),
        ["survey!A2: unknown question type 'select_onee yn'; did you mean 'select_one yn'?"]
    );
}

#[test]
fn select_without_list_name() {
    assert_eq!(
        errors(survey(&[&["type", "name", "label"], &["select_one", "q", "Q"]])),
        [
            "survey!A2: 'select_one' needs the name of a choice list after it, like 'select_one yes_no'"
        ]
    );
}

#[test]
fn duplicate_names_in_one_scope() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label"],
            &["integer", "age", "Age"],
            &["begin group", "g", "G"],
            &["text", "x", "X"],
            &["text", "x", "X again"],
            &["end group", "", ""],
            &["text", "age", "Age again"],
        ])),
        [
            "survey!B5: name 'x' is already used in group 'g' (row 4)",
            "survey!B7: name 'age' is already used in the survey (row 2)",
        ]
    );
}

#[test]
fn same_name_in_different_groups_is_allowed_but_ambiguous_to_reference() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label", "relevant"],
            &["begin group", "g1", "G1", ""],
            &["text", "x", "X", ""],
            &["end group", "", "", ""],
            &["begin group", "g2", "G2", ""],
            &["text", "x", "X", ""],
            &["end group", "", "", ""],
            &["text", "y", "Y", "${x} = 'a'"],
        ])),
        [
            "survey!D8: reference ${x} is ambiguous: more than one element is named x (/data/g1/x, /data/g2/x) in relevant"
        ]
    );
}

#[test]
fn names_differing_only_in_case_warn() {
    assert_eq!(
        warnings(survey(&[
            &["type", "name", "label"],
            &["text", "Age", "A"],
            &["text", "age", "a"]
        ])),
        [
            "survey!B3: name 'age' differs only in case from 'Age' (row 2) in the survey; some tools treat them as the same"
        ]
    );
}

#[test]
fn missing_choice_list() {
    assert_eq!(
        errors(
            survey(&[&["type", "name", "label"], &["select_one yesno", "q", "Q"]])
                .choices(&[&["list_name", "name", "label"], &["yes_no", "y", "Yes"]])
        ),
        ["survey!A2: choice list 'yesno' is not on the choices sheet; did you mean 'yes_no'?"]
    );
    assert_eq!(
        errors(survey(&[&["type", "name", "label"], &["select_multiple crops", "q", "Q"]])),
        ["survey!A2: choice list 'crops' is not defined: the form has no choices sheet"]
    );
}

#[test]
fn unclosed_group_names_itself_and_its_row() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label"],
            &["begin group", "outer", "O"],
            &["begin repeat", "people", "P"],
            &["text", "n", "N"],
            &["end repeat", "", ""],
        ])),
        ["survey!A2: 'begin group' for 'outer' is never closed; add an 'end group' row"]
    );
}

#[test]
fn end_without_begin_and_mismatched_end() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label"],
            &["text", "a", "A"],
            &["end repeat", "", ""],
            &["begin group", "g", "G"],
            &["text", "b", "B"],
            &["end repeat", "", ""],
        ])),
        [
            "survey!A3: 'end repeat' without a matching 'begin repeat'",
            "survey!A6: 'end repeat' closes group 'g' (row 4), which needs 'end group'",
        ]
    );
}

#[test]
fn unknown_references_in_expressions_and_labels() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label::English (en)", "relevant", "constraint"],
            &["integer", "age", "Age", "", ""],
            &["text", "name", "Name of ${person}", "${agee} > 18", ". != ${nme}"],
        ])),
        [
            "survey!C3: unknown reference ${person} in label (English (en))",
            "survey!D3: unknown reference ${agee} in relevant; did you mean ${age}?",
            "survey!E3: unknown reference ${nme} in constraint; did you mean ${name}?",
        ]
    );
}

#[test]
fn unterminated_reference() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label", "calculation"],
            &["calculate", "c", "", "1 + ${a"],
        ])),
        ["survey!D2: '${' at column 5 is not closed with '}' in calculation"]
    );
}

#[test]
fn calculation_cycles_are_named() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label", "calculation"],
            &["calculate", "a", "", "${b} + 1"],
            &["calculate", "b", "", "${c} * 2"],
            &["calculate", "c", "", "${a}"],
            &["calculate", "d", "", "${d} + 1"],
            &["calculate", "e", "", "${a} + 1"],
        ])),
        [
            "survey!D2: calculation cycle: ${a} -> ${b} -> ${c} -> ${a}",
            "survey!D5: calculation cycle: ${d} -> ${d}",
        ]
    );
}

#[test]
fn empty_and_invalid_names() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label"],
            &["text", "", "No name"],
            &["integer", "1st", "First"],
            &["begin group", "my group", "G"],
            &["end group", "", ""],
        ])),
        [
            "survey!B2: question has no name",
            "survey!B3: name '1st' is not a valid XML name: start with a letter or '_', then use only letters, digits, '_', '-' and '.'",
            "survey!B4: name 'my group' is not a valid XML name: start with a letter or '_', then use only letters, digits, '_', '-' and '.'",
        ]
    );
}

#[test]
fn language_without_code_warns_at_its_header() {
    assert_eq!(
        warnings(survey(&[
            &["type", "name", "label::English", "label::Português (pt)"],
            &["text", "q", "Q", "P"],
        ])),
        [
            "survey!C1: language 'English' has no language code; write it as 'Name (code)', like 'English (en)'"
        ]
    );
}

#[test]
fn language_missing_a_column_warns() {
    assert_eq!(
        warnings(survey(&[
            &["type", "name", "label::English (en)", "label::Português (pt)", "hint::English (en)"],
            &["text", "q", "Q", "P", "H"],
        ])),
        [
            "survey!1:1: language 'Português (pt)' is missing the survey column hint that other languages have"
        ]
    );
}

#[test]
fn duplicate_choice_names_unless_allowed() {
    let form = |allow: &str| {
        survey(&[&["type", "name", "label"], &["select_one yn", "q", "Q"]])
            .choices(&[
                &["list_name", "name", "label"],
                &["yn", "y", "Yes"],
                &["yn", "n", "No"],
                &["yn", "y", "Yes again"],
            ])
            .settings(&[&["allow_choice_duplicates"], &[allow]])
    };
    assert_eq!(
        errors(form("no")),
        [
            "choices!B4: choice name 'y' is already used in list 'yn' (row 2); use allow_choice_duplicates in settings if this is meant"
        ]
    );
    assert!(errors(form("yes")).is_empty());
}

#[test]
fn choice_without_name_or_label() {
    let i = check(survey(&[&["type", "name", "label"], &["select_one yn", "q", "Q"]]).choices(&[
        &["list_name", "name", "label"],
        &["yn", "", "Yes"],
        &["yn", "n", ""],
    ]));
    assert_eq!(
        i.errors().map(|d| d.to_string()).collect::<Vec<_>>(),
        ["choices!B2: choice in list 'yn' has no name"]
    );
    assert_eq!(
        i.warnings().map(|d| d.to_string()).collect::<Vec<_>>(),
        ["choices!C3: choice 'n' in list 'yn' has no label"]
    );
}

#[test]
fn select_multiple_choice_with_a_space() {
    assert_eq!(
        errors(
            survey(&[&["type", "name", "label"], &["select_multiple c", "q", "Q"]])
                .choices(&[&["list_name", "name", "label"], &["c", "a b", "AB"]])
        ),
        [
            "choices!B2: choice name 'a b' in list 'c' has a space, which select_multiple cannot store (answers are separated by spaces)"
        ]
    );
}

#[test]
fn question_without_label() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label::English (en)", "hint::English (en)"],
            &["text", "q", "", ""],
            &["text", "hinted", "", "A hint is enough"],
            &["calculate", "c", "", ""],
        ])),
        [
            "survey!C2: question 'q' has no label or hint",
            "survey!A4: calculate 'c' has no calculation",
        ]
    );
}

#[test]
fn row_with_name_but_no_type() {
    let i = check(survey(&[
        &["type", "name", "label", "hint"],
        &["", "q", "Q", ""],
        &["", "", "", "just a hint"],
    ]));
    assert_eq!(
        i.errors().map(|d| d.to_string()).collect::<Vec<_>>(),
        ["survey!A2: this row has a name or label but no type"]
    );
    assert_eq!(
        i.warnings().map(|d| d.to_string()).collect::<Vec<_>>(),
        ["survey!3:3: row without type, name or label is skipped"]
    );
}

#[test]
fn no_type_column() {
    assert_eq!(
        errors(survey(&[&["kind", "name", "label"], &["text", "q", "Q"]])),
        ["survey!1:1: the survey sheet has no 'type' column"]
    );
}

#[test]
fn no_survey_sheet() {
    assert_eq!(
        errors(
            XlsForm::new()
                .sheet("servey", &[&["type", "name", "label"], &["text", "q", "Q"]])
                .choices(&[&["list_name", "name", "label"], &["yn", "y", "Y"]])
        ),
        [
            "survey: the workbook has no sheet named 'survey' (is 'servey' meant to be 'survey'?); its sheets are: servey, choices"
        ]
    );
}

#[test]
fn a_lone_sheet_of_any_name_is_the_survey() {
    assert!(
        errors(XlsForm::new().sheet("Sheet1", &[&["type", "name", "label"], &["text", "q", "Q"]]))
            .is_empty()
    );
}

#[test]
fn duplicate_column_headers() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label", "calculate", "calculation", "label"],
            &["calculate", "c", "", "1", "2", ""],
        ])),
        [
            "survey!E1: column 'calculation' means the same as column 'calculate' (first in column D); keep one of them",
            "survey!F1: column header 'label' appears twice (first in column C); keep one of them",
        ]
    );
}

#[test]
fn malformed_parameters_and_flags() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label", "parameters", "pii"],
            &["range", "r", "R", "start 1", "maybe"],
        ])),
        [
            "survey!D2: parameters 'start 1' are not key=value pairs separated by spaces (like 'start=1 end=10 step=1')",
            "survey!E2: pii must be yes or no, not 'maybe'",
        ]
    );
}

#[test]
fn select_from_file_csv_missing_or_wrong() {
    // Missing is a warning (pyxform converts without the file); a file that
    // is there but lacks the column is an error.
    assert!(
        errors(survey(&[
            &["type", "name", "label"],
            &["select_one_from_file nowhere.csv", "a", "A"],
        ]))
        .is_empty()
    );
    let (dir, path) = survey(&[
        &["type", "name", "label", "parameters"],
        &["select_one_from_file nowhere.csv", "a", "A", ""],
        &["select_one_from_file p.csv", "b", "B", "value=code"],
    ])
    .file("p.csv", "name,label\nx,X\n")
    .write_temp("files");
    let imported = import_xlsform(&path).unwrap();
    let got: Vec<String> = imported.errors().map(|d| d.to_string()).collect();
    assert_eq!(got, ["survey!A3: p.csv has no 'code' column (its columns: name, label)"]);
    let warned: Vec<String> = imported.warnings().map(|d| d.to_string()).collect();
    assert_eq!(
        warned,
        [format!(
            "survey!A2: nowhere.csv is not in the form's folder ({}); the choices from it are empty until it is",
            dir.path().display()
        )]
    );
}

/// One rule for all external files: a missing .geojson, .xml or .csv, for
/// a select, a csv-external/xml-external instance or pulldata, is a
/// warning alike.
#[test]
fn every_missing_file_is_a_warning_alike() {
    let (_dir, path) = survey(&[
        &["type", "name", "label", "calculation"],
        &["select_one_from_file a.csv", "a", "A", ""],
        &["select_one_from_file b.geojson", "b", "B", ""],
        &["select_one_from_file c.xml", "c", "C", ""],
        &["csv-external", "d", "", ""],
        &["xml-external", "e", "", ""],
        &["calculate", "f", "", "pulldata('g', 'x', 'y', 'z')"],
    ])
    .write_temp("missing");
    let imported = import_xlsform(&path).unwrap();
    assert!(!imported.has_errors(), "{:?}", imported.diagnostics);
    let warned: Vec<String> = imported.warnings().map(|d| d.to_string()).collect();
    for f in ["a.csv", "b.geojson", "c.xml", "d.csv", "e.xml", "g.csv"] {
        assert!(
            warned.iter().any(|w| w.contains(&format!("{f} is not in the form's folder"))),
            "{f}: {warned:#?}"
        );
    }
}

#[test]
fn repeat_names_unique_in_the_form() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label"],
            &["begin group", "a", "A"],
            &["begin repeat", "r", "R"],
            &["text", "x", "X"],
            &["end repeat", "", ""],
            &["end group", "", ""],
            &["begin group", "b", "B"],
            &["begin repeat", "r", "R"],
            &["text", "y", "Y"],
            &["end repeat", "", ""],
            &["end group", "", ""],
        ])),
        [
            "survey!B8: repeat name 'r' is already used by the repeat on row 3; repeat names must be unique in the form"
        ]
    );
}

#[test]
fn or_other_with_choice_filter() {
    assert_eq!(
        errors(
            survey(&[
                &["type", "name", "label", "choice_filter"],
                &["select_one c or_other", "q", "Q", "x = 1"],
            ])
            .choices(&[&["list_name", "name", "label", "x"], &["c", "a", "A", "1"]])
        ),
        ["survey!D2: choice_filter cannot be used with or_other"]
    );
}

#[test]
fn unsupported_type() {
    assert_eq!(
        errors(survey(&[&["type", "name", "label"], &["select_one_external c", "map", "Map"]])),
        ["survey!A2: question type 'select_one_external' is not supported by Enumera"]
    );
}

#[test]
fn every_problem_at_once_sorted_by_position() {
    let got = errors(
        survey(&[
            &["type", "name", "label", "relevant"],
            &["begin group", "g", "G", ""],
            &["intger", "a", "A", ""],
            &["select_one nolist", "b", "B", "${zz}"],
            &["text", "b", "B", ""],
        ])
        .choices(&[&["list_name", "name", "label"], &["yn", "y", "Y"], &["yn", "y", "Y"]]),
    );
    assert_eq!(
        got,
        [
            "survey!A2: 'begin group' for 'g' is never closed; add an 'end group' row",
            "survey!A3: unknown question type 'intger'; did you mean 'integer'?",
            "survey!A4: choice list 'nolist' is not on the choices sheet",
            "survey!D4: unknown reference ${zz} in relevant",
            "survey!B5: name 'b' is already used in group 'g' (row 4)",
            "choices!B3: choice name 'y' is already used in list 'yn' (row 2); use allow_choice_duplicates in settings if this is meant",
        ]
    );
}

#[test]
fn files_that_are_not_workbooks() {
    let name = "x.xlsx";
    let msg = |bytes: &[u8]| match import_xlsform_bytes(bytes, name, None) {
        Err(e) => e.to_string(),
        Ok(_) => "imported".to_string(),
    };
    assert_eq!(
        msg(b""),
        "x.xlsx is empty (0 bytes); an XLSForm is an .xlsx workbook with a survey sheet"
    );
    assert_eq!(
        msg(b"type,name,label\ntext,q,Q\n"),
        "x.xlsx is not an Excel workbook; save the form as .xlsx (Excel Workbook) and try again"
    );
    let good = survey(&[&["type", "name", "label"], &["text", "q", "Q"]]).to_bytes();
    for cut in [10, good.len() / 2, good.len() - 10] {
        let m = msg(&good[..cut]);
        assert!(
            m.starts_with("x.xlsx is damaged or incomplete")
                || m.starts_with("x.xlsx cannot be read"),
            "cut at {cut}: {m}"
        );
    }
    // An encrypted .xlsx is an OLE compound file with an EncryptionInfo stream.
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(512, 0);
    ole.extend("EncryptionInfo".encode_utf16().flat_map(u16::to_le_bytes));
    assert!(matches!(import_xlsform_bytes(&ole, name, None), Err(ImportError::Encrypted { .. })));
    assert_eq!(
        msg(&ole),
        "x.xlsx is password-protected (encrypted); remove the password in your spreadsheet program and save it again"
    );
}

/// Byte soup must never panic, whatever it looks like.
#[test]
fn mangled_workbooks_never_panic() {
    let good = survey(&[
        &["type", "name", "label", "relevant"],
        &["begin group", "g", "G", ""],
        &["text", "q", "Q", "${q} = 'a'"],
        &["end group", "", "", ""],
    ])
    .to_bytes();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..200 {
        let mut bytes = good.clone();
        for _ in 0..8 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let i = (seed as usize) % bytes.len();
            bytes[i] = (seed >> 32) as u8;
        }
        let _ = import_xlsform_bytes(&bytes, "m.xlsx", None);
    }
}

#[test]
fn expressions_that_do_not_parse_point_at_the_character() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label", "relevant", "constraint", "calculation", "default"],
            &["integer", "a", "A", "${a} > (1 + 2))", ". >", "", ""],
            &["calculate", "c", "", "", "", "1 +* 2", ""], // `*` is a name test here
            &["date", "d", "D", "", "", "", "2026-01-01"],
            &["integer", "e", "E", "", "", "", "${a} +"],
        ])),
        [
            "survey!D2: unexpected ')' at column 15 in relevant",
            "survey!E2: unexpected end of expression at column 4 in constraint",
            "survey!F3: unexpected number 2 at column 6 in calculation",
            "survey!G5: unexpected end of expression at column 7 in default",
        ]
    );
}

#[test]
fn unknown_functions_and_wrong_argument_counts() {
    assert_eq!(
        errors(
            survey(&[
                &["type", "name", "label", "relevant", "calculation"],
                &["text", "a", "A", "selected(${a})", ""],
                &["calculate", "c", "", "", "concatt(${a}, 'x')"],
                &["calculate", "d", "", "", "if(${a} = '', 1)"],
                &["calculate", "e", "", "", "frobnicate(1)"],
            ])
            .settings(&[&["instance_name"], &["concat(${a}, ${zz})"]])
        ),
        [
            "settings!A2: unknown reference ${zz} in instance_name",
            "survey!D2: selected() takes 2 arguments, not 1, in relevant",
            "survey!E3: unknown function concatt() in calculation; did you mean concat()?",
            "survey!E4: if() takes 3 arguments, not 2, in calculation",
            "survey!E5: unknown function frobnicate() in calculation",
        ]
    );
}

#[test]
fn misspelt_and_unsupported_sheets_warn() {
    let w = warnings(
        survey(&[&["type", "name", "label"], &["select_one yn", "q", "Q"]])
            .sheet("choises", &[&["list_name", "name", "label"], &["yn", "y", "Y"]])
            .sheet("entities", &[&["list_name", "label"], &["e", "E"]]),
    );
    assert_eq!(
        w,
        [
            "choises: sheet 'choises' is not read; is it meant to be 'choices'?",
            "entities: the 'entities' sheet is not supported by Enumera and is ignored",
        ]
    );
}

#[test]
fn select_from_repeat_answers_checks_its_reference() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label"],
            &["begin repeat", "people", "People"],
            &["text", "pname", "Name"],
            &["end repeat", "", ""],
            &["select_one ${pname}", "chosen", "Who?"],
            &["select_one ${pnme}", "other", "Who else?"],
        ])),
        ["survey!A6: unknown reference ${pnme} in type; did you mean ${pname}?"]
    );
}

#[test]
fn empty_survey_sheet() {
    assert_eq!(
        errors(XlsForm::new().survey(&[]).choices(&[&["list_name", "name", "label"]])),
        [
            "survey: the survey sheet is empty; its first row names the columns (type, name, label, ...)"
        ]
    );
}

#[test]
fn a_text_missing_in_one_language_warns_at_its_cell() {
    assert_eq!(
        warnings(
            survey(&[
                &["type", "name", "label::English (en)", "label::Bengali (bn)"],
                &["select_one yn", "q", "Consent?", ""],
                &["text", "t", "Name", "নাম"],
            ])
            .choices(&[
                &["list_name", "name", "label::English (en)", "label::Bengali (bn)"],
                &["yn", "y", "Yes", "হ্যাঁ"],
                &["yn", "n", "No", ""],
            ])
        ),
        [
            "survey!D2: question 'q' has no label in Bengali (bn)",
            "choices!D3: choice 'n' in list 'yn' has no label in Bengali (bn)",
        ]
    );
}

#[test]
fn range_parameters() {
    assert_eq!(
        errors(survey(&[
            &["type", "name", "label", "parameters"],
            &["range", "a", "A", "start=1 end=5 step=0"],
            &["range", "b", "B", "start=x end=5"],
            &["range", "c", "C", "start=0 end=5 step=10"],
            &["range", "d", "D", "start=0 end=100 step=5"],
        ])),
        [
            "survey!D2: range parameter step must not be 0",
            "survey!D3: range parameter start must be a number, not 'x'",
            "survey!D4: range parameter step (10) must not be larger than the range from start to end (0 to 5)",
        ]
    );
}

#[test]
fn type_specific_warnings() {
    assert_eq!(
        warnings(survey(&[
            &["type", "name", "label", "parameters"],
            &["image", "photo", "Photo", ""],
            &["image", "small", "Small", "max-pixels=1024"],
            &["simserial", "sim", "", ""],
        ])),
        [
            "survey!D2: image 'photo' has no max-pixels parameter; add one (e.g. max-pixels=1024) to keep photos small to store and send",
            "survey!A4: this metadata is no longer given by most devices (only Android before 11)",
        ]
    );
}

#[test]
fn settings_problems_name_their_cell() {
    assert_eq!(
        errors(
            survey(&[&["type", "name", "label"], &["text", "q", "Q"]]).settings(&[
                &["form_id", "name", "instance_name"],
                &["f", "my root", "concat(${q}"]
            ])
        ),
        [
            "settings!B2: settings name 'my root' is not a valid XML name",
            "settings!C2: expected ')' at end of expression at column 12 in instance_name",
        ]
    );
}
