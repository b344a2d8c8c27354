//! The embedded SQLite backend.
//!
//! Writes go to one writer thread. It takes every job queued at that moment (up to
//! [`Options::max_batch`]), runs each inside its own savepoint of one `BEGIN IMMEDIATE`
//! transaction, commits once, and only then answers each job: requests that arrive together
//! share one commit and one fsync (group commit), and a job that fails is rolled back to its
//! savepoint without touching the others. With WAL and `synchronous=FULL` a commit is durable
//! when it returns, so no response is sent before its write is on disk.
//!
//! Reads run on a small pool of connections in blocking tasks, each in its own read
//! transaction (a consistent WAL snapshot).

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, RwLock};

use domain::store::{ReadJob, WriteJob};
use domain::{
    App, Assignment, Configuration, DomainError, ReadTx, Seek, Store, StoreError, TenantId, WriteTx,
};
use futures::future::BoxFuture;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use tokio::sync::{oneshot, Semaphore};

use crate::OpenError;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_initial.sql"),
    include_str!("../migrations/sqlite/0002_apps.sql"),
    include_str!("../migrations/sqlite/0003_list_order.sql"),
];

/// Tuning of the SQLite backend.
#[derive(Debug, Clone)]
pub struct Options {
    /// Reader connections.
    pub readers: usize,
    /// Most write jobs committed together.
    pub max_batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            readers: 4,
            max_batch: 64,
        }
    }
}

struct WriteRequest {
    tenant: TenantId,
    job: WriteJob,
    done: oneshot::Sender<Result<(), DomainError>>,
}

/// Per tenant, a number bumped after each commit that wrote to it.
type Generations = Arc<RwLock<HashMap<TenantId, u64>>>;

/// The SQLite store.
pub struct SqliteStore {
    writer: Mutex<mpsc::Sender<WriteRequest>>,
    /// Per tenant, the number of commits that wrote to it (see [`Store::generation`]).
    generations: Generations,
    readers: Arc<Mutex<Vec<Connection>>>,
    reader_permits: Arc<Semaphore>,
    path: PathBuf,
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

fn connect(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Plans do not depend on the values bound to parameters: without this, SQLite (built with
    // STAT4) marks parameters of indexed comparisons as plan-relevant, and re-prepares a
    // cached statement on every execution with new bindings (a full parse and plan each time).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), rusqlite::Error> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version > current {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
        }
    }
    tx.commit()
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, migrates it, and starts the writer.
    pub fn open(path: &Path, options: Options) -> Result<SqliteStore, OpenError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let wrap = |source| OpenError::Sqlite {
            path: path.display().to_string(),
            source,
        };
        let mut writer = connect(path).map_err(wrap)?;
        migrate(&mut writer).map_err(wrap)?;
        let mut readers = Vec::new();
        for _ in 0..options.readers.max(1) {
            readers.push(connect(path).map_err(wrap)?);
        }
        let (tx, rx) = mpsc::channel::<WriteRequest>();
        let max_batch = options.max_batch.max(1);
        let generations = Generations::default();
        let bumped = generations.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx, max_batch, &bumped))?;
        Ok(SqliteStore {
            writer: Mutex::new(tx),
            generations,
            reader_permits: Arc::new(Semaphore::new(readers.len())),
            readers: Arc::new(Mutex::new(readers)),
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The exclusive lock (on `<database>-serve.lock`) that a server holds on its SQLite database
/// while it runs, so that no other server serves it and `import` does not write under it:
/// what a server keeps between its own commits stays true. Released when dropped (or when the
/// process ends).
pub struct ServeLock {
    _file: std::fs::File,
}

impl ServeLock {
    /// Takes the lock, or fails with [`OpenError::Locked`] if another process holds it.
    pub fn acquire(path: &Path) -> Result<ServeLock, OpenError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut name = path.as_os_str().to_owned();
        name.push("-serve.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&name)?;
        match file.try_lock() {
            Ok(()) => Ok(ServeLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(OpenError::Locked(path.display().to_string()))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(OpenError::Io(e)),
        }
    }
}

fn run_job(conn: &Connection, tenant: &TenantId, job: WriteJob) -> Result<(), DomainError> {
    let mut tx = SqliteTx { conn, tenant };
    match catch_unwind(AssertUnwindSafe(move || job(&mut tx))) {
        Ok(r) => r,
        Err(_) => Err(StoreError::Internal("a write job panicked".into()).into()),
    }
}

/// Runs `f` with a pooled reader connection (the caller holds a reader permit) and gives the
/// connection back.
fn with_reader<T>(
    pool: &Mutex<Vec<Connection>>,
    f: impl FnOnce(&Connection) -> Result<T, DomainError>,
) -> Result<T, DomainError> {
    let conn = pool
        .lock()
        .ok()
        .and_then(|mut p| p.pop())
        .ok_or_else(|| StoreError::Internal("no reader connection".into()))?;
    let result = f(&conn);
    if let Ok(mut p) = pool.lock() {
        p.push(conn);
    }
    result
}

/// Runs a read job in a read transaction on a pooled reader connection (the caller holds a
/// reader permit).
fn run_read(
    pool: &Mutex<Vec<Connection>>,
    tenant: &TenantId,
    job: ReadJob,
) -> Result<(), DomainError> {
    with_reader(pool, |conn| {
        conn.prepare_cached("BEGIN")
            .and_then(|mut s| s.execute([]))
            .map_err(sqlite_err)?;
        let mut tx = SqliteTx { conn, tenant };
        let out = match catch_unwind(AssertUnwindSafe(|| job(&mut tx))) {
            Ok(r) => r,
            Err(_) => Err(StoreError::Internal("a read job panicked".into()).into()),
        };
        let _ = conn
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]));
        out
    })
}

