//! The demo's closing summary, and the researcher's export step.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use enumera_central::Central;
use enumera_central::export::{ExportOptions, Filter, Format};
use enumera_core::bundle::ResearcherIdentity;

use super::campaign::{Outcome, mean};
use super::people::DISTRICTS;
use crate::UserError;

/// What the researcher's export wrote.
#[derive(Debug, Default, Clone)]
pub struct Exported {
    pub files: Vec<PathBuf>,
    /// Rows per table (form or repeat).
    pub rows: BTreeMap<String, u64>,
    pub responses: u64,
    pub panel_rows: u64,
    /// Attachment files written into each export's `media/`.
    pub media_files: u64,
    /// Items held aside, by kind (never silently dropped).
    pub report: BTreeMap<String, u64>,
}

/// The researcher's export of everything central holds: CSV tables with a
/// codebook, Stata and SPSS files, XLSX, JSON Lines and the panel, sealed
/// responses opened with the researcher's identity.
pub fn export(central: &Central, out: &Path, identity: &Path) -> Result<Exported, UserError> {
    let fail = |e: &dyn std::fmt::Display| UserError(format!("demo: export: {e}"));
    let text = std::fs::read_to_string(identity).map_err(|e| fail(&e))?;
    let mut done = Exported::default();
    for (format, sub, panel) in [
        (Format::Stata, "stata", true),
        (Format::Spss, "spss", false),
        (Format::Xlsx, "xlsx", false),
        (Format::Json, "json", false),
    ] {
        let opts = ExportOptions {
            format: Some(format),
            filter: Filter::default(),
            labels: false,
            lang: None,
            include_pii: false,
            // Parsed per export: an identity is secret material, not copied around.
            identity: Some(ResearcherIdentity::parse(&text).map_err(|e| fail(&e))?),
            panel,
            // The field manager's evening report, beside the Stata files.
            checks: panel,
            ..ExportOptions::default()
        };
        let summary =
            enumera_central::export::export(central.store(), &opts, &out.join(sub), &mut |_, _| {})
                .map_err(|e| fail(&e))?;
        if panel {
            done.rows = summary.rows.clone();
            done.responses = summary.responses;
            done.panel_rows = summary.panel_rows;
            done.media_files = summary.media_files;
            done.report = summary.report.clone();
        }
        done.files.push(out.join(sub));
    }
    Ok(done)
}

