//! Assignments over HTTP (issue 17, item 5): admins and supervisors
//! (within their scope) list, make, revoke and reassign; a device reports
//! what it has started and gets its signed assignments file. Role and
//! scope are checked by central ([`crate::assign`]), the command line's
//! rules.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use enumera_core::review::AssignmentsRequest;

use super::AppState;
use super::auth::{Caller, Device};
use super::reply::ApiError;
use super::routes::{blocking, lock, segment};
use crate::assign::{Assignment, AssignmentFilter, NewAssignment, Target};

fn bad(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

/// `GET /v1/assignments` query: every field narrows; `all=true` lists
/// revoked and reassigned ones too.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    form: Option<String>,
    round: Option<i64>,
    district: Option<String>,
    device: Option<String>,
    enumerator: Option<String>,
    participant: Option<String>,
    #[serde(default)]
    all: bool,
}

pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<Assignment>>, ApiError> {
    let Query(q) = query.map_err(|e| bad("bad_query", e.body_text()))?;
    let filter = AssignmentFilter {
        form_id: q.form,
        round: q.round,
        district: q.district,
        device: q.device,
        enumerator: q.enumerator,
        participant: q.participant,
        include_ended: q.all,
    };
    Ok(Json(
        blocking(move || state.readers.with(&state, |c| Ok(c.assignments(Some(&who), &filter)?)))
            .await?,
    ))
}

/// `POST /v1/assignments/new`: a [`NewAssignment`]; all or none.
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    body: Bytes,
) -> Result<Json<Vec<Assignment>>, ApiError> {
    let new: NewAssignment =
        serde_json::from_slice(&body).map_err(|e| bad("bad_assignment", e.to_string()))?;
    Ok(Json(blocking(move || Ok(lock(&state).assign(Some(&who), &new)?)).await?))
}

pub(crate) async fn revoke(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Assignment>, ApiError> {
    let id = segment(id)?;
    Ok(Json(blocking(move || Ok(lock(&state).revoke_assignment(Some(&who), &id)?)).await?))
}

/// `POST /v1/assignments/{id}/reassign`: `{"device": ID}` or
/// `{"enumerator": NAME}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReassignBody {
    device: Option<String>,
    enumerator: Option<String>,
}

pub(crate) async fn reassign(
    State(state): State<Arc<AppState>>,
    Caller(who): Caller,
    id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<Assignment>, ApiError> {
    let id = segment(id)?;
    let body: ReassignBody =
        serde_json::from_slice(&body).map_err(|e| bad("bad_assignment", e.to_string()))?;
    let target = match (body.device, body.enumerator) {
        (Some(d), None) => Target::Device(d),
        (None, Some(e)) => Target::Enumerator(e),
        _ => {
            return Err(bad(
                "bad_assignment",
                "give exactly one of \"device\" or \"enumerator\"".into(),
            ));
        }
    };
    Ok(Json(blocking(move || Ok(lock(&state).reassign(Some(&who), &id, &target)?)).await?))
}

/// `POST /v1/assignments` by a device: what it has done of its
/// assignments in, its signed assignments file out.
pub(crate) async fn for_device(
    State(state): State<Arc<AppState>>,
    Device(device): Device,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: AssignmentsRequest = if body.is_empty() {
        AssignmentsRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| bad("bad_request", e.to_string()))?
    };
    let file = blocking(move || Ok(lock(&state).assignments_for(&device, &request)?.file)).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], file).into_response())
}
