//! Every type, every property, through real HTTP.
//!
//! The types are data: every body here is generated from the EDM (`edm::Models::load()`), never
//! from a hand-written property list. For each derived configuration type of each version a
//! body sets every settable property to a non-default value (strings, integers, booleans, enum
//! members other than the first, GUIDs, complex values with every property, collections of two);
//! it is created, read back (get, list, `$expand=assignments`) and patched, and every property
//! must round-trip exactly. Also: integers are JSON integers, `null` is accepted exactly where the
//! EDM says a property is nullable, beta-only types and properties never reach `/v1.0`, and every
//! assignment target type round-trips.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use edm::{Model, Models, Primitive, StructuredType, TypeKind, TypeRef, Version};
use serde_json::{json, Map, Value};

/// Properties the server sets (behaviour.md); a body never sets them.
const SERVER_SET: &[&str] = &[
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "version",
    "priority",
    "deviceEnrollmentConfigurationType",
];

/// Properties that cannot change after creation (behaviour.md: "`platformType` of a
/// single-platform restriction cannot change"); a patch keeps their created value.
const FIXED_AT_CREATION: &[(&str, &str)] = &[(
    "deviceEnrollmentPlatformRestrictionConfiguration",
    "platformType",
)];

const CONFIGURATION: &str = "deviceEnrollmentConfiguration";
const ASSIGNMENT: &str = "enrollmentConfigurationAssignment";
const TARGET: &str = "deviceAndAppManagementAssignmentTarget";
const ASSIGNMENT_TYPE: &str = "#microsoft.graph.enrollmentConfigurationAssignment";

fn models() -> Models {
    Models::load().unwrap()
}

fn configurations(version: Version) -> String {
    format!(
        "/{}/deviceManagement/deviceEnrollmentConfigurations",
        version.segment()
    )
}

/// The concrete types derived from `base`, by name.
fn concrete<'m>(model: &'m Model, base: &str) -> Vec<&'m StructuredType> {
    let mut out: Vec<&StructuredType> = model
        .structured(base)
        .unwrap()
        .self_and_derived
        .iter()
        .map(|n| model.structured(n).unwrap())
        .filter(|t| !t.is_abstract)
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn settable(ty: &StructuredType) -> impl Iterator<Item = &edm::Property> {
    ty.properties
        .iter()
        .filter(|p| !SERVER_SET.contains(&p.name.as_str()))
}

// ---------------------------------------------------------------------------------------------
// values generated from the EDM

/// Makes values for one body; `variant` 1 and 2 give two different sets, neither the server's
/// default (except booleans, whose variant 2 is `false`).
struct Values<'m> {
    model: &'m Model,
    variant: u8,
    /// Integers are small and increase in schema order, so every documented range
    /// (e.g. PIN lengths 4..127, min ≤ max) holds.
    next_int: i64,
}

