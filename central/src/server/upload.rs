//! `POST /v1/bundles` in bounded memory (issue 15, finding 3).
//!
//! An upload is never held in memory whole: its body is streamed to an
//! unnamed temporary file (gone when closed, or when the process dies)
//! while it is hashed; the bundle is then verified from that file, item by
//! item, outside the database lock, and applied under the lock one response
//! at a time. What bounds memory and keeps others served:
//! - one upload at a time per device (a second waits; it reads nothing
//!   until its turn, so waiting costs no memory);
//! - at most [`super::ServerConfig::max_uploads`] uploads received or
//!   verified at once;
//! - per upload: a buffer of [`CHUNK`] while receiving, the manifest and
//!   one response while applying.

use std::collections::HashMap;
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, Weak};

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use enumera_core::bundle::{BundleReader, BundleSource, Limits};
use enumera_core::remote::api::UploadReply;

use super::AppState;
use super::auth::Device;
use super::reply::ApiError;
use super::routes::{blocking, lock};
use crate::CentralStore;

/// Received bytes are written to the spool file in batches of this size.
const CHUNK: usize = 1 << 20;

/// One lock per device with an upload under way; entries go when unused.
#[derive(Debug, Default)]
pub(crate) struct DeviceLocks(Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>);

impl DeviceLocks {
    pub(super) fn get(&self, device: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(lock) = map.get(device).and_then(Weak::upgrade) {
            return lock;
        }
        map.retain(|_, w| w.strong_count() > 0);
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        map.insert(device.to_string(), Arc::downgrade(&lock));
        lock
    }
}

/// A body on disk: the file (at its end), its SHA-256 and size.
pub(super) struct Spooled {
    pub file: std::fs::File,
    pub sha256: String,
    pub bytes: u64,
}

/// Verifies the bundle (outside the lock), checks that it is the token's
/// device's, ingests it and replies with the device's receipt.
pub(crate) async fn upload(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
    request: Request,
) -> Result<Json<UploadReply>, ApiError> {
    let max = state.config.max_body;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large(max));
    }
    let mine = state.device_locks.get(&device);
    let _turn = mine.lock().await;
    let _slot = state
        .upload_slots
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the server is shutting down"))?;
    let spooled = spool(&state, request.into_body(), max).await?;
    let state = state.clone();
    blocking(move || {
        let applied = apply(&state, &device, spooled);
        if let Err(e) = &applied {
            state.metrics.refused(&device, e.code);
        }
        applied
    })
    .await
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the body is over this server's limit of {max} bytes"),
    )
}

/// Streams the body into an unnamed temporary file, hashing it.
async fn spool(state: &Arc<AppState>, mut body: Body, max: usize) -> Result<Spooled, ApiError> {
    let file = spool_file(state).await?;
    let mut spooled = Spooled { file, sha256: String::new(), bytes: 0 };
    let mut sha = Sha256::new();
    let mut batch = Vec::with_capacity(CHUNK);
    loop {
        let frame = match body.frame().await {
            None => None,
            Some(Ok(frame)) => Some(frame),
            Some(Err(e)) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_body",
                    format!("the body could not be read: {e}"),
                ));
            }
        };
        let done = frame.is_none();
        if let Some(data) = frame.and_then(|f| f.into_data().ok()) {
            spooled.bytes += data.len() as u64;
            if spooled.bytes > max as u64 {
                return Err(too_large(max));
            }
            sha.update(&data);
            batch.extend_from_slice(&data);
        }
        if batch.len() >= CHUNK || (done && !batch.is_empty()) {
            let (mut file, full) = (spooled.file, batch);
            let (file, mut emptied) = blocking(move || {
                file.write_all(&full).map_err(|e| {
                    ApiError::internal_logged(format!("writing the spool file: {e}"))
                })?;
                Ok((file, full))
            })
            .await?;
            emptied.clear();
            spooled.file = file;
            batch = emptied;
        }
        if done {
            break;
        }
    }
    spooled.sha256 = enumera_core::bundle::hex(&sha.finalize());
    Ok(spooled)
}

/// A new unnamed spool file (gone when closed, or when the process dies).
pub(super) async fn spool_file(state: &Arc<AppState>) -> Result<std::fs::File, ApiError> {
    let dir = state.config.spool_dir.clone();
    blocking(move || {
        let dir = dir.unwrap_or_else(std::env::temp_dir);
        tempfile::tempfile_in(&dir).map_err(|e| {
            ApiError::internal_logged(format!("cannot make a spool file in {}: {e}", dir.display()))
        })
    })
    .await
}

/// Verifies the spooled bundle whole without the lock, then applies it
/// under the lock and signs the receipt.
pub(super) fn apply(
    state: &AppState,
    device: &str,
    spooled: Spooled,
) -> Result<Json<UploadReply>, ApiError> {
    let Spooled { mut file, sha256, bytes } = spooled;
    let rewind = |file: &mut std::fs::File| {
        file.seek(SeekFrom::Start(0))
            .map_err(|e| ApiError::internal_logged(format!("rewinding the spool file: {e}")))
    };
    let known = state.readers.with(state, |c| Ok(c.store().replay(&sha256)?.is_some()))?;
    if !known {
        rewind(&mut file)?;
        let reader =
            BundleReader::open_hashed(BufReader::new(&file), &Limits::default(), sha256.clone())
                .map_err(|e| ApiError::from(crate::IngestError::from(e)))?;
        let from = &reader.manifest().device_id;
        if from != device {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "other_device",
                format!("this bundle is from device {from}, but the token is for device {device}"),
            ));
        }
        let (_, read) =
            reader.verify_rest().map_err(|e| ApiError::from(crate::IngestError::from(e)))?;
        debug_assert_eq!(read, bytes);
        rewind(&mut file)?;
    }
    let mut central = lock(state);
    central.store_mut().reconnect_if_broken()?;
    let report = central.ingest_from(&sha256, BufReader::new(&file))?;
    if report.device_id != device {
        // A byte-identical bundle of another device, known by its hash.
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "other_device",
            format!(
                "this bundle is from device {}, but the token is for device {device}",
                report.device_id
            ),
        ));
    }
    let receipt = central.receipt_for(device)?;
    drop(central);
    state.metrics.ingested(device, &report);
    let receipt = String::from_utf8(receipt.file)
        .map_err(|_| ApiError::internal_logged("the receipt is not UTF-8".into()))?;
    let report = serde_json::to_value(&report)
        .map_err(|e| ApiError::internal_logged(format!("reporting the ingest: {e}")))?;
    Ok(Json(UploadReply { receipt, report }))
}
