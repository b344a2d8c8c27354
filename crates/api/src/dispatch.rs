//! Every Graph path enters here: the version segment, `$metadata`, the bearer token, the
//! resource path and the method pick exactly one operation in [`crate::routes`].

use std::sync::Arc;

use auth::{Access, Principal};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use edm::Version;
use http::{HeaderMap, Method, StatusCode};
use odata::path::{PathError, ResourcePath};

use crate::error::{Code, GraphError};
use crate::routes::{actions, assignments, configurations};
use crate::AppState;

/// What an operation gets besides its path parameters.
pub struct Ctx {
    pub state: Arc<AppState>,
    pub version: Version,
    pub principal: Principal,
    /// Public base URL, without a trailing slash.
    pub base: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub query: Query,
    /// The request's path as received (percent-encoded), for `@odata.nextLink`.
    pub path: String,
    /// Page sizes.
    pub paging: crate::QuerySettings,
}

impl Ctx {
    pub fn model(&self) -> &edm::Model {
        self.state.service.models().get(self.version)
    }

    pub fn context_url(&self, fragment: &str) -> String {
        odata::context::url(&self.base, self.version, fragment)
    }

    pub fn json(&self) -> Result<serde_json::Value, GraphError> {
        crate::request::json_body(&self.headers, &self.body)
    }
}

/// The query options of a request, `$` prefix normalised (beta accepts `filter=` for `$filter`),
/// names lowercased, values percent-decoded once. Reads check them against their endpoint's
/// capabilities with [`Ctx::options`]; writes and actions accept none.
#[derive(Debug, Default)]
pub struct Query {
    pub options: Vec<(String, String)>,
}

impl Query {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Refuses every system query option not in `allowed`.
    pub fn allow_only(&self, allowed: &[&str]) -> Result<(), GraphError> {
        for (k, _) in &self.options {
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(k)) {
                return Err(GraphError::bad_request(format!(
                    "The query option '{k}' is not supported by this request{}.",
                    if allowed.is_empty() {
                        String::new()
                    } else {
                        format!(" (supported: {})", allowed.join(", "))
                    }
                )));
            }
        }
        Ok(())
    }
}

const SYSTEM_OPTIONS: &[&str] = &[
    "filter",
    "select",
    "expand",
    "orderby",
    "top",
    "skip",
    "count",
    "search",
    "skiptoken",
    "format",
];

fn decode(s: &str) -> Result<String, GraphError> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| GraphError::bad_request("The URL is not valid UTF-8 after percent-decoding."))
}

fn parse_query(raw: Option<&str>, version: Version) -> Result<Query, GraphError> {
    let mut options = Vec::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode(&k.replace('+', " "))?;
        let v = decode(&v.replace('+', " "))?;
        let name = k.trim();
        let bare = name.strip_prefix('$').unwrap_or(name);
        let is_system = name.starts_with('$')
            || (version == Version::Beta
                && SYSTEM_OPTIONS.iter().any(|o| o.eq_ignore_ascii_case(bare)));
        if !is_system {
            continue; // custom query options are ignored, as Graph does
        }
        let canonical = format!("${}", bare.to_ascii_lowercase());
        if options.iter().any(|(k, _)| *k == canonical) {
            return Err(GraphError::bad_request(format!(
                "The query option '{canonical}' was specified more than once."
            )));
        }
        options.push((canonical, v));
    }
    Ok(Query { options })
}

