//! Graph's error envelope, and the one table of error codes it is built from.
//!
//! Handlers return [`GraphError`]; the response layer ([`crate::layer`]) writes the envelope
//! `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}` with
//! the request's ids, so every error, axum's own included, has the same shape.

use axum::response::{IntoResponse, Response};
use domain::{DomainError, StoreError};
use http::StatusCode;

/// Every error code enrollgraph sends, with its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// 400: the request is malformed or breaks a rule.
    BadRequest,
    /// 401: no usable bearer token.
    InvalidAuthenticationToken,
    /// 403: the token lacks the permission the operation needs.
    Forbidden,
    /// 404: no such item (or version segment).
    ResourceNotFound,
    /// 405: the resource exists but not with this method.
    MethodNotAllowed,
    /// 413: the body exceeds the configured limit.
    RequestEntityTooLarge,
    /// 415: the body is not JSON.
    UnsupportedMediaType,
    /// 424: in `$batch`, a request this one depends on failed.
    FailedDependency,
    /// 429: over the published request limits (`--throttle`); retry after `Retry-After`.
    TooManyRequests,
    /// 500: a fault of enrollgraph's; details are logged, never sent.
    InternalError,
    /// 503: the database is unavailable; retry after a moment.
    ServiceUnavailable,
}

impl Code {
    pub fn status(self) -> StatusCode {
        match self {
            Code::BadRequest => StatusCode::BAD_REQUEST,
            Code::InvalidAuthenticationToken => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::ResourceNotFound => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::RequestEntityTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::FailedDependency => StatusCode::FAILED_DEPENDENCY,
            Code::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Code::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            Code::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadRequest => "BadRequest",
            Code::InvalidAuthenticationToken => "InvalidAuthenticationToken",
            Code::Forbidden => "Forbidden",
            Code::ResourceNotFound => "ResourceNotFound",
            Code::MethodNotAllowed => "MethodNotAllowed",
            Code::RequestEntityTooLarge => "RequestEntityTooLarge",
            Code::UnsupportedMediaType => "UnsupportedMediaType",
            Code::FailedDependency => "FailedDependency",
            Code::TooManyRequests => "TooManyRequests",
            Code::InternalError => "InternalError",
            Code::ServiceUnavailable => "ServiceUnavailable",
        }
    }
}

/// An error on its way to the client.
#[derive(Debug, Clone)]
pub struct GraphError {
    pub code: Code,
    pub message: String,
    /// Extra headers (`Allow`, `WWW-Authenticate`, `Retry-After`).
    pub headers: Vec<(http::HeaderName, String)>,
}

impl GraphError {
    pub fn new(code: Code, message: impl Into<String>) -> GraphError {
        GraphError {
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> GraphError {
        GraphError::new(Code::BadRequest, message)
    }

    pub fn with_header(mut self, name: http::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 400 for a path segment that names nothing.
    pub fn segment(segment: &str) -> GraphError {
        GraphError::bad_request(format!("Resource not found for the segment '{segment}'."))
    }

    /// 405 with the methods that are allowed.
    pub fn method(method: &http::Method, allowed: &[&str]) -> GraphError {
        GraphError::new(
            Code::MethodNotAllowed,
            format!(
                "The HTTP method '{method}' is not allowed on this resource; allowed: {}.",
                allowed.join(", ")
            ),
        )
        .with_header(http::header::ALLOW, allowed.join(", "))
    }
}

impl From<DomainError> for GraphError {
    fn from(e: DomainError) -> GraphError {
        match e {
            DomainError::BadRequest(m) => GraphError::bad_request(m),
            DomainError::NotFound(m) => GraphError::new(Code::ResourceNotFound, m),
            DomainError::Forbidden(m) => GraphError::new(Code::Forbidden, m),
            DomainError::Store(StoreError::Unavailable(cause)) => {
                tracing::warn!(%cause, "storage unavailable");
                GraphError::new(
                    Code::ServiceUnavailable,
                    "The service is temporarily unavailable. Retry the request after the time given in Retry-After.",
                )
                .with_header(http::header::RETRY_AFTER, "2")
            }
            DomainError::Store(StoreError::Internal(cause)) => {
                tracing::error!(%cause, "storage failure");
                GraphError::new(Code::InternalError, "An internal server error occurred.")
            }
        }
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        // The body is written by the response layer, which knows the request's ids.
        let mut res = self.code.status().into_response();
        for (name, value) in &self.headers {
            if let Ok(v) = http::HeaderValue::from_str(value) {
                res.headers_mut().insert(name.clone(), v);
            }
        }
        res.extensions_mut().insert(self);
        res
    }
}
