//! The response layer every Graph response passes through: request ids, Graph's headers, and
//! the error envelope.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::error::{Code, GraphError};

/// The content type Graph writes on JSON bodies.
pub const JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// The ids of one request, available to handlers as an extension.
#[derive(Debug, Clone)]
pub struct RequestIds {
    pub request_id: String,
    pub client_request_id: String,
}

fn error_date() -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::OffsetDateTime::now_utc()
        .format(f)
        .unwrap_or_default()
}

/// Writes the Graph error envelope for `err`.
pub fn envelope(err: &GraphError, ids: &RequestIds) -> Vec<u8> {
    let body = json!({
        "error": {
            "code": err.code.as_str(),
            "message": err.message,
            "innerError": {
                "date": error_date(),
                "request-id": ids.request_id,
                "client-request-id": ids.client_request_id
            }
        }
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Middleware: assigns the request ids, runs the request, and finishes the response.
pub async fn graph_layer(mut req: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = req
        .headers()
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map_or_else(|| request_id.clone(), str::to_owned);
    let ids = RequestIds {
        request_id,
        client_request_id,
    };
    req.extensions_mut().insert(ids.clone());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = std::time::Instant::now();
    let mut res = next.run(req).await;
    let status = res.status();
    // An error raised by a handler carries its GraphError; anything else axum produced on its
    // own (a 4xx/5xx with no envelope) is given one.
    let err = res.extensions_mut().remove::<GraphError>().or_else(|| {
        let is_json = res
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        (status.is_client_error() || status.is_server_error())
            .then_some(())
            .filter(|_| !is_json)
            .map(|_| fallback_error(status))
    });
    if let Some(err) = err {
        let body = envelope(&err, &ids);
        *res.body_mut() = Body::from(body);
        res.headers_mut().remove(http::header::CONTENT_LENGTH);
        res.headers_mut()
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(JSON));
        if status.is_server_error() {
            tracing::error!(%method, %path, %status, code = err.code.as_str(), request_id = %ids.request_id, "request failed");
        }
    }
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ids.request_id) {
        h.insert("request-id", v.clone());
    }
    if let Ok(v) = HeaderValue::from_str(&ids.client_request_id) {
        h.insert("client-request-id", v);
    }
    h.insert("odata-version", HeaderValue::from_static("4.0"));
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    h.insert(
        "x-ms-ags-diagnostic",
        HeaderValue::from_static(r#"{"ServerInfo":{"DataCenter":"local","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"enrollgraph"}}"#),
    );
    h.insert(
        "strict-transport-security",
        HeaderValue::from_static("max-age=31536000"),
    );
    tracing::info!(%method, %path, status = res.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, request_id = %ids.request_id, "request");
    res
}

fn fallback_error(status: StatusCode) -> GraphError {
    let code = match status.as_u16() {
        401 => Code::InvalidAuthenticationToken,
        403 => Code::Forbidden,
        404 => Code::ResourceNotFound,
        405 => Code::MethodNotAllowed,
        413 => Code::RequestEntityTooLarge,
        415 => Code::UnsupportedMediaType,
        503 => Code::ServiceUnavailable,
        s if s >= 500 => Code::InternalError,
        _ => Code::BadRequest,
    };
    GraphError::new(
        code,
        status.canonical_reason().unwrap_or("The request failed."),
    )
}
