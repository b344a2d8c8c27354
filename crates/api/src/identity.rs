//! The token endpoint, for tools that get their tokens from Microsoft Entra: OAuth 2.0 client
//! credentials with the applications registered by `enrollgraph app add`, and the discovery
//! documents MSAL-based libraries read first.
//!
//! - `POST /{tenant}/oauth2/v2.0/token` (`scope=https://graph.microsoft.com/.default`) and the
//!   v1 form `POST /{tenant}/oauth2/token` (`resource=https://graph.microsoft.com`);
//! - `GET /{tenant}/v2.0/.well-known/openid-configuration` (and the v1 path);
//! - `GET /{tenant}/discovery/v2.0/keys` (and `/discovery/keys`): the JWKS of the signing key;
//! - `GET /common/discovery/instance`: MSAL's instance discovery.
//!
//! Errors have Entra's shape (`error`, `error_description` with an `AADSTS` code,
//! `error_codes`, `timestamp`, `trace_id`, `correlation_id`) and status.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use domain::TenantId;
use http::StatusCode;
use serde_json::{json, Value};

use crate::AppState;

/// Lifetime of issued tokens, in seconds.
pub const TOKEN_LIFETIME: i64 = 3599;

const GRAPH_RESOURCES: &[&str] = &[
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
    "00000003-0000-0000-c000-000000000000",
];

fn base(req_parts: &http::request::Parts, state: &AppState) -> String {
    let _ = state;
    let host = req_parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
        })
        .unwrap_or("login.microsoftonline.com");
    let scheme = if req_parts.extensions.get::<crate::Https>().is_some() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(
            http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )],
        body.to_string(),
    )
        .into_response()
}

/// An error as Entra writes it.
fn oauth_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let trace = uuid::Uuid::new_v4().to_string();
    let correlation = uuid::Uuid::new_v4().to_string();
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    let now = time::OffsetDateTime::now_utc()
        .format(f)
        .unwrap_or_default();
    json_response(
        status,
        &json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {now}"),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}")
        }),
    )
}

