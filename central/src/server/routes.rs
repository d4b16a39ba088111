//! The routes of `enumera_core::remote::api`, each a short blocking job.

use std::sync::{Arc, MutexGuard};

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use enumera_core::remote::api::{self, InstrumentListing};

use super::AppState;
use super::auth::{Caller, Device};
use super::reply::ApiError;
use crate::{AnyStore, Central};

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let max_body = state.config.max_body;
    Router::new()
        .route(api::BUNDLES, post(super::upload::upload))
        .route(api::RECEIPT, get(receipt))
        .route(api::INSTRUMENTS, get(instruments))
        .route(&format!("{}/{{hash}}", api::INSTRUMENTS), get(instrument))
        .route(&format!("{}/{{sha256}}", api::FORM_MEDIA), get(super::form_media::serve))
        .route(api::ROSTERS, get(rosters))
        .route(&format!("{}/{{name}}", api::ROSTERS), get(roster))
        .route(api::WHOAMI, get(whoami))
        .route(api::RETURNS, get(super::review::returns))
        .route(api::REVIEW, get(super::review::list))
        .route(&format!("{}/{{id}}", api::REVIEW), get(super::review::show))
        .route(api::REVIEW_ACTIONS, post(super::review::act))
        .route(api::PROGRESS, get(super::review::progress))
        // Assignments (issue 17, item 5; server/assign.rs).
        .route(api::ASSIGNMENTS, get(super::assign::list).post(super::assign::for_device))
        .route(&format!("{}/new", api::ASSIGNMENTS), post(super::assign::create))
        .route(&format!("{}/{{id}}/revoke", api::ASSIGNMENTS), post(super::assign::revoke))
        .route(&format!("{}/{{id}}/reassign", api::ASSIGNMENTS), post(super::assign::reassign))
        // Uploads in parts (issue 18, item 5; server/parts.rs).
        .route(api::UPLOADS, post(super::parts::create))
        .route(&format!("{}/{{id}}", api::UPLOADS), get(super::parts::show).put(super::parts::put))
        .route(&format!("{}/{{id}}/finish", api::UPLOADS), post(super::parts::finish))
        // The data API for researchers (issue 19, server/data.rs).
        .route(super::data::FORMS, get(super::data::forms))
        .route(super::data::SUBMISSIONS, get(super::data::submissions))
        .route(super::data::EXPORT_ZIP, get(super::data::export_zip))
        .route(super::data::SUBMISSION, get(super::data::submission))
        .route(super::data::ROWS, get(super::data::rows))
        .route("/app", axum::routing::any(web_app))
        .route("/app/", axum::routing::any(web_app))
        .route("/app/{*path}", axum::routing::any(web_app))
        // Operations (issue 19): no token, nothing about devices or answers.
        .route("/healthz", get(super::observe::healthz))
        .route("/metrics", get(super::observe::metrics))
        .route_layer(axum::middleware::from_fn(super::observe::note_route))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method (see docs/HTTP.md)",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), timeout))
        .layer(axum::middleware::from_fn_with_state(state.clone(), super::observe::observe))
        .with_state(state)
}

/// The web app (`server/app.rs`): no token, files only.
async fn web_app(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let rest = request.uri().path().strip_prefix("/app").unwrap_or("");
    super::app::serve(&state.web, request.method(), request.headers(), rest).await
}

/// Bounds every request, body upload included. A bundle whose ingest was
/// already under way still commits; the client retries and gets a no-op.
async fn timeout(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!("the request took longer than {} s", limit.as_secs()),
        )
        .into_response(),
    }
}

/// A path segment, or the JSON error for one that is not (percent-encoded
/// bytes that are not UTF-8, for instance).
pub(crate) fn segment(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(s)| s).map_err(|_| {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_path", "the path is not valid UTF-8 text")
    })
}

/// Central, whatever a panicking holder left: SQLite rolled its
/// transaction back, so the data is consistent.
pub(crate) fn lock(state: &AppState) -> MutexGuard<'_, Central<AnyStore>> {
    state.central.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs SQLite (or other CPU-bound) work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| ApiError::internal_logged(format!("request handler failed: {e}")))?
}

/// The receipt file for the token's device, exactly as signed.
async fn receipt(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
) -> Result<Response, ApiError> {
    let file =
        blocking(move || state.readers.with(&state, |c| Ok(c.receipt_for(&device)?.file))).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], file).into_response())
}

async fn instruments(
    State(state): State<Arc<AppState>>,
    _: Device,
) -> Result<Json<Vec<InstrumentListing>>, ApiError> {
    let listed = blocking(move || {
        state.readers.with(&state, |c| {
            let mut out = Vec::new();
            for p in c.served()? {
                let media = c.published_media(&p.form_id, &p.version)?;
                out.push(InstrumentListing {
                    form_id: p.form_id,
                    version: p.version,
                    hash: p.hash,
                    title: p.title,
                    published_at: p.published_at,
                    media,
                });
            }
            Ok(out)
        })
    })
    .await?;
    Ok(Json(listed))
}

async fn instrument(
    State(state): State<Arc<AppState>>,
    _: Device,
    hash: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let hash = segment(hash)?;
    if !api::valid_hash(&hash) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_path",
            "instruments are addressed by their hash: 64 lowercase hex digits",
        ));
    }
    let json =
        blocking(move || state.readers.with(&state, |c| Ok(c.published_by_hash(&hash)?))).await?;
    let json = json.ok_or_else(|| ApiError::not_found("no published instrument has that hash"))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

async fn rosters(
    State(state): State<Arc<AppState>>,
    _: Device,
) -> Result<Json<Vec<api::RosterListing>>, ApiError> {
    // Once central assigns participants, devices get roster rows only in
    // their assignments file (server/assign.rs), never whole rosters.
    Ok(Json(blocking(move || state.readers.with(&state, |c| Ok(c.rosters_for_devices()?))).await?))
}

async fn roster(
    State(state): State<Arc<AppState>>,
    _: Device,
    name: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let name = segment(name)?;
    if !api::valid_roster_name(&name) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_path",
            "a roster name is 1 to 64 of A-Z a-z 0-9 . _ -, not starting with a dot",
        ));
    }
    let json = blocking(move || {
        state.readers.with(&state, |c| {
            if c.participants_limited()? {
                return Ok(None);
            }
            Ok(c.roster_json(&name)?)
        })
    })
    .await?;
    let json = json.ok_or_else(|| ApiError::not_found("no roster of that name"))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// Who central takes the token for (any role): a client's check of its
/// token before it does anything else.
async fn whoami(Caller(p): Caller) -> Json<api::WhoAmI> {
    Json(api::WhoAmI {
        role: p.role.as_str().into(),
        subject: p.subject,
        districts: p.scope.districts.into_iter().collect(),
        devices: p.scope.devices.into_iter().collect(),
        token_id: p.token_id,
    })
}
