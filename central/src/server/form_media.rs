//! `GET /v1/form-media/{sha256}` (issue 18, item 2): a form media file of a
//! served form, by SHA-256, to any device token. A `Range: bytes=A-B`
//! request gets that part (206, at most [`api::MEDIA_RANGE_MAX`] bytes),
//! which is how devices fetch: one bounded piece per request. A whole-file
//! request is streamed a chunk at a time, each read on its own from the
//! store, so a video is never held whole.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use enumera_core::remote::api;

use super::AppState;
use super::auth::Device;
use super::data::Chunks;
use super::reply::ApiError;
use super::routes::{blocking, segment};
use crate::form_media::MEDIA_CHUNK;

pub(crate) async fn serve(
    State(state): State<Arc<AppState>>,
    _: Device,
    sha256: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let sha256 = segment(sha256)?;
    if !api::valid_hash(&sha256) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_path",
            "form media files are addressed by their SHA-256: 64 lowercase hex digits",
        ));
    }
    let range = match headers.get(header::RANGE) {
        None => None,
        Some(v) => Some(parse_range(v.to_str().unwrap_or("")).ok_or_else(|| {
            ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "bad_range",
                "only one range is served: Range: bytes=A-B or bytes=A-",
            )
        })?),
    };
    let (first_len, offset) = match range {
        Some((start, end)) => {
            let len = end.map_or(api::MEDIA_RANGE_MAX, |e| e.saturating_sub(start) + 1);
            (len.min(api::MEDIA_RANGE_MAX), start)
        }
        None => (MEDIA_CHUNK as u64, 0),
    };
    let st = state.clone();
    let sha = sha256.clone();
    let found =
        blocking(move || st.readers.with(&st, |c| Ok(c.media_range(&sha, offset, first_len)?)))
            .await?;
    let (size, bytes) = found.ok_or_else(|| {
        ApiError::not_found("no served form names a media file with that SHA-256")
    })?;
    let octets = (header::CONTENT_TYPE, "application/octet-stream".to_string());
    if range.is_some() {
        if offset >= size && size > 0 {
            return Err(ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "bad_range",
                format!("the file has {size} bytes"),
            ));
        }
        let last = (offset + bytes.len() as u64).saturating_sub(1);
        return Ok((
            StatusCode::PARTIAL_CONTENT,
            [octets, (header::CONTENT_RANGE, format!("bytes {offset}-{last}/{size}"))],
            bytes,
        )
            .into_response());
    }
    if bytes.len() as u64 >= size {
        return Ok(([octets], bytes).into_response());
    }
    // Larger than a chunk: the rest read a chunk at a time as it is sent.
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        if tx.blocking_send(Ok(Bytes::from(bytes))).is_err() {
            return;
        }
        let mut at = MEDIA_CHUNK as u64;
        while at < size {
            let part = state
                .readers
                .with(&state, |c| Ok(c.media_range(&sha256, at, MEDIA_CHUNK as u64)?));
            let chunk = match part {
                Ok(Some((_, b))) if !b.is_empty() => b,
                _ => {
                    let _ =
                        tx.blocking_send(Err(std::io::Error::other("form media file went away")));
                    return;
                }
            };
            at += chunk.len() as u64;
            if tx.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                return;
            }
        }
    });
    Ok(([octets, (header::CONTENT_LENGTH, size.to_string())], Body::new(Chunks(rx)))
        .into_response())
}

/// `bytes=A-B` or `bytes=A-` (one range; no suffix ranges).
fn parse_range(v: &str) -> Option<(u64, Option<u64>)> {
    let spec = v.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let start: u64 = a.trim().parse().ok()?;
    let end = match b.trim() {
        "" => None,
        b => Some(b.parse::<u64>().ok()?),
    };
    if end.is_some_and(|e| e < start) {
        return None;
    }
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_are_one_span() {
        assert_eq!(parse_range("bytes=0-99"), Some((0, Some(99))));
        assert_eq!(parse_range("bytes=100-"), Some((100, None)));
        for bad in ["bytes=-5", "bytes=5-1", "items=0-1", "bytes=0-1,4-5", ""] {
            assert_eq!(parse_range(bad), None, "{bad}");
        }
    }
}
