//! Bearer tokens: every route needs one, checked before the body is read.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

use super::AppState;
use super::observe::Notes;
use super::reply::ApiError;
use super::routes::blocking;

/// The device id the request's token was made for.
#[derive(Debug, Clone)]
pub(crate) struct Device(pub String);

/// Longer than any token central makes; refused before any lookup.
const MAX_TOKEN: usize = 256;

impl FromRequestParts<Arc<AppState>> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized =
            |code, message: &str| ApiError::new(StatusCode::UNAUTHORIZED, code, message);
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(unauthorized(
                "missing_token",
                "no Authorization: Bearer token; each device needs its own \
                 (`enumera central --db C.db token create --device DEVICE_ID`)",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN)
            .ok_or_else(|| {
                unauthorized("bad_token", "the Authorization header is not `Bearer TOKEN`")
            })?
            .to_owned();
        let state = state.clone();
        let device = blocking(move || {
            state.readers.with(&state, |c| c.device_for_token(&token).map_err(ApiError::from))
        })
        .await?;
        if let (Some(device), Some(notes)) = (&device, parts.extensions.get::<Notes>()) {
            notes.set_device(device);
        }
        device.map(Device).ok_or_else(|| unauthorized("bad_token", "unknown or revoked token"))
    }
}
