//! `/admin/v1/groups`, `/admin/v2/groups/{group_id}` and `/admin/v2/groups/{group_id}/users`
//! (Grant read resource).

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::{object, page_of, path_id, writes};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::grants::Grant;
use crate::paging::PageRequest;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/groups", get(list).post(writes::create_group))
        .route(
            "/admin/v1/groups/{group_id}",
            axum::routing::delete(writes::delete_group),
        )
        .route("/admin/v2/groups/{group_id}", get(one))
        .route("/admin/v2/groups/{group_id}/users", get(members))
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    let options = world.options();
    let page = PageRequest::from_params(
        &caller.params,
        options.max_limit.groups as usize,
        options.zero_limit,
    )?;
    Ok(page_of(&world.tenant.groups, page, options.metadata))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    group_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    let group_id = path_id(group_id)?;
    let tenant = &world.tenant;
    let index = tenant.group_by_id(&group_id).ok_or_else(ApiError::not_found)?;
    Ok(object(tenant.groups.item(index).ok_or_else(ApiError::not_found)?))
}

async fn members(
    State(state): State<AppState>,
    caller: Caller,
    group_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    let group_id = path_id(group_id)?;
    let options = world.options();
    let tenant = &world.tenant;
    let index = tenant.group_by_id(&group_id).ok_or_else(ApiError::not_found)?;
    let page = PageRequest::from_params(
        &caller.params,
        options.max_limit.group_users as usize,
        options.zero_limit,
    )?;
    let members = tenant.group_members.get(index).ok_or_else(ApiError::not_found)?;
    Ok(page_of(members, page, options.metadata))
}
