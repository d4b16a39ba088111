//! Session differential suite: the forms under tests/diff/ (markdown specs,
//! see session_odk/spec.rs) and the study's instruments with their step
//! files are filled step by step by ODK Web Forms' engine (through
//! tests/odk/run.mjs --trace, on pyxform's XForm, as ODK users convert) and
//! by Enumera's session (on its own import of the same .xlsx). After every
//! step every leaf is compared on relevant, required, readonly, value,
//! constraint_valid, required_valid, label (whitespace collapsed) and select
//! options; so are each step's ok/failed outcome and the final submission
//! XML (UUIDs masked).
//!
//! Where the engines differ on purpose or ODK is wrong, the difference is
//! listed by name in session_odk/known.rs (and docs/EXPRESSIONS.md); a
//! listed difference that no longer occurs fails the test too.
//!
//! Needs node and npm (ODK's engine, installed into $ENUMERA_CACHE) and
//! python3 (pyxform); skips, saying why, only when the machine lacks them.

#[path = "session_odk/known.rs"]
mod known;
#[path = "session_odk/spec.rs"]
mod spec;
#[path = "session_odk/state.rs"]
mod state;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use enumera_core::expr::FixedEnv;
use enumera_core::session::{Form, Session, SessionOptions};
use enumera_tests::{cache_dir, repo_root};
use serde_json::{Value as Json, json};

use state::{Difference, Leaf, leaf_from_json, mask_uuids};

/// The device id both engines are given.
const DEVICE_ID: &str = "enumera-test";

/// Printed past the test harness's capture.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

