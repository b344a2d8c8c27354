//! graph-rs-sdk, unchanged, against enrollgraph: a round trip through its generated
//! `device_management()` API on /beta, and a shorter one on /v1.0.
//!
//! Environment: `ENROLLGRAPH_URL` (`http://127.0.0.1:PORT`) and `ENROLLGRAPH_TOKEN` (from
//! `enrollgraph token`). graph-rs-sdk only talks to Microsoft's hosts over HTTPS unless its
//! `test-util` feature is on: then `https_only(false)` and `use_test_endpoint` point it anywhere.
//!
//! Run: `cargo run --manifest-path clients/rust/Cargo.toml --example round_trip`

use std::error::Error;

use graph_rs_sdk::http::{ResponseExt, Url};
use graph_rs_sdk::{Graph, GraphClientConfiguration, ODataQuery};
use serde_json::{json, Value};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn check(ok: bool, what: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(format!("check failed: {what}").into())
    }
}

fn client(base: &str, version: &str, token: &str) -> Result<Graph> {
    let config = GraphClientConfiguration::new()
        .access_token(token)
        .https_only(false);
    let mut client = Graph::from(config);
    client.use_test_endpoint(&Url::parse(&format!("{base}/{version}"))?);
    Ok(client)
}

/// Sends the request and returns its status and JSON body (`Value::Null` when it has none).
async fn call(handler: graph_http::api_impl::RequestHandler) -> Result<(u16, Value)> {
    let response = handler.send().await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = response.bytes().await?;
    if bytes.is_empty() {
        return Ok((status, Value::Null));
    }
    // JSON, or the number of a `/$count` as text/plain.
    check(
        content_type.starts_with("application/json") || content_type.starts_with("text/plain"),
        &format!("a JSON content type, got {content_type:?}"),
    )?;
    Ok((status, serde_json::from_slice(&bytes)?))
}

