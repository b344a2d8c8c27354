//! JSON batching: `POST /{version}/$batch`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};

fn by_id<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["responses"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["id"] == id))
        .unwrap_or_else(|| panic!("no response {id} in {v}"))
}

#[tokio::test]
async fn a_batch_runs_each_request_through_the_normal_path() {
    let app = TestApp::spawn().await;
    let created = app.create("beta", limit_body("existing", 2)).await;
    let id = created["id"].as_str().unwrap();
    let r = app
        .post(
            "/beta/$batch",
            json!({"requests": [
                {"id": "1", "method": "GET", "url": "/deviceManagement/deviceEnrollmentConfigurations"},
                {"id": "2", "method": "POST", "url": "deviceManagement/deviceEnrollmentConfigurations",
                 "headers": {"Content-Type": "application/json"},
                 "body": {"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "displayName": "in a batch", "limit": 4}},
                {"id": "3", "method": "GET", "url": format!("/deviceManagement/deviceEnrollmentConfigurations/{id}")},
                {"id": "4", "method": "GET", "url": "/deviceManagement/deviceEnrollmentConfigurations/nope"},
                {"id": "5", "method": "POST", "url": "/deviceManagement/deviceEnrollmentConfigurations",
                 "headers": {"Content-Type": "application/json"}, "body": {"displayName": "no type"}}
            ]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["responses"].as_array().map(Vec::len), Some(5));
    assert_eq!(by_id(&v, "1")["status"], 200);
    // 5 defaults + the existing item (+ the batch's own create, which runs concurrently).
    let listed = by_id(&v, "1")["body"]["value"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(listed == 6 || listed == 7, "{listed}");
    let two = by_id(&v, "2");
    assert_eq!(two["status"], 201);
    assert_eq!(two["body"]["displayName"], "in a batch");
    assert!(two["headers"]["content-type"]
        .as_str()
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(by_id(&v, "3")["body"]["id"], id);
    assert_eq!(by_id(&v, "4")["status"], 404);
    assert_eq!(by_id(&v, "4")["body"]["error"]["code"], "ResourceNotFound");
    assert_eq!(by_id(&v, "5")["status"], 400);
    // The batch's write is real.
    assert_eq!(app.list("beta").await.len(), 7);
}

#[tokio::test]
async fn depends_on_runs_in_order_and_a_failed_dependency_gives_424() {
    let app = TestApp::spawn().await;
    let created = app.create("v1.0", limit_body("target", 2)).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/deviceManagement/deviceEnrollmentConfigurations/{id}");
    let r = app
        .post(
            "/v1.0/$batch",
            json!({"requests": [
                {"id": "a", "method": "PATCH", "url": path, "headers": {"content-type": "application/json"},
                 "body": {"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "limit": 9}},
                {"id": "b", "method": "GET", "url": path, "dependsOn": ["a"]},
                {"id": "c", "method": "DELETE", "url": "/deviceManagement/deviceEnrollmentConfigurations/missing"},
                {"id": "d", "method": "GET", "url": path, "dependsOn": ["c"]}
            ]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let v = r.json();
    assert_eq!(by_id(&v, "a")["status"], 204);
    assert_eq!(by_id(&v, "b")["body"]["limit"], 9, "b must run after a");
    assert_eq!(by_id(&v, "c")["status"], 404);
    assert_eq!(by_id(&v, "d")["status"], 424);
    assert_eq!(by_id(&v, "d")["body"]["error"]["code"], "FailedDependency");
    assert!(by_id(&v, "d")["body"]["error"]["innerError"]["request-id"].is_string());
}

#[tokio::test]
async fn malformed_batches_are_refused_whole() {
    let app = TestApp::spawn().await;
    let get = |id: &str| json!({"id": id, "method": "GET", "url": "/deviceManagement/deviceEnrollmentConfigurations"});
    let many: Vec<Value> = (0..21).map(|i| get(&i.to_string())).collect();
    app.post("/beta/$batch", json!({"requests": many}))
        .await
        .assert_error(400, "BadRequest");
    app.post("/beta/$batch", json!({"requests": [get("1"), get("1")]}))
        .await
        .assert_error(400, "BadRequest");
    let no_ct = json!({"requests": [{"id": "1", "method": "POST", "url": "/deviceManagement/deviceEnrollmentConfigurations", "body": {"x": 1}}]});
    let msg = app
        .post("/beta/$batch", no_ct)
        .await
        .assert_error(400, "BadRequest");
    assert!(msg.contains("Content-Type"), "{msg}");
    let forward = json!({"requests": [{"id": "1", "method": "GET", "url": "/x", "dependsOn": ["2"]}, get("2")]});
    app.post("/beta/$batch", forward)
        .await
        .assert_error(400, "BadRequest");
    app.post("/beta/$batch", json!({"nope": []}))
        .await
        .assert_error(400, "BadRequest");
    let twenty: Vec<Value> = (0..20).map(|i| get(&i.to_string())).collect();
    assert_eq!(
        app.post("/beta/$batch", json!({"requests": twenty}))
            .await
            .status
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn a_batch_needs_a_token_and_inner_requests_keep_their_permissions() {
    let app = TestApp::spawn().await;
    let body = json!({"requests": [{"id": "1", "method": "GET", "url": "/deviceManagement/deviceEnrollmentConfigurations"}]});
    app.call_as("", "POST", "/beta/$batch", Some(body.clone()))
        .await
        .assert_error(401, "InvalidAuthenticationToken");
    let reader = app.token_with(TENANT, &[READ], &[]);
    let write = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/deviceManagement/deviceEnrollmentConfigurations"},
        {"id": "2", "method": "POST", "url": "/deviceManagement/deviceEnrollmentConfigurations",
         "headers": {"content-type": "application/json"}, "body": limit_body("x", 1)}
    ]});
    let r = app
        .call_as(&reader, "POST", "/beta/$batch", Some(write))
        .await;
    assert_eq!(r.status.as_u16(), 200);
    let v = r.json();
    assert_eq!(by_id(&v, "1")["status"], 200);
    assert_eq!(by_id(&v, "2")["status"], 403);
}
