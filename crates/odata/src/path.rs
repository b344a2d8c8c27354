//! Resource paths, resolved against the EDM.
//!
//! Grammar (after the version segment; segments are percent-decoded one by one):
//! ```text
//! path        = "deviceManagement" "/" configs
//! configs     = "deviceEnrollmentConfigurations" [ key ] [ "/" cast ] [ "/" ( "$count" | coll-op ) ]
//!             | "deviceEnrollmentConfigurations" key-or-seg [ "/" cast ] [ "/" ( op | assignments ) ]
//! assignments = "assignments" [ key-or-seg | "/$count" ]
//! key         = "(" ( "'" text "'" | text | name "=" "'" text "'" ) ")"   ; attached to the segment
//! key-or-seg  = key | "/" text
//! cast        = "microsoft.graph." type-name
//! op          = [ "microsoft.graph." ] operation-name   ; case-insensitive
//! ```
//! Names of singletons and navigation properties are matched case-insensitively, as Graph does.

use edm::Model;

/// The declared type of the configurations collection.
pub const CONFIGURATION: &str = "deviceEnrollmentConfiguration";

/// What a path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourcePath {
    /// `…/deviceEnrollmentConfigurations[/cast]`
    Configurations { cast: Option<String> },
    /// `…/deviceEnrollmentConfigurations[/cast]/$count`
    ConfigurationsCount { cast: Option<String> },
    /// A collection-bound action: `…/deviceEnrollmentConfigurations/hasPayloadLinks`
    CollectionOperation { operation: String },
    /// `…/deviceEnrollmentConfigurations/{id}[/cast]`
    Configuration { id: String, cast: Option<String> },
    /// An entity-bound action: `…/{id}/assign`, `…/{id}/setPriority`
    ConfigurationOperation { id: String, operation: String },
    /// `…/{id}/assignments`
    Assignments { configuration_id: String },
    /// `…/{id}/assignments/$count`
    AssignmentsCount { configuration_id: String },
    /// `…/{id}/assignments/{assignmentId}`
    Assignment {
        configuration_id: String,
        id: String,
    },
}

/// Why a path does not resolve: the first segment that names nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("Resource not found for the segment '{0}'.")]
    Segment(String),
    #[error("The path '{0}' is not served by enrollgraph: only deviceManagement/deviceEnrollmentConfigurations and what lies below it are.")]
    NotServed(String),
    #[error("Bad key in the segment '{0}'.")]
    Key(String),
}

/// Splits `name('key')` / `name(key)` / `name(id='key')` into the name and the decoded key.
fn split_key(segment: &str) -> Result<(&str, Option<String>), PathError> {
    let Some(open) = segment.find('(') else {
        return Ok((segment, None));
    };
    let name = &segment[..open];
    let inner = segment[open + 1..]
        .strip_suffix(')')
        .ok_or_else(|| PathError::Key(segment.to_owned()))?;
    let inner = match inner.split_once('=') {
        Some((k, v)) if !k.starts_with('\'') => v,
        _ => inner,
    };
    let key = match inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        Some(quoted) => quoted.replace("''", "'"),
        None => inner.to_owned(),
    };
    if key.is_empty() {
        return Err(PathError::Key(segment.to_owned()));
    }
    Ok((name, Some(key)))
}

fn is_cast(model: &Model, seg: &str, base: &str) -> Option<String> {
    if !seg.contains('.') {
        return None;
    }
    let t = model.structured(seg)?;
    model.is_assignable(&t.name, base).then(|| t.name.clone())
}

