//! Query options and paging over HTTP: `$filter`, `$select`, `$orderby`, `$top`, `$skip`,
//! `$count`, `/$count`, `$expand`, `$search`, `@odata.nextLink` with `$skiptoken`,
//! `Prefer: odata.maxpagesize`, context URLs, and the limits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{json, Value};

/// Percent-encodes a query value completely (reqwest leaves `+`, `&`, `#` alone otherwise).
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$'(),/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path?k=v&…` with every value encoded.
fn url(path: &str, q: &[(&str, &str)]) -> String {
    let qs: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
    format!("{path}?{}", qs.join("&"))
}

async fn get_q(app: &TestApp, path: &str, q: &[(&str, &str)]) -> Res {
    app.get(&url(path, q)).await
}

/// GET of an absolute URL with extra headers.
async fn get_abs(app: &TestApp, abs: &str, headers: &[(&str, &str)]) -> Res {
    let mut req = app.client.get(abs).bearer_auth(&app.token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read(req.send().await.expect("request")).await
}

fn names(v: &Value) -> Vec<String> {
    v["value"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["displayName"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn ids(v: &Value) -> Vec<String> {
    v["value"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Names starting with `q-` (the tenant defaults are left out), as a set.
fn ours(v: &Value) -> BTreeSet<String> {
    names(v)
        .into_iter()
        .filter(|n| n.starts_with("q-"))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Four configurations: three limits and a Windows restore one.
async fn seed(app: &TestApp) -> Vec<Value> {
    let bodies = [
        json!({"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "displayName": "q-alpha", "limit": 1, "roleScopeTagIds": ["0"]}),
        json!({"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "displayName": "q-Beta", "limit": 5, "roleScopeTagIds": ["0", "7"]}),
        json!({"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "displayName": "q-gamma's", "description": "the third", "limit": 10, "roleScopeTagIds": ["0"]}),
        json!({"@odata.type": "#microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration", "displayName": "q-restore", "state": "enabled", "roleScopeTagIds": ["7"]}),
    ];
    let mut out = Vec::new();
    for b in bodies {
        out.push(app.create("beta", b).await);
    }
    out
}

#[tokio::test]
async fn filter_on_configurations_supports_every_operator_and_function() {
    let app = TestApp::spawn().await;
    let created = seed(&app).await;
    let alpha_id = created[0]["id"].as_str().unwrap_or_default().to_owned();
    let all = ["q-alpha", "q-Beta", "q-gamma's", "q-restore"];
    let cases: Vec<(String, Vec<&str>)> = vec![
        ("displayName eq 'q-alpha'".into(), vec!["q-alpha"]),
        ("displayName ne 'q-alpha'".into(), vec!["q-Beta", "q-gamma's", "q-restore"]),
        ("displayName eq 'q-gamma''s'".into(), vec!["q-gamma's"]),
        ("microsoft.graph.deviceEnrollmentLimitConfiguration/limit gt 1".into(), vec!["q-Beta", "q-gamma's"]),
        ("microsoft.graph.deviceEnrollmentLimitConfiguration/limit ge 5".into(), vec!["q-Beta", "q-gamma's"]),
        ("microsoft.graph.deviceEnrollmentLimitConfiguration/limit lt 5".into(), vec!["q-alpha"]),
        ("microsoft.graph.deviceEnrollmentLimitConfiguration/limit le 5".into(), vec!["q-alpha", "q-Beta"]),
        ("displayName in ('q-alpha', 'q-Beta', 'nope')".into(), vec!["q-alpha", "q-Beta"]),
        ("startswith(displayName, 'q-')".into(), all.to_vec()),
        ("endswith(displayName, '''s')".into(), vec!["q-gamma's"]),
        ("contains(tolower(displayName), 'beta')".into(), vec!["q-Beta"]),
        ("toupper(displayName) eq 'Q-ALPHA'".into(), vec!["q-alpha"]),
        ("length(displayName) eq 6".into(), vec!["q-Beta"]),
        ("deviceEnrollmentConfigurationType eq 'WindowsRestore'".into(), vec!["q-restore"]),
        ("deviceEnrollmentConfigurationType eq microsoft.graph.deviceEnrollmentConfigurationType'limit' and priority gt 0".into(), vec!["q-alpha", "q-Beta", "q-gamma's"]),
        ("isof('microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration')".into(), vec!["q-restore"]),
        ("not isof('microsoft.graph.deviceEnrollmentLimitConfiguration')".into(), vec!["q-restore"]),
        ("roleScopeTagIds/any(t: t eq '7')".into(), vec!["q-Beta", "q-restore"]),
        ("roleScopeTagIds/all(t: t eq '0')".into(), vec!["q-alpha", "q-gamma's"]),
        ("roleScopeTagIds/$count eq 2".into(), vec!["q-Beta"]),
        ("description eq null".into(), vec!["q-alpha", "q-Beta", "q-restore"]),
        ("description ne null".into(), vec!["q-gamma's"]),
        ("createdDateTime gt 2020-01-01T00:00:00Z and createdDateTime lt 2999-01-01".into(), all.to_vec()),
        ("(displayName eq 'q-alpha' or displayName eq 'q-Beta') and not (microsoft.graph.deviceEnrollmentLimitConfiguration/limit eq 1)".into(), vec!["q-Beta"]),
        (format!("id eq '{alpha_id}'"), vec!["q-alpha"]),
        ("microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration/state eq 'ENABLED'".into(), vec!["q-restore"]),
        ("priority ge 1 and true".into(), all.to_vec()),
    ];
    for (filter, want) in cases {
        let r = get_q(&app, CONFIGS, &[("$filter", &filter)]).await;
        assert_eq!(r.status.as_u16(), 200, "{filter}: {}", r.text);
        assert_eq!(ours(&r.json()), set(&want), "{filter}");
    }

    // The cast segment narrows the collection and makes derived properties plain.
    let r = get_q(
        &app,
        &format!("{CONFIGS}/microsoft.graph.deviceEnrollmentLimitConfiguration"),
        &[("$filter", "limit ge 3")],
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(ours(&r.json()), set(&["q-Beta", "q-gamma's"]));
    assert!(r.json()["@odata.context"]
        .as_str()
        .unwrap_or_default()
        .ends_with("#deviceManagement/deviceEnrollmentConfigurations/microsoft.graph.deviceEnrollmentLimitConfiguration"));
}

#[tokio::test]
async fn filter_errors_are_graph_400s_that_name_the_position() {
    let app = TestApp::spawn().await;
    let cases = [
        ("displayName eq 1", "at position 12"),
        ("bogus eq 'x'", "could not find a property named 'bogus'"),
        ("limit ge 3", "cast to it"),
        ("startswith(displayName)", "takes 2 arguments"),
        (
            "displayName eq 'open",
            "unterminated string literal at position 15",
        ),
        (
            "deviceEnrollmentConfigurationType eq 'nope'",
            "not a valid enumeration",
        ),
        ("roleScopeTagIds eq '0'", "collection"),
        ("createdDateTime gt 'yesterday'", "incompatible types"),
        ("displayName eq 'a' and", "at position 22"),
    ];
    for (filter, want) in cases {
        let r = get_q(&app, CONFIGS, &[("$filter", filter)]).await;
        let msg = r.assert_error(400, "BadRequest");
        assert!(
            msg.starts_with("Invalid filter clause: "),
            "{filter}: {msg}"
        );
        assert!(msg.contains(want), "{filter}: {msg}");
    }
    // A property unknown to the version is unknown.
    let r = get_q(
        &app,
        CONFIGS_V1,
        &[("$filter", "roleScopeTagIds/any(t: t eq '0')")],
    )
    .await;
    let msg = r.assert_error(400, "BadRequest");
    assert!(msg.contains("roleScopeTagIds"), "{msg}");
}

#[tokio::test]
async fn unknown_and_unsupported_options_are_refused() {
    let app = TestApp::spawn().await;
    let created = app.create("beta", limit_body("q-one", 2)).await;
    let id = created["id"].as_str().unwrap_or_default();
    let cases = [
        (url(CONFIGS, &[("$foo", "1")]), "'$foo' is not supported"),
        (url(CONFIGS, &[("$levels", "2")]), "not supported on"),
        (
            url(&format!("{CONFIGS}/{id}"), &[("$filter", "id eq 'x'")]),
            "not supported on",
        ),
        (
            url(&format!("{CONFIGS}/{id}/assignments"), &[("$search", "x")]),
            "not supported on",
        ),
        (
            url(&format!("{CONFIGS}/$count"), &[("$top", "1")]),
            "not supported on",
        ),
        (url(CONFIGS, &[("$top", "1001")]), "maximum is 1000"),
        (url(CONFIGS, &[("$top", "-1")]), "non-negative"),
        (url(CONFIGS, &[("$count", "maybe")]), "true or false"),
        (
            url(CONFIGS, &[("$expand", "nothing")]),
            "navigation property",
        ),
        (url(CONFIGS, &[("$select", "assignments")]), "use $expand"),
        (
            url(CONFIGS, &[("$orderby", "roleScopeTagIds")]),
            "cannot sort",
        ),
        (url(CONFIGS, &[("$format", "xml")]), "only 'json'"),
    ];
    for (u, want) in cases {
        let r = app.get(&u).await;
        let msg = r.assert_error(400, "BadRequest");
        assert!(msg.contains(want), "{u}: {msg}");
    }
    // Custom options (no `$`) are ignored; on v1.0 `filter=` is one of them.
    let r = get_q(
        &app,
        CONFIGS_V1,
        &[("filter", "displayName eq 'nothing'"), ("foo", "1")],
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert!(!names(&r.json()).is_empty());
    // On beta the `$` is optional.
    let r = get_q(
        &app,
        CONFIGS,
        &[
            ("filter", "displayName eq 'q-one'"),
            ("select", "id,displayName"),
        ],
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert_eq!(names(&r.json()), vec!["q-one"]);
    assert_eq!(
        r.json()["value"][0].as_object().map(|o| o.len()),
        Some(3),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn select_orderby_top_skip_count_and_search() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let only_ours = ("$filter", "startswith(displayName, 'q-')");

    // $select, with its context URL.
    let r = get_q(
        &app,
        CONFIGS,
        &[
            only_ours,
            (
                "$select",
                "displayName,id,deviceEnrollmentConfigurationType",
            ),
        ],
    )
    .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let v = r.json();
    assert!(v["@odata.context"].as_str().unwrap_or_default().ends_with(
        "/beta/$metadata#deviceManagement/deviceEnrollmentConfigurations(displayName,id,deviceEnrollmentConfigurationType)"
    ), "{}", v["@odata.context"]);
    for item in v["value"].as_array().cloned().unwrap_or_default() {
        let keys: BTreeSet<&str> = item
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "@odata.type",
                "displayName",
                "id",
                "deviceEnrollmentConfigurationType"
            ]
            .into_iter()
            .collect()
        );
    }

    // A derived property by name, and with a cast.
    for sel in [
        "displayName,limit",
        "displayName,microsoft.graph.deviceEnrollmentLimitConfiguration/limit",
    ] {
        let r = get_q(
            &app,
            CONFIGS,
            &[only_ours, ("$select", sel), ("$orderby", "displayName")],
        )
        .await;
        let v = r.json();
        assert_eq!(v["value"][0]["displayName"], "q-Beta", "{}", r.text);
        assert_eq!(v["value"][0]["limit"], 5, "{sel}: {}", r.text);
        assert!(v["value"][3].get("limit").is_none(), "{sel}: {}", r.text);
        assert!(v["value"][0].get("priority").is_none());
    }

    // Several sort keys; nulls sort first ascending, so last descending.
    let r = get_q(
        &app,
        CONFIGS,
        &[
            only_ours,
            (
                "$orderby",
                "microsoft.graph.deviceEnrollmentLimitConfiguration/limit desc, displayName",
            ),
        ],
    )
    .await;
    assert_eq!(
        names(&r.json()),
        vec!["q-gamma's", "q-Beta", "q-alpha", "q-restore"],
        "{}",
        r.text
    );
    let r = get_q(
        &app,
        CONFIGS,
        &[
            only_ours,
            (
                "$orderby",
                "deviceEnrollmentConfigurationType desc,displayName desc",
            ),
        ],
    )
    .await;
    assert_eq!(
        names(&r.json()),
        vec!["q-restore", "q-gamma's", "q-alpha", "q-Beta"],
        "{}",
        r.text
    );

    // $top and $skip; $count counts every match, on the first page.
    let r = get_q(
        &app,
        CONFIGS,
        &[
            only_ours,
            ("$orderby", "displayName"),
            ("$top", "2"),
            ("$skip", "1"),
            ("$count", "true"),
        ],
    )
    .await;
    let v = r.json();
    assert_eq!(names(&v), vec!["q-alpha", "q-gamma's"], "{}", r.text);
    assert_eq!(v["@odata.count"], 4);
    let keys: Vec<&String> = v
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["@odata.context", "@odata.count", "@odata.nextLink", "value"]
    );
    let next = get_abs(&app, v["@odata.nextLink"].as_str().unwrap_or_default(), &[])
        .await
        .json();
    assert_eq!(names(&next), vec!["q-restore"]);
    assert!(next.get("@odata.count").is_none() && next.get("@odata.nextLink").is_none());
    let r = get_q(&app, CONFIGS, &[("$top", "0"), ("$count", "true")])
        .await
        .json();
    assert_eq!(r["value"], json!([]));
    assert!(r["@odata.count"].as_u64().is_some_and(|n| n >= 4));

    // The /$count segment, with $filter and $search.
    let r = get_q(&app, &format!("{CONFIGS}/$count"), &[only_ours]).await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "4"));
    let r = get_q(
        &app,
        &format!("{CONFIGS}/microsoft.graph.deviceEnrollmentLimitConfiguration/$count"),
        &[("$filter", "limit gt 1")],
    )
    .await;
    assert_eq!(r.text, "3", "the default limit configuration counts too");
    let r = get_q(
        &app,
        &format!("{CONFIGS}/$count"),
        &[("$search", "\"THIRD\"")],
    )
    .await;
    assert_eq!(r.text, "1");

    // $search: words AND-ed over displayName and description, case-insensitively.
    let r = get_q(&app, CONFIGS, &[("$search", "\"gamma\"")]).await;
    assert_eq!(names(&r.json()), vec!["q-gamma's"], "{}", r.text);
    let r = get_q(&app, CONFIGS, &[("$search", "q- third")]).await;
    assert_eq!(names(&r.json()), vec!["q-gamma's"]);
    let r = get_q(
        &app,
        CONFIGS,
        &[("$search", "alpha OR displayName:restore")],
    )
    .await;
    assert_eq!(ours(&r.json()), set(&["q-alpha", "q-restore"]));
}

#[tokio::test]
async fn expand_assignments_with_nested_options_and_context_urls() {
    let app = TestApp::spawn().await;
    let c = app.create("beta", limit_body("q-exp", 3)).await;
    let id = c["id"].as_str().unwrap_or_default().to_owned();
    for g in ["g1", "g2", "g3"] {
        let r = app
            .post(
                &format!("{CONFIGS}/{id}/assignments"),
                json!({"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": g}}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    }

    let r = get_q(
        &app,
        &format!("{CONFIGS}/{id}"),
        &[("$expand", "assignments")],
    )
    .await;
    let v = r.json();
    assert!(
        v["@odata.context"]
            .as_str()
            .unwrap_or_default()
            .ends_with("#deviceManagement/deviceEnrollmentConfigurations(assignments())/$entity"),
        "{}",
        r.text
    );
    assert_eq!(v["assignments"].as_array().map(Vec::len), Some(3));

    let r = get_q(
        &app,
        &format!("{CONFIGS}/{id}"),
        &[("$select", "id,displayName"), ("$expand", "assignments($select=target;$filter=target/microsoft.graph.groupAssignmentTarget/groupId ne 'g2';$orderby=target/microsoft.graph.groupAssignmentTarget/groupId desc;$top=1;$count=true)")],
    )
    .await;
    let v = r.json();
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert!(v["@odata.context"].as_str().unwrap_or_default().ends_with(
        "#deviceManagement/deviceEnrollmentConfigurations(id,displayName,assignments(target))/$entity"
    ), "{}", r.text);
    assert_eq!(v["assignments@odata.count"], 2);
    assert_eq!(v["assignments"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["assignments"][0]["target"]["groupId"], "g3");
    assert!(v["assignments"][0].get("id").is_none());
    assert!(v.get("limit").is_none());

    // On the list.
    let r = get_q(
        &app,
        CONFIGS,
        &[
            ("$filter", "displayName eq 'q-exp'"),
            ("$select", "displayName"),
            ("$expand", "assignments"),
        ],
    )
    .await;
    let v = r.json();
    assert!(
        v["@odata.context"].as_str().unwrap_or_default().ends_with(
            "#deviceManagement/deviceEnrollmentConfigurations(displayName,assignments())"
        ),
        "{}",
        r.text
    );
    assert_eq!(
        v["value"][0]["assignments"].as_array().map(Vec::len),
        Some(3)
    );

    // Nested options that are not supported.
    let r = get_q(&app, CONFIGS, &[("$expand", "assignments($expand=target)")]).await;
    r.assert_error(400, "BadRequest");
}

#[tokio::test]
async fn filter_select_and_count_on_assignments() {
    let app = TestApp::spawn().await;
    let c = app.create("beta", limit_body("q-asg", 3)).await;
    let id = c["id"].as_str().unwrap_or_default().to_owned();
    let targets = [
        json!({"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g1"}),
        json!({"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": "g2"}),
        json!({"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}),
    ];
    for t in targets {
        let r = app
            .post(&format!("{CONFIGS}/{id}/assignments"), json!({"target": t}))
            .await;
        assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    }
    let path = format!("{CONFIGS}/{id}/assignments");
    let groups = |v: &Value| -> Vec<String> {
        v["value"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|a| a["target"]["groupId"].as_str().unwrap_or("-").to_owned())
            .collect()
    };
    let cases = [
        (
            "target/microsoft.graph.groupAssignmentTarget/groupId eq 'g1'",
            vec!["g1"],
        ),
        (
            "target/microsoft.graph.groupAssignmentTarget/groupId eq 'g2'",
            vec!["g2"],
        ),
        (
            "isof(target, 'microsoft.graph.exclusionGroupAssignmentTarget')",
            vec!["g2"],
        ),
        (
            "isof(target, 'microsoft.graph.allDevicesAssignmentTarget')",
            vec!["-"],
        ),
        (
            "source eq 'DIRECT' and target ne null",
            vec!["g1", "g2", "-"],
        ),
    ];
    for (f, want) in cases {
        let r = get_q(
            &app,
            &path,
            &[
                ("$filter", f),
                (
                    "$orderby",
                    "target/microsoft.graph.groupAssignmentTarget/groupId desc",
                ),
            ],
        )
        .await;
        assert_eq!(r.status.as_u16(), 200, "{f}: {}", r.text);
        let mut got = groups(&r.json());
        let mut want: Vec<String> = want.into_iter().map(str::to_owned).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{f}");
    }
    let r = get_q(
        &app,
        &format!("{path}/$count"),
        &[(
            "$filter",
            "isof(target, 'microsoft.graph.groupAssignmentTarget')",
        )],
    )
    .await;
    assert_eq!(r.text, "2");
    let r = get_q(
        &app,
        &path,
        &[("$select", "target"), ("$top", "2"), ("$count", "true")],
    )
    .await;
    let v = r.json();
    assert!(
        v["@odata.context"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&format!(
                "#deviceManagement/deviceEnrollmentConfigurations('{id}')/assignments(target)"
            )),
        "{}",
        r.text
    );
    assert_eq!(v["@odata.count"], 3);
    assert_eq!(v["value"].as_array().map(Vec::len), Some(2));
    assert!(v["value"][0].get("id").is_none());
    let next = get_abs(&app, v["@odata.nextLink"].as_str().unwrap_or_default(), &[])
        .await
        .json();
    assert_eq!(next["value"].as_array().map(Vec::len), Some(1));

    // One assignment, with $select.
    let aid = get_q(&app, &path, &[("$top", "1")]).await.json()["value"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let r = get_q(&app, &format!("{path}/{aid}"), &[("$select", "id")]).await;
    let v = r.json();
    assert_eq!(v["id"], aid.as_str());
    assert!(v.get("target").is_none());
    assert!(
        v["@odata.context"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/assignments(id)/$entity"),
        "{}",
        r.text
    );
}

/// Follows nextLinks from `first`, returning every page's ids.
async fn follow(app: &TestApp, first: &str, headers: &[(&str, &str)]) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut next = Some(first.to_owned());
    while let Some(u) = next {
        let r = get_abs(app, &u, headers).await;
        assert_eq!(r.status.as_u16(), 200, "{u}: {}", r.text);
        let v = r.json();
        pages.push(ids(&v));
        next = v["@odata.nextLink"].as_str().map(str::to_owned);
        if let Some(n) = &next {
            assert!(n.starts_with(&app.base), "absolute: {n}");
        }
        assert!(pages.len() < 50, "paging does not end");
    }
    pages
}

#[tokio::test]
async fn paging_follows_next_links_through_every_page_without_skips_or_repeats() {
    let app = TestApp::spawn().await;
    for i in 0..7 {
        app.create("beta", limit_body(&format!("p-{i}"), i + 1))
            .await;
    }
    let first = app.url(&url(
        CONFIGS,
        &[
            ("$filter", "startswith(displayName, 'p-')"),
            ("$orderby", "displayName"),
            ("$top", "3"),
            ("$count", "true"),
        ],
    ));
    let r = get_abs(&app, &first, &[]).await;
    let v = r.json();
    assert_eq!(v["@odata.count"], 7);
    let link = v["@odata.nextLink"].as_str().unwrap_or_default().to_owned();
    assert!(
        link.starts_with(&format!(
            "{}/beta/deviceManagement/deviceEnrollmentConfigurations?",
            app.base
        )),
        "{link}"
    );
    assert!(link.contains("$skiptoken="), "{link}");
    assert!(
        link.contains("$top=3") && link.contains("$count=true"),
        "{link}"
    );
    assert!(
        link.contains("$filter=startswith(displayName,%20'p-')"),
        "{link}"
    );
    let pages = follow(&app, &first, &[]).await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![3, 3, 1]
    );

    // Without $orderby the order is by id, and paging works the same.
    let first = app.url(&url(CONFIGS, &[("$top", "2")]));
    let pages = follow(&app, &first, &[]).await;
    let all: Vec<String> = pages.concat();
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all, sorted, "ids ascending, no repeats");
    let total = app.get(&format!("{CONFIGS}/$count")).await.text;
    assert_eq!(
        all.len().to_string(),
        total,
        "the created ones and the tenant defaults"
    );
}

#[tokio::test]
async fn creates_and_deletes_between_pages_never_skip_or_repeat_survivors() {
    let app = TestApp::spawn().await;
    let mut by_name = std::collections::HashMap::new();
    for i in 0..7 {
        let c = app.create("beta", limit_body(&format!("p-{i}"), 1)).await;
        by_name.insert(
            format!("p-{i}"),
            c["id"].as_str().unwrap_or_default().to_owned(),
        );
    }
    let first = app.url(&url(
        CONFIGS,
        &[
            ("$filter", "startswith(displayName, 'p-')"),
            ("$orderby", "displayName desc"),
            ("$top", "3"),
        ],
    ));
    let v = get_abs(&app, &first, &[]).await.json();
    assert_eq!(names(&v), vec!["p-6", "p-5", "p-4"]);
    // Delete one already seen and one not yet seen; create one before and one after the cursor.
    for gone in ["p-5", "p-2"] {
        let r = app.delete(&format!("{CONFIGS}/{}", by_name[gone])).await;
        assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    }
    app.create("beta", limit_body("p-45", 1)).await; // before the cursor (p-4): not seen
    app.create("beta", limit_body("p-35", 1)).await; // after the cursor: seen
    let mut seen = names(&v);
    let mut next = v["@odata.nextLink"].as_str().map(str::to_owned);
    while let Some(u) = next {
        let v = get_abs(&app, &u, &[]).await.json();
        seen.extend(names(&v));
        next = v["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, vec!["p-6", "p-5", "p-4", "p-35", "p-3", "p-1", "p-0"]);
}

#[tokio::test]
async fn prefer_maxpagesize_is_honoured_and_kept_by_the_next_link() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.create("beta", limit_body(&format!("m-{i}"), 1)).await;
    }
    let first = app.url(&url(
        CONFIGS,
        &[("$filter", "startswith(displayName, 'm-')")],
    ));
    let r = get_abs(
        &app,
        &first,
        &[("Prefer", "return=minimal, odata.maxpagesize=2")],
    )
    .await;
    assert_eq!(r.header("preference-applied"), Some("odata.maxpagesize=2"));
    assert_eq!(r.json()["value"].as_array().map(Vec::len), Some(2));
    // Followed as-is, without the header, the page size stays.
    let pages = follow(&app, &first, &[("Prefer", "odata.maxpagesize=2")]).await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![2, 2, 1]
    );
    let link = r.json()["@odata.nextLink"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let r = get_abs(&app, &link, &[]).await;
    assert_eq!(r.json()["value"].as_array().map(Vec::len), Some(2));
    assert!(r.header("preference-applied").is_none());
    // A larger preference than the maximum is lowered to it.
    let r = get_abs(&app, &first, &[("Prefer", "odata.maxpagesize=5000")]).await;
    assert_eq!(
        r.header("preference-applied"),
        Some("odata.maxpagesize=1000")
    );
    // $top smaller than the preference wins.
    let r = get_abs(
        &app,
        &app.url(&url(CONFIGS, &[("$top", "1")])),
        &[("Prefer", "odata.maxpagesize=3")],
    )
    .await;
    assert_eq!(r.json()["value"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn tampered_foreign_and_mismatched_skiptokens_are_400() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        app.create("beta", limit_body(&format!("t-{i}"), 1)).await;
    }
    let v = get_q(
        &app,
        CONFIGS,
        &[("$filter", "startswith(displayName, 't-')"), ("$top", "1")],
    )
    .await
    .json();
    let link = v["@odata.nextLink"].as_str().unwrap_or_default().to_owned();
    let (head, token) = link.split_once("$skiptoken=").unwrap_or_default();
    // A changed character.
    let mut chars: Vec<char> = token.chars().collect();
    chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
    let tampered = format!("{head}$skiptoken={}", chars.into_iter().collect::<String>());
    get_abs(&app, &tampered, &[])
        .await
        .assert_error(400, "BadRequest");
    // Another query.
    let other = link.replace("t-", "x-");
    let msg = get_abs(&app, &other, &[])
        .await
        .assert_error(400, "BadRequest");
    assert!(msg.contains("$skiptoken"), "{msg}");
    // Garbage.
    get_abs(&app, &format!("{head}$skiptoken=garbage"), &[])
        .await
        .assert_error(400, "BadRequest");
    // Another server (another signing key).
    let other_app = TestApp::spawn().await;
    let path_and_query = link.trim_start_matches(&app.base);
    let r = get_abs(&other_app, &other_app.url(path_and_query), &[]).await;
    r.assert_error(400, "BadRequest");
    // Another tenant on the same server.
    let token = app.token_with(OTHER_TENANT, &[WRITE], &[]);
    let r = read(
        app.client
            .get(&link)
            .bearer_auth(token)
            .send()
            .await
            .expect("request"),
    )
    .await;
    r.assert_error(400, "BadRequest");
}

#[tokio::test]
async fn the_default_page_size_is_configurable() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        app.create("beta", limit_body(&format!("d-{i}"), 1)).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = api::router_with(
        app.state.clone(),
        api::QuerySettings {
            default_page_size: 2,
            max_page_size: 4,
        },
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let base = format!("http://{addr}");
    let r = get_abs(&app, &format!("{base}{CONFIGS}"), &[]).await;
    let v = r.json();
    assert_eq!(v["value"].as_array().map(Vec::len), Some(2), "{}", r.text);
    assert!(v["@odata.nextLink"]
        .as_str()
        .unwrap_or_default()
        .starts_with(&base));
    let r = get_abs(&app, &format!("{base}{CONFIGS}?$top=5"), &[]).await;
    assert!(r.assert_error(400, "BadRequest").contains("maximum is 4"));
    server.abort();
}

#[tokio::test]
async fn percent_encoded_literals_are_decoded_once() {
    let app = TestApp::spawn().await;
    app.create("beta", limit_body("q-a&b+c%20d #1 é", 1)).await;
    let r = get_q(
        &app,
        CONFIGS,
        &[("$filter", "displayName eq 'q-a&b+c%20d #1 é'")],
    )
    .await;
    assert_eq!(names(&r.json()), vec!["q-a&b+c%20d #1 é"], "{}", r.text);
    // `+` in a query means a space.
    let r = app
        .get(&format!(
            "{CONFIGS}?$filter=startswith(displayName,+'q-a%26b')"
        ))
        .await;
    assert_eq!(names(&r.json()).len(), 1, "{}", r.text);
}

#[tokio::test]
async fn limits_on_expressions_are_400s_not_crashes() {
    let app = TestApp::spawn().await;
    let deep = format!("{}displayName eq 'x'{}", "(".repeat(200), ")".repeat(200));
    let long = format!("displayName eq '{}'", "x".repeat(5000));
    let wide = (0..400)
        .map(|i| format!("priority eq {i}"))
        .collect::<Vec<_>>()
        .join(" or ");
    let nots = format!("{}true", "not ".repeat(100));
    for (f, want) in [
        (&deep, "nested"),
        (&long, "longer than"),
        (&wide, "nodes"),
        (&nots, "nested"),
    ] {
        let started = std::time::Instant::now();
        let r = get_q(&app, CONFIGS, &[("$filter", f.as_str())]).await;
        let msg = r.assert_error(400, "BadRequest");
        assert!(msg.contains(want), "{msg}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
    let r = get_q(&app, CONFIGS, &[("$filter", &"a".repeat(20_000))]).await;
    assert!(r.status.is_client_error(), "{}", r.status);
}

/// Every page of `path` with `q`, 3 at a time, following `@odata.nextLink`: the ids.
async fn walk(app: &TestApp, path: &str, q: &[(&str, &str)]) -> Vec<String> {
    let prefer = [("Prefer", "odata.maxpagesize=3")];
    let mut r = get_abs(app, &app.url(&url(path, q)), &prefer).await;
    let mut out = Vec::new();
    for _ in 0..100 {
        assert_eq!(r.status.as_u16(), 200, "{path} {q:?}: {}", r.text);
        let v = r.json();
        out.extend(ids(&v));
        match v["@odata.nextLink"].as_str() {
            Some(next) => r = get_abs(app, next, &prefer).await,
            None => return out,
        }
    }
    panic!("{path} {q:?}: more than 100 pages");
}

/// Lists whose `$filter`/`$orderby` an index answers (read a page at a time from the store)
/// give the pages the general engine gives over the whole collection (which `$count=true`
/// makes the list use): same items, same order, every item once, across pages, versions and
/// cast segments, with names shared, missing from the order's start, and non-ASCII.
#[tokio::test]
async fn index_ordered_lists_page_exactly_as_the_whole_list() {
    let app = TestApp::spawn().await;
    let names = ["q-b", "q-a", "q-b", "q-é", "Q-z", "q-a", "q-", "q-b"];
    let lists =
        ["/beta", "/v1.0"].map(|v| format!("{v}/deviceManagement/deviceEnrollmentConfigurations"));
    let before = [
        walk(&app, &lists[0], &[]).await,
        walk(&app, &lists[1], &[]).await,
    ];
    for (i, n) in names.iter().enumerate() {
        let body = if i % 3 == 0 {
            json!({"@odata.type": "#microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration", "displayName": n, "state": "enabled"})
        } else {
            let mut b = limit_body(n, i as i64 + 1);
            b["displayName"] = json!(n);
            b
        };
        app.create("beta", body).await;
    }
    let limit_cast = "/deviceManagement/deviceEnrollmentConfigurations/microsoft.graph.deviceEnrollmentLimitConfiguration";
    let queries: [&[(&str, &str)]; 7] = [
        &[],
        &[("$orderby", "displayName desc")],
        &[("$orderby", "displayName")],
        &[
            ("$filter", "startswith(displayName,'q-')"),
            ("$orderby", "displayName desc"),
        ],
        &[
            ("$filter", "startswith(displayName,'q-')"),
            ("$orderby", "displayName asc"),
            ("$skip", "2"),
        ],
        &[("$filter", "displayName eq 'q-b'"), ("$top", "2")],
        &[
            ("$filter", "'q-a' eq displayName"),
            ("$expand", "assignments"),
            ("$select", "id"),
        ],
    ];
    for version in ["/beta", "/v1.0"] {
        for base in [
            "/deviceManagement/deviceEnrollmentConfigurations",
            limit_cast,
        ] {
            let path = format!("{version}{base}");
            for q in queries {
                let seek = walk(&app, &path, q).await;
                let mut counted = q.to_vec();
                counted.push(("$count", "true"));
                let whole = walk(&app, &path, &counted).await;
                assert_eq!(seek, whole, "{path} {q:?}");
                let unique: BTreeSet<&String> = seek.iter().collect();
                assert_eq!(unique.len(), seek.len(), "{path} {q:?}: an item twice");
            }
        }
    }
    // The version decides what is visible: Windows restore configurations are beta-only.
    let after = [
        walk(&app, &lists[0], &[]).await,
        walk(&app, &lists[1], &[]).await,
    ];
    assert_eq!(after[0].len() - before[0].len(), names.len());
    assert_eq!(after[1].len() - before[1].len(), names.len() - 3);
}
