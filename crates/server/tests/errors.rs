//! Errors and headers, through real HTTP: Graph's error envelope on every error, path and
//! method errors, body errors, validation messages, bearer tokens and permissions, tenant
//! isolation, and the headers Graph writes on every response.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};

/// The content type Graph writes on JSON bodies.
const GRAPH_JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

const LIMIT: &str = "#microsoft.graph.deviceEnrollmentLimitConfiguration";

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// Sends a raw request: `body` as bytes with `content_type` when given, extra `headers`.
async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
    headers: &[(&str, &str)],
) -> Res {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read(req.send().await.expect("request")).await
}

/// Asserts the full Graph error envelope and the headers of an error response; returns
/// the message.
fn assert_envelope(r: &Res, status: u16, code: &str) -> String {
    let msg = r.assert_error(status, code);
    assert_eq!(r.header("content-type"), Some(GRAPH_JSON), "{r:?}");
    let v = r.json();
    let err = v["error"].as_object().expect("error object");
    let mut keys: Vec<&str> = err.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, vec!["code", "innerError", "message"], "{}", r.text);
    assert!(!msg.is_empty(), "empty message: {}", r.text);
    let inner = &v["error"]["innerError"];
    let date = inner["date"].as_str().unwrap();
    // `date` has no zone and whole seconds: 2024-05-01T10:20:30
    assert_eq!(date.len(), 19, "{date}");
    assert_eq!(&date[10..11], "T", "{date}");
    assert!(!date.contains('Z') && !date.contains('.'), "{date}");
    assert_eq!(
        inner["request-id"].as_str(),
        r.header("request-id"),
        "{}",
        r.text
    );
    assert_eq!(
        inner["client-request-id"].as_str(),
        r.header("client-request-id"),
        "{}",
        r.text
    );
    assert_eq!(r.header("odata-version"), Some("4.0"));
    msg
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(tenant: &str) -> auth::Claims {
    auth::Claims {
        aud: "https://graph.microsoft.com".into(),
        iss: format!("https://sts.windows.net/{tenant}/"),
        iat: now(),
        nbf: now(),
        exp: now() + 3600,
        tid: Some(tenant.into()),
        oid: Some("5f3a1b2c-0000-4000-8000-000000000001".into()),
        sub: Some("test".into()),
        appid: None,
        scp: Some(WRITE.into()),
        roles: None,
        ver: Some("1.0".into()),
    }
}

// ---------------------------------------------------------------------------------------------
// paths and methods