fn install(script: &str) -> Result<PathBuf, String> {
    let out = Command::new("bash")
        .arg(repo_root().join(script))
        .env("ENUMERA_CACHE", cache_dir())
        .output()
        .map_err(|e| format!("{script}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{script} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// pyxform's XForms for many forms, in one python process (tests/tools/
/// xls2xform_batch.py, run by the venv beside `xls2xform`): for each
/// (xlsx, xml) job, Ok or pyxform's error.
fn pyxform(xls2xform: &Path, jobs: &[(PathBuf, PathBuf)], work: &Path) -> Vec<Result<(), String>> {
    let python = xls2xform.with_file_name("python");
    let jobs_path = work.join("pyxform-jobs.json");
    let list: Vec<Json> = jobs.iter().map(|(a, b)| json!([a, b])).collect();
    std::fs::write(&jobs_path, Json::Array(list).to_string()).expect("write pyxform jobs");
    let out = Command::new(&python)
        .arg(repo_root().join("tests/tools/xls2xform_batch.py"))
        .arg(&jobs_path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let results: Vec<Json> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("xls2xform_batch.py: {e}; stderr: {}", String::from_utf8_lossy(&out.stderr))
    });
    assert_eq!(results.len(), jobs.len(), "xls2xform_batch.py answered every job");
    results
        .iter()
        .map(|r| {
            if r["ok"] == true {
                Ok(())
            } else {
                Err(format!("pyxform refused the form: {}", r["error"]))
            }
        })
        .collect()
}

/// One form and its step scripts.
struct FormCase {
    name: String,
    /// The XLSForm (or, for a hand-written XForm, the XForm itself: both
    /// engines read it as it is).
    xlsx: PathBuf,
    /// A hand-written XForm (tests/xforms/), not converted by pyxform.
    xform: bool,
    scripts: Vec<(String, Vec<Json>)>,
    /// The frozen instant and the zone's offset in hours.
    clock: (String, i32),
}

/// The clock both engines are frozen at unless a spec says otherwise:
/// 10:30 UTC, away from midnight (see docs/EXPRESSIONS.md).
const DEFAULT_NOW: &str = "2024-01-15T10:30:00Z";

/// One form with one step script.
struct Case {
    form: String,
    script: String,
    xlsx: PathBuf,
    xml: PathBuf,
    steps: Vec<Json>,
    clock: (String, i32),
}

/// What one engine made of a case.
#[derive(Debug, Default)]
struct Trace {
    /// Leaves before any step, then after each.
    snapshots: Vec<Vec<Leaf>>,
    /// Each step's outcome: Ok or the error.
    outcomes: Vec<Result<(), String>>,
    submission: Option<String>,
}

/// Applies one step as `enumera form run --coerce` does (cli/src/run.rs).
fn apply(session: &mut Session, step: &Json) -> Result<(), String> {
    let text = |v: &Json| match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        Json::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    };
    // Coerced, as `enumera form run --coerce` sets values: ODK's engine
    // never refuses a value, it stores what its type makes of it.
    if let Some(r) = step["set"].as_str() {
        return session.set_coerced(r, &text(&step["value"])).map_err(|e| e.to_string());
    }
    if let Some(r) = step["clear"].as_str() {
        return session.set_coerced(r, "").map_err(|e| e.to_string());
    }
    if let Some(r) = step["add_repeat"].as_str() {
        for _ in 0..step["count"].as_u64().unwrap_or(1) {
            session.add_repeat(r).map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    if let Some(r) = step["remove_repeat"].as_str() {
        let r = match step["index"].as_u64() {
            Some(i) => format!("{r}[{i}]"),
            None => r.to_string(),
        };
        return session.remove_repeat(&r).map_err(|e| e.to_string());
    }
    if let Some(l) = step["set_language"].as_str() {
        return session.set_language(l).map_err(|e| e.to_string());
    }
    Err(format!("not a step: {step}"))
}

fn enumera_snapshot(session: &Session) -> Vec<Leaf> {
    session
        .leaves()
        .iter()
        .map(|l| leaf_from_json(&serde_json::to_value(l).unwrap_or(Json::Null)))
        .collect()
}

fn run_enumera(form: &Arc<Form>, steps: &[Json], clock: &(String, i32)) -> Trace {
    let options = SessionOptions { device_id: Some(DEVICE_ID.into()), ..Default::default() };
    let now = chrono::DateTime::parse_from_rfc3339(&clock.0)
        .unwrap_or_else(|e| panic!("clock {}: {e}", clock.0))
        .with_timezone(&chrono::Utc);
    let env = FixedEnv::new(now, 1).with_offset(clock.1 * 3600);
    let mut session = Session::with_env(form.clone(), options, Box::new(env));
    let mut trace = Trace { snapshots: vec![enumera_snapshot(&session)], ..Default::default() };
    for step in steps {
        trace.outcomes.push(apply(&mut session, step));
        trace.snapshots.push(enumera_snapshot(&session));
    }
    // ODK fills `end` when it makes the submission; Enumera on finalizing.
    session.mark_end();
    trace.submission = Some(session.submission_xml());
    trace
}

fn odk_trace(result: &Json) -> Result<Trace, String> {
    if result["load"]["status"] == "failure" {
        return Err(format!("ODK could not load the form: {}", result["load"]["error"]));
    }
    let snapshots = result["trace"]
        .as_array()
        .ok_or("no trace in the runner's output")?
        .iter()
        .map(|s| s.as_array().map(|l| l.iter().map(leaf_from_json).collect()).unwrap_or_default())
        .collect();
    let outcomes = result["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    if s["ok"] == true {
                        Ok(())
                    } else {
                        Err(s["error"].as_str().unwrap_or_default().to_string())
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Trace { snapshots, outcomes, submission: result["submission"].as_str().map(str::to_string) })
}

/// The zone name node understands for a whole-hour offset.
fn tz_name(hours: i32) -> String {
    // POSIX Etc zones have the sign inverted.
    match hours {
        0 => "UTC".into(),
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    }
}

/// Runs every case through ODK: one node process per clock.
fn run_odk(engine: &Path, cases: &[Case], work: &Path) -> Result<Vec<Json>, String> {
    let mut clocks: Vec<&(String, i32)> = cases.iter().map(|c| &c.clock).collect();
    clocks.sort();
    clocks.dedup();
    let mut results = vec![Json::Null; cases.len()];
    for (k, clock) in clocks.into_iter().enumerate() {
        let picked: Vec<usize> = (0..cases.len()).filter(|&i| &cases[i].clock == clock).collect();
        let batch: Vec<&Case> = picked.iter().map(|&i| &cases[i]).collect();
        let out = run_odk_batch(engine, &batch, clock, &work.join(format!("jobs-{k}.json")))?;
        for (i, r) in picked.into_iter().zip(out) {
            results[i] = r;
        }
    }
    Ok(results)
}

fn run_odk_batch(
    engine: &Path,
    cases: &[&Case],
    clock: &(String, i32),
    jobs_path: &Path,
) -> Result<Vec<Json>, String> {
    let jobs: Vec<Json> =
        cases.iter().map(|c| json!({"form": c.xml, "steps": c.steps, "trace": true})).collect();
    std::fs::write(jobs_path, Json::Array(jobs).to_string()).map_err(|e| e.to_string())?;
    let out = Command::new("node")
        .arg(repo_root().join("tests/odk/run.mjs"))
        .arg("--batch")
        .arg(jobs_path)
        .env("ENUMERA_ODK_ENGINE", engine)
        .env("ENUMERA_NOW", &clock.0)
        .env("TZ", tz_name(clock.1))
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let json: Json = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!("runner output is not JSON ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr))
    })?;
    match json {
        Json::Array(items) if items.len() == cases.len() => Ok(items),
        _ => Err("the runner did not answer every job".into()),
    }
}

/// The spec forms under tests/diff/, written as .xlsx into `work`.
fn spec_forms(work: &Path) -> Vec<FormCase> {
    let dir = repo_root().join("tests/diff");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("README.md"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let spec = spec::parse(p).unwrap_or_else(|e| panic!("{e}"));
            let xlsx =
                spec.xlsform().write_to(work.join(&spec.name).join(format!("{}.xlsx", spec.name)));
            let scripts = spec
                .scripts
                .into_iter()
                .map(|(n, v)| (n, v.as_array().cloned().unwrap_or_default()))
                .collect();
            FormCase {
                name: spec.name,
                xlsx,
                xform: false,
                scripts,
                clock: spec.clock.unwrap_or((DEFAULT_NOW.into(), 0)),
            }
        })
        .collect()
}

/// The study's instruments with their step files (`steps/FORM.NAME.json`).
fn study_forms() -> Vec<FormCase> {
    let dir = repo_root().join("instruments/p2p-sanitation");
    let mut forms: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    forms.retain(|p| p.extension().is_some_and(|e| e == "xlsx"));
    forms.sort();
    let mut steps: Vec<PathBuf> = std::fs::read_dir(dir.join("steps"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    steps.sort();
    forms
        .into_iter()
        .map(|xlsx| {
            let stem =
                xlsx.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let scripts = steps
                .iter()
                .filter_map(|p| {
                    let file = p.file_name()?.to_str()?;
                    let name = file.strip_prefix(&format!("{stem}."))?.strip_suffix(".json")?;
                    if name.ends_with(".expect") {
                        return None;
                    }
                    let text = std::fs::read_to_string(p).ok()?;
                    let v: Json = serde_json::from_str(&text).ok()?;
                    Some((name.to_string(), v.as_array().cloned().unwrap_or_default()))
                })
                .collect();
            FormCase {
                name: format!("p2p-{stem}"),
                xlsx,
                xform: false,
                scripts,
                clock: (DEFAULT_NOW.into(), 0),
            }
        })
        .collect()
}

/// The hand-written XForms under tests/xforms/ (the spec's features as a
/// person or another tool writes them), each with `NAME.SCRIPT.json` step
/// scripts beside it.
fn xform_forms() -> Vec<FormCase> {
    let dir = repo_root().join("tests/xforms");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let forms: Vec<&PathBuf> =
        files.iter().filter(|p| p.extension().is_some_and(|e| e == "xml")).collect();
    forms
        .into_iter()
        .map(|xml| {
            let stem =
                xml.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let scripts = files
                .iter()
                .filter_map(|p| {
                    let file = p.file_name()?.to_str()?;
                    let name = file.strip_prefix(&format!("{stem}."))?.strip_suffix(".json")?;
                    let v: Json = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
                    Some((name.to_string(), v.as_array().cloned().unwrap_or_default()))
                })
                .collect();
            FormCase {
                name: format!("xform-{stem}"),
                xlsx: xml.clone(),
                xform: true,
                scripts,
                clock: (DEFAULT_NOW.into(), 0),
            }
        })
        .collect()
}

/// Long texts (the submission) shown from just before where they part.
fn around_first_difference(a: &str, b: &str) -> (String, String) {
    const WIDTH: usize = 120;
    if a.len() <= WIDTH && b.len() <= WIDTH {
        return (a.to_string(), b.to_string());
    }
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let cut = |s: &str| -> String {
        let start = common.saturating_sub(40);
        let text: String = s.chars().skip(start).take(WIDTH).collect();
        format!("…{text}…")
    };
    (cut(a), cut(b))
}

#[test]
fn sessions_agree_with_odk_web_forms() {
    for tool in ["node", "npm", "python3"] {
        if !have(tool) {
            say(&format!("session differential: SKIPPED: {tool} is not installed"));
            return;
        }
    }
    let engine = install("tests/odk/install.sh").unwrap_or_else(|e| panic!("{e}"));
    let xls2xform = install("tests/tools/pyxform.sh").unwrap_or_else(|e| panic!("{e}"));
    let work = tempfile::tempdir().expect("temp dir");

    let mut forms = spec_forms(work.path());
    forms.extend(study_forms());
    forms.extend(xform_forms());
    let mut cases = Vec::new();
    let mut failures = Vec::new();
    let mut compiled = Vec::new();
    let jobs: Vec<(PathBuf, PathBuf)> = forms
        .iter()
        .filter(|f| !f.xform)
        .map(|f| {
            // Beside the form's own files (CSV attachments).
            let dir = work.path().join(&f.name);
            std::fs::create_dir_all(&dir).expect("work folder");
            (f.xlsx.clone(), dir.join(format!("{}.xml", f.name)))
        })
        .collect();
    let mut converted = pyxform(&xls2xform, &jobs, work.path()).into_iter().zip(jobs.iter());
    for FormCase { name, xlsx, xform, scripts, clock } in forms.iter() {
        let (conversion, xml) = if *xform {
            (Ok(()), xlsx.clone())
        } else {
            let (c, (_, xml)) = converted.next().expect("a pyxform result per XLSForm");
            (c, xml.clone())
        };
        let xml = &xml;
        if let Err(e) = conversion {
            failures.push(format!("{name}: {e}"));
            continue;
        }
        let form = match enumera_core::instrument::load_form(xlsx) {
            Ok(imported) if !imported.has_errors() => {
                Form::compile(imported.instrument).map(Arc::new).map_err(|e| e.to_string())
            }
            Ok(imported) => {
                Err(imported.errors().map(|d| d.to_string()).collect::<Vec<_>>().join("; "))
            }
            Err(e) => Err(e.to_string()),
        };
        let form = match form {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{name}: Enumera refused the form: {e}"));
                continue;
            }
        };
        assert!(!scripts.is_empty(), "{name}: no step scripts");
        for (script, steps) in scripts {
            cases.push(Case {
                form: name.clone(),
                script: script.clone(),
                xlsx: xlsx.clone(),
                xml: xml.clone(),
                steps: steps.clone(),
                clock: clock.clone(),
            });
            compiled.push(form.clone());
        }
    }
    let results = run_odk(&engine, &cases, work.path()).unwrap_or_else(|e| panic!("{e}"));

    let mut states = 0;
    let mut agreeing_states = 0;
    // Leaf states that differ only as known.rs lists.
    let mut documented_states = 0;
    let mut forms_agreeing = std::collections::BTreeMap::<&str, bool>::new();
    let mut used = vec![false; known::DIFFERENCES.len()];
    let mut report = Vec::new();
    for ((case, form), result) in cases.iter().zip(&compiled).zip(&results) {
        let label = format!("{} / {}", case.form, case.script);
        let ok_form = forms_agreeing.entry(case.form.as_str()).or_insert(true);
        let odk = match odk_trace(result) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{label}: {e} ({})", case.xlsx.display()));
                *ok_form = false;
                continue;
            }
        };
        let ours = run_enumera(form, &case.steps, &case.clock);
        let mut diffs: Vec<Difference> = Vec::new();
        for (k, (a, b)) in odk.snapshots.iter().zip(&ours.snapshots).enumerate() {
            let (n, d) = state::compare(k, a, b);
            states += n;
            let differing: std::collections::BTreeSet<String> =
                d.iter().map(|x| x.reference.clone()).collect();
            let d: Vec<Difference> = d
                .into_iter()
                .filter(|x| !known::excused(&case.form, &case.script, x, &mut used))
                .collect();
            let bad: std::collections::BTreeSet<&str> =
                d.iter().map(|x| x.reference.as_str()).collect();
            agreeing_states += n - differing.len();
            documented_states += differing.len() - bad.len();
            diffs.extend(d);
        }
        for (k, (a, b)) in odk.outcomes.iter().zip(&ours.outcomes).enumerate() {
            if a.is_ok() != b.is_ok() {
                let show = |r: &Result<(), String>| match r {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("failed: {e}"),
                };
                let step = &case.steps[k];
                let target = ["set", "clear", "add_repeat", "remove_repeat", "set_language"]
                    .iter()
                    .find_map(|key| step[*key].as_str())
                    .unwrap_or_default();
                diffs.push(Difference {
                    step: k + 1,
                    reference: target.to_string(),
                    field: "ok".into(),
                    odk: format!("{} {step}", show(a)),
                    enumera: show(b),
                });
            }
        }
        let (a, b) =
            (odk.submission.as_deref().map(mask_uuids), ours.submission.as_deref().map(mask_uuids));
        if a != b {
            diffs.push(Difference {
                step: case.steps.len(),
                reference: String::new(),
                field: "submission".into(),
                odk: a.unwrap_or_default(),
                enumera: b.unwrap_or_default(),
            });
        }
        for d in diffs {
            if (d.field == "ok" || d.field == "submission")
                && known::excused(&case.form, &case.script, &d, &mut used)
            {
                continue;
            }
            *ok_form = false;
            let (odk, ours) = around_first_difference(&d.odk, &d.enumera);
            report.push(format!(
                "{label} step {}: {} {}: ODK {odk} | Enumera {ours}",
                d.step, d.reference, d.field
            ));
        }
    }
    for (i, k) in known::DIFFERENCES.iter().enumerate() {
        if !used[i] {
            failures.push(format!(
                "known difference no longer seen (remove it): {} / {} steps {:?} {} {} ({})",
                k.form, k.script, k.steps, k.reference, k.field, k.why
            ));
        }
    }
    let agree = forms_agreeing.values().filter(|&&b| b).count();
    let with_known: std::collections::BTreeSet<&str> =
        known::DIFFERENCES.iter().zip(&used).filter(|(_, u)| **u).map(|(k, _)| k.form).collect();
    say(&format!(
        "session differential: {agree} of {} forms ({} step scripts), {agreeing_states} of {states} leaf states agree with ODK Web Forms; \
         {documented_states} leaf states differ as documented ({} listed differences in \
         session_odk/known.rs and docs/EXPRESSIONS.md, in: {})",
        forms_agreeing.len(),
        cases.len(),
        used.iter().filter(|u| **u).count(),
        with_known.into_iter().collect::<Vec<_>>().join(", ")
    ));
    for line in report.iter().take(150) {
        say(line);
    }
    if report.len() > 150 {
        say(&format!("... and {} more", report.len() - 150));
    }
    for f in &failures {
        say(f);
    }
    assert!(forms.len() >= 30, "the suite needs at least 30 forms, has {}", forms.len());
    assert!(
        report.is_empty() && failures.is_empty(),
        "{} disagreement(s), {} failure(s): see above",
        report.len(),
        failures.len()
    );
}
