//! When the database fails: with PostgreSQL behind a TCP proxy that the test cuts, requests
//! get a Graph 503 with `Retry-After` within a bounded time (no hang), the server recovers by
//! itself when the database returns, and nothing acknowledged is lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Link {
    Up,
    /// Existing connections stop carrying bytes (but stay open); new ones are accepted and
    /// hang: the network has gone silent.
    Silent,
}

/// A TCP proxy to `upstream` whose link the test controls.
async fn proxy(upstream: String) -> (String, watch::Sender<Link>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = watch::channel(Link::Up);
    tokio::spawn(async move {
        let parked = Arc::new(tokio::sync::Mutex::new(Vec::new()));
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let mut rx = rx.clone();
            let upstream = upstream.clone();
            let parked = parked.clone();
            tokio::spawn(async move {
                let silent = *rx.borrow() == Link::Silent;
                if silent {
                    parked.lock().await.push(inbound);
                    return;
                }
                let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let went_silent = tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => false,
                    r = rx.wait_for(|l| *l == Link::Silent) => r.is_ok(),
                };
                if went_silent {
                    // Keep both ends open but silent until the link comes back, then drop them.
                    let _ = rx.wait_for(|l| *l == Link::Up).await.map(|_| ());
                }
            });
        }
    });
    (addr, tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_gives_503_quickly_and_the_server_recovers() {
    if std::env::var("ENROLLGRAPH_TEST_BACKEND").as_deref() != Ok("postgres") {
        eprintln!(
            "SKIPPED: the database outage test runs with ENROLLGRAPH_TEST_BACKEND=postgres only"
        );
        return;
    }
    let dir = tempfile::Builder::new().prefix("ego").tempdir().unwrap();
    let direct = database_url(dir.path());
    let upstream = std::env::var("ENROLLGRAPH_TEST_POSTGRES_UPSTREAM")
        .unwrap_or_else(|_| "127.0.0.1:5432".into());
    let (addr, link) = proxy(upstream.clone()).await;
    let mut settings = settings_for(dir.path());
    settings.database_url = Some(direct.replacen(&upstream, &addr, 1));
    assert_ne!(
        settings.database_url.as_deref(),
        Some(direct.as_str()),
        "the URL must go through the proxy"
    );
    settings.database = store::Options {
        pool_size: 4,
        connect_timeout: Duration::from_millis(800),
        acquire_timeout: Duration::from_millis(800),
        query_timeout: Duration::from_millis(1500),
    };
    let app = TestApp::spawn_with(dir, settings).await;

    let before = app.create("beta", limit_body("before the outage", 2)).await;
    let id = before["id"].as_str().unwrap().to_owned();

    link.send(Link::Silent).unwrap();
    for attempt in 0..3 {
        let started = Instant::now();
        let r = app.post(CONFIGS, limit_body("during the outage", 3)).await;
        let took = started.elapsed();
        r.assert_error(503, "ServiceUnavailable");
        assert!(r.header("retry-after").is_some(), "503 without Retry-After");
        assert!(
            took < Duration::from_secs(6),
            "attempt {attempt} took {took:?}: the request hung"
        );
        let r = app.get(&format!("{CONFIGS}/{id}")).await;
        r.assert_error(503, "ServiceUnavailable");
    }

    link.send(Link::Up).unwrap();
    // The server recovers by itself: new connections replace the broken ones.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = app.get(&format!("{CONFIGS}/{id}")).await;
        if r.status.as_u16() == 200 {
            assert_eq!(r.json()["displayName"], "before the outage");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery: {} {}",
            r.status,
            r.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = app.create("beta", limit_body("after the outage", 4)).await;
    let names: Vec<String> = app
        .list("beta")
        .await
        .iter()
        .map(|c| c["displayName"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(names.contains(&"before the outage".to_string()));
    assert!(names.contains(&"after the outage".to_string()));
    assert!(
        !names.contains(&"during the outage".to_string()),
        "an unacknowledged write appeared"
    );
    assert_eq!(after["priority"], 2, "the ranking continues where it was");
}
