//! The researcher export: analysis-ready tables from what central holds.
//!
//! - one table per form (a row per response) and one per repeat (a row per
//!   repeat instance), linked by `KEY` / `PARENT_KEY` as ODK Central does;
//!   versions of a form merged into one table (union of columns);
//! - CSV, XLSX, JSON Lines; a codebook (CSV and Markdown); Stata `.dta`
//!   files written directly, plus Stata `.do` and SPSS `.sps` files that
//!   read the CSVs and label them;
//! - personal data left out and the participant id pseudonymized unless
//!   asked for; a panel table (one row per participant and round);
//! - sealed responses opened with the researcher's identity; anything not
//!   exported is listed in `report.csv`, never dropped silently;
//! - streaming: responses are read and written one at a time.

mod codebook;
mod csv;
mod dta;
mod jsonl;
mod names;
mod panel;
mod pseudonym;
mod record;
mod report;
mod schema;
mod source;
mod spss;
mod stata;
mod xlsx;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use enumera_core::bundle::{ResearcherIdentity, SealError, open_sealed};
use enumera_core::instrument::Instrument;
use enumera_core::store::EntryContent;
use sha2::{Digest, Sha256};

pub use names::{Tool, sanitize};
pub use pseudonym::{hmac_sha256, pseudonym};
pub use record::{ParticipantSwap, RowMeta, ValueStyle};
pub use report::ReportKind;
pub use schema::{Column, ColumnRole, FormSchema, Table};
pub use source::{ExportSource, Filter, HeldAside, Order, StoredResponse, Visit};

use crate::error::CentralError;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
    /// CSVs, a `.dta` per table, and `export.do`.
    Stata,
    /// CSVs plus `export.sps`.
    Spss,
}

