//! The regression guard: instructions per request, counted by callgrind (the same count on a
//! busy machine as on an idle one), compared with a checked-in budget.
//!
//! `bench guard` runs `bench guard-run --op OP --n N` under `valgrind --tool=callgrind` twice
//! per operation, with `N = warm` and `N = warm + count`: both start the same in-process
//! server and do the same warm-up, so the difference divided by `count` is the cost of one
//! request (server and client together, over loopback).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};

use crate::client::Conn;
use crate::seed::{kind_bodies, request, CONFIGS};
use crate::Res;

/// The operations guarded.
/// `get` and `list` answer from kept responses after the first request; `list-store` is the
/// list with none kept (`--read-cache 0`): the store's index read, the query and the shaping.
pub const OPS: [&str; 4] = ["get", "list", "list-store", "create"];

const WARM: usize = 30;

/// Callgrind's instruction total for one run of `guard-run`.
fn count(exe: &Path, op: &str, n: usize) -> Res<u64> {
    let out = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--fair-sched=yes",
        ])
        .arg(exe)
        .args(["guard-run", "--op", op, "--n", &n.to_string()])
        .output()
        .map_err(|e| format!("cannot run valgrind (install it: apt-get install valgrind): {e}"))?;
    let text = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("guard-run {op} {n} failed under valgrind:\n{text}").into());
    }
    text.lines()
        .find_map(|l| {
            let (_, rest) = l.split_once("Collected :")?;
            rest.trim().parse::<u64>().ok()
        })
        .ok_or_else(|| format!("no instruction count in callgrind's output:\n{text}").into())
}

/// Instructions per request of `op`.
pub fn measure(exe: &Path, op: &str, n: usize) -> Res<f64> {
    let base = count(exe, op, WARM)?;
    let full = count(exe, op, WARM + n)?;
    Ok(full.saturating_sub(base) as f64 / n as f64)
}

/// `bench guard`: measures every operation and compares it with `budget` (a JSON file);
/// `update` writes the measured figures as the new budget instead.
pub fn check(budget: &Path, update: bool, n: usize) -> Res<bool> {
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let mut measured = serde_json::Map::new();
    for op in OPS {
        // A page read from the store costs a hundred GETs: fewer requests measure it as well.
        let per = measure(
            &exe,
            op,
            if op == "list-store" {
                (n / 10).max(1)
            } else {
                n
            },
        )?;
        measured.insert(op.to_owned(), json!(per.round()));
    }
    if update {
        let doc = json!({
            "about": "Instructions per request (server and client, in-process over loopback) counted by callgrind; `bench guard` fails when one exceeds its figure times headroom. Refresh with: cargo run --release -p bench -- guard --update",
            "headroom": 2.0,
            "instructions_per_request": measured,
        });
        std::fs::write(budget, serde_json::to_string_pretty(&doc)? + "\n")?;
        println!("budget written to {}", budget.display());
        return Ok(true);
    }
    let doc: Value = serde_json::from_slice(&std::fs::read(budget)?)?;
    let headroom = doc["headroom"].as_f64().unwrap_or(2.0);
    let mut ok = true;
    let mut failed = 0;
    for op in OPS {
        let per = measured[op].as_f64().unwrap_or(f64::MAX);
        let Some(limit) = doc["instructions_per_request"][op].as_f64() else {
            return Err(format!("the budget has no figure for {op}").into());
        };
        let pass = per <= limit * headroom;
        ok &= pass;
        failed += usize::from(!pass);
        println!(
            "guard {op:<7} {per:>12.0} instructions/request, budget {limit:.0} × {headroom} ({:.2} of budget): {}",
            per / limit,
            if pass { "ok" } else { "OVER BUDGET" }
        );
    }
    println!(
        "guard took {:.0} s; budget {}",
        started.elapsed().as_secs_f64(),
        budget.display()
    );
    println!("guard: {} passed, {failed} failed", OPS.len() - failed);
    Ok(ok)
}

/// `bench guard-run`: an in-process server and `n` requests of `op` against it.
pub fn workload(op: &str, n: usize) -> Res<()> {
    let dir = tempfile::Builder::new().prefix("eg-guard").tempdir()?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
        .with_ansi(false)
        .with_writer(std::io::sink)
        .try_init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut settings = enrollgraph::Settings::new(dir.path());
        if op == "list-store" {
            settings.read_cache = 0;
        }
        let state = enrollgraph::build_state(&settings)?;
        let tenant =
            domain::TenantId::parse("7e57a11e-0000-4000-8000-000000000001").ok_or("tenant")?;
        let token = state
            .keys
            .mint(&auth::dev_claims(&tenant, &[], &[], 3600))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(enrollgraph::launch(state, listener, async {
            let _ = stopped.await;
        }));
        let mut conn = Conn::connect(addr).await?;
        let body = kind_bodies("guard")[0].clone();
        let create = request("POST", CONFIGS, &token, Some(&body));
        let first = conn.send(&create, true).await?;
        if first.status != 201 {
            return Err(format!("create: {} {}", first.status, first.text()).into());
        }
        let id = crate::seed::id_of(&first.json()?)?;
        let get = request("GET", &format!("{CONFIGS}/{id}"), &token, None);
        if op.starts_with("list") {
            // The bench's list page: 100 of about 110 configurations of every kind.
            for i in 0..13 {
                for body in kind_bodies(&format!("bench-{i}")) {
                    let r = conn
                        .send(&request("POST", CONFIGS, &token, Some(&body)), true)
                        .await?;
                    if r.status != 201 {
                        return Err(format!("create: {} {}", r.status, r.text()).into());
                    }
                }
            }
        }
        let list = request(
            "GET",
            &format!("{CONFIGS}{}", crate::seed::LIST_QUERY),
            &token,
            None,
        );
        let (req, expect) = match op {
            "get" => (get, 200),
            "list" | "list-store" => (list, 200),
            "create" => (create, 201),
            other => return Err(format!("unknown op {other}").into()),
        };
        for _ in 0..n {
            let res = conn.send(&req, false).await?;
            if res.status != expect {
                return Err(format!("{op}: status {}", res.status).into());
            }
        }
        drop(conn);
        let _ = stop.send(());
        server.await??;
        Ok::<(), crate::Error>(())
    })?;
    Ok(())
}
