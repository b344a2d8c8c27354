//! What the service knows about each kind of configuration beyond its schema: the suffix of
//! its server-made ids, the `deviceEnrollmentConfigurationType` it reports, the ranking its
//! priority lives in, and the configuration every tenant starts with.

use serde_json::{json, Map, Value};

/// One kind of configuration.
#[derive(Debug)]
pub struct Kind {
    /// Unqualified type name.
    pub type_name: &'static str,
    /// The `deviceEnrollmentConfigurationType` the server sets.
    pub configuration_type: &'static str,
    /// Appended to a GUID to make the ids of created items: `<guid>_<suffix>`.
    pub id_suffix: &'static str,
    /// The id of the tenant default, after `<tenantId>_`, if the kind has one.
    pub default_suffix: Option<&'static str>,
}

/// Every creatable kind.
pub const KINDS: &[Kind] = &[
    Kind {
        type_name: "deviceEnrollmentLimitConfiguration",
        configuration_type: "limit",
        id_suffix: "Limit",
        default_suffix: Some("DefaultLimit"),
    },
    Kind {
        type_name: "deviceEnrollmentPlatformRestrictionsConfiguration",
        configuration_type: "platformRestrictions",
        id_suffix: "PlatformRestrictions",
        default_suffix: Some("DefaultPlatformRestrictions"),
    },
    Kind {
        type_name: "deviceEnrollmentPlatformRestrictionConfiguration",
        configuration_type: "singlePlatformRestriction",
        id_suffix: "SinglePlatformRestriction",
        default_suffix: None,
    },
    Kind {
        type_name: "deviceEnrollmentWindowsHelloForBusinessConfiguration",
        configuration_type: "windowsHelloForBusiness",
        id_suffix: "WindowsHelloForBusiness",
        default_suffix: Some("DefaultWindowsHelloForBusiness"),
    },
    Kind {
        type_name: "windows10EnrollmentCompletionPageConfiguration",
        configuration_type: "windows10EnrollmentCompletionPageConfiguration",
        id_suffix: "Windows10EnrollmentCompletionPageConfiguration",
        default_suffix: Some("DefaultWindows10EnrollmentCompletionPageConfiguration"),
    },
    Kind {
        type_name: "deviceComanagementAuthorityConfiguration",
        configuration_type: "deviceComanagementAuthorityConfiguration",
        id_suffix: "DeviceComanagementAuthorityConfiguration",
        default_suffix: None,
    },
    Kind {
        type_name: "deviceEnrollmentNotificationConfiguration",
        configuration_type: "enrollmentNotificationsConfiguration",
        id_suffix: "EnrollmentNotificationsConfiguration",
        default_suffix: None,
    },
    Kind {
        type_name: "windowsRestoreDeviceEnrollmentConfiguration",
        configuration_type: "windowsRestore",
        id_suffix: "WindowsRestore",
        default_suffix: Some("WindowsRestore"),
    },
];

/// The kind of a type name (case-insensitive).
pub fn kind(type_name: &str) -> Option<&'static Kind> {
    KINDS
        .iter()
        .find(|k| k.type_name.eq_ignore_ascii_case(type_name))
}

/// The ranking a configuration's priority lives in: one per kind, and one per `platformType`
/// for single-platform restrictions.
pub fn ranking_key(type_name: &str, properties: &Map<String, Value>) -> String {
    let base = kind(type_name).map_or(type_name, |k| k.configuration_type);
    if base == "singlePlatformRestriction" {
        let platform = properties
            .get("platformType")
            .and_then(Value::as_str)
            .unwrap_or("allPlatforms");
        format!("{base}/{platform}")
    } else {
        base.to_owned()
    }
}

/// Display name of every tenant default.
pub const DEFAULT_DISPLAY_NAME: &str = "All users and all devices";

fn restriction(blocked: bool) -> Value {
    json!({
        "platformBlocked": blocked,
        "personalDeviceEnrollmentBlocked": false,
        "osMinimumVersion": null,
        "osMaximumVersion": null,
        "blockedManufacturers": [],
        "blockedSkus": []
    })
}

/// The type-specific settings of a kind's tenant default, as the service reports them.
/// Properties not named here take their schema defaults.
pub fn default_settings(type_name: &str) -> Map<String, Value> {
    let v = match type_name {
        "deviceEnrollmentLimitConfiguration" => json!({ "limit": 5 }),
        "deviceEnrollmentPlatformRestrictionsConfiguration" => json!({
            "androidForWorkRestriction": restriction(false),
            "androidRestriction": restriction(false),
            "iosRestriction": restriction(false),
            "macOSRestriction": restriction(false),
            "macRestriction": restriction(false),
            "tvosRestriction": restriction(false),
            "visionOSRestriction": restriction(false),
            "windowsHomeSkuRestriction": restriction(false),
            "windowsMobileRestriction": restriction(true),
            "windowsRestriction": restriction(false)
        }),
        "deviceEnrollmentWindowsHelloForBusinessConfiguration" => json!({
            "pinMinimumLength": 6,
            "pinMaximumLength": 127,
            "pinUppercaseCharactersUsage": "disallowed",
            "pinLowercaseCharactersUsage": "disallowed",
            "pinSpecialCharactersUsage": "disallowed",
            "state": "notConfigured",
            "securityDeviceRequired": false,
            "unlockWithBiometricsEnabled": true,
            "remotePassportEnabled": true,
            "pinPreviousBlockCount": 0,
            "pinExpirationInDays": 0,
            "enhancedBiometricsState": "notConfigured",
            "securityKeyForSignIn": "notConfigured",
            "enhancedSignInSecurity": 0
        }),
        "windows10EnrollmentCompletionPageConfiguration" => json!({
            "showInstallationProgress": false,
            "blockDeviceSetupRetryByUser": true,
            "allowDeviceResetOnInstallFailure": false,
            "allowLogCollectionOnInstallFailure": false,
            "customErrorMessage": "",
            "installProgressTimeoutInMinutes": 0,
            "allowDeviceUseOnInstallFailure": false,
            "selectedMobileAppIds": [],
            "allowNonBlockingAppInstallation": false,
            "installQualityUpdates": false,
            "trackInstallProgressForAutopilotOnly": false,
            "disableUserStatusTrackingAfterFirstUser": false
        }),
        "windowsRestoreDeviceEnrollmentConfiguration" => json!({ "state": "notConfigured" }),
        _ => json!({}),
    };
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_platform_restrictions_rank_per_platform() {
        let mut p = Map::new();
        p.insert("platformType".into(), json!("ios"));
        assert_eq!(
            ranking_key("deviceEnrollmentPlatformRestrictionConfiguration", &p),
            "singlePlatformRestriction/ios"
        );
        assert_eq!(
            ranking_key("deviceEnrollmentLimitConfiguration", &p),
            "limit"
        );
    }
}
