//! Several nodes, one truth: two `enrollgraph serve` processes on one PostgreSQL database
//! (on SQLite: one process), driven by many concurrent clients doing creates, setPriority,
//! assign, PATCH and deletes. Afterwards every ranking is contiguous and unique, every
//! acknowledged create exists, every acknowledged delete is gone, no assignment is orphaned,
//! and a write acknowledged by one node is visible at once on the other.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::{json, Value};

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_node(data_dir: &std::path::Path, database: &str, key: &std::path::Path) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_enrollgraph"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(["--database", database, "--signing-key-file"])
        .arg(key)
        .env("ENROLLGRAPH_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start enrollgraph serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    reader.read_line(&mut line).expect("first line");
    // Keep draining what the node prints so that it never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    Node { child, base }
}

async fn send(
    client: &reqwest::Client,
    token: &str,
    method: &str,
    url: String,
    body: Option<Value>,
) -> (u16, String) {
    let mut req = client
        .request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
        .bearer_auth(token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}

#[derive(Default)]
struct Ledger {
    created: HashSet<String>,
    deleted: HashSet<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_keep_one_consistent_truth_under_concurrent_writes() {
    let dir = tempfile::Builder::new().prefix("egm").tempdir().unwrap();
    let database = database_url(dir.path());
    let postgres = database.starts_with("postgres");
    let key = dir.path().join("key.pem");
    let status = Command::new(env!("CARGO_BIN_EXE_enrollgraph"))
        .args(["keygen", "--out"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    let a = start_node(&dir.path().join("a"), &database, &key);
    let nodes = if postgres {
        let b = start_node(&dir.path().join("b"), &database, &key);
        vec![a, b]
    } else {
        vec![a]
    };
    let bases: Vec<String> = nodes.iter().map(|n| n.base.clone()).collect();
    let keys = auth::Keys::load_file(&key).unwrap();
    let t = domain::TenantId::parse(TENANT).unwrap();
    let token = keys
        .mint(&auth::dev_claims(&t, &[WRITE.to_string()], &[], 3600))
        .unwrap();
    let client = client();
    let path = "/beta/deviceManagement/deviceEnrollmentConfigurations";

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let mut tasks = Vec::new();
    for worker in 0..8usize {
        let (client, token, bases, ledger) =
            (client.clone(), token.clone(), bases.clone(), ledger.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine: Vec<String> = Vec::new();
            for step in 0..25usize {
                let node = &bases[(worker + step) % bases.len()];
                let other = &bases[(worker + step + 1) % bases.len()];
                let kind = if worker % 2 == 0 {
                    json!({"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "displayName": format!("w{worker}s{step}"), "limit": 3})
                } else {
                    json!({"@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration", "displayName": format!("w{worker}s{step}"), "platformType": if step % 2 == 0 { "ios" } else { "android" }})
                };
                match step % 5 {
                    0 | 1 => {
                        let (s, body) = send(&client, &token, "POST", format!("{node}{path}"), Some(kind)).await;
                        assert_eq!(s, 201, "create: {body}");
                        let id = serde_json::from_str::<Value>(&body).unwrap()["id"].as_str().unwrap().to_owned();
                        ledger.lock().unwrap().created.insert(id.clone());
                        // Acknowledged on one node: visible at once on the other.
                        let (s, body) = send(&client, &token, "GET", format!("{other}{path}/{id}"), None).await;
                        assert_eq!(s, 200, "read-your-write on the other node: {body}");
                        mine.push(id);
                    }
                    2 => {
                        if let Some(id) = mine.last() {
                            let p = (step % 7 + 1) as i64;
                            let (s, body) = send(&client, &token, "POST", format!("{node}{path}/{id}/setPriority"), Some(json!({"priority": p}))).await;
                            assert!(s == 204 || s == 400, "setPriority: {s} {body}");
                        }
                    }
                    3 => {
                        if let Some(id) = mine.first() {
                            let targets: Vec<Value> = (0..3).map(|g| json!({"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": format!("g{worker}-{step}-{g}")}})).collect();
                            let (s, body) = send(&client, &token, "POST", format!("{node}{path}/{id}/assign"), Some(json!({"enrollmentConfigurationAssignments": targets}))).await;
                            assert_eq!(s, 204, "assign: {body}");
                            let (s, body) = send(&client, &token, "PATCH", format!("{other}{path}/{id}"), Some(json!({"@odata.type": if worker % 2 == 0 {"#microsoft.graph.deviceEnrollmentLimitConfiguration"} else {"#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration"}, "description": format!("d{step}")}))).await;
                            assert_eq!(s, 204, "patch: {body}");
                        }
                    }
                    _ => {
                        if mine.len() > 1 {
                            let id = mine.remove(0);
                            let (s, body) = send(&client, &token, "DELETE", format!("{node}{path}/{id}"), None).await;
                            assert_eq!(s, 204, "delete: {body}");
                            ledger.lock().unwrap().deleted.insert(id);
                        }
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    for base in &bases {
        let (s, body) = send(
            &client,
            &token,
            "GET",
            format!("{base}{path}?$expand=assignments"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        let items: Vec<Value> = serde_json::from_str::<Value>(&body).unwrap()["value"]
            .as_array()
            .cloned()
            .unwrap();
        let present: HashSet<String> = items
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        let (created, deleted) = {
            let l = ledger.lock().unwrap();
            (l.created.clone(), l.deleted.clone())
        };
        for id in created.difference(&deleted) {
            assert!(
                present.contains(id),
                "acknowledged create {id} is missing on {base}"
            );
        }
        for id in &deleted {
            assert!(
                !present.contains(id),
                "acknowledged delete {id} is still present on {base}"
            );
            let (s, _) = send(
                &client,
                &token,
                "GET",
                format!("{base}{path}/{id}/assignments"),
                None,
            )
            .await;
            assert_eq!(s, 404, "assignments of a deleted configuration");
        }
        let mut rankings: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for item in &items {
            let p = item["priority"].as_i64().unwrap();
            if p == 0 {
                continue; // tenant defaults sit outside the rankings
            }
            let key = format!("{}/{}", item["@odata.type"], item["platformType"]);
            rankings.entry(key).or_default().push(p);
        }
        for (key, mut ps) in rankings {
            ps.sort_unstable();
            assert_eq!(
                ps,
                (1..=ps.len() as i64).collect::<Vec<_>>(),
                "ranking {key} on {base}"
            );
        }
    }

    // No assignment without its configuration, read straight from the database.
    let db = store::open(&database, &store::Options::default()).unwrap();
    let mut out = Vec::new();
    store::transfer::export(db.as_ref(), Some(&t), &mut out)
        .await
        .unwrap();
    let mut configs = HashSet::new();
    for line in String::from_utf8(out).unwrap().lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        match r["kind"].as_str() {
            Some("configuration") => {
                configs.insert(r["id"].as_str().unwrap().to_owned());
            }
            Some("assignment") => {
                assert!(
                    configs.contains(r["configurationId"].as_str().unwrap()),
                    "orphaned assignment {r}"
                );
            }
            _ => {}
        }
    }
    drop(nodes);
}
