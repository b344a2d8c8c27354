//! `TestApp`: a real enrollgraph server on 127.0.0.1:0 with a fresh data dir, and a client.
//!
//! The backend is picked by `ENROLLGRAPH_TEST_BACKEND` (`sqlite`, the default, or `postgres`
//! with `ENROLLGRAPH_TEST_POSTGRES_URL`); every test gets its own database.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const TENANT: &str = "0f6d5ee9-2a3b-4c1d-9e8f-7a6b5c4d3e2f";
pub const OTHER_TENANT: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
pub const WRITE: &str = "DeviceManagementServiceConfig.ReadWrite.All";
pub const READ: &str = "DeviceManagementServiceConfig.Read.All";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub token: String,
    pub state: Arc<api::AppState>,
    pub settings: enrollgraph::Settings,
    pub dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a Graph error envelope with this status and code; returns the message.
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        let v = self.json();
        assert_eq!(v["error"]["code"], code, "body: {}", self.text);
        let inner = &v["error"]["innerError"];
        assert!(
            inner["request-id"].is_string() && inner["date"].is_string(),
            "{}",
            self.text
        );
        assert!(
            self.header("content-type")
                .unwrap_or("")
                .starts_with("application/json"),
            "error without a JSON content type"
        );
        v["error"]["message"].as_str().unwrap_or("").to_owned()
    }
}

/// An HTTP client. The tests' reqwest is built without a TLS provider of its own (the
/// workspace uses ring), so the provider is installed once before any client exists.
pub fn client() -> reqwest::Client {
    client_builder().build().expect("client")
}

/// A client builder with the TLS provider installed.
pub fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

pub fn settings_for(dir: &std::path::Path) -> enrollgraph::Settings {
    let mut s = enrollgraph::Settings::new(dir);
    s.database_url = Some(database_url(dir));
    s
}

/// The database URL of the backend under test.
pub fn database_url(dir: &std::path::Path) -> String {
    match std::env::var("ENROLLGRAPH_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            let base = std::env::var("ENROLLGRAPH_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            // One schema per test, named after the data dir.
            let schema = format!(
                "t_{}",
                dir.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("x")
                    .to_ascii_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            );
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-csearch_path%3D{schema}")
        }
        _ => format!("sqlite://{}", dir.join("enrollgraph.db").display()),
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let dir = tempfile::Builder::new()
            .prefix("eg")
            .tempdir()
            .expect("tempdir");
        let settings = settings_for(dir.path());
        TestApp::spawn_with(dir, settings).await
    }

    pub async fn spawn_with(dir: tempfile::TempDir, settings: enrollgraph::Settings) -> TestApp {
        let state = enrollgraph::build_state(&settings).expect("server state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let s = state.clone();
        let handle = tokio::spawn(async move {
            let _ = enrollgraph::launch(s, listener, async {
                let _ = rx.await;
            })
            .await;
        });
        let mut app = TestApp {
            base: format!("http://{addr}"),
            client: client(),
            token: String::new(),
            state,
            settings,
            dir,
            shutdown: Some(tx),
            handle: Some(handle),
        };
        app.token = app.token_with(TENANT, &[WRITE], &[]);
        app
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }

    /// Stops the server and starts a new one on the same data dir and settings.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let TestApp {
            dir,
            settings,
            state,
            ..
        } = self;
        drop(state);
        TestApp::spawn_with(dir, settings).await
    }

    /// Mints a token for `tenant` with delegated `scopes`, or app `roles`.
    pub fn token_with(&self, tenant: &str, scopes: &[&str], roles: &[&str]) -> String {
        let t = domain::TenantId::parse(tenant).expect("tenant");
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let roles: Vec<String> = roles.iter().map(|s| s.to_string()).collect();
        let claims = auth::dev_claims(&t, &scopes, &roles, 3600);
        self.state.keys.mint(&claims).expect("mint")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request with the default token; `body` is sent as JSON when given.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Res {
        self.call_as(&self.token, method, path, body).await
    }

    pub async fn call_as(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Res {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&b).expect("json"));
        }
        read(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Res {
        self.call("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.call("POST", path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Res {
        self.call("PATCH", path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Res {
        self.call("DELETE", path, None).await
    }

    /// Creates a configuration on `version` and returns the created entity.
    pub async fn create(&self, version: &str, body: Value) -> Value {
        let r = self
            .post(
                &format!("/{version}/deviceManagement/deviceEnrollmentConfigurations"),
                body,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json()
    }

    /// Every configuration of the tenant on `version`.
    pub async fn list(&self, version: &str) -> Vec<Value> {
        let r = self
            .get(&format!(
                "/{version}/deviceManagement/deviceEnrollmentConfigurations"
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json()["value"].as_array().cloned().unwrap_or_default()
    }
}

pub async fn read(r: reqwest::Response) -> Res {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    Res {
        status,
        headers,
        text,
    }
}

pub const CONFIGS: &str = "/beta/deviceManagement/deviceEnrollmentConfigurations";
pub const CONFIGS_V1: &str = "/v1.0/deviceManagement/deviceEnrollmentConfigurations";

pub fn limit_body(name: &str, limit: i64) -> Value {
    serde_json::json!({
        "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
        "displayName": name,
        "limit": limit
    })
}
