//! The operations, laid out like Graph's URL tree:
//! - [`configurations`] — `/deviceManagement/deviceEnrollmentConfigurations[/{id}]`
//! - [`assignments`] — `…/{id}/assignments[/{assignmentId}]`
//! - [`actions`] — `…/{id}/assign`, `…/{id}/setPriority`,
//!   `…/createEnrollmentNotificationConfiguration`, `…/hasPayloadLinks`
//!
//! Each handler extracts, calls the domain, shapes the response; nothing more.

pub mod actions;
pub mod assignments;
pub mod configurations;

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Map, Value};

use crate::layer::JSON;

/// A JSON response with Graph's content type.
pub fn json(status: StatusCode, body: &Value) -> Response {
    json_bytes(status, serde_json::to_vec(body).unwrap_or_default().into())
}

/// A JSON response of already serialised bytes.
pub fn json_bytes(status: StatusCode, body: bytes::Bytes) -> Response {
    (status, [(http::header::CONTENT_TYPE, JSON)], body).into_response()
}

/// `{"@odata.context": …}` followed by the entity's properties.
pub fn with_context(context: String, entity: Map<String, Value>) -> Value {
    let mut out = Map::with_capacity(entity.len() + 1);
    out.insert("@odata.context".into(), Value::String(context));
    out.extend(entity);
    Value::Object(out)
}

/// 204 No Content.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// A `/$count` answer: the number as plain text.
pub fn count(n: usize) -> Response {
    (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, "text/plain;charset=utf-8")],
        n.to_string(),
    )
        .into_response()
}