/// What to export and how.
#[derive(Debug, Default)]
pub struct ExportOptions {
    pub format: Option<Format>,
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
    /// Also write `panel.csv` (and `panel.dta` for Stata).
    pub panel: bool,
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

/// One form being exported.
struct FormOut {
    schema: FormSchema,
    lang: Option<String>,
    csv: Vec<csv::CsvFile>,
    dta: Vec<dta::DtaFile>,
    xlsx: Option<xlsx::XlsxBook>,
    json: Option<jsonl::JsonLines>,
}

/// Exports into `out` (created if missing).
pub fn export<S: ExportSource>(
    source: &S,
    opts: &ExportOptions,
    out: &Path,
    progress: Progress<'_>,
) -> Result<ExportSummary, ExportError> {
    let format = opts.format.unwrap_or(Format::Csv);
    std::fs::create_dir_all(out).map_err(|e| ExportError::io(out, e))?;
    let forms = schemas(source.instruments(&opts.filter)?, opts.include_pii);
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
    let secret = if opts.include_pii { None } else { Some(source.pseudonym_secret()?) };
    let mut summary = ExportSummary::default();
    let mut report = report::Report::create(&out.join("report.csv"))?;

    let mut outs = Vec::new();
    for (schema, lang) in forms.into_iter().zip(langs) {
        let headers: Vec<Vec<String>> = schema
            .tables
            .iter()
            .map(|t| t.columns.iter().map(|c| c.name.clone()).collect())
            .collect();
        let mut form =
            FormOut { schema, lang, csv: Vec::new(), dta: Vec::new(), xlsx: None, json: None };
        match format {
            Format::Csv | Format::Stata | Format::Spss => {
                for (t, h) in form.schema.tables.iter().zip(&headers) {
                    let path = out.join(format!("{}.csv", t.name));
                    let h: Vec<&str> = h.iter().map(String::as_str).collect();
                    form.csv.push(csv::CsvFile::create(&path, &h)?);
                }
                if format == Format::Stata {
                    for t in &form.schema.tables {
                        let names = table_names(t);
                        let (vars, labels) = stata::dta_variables(
                            t.columns.iter().zip(&names).map(|(c, (stata, _))| {
                                (&form.schema, form.lang.as_deref(), c, stata.as_str())
                            }),
                            opts.labels,
                        );
                        let path = out.join(format!("{}.dta", t.name));
                        let label = t
                            .label
                            .get(form.lang.as_deref(), form.schema.default_language.as_deref())
                            .unwrap_or(&t.name);
                        form.dta.push(dta::DtaFile::create(&path, label, vars, labels)?);
                    }
                }
            }
            Format::Xlsx => {
                let path = out.join(format!("{}.xlsx", form.schema.form_id));
                form.xlsx = Some(xlsx::XlsxBook::create(&path, &form.schema.tables, &headers)?);
            }
            Format::Json => {
                let path = out.join(format!("{}.jsonl", form.schema.form_id));
                form.json = Some(jsonl::JsonLines::create(&path)?);
            }
        }
        outs.push(form);
    }
    let index: HashMap<String, usize> =
        outs.iter().enumerate().map(|(i, f)| (f.schema.form_id.clone(), i)).collect();

    let total = source.count(&opts.filter)?;
    let mut done = 0u64;
    let mut rows = record::Rows::default();
    source.responses(&opts.filter, Order::Form, &mut |r: StoredResponse| {
        done += 1;
        if done.is_multiple_of(256) || done == total {
            progress(done, total);
        }
        let Some(&i) = index.get(&r.form_id) else {
            report.item(
                ReportKind::NoInstrument,
                &r,
                "its form is not published at this central",
            )?;
            return Ok(());
        };
        let form = &mut outs[i];
        if !form.schema.versions.contains(&r.form_version) {
            report.item(
                ReportKind::NoInstrument,
                &r,
                &format!("form version {:?} is not published at this central", r.form_version),
            )?;
            return Ok(());
        }
        let mut note = |k: ReportKind, r: &StoredResponse, d: &str| report.item(k, r, d);
        let Some(xml) = submission_xml(&r, opts.identity.as_ref(), &mut note)? else {
            return Ok(());
        };
        let participant = exported_participant(&r, secret.as_ref());
        let swap = r
            .participant_id
            .as_deref()
            .filter(|_| secret.is_some())
            .map(|raw| ParticipantSwap { raw, exported: &participant });
        let style = ValueStyle { labels: opts.labels, lang: form.lang.as_deref() };
        if let Some(json) = &mut form.json {
            match record::document(&form.schema, &xml, style, swap) {
                Ok(doc) => {
                    json.write(&json_document(&r, &participant, &form.schema, doc))?;
                    summary.responses += 1;
                }
                Err(e) => report.item(ReportKind::Unreadable, &r, &e.to_string())?,
            }
            return Ok(());
        }
        let round = r.round.map(|n| n.to_string()).unwrap_or_default();
        let meta = RowMeta {
            key: &r.instance_id,
            participant: &participant,
            round: &round,
            form_version: &r.form_version,
            device_id: &r.device_id,
            enumerator: r.enumerator.as_deref().unwrap_or(""),
            submitted: &r.finalized_at,
            received: &r.received_at,
        };
        if let Err(e) = record::rows(&form.schema, &xml, &meta, style, swap, &mut rows) {
            report.item(ReportKind::Unreadable, &r, &e.to_string())?;
            return Ok(());
        }
        for (t, values) in rows.iter() {
            if let Some(f) = form.csv.get_mut(*t) {
                f.write(values)?;
            }
            if let Some(d) = form.dta.get_mut(*t) {
                d.write(values)?;
            }
            if let Some(x) = &mut form.xlsx {
                x.row(*t, values)?;
            }
        }
        summary.responses += 1;
        Ok(())
    })?;
    progress(total, total);
    source.held_aside(&opts.filter, &mut |h: HeldAside| report.held_aside(&h))?;

    let mut schemas = Vec::new();
    for form in outs {
        for (t, f) in form.schema.tables.iter().zip(form.csv) {
            summary.rows.insert(t.name.clone(), f.rows);
            summary.files.push(f.finish()?);
        }
        for d in form.dta {
            summary.files.push(d.finish()?);
        }
        if let Some(x) = form.xlsx {
            summary.files.push(x.finish()?);
        }
        if let Some(j) = form.json {
            summary.rows.insert(form.schema.form_id.clone(), j.rows);
            summary.files.push(j.finish()?);
        }
        schemas.push((form.schema, form.lang));
    }
    let naming = names_for(&schemas);
    summary.files.extend(codebook::write(out, &schemas, &naming)?);
    let panel_layout = opts.panel.then(|| panel::layout(&schemas));
    let tables = table_vars(&schemas, &naming, panel_layout.as_ref());
    match format {
        Format::Stata => summary.files.push(stata::write(out, &tables, opts.labels)?),
        Format::Spss => summary.files.push(spss::write(out, &tables)?),
        _ => {}
    }
    if opts.panel {
        let layout = panel_layout.unwrap_or_else(|| panel::layout(&schemas));
        let (paths, n) =
            panel::write(source, opts, out, &schemas, &layout, secret.as_ref(), &mut report)?;
        summary.files.extend(paths);
        summary.panel_rows = n;
    }
    let (path, counts) = report.finish()?;
    summary.files.push(path);
    summary.report = counts;
    Ok(summary)
}

/// Valid Stata and SPSS names per form, table and column.
pub(crate) type Naming = Vec<Vec<Vec<(String, String)>>>;

fn names_for(schemas: &[(FormSchema, Option<String>)]) -> Naming {
    schemas.iter().map(|(s, _)| s.tables.iter().map(table_names).collect()).collect()
}

/// Valid (Stata, SPSS) names of a table's columns, from their leaf names.
fn table_names(t: &Table) -> Vec<(String, String)> {
    column_names(&t.columns)
}

pub(crate) fn column_names(columns: &[Column]) -> Vec<(String, String)> {
    let mut stata = names::Namer::new(Tool::Stata);
    let mut spss = names::Namer::new(Tool::Spss);
    columns.iter().map(|c| (stata.name(&c.leaf), spss.name(&c.leaf))).collect()
}

/// One variable of a table as the Stata and SPSS files describe it.
pub(crate) struct Var<'a> {
    pub schema: &'a FormSchema,
    pub lang: Option<&'a str>,
    pub column: &'a Column,
    pub stata: &'a str,
    pub spss: &'a str,
}

