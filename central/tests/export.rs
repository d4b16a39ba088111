//! The researcher export, read back: CSVs through a real CSV reader, every
//! value checked; keys, select_multiple columns, labels in each language,
//! personal data, the panel, the report of what could not be exported, and
//! the Stata/SPSS files' structure; pandas reads the CSVs and the `.dta`
//! files.

mod common;
mod readers;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use enumera_central::Central;
use enumera_central::export::{ExportOptions, ExportSummary, Filter, Format, Layout, export};
use enumera_core::bundle::{BundleOptions, ResearcherIdentity, finalize_response, write_bundle};
use enumera_core::instrument::Instrument;
use enumera_core::store::{InstrumentKey, NewResponse, Store};

const EN: &str = "English (en)";
const PT: &str = "Portuguese (pt)";
const BN: &str = "Bengali (bn)";

fn text(en: &str, pt: &str, bn: &str) -> serde_json::Value {
    serde_json::json!({ EN: en, PT: pt, BN: bn })
}

/// The study form: version 2 adds `staff`. `keys`: researcher recipients.
fn form(form_id: &str, version: &str, keys: &[&str]) -> Instrument {
    let q = |name: &str, ty: &str, label: serde_json::Value| serde_json::json!({"name": name, "kind": {"kind": "question", "type": ty}, "row": 2, "label": label});
    let mut name = q("name", "text", text("Name", "Nome", "নাম"));
    name["pii"] = true.into();
    let mut score = q(
        "score",
        "select_one",
        text("Planning capacity", "Capacidade de planeamento", "পরিকল্পনা সক্ষমতা"),
    );
    score["kind"]["list"] = "scale".into();
    score["bind"] = serde_json::json!({"relevant": "${name} != ''", "constraint": ". != '0'"});
    let mut channels = q("channels", "select_multiple", text("Channels", "Canais", "মাধ্যম"));
    channels["kind"]["list"] = "channels".into();
    let mut kind =
        q("kind", "select_one", text("Kind of change", "Tipo de mudança", "পরিবর্তনের ধরন"));
    kind["kind"]["list"] = "kinds".into();
    let mut children = vec![
        name,
        serde_json::json!({"name": "cap", "kind": {"kind": "group"}, "row": 3, "label": text("Capacity", "Capacidade", "সক্ষমতা"),
            "children": [score]}),
        channels,
        q("place", "geopoint", text("Place", "Local", "স্থান")),
        serde_json::json!({"name": "changes", "kind": {"kind": "repeat"}, "row": 6, "label": text("Changes", "Mudanças", "পরিবর্তন"),
            "children": [q("desc", "text", text("Description", "Descrição", "বিবরণ")), kind]}),
    ];
    if version == "2" {
        children.push(q(
            "staff",
            "integer",
            text("Staff assigned", "Pessoal afectado", "নিযুক্ত কর্মী"),
        ));
    }
    let choice = |name: &str, en: &str, pt: &str, bn: &str| serde_json::json!({"name": name, "label": text(en, pt, bn), "row": 2});
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": form_id, "version": version, "title": "Study form", "root_name": "data",
        "default_language": EN, "languages": [EN, PT, BN],
        "settings": {"public_keys": keys},
        "children": children,
        "choices": {
            "scale": {"choices": [choice("1", "Low", "Baixa", "কম"), choice("2", "High", "Alta", "বেশি"),
                                  choice("na", "Not applicable", "Não se aplica", "প্রযোজ্য নয়")]},
            "channels": {"choices": [choice("call", "Call", "Chamada", "কল"), choice("visit", "Visit", "Visita", "পরিদর্শন")]},
            "kinds": {"choices": [choice("budget", "Budget line", "Rubrica orçamental", "বাজেট"), choice("plan", "Plan", "Plano", "পরিকল্পনা")]},
        },
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

struct Answers<'a> {
    name: &'a str,
    score: Option<&'a str>,
    channels: Option<&'a str>,
    place: &'a str,
    changes: &'a [(&'a str, &'a str)],
    staff: Option<&'a str>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn xml(form_id: &str, version: &str, id: &str, a: &Answers<'_>) -> String {
    let mut x =
        format!("<data id=\"{form_id}\" version=\"{version}\"><name>{}</name>", escape(a.name));
    if let Some(s) = a.score {
        x += &format!("<cap><score>{s}</score></cap>");
    }
    if let Some(c) = a.channels {
        x += &format!("<channels>{c}</channels>");
    }
    x += &format!("<place>{}</place>", a.place);
    for (d, k) in a.changes {
        x += &format!("<changes><desc>{}</desc><kind>{k}</kind></changes>", escape(d));
    }
    if let Some(s) = a.staff {
        x += &format!("<staff>{s}</staff>");
    }
    x + &format!("<meta><instanceID>{id}</instanceID></meta></data>")
}

struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    ids: HashMap<&'static str, String>,
}

