//! Many concurrent writers against one server: rankings stay contiguous and unique, every
//! acknowledged write is there, and no assignment outlives its configuration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// Everything a task needs to talk to the server.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn of(app: &TestApp) -> Client {
        Client {
            http: app.client.clone(),
            base: app.base.clone(),
            token: app.token.clone(),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Res {
        let mut req = self
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", self.base),
            )
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        read(req.send().await.expect("request")).await
    }
}

/// A small deterministic PRNG (xorshift64*), one per task.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn body_of_kind(kind: usize, name: &str) -> Value {
    match kind {
        0 => limit_body(name, 3),
        1 => json!({
            "@odata.type": "#microsoft.graph.deviceEnrollmentWindowsHelloForBusinessConfiguration",
            "displayName": name
        }),
        2 => json!({
            "@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration",
            "displayName": name,
            "platformType": "ios"
        }),
        _ => json!({
            "@odata.type": "#microsoft.graph.deviceEnrollmentPlatformRestrictionConfiguration",
            "displayName": name,
            "platformType": "android"
        }),
    }
}

/// The ranking key of a listed configuration: its type, and its platform for single-platform
/// restrictions.
fn ranking_key(c: &Value) -> String {
    let kind = c["deviceEnrollmentConfigurationType"].as_str().unwrap();
    if kind == "singlePlatformRestriction" {
        format!("{kind}/{}", c["platformType"].as_str().unwrap())
    } else {
        kind.to_owned()
    }
}

/// Asserts that in `items` (one snapshot) every ranking is exactly 1..n; returns the rankings.
fn assert_rankings(items: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut by_key: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for c in items {
        let p = c["priority"].as_i64().unwrap();
        if p == 0 {
            continue;
        }
        by_key
            .entry(ranking_key(c))
            .or_default()
            .push((p, c["id"].as_str().unwrap().to_owned()));
    }
    by_key
        .into_iter()
        .map(|(k, mut v)| {
            v.sort();
            let ps: Vec<i64> = v.iter().map(|(p, _)| *p).collect();
            let want: Vec<i64> = (1..=v.len() as i64).collect();
            assert_eq!(ps, want, "ranking {k} is not 1..n: {v:?}");
            (k, v.into_iter().map(|(_, id)| id).collect())
        })
        .collect()
}

/// What one task saw acknowledged.
#[derive(Default)]
struct Outcome {
    created: Vec<String>,
    deleted: Vec<String>,
    /// The assignment count of each live item after its last acknowledged change.
    assignments: HashMap<String, usize>,
    moves: usize,
}