async fn beta(base: &str, token: &str) -> Result<()> {
    let client = client(base, "beta", token)?;
    let dm = client.device_management();

    // Create two limit configurations.
    let mut ids = Vec::new();
    for (name, limit) in [("rust one", 3), ("rust two", 4)] {
        let (status, created) = call(
            dm.device_enrollment_configurations()
                .create_device_enrollment_configurations(&json!({
                    "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
                    "displayName": name,
                    "description": null,
                    "limit": limit
                })),
        )
        .await?;
        check(status == 201, &format!("create answers 201, got {status}"))?;
        check(created["limit"] == json!(limit), "limit is an integer")?;
        check(
            created["@odata.type"] == "#microsoft.graph.deviceEnrollmentLimitConfiguration",
            "created item has its @odata.type",
        )?;
        ids.push(created["id"].as_str().ok_or("no id")?.to_owned());
    }
    let (one, two) = (ids[0].as_str(), ids[1].as_str());
    let p1 = call(
        dm.device_enrollment_configuration(one)
            .get_device_enrollment_configurations(),
    )
    .await?
    .1["priority"]
        .as_i64()
        .ok_or("priority is not an integer")?;

    // Assign, add one assignment, read them back with $expand.
    let (status, _) = call(dm.device_enrollment_configuration(one).assign(&json!({
        "enrollmentConfigurationAssignments": [{
            "target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "7e2c1b0a-1111-4222-8333-944455556666"}
        }]
    })))
    .await?;
    check(status == 204, &format!("assign answers 204, got {status}"))?;
    let (status, assignment) = call(dm.device_enrollment_configuration(one).create_assignments(
        &json!({"target": {"@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget"}}),
    ))
    .await?;
    check(status == 201, "create assignment answers 201")?;
    let assignment_id = assignment["id"]
        .as_str()
        .ok_or("no assignment id")?
        .to_owned();
    let (_, expanded) = call(
        dm.device_enrollment_configuration(one)
            .get_device_enrollment_configurations()
            .expand(&["assignments"]),
    )
    .await?;
    let assignments = expanded["assignments"].as_array().ok_or("no assignments")?;
    check(assignments.len() == 2, "two assignments expanded")?;
    check(
        assignments
            .iter()
            .all(|a| a["@odata.type"] == "#microsoft.graph.enrollmentConfigurationAssignment"),
        "expanded assignments have @odata.type",
    )?;
    let (_, count) = call(
        dm.device_enrollment_configuration(one)
            .list_assignments()
            .filter(&[&format!("id eq '{assignment_id}'")]),
    )
    .await?;
    check(
        count["value"].as_array().map(Vec::len) == Some(1),
        "filter on assignments",
    )?;

    // setPriority moves the second in front of the first.
    let (status, _) = call(
        dm.device_enrollment_configuration(two)
            .set_priority(&json!({"priority": p1})),
    )
    .await?;
    check(
        status == 204,
        &format!("setPriority answers 204, got {status}"),
    )?;
    let (_, moved) = call(
        dm.device_enrollment_configuration(two)
            .get_device_enrollment_configurations(),
    )
    .await?;
    check(moved["priority"] == json!(p1), "setPriority moved the item")?;

    // PATCH with an explicit null for a nullable property.
    let (status, _) = call(
        dm.device_enrollment_configuration(two)
            .update_device_enrollment_configurations(&json!({
                "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
                "description": null,
                "limit": 6
            })),
    )
    .await?;
    check(status == 204, &format!("PATCH answers 204, got {status}"))?;

    // List every page, following each @odata.nextLink as-is.
    let pages = dm
        .device_enrollment_configurations()
        .list_device_enrollment_configurations()
        .select(&["id", "displayName"])
        .top("2")
        .paging()
        .json::<Value>()
        .await?;
    let mut listed = Vec::new();
    for page in pages {
        let body = page.into_body().map_err(|e| format!("page error: {e:?}"))?;
        for item in body["value"].as_array().ok_or("no value")? {
            check(
                item["@odata.type"].is_string(),
                "$select items have @odata.type",
            )?;
            listed.push(item["id"].as_str().unwrap_or_default().to_owned());
        }
    }
    let (_, total) = call(
        dm.device_enrollment_configurations()
            .list_device_enrollment_configurations()
            .count("true")
            .top("1"),
    )
    .await?;
    check(
        total["@odata.count"].as_u64() == Some(listed.len() as u64),
        &format!("paging saw all {} items", total["@odata.count"]),
    )?;
    check(
        listed.iter().any(|id| id == one) && listed.iter().any(|id| id == two),
        "both listed",
    )?;

    // $batch.
    let (status, batch) = call(client.batch(&json!({"requests": [
        {"id": "1", "method": "GET", "url": format!("/deviceManagement/deviceEnrollmentConfigurations/{one}")},
        {"id": "2", "method": "GET", "url": "/deviceManagement/deviceEnrollmentConfigurations/nope_Limit"}
    ]})))
    .await?;
    check(status == 200, "batch answers 200")?;
    let responses = batch["responses"].as_array().ok_or("no responses")?;
    check(
        responses
            .iter()
            .map(|r| r["status"].as_u64())
            .collect::<Vec<_>>()
            == [Some(200), Some(404)],
        "batch statuses",
    )?;

    // Delete the assignment and both configurations; then a 404 in Graph's envelope.
    let (status, _) = call(
        dm.device_enrollment_configuration(one)
            .delete_assignments(&assignment_id),
    )
    .await?;
    check(status == 204, "delete assignment answers 204")?;
    for id in [one, two] {
        let (status, _) = call(
            dm.device_enrollment_configuration(id)
                .delete_device_enrollment_configurations(),
        )
        .await?;
        check(status == 204, "delete answers 204")?;
    }
    let response = dm
        .device_enrollment_configuration(one)
        .get_device_enrollment_configurations()
        .send()
        .await?;
    check(
        response.status().as_u16() == 404,
        "deleted item answers 404",
    )?;
    let error = response.into_graph_error_message().await?;
    check(
        error.code_property().as_deref() == Some("ResourceNotFound"),
        &format!("404 code, got {:?}", error.code_property()),
    )?;
    println!("graph-rs-sdk beta round trip: created, assigned, reprioritised, paged ({} items), batched, deleted", listed.len());
    Ok(())
}

async fn v1(base: &str, token: &str) -> Result<()> {
    let client = client(base, "v1.0", token)?;
    let dm = client.device_management();
    let (status, created) = call(
        dm.device_enrollment_configurations()
            .create_device_enrollment_configurations(&json!({
                "@odata.type": "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration",
                "displayName": "rust v1.0",
                "pinMinimumLength": 8
            })),
    )
    .await?;
    check(status == 201, "v1.0 create answers 201")?;
    let id = created["id"].as_str().ok_or("no id")?.to_owned();
    check(
        created.get("roleScopeTagIds").is_none(),
        "v1.0 writes no beta-only property",
    )?;
    let (status, count) = call(
        dm.device_enrollment_configurations()
            .get_device_enrollment_configurations_count(),
    )
    .await
    .map(|(s, v)| (s, v.as_u64()))?;
    check(status == 200 && count.unwrap_or(0) >= 5, "v1.0 $count")?;
    let (status, _) = call(
        dm.device_enrollment_configuration(&id)
            .delete_device_enrollment_configurations(),
    )
    .await?;
    check(status == 204, "v1.0 delete answers 204")?;
    println!("graph-rs-sdk v1.0 round trip: created and deleted {id}");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let base = std::env::var("ENROLLGRAPH_URL").map_err(|_| "ENROLLGRAPH_URL is not set")?;
    let token = std::env::var("ENROLLGRAPH_TOKEN").map_err(|_| "ENROLLGRAPH_TOKEN is not set")?;
    let base = base.trim_end_matches('/');
    beta(base, &token).await?;
    v1(base, &token).await?;
    Ok(())
}