fn respond(
    store: &mut Store,
    key: &InstrumentKey,
    participant: &str,
    round: i64,
    a: &Answers<'_>,
) -> String {
    let mut new = NewResponse::new(key.clone());
    new.participant_id = Some(participant.into());
    new.round = Some(round);
    let id = store.create_draft(&new).expect("draft").instance_id;
    let x = xml(&key.form_id, &key.version, &id, a);
    finalize_response(store, &id, x, "{}".into()).expect("finalize");
    id
}

fn fixture() -> Fixture {
    use age::secrecy::ExposeSecret;
    let dir = common::tempdir();
    let mut store = Store::open(dir.path().join("device.db")).expect("open");
    store.init_device("tab1", Some("enum-7")).expect("init");
    for p in ["MZ-0042", "BD-0007", "MZ-0099"] {
        store.add_participant(Some(p), BTreeMap::new(), BTreeMap::new()).expect("participant");
    }
    let other = age::x25519::Identity::generate();
    let other_recipient = other.to_public().to_string();
    let _ = other.to_string().expose_secret().len();
    let forms = [
        form("study", "1", &[]),
        form("study", "2", &[]),
        form("sealed", "1", &[common::TEST_RECIPIENT]),
        form("sealed", "2", &[&other_recipient]),
    ];
    let keys: Vec<InstrumentKey> =
        forms.iter().map(|f| store.install_instrument(f).expect("install")).collect();
    let mut ids = HashMap::new();
    ids.insert(
        "r1",
        respond(
            &mut store,
            &keys[0],
            "MZ-0042",
            1,
            &Answers {
                name: "Ana Matsinhe",
                score: Some("1"),
                channels: Some("call visit"),
                place: "-19.84 34.84 12.5 4.0",
                changes: &[("Budget line, \"FSM\" 2027", "budget"), ("Plan\nadopted", "plan")],
                staff: None,
            },
        ),
    );
    ids.insert(
        "r2",
        respond(
            &mut store,
            &keys[1],
            "MZ-0042",
            2,
            &Answers {
                name: "Ana Matsinhe",
                score: Some("na"),
                channels: None,
                place: "-19.85 34.85 10 3",
                changes: &[],
                staff: Some("4"),
            },
        ),
    );
    ids.insert(
        "r3",
        respond(
            &mut store,
            &keys[0],
            "BD-0007",
            1,
            &Answers {
                name: "Rahim",
                score: Some("2"),
                channels: Some("visit"),
                place: "23.16 89.20 8 6",
                changes: &[],
                staff: None,
            },
        ),
    );
    ids.insert(
        "r4",
        respond(
            &mut store,
            &keys[2],
            "BD-0007",
            1,
            &Answers {
                name: "Rahim",
                score: Some("2"),
                channels: Some("call"),
                place: "23.16 89.20 8 6",
                changes: &[("Sealed desc", "plan")],
                staff: None,
            },
        ),
    );
    ids.insert(
        "r5",
        respond(
            &mut store,
            &keys[3],
            "BD-0007",
            2,
            &Answers {
                name: "Rahim",
                score: Some("1"),
                channels: None,
                place: "1 2 3 4",
                changes: &[],
                staff: None,
            },
        ),
    );
    ids.insert(
        "r6",
        respond(
            &mut store,
            &keys[0],
            "MZ-0099",
            1,
            &Answers {
                name: "Tampered",
                score: Some("1"),
                channels: None,
                place: "1 2 3 4",
                changes: &[],
                staff: None,
            },
        ),
    );
    let db = dir.path().join("central.db");
    let mut central = central_holding(&store, &db);
    for f in &forms {
        central.publish(f).expect("publish");
    }
    drop(central);
    // Someone edits a held response in the database file behind central's back.
    let conn = rusqlite::Connection::open(&db).expect("sqlite");
    conn.execute_batch("DROP TRIGGER responses_frozen").expect("drop trigger");
    conn.execute(
        "UPDATE responses SET xml = replace(xml, '<score>1</score>', '<score>2</score>') WHERE instance_id = ?1",
        [&ids["r6"]],
    )
    .expect("tamper");
    Fixture { _dir: dir, db, ids }
}

fn run(f: &Fixture, out: &Path, opts: ExportOptions) -> ExportSummary {
    let central = Central::open(&f.db).expect("open");
    export(central.store(), &opts, out, &mut |_, _| {}).expect("export")
}

fn identity() -> Option<ResearcherIdentity> {
    Some(ResearcherIdentity::parse(common::TEST_IDENTITY).expect("identity"))
}

/// A CSV file as (header, rows as column -> value).
fn read(path: &Path) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
    let mut unique = header.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), header.len(), "duplicate column names in {}", path.display());
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.expect("record");
            assert_eq!(rec.len(), header.len());
            header.iter().cloned().zip(rec.iter().map(String::from)).collect()
        })
        .collect();
    (header, rows)
}

fn row<'a>(rows: &'a [HashMap<String, String>], key: &str) -> &'a HashMap<String, String> {
    rows.iter().find(|r| r["KEY"] == key).unwrap_or_else(|| panic!("no row {key}"))
}

