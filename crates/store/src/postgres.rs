//! The PostgreSQL backend, for several enrollgraph nodes on one database.
//!
//! Jobs are synchronous closures, so each runs on a blocking thread of a runtime the store
//! owns, and every statement is driven to completion there with a timeout. Write jobs run in
//! one transaction that first locks the tenant's row (`SELECT … FOR UPDATE`), so the writes of
//! one tenant are serialised across all nodes and a ranking can never gain a duplicate or a
//! gap; read jobs run in a `REPEATABLE READ, READ ONLY` transaction (one snapshot). Only SQL
//! shared by PostgreSQL, CockroachDB and YugabyteDB is used (no advisory locks, no
//! `LOCK TABLE`).
//!
//! When the database cannot be reached, a pool wait, connect or statement exceeding its
//! timeout fails the job as `StoreError::Unavailable` (a Graph 503 with `Retry-After`); broken
//! connections are dropped and new ones made on later requests, so the store recovers by
//! itself when the database returns.

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Transaction};
use domain::store::{ReadJob, WriteJob};
use domain::{
    App, Assignment, Configuration, DomainError, ReadTx, Seek, Store, StoreError, TenantId, WriteTx,
};
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use tokio::runtime::Handle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};

use crate::{OpenError, Options};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_initial.sql"),
    include_str!("../migrations/postgres/0002_apps.sql"),
    include_str!("../migrations/postgres/0003_list_order.sql"),
];

/// The PostgreSQL store.
pub struct PgStore {
    pool: Pool,
    runtime: Option<tokio::runtime::Runtime>,
    handle: Handle,
    options: Options,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn pg_err(e: tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    let retryable = e.is_closed()
        || e.code().is_none()
        || e.code().is_some_and(|c| {
            [
                SqlState::T_R_SERIALIZATION_FAILURE,
                SqlState::T_R_DEADLOCK_DETECTED,
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::TOO_MANY_CONNECTIONS,
                SqlState::QUERY_CANCELED,
            ]
            .contains(c)
        });
    if retryable {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Internal(e.to_string())
    }
}

/// Runs `fut` to completion on `handle` within `limit`.
fn drive<T>(
    handle: &Handle,
    limit: Duration,
    fut: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, StoreError> {
    match handle.block_on(tokio::time::timeout(limit, fut)) {
        Ok(r) => r.map_err(pg_err),
        Err(_) => Err(StoreError::Unavailable(format!(
            "the database did not answer within {} ms",
            limit.as_millis()
        ))),
    }
}

impl PgStore {
    /// Connects to `url`, creates the schema named first in its `search_path` if it does not
    /// exist, and runs the migrations (safe when several nodes start at once).
    pub fn open(url: &str, options: Options) -> Result<PgStore, OpenError> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| OpenError::Postgres(format!("bad URL {}: {e}", crate::redact(url))))?;
        config.connect_timeout(options.connect_timeout);
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(options.pool_size.max(1) * 2)
            .thread_name("postgres-store")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(options.acquire_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| OpenError::Postgres(e.to_string()))?;
        let store = PgStore {
            pool,
            runtime: Some(runtime),
            handle,
            options,
        };
        // Migrate from a thread of our own: the caller may be inside an async runtime.
        let migrated = std::thread::scope(|s| {
            s.spawn(|| store.migrate())
                .join()
                .unwrap_or_else(|_| Err(StoreError::Internal("migration panicked".into())))
        });
        migrated.map_err(|e| OpenError::Postgres(format!("{} : {e}", crate::redact(url))))?;
        Ok(store)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let limit = self.options.query_timeout.max(Duration::from_secs(30));
        let h = &self.handle;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = h.block_on(async {
                let mut client = tokio::time::timeout(limit, self.pool.get())
                    .await
                    .map_err(|_| StoreError::Unavailable("no database connection".into()))?
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                let schema: Option<String> = client
                    .query_one("SELECT current_schema()", &[])
                    .await
                    .map_err(pg_err)?
                    .get(0);
                if schema.is_none() {
                    let path: String = client
                        .query_one("SHOW search_path", &[])
                        .await
                        .map_err(pg_err)?
                        .get(0);
                    let first = path
                        .split(',')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .trim_matches('"');
                    if first.is_empty()
                        || !first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        return Err(StoreError::Internal(format!(
                            "no usable schema in search_path '{path}'"
                        )));
                    }
                    client
                        .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {first}"))
                        .await
                        .map_err(pg_err)?;
                }
                client
                    .batch_execute(
                        "CREATE TABLE IF NOT EXISTS enrollgraph_migrations (
                             version INTEGER PRIMARY KEY, applied TEXT NOT NULL)",
                    )
                    .await
                    .map_err(pg_err)?;
                let tx = client.transaction().await.map_err(pg_err)?;
                // Row 0 is the migration lock: one node migrates, the others wait for it.
                tx.execute(
                    "INSERT INTO enrollgraph_migrations (version, applied) VALUES (0, 'lock')
                     ON CONFLICT (version) DO NOTHING",
                    &[],
                )
                .await
                .map_err(pg_err)?;
                tx.query_one(
                    "SELECT version FROM enrollgraph_migrations WHERE version = 0 FOR UPDATE",
                    &[],
                )
                .await
                .map_err(pg_err)?;
                let current: i32 = tx
                    .query_one("SELECT max(version) FROM enrollgraph_migrations", &[])
                    .await
                    .map_err(pg_err)?
                    .get::<_, Option<i32>>(0)
                    .unwrap_or(0);
                for (i, sql) in MIGRATIONS.iter().enumerate() {
                    let version = i as i32 + 1;
                    if version > current {
                        tx.batch_execute(sql).await.map_err(pg_err)?;
                        tx.execute(
                            "INSERT INTO enrollgraph_migrations (version, applied) VALUES ($1, $2)",
                            &[&version, &domain::record::now_timestamp()],
                        )
                        .await
                        .map_err(pg_err)?;
                    }
                }
                tx.commit().await.map_err(pg_err)
            });
            match result {
                // Two nodes creating the bookkeeping table at once can collide; try again.
                Err(StoreError::Internal(m)) if attempt < 5 && m.contains("duplicate key") => {
                    std::thread::sleep(Duration::from_millis(100 * attempt));
                }
                other => return other,
            }
        }
    }

    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Handle, &Pool, &Options) -> Result<T, DomainError> + Send + 'static,
    ) -> BoxFuture<'_, Result<T, DomainError>> {
        let handle = self.handle.clone();
        let pool = self.pool.clone();
        let options = self.options.clone();
        let task = self
            .handle
            .spawn_blocking(move || f(&handle, &pool, &options));
        Box::pin(async move {
            task.await
                .map_err(|e| StoreError::Internal(format!("a job panicked: {e}")))?
        })
    }
}

