//! The seed: `POST /beta/deviceManagement/deviceEnrollmentConfigurations/{id}/assignments`
//! with the documented example body answers 201 with the created assignment.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn the_seed_example_creates_an_assignment() {
    let app = TestApp::spawn().await;
    let created = app.create("beta", limit_body("seed", 3)).await;
    let id = created["id"].as_str().unwrap_or_default();

    let r = app
        .post(
            &format!("{CONFIGS}/{id}/assignments"),
            json!({
                "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
                "target": {"@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget"}
            }),
        )
        .await;

    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    // The Location header points at the new assignment, and following it finds it.
    let location = r.header("location").unwrap_or_default().to_owned();
    assert!(location.starts_with(&app.base), "{location}");
    let a = r.json();
    assert_eq!(
        a["@odata.type"],
        "#microsoft.graph.enrollmentConfigurationAssignment"
    );
    assert!(a["id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        a["target"]["@odata.type"],
        "#microsoft.graph.deviceAndAppManagementAssignmentTarget"
    );
    let followed = app.get(location.trim_start_matches(&app.base)).await;
    assert_eq!(followed.status.as_u16(), 200, "{}", followed.text);
    assert_eq!(followed.json()["id"], a["id"]);
    let listed = app.get(&format!("{CONFIGS}/{id}/assignments")).await.json();
    assert_eq!(listed["value"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed["value"][0]["id"], a["id"]);
}
