//! Every export format read back with the tools researchers use, as they
//! would use them: pandas and pyreadstat (Python), R with haven and readxl,
//! and PSPP running the `.sps`. Each checks, against what was collected:
//! types (numbers are numbers, numeric calculates too), dates and times,
//! value labels and the shared codes, missing-style choices as missing
//! values, labels in the chosen language and the others, the panel, and
//! that every answer (line breaks of every kind, quotes, Bengali, a
//! formula-like text, 30,000 characters) comes back whole.
//!
//! The tools are installed by `scripts/export-tools.sh` (Debian packages
//! `pspp`, `r-base-core`, `r-cran-haven`, `r-cran-readxl`) and, for Python,
//! on first use into `$ENUMERA_CACHE/venv-export`. A test whose tool the
//! machine cannot have says so and skips.

mod common;
mod readers;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use enumera_central::Central;
use enumera_central::export::{ExportOptions, Format, export};
use enumera_core::bundle::{BundleOptions, finalize_response, write_bundle};
use enumera_core::instrument::Instrument;
use enumera_core::store::{NewResponse, Store};

const EN: &str = "English (en)";
const PT: &str = "Portuguese (pt)";
const BN: &str = "Bengali (bn)";

fn text(en: &str, pt: &str, bn: &str) -> serde_json::Value {
    serde_json::json!({ EN: en, PT: pt, BN: bn })
}

/// A form with every kind of column the typed files treat differently.
fn form() -> Instrument {
    let q = |name: &str, ty: &str, label: serde_json::Value| serde_json::json!({"name": name, "kind": {"kind": "question", "type": ty}, "row": 2, "label": label});
    let sel = |name: &str, ty: &str, list: &str, label: serde_json::Value| {
        let mut v = q(name, ty, label);
        v["kind"]["list"] = list.into();
        v
    };
    let calc = |name: &str, expr: &str| {
        serde_json::json!({"name": name, "kind": {"kind": "question", "type": "calculate"}, "row": 2,
            "bind": {"calculation": expr}})
    };
    let choice = |name: &str, en: &str, pt: &str, bn: &str| serde_json::json!({"name": name, "label": text(en, pt, bn), "row": 2});
    let json = serde_json::json!({
        "model_version": enumera_core::instrument::model::MODEL_VERSION,
        "form_id": "tools", "version": "1", "title": "Tools", "root_name": "data",
        "default_language": EN, "languages": [EN, PT, BN], "settings": {},
        "children": [
            serde_json::json!({"name": "start", "kind": {"kind": "question", "type": "start"}, "row": 2}),
            serde_json::json!({"name": "end", "kind": {"kind": "question", "type": "end"}, "row": 2}),
            q("name", "text", text("Notes", "Notas", "নোট")),
            q("age", "integer", text("Age", "Idade", "বয়স")),
            q("weight", "decimal", text("Weight", "Peso", "ওজন")),
            sel("score", "select_one", "scale", text("Capacity", "Capacidade", "সক্ষমতা")),
            sel("agree", "select_one", "yesno", text("Agrees", "Concorda", "সম্মত")),
            sel("channels", "select_multiple", "channels", text("Channels", "Canais", "মাধ্যম")),
            q("visit_date", "date", text("Visit date", "Data da visita", "পরিদর্শনের তারিখ")),
            q("visit_time", "time", text("Visit time", "Hora da visita", "পরিদর্শনের সময়")),
            q("seen_at", "date_time", text("Seen at", "Visto em", "দেখা হয়েছে")),
            q("place", "geopoint", text("Place", "Local", "স্থান")),
            calc("mean", "round((${age} + ${weight}) div 2, 2)"),
            calc("n_channels", "count-selected(${channels})"),
            calc("label_calc", "concat('P-', ${agree})"),
            calc("flag_calc", "if(${age} > 30, '1', '0')"),
            serde_json::json!({"name": "changes", "kind": {"kind": "repeat"}, "row": 20, "label": text("Changes", "Mudanças", "পরিবর্তন"),
                "children": [
                    q("desc", "text", text("Description", "Descrição", "বিবরণ")),
                    q("when", "date", text("When", "Quando", "কখন")),
                    sel("kind", "select_one", "kinds", text("Kind", "Tipo", "ধরন")),
                ]}),
        ],
        "choices": {
            "scale": {"choices": [choice("1", "Low", "Baixa", "কম"), choice("2", "Medium", "Média", "মাঝারি"),
                choice("3", "High", "Alta", "বেশি"), choice("na", "Not applicable", "Não se aplica", "প্রযোজ্য নয়"),
                choice("dk", "Don't know", "Não sabe", "জানি না")]},
            "yesno": {"choices": [choice("yes", "Yes", "Sim", "হ্যাঁ"), choice("no", "No", "Não", "না")]},
            "channels": {"choices": [choice("call", "Call", "Chamada", "কল"), choice("visit", "Visit", "Visita", "পরিদর্শন")]},
            "kinds": {"choices": [choice("budget", "Budget line", "Rubrica orçamental", "বাজেট"), choice("plan", "Plan", "Plano", "পরিকল্পনা")]},
        },
    });
    Instrument::from_json(json.to_string().as_bytes()).expect("instrument")
}

