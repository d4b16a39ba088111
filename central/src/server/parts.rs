//! Uploads in parts (issue 18, item 5; `enumera_core::remote::api`'s
//! table, docs/HTTP.md "Uploads in parts"): a bundle larger than one
//! request arrives as parts the database keeps ([`crate::uploads`]), then
//! `finish` joins them into a spool file, checks the SHA-256 the device
//! declared and ingests it as `POST /v1/bundles` does ([`super::upload`]).
//!
//! Only the device whose token created an upload may touch it (403
//! `other_device`). Each device may have [`crate::uploads::UploadLimits`]
//! open (429 `quota_exceeded`; a single upload larger than the staged
//! limit is 413 `too_large`). An upload with no part for
//! [`super::ServerConfig::upload_ttl`] is gone (404) and its parts are
//! removed when any device next creates one.

use std::io::BufWriter;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use sha2::Digest;

use enumera_core::bundle::HashingWriter;
use enumera_core::remote::api::{self, NewUpload, UploadStatus};

use super::AppState;
use super::auth::Device;
use super::reply::ApiError;
use super::routes::{blocking, lock, segment};
use super::upload::{Spooled, apply, spool_file};
use crate::uploads::{Begun, PartOutcome, StagedUpload, UploadStore};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn status_of(state: &AppState, upload: &StagedUpload) -> UploadStatus {
    let ttl = state.config.upload_ttl.as_secs() as i64;
    let expires = chrono::DateTime::from_timestamp(upload.touched_at.saturating_add(ttl), 0)
        .unwrap_or_default();
    UploadStatus {
        id: upload.upload_id.clone(),
        size: upload.size,
        received: upload.received,
        part_max: state.config.max_body as u64,
        expires_at: expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn gone() -> ApiError {
    ApiError::not_found("no such upload (finished, expired or never created); start a new one")
}

/// The upload `id` if it is the device's and not expired.
fn owned(state: &AppState, device: &str, id: &str) -> Result<StagedUpload, ApiError> {
    if !api::valid_upload_id(id) {
        return Err(bad("bad_path", "an upload id is 32 lowercase hex digits"));
    }
    let upload = state.readers.with(state, |c| Ok(c.store().staged_upload(id)?))?;
    let upload = upload.ok_or_else(gone)?;
    if upload.device_id != device {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "other_device",
            "this upload was created with another device's token",
        ));
    }
    if upload.touched_at < now() - state.config.upload_ttl.as_secs() as i64 {
        return Err(gone());
    }
    Ok(upload)
}

/// `POST /v1/uploads`: a new upload of `size` bytes with that SHA-256.
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| bad("bad_request", e.body_text()))?;
    let new: NewUpload = serde_json::from_slice(&body)
        .map_err(|e| bad("bad_request", format!("expected {{\"size\", \"sha256\"}}: {e}")))?;
    if new.size == 0 || !api::valid_hash(&new.sha256) {
        return Err(bad("bad_request", "size must be over 0 and sha256 64 lowercase hex digits"));
    }
    let limits = state.config.upload_limits;
    if new.size > limits.max_staged_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "an upload of {} bytes is over this server's limit of {} bytes",
                new.size, limits.max_staged_bytes
            ),
        ));
    }
    let at = now();
    let upload = StagedUpload {
        upload_id: uuid::Uuid::new_v4().simple().to_string(),
        device_id: device,
        size: new.size,
        sha256: new.sha256,
        received: 0,
        created_at: at,
        touched_at: at,
    };
    let ttl = state.config.upload_ttl.as_secs() as i64;
    let (state, begun) = blocking(move || {
        let begun = {
            let mut central = lock(&state);
            central.store_mut().reconnect_if_broken()?;
            let store = central.store_mut();
            // Abandoned uploads of every device go here: a cheap indexed
            // delete, and creations are when staged bytes grow.
            store.expire_uploads(at - ttl)?;
            store.begin_upload(&upload, &limits)?
        };
        Ok((state, (begun, upload)))
    })
    .await?;
    let (begun, upload) = begun;
    // Room is made when this device's open uploads finish or expire: an
    // upload is dropped after `upload_ttl` untouched, so that long is
    // enough; an hour at most, as for the daily quotas.
    let retry_after = Some(state.config.upload_ttl.as_secs().clamp(1, 3600));
    match begun {
        Begun::Created => {
            Ok((StatusCode::CREATED, Json(status_of(&state, &upload))).into_response())
        }
        Begun::TooMany { open } => Err(ApiError {
            retry_after,
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "quota_exceeded",
                format!(
                    "this device has {open} unfinished uploads (the limit is {}); finish them \
                     or wait for them to expire",
                    limits.max_open
                ),
            )
        }),
        Begun::OverStaged { staged } => Err(ApiError {
            retry_after,
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "quota_exceeded",
                format!(
                    "this device's unfinished uploads would hold {staged} bytes (the limit is {})",
                    limits.max_staged_bytes
                ),
            )
        }),
    }
}

