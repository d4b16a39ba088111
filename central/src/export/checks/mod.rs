//! High-frequency checks: what a field manager reads each evening, in the
//! spirit of IPA's `ipacheck`. Collected while the export reads the
//! responses (or alone, `enumera central checks`), written to `checks/`:
//!
//! - `duplicates.csv`: more than one response of a participant, round and form;
//! - `durations.csv`: interviews whose length (end - start) is negative or
//!   outside the form's Tukey fences (1.5 interquartile ranges);
//! - `enumerators.csv`: per form and enumerator, interviews, median length,
//!   the share of select answers that are "don't know", the share of
//!   optional questions shown and left empty, constraint failures, outliers;
//! - `constraints.csv`: answers that fail their question's constraint when
//!   central tests it again (a value an older version or another engine
//!   let through);
//! - `outliers.csv`: numeric answers beyond 3 interquartile ranges of the
//!   question's quartiles (3 standard deviations when the quartiles agree);
//! - `progress.csv`: participants interviewed against the roster, by
//!   district and round, per form;
//! - `index.html`: all of it for people, with SVG plots drawn here (no
//!   JavaScript), linking the CSVs.
//!
//! Participants appear by pseudonym (unless the export includes personal
//! data); the roster is read for its districts only.

mod html;
pub mod svg;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use enumera_core::expr::{Document, Expr, FixedEnv, MemDoc, evaluate_bool, parse};

use super::ExportError;
use super::csv::{CsvFile, CsvStyle};
use super::record::{Rows, Tally};
use super::schema::{ColumnRole, FormSchema, MetaField};
use super::source::{RosterEntry, StoredResponse};
use super::types::{ValueType, number, parse_datetime};

/// What the checks found, in numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChecksSummary {
    pub interviews: u64,
    pub duplicates: u64,
    pub duration_outliers: u64,
    pub constraint_failures: u64,
    pub numeric_outliers: u64,
    pub enumerators: u64,
}

/// One interview as the checks see it.
#[derive(Debug, Clone)]
struct Interview {
    form: usize,
    key: String,
    participant: String,
    /// The raw id, only to find the participant's district on the roster.
    participant_id: Option<String>,
    round: Option<i64>,
    enumerator: String,
    started: String,
    minutes: Option<f64>,
    tally: Tally,
}

/// A constraint, parsed once.
struct Check {
    column: String,
    path: Vec<String>,
    expr: Expr,
    source: String,
}

/// Where the checks find things in a form's main table.
struct FormCols {
    started: Option<usize>,
    ended: Option<usize>,
    enumerator: Option<usize>,
    /// Numeric answers: (column, header).
    numeric: Vec<(usize, String)>,
    checks: Vec<Check>,
}

/// A constraint failure.
#[derive(Debug, Clone)]
struct Failure {
    interview: usize,
    column: String,
    value: String,
    constraint: String,
}

/// Collects while the responses are read.
pub struct Collector {
    forms: Vec<FormCols>,
    interviews: Vec<Interview>,
    /// Per form, per numeric column: (value, interview).
    values: Vec<Vec<Vec<(f64, u32)>>>,
    failures: Vec<Failure>,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector").field("interviews", &self.interviews.len()).finish()
    }
}

fn column_of(
    schema: &FormSchema,
    meta: MetaField,
    qtype: enumera_core::instrument::QuestionType,
) -> Option<usize> {
    schema.meta_col(0, meta).or_else(|| {
        schema.tables[0]
            .columns
            .iter()
            .position(|c| c.role == ColumnRole::Value && c.qtype == Some(qtype))
    })
}