#[tokio::test]
async fn an_unknown_segment_is_a_400_naming_it() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("x", 1)).await);
    for (path, seg) in [
        ("/beta/deviceManagment".to_owned(), "deviceManagment"),
        ("/v1.0/bogus".to_owned(), "bogus"),
        (format!("{CONFIGS}/{id}/bogus"), "bogus"),
        (format!("{CONFIGS}/{id}/assignments/a/b"), "b"),
        (format!("{CONFIGS}/$count/x"), "x"),
    ] {
        let r = app.get(&path).await;
        let msg = assert_envelope(&r, 400, "BadRequest");
        assert_eq!(
            msg,
            format!("Resource not found for the segment '{seg}'."),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_missing_or_unknown_version_is_a_404() {
    let app = TestApp::spawn().await;
    for (path, version) in [
        (
            "/deviceManagement/deviceEnrollmentConfigurations",
            "deviceManagement",
        ),
        (
            "/v2.0/deviceManagement/deviceEnrollmentConfigurations",
            "v2.0",
        ),
        ("/", ""),
    ] {
        let r = app.get(path).await;
        let msg = assert_envelope(&r, 404, "ResourceNotFound");
        assert!(msg.starts_with("Invalid version"), "{path}: {msg}");
        assert!(msg.contains(version), "{path}: {msg}");
    }
    // also without a token: the version is checked first
    let r = raw(&app, "GET", "/v3/deviceManagement", None, None, None, &[]).await;
    assert_envelope(&r, 404, "ResourceNotFound");
}

#[tokio::test]
async fn a_wrong_method_is_a_405_with_allow() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("x", 1)).await);
    let a = app
        .post(
            &format!("{CONFIGS}/{id}/assignments"),
            json!({"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}),
        )
        .await;
    let aid = id_of(&a.json());
    for (method, path, allow) in [
        ("PUT", format!("{CONFIGS}/{id}"), "GET, PATCH, DELETE"),
        ("POST", format!("{CONFIGS}('{id}')"), "GET, PATCH, DELETE"),
        ("DELETE", CONFIGS.to_owned(), "GET, POST"),
        ("PATCH", CONFIGS_V1.to_owned(), "GET, POST"),
        ("GET", format!("{CONFIGS}/{id}/setPriority"), "POST"),
        ("GET", format!("{CONFIGS}/hasPayloadLinks"), "POST"),
        ("POST", format!("{CONFIGS}/$count"), "GET"),
        (
            "PUT",
            format!("{CONFIGS}/{id}/assignments/{aid}"),
            "GET, PATCH, DELETE",
        ),
        ("DELETE", format!("{CONFIGS}/{id}/assignments"), "GET, POST"),
        ("POST", "/beta/$metadata".to_owned(), "GET"),
    ] {
        let r = app.call(method, &path, Some(json!({}))).await;
        assert_envelope(&r, 405, "MethodNotAllowed");
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
    }
    // nothing changed
    assert_eq!(app.list("beta").await.len(), 6);
}

// ---------------------------------------------------------------------------------------------
// bodies

#[tokio::test]
async fn a_non_json_body_is_a_415() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&limit_body("x", 1)).unwrap();
    for ct in [Some("text/plain"), Some("application/xml"), None] {
        let r = raw(
            &app,
            "POST",
            CONFIGS,
            Some(&app.token),
            ct,
            Some(body.clone()),
            &[],
        )
        .await;
        assert_envelope(&r, 415, "UnsupportedMediaType");
    }
    // a JSON content type with parameters is fine
    let r = raw(
        &app,
        "POST",
        CONFIGS,
        Some(&app.token),
        Some("application/json; charset=utf-8"),
        Some(body),
        &[],
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(app.list("beta").await.len(), 6);
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("x", 1)).await);
    for (method, path) in [
        ("POST", CONFIGS.to_owned()),
        ("PATCH", format!("{CONFIGS}/{id}")),
        ("POST", format!("{CONFIGS}/{id}/assign")),
        ("POST", format!("{CONFIGS}/{id}/setPriority")),
        ("POST", format!("{CONFIGS}/{id}/assignments")),
    ] {
        for body in [&b"{\"displayName\": "[..], b"not json", b"{}}", b""] {
            let r = raw(
                &app,
                method,
                &path,
                Some(&app.token),
                Some("application/json"),
                Some(body.to_vec()),
                &[],
            )
            .await;
            assert_envelope(&r, 400, "BadRequest");
        }
        // a JSON value that is not an object
        let r = app.call(method, &path, Some(json!([1, 2]))).await;
        assert_envelope(&r, 400, "BadRequest");
    }
    assert_eq!(app.list("beta").await.len(), 6);
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let dir = tempfile::Builder::new().prefix("eg").tempdir().unwrap();
    let mut settings = settings_for(dir.path());
    settings.max_body_bytes = 256;
    let app = TestApp::spawn_with(dir, settings).await;
    let big = limit_body(&"x".repeat(400), 1);
    let r = app.post(CONFIGS, big.clone()).await;
    let msg = assert_envelope(&r, 413, "RequestEntityTooLarge");
    assert!(msg.contains("256"), "{msg}");
    // also without a Content-Length (chunked), written by hand
    let body = serde_json::to_vec(&big).unwrap();
    let (addr, token) = (
        app.base.trim_start_matches("http://").to_owned(),
        app.token.clone(),
    );
    let reply = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut req = format!(
            "POST {CONFIGS} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        for part in body.chunks(100) {
            req.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            req.extend_from_slice(part);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"0\r\n\r\n");
        s.write_all(&req).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("\"RequestEntityTooLarge\""), "{reply}");
    // under the limit is fine, and only that one was created
    let r = app.post(CONFIGS, limit_body("small", 1)).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(app.list("beta").await.len(), 6);
}

