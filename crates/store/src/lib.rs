//! # store: the backends of [`domain::Store`]
//!
//! ## Layout
//! - [`open`] picks the backend from the database URL's scheme.
//! - [`sqlite`]: embedded SQLite (the default): WAL, `synchronous=FULL`, one writer thread
//!   that commits the write jobs queued together in one transaction (group commit), and a
//!   small pool of reader connections.
//! - [`postgres`]: PostgreSQL (and the SQL it shares with CockroachDB and YugabyteDB), for
//!   several nodes on one database: a pool with timeouts, per-tenant row locks.
//! - [`seek`]: the SQL of one page of a list read in index order, shared by both.
//! - `migrations/`: the schema of each backend, embedded and applied at start.
//!
//! Every backend keeps the contract written on [`domain::store`]; the conformance tests in
//! `tests/` run against each of them.

pub mod postgres;
pub mod seek;
pub mod sqlite;
pub mod transfer;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use domain::Store;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("unsupported database URL scheme in '{0}': use sqlite://PATH (the default is a file in the data dir) or postgres://USER@HOST:PORT/DB")]
    Scheme(String),
    #[error("cannot open the PostgreSQL database: {0}")]
    Postgres(String),
    #[error("cannot open the SQLite database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("the SQLite database {0} is being served by a running enrollgraph server: stop it first, or write through its API")]
    Locked(String),
    #[error("cannot prepare the database: {0}")]
    Io(#[from] std::io::Error),
}

/// Connection settings of the database (PostgreSQL; SQLite uses its own defaults).
#[derive(Debug, Clone)]
pub struct Options {
    /// Most connections held open.
    pub pool_size: usize,
    /// Longest wait to open a connection.
    pub connect_timeout: Duration,
    /// Longest wait for a free connection from the pool.
    pub acquire_timeout: Duration,
    /// Longest wait for any one statement.
    pub query_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pool_size: 16,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
            query_timeout: Duration::from_secs(10),
        }
    }
}

/// Redacts the password of a database URL for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The SQLite database file a URL names, if it names one.
pub fn sqlite_path(url: &str) -> Option<&Path> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(Path::new)
}

/// Opens the store named by `url`: `sqlite://PATH` or `sqlite:PATH` (a relative path is taken
/// from the working directory), or `postgres://…` / `postgresql://…`.
pub fn open(url: &str, options: &Options) -> Result<Arc<dyn Store>, OpenError> {
    if let Some(path) = sqlite_path(url) {
        let store = sqlite::SqliteStore::open(path, sqlite::Options::default())?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(postgres::PgStore::open(url, options.clone())?));
    }
    Err(OpenError::Scheme(redact(url)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(super::redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