#[test]
fn csv_tables_hold_every_value_linked_by_keys() {
    let f = fixture();
    let out = common::tempdir();
    let summary = run(&f, out.path(), ExportOptions { identity: identity(), ..Default::default() });
    assert_eq!(summary.responses, 4, "r1 r2 r3 r4; r5 sealed to another key, r6 tampered");

    let (header, rows) = read(&out.path().join("study.csv"));
    assert_eq!(rows.len(), 3, "r1, r2 (version 2), r3; not the tampered r6");
    // Versions merged: the union of columns; v2's `staff` at the end.
    assert_eq!(header.last().map(String::as_str), Some("staff"));
    for col in [
        "cap-score",
        "channels",
        "channels/call",
        "channels/visit",
        "place-Latitude",
        "place-Longitude",
        "place-Altitude",
        "place-Accuracy",
        "meta-participant",
        "meta-round",
    ] {
        assert!(header.contains(&col.to_string()), "{col} missing from {header:?}");
    }
    assert!(!header.iter().any(|h| h == "name"), "personal data exported: {header:?}");
    assert!(!header.iter().any(|h| h.starts_with("changes")), "repeat columns in main table");

    let r1 = row(&rows, &f.ids["r1"]);
    let r3 = row(&rows, &f.ids["r3"]);
    let p1 = &r1["meta-participant"];
    assert!(p1.starts_with('P') && p1.len() == 17 && !p1.contains("0042"), "{p1}");
    assert_ne!(&r3["meta-participant"], p1);
    let expect = |r: &HashMap<String, String>, pairs: &[(&str, &str)]| {
        for (k, v) in pairs {
            assert_eq!(r[*k], *v, "column {k}");
        }
    };
    expect(
        r1,
        &[
            ("meta-round", "1"),
            ("meta-form_version", "1"),
            ("meta-enumerator", "enum-7"),
            ("cap-score", "1"),
            ("channels", "call visit"),
            ("channels/call", "1"),
            ("channels/visit", "1"),
            ("place-Latitude", "-19.84"),
            ("place-Longitude", "34.84"),
            ("place-Altitude", "12.5"),
            ("place-Accuracy", "4.0"),
            ("staff", ""),
        ],
    );
    expect(
        r3,
        &[
            ("meta-round", "1"),
            ("cap-score", "2"),
            ("channels", "visit"),
            ("channels/call", "0"),
            ("channels/visit", "1"),
            ("place-Latitude", "23.16"),
        ],
    );
    assert!(!r1["meta-submitted"].is_empty() && !r1["meta-received"].is_empty());

    let (rh, reps) = read(&out.path().join("study-changes.csv"));
    assert_eq!(&rh[..2], &["PARENT_KEY".to_string(), "KEY".to_string()]);
    assert_eq!(reps.len(), 2);
    assert_eq!(reps[0]["PARENT_KEY"], f.ids["r1"]);
    assert_eq!(reps[0]["KEY"], format!("{}/changes[1]", f.ids["r1"]));
    assert_eq!(reps[1]["KEY"], format!("{}/changes[2]", f.ids["r1"]));
    assert_eq!(reps[0]["desc"], "Budget line, \"FSM\" 2027");
    assert_eq!(reps[1]["desc"], "Plan\nadopted");
    assert_eq!(reps[0]["kind"], "budget");

    // The sealed form, opened with the identity.
    let (_, sealed) = read(&out.path().join("sealed.csv"));
    assert_eq!(sealed.len(), 1);
    assert_eq!(sealed[0]["KEY"], f.ids["r4"]);
    assert_eq!(sealed[0]["meta-participant"], r3["meta-participant"], "one pseudonym across forms");
    let (_, sealed_reps) = read(&out.path().join("sealed-changes.csv"));
    assert_eq!(sealed_reps[0]["desc"], "Sealed desc");

    // Nothing silently dropped.
    let (_, report) = read(&out.path().join("report.csv"));
    let kinds: BTreeMap<String, String> =
        report.iter().map(|r| (r["instance_id"].clone(), r["kind"].clone())).collect();
    assert_eq!(kinds.get(&f.ids["r5"]).map(String::as_str), Some("sealed_wrong_identity"));
    assert_eq!(kinds.get(&f.ids["r6"]).map(String::as_str), Some("tampered"));
    assert_eq!(report.len(), 2, "{report:?}");
    assert_eq!(summary.report.get("tampered"), Some(&1));
}

