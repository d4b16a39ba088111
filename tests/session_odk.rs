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

#[path = "session_odk/harness.rs"]
mod harness;
#[path = "session_odk/known.rs"]
mod known;
#[path = "session_odk/spec.rs"]
mod spec;
#[path = "session_odk/state.rs"]
mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use enumera_core::session::Form;
use enumera_tests::repo_root;
use serde_json::Value as Json;

use harness::{
    Case, DEFAULT_NOW, around_first_difference, have, install, odk_trace, pyxform, run_enumera,
    run_odk, say,
};
use state::{Difference, mask_uuids};

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