/// A table (file stem) and its variables.
pub(crate) struct TableVars<'a> {
    pub name: &'a str,
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
            tables.push(TableVars { name: &table.name, vars });
        }
    }
    if let Some(p) = panel {
        tables.push(TableVars { name: "panel", vars: p.vars(schemas) });
    }
    tables
}

/// One schema per form id, from its versions (already in order).
fn schemas(instruments: Vec<Instrument>, include_pii: bool) -> Vec<FormSchema> {
    let mut by_form: BTreeMap<String, Vec<Instrument>> = BTreeMap::new();
    for i in instruments {
        by_form.entry(i.form_id.clone()).or_default().push(i);
    }
    by_form.values().filter_map(|v| FormSchema::build(v, include_pii)).collect()
}

pub(crate) fn exported_participant(r: &StoredResponse, secret: Option<&[u8; 32]>) -> String {
    match (r.participant_id.as_deref(), secret) {
        (None, _) => String::new(),
        (Some(p), Some(s)) => pseudonym(s, p),
        (Some(p), None) => p.to_string(),
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    enumera_core::bundle::hex(&Sha256::digest(bytes))
}

/// The submission XML of a response: checked against the hashes of the
/// outbox entry it came in (a changed database row is tampering), opened
/// when sealed. None when it cannot be exported (then it is in the report).
pub(crate) fn submission_xml(
    r: &StoredResponse,
    identity: Option<&ResearcherIdentity>,
    note: &mut dyn FnMut(ReportKind, &StoredResponse, &str) -> Result<(), ExportError>,
) -> Result<Option<String>, ExportError> {
    let entry: Option<EntryContent> =
        r.entry_content.as_deref().and_then(|c| serde_json::from_str(c).ok());
    let Some(entry) = entry else {
        note(ReportKind::Tampered, r, "no readable outbox entry for this response")?;
        return Ok(None);
    };
    let same_header = entry.instance_id == r.instance_id
        && entry.form_id == r.form_id
        && entry.form_version == r.form_version
        && entry.participant_id == r.participant_id
        && entry.round == r.round;
    if !same_header {
        note(
            ReportKind::Tampered,
            r,
            "the response's header differs from its signed outbox entry",
        )?;
        return Ok(None);
    }
    match (&r.xml, &r.sealed) {
        (Some(xml), None) => {
            if entry.xml_sha256.as_deref() != Some(hex_sha256(xml.as_bytes()).as_str()) {
                note(
                    ReportKind::Tampered,
                    r,
                    "the submission XML does not match the hash in its signed outbox entry",
                )?;
                return Ok(None);
            }
            Ok(Some(xml.clone()))
        }
        (_, Some(sealed)) => {
            if entry.sealed_sha256.as_deref() != Some(hex_sha256(sealed).as_str()) {
                note(
                    ReportKind::Tampered,
                    r,
                    "the sealed submission does not match the hash in its signed outbox entry",
                )?;
                return Ok(None);
            }
            let Some(identity) = identity else {
                note(
                    ReportKind::Sealed,
                    r,
                    "sealed; export with --identity FILE (the researcher's age identity) to open it",
                )?;
                return Ok(None);
            };
            match open_sealed(sealed, identity) {
                Ok(opened) if opened.instance_id == r.instance_id => Ok(Some(opened.xml)),
                Ok(opened) => {
                    note(
                        ReportKind::Tampered,
                        r,
                        &format!("the sealed content is response {}", opened.instance_id),
                    )?;
                    Ok(None)
                }
                Err(e @ SealError::WrongIdentity) => {
                    note(ReportKind::WrongIdentity, r, &e.to_string())?;
                    Ok(None)
                }
                Err(e) => {
                    note(ReportKind::Tampered, r, &e.to_string())?;
                    Ok(None)
                }
            }
        }
        (None, None) => {
            note(ReportKind::Tampered, r, "no payload held for this response")?;
            Ok(None)
        }
    }
}

fn json_document(
    r: &StoredResponse,
    participant: &str,
    schema: &FormSchema,
    data: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    serde_json::json!({
        "KEY": r.instance_id,
        "form_id": schema.form_id,
        "form_version": r.form_version,
        "participant": participant,
        "round": r.round,
        "device_id": r.device_id,
        "enumerator": r.enumerator,
        "submitted": r.finalized_at,
        "received": r.received_at,
        "data": data,
    })
}
