//! The routes of `enumera_core::remote::api`, each a short blocking job.

use std::sync::{Arc, MutexGuard};

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use enumera_core::bundle::read_bundle;
use enumera_core::remote::api::{self, InstrumentListing, UploadReply};

use super::AppState;
use super::auth::Device;
use super::reply::ApiError;
use crate::{Central, CentralStore};

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let max_body = state.config.max_body;
    Router::new()
        .route(api::BUNDLES, post(upload))
        .route(api::RECEIPT, get(receipt))
        .route(api::INSTRUMENTS, get(instruments))
        .route(&format!("{}/{{hash}}", api::INSTRUMENTS), get(instrument))
        .route(api::ROSTERS, get(rosters))
        .route(&format!("{}/{{name}}", api::ROSTERS), get(roster))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), timeout))
        .with_state(state)
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

/// Central, whatever a panicking holder left: SQLite rolled its
/// transaction back, so the data is consistent.
pub(crate) fn lock(state: &AppState) -> MutexGuard<'_, Central> {
    state.central.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs SQLite (or other CPU-bound) work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| ApiError::internal(format!("request handler failed: {e}")))?
}

/// A request body within [`super::ServerConfig::max_body`]: a declared
/// length over it is refused before a byte is read.
pub(crate) struct Body(Bytes);

impl FromRequest<Arc<AppState>> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let max = state.config.max_body;
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the body is over this server's limit of {max} bytes"),
            )
        };
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return Err(too_large());
        }
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_body",
                format!("the body could not be read: {}", e.body_text()),
            )),
        }
    }
}

/// Verifies the bundle (outside the lock), checks that it is the token's
/// device's, ingests it and replies with the device's receipt.
async fn upload(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
    Body(body): Body,
) -> Result<Json<UploadReply>, ApiError> {
    blocking(move || {
        let verified =
            read_bundle(&body).map_err(|e| ApiError::from(crate::IngestError::from(e)))?;
        if verified.manifest.device_id != device {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "other_device",
                format!(
                    "this bundle is from device {}, but the token is for device {device}",
                    verified.manifest.device_id
                ),
            ));
        }
        let mut central = lock(&state);
        let report = central.store_mut().ingest_verified(&verified)?;
        let receipt = central.receipt_for(&device)?;
        drop(central);
        let receipt = String::from_utf8(receipt.file)
            .map_err(|_| ApiError::internal("the receipt is not UTF-8"))?;
        let report = serde_json::to_value(&report)
            .map_err(|e| ApiError::internal(format!("reporting the ingest: {e}")))?;
        Ok(Json(UploadReply { receipt, report }))
    })
    .await
}

/// The receipt file for the token's device, exactly as signed.
async fn receipt(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
) -> Result<Response, ApiError> {
    let file = blocking(move || Ok(lock(&state).receipt_for(&device)?.file)).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], file).into_response())
}

async fn instruments(
    State(state): State<Arc<AppState>>,
    _: Device,
) -> Result<Json<Vec<InstrumentListing>>, ApiError> {
    let published = blocking(move || Ok(lock(&state).served()?)).await?;
    Ok(Json(
        published
            .into_iter()
            .map(|p| InstrumentListing {
                form_id: p.form_id,
                version: p.version,
                hash: p.hash,
                title: p.title,
                published_at: p.published_at,
            })
            .collect(),
    ))
}

async fn instrument(
    State(state): State<Arc<AppState>>,
    _: Device,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    if !api::valid_hash(&hash) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_path",
            "instruments are addressed by their hash: 64 lowercase hex digits",
        ));
    }
    let json = blocking(move || Ok(lock(&state).published_by_hash(&hash)?)).await?;
    let json = json.ok_or_else(|| ApiError::not_found("no published instrument has that hash"))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

async fn rosters(
    State(state): State<Arc<AppState>>,
    _: Device,
) -> Result<Json<Vec<api::RosterListing>>, ApiError> {
    Ok(Json(blocking(move || Ok(lock(&state).rosters()?)).await?))
}

async fn roster(
    State(state): State<Arc<AppState>>,
    _: Device,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    if !api::valid_roster_name(&name) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_path",
            "a roster name is 1 to 64 of A-Z a-z 0-9 . _ -, not starting with a dot",
        ));
    }
    let json = blocking(move || Ok(lock(&state).roster_json(&name)?)).await?;
    let json = json.ok_or_else(|| ApiError::not_found("no roster of that name"))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}
