//! Conformance with pyxform 4.5: each fixture XLSForm is converted by
//! pyxform (`xls2xform`, installed into "$ENUMERA_CACHE/pyxform-venv" by
//! tests/tools/pyxform.sh) and by Enumera (import, then `to_xform`), and the
//! two XForms are compared on what ODK tools act on:
//! - the primary instance tree (names, nesting, root attributes, repeat
//!   templates, default values);
//! - every bind: nodeset, type, relevant, required, constraint, calculate,
//!   readonly, preloads and messages;
//! - setvalue actions (dynamic defaults, triggers);
//! - itext: every text per language, id and form;
//! - body controls: tag, ref, appearance and other attributes, labels,
//!   hints and itemsets.
//!
//! Expressions are compared after whitespace normalization only (pyxform pads
//! the paths it writes with spaces; Enumera does not).
//!
//! Then ODK's engine (tests/odk, when node and npm are there) loads both
//! XForms of each fixture and must see the same nodes and states.
//!
//! The fixtures are written by the test (fixtures.rs, and random forms from a
//! fixed seed in random.rs); the study instruments shipped in instruments/
//! are checked as well.
//!
//! Skips, saying so, only when the machine has no python3.

#[path = "conformance_pyxform/compare.rs"]
mod compare;
#[path = "conformance_pyxform/fixtures.rs"]
mod fixtures;
#[path = "conformance_pyxform/odk.rs"]
mod odk;
#[path = "conformance_pyxform/random.rs"]
mod random;

use std::path::{Path, PathBuf};
use std::process::Command;

use compare::Summary;
use fixtures::Fixture;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lies in the repository")
        .to_path_buf()
}

