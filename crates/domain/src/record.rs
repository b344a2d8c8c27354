//! Stored configurations and assignments, and the timestamp format Graph uses.

use serde_json::{Map, Value};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

/// `createdDateTime` of tenant defaults, as the service reports it.
pub const MIN_TIMESTAMP: &str = "0001-01-01T00:00:00Z";

const FRACTIONAL: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z");
const WHOLE: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// Now, in UTC, with 7 fractional digits (`2024-05-01T10:20:30.1234567Z`), the form Intune writes.
pub fn now_timestamp() -> String {
    OffsetDateTime::now_utc()
        .format(FRACTIONAL)
        .unwrap_or_else(|_| MIN_TIMESTAMP.to_owned())
}

/// Now, in UTC, in whole seconds (used for the defaults' `lastModifiedDateTime`).
pub fn now_timestamp_whole_seconds() -> String {
    OffsetDateTime::now_utc()
        .format(WHOLE)
        .unwrap_or_else(|_| MIN_TIMESTAMP.to_owned())
}

/// A fresh random GUID, lowercase hyphenated.
pub fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A device enrollment configuration as stored.
///
/// The server-managed properties are fields; everything a client may set is in `properties`,
/// keyed by property name, complete (defaults filled in) and canonical (enum members and
/// `@odata.type` values in schema spelling).
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    pub id: String,
    /// Unqualified type name, e.g. `deviceEnrollmentLimitConfiguration`.
    pub odata_type: String,
    /// The ranking this item belongs to (see [`crate::kinds::ranking_key`]).
    pub ranking: String,
    pub is_default: bool,
    pub priority: i32,
    pub version: i32,
    pub created: String,
    pub modified: String,
    pub properties: Map<String, Value>,
}

/// An `enrollmentConfigurationAssignment` as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub id: String,
    pub configuration_id: String,
    /// `target`, `source`, `sourceId`, canonical.
    pub properties: Map<String, Value>,
}

/// An application registered for the token endpoint (client credentials).
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    /// The application (client) id, a GUID.
    pub client_id: String,
    pub display_name: String,
    /// The client secret's hash (never the secret itself), if it has a secret.
    pub secret_hash: Option<String>,
    /// The certificate (PEM) whose key signs its client assertions, if it has one.
    pub certificate: Option<String>,
    /// Application permissions granted, given as `roles` in its tokens.
    pub roles: Vec<String>,
    pub created: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_have_seven_fractional_digits() {
        let t = super::now_timestamp();
        let frac = t.split('.').nth(1).unwrap_or_default();
        assert_eq!(frac.len(), 8, "{t}");
        assert!(frac.ends_with('Z'));
    }
}