impl Collector {
    pub fn new(schemas: &[(FormSchema, Option<String>)]) -> Self {
        use enumera_core::instrument::QuestionType as Q;
        let forms: Vec<FormCols> = schemas
            .iter()
            .map(|(s, _)| FormCols {
                started: column_of(s, MetaField::Started, Q::Start),
                ended: column_of(s, MetaField::Ended, Q::End),
                enumerator: s
                    .meta_col(0, MetaField::Enumerator)
                    .or_else(|| s.meta_col(0, MetaField::SubmitterName)),
                numeric: s.tables[0]
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| {
                        c.role == ColumnRole::Value
                            && matches!(c.vtype, ValueType::Number | ValueType::Infer)
                    })
                    .map(|(i, c)| (i, c.name.clone()))
                    .collect(),
                checks: s
                    .constraints
                    .iter()
                    .filter_map(|c| {
                        Some(Check {
                            column: c.column.clone(),
                            path: c.path.clone(),
                            expr: parse(&c.xpath).ok()?,
                            source: c.source.clone(),
                        })
                    })
                    .collect(),
            })
            .collect();
        let values = forms.iter().map(|f| vec![Vec::new(); f.numeric.len()]).collect();
        Collector { forms, interviews: Vec::new(), values, failures: Vec::new() }
    }

    /// One response of form `form`, read into `rows`.
    pub fn observe(
        &mut self,
        form: usize,
        r: &StoredResponse,
        participant: &str,
        rows: &Rows,
        xml: &str,
    ) {
        let f = &self.forms[form];
        let main = rows.main();
        let at = |c: Option<usize>| c.and_then(|i| main.get(i)).map_or("", String::as_str);
        let started = at(f.started);
        let ended = at(f.ended);
        let minutes = match (parse_datetime(started), parse_datetime(ended)) {
            (Some(s), Some(e)) => Some((e - s).num_milliseconds() as f64 / 60_000.0),
            _ => None,
        };
        let enumerator = match at(f.enumerator) {
            "" => r.enumerator.clone().unwrap_or_default(),
            e => e.to_string(),
        };
        let n = self.interviews.len() as u32;
        for (k, (col, _)) in f.numeric.iter().enumerate() {
            if let Some(x) = main.get(*col).and_then(|v| number(v)) {
                self.values[form][k].push((x, n));
            }
        }
        if !f.checks.is_empty()
            && let Ok(doc) = MemDoc::from_xml(xml)
        {
            // `today()` and `now()` as they were when the interview ended.
            let when = parse_datetime(ended)
                .or_else(|| parse_datetime(&r.finalized_at))
                .map(|t| t.and_utc())
                .unwrap_or_else(chrono::Utc::now);
            let env = FixedEnv::new(when, 0);
            for check in &f.checks {
                let mut nodes = vec![doc.root()];
                for name in std::iter::once(None).chain(check.path.iter().map(Some)) {
                    let mut next = Vec::new();
                    for node in &nodes {
                        match name {
                            // The root element, whatever its name.
                            None => {
                                if let Some(c) = doc.first_child(*node) {
                                    next.push(c);
                                }
                            }
                            Some(n) => doc.children_named(*node, n, &mut next),
                        }
                    }
                    nodes = next;
                }
                for node in nodes {
                    let value = doc.value(node);
                    if value.is_empty() {
                        continue;
                    }
                    // An expression that cannot be evaluated here (a
                    // secondary instance, an unknown function) is not a failure.
                    if let Ok(false) = evaluate_bool(&check.expr, &doc, &env, node) {
                        self.failures.push(Failure {
                            interview: n as usize,
                            column: check.column.clone(),
                            value: value.to_string(),
                            constraint: check.source.clone(),
                        });
                    }
                }
            }
        }
        self.interviews.push(Interview {
            form,
            key: r.instance_id.clone(),
            participant: participant.to_string(),
            participant_id: r.participant_id.clone(),
            round: r.round,
            enumerator,
            started: started.to_string(),
            minutes,
            tally: rows.tally,
        });
    }

    /// Computes the checks and writes them into `dir`; the files and a summary.
    pub fn finish(
        self,
        dir: &Path,
        schemas: &[(FormSchema, Option<String>)],
        roster: &[RosterEntry],
        style: CsvStyle,
    ) -> Result<(Vec<PathBuf>, ChecksSummary), ExportError> {
        std::fs::create_dir_all(dir).map_err(|e| ExportError::io(dir, e))?;
        let found = Found::compute(&self, schemas, roster);
        let mut files = found.write_csvs(dir, &self, schemas, style)?;
        files.push(html::write(dir, &found, &self, schemas)?);
        let summary = ChecksSummary {
            interviews: self.interviews.len() as u64,
            duplicates: found.duplicates.len() as u64,
            duration_outliers: found.durations.len() as u64,
            constraint_failures: self.failures.len() as u64,
            numeric_outliers: found.outliers.len() as u64,
            enumerators: found.enumerators.len() as u64,
        };
        Ok((files, summary))
    }
}

