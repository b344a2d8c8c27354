//! The operations of the API, each one store transaction.
//!
//! Handlers call these with the caller's tenant, the API version of the request and the raw
//! JSON body; everything Graph decides (validation, ids, priorities, defaults) happens here.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use edm::{Model, Models, Version};
use serde_json::{json, Map, Value};

use crate::error::DomainError;
use crate::ids::TenantId;
use crate::kinds::{self, DEFAULT_DISPLAY_NAME, KINDS};
use crate::record::{
    now_timestamp, now_timestamp_whole_seconds, Assignment, Configuration, MIN_TIMESTAMP,
};
use crate::store::{self, ReadTx, Seek, Store, WriteTx};
use crate::validate::{self, complete};

/// The declared type of the configurations collection.
pub const CONFIGURATION: &str = "deviceEnrollmentConfiguration";
/// The declared type of the assignments collection.
pub const ASSIGNMENT: &str = "enrollmentConfigurationAssignment";
const NOTIFICATION: &str = "deviceEnrollmentNotificationConfiguration";

/// Properties the server manages; ignored in request bodies.
pub const MANAGED: &[&str] = &[
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "priority",
    "version",
    "deviceEnrollmentConfigurationType",
];

/// Properties of a tenant default that cannot change.
const FIXED_ON_DEFAULTS: &[&str] = &["displayName", "description", "roleScopeTagIds"];

/// A configuration together with its assignments, when they were asked for.
pub type WithAssignments = (Configuration, Option<Vec<Assignment>>);

/// The service: rules over a store.
pub struct Service {
    store: Arc<dyn Store>,
    models: Arc<Models>,
    /// Tenants known to have their defaults, so that only a tenant's first request pays.
    seeded: Mutex<HashSet<TenantId>>,
}

fn not_found(what: &str, id: &str) -> DomainError {
    DomainError::NotFound(format!("{what} with id '{id}' was not found."))
}

fn is_visible(model: &Model, c: &Configuration) -> bool {
    model.structured(&c.odata_type).is_some()
}

fn visible_configuration(
    tx: &mut dyn ReadTx,
    model: &Model,
    id: &str,
) -> Result<Configuration, DomainError> {
    tx.get_configuration(id)?
        .filter(|c| is_visible(model, c))
        .ok_or_else(|| not_found("A deviceEnrollmentConfiguration", id))
}

/// `items`, each with its assignments when `expand`.
fn with_assignments(
    tx: &mut dyn ReadTx,
    items: Vec<Configuration>,
    expand: bool,
) -> Result<Vec<WithAssignments>, DomainError> {
    if !expand {
        return Ok(items.into_iter().map(|c| (c, None)).collect());
    }
    let ids: Vec<String> = items.iter().map(|c| c.id.clone()).collect();
    let mut by_config: std::collections::HashMap<String, Vec<Assignment>> =
        std::collections::HashMap::new();
    for a in tx.list_assignments_of(&ids)? {
        by_config
            .entry(a.configuration_id.clone())
            .or_default()
            .push(a);
    }
    Ok(items
        .into_iter()
        .map(|c| {
            let a = by_config.remove(&c.id).unwrap_or_default();
            (c, Some(a))
        })
        .collect())
}

fn refuse_on_default(c: &Configuration, what: &str) -> Result<(), DomainError> {
    if c.is_default {
        return Err(DomainError::bad_request(format!(
            "'{}' is a tenant default configuration: {what}",
            c.id
        )));
    }
    Ok(())
}

fn strip_managed(mut props: Map<String, Value>) -> Map<String, Value> {
    for k in MANAGED {
        props.remove(*k);
    }
    props
}

