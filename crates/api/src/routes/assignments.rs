//! `GET|POST …/deviceEnrollmentConfigurations/{id}/assignments`,
//! `GET …/assignments/$count`, `GET|PATCH|DELETE …/assignments/{assignmentId}`.

use axum::response::Response;
use http::StatusCode;
use odata::query::capabilities as caps;
use serde_json::{Map, Value};

use super::{count as count_response, json, no_content, with_context};
use crate::dispatch::Ctx;
use crate::error::GraphError;
use crate::query;
use crate::shape;
use crate::Fidelity;

/// `GET …/{id}/assignments`: the configuration's assignments, one page at a time, with every
/// query option of [`odata::query::capabilities::ASSIGNMENTS`].
pub async fn list(ctx: Ctx, configuration_id: String) -> Result<Response, GraphError> {
    let options = ctx.options(&caps::ASSIGNMENTS, domain::service::ASSIGNMENT)?;
    let items = ctx
        .state
        .service
        .list_assignments(&ctx.principal.tenant, ctx.version, &configuration_id)
        .await?;
    let value: Vec<Value> = items
        .iter()
        .map(|a| Value::Object(shape::assignment(ctx.model(), a)))
        .collect();
    let fragment = odata::context::assignments_selected(
        &configuration_id,
        options.context_selection().as_deref(),
    );
    query::list_response(&ctx, &options, value, &fragment)
}

/// `GET …/{id}/assignments/$count`: the number of assignments that match `$filter`, as text.
pub async fn count(ctx: Ctx, configuration_id: String) -> Result<Response, GraphError> {
    let options = ctx.options(&caps::ASSIGNMENTS_COUNT, domain::service::ASSIGNMENT)?;
    let items = ctx
        .state
        .service
        .list_assignments(&ctx.principal.tenant, ctx.version, &configuration_id)
        .await?;
    let value: Vec<Value> = items
        .iter()
        .map(|a| Value::Object(shape::assignment(ctx.model(), a)))
        .collect();
    Ok(count_response(query::count_matching(&options, &value)))
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
    let mut res = json(
        StatusCode::CREATED,
        &with_context(context, shape::assignment(ctx.model(), &a)),
    );
    let location = format!(
        "{}/{}/deviceManagement/deviceEnrollmentConfigurations({})/assignments({})",
        ctx.base,
        ctx.version.segment(),
        odata::context::quote_key(&a.configuration_id),
        odata::context::quote_key(&a.id)
    );
    if let Ok(v) = http::HeaderValue::from_str(&location) {
        res.headers_mut().insert(http::header::LOCATION, v);
    }
    Ok(res)
}

/// `GET …/{id}/assignments/{assignmentId}`, with `$select`.
pub async fn get(ctx: Ctx, configuration_id: String, id: String) -> Result<Response, GraphError> {
    let options = ctx.options(&caps::ASSIGNMENT, domain::service::ASSIGNMENT)?;
    let a = ctx
        .state
        .service
        .get_assignment(&ctx.principal.tenant, ctx.version, &configuration_id, &id)
        .await?;
    let fragment = odata::context::assignment_selected(
        &configuration_id,
        options.context_selection().as_deref(),
    );
    let projected = match options.project(&Value::Object(shape::assignment(ctx.model(), &a))) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Ok(json(
        StatusCode::OK,
        &with_context(ctx.context_url(&fragment), projected),
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
