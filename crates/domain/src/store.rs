//! The storage the rules need, in domain words.
//!
//! A backend runs *jobs*: closures that get a transaction bound to one tenant and perform
//! domain steps through it. Each job is one transaction: either all its writes happen or
//! none, and no other request's writes interleave with it. Backends may run several write
//! jobs in one database commit (group commit), but a job's future resolves only once its
//! writes are durable, and a job that fails leaves no trace.
//!
//! Contract of every transaction:
//! - it only ever sees and changes the tenant it is bound to: an id of another tenant is
//!   simply absent ("not found");
//! - lists come back in a stable order: configurations and assignments in creation order;
//! - deleting a configuration deletes its assignments.

use std::cmp::Ordering;

use futures::future::BoxFuture;

use crate::error::{DomainError, StoreError};
use crate::ids::TenantId;
use crate::record::{App, Assignment, Configuration};

/// Which display names a [`Seek`] keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameMatch {
    Any,
    /// Exactly this name.
    Eq(String),
    /// Names that start with this text (the empty text keeps every name, not a missing one).
    Prefix(String),
}

/// The order of a [`Seek`]. Names compare by their UTF-8 bytes; ties, and items without a
/// name, go by id (bytes too), ascending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekOrder {
    Id,
    /// Display name ascending, items without one first.
    NameAsc,
    /// Display name descending, items without one last.
    NameDesc,
}

/// A position in a [`SeekOrder`]: the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeekAfter {
    /// Its display name (ignored by [`SeekOrder::Id`]).
    pub name: Option<String>,
    pub id: String,
}

/// One page of configurations read in key order, so that a page costs the same however many
/// configurations the tenant has: the first `limit` items, in `order`, of the types listed
/// that match `name` and come strictly after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seek {
    /// Unqualified type names; `None` keeps every type.
    pub types: Option<Vec<String>>,
    pub name: NameMatch,
    pub order: SeekOrder,
    pub after: Option<SeekAfter>,
    pub limit: usize,
}

fn display_name(c: &Configuration) -> Option<&str> {
    c.properties
        .get("displayName")
        .and_then(serde_json::Value::as_str)
}

impl Seek {
    /// Whether `c` is of a listed type and its name matches.
    pub fn keeps(&self, c: &Configuration) -> bool {
        let typed = self
            .types
            .as_ref()
            .is_none_or(|t| t.contains(&c.odata_type));
        typed
            && match (&self.name, display_name(c)) {
                (NameMatch::Any, _) => true,
                (NameMatch::Eq(n), Some(d)) => d == n,
                (NameMatch::Prefix(p), Some(d)) => d.starts_with(p.as_str()),
                (_, None) => false,
            }
    }

    /// The order of two positions (name, id).
    pub fn cmp(&self, a: (Option<&str>, &str), b: (Option<&str>, &str)) -> Ordering {
        let by_name = match self.order {
            SeekOrder::Id => Ordering::Equal,
            // `None < Some(_)`: no name first.
            SeekOrder::NameAsc => a.0.cmp(&b.0),
            SeekOrder::NameDesc => b.0.cmp(&a.0),
        };
        by_name.then_with(|| a.1.cmp(b.1))
    }

    /// The page, from every configuration of the tenant (what a backend without an index
    /// does, and the meaning every backend must match).
    pub fn apply(&self, all: Vec<Configuration>) -> Vec<Configuration> {
        let pos = |c: &Configuration| (display_name(c).map(str::to_owned), c.id.clone());
        let mut kept: Vec<Configuration> = all
            .into_iter()
            .filter(|c| self.keeps(c))
            .filter(|c| {
                self.after.as_ref().is_none_or(|a| {
                    self.cmp((display_name(c), &c.id), (a.name.as_deref(), &a.id))
                        == Ordering::Greater
                })
            })
            .collect();
        kept.sort_by(|x, y| {
            let (x, y) = (pos(x), pos(y));
            self.cmp((x.0.as_deref(), &x.1), (y.0.as_deref(), &y.1))
        });
        kept.truncate(self.limit);
        kept
    }
}

/// Reads within one tenant, from one consistent snapshot.
pub trait ReadTx {
    /// Whether the tenant has been set up (its defaults created).
    fn tenant_exists(&mut self) -> Result<bool, StoreError>;
    fn get_configuration(&mut self, id: &str) -> Result<Option<Configuration>, StoreError>;
    /// Every configuration of the tenant, in creation order.
    fn list_configurations(&mut self) -> Result<Vec<Configuration>, StoreError>;
    /// One page of configurations in key order (see [`Seek`]). Backends answer it from an
    /// index; this default reads the whole tenant.
    fn seek_configurations(&mut self, seek: &Seek) -> Result<Vec<Configuration>, StoreError> {
        Ok(seek.apply(self.list_configurations()?))
    }
    /// The non-default members of a ranking, by ascending priority.
    fn ranking(&mut self, ranking: &str) -> Result<Vec<(String, i32)>, StoreError>;
    /// The highest priority of the ranking's non-default members, if it has any.
    fn last_priority(&mut self, ranking: &str) -> Result<Option<i32>, StoreError> {
        Ok(self.ranking(ranking)?.last().map(|(_, p)| *p))
    }
    fn get_assignment(
        &mut self,
        configuration_id: &str,
        id: &str,
    ) -> Result<Option<Assignment>, StoreError>;
    /// The assignments of one configuration, in creation order.
    fn list_assignments(&mut self, configuration_id: &str) -> Result<Vec<Assignment>, StoreError>;
    /// The assignments of several configurations at once (for `$expand`), in creation order.
    fn list_assignments_of(
        &mut self,
        configuration_ids: &[String],
    ) -> Result<Vec<Assignment>, StoreError>;
    /// An application registered in the tenant (for the token endpoint).
    fn get_app(&mut self, client_id: &str) -> Result<Option<App>, StoreError>;
    /// The tenant's applications, in registration order.
    fn list_apps(&mut self) -> Result<Vec<App>, StoreError>;
}