impl<'m> Values<'m> {
    fn new(model: &'m Model, variant: u8) -> Values<'m> {
        Values {
            model,
            variant,
            next_int: if variant == 1 { 4 } else { 9 },
        }
    }

    fn of(&mut self, at: &str, ty: &TypeRef) -> Value {
        if ty.collection {
            let single = TypeRef {
                kind: ty.kind.clone(),
                collection: false,
            };
            return json!([
                self.of(&format!("{at} 1"), &single),
                self.of(&format!("{at} 2"), &single)
            ]);
        }
        let v = self.variant;
        match &ty.kind {
            TypeKind::Primitive(Primitive::String) => json!(format!("{at} value {v}")),
            TypeKind::Primitive(Primitive::Boolean) => json!(v == 1),
            TypeKind::Primitive(Primitive::Int32 | Primitive::Int64) => {
                self.next_int += 1;
                json!(self.next_int - 1)
            }
            TypeKind::Primitive(Primitive::Double) => json!(1.5 * f64::from(v)),
            TypeKind::Primitive(Primitive::Guid) => {
                json!(format!("3f2504e0-4f89-41d3-9a0c-0305e82c330{v}"))
            }
            TypeKind::Primitive(Primitive::DateTimeOffset) => {
                json!(format!("2024-0{v}-02T03:04:05Z"))
            }
            TypeKind::Enum(name) => {
                let e = self.model.enum_type(name).unwrap();
                // Not the first member (the default), nor the evolvable-enum sentinel.
                let candidates: Vec<&str> = e
                    .members
                    .iter()
                    .skip(1)
                    .map(|(m, _)| m.as_str())
                    .filter(|m| *m != "unknownFutureValue")
                    .collect();
                assert!(!candidates.is_empty(), "enum {name} has no usable member");
                if e.is_flags && candidates.len() >= 3 {
                    if v == 1 {
                        json!(candidates[..2].join(","))
                    } else {
                        json!(candidates[2])
                    }
                } else {
                    json!(candidates[usize::from(v - 1) % candidates.len()])
                }
            }
            TypeKind::Structured(name) => {
                let declared = self.model.structured(name).unwrap();
                let ty = if declared.is_abstract {
                    concrete(self.model, name)[0]
                } else {
                    declared
                };
                self.complex(ty)
            }
        }
    }

    /// A complex value of `ty` with every property.
    fn complex(&mut self, ty: &StructuredType) -> Value {
        let mut out = Map::new();
        out.insert("@odata.type".into(), json!(ty.odata_type()));
        for p in &ty.properties {
            out.insert(p.name.clone(), self.of(&p.name, &p.ty));
        }
        Value::Object(out)
    }

    /// An entity body of `ty` setting every settable property.
    fn entity(&mut self, ty: &StructuredType) -> Value {
        let mut out = Map::new();
        out.insert("@odata.type".into(), json!(ty.odata_type()));
        for p in settable(ty) {
            out.insert(p.name.clone(), self.of(&p.name, &p.ty));
        }
        Value::Object(out)
    }
}

fn full_body(model: &Model, ty: &StructuredType, variant: u8) -> Value {
    Values::new(model, variant).entity(ty)
}

/// An assignment whose target is of `target` and sets every property.
fn assignment_body(model: &Model, target: &StructuredType, variant: u8) -> Value {
    let ty = model.structured(ASSIGNMENT).unwrap();
    let mut values = Values::new(model, variant);
    let mut body = values.entity(ty);
    body["target"] = values.complex(target);
    body
}

/// `value` as `model` shows it: complex and entity values keep only their type's properties.
fn project(model: &Model, declared: &TypeRef, value: &Value) -> Value {
    match (value, &declared.kind) {
        (Value::Array(items), _) if declared.collection => {
            let single = TypeRef {
                kind: declared.kind.clone(),
                collection: false,
            };
            Value::Array(items.iter().map(|i| project(model, &single, i)).collect())
        }
        (Value::Object(obj), TypeKind::Structured(name)) => {
            let ty = obj
                .get("@odata.type")
                .and_then(Value::as_str)
                .and_then(|t| model.structured(t))
                .or_else(|| model.structured(name))
                .unwrap();
            project_object(model, ty, obj)
        }
        _ => value.clone(),
    }
}

fn project_object(model: &Model, ty: &StructuredType, obj: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (k, v) in obj {
        if k == "@odata.type" {
            out.insert(k.clone(), v.clone());
        } else if let Some(p) = ty.property(k) {
            out.insert(k.clone(), project(model, &p.ty, v));
        }
    }
    Value::Object(out)
}

// ---------------------------------------------------------------------------------------------
// checks

/// Shape errors of `value` as a `ty` of `model`: JSON kinds (integers as JSON integers), enum
/// members, and complex values with their `@odata.type` and exactly their type's properties.
fn shape_errors(
    model: &Model,
    at: &str,
    ty: &TypeRef,
    nullable: bool,
    value: &Value,
) -> Vec<String> {
    let mut errors = Vec::new();
    if value.is_null() {
        if !nullable {
            errors.push(format!("{at}: null for a non-nullable property"));
        }
        return errors;
    }
    if ty.collection {
        let Some(items) = value.as_array() else {
            return vec![format!("{at}: not an array: {value}")];
        };
        let single = TypeRef {
            kind: ty.kind.clone(),
            collection: false,
        };
        for (i, item) in items.iter().enumerate() {
            errors.extend(shape_errors(
                model,
                &format!("{at}[{i}]"),
                &single,
                false,
                item,
            ));
        }
        return errors;
    }
    let ok = match &ty.kind {
        TypeKind::Primitive(Primitive::Int32 | Primitive::Int64) => {
            value.is_i64() || value.is_u64()
        }
        TypeKind::Primitive(Primitive::Boolean) => value.is_boolean(),
        TypeKind::Primitive(Primitive::Double) => value.is_number(),
        TypeKind::Primitive(_) => value.is_string(),
        TypeKind::Enum(name) => {
            let e = model.enum_type(name).unwrap();
            value
                .as_str()
                .is_some_and(|s| s.split(',').all(|m| e.members.iter().any(|(n, _)| n == m)))
        }
        TypeKind::Structured(name) => {
            let Some(obj) = value.as_object() else {
                return vec![format!("{at}: not an object: {value}")];
            };
            let Some(actual) = obj
                .get("@odata.type")
                .and_then(Value::as_str)
                .and_then(|t| t.strip_prefix("#"))
                .and_then(|t| model.structured(t))
            else {
                return vec![format!("{at}: no usable @odata.type: {value}")];
            };
            if !model.is_assignable(&actual.name, name) {
                errors.push(format!("{at}: {} is not a {name}", actual.name));
            }
            errors.extend(object_errors(model, actual, at, obj));
            true
        }
    };
    if !ok {
        errors.push(format!("{at}: {value} is not a valid {:?}", ty.kind));
    }
    errors
}

/// The properties of `obj` must be exactly those of `ty` (annotations and the `assignments`
/// navigation property aside), each of the right shape.
fn object_errors(
    model: &Model,
    ty: &StructuredType,
    at: &str,
    obj: &Map<String, Value>,
) -> Vec<String> {
    let mut errors = Vec::new();
    let ours: BTreeSet<&str> = obj
        .keys()
        .map(String::as_str)
        .filter(|k| !k.starts_with('@') && ty.navigation_property(k).is_none())
        .collect();
    let want: BTreeSet<&str> = ty.properties.iter().map(|p| p.name.as_str()).collect();
    for extra in ours.difference(&want) {
        errors.push(format!(
            "{at}.{extra}: not a property of {} in {}",
            ty.name,
            model.version().segment()
        ));
    }
    for missing in want.difference(&ours) {
        errors.push(format!("{at}.{missing}: missing"));
    }
    for p in &ty.properties {
        if let Some(v) = obj.get(&p.name) {
            errors.extend(shape_errors(
                model,
                &format!("{at}.{}", p.name),
                &p.ty,
                p.nullable,
                v,
            ));
        }
    }
    errors
}

/// Asserts that `ours` is a complete `ty` of `model` whose settable properties equal `expected`
/// (a body of that type, or its projection), and whose server-set ones are present.
fn assert_entity(model: &Model, ty: &StructuredType, ours: &Value, expected: &Value, what: &str) {
    let mut errors = Vec::new();
    if ours["@odata.type"] != ty.odata_type().as_str() {
        errors.push(format!(
            "@odata.type: want {}, got {}",
            ty.odata_type(),
            ours["@odata.type"]
        ));
    }
    match ours.as_object() {
        None => errors.push("not an object".into()),
        Some(obj) => errors.extend(object_errors(model, ty, &ty.name, obj)),
    }
    if ours["id"].as_str().is_none_or(str::is_empty) {
        errors.push("id: missing or empty".into());
    }
    for (k, want) in expected.as_object().unwrap() {
        if k.starts_with('@') || SERVER_SET.contains(&k.as_str()) {
            continue;
        }
        if ours.get(k) != Some(want) {
            errors.push(format!(
                "{k}: sent {want}, got {}",
                ours.get(k).unwrap_or(&Value::Null)
            ));
        }
    }
    assert!(
        errors.is_empty(),
        "{what} ({} in {}):\n  {}\nours: {ours}",
        ty.name,
        model.version().segment(),
        errors.join("\n  ")
    );
}

/// Asserts `@odata.type` and the shape of every assignment expanded into `config`.
fn assert_expanded(model: &Model, config: &Value, expected: &[Value], what: &str) {
    let listed = config["assignments"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: no expanded assignments: {config}"));
    assert_eq!(listed.len(), expected.len(), "{what}: {config}");
    let ty = model.structured(ASSIGNMENT).unwrap();
    for want in expected {
        let ours = listed
            .iter()
            .find(|a| a["id"] == want["id"])
            .unwrap_or_else(|| panic!("{what}: assignment {} not expanded: {config}", want["id"]));
        assert_eq!(ours["@odata.type"], ASSIGNMENT_TYPE, "{what}");
        assert_entity(model, ty, ours, want, what);
    }
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn create_assignment(app: &TestApp, version: Version, cid: &str, body: &Value) -> Value {
    let r = app
        .post(
            &format!("{}/{cid}/assignments", configurations(version)),
            body.clone(),
        )
        .await;
    assert_eq!(
        r.status.as_u16(),
        201,
        "create assignment {body}: {}",
        r.text
    );
    let mut created = r.json();
    created.as_object_mut().unwrap().remove("@odata.context");
    created
}

// ---------------------------------------------------------------------------------------------
// the tests

#[test]
fn the_edm_has_eight_beta_kinds_and_four_v1_kinds() {
    let m = models();
    let names = |model: &Model| -> Vec<String> {
        concrete(model, CONFIGURATION)
            .iter()
            .map(|t| t.name.clone())
            .collect()
    };
    assert_eq!(names(&m.beta).len(), 8, "{:?}", names(&m.beta));
    assert_eq!(names(&m.v1).len(), 4, "{:?}", names(&m.v1));
    let targets: Vec<String> = concrete(&m.beta, TARGET)
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert_eq!(
        targets,
        [
            "allDevicesAssignmentTarget",
            "allLicensedUsersAssignmentTarget",
            "configurationManagerCollectionAssignmentTarget",
            "exclusionGroupAssignmentTarget",
            "groupAssignmentTarget"
        ]
    );
    assert_eq!(concrete(&m.v1, TARGET).len(), 5);
}

#[test]
fn generated_bodies_set_every_property_to_a_non_default_value() {
    let m = models();
    for model in [&m.beta, &m.v1] {
        for ty in concrete(model, CONFIGURATION) {
            let body = full_body(model, ty, 1);
            for p in settable(ty) {
                let v = &body[&p.name];
                let default = domain::validate::default_value(model, &p.ty, p.nullable);
                assert_ne!(*v, default, "{}.{} = {v} is the default", ty.name, p.name);
                if p.ty.collection {
                    assert_eq!(
                        v.as_array().map(Vec::len),
                        Some(2),
                        "{}.{}",
                        ty.name,
                        p.name
                    );
                }
            }
            assert_ne!(
                full_body(model, ty, 1),
                full_body(model, ty, 2),
                "{}",
                ty.name
            );
        }
    }
}

async fn round_trip_every_type(version: Version) {
    let m = models();
    let model = m.get(version);
    let app = TestApp::spawn().await;
    let base = configurations(version);
    let assignment_target = concrete(model, TARGET)[0];
    for ty in concrete(model, CONFIGURATION) {
        let what = |step: &str| format!("{} {step}", ty.name);

        // create
        let body = full_body(model, ty, 1);
        let r = app.post(&base, body.clone()).await;
        assert_eq!(r.status.as_u16(), 201, "{}: {}", what("create"), r.text);
        let created = r.json();
        assert_entity(model, ty, &created, &body, &what("create"));
        let id = id_of(&created);

        // get
        let r = app.get(&format!("{base}/{id}")).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        assert_entity(model, ty, &r.json(), &body, &what("get"));

        // list: ours round-trips, and every item carries its type
        let listed = app.list(version.segment()).await;
        for item in &listed {
            let t = item["@odata.type"].as_str().unwrap_or_default();
            let known = t.strip_prefix('#').and_then(|t| model.structured(t));
            assert!(
                known.is_some_and(|k| !k.is_abstract),
                "list item type {t}: {item}"
            );
        }
        let ours = listed.iter().find(|c| c["id"] == id.as_str()).unwrap();
        assert_entity(model, ty, ours, &body, &what("list"));

        // $expand=assignments, on get and list
        let assignments = vec![
            create_assignment(
                &app,
                version,
                &id,
                &assignment_body(model, assignment_target, 1),
            )
            .await,
            create_assignment(
                &app,
                version,
                &id,
                &assignment_body(model, assignment_target, 2),
            )
            .await,
        ];
        let r = app.get(&format!("{base}/{id}?$expand=assignments")).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        let expanded = r.json();
        assert_entity(model, ty, &expanded, &body, &what("get $expand"));
        assert_expanded(model, &expanded, &assignments, &what("get $expand"));
        let r = app.get(&format!("{base}?$expand=assignments")).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        let all = r.json()["value"].as_array().cloned().unwrap();
        for item in &all {
            assert!(
                item["@odata.type"].is_string(),
                "list $expand item without type: {item}"
            );
            for a in item["assignments"]
                .as_array()
                .unwrap_or_else(|| panic!("{item}"))
            {
                assert_eq!(a["@odata.type"], ASSIGNMENT_TYPE, "{a}");
                assert!(a["target"]["@odata.type"].is_string(), "{a}");
            }
        }
        let ours = all.iter().find(|c| c["id"] == id.as_str()).unwrap();
        assert_entity(model, ty, ours, &body, &what("list $expand"));
        assert_expanded(model, ours, &assignments, &what("list $expand"));

        // patch every property to other values
        let mut changed = full_body(model, ty, 2);
        for (t, p) in FIXED_AT_CREATION {
            if *t == ty.name {
                changed[*p] = body[*p].clone();
            }
        }
        let r = app.patch(&format!("{base}/{id}"), changed.clone()).await;
        assert_eq!(r.status.as_u16(), 204, "{}: {}", what("patch"), r.text);
        let r = app.get(&format!("{base}/{id}")).await;
        assert_entity(model, ty, &r.json(), &changed, &what("get after patch"));
    }
}

#[tokio::test]
async fn every_beta_type_round_trips_every_property() {
    round_trip_every_type(Version::Beta).await;
}

#[tokio::test]
async fn every_v1_type_round_trips_every_property() {
    round_trip_every_type(Version::V1).await;
}

/// Null for each settable property of `ty` (and each property of its complex values), in a
/// create and in a patch: accepted where nullable, else a 400 naming the property. A collection
/// is never null in OData (its `Nullable` facet is about the items).
async fn nulls_follow_nullability(version: Version) {
    let m = models();
    let model = m.get(version);
    let app = TestApp::spawn().await;
    let base = configurations(version);
    for ty in concrete(model, CONFIGURATION) {
        let full = full_body(model, ty, 1);
        let id = id_of(&app.create(version.segment(), full.clone()).await);
        for p in settable(ty) {
            // The property itself.
            let mut cases = vec![(p.name.clone(), p.nullable && !p.ty.collection, {
                let mut b = json!({"@odata.type": ty.odata_type()});
                b[&p.name] = Value::Null;
                b
            })];
            // Each property of its complex value.
            if let (TypeKind::Structured(_), false) = (&p.ty.kind, p.ty.collection) {
                let complex = full[&p.name].clone();
                let inner_ty = model
                    .structured(complex["@odata.type"].as_str().unwrap())
                    .unwrap();
                for q in &inner_ty.properties {
                    let mut value = complex.clone();
                    value[&q.name] = Value::Null;
                    let mut b = json!({"@odata.type": ty.odata_type()});
                    b[&p.name] = value;
                    cases.push((
                        format!("{}.{}", p.name, q.name),
                        q.nullable && !q.ty.collection,
                        b,
                    ));
                }
            }
            for (name, nullable, body) in cases {
                let what = format!("{} {name} = null", ty.name);
                let created = app.post(&base, body.clone()).await;
                let patched = app.patch(&format!("{base}/{id}"), body.clone()).await;
                if nullable {
                    assert_eq!(created.status.as_u16(), 201, "{what}: {}", created.text);
                    assert_entity(
                        model,
                        ty,
                        &created.json(),
                        &body,
                        &format!("{what} (create)"),
                    );
                    assert_eq!(patched.status.as_u16(), 204, "{what}: {}", patched.text);
                    let back = app.get(&format!("{base}/{id}")).await.json();
                    assert_entity(model, ty, &back, &body, &format!("{what} (patch)"));
                    // Restore the full value for the next case.
                    let r = app.patch(&format!("{base}/{id}"), full.clone()).await;
                    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
                } else {
                    let leaf = name.rsplit('.').next().unwrap();
                    for (r, how) in [(&created, "create"), (&patched, "patch")] {
                        let message = r.assert_error(400, "BadRequest");
                        assert!(
                            message.contains(&format!("'{name}'")) || message.contains(leaf),
                            "{what} ({how}): the message does not name the property: {message}"
                        );
                    }
                    let back = app.get(&format!("{base}/{id}")).await.json();
                    assert_entity(model, ty, &back, &full, &format!("{what} (refused patch)"));
                }
            }
        }
    }

    // The assignment's own properties.
    let cid = id_of(
        &app.create(
            version.segment(),
            full_body(model, concrete(model, CONFIGURATION)[0], 1),
        )
        .await,
    );
    let assignment = model.structured(ASSIGNMENT).unwrap();
    for p in settable(assignment) {
        let mut body = json!({"@odata.type": ASSIGNMENT_TYPE});
        body[&p.name] = Value::Null;
        let r = app
            .post(&format!("{base}/{cid}/assignments"), body.clone())
            .await;
        if p.nullable {
            assert_eq!(
                r.status.as_u16(),
                201,
                "assignment {} = null: {}",
                p.name,
                r.text
            );
            assert_eq!(r.json()[&p.name], Value::Null, "{}", r.text);
        } else {
            let message = r.assert_error(400, "BadRequest");
            assert!(
                message.contains(&p.name),
                "assignment {} = null: {message}",
                p.name
            );
        }
    }
}

#[tokio::test]
async fn beta_accepts_null_exactly_for_nullable_properties() {
    nulls_follow_nullability(Version::Beta).await;
}

#[tokio::test]
async fn v1_accepts_null_exactly_for_nullable_properties() {
    nulls_follow_nullability(Version::V1).await;
}

#[tokio::test]
async fn beta_only_types_are_refused_on_v1_and_never_shown_there() {
    let m = models();
    let app = TestApp::spawn().await;
    let beta_only: Vec<&StructuredType> = concrete(&m.beta, CONFIGURATION)
        .into_iter()
        .filter(|t| m.v1.structured(&t.name).is_none())
        .collect();
    assert_eq!(beta_only.len(), 4, "beta-only kinds");
    let v1 = configurations(Version::V1);
    for ty in beta_only {
        let body = full_body(&m.beta, ty, 1);
        let r = app.post(&v1, body.clone()).await;
        let message = r.assert_error(400, "BadRequest");
        assert!(message.contains(&ty.name), "{}: {message}", ty.name);

        let id = id_of(&app.create("beta", body).await);
        app.get(&format!("{v1}/{id}"))
            .await
            .assert_error(404, "ResourceNotFound");
        app.get(&format!("{v1}/{id}?$expand=assignments"))
            .await
            .assert_error(404, "ResourceNotFound");
        app.get(&format!("{v1}/{id}/assignments"))
            .await
            .assert_error(404, "ResourceNotFound");
        let listed = app.list("v1.0").await;
        assert!(
            listed.iter().all(|c| c["id"] != id.as_str()),
            "{} is listed on v1.0",
            ty.name
        );
        assert!(
            listed
                .iter()
                .all(|c| c["@odata.type"] != ty.odata_type().as_str()),
            "a {} is listed on v1.0",
            ty.name
        );
        let r = app.get(&format!("{v1}?$expand=assignments")).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        let expanded = r.json()["value"].as_array().cloned().unwrap();
        assert!(
            expanded.iter().all(|c| c["id"] != id.as_str()),
            "{}",
            ty.name
        );
        let r = app.get(&format!("{v1}/$count")).await;
        assert_eq!(r.text, listed.len().to_string(), "v1.0 $count");
        // Not writable there either, and untouched by the attempts.
        let r = app
            .patch(&format!("{v1}/{id}"), json!({"displayName": "x"}))
            .await;
        r.assert_error(404, "ResourceNotFound");
        let r = app
            .post(
                &format!("{v1}/{id}/assignments"),
                json!({"target": {"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}}),
            )
            .await;
        r.assert_error(404, "ResourceNotFound");
        let r = app
            .post(
                &format!("{v1}/{id}/assign"),
                json!({"enrollmentConfigurationAssignments": []}),
            )
            .await;
        r.assert_error(404, "ResourceNotFound");
        app.delete(&format!("{v1}/{id}"))
            .await
            .assert_error(404, "ResourceNotFound");
        let r = app
            .get(&format!("{}/{id}", configurations(Version::Beta)))
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    }
}

#[tokio::test]
async fn beta_only_properties_are_refused_on_v1_and_never_shown_there() {
    let m = models();
    let app = TestApp::spawn().await;
    let v1 = configurations(Version::V1);
    let mut seen_beta_only = 0;
    for v1_ty in concrete(&m.v1, CONFIGURATION) {
        let beta_ty = m.beta.structured(&v1_ty.name).unwrap();
        let body = full_body(&m.beta, beta_ty, 1);

        // Created on beta with every beta property, read on v1.0: the v1.0 projection, exactly.
        let id = id_of(&app.create("beta", body.clone()).await);
        let expected = project_object(&m.v1, v1_ty, body.as_object().unwrap());
        let r = app.get(&format!("{v1}/{id}")).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        assert_entity(&m.v1, v1_ty, &r.json(), &expected, "beta item read on v1.0");
        let listed = app.list("v1.0").await;
        let ours = listed.iter().find(|c| c["id"] == id.as_str()).unwrap();
        assert_entity(&m.v1, v1_ty, ours, &expected, "beta item listed on v1.0");

        // A v1.0 patch leaves the beta-only values alone.
        let r = app
            .patch(&format!("{v1}/{id}"), full_body(&m.v1, v1_ty, 2))
            .await;
        assert_eq!(r.status.as_u16(), 204, "{}", r.text);
        let back = app
            .get(&format!("{}/{id}", configurations(Version::Beta)))
            .await
            .json();
        for p in settable(beta_ty).filter(|p| v1_ty.property(&p.name).is_none()) {
            assert_eq!(
                back[&p.name], body[&p.name],
                "{}.{} after a v1.0 patch",
                v1_ty.name, p.name
            );
        }

        // Each beta-only property is refused on v1.0, by name.
        for p in settable(beta_ty).filter(|p| v1_ty.property(&p.name).is_none()) {
            seen_beta_only += 1;
            let mut one = json!({"@odata.type": v1_ty.odata_type()});
            one[&p.name] = body[&p.name].clone();
            let message = app
                .post(&v1, one.clone())
                .await
                .assert_error(400, "BadRequest");
            assert!(
                message.contains(&p.name),
                "{}.{}: {message}",
                v1_ty.name,
                p.name
            );
            let message = app
                .patch(&format!("{v1}/{id}"), one)
                .await
                .assert_error(400, "BadRequest");
            assert!(
                message.contains(&p.name),
                "{}.{}: {message}",
                v1_ty.name,
                p.name
            );
        }
    }
    assert!(seen_beta_only > 0);
}

async fn targets_round_trip(version: Version) {
    let m = models();
    let model = m.get(version);
    let app = TestApp::spawn().await;
    let base = configurations(version);
    let assignment = model.structured(ASSIGNMENT).unwrap();
    // A kind both versions have, so that beta assignments can be read on v1.0.
    let config_ty = model
        .structured(&concrete(&m.v1, CONFIGURATION)[0].name)
        .unwrap();
    let cid = id_of(
        &app.create(version.segment(), full_body(model, config_ty, 1))
            .await,
    );
    let mut all = Vec::new();
    for target in concrete(model, TARGET) {
        let what = |step: &str| format!("{} {step} on {}", target.name, version.segment());
        let body = assignment_body(model, target, 1);
        let created = create_assignment(&app, version, &cid, &body).await;
        assert_entity(model, assignment, &created, &body, &what("create"));
        let aid = id_of(&created);
        let path = format!("{base}/{cid}/assignments/{aid}");
        let r = app.get(&path).await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        assert_entity(model, assignment, &r.json(), &body, &what("get"));

        let changed = assignment_body(model, target, 2);
        let r = app.patch(&path, changed.clone()).await;
        assert_eq!(r.status.as_u16(), 204, "{}: {}", what("patch"), r.text);
        let mut back = app.get(&path).await.json();
        assert_entity(model, assignment, &back, &changed, &what("get after patch"));
        back.as_object_mut().unwrap().remove("@odata.context");
        all.push(back);
    }

    let r = app.get(&format!("{base}/{cid}/assignments")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    let listed = r.json()["value"].as_array().cloned().unwrap();
    assert_eq!(listed.len(), all.len(), "{}", r.text);
    for want in &all {
        let ours = listed.iter().find(|a| a["id"] == want["id"]).unwrap();
        assert_entity(model, assignment, ours, want, "listed assignment");
    }
    let expanded = app
        .get(&format!("{base}/{cid}?$expand=assignments"))
        .await
        .json();
    assert_expanded(model, &expanded, &all, "expanded assignments");

    if version == Version::Beta {
        // The beta-only parts (filter id and type, source, sourceId) never reach v1.0.
        let v1 = configurations(Version::V1);
        let v1_assignment = m.v1.structured(ASSIGNMENT).unwrap();
        for want in &all {
            let r = app
                .get(&format!("{v1}/{cid}/assignments/{}", id_of(want)))
                .await;
            assert_eq!(r.status.as_u16(), 200, "{}", r.text);
            let expected = project_object(&m.v1, v1_assignment, want.as_object().unwrap());
            assert_entity(
                &m.v1,
                v1_assignment,
                &r.json(),
                &expected,
                "beta assignment on v1.0",
            );
        }
    }
}

#[tokio::test]
async fn every_beta_assignment_target_round_trips() {
    targets_round_trip(Version::Beta).await;
}

#[tokio::test]
async fn every_v1_assignment_target_round_trips() {
    targets_round_trip(Version::V1).await;
}

/// The settable, single-valued complex properties of `ty`.
fn complex_properties(ty: &StructuredType) -> Vec<&edm::Property> {
    settable(ty)
        .filter(|p| !p.ty.collection && matches!(p.ty.kind, TypeKind::Structured(_)))
        .collect()
}

#[tokio::test]
async fn a_patch_keeps_what_it_does_not_name_inside_a_complex_value() {
    // OData PATCH: "Missing properties of the containing entity or complex property […] MUST
    // NOT be directly altered".
    let m = models();
    let app = TestApp::spawn().await;
    let mut seen = 0;
    for version in [Version::Beta, Version::V1] {
        let model = m.get(version);
        let base = configurations(version);
        for ty in concrete(model, CONFIGURATION) {
            for p in complex_properties(ty) {
                seen += 1;
                let full = full_body(model, ty, 1);
                let id = id_of(&app.create(version.segment(), full.clone()).await);
                let other = full_body(model, ty, 2);
                let first = model
                    .structured(full[&p.name]["@odata.type"].as_str().unwrap())
                    .unwrap()
                    .properties[0]
                    .name
                    .clone();
                let mut partial = json!({"@odata.type": full[&p.name]["@odata.type"]});
                partial[&first] = other[&p.name][&first].clone();
                let mut body = json!({"@odata.type": ty.odata_type()});
                body[&p.name] = partial;
                let r = app.patch(&format!("{base}/{id}"), body.clone()).await;
                assert_eq!(r.status.as_u16(), 204, "{body}: {}", r.text);

                let mut expected = full.clone();
                expected[&p.name][&first] = other[&p.name][&first].clone();
                let back = app.get(&format!("{base}/{id}")).await.json();
                let what = format!("{}.{} after patching only {first}", ty.name, p.name);
                assert_entity(model, ty, &back, &expected, &what);
            }
        }
    }
    assert!(seen > 0);
}

#[tokio::test]
async fn a_v1_patch_keeps_the_beta_only_parts_of_complex_values() {
    let m = models();
    let app = TestApp::spawn().await;
    let beta = configurations(Version::Beta);
    let v1 = configurations(Version::V1);
    let mut seen = 0;
    for v1_ty in concrete(&m.v1, CONFIGURATION) {
        let beta_ty = m.beta.structured(&v1_ty.name).unwrap();
        for p in complex_properties(v1_ty) {
            let full = full_body(&m.beta, beta_ty, 1);
            let id = id_of(&app.create("beta", full.clone()).await);
            // Every property v1.0 knows of the complex value, changed.
            let changed = full_body(&m.v1, v1_ty, 2)[&p.name].clone();
            let body = json!({"@odata.type": v1_ty.odata_type(), p.name.clone(): changed.clone()});
            let r = app.patch(&format!("{v1}/{id}"), body.clone()).await;
            assert_eq!(r.status.as_u16(), 204, "{body}: {}", r.text);

            let back = app.get(&format!("{beta}/{id}")).await.json();
            let mut expected = full.clone();
            for (k, v) in changed.as_object().unwrap() {
                expected[&p.name][k] = v.clone();
            }
            seen +=
                expected[&p.name].as_object().unwrap().len() - changed.as_object().unwrap().len();
            let what = format!("{}.{} on beta after a v1.0 patch", v1_ty.name, p.name);
            assert_entity(&m.beta, beta_ty, &back, &expected, &what);
        }
    }
    assert!(seen > 0, "no complex value has beta-only properties");

    // Likewise an assignment's target: a v1.0 patch of the same target type keeps its filter.
    let group = m.beta.structured("groupAssignmentTarget").unwrap();
    let cid = id_of(
        &app.create(
            "beta",
            full_body(
                &m.beta,
                m.beta
                    .structured("deviceEnrollmentLimitConfiguration")
                    .unwrap(),
                1,
            ),
        )
        .await,
    );
    let body = assignment_body(&m.beta, group, 1);
    let aid = id_of(&create_assignment(&app, Version::Beta, &cid, &body).await);
    let r = app
        .patch(
            &format!("{v1}/{cid}/assignments/{aid}"),
            json!({"target": {"@odata.type": group.odata_type(), "groupId": "another group"}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 204, "{}", r.text);
    let back = app
        .get(&format!("{beta}/{cid}/assignments/{aid}"))
        .await
        .json();
    let mut expected = body.clone();
    expected["target"]["groupId"] = json!("another group");
    let assignment = m.beta.structured(ASSIGNMENT).unwrap();
    assert_entity(
        &m.beta,
        assignment,
        &back,
        &expected,
        "target after a v1.0 patch",
    );
}
