//! The researcher export: analysis-ready tables from what central holds.
//!
//! - one table per form (a row per response) and one per repeat (a row per
//!   repeat instance), linked by `KEY` / `PARENT_KEY` as ODK Central does;
//!   versions of a form merged into one table (union of columns); in
//!   Enumera's layout or in ODK Central's (`--layout odk`, schema.rs);
//! - CSV (with a byte-order mark for Excel, formulas neutralised), XLSX,
//!   JSON Lines, Stata `.dta` and SPSS `.sav` files written directly, typed
//!   the same way everywhere (types.rs) with the same choice codes and
//!   missing values (codes.rs) and labels in every language; a `.do` and
//!   `.sps` beside them; a codebook (CSV and Markdown);
//! - personal data left out and the participant id pseudonymized unless
//!   asked for; a panel table (one row per participant and round);
//! - high-frequency checks for field managers (checks/), on request;
//! - sealed responses opened with the researcher's identity; anything not
//!   exported, or not held whole by a format, is listed in `report.csv`,
//!   never dropped silently;
//! - streaming: responses are read one at a time and pass through three
//!   threads (read and check, parse, write: pipeline.rs); the typed files
//!   are spooled to disk until every value is known (spool.rs).

mod audit;
mod checks;
mod codebook;
mod codes;
mod csv;
mod dictionary;
pub mod document;
mod dta;
pub mod feed;
mod jsonl;
mod media;
mod names;
mod panel;
mod payload;
mod pipeline;
mod pseudonym;
mod record;
mod report;
mod review;
mod sav;
mod schema;
mod source;
mod spool;
mod spss;
mod stata;
mod types;
mod xlsx;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use enumera_core::bundle::ResearcherIdentity;

use payload::{exported_participant, submission_xml};
use pipeline::{OdkMeta, row_meta};

use enumera_core::instrument::Instrument;

pub use checks::ChecksSummary;
pub use codes::{Code, Meaning, meaning};
pub use csv::{CsvStyle, is_plain_number, neutralise, unneutralise};
pub use names::{Tool, sanitize};
pub use pseudonym::{hmac_sha256, pseudonym};
pub use record::{ParticipantSwap, RowMeta, ValueStyle};
pub use report::ReportKind;
pub use review::{ReviewExport, ReviewRow, ReviewStatusRow};
pub use schema::{Column, ColumnRole, FormSchema, Layout, MetaField, Table};
pub use source::{ExportSource, Filter, HeldAside, Order, RosterEntry, StoredResponse, Visit};
pub use types::ValueType;

use crate::error::CentralError;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
    /// CSVs, a `.dta` per table, and `export.do`.
    Stata,
    /// CSVs, a `.sav` per table, and `export.sps`.
    Spss,
}

/// What to export and how.
#[derive(Debug, Default)]
pub struct ExportOptions {
    pub format: Option<Format>,
    /// More formats written in the same pass (`--format stata,spss`).
    pub also: Vec<Format>,
    pub filter: Filter,
    /// Choice labels instead of choice names.
    pub labels: bool,
    /// Language for labels: a language of the form (`Portuguese (pt)`), its
    /// code (`pt`) or its name (`Portuguese`).
    pub lang: Option<String>,
    /// Keep questions marked personal data, and raw participant ids.
    pub include_pii: bool,
    /// Opens sealed responses.
    pub identity: Option<ResearcherIdentity>,
    /// Also write the panel (`panel.csv`, and `.dta` / `.sav`).
    pub panel: bool,
    /// Enumera's columns or ODK Central's.
    pub layout: Layout,
    /// A UTF-8 byte-order mark at the start of each CSV. Default: yes in
    /// Enumera's layout (Excel), no in ODK Central's (as Central writes them).
    pub bom: Option<bool>,
    /// CSV cells exactly as given, formulas not neutralised.
    pub raw_csv: bool,
    /// Also write the high-frequency checks (`checks/`).
    pub checks: bool,
    /// Leave attachments out (no `media/` folder): a data-only export.
    pub no_media: bool,
}

