//! `enumera central --db C.db export ...`: the researcher export, with a
//! progress bar on stderr.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use enumera_central::Central;
use enumera_central::export::{ExportOptions, Filter, Format, export};
use enumera_core::bundle::ResearcherIdentity;

use crate::UserError;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Csv,
    Xlsx,
    Json,
    /// The CSVs, a labelled .dta per table (Stata 14+) and export.do.
    Stata,
    /// The CSVs and export.sps.
    Spss,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "csv")]
    format: FormatArg,
    /// The folder to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Only this form (default: every published form).
    #[arg(long, value_name = "ID")]
    form: Option<String>,
    /// Only this version of the form.
    #[arg(long, value_name = "V", conflicts_with = "all_versions")]
    version: Option<String>,
    /// Every version of each form in one table (the default).
    #[arg(long)]
    all_versions: bool,
    /// Only responses received on or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Choice labels instead of choice names.
    #[arg(long)]
    labels: bool,
    /// Language of labels: a form language, its code (pt) or its name.
    #[arg(long, value_name = "L")]
    lang: Option<String>,
    /// Keep questions marked personal data and raw participant ids.
    #[arg(long)]
    include_pii: bool,
    /// The researcher's age identity file, to open sealed responses.
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
    /// Also write panel.csv (and panel.dta for Stata): one row per participant and round.
    #[arg(long)]
    panel: bool,
}

pub fn run(db: &std::path::Path, args: ExportArgs) -> Result<(), UserError> {
    let identity = match &args.identity {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| UserError(format!("cannot read {}: {e}", path.display())))?;
            Some(
                ResearcherIdentity::parse(&text)
                    .map_err(|e| UserError(format!("{}: {e}", path.display())))?,
            )
        }
        None => None,
    };
    if let Some(since) = &args.since
        && chrono::NaiveDate::parse_from_str(since.get(..10).unwrap_or(since), "%Y-%m-%d").is_err()
    {
        return Err(UserError(format!("--since {since:?} is not a date (YYYY-MM-DD)")));
    }
    let opts = ExportOptions {
        format: Some(match args.format {
            FormatArg::Csv => Format::Csv,
            FormatArg::Xlsx => Format::Xlsx,
            FormatArg::Json => Format::Json,
            FormatArg::Stata => Format::Stata,
            FormatArg::Spss => Format::Spss,
        }),
        filter: Filter { form: args.form, version: args.version, since: args.since },
        labels: args.labels,
        lang: args.lang,
        include_pii: args.include_pii,
        identity,
        panel: args.panel,
    };
    let central = Central::open(db)?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} exporting [{bar:30}] {pos}/{len} responses ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let summary = export(central.store(), &opts, &args.out, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .map_err(|e| UserError(e.to_string()))?;
    bar.finish_and_clear();
    eprintln!("exported {} responses into {}", summary.responses, args.out.display());
    for (table, rows) in &summary.rows {
        eprintln!("  {table}: {rows} rows");
    }
    if opts.panel {
        eprintln!("  panel: {} rows (participant x round)", summary.panel_rows);
    }
    let listed: u64 = summary.report.values().sum();
    if listed == 0 {
        eprintln!("report.csv: nothing held aside");
    } else {
        eprintln!("report.csv lists {listed} items not exported as current responses:");
        for (kind, n) in &summary.report {
            eprintln!("  {kind}: {n}");
        }
    }
    Ok(())
}
