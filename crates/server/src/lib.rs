//! # enrollgraph (server): configuration, start-up and the CLI's building blocks
//!
//! ## Layout
//! - [`Settings`]: everything `serve` can be told, each also an environment variable.
//! - [`build_state`]: opens the data dir (signing key, database) and builds the service.
//! - [`launch`]: serves the router on a listener until the shutdown future resolves, letting
//!   in-flight requests finish. Tests call it with a listener bound on port 0.
//! - [`default_tenant`]: the tenant id kept in the data dir for dev tokens.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use api::{ApiSettings, AppState, Fidelity};

/// Settings of a server.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; by default `enrollgraph.db` in the data dir.
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    /// PEM public keys whose tokens are trusted besides the server's own.
    pub trusted_keys: Vec<PathBuf>,
    pub max_body_bytes: usize,
    pub fidelity: Fidelity,
    /// Pool size and timeouts of the database.
    pub database: store::Options,
    /// Default and largest page size of collections.
    pub paging: api::QuerySettings,
    /// Refuse requests over Intune's published limits with 429 (off by default).
    pub throttle: bool,
    /// Responses of configuration reads kept until the next commit (0 keeps none).
    pub read_cache: usize,
    /// Where the signing key comes from; by default `signing-key.pem` in the data dir,
    /// created on first start.
    pub signing_key: SigningKey,
}

/// The source of the token signing key. Several nodes that must accept each other's tokens
/// are given the same key.
#[derive(Debug, Clone, Default)]
pub enum SigningKey {
    /// `signing-key.pem` in the data dir, created if absent.
    #[default]
    DataDir,
    /// A PEM file (refused if readable by group or others).
    File(PathBuf),
    /// PEM text, e.g. from an environment variable.
    Pem(String),
}

impl SigningKey {
    /// Loads the keys.
    pub fn load(&self, data_dir: &Path) -> Result<auth::Keys, auth::AuthError> {
        match self {
            SigningKey::DataDir => auth::Keys::load_or_create(data_dir),
            SigningKey::File(p) => auth::Keys::load_file(p),
            SigningKey::Pem(pem) => auth::Keys::from_pem(pem),
        }
    }
}

impl Settings {
    /// Defaults for a data dir.
    pub fn new(data_dir: impl Into<PathBuf>) -> Settings {
        Settings {
            data_dir: data_dir.into(),
            database_url: None,
            public_url: None,
            trusted_keys: Vec::new(),
            max_body_bytes: ApiSettings::default().max_body_bytes,
            fidelity: Fidelity::Service,
            database: store::Options::default(),
            signing_key: SigningKey::DataDir,
            paging: api::QuerySettings::default(),
            throttle: false,
            read_cache: 4096,
        }
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.join("enrollgraph.db").display()
            )
        })
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] store::OpenError),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error(transparent)]
    Schema(#[from] edm::EdmError),
    #[error("{0}: {1}")]
    File(PathBuf, std::io::Error),
}

/// Opens the data dir and builds the shared state.
pub fn build_state(settings: &Settings) -> Result<Arc<AppState>, StartError> {
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| StartError::File(settings.data_dir.clone(), e))?;
    let models = Arc::new(edm::Models::load()?);
    let store = store::open(&settings.database_url(), &settings.database)?;
    let mut keys = settings.signing_key.load(&settings.data_dir)?;
    for path in &settings.trusted_keys {
        let pem = std::fs::read(path).map_err(|e| StartError::File(path.clone(), e))?;
        keys.trust_pem(&pem)?;
    }
    Ok(Arc::new(AppState {
        throttle: api::throttle::Throttle::new(
            settings.throttle.then(api::throttle::Limits::default),
        ),
        service: domain::Service::new(store, models),
        responses: api::cache::ResponseCache::new(settings.read_cache),
        keys,
        settings: ApiSettings {
            public_url: settings.public_url.clone(),
            max_body_bytes: settings.max_body_bytes,
            fidelity: settings.fidelity,
            paging: settings.paging,
        },
    }))
}

/// Serves plain HTTP until `shutdown` resolves; in-flight requests finish first.
pub async fn launch(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    launch_with(state, listener, shutdown, Edge::Plain).await
}

/// How the listener speaks to clients.
#[derive(Clone)]
pub enum Edge {
    /// Plain HTTP.
    Plain,
    /// HTTPS with the local CA's certificate.
    Tls(Arc<edge::LocalCa>),
    /// Plain HTTP that also answers `CONNECT` for the Graph and login hosts (TLS terminated
    /// with the local CA's certificate).
    Proxy(Arc<edge::LocalCa>),
}

/// Serves until `shutdown` resolves, as `edge` says; in-flight requests finish first.
pub async fn launch_with(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    mode: Edge,
) -> std::io::Result<()> {
    let router = api::router(state);
    let config = |ca: &edge::LocalCa| ca.server_config().map_err(std::io::Error::other);
    match mode {
        Edge::Plain => {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Edge::Tls(ca) => edge::serve_tls(listener, router, config(&ca)?, shutdown).await,
        Edge::Proxy(ca) => {
            axum::serve(listener, edge::proxy(router, config(&ca)?))
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}

/// The local CA of a data dir (created on first use), for `--tls`, `--proxy` and
/// `enrollgraph ca`.
pub fn local_ca(data_dir: &Path) -> Result<edge::LocalCa, edge::EdgeError> {
    edge::LocalCa::load_or_create(&data_dir.join("tls"))
}

/// The tenant id kept in the data dir (created on first use).
pub fn default_tenant(data_dir: &Path) -> Result<domain::TenantId, StartError> {
    let path = data_dir.join("tenant-id");
    let io = |e| StartError::File(path.clone(), e);
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Some(t) = domain::TenantId::parse(text.trim()) {
            return Ok(t);
        }
    }
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let fresh = uuid_v4();
    std::fs::write(&path, format!("{fresh}\n")).map_err(io)?;
    domain::TenantId::parse(&fresh)
        .ok_or_else(|| StartError::File(path.clone(), std::io::Error::other("bad tenant id")))
}

fn uuid_v4() -> String {
    // The tenant id only needs to be unique; reuse the domain's GUID source.
    domain::record::new_guid()
}
