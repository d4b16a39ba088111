//! Replays every committed fuzz input through the same target bodies the
//! fuzzer runs (enumera_tests::fuzzing): the seeds and kept corpus in
//! `fuzz/corpus/<target>/`, and every crash the fuzzer found, in
//! `fuzz/regressions/<target>/`. A panic on any of them fails this test and
//! names the file. docs/RELIABILITY.md has the fuzzing record.
//!
//! The seeds are written by the ignored `write_seeds` test:
//! `cargo test -p enumera-tests --test fuzz_corpus -- --ignored write_seeds`.

use std::path::{Path, PathBuf};

use enumera_tests::fuzzing::{FUZZ_SEED, TARGETS};
use enumera_tests::repo_root;

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs `target` on each file; returns the files it panicked on.
fn replay(target: fn(&[u8]), files: &[PathBuf]) -> Vec<String> {
    let mut failed = Vec::new();
    for file in files {
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if std::panic::catch_unwind(|| target(&bytes)).is_err() {
            failed.push(file.display().to_string());
        }
    }
    failed
}

#[test]
fn every_corpus_input_and_regression_runs_without_a_panic() {
    let fuzz = repo_root().join("fuzz");
    let mut failed = Vec::new();
    for (name, target) in TARGETS {
        let corpus = files_in(&fuzz.join("corpus").join(name));
        // An empty corpus would make this test pass without running anything.
        assert!(!corpus.is_empty(), "fuzz/corpus/{name}/ has no inputs");
        let regressions = files_in(&fuzz.join("regressions").join(name));
        eprintln!("{name}: {} corpus inputs, {} regressions", corpus.len(), regressions.len());
        failed.extend(replay(*target, &corpus));
        failed.extend(replay(*target, &regressions));
    }
    assert!(failed.is_empty(), "fuzz inputs that panic: {failed:#?}");
}

#[test]
fn the_session_target_has_its_form() {
    let form = enumera_tests::fuzzing::session_form().expect("practice_followup.xlsx compiles");
    assert_eq!(form.instrument.form_id, "p2p_practice_followup");
}

#[test]
fn every_target_has_a_cargo_fuzz_binary() {
    let fuzz = repo_root().join("fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (name, _) in TARGETS {
        assert!(fuzz.join("fuzz_targets").join(format!("{name}.rs")).is_file(), "{name}");
        assert!(manifest.contains(&format!("name = \"{name}\"")), "{name} in fuzz/Cargo.toml");
    }
}

/// Found by fuzzing xlsform_bytes: calamine 0.38 overflows (and, with
/// overflow checks, panics) on a cell reference with a very long column.
/// The import now reports the file as unreadable instead.
#[test]
fn a_workbook_that_makes_the_reader_panic_is_an_unreadable_file() {
    use enumera_core::instrument::{ImportError, import_xlsform_bytes};
    let path =
        repo_root().join("fuzz/regressions/xlsform_bytes/calamine-long-column-reference.xlsx");
    let bytes = std::fs::read(&path).expect("regression file");
    match import_xlsform_bytes(&bytes, "f.xlsx", None) {
        Err(ImportError::Unreadable { name, reason }) => {
            assert_eq!(name, "f.xlsx");
            assert!(reason.contains("malformed"), "{reason}");
        }
        other => panic!("expected an unreadable file, got {other:?}"),
    }
}

/// A target must be able to fail: the replay catches a panicking input.
#[test]
fn replay_reports_a_panicking_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("boom");
    std::fs::write(&file, b"boom").expect("write");
    let failed = replay(|b| assert!(b != b"boom"), &[file]);
    assert_eq!(failed.len(), 1);
}

// ---- seeds -----------------------------------------------------------------

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = repo_root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus folder");
    std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("seed written");
}