fn has_python3() -> bool {
    Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Installs pyxform when missing; the path of its xls2xform.
fn xls2xform() -> PathBuf {
    let script = repo_root().join("tests/tools/pyxform.sh");
    let out = Command::new("bash").arg(&script).output().expect("run tests/tools/pyxform.sh");
    assert!(
        out.status.success(),
        "installing pyxform failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// pyxform's XForm for `xlsx`, or its error message.
fn pyxform(tool: &Path, xlsx: &Path) -> Result<String, String> {
    let out_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let xml_path = out_dir.path().join("pyxform.xml");
    let out = Command::new(tool)
        .arg("--skip_validate")
        .arg("--json")
        .arg(xlsx)
        .arg(&xml_path)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", tool.display()))?;
    // xls2xform exits 0 even on failure; the status is JSON on stderr.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let status: serde_json::Value = stderr
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("no status from xls2xform: {stderr}"))?;
    match status["code"].as_i64() {
        Some(100 | 101) => std::fs::read_to_string(&xml_path).map_err(|e| e.to_string()),
        _ => Err(format!("pyxform refused the form: {}", status["message"])),
    }
}

/// Enumera's XForm for `xlsx`, or the errors that stopped it.
fn enumera(xlsx: &Path) -> Result<String, String> {
    let imported = enumera_core::instrument::import_xlsform(xlsx).map_err(|e| e.to_string())?;
    if imported.has_errors() {
        let errors: Vec<String> = imported.errors().map(|d| d.to_string()).collect();
        return Err(format!("Enumera refused the form:\n  {}", errors.join("\n  ")));
    }
    imported.instrument.to_xform().map_err(|e| e.to_string())
}

/// The study's instruments shipped in instruments/, checked as they are.
fn shipped_instruments() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(repo_root().join("instruments")) else {
        return out;
    };
    for dir in dirs.flatten() {
        let Ok(files) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        for f in files.flatten() {
            if f.path().extension().is_some_and(|e| e == "xlsx") {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

/// The answer files shipped for an instrument: `steps/STEM.*.json` beside
/// it (not the `.expect.json` results).
fn answer_files(xlsx: &Path, stem: &str) -> Vec<PathBuf> {
    let Some(dir) = xlsx.parent().map(|d| d.join("steps")) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.starts_with(&format!("{stem}."))
                && name.ends_with(".json")
                && !name.ends_with(".expect.json")
        })
        .collect();
    out.sort();
    out
}

/// Converts `xlsx` both ways and compares; on success, where the two
/// XForms were written (for the engine check).
fn check(tool: &Path, name: &str, xlsx: &Path, out_dir: &Path) -> Result<odk::Pair, String> {
    let theirs = pyxform(tool, xlsx)?;
    let ours = enumera(xlsx)?;
    let stem = xlsx.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let pair = odk::Pair {
        name: name.to_string(),
        pyxform: out_dir.join(format!("{stem}.pyxform.xml")),
        enumera: out_dir.join(format!("{stem}.enumera.xml")),
        steps: answer_files(xlsx, &stem),
    };
    std::fs::write(&pair.pyxform, &theirs).map_err(|e| e.to_string())?;
    std::fs::write(&pair.enumera, &ours).map_err(|e| e.to_string())?;
    let theirs = Summary::of(&theirs).map_err(|e| format!("pyxform's XForm: {e}"))?;
    let ours = Summary::of(&ours).map_err(|e| format!("Enumera's XForm: {e}"))?;
    let diff = compare::diff(&theirs, &ours);
    if diff.is_empty() { Ok(pair) } else { Err(diff.join("\n")) }
}

/// How many random forms (random.rs) join the fixtures.
const RANDOM_FORMS: u64 = 16;

/// Printed past the test harness's capture, so that a skip or the count is
/// seen in every run, passing or not.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

#[test]
fn enumera_xforms_match_pyxform() {
    if !has_python3() {
        say("SKIPPED: pyxform conformance needs python3, and this machine has none");
        return;
    }
    let tool = xls2xform();
    let dir = tempfile::tempdir().expect("temp dir");
    // ENUMERA_CONFORMANCE_DIR keeps the fixtures and both XForms there.
    let out_dir = std::env::var_os("ENUMERA_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().to_path_buf());
    std::fs::create_dir_all(&out_dir).expect("output dir");
    let mut forms: Vec<(String, Result<PathBuf, String>)> = fixtures::all()
        .iter()
        .map(|f: &Fixture| {
            let path = f.write(&out_dir).map_err(|e| format!("writing the fixture: {e}"));
            (f.name.to_string(), path)
        })
        .collect();
    forms.extend((0..RANDOM_FORMS).map(|k| {
        let path = random::write(&out_dir, k).map_err(|e| format!("writing the form: {e}"));
        (format!("random_{k:02}"), path)
    }));
    forms.extend(shipped_instruments().into_iter().map(|p| {
        let name = p.strip_prefix(repo_root()).unwrap_or(&p).display().to_string();
        (name, Ok(p))
    }));
    let mut failures = Vec::new();
    let mut pairs = Vec::new();
    for (name, path) in &forms {
        match path.as_ref().map_err(String::clone).and_then(|p| check(&tool, name, p, &out_dir)) {
            Ok(pair) => {
                println!("conforms: {name}");
                pairs.push(pair);
            }
            Err(why) => {
                println!("DIFFERS: {name}\n{why}\n");
                failures.push(name.clone());
            }
        }
    }
    say(&format!(
        "pyxform conformance: {} of {} fixtures conform to pyxform 4.5",
        forms.len() - failures.len(),
        forms.len()
    ));

    if !odk::have_node() {
        say("SKIPPED: the ODK engine check needs node and npm, and this machine lacks them");
    } else {
        match odk::compare(&repo_root(), &pairs, &out_dir) {
            Ok(results) => {
                let mut alike = 0;
                let loaded = results.iter().filter(|r| r.loaded).count();
                for (pair, result) in pairs.iter().zip(results) {
                    match result.difference {
                        None => alike += 1,
                        Some(why) => {
                            println!("ODK ENGINE DIFFERS: {}\n{why}\n", pair.name);
                            failures.push(format!("{} (ODK engine)", pair.name));
                        }
                    }
                }
                say(&format!(
                    "ODK Web Forms engine: {alike} of {} XForm pairs alike ({loaded} load; \
                     the others fail alike: CSV attachments the harness cannot serve, \
                     or forms the engine refuses)",
                    pairs.len()
                ));
            }
            Err(e) => failures.push(format!("ODK engine check: {e}")),
        }
    }
    if !failures.is_empty() {
        // Keep both XForms of each fixture for a look.
        let kept = dir.keep();
        panic!("not conforming: {} (XForms kept in {})", failures.join(", "), kept.display());
    }
}