/// Runs one statement without parameters from the connection's statement cache (no parse).
fn exec_cached(conn: &Connection, sql: &str) -> Result<(), rusqlite::Error> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn writer_loop(
    conn: Connection,
    rx: mpsc::Receiver<WriteRequest>,
    max_batch: usize,
    generations: &RwLock<HashMap<TenantId, u64>>,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        if let Err(e) = exec_cached(&conn, "BEGIN IMMEDIATE") {
            let msg = e.to_string();
            for r in batch {
                let _ = r
                    .done
                    .send(Err(StoreError::Unavailable(msg.clone()).into()));
            }
            continue;
        }
        let mut results = Vec::with_capacity(batch.len());
        for r in batch {
            let outcome = match exec_cached(&conn, "SAVEPOINT job") {
                Err(e) => Err(sqlite_err(e).into()),
                Ok(()) => {
                    let out = run_job(&conn, &r.tenant, r.job);
                    let end = if out.is_ok() {
                        exec_cached(&conn, "RELEASE job")
                    } else {
                        conn.execute_batch("ROLLBACK TO job; RELEASE job")
                    };
                    match end {
                        Ok(()) => out,
                        Err(e) => Err(sqlite_err(e).into()),
                    }
                }
            };
            results.push((r.tenant, r.done, outcome));
        }
        let commit = exec_cached(&conn, "COMMIT");
        if let Err(e) = &commit {
            tracing::error!(error = %e, "commit failed");
            let _ = conn.execute_batch("ROLLBACK");
        }
        // Before any job of the batch is answered: a read that follows an answer never takes
        // what was derived before the write.
        if let Ok(mut g) = generations.write() {
            for (tenant, _, _) in &results {
                let n = g.entry(tenant.clone()).or_insert(0);
                *n = n.wrapping_add(1);
            }
        }
        for (_, done, outcome) in results {
            let outcome = match (&commit, outcome) {
                (Err(e), Ok(())) => Err(StoreError::Unavailable(e.to_string()).into()),
                (_, o) => o,
            };
            let _ = done.send(outcome);
        }
    }
}

