//! # edm: the entity data model enrollgraph serves
//!
//! The types are data: they are read from the checked-in CSDL documents in `schema/`
//! (`beta.xml`, `v1.0.xml`), never hand-copied into a struct per property. Everything that
//! depends on the shape of an entity (validation of request bodies, response shaping,
//! `$metadata`, later the query binder) asks a [`Model`].
//!
//! ## Layout
//! - [`Version`]: the two API versions and their URL segments.
//! - [`Model`]: one parsed schema: structured types (entity and complex) with inheritance,
//!   enum types, bound operations, and the container's singletons and entity sets.
//! - [`Models`]: both versions, loaded once at start and shared.
//!
//! Names are matched case-insensitively on lookup (as Graph does for type names in
//! `@odata.type` and for operation names in URLs) but always written in their schema spelling.

use std::collections::HashMap;

/// The namespace of every type served.
pub const NAMESPACE: &str = "microsoft.graph";

const BETA_CSDL: &str = include_str!("../../../schema/beta.xml");
const V1_CSDL: &str = include_str!("../../../schema/v1.0.xml");

/// An API version, as it appears as the first URL segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Beta,
    V1,
}

impl Version {
    /// The URL segment: `beta` or `v1.0`.
    pub fn segment(self) -> &'static str {
        match self {
            Version::Beta => "beta",
            Version::V1 => "v1.0",
        }
    }

    /// Parses a URL segment; Graph matches it case-insensitively.
    pub fn from_segment(s: &str) -> Option<Version> {
        if s.eq_ignore_ascii_case("beta") {
            Some(Version::Beta)
        } else if s.eq_ignore_ascii_case("v1.0") {
            Some(Version::V1)
        } else {
            None
        }
    }
}

/// Errors raised while reading a CSDL document.
#[derive(Debug, thiserror::Error)]
pub enum EdmError {
    #[error("invalid CSDL XML: {0}")]
    Xml(#[from] roxmltree::Error),
    #[error("invalid CSDL: {0}")]
    Invalid(String),
}

/// An EDM primitive type used by this area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primitive {
    String,
    Boolean,
    Int32,
    Int64,
    Double,
    DateTimeOffset,
    Guid,
}

impl Primitive {
    fn parse(name: &str) -> Option<Primitive> {
        Some(match name {
            "Edm.String" => Primitive::String,
            "Edm.Boolean" => Primitive::Boolean,
            "Edm.Int32" => Primitive::Int32,
            "Edm.Int64" => Primitive::Int64,
            "Edm.Double" => Primitive::Double,
            "Edm.DateTimeOffset" => Primitive::DateTimeOffset,
            "Edm.Guid" => Primitive::Guid,
            _ => return None,
        })
    }

    /// The qualified EDM name, e.g. `Edm.Int32`.
    pub fn edm_name(self) -> &'static str {
        match self {
            Primitive::String => "Edm.String",
            Primitive::Boolean => "Edm.Boolean",
            Primitive::Int32 => "Edm.Int32",
            Primitive::Int64 => "Edm.Int64",
            Primitive::Double => "Edm.Double",
            Primitive::DateTimeOffset => "Edm.DateTimeOffset",
            Primitive::Guid => "Edm.Guid",
        }
    }
}

/// What a type reference points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKind {
    Primitive(Primitive),
    /// An enum type, by its unqualified name.
    Enum(String),
    /// A structured (entity or complex) type, by its unqualified name.
    Structured(String),
}

/// A property's or parameter's type: a kind, possibly a collection of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    pub kind: TypeKind,
    pub collection: bool,
}

/// A structural property.
#[derive(Debug, Clone)]
pub struct Property {
    pub name: String,
    pub ty: TypeRef,
    pub nullable: bool,
    /// The type that declares it (for inherited properties, the base type).
    pub declared_by: String,
}

/// A navigation property.
#[derive(Debug, Clone)]
pub struct NavigationProperty {
    pub name: String,
    /// The target entity type's unqualified name.
    pub target: String,
    pub collection: bool,
    pub contains_target: bool,
}

/// Entity or complex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StructuredKind {
    Entity,
    Complex,
}

