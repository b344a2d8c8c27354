//! `POST /{version}/$batch`: JSON batching.
//!
//! Each inner request is sent through the very same router as a standalone request (routing,
//! auth, validation, transaction, response layer): there is no second implementation of any
//! endpoint. Without `dependsOn` the requests run concurrently; with it, in the given order,
//! each after the requests it depends on, and one whose dependency failed answers 424.
//! Limits, as Graph: at most 20 requests; ids unique; a `body` needs a `Content-Type` header.

use std::collections::{HashMap, HashSet};

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{HeaderValue, Method, StatusCode};
use serde_json::{json, Map, Value};
use tower::ServiceExt;

use crate::error::{Code, GraphError};
use crate::routes::json;

/// Most requests in one batch.
pub const MAX_REQUESTS: usize = 20;

struct Inner {
    id: String,
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
    depends_on: Vec<String>,
}

fn parse(body: &Value) -> Result<Vec<Inner>, GraphError> {
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| GraphError::bad_request("The batch body must be {\"requests\": [ … ]}."))?;
    if requests.is_empty() {
        return Err(GraphError::bad_request("The batch has no requests."));
    }
    if requests.len() > MAX_REQUESTS {
        return Err(GraphError::bad_request(format!(
            "The batch has {} requests; at most {MAX_REQUESTS} are allowed.",
            requests.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        let field = |name: &str| {
            r.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    GraphError::bad_request(format!("requests[{i}] has no string '{name}'."))
                })
        };
        let id = field("id")?;
        if !seen.insert(id.clone()) {
            return Err(GraphError::bad_request(format!(
                "The batch has more than one request with id '{id}'."
            )));
        }
        let method =
            Method::from_bytes(field("method")?.to_ascii_uppercase().as_bytes()).map_err(|_| {
                GraphError::bad_request(format!("requests[{i}] has an invalid method."))
            })?;
        let url = field("url")?;
        if url.starts_with("http://") || url.starts_with("https://") {
            return Err(GraphError::bad_request(format!(
                "requests[{i}]: the url must be relative to the batch's version, e.g. /deviceManagement/deviceEnrollmentConfigurations."
            )));
        }
        let mut headers = Vec::new();
        if let Some(h) = r.get("headers") {
            let h = h.as_object().ok_or_else(|| {
                GraphError::bad_request(format!("requests[{i}].headers must be an object."))
            })?;
            for (k, v) in h {
                let v = v.as_str().ok_or_else(|| {
                    GraphError::bad_request(format!("requests[{i}].headers.{k} must be a string."))
                })?;
                headers.push((k.clone(), v.to_owned()));
            }
        }
        let body = r.get("body").filter(|b| !b.is_null()).cloned();
        if body.is_some()
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            return Err(GraphError::bad_request(format!(
                "requests[{i}] (id '{id}') has a body but no Content-Type header."
            )));
        }
        let depends_on = match r.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|d| {
                    d.as_str().map(str::to_owned).ok_or_else(|| {
                        GraphError::bad_request(format!("requests[{i}].dependsOn must list ids."))
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(GraphError::bad_request(format!(
                    "requests[{i}].dependsOn must be an array of ids."
                )))
            }
        };
        out.push(Inner {
            id,
            method,
            url,
            headers,
            body,
            depends_on,
        });
    }
    // Dependencies must name earlier requests (so the order given is a valid execution order).
    let mut earlier = HashSet::new();
    for r in &out {
        for d in &r.depends_on {
            if !earlier.contains(d) {
                return Err(GraphError::bad_request(format!(
                    "Request '{}' depends on '{d}', which is not an earlier request of the batch.",
                    r.id
                )));
            }
        }
        earlier.insert(r.id.clone());
    }
    Ok(out)
}

