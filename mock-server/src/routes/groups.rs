//! `/admin/v1/groups/{group_id}` (v1, deprecated by Duo) and `/admin/v2/groups/{group_id}`
//! (Grant read resource), and the groups' writes; the lists are rows of the catalogue.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::Value;

use super::{object, path_id, writes};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::grants::Grant;
use crate::state::{AppState, World};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/groups", post(writes::create_group))
        .route(
            "/admin/v1/groups/{group_id}",
            get(one_v1).delete(writes::delete_group),
        )
        .route("/admin/v2/groups/{group_id}", get(one))
}

/// The index of the group the path names, or Duo's 404.
fn group_index(world: &World, group_id: Result<Path<String>, PathRejection>) -> Result<usize, ApiError> {
    let group_id = path_id(group_id)?;
    world
        .tenant
        .group_by_id(&group_id)
        .ok_or_else(ApiError::not_found)
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    group_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    let index = group_index(&world, group_id)?;
    Ok(object(
        world.tenant.groups.item(index).ok_or_else(ApiError::not_found)?,
    ))
}

/// The v1 group info Duo's Python client still asks for by default (`get_group(id)`): the group
/// object, and with the scenario's `group_v1_users` (default) every member as the v2 members list
/// shows them, unpaged, in `users` (keys stay alphabetical). Not a hot path: built per request.
async fn one_v1(
    State(state): State<AppState>,
    caller: Caller,
    group_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    let index = group_index(&world, group_id)?;
    let tenant = &world.tenant;
    let group = tenant.groups.item(index).ok_or_else(ApiError::not_found)?;
    if !world.options().group_v1_users {
        return Ok(object(group));
    }
    let internal = || ApiError::custom(50000, "Internal server error");
    let Ok(Value::Object(mut fields)) = serde_json::from_slice::<Value>(&group) else {
        return Err(internal());
    };
    let members = tenant.group_members.get(index).ok_or_else(ApiError::not_found)?;
    let users = (0..members.len())
        .filter_map(|i| members.item(i))
        .map(|member| serde_json::from_slice::<Value>(&member).map_err(|_| internal()))
        .collect::<Result<Vec<_>, _>>()?;
    fields.insert("users".to_owned(), Value::Array(users));
    let json = serde_json::to_vec(&fields).map_err(|_| internal())?;
    Ok(object(Bytes::from(json)))
}