fn base_url(state: &AppState, parts: &http::request::Parts) -> String {
    if let Some(u) = &state.settings.public_url {
        return u.trim_end_matches('/').to_owned();
    }
    let headers = &parts.headers;
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = if parts.extensions.get::<crate::Https>().is_some() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

fn access(path: &ResourcePath, method: &Method) -> Access {
    match path {
        _ if method == Method::GET => Access::Read,
        ResourcePath::CollectionOperation { operation } if operation == "hasPayloadLinks" => {
            Access::Read
        }
        _ => Access::Write,
    }
}

/// The fallback handler: every path but `/healthz`.
pub async fn graph(State(state): State<Arc<AppState>>, req: Request) -> Response {
    match handle(state, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle(state: Arc<AppState>, req: Request) -> Result<Response, GraphError> {
    let (parts, body) = req.into_parts();
    let raw: Vec<&str> = parts
        .uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .collect();
    let mut segments = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        if s.is_empty() && i > 0 {
            // A trailing slash, or `//` (Microsoft's SDKs join a base URL ending in `/` with a
            // path starting with `/`): empty segments are ignored, as Graph does.
            continue;
        }
        segments.push(decode(s)?);
    }
    let first = segments.first().map(String::as_str).unwrap_or("");
    let version = Version::from_segment(first).ok_or_else(|| {
        GraphError::new(Code::ResourceNotFound, format!("Invalid version: {first}"))
    })?;
    let rest = &segments[1..];
    if rest.len() == 1 && rest[0] == "openapi.json" {
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return Err(GraphError::method(&parts.method, &["GET"]));
        }
        let model = state.service.models().get(version);
        let doc = crate::openapi::document(model, &base_url(&state, &parts));
        return Ok(crate::routes::json(StatusCode::OK, &doc));
    }
    if rest.len() == 1 && rest[0] == "$metadata" {
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return Err(GraphError::method(&parts.method, &["GET"]));
        }
        let model = state.service.models().get(version);
        return Ok((
            StatusCode::OK,
            [(http::header::CONTENT_TYPE, "application/xml;charset=utf-8")],
            model.csdl(),
        )
            .into_response());
    }

    // 401 before anything else, as Graph's gateway does; 403 once the operation is known.
    let principal = crate::request::authenticate(&state, &parts.headers)?;
    if rest.is_empty() {
        return Err(GraphError::new(
            Code::ResourceNotFound,
            "No resource is served at the version root.",
        ));
    }
    let model = state.service.models().get(version);
    let path = odata::path::parse(model, rest).map_err(|e| match e {
        PathError::Segment(_) | PathError::Key(_) | PathError::NotServed(_) => {
            GraphError::bad_request(e.to_string())
        }
    })?;
    if let ResourcePath::Configuration { id, cast: None } = &path {
        // `POST …/deviceEnrollmentConfigurations/createEnrollmentNotificationConfiguration` in
        // v1.0 names an action only beta has: Graph reports the segment, not the method.
        let models = state.service.models();
        if parts.method == Method::POST
            && rest.last() == Some(id)
            && [&models.beta, &models.v1].iter().any(|m| {
                m.bound_operation(id, domain::service::CONFIGURATION, true)
                    .is_some()
            })
        {
            return Err(GraphError::segment(id));
        }
    }
    let allowed = allowed_methods(&path);
    if !allowed.iter().any(|m| *m == parts.method.as_str()) {
        return Err(GraphError::method(&parts.method, allowed));
    }
    crate::request::require(&principal, access(&path, &parts.method))?;
    let write = parts.method != Method::GET && parts.method != Method::HEAD;
    state
        .throttle
        .admit(principal.tenant.as_str(), principal.app_id.as_deref(), write)
        .map_err(|seconds| {
            GraphError::new(
                Code::TooManyRequests,
                "Too many requests: the tenant or application is over its request limit. Retry after the time given in Retry-After.",
            )
            .with_header(http::header::RETRY_AFTER, seconds.to_string())
        })?;
    let max = state.settings.max_body_bytes;
    if parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > max)
    {
        return Err(too_large(max));
    }
    let body = axum::body::to_bytes(Body::new(body), max)
        .await
        .map_err(|_| too_large(max))?;
    let query = parse_query(parts.uri.query(), version)?;
    let paging = parts
        .extensions
        .get::<crate::QuerySettings>()
        .copied()
        .unwrap_or_default();
    let ctx = Ctx {
        path: parts.uri.path().to_owned(),
        paging,
        base: base_url(&state, &parts),
        state: state.clone(),
        version,
        principal,
        headers: parts.headers,
        body,
        query,
    };
    let m = parts.method;
    match path {
        ResourcePath::Configurations { cast } if m == Method::GET => {
            configurations::list(ctx, cast).await
        }
        ResourcePath::Configurations { cast } => configurations::create(ctx, cast).await,
        ResourcePath::ConfigurationsCount { cast } => configurations::count(ctx, cast).await,
        ResourcePath::Configuration { id, cast } if m == Method::GET => {
            configurations::get(ctx, id, cast).await
        }
        ResourcePath::Configuration { id, cast } if m == Method::PATCH => {
            configurations::update(ctx, id, cast).await
        }
        ResourcePath::Configuration { id, cast } => configurations::delete(ctx, id, cast).await,
        ResourcePath::CollectionOperation { operation } => {
            actions::collection(ctx, &operation).await
        }
        ResourcePath::ConfigurationOperation { id, operation } => {
            actions::entity(ctx, id, &operation).await
        }
        ResourcePath::Assignments { configuration_id } if m == Method::GET => {
            assignments::list(ctx, configuration_id).await
        }
        ResourcePath::Assignments { configuration_id } => {
            assignments::create(ctx, configuration_id).await
        }
        ResourcePath::AssignmentsCount { configuration_id } => {
            assignments::count(ctx, configuration_id).await
        }
        ResourcePath::Assignment {
            configuration_id,
            id,
        } if m == Method::GET => assignments::get(ctx, configuration_id, id).await,
        ResourcePath::Assignment {
            configuration_id,
            id,
        } if m == Method::PATCH => assignments::update(ctx, configuration_id, id).await,
        ResourcePath::Assignment {
            configuration_id,
            id,
        } => assignments::delete(ctx, configuration_id, id).await,
    }
}

fn too_large(max: usize) -> GraphError {
    GraphError::new(
        Code::RequestEntityTooLarge,
        format!("The request body is larger than the limit of {max} bytes."),
    )
}

fn allowed_methods(path: &ResourcePath) -> &'static [&'static str] {
    match path {
        ResourcePath::Configurations { .. } | ResourcePath::Assignments { .. } => &["GET", "POST"],
        ResourcePath::ConfigurationsCount { .. } | ResourcePath::AssignmentsCount { .. } => {
            &["GET"]
        }
        ResourcePath::CollectionOperation { .. } | ResourcePath::ConfigurationOperation { .. } => {
            &["POST"]
        }
        ResourcePath::Configuration { .. } | ResourcePath::Assignment { .. } => {
            &["GET", "PATCH", "DELETE"]
        }
    }
}