fn acquire(h: &Handle, pool: &Pool, o: &Options) -> Result<deadpool_postgres::Object, StoreError> {
    match h.block_on(tokio::time::timeout(
        o.acquire_timeout + o.connect_timeout,
        pool.get(),
    )) {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(StoreError::Unavailable(format!(
            "no database connection: {e}"
        ))),
        Err(_) => Err(StoreError::Unavailable(
            "no database connection became free in time".into(),
        )),
    }
}

fn catch<T>(f: impl FnOnce() -> Result<T, DomainError>) -> Result<T, DomainError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(StoreError::Internal("a job panicked".into()).into()))
}

impl Store for PgStore {
    fn read(&self, tenant: &TenantId, job: ReadJob) -> BoxFuture<'_, Result<(), DomainError>> {
        let tenant = tenant.clone();
        self.run(move |h, pool, o| {
            let mut client = acquire(h, pool, o)?;
            let tx = drive(
                h,
                o.query_timeout,
                client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start(),
            )?;
            let out = {
                let mut ptx = PgTx {
                    tx: &tx,
                    h,
                    limit: o.query_timeout,
                    tenant: &tenant,
                };
                catch(|| job(&mut ptx))
            };
            let end = drive(h, o.query_timeout, tx.rollback());
            out?;
            end.map_err(DomainError::from)
        })
    }

    fn write(&self, tenant: &TenantId, job: WriteJob) -> BoxFuture<'_, Result<(), DomainError>> {
        let tenant = tenant.clone();
        self.run(move |h, pool, o| {
            let mut client = acquire(h, pool, o)?;
            let tx = drive(h, o.query_timeout, client.transaction())?;
            let t = tenant.as_str();
            // Lock the tenant: its writes are serialised across every node.
            drive(
                h,
                o.query_timeout,
                tx.execute(
                    "INSERT INTO tenants (tenant_id, seeded, created) VALUES ($1, FALSE, $2)
                     ON CONFLICT (tenant_id) DO NOTHING",
                    &[&t, &domain::record::now_timestamp()],
                ),
            )?;
            drive(
                h,
                o.query_timeout,
                tx.query_one(
                    "SELECT seeded FROM tenants WHERE tenant_id = $1 FOR UPDATE",
                    &[&t],
                ),
            )?;
            let out = {
                let mut ptx = PgTx {
                    tx: &tx,
                    h,
                    limit: o.query_timeout,
                    tenant: &tenant,
                };
                catch(|| job(&mut ptx))
            };
            match out {
                Ok(()) => drive(h, o.query_timeout, tx.commit()).map_err(DomainError::from),
                Err(e) => {
                    let _ = drive(h, o.query_timeout, tx.rollback());
                    Err(e)
                }
            }
        })
    }

    fn tenants(&self) -> BoxFuture<'_, Result<Vec<TenantId>, DomainError>> {
        self.run(move |h, pool, o| {
            let client = acquire(h, pool, o)?;
            let rows = drive(
                h,
                o.query_timeout,
                client.query(
                    "SELECT tenant_id FROM tenants WHERE seeded ORDER BY tenant_id",
                    &[],
                ),
            )?;
            Ok(rows
                .iter()
                .filter_map(|r| TenantId::parse(r.get::<_, &str>(0)))
                .collect())
        })
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