#[tokio::test]
async fn validation_errors_name_the_property_or_type() {
    let app = TestApp::spawn().await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        // no @odata.type
        (json!({"displayName": "x", "limit": 1}), vec!["@odata.type"]),
        // the abstract base type
        (
            json!({"@odata.type": "#microsoft.graph.deviceEnrollmentConfiguration", "displayName": "x"}),
            vec!["deviceEnrollmentConfiguration", "abstract"],
        ),
        // an unknown type
        (
            json!({"@odata.type": "#microsoft.graph.deviceEnrollmentBogusConfiguration"}),
            vec!["deviceEnrollmentBogusConfiguration"],
        ),
        // a type that is not a configuration
        (
            json!({"@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment"}),
            vec!["enrollmentConfigurationAssignment"],
        ),
        // an unknown property
        (
            json!({"@odata.type": LIMIT, "displayName": "x", "limitt": 3}),
            vec!["limitt"],
        ),
        // wrong JSON types
        (json!({"@odata.type": LIMIT, "limit": "3"}), vec!["limit"]),
        (
            json!({"@odata.type": LIMIT, "displayName": 5}),
            vec!["displayName"],
        ),
        (
            json!({"@odata.type": LIMIT, "roleScopeTagIds": "0"}),
            vec!["roleScopeTagIds"],
        ),
        (json!({"@odata.type": LIMIT, "limit": null}), vec!["limit"]),
        // a bad enum value
        (
            json!({"@odata.type": "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration", "state": "maybe"}),
            vec!["state", "maybe"],
        ),
        (
            json!({"@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration", "platformType": "amiga"}),
            vec!["platformType", "amiga"],
        ),
        // a nested property
        (
            json!({"@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
                   "iosRestriction": {"platformBlocked": "yes"}}),
            vec!["iosRestriction.platformBlocked"],
        ),
    ];
    for (body, needles) in cases {
        let r = app.post(CONFIGS, body.clone()).await;
        let msg = assert_envelope(&r, 400, "BadRequest");
        for n in needles {
            assert!(msg.contains(n), "{body}: '{msg}' lacks '{n}'");
        }
    }
    // a beta-only type is unknown in v1.0
    let r = app
        .post(
            CONFIGS_V1,
            json!({"@odata.type": "#microsoft.graph.deviceComanagementAuthorityConfiguration"}),
        )
        .await;
    let msg = assert_envelope(&r, 400, "BadRequest");
    assert!(
        msg.contains("deviceComanagementAuthorityConfiguration"),
        "{msg}"
    );
    // ... and so is a beta-only property
    let r = app
        .post(
            CONFIGS_V1,
            json!({"@odata.type": LIMIT, "limit": 2, "roleScopeTagIds": []}),
        )
        .await;
    let msg = assert_envelope(&r, 400, "BadRequest");
    assert!(msg.contains("roleScopeTagIds"), "{msg}");
    assert_eq!(app.list("beta").await.len(), 5);
}

