//! # edge: HTTPS with a local CA, and the forward-proxy mode
//!
//! Tools that cannot be given another Graph URL reach enrollgraph as `graph.microsoft.com`
//! and `login.microsoftonline.com`: over HTTPS with certificates of a CA that enrollgraph
//! creates in its data dir (and users trust), either directly (`serve --tls`, with the names
//! pointed at enrollgraph) or through an HTTP proxy (`serve --proxy`, clients set
//! `HTTPS_PROXY`): a `CONNECT` to one of those two hosts is answered by enrollgraph itself,
//! which terminates TLS and serves the request. Any other destination is refused with 403:
//! there is no outside network to pass it to, and enrollgraph must never be an open proxy.
//!
//! ## Layout
//! - [`LocalCa`]: the CA (key readable by its owner only) and a server certificate for
//!   [`NAMES`], issued at each start.
//! - [`serve_tls`]: serves a router over TLS on a listener until shutdown.
//! - [`proxy`]: wraps a router so that it also accepts `CONNECT` for the two hosts.

use std::convert::Infallible;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// The names the server certificate is issued for.
pub const NAMES: &[&str] = &[
    "graph.microsoft.com",
    "login.microsoftonline.com",
    "localhost",
    "127.0.0.1",
];

/// The destinations a `CONNECT` may name.
pub const PROXIED: &[&str] = &["graph.microsoft.com:443", "login.microsoftonline.com:443"];

const CA_KEY: &str = "ca-key.pem";
const CA_CERT: &str = "ca-cert.pem";
const CA_NAME: &str = "enrollgraph local CA";

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    #[error("{0}: {1}")]
    File(PathBuf, std::io::Error),
    #[error("{0} is readable by others (mode {1:o}); run: chmod 600 {0}")]
    Exposed(PathBuf, u32),
    #[error("certificate: {0}")]
    Cert(#[from] rcgen::Error),
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
}

/// The local CA and the server certificate it issued.
pub struct LocalCa {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, CA_NAME);
    dn.push(DnType::OrganizationName, "enrollgraph");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    params
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<(), EdgeError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |e| EdgeError::File(path.to_owned(), e);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<(), EdgeError> {
    std::fs::write(path, text).map_err(|e| EdgeError::File(path.to_owned(), e))
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), EdgeError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|e| EdgeError::File(path.to_owned(), e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(EdgeError::Exposed(path.to_owned(), mode & 0o777));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), EdgeError> {
    Ok(())
}

impl LocalCa {
    /// Loads the CA from `dir` (creating it on first use) and issues a fresh server
    /// certificate for [`NAMES`].
    pub fn load_or_create(dir: &Path) -> Result<LocalCa, EdgeError> {
        std::fs::create_dir_all(dir).map_err(|e| EdgeError::File(dir.to_owned(), e))?;
        let key_path = dir.join(CA_KEY);
        let cert_path = dir.join(CA_CERT);
        let read =
            |p: &Path| std::fs::read_to_string(p).map_err(|e| EdgeError::File(p.to_owned(), e));
        let (ca_key, ca_pem) = if key_path.exists() && cert_path.exists() {
            check_private(&key_path)?;
            (KeyPair::from_pem(&read(&key_path)?)?, read(&cert_path)?)
        } else {
            let key = KeyPair::generate()?;
            let cert = ca_params().self_signed(&key)?;
            let _ = std::fs::remove_file(&key_path);
            write_private(&key_path, &key.serialize_pem())?;
            std::fs::write(&cert_path, cert.pem())
                .map_err(|e| EdgeError::File(cert_path.clone(), e))?;
            (key, cert.pem())
        };
        // The issuer needs only the CA's name and key: the leaf names the same subject and
        // key identifier as the stored CA certificate.
        let issuer = Issuer::new(ca_params(), ca_key);
        let mut leaf = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, NAMES[0]);
        leaf.distinguished_name = dn;
        leaf.subject_alt_names = NAMES
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => (*n).try_into().map(SanType::DnsName),
            })
            .collect::<Result<_, _>>()?;
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        leaf.not_before = now - time::Duration::days(1);
        leaf.not_after = now + time::Duration::days(397);
        let leaf_key = KeyPair::generate()?;
        let cert = leaf.signed_by(&leaf_key, &issuer)?;
        let ca_der = rustls::pki_types::pem::PemObject::from_pem_slice(ca_pem.as_bytes())
            .map_err(|e| EdgeError::Tls(rustls::Error::General(e.to_string())))?;
        Ok(LocalCa {
            chain: vec![cert.der().clone(), ca_der],
            key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
            ca_pem,
        })
    }

    /// The CA certificate (PEM), to be trusted by clients.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A rustls server configuration with the issued certificate (HTTP/1.1).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, EdgeError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                self.chain.clone(),
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Serves one TLS connection with `router`; requests carry the [`api::Https`] extension. With a
/// watcher, the connection closes gracefully (after its in-flight request) on shutdown.
async fn serve_connection<IO>(
    io: IO,
    router: Router,
    watcher: Option<hyper_util::server::graceful::Watcher>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = tower::service_fn(move |mut req: Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(api::Https);
        router.clone().oneshot(req.map(Body::new))
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder
        .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service))
        .into_owned();
    let result = match watcher {
        Some(w) => w.watch(conn).await,
        None => conn.await,
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "TLS connection ended");
    }
}