impl ExportOptions {
    fn formats(&self) -> Vec<Format> {
        let mut f = vec![self.format.unwrap_or(Format::Csv)];
        for x in &self.also {
            if !f.contains(x) {
                f.push(*x);
            }
        }
        f
    }

    fn csv_style(&self) -> CsvStyle {
        CsvStyle {
            bom: self.bom.unwrap_or(self.layout == Layout::Enumera),
            neutralise: !self.raw_csv,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Default)]
pub struct ExportSummary {
    pub files: Vec<PathBuf>,
    /// Rows written per table file stem.
    pub rows: BTreeMap<String, u64>,
    pub responses: u64,
    /// Items in the report, by kind.
    pub report: BTreeMap<String, u64>,
    pub panel_rows: u64,
    /// What the high-frequency checks found, when asked for.
    pub checks: Option<ChecksSummary>,
    /// Attachment files written into `media/`.
    pub media_files: u64,
}

/// Why an export failed (items that cannot be exported are not errors:
/// they go to the report).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Central(#[from] CentralError),

    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write {}: {reason}", path.display())]
    Xlsx { path: PathBuf, reason: String },

    #[error("cannot write {}: {reason}", path.display())]
    Dta { path: PathBuf, reason: String },

    #[error("published instrument {form_id:?} version {version:?} cannot be read: {reason}")]
    Instrument { form_id: String, version: String, reason: String },

    #[error(
        "nothing to export: no published instrument{}; publish the forms with \
         `enumera central --db C.db publish FORM.xlsx`",
        form.as_ref().map(|f| format!(" for form {f:?}")).unwrap_or_default()
    )]
    NoInstrument { form: Option<String> },

    #[error("language {wanted:?} is not in any exported form (forms have: {available})")]
    UnknownLanguage { wanted: String, available: String },
}

impl ExportError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ExportError::Io { path: path.to_path_buf(), source }
    }
}

/// Progress: (responses done, responses in all).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Picks the form language matching `wanted` (exact, code or name), or the
/// form's default language, or its first.
pub fn resolve_lang(wanted: Option<&str>, schema: &FormSchema) -> Option<String> {
    let langs = &schema.languages;
    match wanted {
        Some(w) => langs
            .iter()
            .find(|l| {
                *l == w
                    || l.ends_with(&format!("({w})"))
                    || l.split(" (").next().is_some_and(|n| n.eq_ignore_ascii_case(w))
            })
            .cloned(),
        None => schema
            .default_language
            .clone()
            .filter(|d| langs.contains(d))
            .or_else(|| langs.first().cloned()),
    }
}

/// The typed files asked for.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TypedOut {
    pub dta: bool,
    pub sav: bool,
    pub xlsx: bool,
}

impl TypedOut {
    /// Files that are written per table (the XLSX is per form).
    pub fn any(self) -> bool {
        self.dta || self.sav
    }

    /// The `.dta` and `.sav` of one table.
    pub fn write_table(
        self,
        out: &Path,
        table: &TableVars<'_>,
        data: &spool::Finished,
    ) -> Result<Vec<PathBuf>, ExportError> {
        let mut files = Vec::new();
        if self.dta {
            let path = out.join(format!("{}.dta", table.name));
            files.push(dta::write(&path, &stata::dictionary(table), data)?);
        }
        if self.sav {
            let path = out.join(format!("{}.sav", table.name));
            let lang = table.vars.first().and_then(|v| v.lang);
            files.push(sav::write(&path, &table.label, &spss::variables(table, lang), data)?);
        }
        Ok(files)
    }
}

/// One form being exported.
struct FormOut {
    csv: Vec<csv::CsvFile>,
    /// Per table, its spool when typed files are asked for.
    spools: Vec<spool::Spool>,
    json: Option<jsonl::JsonLines>,
    long: report::LongText,
    /// `FORM-audit.csv`, when its responses carry audit logs.
    audit: audit::AuditTable,
}