#[tokio::test]
async fn patch_refuses_a_changed_type_and_bad_values() {
    let app = TestApp::spawn().await;
    let c = app.create("beta", limit_body("x", 3)).await;
    let url = format!("{CONFIGS}/{}", id_of(&c));
    let r = app
        .patch(
            &url,
            json!({"@odata.type": "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration", "state": "enabled"}),
        )
        .await;
    let msg = assert_envelope(&r, 400, "BadRequest");
    assert!(msg.contains("@odata.type"), "{msg}");
    assert!(msg.contains("deviceEnrollmentLimitConfiguration"), "{msg}");
    assert!(
        msg.contains("deviceEnrollmentWindowsHelloForBusinessConfiguration"),
        "{msg}"
    );
    for (body, needle) in [
        (json!({"limitt": 1}), "limitt"),
        (json!({"limit": true}), "limit"),
        (json!({"limit": 3_000_000_000_i64}), "limit"),
        (json!({"state": "enabled"}), "state"),
    ] {
        let r = app.patch(&url, body.clone()).await;
        let msg = assert_envelope(&r, 400, "BadRequest");
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    let mut got = app.get(&url).await.json();
    let mut before = c.clone();
    got.as_object_mut().unwrap().remove("@odata.context");
    before.as_object_mut().unwrap().remove("@odata.context");
    assert_eq!(got, before, "a refused PATCH changed the item");
}

#[tokio::test]
async fn assignment_bodies_are_validated() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("x", 3)).await);
    let coll = format!("{CONFIGS}/{id}/assignments");
    for (body, needle) in [
        (
            json!({"target": {"@odata.type": "#microsoft.graph.fooTarget"}}),
            "fooTarget",
        ),
        (
            json!({"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": 1}}),
            "groupId",
        ),
        (
            json!({"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "deviceAndAppManagementAssignmentFilterType": "sometimes"}}),
            "deviceAndAppManagementAssignmentFilterType",
        ),
        (json!({"target": "all"}), "target"),
        (json!({"source": "elsewhere"}), "source"),
        (json!({"bogus": 1}), "bogus"),
    ] {
        let r = app.post(&coll, body.clone()).await;
        let msg = assert_envelope(&r, 400, "BadRequest");
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    let r = app
        .post(
            &format!("{CONFIGS}/{id}/assign"),
            json!({"assignments": []}),
        )
        .await;
    let msg = assert_envelope(&r, 400, "BadRequest");
    assert!(msg.contains("assignments"), "{msg}");
    assert_eq!(app.get(&format!("{coll}/$count")).await.text, "0");
}

// ---------------------------------------------------------------------------------------------
// authentication

#[tokio::test]
async fn no_token_is_a_401_with_www_authenticate() {
    let app = TestApp::spawn().await;
    for (method, path) in [
        ("GET", CONFIGS.to_owned()),
        ("POST", CONFIGS.to_owned()),
        ("GET", format!("{CONFIGS_V1}/x")),
        ("GET", "/beta/bogus".to_owned()),
    ] {
        let r = raw(&app, method, &path, None, None, None, &[]).await;
        assert_envelope(&r, 401, "InvalidAuthenticationToken");
        let www = r.header("www-authenticate").expect("WWW-Authenticate");
        assert!(
            www.starts_with("Bearer realm=\"\", authorization_uri=\""),
            "{www}"
        );
        assert!(
            www.ends_with("\", client_id=\"00000003-0000-0000-c000-000000000000\""),
            "{www}"
        );
        let uri = www
            .split("authorization_uri=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap();
        assert!(
            uri.starts_with("https://") && uri.ends_with("/oauth2/authorize"),
            "{uri}"
        );
    }
    // other schemes and empty bearer values
    for auth in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "token"] {
        let r = raw(
            &app,
            "GET",
            CONFIGS,
            None,
            None,
            None,
            &[("authorization", auth)],
        )
        .await;
        assert_envelope(&r, 401, "InvalidAuthenticationToken");
        assert!(r.header("www-authenticate").is_some());
    }
}

#[tokio::test]
async fn unacceptable_tokens_are_401() {
    let app = TestApp::spawn().await;
    let other_app = TestApp::spawn().await;
    let b64 = |s: &str| {
        use std::fmt::Write;
        // base64url without padding, by hand (no extra dependency)
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bytes = s.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            let chars = chunk.len() + 1;
            for i in 0..chars {
                let idx = (n >> (18 - 6 * i)) & 63;
                out.write_char(A[idx as usize] as char).unwrap();
            }
        }
        out
    };
    let mut payload = claims(TENANT);
    payload.exp = now() + 3600;
    let payload_json = serde_json::to_string(&payload).unwrap();
    let unsigned = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&payload_json)
    );
    // a valid token with its signature replaced by another one's
    let good = app.token.clone();
    let foreign = other_app.token.clone();
    let spliced = format!(
        "{}.{}",
        good.rsplit_once('.').unwrap().0,
        foreign.rsplit_once('.').unwrap().1
    );
    let mut expired = claims(TENANT);
    expired.iat = now() - 7200;
    expired.nbf = now() - 7200;
    expired.exp = now() - 3600;
    let mut wrong_aud = claims(TENANT);
    wrong_aud.aud = "https://management.azure.com".into();
    let mut not_yet = claims(TENANT);
    not_yet.nbf = now() + 3600;
    not_yet.exp = now() + 7200;
    let mut no_tenant = claims(TENANT);
    no_tenant.tid = None;
    let mut bad_tenant = claims(TENANT);
    bad_tenant.tid = Some("contoso".into());

    let cases: Vec<(&str, String)> = vec![
        ("malformed", "not-a-token".into()),
        ("three garbage parts", "a.b.c".into()),
        ("alg none", unsigned),
        ("another server's key", foreign),
        ("spliced signature", spliced),
        ("expired", app.state.keys.mint(&expired).unwrap()),
        ("wrong audience", app.state.keys.mint(&wrong_aud).unwrap()),
        ("not yet valid", app.state.keys.mint(&not_yet).unwrap()),
        ("no tid", app.state.keys.mint(&no_tenant).unwrap()),
        ("bad tid", app.state.keys.mint(&bad_tenant).unwrap()),
    ];
    for (what, token) in cases {
        let r = app.call_as(&token, "GET", CONFIGS, None).await;
        assert_envelope(&r, 401, "InvalidAuthenticationToken");
        assert!(r.header("www-authenticate").is_some(), "{what}");
        let r = app
            .call_as(&token, "POST", CONFIGS, Some(limit_body("nope", 1)))
            .await;
        assert_eq!(r.status.as_u16(), 401, "{what}: {}", r.text);
    }
    // the untouched token and claims built by hand work
    let r = app.call_as(&good, "GET", CONFIGS, None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let mut by_hand = claims(TENANT);
    by_hand.aud = "00000003-0000-0000-c000-000000000000".into();
    let r = app
        .call_as(
            &app.state.keys.mint(&by_hand).unwrap(),
            "GET",
            CONFIGS,
            None,
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(app.list("beta").await.len(), 5);
}

// ---------------------------------------------------------------------------------------------
// permissions

#[tokio::test]
async fn read_only_tokens_cannot_write() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("x", 1)).await);
    for perm in [READ, "DeviceManagementConfiguration.Read.All"] {
        let reader = app.token_with(TENANT, &[perm], &[]);
        let r = app.call_as(&reader, "GET", CONFIGS, None).await;
        assert_eq!(r.status.as_u16(), 200, "{perm}: {}", r.text);
        let r = app
            .call_as(&reader, "GET", &format!("{CONFIGS}/{id}/assignments"), None)
            .await;
        assert_eq!(r.status.as_u16(), 200, "{perm}: {}", r.text);
        for (method, path, body) in [
            ("POST", CONFIGS.to_owned(), Some(limit_body("y", 1))),
            (
                "PATCH",
                format!("{CONFIGS}/{id}"),
                Some(json!({"limit": 2})),
            ),
            ("DELETE", format!("{CONFIGS}/{id}"), None),
            (
                "POST",
                format!("{CONFIGS}/{id}/setPriority"),
                Some(json!({"priority": 1})),
            ),
            (
                "POST",
                format!("{CONFIGS}/{id}/assign"),
                Some(json!({"enrollmentConfigurationAssignments": []})),
            ),
            (
                "POST",
                format!("{CONFIGS}/{id}/assignments"),
                Some(
                    json!({"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}),
                ),
            ),
        ] {
            let r = app.call_as(&reader, method, &path, body).await;
            assert_envelope(&r, 403, "Forbidden");
        }
    }
    let c = app.get(&format!("{CONFIGS}/{id}")).await.json();
    assert_eq!(c["limit"], 1);
    assert_eq!(app.list("beta").await.len(), 6);
}

#[tokio::test]
async fn a_token_without_a_relevant_permission_cannot_read() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("x", 1)).await);
    let nobody = app.token_with(TENANT, &["User.Read", "Directory.Read.All"], &[]);
    for path in [
        CONFIGS.to_owned(),
        format!("{CONFIGS}/{id}"),
        format!("{CONFIGS}/{id}/assignments"),
        format!("{CONFIGS}/$count"),
    ] {
        let r = app.call_as(&nobody, "GET", &path, None).await;
        let msg = assert_envelope(&r, 403, "Forbidden");
        assert!(msg.contains(READ), "{msg}");
    }
    // an app token with an unrelated role is refused as well
    let app_nobody = app.token_with(TENANT, &[], &["User.Read.All"]);
    let r = app.call_as(&app_nobody, "GET", CONFIGS, None).await;
    assert_envelope(&r, 403, "Forbidden");
}

