//! Duo Passport's configuration, a user's identity verification status and a verification
//! push's response: the read halves of features the fake does not run (no IdV process is started
//! and no verification push sent through it). Paths and parameters are the Python client's
//! (5.7.0); grants and objects are unconfirmed choices recorded in docs/fidelity.md.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

use super::{object, path_id};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::grants::Grant;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v2/passport/config", get(passport_config))
        .route(
            "/admin/v2/identity_verification/{user_id}/status",
            get(idv_status),
        )
        .route(
            "/admin/v1/users/{user_id}/verification_push_response",
            get(verification_push_response),
        )
}

/// `[options] passport`, with no group lists (the scenario names no groups for it).
async fn passport_config(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Grant::Settings)?;
    let status = state.world().options().passport.as_str();
    let answer = json!({"disabled_groups": [], "enabled_groups": [], "enabled_status": status});
    Ok(object(Bytes::from(answer.to_string())))
}

/// The id of the user the path names, read with Grant read resource; 404 for no such user.
fn known_user(
    state: &AppState,
    caller: &Caller,
    user_id: Result<Path<String>, PathRejection>,
) -> Result<String, ApiError> {
    caller.require(Grant::ReadResource)?;
    let user_id = path_id(user_id)?;
    state
        .world()
        .tenant
        .user_by_id(&user_id)
        .ok_or_else(ApiError::not_found)?;
    Ok(user_id)
}

/// A known user's status: none started (the fake starts no IdV process); an unknown user 404.
async fn idv_status(
    State(state): State<AppState>,
    caller: Caller,
    user_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let user_id = known_user(&state, &caller, user_id)?;
    let answer = json!({"inquiry_id": null, "status": "not_started", "user_id": user_id});
    Ok(object(Bytes::from(answer.to_string())))
}

/// No push was sent through the fake, so every `push_id` is unknown: 404 for a known user, as
/// for an unknown one; without `push_id`, 400 40002 naming it.
async fn verification_push_response(
    State(state): State<AppState>,
    caller: Caller,
    user_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    known_user(&state, &caller, user_id)?;
    if caller.params.first("push_id").is_none_or(<[u8]>::is_empty) {
        return Err(ApiError::invalid_parameter("push_id"));
    }
    Err(ApiError::not_found())
}
