//! Request bodies checked against a version's EDM, and values put in canonical form.
//!
//! Every check names the property at fault, as Graph's errors do. Canonical form: enum members
//! in schema spelling (matched case-insensitively), flags enums as comma-separated members,
//! GUIDs in lowercase, and complex values as a full object whose `@odata.type` is written
//! `#microsoft.graph.name`, followed by every property of the type in schema order.

use edm::{Model, Primitive, StructuredType, TypeKind, TypeRef};
use serde_json::{Map, Value};

use crate::error::DomainError;
use crate::record::MIN_TIMESTAMP;

/// Abstract complex types that are nevertheless accepted as values: the seed's documented
/// example sends the abstract `deviceAndAppManagementAssignmentTarget` as a target.
const ACCEPTED_ABSTRACT_COMPLEX: &[&str] = &["deviceAndAppManagementAssignmentTarget"];

/// A checked entity body: its type and the properties it sets, canonical.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Unqualified type name.
    pub type_name: String,
    /// The structural properties the body sets (no annotations, no navigation properties).
    pub properties: Map<String, Value>,
}

fn bad(msg: String) -> DomainError {
    DomainError::BadRequest(msg)
}

fn qualified(name: &str) -> String {
    format!("{}.{}", edm::NAMESPACE, name)
}

/// Resolves an `@odata.type` value (with or without `#`) to a type assignable to `declared`.
fn resolve_type<'m>(
    model: &'m Model,
    raw: &Value,
    declared: &str,
    at: &str,
) -> Result<&'m StructuredType, DomainError> {
    let name = raw
        .as_str()
        .ok_or_else(|| bad(format!("The value of '{at}@odata.type' must be a string.")))?;
    let ty = model.structured(name).ok_or_else(|| {
        bad(format!(
            "The type '{}' given in '{at}@odata.type' is not a known type in {}.",
            name.trim_start_matches('#'),
            model.version().segment()
        ))
    })?;
    if !model.is_assignable(&ty.name, declared) {
        return Err(bad(format!(
            "The type '{}' given in '{at}@odata.type' is not compatible with the expected type '{}'.",
            qualified(&ty.name),
            qualified(declared)
        )));
    }
    Ok(ty)
}

/// Checks an entity body.
///
/// `declared` is the type the target expects (e.g. `deviceEnrollmentConfiguration`);
/// `existing` is the stored type on PATCH, in which case `@odata.type` may be omitted but not
/// changed. On create, the type must be concrete unless `allow_abstract`.
pub fn entity_body(
    model: &Model,
    declared: &str,
    body: &Value,
    existing: Option<&str>,
    allow_abstract: bool,
) -> Result<Checked, DomainError> {
    let obj = body
        .as_object()
        .ok_or_else(|| bad("The request body must be a JSON object.".into()))?;
    let declared_ty = model
        .structured(declared)
        .ok_or_else(|| bad(format!("The type '{declared}' is not available here.")))?;
    let ty = match (obj.get("@odata.type"), existing) {
        (Some(raw), Some(current)) => {
            let ty = resolve_type(model, raw, declared, "")?;
            if !ty.name.eq_ignore_ascii_case(current) {
                return Err(bad(format!(
                    "The '@odata.type' of an existing item cannot be changed: it is '{}', the request says '{}'.",
                    qualified(current),
                    qualified(&ty.name)
                )));
            }
            ty
        }
        (None, Some(current)) => model.structured(current).ok_or_else(|| {
            DomainError::NotFound(format!(
                "The type '{current}' is not available in {}.",
                model.version().segment()
            ))
        })?,
        (Some(raw), None) => resolve_type(model, raw, declared, "")?,
        (None, None) if declared_ty.is_abstract => {
            return Err(bad(format!(
                "The '@odata.type' property is required: '{}' is abstract, so the body must name one of its derived types.",
                qualified(declared)
            )))
        }
        (None, None) => declared_ty,
    };
    if existing.is_none() && ty.is_abstract && !allow_abstract {
        return Err(bad(format!(
            "Cannot create an instance of the abstract type '{}' given in '@odata.type'; name one of its derived types.",
            qualified(&ty.name)
        )));
    }

    let mut properties = Map::new();
    for (name, value) in obj {
        if name.starts_with('@') || name.contains('@') {
            continue; // instance and property annotations are not data
        }
        if let Some(p) = ty.property(name) {
            let v = check_value(model, name, &p.ty, null_allowed(p), value)?;
            properties.insert(name.clone(), v);
        } else if ty.navigation_property(name).is_some() {
            if value.as_array().is_some_and(Vec::is_empty) || value.is_null() {
                continue;
            }
            return Err(bad(format!(
                "The navigation property '{name}' cannot be set in this request; use its own endpoint or the assign action."
            )));
        } else {
            return Err(unknown_property(name, &ty.name));
        }
    }
    Ok(Checked {
        type_name: ty.name.clone(),
        properties,
    })
}

