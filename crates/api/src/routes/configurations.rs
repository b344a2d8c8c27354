//! `GET|POST /deviceManagement/deviceEnrollmentConfigurations`,
//! `GET /deviceManagement/deviceEnrollmentConfigurations/$count`,
//! `GET|PATCH|DELETE /deviceManagement/deviceEnrollmentConfigurations/{id}`:
//! the polymorphic collection of configurations (optionally through a type-cast segment).

use axum::response::Response;
use domain::service::WithAssignments;
use domain::{NameMatch, Seek, SeekAfter, SeekOrder};
use http::StatusCode;
use odata::query::ast::Direction;
use odata::query::capabilities as caps;
use odata::query::eval::SortVal;
use odata::query::{NameFilter, Options};
use serde_json::{Map, Value};

use super::{count as count_response, json, no_content, with_context};
use crate::dispatch::Ctx;
use crate::error::{Code, GraphError};
use crate::query;
use crate::shape;
use crate::Fidelity;

fn matches_cast(ctx: &Ctx, odata_type: &str, cast: Option<&str>) -> bool {
    cast.is_none_or(|c| ctx.model().is_assignable(odata_type, c))
}

fn entity(ctx: &Ctx, (c, assignments): WithAssignments) -> Option<Map<String, Value>> {
    let mut out = shape::configuration_owned(ctx.model(), c)?;
    if let Some(list) = assignments {
        let items = list
            .iter()
            .map(|a| Value::Object(shape::assignment(ctx.model(), a)))
            .collect();
        out.insert("assignments".into(), Value::Array(items));
    }
    Some(out)
}

/// `GET …/deviceEnrollmentConfigurations`: the tenant's configurations, each with its own
/// `@odata.type`, one page at a time, with every query option of
/// [`odata::query::capabilities::CONFIGURATIONS`].
pub async fn list(ctx: Ctx, cast: Option<String>) -> Result<Response, GraphError> {
    let slot = match ctx.state.responses.lookup(&ctx) {
        Ok(kept) => return Ok(kept),
        Err(slot) => slot,
    };
    let root = cast.as_deref().unwrap_or(odata::path::CONFIGURATION);
    let options = ctx.options(&caps::CONFIGURATIONS, root)?;
    let expand = options.expands("assignments");
    let paging = query::paging(&ctx, &options)?;
    let service = &ctx.state.service;
    let tenant = &ctx.principal.tenant;
    let items = match seek(&ctx, root, &options, &paging) {
        // The page's window, read in index order.
        Some(seek) => service.seek_configurations(tenant, seek, expand).await?,
        None => service
            .list_configurations(tenant, ctx.version, expand)
            .await?
            .into_iter()
            .filter(|(c, _)| matches_cast(&ctx, &c.odata_type, cast.as_deref()))
            .collect(),
    };
    let value: Vec<Value> = items
        .into_iter()
        .filter_map(|item| entity(&ctx, item).map(Value::Object))
        .collect();
    let fragment = odata::context::configurations_selected(
        cast.as_deref(),
        options.context_selection().as_deref(),
    );
    let res = query::page_response(&ctx, &options, &paging, value, &fragment)?;
    Ok(ctx.state.responses.keep(slot, res).await)
}

/// The store read that gives exactly the items a page needs, when the query has a shape an
/// index answers ([`odata::query::SeekPlan`]): the types of `root` in this version, the name
/// condition, the order, from the skiptoken's position, the page's window.
fn seek(ctx: &Ctx, root: &str, options: &Options, paging: &query::Paging) -> Option<Seek> {
    let plan = options.seek_plan()?;
    let order = match plan.order {
        None => SeekOrder::Id,
        Some(Direction::Asc) => SeekOrder::NameAsc,
        Some(Direction::Desc) => SeekOrder::NameDesc,
    };
    let after = match paging.cursor() {
        None => None,
        Some(c) => Some(SeekAfter {
            name: match (order, c.keys.as_slice()) {
                (SeekOrder::Id, []) => None,
                (SeekOrder::NameAsc | SeekOrder::NameDesc, [SortVal::Null]) => None,
                (SeekOrder::NameAsc | SeekOrder::NameDesc, [SortVal::Str(s)]) => Some(s.clone()),
                _ => return None,
            },
            id: c.id.clone(),
        }),
    };
    let types = ctx.model().structured(root)?.self_and_derived.clone();
    Some(Seek {
        types: Some(types),
        name: match plan.name {
            NameFilter::Any => NameMatch::Any,
            NameFilter::Eq(n) => NameMatch::Eq(n),
            NameFilter::Prefix(p) => NameMatch::Prefix(p),
        },
        order,
        after,
        limit: paging.window(options),
    })
}

/// `GET …/deviceEnrollmentConfigurations/$count`: the number of configurations that match
/// `$filter` and `$search`, as text.
pub async fn count(ctx: Ctx, cast: Option<String>) -> Result<Response, GraphError> {
    let root = cast.as_deref().unwrap_or(odata::path::CONFIGURATION);
    let options = ctx.options(&caps::CONFIGURATIONS_COUNT, root)?;
    let items = ctx
        .state
        .service
        .list_configurations(&ctx.principal.tenant, ctx.version, false)
        .await?;
    let value: Vec<Value> = items
        .into_iter()
        .filter(|(c, _)| matches_cast(&ctx, &c.odata_type, cast.as_deref()))
        .filter_map(|item| entity(&ctx, item).map(Value::Object))
        .collect();
    Ok(count_response(query::count_matching(&options, &value)))
}

