//! # api: the HTTP surface
//!
//! ## Layout
//! - [`router`]: the axum router: `/healthz`, `/{version}/$metadata`, and every Graph path,
//!   which [`dispatch`] resolves with [`odata::path`] and hands to one operation in [`routes`].
//! - [`batch`]: `$batch`, which sends each inner request through the same router.
//! - [`identity`]: the token endpoint (client credentials) and its discovery documents.
//! - [`layer`]: request ids, Graph's headers and the error envelope on every response.
//! - [`error`]: the table of Graph error codes.
//! - [`request`]: what every Graph request needs before it reaches an operation: the bearer
//!   token, the permission check, the JSON body.
//! - [`shape`]: stored items written as Graph JSON for one API version.
//! - [`query`]: query options per endpoint, page sizes, `@odata.nextLink` and the collection body.
//!
//! Flow of a request: layer → dispatch (version, path, auth) → routes::* (body, domain call)
//! → shape → layer.

pub mod batch;
pub mod cache;
pub mod dispatch;
pub mod error;
pub mod identity;
pub mod layer;
pub mod openapi;
pub mod query;
pub mod request;
pub mod routes;
pub mod shape;
pub mod throttle;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;

pub use query::QuerySettings;

/// A request extension set by the TLS front end: the request arrived over HTTPS, so the
/// absolute URLs written for it start with `https://`.
#[derive(Debug, Clone, Copy)]
pub struct Https;

/// How faithfully to follow the real service where it differs from the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fidelity {
    /// What the real service does (PATCH answers 204).
    #[default]
    Service,
    /// What the docs say (PATCH answers 200 with the entity).
    Docs,
}

/// Settings of the HTTP surface.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// The base URL written into absolute URLs (`@odata.context`, `Location`); when unset,
    /// the scheme and `Host` of each request.
    pub public_url: Option<String>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    pub fidelity: Fidelity,
    /// Default and largest page size of collections.
    pub paging: QuerySettings,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            public_url: None,
            max_body_bytes: 1024 * 1024,
            fidelity: Fidelity::Service,
            paging: QuerySettings::default(),
        }
    }
}

/// What handlers share.
pub struct AppState {
    pub service: domain::Service,
    pub keys: auth::Keys,
    pub settings: ApiSettings,
    /// Request counters for `--throttle`.
    pub throttle: throttle::Throttle,
    /// Responses of configuration reads, kept until the next commit.
    pub responses: cache::ResponseCache,
}

/// The router of the whole server, with the page sizes of its settings.
pub fn router(state: Arc<AppState>) -> Router {
    let paging = state.settings.paging;
    router_with(state, paging)
}

/// The router of the whole server, with the given page sizes.
pub fn router_with(state: Arc<AppState>, query: QuerySettings) -> Router {
    let graph = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/{tenant}/oauth2/v2.0/token",
            axum::routing::post(identity::token),
        )
        .route(
            "/{tenant}/oauth2/token",
            axum::routing::post(identity::token),
        )
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(identity::openid_configuration),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(identity::openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(identity::keys))
        .route("/{tenant}/discovery/keys", get(identity::keys))
        .route("/common/discovery/instance", get(identity::instance))
        .fallback(dispatch::graph)
        .with_state(state.clone())
        .layer(axum::Extension(query.normalized()))
        .layer(axum::middleware::from_fn(layer::graph_layer));
    let inner = graph.clone();
    Router::new()
        .route(
            "/{version}/$batch",
            axum::routing::any(
                move |axum::extract::Path(version): axum::extract::Path<String>, req| {
                    batch::handle(inner.clone(), state.clone(), version, req)
                },
            )
            .layer(axum::middleware::from_fn(layer::graph_layer)),
        )
        .merge(graph)
}
