//! The bodies of `GET …/deviceEnrollmentConfigurations/{id}` that the server keeps between
//! writes are never stale: after every acknowledged write, of the item or of another item
//! that moves it, a GET shows the write; each version, host and tenant gets its own body.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;

async fn get_with_host(app: &TestApp, path: &str, host: &str) -> Res {
    let req = app
        .client
        .get(app.url(path))
        .bearer_auth(&app.token)
        .header("host", host);
    read(req.send().await.expect("request")).await
}

#[tokio::test]
async fn a_get_after_any_acknowledged_write_shows_it() {
    let app = TestApp::spawn().await;
    let a = app.create("beta", limit_body("cache-a", 3)).await;
    let b = app.create("beta", limit_body("cache-b", 4)).await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let path = format!("{CONFIGS}/{a_id}");
    let first = app.get(&path).await;
    assert_eq!(first.status.as_u16(), 200);
    // The same request again: the same body.
    let again = app.get(&path).await;
    assert_eq!(again.text, first.text);
    let p0 = first.json()["priority"].as_i64().unwrap();

    // A PATCH of the item.
    let r = app.patch(&path, json!({"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "limit": 9})).await;
    assert!(r.status.is_success(), "{}", r.text);
    let v = app.get(&path).await.json();
    assert_eq!(v["limit"], 9);
    assert_eq!(v["version"], first.json()["version"].as_i64().unwrap() + 1);

    // setPriority of another item moves this one.
    let r = app
        .post(
            &format!("{CONFIGS}/{b_id}/setPriority"),
            json!({"priority": p0}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let v = app.get(&path).await.json();
    assert_eq!(v["priority"], p0 + 1, "moved by setPriority of {b_id}");

    // Each version has its own body (v1.0 has no beta-only properties).
    let beta = app.get(&path).await.json();
    let v1 = app.get(&path.replacen("/beta/", "/v1.0/", 1)).await.json();
    assert!(beta["@odata.context"].as_str().unwrap().contains("/beta/"));
    assert!(v1["@odata.context"].as_str().unwrap().contains("/v1.0/"));
    assert!(beta.get("roleScopeTagIds").is_some() && v1.get("roleScopeTagIds").is_none());

    // Each host its own context URL.
    let x = get_with_host(&app, &path, "x.example").await.json();
    let y = get_with_host(&app, &path, "y.example").await.json();
    assert!(x["@odata.context"]
        .as_str()
        .unwrap()
        .starts_with("http://x.example/"));
    assert!(y["@odata.context"]
        .as_str()
        .unwrap()
        .starts_with("http://y.example/"));

    // Another tenant never sees it, even once it was read here.
    let other = app.token_with(
        "0badc0de-0000-4000-8000-000000000000",
        &["DeviceManagementServiceConfig.ReadWrite.All"],
        &[],
    );
    let r = app.call_as(&other, "GET", &path, None).await;
    r.assert_error(404, "ResourceNotFound");

    // A DELETE: gone at once.
    assert_eq!(app.delete(&path).await.status.as_u16(), 204);
    app.get(&path).await.assert_error(404, "ResourceNotFound");
}