/// An entity or complex type, with its inherited members resolved.
#[derive(Debug, Clone)]
pub struct StructuredType {
    pub name: String,
    pub kind: StructuredKind,
    pub base: Option<String>,
    pub is_abstract: bool,
    /// Every structural property, the root base type's first, each type's in schema order.
    pub properties: Vec<Property>,
    /// Every navigation property, inherited ones included.
    pub navigation: Vec<NavigationProperty>,
    /// This type and every type derived from it, directly or not (this type first).
    pub self_and_derived: Vec<String>,
}

impl StructuredType {
    /// The `#microsoft.graph.name` form used as an `@odata.type` annotation value.
    pub fn odata_type(&self) -> String {
        format!("#{NAMESPACE}.{}", self.name)
    }

    /// Looks a structural property up by exact name (JSON property names are case-sensitive).
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// Looks a navigation property up by exact name.
    pub fn navigation_property(&self, name: &str) -> Option<&NavigationProperty> {
        self.navigation.iter().find(|p| p.name == name)
    }
}

/// An enum type.
#[derive(Debug, Clone)]
pub struct EnumType {
    pub name: String,
    pub is_flags: bool,
    pub members: Vec<(String, i64)>,
}

impl EnumType {
    /// Finds a member by name, case-insensitively, returning its schema spelling.
    pub fn member(&self, name: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(m, _)| m.eq_ignore_ascii_case(name))
            .map(|(m, _)| m.as_str())
    }
}

/// Action or function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Action,
    Function,
}

/// A bound action or function.
#[derive(Debug, Clone)]
pub struct Operation {
    pub name: String,
    pub kind: OperationKind,
    /// The binding parameter's type.
    pub binding: TypeRef,
    /// The other parameters, in order.
    pub parameters: Vec<Parameter>,
    pub return_type: Option<TypeRef>,
}

/// An operation parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub ty: TypeRef,
    pub nullable: bool,
}

/// A singleton or entity set of the entity container.
#[derive(Debug, Clone)]
pub struct ContainerMember {
    pub name: String,
    /// Entity type name (unqualified).
    pub entity_type: String,
    pub is_set: bool,
}

/// One version's schema.
#[derive(Debug)]
pub struct Model {
    version: Version,
    csdl: &'static str,
    structured: HashMap<String, StructuredType>,
    enums: HashMap<String, EnumType>,
    operations: Vec<Operation>,
    container: Vec<ContainerMember>,
}

/// Both versions' schemas.
#[derive(Debug)]
pub struct Models {
    pub beta: Model,
    pub v1: Model,
}

impl Models {
    /// Loads the checked-in schemas.
    pub fn load() -> Result<Models, EdmError> {
        Ok(Models {
            beta: Model::parse(Version::Beta, BETA_CSDL)?,
            v1: Model::parse(Version::V1, V1_CSDL)?,
        })
    }

    /// The model of one version.
    pub fn get(&self, version: Version) -> &Model {
        match version {
            Version::Beta => &self.beta,
            Version::V1 => &self.v1,
        }
    }
}

/// Strips `#`, the namespace (`microsoft.graph.`) or its alias (`graph.`) from a type name.
/// Returns `None` if another namespace is named.
pub fn unqualify(name: &str) -> Option<&str> {
    let name = name.strip_prefix('#').unwrap_or(name);
    match name.rsplit_once('.') {
        None => Some(name),
        Some((ns, short)) => {
            if ns.eq_ignore_ascii_case(NAMESPACE) || ns.eq_ignore_ascii_case("graph") {
                Some(short)
            } else {
                None
            }
        }
    }
}

fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