/// Whether a property may be sent as `null`: a nullable single value. A collection is never
/// `null` in OData (its `Nullable` facet is about the items); an empty one is `[]`.
fn null_allowed(p: &edm::Property) -> bool {
    p.nullable && !p.ty.collection
}

fn unknown_property(name: &str, ty: &str) -> DomainError {
    bad(format!(
        "The property '{name}' does not exist on type '{}'. Make sure to only use property names that are defined by the type.",
        qualified(ty)
    ))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn type_label(model: &Model, ty: &TypeRef) -> String {
    let inner = match &ty.kind {
        TypeKind::Primitive(p) => p.edm_name().to_owned(),
        TypeKind::Enum(n) | TypeKind::Structured(n) => qualified(n),
    };
    let _ = model;
    if ty.collection {
        format!("Collection({inner})")
    } else {
        inner
    }
}

/// Checks one value against a type reference and returns it in canonical form.
pub fn check_value(
    model: &Model,
    at: &str,
    ty: &TypeRef,
    nullable: bool,
    value: &Value,
) -> Result<Value, DomainError> {
    if value.is_null() {
        if nullable {
            return Ok(Value::Null);
        }
        return Err(bad(format!(
            "A null value was found for the property named '{at}', which has the expected type '{}[Nullable=False]'. The expected type does not allow null values.",
            type_label(model, ty)
        )));
    }
    if ty.collection {
        let items = value.as_array().ok_or_else(|| {
            bad(format!(
                "Invalid value for property '{at}': expected {}, found {}.",
                type_label(model, ty),
                json_kind(value)
            ))
        })?;
        let single = TypeRef {
            kind: ty.kind.clone(),
            collection: false,
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(check_value(
                model,
                &format!("{at}[{i}]"),
                &single,
                false,
                item,
            )?);
        }
        return Ok(Value::Array(out));
    }
    let mismatch = || {
        bad(format!(
            "Invalid value for property '{at}': expected {}, found {}.",
            type_label(model, ty),
            json_kind(value)
        ))
    };
    match &ty.kind {
        TypeKind::Primitive(p) => check_primitive(*p, at, value).ok_or_else(mismatch)?,
        TypeKind::Enum(name) => {
            let e = model
                .enum_type(name)
                .ok_or_else(|| bad(format!("Unknown enum type '{name}'.")))?;
            let s = value.as_str().ok_or_else(mismatch)?;
            let mut members = Vec::new();
            let parts: Vec<&str> = if e.is_flags {
                s.split(',').map(str::trim).collect()
            } else {
                vec![s]
            };
            for part in parts {
                let m = e.member(part).ok_or_else(|| {
                    bad(format!(
                        "Invalid value for property '{at}': '{part}' is not a member of the enum type '{}'.",
                        qualified(&e.name)
                    ))
                })?;
                members.push(m);
            }
            Ok(Value::String(members.join(",")))
        }
        TypeKind::Structured(name) => {
            let obj = value.as_object().ok_or_else(mismatch)?;
            let declared = model
                .structured(name)
                .ok_or_else(|| bad(format!("Unknown type '{name}'.")))?;
            let ty = match obj.get("@odata.type") {
                Some(raw) => resolve_type(model, raw, &declared.name, &format!("{at}."))?,
                None if declared.is_abstract
                    && !ACCEPTED_ABSTRACT_COMPLEX.contains(&declared.name.as_str()) =>
                {
                    return Err(bad(format!(
                        "The '@odata.type' of property '{at}' is required: '{}' is abstract.",
                        qualified(&declared.name)
                    )))
                }
                None => declared,
            };
            if ty.is_abstract && !ACCEPTED_ABSTRACT_COMPLEX.contains(&ty.name.as_str()) {
                return Err(bad(format!(
                    "Property '{at}' cannot be of the abstract type '{}'.",
                    qualified(&ty.name)
                )));
            }
            let mut out = Map::new();
            out.insert("@odata.type".into(), Value::String(ty.odata_type()));
            for (k, v) in obj {
                if k.starts_with('@') || k.contains('@') {
                    continue;
                }
                let p = ty
                    .property(k)
                    .ok_or_else(|| unknown_property(&format!("{at}.{k}"), &ty.name))?;
                out.insert(
                    k.clone(),
                    check_value(model, &format!("{at}.{k}"), &p.ty, null_allowed(p), v)?,
                );
            }
            Ok(Value::Object(complete(model, &ty.name, &out)))
        }
    }
}

fn check_primitive(p: Primitive, at: &str, value: &Value) -> Option<Result<Value, DomainError>> {
    let ok = |v: Value| Some(Ok(v));
    match p {
        Primitive::String => value.as_str().and_then(|_| ok(value.clone())),
        Primitive::Boolean => value.as_bool().and_then(|_| ok(value.clone())),
        Primitive::Int32 => {
            let n = value.as_i64()?;
            if i32::try_from(n).is_err() {
                return Some(Err(bad(format!(
                    "Invalid value for property '{at}': {n} is out of the range of Edm.Int32."
                ))));
            }
            ok(value.clone())
        }
        Primitive::Int64 => value.as_i64().and_then(|_| ok(value.clone())),
        Primitive::Double => value.as_f64().and_then(|_| ok(value.clone())),
        Primitive::DateTimeOffset => {
            let s = value.as_str()?;
            if time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .is_err()
            {
                return Some(Err(bad(format!(
                    "Invalid value for property '{at}': '{s}' is not a valid Edm.DateTimeOffset."
                ))));
            }
            ok(value.clone())
        }
        Primitive::Guid => {
            let s = value.as_str()?;
            match uuid::Uuid::try_parse(s) {
                Ok(u) if s.len() == 36 => ok(Value::String(u.hyphenated().to_string())),
                _ => Some(Err(bad(format!(
                    "Invalid value for property '{at}': '{s}' is not a valid Edm.Guid."
                )))),
            }
        }
    }
}

/// The value a property has when nothing set it: `[]` for collections, `null` where nullable,
/// else `false`, `0`, the first enum member, or a complete default complex value.
pub fn default_value(model: &Model, ty: &TypeRef, nullable: bool) -> Value {
    if ty.collection {
        return Value::Array(Vec::new());
    }
    if nullable {
        return Value::Null;
    }
    match &ty.kind {
        TypeKind::Primitive(Primitive::Boolean) => Value::Bool(false),
        TypeKind::Primitive(Primitive::Int32 | Primitive::Int64) => Value::from(0),
        TypeKind::Primitive(Primitive::Double) => Value::from(0.0),
        TypeKind::Primitive(Primitive::String) => Value::String(String::new()),
        TypeKind::Primitive(Primitive::Guid) => {
            Value::String("00000000-0000-0000-0000-000000000000".into())
        }
        TypeKind::Primitive(Primitive::DateTimeOffset) => Value::String(MIN_TIMESTAMP.into()),
        TypeKind::Enum(name) => model
            .enum_type(name)
            .and_then(|e| {
                e.members
                    .iter()
                    .find(|(_, v)| *v == 0)
                    .or(e.members.first())
                    .map(|(m, _)| Value::String(m.clone()))
            })
            .unwrap_or(Value::Null),
        TypeKind::Structured(name) => Value::Object(complete(model, name, &Map::new())),
    }
}

/// A structured value as `model` sees it: every property of its type (named by its own
/// `@odata.type`, else `type_name`) in schema order, taken from `values` or defaulted; values
/// of properties the model lacks are dropped. Complex values are completed recursively.
/// For complex types the `@odata.type` is written first.
pub fn complete(model: &Model, type_name: &str, values: &Map<String, Value>) -> Map<String, Value> {
    complete_owned(model, type_name, values.clone())
}

/// [`complete`] of values the caller gives up: they are moved, not copied.
pub fn complete_owned(
    model: &Model,
    type_name: &str,
    mut values: Map<String, Value>,
) -> Map<String, Value> {
    let ty = values
        .get("@odata.type")
        .and_then(Value::as_str)
        .and_then(|t| model.structured(t))
        .or_else(|| model.structured(type_name));
    let mut out = Map::new();
    let Some(ty) = ty else {
        return out;
    };
    if ty.kind == edm::StructuredKind::Complex {
        out.insert("@odata.type".into(), Value::String(ty.odata_type()));
    }
    for p in &ty.properties {
        let v = match (values.remove(&p.name), &p.ty.kind) {
            (Some(Value::Object(inner)), TypeKind::Structured(n)) if !p.ty.collection => {
                Value::Object(complete_owned(model, n, inner))
            }
            (Some(v), _) => v,
            (None, _) => default_value(model, &p.ty, p.nullable),
        };
        out.insert(p.name.clone(), v);
    }
    out
}

/// Checks an action's body: an object whose members are the operation's parameters (unknown
/// ones refused, non-nullable ones required). Primitive, enum and complex values are checked
/// and made canonical; entity values are returned as sent for [`entity_body`].
pub fn action_parameters(
    model: &Model,
    op: &edm::Operation,
    body: &Value,
) -> Result<Map<String, Value>, DomainError> {
    let obj = body
        .as_object()
        .ok_or_else(|| bad("The request body must be a JSON object.".into()))?;
    let mut out = Map::new();
    for (name, value) in obj {
        if name.starts_with('@') {
            continue;
        }
        let p = op
            .parameters
            .iter()
            .find(|p| p.name == *name)
            .ok_or_else(|| {
                bad(format!(
                    "The parameter '{name}' in the request payload is not a valid parameter for the operation '{}'.",
                    op.name
                ))
            })?;
        let entity_typed = matches!(&p.ty.kind, TypeKind::Structured(n)
            if model.structured(n).is_some_and(|t| t.kind == edm::StructuredKind::Entity));
        let v = if entity_typed {
            if value.is_null() && p.nullable {
                Value::Null
            } else if p.ty.collection && !value.is_array() {
                return Err(bad(format!(
                    "Invalid value for parameter '{name}': expected an array, found {}.",
                    json_kind(value)
                )));
            } else {
                value.clone()
            }
        } else {
            check_value(model, name, &p.ty, p.nullable, value)?
        };
        out.insert(name.clone(), v);
    }
    for p in &op.parameters {
        if !p.nullable && !out.contains_key(&p.name) {
            return Err(bad(format!(
                "The parameter '{}' is required by the operation '{}'.",
                p.name, op.name
            )));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn models() -> edm::Models {
        match edm::Models::load() {
            Ok(m) => m,
            Err(e) => panic!("schema: {e}"),
        }
    }

    #[test]
    fn unknown_properties_are_named() {
        let m = models();
        let body = json!({"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "limitt": 3});
        let err = entity_body(&m.beta, "deviceEnrollmentConfiguration", &body, None, false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("'limitt'"), "{err}");
    }

    #[test]
    fn enum_members_match_case_insensitively_and_become_canonical() {
        let m = models();
        let body = json!({"@odata.type": "microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration", "state": "ENABLED"});
        let c = entity_body(&m.beta, "deviceEnrollmentConfiguration", &body, None, false);
        assert_eq!(
            c.ok().and_then(|c| c.properties.get("state").cloned()),
            Some(json!("enabled"))
        );
    }

    #[test]
    fn abstract_types_need_a_derived_type() {
        let m = models();
        let body = json!({"displayName": "x"});
        assert!(entity_body(&m.beta, "deviceEnrollmentConfiguration", &body, None, false).is_err());
        let body = json!({"@odata.type": "#microsoft.graph.deviceEnrollmentConfiguration"});
        assert!(entity_body(&m.beta, "deviceEnrollmentConfiguration", &body, None, false).is_err());
    }

    #[test]
    fn beta_only_properties_are_unknown_in_v1() {
        let m = models();
        let body = json!({"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "roleScopeTagIds": []});
        assert!(entity_body(&m.v1, "deviceEnrollmentConfiguration", &body, None, false).is_err());
        assert!(entity_body(&m.beta, "deviceEnrollmentConfiguration", &body, None, false).is_ok());
    }

    #[test]
    fn targets_are_completed_in_schema_order() {
        let m = models();
        let body = json!({"target": {"@odata.type": "microsoft.graph.groupAssignmentTarget", "groupId": "g"}});
        let c = entity_body(
            &m.beta,
            "enrollmentConfigurationAssignment",
            &body,
            None,
            false,
        );
        let target = c.ok().and_then(|c| c.properties.get("target").cloned());
        assert_eq!(
            target,
            Some(json!({
                "@odata.type": "#microsoft.graph.groupAssignmentTarget",
                "deviceAndAppManagementAssignmentFilterId": null,
                "deviceAndAppManagementAssignmentFilterType": "none",
                "groupId": "g"
            }))
        );
    }

    #[test]
    fn int32_rejects_strings_fractions_and_overflow() {
        let m = models();
        for bad in [
            json!("5"),
            json!(5.5),
            json!(4_294_967_296_i64),
            json!(null),
        ] {
            let body = json!({"@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration", "limit": bad});
            assert!(
                entity_body(&m.v1, "deviceEnrollmentConfiguration", &body, None, false).is_err(),
                "{body}"
            );
        }
    }
}
