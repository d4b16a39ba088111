//! Step scripts: `window.enumera.runSteps(form, name, steps, {now, lang})`
//! returns the JSON document `enumera form run FORM STEPS --now NOW` prints
//! (`cli/src/run.rs`), key for key, so the browser build can be checked
//! against the native one on the project's conformance scripts
//! (web/tests/parity.test.mjs compares them on every script).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use enumera_core::expr::FixedEnv;
use enumera_core::session::{Form, Session, SessionOptions};
use serde::Deserialize;
use serde_json::{Value as Json, json};

/// How a script runs: the clock, the seed of `random()`, the language.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RunOptions {
    /// An ISO 8601 instant; `form run`'s default when absent.
    #[serde(default)]
    pub now: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub lang: Option<String>,
}

/// `form run`'s default seed.
const DEFAULT_SEED: u64 = 1;

/// One step of a script (the shapes `form run` reads).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Step {
    Set {
        set: String,
        #[serde(default)]
        value: Json,
    },
    Clear {
        clear: String,
    },
    AddRepeat {
        add_repeat: String,
        #[serde(default)]
        count: Option<usize>,
    },
    RemoveRepeat {
        remove_repeat: String,
        #[serde(default)]
        index: Option<usize>,
    },
    SetLanguage {
        set_language: String,
    },
    /// Moves the injected clock on (`form run --now`, `device fill
    /// --now`): `{"wait": 4.5}` seconds. The audit log's durations follow.
    Wait {
        wait: f64,
    },
    /// A screen is shown (a question, or a field-list group): `{"show":
    /// "/data/age"}`. Answering a question no screen shows shows it.
    Show {
        show: String,
    },
    /// A jump from the hierarchy view: `{"jump": "/data/age"}`.
    Jump {
        jump: String,
    },
    /// The enumerator leaves the form: `{"exit": true}`.
    Exit {
        exit: bool,
    },
    /// The reason for editing a finalized or returned response:
    /// `{"change_reason": "..."}`.
    ChangeReason {
        change_reason: String,
    },
    /// Who fills the form (`identify-user`): `{"user": "enum-7"}`.
    User {
        user: String,
    },
    /// A location fix from the device: `{"location": "lat lon alt acc"}`.
    Location {
        location: String,
    },
}

