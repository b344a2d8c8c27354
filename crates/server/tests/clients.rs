//! Server incompatibilities found by the client compatibility suites (`clients/`): each test
//! reproduces one through HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;

/// Found by schemathesis against `openapi.json`: `"roleScopeTagIds": null` was stored and
/// written back as `null`, which no client model of a collection expects (and the OpenAPI
/// document says an array). A collection is never null in OData, so a null for one is Graph's
/// 400, on create and on PATCH, at the top level and inside complex values; nullable single
/// values still take an explicit `null`.
#[tokio::test]
async fn a_null_collection_is_refused_and_never_written() {
    let app = TestApp::spawn().await;
    for version in ["beta", "v1.0"] {
        let configs = format!("/{version}/deviceManagement/deviceEnrollmentConfigurations");
        let body = json!({
            "@odata.type": "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
            "displayName": "null collection",
            "selectedMobileAppIds": null
        });
        let r = app.post(&configs, body).await;
        if version == "v1.0" {
            // selectedMobileAppIds is beta-only.
            r.assert_error(400, "BadRequest");
            continue;
        }
        let message = r.assert_error(400, "BadRequest");
        assert!(
            message.contains("'selectedMobileAppIds'")
                && message.contains("Collection(Edm.String)[Nullable=False]"),
            "{message}"
        );
    }

    let r = app
        .post(
            CONFIGS,
            json!({"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "limit": 2, "roleScopeTagIds": null}),
        )
        .await;
    let message = r.assert_error(400, "BadRequest");
    assert!(message.contains("'roleScopeTagIds'"), "{message}");

    let r = app
        .post(
            CONFIGS,
            json!({
                "@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
                "iosRestriction": {"platformBlocked": true, "blockedManufacturers": null}
            }),
        )
        .await;
    let message = r.assert_error(400, "BadRequest");
    assert!(
        message.contains("iosRestriction.blockedManufacturers"),
        "{message}"
    );

    // Explicit nulls for nullable single values are fine, and collections are written as [].
    let created = app
        .create(
            "beta",
            json!({
                "@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
                "displayName": "nulls",
                "description": null,
                "iosRestriction": {"platformBlocked": true, "osMinimumVersion": null}
            }),
        )
        .await;
    assert_eq!(created["roleScopeTagIds"], json!([]));
    assert_eq!(created["iosRestriction"]["blockedManufacturers"], json!([]));
    let item = format!("{CONFIGS}/{}", created["id"].as_str().unwrap());
    let r = app.patch(&item, json!({"roleScopeTagIds": null})).await;
    r.assert_error(400, "BadRequest");
    let r = app.patch(&item, json!({"description": null})).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let back = app.get(&item).await.json();
    assert_eq!(back["roleScopeTagIds"], json!([]));
    assert_eq!(back["description"], json!(null));
}