/// `POST …/deviceEnrollmentConfigurations`: creates a configuration of the kind its
/// `@odata.type` names; 201 with the created entity.
pub async fn create(ctx: Ctx, cast: Option<String>) -> Result<Response, GraphError> {
    ctx.query.allow_only(&[])?;
    let mut body = ctx.json()?;
    if let (Some(c), Some(obj)) = (cast.as_deref(), body.as_object_mut()) {
        // A cast segment names the type when the body does not, and a type the body names
        // must fit the cast.
        let named = obj
            .entry("@odata.type")
            .or_insert_with(|| Value::String(format!("#microsoft.graph.{c}")));
        if let Some(t) = named.as_str().and_then(|t| ctx.model().structured(t)) {
            if !ctx.model().is_assignable(&t.name, c) {
                return Err(GraphError::bad_request(format!(
                    "The type 'microsoft.graph.{}' given in '@odata.type' is not compatible with the type 'microsoft.graph.{c}' of the cast segment.",
                    t.name
                )));
            }
        }
    }
    let created = ctx
        .state
        .service
        .create_configuration(&ctx.principal.tenant, ctx.version, &body)
        .await?;
    let location = format!(
        "{}/{}/deviceManagement/deviceEnrollmentConfigurations('{}')",
        ctx.base,
        ctx.version.segment(),
        created.id
    );
    let entity = shape::configuration_owned(ctx.model(), created)
        .ok_or_else(|| GraphError::new(Code::InternalError, "The created item cannot be shown."))?;
    let mut res = json(
        StatusCode::CREATED,
        &with_context(
            ctx.context_url(&odata::context::configuration(None, false)),
            entity,
        ),
    );
    if let Ok(v) = http::HeaderValue::from_str(&location) {
        res.headers_mut().insert(http::header::LOCATION, v);
    }
    Ok(res)
}

async fn fetch(
    ctx: &Ctx,
    id: &str,
    cast: Option<&str>,
    expand: bool,
) -> Result<WithAssignments, GraphError> {
    let item = ctx
        .state
        .service
        .get_configuration(&ctx.principal.tenant, ctx.version, id, expand)
        .await?;
    if !matches_cast(ctx, &item.0.odata_type, cast) {
        return Err(GraphError::new(
            Code::ResourceNotFound,
            format!("A deviceEnrollmentConfiguration with id '{id}' of the requested type was not found."),
        ));
    }
    Ok(item)
}

/// `GET …/deviceEnrollmentConfigurations/{id}`: one configuration, with `$select` and
/// `$expand=assignments(…)`.
pub async fn get(ctx: Ctx, id: String, cast: Option<String>) -> Result<Response, GraphError> {
    let slot = match ctx.state.responses.lookup(&ctx) {
        Ok(kept) => return Ok(kept),
        Err(slot) => slot,
    };
    let root = cast.as_deref().unwrap_or(odata::path::CONFIGURATION);
    let options = ctx.options(&caps::CONFIGURATION, root)?;
    let item = fetch(&ctx, &id, cast.as_deref(), options.expands("assignments")).await?;
    let entity =
        entity(&ctx, item).ok_or_else(|| GraphError::new(Code::ResourceNotFound, "Not found."))?;
    let fragment = odata::context::configuration_selected(
        cast.as_deref(),
        options.context_selection().as_deref(),
    );
    let projected = if options.projects_nothing() {
        entity
    } else {
        match options.project(&Value::Object(entity)) {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    };
    let res = json(
        StatusCode::OK,
        &with_context(ctx.context_url(&fragment), projected),
    );
    Ok(ctx.state.responses.keep(slot, res).await)
}

/// `PATCH …/deviceEnrollmentConfigurations/{id}`: changes the given settings; 204 (the real
/// service), or 200 with the entity under the docs fidelity.
pub async fn update(ctx: Ctx, id: String, cast: Option<String>) -> Result<Response, GraphError> {
    ctx.query.allow_only(&[])?;
    let body = ctx.json()?;
    fetch(&ctx, &id, cast.as_deref(), false).await?;
    let updated = ctx
        .state
        .service
        .update_configuration(&ctx.principal.tenant, ctx.version, &id, &body)
        .await?;
    match ctx.state.settings.fidelity {
        Fidelity::Service => Ok(no_content()),
        Fidelity::Docs => {
            let entity = shape::configuration(ctx.model(), &updated)
                .ok_or_else(|| GraphError::new(Code::InternalError, "The item cannot be shown."))?;
            Ok(json(
                StatusCode::OK,
                &with_context(
                    ctx.context_url(&odata::context::configuration(None, false)),
                    entity,
                ),
            ))
        }
    }
}

/// `DELETE …/deviceEnrollmentConfigurations/{id}`: deletes it and its assignments; 204.
pub async fn delete(ctx: Ctx, id: String, cast: Option<String>) -> Result<Response, GraphError> {
    ctx.query.allow_only(&[])?;
    fetch(&ctx, &id, cast.as_deref(), false).await?;
    ctx.state
        .service
        .delete_configuration(&ctx.principal.tenant, ctx.version, &id)
        .await?;
    Ok(no_content())
}
