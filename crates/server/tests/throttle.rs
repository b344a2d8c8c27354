//! `--throttle`: Intune's published limits, 429 with Retry-After.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn writes_over_the_tenant_limit_get_429_with_retry_after() {
    let dir = tempfile::Builder::new().prefix("egq").tempdir().unwrap();
    let mut settings = settings_for(dir.path());
    settings.throttle = true;
    let app = TestApp::spawn_with(dir, settings).await;
    let missing = format!("{CONFIGS}/missing_Limit");
    let t = domain::TenantId::parse(TENANT).unwrap();
    let app_token = |client: &str| {
        app.state
            .keys
            .mint(&auth::app_claims(&t, client, &[WRITE.to_string()], 600))
            .unwrap()
    };
    // 100 writes per application...
    for i in 0..100 {
        let r = app.delete(&missing).await;
        assert_eq!(r.status.as_u16(), 404, "write {i}: {}", r.text);
    }
    let r = app.delete(&missing).await;
    r.assert_error(429, "TooManyRequests");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    // ...and 200 per tenant: a second application gets the other 100, a third none.
    let second = app_token("11111111-0000-4000-8000-000000000001");
    for i in 0..100 {
        let r = app.call_as(&second, "DELETE", &missing, None).await;
        assert_eq!(r.status.as_u16(), 404, "second app, write {i}: {}", r.text);
    }
    let third = app_token("11111111-0000-4000-8000-000000000002");
    app.call_as(&third, "DELETE", &missing, None)
        .await
        .assert_error(429, "TooManyRequests");
    // Reads have their own, larger limit; another tenant is counted apart.
    assert_eq!(app.get(CONFIGS).await.status.as_u16(), 200);
    let other = app.token_with(OTHER_TENANT, &[WRITE], &[]);
    assert_eq!(
        app.call_as(&other, "DELETE", &missing, None)
            .await
            .status
            .as_u16(),
        404
    );
    // Inside $batch each request is throttled on its own.
    let r = app
        .post("/beta/$batch", json!({"requests": [{"id": "1", "method": "DELETE", "url": "/deviceManagement/deviceEnrollmentConfigurations/missing_Limit"}]}))
        .await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(r.json()["responses"][0]["status"], 429);
}

#[tokio::test]
async fn without_the_option_nothing_is_throttled() {
    let app = TestApp::spawn().await;
    let missing = format!("{CONFIGS}/missing_Limit");
    for _ in 0..220 {
        assert_eq!(app.delete(&missing).await.status.as_u16(), 404);
    }
}
