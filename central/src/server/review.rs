//! Review over HTTP (issue 17): reviewers list, read and act on responses;
//! devices fetch their returns. Role and scope are checked by central
//! ([`crate::review`]), the same rules as the command line.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use enumera_core::review::{ReviewState, SignedAction};

use super::AppState;
use super::auth::{Caller, Device, Reviewer};
use super::reply::ApiError;
use super::routes::{blocking, lock, segment};
use crate::review::{ProgressRow, ReviewDetail, ReviewFilter, ReviewItem, ReviewOutcome};

/// `GET /v1/review` query: every field narrows the list.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    form: Option<String>,
    round: Option<i64>,
    district: Option<String>,
    enumerator: Option<String>,
    device: Option<String>,
    state: Option<String>,
}

pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    Reviewer(who): Reviewer,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<ReviewItem>>, ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", m);
    let Query(q) = query.map_err(|e| bad(e.body_text()))?;
    let state_filter = match q.state.as_deref() {
        None => None,
        Some(s) => Some(ReviewState::parse(s).ok_or_else(|| {
            bad(format!("state {s:?}: use received, approved, rejected or has_issues"))
        })?),
    };
    let filter = ReviewFilter {
        form_id: q.form,
        round: q.round,
        district: q.district,
        enumerator: q.enumerator,
        device: q.device,
        state: state_filter,
    };
    Ok(Json(
        blocking(move || state.readers.with(&state, |c| Ok(c.review_list(&who, &filter)?))).await?,
    ))
}

pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Reviewer(who): Reviewer,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ReviewDetail>, ApiError> {
    let id = segment(id)?;
    Ok(Json(blocking(move || state.readers.with(&state, |c| Ok(c.review_show(&who, &id)?))).await?))
}

/// A signed review action file (`enumera-review-action/1`), signed with
/// the key of the token that sends it.
pub(crate) async fn act(
    State(state): State<Arc<AppState>>,
    Reviewer(who): Reviewer,
    body: Bytes,
) -> Result<Json<ReviewOutcome>, ApiError> {
    let action = SignedAction::verify_file(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_action", e.to_string()))?;
    Ok(Json(blocking(move || Ok(lock(&state).review(&who, &action)?)).await?))
}

/// The returns file for the token's device, exactly as signed.
pub(crate) async fn returns(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
) -> Result<Response, ApiError> {
    let file =
        blocking(move || state.readers.with(&state, |c| Ok(c.returns_for(&device)?.file))).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], file).into_response())
}

/// Progress by round, district and enumerator: supervisors (their
/// scope), researchers and admins.
pub(crate) async fn progress(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
) -> Result<Json<Vec<ProgressRow>>, ApiError> {
    Ok(Json(blocking(move || state.readers.with(&state, |c| Ok(c.progress(Some(&who))?))).await?))
}
