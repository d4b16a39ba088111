//! XLSForm import end to end: real .xlsx files written by the test, read
//! back into the instrument model.

use enumera_core::instrument::{
    Imported, NodeKind, QuestionType, import_xlsform, import_xlsform_bytes, load_form,
};
use enumera_tests::fixtures::{self, QUESTION_TYPES};
use enumera_tests::{Cell, XlsForm};

const EN: &str = "English (en)";
const PT: &str = "Português (pt)";

fn import(form: &XlsForm, name: &str) -> (tempfile::TempDir, Imported) {
    let (dir, path) = form.write_temp(name);
    let imported = import_xlsform(&path).expect("readable workbook");
    (dir, imported)
}

fn no_errors(i: &Imported) {
    let errors: Vec<String> = i.errors().map(|d| d.to_string()).collect();
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
}

fn find<'a>(
    nodes: &'a [enumera_core::instrument::Node],
    name: &str,
) -> Option<&'a enumera_core::instrument::Node> {
    nodes.iter().find_map(|n| if n.name == name { Some(n) } else { find(&n.children, name) })
}

/// Every question type DESIGN.md lists, one row each.
#[test]
fn every_question_type() {
    // Zipped with QUESTION_TYPES; the length check below catches a list
    // that grows on one side only.
    let types: Vec<(&str, &str, QuestionType)> = QUESTION_TYPES
        .iter()
        .zip([
            QuestionType::Text,
            QuestionType::Integer,
            QuestionType::Decimal,
            QuestionType::Range,
            QuestionType::SelectOne,
            QuestionType::SelectMultiple,
            QuestionType::SelectOneFromFile,
            QuestionType::SelectMultipleFromFile,
            QuestionType::Rank,
            QuestionType::Note,
            QuestionType::Acknowledge,
            QuestionType::Date,
            QuestionType::Time,
            QuestionType::DateTime,
            QuestionType::Geopoint,
            QuestionType::Geotrace,
            QuestionType::Geoshape,
            QuestionType::Image,
            QuestionType::Audio,
            QuestionType::Video,
            QuestionType::File,
            QuestionType::Barcode,
            QuestionType::Calculate,
            QuestionType::Hidden,
            QuestionType::Start,
            QuestionType::End,
            QuestionType::Today,
            QuestionType::DeviceId,
            QuestionType::Username,
            QuestionType::Audit,
        ])
        .map(|((t, n), q)| (*t, *n, q))
        .collect();
    assert_eq!(types.len(), QUESTION_TYPES.len());
    let form = fixtures::all_question_types();
    let (_dir, imported) = import(&form, "all_types");
    no_errors(&imported);
    let i = &imported.instrument;
    assert_eq!(i.children.len(), types.len());
    for ((_, name, qtype), node) in types.iter().zip(&i.children) {
        assert_eq!(&node.name, name);
        assert_eq!(node.question_type(), Some(*qtype), "{name}");
    }
    let sof = find(&i.children, "q_sof").unwrap();
    let NodeKind::Question(q) = &sof.kind else { panic!() };
    assert_eq!(q.file.as_deref(), Some("places.csv"));
    let places = &i.files["places.csv"];
    assert_eq!(places.columns, ["name", "label"]);
    assert_eq!(places.rows[1], ["beira", "Beira"]);
    let sel = find(&i.children, "q_select_one").unwrap();
    let NodeKind::Question(q) = &sel.kind else { panic!() };
    assert_eq!(q.list.as_deref(), Some("yn"));
    assert_eq!(i.choices["crops"].choices[1].name, "beans");
    assert_eq!(i.form_id, "all_types", "form id falls back to the file stem");
    assert_eq!(i.root_name, "data");
}

