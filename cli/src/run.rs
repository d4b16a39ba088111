//! `enumera form run FORM STEPS.json`: fills a form headlessly and prints
//! the state as JSON, in the shape ODK's engine harness prints it, so the two
//! can be compared leaf by leaf.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use enumera_core::expr::FixedEnv;
use enumera_core::session::{Form, Session, SessionOptions};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::UserError;

/// One step of a script.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Step {
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
    /// Answers a file question with a file: `{"attach": "/data/photo",
    /// "file": "photo.jpg"}`, the path relative to the step file's folder
    /// (or absolute).
    Attach {
        attach: String,
        file: PathBuf,
    },
}

/// Where an attach step's file is: relative paths from the step file's folder.
pub fn step_file(steps_dir: &Path, file: &Path) -> PathBuf {
    if file.is_absolute() { file.to_path_buf() } else { steps_dir.join(file) }
}

/// Reads a steps file: a JSON list of steps.
pub fn read_steps(path: &Path) -> Result<Vec<Json>, UserError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UserError(format!("{}: cannot read steps: {e}", path.display())))?;
    let v: Json = serde_json::from_str(&text)
        .map_err(|e| UserError(format!("{}: not JSON: {e}", path.display())))?;
    match v {
        Json::Array(items) => Ok(items),
        _ => Err(UserError(format!("{}: steps must be a JSON list", path.display()))),
    }
}

/// Reads one step, with a message naming what was expected.
pub fn parse_step(raw: &Json) -> Result<Step, String> {
    serde_json::from_value(raw.clone()).map_err(|_| {
        format!(
            "not a step: {raw} (expected set, clear, add_repeat, remove_repeat, set_language, attach with file, wait, show, jump, exit, change_reason, user or location)"
        )
    })
}

/// A step's value as ODK's string form: lists joined by spaces, null empty.
pub fn value_string(value: Json) -> String {
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

/// `/data/members` + index 2 -> `/data/members[2]`.
pub fn instance_ref(repeat: String, index: Option<usize>) -> String {
    match index {
        Some(i) => format!("{repeat}[{i}]"),
        None => repeat,
    }
}

/// Applies one step; a failed step leaves the session as it was. With
/// `coerce`, a value is coerced to its question's type as ODK's engine does
/// (`12.7` into an integer is `12`) instead of refused. An attach step
/// checks that the file can be read and answers with the name ODK would
/// give it (`taken`: the names given so far); nothing is kept.
pub fn apply(
    session: &mut Session,
    raw: &Json,
    coerce: bool,
    steps_dir: &Path,
    taken: &mut Vec<String>,
) -> Result<(), String> {
    match parse_step(raw)? {
        Step::Attach { attach, file } => {
            let path = step_file(steps_dir, &file);
            std::fs::File::open(&path)
                .map_err(|e| format!("{attach}: cannot read {}: {e}", path.display()))?;
            let is_file = session.question_type(&attach).map_err(|e| e.to_string())?;
            if !is_file.is_some_and(|q| q.is_attachment()) {
                return Err(enumera_core::fill::FillError::NotAFileQuestion { reference: attach }
                    .to_string());
            }
            let name =
                enumera_core::fill::odk_file_name(session.now().timestamp_millis(), &path, taken);
            session.set(&attach, &name).map_err(|e| e.to_string())?;
            taken.push(name);
            Ok(())
        }
        Step::Set { set, value } if coerce => {
            session.set_coerced(&set, &value_string(value)).map_err(|e| e.to_string())
        }
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
            session.remove_repeat(&instance_ref(remove_repeat, index)).map_err(|e| e.to_string())
        }
        Step::SetLanguage { set_language } => {
            session.set_language(&set_language).map_err(|e| e.to_string())
        }
        other => audit_step(session, other),
    }
}

/// The steps that drive the clock and the audit log, on a session.
pub fn audit_step(session: &mut Session, step: Step) -> Result<(), String> {
    let err = |e: enumera_core::session::SessionError| e.to_string();
    match step {
        Step::Wait { wait } => wait_step(session, wait),
        Step::Show { show } => session.show(&show).map_err(err),
        Step::Jump { jump } => session.jump(&jump).map_err(err),
        Step::Exit { exit } => {
            if exit {
                session.exit();
            }
            Ok(())
        }
        Step::ChangeReason { change_reason } => {
            session.set_change_reason(&change_reason).map_err(err)
        }
        Step::User { user } => session.set_audit_user(&user).map_err(err),
        Step::Location { location } => session.record_location(&location).map_err(err),
        other => Err(format!("not an audit step: {other:?}")),
    }
}

/// `{"wait": seconds}`: moves the injected clock on.
pub fn wait_step(session: &mut Session, seconds: f64) -> Result<(), String> {
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("wait {seconds}: give a number of seconds, 0 or more"));
    }
    if session.advance_clock((seconds * 1000.0).round() as i64) {
        Ok(())
    } else {
        Err("wait needs the test clock: run with --now INSTANT".into())
    }
}

/// The state of a session as JSON: leaves, containers, blockers, submission.
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

pub struct RunOptions<'a> {
    pub now: Option<&'a str>,
    pub seed: u64,
    pub lang: Option<&'a str>,
    /// What `deviceid` metadata holds.
    pub device_id: Option<&'a str>,
    /// The location `start-geopoint` takes.
    pub location: Option<&'a str>,
    /// Coerce values as ODK's engine does instead of refusing them.
    pub coerce: bool,
    /// The step file's folder, where attach steps' relative paths start.
    pub steps_dir: &'a Path,
}

/// Runs a steps script and returns the JSON document to print.
pub fn run(form: Arc<Form>, steps: &[Json], opts: &RunOptions<'_>) -> Result<Json, UserError> {
    let now: DateTime<Utc> = match opts.now {
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map_err(|e| UserError(format!("--now {s:?} is not an ISO 8601 instant: {e}")))?
            .with_timezone(&Utc),
        None => FixedEnv::default().now,
    };
    let env = FixedEnv::new(now, opts.seed);
    let options = SessionOptions {
        device_id: opts.device_id.map(str::to_string),
        location: opts.location.map(str::to_string),
        ..SessionOptions::default()
    };
    let mut session = Session::with_env(form, options, Box::new(env));
    if let Some(l) = opts.lang {
        session.set_language(l).map_err(|e| UserError(e.to_string()))?;
    }
    // The audit log (a form with `audit`) starts with the steps.
    session.audit_begin(None);
    let mut outcomes = Vec::with_capacity(steps.len());
    let mut taken = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let r = apply(&mut session, step, opts.coerce, opts.steps_dir, &mut taken);
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
