//! ODK Web Forms' engine as a test oracle: installs tests/odk/ into
//! `$ENUMERA_CACHE/odk-engine` and runs `tests/odk/run.mjs` on XForms with
//! answer steps. See tests/odk/run.mjs for the step and output formats.

use std::path::{Path, PathBuf};
use std::process::Command;

/// An installed engine.
#[derive(Debug, Clone)]
pub struct OdkEngine {
    dir: PathBuf,
}

/// One form to load and the steps to apply (a JSON list, may be empty).
#[derive(Debug, Clone)]
pub struct OdkJob {
    pub form: PathBuf,
    pub steps: serde_json::Value,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

impl OdkEngine {
    /// Installs the engine when missing. `Ok(None)` when node or npm is not
    /// on this machine (the caller prints that it skips).
    pub fn install() -> Result<Option<OdkEngine>, String> {
        if !have("node") || !have("npm") {
            return Ok(None);
        }
        let root = repo_root();
        let cache =
            std::env::var_os("ENUMERA_CACHE").map_or_else(|| root.join(".cache"), PathBuf::from);
        let out = Command::new("bash")
            .arg(root.join("tests/odk/install.sh"))
            .env("ENUMERA_CACHE", &cache)
            .output()
            .map_err(|e| format!("install.sh: {e}"))?;
        if !out.status.success() {
            return Err(format!("install.sh failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(Some(OdkEngine { dir: PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()) }))
    }

    /// Runs the jobs in one node process (the engine loads once), with dates
    /// in zone `tz` (`UTC`, `Etc/GMT-2`, ...), the clock frozen at
    /// 2024-01-15T10:30:00Z and seeded randomness. One JSON result per job:
    /// `{engine, load: {status, error}, steps: [...], nodes: [...]}`.
    pub fn run(
        &self,
        jobs: &[OdkJob],
        tz: &str,
        work: &Path,
    ) -> Result<Vec<serde_json::Value>, String> {
        let list: Vec<serde_json::Value> =
            jobs.iter().map(|j| serde_json::json!({ "form": j.form, "steps": j.steps })).collect();
        // Unique per call: tests in one process may run side by side.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let jobs_path = work.join(format!("odk-jobs-{}-{n}.json", std::process::id()));
        std::fs::write(&jobs_path, serde_json::Value::Array(list).to_string())
            .map_err(|e| format!("{}: {e}", jobs_path.display()))?;
        let out = Command::new("node")
            .arg(repo_root().join("tests/odk/run.mjs"))
            .arg("--batch")
            .arg(&jobs_path)
            .env("ENUMERA_ODK_ENGINE", &self.dir)
            .env("TZ", tz)
            .output()
            .map_err(|e| format!("node: {e}"))?;
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
            format!(
                "runner output is not JSON ({e}); stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
        match json {
            serde_json::Value::Array(results) if results.len() == jobs.len() => Ok(results),
            _ => Err("runner gave the wrong number of results".into()),
        }
    }
}