/// Every column, in two languages, with aliases pyxform accepts.
#[test]
fn every_column_multilingual() {
    let form = fixtures::every_column();
    let (_dir, imported) = import(&form, "every_column");
    no_errors(&imported);
    let i = &imported.instrument;
    assert_eq!(i.title, "Everything");
    assert_eq!(i.form_id, "everything");
    assert_eq!(i.version, "2026112901", "a number cell is read as pyxform reads it");
    assert_eq!(i.default_language.as_deref(), Some(EN));
    assert_eq!(i.languages, [EN, PT]);
    assert_eq!(i.root_name, "household");
    assert_eq!(i.settings.public_keys, ["age1xyz", "age1abc"]);
    assert_eq!(i.settings.style.as_deref(), Some("pages"));
    assert_eq!(i.settings.instance_name.as_deref(), Some("concat(${age})"));

    let age = find(&i.children, "age").unwrap();
    assert_eq!(age.label.0[EN], "Age");
    assert_eq!(age.label.0[PT], "Idade");
    assert_eq!(age.hint.0[PT], "Em anos");
    assert_eq!(age.guidance_hint.0[EN], "Ask gently");
    assert_eq!(age.bind.required.as_deref(), Some("true()"));
    assert_eq!(age.bind.required_message.0[PT], "Necessário");
    assert_eq!(age.bind.constraint.as_deref(), Some(". >= 18 and . < 120"));
    assert_eq!(age.bind.constraint_message.0[EN], "Adults only");
    assert_eq!(age.bind.default.as_deref(), Some("30"));
    assert_eq!(age.appearance.as_deref(), Some("numbers"));
    assert_eq!(age.media["image"].0[EN], "age-en.png");
    assert_eq!(age.media["image"].0[PT], "age-pt.png");
    assert_eq!(age.media["audio"].0[PT], "age-pt.mp3");
    assert_eq!(age.media["video"].0[EN], "age-en.mp4");
    assert_eq!(age.media["big-image"].0[PT], "age-pt-big.png");
    assert_eq!(age.extra["bind::odk:length"], "1 3");
    assert!(age.preload && !age.pii);

    let phone = find(&i.children, "phone").unwrap();
    assert_eq!(phone.bind.relevant.as_deref(), Some("${age} > 20"));
    assert_eq!(phone.bind.readonly.as_deref(), Some("true()"));
    assert_eq!(phone.bind.trigger.as_deref(), Some("${age}"));
    assert_eq!(phone.extra["instance::odk:tag"], "contact");
    assert!(phone.pii);

    let decade = find(&i.children, "decade").unwrap();
    assert_eq!(decade.bind.calculation.as_deref(), Some("int(${age} div 10)"));
    assert!(decade.pii, "bind::enumera:pii means pii");

    let members = find(&i.children, "members").unwrap();
    assert_eq!(members.kind, NodeKind::Repeat { count: Some("${age} div 10".into()) });
    assert_eq!(members.children.len(), 3);
    let state = find(&i.children, "state").unwrap();
    assert_eq!(state.parameters["randomize"], "true");
    assert_eq!(state.parameters["seed"], "42");
    let city = find(&i.children, "city").unwrap();
    assert_eq!(city.bind.choice_filter.as_deref(), Some("state = ${state}"));
    let wher = find(&i.children, "where").unwrap();
    assert_eq!(wher.extra["body::accuracyThreshold"], "5");

    let cities = &i.choices["city"].choices;
    assert_eq!(cities[1].extra["state"], "sofala");
    assert_eq!(cities[1].label.0[PT], "Beira");
    assert_eq!(cities[1].row, 5);
    assert_eq!(i.choices["state"].choices[1].media["image"].0[EN], "sofala.png");
}

#[test]
fn nested_groups_and_repeats() {
    let form = fixtures::nested_repeats();
    let (_dir, imported) = import(&form, "nested");
    no_errors(&imported);
    let i = &imported.instrument;
    assert_eq!(i.children.len(), 2);
    let hh = &i.children[0];
    assert_eq!((hh.name.as_str(), &hh.kind), ("hh", &NodeKind::Group));
    let members = &hh.children[1];
    assert_eq!(members.kind, NodeKind::Repeat { count: None });
    let health = &members.children[1];
    assert_eq!(health.kind, NodeKind::Group);
    let visits = &health.children[0];
    assert_eq!(visits.name, "visits");
    assert_eq!(visits.row, 7);
    assert_eq!(
        visits.children.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        ["vdate", "vcost"]
    );
    assert_eq!(i.children[1].name, "generated_note_name_14", "notes get pyxform's generated name");
}

