//! `enumera central export ...` and `enumera central checks ...`: the
//! researcher export and the high-frequency checks, with a progress bar on
//! stderr and, with `--json`, what was written on stdout.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use enumera_central::export::{
    ExportOptions, ExportSummary, Filter, Format, Layout, checks_only, export,
};
use enumera_central::{Central, Location};
use enumera_core::bundle::ResearcherIdentity;

use crate::UserError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Csv,
    Xlsx,
    Json,
    /// The CSVs, a labelled .dta per table (Stata 14+) and export.do.
    Stata,
    /// The CSVs, a labelled .sav per table and export.sps.
    Spss,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LayoutArg {
    /// Metadata first, then the answers; Stata/SPSS-friendly names.
    Enumera,
    /// Columns as ODK Central's CSV export writes them.
    Odk,
}

/// What both commands read.
#[derive(Debug, Args)]
pub struct Selection {
    /// Only this form (default: every published form).
    #[arg(long, value_name = "ID")]
    form: Option<String>,
    /// Only responses received on or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Language of labels: a form language, its code (pt) or its name.
    #[arg(long, value_name = "L")]
    lang: Option<String>,
    /// Keep questions marked personal data and raw participant ids.
    #[arg(long)]
    include_pii: bool,
    /// The researcher's age identity file, to open sealed responses.
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
    /// Print what was written as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// One or more formats, written in one pass: --format stata,spss.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "csv")]
    format: Vec<FormatArg>,
    /// The folder to write into (created if missing).
    #[arg(short = 'o', long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    select: Selection,
    /// Only this version of the form.
    #[arg(long, value_name = "V", conflicts_with = "all_versions")]
    version: Option<String>,
    /// Every version of each form in one table (the default).
    #[arg(long)]
    all_versions: bool,
    /// Choice labels instead of choice names.
    #[arg(long)]
    labels: bool,
    /// Also write the panel: one row per participant and round.
    #[arg(long)]
    panel: bool,
    /// Column layout: Enumera's, or ODK Central's (for scripts written for Central).
    #[arg(long, value_enum, default_value = "enumera")]
    layout: LayoutArg,
    /// Start CSVs with a UTF-8 byte-order mark (default in Enumera's layout, for Excel).
    #[arg(long, overrides_with = "no_bom")]
    bom: bool,
    /// No byte-order mark (default in the ODK layout, as Central writes them).
    #[arg(long, overrides_with = "bom")]
    no_bom: bool,
    /// CSV cells exactly as collected: answers starting with = + - @ are not
    /// neutralised for spreadsheets.
    #[arg(long)]
    raw_csv: bool,
    /// Also write the high-frequency checks into DIR/checks.
    #[arg(long)]
    checks: bool,
    /// Data only: leave the responses' attachments out (no DIR/media).
    #[arg(long)]
    no_media: bool,
}

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// The folder to write the report and CSVs into (created if missing).
    #[arg(short = 'o', long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    select: Selection,
}

fn identity(path: Option<&Path>) -> Result<Option<ResearcherIdentity>, UserError> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| UserError(format!("cannot read {}: {e}", path.display())))?;
    ResearcherIdentity::parse(&text)
        .map(Some)
        .map_err(|e| UserError(format!("{}: {e}", path.display())))
}

fn check_since(since: Option<&str>) -> Result<(), UserError> {
    if let Some(since) = since
        && chrono::NaiveDate::parse_from_str(since.get(..10).unwrap_or(since), "%Y-%m-%d").is_err()
    {
        return Err(UserError(format!("--since {since:?} is not a date (YYYY-MM-DD)")));
    }
    Ok(())
}

fn format(f: FormatArg) -> Format {
    match f {
        FormatArg::Csv => Format::Csv,
        FormatArg::Xlsx => Format::Xlsx,
        FormatArg::Json => Format::Json,
        FormatArg::Stata => Format::Stata,
        FormatArg::Spss => Format::Spss,
    }
}