/// Exports into `out` (created if missing).
pub fn export<S: ExportSource>(
    source: &S,
    opts: &ExportOptions,
    out: &Path,
    progress: Progress<'_>,
) -> Result<ExportSummary, ExportError> {
    let formats = opts.formats();
    let csv_wanted =
        formats.iter().any(|f| matches!(f, Format::Csv | Format::Stata | Format::Spss));
    let typed = TypedOut {
        dta: formats.contains(&Format::Stata),
        sav: formats.contains(&Format::Spss),
        xlsx: formats.contains(&Format::Xlsx),
    };
    let spooled = typed.any() || typed.xlsx;
    let style = opts.csv_style();
    std::fs::create_dir_all(out).map_err(|e| ExportError::io(out, e))?;
    let forms = schemas(source.instruments(&opts.filter)?, opts.include_pii, opts.layout);
    if forms.is_empty() {
        return Err(ExportError::NoInstrument { form: opts.filter.form.clone() });
    }
    let langs: Vec<Option<String>> =
        forms.iter().map(|f| resolve_lang(opts.lang.as_deref(), f)).collect();
    if let Some(wanted) = &opts.lang
        && langs.iter().all(Option::is_none)
    {
        let mut available: Vec<&str> =
            forms.iter().flat_map(|f| f.languages.iter().map(String::as_str)).collect();
        available.dedup();
        return Err(ExportError::UnknownLanguage {
            wanted: wanted.clone(),
            available: available.join(", "),
        });
    }
    let schemas: Vec<(FormSchema, Option<String>)> = forms.into_iter().zip(langs).collect();
    let naming = names_for(&schemas);
    let secret = if opts.include_pii { None } else { Some(source.pseudonym_secret()?) };
    let mut summary = ExportSummary::default();
    let report = report::Report::create(&out.join("report.csv"), style)?;

    let mut outs = Vec::new();
    for (schema, lang) in &schemas {
        let mut form = FormOut {
            csv: Vec::new(),
            spools: Vec::new(),
            json: None,
            long: report::LongText::new(
                out.join(format!("{}-long-text.csv", schema.form_id)),
                style,
            ),
            audit: audit::AuditTable::new(out, &schema.form_id, style),
        };
        for t in &schema.tables {
            if csv_wanted {
                let path = out.join(format!("{}.csv", t.name));
                let h: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
                form.csv.push(csv::CsvFile::create(&path, &h, style)?);
            }
            if spooled {
                let plans = t
                    .columns
                    .iter()
                    .map(|c| dictionary::plan(schema, c, lang.as_deref(), opts.labels))
                    .collect();
                form.spools.push(spool::Spool::create(&out.join(&t.name), plans)?);
            }
        }
        if formats.contains(&Format::Json) {
            let path = out.join(format!("{}.jsonl", schema.form_id));
            let infer =
                schema.tables.iter().any(|t| t.columns.iter().any(|c| c.vtype == ValueType::Infer));
            form.json = Some(jsonl::JsonLines::create(&path, infer)?);
        }
        outs.push(form);
    }
    let checks = opts.checks.then(|| checks::Collector::new(&schemas));
    let total = source.count(&opts.filter)?;

    let writer = pipeline::Writer {
        schemas: &schemas,
        opts,
        csv_wanted,
        spooled,
        typed,
        outs,
        report,
        checks,
        responses: 0,
    };
    let stages =
        pipeline::Stages { schemas: &schemas, opts, secret: secret.as_ref(), csv_wanted, spooled };
    let (pipeline::Writer { outs, mut report, checks, responses, .. }, media_files) =
        stages.run(source, out, total, progress, writer)?;
    summary.media_files = media_files;
    progress(total, total);
    summary.responses = responses;
    source.held_aside(&opts.filter, &mut |h: HeldAside| report.held_aside(&h))?;

    let tables = table_vars(&schemas, &naming, None);
    let mut resolved: HashMap<String, Vec<spool::Resolved>> = HashMap::new();
    let mut t = 0;
    for ((schema, _), form) in schemas.iter().zip(outs) {
        for (table, f) in schema.tables.iter().zip(form.csv) {
            summary.rows.insert(table.name.clone(), f.rows);
            summary.files.push(f.finish()?);
        }
        let mut finished = Vec::new();
        for (table, s) in schema.tables.iter().zip(form.spools) {
            let data = s.finish()?;
            summary.rows.entry(table.name.clone()).or_insert(data.rows);
            summary.files.extend(typed.write_table(out, &tables[t + finished.len()], &data)?);
            resolved.insert(table.name.clone(), data.resolved.clone());
            finished.push(data);
        }
        if typed.xlsx {
            let sheets: Vec<xlsx::Sheet<'_>> = schema
                .tables
                .iter()
                .zip(&finished)
                .map(|(table, data)| xlsx::Sheet {
                    name: &table.name,
                    header: table.columns.iter().map(|c| c.name.clone()).collect(),
                    data,
                })
                .collect();
            let path = out.join(format!("{}.xlsx", schema.form_id));
            summary.files.push(xlsx::write(&path, &sheets)?);
        }
        if let Some(j) = form.json {
            summary.rows.insert(schema.form_id.clone(), j.rows);
            summary.files.push(j.finish(schema)?);
        }
        summary.files.extend(form.long.finish()?);
        if let Some(path) = form.audit.finish()? {
            summary.rows.insert(format!("{}-audit", schema.form_id), 0);
            summary.files.push(path);
        }
        t += schema.tables.len();
    }
    let panel_layout = opts.panel.then(|| panel::layout(&schemas));
    let all_tables = table_vars(&schemas, &naming, panel_layout.as_ref());
    if typed.dta {
        summary.files.push(stata::write(out, &all_tables, opts.labels)?);
    }
    if typed.sav {
        summary.files.extend(spss::write(out, &all_tables)?);
    }
    if let Some(layout) = &panel_layout {
        let (paths, n, types) = panel::write(
            source,
            opts,
            out,
            &schemas,
            layout,
            secret.as_ref(),
            style,
            &typed,
            &mut report,
        )?;
        summary.files.extend(paths);
        summary.panel_rows = n;
        if let Some(t) = types {
            resolved.insert("panel".into(), t);
        }
    }
    summary.files.extend(codebook::write(
        out,
        &schemas,
        &naming,
        panel_layout.as_ref(),
        &resolved,
        style,
    )?);
    summary.files.extend(review::write(out, &source.review(&opts.filter)?, style)?);
    if let Some(c) = checks {
        let roster = source.roster()?;
        let (files, found) = c.finish(&out.join("checks"), &schemas, &roster, style)?;
        summary.files.extend(files);
        summary.checks = Some(found);
    }
    let (path, counts) = report.finish()?;
    summary.files.push(path);
    summary.report = counts;
    Ok(summary)
}

