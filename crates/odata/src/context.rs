//! `@odata.context` URLs, as Graph writes them.

/// `{base}/{version}/$metadata#{fragment}`
pub fn url(base: &str, version: edm::Version, fragment: &str) -> String {
    format!("{base}/{}/$metadata#{fragment}", version.segment())
}

/// The fragment of the configurations collection, with a cast and `$expand=assignments`.
pub fn configurations(cast: Option<&str>, expand: bool) -> String {
    let mut f = String::from("deviceManagement/deviceEnrollmentConfigurations");
    if let Some(c) = cast {
        f.push_str("/microsoft.graph.");
        f.push_str(c);
    }
    if expand {
        f.push_str("(assignments())");
    }
    f
}

/// The fragment of one configuration.
pub fn configuration(cast: Option<&str>, expand: bool) -> String {
    format!("{}/$entity", configurations(cast, expand))
}

/// Quotes a key as OData writes it in a URL: `'it''s'`.
pub fn quote_key(id: &str) -> String {
    format!("'{}'", id.replace('\'', "''"))
}

/// The fragment of a configuration's assignments.
pub fn assignments(configuration_id: &str) -> String {
    format!(
        "deviceManagement/deviceEnrollmentConfigurations({})/assignments",
        quote_key(configuration_id)
    )
}

/// The fragment of one assignment.
pub fn assignment(configuration_id: &str) -> String {
    format!("{}/$entity", assignments(configuration_id))
}

/// Appends `(selection)` when there is one: `$select` and `$expand` as
/// [`crate::query::Options::context_selection`] writes them.
fn with_selection(mut fragment: String, selection: Option<&str>) -> String {
    if let Some(s) = selection {
        fragment.push('(');
        fragment.push_str(s);
        fragment.push(')');
    }
    fragment
}

/// The configurations collection with a cast and a selection:
/// `deviceManagement/deviceEnrollmentConfigurations(id,displayName)`,
/// `…/deviceEnrollmentConfigurations(assignments())`.
pub fn configurations_selected(cast: Option<&str>, selection: Option<&str>) -> String {
    with_selection(configurations(cast, false), selection)
}

/// One configuration with a selection: `…/deviceEnrollmentConfigurations(assignments())/$entity`.
pub fn configuration_selected(cast: Option<&str>, selection: Option<&str>) -> String {
    format!("{}/$entity", configurations_selected(cast, selection))
}

/// A configuration's assignments with a selection: `…('id')/assignments(target)`.
pub fn assignments_selected(configuration_id: &str, selection: Option<&str>) -> String {
    with_selection(assignments(configuration_id), selection)
}

/// One assignment with a selection.
pub fn assignment_selected(configuration_id: &str, selection: Option<&str>) -> String {
    format!(
        "{}/$entity",
        assignments_selected(configuration_id, selection)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_follow_the_collection() {
        assert_eq!(
            configuration_selected(None, Some("assignments()")),
            "deviceManagement/deviceEnrollmentConfigurations(assignments())/$entity"
        );
        assert_eq!(
            configurations_selected(Some("deviceEnrollmentLimitConfiguration"), Some("id,limit")),
            "deviceManagement/deviceEnrollmentConfigurations/microsoft.graph.deviceEnrollmentLimitConfiguration(id,limit)"
        );
        assert_eq!(
            assignments_selected("a'b", Some("target")),
            "deviceManagement/deviceEnrollmentConfigurations('a''b')/assignments(target)"
        );
        assert_eq!(
            configurations_selected(None, None),
            "deviceManagement/deviceEnrollmentConfigurations"
        );
    }
}
