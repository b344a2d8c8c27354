//! Reachable by tools that cannot change their Graph URL: the token endpoint, HTTPS with the
//! local CA, and the forward-proxy mode for graph.microsoft.com and login.microsoftonline.com.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::*;
use serde_json::Value;

const SECRET: &str = "s3cret-value-for-tests";
const CLIENT: &str = "5b0c4e3e-1d2f-4a6b-9c8d-7e6f5a4b3c2d";

async fn register(app: &TestApp, roles: &[&str]) {
    let t = domain::TenantId::parse(TENANT).unwrap();
    app.state
        .service
        .register_app(
            &t,
            domain::App {
                client_id: CLIENT.into(),
                display_name: "tests".into(),
                secret_hash: Some(auth::secret::hash(SECRET).unwrap()),
                certificate: None,
                roles: roles.iter().map(|r| r.to_string()).collect(),
                created: domain::record::now_timestamp(),
            },
        )
        .await
        .unwrap();
}

async fn form(client: &reqwest::Client, url: &str, body: &str) -> (u16, Value) {
    let r = client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_str(&r.text().await.unwrap()).unwrap(),
    )
}

fn credentials(secret: &str) -> String {
    format!("grant_type=client_credentials&client_id={CLIENT}&client_secret={secret}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
}

#[tokio::test]
async fn client_credentials_give_an_app_token_with_the_registered_roles() {
    let app = TestApp::spawn().await;
    register(&app, &[WRITE]).await;
    let url = app.url(&format!("/{TENANT}/oauth2/v2.0/token"));
    let (status, body) = form(&app.client, &url, &credentials(SECRET)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    let token = body["access_token"].as_str().unwrap();
    let r = app
        .call_as(token, "POST", CONFIGS, Some(limit_body("by an app", 2)))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);

    // The v1 form, with `resource`.
    let v1 = format!("grant_type=client_credentials&client_id={CLIENT}&client_secret={SECRET}&resource=https%3A%2F%2Fgraph.microsoft.com");
    let (status, body) = form(
        &app.client,
        &app.url(&format!("/{TENANT}/oauth2/token")),
        &v1,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resource"], "https://graph.microsoft.com");
    assert!(body["expires_on"].is_string());
}

#[tokio::test]
async fn token_errors_have_entra_codes_and_statuses() {
    let app = TestApp::spawn().await;
    register(&app, &[READ]).await;
    let url = app.url(&format!("/{TENANT}/oauth2/v2.0/token"));
    let check = |status: u16, body: &Value, want_status: u16, error: &str, code: u64| {
        assert_eq!(status, want_status, "{body}");
        assert_eq!(body["error"], error, "{body}");
        assert_eq!(body["error_codes"][0], code, "{body}");
        assert!(body["error_description"]
            .as_str()
            .unwrap()
            .starts_with(&format!("AADSTS{code}:")));
        assert!(body["trace_id"].is_string() && body["correlation_id"].is_string());
    };
    let (s, b) = form(&app.client, &url, &credentials("wrong")).await;
    check(s, &b, 401, "invalid_client", 7000215);
    let other = credentials(SECRET).replace(CLIENT, "00000000-0000-0000-0000-0000000000ab");
    let (s, b) = form(&app.client, &url, &other).await;
    check(s, &b, 400, "unauthorized_client", 700016);
    let unknown = app.url(&format!("/{OTHER_TENANT}/oauth2/v2.0/token"));
    let (s, b) = form(&app.client, &unknown, &credentials(SECRET)).await;
    check(s, &b, 400, "invalid_request", 90002);
    let scope =
        credentials(SECRET).replace("graph.microsoft.com%2F.default", "example.com%2F.default");
    let (s, b) = form(&app.client, &url, &scope).await;
    check(s, &b, 400, "invalid_scope", 1002012);
    let grant = credentials(SECRET).replace("client_credentials", "password");
    let (s, b) = form(&app.client, &url, &grant).await;
    check(s, &b, 400, "unsupported_grant_type", 70003);
    // A read-only app cannot write.
    let (_, b) = form(&app.client, &url, &credentials(SECRET)).await;
    let r = app
        .call_as(
            b["access_token"].as_str().unwrap(),
            "POST",
            CONFIGS,
            Some(limit_body("x", 1)),
        )
        .await;
    r.assert_error(403, "Forbidden");
}

#[tokio::test]
async fn discovery_documents_point_at_this_server() {
    let app = TestApp::spawn().await;
    let r = app
        .call_as(
            "",
            "GET",
            &format!("/{TENANT}/v2.0/.well-known/openid-configuration"),
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 200);
    let v = r.json();
    assert_eq!(
        v["token_endpoint"],
        app.url(&format!("/{TENANT}/oauth2/v2.0/token"))
    );
    assert_eq!(
        v["issuer"],
        format!("https://login.microsoftonline.com/{TENANT}/v2.0")
    );
    let keys = app
        .call_as("", "GET", &format!("/{TENANT}/discovery/v2.0/keys"), None)
        .await
        .json();
    assert_eq!(keys["keys"][0]["kty"], "OKP");
    assert_eq!(keys["keys"][0]["kid"], app.state.keys.kid());
    let instance = app
        .call_as(
            "",
            "GET",
            "/common/discovery/instance?api-version=1.1",
            None,
        )
        .await
        .json();
    assert!(instance["metadata"][0]["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "login.microsoftonline.com"));
}

/// A server on port 0 in `mode`; returns its address and the CA it trusts.
async fn spawn_edge(dir: &std::path::Path, proxy: bool) -> (String, String, Arc<api::AppState>) {
    let settings = settings_for(dir);
    let state = enrollgraph::build_state(&settings).unwrap();
    let ca = Arc::new(enrollgraph::local_ca(dir).unwrap());
    let pem = ca.ca_pem().to_owned();
    let mode = if proxy {
        enrollgraph::Edge::Proxy(ca)
    } else {
        enrollgraph::Edge::Tls(ca)
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let s = state.clone();
    tokio::spawn(async move {
        let _ = enrollgraph::launch_with(s, listener, std::future::pending(), mode).await;
    });
    (addr, pem, state)
}

fn tls_client(ca_pem: &str, proxy: Option<&str>) -> reqwest::Client {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut b = client_builder().use_preconfigured_tls(config);
    if let Some(p) = proxy {
        b = b.proxy(reqwest::Proxy::all(p).unwrap());
    }
    b.build().unwrap()
}

#[tokio::test]
async fn https_with_the_local_ca_writes_https_urls() {
    let dir = tempfile::Builder::new().prefix("egs").tempdir().unwrap();
    let (addr, ca, state) = spawn_edge(dir.path(), false).await;
    let t = domain::TenantId::parse(TENANT).unwrap();
    let token = state
        .keys
        .mint(&auth::dev_claims(&t, &[], &[], 600))
        .unwrap();
    let port = addr.rsplit(':').next().unwrap();
    let client = tls_client(&ca, None);
    let r = client
        .get(format!(
            "https://localhost:{port}/beta/deviceManagement/deviceEnrollmentConfigurations"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.unwrap();
    assert!(v["@odata.context"]
        .as_str()
        .unwrap()
        .starts_with(&format!("https://localhost:{port}/beta/$metadata#")));
}

#[tokio::test]
async fn the_proxy_serves_graph_and_login_itself_and_refuses_everything_else() {
    let dir = tempfile::Builder::new().prefix("egp").tempdir().unwrap();
    let (addr, ca, state) = spawn_edge(dir.path(), true).await;
    let t = domain::TenantId::parse(TENANT).unwrap();
    state
        .service
        .register_app(
            &t,
            domain::App {
                client_id: CLIENT.into(),
                display_name: "proxy".into(),
                secret_hash: Some(auth::secret::hash(SECRET).unwrap()),
                certificate: None,
                roles: vec![WRITE.into()],
                created: domain::record::now_timestamp(),
            },
        )
        .await
        .unwrap();
    let client = tls_client(&ca, Some(&format!("http://{addr}")));

    // Tokens from "login.microsoftonline.com", used on "graph.microsoft.com", both through the proxy.
    let (status, body) = form(
        &client,
        &format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"),
        &credentials(SECRET),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let r = client
        .post("https://graph.microsoft.com/beta/deviceManagement/deviceEnrollmentConfigurations")
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(limit_body("through the proxy", 3).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    assert!(created["@odata.context"]
        .as_str()
        .unwrap()
        .starts_with("https://graph.microsoft.com/beta/$metadata#"));
    let oidc: Value = client
        .get(format!(
            "https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        oidc["token_endpoint"],
        format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token")
    );

    // Anything else is refused: a CONNECT elsewhere, and plain-HTTP proxying.
    let refused = client.get("https://example.com/").send().await;
    assert!(refused.is_err(), "a CONNECT to another host must fail");
    let plain = client_builder()
        .proxy(reqwest::Proxy::all(format!("http://{addr}")).unwrap())
        .build()
        .unwrap();
    let r = plain.get("http://example.com/").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = plain
        .get("http://graph.microsoft.com/beta/$metadata")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        403,
        "plain-HTTP Graph is not served through the proxy"
    );
}

fn assertion(key: &rcgen::KeyPair, aud: &str) -> String {
    let now = time_now();
    let claims = serde_json::json!({
        "aud": aud, "iss": CLIENT, "sub": CLIENT, "jti": "1",
        "nbf": now, "iat": now, "exp": now + 600
    });
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(&key.serialize_der()),
    )
    .unwrap()
}

fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_certificate_app_authenticates_with_a_signed_client_assertion() {
    let app = TestApp::spawn().await;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["client.example".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let t = domain::TenantId::parse(TENANT).unwrap();
    app.state
        .service
        .register_app(
            &t,
            domain::App {
                client_id: CLIENT.into(),
                display_name: "certificate".into(),
                secret_hash: None,
                certificate: Some(cert.pem()),
                roles: vec![WRITE.into()],
                created: domain::record::now_timestamp(),
            },
        )
        .await
        .unwrap();
    let url = app.url(&format!("/{TENANT}/oauth2/v2.0/token"));
    let body = |a: &str| {
        format!("grant_type=client_credentials&client_id={CLIENT}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={a}")
    };
    let (status, v) = form(&app.client, &url, &body(&assertion(&key, &url))).await;
    assert_eq!(status, 200, "{v}");
    let token = v["access_token"].as_str().unwrap();
    let r = app.call_as(token, "GET", CONFIGS, None).await;
    assert_eq!(r.status.as_u16(), 200);
    // The public name of the endpoint is a valid audience too.
    let public = format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token");
    assert_eq!(
        form(&app.client, &url, &body(&assertion(&key, &public)))
            .await
            .0,
        200
    );
    // Another audience, another key, or a secret instead: refused.
    let (status, v) = form(
        &app.client,
        &url,
        &body(&assertion(&key, "https://example.com/token")),
    )
    .await;
    assert_eq!(
        (status, v["error_codes"][0].as_u64()),
        (401, Some(700027)),
        "{v}"
    );
    let other = rcgen::KeyPair::generate().unwrap();
    let (status, v) = form(&app.client, &url, &body(&assertion(&other, &url))).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (401, Some("invalid_client")),
        "{v}"
    );
    let (status, v) = form(&app.client, &url, &credentials("anything")).await;
    assert_eq!(
        (status, v["error_codes"][0].as_u64()),
        (401, Some(7000215)),
        "{v}"
    );
}