#[test]
fn the_second_version_row_and_pseudonyms_stable_across_rounds_and_exports() {
    let f = fixture();
    let a = common::tempdir();
    let b = common::tempdir();
    run(&f, a.path(), ExportOptions { identity: identity(), ..Default::default() });
    run(&f, b.path(), ExportOptions::default());
    let (_, rows) = read(&a.path().join("study.csv"));
    let (_, rows_b) = read(&b.path().join("study.csv"));
    assert_eq!(rows, rows_b, "the same pseudonyms in two exports");
    let r1 = row(&rows, &f.ids["r1"]);
    // r2 (version 2, round 2) is in the same table.
    let r2 = row(&rows, &f.ids["r2"]);
    assert_eq!(r1["meta-participant"], r2["meta-participant"], "same participant, two rounds");
    assert_eq!(r2["meta-round"], "2");
    assert_eq!(r2["meta-form_version"], "2");
    assert_eq!(r2["staff"], "4");
    assert_eq!(r2["cap-score"], "na");
    assert_eq!(r2["channels"], "");
    assert_eq!(r2["channels/call"], "", "not answered is empty, not 0");
    // Without an identity sealed responses are listed, not dropped.
    let (_, report) = read(&b.path().join("report.csv"));
    let sealed: Vec<_> = report.iter().filter(|r| r["kind"] == "sealed_not_opened").collect();
    assert_eq!(sealed.len(), 2);
}

#[test]
fn labels_in_each_language() {
    let f = fixture();
    for (lang, low, na, budget) in [
        ("en", "Low", "Not applicable", "Budget line"),
        ("Portuguese", "Baixa", "Não se aplica", "Rubrica orçamental"),
        (BN, "কম", "প্রযোজ্য নয়", "বাজেট"),
    ] {
        let out = common::tempdir();
        run(
            &f,
            out.path(),
            ExportOptions {
                labels: true,
                lang: Some(lang.into()),
                identity: identity(),
                ..Default::default()
            },
        );
        let (_, rows) = read(&out.path().join("study.csv"));
        assert_eq!(row(&rows, &f.ids["r1"])["cap-score"], low, "{lang}");
        assert_eq!(row(&rows, &f.ids["r2"])["cap-score"], na, "{lang}");
        let (_, reps) = read(&out.path().join("study-changes.csv"));
        assert_eq!(reps[0]["kind"], budget, "{lang}");
        // 0/1 columns stay 0/1.
        assert_eq!(row(&rows, &f.ids["r1"])["channels/call"], "1");
    }
    let central = Central::open(&f.db).expect("open");
    let out = common::tempdir();
    let err = export(
        central.store(),
        &ExportOptions { lang: Some("fr".into()), ..Default::default() },
        out.path(),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("\"fr\"") && err.to_string().contains(PT), "{err}");
}

#[test]
fn personal_data_only_when_asked() {
    let f = fixture();
    let out = common::tempdir();
    run(
        &f,
        out.path(),
        ExportOptions { include_pii: true, identity: identity(), ..Default::default() },
    );
    let (_, rows) = read(&out.path().join("study.csv"));
    let r1 = row(&rows, &f.ids["r1"]);
    assert_eq!(r1["name"], "Ana Matsinhe");
    assert_eq!(r1["meta-participant"], "MZ-0042");
    let (_, rows) = read(&out.path().join("codebook.csv"));
    let name = rows.iter().find(|r| r["variable"] == "name").expect("name in codebook");
    assert_eq!(name["pii"], "yes");

    // Without --include-pii nothing personal appears anywhere in the export.
    let out = common::tempdir();
    run(
        &f,
        out.path(),
        ExportOptions {
            identity: identity(),
            panel: true,
            format: Some(Format::Json),
            ..Default::default()
        },
    );
    for entry in std::fs::read_dir(out.path()).expect("dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        for secret in ["Ana Matsinhe", "Rahim", "MZ-0042", "BD-0007"] {
            assert!(!text.contains(secret), "{secret} in {}", path.display());
        }
    }
}

#[test]
fn panel_has_one_row_per_participant_and_round() {
    let f = fixture();
    let out = common::tempdir();
    let summary = run(
        &f,
        out.path(),
        ExportOptions { identity: identity(), panel: true, ..Default::default() },
    );
    let (header, rows) = read(&out.path().join("panel.csv"));
    assert_eq!(rows.len(), 3, "MZ-0042 rounds 1 and 2, BD-0007 round 1 (r5 unopened, r6 tampered)");
    assert_eq!(summary.panel_rows, 3);
    let (_, study) = read(&out.path().join("study.csv"));
    let p1 = &row(&study, &f.ids["r1"])["meta-participant"];
    let p2 = &row(&study, &f.ids["r3"])["meta-participant"];
    let find = |p: &str, round: &str| {
        rows.iter()
            .find(|r| r["participant"] == p && r["round"] == round)
            .unwrap_or_else(|| panic!("no {p} {round}"))
    };
    // Two forms share question names: the panel prefixes them with the form's alias.
    assert_eq!(
        header,
        [
            "participant",
            "round",
            "sealed_key",
            "sealed_score",
            "sealed_channels",
            "sealed_channels_call",
            "sealed_channels_visit",
            "sealed_place_Latitude",
            "sealed_place_Longitude",
            "sealed_place_Altitude",
            "sealed_place_Accuracy",
            "sealed_staff",
            "study_key",
            "study_score",
            "study_channels",
            "study_channels_call",
            "study_channels_visit",
            "study_place_Latitude",
            "study_place_Longitude",
            "study_place_Altitude",
            "study_place_Accuracy",
            "study_staff",
        ]
    );
    let a = find(p1, "1");
    let b = find(p1, "2");
    assert_eq!((a["study_score"].as_str(), b["study_score"].as_str()), ("1", "na"));
    assert_eq!(b["study_staff"], "4");
    assert_eq!(a["sealed_key"], "");
    let c = find(p2, "1");
    assert_eq!(c["study_key"], f.ids["r3"]);
    assert_eq!(c["sealed_key"], f.ids["r4"], "both forms of one round side by side");
    assert_eq!(c["sealed_channels_call"], "1");
    // Each panel name is in the codebook with the column it comes from.
    let (_, codebook) = read(&out.path().join("codebook.csv"));
    let score = codebook.iter().find(|r| r["table"] == "panel" && r["variable"] == "study_score");
    assert_eq!(score.map(|r| r["path"].as_str()), Some("study:cap-score"));
}

