//! Error replies: a status and an `ErrorReply` JSON body that says what to do.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use enumera_core::remote::api::ErrorReply;

use crate::{CentralError, IngestError};

#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "central_error", message)
    }
}

impl From<CentralError> for ApiError {
    fn from(e: CentralError) -> Self {
        match e {
            CentralError::UnknownDevice { .. } => ApiError::not_found(e.to_string()),
            e => ApiError::internal(e.to_string()),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        let status = match &e {
            IngestError::Central(_) => StatusCode::INTERNAL_SERVER_ERROR,
            // The bundle is sound but its signer may not deliver here.
            IngestError::UnknownDevice { .. } | IngestError::DeviceKeyMismatch { .. } => {
                StatusCode::FORBIDDEN
            }
            IngestError::Bundle(_) => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorReply { error: self.code.into(), message: self.message };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
