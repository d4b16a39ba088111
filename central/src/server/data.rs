//! The data API for researchers (issue 19): forms and their versions,
//! submissions (paged and filtered), one submission as the export's JSON
//! writes it, and a form's export as a zip. Researcher and admin tokens
//! only ([`Exporter`]); described in docs/openapi.yaml.
//!
//! Everything is read through [`ExportSource`], which both stores
//! implement, so the API answers the same on SQLite and PostgreSQL.
//! Sealed responses stay sealed: central does not hold the researcher's
//! identity, so they are listed (`sealed: true`) but never decrypted.

use std::io::{Read, Seek, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use enumera_core::review::ReviewState;

use super::AppState;
use super::auth::Exporter;
use super::reply::ApiError;
use super::routes::{blocking, lock, segment};
use crate::PublishedInstrument;
use crate::export::document::{self, Document};
use crate::export::feed::Feed;
use crate::export::{ExportError, ExportOptions, ExportSource, Filter, Format, Layout};
use crate::submissions::{BAD_CURSOR, Cursor, SubmissionMeta, SubmissionQuery, SubmissionSource};

/// The data routes, as the router and docs/openapi.yaml name them.
pub(crate) const FORMS: &str = "/v1/data/forms";
pub(crate) const SUBMISSIONS: &str = "/v1/data/forms/{form_id}/submissions";
pub(crate) const EXPORT_ZIP: &str = "/v1/data/forms/{form_id}/export.zip";
pub(crate) const SUBMISSION: &str = "/v1/data/submissions/{instance_id}";
pub(crate) const ROWS: &str = "/v1/data/forms/{form_id}/rows";

/// Every data route (the OpenAPI test checks the file describes them all).
pub const ROUTES: [&str; 5] = [FORMS, SUBMISSIONS, EXPORT_ZIP, SUBMISSION, ROWS];

/// A page holds at most this many submissions.
const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;

fn bad_query(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message)
}

/// The pseudonym secret, made by the writer on first use (the readers of
/// a SQLite file are read-only); a lookup afterwards.
fn secret(state: &AppState) -> Result<[u8; 32], ApiError> {
    lock(state).store().pseudonym_secret().map_err(export_error)
}

fn export_error(e: ExportError) -> ApiError {
    match e {
        ExportError::Central(c) => c.into(),
        ExportError::NoInstrument { .. } => {
            ApiError::not_found("no published instrument for that form")
        }
        // The form in that language does not exist, as a form id may not.
        e @ ExportError::UnknownLanguage { .. } => ApiError::not_found(format!("lang: {e}")),
        other => ApiError::internal_logged(other.to_string()),
    }
}

/// A form with its published versions and how many current submissions it has.
#[derive(Debug, Serialize)]
pub(crate) struct FormListing {
    form_id: String,
    title: String,
    submissions: u64,
    versions: Vec<PublishedInstrument>,
}

pub(crate) async fn forms(
    State(state): State<Arc<AppState>>,
    _: Exporter,
) -> Result<Json<Vec<FormListing>>, ApiError> {
    blocking(move || {
        state.readers.with(&state, |c| {
            let mut out: Vec<FormListing> = Vec::new();
            for p in c.published()? {
                match out.iter_mut().find(|f| f.form_id == p.form_id) {
                    Some(f) => {
                        f.title = p.title.clone();
                        f.versions.push(p);
                    }
                    None => out.push(FormListing {
                        form_id: p.form_id.clone(),
                        title: p.title.clone(),
                        submissions: 0,
                        versions: vec![p],
                    }),
                }
            }
            for f in &mut out {
                let filter = Filter { form: Some(f.form_id.clone()), ..Filter::default() };
                f.submissions = c.store().count(&filter).map_err(export_error)?;
            }
            Ok(Json(out))
        })
    })
    .await
}

/// `GET /v1/data/forms/{form_id}/submissions` query.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    limit: Option<usize>,
    /// The `next_cursor` of the page before (resumes after its last item;
    /// empty: from the start).
    cursor: Option<String>,
    /// Submissions skipped (after the cursor, when there is one); signed
    /// 64 bits as docs/openapi.yaml says, negative refused.
    offset: Option<i64>,
    version: Option<String>,
    round: Option<i64>,
    /// Received at or after (RFC 3339 or a date).
    since: Option<String>,
    review_state: Option<String>,
    /// Whether to count every matching submission (`total`): a count reads
    /// them all, so a page is only as dear as its size unless asked.
    count: Option<bool>,
}

