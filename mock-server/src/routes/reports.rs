//! The info reports counted from the logs (Grant read information):
//! `/admin/v1/info/authentication_attempts`, `user_authentication_attempts` and
//! `telephony_credits_used`.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::body::json_body;
use crate::grants::Grant;
use crate::logs::reports::Report;
use crate::state::AppState;

/// Each report's path.
const REPORTS: [(&str, Report); 3] = [
    (
        "/admin/v1/info/authentication_attempts",
        Report::AuthenticationAttempts,
    ),
    (
        "/admin/v1/info/user_authentication_attempts",
        Report::UserAuthenticationAttempts,
    ),
    (
        "/admin/v1/info/telephony_credits_used",
        Report::TelephonyCreditsUsed,
    ),
];

pub(super) fn routes() -> Router<AppState> {
    REPORTS.iter().fold(Router::new(), |router, (path, report)| {
        let report = *report;
        router.route(
            path,
            get(move |state: State<AppState>, caller: Caller| answer(state, caller, report)),
        )
    })
}

async fn answer(State(state): State<AppState>, caller: Caller, report: Report) -> Result<Response, ApiError> {
    caller.require(Grant::ReadInformation)?;
    let world = state.world();
    let now = crate::logs::answer::now_us(&state);
    let body = tokio::task::spawn_blocking(move || world.logs.report(&world, report, &caller.params, now))
        .await
        .map_err(|_| ApiError::custom(50000, "Internal server error"))??;
    Ok(json_body(axum::body::Body::from(body)))
}
