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
//! - streaming: responses are read one at a time; the typed files are
//!   spooled to disk until every value is known (spool.rs).

mod checks;
mod codebook;
mod codes;
mod csv;
mod dictionary;
mod dta;
mod jsonl;
mod names;
mod panel;
mod pseudonym;
mod record;
mod report;
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

use enumera_core::bundle::{ResearcherIdentity, SealError, open_sealed};
use enumera_core::instrument::Instrument;
use enumera_core::store::EntryContent;
use sha2::{Digest, Sha256};

pub use checks::ChecksSummary;
pub use codes::{Code, Meaning, meaning};
pub use csv::{CsvStyle, is_plain_number, neutralise, unneutralise};
pub use names::{Tool, sanitize};
pub use pseudonym::{hmac_sha256, pseudonym};
pub use record::{ParticipantSwap, RowMeta, ValueStyle};
pub use report::ReportKind;
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
    let index: HashMap<&str, usize> =
        schemas.iter().enumerate().map(|(i, (s, _))| (s.form_id.as_str(), i)).collect();
    let checks = opts.checks.then(|| checks::Collector::new(&schemas));
    let total = source.count(&opts.filter)?;

    // Three stages on their own threads, so the cores share the work:
    // this thread reads the store and checks each response against its
    // signed entry (the store is not shared across threads), a second
    // reads each submission into rows, a third writes every file in
    // response order.
    let writer = Writer {
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
    // Responses travel in batches: a message per response would cost the
    // threads more in waking each other than the work itself.
    let (to_parse, parse_in) = std::sync::mpsc::sync_channel::<Vec<Read>>(8);
    let (to_write, write_in) = std::sync::mpsc::sync_channel::<Vec<Parsed>>(8);
    let (recycle, recycled) = std::sync::mpsc::channel::<Vec<record::Rows>>();
    let (read, written) = std::thread::scope(|scope| {
        let parser = scope.spawn(|| {
            let stage =
                Parser { schemas: &schemas, opts, secret: secret.as_ref(), csv_wanted, spooled };
            stage.run(parse_in, to_write, recycled)
        });
        let writer = scope.spawn(move || writer.run(write_in, recycle));
        let mut done = 0u64;
        let mut batch = Vec::with_capacity(BATCH);
        let mut read = source.responses(&opts.filter, Order::Form, &mut |r: StoredResponse| {
            done += 1;
            if done.is_multiple_of(256) || done == total {
                progress(done, total);
            }
            batch.push(Read::of(source, &schemas, &index, opts, r)?);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                // The writer stopped on an error: stop reading, report the writer's.
                to_parse.send(full).map_err(|_| stopped(out))?;
            }
            Ok(())
        });
        if read.is_ok() && !batch.is_empty() {
            read = to_parse.send(batch).map_err(|_| stopped(out));
        }
        drop(to_parse);
        if let Err(panic) = parser.join() {
            std::panic::resume_unwind(panic);
        }
        (read, writer.join())
    });
    let Writer { outs, mut report, checks, responses, .. } = match written {
        Ok(w) => w?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    read?;
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
        let Some(xml) = submission_xml(&r, opts.identity.as_ref(), &mut |_, _, _| Ok(()))? else {
            return Ok(());
        };
        let participant = exported_participant(&r, secret.as_ref());
        let swap = r
            .participant_id
            .as_deref()
            .filter(|_| secret.is_some())
            .map(|raw| ParticipantSwap { raw, exported: &participant });
        let style = ValueStyle { labels: false, lang: lang.as_deref() };
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

/// What ODK Central's columns need beyond the response itself.
#[derive(Debug, Default)]
struct OdkMeta {
    submission_date: String,
    attachments: String,
    edits: String,
}

impl OdkMeta {
    fn of<S: ExportSource>(source: &S, r: &StoredResponse) -> Result<OdkMeta, ExportError> {
        let attachments = r
            .entry_content
            .as_deref()
            .and_then(|c| serde_json::from_str::<EntryContent>(c).ok())
            .map_or(0, |e| e.attachments.len());
        Ok(OdkMeta {
            submission_date: central_time(&r.received_at),
            attachments: attachments.to_string(),
            edits: source.edits(&r.instance_id)?.to_string(),
        })
    }
}

/// A time as ODK Central writes it: UTC, milliseconds, `Z`
/// (JavaScript's `toISOString`).
fn central_time(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// Responses per message between the export's threads.
const BATCH: usize = 64;

/// The error that stops reading when a later stage has stopped (its own
/// error is the one returned).
fn stopped(out: &Path) -> ExportError {
    ExportError::io(out, std::io::Error::other("the export stopped"))
}

/// A response as read from the store and checked against its signed entry.
struct Read {
    /// Its form's place in the export; None when the form or version is
    /// not published (then `notes` says so).
    form: Option<usize>,
    r: StoredResponse,
    /// Report items found while reading.
    notes: Vec<(ReportKind, String)>,
    /// The submission could be read (plain, or opened with the identity).
    readable: bool,
    /// A sealed response's plaintext.
    opened: Option<String>,
    /// Sealed and not opened: Central's layout still lists it.
    not_decrypted: bool,
    odk: OdkMeta,
}

impl Read {
    fn of<S: ExportSource>(
        source: &S,
        schemas: &[(FormSchema, Option<String>)],
        index: &HashMap<&str, usize>,
        opts: &ExportOptions,
        r: StoredResponse,
    ) -> Result<Read, ExportError> {
        let mut read = Read {
            form: None,
            r,
            notes: Vec::new(),
            readable: false,
            opened: None,
            not_decrypted: false,
            odk: OdkMeta::default(),
        };
        let Some(&i) = index.get(read.r.form_id.as_str()) else {
            read.notes.push((
                ReportKind::NoInstrument,
                "its form is not published at this central".into(),
            ));
            return Ok(read);
        };
        let schema = &schemas[i].0;
        if !schema.versions.contains(&read.r.form_version) {
            let why =
                format!("form version {:?} is not published at this central", read.r.form_version);
            read.notes.push((ReportKind::NoInstrument, why));
            return Ok(read);
        }
        read.form = Some(i);
        let mut notes = Vec::new();
        let xml = submission_xml(&read.r, opts.identity.as_ref(), &mut |k, _, d| {
            notes.push((k, d.to_string()));
            Ok(())
        })?;
        read.readable = xml.is_some();
        if let Some(std::borrow::Cow::Owned(x)) = xml {
            read.opened = Some(x);
        }
        read.not_decrypted =
            notes.iter().any(|(k, _)| matches!(k, ReportKind::Sealed | ReportKind::WrongIdentity));
        read.notes = notes;
        if schema.layout == Layout::Odk {
            read.odk = OdkMeta::of(source, &read.r)?;
        }
        Ok(read)
    }

    /// The submission XML, when it could be read.
    fn xml(&self) -> Option<&str> {
        if !self.readable {
            return None;
        }
        self.opened.as_deref().or(self.r.xml.as_deref())
    }
}

/// A response read into rows.
struct Parsed {
    read: Read,
    participant: String,
    /// The rows, or why the submission could not be read; None when no
    /// table is written (JSON alone) or there is nothing to read.
    rows: Option<Result<record::Rows, String>>,
}

/// The second stage: submissions into rows.
struct Parser<'a> {
    schemas: &'a [(FormSchema, Option<String>)],
    opts: &'a ExportOptions,
    secret: Option<&'a [u8; 32]>,
    csv_wanted: bool,
    spooled: bool,
}

impl Parser<'_> {
    fn run(
        &self,
        input: std::sync::mpsc::Receiver<Vec<Read>>,
        output: std::sync::mpsc::SyncSender<Vec<Parsed>>,
        recycled: std::sync::mpsc::Receiver<Vec<record::Rows>>,
    ) {
        // Buffers the writer is done with, so rows are not allocated anew.
        let mut spare: Vec<record::Rows> = Vec::new();
        for batch in input {
            while let Ok(more) = recycled.try_recv() {
                spare.extend(more);
            }
            let parsed = batch
                .into_iter()
                .map(|read| {
                    let rows = spare.pop().unwrap_or_else(|| record::Rows::new(self.opts.checks));
                    self.parse(read, rows)
                })
                .collect();
            if output.send(parsed).is_err() {
                return;
            }
        }
    }

    fn parse(&self, read: Read, mut rows: record::Rows) -> Parsed {
        let participant = exported_participant(&read.r, self.secret);
        let Some(i) = read.form else {
            return Parsed { read, participant, rows: None };
        };
        let (schema, lang) = &self.schemas[i];
        let style = ValueStyle { labels: self.opts.labels, lang: lang.as_deref() };
        let round = read.r.round.map(|n| n.to_string()).unwrap_or_default();
        let wanted = self.csv_wanted || self.spooled || self.opts.checks;
        let result = match read.xml() {
            Some(xml) if wanted => {
                let swap = read
                    .r
                    .participant_id
                    .as_deref()
                    .filter(|_| self.secret.is_some())
                    .map(|raw| ParticipantSwap { raw, exported: &participant });
                let meta = row_meta(&read.r, &participant, &round, &read.odk, "");
                Some(
                    record::rows(schema, xml, &meta, style, swap, &mut rows)
                        .map_err(|e| e.to_string()),
                )
            }
            // Central lists a submission it cannot decrypt, with its Status.
            None if read.not_decrypted && schema.layout == Layout::Odk && wanted => {
                let meta = row_meta(&read.r, &participant, &round, &read.odk, "not decrypted");
                Some(
                    record::rows(schema, "<data/>", &meta, style, None, &mut rows)
                        .map_err(|e| e.to_string()),
                )
            }
            _ => None,
        };
        Parsed { read, participant, rows: result.map(|r| r.map(|()| rows)) }
    }
}