/// Writes the high-frequency checks alone into `out` (`central checks`).
pub fn checks_only<S: ExportSource>(
    source: &S,
    opts: &ExportOptions,
    out: &Path,
    progress: Progress<'_>,
) -> Result<ExportSummary, ExportError> {
    let style = opts.csv_style();
    std::fs::create_dir_all(out).map_err(|e| ExportError::io(out, e))?;
    let forms = schemas(source.instruments(&opts.filter)?, opts.include_pii, Layout::Enumera);
    if forms.is_empty() {
        return Err(ExportError::NoInstrument { form: opts.filter.form.clone() });
    }
    let schemas: Vec<(FormSchema, Option<String>)> = forms
        .into_iter()
        .map(|f| {
            let l = resolve_lang(opts.lang.as_deref(), &f);
            (f, l)
        })
        .collect();
    let secret = if opts.include_pii { None } else { Some(source.pseudonym_secret()?) };
    let index: HashMap<&str, usize> =
        schemas.iter().enumerate().map(|(i, (s, _))| (s.form_id.as_str(), i)).collect();
    let mut checks = checks::Collector::new(&schemas);
    let mut summary = ExportSummary::default();
    let total = source.count(&opts.filter)?;
    let mut done = 0u64;
    let mut rows = record::Rows::new(true);
    source.responses(&opts.filter, Order::Form, &mut |r: StoredResponse| {
        done += 1;
        if done.is_multiple_of(256) || done == total {
            progress(done, total);
        }
        let Some(&i) = index.get(r.form_id.as_str()) else { return Ok(()) };
        let (schema, lang) = &schemas[i];
        if !schema.versions.contains(&r.form_version) {
            return Ok(());
        }
        let Some(xml) = submission_xml(source, &r, opts.identity.as_ref(), &mut |_, _, _| Ok(()))?
        else {
            return Ok(());
        };
        let participant = exported_participant(&r, secret.as_ref());
        let swap = r
            .participant_id
            .as_deref()
            .filter(|_| secret.is_some())
            .map(|raw| ParticipantSwap { raw, exported: &participant });
        let style = ValueStyle::new(false, lang.as_deref());
        let round = r.round.map(|n| n.to_string()).unwrap_or_default();
        let odk = OdkMeta::default();
        let meta = row_meta(&r, &participant, &round, &odk, "");
        if record::rows(schema, &xml, &meta, style, swap, &mut rows).is_ok() {
            checks.observe(i, &r, &participant, &rows, &xml);
            summary.responses += 1;
        }
        Ok(())
    })?;
    progress(total, total);
    let roster = source.roster()?;
    let (files, found) = checks.finish(out, &schemas, &roster, style)?;
    summary.files = files;
    summary.checks = Some(found);
    Ok(summary)
}