/// A step's value as ODK's string form: lists joined by spaces, null empty.
fn value_string(value: Json) -> String {
    match value {
        Json::Null => String::new(),
        Json::String(s) => s,
        Json::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// Applies one step; a failed step leaves the session as it was.
fn apply(session: &mut Session, raw: &Json) -> Result<(), String> {
    let step: Step = serde_json::from_value(raw.clone()).map_err(|_| {
        format!(
            "not a step: {raw} (expected set, clear, add_repeat, remove_repeat, set_language, wait, show, jump, exit, change_reason, user or location)"
        )
    })?;
    match step {
        Step::Set { set, value } => {
            session.set(&set, &value_string(value)).map_err(|e| e.to_string())
        }
        Step::Clear { clear } => session.clear(&clear).map_err(|e| e.to_string()),
        Step::AddRepeat { add_repeat, count } => {
            for _ in 0..count.unwrap_or(1) {
                session.add_repeat(&add_repeat).map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Step::RemoveRepeat { remove_repeat, index } => {
            let reference = match index {
                Some(i) => format!("{remove_repeat}[{i}]"),
                None => remove_repeat,
            };
            session.remove_repeat(&reference).map_err(|e| e.to_string())
        }
        Step::SetLanguage { set_language } => {
            session.set_language(&set_language).map_err(|e| e.to_string())
        }
        // The same as `form run` (cli/src/run.rs `audit_step`).
        Step::Wait { wait } => {
            if !wait.is_finite() || wait < 0.0 {
                return Err(format!("wait {wait}: give a number of seconds, 0 or more"));
            }
            if session.advance_clock((wait * 1000.0).round() as i64) {
                Ok(())
            } else {
                Err("wait needs the test clock: run with --now INSTANT".into())
            }
        }
        Step::Show { show } => session.show(&show).map_err(|e| e.to_string()),
        Step::Jump { jump } => session.jump(&jump).map_err(|e| e.to_string()),
        Step::Exit { exit } => {
            if exit {
                session.exit();
            }
            Ok(())
        }
        Step::ChangeReason { change_reason } => {
            session.set_change_reason(&change_reason).map_err(|e| e.to_string())
        }
        Step::User { user } => session.set_audit_user(&user).map_err(|e| e.to_string()),
        Step::Location { location } => {
            session.record_location(&location).map_err(|e| e.to_string())
        }
    }
}

/// The state of a session: leaves, containers, blockers, submission.
pub fn state_json(session: &Session) -> Json {
    json!({
        "form": {
            "id": session.form().instrument.form_id,
            "version": session.form().instrument.version,
            "hash": session.form().hash,
            "languages": session.form().instrument.languages,
        },
        "active_language": session.language(),
        "leaves": session.leaves(),
        "containers": session.containers(),
        "blockers": session.blockers(),
        "submission": {
            "xml": session.submission_xml(),
            "json": session.submission_json(),
        },
    })
}

/// Runs a script and returns `form run`'s document. Errors are what `form
/// run` refuses before the first step (a bad clock, an unknown language).
pub fn run(form: Arc<Form>, steps: &[Json], options: &RunOptions) -> Result<Json, String> {
    let now: DateTime<Utc> = match &options.now {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|e| format!("--now {s:?} is not an ISO 8601 instant: {e}"))?
            .with_timezone(&Utc),
        None => FixedEnv::default().now,
    };
    let env = FixedEnv::new(now, options.seed.unwrap_or(DEFAULT_SEED));
    let mut session = Session::with_env(form, SessionOptions::default(), Box::new(env));
    if let Some(l) = &options.lang {
        session.set_language(l).map_err(|e| e.to_string())?;
    }
    // The audit log (a form with `audit`) starts with the steps.
    session.audit_begin(None);
    let mut outcomes = Vec::with_capacity(steps.len());
    for (index, step) in steps.iter().enumerate() {
        let r = apply(&mut session, step);
        outcomes.push(json!({
            "index": index,
            "step": step,
            "ok": r.is_ok(),
            "error": r.err(),
        }));
    }
    let mut state = state_json(&session);
    state["steps"] = Json::Array(outcomes);
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Arc<Form> {
        let json = serde_json::json!({
            "model_version": enumera_core::instrument::model::MODEL_VERSION,
            "form_id": "f", "version": "1", "title": "F", "root_name": "data",
            "settings": {}, "children": [
                {"name": "age", "kind": {"kind": "question", "type": "integer"}, "row": 2},
                {"name": "m", "kind": {"kind": "repeat"}, "row": 3, "children": [
                    {"name": "n", "kind": {"kind": "question", "type": "text"}, "row": 4}
                ]}
            ],
        });
        let i = enumera_core::instrument::Instrument::from_json(json.to_string().as_bytes())
            .expect("instrument");
        Arc::new(Form::compile(i).expect("compiles"))
    }

    #[test]
    fn steps_report_each_outcome_and_the_final_state() {
        let steps: Vec<Json> = serde_json::from_str(
            r#"[{"set": "/data/age", "value": 34}, {"set": "/data/age", "value": "old"},
                {"add_repeat": "/data/m", "count": 2}, {"remove_repeat": "/data/m", "index": 1},
                {"bogus": 1}]"#,
        )
        .expect("json");
        let doc = run(form(), &steps, &RunOptions::default()).expect("runs");
        let ok: Vec<bool> =
            doc["steps"].as_array().into_iter().flatten().map(|s| s["ok"] == true).collect();
        assert_eq!(ok, [true, false, true, true, false]);
        // The clock steps, as `form run` reads them.
        let steps: Vec<Json> = serde_json::from_str(
            r#"[{"wait": 2}, {"show": "/data/age"}, {"exit": true}, {"wait": -1}]"#,
        )
        .expect("json");
        let clock = run(form(), &steps, &RunOptions::default()).expect("runs");
        let ok: Vec<bool> =
            clock["steps"].as_array().into_iter().flatten().map(|s| s["ok"] == true).collect();
        assert_eq!(ok, [true, true, true, false]);
        assert!(doc["steps"][4]["error"].as_str().unwrap_or("").starts_with("not a step"));
        let xml = doc["submission"]["xml"].as_str().unwrap_or("");
        assert!(xml.contains("<age>34</age>"), "{xml}");
        assert_eq!(xml.matches("<m>").count(), 2, "{xml}");
    }

    #[test]
    fn a_bad_clock_is_refused_before_any_step() {
        let options = RunOptions { now: Some("yesterday".into()), ..Default::default() };
        let e = run(form(), &[], &options).expect_err("refused");
        assert!(e.contains("ISO 8601"), "{e}");
    }
}