impl Model {
    /// Parses a CSDL document of the shape `schema/derive.py` writes.
    pub fn parse(version: Version, csdl: &'static str) -> Result<Model, EdmError> {
        let doc = roxmltree::Document::parse(csdl)?;
        let schema = doc
            .descendants()
            .find(|n| n.has_tag_name("Schema"))
            .ok_or_else(|| EdmError::Invalid("no Schema element".into()))?;

        struct Raw {
            kind: StructuredKind,
            base: Option<String>,
            is_abstract: bool,
            props: Vec<(String, String, bool)>,
            navs: Vec<NavigationProperty>,
        }
        let mut raw: Vec<(String, Raw)> = Vec::new();
        let mut enums = HashMap::new();
        let mut raw_ops = Vec::new();
        let mut container = Vec::new();

        let attr = |n: roxmltree::Node, a: &str| -> Result<String, EdmError> {
            n.attribute(a)
                .map(str::to_owned)
                .ok_or_else(|| EdmError::Invalid(format!("<{}> without {a}", n.tag_name().name())))
        };

        for node in schema.children().filter(|n| n.is_element()) {
            match node.tag_name().name() {
                tag @ ("EntityType" | "ComplexType") => {
                    let name = attr(node, "Name")?;
                    let mut props = Vec::new();
                    let mut navs = Vec::new();
                    for child in node.children().filter(|n| n.is_element()) {
                        match child.tag_name().name() {
                            "Property" => props.push((
                                attr(child, "Name")?,
                                attr(child, "Type")?,
                                child.attribute("Nullable") != Some("false"),
                            )),
                            "NavigationProperty" => {
                                let ty = attr(child, "Type")?;
                                let (collection, inner) = split_collection(&ty);
                                navs.push(NavigationProperty {
                                    name: attr(child, "Name")?,
                                    target: unqualify(inner)
                                        .ok_or_else(|| EdmError::Invalid(ty.clone()))?
                                        .to_owned(),
                                    collection,
                                    contains_target: child.attribute("ContainsTarget")
                                        == Some("true"),
                                })
                            }
                            _ => {}
                        }
                    }
                    let base = match node.attribute("BaseType") {
                        Some(b) => Some(
                            unqualify(b)
                                .ok_or_else(|| EdmError::Invalid(b.to_owned()))?
                                .to_owned(),
                        ),
                        None => None,
                    };
                    raw.push((
                        name,
                        Raw {
                            kind: if tag == "EntityType" {
                                StructuredKind::Entity
                            } else {
                                StructuredKind::Complex
                            },
                            base,
                            is_abstract: node.attribute("Abstract") == Some("true"),
                            props,
                            navs,
                        },
                    ));
                }
                "EnumType" => {
                    let name = attr(node, "Name")?;
                    let mut members = Vec::new();
                    for m in node.children().filter(|n| n.has_tag_name("Member")) {
                        let value = attr(m, "Value")?
                            .parse::<i64>()
                            .map_err(|e| EdmError::Invalid(format!("enum {name}: {e}")))?;
                        members.push((attr(m, "Name")?, value));
                    }
                    enums.insert(
                        key(&name),
                        EnumType {
                            name,
                            is_flags: node.attribute("IsFlags") == Some("true"),
                            members,
                        },
                    );
                }
                tag @ ("Action" | "Function") => {
                    let mut params = Vec::new();
                    for p in node.children().filter(|n| n.has_tag_name("Parameter")) {
                        params.push((
                            attr(p, "Name")?,
                            attr(p, "Type")?,
                            p.attribute("Nullable") != Some("false"),
                        ));
                    }
                    let ret = node
                        .children()
                        .find(|n| n.has_tag_name("ReturnType"))
                        .map(|n| attr(n, "Type"))
                        .transpose()?;
                    raw_ops.push((
                        attr(node, "Name")?,
                        if tag == "Action" {
                            OperationKind::Action
                        } else {
                            OperationKind::Function
                        },
                        params,
                        ret,
                    ));
                }
                "EntityContainer" => {
                    for m in node.children().filter(|n| n.is_element()) {
                        let (is_set, type_attr) = match m.tag_name().name() {
                            "Singleton" => (false, "Type"),
                            "EntitySet" => (true, "EntityType"),
                            _ => continue,
                        };
                        let ty = attr(m, type_attr)?;
                        container.push(ContainerMember {
                            name: attr(m, "Name")?,
                            entity_type: unqualify(&ty)
                                .ok_or_else(|| EdmError::Invalid(ty.clone()))?
                                .to_owned(),
                            is_set,
                        });
                    }
                }
                _ => {}
            }
        }

        let raw_by_key: HashMap<String, &Raw> = raw.iter().map(|(n, r)| (key(n), r)).collect();
        let names: HashMap<String, String> = raw.iter().map(|(n, _)| (key(n), n.clone())).collect();
        let resolve = |ty: &str| -> Result<TypeRef, EdmError> {
            let (collection, inner) = split_collection(ty);
            let kind = if let Some(p) = Primitive::parse(inner) {
                TypeKind::Primitive(p)
            } else {
                let short = unqualify(inner).ok_or_else(|| EdmError::Invalid(ty.to_owned()))?;
                if let Some(e) = enums.get(&key(short)) {
                    TypeKind::Enum(e.name.clone())
                } else if let Some(n) = names.get(&key(short)) {
                    TypeKind::Structured(n.clone())
                } else {
                    return Err(EdmError::Invalid(format!("unknown type {ty}")));
                }
            };
            Ok(TypeRef { kind, collection })
        };

        let bases: HashMap<String, Option<String>> =
            raw.iter().map(|(n, r)| (key(n), r.base.clone())).collect();
        let mut structured = HashMap::new();
        for (name, r) in &raw {
            // Walk up to the root, then collect members root-first.
            let mut chain = vec![(name.clone(), r)];
            let mut cur = r.base.clone();
            while let Some(b) = cur {
                let br = raw_by_key
                    .get(&key(&b))
                    .ok_or_else(|| EdmError::Invalid(format!("unknown base type {b}")))?;
                if chain.len() > 32 {
                    return Err(EdmError::Invalid(format!("inheritance cycle at {name}")));
                }
                cur = br.base.clone();
                chain.push((names.get(&key(&b)).cloned().unwrap_or(b), *br));
            }
            let mut properties = Vec::new();
            let mut navigation = Vec::new();
            for (declared_by, t) in chain.iter().rev() {
                for (pn, pt, nullable) in &t.props {
                    properties.push(Property {
                        name: pn.clone(),
                        ty: resolve(pt)?,
                        nullable: *nullable,
                        declared_by: declared_by.clone(),
                    });
                }
                navigation.extend(t.navs.iter().cloned());
            }
            let mut self_and_derived = vec![name.clone()];
            for (other, _) in &raw {
                if other != name && derives_from(&bases, other, name) {
                    self_and_derived.push(other.clone());
                }
            }
            structured.insert(
                key(name),
                StructuredType {
                    name: name.clone(),
                    kind: r.kind,
                    base: r.base.clone(),
                    is_abstract: r.is_abstract,
                    properties,
                    navigation,
                    self_and_derived,
                },
            );
        }

        let mut operations = Vec::new();
        for (name, kind, params, ret) in raw_ops {
            let mut params = params.into_iter();
            let (_, binding, _) = params
                .next()
                .ok_or_else(|| EdmError::Invalid(format!("operation {name} is not bound")))?;
            let mut parameters = Vec::new();
            for (pn, pt, nullable) in params {
                parameters.push(Parameter {
                    name: pn,
                    ty: resolve(&pt)?,
                    nullable,
                });
            }
            operations.push(Operation {
                binding: resolve(&binding)?,
                return_type: ret.as_deref().map(&resolve).transpose()?,
                name,
                kind,
                parameters,
            });
        }

        Ok(Model {
            version,
            csdl,
            structured,
            enums,
            operations,
            container,
        })
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// The CSDL document this model was read from, served as `$metadata`.
    pub fn csdl(&self) -> &'static str {
        self.csdl
    }