/// `GET /v1/uploads/{id}`: how much has arrived.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<UploadStatus>, ApiError> {
    let id = segment(id)?;
    blocking(move || {
        let upload = owned(&state, &device, &id)?;
        Ok(Json(status_of(&state, &upload)))
    })
    .await
}

#[derive(Debug, serde::Deserialize)]
pub(crate) struct At {
    offset: u64,
}

/// `PUT /v1/uploads/{id}?offset=N`: the part at N, which must be what has
/// arrived so far (409 `wrong_offset` otherwise, with the offset in the
/// message; a part already held whole is taken again as a no-op).
pub(crate) async fn put(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
    id: Result<Path<String>, PathRejection>,
    at: Result<Query<At>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Result<Json<UploadStatus>, ApiError> {
    let id = segment(id)?;
    let Query(At { offset }) =
        at.map_err(|_| bad("bad_request", "a part needs ?offset=N (bytes from the start)"))?;
    let body = read_part(&state, request).await?;
    blocking(move || {
        owned(&state, &device, &id)?;
        let outcome = {
            let mut central = lock(&state);
            central.store_mut().reconnect_if_broken()?;
            central.store_mut().put_part(&id, offset, &body, now())?
        };
        match outcome {
            PartOutcome::Stored(u) | PartOutcome::Held(u) => Ok(Json(status_of(&state, &u))),
            PartOutcome::NotAt(u) => Err(ApiError::new(
                StatusCode::CONFLICT,
                "wrong_offset",
                format!(
                    "a part of {} bytes at {offset} does not follow the {} bytes received of {}; \
                     send from {} (GET the upload for its state)",
                    body.len(),
                    u.received,
                    u.size,
                    u.received
                ),
            )),
            PartOutcome::Missing => Err(gone()),
        }
    })
    .await
}

/// The part's bytes, in one buffer of the declared size (no doubling
/// while it grows); at most the body limit.
async fn read_part(state: &AppState, request: Request) -> Result<Vec<u8>, ApiError> {
    let max = state.config.max_body;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("a part is at most this server's body limit of {max} bytes"),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let mut part = Vec::with_capacity(declared.unwrap_or(0));
    let mut body = request.into_body();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| bad("bad_body", format!("the part could not be read: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if part.len() + data.len() > max {
                return Err(too_large());
            }
            part.extend_from_slice(&data);
        }
    }
    Ok(part)
}

/// `POST /v1/uploads/{id}/finish`: joins the parts, checks the hash and
/// ingests the bundle; the reply is `POST /v1/bundles`'s. The upload is
/// removed once ingested, or refused for good (4xx); after a 5xx it stays
/// for the device to finish again.
pub(crate) async fn finish(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = segment(id)?;
    let upload = {
        let (state, device, id) = (state.clone(), device.clone(), id.clone());
        blocking(move || owned(&state, &device, &id)).await?
    };
    if upload.received != upload.size {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "incomplete",
            format!(
                "{} of {} bytes have arrived; send the rest first",
                upload.received, upload.size
            ),
        ));
    }
    let mine = state.device_locks.get(&device);
    let _turn = mine.lock().await;
    let _slot = state
        .upload_slots
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the server is shutting down"))?;
    let file = spool_file(&state).await?;
    let state = state.clone();
    blocking(move || {
        let spooled = join(&state, &upload, file)?;
        if spooled.sha256 != upload.sha256 {
            let _ = lock(&state).store_mut().drop_upload(&upload.upload_id);
            return Err(bad(
                "bad_hash",
                format!(
                    "the parts joined have SHA-256 {}, not the {} declared; the upload is \
                     dropped, start again",
                    spooled.sha256, upload.sha256
                ),
            ));
        }
        let applied = apply(&state, &device, spooled);
        if let Err(e) = &applied {
            state.metrics.refused(&device, e.code);
        }
        let settled = applied.as_ref().err().is_none_or(|e| e.status.is_client_error());
        if settled {
            let mut central = lock(&state);
            central.store_mut().drop_upload(&upload.upload_id)?;
        }
        applied.map(IntoResponse::into_response)
    })
    .await
}

/// The parts in order into the spool file, hashed on the way.
fn join(state: &AppState, upload: &StagedUpload, file: std::fs::File) -> Result<Spooled, ApiError> {
    let mut out = HashingWriter::new(BufWriter::new(file));
    let bytes =
        state.readers.with(state, |c| Ok(c.store().copy_upload(&upload.upload_id, &mut out)?))?;
    let file = out
        .out
        .into_inner()
        .map_err(|e| ApiError::internal_logged(format!("writing the spool file: {e}")))?;
    if bytes != upload.size {
        return Err(ApiError::internal_logged(format!(
            "upload {} holds {bytes} bytes in parts, {} recorded",
            upload.upload_id, upload.received
        )));
    }
    Ok(Spooled { file, sha256: enumera_core::bundle::hex(&out.sha.finalize()), bytes })
}
