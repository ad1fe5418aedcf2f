//! `/admin/v1/admins/{admin_id}` (Grant administrators); the list is a row of the catalogue.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::{object, path_id};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::grants::Grant;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin/v1/admins/{admin_id}", get(one))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    admin_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::Administrators)?;
    let world = state.world();
    let admin_id = path_id(admin_id)?;
    let tenant = &world.tenant;
    let index = tenant.admin_by_id(&admin_id).ok_or_else(ApiError::not_found)?;
    Ok(object(tenant.admins.item(index).ok_or_else(ApiError::not_found)?))
}