/// A transaction bound to one tenant.
struct PgTx<'a> {
    tx: &'a Transaction<'a>,
    h: &'a Handle,
    limit: Duration,
    tenant: &'a TenantId,
}

const CONFIG_COLUMNS: &str =
    "id, odata_type, ranking, is_default, priority, version, created, modified, properties";

fn parse_props(text: &str) -> Result<Map<String, Value>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Internal(format!("stored JSON: {e}")))
}

fn to_text(props: &Map<String, Value>) -> Result<String, StoreError> {
    serde_json::to_string(props).map_err(|e| StoreError::Internal(e.to_string()))
}

fn to_configuration(r: &Row) -> Result<Configuration, StoreError> {
    let props: String = r.try_get(8).map_err(pg_err)?;
    Ok(Configuration {
        id: r.try_get(0).map_err(pg_err)?,
        odata_type: r.try_get(1).map_err(pg_err)?,
        ranking: r.try_get(2).map_err(pg_err)?,
        is_default: r.try_get(3).map_err(pg_err)?,
        priority: r.try_get(4).map_err(pg_err)?,
        version: r.try_get(5).map_err(pg_err)?,
        created: r.try_get(6).map_err(pg_err)?,
        modified: r.try_get(7).map_err(pg_err)?,
        properties: parse_props(&props)?,
    })
}

fn to_assignment(r: &Row) -> Result<Assignment, StoreError> {
    let props: String = r.try_get(2).map_err(pg_err)?;
    Ok(Assignment {
        configuration_id: r.try_get(0).map_err(pg_err)?,
        id: r.try_get(1).map_err(pg_err)?,
        properties: parse_props(&props)?,
    })
}