#[tokio::test]
async fn app_only_tokens_with_roles_work() {
    let app = TestApp::spawn().await;
    let writer = app.token_with(TENANT, &[], &[WRITE]);
    let r = app
        .call_as(&writer, "POST", CONFIGS, Some(limit_body("app", 2)))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let id = id_of(&r.json());
    let r = app
        .call_as(&writer, "GET", &format!("{CONFIGS}/{id}"), None)
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.json()["limit"], 2);
    let r = app
        .call_as(
            &writer,
            "PATCH",
            &format!("{CONFIGS}/{id}"),
            Some(json!({"limit": 3})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let reader = app.token_with(TENANT, &[], &["DeviceManagementConfiguration.Read.All"]);
    let r = app.call_as(&reader, "GET", CONFIGS, None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let r = app
        .call_as(&reader, "DELETE", &format!("{CONFIGS}/{id}"), None)
        .await;
    assert_envelope(&r, 403, "Forbidden");
    // the configuration written by the app is the delegated user's too (same tenant)
    assert_eq!(app.get(&format!("{CONFIGS}/{id}")).await.json()["limit"], 3);
}

// ---------------------------------------------------------------------------------------------
// tenant isolation

#[tokio::test]
async fn another_tenants_ids_are_404_never_403_never_data() {
    let app = TestApp::spawn().await;
    let c = app.create("beta", limit_body("mine", 4)).await;
    let id = id_of(&c);
    let second = id_of(&app.create("beta", limit_body("mine2", 4)).await);
    let a = app
        .post(
            &format!("{CONFIGS}/{id}/assignments"),
            json!({"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g"}}),
        )
        .await;
    let aid = id_of(&a.json());
    let before_list = app.list("beta").await;

    let other = app.token_with(OTHER_TENANT, &[WRITE], &[]);
    let default_id = format!("{TENANT}_DefaultLimit");
    let asg = json!({"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}});
    let assign = json!({"enrollmentConfigurationAssignments": [asg.clone()]});
    for target in [id.as_str(), default_id.as_str()] {
        let cases: Vec<(&str, String, Option<Value>)> = vec![
            ("GET", format!("{CONFIGS}/{target}"), None),
            ("GET", format!("{CONFIGS_V1}/{target}"), None),
            (
                "GET",
                format!("{CONFIGS}('{target}')?$expand=assignments"),
                None,
            ),
            (
                "PATCH",
                format!("{CONFIGS}/{target}"),
                Some(json!({"limit": 1})),
            ),
            ("DELETE", format!("{CONFIGS}/{target}"), None),
            (
                "POST",
                format!("{CONFIGS}/{target}/assign"),
                Some(assign.clone()),
            ),
            (
                "POST",
                format!("{CONFIGS}/{target}/setPriority"),
                Some(json!({"priority": 1})),
            ),
            ("GET", format!("{CONFIGS}/{target}/assignments"), None),
            (
                "GET",
                format!("{CONFIGS}/{target}/assignments/$count"),
                None,
            ),
            (
                "POST",
                format!("{CONFIGS}/{target}/assignments"),
                Some(asg.clone()),
            ),
            ("GET", format!("{CONFIGS}/{target}/assignments/{aid}"), None),
            (
                "PATCH",
                format!("{CONFIGS}/{target}/assignments/{aid}"),
                Some(asg.clone()),
            ),
            (
                "DELETE",
                format!("{CONFIGS}/{target}/assignments/{aid}"),
                None,
            ),
        ];
        for (method, path, body) in cases {
            let r = app.call_as(&other, method, &path, body).await;
            assert_envelope(&r, 404, "ResourceNotFound");
            assert!(!r.text.contains("mine"), "{method} {path}: {}", r.text);
        }
    }
    // the other tenant's list shows none of ours
    let r = app.call_as(&other, "GET", CONFIGS, None).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(!r.text.contains(&id) && !r.text.contains(&second) && !r.text.contains(TENANT));
    let r = app
        .call_as(&other, "GET", &format!("{CONFIGS}/$count"), None)
        .await;
    assert_eq!(r.text, "5");
    // and its own writes do not touch our ranking
    let r = app
        .call_as(&other, "POST", CONFIGS, Some(limit_body("theirs", 1)))
        .await;
    assert_eq!(r.status.as_u16(), 201);
    assert_eq!(r.json()["priority"], 1);
    assert_eq!(app.list("beta").await, before_list);
    let ours = app.get(&format!("{CONFIGS}/{id}/assignments")).await.json();
    assert_eq!(ours["value"].as_array().map(Vec::len), Some(1));
}

// ---------------------------------------------------------------------------------------------
// headers

#[tokio::test]
async fn every_response_carries_graphs_headers() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("h", 1)).await);
    let cases: Vec<(&str, String, Option<Value>, u16, bool)> = vec![
        ("GET", CONFIGS.to_owned(), None, 200, true),
        (
            "POST",
            CONFIGS.to_owned(),
            Some(limit_body("h2", 1)),
            201,
            true,
        ),
        ("GET", format!("{CONFIGS}/{id}"), None, 200, true),
        (
            "PATCH",
            format!("{CONFIGS}/{id}"),
            Some(json!({"limit": 4})),
            204,
            false,
        ),
        ("GET", format!("{CONFIGS}/nope"), None, 404, true),
        ("GET", "/beta/bogus".to_owned(), None, 400, true),
        ("PUT", format!("{CONFIGS}/{id}"), Some(json!({})), 405, true),
        ("GET", "/v9/x".to_owned(), None, 404, true),
        ("GET", format!("{CONFIGS}/$count"), None, 200, false),
        ("GET", "/beta/$metadata".to_owned(), None, 200, false),
    ];
    for (method, path, body, status, is_json) in cases {
        // without a client-request-id: it equals the request-id
        let r = app.call(method, &path, body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{method} {path}: {}", r.text);
        let rid = r.header("request-id").expect("request-id").to_owned();
        assert_eq!(rid.len(), 36, "{rid}");
        assert_eq!(
            r.header("client-request-id"),
            Some(rid.as_str()),
            "{method} {path}"
        );
        assert_eq!(r.header("odata-version"), Some("4.0"), "{method} {path}");
        assert_eq!(
            r.header("cache-control"),
            Some("no-cache"),
            "{method} {path}"
        );
        assert!(r.header("date").is_some(), "{method} {path}");
        if is_json {
            assert_eq!(
                r.header("content-type"),
                Some(GRAPH_JSON),
                "{method} {path}"
            );
        }

        // with one: echoed, and a fresh request-id
        let client_id = "6c1f7e52-8f1d-4b4e-9f3f-1b2a3c4d5e6f";
        let mut req = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(&path),
            )
            .bearer_auth(&app.token)
            .header("client-request-id", client_id)
            .header("Retry-Attempt", "1");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r2 = read(req.send().await.unwrap()).await;
        assert_eq!(
            r2.header("client-request-id"),
            Some(client_id),
            "{method} {path}"
        );
        let rid2 = r2.header("request-id").unwrap();
        assert_ne!(rid2, rid);
        assert_ne!(rid2, client_id);
        if status >= 400 {
            let v = r2.json();
            assert_eq!(v["error"]["innerError"]["client-request-id"], client_id);
            assert_eq!(v["error"]["innerError"]["request-id"], rid2);
        }
    }
}

