//! The differential harness both session suites share (session_odk.rs,
//! session_random.rs): ODK's engine (tests/odk/run.mjs, over pyxform's
//! XForm) and an Enumera session fill the same form with the same steps,
//! and each leaf's state is read after every step.

// Each suite uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use enumera_core::expr::FixedEnv;
use enumera_core::session::{Form, Session, SessionOptions};
use enumera_tests::{cache_dir, repo_root};
use serde_json::{Value as Json, json};

use crate::state::{Leaf, leaf_from_json};

/// The device id both engines are given.
pub const DEVICE_ID: &str = "enumera-test";

/// Printed past the test harness's capture.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

pub fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

pub fn install(script: &str) -> Result<PathBuf, String> {
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
pub fn pyxform(
    xls2xform: &Path,
    jobs: &[(PathBuf, PathBuf)],
    work: &Path,
) -> Vec<Result<(), String>> {
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

/// The clock both engines are frozen at unless a spec says otherwise:
/// 10:30 UTC, away from midnight (see docs/EXPRESSIONS.md).
pub const DEFAULT_NOW: &str = "2024-01-15T10:30:00Z";

/// One form with one step script.
pub struct Case {
    pub form: String,
    pub script: String,
    pub xlsx: PathBuf,
    pub xml: PathBuf,
    pub steps: Vec<Json>,
    pub clock: (String, i32),
}

/// What one engine made of a case.
#[derive(Debug, Default)]
pub struct Trace {
    /// Leaves before any step, then after each.
    pub snapshots: Vec<Vec<Leaf>>,
    /// Each step's outcome: Ok or the error.
    pub outcomes: Vec<Result<(), String>>,
    pub submission: Option<String>,
}

/// Applies one step as `enumera form run --coerce` does (cli/src/run.rs).
pub fn apply(session: &mut Session, step: &Json) -> Result<(), String> {
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

pub fn enumera_snapshot(session: &Session) -> Vec<Leaf> {
    session
        .leaves()
        .iter()
        .map(|l| leaf_from_json(&serde_json::to_value(l).unwrap_or(Json::Null)))
        .collect()
}

pub fn run_enumera(form: &Arc<Form>, steps: &[Json], clock: &(String, i32)) -> Trace {
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

pub fn odk_trace(result: &Json) -> Result<Trace, String> {
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
pub fn tz_name(hours: i32) -> String {
    // POSIX Etc zones have the sign inverted.
    match hours {
        0 => "UTC".into(),
        h if h > 0 => format!("Etc/GMT-{h}"),
        h => format!("Etc/GMT+{}", -h),
    }
}

/// Runs every case through ODK: one node process per clock.
pub fn run_odk(engine: &Path, cases: &[Case], work: &Path) -> Result<Vec<Json>, String> {
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

pub fn run_odk_batch(
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

/// Long texts (the submission) shown from just before where they part.
pub fn around_first_difference(a: &str, b: &str) -> (String, String) {
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