/// OData PATCH semantics for one property: a complex value of the stored value's type changes
/// only the properties the request names (recursively) and keeps the others, including those
/// the request's API version cannot see. Any other value replaces the stored one.
fn patch_value(current: Option<&Value>, new: Value, sent: Option<&Value>) -> Value {
    match (current, new, sent) {
        (Some(Value::Object(current)), Value::Object(mut new), Some(Value::Object(sent)))
            if current.get("@odata.type") == new.get("@odata.type") =>
        {
            let mut out = current.clone();
            for (k, s) in sent {
                if let Some(v) = new.remove(k) {
                    let merged = patch_value(out.get(k), v, Some(s));
                    out.insert(k.clone(), merged);
                }
            }
            Value::Object(out)
        }
        (_, new, _) => new,
    }
}

fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Service {
    pub fn new(store: Arc<dyn Store>, models: Arc<Models>) -> Service {
        Service {
            store,
            models,
            seeded: Mutex::new(HashSet::new()),
        }
    }

    pub fn models(&self) -> &Models {
        &self.models
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    fn model(&self, v: Version) -> &Model {
        self.models.get(v)
    }

    /// Creates the tenant's default configurations on its first request.
    pub async fn ensure_tenant(&self, tenant: &TenantId) -> Result<(), DomainError> {
        if self.seeded.lock().is_ok_and(|s| s.contains(tenant)) {
            return Ok(());
        }
        let models = self.models.clone();
        let t = tenant.clone();
        store::write(self.store(), tenant, move |tx| {
            if !tx.tenant_exists()? {
                tx.insert_tenant()?;
                for c in tenant_defaults(&models.beta, &t) {
                    tx.insert_configuration(&c)?;
                    tx.insert_assignment(&Assignment {
                        id: c.id.clone(),
                        configuration_id: c.id.clone(),
                        properties: default_assignment(&models.beta),
                    })?;
                }
            }
            Ok(())
        })
        .await?;
        if let Ok(mut s) = self.seeded.lock() {
            s.insert(tenant.clone());
        }
        Ok(())
    }

    /// Every configuration visible in `version`, with assignments if `expand`.
    pub async fn list_configurations(
        &self,
        tenant: &TenantId,
        version: Version,
        expand: bool,
    ) -> Result<Vec<WithAssignments>, DomainError> {
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        store::read(self.store(), tenant, move |tx| {
            let model = models.get(version);
            let items: Vec<Configuration> = tx
                .list_configurations()?
                .into_iter()
                .filter(|c| is_visible(model, c))
                .collect();
            with_assignments(tx, items, expand)
        })
        .await
    }

    /// One page of configurations read in key order (see [`Seek`]), with assignments if
    /// `expand`. The seek's type list decides what is visible: only types of `version`.
    pub async fn seek_configurations(
        &self,
        tenant: &TenantId,
        seek: Seek,
        expand: bool,
    ) -> Result<Vec<WithAssignments>, DomainError> {
        self.ensure_tenant(tenant).await?;
        store::read(self.store(), tenant, move |tx| {
            let items = tx.seek_configurations(&seek)?;
            with_assignments(tx, items, expand)
        })
        .await
    }

    /// One configuration, with its assignments if `expand`.
    pub async fn get_configuration(
        &self,
        tenant: &TenantId,
        version: Version,
        id: &str,
        expand: bool,
    ) -> Result<WithAssignments, DomainError> {
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        let id = id.to_owned();
        store::read_point(self.store(), tenant, move |tx| {
            let c = visible_configuration(tx, models.get(version), &id)?;
            let a = if expand {
                Some(tx.list_assignments(&c.id)?)
            } else {
                None
            };
            Ok((c, a))
        })
        .await
    }

    /// Creates a configuration from a request body (`@odata.type` picks the kind).
    pub async fn create_configuration(
        &self,
        tenant: &TenantId,
        version: Version,
        body: &Value,
    ) -> Result<Configuration, DomainError> {
        let checked = validate::entity_body(self.model(version), CONFIGURATION, body, None, false)?;
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        store::write(self.store(), tenant, move |tx| {
            insert_new(tx, &models.beta, &checked.type_name, checked.properties)
        })
        .await
    }

    /// Applies a PATCH body; returns the updated configuration.
    pub async fn update_configuration(
        &self,
        tenant: &TenantId,
        version: Version,
        id: &str,
        body: &Value,
    ) -> Result<Configuration, DomainError> {
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        let id = id.to_owned();
        let body = body.clone();
        store::write(self.store(), tenant, move |tx| {
            let model = models.get(version);
            let mut c = visible_configuration(tx, model, &id)?;
            let checked =
                validate::entity_body(model, CONFIGURATION, &body, Some(&c.odata_type), false)?;
            let changes: Map<String, Value> = strip_managed(checked.properties)
                .into_iter()
                .map(|(k, v)| {
                    let v = patch_value(c.properties.get(&k), v, body.get(&k));
                    (k, v)
                })
                .collect();
            for (k, v) in &changes {
                let current = c.properties.get(k).unwrap_or(&Value::Null);
                if current == v {
                    continue;
                }
                if c.is_default && FIXED_ON_DEFAULTS.contains(&k.as_str()) {
                    return Err(DomainError::bad_request(format!(
                        "'{}' is a tenant default configuration: its property '{k}' cannot be changed.",
                        c.id
                    )));
                }
                if k == "platformType" && c.odata_type == "deviceEnrollmentPlatformRestrictionConfiguration" {
                    return Err(DomainError::bad_request(
                        "The property 'platformType' of a single-platform restriction cannot be changed; create a new configuration instead.",
                    ));
                }
            }
            for (k, v) in changes {
                c.properties.insert(k, v);
            }
            if c.is_default {
                c.modified = now_timestamp_whole_seconds();
            } else {
                c.version = c.version.saturating_add(1);
                c.modified = now_timestamp();
            }
            tx.update_configuration(&c)?;
            Ok(c)
        })
        .await
    }

    /// Deletes a configuration and its assignments, and closes the gap in its ranking.
    pub async fn delete_configuration(
        &self,
        tenant: &TenantId,
        version: Version,
        id: &str,
    ) -> Result<(), DomainError> {
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        let id = id.to_owned();
        store::write(self.store(), tenant, move |tx| {
            let c = visible_configuration(tx, models.get(version), &id)?;
            refuse_on_default(&c, "it cannot be deleted.")?;
            tx.delete_configuration(&c.id)?;
            let shifted: Vec<(String, i32)> = tx
                .ranking(&c.ranking)?
                .into_iter()
                .filter(|(_, p)| *p > c.priority)
                .map(|(i, p)| (i, p - 1))
                .collect();
            tx.set_priorities(&shifted)?;
            Ok(())
        })
        .await
    }

    /// `setPriority`: moves the item to `priority` within its ranking, shifting those between.
    pub async fn set_priority(
        &self,
        tenant: &TenantId,
        version: Version,
        id: &str,
        body: &Value,
    ) -> Result<(), DomainError> {
        let model = self.model(version);
        let params = action_parameters(model, "setPriority", false, body)?;
        let wanted = params
            .get("priority")
            .and_then(Value::as_i64)
            .ok_or_else(|| DomainError::bad_request("The parameter 'priority' is required."))?;
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        let id = id.to_owned();
        store::write(self.store(), tenant, move |tx| {
            let c = visible_configuration(tx, models.get(version), &id)?;
            refuse_on_default(&c, "its priority cannot be changed.")?;
            let mut order: Vec<String> = tx.ranking(&c.ranking)?.into_iter().map(|(i, _)| i).collect();
            let n = order.len() as i64;
            if wanted < 1 || wanted > n {
                return Err(DomainError::bad_request(format!(
                    "The parameter 'priority' must be between 1 and {n}, the number of configurations of this kind; it was {wanted}."
                )));
            }
            if wanted == i64::from(c.priority) {
                return Err(DomainError::bad_request(format!(
                    "The configuration already has priority {wanted}."
                )));
            }
            order.retain(|i| *i != c.id);
            let at = usize::try_from(wanted - 1).unwrap_or(0).min(order.len());
            order.insert(at, c.id.clone());
            let before = tx.ranking(&c.ranking)?;
            let changes: Vec<(String, i32)> = order
                .into_iter()
                .zip(1..)
                .filter(|(i, p)| !before.iter().any(|(bi, bp)| bi == i && bp == p))
                .collect();
            tx.set_priorities(&changes)?;
            Ok(())
        })
        .await
    }

    /// `assign`: replaces the configuration's assignments with the given list.
    pub async fn assign(
        &self,
        tenant: &TenantId,
        version: Version,
        id: &str,
        body: &Value,
    ) -> Result<(), DomainError> {
        let model = self.model(version);
        let params = action_parameters(model, "assign", false, body)?;
        let mut items = Vec::new();
        if let Some(Value::Array(list)) = params.get("enrollmentConfigurationAssignments") {
            for (i, item) in list.iter().enumerate() {
                let checked = validate::entity_body(model, ASSIGNMENT, item, None, false)
                    .map_err(|e| prefix(e, &format!("enrollmentConfigurationAssignments[{i}]")))?;
                items.push(strip_managed(checked.properties));
            }
        }
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        let id = id.to_owned();
        store::write(self.store(), tenant, move |tx| {
            let c = visible_configuration(tx, models.get(version), &id)?;
            refuse_on_default(&c, "its assignments cannot be changed.")?;
            tx.delete_assignments_of(&c.id)?;
            for props in items {
                tx.insert_assignment(&Assignment {
                    id: new_guid(),
                    configuration_id: c.id.clone(),
                    properties: strip_managed(complete(&models.beta, ASSIGNMENT, &props)),
                })?;
            }
            Ok(())
        })
        .await
    }

    /// The assignments of a configuration.
    pub async fn list_assignments(
        &self,
        tenant: &TenantId,
        version: Version,
        configuration_id: &str,
    ) -> Result<Vec<Assignment>, DomainError> {
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        let id = configuration_id.to_owned();
        store::read(self.store(), tenant, move |tx| {
            let c = visible_configuration(tx, models.get(version), &id)?;
            Ok(tx.list_assignments(&c.id)?)
        })
        .await
    }

    /// One assignment.
    pub async fn get_assignment(
        &self,
        tenant: &TenantId,
        version: Version,
        configuration_id: &str,
        id: &str,
    ) -> Result<Assignment, DomainError> {
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        let (cid, id) = (configuration_id.to_owned(), id.to_owned());
        store::read(self.store(), tenant, move |tx| {
            let c = visible_configuration(tx, models.get(version), &cid)?;
            tx.get_assignment(&c.id, &id)?
                .ok_or_else(|| not_found("An enrollmentConfigurationAssignment", &id))
        })
        .await
    }

    /// Creates one assignment.
    pub async fn create_assignment(
        &self,
        tenant: &TenantId,
        version: Version,
        configuration_id: &str,
        body: &Value,
    ) -> Result<Assignment, DomainError> {
        let checked = validate::entity_body(self.model(version), ASSIGNMENT, body, None, false)?;
        let props = strip_managed(checked.properties);
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        let cid = configuration_id.to_owned();
        store::write(self.store(), tenant, move |tx| {
            let c = visible_configuration(tx, models.get(version), &cid)?;
            refuse_on_default(&c, "its assignments cannot be changed.")?;
            let a = Assignment {
                id: new_guid(),
                configuration_id: c.id.clone(),
                properties: strip_managed(complete(&models.beta, ASSIGNMENT, &props)),
            };
            tx.insert_assignment(&a)?;
            Ok(a)
        })
        .await
    }

    /// Applies a PATCH body to one assignment.
    pub async fn update_assignment(
        &self,
        tenant: &TenantId,
        version: Version,
        configuration_id: &str,
        id: &str,
        body: &Value,
    ) -> Result<Assignment, DomainError> {
        let checked = validate::entity_body(
            self.model(version),
            ASSIGNMENT,
            body,
            Some(ASSIGNMENT),
            false,
        )?;
        let changes = strip_managed(checked.properties);
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        let (cid, id) = (configuration_id.to_owned(), id.to_owned());
        let sent = body.clone();
        store::write(self.store(), tenant, move |tx| {
            let c = visible_configuration(tx, models.get(version), &cid)?;
            let mut a = tx
                .get_assignment(&c.id, &id)?
                .ok_or_else(|| not_found("An enrollmentConfigurationAssignment", &id))?;
            refuse_on_default(&c, "its assignments cannot be changed.")?;
            for (k, v) in changes {
                let v = patch_value(a.properties.get(&k), v, sent.get(&k));
                a.properties.insert(k, v);
            }
            tx.update_assignment(&a)?;
            Ok(a)
        })
        .await
    }

    /// Deletes one assignment.
    pub async fn delete_assignment(
        &self,
        tenant: &TenantId,
        version: Version,
        configuration_id: &str,
        id: &str,
    ) -> Result<(), DomainError> {
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        let (cid, id) = (configuration_id.to_owned(), id.to_owned());
        store::write(self.store(), tenant, move |tx| {
            let c = visible_configuration(tx, models.get(version), &cid)?;
            if tx.get_assignment(&c.id, &id)?.is_none() {
                return Err(not_found("An enrollmentConfigurationAssignment", &id));
            }
            refuse_on_default(&c, "its assignments cannot be changed.")?;
            tx.delete_assignment(&c.id, &id)?;
            Ok(())
        })
        .await
    }

    /// `createEnrollmentNotificationConfiguration` (beta): creates each listed notification
    /// configuration, all or none. Items may name the base type, as the documented example
    /// does; they are created as `deviceEnrollmentNotificationConfiguration`.
    pub async fn create_notification_configurations(
        &self,
        tenant: &TenantId,
        version: Version,
        body: &Value,
    ) -> Result<Vec<Configuration>, DomainError> {
        let model = self.model(version);
        let params = action_parameters(
            model,
            "createEnrollmentNotificationConfiguration",
            true,
            body,
        )?;
        let mut items = Vec::new();
        if let Some(Value::Array(list)) = params.get("deviceEnrollmentNotificationConfigurations") {
            for (i, item) in list.iter().enumerate() {
                let at = format!("deviceEnrollmentNotificationConfigurations[{i}]");
                let checked = validate::entity_body(model, CONFIGURATION, item, None, true)
                    .map_err(|e| prefix(e, &at))?;
                if checked.type_name != CONFIGURATION && checked.type_name != NOTIFICATION {
                    return Err(DomainError::bad_request(format!(
                        "{at}: only microsoft.graph.{NOTIFICATION} items can be created by this action."
                    )));
                }
                items.push(checked.properties);
            }
        }
        self.ensure_tenant(tenant).await?;
        let models = self.models.clone();
        store::write(self.store(), tenant, move |tx| {
            items
                .into_iter()
                .map(|props| insert_new(tx, &models.beta, NOTIFICATION, props))
                .collect()
        })
        .await
    }

    /// `hasPayloadLinks` (beta): whether each payload is linked from a policy set. enrollgraph
    /// has no policy sets, so no payload has a link.
    pub fn has_payload_links(
        &self,
        version: Version,
        body: &Value,
    ) -> Result<Vec<Value>, DomainError> {
        let model = self.model(version);
        let params = action_parameters(model, "hasPayloadLinks", true, body)?;
        let ids = params
            .get("payloadIds")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(ids
            .into_iter()
            .map(|id| {
                json!({
                    "@odata.type": "#microsoft.graph.hasPayloadLinkResultItem",
                    "payloadId": id,
                    "hasLink": false,
                    "error": null,
                    "sources": []
                })
            })
            .collect())
    }
}

/// Checks the body of the operation `name` bound to one configuration (`collection` false) or
/// to the collection, as the version's EDM declares it.
fn action_parameters(
    model: &Model,
    name: &str,
    collection: bool,
    body: &Value,
) -> Result<Map<String, Value>, DomainError> {
    let op = model
        .bound_operation(name, CONFIGURATION, collection)
        .ok_or_else(|| DomainError::bad_request(format!("{name} is not available.")))?;
    validate::action_parameters(model, op, body)
}

fn prefix(e: DomainError, at: &str) -> DomainError {
    match e {
        DomainError::BadRequest(m) => DomainError::BadRequest(format!("{at}: {m}")),
        other => other,
    }
}

/// Inserts a new custom configuration at the end of its ranking.
fn insert_new(
    tx: &mut dyn WriteTx,
    beta: &Model,
    type_name: &str,
    props: Map<String, Value>,
) -> Result<Configuration, DomainError> {
    let kind = kinds::kind(type_name).ok_or_else(|| {
        DomainError::bad_request(format!(
            "Configurations of type '{type_name}' cannot be created."
        ))
    })?;
    let properties = strip_managed(complete(beta, kind.type_name, &strip_managed(props)));
    let ranking = kinds::ranking_key(kind.type_name, &properties);
    let last = tx.last_priority(&ranking)?.unwrap_or(0);
    let now = now_timestamp();
    let c = Configuration {
        id: format!("{}_{}", new_guid(), kind.id_suffix),
        odata_type: kind.type_name.to_owned(),
        ranking,
        is_default: false,
        priority: last.saturating_add(1),
        version: 1,
        created: now.clone(),
        modified: now,
        properties,
    };
    tx.insert_configuration(&c)?;
    Ok(c)
}

fn default_description(type_name: &str) -> Value {
    let text = match type_name {
        "deviceEnrollmentLimitConfiguration" => "This is the default Device Limit Restriction applied with the lowest priority to all users regardless of group membership.",
        "deviceEnrollmentPlatformRestrictionsConfiguration" => "This is the default Device Type Restriction applied with the lowest priority to all users regardless of group membership.",
        "deviceEnrollmentWindowsHelloForBusinessConfiguration" => "This is the default Windows Hello for Business configuration applied with the lowest priority to all users regardless of group membership.",
        "windows10EnrollmentCompletionPageConfiguration" => "This is the default enrollment status screen configuration applied with the lowest priority to all users and all devices regardless of group membership.",
        _ => return Value::Null,
    };
    Value::String(text.to_owned())
}

/// The configurations every tenant starts with.
pub fn tenant_defaults(beta: &Model, tenant: &TenantId) -> Vec<Configuration> {
    let modified = now_timestamp_whole_seconds();
    KINDS
        .iter()
        .filter_map(|k| {
            let suffix = k.default_suffix?;
            let mut props = kinds::default_settings(k.type_name);
            props.insert(
                "displayName".into(),
                Value::String(DEFAULT_DISPLAY_NAME.into()),
            );
            props.insert("description".into(), default_description(k.type_name));
            props.insert("roleScopeTagIds".into(), Value::Array(Vec::new()));
            let properties = strip_managed(complete(beta, k.type_name, &props));
            Some(Configuration {
                id: format!("{tenant}_{suffix}"),
                odata_type: k.type_name.to_owned(),
                ranking: kinds::ranking_key(k.type_name, &properties),
                is_default: true,
                priority: 0,
                version: 0,
                created: MIN_TIMESTAMP.to_owned(),
                modified: modified.clone(),
                properties,
            })
        })
        .collect()
}

/// The single all-devices assignment of each tenant default.
fn default_assignment(beta: &Model) -> Map<String, Value> {
    let mut props = Map::new();
    props.insert(
        "target".into(),
        json!({"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}),
    );
    props.insert("source".into(), json!("direct"));
    props.insert("sourceId".into(), Value::Null);
    strip_managed(complete(beta, ASSIGNMENT, &props))
}
