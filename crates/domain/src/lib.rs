//! # domain: the rules of device enrollment configurations
//!
//! Everything the service decides lives here, in domain words and without HTTP or SQL:
//! tenant defaults, server-made ids, versions and timestamps, the priority rankings,
//! `assign`'s replace semantics, what may change on a default configuration, and the
//! validation of request bodies against the EDM.
//!
//! ## Layout
//! - [`ids`]: validated identifiers (tenant).
//! - [`record`]: stored configurations and assignments, and the timestamp format.
//! - [`kinds`]: per-kind knowledge (id suffix, ranking, configuration type, tenant defaults).
//! - [`validate`]: request bodies checked against a version's [`edm::Model`].
//! - [`store`]: the `Store` trait the rules need, with its contract.
//! - [`service`]: the operations, each run as one store transaction.
//! - [`error`]: the domain's error enum.

pub mod apps;
pub mod error;
pub mod ids;
pub mod kinds;
pub mod record;
pub mod service;
pub mod store;
pub mod validate;

pub use error::{DomainError, StoreError};
pub use ids::TenantId;
pub use record::{App, Assignment, Configuration};
pub use service::Service;
pub use store::{NameMatch, ReadTx, Seek, SeekAfter, SeekOrder, Store, WriteTx};