/// Answers that break naive readers and writers.
fn hard_answers() -> Vec<String> {
    vec![
        "first line\nsecond line\n\nfourth after a blank".into(),
        "windows\r\nline ends\r\n".into(),
        "quotes \"double\" and 'single', commas, and a trailing backslash \\".into(),
        "পরিকল্পনা সক্ষমতা — Capacidade de planeamento, ação".into(),
        "SPSS and Stata syntax: . / * `macro' $global ' \" END DATA.".into(),
        "=SUM(A1:A2) looks like a formula, -5 too".into(),
        "ব".repeat(10_000),
        "x".repeat(30_000),
    ]
}

/// One response as collected.
#[derive(Debug, Clone, serde::Serialize)]
struct Answer {
    #[serde(rename = "KEY")]
    key: String,
    participant: String,
    round: i64,
    name: String,
    age: String,
    weight: String,
    score: String,
    agree: String,
    channels: String,
    visit_date: String,
    visit_time: String,
    seen_at: String,
    start: String,
    end: String,
    place: String,
    mean: String,
    n_channels: String,
    label_calc: String,
    flag_calc: String,
    changes: Vec<(String, String, String)>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\r', "&#13;")
}

fn answers() -> Vec<Answer> {
    let hard = hard_answers();
    let ages = ["25", "40", "-3", "120000", "0", "33", "61", "18"];
    let weights = ["70.5", "", "65.25", "80", "0.1", "99.9", "55", "60.75"];
    let scores = ["1", "2", "na", "dk", "3", "", "2", "1"];
    let agree = ["yes", "no", "", "yes", "no", "yes", "no", "yes"];
    let channels = ["call", "call visit", "", "visit", "call", "", "visit call", "call"];
    (0..8)
        .map(|i| {
            let age: f64 = ages[i].parse().unwrap_or(0.0);
            let weight: f64 = weights[i].parse().unwrap_or(f64::NAN);
            let mean = if weight.is_nan() {
                String::new()
            } else {
                format!("{}", ((age + weight) / 2.0 * 100.0).round() / 100.0)
            };
            let n_channels = channels[i].split_whitespace().count().to_string();
            let day = 9 + i;
            Answer {
                key: String::new(),
                participant: format!("MZ-{:04}", i % 4 + 1),
                round: (i / 4 + 1) as i64,
                name: hard[i].clone(),
                age: ages[i].into(),
                weight: weights[i].into(),
                score: scores[i].into(),
                agree: agree[i].into(),
                channels: channels[i].into(),
                visit_date: if i == 3 { String::new() } else { format!("2026-03-{day:02}") },
                visit_time: format!("{:02}:30:15.250+02:00", 8 + i),
                seen_at: format!("2026-03-{day:02}T09:30:00.000+02:00"),
                start: format!("2026-03-{day:02}T09:00:00.000+02:00"),
                end: format!("2026-03-{day:02}T09:{:02}:00.000+02:00", 20 + i),
                place: format!("-19.8{i} 34.8{i} 12.5 4.0"),
                mean,
                n_channels,
                label_calc: if agree[i].is_empty() {
                    String::new()
                } else {
                    format!("P-{}", agree[i])
                },
                flag_calc: if age > 30.0 { "1".into() } else { "0".into() },
                changes: (0..i % 3)
                    .map(|k| {
                        (
                            format!("change {k} of response {i}\nwith a second line, \"quoted\""),
                            format!("2025-0{}-15", k + 1),
                            ["budget", "plan"][k % 2].to_string(),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

fn xml(a: &Answer) -> String {
    let mut x = format!(
        "<data id=\"tools\" version=\"1\"><start>{}</start><end>{}</end><name>{}</name><age>{}</age><weight>{}</weight>\
         <score>{}</score><agree>{}</agree><channels>{}</channels><visit_date>{}</visit_date><visit_time>{}</visit_time>\
         <seen_at>{}</seen_at><place>{}</place><mean>{}</mean><n_channels>{}</n_channels><label_calc>{}</label_calc>\
         <flag_calc>{}</flag_calc>",
        a.start,
        a.end,
        escape(&a.name),
        a.age,
        a.weight,
        a.score,
        a.agree,
        a.channels,
        a.visit_date,
        a.visit_time,
        a.seen_at,
        a.place,
        a.mean,
        a.n_channels,
        a.label_calc,
        a.flag_calc
    );
    for (d, w, k) in &a.changes {
        x += &format!(
            "<changes><desc>{}</desc><when>{w}</when><kind>{k}</kind></changes>",
            escape(d)
        );
    }
    x + &format!("<meta><instanceID>{}</instanceID></meta></data>", a.key)
}

/// A central holding the answers (with their instance ids filled in).
fn central() -> (tempfile::TempDir, PathBuf, Vec<Answer>) {
    let dir = common::tempdir();
    let mut store = Store::open(dir.path().join("device.db")).expect("open");
    store.init_device("tab1", Some("enum-1")).expect("init");
    let form = form();
    let key = store.install_instrument(&form).expect("install");
    let mut out = Vec::new();
    for mut a in answers() {
        let mut new = NewResponse::new(key.clone());
        new.participant_id = Some(a.participant.clone());
        new.round = Some(a.round);
        store.add_participant(Some(&a.participant), BTreeMap::new(), BTreeMap::new()).ok();
        a.key = store.create_draft(&new).expect("draft").instance_id;
        finalize_response(&mut store, &a.key, xml(&a), "{}".into()).expect("finalize");
        out.push(a);
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
    (dir, db, out)
}

/// Exports every format in one pass (labels in Portuguese, raw participant
/// ids so the panel can be checked) and writes what was collected beside
/// it: `expected.json`, and for R each answer's text in its own file.
fn exported() -> (tempfile::TempDir, tempfile::TempDir, Vec<Answer>) {
    let (dir, db, answers) = central();
    let central = Central::open(&db).expect("open");
    let out = common::tempdir();
    let opts = ExportOptions {
        format: Some(Format::Stata),
        also: vec![Format::Spss, Format::Xlsx, Format::Json],
        lang: Some("pt".into()),
        panel: true,
        include_pii: true,
        ..Default::default()
    };
    let summary = export(central.store(), &opts, out.path(), &mut |_, _| {}).expect("export");
    assert_eq!(summary.responses, answers.len() as u64);
    assert!(summary.report.is_empty(), "{:?}", summary.report);
    let json = serde_json::to_string_pretty(&answers).expect("json");
    std::fs::write(out.path().join("expected.json"), json).expect("write");
    let mut table = String::from(
        "index,KEY,participant,round,age,weight,score,agree,visit_date,seen_at,mean,flag_calc\n",
    );
    for (i, a) in answers.iter().enumerate() {
        std::fs::write(out.path().join(format!("expected-name-{i}.txt")), &a.name).expect("write");
        table += &format!(
            "{i},{},{},{},{},{},{},{},{},{},{},{}\n",
            a.key,
            a.participant,
            a.round,
            a.age,
            a.weight,
            a.score,
            a.agree,
            a.visit_date,
            a.seen_at,
            a.mean,
            a.flag_calc
        );
    }
    std::fs::write(out.path().join("expected.csv"), table).expect("write");
    (dir, out, answers)
}

fn run_checked(mut cmd: Command, what: &str) -> String {
    let output = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what} failed:\n{stdout}\n{stderr}");
    stdout
}

/// The number of values a script compared: it prints `ok N`.
fn checked(stdout: &str) -> usize {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("ok "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `ok N` in:\n{stdout}"))
}

#[test]
fn pandas_and_pyreadstat_read_every_format_back() {
    let Some(python) = readers::python() else { return };
    let (_dir, out, answers) = exported();
    let script = out.path().join("check.py");
    std::fs::write(&script, include_str!("export_tools/check.py")).expect("write");
    let mut cmd = Command::new(python);
    cmd.arg(&script).arg(out.path());
    let stdout = run_checked(cmd, "python check.py");
    // Every answer of every response in the CSV, .dta, .sav, XLSX and JSON.
    assert!(checked(&stdout) >= answers.len() * 50, "{stdout}");
}

#[test]
fn r_haven_and_readxl_read_every_format_back() {
    if !has_r() {
        return;
    }
    let (_dir, out, answers) = exported();
    let script = out.path().join("check.R");
    std::fs::write(&script, include_str!("export_tools/check.R")).expect("write");
    let mut cmd = Command::new("Rscript");
    cmd.arg(&script).arg(out.path());
    let stdout = run_checked(cmd, "Rscript check.R");
    assert!(checked(&stdout) >= answers.len() * 15, "{stdout}");
}

#[test]
fn pspp_runs_the_syntax_and_holds_every_answer_typed_and_labelled() {
    if Command::new("pspp").arg("--version").output().is_err() {
        eprintln!("SKIPPED: pspp is not installed (scripts/export-tools.sh installs it)");
        return;
    }
    let (_dir, out, answers) = exported();
    std::fs::write(out.path().join("check.sps"), include_str!("export_tools/check.sps"))
        .expect("write");
    let mut cmd = Command::new("pspp");
    cmd.args(["check.sps", "-O", "format=txt", "-o", "check.txt"]).current_dir(out.path());
    run_checked(cmd, "pspp check.sps");
    let listing = std::fs::read_to_string(out.path().join("check.txt")).expect("listing");
    assert!(!listing.contains("error") && !listing.contains("warning"), "{listing}");
    // The dictionary as the .sav declares it, in Portuguese...
    for want in ["Idade", "Baixa", "Não se aplica", "-914", "-904", "DATE11", "DATETIME20", "TIME8"]
    {
        assert!(listing.contains(want), "{want} missing from:\n{listing}");
    }
    // ... and in Bengali once export-bn.sps has run.
    for want in ["বয়স", "প্রযোজ্য নয়", "জানি না"] {
        assert!(listing.contains(want), "{want} missing from:\n{listing}");
    }
    // Missing-style choices are left out of statistics: the mean of the
    // scores counts only 1, 2 and 3 (five valid answers of eight).
    let valid: Vec<f64> = answers.iter().filter_map(|a| a.score.parse::<f64>().ok()).collect();
    let mean = valid.iter().sum::<f64>() / valid.len() as f64;
    assert!(listing.contains(&format!("{mean:.2}")), "mean {mean:.2} of score missing:\n{listing}");
    // Every answer, read back through PSPP (carriage returns spelled out:
    // PSPP's CSV writer drops them).
    let mut r = csv::Reader::from_path(out.path().join("pspp-tools.csv")).expect("csv");
    let header: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
    let rows: Vec<BTreeMap<String, String>> = r
        .records()
        .map(|rec| header.iter().cloned().zip(rec.expect("rec").iter().map(String::from)).collect())
        .collect();
    assert_eq!(rows.len(), answers.len());
    for a in &answers {
        let row = rows.iter().find(|r| r["KEY"] == a.key).expect("case");
        let got = row["name_cr"].replace("<CR>", "\r");
        assert_eq!(got.trim_end_matches(' '), a.name.trim_end_matches(' '));
    }
}

fn has_r() -> bool {
    let ok = Command::new("Rscript")
        .args(["-e", "library(haven); library(readxl)"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: R with haven and readxl is not installed (scripts/export-tools.sh installs r-base-core r-cran-haven r-cran-readxl)"
        );
    }
    ok
}