#[test]
fn xlsx_and_json_hold_the_same_rows() {
    use calamine::{Reader, open_workbook_auto};
    let f = fixture();
    let out = common::tempdir();
    run(
        &f,
        out.path(),
        ExportOptions { format: Some(Format::Xlsx), identity: identity(), ..Default::default() },
    );
    let mut book = open_workbook_auto(out.path().join("study.xlsx")).expect("xlsx");
    assert_eq!(book.sheet_names(), vec!["study".to_string(), "study-changes".to_string()]);
    let range = book.worksheet_range("study-changes").expect("sheet");
    assert_eq!(range.height(), 3);
    assert_eq!(range.get((1, 2)).map(|c| c.to_string()), Some("Budget line, \"FSM\" 2027".into()));

    let out = common::tempdir();
    run(
        &f,
        out.path(),
        ExportOptions { format: Some(Format::Json), identity: identity(), ..Default::default() },
    );
    let text = std::fs::read_to_string(out.path().join("study.jsonl")).expect("jsonl");
    let docs: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(docs.len(), 3);
    let d1 = docs.iter().find(|d| d["KEY"] == f.ids["r1"].as_str()).expect("r1");
    assert_eq!(d1["data"]["cap"]["score"], "1");
    assert_eq!(d1["data"]["changes"].as_array().map(Vec::len), Some(2));
    assert_eq!(d1["data"]["changes"][1]["kind"], "plan");
    assert!(d1["data"].get("name").is_none());
}

/// In ODK Central's layout a sealed response that cannot be opened is
/// still a row, with Central's `Status`, and report.csv lists it as ever.
#[test]
fn odk_layout_lists_what_it_cannot_decrypt_as_central_does() {
    let f = fixture();
    for (identity, r4_status) in [(None, "not decrypted"), (identity(), "")] {
        let out = common::tempdir();
        let opened = identity.is_some();
        run(&f, out.path(), ExportOptions { layout: Layout::Odk, identity, ..Default::default() });
        let (header, rows) = read(&out.path().join("sealed.csv"));
        assert_eq!(header[0], "SubmissionDate");
        assert_eq!(header.last().map(String::as_str), Some("FormVersion"));
        assert_eq!(rows.len(), 2, "r4 and r5, opened or not");
        assert_eq!(row(&rows, &f.ids["r4"])["Status"], r4_status);
        let r5 = row(&rows, &f.ids["r5"]);
        assert_eq!(r5["Status"], "not decrypted", "sealed to another key");
        assert_eq!(r5["FormVersion"], "2");
        assert_eq!(r5["meta-instanceID"], "", "nothing of its content");
        if opened {
            assert_eq!(row(&rows, &f.ids["r4"])["meta-instanceID"], f.ids["r4"]);
        }
        let (_, report) = read(&out.path().join("report.csv"));
        let sealed = report.iter().filter(|r| r["kind"].starts_with("sealed_")).count();
        assert_eq!(sealed, if opened { 1 } else { 2 });
        // No byte-order mark in Central's layout.
        let bytes = std::fs::read(out.path().join("study.csv")).expect("csv");
        assert!(bytes.starts_with(b"SubmissionDate,"));
    }
}

#[test]
fn since_and_version_filters() {
    let f = fixture();
    let out = common::tempdir();
    let s = run(
        &f,
        out.path(),
        ExportOptions {
            filter: Filter { form: Some("study".into()), version: Some("2".into()), since: None },
            ..Default::default()
        },
    );
    assert_eq!(s.responses, 1);
    let (header, rows) = read(&out.path().join("study.csv"));
    assert_eq!(rows[0]["KEY"], f.ids["r2"]);
    assert!(header.contains(&"staff".to_string()));
    assert!(!out.path().join("sealed.csv").exists());
    let s = run(
        &f,
        out.path(),
        ExportOptions {
            filter: Filter { since: Some("2999-01-01".into()), ..Default::default() },
            ..Default::default()
        },
    );
    assert_eq!(s.responses, 0);
}