/// The closing summary as text.
pub fn render(o: &Outcome) -> String {
    let mut s = String::new();
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Enumera demo — P2P sanitation study, {} tablets, {} participants, 3 rounds (seed {}), {:.1} s",
        o.devices,
        o.participants.len(),
        o.seed,
        o.seconds
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Responses finalized, by round and district:");
    let districts: Vec<&str> = DISTRICTS.iter().take(o.devices).map(|d| d.name).collect();
    let _ = write!(s, "  {:<8}", "round");
    for d in &districts {
        let _ = write!(s, "{d:>11}");
    }
    let _ = writeln!(s, "{:>9}", "total");
    let mut counts: BTreeMap<(u32, &str), usize> = BTreeMap::new();
    for d in &o.finalized {
        *counts.entry((d.round, d.district)).or_default() += 1;
    }
    for round in 1..=3u32 {
        let _ = write!(s, "  {round:<8}");
        let mut total = 0;
        for d in &districts {
            let n = counts.get(&(round, d)).copied().unwrap_or(0);
            total += n;
            let _ = write!(s, "{n:>11}");
        }
        let _ = writeln!(s, "{total:>9}");
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  answers given            {:>6}   (first refused by a constraint, then corrected: {})",
        o.answers, o.corrected
    );
    let _ = writeln!(s, "  repeat instances added   {:>6}", o.repeats);
    let _ = writeln!(
        s,
        "  drafts left unfinished   {:>6}   (on the tablets, never sent)",
        o.drafts_left
    );
    let _ = writeln!(
        s,
        "  bundles delivered        {:>6}   (by hand, over HTTP, relayed, late, twice)",
        o.bundles_ingested
    );
    let _ = writeln!(
        s,
        "  sent over HTTP           {:>6}   (responses, to `central serve` on 127.0.0.1)",
        o.http_uploads
    );
    let _ = writeln!(s, "  duplicates ignored       {:>6}", o.duplicates_ignored);
    let _ = writeln!(s, "  conflicts                {:>6}", o.conflicts);
    let _ = writeln!(
        s,
        "  responses at central     {:>6}   (each exactly once: {})",
        o.central_responses,
        if o.at_central.values().all(|&n| n == 1) && o.at_central.len() == o.finalized.len() {
            "yes"
        } else {
            "NO"
        }
    );
    let _ = writeln!(
        s,
        "  sealed, held unread      {:>6}   (opened with the researcher's key for analysis: {})",
        o.sealed_held, o.sealed_opened
    );
    let _ = writeln!(
        s,
        "  killed mid-interview     {}: {} answers acknowledged, {} recovered, {} lost",
        o.killed.tablet,
        o.killed.acknowledged,
        o.killed.recovered,
        o.killed.lost.len()
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Findings — mean self-assessed capacity (1–5):");
    let _ = writeln!(s, "  {:<8}{:>14}{:>14}", "round", "P2P", "comparison");
    for round in 1..=3u32 {
        let cell = |group: &str| {
            o.capacity
                .get(&(round, group))
                .map(|v| format!("{:.2} (n={})", mean(v), v.len()))
                .unwrap_or_else(|| "-".into())
        };
        let _ = writeln!(s, "  {round:<8}{:>14}{:>14}", cell("P2P"), cell("comparison"));
    }
    let change = |group: &str| {
        let a = o.capacity.get(&(1, group)).map(|v| mean(v));
        let b = o.capacity.get(&(3, group)).map(|v| mean(v));
        match (a, b) {
            (Some(a), Some(b)) => format!("{:+.2}", b - a),
            _ => "n/a".into(),
        }
    };
    let _ = writeln!(
        s,
        "  From baseline to round 3, capacity changed by {} in the P2P group and {} in the comparison group.",
        change("P2P"),
        change("comparison")
    );
    let _ = writeln!(s);
    let e = &o.export;
    let _ = writeln!(
        s,
        "Researcher's export: {} responses in {} tables, panel of {} participant-rounds, {} media files; held aside: {}",
        e.responses,
        e.rows.len(),
        e.panel_rows,
        e.media_files,
        if e.report.is_empty() {
            "nothing".to_string()
        } else {
            e.report.iter().map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
        }
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Files in {}:", o.dir.display());
    let _ = writeln!(s, "  central/central.db         the central store");
    let _ = writeln!(s, "  tablets/*.db               one database per tablet");
    let _ = writeln!(
        s,
        "  transfer/                  published instruments, roster, bundles, receipts"
    );
    let _ =
        writeln!(s, "  supervisor/                bundles relayed through the supervisor's tablet");
    let _ = writeln!(
        s,
        "  export/stata/               .dta and CSV tables (KEY/PARENT_KEY), codebook, export.do, panel, report.csv"
    );
    let _ = writeln!(
        s,
        "  export/stata/checks/        high-frequency checks: index.html (open in a browser) and CSVs"
    );
    let _ = writeln!(
        s,
        "  export/stata/media/         the KII recordings and consent signatures, named as in the CSV cells"
    );
    let _ = writeln!(s, "  export/spss/                the same tables as .sav, with export.sps");
    let _ =
        writeln!(s, "  export/xlsx/, export/json/  one workbook; one JSON document per response");
    let _ = writeln!(
        s,
        "  researcher.agekey          the researcher's TEST identity for sealed responses"
    );
    if !o.problems.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "PROBLEMS:");
        for p in &o.problems {
            let _ = writeln!(s, "  {p}");
        }
    }
    s
}