/// A submission's metadata, as listed.
#[derive(Debug, Serialize)]
pub(crate) struct SubmissionItem {
    instance_id: String,
    form_id: String,
    form_version: String,
    /// Pseudonymized, as the export writes it.
    participant: String,
    round: Option<i64>,
    device_id: String,
    enumerator: Option<String>,
    submitted: String,
    received: String,
    /// Sealed to the researcher's key: central cannot read its answers.
    sealed: bool,
    review_state: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct SubmissionPage {
    items: Vec<SubmissionItem>,
    /// Pass as `cursor` for the next page; null on the last.
    next_cursor: Option<String>,
    /// Submissions matching the filters, all pages (with `count=true`;
    /// null otherwise).
    total: Option<u64>,
}

fn item(m: SubmissionMeta, secret: &[u8; 32]) -> SubmissionItem {
    SubmissionItem {
        participant: m
            .participant_id
            .as_deref()
            .map(|p| crate::export::pseudonym(secret, p))
            .unwrap_or_default(),
        instance_id: m.instance_id,
        form_id: m.form_id,
        form_version: m.form_version,
        round: m.round,
        device_id: m.device_id,
        enumerator: m.enumerator,
        submitted: m.finalized_at,
        received: m.received_at,
        sealed: m.sealed,
        review_state: m.review_state,
    }
}

/// The checked paging and filters of a list query.
fn list_query(
    form_id: String,
    q: ListQuery,
) -> Result<(SubmissionQuery, Option<Cursor>, u64, usize), ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(bad_query(format!("limit must be 1 to {MAX_LIMIT}")));
    }
    let offset = match q.offset {
        None => 0,
        Some(n) => u64::try_from(n).map_err(|_| bad_query("offset must be 0 or more"))?,
    };
    let review_state = match q.review_state.as_deref() {
        None => None,
        Some(s) => Some(
            ReviewState::parse(s)
                .ok_or_else(|| {
                    bad_query(format!(
                        "review_state {s:?}: use received, approved, rejected or has_issues"
                    ))
                })?
                .as_str()
                .to_string(),
        ),
    };
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(Cursor::parse(c).ok_or_else(|| bad_query(BAD_CURSOR))?),
    };
    let filter = SubmissionQuery {
        form_id,
        version: q.version,
        round: q.round,
        since: q.since,
        review_state,
    };
    Ok((filter, after, offset, limit))
}

pub(crate) async fn submissions(
    State(state): State<Arc<AppState>>,
    _: Exporter,
    form_id: Result<Path<String>, PathRejection>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<SubmissionPage>, ApiError> {
    let form_id = segment(form_id)?;
    let Query(q) = query.map_err(|e| bad_query(e.body_text()))?;
    let count = q.count;
    let (filter, after, offset, limit) = list_query(form_id, q)?;
    blocking(move || {
        let secret = secret(&state)?;
        state.readers.with(&state, |c| {
            if !c.published()?.iter().any(|p| p.form_id == filter.form_id) {
                return Err(ApiError::not_found("no published form has that id"));
            }
            let store = c.store();
            let page = store.submission_page(&filter, after.as_ref(), offset, limit)?;
            let total = match count {
                Some(true) => Some(store.submission_count(&filter)?),
                _ => None,
            };
            Ok(Json(SubmissionPage {
                items: page.items.into_iter().map(|m| item(m, &secret)).collect(),
                next_cursor: page.next.map(|c| c.text()),
                total,
            }))
        })
    })
    .await
}

/// `GET /v1/data/forms/{form_id}/rows` query: the submissions' paging and
/// filters, and which table.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RowsQuery {
    /// A table's name as `tables` lists it (default: the main table).
    table: Option<String>,
    // The list's fields, repeated: `serde(flatten)` would read every query
    // value as text and refuse the numbers.
    limit: Option<usize>,
    cursor: Option<String>,
    offset: Option<i64>,
    version: Option<String>,
    round: Option<i64>,
    since: Option<String>,
    review_state: Option<String>,
}

impl RowsQuery {
    fn list(&self) -> ListQuery {
        ListQuery {
            limit: self.limit,
            cursor: self.cursor.clone(),
            offset: self.offset,
            version: self.version.clone(),
            round: self.round,
            since: self.since.clone(),
            review_state: self.review_state.clone(),
            count: None,
        }
    }
}

/// A table as the feed lists it.
#[derive(Debug, Serialize)]
pub(crate) struct FeedTable {
    name: String,
    /// The table whose `KEY` this one's `PARENT_KEY` names (null: main).
    parent: Option<String>,
}

/// A submission the feed has no rows for, and why.
#[derive(Debug, Serialize)]
pub(crate) struct NotExported {
    instance_id: String,
    reason: String,
}