/// The names each `rename` gives, per table section of the `.do` file.
#[test]
fn stata_and_spss_files_label_every_variable() {
    let f = fixture();
    let out = common::tempdir();
    run(
        &f,
        out.path(),
        ExportOptions { format: Some(Format::Stata), identity: identity(), ..Default::default() },
    );
    let dofile = std::fs::read_to_string(out.path().join("export.do")).expect("do");
    let sections: Vec<&str> = dofile.split("* ---- ").skip(1).collect();
    assert_eq!(sections.len(), 4, "study, study-changes, sealed, sealed-changes");
    for section in &sections {
        let mut defined = Vec::new();
        let mut names = Vec::new();
        let mut labelled = Vec::new();
        for line in section.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            // Compound quotes balanced on every line.
            assert_eq!(line.matches("`\"").count(), line.matches("\"'").count(), "{line}");
            match words.as_slice() {
                ["rename", from, to] if from.starts_with('v') => names.push(to.to_string()),
                ["label", "define", name, ..] => defined.push(name.to_string()),
                ["label", "values", _, name] => {
                    assert!(defined.contains(&name.to_string()), "{name} applied before defined")
                }
                ["label", "variable", var, ..] => labelled.push(var.to_string()),
                _ => {}
            }
        }
        for n in &names {
            assert!(
                n.len() <= 32 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{n}"
            );
            assert!(labelled.contains(n), "{n} has no variable label");
        }
        assert!(!names.is_empty());
    }
    assert!(dofile.contains("label define l_scale .n `\"Not applicable\"', add"), "{dofile}");
    // Every language of the form, as `label language` keeps them.
    assert!(dofile.contains("label language pt, new"), "{dofile}");
    assert!(dofile.contains("label define l_scale_pt .n `\"Não se aplica\"'"), "{dofile}");
    // The mapping to the CSV names is in the codebook.
    let (_, codebook) = read(&out.path().join("codebook.csv"));
    let score = codebook
        .iter()
        .find(|r| r["variable"] == "cap-score" && r["table"] == "study")
        .expect("score");
    assert_eq!(score["stata_name"], "score");
    assert_eq!(score["relevant"], "${name} != ''");
    assert_eq!(score["constraint"], ". != '0'");
    assert_eq!(score[&format!("label::{PT}")], "Capacidade de planeamento");
    assert_eq!(score[&format!("choices::{BN}")], "1=কম | 2=বেশি | na=প্রযোজ্য নয়");
    let staff = codebook.iter().find(|r| r["variable"] == "staff").expect("staff");
    assert_eq!(staff["versions"], "2");
    assert_eq!(score["versions"], "1 2");

    let out = common::tempdir();
    run(
        &f,
        out.path(),
        ExportOptions { format: Some(Format::Spss), identity: identity(), ..Default::default() },
    );
    let sps = std::fs::read_to_string(out.path().join("export.sps")).expect("sps");
    let sections: Vec<&str> = sps.split("GET FILE=").skip(1).collect();
    assert_eq!(sections.len(), 4, "study, study-changes, sealed, sealed-changes");
    for section in sections {
        // Every variable of the .sav is labelled, and every name is valid.
        let labels = section.split("VARIABLE LABELS").nth(1).expect("labels");
        let labels = labels.split(".\n").next().expect("block");
        let vars: Vec<&str> = labels.lines().filter_map(|l| l.split_whitespace().next()).collect();
        assert!(vars.len() > 2);
        for v in &vars {
            assert!(v.len() <= 64 && !v.starts_with(|c: char| c.is_ascii_digit()), "{v}");
        }
        for line in section.lines() {
            assert_eq!(line.matches('\'').count() % 2, 0, "unbalanced quotes: {line}");
        }
    }
    // The same codes as Stata's, with the missing-style choice user-missing.
    assert!(sps.contains("-914 'Not applicable'"), "{sps}");
    assert!(sps.contains("MISSING VALUES score (-914)."), "{sps}");
    for file in ["study.sav", "study-changes.sav", "export-pt.sps", "export-bn.sps"] {
        assert!(out.path().join(file).exists(), "{file}");
    }
    let pt = std::fs::read_to_string(out.path().join("export-pt.sps")).expect("sps");
    assert!(pt.contains("-914 'Não se aplica'"), "{pt}");
}

/// pandas reads the CSVs as a researcher would.
#[test]
fn pandas_reads_the_csv_export() {
    let Some(python) = python_with_pandas() else { return };
    let f = fixture();
    let out = common::tempdir();
    run(&f, out.path(), ExportOptions { identity: identity(), panel: true, ..Default::default() });
    let script = format!(
        r#"
import pandas as pd, sys
d = r"{dir}"
s = pd.read_csv(d + "/study.csv", dtype=str, keep_default_na=False)
c = pd.read_csv(d + "/study-changes.csv", dtype=str, keep_default_na=False)
p = pd.read_csv(d + "/panel.csv", dtype=str, keep_default_na=False)
assert len(s) == 3, len(s)
assert len(c) == 2 and len(p) == 3
r1 = s[s.KEY == "{r1}"].iloc[0]
assert r1["cap-score"] == "1" and r1["channels/visit"] == "1" and r1["place-Latitude"] == "-19.84"
m = c.merge(s, left_on="PARENT_KEY", right_on="KEY")
assert len(m) == 2
assert c.iloc[1]["desc"] == "Plan\nadopted"
n = pd.read_csv(d + "/study.csv")
assert n["place-Latitude"].dtype.kind == "f"
print("ok")
"#,
        dir = out.path().display(),
        r1 = f.ids["r1"]
    );
    let output = std::process::Command::new(python).arg("-c").arg(script).output().expect("python");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "ok");
}