#[test]
fn or_other_and_aliases_and_cells_that_are_not_text() {
    let form = XlsForm::new()
        .survey(&[
            &["Type", "Name", "Label", "Required", "Calculation", "Read Only", "PII"],
            &["select_one yn or_other", "q", "Q", "TRUE", "", "", ""],
            &["text", "why", "Why", "", "", "yes", "yes"],
            &["integer", "n", "N", "", "", "", ""],
            &["calculate", "c", "", "", "${q_other}", "", ""],
        ])
        .cell("survey", 2, 3, Cell::Bool(true))
        .cell("survey", 3, 2, Cell::Number(12.0))
        .choices(&[&["list name", "name", "label"], &["yn", "1", "Yes"], &["yn", "2.5", "No"]])
        .cell("choices", 1, 1, Cell::Number(1.0))
        .cell("choices", 2, 1, Cell::Number(2.5))
        .settings(&[&["form_id", "version"], &["f", ""]])
        .cell("settings", 1, 1, Cell::Date { year: 2026, month: 11, day: 29 });
    let (_dir, imported) = import(&form, "aliases");
    no_errors(&imported);
    let i = &imported.instrument;
    let NodeKind::Question(q) = &i.children[0].kind else { panic!() };
    assert!(q.or_other);
    assert_eq!(i.children[1].bind.required.as_deref(), Some("true()"), "a TRUE boolean cell");
    assert_eq!(i.children[1].bind.readonly.as_deref(), Some("true()"));
    assert!(i.children[1].pii && !i.children[0].pii);
    assert_eq!(i.children[2].label.0[""], "12", "a number label reads as text");
    assert_eq!(i.choices["yn"].choices[0].name, "1");
    assert_eq!(i.choices["yn"].choices[1].name, "2.5");
    assert_eq!(i.version, "2026-11-29 00:00:00", "a date cell reads as pyxform's str(datetime)");
    assert!(i.languages.is_empty());
}

#[test]
fn formula_cells_read_as_their_cached_result() {
    let form = XlsForm::new().survey(&[&["type", "name", "label"], &["text", "q", ""]]).cell(
        "survey",
        1,
        2,
        Cell::Formula { formula: "=\"Name of \"&\"head\"".into(), result: "Name of head".into() },
    );
    let (_dir, imported) = import(&form, "formula");
    no_errors(&imported);
    assert_eq!(imported.instrument.children[0].label.0[""], "Name of head");
}

#[test]
fn tricky_but_valid_forms_import() {
    let (_dir, imported) = import(&fixtures::tricky_valid(), "tricky");
    no_errors(&imported);
    let i = &imported.instrument;
    let g1 = find(&i.children, "g1").unwrap();
    assert_eq!(g1.bind.relevant.as_deref(), Some("${a} = 'y'"), "typographic quotes made plain");
    let chosen = find(&i.children, "chosen").unwrap();
    let NodeKind::Question(q) = &chosen.kind else { panic!() };
    assert_eq!(q.list.as_deref(), Some("${pname}"));
    assert_eq!(find(&i.children, "fixed").unwrap().bind.readonly.as_deref(), Some("true()"));
    assert_eq!(i.languages, ["English"]);
    assert_eq!(
        imported.warnings().map(|d| d.to_string()).collect::<Vec<_>>(),
        [
            "survey!C1: language 'English' has no language code; write it as 'Name (code)', like 'English (en)'",
            "choices!C1: language 'English' has no language code; write it as 'Name (code)', like 'English (en)'",
        ]
    );
}

/// A deliberate difference: pyxform 4 silently drops `jr:constraintMsg` and
/// `jr:requiredMsg` written as plain column headers (it reads them only as
/// `bind::jr:constraintMsg`); older pyxform and many published forms use
/// them, and the author clearly meant the message, so we read them.
#[test]
fn plain_jr_message_headers_are_read() {
    let form = XlsForm::new().survey(&[
        &[
            "type",
            "name",
            "label",
            "constraint",
            "jr:constraintMsg",
            "required",
            "jr:requiredMsg::English (en)",
        ],
        &["integer", "a", "A", ". > 1", "More than one", "yes", "Needed"],
    ]);
    let (_dir, imported) = import(&form, "jr_msgs");
    no_errors(&imported);
    let a = &imported.instrument.children[0];
    assert_eq!(a.bind.constraint_message.0[""], "More than one");
    assert_eq!(a.bind.required_message.0[EN], "Needed");
}