impl Store for SqliteStore {
    fn read(&self, tenant: &TenantId, job: ReadJob) -> BoxFuture<'_, Result<(), DomainError>> {
        let tenant = tenant.clone();
        let pool = self.readers.clone();
        let permits = self.reader_permits.clone();
        Box::pin(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            let joined = tokio::task::spawn_blocking(move || run_read(&pool, &tenant, job)).await;
            joined.map_err(|e| StoreError::Internal(e.to_string()))?
        })
    }

    /// A point read takes a few microseconds: it runs here, on the caller's thread, rather
    /// than paying two thread switches to run on the blocking pool.
    fn read_point(
        &self,
        tenant: &TenantId,
        job: ReadJob,
    ) -> BoxFuture<'_, Result<(), DomainError>> {
        let tenant = tenant.clone();
        Box::pin(async move {
            let _permit = self
                .reader_permits
                .acquire()
                .await
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            run_read(&self.readers, &tenant, job)
        })
    }

    fn write(&self, tenant: &TenantId, job: WriteJob) -> BoxFuture<'_, Result<(), DomainError>> {
        let (done, wait) = oneshot::channel();
        let sent = self
            .writer
            .lock()
            .map_err(|_| StoreError::Internal("writer lock poisoned".into()))
            .and_then(|w| {
                w.send(WriteRequest {
                    tenant: tenant.clone(),
                    job,
                    done,
                })
                .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))
            });
        Box::pin(async move {
            sent?;
            wait.await
                .map_err(|_| StoreError::Internal("the writer dropped a job".into()))?
        })
    }

    /// The tenant's count of commits by this store. Only this process's writes count: a
    /// server owns its SQLite database while it runs (`enrollgraph serve` holds
    /// [`ServeLock`], which `import` respects).
    fn generation(&self, tenant: &TenantId) -> Option<u64> {
        let g = self.generations.read().ok()?;
        Some(g.get(tenant).copied().unwrap_or(0))
    }

    fn tenants(&self) -> BoxFuture<'_, Result<Vec<TenantId>, DomainError>> {
        let pool = self.readers.clone();
        let permits = self.reader_permits.clone();
        Box::pin(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            let joined = tokio::task::spawn_blocking(move || {
                with_reader(&pool, |conn| {
                    let mut stmt = conn
                        .prepare_cached("SELECT tenant_id FROM tenants ORDER BY tenant_id")
                        .map_err(sqlite_err)?;
                    let rows = stmt
                        .query_map([], |r| r.get::<_, String>(0))
                        .map_err(sqlite_err)?;
                    let mut out = Vec::new();
                    for r in rows {
                        if let Some(t) = TenantId::parse(&r.map_err(sqlite_err)?) {
                            out.push(t);
                        }
                    }
                    Ok(out)
                })
            })
            .await;
            joined.map_err(|e| StoreError::Internal(e.to_string()))?
        })
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

/// A transaction bound to one tenant.
struct SqliteTx<'c> {
    conn: &'c Connection,
    tenant: &'c TenantId,
}

const CONFIG_COLUMNS: &str =
    "id, odata_type, ranking, is_default, priority, version, created, modified, properties";

fn parse_props(text: &str) -> Result<Map<String, Value>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Internal(format!("stored JSON: {e}")))
}

fn to_text(props: &Map<String, Value>) -> Result<String, StoreError> {
    serde_json::to_string(props).map_err(|e| StoreError::Internal(e.to_string()))
}

type ConfigRow = (
    String,
    String,
    String,
    bool,
    i32,
    i32,
    String,
    String,
    String,
);

fn config_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConfigRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn to_configuration(row: ConfigRow) -> Result<Configuration, StoreError> {
    let (id, odata_type, ranking, is_default, priority, version, created, modified, props) = row;
    Ok(Configuration {
        id,
        odata_type,
        ranking,
        is_default,
        priority,
        version,
        created,
        modified,
        properties: parse_props(&props)?,
    })
}

fn to_assignment(row: (String, String, String)) -> Result<Assignment, StoreError> {
    Ok(Assignment {
        configuration_id: row.0,
        id: row.1,
        properties: parse_props(&row.2)?,
    })
}