/// A central holding `study` version 2 answers for the `.dta` check: text
/// in Portuguese and Bengali (one longer than a `str2045`), integers of
/// several sizes, decimals, the mixed `1`/`2`/`na` list, a text-coded
/// list in a repeat, and missing values of each kind.
fn dta_fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = common::tempdir();
    let mut store = Store::open(dir.path().join("device.db")).expect("open");
    store.init_device("tab1", Some("enum-7")).expect("init");
    for p in ["MZ-0042", "BD-0007", "MZ-0099"] {
        store.add_participant(Some(p), BTreeMap::new(), BTreeMap::new()).expect("participant");
    }
    let study = form("study", "2", &[]);
    let key = store.install_instrument(&study).expect("install");
    let long = "পরিকল্পনা ".repeat(300);
    let answers = [
        (
            "MZ-0042",
            1,
            Answers {
                name: "João Conceição",
                score: Some("1"),
                channels: Some("call visit"),
                place: "-19.8412 34.8433 12.5 4.25",
                changes: &[
                    ("Rubrica orçamental, \"FSM\" aprovada", "budget"),
                    ("Plano\nadoptado", "plan"),
                ],
                staff: Some("40000"),
            },
        ),
        (
            "MZ-0042",
            2,
            Answers {
                name: "João Conceição",
                score: Some("na"),
                channels: None,
                place: "",
                changes: &[(long.as_str(), "plan")],
                staff: Some("-3"),
            },
        ),
        (
            "BD-0007",
            1,
            Answers {
                name: "রহিম উদ্দিন",
                score: None,
                channels: Some("visit"),
                place: "23.1634 89.2001 8 6",
                changes: &[("বাজেট লাইন অনুমোদিত", "")],
                staff: None,
            },
        ),
        (
            "MZ-0099",
            1,
            Answers {
                name: "",
                score: Some("2"),
                channels: Some(""),
                place: "1 2 3 4",
                changes: &[],
                staff: Some("7"),
            },
        ),
    ];
    for (p, round, a) in &answers {
        respond(&mut store, &key, p, *round, a);
    }
    let db = dir.path().join("central.db");
    let mut central = central_holding(&store, &db);
    central.publish(&study).expect("publish");
    (dir, db)
}

