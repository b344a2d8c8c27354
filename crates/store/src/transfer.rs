//! `enrollgraph export` / `import`: every stored item of one tenant or all, as JSON Lines,
//! losslessly (ids, timestamps, versions, priorities, rankings, assignments), through the
//! [`Store`] trait, so data moves between any two backends.
//!
//! One JSON object per line, tagged by `kind`:
//! `{"kind":"tenant","tenantId":…}`, then that tenant's
//! `{"kind":"configuration","tenantId":…,"id":…,"odataType":…,…}` in creation order, then its
//! `{"kind":"assignment","tenantId":…,"configurationId":…,"id":…,"properties":{…}}`, then its
//! registered applications `{"kind":"app",…}` (secrets only as hashes).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use domain::store::{read, write};
use domain::{App, Assignment, Configuration, DomainError, Store, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One line of an export.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Record {
    #[serde(rename_all = "camelCase")]
    Tenant { tenant_id: String },
    #[serde(rename_all = "camelCase")]
    Configuration {
        tenant_id: String,
        id: String,
        odata_type: String,
        ranking: String,
        is_default: bool,
        priority: i32,
        version: i32,
        created_date_time: String,
        last_modified_date_time: String,
        properties: Map<String, Value>,
    },
    #[serde(rename_all = "camelCase")]
    Assignment {
        tenant_id: String,
        configuration_id: String,
        id: String,
        properties: Map<String, Value>,
    },
    /// A registered application of the token endpoint (its secret only as a hash).
    #[serde(rename_all = "camelCase")]
    App {
        tenant_id: String,
        client_id: String,
        display_name: String,
        secret_hash: Option<String>,
        certificate: Option<String>,
        roles: Vec<String>,
        created: String,
    },
}

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line}: {message}")]
    Input { line: usize, message: String },
    #[error("tenant {0} already exists in the target; import with --replace to overwrite it")]
    Exists(String),
}

/// What was moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub tenants: usize,
    pub configurations: usize,
    pub assignments: usize,
}

/// Everything stored for one tenant.
type Dump = (Vec<Configuration>, Vec<Assignment>, Vec<App>);

async fn dump(store: &dyn Store, tenant: &TenantId) -> Result<Dump, DomainError> {
    read(store, tenant, |tx| {
        let configs = tx.list_configurations()?;
        let ids: Vec<String> = configs.iter().map(|c| c.id.clone()).collect();
        let assignments = tx.list_assignments_of(&ids)?;
        Ok((configs, assignments, tx.list_apps()?))
    })
    .await
}

/// Writes the tenant (or every tenant) as JSON Lines.
pub async fn export(
    store: &dyn Store,
    only: Option<&TenantId>,
    out: &mut dyn Write,
) -> Result<Counts, TransferError> {
    let tenants = match only {
        Some(t) => vec![t.clone()],
        None => store.tenants().await?,
    };
    let mut counts = Counts::default();
    for t in tenants {
        let (configs, assignments, apps) = dump(store, &t).await?;
        let tenant_id = t.to_string();
        let mut line = |r: &Record| -> Result<(), TransferError> {
            serde_json::to_writer(&mut *out, r).map_err(std::io::Error::other)?;
            out.write_all(b"\n")?;
            Ok(())
        };
        line(&Record::Tenant {
            tenant_id: tenant_id.clone(),
        })?;
        counts.tenants += 1;
        for c in configs {
            line(&Record::Configuration {
                tenant_id: tenant_id.clone(),
                id: c.id,
                odata_type: c.odata_type,
                ranking: c.ranking,
                is_default: c.is_default,
                priority: c.priority,
                version: c.version,
                created_date_time: c.created,
                last_modified_date_time: c.modified,
                properties: c.properties,
            })?;
            counts.configurations += 1;
        }
        for a in assignments {
            line(&Record::Assignment {
                tenant_id: tenant_id.clone(),
                configuration_id: a.configuration_id,
                id: a.id,
                properties: a.properties,
            })?;
            counts.assignments += 1;
        }
        for a in apps {
            line(&Record::App {
                tenant_id: tenant_id.clone(),
                client_id: a.client_id,
                display_name: a.display_name,
                secret_hash: a.secret_hash,
                certificate: a.certificate,
                roles: a.roles,
                created: a.created,
            })?;
        }
    }
    out.flush()?;
    Ok(counts)
}

#[derive(Default)]
struct TenantData {
    configurations: Vec<Configuration>,
    assignments: Vec<Assignment>,
    apps: Vec<App>,
}

/// Reads JSON Lines and stores them, one transaction per tenant. A tenant that already
/// exists in the target is refused unless `replace`, which first deletes its items.
pub async fn import(
    store: &dyn Store,
    input: &mut dyn BufRead,
    replace: bool,
) -> Result<Counts, TransferError> {
    let mut tenants: BTreeMap<TenantId, TenantData> = BTreeMap::new();
    let parse_tenant = |line: usize, s: &str| {
        TenantId::parse(s).ok_or_else(|| TransferError::Input {
            line,
            message: format!("'{s}' is not a tenant id"),
        })
    };
    for (i, text) in input.lines().enumerate() {
        let line = i + 1;
        let text = text?;
        if text.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&text).map_err(|e| TransferError::Input {
            line,
            message: e.to_string(),
        })?;
        match record {
            Record::Tenant { tenant_id } => {
                tenants.entry(parse_tenant(line, &tenant_id)?).or_default();
            }
            Record::Configuration {
                tenant_id,
                id,
                odata_type,
                ranking,
                is_default,
                priority,
                version,
                created_date_time,
                last_modified_date_time,
                properties,
            } => tenants
                .entry(parse_tenant(line, &tenant_id)?)
                .or_default()
                .configurations
                .push(Configuration {
                    id,
                    odata_type,
                    ranking,
                    is_default,
                    priority,
                    version,
                    created: created_date_time,
                    modified: last_modified_date_time,
                    properties,
                }),
            Record::Assignment {
                tenant_id,
                configuration_id,
                id,
                properties,
            } => tenants
                .entry(parse_tenant(line, &tenant_id)?)
                .or_default()
                .assignments
                .push(Assignment {
                    id,
                    configuration_id,
                    properties,
                }),
            Record::App {
                tenant_id,
                client_id,
                display_name,
                secret_hash,
                certificate,
                roles,
                created,
            } => tenants
                .entry(parse_tenant(line, &tenant_id)?)
                .or_default()
                .apps
                .push(App {
                    client_id,
                    display_name,
                    secret_hash,
                    certificate,
                    roles,
                    created,
                }),
        }
    }
    let mut counts = Counts::default();
    for (tenant, data) in tenants {
        counts.tenants += 1;
        counts.configurations += data.configurations.len();
        counts.assignments += data.assignments.len();
        let name = tenant.to_string();
        let exists = write(store, &tenant, move |tx| {
            if tx.tenant_exists()? {
                if !replace {
                    return Ok(true);
                }
                for c in tx.list_configurations()? {
                    tx.delete_configuration(&c.id)?;
                }
                for a in tx.list_apps()? {
                    tx.delete_app(&a.client_id)?;
                }
            }
            tx.insert_tenant()?;
            for c in &data.configurations {
                tx.insert_configuration(c)?;
            }
            for a in &data.assignments {
                tx.insert_assignment(a)?;
            }
            for a in &data.apps {
                tx.insert_app(a)?;
            }
            Ok(false)
        })
        .await?;
        if exists {
            return Err(TransferError::Exists(name));
        }
    }
    Ok(counts)
}
