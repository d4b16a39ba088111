//! `checks/index.html`: the checks for people. One self-contained page
//! (styles inline, plots as inline SVG, no script), sections in the order a
//! field manager acts on them, each with its CSV linked.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::svg::{bars, boxplots, esc};
use super::{Collector, Found, quantile, rate};
use crate::export::ExportError;
use crate::export::schema::FormSchema;

/// At most this many rows of a list are shown; the CSV has them all.
const SHOWN: usize = 25;

const STYLE: &str = "body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;font-size:13px;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 7px;text-align:left}\
th{background:#f3f3f3}.n{text-align:right}.bad{color:#b52b27;font-weight:bold}.ok{color:#2e7d32}\
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}\
.card b{display:block;font-size:22px}.plots{display:flex;gap:18px;flex-wrap:wrap}p.note{color:#555;font-size:13px}";

fn table(s: &mut String, header: &[&str], rows: &[Vec<String>], total: usize, csv: &str) {
    s.push_str("<table><tr>");
    for h in header {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>");
    for r in rows.iter().take(SHOWN) {
        s.push_str("<tr>");
        for v in r {
            let numeric = super::super::csv::is_plain_number(v);
            let _ = write!(s, "<td{}>{}</td>", if numeric { " class=\"n\"" } else { "" }, esc(v));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    if total > SHOWN {
        let _ = write!(
            s,
            "<p class=\"note\">{SHOWN} of {total} shown; all in <a href=\"{csv}\">{csv}</a>.</p>"
        );
    } else {
        let _ = write!(s, "<p class=\"note\">As CSV: <a href=\"{csv}\">{csv}</a>.</p>");
    }
}

pub fn write(
    dir: &Path,
    found: &Found,
    c: &Collector,
    schemas: &[(FormSchema, Option<String>)],
) -> Result<PathBuf, ExportError> {
    let form_id = |f: usize| schemas[f].0.form_id.as_str();
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>High-frequency checks</title><style>{STYLE}</style></head><body>"
    );
    let _ = write!(
        s,
        "<h1>High-frequency checks</h1><p class=\"note\">{} interviews of {} forms, checked {} UTC. Participants by pseudonym.</p>",
        c.interviews.len(),
        schemas.len(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M")
    );
    let card = |s: &mut String, n: usize, what: &str, href: &str| {
        let _ = write!(
            s,
            "<div class=\"card\"><b class=\"{}\">{n}</b><a href=\"{href}\">{what}</a></div>",
            if n == 0 { "ok" } else { "bad" }
        );
    };
    s.push_str("<div class=\"cards\">");
    card(&mut s, found.duplicates.len(), "duplicate participant-rounds", "#duplicates");
    card(&mut s, found.durations.len(), "unusual interview lengths", "#durations");
    card(&mut s, c.failures.len(), "constraint failures", "#constraints");
    card(&mut s, found.outliers.len(), "numeric outliers", "#outliers");
    s.push_str("</div>");

    // Progress: one line per form and district, a cell per round.
    s.push_str("<h2 id=\"progress\">Progress against the roster</h2>");
    if found.progress.is_empty() {
        s.push_str("<p class=\"note\">No roster is published at this central: nothing to measure progress against.</p>");
    } else {
        let district = found.district_key.as_deref().unwrap_or("district");
        let mut rounds: Vec<i64> = found.progress.keys().map(|k| k.2).collect();
        rounds.sort_unstable();
        rounds.dedup();
        let _ = write!(
            s,
            "<p class=\"note\">Participants on the roster with a response of each form, by {} and round (a form counts where and when it is used at all).</p><table><tr><th>form</th><th>{}</th>",
            esc(district),
            esc(district)
        );
        for r in &rounds {
            let _ = write!(s, "<th>round {r}</th>");
        }
        s.push_str("</tr>");
        let mut lines: Vec<(usize, &str)> =
            found.progress.keys().map(|(f, d, _)| (*f, d.as_str())).collect();
        lines.dedup();
        for (f, d) in lines {
            let _ = write!(s, "<tr><td>{}</td><td>{}</td>", esc(form_id(f)), esc(d));
            for r in &rounds {
                match found.progress.get(&(f, d.to_string(), *r)) {
                    Some((expected, done)) => {
                        let pct = 100.0 * *done as f64 / (*expected).max(1) as f64;
                        // Green when done, amber on the way, red barely started.
                        let bg = if pct >= 100.0 {
                            "#d8efd9"
                        } else if pct >= 50.0 {
                            "#fbeccb"
                        } else {
                            "#f6d3d2"
                        };
                        let _ = write!(
                            s,
                            "<td class=\"n\" style=\"background:{bg}\">{done} / {expected} ({pct:.0}%)</td>"
                        );
                    }
                    None => s.push_str("<td></td>"),
                }
            }
            s.push_str("</tr>");
        }
        s.push_str(
            "</table><p class=\"note\">As CSV: <a href=\"progress.csv\">progress.csv</a>.</p>",
        );
    }

    // Duplicates.
    s.push_str("<h2 id=\"duplicates\">Duplicates: participant × round</h2>");
    let rows: Vec<Vec<String>> = found
        .duplicates
        .iter()
        .flat_map(|g| {
            g.iter().map(move |i| {
                let iv = &c.interviews[*i];
                vec![
                    form_id(iv.form).to_string(),
                    iv.participant.clone(),
                    iv.round.map(|r| r.to_string()).unwrap_or_default(),
                    iv.key.clone(),
                    iv.enumerator.clone(),
                ]
            })
        })
        .collect();
    if rows.is_empty() {
        s.push_str("<p class=\"ok\">None: every participant has at most one response of each form in each round.</p>");
    } else {
        table(
            &mut s,
            &["form", "participant", "round", "KEY", "enumerator"],
            &rows,
            rows.len(),
            "duplicates.csv",
        );
    }

    // Durations.
    s.push_str("<h2 id=\"durations\">Interview length</h2><p class=\"note\">Minutes from the form's start to its end, per enumerator; red points are outside the form's fences (1.5 interquartile ranges).</p><div class=\"plots\">");
    for (f, fence) in found.duration_fences.iter().enumerate() {
        let groups: Vec<(String, Vec<f64>)> = found
            .enumerators
            .iter()
            .filter(|l| l.form == f && !l.minutes.is_empty())
            .map(|l| (l.enumerator.clone(), l.minutes.clone()))
            .collect();
        if !groups.is_empty() {
            s.push_str(&boxplots(&format!("{}: minutes", form_id(f)), &groups, *fence, ""));
        }
    }
    s.push_str("</div>");
    let rows: Vec<Vec<String>> = found
        .durations
        .iter()
        .map(|(i, why)| {
            let iv = &c.interviews[*i];
            vec![
                form_id(iv.form).to_string(),
                iv.key.clone(),
                iv.enumerator.clone(),
                iv.minutes.map(|m| format!("{m:.1}")).unwrap_or_default(),
                why.clone(),
            ]
        })
        .collect();
    if rows.is_empty() {
        s.push_str("<p class=\"ok\">No interview is unusually short or long.</p>");
    } else {
        table(
            &mut s,
            &["form", "KEY", "enumerator", "minutes", "why"],
            &rows,
            rows.len(),
            "durations.csv",
        );
    }

    // Enumerators.
    s.push_str("<h2 id=\"enumerators\">Enumerators</h2><p class=\"note\">Share of select answers that are \"don't know\", and of optional questions shown and left empty, per enumerator; red: more than twice the form's rate.</p><div class=\"plots\">");
    for f in 0..schemas.len() {
        let lines: Vec<_> = found.enumerators.iter().filter(|l| l.form == f).collect();
        if lines.is_empty() {
            continue;
        }
        for (title, get) in [
            (
                "don't know",
                (|l: &super::EnumeratorLine| l.dont_know)
                    as fn(&super::EnumeratorLine) -> (u32, u32),
            ),
            ("optional questions skipped", |l: &super::EnumeratorLine| l.skipped),
        ] {
            let total = lines.iter().fold((0, 0), |a, l| (a.0 + get(l).0, a.1 + get(l).1));
            if total.1 == 0 {
                continue;
            }
            let form_rate = rate(total);
            let items: Vec<(String, f64, bool)> = lines
                .iter()
                .map(|l| {
                    let r = rate(get(l));
                    (l.enumerator.clone(), r, r > 2.0 * form_rate && r > 0.0)
                })
                .collect();
            s.push_str(&bars(&format!("{}: % {title}", form_id(f)), &items, "%", None));
        }
    }
    s.push_str("</div>");
    let rows: Vec<Vec<String>> = found
        .enumerators
        .iter()
        .map(|l| {
            let mut m = l.minutes.clone();
            m.sort_by(f64::total_cmp);
            vec![
                form_id(l.form).to_string(),
                l.enumerator.clone(),
                l.interviews.to_string(),
                if m.is_empty() { String::new() } else { format!("{:.1}", quantile(&m, 0.5)) },
                format!("{:.1}", rate(l.dont_know)),
                format!("{:.1}", rate(l.skipped)),
                l.failures.to_string(),
                l.outliers.to_string(),
            ]
        })
        .collect();
    table(
        &mut s,
        &[
            "form",
            "enumerator",
            "interviews",
            "median minutes",
            "% don't know",
            "% optional skipped",
            "constraint failures",
            "outliers",
        ],
        &rows,
        rows.len(),
        "enumerators.csv",
    );

    // Constraints.
    s.push_str("<h2 id=\"constraints\">Constraint failures</h2><p class=\"note\">Answers that fail their question's constraint as central tests it again today.</p>");
    let rows: Vec<Vec<String>> = c
        .failures
        .iter()
        .map(|f| {
            let iv = &c.interviews[f.interview];
            vec![
                form_id(iv.form).to_string(),
                iv.key.clone(),
                iv.enumerator.clone(),
                f.column.clone(),
                f.value.clone(),
                f.constraint.clone(),
            ]
        })
        .collect();
    if rows.is_empty() {
        s.push_str("<p class=\"ok\">Every answer meets its constraint.</p>");
    } else {
        table(
            &mut s,
            &["form", "KEY", "enumerator", "question", "value", "constraint"],
            &rows,
            rows.len(),
            "constraints.csv",
        );
    }

    // Outliers.
    s.push_str("<h2 id=\"outliers\">Numeric outliers</h2><p class=\"note\">Numeric answers beyond 3 interquartile ranges of the question's quartiles.</p>");
    let rows: Vec<Vec<String>> = found
        .outliers
        .iter()
        .map(|(f, col, i, x, lo, hi)| {
            let iv = &c.interviews[*i];
            vec![
                form_id(*f).to_string(),
                iv.key.clone(),
                iv.enumerator.clone(),
                col.clone(),
                x.to_string(),
                format!("{lo:.2} to {hi:.2}"),
            ]
        })
        .collect();
    if rows.is_empty() {
        s.push_str("<p class=\"ok\">No numeric answer is far from the others.</p>");
    } else {
        table(
            &mut s,
            &["form", "KEY", "enumerator", "question", "value", "expected range"],
            &rows,
            rows.len(),
            "outliers.csv",
        );
    }
    s.push_str("</body></html>\n");
    let path = dir.join("index.html");
    std::fs::write(&path, s).map_err(|e| ExportError::io(&path, e))?;
    Ok(path)
}