/// Reads and writes within one tenant, in one transaction.
pub trait WriteTx: ReadTx {
    /// Records that the tenant exists (its defaults are inserted by the caller).
    fn insert_tenant(&mut self) -> Result<(), StoreError>;
    fn insert_configuration(&mut self, c: &Configuration) -> Result<(), StoreError>;
    /// Replaces the stored item with the same id.
    fn update_configuration(&mut self, c: &Configuration) -> Result<(), StoreError>;
    /// Deletes the configuration and its assignments; false if it did not exist.
    fn delete_configuration(&mut self, id: &str) -> Result<bool, StoreError>;
    /// Sets several priorities at once (uniqueness within a ranking holds after the call,
    /// not necessarily between single updates).
    fn set_priorities(&mut self, changes: &[(String, i32)]) -> Result<(), StoreError>;
    fn insert_assignment(&mut self, a: &Assignment) -> Result<(), StoreError>;
    fn update_assignment(&mut self, a: &Assignment) -> Result<(), StoreError>;
    fn delete_assignment(&mut self, configuration_id: &str, id: &str) -> Result<bool, StoreError>;
    fn delete_assignments_of(&mut self, configuration_id: &str) -> Result<(), StoreError>;
    fn insert_app(&mut self, app: &App) -> Result<(), StoreError>;
    /// False if no such app.
    fn delete_app(&mut self, client_id: &str) -> Result<bool, StoreError>;
}

/// A read job.
pub type ReadJob = Box<dyn FnOnce(&mut dyn ReadTx) -> Result<(), DomainError> + Send>;
/// A write job.
pub type WriteJob = Box<dyn FnOnce(&mut dyn WriteTx) -> Result<(), DomainError> + Send>;

/// A storage backend.
pub trait Store: Send + Sync + 'static {
    /// Runs `job` in a read-only transaction of `tenant`.
    fn read(&self, tenant: &TenantId, job: ReadJob) -> BoxFuture<'_, Result<(), DomainError>>;
    /// Runs `job`, which reads a handful of rows by key, in a read-only transaction of
    /// `tenant`. A backend may run it on the calling thread, sparing a hand-off to another;
    /// by default it is [`Store::read`].
    fn read_point(
        &self,
        tenant: &TenantId,
        job: ReadJob,
    ) -> BoxFuture<'_, Result<(), DomainError>> {
        self.read(tenant, job)
    }
    /// Runs `job` in a write transaction of `tenant`; resolves once it is durable.
    fn write(&self, tenant: &TenantId, job: WriteJob) -> BoxFuture<'_, Result<(), DomainError>>;
    /// A number that changes whenever the tenant's data may have changed (it may change more
    /// often), read before the read it guards: a write is answered only once the number has
    /// changed. `None` (the default) when the backend cannot tell cheaply. Lets callers keep
    /// what they derived from a read until the next write.
    fn generation(&self, _tenant: &TenantId) -> Option<u64> {
        None
    }
    /// Every tenant that has been set up, in id order (for export).
    fn tenants(&self) -> BoxFuture<'_, Result<Vec<TenantId>, DomainError>>;
    /// A short name for logs (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;
}

/// Where a job leaves its value for the caller.
type Slot<T> = std::sync::Arc<std::sync::Mutex<Option<T>>>;

fn put<T>(slot: &Slot<T>, v: T) {
    if let Ok(mut s) = slot.lock() {
        *s = Some(v);
    }
}

/// Wraps a read closure into a [`ReadJob`] that leaves its value in a slot.
fn read_job<T, F>(f: F) -> (Slot<T>, ReadJob)
where
    T: Send + 'static,
    F: FnOnce(&mut dyn ReadTx) -> Result<T, DomainError> + Send + 'static,
{
    let slot: Slot<T> = Default::default();
    let out = slot.clone();
    (slot, Box::new(move |tx| f(tx).map(|v| put(&out, v))))
}

/// Runs a read closure and returns its value.
pub async fn read<T, F>(store: &dyn Store, tenant: &TenantId, f: F) -> Result<T, DomainError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn ReadTx) -> Result<T, DomainError> + Send + 'static,
{
    let (slot, job) = read_job(f);
    store.read(tenant, job).await?;
    take(&slot)
}

/// Like [`read`], for a closure that reads a handful of rows by key ([`Store::read_point`]).
pub async fn read_point<T, F>(store: &dyn Store, tenant: &TenantId, f: F) -> Result<T, DomainError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn ReadTx) -> Result<T, DomainError> + Send + 'static,
{
    let (slot, job) = read_job(f);
    store.read_point(tenant, job).await?;
    take(&slot)
}

/// Runs a write closure and returns its value once its transaction is durable.
pub async fn write<T, F>(store: &dyn Store, tenant: &TenantId, f: F) -> Result<T, DomainError>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn WriteTx) -> Result<T, DomainError> + Send + 'static,
{
    let slot: Slot<T> = Default::default();
    let out = slot.clone();
    store
        .write(tenant, Box::new(move |tx| f(tx).map(|v| put(&out, v))))
        .await?;
    take(&slot)
}

fn take<T>(slot: &Slot<T>) -> Result<T, DomainError> {
    slot.lock()
        .ok()
        .and_then(|mut s| s.take())
        .ok_or_else(|| StoreError::Internal("a job finished without a result".into()).into())
}