async fn worker(client: Client, seed: u64, ops: usize) -> Outcome {
    let mut rng = Rng::new(seed);
    let mut out = Outcome::default();
    let mut live: Vec<String> = Vec::new();
    for op in 0..ops {
        let roll = rng.below(100);
        if live.is_empty() || roll < 35 {
            let r = client
                .call(
                    "POST",
                    CONFIGS,
                    Some(body_of_kind(rng.below(4), &format!("t{seed}-{op}"))),
                )
                .await;
            assert_eq!(r.status.as_u16(), 201, "create: {}", r.text);
            let id = r.json()["id"].as_str().unwrap().to_owned();
            out.created.push(id.clone());
            out.assignments.insert(id.clone(), 0);
            live.push(id);
        } else if roll < 65 {
            let id = &live[rng.below(live.len())];
            let to = 1 + rng.below(8) as i64;
            let r = client
                .call(
                    "POST",
                    &format!("{CONFIGS}/{id}/setPriority"),
                    Some(json!({ "priority": to })),
                )
                .await;
            // out of range or unchanged is a 400; anything else must succeed
            match r.status.as_u16() {
                204 => out.moves += 1,
                400 => {
                    let msg = r.assert_error(400, "BadRequest");
                    assert!(msg.contains("priority"), "{msg}");
                }
                s => panic!("setPriority answered {s}: {}", r.text),
            }
        } else if roll < 80 {
            let id = live.swap_remove(rng.below(live.len()));
            let r = client
                .call("DELETE", &format!("{CONFIGS}/{id}"), None)
                .await;
            assert_eq!(r.status.as_u16(), 204, "delete: {}", r.text);
            out.assignments.remove(&id);
            out.deleted.push(id);
        } else if roll < 95 {
            let id = live[rng.below(live.len())].clone();
            let n = rng.below(4);
            let list: Vec<Value> = (0..n)
                .map(|g| {
                    json!({"target": {
                        "@odata.type": "#microsoft.graph.groupAssignmentTarget",
                        "groupId": format!("{seed}-{op}-{g}")
                    }})
                })
                .collect();
            let r = client
                .call(
                    "POST",
                    &format!("{CONFIGS}/{id}/assign"),
                    Some(json!({ "enrollmentConfigurationAssignments": list })),
                )
                .await;
            assert_eq!(r.status.as_u16(), 204, "assign: {}", r.text);
            out.assignments.insert(id, n);
        } else {
            let id = &live[rng.below(live.len())];
            let r = client
                .call(
                    "PATCH",
                    &format!("{CONFIGS}/{id}"),
                    Some(json!({"description": format!("op {op}")})),
                )
                .await;
            assert_eq!(r.status.as_u16(), 204, "patch: {}", r.text);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_never_corrupt_rankings_or_lose_writes() {
    let app = TestApp::spawn().await;
    let client = Client::of(&app);
    const TASKS: u64 = 12;
    const OPS: usize = 30;

    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A reader that checks every snapshot it sees while the writers run.
    let reader = {
        let client = client.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut snapshots = 0usize;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let r = client.call("GET", CONFIGS, None).await;
                assert_eq!(r.status.as_u16(), 200, "{}", r.text);
                assert_rankings(r.json()["value"].as_array().unwrap());
                snapshots += 1;
            }
            snapshots
        })
    };

    let run = async {
        let handles: Vec<_> = (0..TASKS)
            .map(|seed| tokio::spawn(worker(client.clone(), seed + 1, OPS)))
            .collect();
        let mut outcomes = Vec::new();
        for h in handles {
            outcomes.push(h.await.expect("worker panicked"));
        }
        outcomes
    };
    let outcomes = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("the writers did not finish in time");
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let snapshots = reader.await.expect("reader panicked");
    assert!(snapshots > 0);

    let items = app.list("beta").await;
    let rankings = assert_rankings(&items);
    let listed: HashSet<String> = items
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed.len(), items.len(), "an id is listed twice");

    let created: Vec<&String> = outcomes.iter().flat_map(|o| &o.created).collect();
    let deleted: HashSet<&String> = outcomes.iter().flat_map(|o| &o.deleted).collect();
    let moves: usize = outcomes.iter().map(|o| o.moves).sum();
    assert!(created.len() > 50, "too few creates: {}", created.len());
    assert!(
        !deleted.is_empty() && moves > 10,
        "deleted {deleted:?}, moves {moves}"
    );
    let unique: HashSet<&String> = created.iter().copied().collect();
    assert_eq!(unique.len(), created.len(), "an id was handed out twice");

    // every acknowledged create is there unless it was deleted, and nothing else is
    let mut expected: HashSet<String> = created
        .iter()
        .filter(|id| !deleted.contains(*id))
        .map(|id| (*id).clone())
        .collect();
    for c in &items {
        if c["priority"] == 0 {
            expected.insert(c["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(listed, expected);
    let ranked: usize = rankings.values().map(Vec::len).sum();
    assert_eq!(ranked, items.len() - 5);
    let count = app.get(&format!("{CONFIGS}/$count")).await;
    assert_eq!(count.text, items.len().to_string());

    // assignments: each live item has exactly the set of its last acknowledged assign, and
    // the deleted ones have none left
    for o in &outcomes {
        for (id, n) in &o.assignments {
            let r = app.get(&format!("{CONFIGS}/{id}/assignments")).await;
            assert_eq!(r.status.as_u16(), 200, "{}", r.text);
            assert_eq!(
                r.json()["value"].as_array().map(Vec::len),
                Some(*n),
                "assignments of {id}"
            );
        }
        for id in &o.deleted {
            app.get(&format!("{CONFIGS}/{id}"))
                .await
                .assert_error(404, "ResourceNotFound");
            app.get(&format!("{CONFIGS}/{id}/assignments"))
                .await
                .assert_error(404, "ResourceNotFound");
        }
    }
    // the expanded list agrees with the per-item lists
    let r = app.get(&format!("{CONFIGS}?$expand=assignments")).await;
    let mut total = 0;
    for c in r.json()["value"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let n = c["assignments"].as_array().unwrap().len();
        let want = outcomes
            .iter()
            .find_map(|o| o.assignments.get(id).copied())
            .unwrap_or(1); // the defaults have one each
        assert_eq!(n, want, "expanded assignments of {id}");
        total += n;
    }
    assert!(total >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_set_priority_storms_keep_a_permutation() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let c = app.create("beta", limit_body(&format!("s{i}"), 1)).await;
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    let client = Client::of(&app);
    let run = async {
        let handles: Vec<_> = (0..16u64)
            .map(|seed| {
                let client = client.clone();
                let ids = ids.clone();
                tokio::spawn(async move {
                    let mut rng = Rng::new(seed + 100);
                    let mut ok = 0;
                    for _ in 0..20 {
                        let id = &ids[rng.below(ids.len())];
                        let to = 1 + rng.below(ids.len()) as i64;
                        let r = client
                            .call(
                                "POST",
                                &format!("{CONFIGS}/{id}/setPriority"),
                                Some(json!({ "priority": to })),
                            )
                            .await;
                        match r.status.as_u16() {
                            204 => ok += 1,
                            // only "already has that priority" can fail here
                            400 => assert!(r.text.contains("already"), "{}", r.text),
                            s => panic!("setPriority answered {s}: {}", r.text),
                        }
                    }
                    ok
                })
            })
            .collect();
        let mut ok = 0;
        for h in handles {
            ok += h.await.expect("task panicked");
        }
        ok
    };
    let ok = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("did not finish in time");
    assert!(ok > 100, "only {ok} moves succeeded");
    let rankings = assert_rankings(&app.list("beta").await);
    let mut got = rankings["limit"].clone();
    got.sort();
    ids.sort();
    assert_eq!(got, ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_tenants_concurrent_first_requests_create_its_defaults_once() {
    let app = TestApp::spawn().await;
    let token = app.token_with(OTHER_TENANT, &[WRITE], &[]);
    let client = Client {
        token,
        ..Client::of(&app)
    };
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    client.call("GET", CONFIGS, None).await
                } else {
                    client
                        .call("POST", CONFIGS, Some(limit_body(&format!("first{i}"), 1)))
                        .await
                }
            })
        })
        .collect();
    for h in handles {
        let r = h.await.unwrap();
        assert!(
            r.status.as_u16() == 200 || r.status.as_u16() == 201,
            "{}",
            r.text
        );
    }
    let r = client.call("GET", CONFIGS, None).await;
    let items = r.json()["value"].as_array().cloned().unwrap();
    assert_eq!(items.len(), 5 + 8, "{items:#?}");
    assert_rankings(&items);
    let defaults: Vec<&Value> = items.iter().filter(|c| c["priority"] == 0).collect();
    assert_eq!(defaults.len(), 5);
    for d in defaults {
        let id = d["id"].as_str().unwrap();
        assert!(id.starts_with(OTHER_TENANT), "{id}");
        let r = client
            .call("GET", &format!("{CONFIGS}/{id}/assignments"), None)
            .await;
        assert_eq!(r.json()["value"].as_array().map(Vec::len), Some(1), "{id}");
    }
}