/// A page of a table's rows.
#[derive(Debug, Serialize)]
pub(crate) struct RowsPage {
    table: String,
    tables: Vec<FeedTable>,
    columns: Vec<String>,
    rows: Vec<serde_json::Map<String, serde_json::Value>>,
    not_exported: Vec<NotExported>,
    next_cursor: Option<String>,
}

/// `GET /v1/data/forms/{form_id}/rows`: the rows one page of submissions
/// has in a table, as the CSV export writes them ([`crate::export::feed`]).
/// Pages, cursors and filters are the submission list's.
pub(crate) async fn rows(
    State(state): State<Arc<AppState>>,
    _: Exporter,
    form_id: Result<Path<String>, PathRejection>,
    query: Result<Query<RowsQuery>, QueryRejection>,
) -> Result<Json<RowsPage>, ApiError> {
    let form_id = segment(form_id)?;
    let Query(q) = query.map_err(|e| bad_query(e.body_text()))?;
    let (filter, after, offset, limit) = list_query(form_id, q.list())?;
    blocking(move || {
        let secret = secret(&state)?;
        state.readers.with(&state, |c| {
            let store = c.store();
            let feed = Feed::of(store, &filter.form_id)
                .map_err(export_error)?
                .ok_or_else(|| ApiError::not_found("no published form has that id"))?;
            let t = match q.table.as_deref().filter(|t| !t.is_empty()) {
                None => 0,
                Some(name) => feed.table(name).ok_or_else(|| {
                    ApiError::not_found(format!(
                        "table {name:?}: not a table of this form (see tables)"
                    ))
                })?,
            };
            let page = store.submission_page(&filter, after.as_ref(), offset, limit)?;
            let mut out = RowsPage {
                table: feed.schema.tables[t].name.clone(),
                tables: feed
                    .schema
                    .tables
                    .iter()
                    .map(|x| FeedTable {
                        name: x.name.clone(),
                        parent: x.parent.map(|p| feed.schema.tables[p].name.clone()),
                    })
                    .collect(),
                columns: feed.columns(t),
                rows: Vec::new(),
                not_exported: Vec::new(),
                next_cursor: page.next.map(|c| c.text()),
            };
            for m in page.items {
                // Replaced since the page was read: its edit comes later.
                let Some((r, _)) = store.submission(&m.instance_id)? else { continue };
                if let Err(reason) =
                    feed.rows(store, &r, &secret, t, &mut out.rows).map_err(export_error)?
                {
                    out.not_exported.push(NotExported { instance_id: r.instance_id, reason });
                }
            }
            Ok(Json(out))
        })
    })
    .await
}

/// One submission: its metadata, review state and answers as the export's
/// JSON Lines file writes them (`answers`: null when central cannot read
/// them, with the reason in `not_exported`).
pub(crate) async fn submission(
    State(state): State<Arc<AppState>>,
    _: Exporter,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = segment(id)?;
    blocking(move || {
        let secret = secret(&state)?;
        state.readers.with(&state, |c| {
            let source = c.store();
            let (r, review_state) = source
                .submission(&id)?
                .ok_or_else(|| ApiError::not_found("no current submission has that instance id"))?;
            let meta = item(
                SubmissionMeta {
                    instance_id: r.instance_id.clone(),
                    form_id: r.form_id.clone(),
                    form_version: r.form_version.clone(),
                    participant_id: r.participant_id.clone(),
                    round: r.round,
                    device_id: r.device_id.clone(),
                    enumerator: r.enumerator.clone(),
                    finalized_at: r.finalized_at.clone(),
                    received_at: r.received_at.clone(),
                    sealed: r.sealed.is_some(),
                    review_state,
                },
                &secret,
            );
            let (answers, reason) = match document::of(source, r).map_err(export_error)? {
                Document::Answers(doc) => (doc, None),
                Document::NotExported { reason, .. } => (serde_json::Value::Null, Some(reason)),
            };
            Ok(Json(serde_json::json!({
                "submission": meta,
                "answers": answers,
                "not_exported": reason,
            })))
        })
    })
    .await
}

/// `GET /v1/data/forms/{form_id}/export.zip` query: the choices of
/// `central export` (docs/EXPORT.md), by the same names. Not offered:
/// `--include-pii` (personal data leaves central only by the command run
/// on the server) and `--identity` (central never holds the researcher's
/// key).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ExportQuery {
    /// `csv`, `xlsx`, `json`, `stata`, `spss`, or several comma-separated.
    format: Option<String>,
    version: Option<String>,
    since: Option<String>,
    labels: Option<bool>,
    lang: Option<String>,
    panel: Option<bool>,
    /// `enumera` or `odk`.
    layout: Option<String>,
    bom: Option<bool>,
    raw_csv: Option<bool>,
    checks: Option<bool>,
    no_media: Option<bool>,
}

