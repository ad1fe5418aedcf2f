//! The account's own answers: its logo (Grant settings) and billing (edition, telephony credits;
//! answered only when the scenario enables the billing API, as Duo does on request).

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use bytes::Bytes;
use serde_json::json;

use super::object;
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::grants::Grant;
use crate::scenario::Scenario;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/logo", get(logo))
        .route("/admin/v1/billing/edition", get(edition))
        .route("/admin/v1/billing/telephony_credits", get(telephony_credits))
}

/// The rendered answers of the two billing routes: edition, then credits.
pub(crate) fn build_billing(scenario: &Scenario) -> (Bytes, Bytes) {
    let edition = json!({ "edition": scenario.tenant.edition.get_ref() });
    let credits = json!({ "credits": scenario.tenant.telephony_credits_remaining });
    (
        Bytes::from(serde_json::to_vec(&edition).unwrap_or_default()),
        Bytes::from(serde_json::to_vec(&credits).unwrap_or_default()),
    )
}

/// The logo's PNG bytes as `image/png`; without a logo, Duo's 404.
async fn logo(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Grant::Settings)?;
    let world = state.world();
    let png = world
        .tenant
        .account
        .logo
        .clone()
        .ok_or_else(ApiError::not_found)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// Billing answers need the billing API enabled, then Grant read information.
fn billing(
    state: &AppState,
    caller: &Caller,
    answer: impl FnOnce(&crate::store::Account) -> Bytes,
) -> Result<Response, ApiError> {
    let world = state.world();
    if !world.scenario.tenant.billing_api {
        return Err(ApiError::forbidden());
    }
    caller.require(Grant::ReadInformation)?;
    Ok(object(answer(&world.tenant.account)))
}

async fn edition(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    billing(&state, &caller, |account| account.edition.clone())
}

async fn telephony_credits(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    billing(&state, &caller, |account| account.telephony_credits.clone())
}