impl PgTx<'_> {
    fn t(&self) -> &str {
        self.tenant.as_str()
    }

    /// Runs an INSERT or UPDATE of a configuration whose parameters are, in order: tenant,
    /// id, type, ranking, is_default, priority, version, created, modified, display name,
    /// properties.
    fn put_configuration(&self, sql: &str, c: &Configuration) -> Result<(), StoreError> {
        let props = to_text(&c.properties)?;
        let name = c.properties.get("displayName").and_then(Value::as_str);
        self.execute(
            sql,
            &[
                &self.t(),
                &c.id,
                &c.odata_type,
                &c.ranking,
                &c.is_default,
                &c.priority,
                &c.version,
                &c.created,
                &c.modified,
                &name,
                &props,
            ],
        )
        .map(|_| ())
    }

    fn query(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, StoreError> {
        drive(self.h, self.limit, async {
            let stmt = self.tx.prepare_cached(sql).await?;
            self.tx.query(&stmt, args).await
        })
    }

    fn execute(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        drive(self.h, self.limit, async {
            let stmt = self.tx.prepare_cached(sql).await?;
            self.tx.execute(&stmt, args).await
        })
    }

    fn configurations(
        &self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Configuration>, StoreError> {
        self.query(sql, args)?
            .iter()
            .map(to_configuration)
            .collect()
    }

    fn assignments(
        &self,
        sql: &str,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Assignment>, StoreError> {
        self.query(sql, args)?.iter().map(to_assignment).collect()
    }
}

fn to_app(r: &Row) -> Result<App, StoreError> {
    let roles: String = r.try_get(3).map_err(pg_err)?;
    Ok(App {
        client_id: r.try_get(0).map_err(pg_err)?,
        display_name: r.try_get(1).map_err(pg_err)?,
        secret_hash: r.try_get(2).map_err(pg_err)?,
        roles: serde_json::from_str(&roles)
            .map_err(|e| StoreError::Internal(format!("stored roles: {e}")))?,
        created: r.try_get(4).map_err(pg_err)?,
        certificate: r.try_get(5).map_err(pg_err)?,
    })
}

impl ReadTx for PgTx<'_> {
    fn get_app(&mut self, client_id: &str) -> Result<Option<App>, StoreError> {
        let rows = self.query(
            "SELECT client_id, display_name, secret_hash, roles, created, certificate FROM apps
             WHERE tenant_id = $1 AND client_id = $2",
            &[&self.t(), &client_id],
        )?;
        rows.first().map(to_app).transpose()
    }

    fn list_apps(&mut self) -> Result<Vec<App>, StoreError> {
        self.query(
            "SELECT client_id, display_name, secret_hash, roles, created, certificate FROM apps
             WHERE tenant_id = $1 ORDER BY seq",
            &[&self.t()],
        )?
        .iter()
        .map(to_app)
        .collect()
    }

    fn tenant_exists(&mut self) -> Result<bool, StoreError> {
        let rows = self.query(
            "SELECT seeded FROM tenants WHERE tenant_id = $1",
            &[&self.t()],
        )?;
        Ok(rows.first().is_some_and(|r| r.get::<_, bool>(0)))
    }

    fn get_configuration(&mut self, id: &str) -> Result<Option<Configuration>, StoreError> {
        let sql =
            format!("SELECT {CONFIG_COLUMNS} FROM configurations WHERE tenant_id = $1 AND id = $2");
        Ok(self.configurations(&sql, &[&self.t(), &id])?.pop())
    }

    fn list_configurations(&mut self) -> Result<Vec<Configuration>, StoreError> {
        let sql = format!(
            "SELECT {CONFIG_COLUMNS} FROM configurations WHERE tenant_id = $1 ORDER BY seq"
        );
        self.configurations(&sql, &[&self.t()])
    }

    fn seek_configurations(&mut self, seek: &Seek) -> Result<Vec<Configuration>, StoreError> {
        let mut base = format!("SELECT {CONFIG_COLUMNS} FROM configurations WHERE tenant_id = $1");
        if seek.types.is_some() {
            base.push_str(" AND odata_type = ANY($2)");
        }
        let first = if seek.types.is_some() { 3 } else { 2 };
        let tenant = self.t().to_owned();
        let mut out = Vec::new();
        for segment in crate::seek::segments(seek, crate::seek::Dialect::Postgres, &base, first) {
            if out.len() >= seek.limit {
                break;
            }
            let mut args: Vec<&(dyn ToSql + Sync)> = vec![&tenant];
            if let Some(t) = &seek.types {
                args.push(t);
            }
            args.extend(segment.params.iter().map(|p| p as &(dyn ToSql + Sync)));
            out.extend(self.configurations(&segment.sql, &args)?);
        }
        out.truncate(seek.limit);
        Ok(out)
    }

    fn ranking(&mut self, ranking: &str) -> Result<Vec<(String, i32)>, StoreError> {
        let rows = self.query(
            "SELECT id, priority FROM configurations
             WHERE tenant_id = $1 AND ranking = $2 AND NOT is_default ORDER BY priority",
            &[&self.t(), &ranking],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn get_assignment(
        &mut self,
        configuration_id: &str,
        id: &str,
    ) -> Result<Option<Assignment>, StoreError> {
        Ok(self
            .assignments(
                "SELECT configuration_id, id, properties FROM assignments
                 WHERE tenant_id = $1 AND configuration_id = $2 AND id = $3",
                &[&self.t(), &configuration_id, &id],
            )?
            .pop())
    }

    fn list_assignments(&mut self, configuration_id: &str) -> Result<Vec<Assignment>, StoreError> {
        self.assignments(
            "SELECT configuration_id, id, properties FROM assignments
             WHERE tenant_id = $1 AND configuration_id = $2 ORDER BY seq",
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
        self.assignments(
            "SELECT configuration_id, id, properties FROM assignments
             WHERE tenant_id = $1 AND configuration_id = ANY($2) ORDER BY seq",
            &[&self.t(), &configuration_ids],
        )
    }
}

impl WriteTx for PgTx<'_> {
    fn insert_app(&mut self, app: &App) -> Result<(), StoreError> {
        let roles =
            serde_json::to_string(&app.roles).map_err(|e| StoreError::Internal(e.to_string()))?;
        self.execute(
            "INSERT INTO apps (tenant_id, client_id, display_name, secret_hash, roles, created,
               certificate)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &self.t(),
                &app.client_id,
                &app.display_name,
                &app.secret_hash,
                &roles,
                &app.created,
                &app.certificate,
            ],
        )
        .map(|_| ())
    }

    fn delete_app(&mut self, client_id: &str) -> Result<bool, StoreError> {
        self.execute(
            "DELETE FROM apps WHERE tenant_id = $1 AND client_id = $2",
            &[&self.t(), &client_id],
        )
        .map(|n| n > 0)
    }

    fn insert_tenant(&mut self) -> Result<(), StoreError> {
        self.execute(
            "UPDATE tenants SET seeded = TRUE WHERE tenant_id = $1",
            &[&self.t()],
        )
        .map(|_| ())
    }

    fn insert_configuration(&mut self, c: &Configuration) -> Result<(), StoreError> {
        self.put_configuration(
            "INSERT INTO configurations (tenant_id, id, odata_type, ranking, is_default,
               priority, version, created, modified, display_name, properties)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            c,
        )
    }

    fn update_configuration(&mut self, c: &Configuration) -> Result<(), StoreError> {
        self.put_configuration(
            "UPDATE configurations SET odata_type = $3, ranking = $4, is_default = $5,
               priority = $6, version = $7, created = $8, modified = $9, display_name = $10,
               properties = $11
             WHERE tenant_id = $1 AND id = $2",
            c,
        )
    }

    fn delete_configuration(&mut self, id: &str) -> Result<bool, StoreError> {
        self.execute(
            "DELETE FROM configurations WHERE tenant_id = $1 AND id = $2",
            &[&self.t(), &id],
        )
        .map(|n| n > 0)
    }

    fn set_priorities(&mut self, changes: &[(String, i32)]) -> Result<(), StoreError> {
        // Two passes so that the unique ranking index holds after every single statement.
        for (id, p) in changes {
            self.execute(
                "UPDATE configurations SET priority = $3 WHERE tenant_id = $1 AND id = $2",
                &[&self.t(), id, &(-*p)],
            )?;
        }
        for (id, p) in changes {
            self.execute(
                "UPDATE configurations SET priority = $3 WHERE tenant_id = $1 AND id = $2",
                &[&self.t(), id, p],
            )?;
        }
        Ok(())
    }

    fn insert_assignment(&mut self, a: &Assignment) -> Result<(), StoreError> {
        let props = to_text(&a.properties)?;
        self.execute(
            "INSERT INTO assignments (tenant_id, configuration_id, id, properties)
             VALUES ($1, $2, $3, $4)",
            &[&self.t(), &a.configuration_id, &a.id, &props],
        )
        .map(|_| ())
    }

    fn update_assignment(&mut self, a: &Assignment) -> Result<(), StoreError> {
        let props = to_text(&a.properties)?;
        self.execute(
            "UPDATE assignments SET properties = $4
             WHERE tenant_id = $1 AND configuration_id = $2 AND id = $3",
            &[&self.t(), &a.configuration_id, &a.id, &props],
        )
        .map(|_| ())
    }

    fn delete_assignment(&mut self, configuration_id: &str, id: &str) -> Result<bool, StoreError> {
        self.execute(
            "DELETE FROM assignments WHERE tenant_id = $1 AND configuration_id = $2 AND id = $3",
            &[&self.t(), &configuration_id, &id],
        )
        .map(|n| n > 0)
    }

    fn delete_assignments_of(&mut self, configuration_id: &str) -> Result<(), StoreError> {
        self.execute(
            "DELETE FROM assignments WHERE tenant_id = $1 AND configuration_id = $2",
            &[&self.t(), &configuration_id],
        )
        .map(|_| ())
    }
}