#[tokio::test]
async fn retry_attempt_headers_are_tolerated() {
    let app = TestApp::spawn().await;
    let headers = [("Retry-Attempt", "3"), ("client-request-id", "abc")];
    let body = serde_json::to_vec(&limit_body("retried", 2)).unwrap();
    let r = raw(
        &app,
        "POST",
        CONFIGS,
        Some(&app.token),
        Some("application/json"),
        Some(body),
        &headers,
    )
    .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let r = raw(&app, "GET", CONFIGS, Some(&app.token), None, None, &headers).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.header("client-request-id"), Some("abc"));
    assert_eq!(r.json()["value"].as_array().map(Vec::len), Some(6));
}

#[tokio::test]
async fn percent_encoded_paths_are_decoded() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("enc", 7)).await);
    let enc: String = id
        .chars()
        .map(|c| match c {
            '_' => "%5F".to_owned(),
            '-' => "%2d".to_owned(),
            c => c.to_string(),
        })
        .collect();
    for path in [
        format!("{CONFIGS}/{enc}"),
        format!("{CONFIGS}('{enc}')"),
        format!("{CONFIGS}(%27{enc}%27)"),
        format!("/beta/deviceManagement/deviceEnrollment%43onfigurations/{enc}"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status.as_u16(), 200, "{path}: {}", r.text);
        assert_eq!(r.json()["id"], id.as_str(), "{path}");
    }
    let r = app
        .post(
            &format!("{CONFIGS}/{enc}/assign%65d"),
            json!({"enrollmentConfigurationAssignments": []}),
        )
        .await;
    let msg = assert_envelope(&r, 400, "BadRequest");
    assert_eq!(msg, "Resource not found for the segment 'assigned'.");
    let r = app
        .post(
            &format!("{CONFIGS}/{enc}/%61ssign"),
            json!({"enrollmentConfigurationAssignments": []}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    // an id with characters that must be encoded reads as not found, not as a bad path
    let r = app.get(&format!("{CONFIGS}/a%2Fb%20c")).await;
    let msg = assert_envelope(&r, 404, "ResourceNotFound");
    assert!(msg.contains("a/b c"), "{msg}");
    // invalid UTF-8 after decoding
    let r = app.get(&format!("{CONFIGS}/%FF")).await;
    assert_envelope(&r, 400, "BadRequest");
}