/// Every `.dta` file, read by pandas, holds what its CSV holds, row by row:
/// text as text, numbers as numbers, choices as their codes with value
/// labels (`na` as `.a`), empty answers as `.`; with variable labels.
#[test]
fn pandas_reads_the_dta_files_as_the_csvs() {
    let Some(python) = python_with_pandas() else { return };
    let (_dir, db) = dta_fixture();
    let out = common::tempdir();
    let central = Central::open(&db).expect("open");
    let opts = ExportOptions {
        format: Some(Format::Stata),
        include_pii: true,
        panel: true,
        lang: Some("pt".into()),
        ..Default::default()
    };
    let summary = export(central.store(), &opts, out.path(), &mut |_, _| {}).expect("export");
    let dtas: Vec<&PathBuf> =
        summary.files.iter().filter(|p| p.extension().is_some_and(|e| e == "dta")).collect();
    assert_eq!(dtas.len(), 3, "study, study-changes, panel: {:?}", summary.files);
    let script = format!(
        r#"
import math, sys
from datetime import datetime, timedelta, timezone
import pandas as pd
from pandas.io.stata import StataReader, StataMissingValue
epoch = datetime(1960, 1, 1, tzinfo=timezone.utc)
d = r"{dir}"
# What each choice means, in Portuguese (the export's language).
labels = {{
    "score": {{"1": "Baixa", "2": "Alta", "na": "Não se aplica"}},
    "kind": {{"budget": "Rubrica orçamental", "plan": "Plano"}},
}}
lists = {{"score": "l_scale", "kind": "l_kinds"}}
yesno = {{"0": "No", "1": "Yes"}}
checked = 0
for table in ["study", "study-changes", "panel"]:
    csv = pd.read_csv(f"{{d}}/{{table}}.csv", dtype=str, keep_default_na=False)
    raw = pd.read_stata(f"{{d}}/{{table}}.dta", convert_categoricals=False, convert_missing=True, convert_dates=False)
    # Labelled variables come as categories of their labels.
    cat = pd.read_stata(f"{{d}}/{{table}}.dta")
    with StataReader(f"{{d}}/{{table}}.dta") as r:
        r.read()
        var_labels = r.variable_labels()
        value_labels = r.value_labels()
    assert len(raw) == len(csv), (table, len(raw), len(csv))
    assert len(raw.columns) == len(csv.columns), (table, list(raw.columns), list(csv.columns))
    for j, (header, var) in enumerate(zip(csv.columns, raw.columns)):
        leaf = header.split("-")[-1].split("/")[0]
        for i in range(len(csv)):
            want = csv.iloc[i, j]
            got = raw.iloc[i, j]
            where = f"{{table}} row {{i}} {{header}} ({{var}}): csv {{want!r}}, dta {{got!r}}"
            if isinstance(got, str):
                assert got == want, where
            elif header in ("meta-started", "meta-ended", "meta-submitted", "meta-received") and want != "":
                # %tc: milliseconds from 1960-01-01 in UTC.
                ms = (datetime.fromisoformat(want.replace("Z", "+00:00")) - epoch) / timedelta(milliseconds=1)
                assert abs(float(got) - ms) < 1, where
            elif want == "":
                assert isinstance(got, StataMissingValue) and got.string == ".", where
            elif "/" in header or leaf in labels:
                meaning = (yesno if "/" in header else labels[leaf])[want]
                assert cat[var].dtype.name == "category", where
                if isinstance(got, StataMissingValue):
                    # .n (not applicable) is labelled under Stata's long code for .n.
                    assert want == "na" and got.string == ".n", where
                    assert meaning in value_labels[lists[leaf]].values(), where
                    assert value_labels[lists[leaf]][2147483621 + 14] == meaning, where
                else:
                    assert cat[var].iloc[i] == meaning, where
            else:
                assert not isinstance(got, StataMissingValue) and float(want) == float(got), where
            checked += 1
    lab = {{k: v for k, v in var_labels.items() if v}}
    assert len(lab) == len(raw.columns), (table, var_labels)
    if table == "study":
        assert var_labels["score"] == "Capacidade de planeamento", var_labels
        assert var_labels["name"] == "Nome", var_labels
print("ok", checked)
"#,
        dir = out.path().display(),
    );
    let output =
        std::process::Command::new(&python).arg("-c").arg(script).output().expect("python");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("ok "), "{stdout}");
    // Every cell of the three tables was compared.
    let cells: usize = ["study", "study-changes", "panel"]
        .iter()
        .map(|t| {
            let (h, rows) = read(&out.path().join(format!("{t}.csv")));
            h.len() * rows.len()
        })
        .sum();
    assert_eq!(stdout.trim(), format!("ok {cells}"));
    // The .do and .sps read the panel too.
    let dofile = std::fs::read_to_string(out.path().join("export.do")).expect("do");
    assert!(dofile.contains("import delimited using \"panel.csv\""), "{dofile}");
    assert!(dofile.contains("save \"panel.dta\", replace"));
    // With --labels the CSV holds choice labels; the .dta still holds codes.
    let out = common::tempdir();
    let opts = ExportOptions { format: Some(Format::Stata), labels: true, ..Default::default() };
    export(central.store(), &opts, out.path(), &mut |_, _| {}).expect("export");
    let script = format!(
        r#"
import pandas as pd
raw = pd.read_stata(r"{dir}/study.dta", convert_categoricals=False, convert_missing=True, convert_dates=False)
csv = pd.read_csv(r"{dir}/study.csv", dtype=str, keep_default_na=False)
print(list(csv["cap-score"]), [getattr(v, "string", v) for v in raw["score"]])
"#,
        dir = out.path().display(),
    );
    let output = std::process::Command::new(&python).arg("-c").arg(script).output().expect("py");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "['Low', 'Not applicable', '', 'High'] [1, '.n', '.', 2]"
    );
    // The .do file codes the same labels when it rebuilds the .dta.
    let dofile = std::fs::read_to_string(out.path().join("export.do")).expect("do");
    assert!(
        dofile.contains("replace enumera_tmp = .n if score == `\"Not applicable\"'"),
        "{dofile}"
    );

    let out = common::tempdir();
    let opts = ExportOptions { format: Some(Format::Spss), panel: true, ..Default::default() };
    export(central.store(), &opts, out.path(), &mut |_, _| {}).expect("export");
    let sps = std::fs::read_to_string(out.path().join("export.sps")).expect("sps");
    assert!(sps.contains("GET FILE='panel.sav'.") && out.path().join("panel.sav").exists());
    assert!(!out.path().join("study.dta").exists(), "only --format stata writes .dta files");
}

/// A central at `db` holding every response of the device `store`.
fn central_holding(store: &Store, db: &Path) -> Central {
    let mut bundle = Vec::new();
    let options = BundleOptions { since_receipt: false, ..Default::default() };
    write_bundle(store, &options, &mut bundle).expect("bundle");
    let mut central = Central::init(db).expect("central");
    central.ingest(&bundle).expect("ingest");
    central
}

/// pandas (with pyreadstat and openpyxl), shared with export_tools.rs.
fn python_with_pandas() -> Option<PathBuf> {
    readers::python()
}
