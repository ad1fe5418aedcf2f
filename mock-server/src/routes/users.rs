//! `/admin/v1/users`, `/admin/v1/users/{user_id}` and `/admin/v1/users/{user_id}/groups`
//! (Grant read resource).

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::{object, page_of, page_of_selection, path_id, writes};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::grants::Grant;
use crate::paging::PageRequest;
use crate::state::AppState;

/// Most values Duo takes in `user_id_list` / `username_list`.
const MAX_LIST_VALUES: usize = 100;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/users", get(list).post(writes::create_user))
        .route(
            "/admin/v1/users/{user_id}",
            get(one).post(writes::modify_user).delete(writes::delete_user),
        )
        .route(
            "/admin/v1/users/{user_id}/groups",
            get(groups).post(writes::add_user_group),
        )
        .route(
            "/admin/v1/users/{user_id}/groups/{group_id}",
            axum::routing::delete(writes::remove_user_group),
        )
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    let options = world.options();
    let tenant = &world.tenant;
    let params = &caller.params;
    let page = PageRequest::from_params(params, options.max_limit.users as usize, options.zero_limit)?;

    let id_list = params.has("user_id_list");
    let name_list = params.has("username_list");
    if id_list || name_list {
        // Lists replace the other filters and paging (Duo's docs: mutually exclusive).
        for (present, name) in [
            (id_list && name_list, "username_list"),
            (params.has("username"), "username"),
            (params.has("email"), "email"),
        ] {
            if present {
                return Err(ApiError::invalid_parameter(name));
            }
        }
        let key = if id_list { "user_id_list" } else { "username_list" };
        let values = params.list(key).ok_or_else(|| ApiError::invalid_parameter(key))?;
        if values.len() > MAX_LIST_VALUES {
            return Err(ApiError::invalid_parameter(key));
        }
        let find = |v: &String| {
            if id_list {
                tenant.user_by_id(v)
            } else {
                tenant.user_by_name(v)
            }
        };
        let mut found: Vec<u32> = values
            .iter()
            .filter_map(find)
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        found.sort_unstable();
        found.dedup();
        let whole = PageRequest {
            offset: 0,
            limit: found.len().max(1),
        };
        return Ok(page_of_selection(&tenant.users, &found, whole, options.metadata));
    }

    let by_name = params.first("username").map(|v| {
        std::str::from_utf8(v)
            .ok()
            .and_then(|name| tenant.user_by_name(name).and_then(|i| u32::try_from(i).ok()))
    });
    let by_email = params.first("email").map(|v| {
        std::str::from_utf8(v)
            .ok()
            .and_then(|email| tenant.user_by_email(email).and_then(|i| u32::try_from(i).ok()))
    });
    let selected: Option<Vec<u32>> = match (by_name, by_email) {
        (None, None) => None,
        (Some(a), None) | (None, Some(a)) => Some(a.into_iter().collect()),
        (Some(a), Some(b)) => Some(a.filter(|x| Some(*x) == b).into_iter().collect()),
    };
    Ok(match selected {
        Some(found) => page_of_selection(&tenant.users, &found, page, options.metadata),
        None => page_of(&tenant.users, page, options.metadata),
    })
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    user_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    let user_id = path_id(user_id)?;
    let tenant = &world.tenant;
    let index = tenant.user_by_id(&user_id).ok_or_else(ApiError::not_found)?;
    let user = tenant.users.item(index).ok_or_else(ApiError::not_found)?;
    Ok(object(user))
}

async fn groups(
    State(state): State<AppState>,
    caller: Caller,
    user_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    let user_id = path_id(user_id)?;
    let options = world.options();
    let tenant = &world.tenant;
    let index = tenant.user_by_id(&user_id).ok_or_else(ApiError::not_found)?;
    let page = PageRequest::from_params(
        &caller.params,
        options.max_limit.user_groups as usize,
        options.zero_limit,
    )?;
    let groups = tenant.groups_of(index).ok_or_else(ApiError::not_found)?;
    Ok(page_of_selection(&tenant.groups, groups, page, options.metadata))
}
