//! Realistic data, written through the API: several tenants, configurations of every kind,
//! assignments; and the request bodies the write scenarios send.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::client::{Conn, Prepared};
use crate::Res;

/// Every request carries this `Host`, so that a request is the same bytes whichever server
/// (or node) it goes to, and so are the URLs enrollgraph writes into bodies.
pub const HOST: &str = "localhost";
pub const CONFIGS: &str = "/beta/deviceManagement/deviceEnrollmentConfigurations";

/// A tenant and a token for it.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    pub token: String,
}

fn restriction(blocked: bool) -> Value {
    json!({
        "@odata.type": "microsoft.graph.deviceEnrollmentPlatformRestriction",
        "platformBlocked": blocked,
        "personalDeviceEnrollmentBlocked": !blocked,
        "osMinimumVersion": "10.0",
        "osMaximumVersion": null,
        "blockedManufacturers": ["Contoso"],
        "blockedSkus": []
    })
}

/// The filter and order of the list page (with its `?`).
pub const LIST_QUERY: &str =
    "?$filter=startswith(displayName,'bench')&$orderby=displayName%20desc&$top=100";

/// A create body of every creatable kind, as a client would send it.
pub fn kind_bodies(name: &str) -> Vec<Value> {
    let t = |k: &str| format!("#microsoft.graph.{k}");
    vec![
        json!({"@odata.type": t("deviceEnrollmentLimitConfiguration"), "displayName": name,
               "description": "Device limit for the sales team", "limit": 5}),
        json!({"@odata.type": t("deviceEnrollmentPlatformRestrictionsConfiguration"),
               "displayName": name, "description": "Platform restrictions",
               "roleScopeTagIds": ["0"],
               "iosRestriction": restriction(false), "windowsRestriction": restriction(false),
               "windowsHomeSkuRestriction": restriction(true),
               "windowsMobileRestriction": restriction(true),
               "androidRestriction": restriction(false),
               "androidForWorkRestriction": restriction(false),
               "macRestriction": restriction(false), "macOSRestriction": restriction(false)}),
        json!({"@odata.type": t("deviceEnrollmentPlatformRestrictionConfiguration"),
               "displayName": name, "description": "iOS restriction", "platformType": "ios",
               "platformRestriction": restriction(false)}),
        json!({"@odata.type": t("deviceEnrollmentWindowsHelloForBusinessConfiguration"),
               "displayName": name, "description": "Hello for Business", "pinMinimumLength": 6,
               "pinMaximumLength": 64, "pinUppercaseCharactersUsage": "allowed",
               "pinLowercaseCharactersUsage": "allowed", "pinSpecialCharactersUsage": "allowed",
               "state": "enabled", "securityDeviceRequired": true,
               "unlockWithBiometricsEnabled": true, "remotePassportEnabled": false,
               "pinPreviousBlockCount": 5, "pinExpirationInDays": 90,
               "enhancedBiometricsState": "enabled", "securityKeyForSignIn": "enabled"}),
        json!({"@odata.type": t("windows10EnrollmentCompletionPageConfiguration"),
               "displayName": name, "description": "Enrollment status page",
               "showInstallationProgress": true, "blockDeviceSetupRetryByUser": false,
               "allowDeviceResetOnInstallFailure": true,
               "allowLogCollectionOnInstallFailure": true,
               "customErrorMessage": "Contact IT", "installProgressTimeoutInMinutes": 60,
               "allowDeviceUseOnInstallFailure": false, "selectedMobileAppIds": [],
               "trackInstallProgressForAutopilotOnly": true}),
        json!({"@odata.type": t("deviceComanagementAuthorityConfiguration"),
               "displayName": name, "description": "Co-management",
               "managedDeviceAuthority": 1, "installConfigurationManagerAgent": true,
               "configurationManagerAgentCommandLineArgument": "/mp:contoso"}),
        json!({"@odata.type": t("deviceEnrollmentNotificationConfiguration"),
               "displayName": name, "description": "Welcome mail", "platformType": "ios",
               "templateType": "email",
               "notificationMessageTemplateId": "eba3ed57-ed57-eba3-57ed-a3eb57eda3eb",
               "notificationTemplates": [], "brandingOptions": "includeCompanyLogo",
               "defaultLocale": "en-US"}),
        json!({"@odata.type": t("windowsRestoreDeviceEnrollmentConfiguration"),
               "displayName": name, "description": "Restore", "state": "enabled"}),
    ]
}

/// One assignment body.
pub fn assignment_body(group: usize) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment",
        "target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget",
                   "groupId": format!("00000000-0000-4000-8000-{group:012}")}
    })
}