fn tenant_not_found(tenant: &str) -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        90002,
        &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
    )
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration` and `…/.well-known/openid-configuration`.
pub async fn openid_configuration(
    State(state): State<Arc<AppState>>,
    Path(tenant): Path<String>,
    req: Request,
) -> Response {
    let (parts, _) = req.into_parts();
    let b = base(&parts, &state);
    let v2 = parts.uri.path().contains("/v2.0/");
    let (token, issuer) = if v2 {
        (
            format!("{b}/{tenant}/oauth2/v2.0/token"),
            format!("https://login.microsoftonline.com/{tenant}/v2.0"),
        )
    } else {
        (
            format!("{b}/{tenant}/oauth2/token"),
            format!("https://sts.windows.net/{tenant}/"),
        )
    };
    json_response(
        StatusCode::OK,
        &json!({
            "token_endpoint": token,
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "jwks_uri": format!("{b}/{tenant}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": issuer,
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": format!("{b}/{tenant}/oauth2/{}authorize", if v2 { "v2.0/" } else { "" }),
            "device_authorization_endpoint": format!("{b}/{tenant}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{b}/{tenant}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "roles", "scp", "appid"],
            "tenant_region_scope": "WW",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com"
        }),
    )
}

/// `GET /{tenant}/discovery/v2.0/keys`: the JWKS of the signing key.
pub async fn keys(State(state): State<Arc<AppState>>) -> Response {
    json_response(StatusCode::OK, &state.keys.jwks())
}

/// `GET /common/discovery/instance`: MSAL's instance discovery.
pub async fn instance(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let b = base(&parts, &state);
    json_response(
        StatusCode::OK,
        &json!({
            "tenant_discovery_endpoint": format!("{b}/common/v2.0/.well-known/openid-configuration"),
            "api-version": "1.1",
            "metadata": [{
                "preferred_network": "login.microsoftonline.com",
                "preferred_cache": "login.windows.net",
                "aliases": ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"]
            }]
        }),
    )
}

/// `POST /{tenant}/oauth2/v2.0/token` and `POST /{tenant}/oauth2/token`.
pub async fn token(
    State(state): State<Arc<AppState>>,
    Path(tenant_segment): Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let v2 = parts.uri.path().contains("/v2.0/");
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body is too large.",
        );
    };
    let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must be application/x-www-form-urlencoded.",
        );
    };
    let param = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };

    // client_secret_basic: credentials in the Authorization header.
    let basic = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())));

    match param("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'; enrollgraph issues tokens for client_credentials only."),
            )
        }
        None => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        }
    }
    let (client_id, secret) = match (param("client_id"), param("client_secret"), &basic) {
        (_, _, Some((u, p))) => (u.clone(), Some(p.clone())),
        (Some(c), s, None) => (c.to_owned(), s.map(str::to_owned)),
        (None, _, None) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        }
    };
    if v2 {
        let scope = param("scope").unwrap_or("");
        let ok = scope.split_whitespace().all(|s| {
            GRAPH_RESOURCES
                .iter()
                .any(|r| s.eq_ignore_ascii_case(&format!("{}/.default", r.trim_end_matches('/'))))
        });
        if scope.trim().is_empty() || !ok {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                &format!("The provided value for scope '{scope}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (https://graph.microsoft.com/.default)."),
            );
        }
    } else {
        let resource = param("resource").unwrap_or("");
        if !GRAPH_RESOURCES
            .iter()
            .any(|r| r.eq_ignore_ascii_case(resource))
        {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                500011,
                &format!("The resource principal named '{resource}' was not found in the tenant. enrollgraph issues tokens for https://graph.microsoft.com only."),
            );
        }
    }
    let Some(tenant) = TenantId::parse(&tenant_segment) else {
        return tenant_not_found(&tenant_segment);
    };
    let apps = match state.service.list_apps(&tenant).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "token endpoint: cannot read applications");
            return oauth_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                90033,
                "A transient error has occurred. Please try again.",
            );
        }
    };
    if apps.is_empty() {
        return tenant_not_found(&tenant_segment);
    }
    let Some(app) = apps
        .into_iter()
        .find(|a| a.client_id.eq_ignore_ascii_case(&client_id))
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant."),
        );
    };
    const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    match (
        param("client_assertion"),
        param("client_assertion_type"),
        secret,
    ) {
        (Some(assertion), Some(JWT_BEARER), _) => {
            let Some(certificate) = app.certificate.as_deref() else {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", 700027, &format!("Client assertion failed signature validation: no certificate is registered for app '{}'.", app.client_id));
            };
            // The assertion is addressed to the token endpoint, as the client reached it or
            // under its public name.
            let here = format!("{}{}", base(&parts, &state), parts.uri.path());
            let audiences = vec![
                here,
                format!("https://login.microsoftonline.com/{tenant_segment}/oauth2/v2.0/token"),
                format!("https://login.microsoftonline.com/{tenant_segment}/oauth2/token"),
            ];
            if let Err(why) =
                auth::assertion::verify(assertion, certificate, &app.client_id, &audiences)
            {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    700027,
                    &format!("Client assertion failed signature validation: {why}."),
                );
            }
        }
        (Some(_), _, _) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                700024,
                &format!("The client_assertion_type must be '{JWT_BEARER}'."),
            );
        }
        (None, _, Some(secret)) => {
            let ok = app
                .secret_hash
                .as_deref()
                .is_some_and(|h| auth::secret::verify(&secret, h));
            if !ok {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.", app.client_id),
                );
            }
        }
        (None, _, None) => {
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
        }
    }
    let claims = auth::app_claims(&tenant, &app.client_id, &app.roles, TOKEN_LIFETIME);
    let (nbf, exp) = (claims.nbf, claims.exp);
    let access_token = match state.keys.mint(&claims) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "token endpoint: cannot sign");
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                90033,
                "The token could not be issued.",
            );
        }
    };
    tracing::info!(%tenant, client_id = %app.client_id, "issued an application token");
    let body = if v2 {
        json!({
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "ext_expires_in": TOKEN_LIFETIME,
            "access_token": access_token
        })
    } else {
        json!({
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME.to_string(),
            "ext_expires_in": TOKEN_LIFETIME.to_string(),
            "expires_on": exp.to_string(),
            "not_before": nbf.to_string(),
            "resource": "https://graph.microsoft.com",
            "access_token": access_token
        })
    };
    json_response(StatusCode::OK, &body)
}