#[test]
#[ignore = "writes the seed corpus into fuzz/corpus; run by hand"]
fn write_seeds() {
    use enumera_core::bundle::{BundleOptions, Receipt, ReceiptEntry, write_bundle};
    use enumera_core::expr::testdata;

    // Expressions: every case of the expression table.
    let cases = testdata::parse_cases(testdata::CASES).expect("cases");
    for c in &cases {
        write("expr_parse", &format!("case-{:04}", c.line), c.expr.as_bytes());
        write("expr_eval", &format!("case-{:04}", c.line), c.expr.as_bytes());
    }

    // XLSForm workbooks: a real one and a small generated one.
    let root = repo_root();
    let reg =
        std::fs::read(root.join("instruments/p2p-sanitation/registration.xlsx")).expect("xlsx");
    write("xlsform_bytes", "registration.xlsx", &reg);
    let small = enumera_tests::XlsForm::new()
        .survey(&[
            &["type", "name", "label", "relevant", "constraint", "calculation", "required"],
            &["integer", "age", "Age", "", ". >= 0 and . < 120", "", "yes"],
            &["select_one yn", "ok", "OK?", "${age} > 17", "", "", ""],
            &["begin_repeat", "m", "Members", "", "", "", ""],
            &["text", "n", "Name", "", "", "", ""],
            &["end_repeat", "", "", "", "", "", ""],
            &["calculate", "c", "", "", "", "count(${n})", ""],
        ])
        .choices(&[&["list_name", "name", "label"], &["yn", "yes", "Yes"], &["yn", "no", "No"]])
        .settings(&[&["form_id", "version"], &["small", "1"]])
        .to_bytes();
    write("xlsform_bytes", "small.xlsx", &small);
    let cells = [
        (
            "small",
            "type\tname\tlabel\trelevant\tconstraint\tcalculation\trequired\n\
integer\tage\tAge\t\t. >= 0\t\tyes\nselect_one yn\tok\tOK?\t${age} > 17\t\t\t\n\
begin_repeat\tm\tMembers\t\t\t\t\ntext\tn\tName\t\t\t\t\nend_repeat\t\t\t\t\t\t\n\
calculate\tc\t\t\t\tcount(${n})\t\n===\nlist_name\tname\tlabel\nyn\tyes\tYes\nyn\tno\tNo\n\
===\nform_id\tversion\tdefault_language\nsmall\t#3\tEnglish (en)\n",
        ),
        (
            "groups",
            "type\tname\tlabel::English (en)\tlabel::Português (pt)\tappearance\tchoice_filter\n\
begin_group\tg\tG\tG\tfield-list\t\nselect_one c\tcountry\tCountry\tPaís\t\t\n\
select_one p\tprov\tProvince\tProvíncia\tminimal\tcountry=${country}\nend_group\t\t\t\t\t\n\
note\tn\tHello ${prov}\tOlá\t\t\n===\nlist_name\tname\tlabel::English (en)\tcountry\n\
c\tmz\tMozambique\t\nc\tbd\tBangladesh\t\np\tbeira\tBeira\tmz\np\tkhulna\tKhulna\tbd\n",
        ),
        (
            "kinds",
            "type\tname\tlabel\tdefault\tparameters\trepeat_count\n\
date\td\tD\t2024-01-01\t\t\ngeopoint\tg\tG\t\t\t\ndecimal\tx\tX\t#1.5\t\t\n\
select_multiple yn\tm\tM\t\trandomize=true\t\nrange\tr\tR\t\tstart=1 end=5 step=1\t\n\
begin_repeat\trr\tRR\t\t\t${x}\nacknowledge\tk\tK\t\t\t\nend_repeat\t\t\t\t\t\n\
trigger\tt\tT\t\t\t\nstart\tstart\t\t\t\t\n===\nlist_name\tname\tlabel\nyn\t1\tYes\nyn\t0\tNo\n",
        ),
    ];
    for (name, text) in cells {
        write("xlsform_cells", name, text.as_bytes());
    }

    // A bundle of three responses (one with a photo) and an empty one.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = enumera_tests::device::device(&dir.path().join("device.db"));
    let mut empty = Vec::new();
    write_bundle(&store, &BundleOptions::default(), &mut empty).expect("empty bundle");
    write("bundle_read", "empty", &empty);
    enumera_tests::device::finalize_some(&mut store, 3);
    let mut bundle = Vec::new();
    write_bundle(&store, &BundleOptions::default(), &mut bundle).expect("bundle");
    write("bundle_read", "three", &bundle);
    for (name, file) in [("empty", &empty), ("three", &bundle)] {
        // The unsigned form bundle_signed takes: manifest, newline, items.
        let len = u32::from_be_bytes([file[12], file[13], file[14], file[15]]) as usize;
        let manifest = &file[16..16 + len];
        let items = &file[16 + len + 64..];
        let mut seed = manifest.to_vec();
        seed.push(b'\n');
        seed.extend_from_slice(items);
        write("bundle_signed", name, &seed);
    }

    // Receipts: a signed file, and its body (receipt_read signs it).
    let device = store.device().expect("device");
    let entries: Vec<ReceiptEntry> = store
        .outbox(0, false)
        .expect("outbox")
        .into_iter()
        .map(|e| ReceiptEntry { seq: e.seq, instance_id: e.instance_id, entry_hash: e.entry_hash })
        .collect();
    let receipt = Receipt {
        format: enumera_core::bundle::receipt::RECEIPT_FORMAT.into(),
        central_public_key: String::new(),
        device_public_key: device.public_key_hex(),
        device_id: device.device_id,
        issued_at: "2026-01-01T00:00:00.000000Z".into(),
        through: None,
        entries,
    };
    let signed = receipt.clone().sign(&FUZZ_SEED);
    write("receipt_read", "file", &signed.file);
    write("receipt_read", "body", serde_json::to_string(&signed.receipt).expect("json").as_bytes());
    // The compact form: the chain held whole up to the last entry.
    let last = receipt.entries.last().cloned().expect("an entry");
    let compact = Receipt {
        through: Some(enumera_core::bundle::receipt::ReceiptThrough {
            seq: last.seq,
            entry_hash: last.entry_hash,
        }),
        entries: Vec::new(),
        ..receipt
    }
    .sign(&FUZZ_SEED);
    write(
        "receipt_read",
        "through",
        serde_json::to_string(&compact.receipt).expect("json").as_bytes(),
    );

    // Session scripts: the study's capacity scripts.
    let steps = root.join("instruments/p2p-sanitation/steps");
    for name in [
        "practice_followup.future_date",
        "practice_followup.no_changes_invalid",
        "practice_followup.quelimane_round3",
        "practice_followup.refused",
    ] {
        let text = std::fs::read(steps.join(format!("{name}.json"))).expect("steps");
        // Compact, so the fuzzer's mutations land on content, not spaces.
        let v: serde_json::Value = serde_json::from_slice(&text).expect("steps json");
        write("session_steps", name, v.to_string().as_bytes());
    }
    write(
        "session_steps",
        "repeats",
        br#"[{"set":"/data/consent","value":"yes"},{"add_repeat":"/data/interview/practice/changes","count":3},{"remove_repeat":"/data/interview/practice/changes","index":2},{"set_language":"Portuguese (pt)"},{"clear":"/data/consent"}]"#,
    );
}

#[test]
fn the_submission_target_has_its_form() {
    // Without it the target would return at once on every input.
    let seed = repo_root().join("fuzz/corpus/submission_xml/seed-plain");
    let bytes = std::fs::read(seed).expect("seed");
    enumera_tests::fuzzing::submission_xml(&bytes);
    assert!(enumera_tests::fuzzing::submission_form_compiles());
}
