//! # store: the backends of [`domain::Store`]
//!
//! ## Layout
//! - [`open`] picks the backend from the database URL's scheme.
//! - [`sqlite`]: embedded SQLite (the default): WAL, `synchronous=FULL`, one writer thread
//!   that commits the write jobs queued together in one transaction (group commit), and a
//!   small pool of reader connections.
//! - `migrations/`: the schema of each backend, embedded and applied at start.
//!
//! Every backend keeps the contract written on [`domain::store`]; the conformance tests in
//! `tests/` run against each of them.

pub mod sqlite;

use std::path::Path;
use std::sync::Arc;

use domain::Store;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("unsupported database URL scheme in '{0}': use sqlite://PATH (the default is a file in the data dir)")]
    Scheme(String),
    #[error("PostgreSQL is not supported by this build yet: use sqlite://PATH")]
    PostgresUnsupported,
    #[error("cannot open the SQLite database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot prepare the database: {0}")]
    Io(#[from] std::io::Error),
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

/// Opens the store named by `url` (`sqlite://PATH`, `sqlite:PATH`; a relative path is taken
/// from the working directory).
pub fn open(url: &str) -> Result<Arc<dyn Store>, OpenError> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let store = sqlite::SqliteStore::open(Path::new(path), sqlite::Options::default())?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(OpenError::PostgresUnsupported);
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