/// Runs one inner request through `router`.
async fn run(router: Router, version: &str, outer: &http::HeaderMap, r: &Inner) -> Value {
    let path = r.url.trim_start_matches('/');
    let uri = format!("/{version}/{path}");
    let mut builder = Request::builder().method(r.method.clone()).uri(&uri);
    // The batch's own credentials apply to every inner request.
    for name in [http::header::AUTHORIZATION, http::header::HOST] {
        if let Some(v) = outer.get(&name) {
            builder = builder.header(name, v.clone());
        }
    }
    for (k, v) in &r.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            builder = builder.header(name, value);
        }
    }
    let body = r
        .body
        .as_ref()
        .map(|b| match b {
            // A string body is sent as is (e.g. base64 or text); anything else as JSON.
            Value::String(s) => s.clone().into_bytes(),
            other => serde_json::to_vec(other).unwrap_or_default(),
        })
        .unwrap_or_default();
    let response = match builder.body(Body::from(body)) {
        Ok(req) => match router.oneshot(req).await {
            Ok(res) => res,
            Err(never) => match never {},
        },
        Err(_) => {
            GraphError::bad_request(format!("Request '{}' cannot be built.", r.id)).into_response()
        }
    };
    to_json(&r.id, response).await
}

async fn to_json(id: &str, res: Response) -> Value {
    let status = res.status().as_u16();
    let mut headers = Map::new();
    for (k, v) in res.headers() {
        if matches!(
            k.as_str(),
            "content-length" | "date" | "strict-transport-security" | "x-ms-ags-diagnostic"
        ) {
            continue;
        }
        if let Ok(v) = v.to_str() {
            headers.insert(k.as_str().to_owned(), Value::String(v.to_owned()));
        }
    }
    let is_json = res
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert("id".into(), Value::String(id.to_owned()));
    out.insert("status".into(), Value::from(status));
    out.insert("headers".into(), Value::Object(headers));
    if !bytes.is_empty() {
        let body = if is_json {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        } else {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        };
        out.insert("body".into(), body);
    }
    Value::Object(out)
}

fn failed_dependency(id: &str, dep: &str, ids: &crate::layer::RequestIds) -> Value {
    let err = GraphError::new(
        Code::FailedDependency,
        format!("The request it depends on ('{dep}') failed."),
    );
    let body: Value =
        serde_json::from_slice(&crate::layer::envelope(&err, ids)).unwrap_or(Value::Null);
    json!({
        "id": id,
        "status": err.code.status().as_u16(),
        "headers": {"content-type": crate::layer::JSON},
        "body": body
    })
}

/// The `$batch` handler. `router` is the Graph router without the batch route (batches do
/// not nest).
pub async fn handle(
    router: Router,
    state: std::sync::Arc<crate::AppState>,
    version: String,
    req: Request,
) -> Response {
    match handle_inner(router, &state, version, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle_inner(
    router: Router,
    state: &crate::AppState,
    version: String,
    req: Request,
) -> Result<Response, GraphError> {
    if edm::Version::from_segment(&version).is_none() {
        return Err(GraphError::new(
            Code::ResourceNotFound,
            format!("Invalid version: {version}"),
        ));
    }
    let (parts, body) = req.into_parts();
    let ids = parts
        .extensions
        .get::<crate::layer::RequestIds>()
        .cloned()
        .unwrap_or_else(|| crate::layer::RequestIds {
            request_id: String::new(),
            client_request_id: String::new(),
        });
    crate::request::authenticate(state, &parts.headers)?;
    if parts.method != Method::POST {
        return Err(GraphError::method(&parts.method, &["POST"]));
    }
    let max = state.settings.max_body_bytes;
    let bytes = axum::body::to_bytes(body, max).await.map_err(|_| {
        GraphError::new(
            Code::RequestEntityTooLarge,
            format!("The batch body is larger than the limit of {max} bytes."),
        )
    })?;
    let value = crate::request::json_body(&parts.headers, &bytes)?;
    let requests = parse(&value)?;
    let sequential = requests.iter().any(|r| !r.depends_on.is_empty());
    let responses: Vec<Value> = if sequential {
        let mut status: HashMap<String, u16> = HashMap::new();
        let mut out = Vec::with_capacity(requests.len());
        for r in &requests {
            let failed = r
                .depends_on
                .iter()
                .find(|d| status.get(*d).is_none_or(|s| *s >= 400));
            let v = match failed {
                Some(dep) => failed_dependency(&r.id, dep, &ids),
                None => run(router.clone(), &version, &parts.headers, r).await,
            };
            status.insert(r.id.clone(), v["status"].as_u64().unwrap_or(500) as u16);
            out.push(v);
        }
        out
    } else {
        futures::future::join_all(
            requests
                .iter()
                .map(|r| run(router.clone(), &version, &parts.headers, r)),
        )
        .await
    };
    Ok(json(StatusCode::OK, &json!({ "responses": responses })))
}