fn bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} reading [{bar:30}] {pos}/{len} responses ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// What a run wrote, for `--json`: paths relative to the output folder.
fn summary_json(out: &Path, s: &ExportSummary) -> serde_json::Value {
    let files: Vec<String> = s
        .files
        .iter()
        .map(|f| f.strip_prefix(out).unwrap_or(f).to_string_lossy().into_owned())
        .collect();
    serde_json::json!({
        "out": out,
        "files": files,
        "responses": s.responses,
        "tables": s.rows,
        "panel_rows": s.panel_rows,
        "held_aside": s.report,
        "checks": s.checks,
        "media_files": s.media_files,
    })
}

pub fn run(db: &Location, args: ExportArgs) -> Result<(), UserError> {
    check_since(args.select.since.as_deref())?;
    let mut formats = args.format.iter().map(|f| format(*f));
    let opts = ExportOptions {
        format: formats.next(),
        also: formats.collect(),
        filter: Filter { form: args.select.form, version: args.version, since: args.select.since },
        labels: args.labels,
        lang: args.select.lang,
        include_pii: args.select.include_pii,
        identity: identity(args.select.identity.as_deref())?,
        panel: args.panel,
        layout: match args.layout {
            LayoutArg::Enumera => Layout::Enumera,
            LayoutArg::Odk => Layout::Odk,
        },
        bom: if args.bom {
            Some(true)
        } else if args.no_bom {
            Some(false)
        } else {
            None
        },
        raw_csv: args.raw_csv,
        checks: args.checks,
        no_media: args.no_media,
    };
    let central = Central::open_at(db)?;
    let bar = bar();
    let summary = export(central.store(), &opts, &args.out, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .map_err(|e| UserError(e.to_string()))?;
    bar.finish_and_clear();
    if args.select.json {
        println!("{}", summary_json(&args.out, &summary));
    }
    eprintln!("exported {} responses into {}", summary.responses, args.out.display());
    for (table, rows) in &summary.rows {
        eprintln!("  {table}: {rows} rows");
    }
    if opts.panel {
        eprintln!("  panel: {} rows (participant x round)", summary.panel_rows);
    }
    if summary.media_files > 0 {
        eprintln!("  media/: {} attachment files", summary.media_files);
    }
    if let Some(c) = &summary.checks {
        eprintln!(
            "checks/index.html: {} duplicates, {} unusual lengths, {} constraint failures, {} outliers",
            c.duplicates, c.duration_outliers, c.constraint_failures, c.numeric_outliers
        );
    }
    let listed: u64 = summary.report.values().sum();
    if listed == 0 {
        eprintln!("report.csv: nothing held aside");
    } else {
        eprintln!(
            "report.csv lists {listed} items not exported as current responses or not held whole:"
        );
        for (kind, n) in &summary.report {
            eprintln!("  {kind}: {n}");
        }
    }
    Ok(())
}

pub fn checks(db: &Location, args: ChecksArgs) -> Result<(), UserError> {
    check_since(args.select.since.as_deref())?;
    let opts = ExportOptions {
        filter: Filter { form: args.select.form, version: None, since: args.select.since },
        lang: args.select.lang,
        include_pii: args.select.include_pii,
        identity: identity(args.select.identity.as_deref())?,
        checks: true,
        ..ExportOptions::default()
    };
    let central = Central::open_at(db)?;
    let bar = bar();
    let summary = checks_only(central.store(), &opts, &args.out, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .map_err(|e| UserError(e.to_string()))?;
    bar.finish_and_clear();
    if args.select.json {
        println!("{}", summary_json(&args.out, &summary));
    }
    if let Some(c) = &summary.checks {
        eprintln!(
            "{}: {} interviews; {} duplicates, {} unusual lengths, {} constraint failures, {} outliers",
            args.out.join("index.html").display(),
            c.interviews,
            c.duplicates,
            c.duration_outliers,
            c.constraint_failures,
            c.numeric_outliers
        );
    }
    Ok(())
}
