//! `GET /{version}/openapi.json`: generated from the EDM, per version.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;

#[tokio::test]
async fn each_version_describes_exactly_its_own_surface() {
    let app = TestApp::spawn().await;
    let beta = app.call_as("", "GET", "/beta/openapi.json", None).await;
    assert_eq!(beta.status.as_u16(), 200, "{}", beta.text);
    assert!(beta
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let beta = beta.json();
    let v1 = app
        .call_as("", "GET", "/v1.0/openapi.json", None)
        .await
        .json();
    assert_eq!(beta["openapi"], "3.0.3");
    assert_eq!(beta["servers"][0]["url"], format!("{}/beta", app.base));
    let configs = "/deviceManagement/deviceEnrollmentConfigurations";
    for doc in [&beta, &v1] {
        for path in [
            "",
            "/$count",
            "/{deviceEnrollmentConfigurationId}",
            "/{deviceEnrollmentConfigurationId}/assign",
            "/{deviceEnrollmentConfigurationId}/setPriority",
            "/{deviceEnrollmentConfigurationId}/assignments",
            "/{deviceEnrollmentConfigurationId}/assignments/{enrollmentConfigurationAssignmentId}",
        ] {
            assert!(
                doc["paths"][format!("{configs}{path}")].is_object(),
                "missing {path}"
            );
        }
    }
    assert!(beta["paths"][format!("{configs}/hasPayloadLinks")].is_object());
    assert!(v1["paths"][format!("{configs}/hasPayloadLinks")].is_null());
    // Creatable kinds come from the EDM: 8 in beta, 4 in v1.0.
    let kinds = |doc: &serde_json::Value| {
        doc["paths"][configs]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["oneOf"]
            .as_array()
            .map(Vec::len)
    };
    assert_eq!(kinds(&beta), Some(8));
    assert_eq!(kinds(&v1), Some(4));
    let schemas = &v1["components"]["schemas"];
    assert!(schemas["microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration"].is_null());
    assert!(
        schemas["microsoft.graph.deviceEnrollmentConfiguration"]["properties"]["roleScopeTagIds"]
            .is_null()
    );
    assert!(
        beta["components"]["schemas"]["microsoft.graph.deviceEnrollmentConfiguration"]
            ["properties"]["roleScopeTagIds"]
            .is_object()
    );
}
