//! The log endpoints (Grant read log), as one table: each row a path, the log it serves and how
//! it takes its parameters; one handler answers them all from `logs`.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::body::json_body;
use crate::grants::Grant;
use crate::logs::LogKind;
use crate::logs::query::{CursorShape, Endpoint, Style};
use crate::state::AppState;

/// Every log endpoint Duo's clients call.
pub const ENDPOINTS: [Endpoint; 8] = [
    Endpoint {
        name: "authentication",
        path: "/admin/v2/logs/authentication",
        kind: LogKind::Authentication,
        style: Style::V2 {
            list: "authlogs",
            cursor: CursorShape::TimeAndTxid,
        },
    },
    Endpoint {
        name: "authentication_v1",
        path: "/admin/v1/logs/authentication",
        kind: LogKind::Authentication,
        style: Style::V1,
    },
    Endpoint {
        name: "administrator",
        path: "/admin/v1/logs/administrator",
        kind: LogKind::Administrator,
        style: Style::V1,
    },
    Endpoint {
        name: "telephony_v1",
        path: "/admin/v1/logs/telephony",
        kind: LogKind::Telephony,
        style: Style::V1,
    },
    Endpoint {
        name: "telephony",
        path: "/admin/v2/logs/telephony",
        kind: LogKind::Telephony,
        style: Style::V2 {
            list: "items",
            cursor: CursorShape::Joined {
                mask: crate::logs::telephony::ID_MASK,
            },
        },
    },
    Endpoint {
        name: "activity",
        path: "/admin/v2/logs/activity",
        kind: LogKind::Activity,
        style: Style::V2 {
            list: "items",
            cursor: CursorShape::Joined {
                mask: crate::logs::activity::ID_MASK,
            },
        },
    },
    Endpoint {
        name: "offline_enrollment",
        path: "/admin/v1/logs/offline_enrollment",
        kind: LogKind::OfflineEnrollment,
        style: Style::V1,
    },
    Endpoint {
        name: "trust_monitor",
        path: "/admin/v1/trust_monitor/events",
        kind: LogKind::TrustMonitor,
        style: Style::Offset,
    },
];

pub(super) fn routes() -> Router<AppState> {
    ENDPOINTS.iter().fold(Router::new(), |router, endpoint| {
        let endpoint = *endpoint;
        router.route(
            endpoint.path,
            get(move |state: State<AppState>, caller: Caller| answer(state, caller, endpoint)),
        )
    })
}

async fn answer(
    State(state): State<AppState>,
    caller: Caller,
    endpoint: Endpoint,
) -> Result<Response, ApiError> {
    caller.require(Grant::ReadLog)?;
    let world = state.world();
    let now = crate::logs::answer::now_us(&state);
    let body = if world.logs.is_heavy(&world, &endpoint, &caller.params) {
        // A filter over a large window looks at every event in it: off the request threads.
        tokio::task::spawn_blocking(move || world.logs.answer(&world, &endpoint, &caller.params, now))
            .await
            .map_err(|_| ApiError::custom(50000, "Internal server error"))??
    } else {
        world.logs.answer(&world, &endpoint, &caller.params, now)?
    };
    Ok(json_body(axum::body::Body::from(body)))
}