/// Serves `router` over TLS on `listener` until `shutdown` resolves; in-flight requests
/// finish first (for at most 30 seconds).
pub async fn serve_tls(
    listener: TcpListener,
    router: Router,
    config: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (tcp, _) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let router = router.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    match tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => serve_connection(tls, router, Some(watcher)).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), graceful.shutdown()).await;
    Ok(())
}

fn refuse(authority: &str) -> Response {
    (
        http::StatusCode::FORBIDDEN,
        [(http::header::CONTENT_TYPE, "text/plain;charset=utf-8")],
        format!(
            "enrollgraph proxies only {}; '{authority}' is refused.\n",
            PROXIED.join(" and ")
        ),
    )
        .into_response()
}

/// Wraps `router` so that it also acts as a forward proxy for the Graph and login hosts:
/// `CONNECT graph.microsoft.com:443` (or `login.microsoftonline.com:443`) is answered with
/// 200, then TLS is terminated with `config` and the tunnelled requests are served by
/// `router` itself. Every other `CONNECT`, and any absolute-form request (`GET http://…`),
/// is refused with 403.
pub fn proxy(router: Router, config: Arc<rustls::ServerConfig>) -> Router {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let inner = router.clone();
    let svc = tower::service_fn(move |req: Request| {
        let acceptor = acceptor.clone();
        let inner = inner.clone();
        async move { Ok::<_, Infallible>(handle_proxy(req, acceptor, inner).await) }
    });
    Router::new().fallback_service(svc)
}

async fn handle_proxy(
    req: Request,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
) -> Response {
    let authority = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_ascii_lowercase());
    if req.method() != http::Method::CONNECT {
        if let Some(a) = authority {
            // An absolute-form request: a plain-HTTP proxy request to somewhere else.
            tracing::warn!(destination = %a, "refused a proxy request");
            return refuse(&a);
        }
        return match router.oneshot(req).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
    }
    let Some(authority) = authority.filter(|a| PROXIED.contains(&a.as_str())) else {
        let shown = req.uri().to_string();
        tracing::warn!(destination = %shown, "refused a CONNECT");
        return refuse(&shown);
    };
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(req).await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "CONNECT upgrade failed");
                return;
            }
        };
        match acceptor.accept(TokioIo::new(upgraded)).await {
            Ok(tls) => serve_connection(tls, router, None).await,
            Err(e) => tracing::debug!(error = %e, %authority, "TLS handshake in the tunnel failed"),
        }
    });
    http::StatusCode::OK.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_created_once_and_its_key_kept_private() -> Result<(), EdgeError> {
        let dir = std::env::temp_dir().join(format!("eg-ca-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = LocalCa::load_or_create(&dir)?;
        let again = LocalCa::load_or_create(&dir)?;
        assert_eq!(first.ca_pem(), again.ca_pem());
        assert!(first.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(first.server_config().is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(CA_KEY))
                .map_err(|e| EdgeError::File(dir.clone(), e))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
