//! `GET /{version}/openapi.json`: an OpenAPI 3.0 description of the served surface, generated
//! from the version's EDM (never hand-written), so OpenAPI tooling works against enrollgraph.
//!
//! Every structured type becomes a schema with all its properties (inherited ones included);
//! request bodies of creates are a `oneOf` of the concrete kinds the version has, each pinned
//! by its `@odata.type`; every operation lists Graph's error envelope for its error statuses.

use edm::{Model, Primitive, StructuredKind, StructuredType, TypeKind, TypeRef};
use serde_json::{json, Map, Value};

const CONFIGURATION: &str = "deviceEnrollmentConfiguration";
const ASSIGNMENT: &str = "enrollmentConfigurationAssignment";

fn schema_name(name: &str) -> String {
    format!("microsoft.graph.{name}")
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{}", schema_name(name)) })
}

fn type_schema(ty: &TypeRef, nullable: bool) -> Value {
    if ty.collection {
        let single = TypeRef {
            kind: ty.kind.clone(),
            collection: false,
        };
        return json!({ "type": "array", "items": type_schema(&single, false) });
    }
    let mut s = match &ty.kind {
        TypeKind::Primitive(p) => match p {
            Primitive::String => json!({ "type": "string" }),
            Primitive::Boolean => json!({ "type": "boolean" }),
            Primitive::Int32 => {
                json!({ "type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX })
            }
            Primitive::Int64 => json!({ "type": "integer", "format": "int64" }),
            Primitive::Double => json!({ "type": "number" }),
            Primitive::DateTimeOffset => json!({ "type": "string", "format": "date-time" }),
            Primitive::Guid => json!({
                "type": "string",
                "format": "uuid",
                "pattern": "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
            }),
        },
        TypeKind::Enum(name) => reference(name),
        TypeKind::Structured(name) => reference(name),
    };
    if nullable {
        s = match s {
            Value::Object(mut m) if !m.contains_key("$ref") => {
                m.insert("nullable".into(), Value::Bool(true));
                Value::Object(m)
            }
            other => json!({ "allOf": [other], "nullable": true }),
        };
    }
    s
}

fn odata_type_values(model: &Model, ty: &StructuredType) -> Vec<Value> {
    let mut out = Vec::new();
    for name in &ty.self_and_derived {
        if let Some(t) = model.structured(name) {
            out.push(Value::String(format!("#microsoft.graph.{}", t.name)));
            out.push(Value::String(format!("microsoft.graph.{}", t.name)));
        }
    }
    out
}

fn structured_schema(model: &Model, ty: &StructuredType) -> Value {
    let mut props = Map::new();
    if ty.kind == StructuredKind::Entity {
        props.insert("@odata.context".into(), json!({ "type": "string" }));
    }
    props.insert(
        "@odata.type".into(),
        json!({ "type": "string", "enum": odata_type_values(model, ty) }),
    );
    for p in &ty.properties {
        props.insert(p.name.clone(), type_schema(&p.ty, p.nullable));
    }
    for n in &ty.navigation {
        props.insert(
            n.name.clone(),
            json!({ "type": "array", "items": reference(&n.target) }),
        );
    }
    json!({
        "title": ty.name,
        "type": "object",
        "properties": props,
        // Derived types add properties: a value of a derived type is a valid base value.
        "additionalProperties": ty.self_and_derived.len() > 1,
    })
}

/// A create/update body of one concrete type: `@odata.type` pinned, server-managed properties
/// left out, no other properties.
fn body_schema(ty: &StructuredType, require_type: bool) -> Value {
    const MANAGED: &[&str] = &[
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "version",
        "priority",
        "deviceEnrollmentConfigurationType",
    ];
    let mut props = Map::new();
    props.insert(
        "@odata.type".into(),
        json!({ "type": "string", "enum": [format!("#microsoft.graph.{}", ty.name)] }),
    );
    for p in ty
        .properties
        .iter()
        .filter(|p| !MANAGED.contains(&p.name.as_str()))
    {
        props.insert(p.name.clone(), type_schema(&p.ty, p.nullable));
    }
    let mut s = json!({ "type": "object", "properties": props, "additionalProperties": false });
    if require_type {
        s["required"] = json!(["@odata.type"]);
    }
    s
}

fn creatable(model: &Model) -> Vec<&StructuredType> {
    let mut v: Vec<&StructuredType> = model
        .structured(CONFIGURATION)
        .map(|b| {
            b.self_and_derived
                .iter()
                .filter_map(|n| model.structured(n))
                .filter(|t| !t.is_abstract)
                .collect()
        })
        .unwrap_or_default();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

fn errors() -> Map<String, Value> {
    let mut m = Map::new();
    for (code, what) in [
        ("400", "Bad request"),
        ("401", "No usable bearer token"),
        ("403", "Missing permission"),
        ("404", "Not found"),
        ("405", "Method not allowed"),
        ("413", "Body too large"),
        ("415", "Body is not JSON"),
        ("503", "Database unavailable; retry"),
    ] {
        m.insert(
            code.into(),
            json!({ "description": what, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/odata.error" } } } }),
        );
    }
    m
}

fn op(summary: &str, ok: (&str, Value), body: Option<Value>, params: &[&str]) -> Value {
    let mut responses = errors();
    responses.insert(ok.0.into(), ok.1);
    let mut o = json!({
        "summary": summary,
        "parameters": params.iter().map(|p| json!({"$ref": format!("#/components/parameters/{p}")})).collect::<Vec<_>>(),
        "responses": responses,
    });
    if let Some(b) = body {
        o["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": b } } });
    }
    o
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn collection(item: Value) -> Value {
    json!({
        "type": "object",
        "properties": {
            "@odata.context": { "type": "string" },
            "@odata.count": { "type": "integer" },
            "@odata.nextLink": { "type": "string" },
            "value": { "type": "array", "items": item }
        },
        "required": ["value"]
    })
}

fn no_content(description: &str) -> Value {
    json!({ "description": description })
}

fn count_response() -> Value {
    json!({ "description": "The number of items", "content": { "text/plain": { "schema": { "type": "integer", "minimum": 0 } } } })
}

/// The OpenAPI document of `model`'s version, served under `base`.
pub fn document(model: &Model, base: &str) -> Value {
    let version = model.version().segment();
    let mut schemas = Map::new();
    let mut types: Vec<&StructuredType> = model.structured_types().collect();
    types.sort_by(|a, b| a.name.cmp(&b.name));
    for t in &types {
        schemas.insert(schema_name(&t.name), structured_schema(model, t));
    }
    for e in model.enum_types() {
        let names: Vec<&str> = e.members.iter().map(|(n, _)| n.as_str()).collect();
        let s = if e.is_flags {
            let alt = names.join("|");
            json!({ "type": "string", "pattern": format!("^({alt})(,({alt}))*$") })
        } else {
            json!({ "type": "string", "enum": names })
        };
        schemas.insert(schema_name(&e.name), s);
    }
    schemas.insert(
        "odata.error".into(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": { "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": { "type": "string" },
                    "message": { "type": "string" },
                    "innerError": { "type": "object" }
                }
            }}
        }),
    );
    let kinds = creatable(model);
    let create_body =
        json!({ "oneOf": kinds.iter().map(|t| body_schema(t, true)).collect::<Vec<_>>() });
    let patch_body =
        json!({ "oneOf": kinds.iter().map(|t| body_schema(t, false)).collect::<Vec<_>>() });
    let assignment_body = model
        .structured(ASSIGNMENT)
        .map(|t| body_schema(t, false))
        .unwrap_or(Value::Null);
    let config = reference(CONFIGURATION);
    let assignment = reference(ASSIGNMENT);
    let configs = "/deviceManagement/deviceEnrollmentConfigurations";
    let mut paths = Map::new();
    paths.insert(configs.into(), json!({
        "get": op("List configurations", ("200", json_response("The configurations", collection(config.clone()))), None, &["filter", "select", "orderby", "top", "skip", "count", "expand", "search"]),
        "post": op("Create a configuration", ("201", json_response("The created configuration", config.clone())), Some(create_body), &[]),
    }));
    paths.insert(format!("{configs}/$count"), json!({
        "get": op("Count configurations", ("200", count_response()), None, &["filter", "search"]),
    }));
    paths.insert(format!("{configs}/{{deviceEnrollmentConfigurationId}}"), json!({
        "parameters": [{"$ref": "#/components/parameters/deviceEnrollmentConfigurationId"}],
        "get": op("Get a configuration", ("200", json_response("The configuration", config.clone())), None, &["select", "expand"]),
        "patch": op("Update a configuration", ("204", no_content("Updated")), Some(patch_body), &[]),
        "delete": op("Delete a configuration and its assignments", ("204", no_content("Deleted")), None, &[]),
    }));
    paths.insert(format!("{configs}/{{deviceEnrollmentConfigurationId}}/assign"), json!({
        "parameters": [{"$ref": "#/components/parameters/deviceEnrollmentConfigurationId"}],
        "post": op("Replace the assignments", ("204", no_content("Assigned")), Some(json!({
            "type": "object",
            "properties": { "enrollmentConfigurationAssignments": { "type": "array", "items": assignment_body.clone() } },
            "additionalProperties": false
        })), &[]),
    }));
    paths.insert(format!("{configs}/{{deviceEnrollmentConfigurationId}}/setPriority"), json!({
        "parameters": [{"$ref": "#/components/parameters/deviceEnrollmentConfigurationId"}],
        "post": op("Move the configuration within its ranking", ("204", no_content("Moved")), Some(json!({
            "type": "object",
            "properties": { "priority": { "type": "integer", "format": "int32" } },
            "required": ["priority"],
            "additionalProperties": false
        })), &[]),
    }));
    if model
        .bound_operation(
            "createEnrollmentNotificationConfiguration",
            CONFIGURATION,
            true,
        )
        .is_some()
    {
        let notification = model
            .structured("deviceEnrollmentNotificationConfiguration")
            .map(|t| body_schema(t, true))
            .unwrap_or(Value::Null);
        paths.insert(format!("{configs}/createEnrollmentNotificationConfiguration"), json!({
            "post": op("Create notification configurations", ("204", no_content("Created")), Some(json!({
                "type": "object",
                "properties": { "deviceEnrollmentNotificationConfigurations": { "type": "array", "items": notification } },
                "additionalProperties": false
            })), &[]),
        }));
    }
    if model
        .bound_operation("hasPayloadLinks", CONFIGURATION, true)
        .is_some()
    {
        paths.insert(format!("{configs}/hasPayloadLinks"), json!({
            "post": op("Policy-set links of payloads", ("200", json_response("One item per payload id", collection(reference("hasPayloadLinkResultItem")))), Some(json!({
                "type": "object",
                "properties": { "payloadIds": { "type": "array", "items": { "type": "string" } } },
                "additionalProperties": false
            })), &[]),
        }));
    }
    let assignments = format!("{configs}/{{deviceEnrollmentConfigurationId}}/assignments");
    paths.insert(assignments.clone(), json!({
        "parameters": [{"$ref": "#/components/parameters/deviceEnrollmentConfigurationId"}],
        "get": op("List assignments", ("200", json_response("The assignments", collection(assignment.clone()))), None, &["filter", "select", "orderby", "top", "skip", "count", "search"]),
        "post": op("Create an assignment", ("201", json_response("The created assignment", assignment.clone())), Some(assignment_body.clone()), &[]),
    }));
    paths.insert(
        format!("{assignments}/$count"),
        json!({
            "parameters": [{"$ref": "#/components/parameters/deviceEnrollmentConfigurationId"}],
            "get": op("Count assignments", ("200", count_response()), None, &["filter", "search"]),
        }),
    );
    paths.insert(format!("{assignments}/{{enrollmentConfigurationAssignmentId}}"), json!({
        "parameters": [
            {"$ref": "#/components/parameters/deviceEnrollmentConfigurationId"},
            {"$ref": "#/components/parameters/enrollmentConfigurationAssignmentId"}
        ],
        "get": op("Get an assignment", ("200", json_response("The assignment", assignment)), None, &["select"]),
        "patch": op("Update an assignment", ("204", no_content("Updated")), Some(assignment_body), &[]),
        "delete": op("Delete an assignment", ("204", no_content("Deleted")), None, &[]),
    }));
    let query = |name: &str, schema: Value, description: &str| json!({ "name": format!("${name}"), "in": "query", "required": false, "description": description, "schema": schema });
    let path_param = |name: &str| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } });
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": format!("enrollgraph: Microsoft Graph {version}, device enrollment configurations"),
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Generated from the served EDM ($metadata)."
        },
        "servers": [{ "url": format!("{base}/{version}") }],
        "security": [{ "bearer": [] }],
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } },
            "parameters": {
                "deviceEnrollmentConfigurationId": path_param("deviceEnrollmentConfigurationId"),
                "enrollmentConfigurationAssignmentId": path_param("enrollmentConfigurationAssignmentId"),
                "filter": query("filter", json!({"type": "string"}), "OData $filter expression"),
                "select": query("select", json!({"type": "string"}), "Comma-separated properties"),
                "orderby": query("orderby", json!({"type": "string"}), "Sort keys"),
                "top": query("top", json!({"type": "integer", "minimum": 0}), "Page size"),
                "skip": query("skip", json!({"type": "integer", "minimum": 0}), "Items to skip"),
                "count": query("count", json!({"type": "boolean"}), "Include @odata.count"),
                "expand": query("expand", json!({"type": "string"}), "assignments"),
                "search": query("search", json!({"type": "string"}), "Search text")
            },
            "schemas": schemas
        }
    })
}