/// The third stage: every file, in response order.
struct Writer<'a> {
    schemas: &'a [(FormSchema, Option<String>)],
    opts: &'a ExportOptions,
    csv_wanted: bool,
    spooled: bool,
    typed: TypedOut,
    outs: Vec<FormOut>,
    report: report::Report,
    checks: Option<checks::Collector>,
    responses: u64,
}

impl Writer<'_> {
    fn run(
        mut self,
        input: std::sync::mpsc::Receiver<Vec<Parsed>>,
        recycle: std::sync::mpsc::Sender<Vec<record::Rows>>,
    ) -> Result<Self, ExportError> {
        for batch in input {
            let mut done = Vec::with_capacity(batch.len());
            for p in batch {
                self.write(&p)?;
                if let Some(Ok(rows)) = p.rows {
                    done.push(rows);
                }
            }
            let _ = recycle.send(done);
        }
        Ok(self)
    }

    fn write(&mut self, p: &Parsed) -> Result<(), ExportError> {
        let r = &p.read.r;
        for (kind, detail) in &p.read.notes {
            self.report.item(*kind, r, detail)?;
        }
        let Some(i) = p.read.form else { return Ok(()) };
        let (schema, lang) = &self.schemas[i];
        let form = &mut self.outs[i];
        let Some(xml) = p.read.xml() else {
            if let Some(Ok(rows)) = &p.rows {
                write_rows(form, rows)?;
            }
            return Ok(());
        };
        if let Some(json) = &mut form.json {
            let style = ValueStyle { labels: self.opts.labels, lang: lang.as_deref() };
            let swap = r
                .participant_id
                .as_deref()
                .filter(|_| !self.opts.include_pii)
                .map(|raw| ParticipantSwap { raw, exported: &p.participant });
            match record::document(schema, xml, style, swap, &mut json.infer) {
                Ok(doc) => json.write(&json_document(r, &p.participant, schema, doc))?,
                Err(e) => {
                    self.report.item(ReportKind::Unreadable, r, &e.to_string())?;
                    return Ok(());
                }
            }
            if !self.csv_wanted && !self.spooled {
                self.responses += 1;
                if let (Some(c), Some(Ok(rows))) = (&mut self.checks, &p.rows) {
                    c.observe(i, r, &p.participant, rows, xml);
                }
                return Ok(());
            }
        }
        let rows = match &p.rows {
            Some(Ok(rows)) => rows,
            Some(Err(e)) => return self.report.item(ReportKind::Unreadable, r, e),
            None => return Ok(()),
        };
        for (question, answer) in &rows.differs {
            self.report.item(
                ReportKind::MetadataDiffers,
                r,
                &format!("the form's {question} question holds {answer:?}, not what central knows; the metadata column keeps central's"),
            )?;
        }
        keep_long_values(schema, form, rows, self.typed, r, &mut self.report)?;
        write_rows(form, rows)?;
        if let Some(c) = &mut self.checks {
            c.observe(i, r, &p.participant, rows, xml);
        }
        self.responses += 1;
        Ok(())
    }
}