#[test]
fn pulldata_csv_is_shipped_and_empty_rows_are_skipped() {
    let form = XlsForm::new()
        .survey(&[
            &["type", "name", "label", "calculation"],
            &["", "", "", ""],
            &["text", "code", "Code", ""],
            &["", "", "", ""],
            &["calculate", "price", "", "pulldata('prices', 'price', 'code', ${code})"],
        ])
        .file("prices.csv", "code,price\nA,10\n");
    let (_dir, imported) = import(&form, "pull");
    no_errors(&imported);
    let i = &imported.instrument;
    assert_eq!(i.children.len(), 2);
    assert_eq!(i.children[1].row, 5, "rows keep their spreadsheet numbers");
    assert_eq!(i.files["prices.csv"].rows, [["A", "10"]]);
}

#[test]
fn json_round_trip_keeps_instrument_and_hash() {
    let form = XlsForm::new()
        .survey(&[
            &["type", "name", "label::English (en)", "label::Bengali (bn)"],
            &["select_one yn", "q", "Q", "প্রশ্ন"],
        ])
        .choices(&[
            &["list_name", "name", "label::English (en)", "label::Bengali (bn)"],
            &["yn", "y", "Yes", "হ্যাঁ"],
        ]);
    let (dir, imported) = import(&form, "rt");
    no_errors(&imported);
    let json_path = dir.path().join("rt.json");
    std::fs::write(&json_path, imported.instrument.canonical_json()).unwrap();
    let back = load_form(&json_path).unwrap();
    assert_eq!(back.instrument, imported.instrument);
    assert_eq!(back.instrument.hash(), imported.instrument.hash());
    assert!(back.diagnostics.is_empty(), "{:?}", back.diagnostics);
    // load_form reads .xlsx too.
    let again = load_form(&dir.path().join("rt.xlsx")).unwrap();
    assert_eq!(again.instrument.hash(), imported.instrument.hash());
}

#[test]
fn import_from_bytes_uses_the_given_name_and_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.csv"), "name,label\na,A\n").unwrap();
    let bytes = XlsForm::new()
        .survey(&[&["type", "name", "label"], &["select_one_from_file p.csv", "p", "P"]])
        .to_bytes();
    let i = import_xlsform_bytes(&bytes, "from_bytes.xlsx", Some(dir.path())).unwrap();
    no_errors(&i);
    assert_eq!(i.instrument.form_id, "from_bytes");
    assert!(i.instrument.files.contains_key("p.csv"));
    let without = import_xlsform_bytes(&bytes, "from_bytes.xlsx", None).unwrap();
    // One rule for every file, as pyxform has it: missing is a warning.
    assert!(!without.has_errors());
    assert_eq!(
        without.warnings().map(|d| d.to_string()).collect::<Vec<_>>(),
        ["survey!A2: p.csv was not given with the form; the choices from it are empty until it is"]
    );
}

/// Every XLSForm shipped under instruments/ imports with no error and no
/// warning: they are what the study's enumerators will carry.
#[test]
fn shipped_instruments_import_cleanly() {
    fn xlsx_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                xlsx_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "xlsx") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    xlsx_files(&enumera_tests::repo_root().join("instruments"), &mut files);
    if files.is_empty() {
        eprintln!("SKIP shipped_instruments_import_cleanly: no instruments/**/*.xlsx in this tree");
        return;
    }
    for f in &files {
        let i = import_xlsform(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let all: Vec<String> = i.diagnostics.iter().map(|d| d.to_string()).collect();
        assert!(all.is_empty(), "{}: {all:#?}", f.display());
        assert!(!i.instrument.children.is_empty(), "{}", f.display());
    }
}
