//! What every Graph request needs before it reaches an operation.

use auth::{Access, Principal};
use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;

use crate::error::{Code, GraphError};
use crate::AppState;

const WWW_AUTHENTICATE: &str = r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#;

fn unauthorized(message: &str) -> GraphError {
    GraphError::new(Code::InvalidAuthenticationToken, message)
        .with_header(http::header::WWW_AUTHENTICATE, WWW_AUTHENTICATE)
}

/// Verifies the bearer token (401 if it is missing or unacceptable).
pub fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, GraphError> {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    let token = match value.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
            t.trim()
        }
        _ if value.is_empty() => return Err(unauthorized("Access token is empty.")),
        _ => return Err(unauthorized(
            "Access token validation failure: the Authorization header must be 'Bearer <token>'.",
        )),
    };
    let principal = state.keys.verify(token).map_err(|e| match e {
        auth::AuthError::InvalidToken(m) => {
            unauthorized(&format!("Access token validation failure. {m}"))
        }
        other => {
            tracing::error!(error = %other, "token verification failed");
            unauthorized("Access token validation failure.")
        }
    })?;
    Ok(principal)
}

/// Checks that the token grants `access` (403 if not).
pub fn require(principal: &Principal, access: Access) -> Result<(), GraphError> {
    if !principal.allows(access) {
        let needed = access.accepted().join(", ");
        return Err(GraphError::new(
            Code::Forbidden,
            format!(
                "The token does not grant a permission this operation needs; one of: {needed}."
            ),
        ));
    }
    Ok(())
}

/// Parses a JSON request body: a JSON content type is required (415), the body must parse (400).
pub fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<Value, GraphError> {
    let ct = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if body.is_empty() {
        return Err(GraphError::bad_request(
            "The request body is empty: a JSON object is required.",
        ));
    }
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(GraphError::new(
            Code::UnsupportedMediaType,
            format!("The content type '{ct}' is not supported: send the body as application/json."),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        GraphError::bad_request(format!(
            "The request body is not valid JSON: {e} (line {}, column {}).",
            e.line(),
            e.column()
        ))
    })
}