/// The `p` quantile of sorted values (linear between neighbours).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Tukey's fences at `k` interquartile ranges; with no spread between the
/// quartiles, mean ± 3 standard deviations; None without spread at all.
pub fn fences(values: &[f64], k: f64) -> Option<(f64, f64)> {
    if values.len() < 4 {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let (q1, q3) = (quantile(&v, 0.25), quantile(&v, 0.75));
    let iqr = q3 - q1;
    if iqr > 0.0 {
        return Some((q1 - k * iqr, q3 + k * iqr));
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
    (sd > 0.0).then_some((mean - 3.0 * sd, mean + 3.0 * sd))
}

/// An enumerator's line.
#[derive(Debug, Clone)]
struct EnumeratorLine {
    form: usize,
    enumerator: String,
    interviews: u64,
    minutes: Vec<f64>,
    dont_know: (u32, u32),
    skipped: (u32, u32),
    failures: u64,
    outliers: u64,
}

/// A progress cell: (form, district, round) -> (expected, interviewed).
type Progress = BTreeMap<(usize, String, i64), (u64, u64)>;

struct Found {
    /// Groups of interviews of one participant, round and form.
    duplicates: Vec<Vec<usize>>,
    /// (interview, why), with the form's fences.
    durations: Vec<(usize, String)>,
    duration_fences: Vec<Option<(f64, f64)>>,
    /// (form, column header, interview, value, low, high).
    outliers: Vec<(usize, String, usize, f64, f64, f64)>,
    enumerators: Vec<EnumeratorLine>,
    progress: Progress,
    district_key: Option<String>,
}

fn rate((n, of): (u32, u32)) -> f64 {
    if of == 0 { 0.0 } else { 100.0 * f64::from(n) / f64::from(of) }
}

impl Found {
    fn compute(
        c: &Collector,
        schemas: &[(FormSchema, Option<String>)],
        roster: &[RosterEntry],
    ) -> Found {
        // Duplicates.
        let mut by_pr: BTreeMap<(usize, &str, i64), Vec<usize>> = BTreeMap::new();
        for (i, iv) in c.interviews.iter().enumerate() {
            if let (Some(_), Some(round)) = (&iv.participant_id, iv.round) {
                by_pr.entry((iv.form, iv.participant.as_str(), round)).or_default().push(i);
            }
        }
        let duplicates: Vec<Vec<usize>> = by_pr.into_values().filter(|v| v.len() > 1).collect();

        // Durations, per form.
        let mut durations = Vec::new();
        let mut duration_fences = Vec::new();
        for f in 0..schemas.len() {
            let mins: Vec<f64> =
                c.interviews.iter().filter(|iv| iv.form == f).filter_map(|iv| iv.minutes).collect();
            // Tukey's fences, and never shorter than a third of the median
            // nor longer than three times it (rushed or stalled interviews).
            let median = {
                let mut m = mins.clone();
                m.sort_by(f64::total_cmp);
                quantile(&m, 0.5)
            };
            let fence =
                fences(&mins, 1.5).map(|(lo, hi)| (lo.max(median / 3.0), hi.min(median * 3.0)));
            duration_fences.push(fence);
            for (i, iv) in c.interviews.iter().enumerate().filter(|(_, iv)| iv.form == f) {
                let Some(m) = iv.minutes else { continue };
                let why = if m < 0.0 {
                    Some("ends before it starts".to_string())
                } else {
                    match fence {
                        Some((lo, _)) if m < lo => Some(format!("short: under {lo:.1} minutes")),
                        Some((_, hi)) if m > hi => Some(format!("long: over {hi:.1} minutes")),
                        _ => None,
                    }
                };
                if let Some(w) = why {
                    durations.push((i, w));
                }
            }
        }

        // Numeric outliers.
        let mut outliers = Vec::new();
        for (f, cols) in c.values.iter().enumerate() {
            for (k, vals) in cols.iter().enumerate() {
                let xs: Vec<f64> = vals.iter().map(|(x, _)| *x).collect();
                let Some((lo, hi)) = fences(&xs, 3.0) else { continue };
                for (x, i) in vals {
                    if *x < lo || *x > hi {
                        outliers.push((
                            f,
                            c.forms[f].numeric[k].1.clone(),
                            *i as usize,
                            *x,
                            lo,
                            hi,
                        ));
                    }
                }
            }
        }

        // Enumerators.
        let mut lines: BTreeMap<(usize, String), EnumeratorLine> = BTreeMap::new();
        for iv in &c.interviews {
            let l =
                lines.entry((iv.form, iv.enumerator.clone())).or_insert_with(|| EnumeratorLine {
                    form: iv.form,
                    enumerator: iv.enumerator.clone(),
                    interviews: 0,
                    minutes: Vec::new(),
                    dont_know: (0, 0),
                    skipped: (0, 0),
                    failures: 0,
                    outliers: 0,
                });
            l.interviews += 1;
            l.minutes.extend(iv.minutes.filter(|m| *m >= 0.0));
            l.dont_know.0 += iv.tally.dont_know;
            l.dont_know.1 += iv.tally.selects;
            l.skipped.0 += iv.tally.skipped;
            l.skipped.1 += iv.tally.optional;
        }
        for fail in &c.failures {
            let iv = &c.interviews[fail.interview];
            if let Some(l) = lines.get_mut(&(iv.form, iv.enumerator.clone())) {
                l.failures += 1;
            }
        }
        for (_, _, i, _, _, _) in &outliers {
            let iv = &c.interviews[*i];
            if let Some(l) = lines.get_mut(&(iv.form, iv.enumerator.clone())) {
                l.outliers += 1;
            }
        }

        // Progress against the roster.
        let district_key = roster
            .iter()
            .flat_map(|p| p.display.keys())
            .find(|k| k.eq_ignore_ascii_case("district"))
            .or_else(|| roster.iter().flat_map(|p| p.display.keys()).next())
            .cloned();
        let district_of: HashMap<&str, &str> = roster
            .iter()
            .map(|p| {
                let d = district_key
                    .as_ref()
                    .and_then(|k| p.display.get(k))
                    .map_or("(none)", String::as_str);
                (p.id.as_str(), d)
            })
            .collect();
        let mut expected: BTreeMap<&str, u64> = BTreeMap::new();
        for d in district_of.values() {
            *expected.entry(d).or_default() += 1;
        }
        let mut progress = Progress::new();
        if !roster.is_empty() {
            let mut seen: std::collections::HashSet<(usize, &str, i64)> = Default::default();
            for iv in &c.interviews {
                if let (Some(p), Some(round)) = (&iv.participant_id, iv.round)
                    && district_of.contains_key(p.as_str())
                {
                    seen.insert((iv.form, p.as_str(), round));
                }
            }
            let forms_seen: Vec<usize> = {
                let mut f: Vec<usize> = c.interviews.iter().map(|iv| iv.form).collect();
                f.sort_unstable();
                f.dedup();
                f
            };
            // A form is expected in the districts where it is used at all
            // (Bangladesh's sealed capacity form is not Mozambique's).
            for f in forms_seen {
                let used: std::collections::HashSet<&str> = seen
                    .iter()
                    .filter(|(g, _, _)| *g == f)
                    .map(|(_, p, _)| district_of[p])
                    .collect();
                // ... and in the rounds it is used in (event feedback after the event only).
                let in_rounds: std::collections::BTreeSet<i64> =
                    seen.iter().filter(|(g, _, _)| *g == f).map(|(_, _, r)| *r).collect();
                for (d, n) in expected.iter().filter(|(d, _)| used.contains(**d)) {
                    for round in &in_rounds {
                        progress.insert((f, d.to_string(), *round), (*n, 0));
                    }
                }
            }
            for (f, p, round) in seen {
                if let Some(cell) = progress.get_mut(&(f, district_of[p].to_string(), round)) {
                    cell.1 += 1;
                }
            }
        }
        Found {
            duplicates,
            durations,
            duration_fences,
            outliers,
            enumerators: lines.into_values().collect(),
            progress,
            district_key,
        }
    }

    fn write_csvs(
        &self,
        dir: &Path,
        c: &Collector,
        schemas: &[(FormSchema, Option<String>)],
        style: CsvStyle,
    ) -> Result<Vec<PathBuf>, ExportError> {
        let form_id = |f: usize| schemas[f].0.form_id.clone();
        let mut files = Vec::new();
        let mut csv =
            |name: &str, header: &[&str], rows: Vec<Vec<String>>| -> Result<(), ExportError> {
                let mut f = CsvFile::create(&dir.join(name), header, style)?;
                for r in rows {
                    f.write(&r)?;
                }
                files.push(f.finish()?);
                Ok(())
            };
        csv(
            "duplicates.csv",
            &["form_id", "participant", "round", "responses", "KEY", "enumerator", "started"],
            self.duplicates
                .iter()
                .flat_map(|group| {
                    group.iter().map(move |i| {
                        let iv = &c.interviews[*i];
                        vec![
                            form_id(iv.form),
                            iv.participant.clone(),
                            iv.round.map(|r| r.to_string()).unwrap_or_default(),
                            group.len().to_string(),
                            iv.key.clone(),
                            iv.enumerator.clone(),
                            iv.started.clone(),
                        ]
                    })
                })
                .collect(),
        )?;
        csv(
            "durations.csv",
            &[
                "form_id",
                "KEY",
                "participant",
                "round",
                "enumerator",
                "started",
                "minutes",
                "low_fence",
                "high_fence",
                "why",
            ],
            self.durations
                .iter()
                .map(|(i, why)| {
                    let iv = &c.interviews[*i];
                    let (lo, hi) = self.duration_fences[iv.form]
                        .map_or((String::new(), String::new()), |(l, h)| {
                            (format!("{l:.1}"), format!("{h:.1}"))
                        });
                    vec![
                        form_id(iv.form),
                        iv.key.clone(),
                        iv.participant.clone(),
                        iv.round.map(|r| r.to_string()).unwrap_or_default(),
                        iv.enumerator.clone(),
                        iv.started.clone(),
                        iv.minutes.map(|m| format!("{m:.1}")).unwrap_or_default(),
                        lo,
                        hi,
                        why.clone(),
                    ]
                })
                .collect(),
        )?;
        csv(
            "enumerators.csv",
            &[
                "form_id",
                "enumerator",
                "interviews",
                "median_minutes",
                "dont_know_pct",
                "dont_know",
                "select_answers",
                "skipped_optional_pct",
                "skipped_optional",
                "optional_shown",
                "constraint_failures",
                "numeric_outliers",
            ],
            self.enumerators
                .iter()
                .map(|l| {
                    let mut m = l.minutes.clone();
                    m.sort_by(f64::total_cmp);
                    vec![
                        form_id(l.form),
                        l.enumerator.clone(),
                        l.interviews.to_string(),
                        if m.is_empty() {
                            String::new()
                        } else {
                            format!("{:.1}", quantile(&m, 0.5))
                        },
                        format!("{:.1}", rate(l.dont_know)),
                        l.dont_know.0.to_string(),
                        l.dont_know.1.to_string(),
                        format!("{:.1}", rate(l.skipped)),
                        l.skipped.0.to_string(),
                        l.skipped.1.to_string(),
                        l.failures.to_string(),
                        l.outliers.to_string(),
                    ]
                })
                .collect(),
        )?;
        csv(
            "constraints.csv",
            &["form_id", "KEY", "enumerator", "question", "value", "constraint"],
            c.failures
                .iter()
                .map(|fl| {
                    let iv = &c.interviews[fl.interview];
                    vec![
                        form_id(iv.form),
                        iv.key.clone(),
                        iv.enumerator.clone(),
                        fl.column.clone(),
                        fl.value.clone(),
                        fl.constraint.clone(),
                    ]
                })
                .collect(),
        )?;
        csv(
            "outliers.csv",
            &["form_id", "KEY", "enumerator", "question", "value", "low_fence", "high_fence"],
            self.outliers
                .iter()
                .map(|(f, col, i, x, lo, hi)| {
                    let iv = &c.interviews[*i];
                    vec![
                        form_id(*f),
                        iv.key.clone(),
                        iv.enumerator.clone(),
                        col.clone(),
                        x.to_string(),
                        format!("{lo:.2}"),
                        format!("{hi:.2}"),
                    ]
                })
                .collect(),
        )?;
        let district = self.district_key.clone().unwrap_or_else(|| "district".into());
        csv(
            "progress.csv",
            &["form_id", &district, "round", "expected", "interviewed", "percent"],
            self.progress
                .iter()
                .map(|((f, d, round), (expected, done))| {
                    vec![
                        form_id(*f),
                        d.clone(),
                        round.to_string(),
                        expected.to_string(),
                        done.to_string(),
                        format!("{:.0}", 100.0 * *done as f64 / (*expected).max(1) as f64),
                    ]
                })
                .collect(),
        )?;
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_follow_tukey_and_fall_back_to_the_spread() {
        let v = [10.0, 12.0, 14.0, 16.0, 18.0];
        let (lo, hi) = fences(&v, 1.5).expect("fences");
        assert_eq!((lo, hi), (12.0 - 6.0, 16.0 + 6.0));
        // All quartiles equal: mean ± 3 sd.
        let flat = [3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 40.0];
        let (_, hi) = fences(&flat, 3.0).expect("sd fences");
        assert!(hi < 40.0);
        assert_eq!(fences(&[3.0; 8], 3.0), None);
        assert_eq!(fences(&[1.0, 2.0], 3.0), None, "too few to say");
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
    }
}
