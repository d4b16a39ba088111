//! Session target: a script of steps (the JSON of `enumera form run`) run
//! against a fixed real form, the study's practice follow-up questionnaire:
//! groups, a repeat, selects with choice filters, calculations, constraints
//! and three languages.

use std::sync::{Arc, OnceLock};

use enumera_core::expr::FixedEnv;
use enumera_core::instrument::import_xlsform_bytes;
use enumera_core::session::{Form, Session, SessionOptions};
use serde_json::Value as Json;

const FORM: &[u8] = include_bytes!("../../../instruments/p2p-sanitation/practice_followup.xlsx");

/// Longest script run, and most repeat instances one step may add: keeps a
/// single input fast without hiding anything a longer one would show.
const MAX_STEPS: usize = 200;
const MAX_ADD: u64 = 8;

/// The fixed form, compiled once (None if it cannot be: the replay test
/// checks it can, so the target never silently does nothing).
pub fn session_form() -> Option<Arc<Form>> {
    static CELL: OnceLock<Option<Arc<Form>>> = OnceLock::new();
    CELL.get_or_init(|| {
        let imported = import_xlsform_bytes(FORM, "practice_followup.xlsx", None).ok()?;
        Form::compile(imported.instrument).ok().map(Arc::new)
    })
    .clone()
}

/// The input is a JSON list of steps: `{"set": REF, "value": V}`,
/// `{"clear": REF}`, `{"add_repeat": REF, "count": N}`,
/// `{"remove_repeat": REF, "index": N}`, `{"set_language": L}`. Each step
/// may fail; none may panic, and the state must stay readable after each.
pub fn session_steps(data: &[u8]) {
    let Ok(Json::Array(steps)) = serde_json::from_slice::<Json>(data) else { return };
    let Some(form) = session_form() else { return };
    let mut session =
        Session::with_env(form, SessionOptions::default(), Box::new(FixedEnv::default()));
    for step in steps.iter().take(MAX_STEPS) {
        apply(&mut session, step);
        let _ = session.blockers();
    }
    let _ = session.leaves();
    let _ = session.containers();
    let _ = session.answers();
    let _ = session.submission_xml();
    session.mark_end();
    let _ = session.submission_json();
}

fn apply(session: &mut Session, step: &Json) {
    let s = |k: &str| step.get(k).and_then(Json::as_str);
    if let Some(reference) = s("set") {
        let value = match step.get("value") {
            None | Some(Json::Null) => String::new(),
            Some(Json::String(v)) => v.clone(),
            Some(Json::Array(items)) => items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(" "),
            Some(other) => other.to_string(),
        };
        let _ = session.set(reference, &value);
    } else if let Some(reference) = s("clear") {
        let _ = session.clear(reference);
    } else if let Some(reference) = s("add_repeat") {
        let count = step.get("count").and_then(Json::as_u64).unwrap_or(1).min(MAX_ADD);
        for _ in 0..count {
            let _ = session.add_repeat(reference);
        }
    } else if let Some(reference) = s("remove_repeat") {
        let reference = match step.get("index").and_then(Json::as_u64) {
            Some(i) => format!("{reference}[{i}]"),
            None => reference.to_string(),
        };
        let _ = session.remove_repeat(&reference);
    } else if let Some(language) = s("set_language") {
        let _ = session.set_language(language);
    }
}