impl ExportQuery {
    fn options(mut self, form_id: String) -> Result<ExportOptions, ApiError> {
        // An empty value is no choice, as an absent one.
        for v in [&mut self.format, &mut self.version, &mut self.lang] {
            if v.as_deref() == Some("") {
                *v = None;
            }
        }
        let mut formats = Vec::new();
        for f in self.format.as_deref().unwrap_or("csv").split(',') {
            let f = match f.trim() {
                "csv" => Format::Csv,
                "xlsx" => Format::Xlsx,
                "json" => Format::Json,
                "stata" => Format::Stata,
                "spss" => Format::Spss,
                other => {
                    return Err(bad_query(format!(
                        "format {other:?}: use csv, xlsx, json, stata or spss (several: csv,stata)"
                    )));
                }
            };
            if !formats.contains(&f) {
                formats.push(f);
            }
        }
        let layout = match self.layout.as_deref() {
            None | Some("enumera") => Layout::Enumera,
            Some("odk") => Layout::Odk,
            Some(other) => return Err(bad_query(format!("layout {other:?}: use enumera or odk"))),
        };
        if let Some(since) = &self.since
            && chrono::NaiveDate::parse_from_str(since.get(..10).unwrap_or(since), "%Y-%m-%d")
                .is_err()
        {
            return Err(bad_query(format!("since {since:?} is not a date (YYYY-MM-DD)")));
        }
        let mut formats = formats.into_iter();
        Ok(ExportOptions {
            format: formats.next(),
            also: formats.collect(),
            filter: Filter { form: Some(form_id), version: self.version, since: self.since },
            labels: self.labels.unwrap_or(false),
            lang: self.lang,
            panel: self.panel.unwrap_or(false),
            layout,
            bom: self.bom,
            raw_csv: self.raw_csv.unwrap_or(false),
            checks: self.checks.unwrap_or(false),
            no_media: self.no_media.unwrap_or(false),
            ..ExportOptions::default()
        })
    }
}

/// `GET /v1/data/forms/{form_id}/export.zip`: `central export --form
/// FORM_ID` with the choices of [`ExportQuery`] (default: CSV, Enumera's
/// layout, personal data left out), written to a temporary folder, zipped
/// to a temporary file and streamed from it.
pub(crate) async fn export_zip(
    State(state): State<Arc<AppState>>,
    _: Exporter,
    form_id: Result<Path<String>, PathRejection>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let form_id = segment(form_id)?;
    let Query(q) = query.map_err(|e| bad_query(e.body_text()))?;
    let name = form_id.clone();
    let opts = q.options(form_id)?;
    let spool = state.config.spool_dir.clone();
    let file = blocking(move || {
        secret(&state)?;
        state.readers.with(&state, |c| {
            let dir = match &spool {
                Some(d) => tempfile::tempdir_in(d),
                None => tempfile::tempdir(),
            }
            .map_err(|e| ApiError::internal_logged(format!("export folder: {e}")))?;
            crate::export::export(c.store(), &opts, dir.path(), &mut |_, _| {})
                .map_err(export_error)?;
            zip_folder(dir.path(), spool.as_deref())
                .map_err(|e| ApiError::internal_logged(format!("zipping the export: {e}")))
        })
    })
    .await?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    // The zip is read in chunks on a blocking thread and sent as it goes.
    tokio::task::spawn_blocking(move || {
        let mut file = file;
        loop {
            let mut chunk = vec![0u8; 64 << 10];
            match file.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    chunk.truncate(n);
                    if tx.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}-export.zip\"")),
        ],
        Body::new(Chunks(rx)),
    )
        .into_response())
}

/// Every file under `dir` (relative names, `/`-separated, sorted) into a
/// zip in an unnamed temporary file, rewound for reading.
fn zip_folder(
    dir: &std::path::Path,
    spool: Option<&std::path::Path>,
) -> std::io::Result<std::fs::File> {
    let file = match spool {
        Some(d) => tempfile::tempfile_in(d)?,
        None => tempfile::tempfile()?,
    };
    let mut paths = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                paths.push(path);
            }
        }
    }
    paths.sort();
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for path in paths {
        let Ok(rel) = path.strip_prefix(dir) else { continue };
        let name: Vec<String> =
            rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        zip.start_file(name.join("/"), options).map_err(std::io::Error::other)?;
        std::io::copy(&mut std::fs::File::open(&path)?, &mut zip)?;
    }
    let mut file = zip.finish().map_err(std::io::Error::other)?;
    file.flush()?;
    file.rewind()?;
    Ok(file)
}

/// A response body fed by a channel of chunks.
pub(crate) struct Chunks(pub(crate) tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(|c| c.map(http_body::Frame::data)))
    }
}
