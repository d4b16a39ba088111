//! Differential test: every expression case of
//! core/src/expr/testdata/cases.txt that an ODK calculate can express is
//! evaluated by ODK Web Forms' engine (through tests/odk/run.mjs) and by
//! Enumera, and the results must agree, except for the differences listed
//! in KNOWN_DIFFERENCES (each also described in docs/EXPRESSIONS.md).
//!
//! Needs node and npm; installs the engine into $ENUMERA_CACHE/odk-engine
//! on first run. Skips with a message when node or npm is missing.

use std::collections::BTreeMap;
use std::path::Path;

use enumera_core::expr::testdata::{
    CASES, Case, FIXTURE_XML, INSTANCES_XML, fixture_doc, parse_cases, run_case,
};
use enumera_tests::odk::{OdkEngine, OdkJob};

/// Cases (by expression) where Enumera deliberately differs from ODK Web
/// Forms, and why. Keep in step with docs/EXPRESSIONS.md.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    ("--3", "XPath 1.0 allows repeated unary minus; Web Forms' grammar refuses it"),
    ("- - 3", "XPath 1.0 allows repeated unary minus; Web Forms' grammar refuses it"),
    (
        "not(1 = 2) and 1",
        "`and`/`or` give a boolean (XPath, JavaRosa); Web Forms returns an operand",
    ),
    ("1 and 0 or 1", "`and`/`or` give a boolean (XPath, JavaRosa); Web Forms returns an operand"),
    ("0 or 0 and 1", "`and`/`or` give a boolean (XPath, JavaRosa); Web Forms returns an operand"),
    (
        "/data/rep[3]/preceding-sibling::rep[1]/n",
        "reverse axes work; Web Forms 0.22 stops: 'compareDocumentOrder pending'",
    ),
    (
        "count(/data/rep[3]/preceding::n)",
        "reverse axes work; Web Forms 0.22 stops: 'compareDocumentOrder pending'",
    ),
    (
        "count(/data/rep | /data/g)",
        "union works; Web Forms 0.22 stops: 'compareDocumentOrder pending'",
    ),
    (
        "count(/data/rep | /data/rep)",
        "union works; Web Forms 0.22 stops: 'compareDocumentOrder pending'",
    ),
    (
        "count(/data/rep[1]/following::n)",
        "following:: excludes descendants (XPath); Web Forms includes them",
    ),
    (
        "(/data/rep/n)[2]",
        "predicates on a parenthesised node-set select by position; Web Forms ignores them",
    ),
    (
        "(/data/rep/n)[last()]",
        "predicates on a parenthesised node-set select by position; Web Forms ignores them",
    ),
    (
        "substring('abc', 3, -1)",
        "XPath 1.0 gives ''; Web Forms swaps the bounds (JavaScript substring)",
    ),
    (
        "substring-after('abcde', 'bc')",
        "XPath 1.0 skips the whole needle; Web Forms skips one character",
    ),
    (
        "number('2024-01-15T12:00:00Z')",
        "number() of a date-time is fractional days; Web Forms writes it floored but computes with the fraction",
    ),
    (
        "regex('😀', '^.$')",
        "regex `.` matches a character; JavaScript (no u flag) matches half a surrogate pair",
    ),
    (
        "today() = '2024-01-15T00:00:00'",
        "date values are strings here, so = compares text; Web Forms compares them as numbers",
    ),
];

fn xml_attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// One XForm whose calculates `/data/c{i}` are the given cases, or, for
/// repeat cases, `/data/rep/c{i}` in every repeat instance.
fn xform(cases: &[&Case]) -> String {
    let in_repeat = cases.first().is_some_and(|c| c.in_repeat);
    let data = FIXTURE_XML.trim();
    let close = data.rfind("</data>").unwrap_or(data.len());
    let mut instance = data[..close].to_string();
    let mut binds = String::new();
    let mut calcs = String::new();
    for (i, c) in cases.iter().enumerate() {
        calcs.push_str(&format!("<c{i}/>"));
        let at = if in_repeat { "/data/rep" } else { "/data" };
        binds.push_str(&format!(
            "<bind nodeset=\"{at}/c{i}\" type=\"string\" calculate=\"{}\"/>\n",
            xml_attr(&c.expr)
        ));
    }
    if in_repeat {
        instance = instance.replace("</rep>", &format!("{calcs}</rep>"));
    } else {
        instance.push_str(&calcs);
    }
    instance.push_str("</data>");
    let secondary =
        INSTANCES_XML.trim().trim_start_matches("<instances>").trim_end_matches("</instances>");
    format!(
        r#"<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:odk="http://www.opendatakit.org/xforms">
<h:head><h:title>expression cases</h:title>
<model odk:xforms-version="1.0.0">
<instance>{instance}</instance>
{secondary}
{binds}</model></h:head>
<h:body><group ref="/data/rep"><label>rep</label><repeat nodeset="/data/rep"><input ref="/data/rep/n"><label>n</label></input><input ref="/data/rep/s"><label>s</label></input></repeat></group></h:body>
</h:html>
"#
    )
}

/// The zone name node understands for a fixed offset.
fn tz_name(seconds: i32) -> String {
    if seconds == 0 {
        return "UTC".into();
    }
    // POSIX Etc zones have the sign inverted.
    let h = seconds / 3600;
    if h > 0 { format!("Etc/GMT-{h}") } else { format!("Etc/GMT+{}", -h) }
}

/// What ODK made of one form: the value of each `/data/c{i}`, or the
/// reason it refused the form (any failing calculate stops the load).
type FormResult = Result<Vec<String>, String>;

