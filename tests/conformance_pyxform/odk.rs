//! The second half of conformance: ODK's own engine (ODK Web Forms'
//! `@getodk/xforms-engine`, run by tests/odk/run.mjs) loads pyxform's and
//! Enumera's XForm of each fixture, and must find the same nodes with the
//! same relevance, required, readonly, values and validity.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// One fixture's two XForms.
pub struct Pair {
    pub name: String,
    pub pyxform: PathBuf,
    pub enumera: PathBuf,
    /// Answer files to play on both, besides none at all.
    pub steps: Vec<PathBuf>,
}

pub fn have_node() -> bool {
    ["node", "npm"]
        .iter()
        .all(|t| Command::new(t).arg("--version").output().is_ok_and(|o| o.status.success()))
}

/// Installs (when missing) and locates the engine.
fn engine_dir(repo: &Path) -> Result<PathBuf, String> {
    let out = Command::new("bash")
        .arg(repo.join("tests/odk/install.sh"))
        .output()
        .map_err(|e| format!("tests/odk/install.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tests/odk/install.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// What the engine made of one pair.
pub struct Outcome {
    /// None when the engine sees both XForms alike, else what differs.
    pub difference: Option<String>,
    /// Whether pyxform's XForm loaded at all: the engine here cannot fetch
    /// CSV attachments, so a form using them fails to load either way, and
    /// counts as alike only when both fail the same way.
    pub loaded: bool,
}

pub fn compare(repo: &Path, pairs: &[Pair], work: &Path) -> Result<Vec<Outcome>, String> {
    let engine = engine_dir(repo)?;
    // Jobs in pairs (pyxform's, then Enumera's); `owner` maps each pair of
    // jobs back to its fixture.
    let mut jobs = Vec::new();
    let mut owner = Vec::new();
    for (i, p) in pairs.iter().enumerate() {
        let runs = std::iter::once(Value::Null)
            .chain(p.steps.iter().map(|s| Value::from(s.display().to_string())));
        for steps in runs {
            jobs.push(serde_json::json!({ "form": p.pyxform, "steps": steps }));
            jobs.push(serde_json::json!({ "form": p.enumera, "steps": steps }));
            owner.push(i);
        }
    }
    let jobs_path = work.join("odk-jobs.json");
    std::fs::write(&jobs_path, Value::Array(jobs).to_string()).map_err(|e| e.to_string())?;
    let out = Command::new("node")
        .arg(repo.join("tests/odk/run.mjs"))
        .arg("--batch")
        .arg(&jobs_path)
        .env("ENUMERA_ODK_ENGINE", &engine)
        .env("TZ", "UTC")
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!("run.mjs printed no result list ({e}): {}", String::from_utf8_lossy(&out.stderr))
    })?;
    if results.len() != owner.len() * 2 {
        return Err(format!("run.mjs gave {} results for {} jobs", results.len(), owner.len() * 2));
    }
    let mut outcomes: Vec<Outcome> =
        pairs.iter().map(|_| Outcome { difference: None, loaded: true }).collect();
    for (r, &i) in results.chunks(2).zip(&owner) {
        let o = &mut outcomes[i];
        o.loaded &= r[0]["load"]["status"] != "failure";
        if let Some(d) = differs(&r[0], &r[1]) {
            let run = o.difference.get_or_insert_with(String::new);
            run.push_str(&d);
            run.push('\n');
        }
    }
    Ok(outcomes)
}

fn differs(pyxform: &Value, enumera: &Value) -> Option<String> {
    let mut out = Vec::new();
    if pyxform["steps"] != enumera["steps"] {
        out.push(format!(
            "  engine steps: pyxform {} / enumera {}",
            pyxform["steps"], enumera["steps"]
        ));
    }
    if pyxform["load"] != enumera["load"] {
        out.push(format!(
            "  engine load: pyxform {} / enumera {}",
            pyxform["load"], enumera["load"]
        ));
    }
    // The batch runner numbers uuids across all its forms, so an
    // instanceID differs from one job to the next: only its shape counts.
    let nodes = |v: &Value| {
        let mut nodes = v["nodes"].as_array().cloned().unwrap_or_default();
        for n in &mut nodes {
            if n["value"].as_str().is_some_and(|s| s.starts_with("uuid:")) {
                n["value"] = Value::from("uuid:…");
            }
        }
        nodes
    };
    let (theirs, ours) = (nodes(pyxform), nodes(enumera));
    if theirs.len() != ours.len() {
        out.push(format!("  engine nodes: pyxform {} / enumera {}", theirs.len(), ours.len()));
    }
    for (t, o) in theirs.iter().zip(&ours) {
        if t != o {
            out.push(format!("  engine node:\n    pyxform: {t}\n    enumera: {o}"));
        }
    }
    if out.is_empty() { None } else { Some(out.join("\n")) }
}
