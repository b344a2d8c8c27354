//! The service's rules (behaviour.md), through real HTTP: tenant defaults, server-made ids,
//! versions and timestamps, priorities and setPriority, what a default refuses, assign,
//! PATCH semantics, containment, `$count`, key forms, action names, the beta-only actions,
//! `$expand=assignments`, `@odata.context` and `$metadata`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// helpers

const LIMIT: &str = "#microsoft.graph.deviceEnrollmentLimitConfiguration";
const WHFB: &str = "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration";
const SINGLE: &str = "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration";

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

fn typed(odata_type: &str, name: &str) -> Value {
    json!({"@odata.type": odata_type, "displayName": name})
}

fn single(name: &str, platform: &str) -> Value {
    json!({"@odata.type": SINGLE, "displayName": name, "platformType": platform})
}

fn group_target(group: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": group})
}

fn assignment_body(group: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
        "target": group_target(group)
    })
}

/// True for `YYYY-MM-DDTHH:MM:SS.fffffffZ` (exactly 7 fractional digits).
fn is_seven_digit_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    b.len() == 28
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'.'
        && digits(20..27)
        && b[27] == b'Z'
}

/// True for `YYYY-MM-DDTHH:MM:SSZ`.
fn is_whole_second_timestamp(s: &str) -> bool {
    s.len() == 20 && s.ends_with('Z') && !s.contains('.') && s.as_bytes()[10] == b'T'
}

/// A `<guid>_<suffix>` id.
fn assert_server_id(id: &str, suffix: &str) {
    let (guid, rest) = id
        .split_once('_')
        .unwrap_or_else(|| panic!("id without '_': {id}"));
    assert_eq!(rest, suffix, "suffix of {id}");
    assert_eq!(guid.len(), 36, "guid part of {id}");
    assert!(
        guid.chars().all(|c| c.is_ascii_hexdigit() || c == '-') && guid.matches('-').count() == 4,
        "guid part of {id}"
    );
}

