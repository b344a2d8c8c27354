//! Bound actions.
//! - `POST …/{id}/assign`: replaces the assignments; 204.
//! - `POST …/{id}/setPriority`: moves the item within its ranking; 204.
//! - `POST …/createEnrollmentNotificationConfiguration` (beta): creates notification
//!   configurations; 204.
//! - `POST …/hasPayloadLinks` (beta): policy-set links of payloads; 200 with `value`.

use axum::response::Response;
use http::StatusCode;
use serde_json::{Map, Value};

use super::{json, no_content};
use crate::dispatch::Ctx;
use crate::error::GraphError;

/// An action bound to one configuration.
pub async fn entity(ctx: Ctx, id: String, operation: &str) -> Result<Response, GraphError> {
    ctx.query.allow_only(&[])?;
    let body = ctx.json()?;
    let service = &ctx.state.service;
    let tenant = &ctx.principal.tenant;
    match operation {
        "assign" => service.assign(tenant, ctx.version, &id, &body).await?,
        "setPriority" => {
            service
                .set_priority(tenant, ctx.version, &id, &body)
                .await?
        }
        other => return Err(GraphError::segment(other)),
    }
    Ok(no_content())
}

/// An action bound to the collection.
pub async fn collection(ctx: Ctx, operation: &str) -> Result<Response, GraphError> {
    ctx.query.allow_only(&[])?;
    let body = ctx.json()?;
    let service = &ctx.state.service;
    match operation {
        "createEnrollmentNotificationConfiguration" => {
            service
                .create_notification_configurations(&ctx.principal.tenant, ctx.version, &body)
                .await?;
            Ok(no_content())
        }
        "hasPayloadLinks" => {
            let items = service.has_payload_links(ctx.version, &body)?;
            let mut out = Map::new();
            out.insert(
                "@odata.context".into(),
                Value::String(
                    ctx.context_url("Collection(microsoft.graph.hasPayloadLinkResultItem)"),
                ),
            );
            out.insert("value".into(), Value::Array(items));
            Ok(json(StatusCode::OK, &Value::Object(out)))
        }
        other => Err(GraphError::segment(other)),
    }
}
