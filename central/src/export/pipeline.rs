//! The per-response work of an export, on three threads so that the cores
//! share it: the calling thread reads the store and checks each response
//! against its signed entry ([`Read`]; the store is not shared across
//! threads), a second reads each submission into rows ([`Parser`]), a
//! third writes every file in response order ([`Writer`]). Responses travel
//! in batches, and row buffers go back to the parser for reuse.

use std::collections::HashMap;
use std::path::Path;

use enumera_core::store::EntryContent;

use super::payload::{exported_participant, open_submission};
use super::record::{self, ParticipantSwap, RowMeta, ValueStyle};
use super::report::{self, ReportKind};
use super::schema::{FormSchema, Layout, MetaField};
use super::{
    ExportError, ExportOptions, ExportSource, FormOut, Order, Progress, StoredResponse, TypedOut,
    checks, sav, xlsx,
};

/// What ODK Central's columns need beyond the response itself.
#[derive(Debug, Default)]
pub(super) struct OdkMeta {
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
    /// Its audit log's events, when it has one and it could be read.
    audit: Option<Vec<enumera_core::session::AuditEvent>>,
    /// The main table's audit summary columns.
    audit_summary: [String; 4],
    /// Its files in `media/` under another path than their name.
    media_renamed: Vec<(String, String)>,
}

impl Read {
    fn of<S: ExportSource>(
        source: &S,
        schemas: &[(FormSchema, Option<String>)],
        index: &HashMap<&str, usize>,
        opts: &ExportOptions,
        r: StoredResponse,
        media: Option<&mut super::media::Media>,
    ) -> Result<Read, ExportError> {
        let mut read = Read {
            form: None,
            r,
            notes: Vec::new(),
            readable: false,
            opened: None,
            not_decrypted: false,
            odk: OdkMeta::default(),
            audit: None,
            audit_summary: Default::default(),
            media_renamed: Vec::new(),
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
        let submission = open_submission(
            source,
            &read.r,
            opts.identity.as_ref(),
            media.is_some(),
            &mut |k, _, d| {
                notes.push((k, d.to_string()));
                Ok(())
            },
        )?;
        read.readable = submission.is_some();
        let mut sealed_attachments = Vec::new();
        if let Some(s) = submission {
            sealed_attachments = s.sealed_attachments;
            if let std::borrow::Cow::Owned(x) = s.xml {
                read.opened = Some(x);
            }
        }
        if read.readable {
            read.audit =
                super::audit::events_of(source, &read.r, &mut sealed_attachments, &mut notes)?;
            if let Some(events) = &read.audit {
                read.audit_summary = super::audit::summary_values(events);
            }
        }
        read.not_decrypted =
            notes.iter().any(|(k, _)| matches!(k, ReportKind::Sealed | ReportKind::WrongIdentity));
        read.notes = notes;
        // Attachments of a response exported as a row: a plain one's held
        // at central by hash; a sealed one's were inside its sealed file,
        // opened with the identity (without it, none are written).
        if let (true, Some(media)) = (read.readable, media) {
            media.renamed.clear();
            media.write(source, &read.r, &mut read.notes)?;
            media.write_opened(&read.r, &mut sealed_attachments, &mut read.notes)?;
            read.media_renamed = std::mem::take(&mut media.renamed);
        }
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

/// What the stages share.
pub(super) struct Stages<'a> {
    pub schemas: &'a [(FormSchema, Option<String>)],
    pub opts: &'a ExportOptions,
    pub secret: Option<&'a [u8; 32]>,
    pub csv_wanted: bool,
    pub spooled: bool,
}

impl Stages<'_> {
    /// Reads every response of the export on this thread and hands it to
    /// the parser and the writer; the writer once all is written.
    pub(super) fn run<'w, S: ExportSource>(
        &self,
        source: &S,
        out: &Path,
        total: u64,
        progress: Progress<'_>,
        writer: Writer<'w>,
    ) -> Result<(Writer<'w>, u64), ExportError> {
        let (schemas, opts) = (self.schemas, self.opts);
        let index: HashMap<&str, usize> =
            schemas.iter().enumerate().map(|(i, (s, _))| (s.form_id.as_str(), i)).collect();
        // Responses travel in batches: a message per response would cost the
        // threads more in waking each other than the work itself.
        let (to_parse, parse_in) = std::sync::mpsc::sync_channel::<Vec<Read>>(8);
        let (to_write, write_in) = std::sync::mpsc::sync_channel::<Vec<Parsed>>(8);
        let (recycle, recycled) = std::sync::mpsc::channel::<Vec<record::Rows>>();
        let (read, written) = std::thread::scope(|scope| {
            let parser = scope.spawn(|| self.parse_stage(parse_in, to_write, recycled));
            let writer = scope.spawn(move || writer.run(write_in, recycle));
            let mut done = 0u64;
            let mut batch = Vec::with_capacity(BATCH);
            let mut media = (!opts.no_media).then(|| super::media::Media::new(out));
            let mut read = source.responses(&opts.filter, Order::Form, &mut |r: StoredResponse| {
                done += 1;
                if done.is_multiple_of(256) || done == total {
                    progress(done, total);
                }
                batch.push(Read::of(source, schemas, &index, opts, r, media.as_mut())?);
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
            (read.map(|()| media.map_or(0, |m| m.files)), writer.join())
        });
        let writer = match written {
            Ok(w) => w?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let media_files = read?;
        Ok((writer, media_files))
    }

    /// The second stage: submissions into rows.
    fn parse_stage(
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
        let style = ValueStyle {
            media: &read.media_renamed,
            ..ValueStyle::new(self.opts.labels, lang.as_deref())
        };
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
                let mut meta = row_meta(&read.r, &participant, &round, &read.odk, "");
                meta.audit = [
                    read.audit_summary[0].as_str(),
                    &read.audit_summary[1],
                    &read.audit_summary[2],
                    &read.audit_summary[3],
                ];
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
pub(super) struct Writer<'a> {
    pub schemas: &'a [(FormSchema, Option<String>)],
    pub opts: &'a ExportOptions,
    pub csv_wanted: bool,
    pub spooled: bool,
    pub typed: TypedOut,
    pub outs: Vec<FormOut>,
    pub report: report::Report,
    pub checks: Option<checks::Collector>,
    /// Responses written.
    pub responses: u64,
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
            let style = ValueStyle {
                media: &p.read.media_renamed,
                ..ValueStyle::new(self.opts.labels, lang.as_deref())
            };
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
        if let (Some(events), true) = (&p.read.audit, self.csv_wanted) {
            form.audit.write(&r.instance_id, events)?;
        }
        if let Some(c) = &mut self.checks {
            c.observe(i, r, &p.participant, rows, xml);
        }
        self.responses += 1;
        Ok(())
    }
}

pub(super) fn row_meta<'a>(
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
        audit: ["", "", "", ""],
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

pub(super) fn json_document(
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
