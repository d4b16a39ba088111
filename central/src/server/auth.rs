//! Bearer tokens: every route needs one, checked before the body is read,
//! and each route takes only the roles that need it (central/src/roles.rs).
//!
//! A handler names what it needs by its extractor: [`Device`] (a device's
//! sync), [`Reviewer`] (supervisors and researchers), [`Exporter`]
//! (researchers and admins: the data), [`Admin`], or [`Caller`] (any valid
//! token, for handlers that decide themselves). An unknown or revoked token
//! is 401 `bad_token`; a valid token of a role that may not is 403
//! `forbidden_role`, naming the roles that may.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

use super::AppState;
use super::observe::Notes;
use super::reply::ApiError;
use super::routes::blocking;
use crate::roles::{Permission, Principal, Role};

/// The device id of the request's device token.
#[derive(Debug, Clone)]
pub(crate) struct Device(pub String);

/// Any valid token, whatever its role.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub Principal);

/// A token that may review: a supervisor (within its scope, which the
/// handler checks per response) or a researcher.
#[derive(Debug, Clone)]
pub(crate) struct Reviewer(pub Principal);

/// A token that may read and export the data: a researcher or an admin.
#[derive(Debug, Clone)]
#[allow(dead_code, reason = "taken by the review routes and the data API (issues 17, 19)")]
pub(crate) struct Exporter(pub Principal);

/// An admin's token.
#[derive(Debug, Clone)]
#[allow(dead_code, reason = "taken by the review routes and the data API (issues 17, 19)")]
pub(crate) struct Admin(pub Principal);

/// Longer than any token central makes; refused before any lookup.
const MAX_TOKEN: usize = 256;

/// The principal of the request's bearer token (401 when there is none).
async fn authenticate(parts: &Parts, state: &Arc<AppState>) -> Result<Principal, ApiError> {
    let unauthorized = |code, message: &str| ApiError::new(StatusCode::UNAUTHORIZED, code, message);
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized(
            "missing_token",
            "no Authorization: Bearer token; each device and person needs their own \
             (`enumera central --db C.db token create --role ROLE ...`)",
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN)
        .ok_or_else(|| unauthorized("bad_token", "the Authorization header is not `Bearer TOKEN`"))?
        .to_owned();
    let state = state.clone();
    let principal = blocking(move || {
        state.readers.with(&state, |c| c.principal(&token).map_err(ApiError::from))
    })
    .await?;
    // The request's log line names who made it (a device id, or the
    // person a supervisor's or researcher's token was made for).
    if let (Some(p), Some(notes)) = (&principal, parts.extensions.get::<Notes>()) {
        notes.set_device(&p.subject);
    }
    principal.ok_or_else(|| unauthorized("bad_token", "unknown or revoked token"))
}

/// 403 unless the principal's role may do `what`.
fn require(principal: Principal, what: Permission) -> Result<Principal, ApiError> {
    if principal.can(what) {
        return Ok(principal);
    }
    Err(crate::CentralError::Forbidden {
        role: principal.role,
        action: what.describe(),
        allowed: Role::allowed(what),
    }
    .into())
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await.map(Caller)
    }
}

impl FromRequestParts<Arc<AppState>> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let principal = require(authenticate(parts, state).await?, Permission::Sync)?;
        Ok(Device(principal.subject))
    }
}

impl FromRequestParts<Arc<AppState>> for Reviewer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        require(authenticate(parts, state).await?, Permission::Review).map(Reviewer)
    }
}

impl FromRequestParts<Arc<AppState>> for Exporter {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        require(authenticate(parts, state).await?, Permission::Export).map(Exporter)
    }
}

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let principal = authenticate(parts, state).await?;
        if principal.role == Role::Admin {
            return Ok(Admin(principal));
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_role",
            format!("this needs an admin token; this one is a {}'s", principal.role),
        ))
    }
}