impl SqliteTx<'_> {
    fn t(&self) -> &str {
        self.tenant.as_str()
    }

    /// Runs an INSERT or UPDATE of a configuration whose parameters are, in order: tenant,
    /// id, type, ranking, is_default, priority, version, created, modified, display name,
    /// properties.
    fn put_configuration(&self, sql: &str, c: &Configuration) -> Result<(), StoreError> {
        let props = to_text(&c.properties)?;
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| {
                s.execute(params![
                    self.t(),
                    c.id,
                    c.odata_type,
                    c.ranking,
                    c.is_default,
                    c.priority,
                    c.version,
                    c.created,
                    c.modified,
                    c.properties.get("displayName").and_then(Value::as_str),
                    props
                ])
            })
            .map(|_| ())
            .map_err(sqlite_err)
    }

    fn query_configs(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<Configuration>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sqlite_err)?;
        let rows = stmt.query_map(args, config_row).map_err(sqlite_err)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(to_configuration(row.map_err(sqlite_err)?)?);
        }
        Ok(out)
    }

    fn query_assignments(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<Assignment>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sqlite_err)?;
        let rows = stmt
            .query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(sqlite_err)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(to_assignment(row.map_err(sqlite_err)?)?);
        }
        Ok(out)
    }
}

impl ReadTx for SqliteTx<'_> {
    fn get_app(&mut self, client_id: &str) -> Result<Option<App>, StoreError> {
        Ok(self
            .apps(
                "SELECT client_id, display_name, secret_hash, roles, created, certificate FROM apps
                 WHERE tenant_id = ?1 AND client_id = ?2",
                &[&self.t(), &client_id],
            )?
            .pop())
    }

    fn list_apps(&mut self) -> Result<Vec<App>, StoreError> {
        self.apps(
            "SELECT client_id, display_name, secret_hash, roles, created, certificate FROM apps
             WHERE tenant_id = ?1 ORDER BY seq",
            &[&self.t()],
        )
    }

    fn tenant_exists(&mut self) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT 1 FROM tenants WHERE tenant_id = ?1")
            .and_then(|mut s| s.exists(params![self.t()]))
            .map_err(sqlite_err)
    }

    fn get_configuration(&mut self, id: &str) -> Result<Option<Configuration>, StoreError> {
        let sql =
            format!("SELECT {CONFIG_COLUMNS} FROM configurations WHERE tenant_id = ?1 AND id = ?2");
        let row = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row(params![self.t(), id], config_row).optional())
            .map_err(sqlite_err)?;
        row.map(to_configuration).transpose()
    }

    fn list_configurations(&mut self) -> Result<Vec<Configuration>, StoreError> {
        let sql = format!(
            "SELECT {CONFIG_COLUMNS} FROM configurations WHERE tenant_id = ?1 ORDER BY seq"
        );
        self.query_configs(&sql, &[&self.t()])
    }

    fn seek_configurations(&mut self, seek: &Seek) -> Result<Vec<Configuration>, StoreError> {
        let mut base = format!("SELECT {CONFIG_COLUMNS} FROM configurations WHERE tenant_id = ?1");
        let types = match &seek.types {
            Some(t) => {
                base.push_str(" AND odata_type IN (SELECT value FROM json_each(?2))");
                Some(serde_json::to_string(t).map_err(|e| StoreError::Internal(e.to_string()))?)
            }
            None => None,
        };
        let first = if types.is_some() { 3 } else { 2 };
        let tenant = self.t().to_owned();
        let mut out = Vec::new();
        for segment in crate::seek::segments(seek, crate::seek::Dialect::Sqlite, &base, first) {
            if out.len() >= seek.limit {
                break;
            }
            let mut args: Vec<&dyn rusqlite::ToSql> = vec![&tenant];
            if let Some(t) = &types {
                args.push(t);
            }
            args.extend(segment.params.iter().map(|p| p as &dyn rusqlite::ToSql));
            out.extend(self.query_configs(&segment.sql, &args)?);
        }
        out.truncate(seek.limit);
        Ok(out)
    }

    fn ranking(&mut self, ranking: &str) -> Result<Vec<(String, i32)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, priority FROM configurations
                 WHERE tenant_id = ?1 AND ranking = ?2 AND is_default = 0 ORDER BY priority",
            )
            .map_err(sqlite_err)?;
        let rows = stmt
            .query_map(params![self.t(), ranking], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(sqlite_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(sqlite_err)
    }

    fn last_priority(&mut self, ranking: &str) -> Result<Option<i32>, StoreError> {
        // One step down the ranking index, whatever the ranking's size.
        self.conn
            .prepare_cached(
                "SELECT MAX(priority) FROM configurations
                 WHERE tenant_id = ?1 AND ranking = ?2 AND is_default = 0",
            )
            .and_then(|mut s| s.query_row(params![self.t(), ranking], |r| r.get(0)))
            .map_err(sqlite_err)
    }

    fn get_assignment(
        &mut self,
        configuration_id: &str,
        id: &str,
    ) -> Result<Option<Assignment>, StoreError> {
        let mut found = self.query_assignments(
            "SELECT configuration_id, id, properties FROM assignments
             WHERE tenant_id = ?1 AND configuration_id = ?2 AND id = ?3",
            &[&self.t(), &configuration_id, &id],
        )?;
        Ok(found.pop())
    }

    fn list_assignments(&mut self, configuration_id: &str) -> Result<Vec<Assignment>, StoreError> {
        self.query_assignments(
            "SELECT configuration_id, id, properties FROM assignments
             WHERE tenant_id = ?1 AND configuration_id = ?2 ORDER BY seq",
            &[&self.t(), &configuration_id],
        )
    }

    fn list_assignments_of(
        &mut self,
        configuration_ids: &[String],
    ) -> Result<Vec<Assignment>, StoreError> {
        if configuration_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(configuration_ids)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        self.query_assignments(
            "SELECT configuration_id, id, properties FROM assignments
             WHERE tenant_id = ?1 AND configuration_id IN (SELECT value FROM json_each(?2))
             ORDER BY seq",
            &[&self.t(), &ids],
        )
    }
}

type AppRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
);

fn to_app(r: &rusqlite::Row<'_>) -> rusqlite::Result<AppRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn app_of(row: AppRow) -> Result<App, StoreError> {
    let (client_id, display_name, secret_hash, roles, created, certificate) = row;
    Ok(App {
        client_id,
        display_name,
        secret_hash,
        certificate,
        roles: serde_json::from_str(&roles)
            .map_err(|e| StoreError::Internal(format!("stored roles: {e}")))?,
        created,
    })
}

impl SqliteTx<'_> {
    fn apps(&self, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<Vec<App>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sqlite_err)?;
        let rows = stmt.query_map(args, to_app).map_err(sqlite_err)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(app_of(r.map_err(sqlite_err)?)?);
        }
        Ok(out)
    }
}

impl WriteTx for SqliteTx<'_> {
    fn insert_app(&mut self, app: &App) -> Result<(), StoreError> {
        let roles =
            serde_json::to_string(&app.roles).map_err(|e| StoreError::Internal(e.to_string()))?;
        self.conn
            .prepare_cached(
                "INSERT INTO apps (tenant_id, client_id, display_name, secret_hash, roles, created, certificate)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.t(),
                    app.client_id,
                    app.display_name,
                    app.secret_hash,
                    roles,
                    app.created,
                    app.certificate
                ])
            })
            .map(|_| ())
            .map_err(sqlite_err)
    }

    fn delete_app(&mut self, client_id: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("DELETE FROM apps WHERE tenant_id = ?1 AND client_id = ?2")
            .and_then(|mut s| s.execute(params![self.t(), client_id]))
            .map(|n| n > 0)
            .map_err(sqlite_err)
    }

    fn insert_tenant(&mut self) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO tenants (tenant_id, created) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![self.t(), domain::record::now_timestamp()]))
            .map(|_| ())
            .map_err(sqlite_err)
    }

    fn insert_configuration(&mut self, c: &Configuration) -> Result<(), StoreError> {
        self.put_configuration(
            "INSERT INTO configurations (tenant_id, id, odata_type, ranking, is_default,
               priority, version, created, modified, display_name, properties)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            c,
        )
    }

    fn update_configuration(&mut self, c: &Configuration) -> Result<(), StoreError> {
        self.put_configuration(
            "UPDATE configurations SET odata_type = ?3, ranking = ?4, is_default = ?5,
               priority = ?6, version = ?7, created = ?8, modified = ?9, display_name = ?10,
               properties = ?11
             WHERE tenant_id = ?1 AND id = ?2",
            c,
        )
    }

    fn delete_configuration(&mut self, id: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("DELETE FROM configurations WHERE tenant_id = ?1 AND id = ?2")
            .and_then(|mut s| s.execute(params![self.t(), id]))
            .map(|n| n > 0)
            .map_err(sqlite_err)
    }

    fn set_priorities(&mut self, changes: &[(String, i32)]) -> Result<(), StoreError> {
        // Two passes so that the unique ranking index holds after every single statement.
        let mut stmt = self
            .conn
            .prepare_cached(
                "UPDATE configurations SET priority = ?3 WHERE tenant_id = ?1 AND id = ?2",
            )
            .map_err(sqlite_err)?;
        for (id, p) in changes {
            stmt.execute(params![self.t(), id, -i64::from(*p)])
                .map_err(sqlite_err)?;
        }
        for (id, p) in changes {
            stmt.execute(params![self.t(), id, p]).map_err(sqlite_err)?;
        }
        Ok(())
    }

    fn insert_assignment(&mut self, a: &Assignment) -> Result<(), StoreError> {
        let props = to_text(&a.properties)?;
        self.conn
            .prepare_cached(
                "INSERT INTO assignments (tenant_id, configuration_id, id, properties)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![self.t(), a.configuration_id, a.id, props]))
            .map(|_| ())
            .map_err(sqlite_err)
    }

    fn update_assignment(&mut self, a: &Assignment) -> Result<(), StoreError> {
        let props = to_text(&a.properties)?;
        self.conn
            .prepare_cached(
                "UPDATE assignments SET properties = ?4
                 WHERE tenant_id = ?1 AND configuration_id = ?2 AND id = ?3",
            )
            .and_then(|mut s| s.execute(params![self.t(), a.configuration_id, a.id, props]))
            .map(|_| ())
            .map_err(sqlite_err)
    }

    fn delete_assignment(&mut self, configuration_id: &str, id: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "DELETE FROM assignments WHERE tenant_id = ?1 AND configuration_id = ?2 AND id = ?3",
            )
            .and_then(|mut s| s.execute(params![self.t(), configuration_id, id]))
            .map(|n| n > 0)
            .map_err(sqlite_err)
    }

    fn delete_assignments_of(&mut self, configuration_id: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "DELETE FROM assignments WHERE tenant_id = ?1 AND configuration_id = ?2",
            )
            .and_then(|mut s| s.execute(params![self.t(), configuration_id]))
            .map(|_| ())
            .map_err(sqlite_err)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn the_generation_of_a_tenant_changes_with_each_of_its_commits_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let store = SqliteStore::open(&path, Options::default()).unwrap();
        let t = TenantId::parse("00000001-0000-4000-8000-000000000000").unwrap();
        let other = TenantId::parse("00000002-0000-4000-8000-000000000000").unwrap();
        let g0 = store.generation(&t).unwrap();
        assert_eq!(store.generation(&t), Some(g0), "no write, no change");
        domain::store::write(&store, &t, |tx| Ok(tx.insert_tenant()?))
            .await
            .unwrap();
        let g1 = store.generation(&t).unwrap();
        assert_ne!(g1, g0, "a write of the tenant");
        domain::store::write(&store, &other, |tx| Ok(tx.insert_tenant()?))
            .await
            .unwrap();
        assert_eq!(store.generation(&t), Some(g1), "another tenant's write");
    }

    #[test]
    fn one_server_at_a_time_holds_the_serve_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let held = ServeLock::acquire(&path).unwrap();
        assert!(matches!(
            ServeLock::acquire(&path),
            Err(OpenError::Locked(_))
        ));
        drop(held);
        assert!(ServeLock::acquire(&path).is_ok());
    }
}
