//! `/admin/v1/users/{user_id}` (Grant read resource) and the users' writes; the lists are rows
//! of the catalogue, served by `lists`.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::{object, path_id, writes};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::grants::Grant;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/users", post(writes::create_user))
        .route(
            "/admin/v1/users/{user_id}",
            get(one).post(writes::modify_user).delete(writes::delete_user),
        )
        .route("/admin/v1/users/{user_id}/groups", post(writes::add_user_group))
        .route(
            "/admin/v1/users/{user_id}/groups/{group_id}",
            axum::routing::delete(writes::remove_user_group),
        )
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