/// An `assign` body with `n` group targets.
pub fn assign_body(n: usize, salt: usize) -> Value {
    let items: Vec<Value> = (0..n).map(|i| assignment_body(salt * 100 + i)).collect();
    json!({ "enrollmentConfigurationAssignments": items })
}

/// A prepared request.
pub fn request(method: &str, target: &str, token: &str, body: Option<&Value>) -> Prepared {
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
    Prepared::new(method, target, HOST, token, bytes.as_deref())
}

/// A small pool of connections for seeding in parallel (so that group commit helps).
pub struct Seeder {
    conns: Vec<Arc<tokio::sync::Mutex<Conn>>>,
}

impl Seeder {
    pub async fn new(addr: SocketAddr, n: usize) -> Res<Seeder> {
        let mut conns = Vec::new();
        for _ in 0..n.max(1) {
            conns.push(Arc::new(tokio::sync::Mutex::new(
                Conn::connect(addr).await?,
            )));
        }
        Ok(Seeder { conns })
    }

    /// Sends every request (in parallel over the pool); each must get `expect`. Returns the
    /// response bodies as JSON (`Null` for empty ones), in order.
    pub async fn all(&self, reqs: Vec<Prepared>, expect: u16) -> Res<Vec<Value>> {
        let reqs = Arc::new(reqs);
        let next = Arc::new(Mutex::new(0usize));
        let out = Arc::new(Mutex::new(vec![Value::Null; reqs.len()]));
        let mut tasks = Vec::new();
        for c in &self.conns {
            let (c, reqs, next, out) = (c.clone(), reqs.clone(), next.clone(), out.clone());
            tasks.push(tokio::spawn(async move {
                let mut conn = c.lock().await;
                loop {
                    let i = {
                        let mut n = next.lock().map_err(|_| "poisoned")?;
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(req) = reqs.get(i) else {
                        return Ok::<(), Box<dyn std::error::Error + Send + Sync>>(());
                    };
                    let res = conn.send(req, true).await.map_err(|e| e.to_string())?;
                    if res.status != expect {
                        return Err(format!(
                            "seeding: status {} (expected {expect}): {}",
                            res.status,
                            res.text()
                        )
                        .into());
                    }
                    let v = if res.body.is_empty() {
                        Value::Null
                    } else {
                        res.json().map_err(|e| e.to_string())?
                    };
                    if let Ok(mut o) = out.lock() {
                        o[i] = v;
                    }
                }
            }));
        }
        for t in tasks {
            t.await?.map_err(|e| e.to_string())?;
        }
        let v = out.lock().map_err(|_| "poisoned")?.clone();
        Ok(v)
    }

    /// One request, whole response.
    pub async fn one(&self, req: &Prepared) -> Res<crate::client::Response> {
        let mut c = self.conns[0].lock().await;
        c.send(req, true).await
    }
}

/// The id field of a created item.
pub fn id_of(v: &Value) -> Res<String> {
    v.get("id")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no id in {v}").into())
}

/// Creates `per_kind` configurations of every kind in `tenant` (named `prefix-NNNN`) and
/// `assignments` assignments on each; returns the ids created.
pub async fn configurations(
    s: &Seeder,
    tenant: &Tenant,
    prefix: &str,
    per_kind: usize,
    assignments: usize,
) -> Res<Vec<String>> {
    let mut reqs = Vec::new();
    for i in 0..per_kind {
        for body in kind_bodies(&format!("{prefix}-{i:04}")) {
            reqs.push(request("POST", CONFIGS, &tenant.token, Some(&body)));
        }
    }
    let created = s.all(reqs, 201).await?;
    let ids: Vec<String> = created.iter().map(id_of).collect::<Res<_>>()?;
    let mut reqs = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        for a in 0..assignments {
            reqs.push(request(
                "POST",
                &format!("{CONFIGS}/{id}/assignments"),
                &tenant.token,
                Some(&assignment_body(n * 10 + a)),
            ));
        }
    }
    s.all(reqs, 201).await?;
    Ok(ids)
}

/// Every configuration id of a tenant (defaults included), through the API.
pub async fn list_ids(s: &Seeder, tenant: &Tenant) -> Res<Vec<String>> {
    let res = s.one(&request("GET", CONFIGS, &tenant.token, None)).await?;
    if res.status != 200 {
        return Err(format!("list: {} {}", res.status, res.text()).into());
    }
    let v = res.json()?;
    Ok(v.get("value")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|i| id_of(i).ok()).collect())
        .unwrap_or_default())
}