/// Runs the forms in one node process (the engine loads once).
fn run_batch(
    engine: &OdkEngine,
    forms: &[Vec<&Case>],
    tz: i32,
    work: &Path,
) -> Result<Vec<FormResult>, String> {
    let mut jobs = Vec::new();
    for (k, cases) in forms.iter().enumerate() {
        let rep = cases.first().is_some_and(|c| c.in_repeat);
        let form = work.join(format!("form-{tz}-{rep}-{k}.xml"));
        std::fs::write(&form, xform(cases)).map_err(|e| e.to_string())?;
        jobs.push(OdkJob { form, steps: serde_json::json!([]) });
    }
    let results = engine.run(&jobs, &tz_name(tz), work)?;
    Ok(forms
        .iter()
        .zip(results)
        .map(|(cases, r)| {
            if r["load"]["status"] == "failure" {
                return Err(r["load"]["error"].as_str().unwrap_or("?").to_string());
            }
            let mut by_ref = BTreeMap::new();
            for n in r["nodes"].as_array().into_iter().flatten() {
                if let (Some(rf), Some(v)) = (n["ref"].as_str(), n["value"].as_str()) {
                    by_ref.insert(rf.to_string(), v.to_string());
                }
            }
            let in_repeat = cases.first().is_some_and(|c| c.in_repeat);
            let value = |r: &str| by_ref.get(r).cloned().unwrap_or_default();
            Ok((0..cases.len())
                .map(|i| {
                    if in_repeat {
                        (1..=3)
                            .map(|k| value(&format!("/data/rep[{k}]/c{i}")))
                            .collect::<Vec<_>>()
                            .join("|")
                    } else {
                        value(&format!("/data/c{i}"))
                    }
                })
                .collect())
        })
        .collect())
}

/// ODK's result for each case: cases share forms of 25; the cases of a form
/// ODK refuses, and the cases expected to fail, are then run one per form.
fn odk_results(
    engine: &OdkEngine,
    cases: &[&Case],
    tz: i32,
    work: &Path,
) -> Result<Vec<Result<String, String>>, String> {
    let (fail, ok): (Vec<&Case>, Vec<&Case>) = cases.iter().partition(|c| c.expected.is_none());
    let chunks: Vec<Vec<&Case>> = ok.chunks(25).map(<[&Case]>::to_vec).collect();
    let first = run_batch(engine, &chunks, tz, work)?;
    let mut results: BTreeMap<usize, Result<String, String>> = BTreeMap::new();
    let mut singles: Vec<&Case> = fail;
    for (chunk, r) in chunks.iter().zip(first) {
        match r {
            Ok(values) => {
                for (c, v) in chunk.iter().zip(values) {
                    results.insert(c.line, Ok(v));
                }
            }
            Err(_) => singles.extend(chunk.iter().copied()),
        }
    }
    let forms: Vec<Vec<&Case>> = singles.iter().map(|c| vec![*c]).collect();
    for (c, r) in singles.iter().zip(run_batch(engine, &forms, tz, work)?) {
        results.insert(c.line, r.map(|v| v.into_iter().next().unwrap_or_default()));
    }
    Ok(cases
        .iter()
        .map(|c| results.remove(&c.line).unwrap_or_else(|| Err("no result".into())))
        .collect())
}

#[test]
fn expressions_agree_with_odk_web_forms() {
    let engine = match OdkEngine::install() {
        Ok(Some(e)) => e,
        Ok(None) => {
            println!("SKIPPED: node/npm not found; the ODK differential test needs them");
            return;
        }
        Err(e) => panic!("could not install the ODK engine: {e}"),
    };
    let cases = parse_cases(CASES).unwrap_or_else(|e| panic!("cases.txt: {e}"));
    let doc = fixture_doc().unwrap_or_else(|e| panic!("fixture: {e}"));
    let work = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));

    for (expr, _) in KNOWN_DIFFERENCES {
        assert!(
            cases.iter().any(|c| c.expr == *expr),
            "KNOWN_DIFFERENCES names {expr:?}, which is not a case"
        );
    }
    // One group per zone, and repeat cases apart (their calculates sit in
    // the repeat).
    let mut by_tz: BTreeMap<(i32, bool), Vec<&Case>> = BTreeMap::new();
    for c in cases.iter().filter(|c| !c.rust_only) {
        by_tz.entry((c.tz_seconds, c.in_repeat)).or_default().push(c);
    }
    let mut total = 0;
    let mut agree = 0;
    let mut unexpected = Vec::new();
    let mut known_seen = Vec::new();
    for ((tz, _), group) in &by_tz {
        let theirs = odk_results(&engine, group, *tz, work.path())
            .unwrap_or_else(|e| panic!("running ODK: {e}"));
        for (case, odk) in group.iter().zip(theirs) {
            total += 1;
            let ours = run_case(&doc, case);
            // An error is an error, whatever its wording.
            let same = match (&ours, &odk) {
                (Err(_), Err(_)) => true,
                _ => ours == odk,
            };
            if same {
                agree += 1;
                continue;
            }
            let line = format!(
                "  line {}: {}\n    ODK      {:?}\n    Enumera  {:?}",
                case.line, case.expr, odk, ours
            );
            match KNOWN_DIFFERENCES.iter().find(|(e, _)| *e == case.expr) {
                Some((_, why)) => known_seen.push(format!("{line}\n    known: {why}")),
                None => unexpected.push(line),
            }
        }
    }
    println!("{agree} of {total} expression cases agree with ODK");
    if !known_seen.is_empty() {
        println!("{} documented differences:\n{}", known_seen.len(), known_seen.join("\n"));
    }
    assert!(
        unexpected.is_empty(),
        "{} undocumented disagreements with ODK Web Forms:\n{}",
        unexpected.len(),
        unexpected.join("\n")
    );
}