/// Resolves decoded path segments (after the version) against `model`.
pub fn parse(model: &Model, segments: &[String]) -> Result<ResourcePath, PathError> {
    let mut it = segments.iter().map(String::as_str).peekable();
    let first = it.next().unwrap_or("");
    let (name, key) = split_key(first)?;
    if !name.eq_ignore_ascii_case("deviceManagement") || key.is_some() {
        return Err(match model.container_member(name) {
            Some(_) => PathError::NotServed(first.to_owned()),
            None if ["me", "users"].iter().any(|m| m.eq_ignore_ascii_case(name)) => {
                PathError::NotServed(first.to_owned())
            }
            None => PathError::Segment(first.to_owned()),
        });
    }
    let Some(seg) = it.next() else {
        return Err(PathError::NotServed("deviceManagement".into()));
    };
    let (name, mut key) = split_key(seg)?;
    if !name.eq_ignore_ascii_case("deviceEnrollmentConfigurations") {
        return Err(PathError::NotServed(format!("deviceManagement/{seg}")));
    }

    // Collection level.
    let mut cast = None;
    if key.is_none() {
        match it.next() {
            None => return Ok(ResourcePath::Configurations { cast: None }),
            Some("$count") => {
                return end(it, ResourcePath::ConfigurationsCount { cast: None });
            }
            Some(s) => {
                if let Some(t) = is_cast(model, s, CONFIGURATION) {
                    cast = Some(t);
                    match it.next() {
                        None => return Ok(ResourcePath::Configurations { cast }),
                        Some("$count") => {
                            return end(it, ResourcePath::ConfigurationsCount { cast });
                        }
                        Some(k) => key = Some(k.to_owned()),
                    }
                } else if let Some(op) = model.bound_operation(s, CONFIGURATION, true) {
                    return end(
                        it,
                        ResourcePath::CollectionOperation {
                            operation: op.name.clone(),
                        },
                    );
                } else {
                    key = Some(s.to_owned());
                }
            }
        }
    }
    let id = key.unwrap_or_default();
    if id.is_empty() {
        return Err(PathError::Segment(String::new()));
    }

    // Entity level.
    let Some(seg) = it.next() else {
        return Ok(ResourcePath::Configuration { id, cast });
    };
    let seg = if let Some(t) = is_cast(model, seg, CONFIGURATION) {
        cast = Some(t);
        match it.next() {
            None => return Ok(ResourcePath::Configuration { id, cast }),
            Some(s) => s,
        }
    } else {
        seg
    };
    let (name, akey) = split_key(seg)?;
    if name.eq_ignore_ascii_case("assignments") {
        let aid = match (akey, it.next()) {
            (Some(k), None) => k,
            (Some(_), Some(next)) => return Err(PathError::Segment(next.to_owned())),
            (None, None) => {
                return Ok(ResourcePath::Assignments {
                    configuration_id: id,
                })
            }
            (None, Some("$count")) => {
                return end(
                    it,
                    ResourcePath::AssignmentsCount {
                        configuration_id: id,
                    },
                );
            }
            (None, Some(k)) => k.to_owned(),
        };
        return end(
            it,
            ResourcePath::Assignment {
                configuration_id: id,
                id: aid,
            },
        );
    }
    let ty = cast.as_deref().unwrap_or(CONFIGURATION);
    if let Some(op) = model.bound_operation(seg, ty, false) {
        return end(
            it,
            ResourcePath::ConfigurationOperation {
                id,
                operation: op.name.clone(),
            },
        );
    }
    Err(PathError::Segment(seg.to_owned()))
}

fn end<'a>(
    mut rest: impl Iterator<Item = &'a str>,
    path: ResourcePath,
) -> Result<ResourcePath, PathError> {
    match rest.next() {
        None => Ok(path),
        Some(s) => Err(PathError::Segment(s.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(model: &Model, s: &str) -> Result<ResourcePath, PathError> {
        let segs: Vec<String> = s.split('/').map(str::to_owned).collect();
        parse(model, &segs)
    }

    #[test]
    fn keys_in_both_forms_and_case_insensitive_actions() -> Result<(), PathError> {
        let m = edm::Models::load().map_err(|e| PathError::Segment(e.to_string()))?;
        let b = &m.beta;
        let want = ResourcePath::ConfigurationOperation {
            id: "a_b".into(),
            operation: "setPriority".into(),
        };
        assert_eq!(
            p(
                b,
                "deviceManagement/deviceEnrollmentConfigurations/a_b/setpriority"
            )?,
            want
        );
        assert_eq!(p(b, "deviceManagement/deviceEnrollmentConfigurations('a_b')/microsoft.graph.setPriority")?, want);
        assert_eq!(
            p(
                b,
                "deviceManagement/deviceEnrollmentConfigurations('it''s')/assignments('x')"
            )?,
            ResourcePath::Assignment {
                configuration_id: "it's".into(),
                id: "x".into()
            }
        );
        assert_eq!(
            p(b, "deviceManagement/deviceEnrollmentConfigurations/$count")?,
            ResourcePath::ConfigurationsCount { cast: None }
        );
        assert_eq!(
            p(
                b,
                "deviceManagement/deviceEnrollmentConfigurations/hasPayloadLinks"
            )?,
            ResourcePath::CollectionOperation {
                operation: "hasPayloadLinks".into()
            }
        );
        assert!(matches!(
            p(&m.v1, "deviceManagement/deviceEnrollmentConfigurations/x/bogus"),
            Err(PathError::Segment(s)) if s == "bogus"
        ));
        assert!(matches!(
            p(b, "deviceManagement/deviceEnrollmentConfigurations/microsoft.graph.deviceEnrollmentLimitConfiguration"),
            Ok(ResourcePath::Configurations { cast: Some(_) })
        ));
        Ok(())
    }
}
