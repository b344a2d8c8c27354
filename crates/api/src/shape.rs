//! Stored items written as Graph JSON, as one API version sees them: every property of the
//! item's type in schema order, `@odata.type` first, properties the version lacks left out.

use domain::validate::{complete, complete_owned};
use domain::{Assignment, Configuration};
use edm::Model;
use serde_json::{Map, Value};

/// A configuration as `model`'s version writes it; `None` if the version lacks its type.
pub fn configuration(model: &Model, c: &Configuration) -> Option<Map<String, Value>> {
    configuration_owned(model, c.clone())
}

/// [`configuration`] of an item the caller gives up: its properties are moved, not copied.
pub fn configuration_owned(model: &Model, c: Configuration) -> Option<Map<String, Value>> {
    let ty = model.structured(&c.odata_type)?;
    let mut values = c.properties;
    values.insert("id".into(), Value::String(c.id));
    values.insert("createdDateTime".into(), Value::String(c.created));
    values.insert("lastModifiedDateTime".into(), Value::String(c.modified));
    values.insert("priority".into(), Value::from(c.priority));
    values.insert("version".into(), Value::from(c.version));
    if let Some(k) = domain::kinds::kind(&c.odata_type) {
        values.insert(
            "deviceEnrollmentConfigurationType".into(),
            Value::String(k.configuration_type.into()),
        );
    }
    let mut out = Map::new();
    out.insert("@odata.type".into(), Value::String(ty.odata_type()));
    out.extend(complete_owned(model, &ty.name, values));
    Some(out)
}

/// An assignment as `model`'s version writes it.
pub fn assignment(model: &Model, a: &Assignment) -> Map<String, Value> {
    let mut values = a.properties.clone();
    values.insert("id".into(), Value::String(a.id.clone()));
    let mut out = Map::new();
    out.insert(
        "@odata.type".into(),
        Value::String("#microsoft.graph.enrollmentConfigurationAssignment".into()),
    );
    out.extend(complete(model, domain::service::ASSIGNMENT, &values));
    out
}
