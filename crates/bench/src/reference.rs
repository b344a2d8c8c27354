//! The reference server: the least a server can do for the same requests. `GET` answers the
//! bytes enrollgraph gave for the same target from an in-memory map; `POST` inserts one row
//! into SQLite in its own transaction (WAL, `synchronous=FULL`, as enrollgraph) and answers
//! once it is durable: one commit, one fsync per request. Run as its own process
//! (`bench reference`), pinned like enrollgraph.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::Res;

/// The content type enrollgraph writes on JSON bodies.
const JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

struct Ref {
    bodies: HashMap<String, Bytes>,
    db: Mutex<rusqlite::Connection>,
}

/// Opens the reference's database with enrollgraph's durability settings.
pub fn open_db(path: &Path) -> Res<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS items (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant_id TEXT NOT NULL,
            id TEXT NOT NULL,
            body TEXT NOT NULL,
            UNIQUE (tenant_id, id)
        )",
    )?;
    Ok(conn)
}

async fn handle(State(r): State<Arc<Ref>>, req: Request) -> Response {
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    if req.method() == Method::GET {
        return match r.bodies.get(&target) {
            Some(b) => (StatusCode::OK, [(header::CONTENT_TYPE, JSON)], b.clone()).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    if req.method() != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let no_content = target.ends_with("/assign") || target.ends_with("/setPriority");
    let body = match axum::body::to_bytes(req.into_body(), 1 << 20).await {
        Ok(b) => b,
        Err(_) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let r2 = r.clone();
    let id2 = id.clone();
    let inserted = tokio::task::spawn_blocking(move || {
        let db = r2.db.lock().map_err(|_| "poisoned".to_owned())?;
        db.prepare_cached("INSERT INTO items (tenant_id, id, body) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| {
                s.execute(rusqlite::params![
                    "tenant",
                    id2,
                    String::from_utf8_lossy(&body)
                ])
            })
            .map_err(|e| e.to_string())
    })
    .await;
    match inserted {
        Ok(Ok(_)) if no_content => StatusCode::NO_CONTENT.into_response(),
        Ok(Ok(_)) => (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, JSON)],
            format!("{{\"id\":\"{id}\"}}"),
        )
            .into_response(),
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Serves on `listen` until killed: `bodies` is a JSON object from request target to body.
pub fn serve(listen: SocketAddr, bodies: &Path, db: &Path) -> Res<()> {
    let map: HashMap<String, String> = serde_json::from_slice(&std::fs::read(bodies)?)?;
    let state = Arc::new(Ref {
        bodies: map
            .into_iter()
            .map(|(k, v)| (k, Bytes::from(v.into_bytes())))
            .collect(),
        db: Mutex::new(open_db(db)?),
    });
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .fallback(handle)
        .with_state(state);
    // The same runtime as `enrollgraph serve`.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        axum::serve(listener, app).await?;
        Ok(())
    })
}
