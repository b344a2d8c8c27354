//! Data and the signing key persist across a restart on the same data dir.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

fn without_context(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("@odata.context");
    }
    v
}

/// Everything a client can read of the tenant, minus the base URL in `@odata.context`.
async fn snapshot(app: &TestApp, token: &str) -> Vec<(String, u16, Value)> {
    let mut out = Vec::new();
    let mut paths = vec![
        format!("{CONFIGS}?$expand=assignments"),
        format!("{CONFIGS_V1}?$expand=assignments"),
        format!("{CONFIGS}/$count"),
        format!("{CONFIGS_V1}/$count"),
    ];
    let list = app.call_as(token, "GET", CONFIGS, None).await.json();
    for c in list["value"].as_array().unwrap() {
        let id = id_of(c);
        paths.push(format!("{CONFIGS}/{id}"));
        paths.push(format!("{CONFIGS_V1}/{id}"));
        paths.push(format!("{CONFIGS}/{id}/assignments"));
        paths.push(format!("{CONFIGS}/{id}/assignments/$count"));
    }
    for p in paths {
        let r = app.call_as(token, "GET", &p, None).await;
        let body = if p.ends_with("$count") {
            Value::String(r.text.clone())
        } else if r.status.as_u16() >= 400 {
            // errors carry fresh request ids: compare their code
            r.json()["error"]["code"].clone()
        } else {
            without_context(r.json())
        };
        out.push((p, r.status.as_u16(), body));
    }
    out
}

#[tokio::test]
async fn data_and_tokens_survive_a_restart() {
    let app = TestApp::spawn().await;
    let token = app.token.clone();
    let reader = app.token_with(TENANT, &[READ], &[]);
    let other = app.token_with(OTHER_TENANT, &[WRITE], &[]);

    // a bit of everything
    let mut limits = Vec::new();
    for i in 0..4 {
        limits.push(id_of(
            &app.create("beta", limit_body(&format!("l{i}"), i + 1))
                .await,
        ));
    }
    let r = app
        .post(
            &format!("{CONFIGS}/{}/setPriority", limits[3]),
            json!({"priority": 1}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let r = app.delete(&format!("{CONFIGS}/{}", limits[1])).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let whfb = app
        .create(
            "beta",
            json!({
                "@odata.type": "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration",
                "displayName": "hello",
                "description": "with ünïcödé and \"quotes\"",
                "pinMinimumLength": 8,
                "state": "enabled",
                "roleScopeTagIds": ["0", "7"]
            }),
        )
        .await;
    let single = app
        .create(
            "beta",
            json!({
                "@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration",
                "displayName": "ios only",
                "platformType": "ios",
                "platformRestriction": {"platformBlocked": true, "blockedManufacturers": ["x"]}
            }),
        )
        .await;
    let r = app
        .post(
            &format!("{CONFIGS}/createEnrollmentNotificationConfiguration"),
            json!({"deviceEnrollmentNotificationConfigurations": [
                {"@odata.type": "#microsoft.graph.deviceEnrollmentNotificationConfiguration",
                 "displayName": "notify", "brandingOptions": "includeCompanyLogo,includeContactInformation"}
            ]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let r = app
        .post(
            &format!("{CONFIGS}/{}/assign", id_of(&whfb)),
            json!({"enrollmentConfigurationAssignments": [
                {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g1",
                            "deviceAndAppManagementAssignmentFilterId": "f", "deviceAndAppManagementAssignmentFilterType": "exclude"}},
                {"target": {"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": "g2"}}
            ]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let r = app
        .post(
            &format!("{CONFIGS}/{}/assignments", id_of(&single)),
            json!({"target": {"@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget"}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let r = app
        .patch(
            &format!("{CONFIGS}/{TENANT}_DefaultLimit"),
            json!({"limit": 11}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let r = app
        .patch(&format!("{CONFIGS}/{}", limits[0]), json!({"limit": 42}))
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    // another tenant's data too
    let theirs = app
        .call_as(&other, "POST", CONFIGS, Some(limit_body("theirs", 2)))
        .await;
    assert_eq!(theirs.status.as_u16(), 201);

    let before = snapshot(&app, &token).await;
    let before_other = snapshot(&app, &other).await;
    assert!(before.len() > 30, "{}", before.len());
    let old_base = app.base.clone();
    let data_dir = app.dir.path().to_owned();

    let mut app = app;
    app.stop().await;
    // the old server is gone
    let gone = client()
        .get(format!("{old_base}{CONFIGS}"))
        .bearer_auth(&token)
        .send()
        .await;
    assert!(gone.is_err(), "the stopped server still answers");

    let app = app.restart().await;
    assert_eq!(app.dir.path(), data_dir);
    assert_ne!(app.base, old_base);

    // the tokens minted before the restart still verify
    let after = snapshot(&app, &token).await;
    assert_eq!(after.len(), before.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a, "{} differs after the restart", b.0);
    }
    assert_eq!(snapshot(&app, &other).await, before_other);
    let r = app.call_as(&reader, "GET", CONFIGS, None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let r = app
        .call_as(&reader, "POST", CONFIGS, Some(limit_body("no", 1)))
        .await;
    r.assert_error(403, "Forbidden");

    // the rules carry on from where they were
    let next = app.create("beta", limit_body("after", 1)).await;
    assert_eq!(next["priority"], 4);
    let v = app
        .get(&format!("{CONFIGS}/{TENANT}_DefaultLimit"))
        .await
        .json();
    assert_eq!(v["limit"], 11);
    assert_eq!(v["version"], 0);
    let r = app
        .patch(&format!("{CONFIGS}/{}", limits[0]), json!({"limit": 43}))
        .await;
    assert_eq!(r.status.as_u16(), 204);
    let got = app.get(&format!("{CONFIGS}/{}", limits[0])).await.json();
    assert_eq!(got["version"], 3);
    assert_eq!(got["priority"], 2);
    app.get(&format!("{CONFIGS}/{}", limits[1]))
        .await
        .assert_error(404, "ResourceNotFound");
}

#[tokio::test]
async fn a_restarted_server_keeps_its_signing_key_and_refuses_foreign_tokens() {
    let app = TestApp::spawn().await;
    let stranger = TestApp::spawn().await;
    let token = app.token.clone();
    let id = id_of(&app.create("beta", limit_body("k", 2)).await);
    let kid = app.state.keys.kid().to_owned();
    let app = app.restart().await;
    // the same key: the old token works and the key id is unchanged
    let r = app
        .call_as(&token, "GET", &format!("{CONFIGS}/{id}"), None)
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.json()["limit"], 2);
    assert_eq!(app.state.keys.kid(), kid);
    let r = app.call_as(&stranger.token, "GET", CONFIGS, None).await;
    r.assert_error(401, "InvalidAuthenticationToken");
    // a restart twice over is no different
    let app = app.restart().await;
    let r = app
        .call_as(&token, "GET", &format!("{CONFIGS}/{id}"), None)
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(app.list("beta").await.len(), 6);
}
