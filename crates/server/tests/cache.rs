//! The responses of configuration reads that the server keeps between writes are never
//! stale: after every acknowledged write, of the item or of another item that moves it, a GET
//! or a list shows the write; each version, host, tenant, query and `Prefer` gets its own.
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

#[tokio::test]
async fn a_list_after_any_acknowledged_write_shows_it() {
    let app = TestApp::spawn().await;
    let q = format!("{CONFIGS}?$filter=startswith(displayName,'kept')&$orderby=displayName");
    let names = |r: &Res| -> Vec<String> {
        r.json()["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["displayName"].as_str().unwrap().to_owned())
            .collect()
    };
    app.create("beta", limit_body("kept-b", 2)).await;
    let first = app.get(&q).await;
    assert_eq!(names(&first), ["kept-b"]);
    assert_eq!(app.get(&q).await.text, first.text);
    let a = app.create("beta", limit_body("kept-a", 2)).await;
    assert_eq!(names(&app.get(&q).await), ["kept-a", "kept-b"]);
    // An assignment shows in an expanded list at once.
    let a_id = a["id"].as_str().unwrap();
    let expanded = format!("{q}&$expand=assignments");
    let before = app.get(&expanded).await.json();
    assert_eq!(before["value"][0]["assignments"], json!([]));
    let r = app
        .post(
            &format!("{CONFIGS}/{a_id}/assignments"),
            json!({"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let after = app.get(&expanded).await.json();
    assert_eq!(
        after["value"][0]["assignments"].as_array().unwrap().len(),
        1
    );
    // The Prefer header is part of what is kept: a page of one, with its header, each time.
    for _ in 0..2 {
        let req = app
            .client
            .get(app.url(&q))
            .bearer_auth(&app.token)
            .header("prefer", "odata.maxpagesize=1");
        let r = read(req.send().await.expect("request")).await;
        assert_eq!(names(&r), ["kept-a"]);
        assert_eq!(r.header("preference-applied"), Some("odata.maxpagesize=1"));
        assert!(r.json()["@odata.nextLink"].is_string());
    }
    assert_eq!(names(&app.get(&q).await), ["kept-a", "kept-b"]);
    // A DELETE: gone from the list at once.
    assert_eq!(
        app.delete(&format!("{CONFIGS}/{a_id}"))
            .await
            .status
            .as_u16(),
        204
    );
    assert_eq!(names(&app.get(&q).await), ["kept-b"]);
}

/// A server owns its SQLite database while it runs (what it keeps relies on seeing every
/// write): a second server on it, and an import into it, are refused with a clear message;
/// once the server stops, both work.
#[test]
fn a_running_server_owns_its_sqlite_database() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_enrollgraph");
    let serve = |dir: &std::path::Path| {
        Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .env("ENROLLGRAPH_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut first = serve(dir.path());
    let mut line = String::new();
    BufReader::new(first.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("http://"), "{line}");

    let second = serve(dir.path()).wait_with_output().unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("is being served by a running enrollgraph server"),
        "{err}"
    );

    let export = dir.path().join("export.jsonl");
    let out = Command::new(bin)
        .args(["export", "--data-dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(&export)
        .output()
        .unwrap();
    assert!(out.status.success(), "export while serving: {out:?}");
    let import = |replace: bool| {
        let mut c = Command::new(bin);
        c.args(["import", "--data-dir"])
            .arg(dir.path())
            .arg("--in")
            .arg(&export);
        if replace {
            c.arg("--replace");
        }
        c.output().unwrap()
    };
    let refused = import(true);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("stop it first"));

    first.kill().unwrap();
    first.wait().unwrap();
    let after = import(true);
    assert!(after.status.success(), "{after:?}");
}