fn row_meta<'a>(
    r: &'a StoredResponse,
    participant: &'a str,
    round: &'a str,
    odk: &'a OdkMeta,
    status: &'a str,
) -> RowMeta<'a> {
    RowMeta {
        key: &r.instance_id,
        participant,
        round,
        form_version: &r.form_version,
        device_id: &r.device_id,
        enumerator: r.enumerator.as_deref().unwrap_or(""),
        submitted: &r.finalized_at,
        received: &r.received_at,
        submission_date: &odk.submission_date,
        attachments: &odk.attachments,
        edits: &odk.edits,
        status,
    }
}

/// One response's rows into the form's CSVs and spools.
fn write_rows(form: &mut FormOut, rows: &record::Rows) -> Result<(), ExportError> {
    for (t, values) in rows.iter() {
        if let Some(f) = form.csv.get_mut(*t) {
            f.write(values)?;
        }
        if let Some(s) = form.spools.get_mut(*t) {
            s.write(values)?;
        }
    }
    Ok(())
}

/// Texts a typed format cannot hold whole: noted in report.csv and kept
/// whole in `FORM-long-text.csv`.
fn keep_long_values(
    schema: &FormSchema,
    form: &mut FormOut,
    rows: &record::Rows,
    typed: TypedOut,
    r: &StoredResponse,
    report: &mut report::Report,
) -> Result<(), ExportError> {
    if !typed.xlsx && !typed.sav {
        return Ok(());
    }
    for (t, values) in rows.iter() {
        let table = &schema.tables[*t];
        for (c, v) in values.iter().enumerate() {
            if v.len() <= xlsx::MAX_CHARS {
                continue;
            }
            let chars = v.chars().count();
            let too_long_xlsx = typed.xlsx && chars > xlsx::MAX_CHARS;
            let too_long_sav = typed.sav && v.len() > sav::MAX_STRING;
            if !too_long_xlsx && !too_long_sav {
                continue;
            }
            let key_col =
                table.meta_cols.iter().find(|(_, f)| *f == MetaField::Key).map(|(i, _)| *i);
            let key = key_col.map_or(r.instance_id.as_str(), |i| values[i].as_str());
            let column = &table.columns[c].name;
            form.long.keep(&table.name, key, column, v)?;
            let side = form.long.file_name();
            if too_long_xlsx {
                report.item(
                    ReportKind::XlsxTruncated,
                    r,
                    &format!(
                        "{}: column {column} holds {chars} characters; an Excel cell holds 32,767, so the XLSX has the first 32,767 and {side} the whole text",
                        table.name
                    ),
                )?;
            }
            if too_long_sav {
                report.item(
                    ReportKind::SavTruncated,
                    r,
                    &format!(
                        "{}: column {column} holds {} bytes; SPSS holds 32,767, so the .sav has the first 32,767 and {side} the whole text",
                        table.name,
                        v.len()
                    ),
                )?;
            }
        }
    }
    Ok(())
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

pub(crate) fn exported_participant(r: &StoredResponse, secret: Option<&[u8; 32]>) -> String {
    match (r.participant_id.as_deref(), secret) {
        (None, _) => String::new(),
        (Some(p), Some(s)) => pseudonym(s, p),
        (Some(p), None) => p.to_string(),
    }
}

/// Whether `bytes` hash to the SHA-256 written in hex as `expected`
/// (compared as bytes: formatting hex for every response costs more than
/// the hash).
fn sha256_is(bytes: &[u8], expected: Option<&str>) -> bool {
    let Some(want) = expected.and_then(enumera_core::bundle::unhex::<32>) else {
        return false;
    };
    Sha256::digest(bytes).as_slice() == want
}

/// The submission XML of a response: checked against the hashes of the
/// outbox entry it came in (a changed database row is tampering), opened
/// when sealed. None when it cannot be exported (then it is in the report).
pub(crate) fn submission_xml<'r>(
    r: &'r StoredResponse,
    identity: Option<&ResearcherIdentity>,
    note: &mut dyn FnMut(ReportKind, &StoredResponse, &str) -> Result<(), ExportError>,
) -> Result<Option<std::borrow::Cow<'r, str>>, ExportError> {
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
            if !sha256_is(xml.as_bytes(), entry.xml_sha256.as_deref()) {
                note(
                    ReportKind::Tampered,
                    r,
                    "the submission XML does not match the hash in its signed outbox entry",
                )?;
                return Ok(None);
            }
            Ok(Some(std::borrow::Cow::Borrowed(xml.as_str())))
        }
        (_, Some(sealed)) => {
            if !sha256_is(sealed, entry.sealed_sha256.as_deref()) {
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
                Ok(opened) if opened.instance_id == r.instance_id => {
                    Ok(Some(std::borrow::Cow::Owned(opened.xml)))
                }
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