    /// A structured type by name: `#microsoft.graph.x`, `microsoft.graph.x`, `graph.x` or `x`,
    /// case-insensitively.
    pub fn structured(&self, name: &str) -> Option<&StructuredType> {
        self.structured.get(&key(unqualify(name)?))
    }

    /// An enum type by unqualified name.
    pub fn enum_type(&self, name: &str) -> Option<&EnumType> {
        self.enums.get(&key(unqualify(name)?))
    }

    /// True if `ty` is `base` or derives from it.
    pub fn is_assignable(&self, ty: &str, base: &str) -> bool {
        self.structured(base).is_some_and(|b| {
            b.self_and_derived
                .iter()
                .any(|d| d.eq_ignore_ascii_case(ty))
        })
    }

    /// A singleton or entity set by exact name.
    pub fn container_member(&self, name: &str) -> Option<&ContainerMember> {
        self.container.iter().find(|m| m.name == name)
    }

    /// Bound operations whose binding parameter accepts `ty` (collection or single), matched by
    /// name case-insensitively, with or without the namespace.
    pub fn bound_operation(&self, name: &str, ty: &str, collection: bool) -> Option<&Operation> {
        let short = unqualify(name)?;
        self.operations.iter().find(|op| {
            op.name.eq_ignore_ascii_case(short)
                && op.binding.collection == collection
                && matches!(&op.binding.kind, TypeKind::Structured(b) if self.is_assignable(ty, b))
        })
    }

