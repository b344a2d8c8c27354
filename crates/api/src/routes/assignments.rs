//! `GET|POST …/deviceEnrollmentConfigurations/{id}/assignments`,
//! `GET …/assignments/$count`, `GET|PATCH|DELETE …/assignments/{assignmentId}`.

use axum::response::Response;
use http::StatusCode;
use serde_json::{Map, Value};

use super::{count as count_response, json, no_content, with_context};
use crate::dispatch::Ctx;
use crate::error::GraphError;
use crate::shape;
use crate::Fidelity;

/// `GET …/{id}/assignments`: the configuration's assignments.
pub async fn list(ctx: Ctx, configuration_id: String) -> Result<Response, GraphError> {
    ctx.query.allow_only(&[])?;
    let items = ctx
        .state
        .service
        .list_assignments(&ctx.principal.tenant, ctx.version, &configuration_id)
        .await?;
    let value: Vec<Value> = items
        .iter()
        .map(|a| Value::Object(shape::assignment(ctx.model(), a)))
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::String(ctx.context_url(&odata::context::assignments(&configuration_id))),
    );
    body.insert("value".into(), Value::Array(value));
    Ok(json(StatusCode::OK, &Value::Object(body)))
}

/// `GET …/{id}/assignments/$count`.
pub async fn count(ctx: Ctx, configuration_id: String) -> Result<Response, GraphError> {
    ctx.query.allow_only(&[])?;
    let items = ctx
        .state
        .service
        .list_assignments(&ctx.principal.tenant, ctx.version, &configuration_id)
        .await?;
    Ok(count_response(items.len()))
}

/// `POST …/{id}/assignments`: adds one assignment; 201 with it.
pub async fn create(ctx: Ctx, configuration_id: String) -> Result<Response, GraphError> {
    ctx.query.allow_only(&[])?;
    let body = ctx.json()?;
    let a = ctx
        .state
        .service
        .create_assignment(&ctx.principal.tenant, ctx.version, &configuration_id, &body)
        .await?;
    let context = ctx.context_url(&odata::context::assignment(&configuration_id));
    Ok(json(
        StatusCode::CREATED,
        &with_context(context, shape::assignment(ctx.model(), &a)),
    ))
}

/// `GET …/{id}/assignments/{assignmentId}`.
pub async fn get(ctx: Ctx, configuration_id: String, id: String) -> Result<Response, GraphError> {
    ctx.query.allow_only(&[])?;
    let a = ctx
        .state
        .service
        .get_assignment(&ctx.principal.tenant, ctx.version, &configuration_id, &id)
        .await?;
    let context = ctx.context_url(&odata::context::assignment(&configuration_id));
    Ok(json(
        StatusCode::OK,
        &with_context(context, shape::assignment(ctx.model(), &a)),
    ))
}

/// `PATCH …/{id}/assignments/{assignmentId}`: 204, or 200 with the entity under the docs
/// fidelity.
pub async fn update(
    ctx: Ctx,
    configuration_id: String,
    id: String,
) -> Result<Response, GraphError> {
    ctx.query.allow_only(&[])?;
    let body = ctx.json()?;
    let a = ctx
        .state
        .service
        .update_assignment(
            &ctx.principal.tenant,
            ctx.version,
            &configuration_id,
            &id,
            &body,
        )
        .await?;
    match ctx.state.settings.fidelity {
        Fidelity::Service => Ok(no_content()),
        Fidelity::Docs => {
            let context = ctx.context_url(&odata::context::assignment(&configuration_id));
            Ok(json(
                StatusCode::OK,
                &with_context(context, shape::assignment(ctx.model(), &a)),
            ))
        }
    }
}

/// `DELETE …/{id}/assignments/{assignmentId}`: 204.
pub async fn delete(
    ctx: Ctx,
    configuration_id: String,
    id: String,
) -> Result<Response, GraphError> {
    ctx.query.allow_only(&[])?;
    ctx.state
        .service
        .delete_assignment(&ctx.principal.tenant, ctx.version, &configuration_id, &id)
        .await?;
    Ok(no_content())
}
