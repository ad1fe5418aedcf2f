//! `/admin/v1/info/summary` (Grant read information), `/admin/v1/settings` (Grant settings) and
//! the unsigned `/auth/v2/ping`.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;

use super::object;
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::grants::Grant;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/info/summary", get(summary))
        .route("/admin/v1/settings", get(settings))
}

async fn summary(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Grant::ReadInformation)?;
    let world = state.world();
    Ok(object(world.tenant.summary.clone()))
}

async fn settings(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Grant::Settings)?;
    let world = state.world();
    Ok(object(world.tenant.settings.clone()))
}

/// Duo's connectivity check: unsigned, answers the server's time.
pub(super) async fn ping(State(state): State<AppState>) -> Response {
    object(Bytes::from(format!("{{\"time\":{}}}", state.now())))
}