    /// Every structured type.
    pub fn structured_types(&self) -> impl Iterator<Item = &StructuredType> {
        self.structured.values()
    }

    /// Every enum type.
    pub fn enum_types(&self) -> impl Iterator<Item = &EnumType> {
        self.enums.values()
    }
}

/// True if `ty` derives (directly or not) from `ancestor`, following the `bases` map.
fn derives_from(bases: &HashMap<String, Option<String>>, ty: &str, ancestor: &str) -> bool {
    let mut cur = bases.get(&key(ty)).cloned().flatten();
    for _ in 0..32 {
        match cur {
            Some(b) if b.eq_ignore_ascii_case(ancestor) => return true,
            Some(b) => cur = bases.get(&key(&b)).cloned().flatten(),
            None => return false,
        }
    }
    false
}

fn split_collection(ty: &str) -> (bool, &str) {
    match ty
        .strip_prefix("Collection(")
        .and_then(|t| t.strip_suffix(')'))
    {
        Some(inner) => (true, inner),
        None => (false, ty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemas_load() -> Result<(), EdmError> {
        let m = Models::load()?;
        let beta = m.get(Version::Beta);
        let v1 = m.get(Version::V1);
        let base = beta
            .structured("deviceEnrollmentConfiguration")
            .ok_or_else(|| EdmError::Invalid("missing".into()))?;
        assert!(base.is_abstract);
        // 8 derived kinds in beta, 4 in v1.0 (plus the base itself).
        assert_eq!(base.self_and_derived.len(), 9);
        let v1_base = v1
            .structured("#microsoft.graph.deviceEnrollmentConfiguration")
            .ok_or_else(|| EdmError::Invalid("missing".into()))?;
        assert_eq!(v1_base.self_and_derived.len(), 5);
        Ok(())
    }

    #[test]
    fn inherited_properties_come_first() -> Result<(), EdmError> {
        let m = Models::load()?;
        let t = m
            .beta
            .structured("deviceEnrollmentLimitConfiguration")
            .ok_or_else(|| EdmError::Invalid("missing".into()))?;
        let names: Vec<_> = t.properties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.first(), Some(&"id"));
        assert_eq!(names.last(), Some(&"limit"));
        assert!(t.navigation_property("assignments").is_some());
        Ok(())
    }

    #[test]
    fn operations_resolve_case_insensitively() -> Result<(), EdmError> {
        let m = Models::load()?;
        let ty = "deviceEnrollmentLimitConfiguration";
        assert!(m.beta.bound_operation("setpriority", ty, false).is_some());
        assert!(m
            .beta
            .bound_operation("microsoft.graph.assign", ty, false)
            .is_some());
        assert!(m
            .beta
            .bound_operation("hasPayloadLinks", "deviceEnrollmentConfiguration", true)
            .is_some());
        assert!(m
            .v1
            .bound_operation("hasPayloadLinks", "deviceEnrollmentConfiguration", true)
            .is_none());
        assert!(m.beta.bound_operation("other.assign", ty, false).is_none());
        Ok(())
    }

    #[test]
    fn beta_only_members_are_absent_from_v1() -> Result<(), EdmError> {
        let m = Models::load()?;
        let t =
            m.v1.structured("deviceEnrollmentConfiguration")
                .ok_or_else(|| EdmError::Invalid("missing".into()))?;
        assert!(t.property("roleScopeTagIds").is_none());
        assert!(m
            .v1
            .structured("windowsRestoreDeviceEnrollmentConfiguration")
            .is_none());
        Ok(())
    }
}