/// Valid Stata and SPSS names per form, table and column.
pub(crate) type Naming = Vec<Vec<Vec<(String, String)>>>;

fn names_for(schemas: &[(FormSchema, Option<String>)]) -> Naming {
    schemas
        .iter()
        .map(|(s, _)| s.tables.iter().map(|t| names::table_names(&t.columns)).collect())
        .collect()
}

/// One variable of a table as the Stata and SPSS files describe it.
pub(crate) struct Var<'a> {
    pub schema: &'a FormSchema,
    pub lang: Option<&'a str>,
    pub column: &'a Column,
    pub stata: &'a str,
    pub spss: &'a str,
}

/// A table (file stem), its label and its variables.
pub(crate) struct TableVars<'a> {
    pub name: &'a str,
    pub label: String,
    pub vars: Vec<Var<'a>>,
}

/// Every table of the export, the panel last.
fn table_vars<'a>(
    schemas: &'a [(FormSchema, Option<String>)],
    naming: &'a Naming,
    panel: Option<&'a panel::Layout>,
) -> Vec<TableVars<'a>> {
    let mut tables = Vec::new();
    for ((schema, lang), form_names) in schemas.iter().zip(naming) {
        for (table, names) in schema.tables.iter().zip(form_names) {
            let vars = table
                .columns
                .iter()
                .zip(names)
                .map(|(column, (stata, spss))| Var {
                    schema,
                    lang: lang.as_deref(),
                    column,
                    stata,
                    spss,
                })
                .collect();
            let label = table
                .label
                .get(lang.as_deref(), schema.default_language.as_deref())
                .unwrap_or(&table.name)
                .to_string();
            tables.push(TableVars { name: &table.name, label, vars });
        }
    }
    if let Some(p) = panel {
        tables.push(TableVars {
            name: "panel",
            label: "Panel: one row per participant and round".into(),
            vars: p.vars(schemas),
        });
    }
    tables
}

/// One schema per form id, from its versions (already in order).
fn schemas(instruments: Vec<Instrument>, include_pii: bool, layout: Layout) -> Vec<FormSchema> {
    let mut by_form: BTreeMap<String, Vec<Instrument>> = BTreeMap::new();
    for i in instruments {
        by_form.entry(i.form_id.clone()).or_default().push(i);
    }
    by_form.values().filter_map(|v| FormSchema::build(v, include_pii, layout)).collect()
}
