//! Error replies: a status and an `ErrorReply` JSON body that says what to
//! do. Every error the server sends has this shape (docs/HTTP.md), and none
//! carries a file path or other internals (issue 15, finding 11): when
//! central itself fails, the reply says so in general terms and the detail
//! goes to the server's log (stderr).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use enumera_core::remote::api::ErrorReply;

use crate::{CentralError, IngestError, QuotaKind};

#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for `Retry-After` (503, 429).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), retry_after: None }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A failure of central's own (not of the request): the detail, which
    /// may name files, goes to the log; the client is told to retry.
    pub fn internal_logged(detail: String) -> Self {
        tracing::error!(target: "enumera::http", detail, "internal error");
        Self::internal("central failed to handle this request; try again later")
    }

    /// A failure of central's own, with a message fit for the client.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "central_error", message)
    }

    fn busy() -> Self {
        ApiError {
            retry_after: Some(5),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "central's database is busy (another program is writing to it); try again shortly",
            )
        }
    }
}

impl From<CentralError> for ApiError {
    fn from(e: CentralError) -> Self {
        match e {
            CentralError::UnknownDevice { .. } => ApiError::not_found(e.to_string()),
            CentralError::Unauthorized => {
                ApiError::new(StatusCode::UNAUTHORIZED, "bad_token", "unknown or revoked token")
            }
            CentralError::Forbidden { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden_role", e.to_string())
            }
            CentralError::OutOfScope { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "out_of_scope", e.to_string())
            }
            CentralError::NotReviewerKey { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "not_reviewer_key", e.to_string())
            }
            CentralError::NotReviewable { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "not_reviewable", e.to_string())
            }
            CentralError::BadReview { .. } => {
                ApiError::new(StatusCode::CONFLICT, "bad_review", e.to_string())
            }
            // Well formed, but no place in this store's order (another
            // store's shape): names nothing, as an unknown id does.
            CentralError::BadCursor => ApiError::not_found(e.to_string()),
            CentralError::BadAssignment { .. } => {
                ApiError::new(StatusCode::CONFLICT, "bad_assignment", e.to_string())
            }
            CentralError::AssignOutOfScope { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "out_of_scope", e.to_string())
            }
            CentralError::NoSuchAssignment { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "no_such_assignment", e.to_string())
            }
            e if e.is_busy() => {
                tracing::warn!(target: "enumera::http", detail = %e, "database busy");
                ApiError::busy()
            }
            e => ApiError::internal_logged(e.to_string()),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        let status = match &e {
            IngestError::Central(_) => match e {
                IngestError::Central(e) => return e.into(),
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            // Reading the spooled upload failed: central's trouble.
            IngestError::Bundle(enumera_core::bundle::BundleError::Io { .. }) => {
                return ApiError::internal_logged(e.to_string());
            }
            // The bundle is sound but its signer may not deliver here.
            IngestError::UnknownDevice { .. } | IngestError::DeviceKeyMismatch { .. } => {
                StatusCode::FORBIDDEN
            }
            IngestError::Quota { kind: QuotaKind::ResponsesPerBundle, .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            IngestError::Quota { .. } => StatusCode::TOO_MANY_REQUESTS,
            IngestError::Bundle(_) => StatusCode::BAD_REQUEST,
        };
        let mut reply = ApiError::new(status, e.code(), e.to_string());
        if status == StatusCode::TOO_MANY_REQUESTS {
            reply.retry_after = Some(3600);
        }
        reply
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorReply { error: self.code.into(), message: self.message };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