async fn get_config(app: &TestApp, id: &str) -> Value {
    let r = app.get(&format!("{CONFIGS}/{id}")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    r.json()
}

async fn priority_of(app: &TestApp, id: &str) -> i64 {
    get_config(app, id).await["priority"]
        .as_i64()
        .expect("priority")
}

/// The ids of the custom items of one `deviceEnrollmentConfigurationType` (and platform for
/// single-platform restrictions), in priority order; asserts the priorities are exactly 1..n.
async fn ranking(app: &TestApp, kind: &str, platform: Option<&str>) -> Vec<String> {
    let mut items: Vec<(i64, String)> = app
        .list("beta")
        .await
        .into_iter()
        .filter(|c| c["deviceEnrollmentConfigurationType"] == kind)
        .filter(|c| platform.is_none_or(|p| c["platformType"] == p))
        .filter(|c| c["priority"].as_i64() != Some(0))
        .map(|c| (c["priority"].as_i64().expect("priority"), id_of(&c)))
        .collect();
    items.sort();
    let priorities: Vec<i64> = items.iter().map(|(p, _)| *p).collect();
    let expected: Vec<i64> = (1..=items.len() as i64).collect();
    assert_eq!(
        priorities, expected,
        "ranking {kind}/{platform:?} is not 1..n"
    );
    items.into_iter().map(|(_, id)| id).collect()
}

async fn set_priority(app: &TestApp, id: &str, p: i64) -> Res {
    app.post(
        &format!("{CONFIGS}/{id}/setPriority"),
        json!({ "priority": p }),
    )
    .await
}

/// The assignments of a configuration, by id (lists have no documented order).
async fn assignments_of(app: &TestApp, id: &str) -> Vec<Value> {
    let r = app.get(&format!("{CONFIGS}/{id}/assignments")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    by_id(r.json()["value"].as_array().cloned().expect("value"))
}

fn by_id(mut items: Vec<Value>) -> Vec<Value> {
    items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    items
}

fn defaults_of(tenant: &str) -> Vec<(String, &'static str, &'static str)> {
    [
        (
            "DefaultLimit",
            "deviceEnrollmentLimitConfiguration",
            "limit",
        ),
        (
            "DefaultPlatformRestrictions",
            "deviceEnrollmentPlatformRestrictionsConfiguration",
            "platformRestrictions",
        ),
        (
            "DefaultWindowsHelloForBusiness",
            "deviceEnrollmentWindowsHelloForBusinessConfiguration",
            "windowsHelloForBusiness",
        ),
        (
            "DefaultWindows10EnrollmentCompletionPageConfiguration",
            "windows10EnrollmentCompletionPageConfiguration",
            "windows10EnrollmentCompletionPageConfiguration",
        ),
        (
            "WindowsRestore",
            "windowsRestoreDeviceEnrollmentConfiguration",
            "windowsRestore",
        ),
    ]
    .into_iter()
    .map(|(s, t, k)| (format!("{tenant}_{s}"), t, k))
    .collect()
}

// ---------------------------------------------------------------------------------------------
// tenant defaults

#[tokio::test]
async fn a_tenants_first_request_shows_its_five_defaults_in_beta() {
    let app = TestApp::spawn().await;
    let items = app.list("beta").await;
    let expected = defaults_of(TENANT);
    assert_eq!(items.len(), 5, "{items:#?}");
    for (id, ty, kind) in &expected {
        let c = items
            .iter()
            .find(|c| c["id"] == id.as_str())
            .unwrap_or_else(|| panic!("default {id} missing"));
        assert_eq!(c["@odata.type"], format!("#microsoft.graph.{ty}"), "{id}");
        assert_eq!(c["deviceEnrollmentConfigurationType"], *kind, "{id}");
        assert_eq!(c["displayName"], "All users and all devices", "{id}");
        assert_eq!(c["priority"], 0, "{id}");
        assert_eq!(c["version"], 0, "{id}");
        assert_eq!(c["roleScopeTagIds"], json!([]), "{id}");
        assert_eq!(c["createdDateTime"], "0001-01-01T00:00:00Z", "{id}");
        let modified = c["lastModifiedDateTime"].as_str().unwrap();
        assert!(is_whole_second_timestamp(modified), "{id}: {modified}");

        let a = assignments_of(&app, id).await;
        assert_eq!(a.len(), 1, "{id}: {a:#?}");
        assert_eq!(a[0]["id"], id.as_str());
        assert_eq!(
            a[0]["target"]["@odata.type"],
            "#microsoft.graph.allDevicesAssignmentTarget"
        );
        assert_eq!(
            a[0]["target"]["deviceAndAppManagementAssignmentFilterType"],
            "none"
        );
        assert_eq!(a[0]["source"], "direct");
        assert_eq!(a[0]["sourceId"], Value::Null);
    }
    let limit = get_config(&app, &format!("{TENANT}_DefaultLimit")).await;
    assert_eq!(limit["limit"], 5);
    let whfb = get_config(&app, &format!("{TENANT}_DefaultWindowsHelloForBusiness")).await;
    assert_eq!(whfb["state"], "notConfigured");
    assert_eq!(whfb["pinMinimumLength"], 6);
    assert_eq!(whfb["pinMaximumLength"], 127);
    let restrictions = get_config(&app, &format!("{TENANT}_DefaultPlatformRestrictions")).await;
    assert_eq!(
        restrictions["windowsMobileRestriction"]["platformBlocked"],
        true
    );
}

#[tokio::test]
async fn v1_shows_the_four_defaults_whose_types_exist_there() {
    let app = TestApp::spawn().await;
    // The very first request of the tenant is a v1.0 one.
    let items = app.list("v1.0").await;
    let mut ids: Vec<String> = items.iter().map(id_of).collect();
    ids.sort();
    let mut expected: Vec<String> = defaults_of(TENANT)
        .into_iter()
        .filter(|(_, t, _)| *t != "windowsRestoreDeviceEnrollmentConfiguration")
        .map(|(id, _, _)| id)
        .collect();
    expected.sort();
    assert_eq!(ids, expected);
    for c in &items {
        assert_eq!(c["priority"], 0);
        assert_eq!(c["version"], 0);
        assert_eq!(c["displayName"], "All users and all devices");
        assert!(
            c.get("roleScopeTagIds").is_none(),
            "v1.0 has no roleScopeTagIds: {c}"
        );
    }
    let restore = app
        .get(&format!("{CONFIGS_V1}/{TENANT}_WindowsRestore"))
        .await;
    restore.assert_error(404, "ResourceNotFound");
    // ... while beta has it.
    assert_eq!(app.list("beta").await.len(), 5);
}

#[tokio::test]
async fn each_tenant_gets_its_own_defaults() {
    let app = TestApp::spawn().await;
    let other = app.token_with(OTHER_TENANT, &[WRITE], &[]);
    let r = app.call_as(&other, "GET", CONFIGS, None).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let mut ids: Vec<String> = r.json()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    ids.sort();
    let mut expected: Vec<String> = defaults_of(OTHER_TENANT)
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    expected.sort();
    assert_eq!(ids, expected);
}

// ---------------------------------------------------------------------------------------------
// create: ids, version, timestamps, type

#[tokio::test]
async fn created_items_get_server_made_ids_per_kind() {
    let app = TestApp::spawn().await;
    let cases = [
        (typed(LIMIT, "l"), "Limit", "limit"),
        (
            typed(
                "#microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration",
                "p",
            ),
            "PlatformRestrictions",
            "platformRestrictions",
        ),
        (
            single("s", "ios"),
            "SinglePlatformRestriction",
            "singlePlatformRestriction",
        ),
        (
            typed(WHFB, "w"),
            "WindowsHelloForBusiness",
            "windowsHelloForBusiness",
        ),
        (
            typed(
                "#microsoft.graph.windows10EnrollmentCompletionPageConfiguration",
                "e",
            ),
            "Windows10EnrollmentCompletionPageConfiguration",
            "windows10EnrollmentCompletionPageConfiguration",
        ),
        (
            typed(
                "#microsoft.graph.deviceComanagementAuthorityConfiguration",
                "c",
            ),
            "DeviceComanagementAuthorityConfiguration",
            "deviceComanagementAuthorityConfiguration",
        ),
        (
            typed(
                "#microsoft.graph.deviceEnrollmentNotificationConfiguration",
                "n",
            ),
            "EnrollmentNotificationsConfiguration",
            "enrollmentNotificationsConfiguration",
        ),
        (
            typed(
                "#microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration",
                "r",
            ),
            "WindowsRestore",
            "windowsRestore",
        ),
    ];
    for (mut body, suffix, kind) in cases {
        // Client-sent managed values are ignored.
        body["id"] = json!("client-chosen-id");
        body["deviceEnrollmentConfigurationType"] = json!("limit");
        body["version"] = json!(7);
        body["createdDateTime"] = json!("2017-01-01T00:02:43.5775965-08:00");
        let c = app.create("beta", body.clone()).await;
        let id = id_of(&c);
        assert_server_id(&id, suffix);
        assert_eq!(c["@odata.type"], body["@odata.type"]);
        assert_eq!(c["deviceEnrollmentConfigurationType"], kind, "{c}");
        assert_eq!(c["version"], 1, "{c}");
        let created = c["createdDateTime"].as_str().unwrap();
        assert!(is_seven_digit_timestamp(created), "{created}");
        assert_eq!(c["lastModifiedDateTime"], c["createdDateTime"]);
        // what was created is what is read back
        let mut got = get_config(&app, &id).await;
        let mut sent = c.clone();
        got.as_object_mut().unwrap().remove("@odata.context");
        sent.as_object_mut().unwrap().remove("@odata.context");
        assert_eq!(got, sent);
    }
    let r = app.get(&format!("{CONFIGS}/client-chosen-id")).await;
    r.assert_error(404, "ResourceNotFound");
}

#[tokio::test]
async fn create_answers_201_with_the_entity_context_and_a_location() {
    let app = TestApp::spawn().await;
    let r = app.post(CONFIGS, limit_body("ctx", 3)).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let c = r.json();
    assert_eq!(
        c["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/deviceEnrollmentConfigurations/$entity",
            app.base
        )
    );
    assert_eq!(c["limit"], 3);
    assert_eq!(c["displayName"], "ctx");
    let location = r.header("location").expect("Location");
    assert!(location.ends_with(&format!("deviceEnrollmentConfigurations('{}')", id_of(&c))));

    let r = app.post(CONFIGS_V1, limit_body("ctx1", 2)).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(
        r.json()["@odata.context"],
        format!(
            "{}/v1.0/$metadata#deviceManagement/deviceEnrollmentConfigurations/$entity",
            app.base
        )
    );
}

#[tokio::test]
async fn patch_bumps_the_version_of_custom_items_and_moves_last_modified() {
    let app = TestApp::spawn().await;
    let c = app.create("beta", limit_body("v", 3)).await;
    let id = id_of(&c);
    let created = c["createdDateTime"].clone();
    let mut last = c["lastModifiedDateTime"].as_str().unwrap().to_owned();
    for n in 2..=4 {
        let r = app
            .patch(
                &format!("{CONFIGS}/{id}"),
                json!({"@odata.type": LIMIT, "limit": n + 10}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 204, "{}", r.text);
        assert!(r.text.is_empty());
        let got = get_config(&app, &id).await;
        assert_eq!(got["version"], n);
        assert_eq!(got["limit"], n + 10);
        assert_eq!(got["createdDateTime"], created);
        let modified = got["lastModifiedDateTime"].as_str().unwrap().to_owned();
        assert!(is_seven_digit_timestamp(&modified), "{modified}");
        assert!(modified > last, "{modified} <= {last}");
        last = modified;
    }
    // a failed PATCH changes nothing
    let r = app
        .patch(&format!("{CONFIGS}/{id}"), json!({"limit": "many"}))
        .await;
    r.assert_error(400, "BadRequest");
    let got = get_config(&app, &id).await;
    assert_eq!(got["version"], 4);
    assert_eq!(got["lastModifiedDateTime"], last.as_str());
}

#[tokio::test]
async fn patch_changes_only_the_given_properties() {
    let app = TestApp::spawn().await;
    let c = app
        .create(
            "beta",
            json!({
                "@odata.type": WHFB,
                "displayName": "before",
                "description": "kept",
                "pinMinimumLength": 8,
                "state": "enabled",
                "roleScopeTagIds": ["0"]
            }),
        )
        .await;
    let id = id_of(&c);
    let r = app
        .patch(
            &format!("{CONFIGS}/{id}"),
            json!({"displayName": "after", "pinMaximumLength": 64}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let got = get_config(&app, &id).await;
    assert_eq!(got["displayName"], "after");
    assert_eq!(got["pinMaximumLength"], 64);
    assert_eq!(got["description"], "kept");
    assert_eq!(got["pinMinimumLength"], 8);
    assert_eq!(got["state"], "enabled");
    assert_eq!(got["roleScopeTagIds"], json!(["0"]));
    // every other property is as before
    let mut before = c.clone();
    let mut after = got.clone();
    for v in [&mut before, &mut after] {
        let o = v.as_object_mut().unwrap();
        for k in [
            "@odata.context",
            "displayName",
            "pinMaximumLength",
            "version",
            "lastModifiedDateTime",
        ] {
            o.remove(k);
        }
    }
    assert_eq!(before, after);
}

#[tokio::test]
async fn create_through_a_cast_segment_takes_its_type_and_refuses_another() {
    let app = TestApp::spawn().await;
    let cast = format!("{CONFIGS}/microsoft.graph.deviceEnrollmentLimitConfiguration");
    let r = app
        .post(&cast, json!({"displayName": "cast", "limit": 2}))
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let c = r.json();
    assert_eq!(c["@odata.type"], LIMIT);
    assert_server_id(c["id"].as_str().unwrap(), "Limit");
    // the body may name the same type, without '#' and in any case
    let r = app
        .post(
            &cast,
            json!({"@odata.type": "Microsoft.Graph.DeviceEnrollmentLimitConfiguration", "limit": 3}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    assert_eq!(r.json()["@odata.type"], LIMIT);
    // ... but not another one
    let r = app.post(&cast, typed(WHFB, "wrong")).await;
    let msg = r.assert_error(400, "BadRequest");
    assert!(
        msg.contains("deviceEnrollmentWindowsHelloForBusinessConfiguration"),
        "{msg}"
    );
    assert_eq!(ranking(&app, "limit", None).await.len(), 2);
    assert!(ranking(&app, "windowsHelloForBusiness", None)
        .await
        .is_empty());
}

#[tokio::test]
async fn the_platform_of_a_single_platform_restriction_cannot_change() {
    let app = TestApp::spawn().await;
    let c = app.create("beta", single("s", "ios")).await;
    let url = format!("{CONFIGS}/{}", id_of(&c));
    let r = app.patch(&url, json!({"platformType": "android"})).await;
    let msg = r.assert_error(400, "BadRequest");
    assert!(msg.contains("platformType"), "{msg}");
    // the same platform, in another spelling, is no change
    let r = app
        .patch(&url, json!({"platformType": "IOS", "displayName": "t"}))
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let got = get_config(&app, &id_of(&c)).await;
    assert_eq!(got["platformType"], "ios");
    assert_eq!(got["displayName"], "t");
    assert_eq!(
        ranking(&app, "singlePlatformRestriction", Some("ios")).await,
        vec![id_of(&c)]
    );
}

#[tokio::test]
async fn docs_fidelity_answers_patch_with_200_and_the_entity() {
    let dir = tempfile::Builder::new().prefix("eg").tempdir().unwrap();
    let mut settings = settings_for(dir.path());
    settings.fidelity = api::Fidelity::Docs;
    let app = TestApp::spawn_with(dir, settings).await;
    let id = id_of(&app.create("beta", limit_body("d", 1)).await);
    let r = app
        .patch(&format!("{CONFIGS}/{id}"), json!({"limit": 6}))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["limit"], 6);
    assert_eq!(v["version"], 2);
    assert_eq!(
        v["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/deviceEnrollmentConfigurations/$entity",
            app.base
        )
    );
    let a = app
        .post(&format!("{CONFIGS}/{id}/assignments"), assignment_body("g"))
        .await
        .json();
    let r = app
        .patch(
            &format!("{CONFIGS}/{id}/assignments/{}", id_of(&a)),
            json!({"target": group_target("h")}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.json()["target"]["groupId"], "h");
}

#[tokio::test]
async fn server_managed_properties_in_patch_bodies_are_ignored() {
    let app = TestApp::spawn().await;
    let a = id_of(&app.create("beta", limit_body("a", 1)).await);
    let b = app.create("beta", limit_body("b", 1)).await;
    let r = app
        .patch(
            &format!("{CONFIGS}/{}", id_of(&b)),
            json!({
                "@odata.type": LIMIT,
                "id": "other",
                "priority": 1,
                "version": 99,
                "createdDateTime": "2017-01-01T00:00:00Z",
                "deviceEnrollmentConfigurationType": "windowsRestore",
                "limit": 9
            }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let got = get_config(&app, &id_of(&b)).await;
    assert_eq!(got["id"], b["id"]);
    assert_eq!(got["priority"], 2);
    assert_eq!(got["version"], 2);
    assert_eq!(got["createdDateTime"], b["createdDateTime"]);
    assert_eq!(got["deviceEnrollmentConfigurationType"], "limit");
    assert_eq!(got["limit"], 9);
    assert_eq!(priority_of(&app, &a).await, 1);
}

// ---------------------------------------------------------------------------------------------
// priorities

#[tokio::test]
async fn priorities_are_ranked_per_kind_and_per_platform() {
    let app = TestApp::spawn().await;
    let mut limits = Vec::new();
    for i in 0..3 {
        let mut body = limit_body(&format!("l{i}"), 1);
        body["priority"] = json!(50); // ignored
        let c = app.create("beta", body).await;
        assert_eq!(c["priority"], i + 1, "{c}");
        limits.push(id_of(&c));
    }
    let w1 = app.create("beta", typed(WHFB, "w1")).await;
    let w2 = app.create("beta", typed(WHFB, "w2")).await;
    assert_eq!(
        (w1["priority"].clone(), w2["priority"].clone()),
        (json!(1), json!(2))
    );
    let ios1 = app.create("beta", single("i1", "ios")).await;
    let android = app.create("beta", single("a1", "android")).await;
    let ios2 = app.create("beta", single("i2", "ios")).await;
    assert_eq!(ios1["priority"], 1);
    assert_eq!(android["priority"], 1);
    assert_eq!(ios2["priority"], 2);
    // a limit created through v1.0 joins the same ranking
    let v1 = app.create("v1.0", limit_body("l-v1", 1)).await;
    assert_eq!(v1["priority"], 4);
    limits.push(id_of(&v1));

    assert_eq!(ranking(&app, "limit", None).await, limits);
    assert_eq!(
        ranking(&app, "windowsHelloForBusiness", None).await,
        vec![id_of(&w1), id_of(&w2)]
    );
    assert_eq!(
        ranking(&app, "singlePlatformRestriction", Some("ios")).await,
        vec![id_of(&ios1), id_of(&ios2)]
    );
    assert_eq!(
        ranking(&app, "singlePlatformRestriction", Some("android")).await,
        vec![id_of(&android)]
    );
    // moving within one platform leaves the other alone
    let r = set_priority(&app, &id_of(&ios2), 1).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    assert_eq!(
        ranking(&app, "singlePlatformRestriction", Some("ios")).await,
        vec![id_of(&ios2), id_of(&ios1)]
    );
    assert_eq!(priority_of(&app, &id_of(&android)).await, 1);
    assert_eq!(ranking(&app, "limit", None).await, limits);
}

#[tokio::test]
async fn set_priority_moves_the_item_and_shifts_those_between() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(id_of(
            &app.create("beta", limit_body(&format!("p{i}"), 1)).await,
        ));
    }
    // a model of the ranking, moved the same way as the server's
    let mut model = ids.clone();
    let moves: [(usize, i64); 10] = [
        (5, 2), // up
        (0, 6), // down to the end
        (3, 1), // to the top
        (2, 5), // down
        (4, 2), // up
        (1, 3), // up by one
        (5, 6), // down to the end
        (0, 1), // to the top
        (3, 3), // down by one
        (1, 3), // up by one
    ];
    for (who, to) in moves {
        let id = &ids[who];
        let at = model.iter().position(|x| x == id).unwrap();
        assert_ne!(
            at + 1,
            usize::try_from(to).unwrap(),
            "the test's move is a no-op"
        );
        let r = set_priority(&app, id, to).await;
        assert_eq!(r.status.as_u16(), 204, "move {id} to {to}: {}", r.text);
        assert!(r.text.is_empty());
        model.retain(|x| x != id);
        model.insert(usize::try_from(to - 1).unwrap(), id.clone());
        assert_eq!(
            ranking(&app, "limit", None).await,
            model,
            "after moving {who} to {to}"
        );
    }
    // setPriority is not an edit of the item's settings: defaults still at 0 and untouched
    let d = get_config(&app, &format!("{TENANT}_DefaultLimit")).await;
    assert_eq!(d["priority"], 0);
}

#[tokio::test]
async fn set_priority_refuses_out_of_range_unchanged_and_defaults() {
    let app = TestApp::spawn().await;
    let a = id_of(&app.create("beta", limit_body("a", 1)).await);
    let b = id_of(&app.create("beta", limit_body("b", 1)).await);
    let c = id_of(&app.create("beta", limit_body("c", 1)).await);
    let before = ranking(&app, "limit", None).await;
    assert_eq!(before, vec![a.clone(), b.clone(), c.clone()]);

    for p in [0, -1, 4, 100, 2_147_483_647] {
        let r = set_priority(&app, &b, p).await;
        let msg = r.assert_error(400, "BadRequest");
        assert!(msg.contains("priority"), "{msg}");
    }
    let r = set_priority(&app, &b, 2).await; // unchanged
    r.assert_error(400, "BadRequest");
    let r = set_priority(&app, &format!("{TENANT}_DefaultLimit"), 1).await;
    let msg = r.assert_error(400, "BadRequest");
    assert!(msg.contains("default"), "{msg}");
    // bad bodies
    for body in [
        json!({}),
        json!({"priority": "1"}),
        json!({"priority": 1.5}),
        json!({"priority": null}),
        json!({"priority": 1, "extra": true}),
    ] {
        let r = app
            .post(&format!("{CONFIGS}/{a}/setPriority"), body.clone())
            .await;
        r.assert_error(400, "BadRequest");
    }
    assert_eq!(ranking(&app, "limit", None).await, before);
    assert_eq!(
        get_config(&app, &format!("{TENANT}_DefaultLimit")).await["priority"],
        0
    );
    // a missing item is 404, not 400
    let r = set_priority(&app, "00000000-0000-0000-0000-000000000000_Limit", 1).await;
    r.assert_error(404, "ResourceNotFound");
}

#[tokio::test]
async fn delete_compacts_the_ranking_and_create_appends() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id_of(
            &app.create("beta", limit_body(&format!("d{i}"), 1)).await,
        ));
    }
    let other = id_of(&app.create("beta", typed(WHFB, "w")).await);
    let r = app.delete(&format!("{CONFIGS}/{}", ids[1])).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    assert!(r.text.is_empty());
    ids.remove(1);
    assert_eq!(ranking(&app, "limit", None).await, ids);
    let r = app.delete(&format!("{CONFIGS}/{}", ids[3])).await; // the last one
    assert_eq!(r.status.as_u16(), 204);
    ids.remove(3);
    assert_eq!(ranking(&app, "limit", None).await, ids);
    let r = app.delete(&format!("{CONFIGS}/{}", ids[0])).await; // the first one
    assert_eq!(r.status.as_u16(), 204);
    ids.remove(0);
    assert_eq!(ranking(&app, "limit", None).await, ids);
    let fresh = app.create("beta", limit_body("fresh", 1)).await;
    assert_eq!(fresh["priority"], 3);
    ids.push(id_of(&fresh));
    assert_eq!(ranking(&app, "limit", None).await, ids);
    assert_eq!(priority_of(&app, &other).await, 1);
    // deleting twice is 404
    let r = app.delete(&format!("{CONFIGS}/{}", ids[0])).await;
    assert_eq!(r.status.as_u16(), 204);
    let r = app.delete(&format!("{CONFIGS}/{}", ids[0])).await;
    r.assert_error(404, "ResourceNotFound");
}

// ---------------------------------------------------------------------------------------------
// tenant defaults: what can and cannot change

#[tokio::test]
async fn defaults_take_settings_patches_but_keep_version_zero() {
    let app = TestApp::spawn().await;
    let id = format!("{TENANT}_DefaultLimit");
    let before = get_config(&app, &id).await;
    // lastModifiedDateTime of defaults has whole seconds: wait for the next one
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = app
        .patch(
            &format!("{CONFIGS}/{id}"),
            // unchanged name and tags are fine alongside a settings change
            json!({
                "@odata.type": LIMIT,
                "id": id,
                "limit": 9,
                "displayName": "All users and all devices",
                "roleScopeTagIds": []
            }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let after = get_config(&app, &id).await;
    assert_eq!(after["limit"], 9);
    assert_eq!(after["version"], 0);
    assert_eq!(after["priority"], 0);
    assert_eq!(after["createdDateTime"], "0001-01-01T00:00:00Z");
    let (b, a) = (
        before["lastModifiedDateTime"].as_str().unwrap(),
        after["lastModifiedDateTime"].as_str().unwrap(),
    );
    assert!(is_whole_second_timestamp(a), "{a}");
    assert!(a > b, "lastModifiedDateTime did not move: {b} -> {a}");

    let esp = format!("{TENANT}_DefaultWindows10EnrollmentCompletionPageConfiguration");
    let r = app
        .patch(
            &format!("{CONFIGS}/{esp}"),
            json!({"showInstallationProgress": true, "installProgressTimeoutInMinutes": 60}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let got = get_config(&app, &esp).await;
    assert_eq!(got["showInstallationProgress"], true);
    assert_eq!(got["installProgressTimeoutInMinutes"], 60);
    assert_eq!(got["version"], 0);
}

#[tokio::test]
async fn defaults_refuse_delete_assign_set_priority_and_renames() {
    let app = TestApp::spawn().await;
    let custom = id_of(&app.create("beta", limit_body("c", 1)).await);
    let list_before = app.list("beta").await;

    for (id, _, _) in defaults_of(TENANT) {
        let url = format!("{CONFIGS}/{id}");
        let assigns_before = assignments_of(&app, &id).await;

        let r = app.delete(&url).await;
        let msg = r.assert_error(400, "BadRequest");
        assert!(msg.contains(&id), "{msg}");

        for list in [json!([]), json!([assignment_body("g1")])] {
            let r = app
                .post(
                    &format!("{url}/assign"),
                    json!({ "enrollmentConfigurationAssignments": list }),
                )
                .await;
            r.assert_error(400, "BadRequest");
        }
        let r = set_priority(&app, &id, 1).await;
        r.assert_error(400, "BadRequest");

        for change in [
            json!({"displayName": "renamed"}),
            json!({"description": "changed"}),
            json!({"roleScopeTagIds": ["1"]}),
        ] {
            let r = app.patch(&url, change.clone()).await;
            let msg = r.assert_error(400, "BadRequest");
            let prop = change.as_object().unwrap().keys().next().unwrap().clone();
            assert!(msg.contains(&prop), "{msg}");
        }

        // the assignments of a default cannot be changed one by one either
        let r = app
            .post(&format!("{url}/assignments"), assignment_body("g2"))
            .await;
        r.assert_error(400, "BadRequest");
        let r = app
            .patch(
                &format!("{url}/assignments/{id}"),
                json!({"target": group_target("g3")}),
            )
            .await;
        r.assert_error(400, "BadRequest");
        let r = app.delete(&format!("{url}/assignments/{id}")).await;
        r.assert_error(400, "BadRequest");

        assert_eq!(assignments_of(&app, &id).await, assigns_before, "{id}");
    }

    // a rename refused together with a settings change leaves the settings alone too
    let limit = format!("{TENANT}_DefaultLimit");
    let r = app
        .patch(
            &format!("{CONFIGS}/{limit}"),
            json!({"limit": 12, "displayName": "renamed"}),
        )
        .await;
    r.assert_error(400, "BadRequest");

    assert_eq!(app.list("beta").await, list_before);
    assert_eq!(priority_of(&app, &custom).await, 1);
}

// ---------------------------------------------------------------------------------------------
// assignments and assign

#[tokio::test]
async fn assign_replaces_the_whole_set_and_an_empty_list_clears_it() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("a", 1)).await);
    let url = format!("{CONFIGS}/{id}/assign");
    let r = app
        .post(
            &format!("{CONFIGS}/{id}/assignments"),
            assignment_body("g0"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);

    let r = app
        .post(
            &url,
            json!({"enrollmentConfigurationAssignments": [
                assignment_body("g1"),
                {"target": {"@odata.type": "microsoft.graph.exclusionGroupAssignmentTarget", "groupId": "g2"}},
                {"target": {"@odata.type": "#microsoft.graph.allLicensedUsersAssignmentTarget"}}
            ]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    assert!(r.text.is_empty());
    let got = assignments_of(&app, &id).await;
    let mut targets: Vec<(String, Value)> = got
        .iter()
        .map(|a| {
            (
                a["target"]["@odata.type"].as_str().unwrap().to_owned(),
                a["target"]["groupId"].clone(),
            )
        })
        .collect();
    targets.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        targets,
        vec![
            (
                "#microsoft.graph.allLicensedUsersAssignmentTarget".to_owned(),
                Value::Null
            ),
            (
                "#microsoft.graph.exclusionGroupAssignmentTarget".to_owned(),
                json!("g2")
            ),
            (
                "#microsoft.graph.groupAssignmentTarget".to_owned(),
                json!("g1")
            ),
        ]
    );
    for a in &got {
        assert!(a["id"].as_str().is_some_and(|s| !s.is_empty()), "{a}");
        assert_eq!(
            a["@odata.type"],
            "#microsoft.graph.enrollmentConfigurationAssignment"
        );
    }

    // the documented example: the abstract base target, without '#'
    let r = app
        .post(
            &url,
            json!({"enrollmentConfigurationAssignments": [{
                "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
                "id": "705b021c-021c-705b-1c02-5b701c025b70",
                "target": {"@odata.type": "microsoft.graph.deviceAndAppManagementAssignmentTarget"}
            }]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let got = assignments_of(&app, &id).await;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(
        got[0]["target"]["@odata.type"],
        "#microsoft.graph.deviceAndAppManagementAssignmentTarget"
    );

    // a bad item refuses the whole list and keeps the old set
    let r = app
        .post(
            &url,
            json!({"enrollmentConfigurationAssignments": [
                assignment_body("ok"),
                {"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": 5}}
            ]}),
        )
        .await;
    let msg = r.assert_error(400, "BadRequest");
    assert!(msg.contains("groupId"), "{msg}");
    assert_eq!(assignments_of(&app, &id).await, got);

    let r = app
        .post(&url, json!({"enrollmentConfigurationAssignments": []}))
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    assert!(assignments_of(&app, &id).await.is_empty());
    let r = app.get(&format!("{CONFIGS}/{id}/assignments/$count")).await;
    assert_eq!(r.text, "0");
}

#[tokio::test]
async fn assignments_crud() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("crud", 1)).await);
    let coll = format!("{CONFIGS}/{id}/assignments");

    let r = app
        .post(
            &coll,
            json!({
                "target": {
                    "@odata.type": "#microsoft.graph.groupAssignmentTarget",
                    "groupId": "g1",
                    "deviceAndAppManagementAssignmentFilterId": "f1",
                    "deviceAndAppManagementAssignmentFilterType": "include"
                },
                "source": "direct",
                "sourceId": "s1"
            }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let a = r.json();
    let aid = id_of(&a);
    assert_eq!(
        a["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/deviceEnrollmentConfigurations('{id}')/assignments/$entity",
            app.base
        )
    );
    assert_eq!(a["target"]["groupId"], "g1");
    assert_eq!(
        a["target"]["deviceAndAppManagementAssignmentFilterType"],
        "include"
    );
    assert_eq!(a["sourceId"], "s1");

    let second = app.post(&coll, assignment_body("g2")).await;
    assert_eq!(second.status.as_u16(), 201, "{}", second.text);
    let second_id = id_of(&second.json());
    assert_ne!(second_id, aid);

    let r = app.get(&format!("{coll}/{aid}")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(r.json(), a);

    let r = app.get(&coll).await;
    let list = r.json();
    assert_eq!(
        list["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/deviceEnrollmentConfigurations('{id}')/assignments",
            app.base
        )
    );
    let ids: Vec<String> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    let mut want = vec![aid.clone(), second_id.clone()];
    let mut ids = ids;
    want.sort();
    ids.sort();
    assert_eq!(ids, want);

    // PATCH: 204, only the given properties change
    let r = app
        .patch(
            &format!("{coll}/{aid}"),
            json!({"target": {"@odata.type": "microsoft.graph.exclusionGroupAssignmentTarget", "groupId": "g9"}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let got = app.get(&format!("{coll}/{aid}")).await.json();
    assert_eq!(
        got["target"]["@odata.type"],
        "#microsoft.graph.exclusionGroupAssignmentTarget"
    );
    assert_eq!(got["target"]["groupId"], "g9");
    assert_eq!(got["sourceId"], "s1");
    assert_eq!(got["source"], "direct");
    assert_eq!(got["id"], aid.as_str());

    // DELETE: 204, then gone
    let r = app.delete(&format!("{coll}/{aid}")).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    assert!(r.text.is_empty());
    app.get(&format!("{coll}/{aid}"))
        .await
        .assert_error(404, "ResourceNotFound");
    app.delete(&format!("{coll}/{aid}"))
        .await
        .assert_error(404, "ResourceNotFound");
    app.patch(&format!("{coll}/{aid}"), json!({"sourceId": "x"}))
        .await
        .assert_error(404, "ResourceNotFound");
    let ids: Vec<String> = assignments_of(&app, &id).await.iter().map(id_of).collect();
    assert_eq!(ids, vec![second_id]);

    // v1.0 reads the same assignments, without the beta-only properties
    let v1 = app
        .get(&format!("{CONFIGS_V1}/{id}/assignments"))
        .await
        .json();
    let item = &v1["value"][0];
    assert_eq!(item["target"]["groupId"], "g2");
    assert!(item.get("source").is_none(), "{item}");
    assert!(
        item["target"]
            .get("deviceAndAppManagementAssignmentFilterType")
            .is_none(),
        "{item}"
    );
}

#[tokio::test]
async fn deleting_a_configuration_deletes_its_assignments() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("gone", 1)).await);
    let keep = id_of(&app.create("beta", limit_body("kept", 1)).await);
    let r = app
        .post(&format!("{CONFIGS}/{id}/assignments"), assignment_body("g"))
        .await;
    assert_eq!(r.status.as_u16(), 201);
    let aid = id_of(&r.json());
    let r = app
        .post(
            &format!("{CONFIGS}/{keep}/assignments"),
            assignment_body("k"),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201);

    assert_eq!(
        app.delete(&format!("{CONFIGS}/{id}")).await.status.as_u16(),
        204
    );
    app.get(&format!("{CONFIGS}/{id}"))
        .await
        .assert_error(404, "ResourceNotFound");
    app.get(&format!("{CONFIGS}/{id}/assignments"))
        .await
        .assert_error(404, "ResourceNotFound");
    app.get(&format!("{CONFIGS}/{id}/assignments/{aid}"))
        .await
        .assert_error(404, "ResourceNotFound");
    app.get(&format!("{CONFIGS}/{id}/assignments/$count"))
        .await
        .assert_error(404, "ResourceNotFound");
    assert_eq!(assignments_of(&app, &keep).await.len(), 1);
    // a new item never inherits them
    let fresh = id_of(&app.create("beta", limit_body("fresh", 1)).await);
    assert!(assignments_of(&app, &fresh).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// $count, keys, action names

#[tokio::test]
async fn count_answers_plain_text_on_both_collections() {
    let app = TestApp::spawn().await;
    let r = app.get(&format!("{CONFIGS}/$count")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert_eq!(r.text, "5");
    let id = id_of(&app.create("beta", limit_body("c", 1)).await);
    app.create("beta", typed(WHFB, "w")).await;
    assert_eq!(app.get(&format!("{CONFIGS}/$count")).await.text, "7");
    assert_eq!(app.get(&format!("{CONFIGS_V1}/$count")).await.text, "6");
    // through a cast
    let r = app
        .get(&format!(
            "{CONFIGS}/microsoft.graph.deviceEnrollmentLimitConfiguration/$count"
        ))
        .await;
    assert_eq!(r.text, "2");

    let count = format!("{CONFIGS}/{id}/assignments/$count");
    assert_eq!(app.get(&count).await.text, "0");
    for g in ["a", "b", "c"] {
        app.post(&format!("{CONFIGS}/{id}/assignments"), assignment_body(g))
            .await;
    }
    let r = app.get(&count).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert_eq!(r.text, "3");
    assert_eq!(
        app.get(&format!("{CONFIGS_V1}/{id}/assignments/$count"))
            .await
            .text,
        "3"
    );
}

#[tokio::test]
async fn keys_work_as_segments_and_in_parentheses() {
    let app = TestApp::spawn().await;
    let c = app.create("beta", limit_body("k", 4)).await;
    let id = id_of(&c);
    let a = app
        .post(&format!("{CONFIGS}/{id}/assignments"), assignment_body("g"))
        .await
        .json();
    let aid = id_of(&a);
    for url in [
        format!("{CONFIGS}/{id}"),
        format!("{CONFIGS}('{id}')"),
        format!("{CONFIGS}(id='{id}')"),
        format!("{CONFIGS}({id})"),
    ] {
        let r = app.get(&url).await;
        assert_eq!(r.status.as_u16(), 200, "{url}: {}", r.text);
        assert_eq!(r.json()["id"], id.as_str(), "{url}");
    }
    for url in [
        format!("{CONFIGS}/{id}/assignments/{aid}"),
        format!("{CONFIGS}('{id}')/assignments('{aid}')"),
        format!("{CONFIGS}('{id}')/assignments/{aid}"),
        format!("{CONFIGS}/{id}/assignments(id='{aid}')"),
    ] {
        let r = app.get(&url).await;
        assert_eq!(r.status.as_u16(), 200, "{url}: {}", r.text);
        assert_eq!(r.json()["id"], aid.as_str(), "{url}");
    }
    // writes through the parenthesised form
    let r = app
        .patch(&format!("{CONFIGS}('{id}')"), json!({"limit": 8}))
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    assert_eq!(get_config(&app, &id).await["limit"], 8);
    let r = app.delete(&format!("{CONFIGS}('{id}')")).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    app.get(&format!("{CONFIGS}/{id}"))
        .await
        .assert_error(404, "ResourceNotFound");
}

#[tokio::test]
async fn action_names_match_case_insensitively_and_with_namespace() {
    let app = TestApp::spawn().await;
    let a = id_of(&app.create("beta", limit_body("a", 1)).await);
    let b = id_of(&app.create("beta", limit_body("b", 1)).await);
    let c = id_of(&app.create("beta", limit_body("c", 1)).await);
    for (op, who, to, expected) in [
        ("setpriority", &c, 1, vec![&c, &a, &b]),
        ("SETPRIORITY", &a, 3, vec![&c, &b, &a]),
        ("microsoft.graph.setPriority", &a, 1, vec![&a, &c, &b]),
        ("Microsoft.Graph.SetPriority", &b, 1, vec![&b, &a, &c]),
    ] {
        let r = app
            .post(&format!("{CONFIGS}('{who}')/{op}"), json!({"priority": to}))
            .await;
        assert_eq!(r.status.as_u16(), 204, "{op}: {}", r.text);
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(ranking(&app, "limit", None).await, expected, "{op}");
    }
    for (i, op) in ["microsoft.graph.assign", "ASSIGN", "assign"]
        .into_iter()
        .enumerate()
    {
        let groups: Vec<Value> = (0..=i).map(|g| assignment_body(&format!("g{g}"))).collect();
        let r = app
            .post(
                &format!("{CONFIGS}/{a}/{op}"),
                json!({ "enrollmentConfigurationAssignments": groups }),
            )
            .await;
        assert_eq!(r.status.as_u16(), 204, "{op}: {}", r.text);
        assert_eq!(assignments_of(&app, &a).await.len(), i + 1, "{op}");
    }
    let r = app
        .post(
            &format!("{CONFIGS}/microsoft.graph.HASPAYLOADLINKS"),
            json!({"payloadIds": ["x"]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
}

// ---------------------------------------------------------------------------------------------
// beta-only collection actions

#[tokio::test]
async fn create_enrollment_notification_configuration_takes_the_documented_example() {
    let app = TestApp::spawn().await;
    let example = json!({
      "deviceEnrollmentNotificationConfigurations": [
        {
          "@odata.type": "#microsoft.graph.deviceEnrollmentConfiguration",
          "id": "df13d8b9-d8b9-df13-b9d8-13dfb9d813df",
          "displayName": "Display Name value",
          "description": "Description value",
          "priority": 8,
          "createdDateTime": "2017-01-01T00:02:43.5775965-08:00",
          "lastModifiedDateTime": "2017-01-01T00:00:35.1329464-08:00",
          "version": 7,
          "roleScopeTagIds": [
            "Role Scope Tag Ids value"
          ],
          "deviceEnrollmentConfigurationType": "limit"
        }
      ]
    });
    let url = format!("{CONFIGS}/createEnrollmentNotificationConfiguration");
    let r = app.post(&url, example).await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    assert!(r.text.is_empty());

    let created: Vec<Value> = app
        .list("beta")
        .await
        .into_iter()
        .filter(|c| {
            c["@odata.type"] == "#microsoft.graph.deviceEnrollmentNotificationConfiguration"
        })
        .collect();
    assert_eq!(created.len(), 1, "{created:#?}");
    let n = &created[0];
    assert_server_id(
        n["id"].as_str().unwrap(),
        "EnrollmentNotificationsConfiguration",
    );
    assert_eq!(n["displayName"], "Display Name value");
    assert_eq!(n["description"], "Description value");
    assert_eq!(n["roleScopeTagIds"], json!(["Role Scope Tag Ids value"]));
    assert_eq!(
        n["deviceEnrollmentConfigurationType"],
        "enrollmentNotificationsConfiguration"
    );
    assert_eq!(n["version"], 1);
    assert_eq!(n["priority"], 1);
    assert!(is_seven_digit_timestamp(
        n["createdDateTime"].as_str().unwrap()
    ));
    app.get(&format!("{CONFIGS}/df13d8b9-d8b9-df13-b9d8-13dfb9d813df"))
        .await
        .assert_error(404, "ResourceNotFound");

    // several at once, typed as the derived type; they join the same ranking
    let r = app
        .post(
            &url,
            json!({"deviceEnrollmentNotificationConfigurations": [
                {"@odata.type": "#microsoft.graph.deviceEnrollmentNotificationConfiguration", "displayName": "n2", "templateType": "push"},
                {"@odata.type": "microsoft.graph.deviceEnrollmentNotificationConfiguration", "displayName": "n3"}
            ]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let names = ranking(&app, "enrollmentNotificationsConfiguration", None).await;
    assert_eq!(names.len(), 3);

    // other kinds cannot be created this way, and nothing is created then
    let r = app
        .post(
            &url,
            json!({"deviceEnrollmentNotificationConfigurations": [
                {"@odata.type": "#microsoft.graph.deviceEnrollmentNotificationConfiguration", "displayName": "n4"},
                {"@odata.type": LIMIT, "displayName": "sneaky"}
            ]}),
        )
        .await;
    r.assert_error(400, "BadRequest");
    assert_eq!(app.list("beta").await.len(), 5 + 3);
}

#[tokio::test]
async fn the_beta_only_collection_actions_are_absent_in_v1() {
    let app = TestApp::spawn().await;
    for (op, body) in [
        (
            "createEnrollmentNotificationConfiguration",
            json!({"deviceEnrollmentNotificationConfigurations": [
                {"@odata.type": "#microsoft.graph.deviceEnrollmentConfiguration", "displayName": "n"}
            ]}),
        ),
        ("hasPayloadLinks", json!({"payloadIds": ["a"]})),
    ] {
        let r = app.post(&format!("{CONFIGS_V1}/{op}"), body).await;
        let msg = r.assert_error(400, "BadRequest");
        assert_eq!(msg, format!("Resource not found for the segment '{op}'."));
    }
    assert_eq!(app.list("v1.0").await.len(), 4);
    assert_eq!(app.list("beta").await.len(), 5);
}

#[tokio::test]
async fn has_payload_links_answers_one_item_per_payload_id() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            &format!("{CONFIGS}/hasPayloadLinks"),
            json!({"payloadIds": ["p1", "p2", "Payload Ids value"]}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let v = r.json();
    assert_eq!(
        v["@odata.context"],
        format!(
            "{}/beta/$metadata#Collection(microsoft.graph.hasPayloadLinkResultItem)",
            app.base
        )
    );
    let items = v["value"].as_array().unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|i| i["payloadId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["p1", "p2", "Payload Ids value"]);
    for i in items {
        assert!(i["hasLink"].is_boolean(), "{i}");
        assert!(i["sources"].is_array(), "{i}");
    }
    let r = app
        .post(
            &format!("{CONFIGS}/hasPayloadLinks"),
            json!({"payloadIds": []}),
        )
        .await;
    assert_eq!(r.json()["value"], json!([]));
    // a read permission is enough
    let reader = app.token_with(TENANT, &[READ], &[]);
    let r = app
        .call_as(
            &reader,
            "POST",
            &format!("{CONFIGS}/hasPayloadLinks"),
            Some(json!({"payloadIds": ["x"]})),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let r = app
        .post(
            &format!("{CONFIGS}/hasPayloadLinks"),
            json!({"payloadIds": "p1"}),
        )
        .await;
    r.assert_error(400, "BadRequest");
}

// ---------------------------------------------------------------------------------------------
// $expand, @odata.context, $metadata

#[tokio::test]
async fn expand_assignments_on_get_and_list() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("x", 1)).await);
    for g in ["g1", "g2"] {
        app.post(&format!("{CONFIGS}/{id}/assignments"), assignment_body(g))
            .await;
    }
    let r = app
        .get(&format!("{CONFIGS}/{id}?$expand=assignments"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let v = r.json();
    assert_eq!(
        v["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/deviceEnrollmentConfigurations(assignments())/$entity",
            app.base
        )
    );
    let expanded = by_id(v["assignments"].as_array().unwrap().clone());
    assert_eq!(expanded, assignments_of(&app, &id).await);
    assert_eq!(expanded.len(), 2);

    // beta accepts the option without '$'
    let r = app.get(&format!("{CONFIGS}/{id}?expand=assignments")).await;
    assert_eq!(r.json()["assignments"].as_array().map(Vec::len), Some(2));

    let r = app.get(&format!("{CONFIGS}?$expand=assignments")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let v = r.json();
    assert_eq!(
        v["@odata.context"],
        format!(
            "{}/beta/$metadata#deviceManagement/deviceEnrollmentConfigurations(assignments())",
            app.base
        )
    );
    let items = v["value"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    for c in items {
        let cid = id_of(c);
        let want = assignments_of(&app, &cid).await;
        assert_eq!(
            by_id(c["assignments"].as_array().unwrap().clone()),
            want,
            "{cid}"
        );
    }
    // without $expand there is no assignments property
    let plain = get_config(&app, &id).await;
    assert!(plain.get("assignments").is_none());

    let r = app
        .get(&format!("{CONFIGS_V1}/{id}?$expand=assignments"))
        .await;
    assert_eq!(
        r.json()["@odata.context"],
        format!(
            "{}/v1.0/$metadata#deviceManagement/deviceEnrollmentConfigurations(assignments())/$entity",
            app.base
        )
    );
    app.get(&format!("{CONFIGS}/{id}?$expand=nothing"))
        .await
        .assert_error(400, "BadRequest");
}

#[tokio::test]
async fn odata_context_values_are_written_as_graph_writes_them() {
    let app = TestApp::spawn().await;
    let id = id_of(&app.create("beta", limit_body("x", 1)).await);
    for (v, base) in [("beta", CONFIGS), ("v1.0", CONFIGS_V1)] {
        let root = format!(
            "{}/{v}/$metadata#deviceManagement/deviceEnrollmentConfigurations",
            app.base
        );
        let list = app.get(base).await.json();
        assert_eq!(list["@odata.context"], root);
        let one = app.get(&format!("{base}/{id}")).await.json();
        assert_eq!(one["@odata.context"], format!("{root}/$entity"));
        let cast = app
            .get(&format!(
                "{base}/microsoft.graph.deviceEnrollmentLimitConfiguration"
            ))
            .await
            .json();
        assert_eq!(
            cast["@odata.context"],
            format!("{root}/microsoft.graph.deviceEnrollmentLimitConfiguration")
        );
        let values = cast["value"].as_array().unwrap();
        assert_eq!(values.len(), 2);
        assert!(values.iter().all(|c| c["@odata.type"] == LIMIT));
        let assignments = app.get(&format!("{base}/{id}/assignments")).await.json();
        assert_eq!(
            assignments["@odata.context"],
            format!("{root}('{id}')/assignments")
        );
    }
    // every item of a list carries its own @odata.type, and no context of its own
    for c in app.list("beta").await {
        assert!(c["@odata.type"]
            .as_str()
            .unwrap()
            .starts_with("#microsoft.graph."));
        assert!(c.get("@odata.context").is_none());
    }
}

#[tokio::test]
async fn metadata_serves_csdl_for_both_versions_without_auth() {
    let app = TestApp::spawn().await;
    let client = client();
    let mut docs = Vec::new();
    for v in ["beta", "v1.0"] {
        let r = read(
            client
                .get(app.url(&format!("/{v}/$metadata")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status.as_u16(), 200, "{v}: {}", r.text);
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/xml"),
            "{:?}",
            r.header("content-type")
        );
        assert!(r.text.contains("<edmx:Edmx"), "{v}");
        assert!(r.text.contains("deviceEnrollmentConfiguration"), "{v}");
        let doc = roxmltree_like_check(&r.text);
        assert!(doc, "{v}: not well-formed XML");
        assert!(r.header("request-id").is_some());
        docs.push(r.text);
    }
    assert_ne!(docs[0], docs[1]);
    assert!(docs[0].contains("createEnrollmentNotificationConfiguration"));
    assert!(!docs[1].contains("createEnrollmentNotificationConfiguration"));
    assert!(docs[0].contains("windowsRestoreDeviceEnrollmentConfiguration"));
    assert!(!docs[1].contains("windowsRestoreDeviceEnrollmentConfiguration"));
}

/// A cheap well-formedness check: starts as XML and every opened `<edmx:Edmx` is closed.
fn roxmltree_like_check(text: &str) -> bool {
    let t = text.trim_start();
    (t.starts_with("<?xml") || t.starts_with("<edmx:Edmx"))
        && t.trim_end().ends_with("</edmx:Edmx>")
}
