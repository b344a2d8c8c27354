//! Large tenants written straight into the database with the store's own API (`store::open`,
//! `domain::store::write`, `WriteTx::insert_configuration`), not through HTTP: a million
//! configurations would take too long one request at a time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use domain::service::{CONFIGURATION, MANAGED};
use domain::{Configuration, TenantId};
use serde_json::{Map, Value};

use crate::seed::kind_bodies;
use crate::Res;

const BATCH: usize = 20_000;

/// Configurations of every kind, as the service would store them, one template per kind.
fn templates(models: &edm::Models) -> Res<Vec<(String, Map<String, Value>)>> {
    let mut out = Vec::new();
    for body in kind_bodies("template") {
        let checked =
            domain::validate::entity_body(&models.beta, CONFIGURATION, &body, None, false)
                .map_err(|e| format!("template: {e}"))?;
        let mut props = checked.properties;
        for k in MANAGED {
            props.remove(*k);
        }
        let mut props = domain::validate::complete(&models.beta, &checked.type_name, &props);
        for k in MANAGED {
            props.remove(*k);
        }
        out.push((checked.type_name, props));
    }
    Ok(out)
}

/// Sets the tenant up (its defaults, as on its first request) and writes `n` configurations
/// into it, kinds in turn, named `bench-0000000`…, in batches of one transaction each.
pub async fn fill(
    store: &Arc<dyn domain::Store>,
    models: &Arc<edm::Models>,
    tenant: &TenantId,
    n: usize,
) -> Res<f64> {
    let started = Instant::now();
    let service = domain::Service::new(store.clone(), models.clone());
    service
        .ensure_tenant(tenant)
        .await
        .map_err(|e| format!("ensure_tenant: {e}"))?;
    let templates = templates(models)?;
    let mut priorities: HashMap<String, i32> = HashMap::new();
    let now = domain::record::now_timestamp();
    let mut done = 0;
    while done < n {
        let size = BATCH.min(n - done);
        let mut batch = Vec::with_capacity(size);
        for i in done..done + size {
            let (type_name, props) = &templates[i % templates.len()];
            let Some(kind) = domain::kinds::kind(type_name) else {
                return Err(format!("no kind for {type_name}").into());
            };
            let mut properties = props.clone();
            properties.insert("displayName".into(), Value::String(format!("bench-{i:07}")));
            let ranking = domain::kinds::ranking_key(type_name, &properties);
            let p = priorities.entry(ranking.clone()).or_insert(0);
            *p += 1;
            batch.push(Configuration {
                id: format!("{}_{}", uuid::Uuid::new_v4(), kind.id_suffix),
                odata_type: type_name.clone(),
                ranking,
                is_default: false,
                priority: *p,
                version: 1,
                created: now.clone(),
                modified: now.clone(),
                properties,
            });
        }
        domain::store::write(store.as_ref(), tenant, move |tx| {
            for c in &batch {
                tx.insert_configuration(c)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| format!("insert: {e}"))?;
        done += size;
        if n >= 100_000 && done % 100_000 == 0 {
            eprintln!(
                "  … {done} of {n} configurations written ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(started.elapsed().as_secs_f64())
}
