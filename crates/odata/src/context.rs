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
