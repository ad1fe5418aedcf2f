//! The control API under `/__duo-mock/`: read or clear the journal, reset to the scenario, load
//! another scenario, set the clock, dump the tenant being served. Reachable from loopback only,
//! with the token from the ready file in `X-Duo-Mock-Token`. Not journaled, not faulted, whether
//! the route exists or not: an unknown one is a 404 in the control API's own JSON.
//!
//! | Route | Does |
//! |---|---|
//! | `GET /__duo-mock/health` | `{"status":"ok"}` |
//! | `GET /__duo-mock/journal?after=N` | `{"entries":[…]}` with `seq > N` |
//! | `DELETE /__duo-mock/journal` | forgets the entries |
//! | `POST /__duo-mock/reset` | rebuilds the tenant of the scenario served (`?to=start`: the one served at start); fault counters and clock start over |
//! | `POST /__duo-mock/load` | serves the scenario TOML in the body (400 with `file:line:column`) |
//! | `GET /__duo-mock/clock` | `{"offset_s", "server_time"}` |
//! | `PUT /__duo-mock/clock` | body `{"offset_s": N}` |
//! | `GET /__duo-mock/dump` | the tenant as `duo-mock dump` prints it (`?account=DA…`: a child's) |
//! | `GET /__duo-mock/dump/logs?type=…&mintime=…&maxtime=…` | a log's events visible now in a window (ms) |
//!
//! The dashboard (`/__duo-mock/dashboard/…`, [`crate::dashboard`]) has a guard of its own: a
//! browser cannot send the token header, so it trades the token for a cookie once.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::json;

use crate::scenario::Scenario;
use crate::server::IntegrationInfo;
use crate::state::{AppState, World};

/// Prefix of every control route.
pub const PREFIX: &str = "/__duo-mock";
/// Header carrying the control token.
pub const TOKEN_HEADER: &str = "x-duo-mock-token";

/// The control routes, behind their guard.
pub fn routes(state: AppState) -> Router<AppState> {
    routes_with(state, Router::new())
}

/// The control routes and `extra` ones (`duo-mock record`'s `/record/stop`), behind the guard.
pub fn routes_with(state: AppState, extra: Router<AppState>) -> Router<AppState> {
    extra
        .route("/health", get(health))
        .route("/journal", get(journal).delete(clear_journal))
        .route("/reset", axum::routing::post(reset))
        .route("/load", axum::routing::post(load))
        .route("/clock", get(clock).put(set_clock))
        .route("/dump", get(dump))
        .route("/dump/logs", get(dump_logs))
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_method)
        // `layer`, not `route_layer`: the guard covers unknown routes too.
        .layer(from_fn_with_state(state.clone(), guard))
        // After the guard: the dashboard checks its own cookie.
        .nest(crate::dashboard::PATH, crate::dashboard::routes(state))
}

async fn unknown_route(request: Request) -> Response {
    refuse(
        StatusCode::NOT_FOUND,
        &format!(
            "no control route {} {}; see docs/control-api.md",
            request.method(),
            request.uri().path()
        ),
    )
}

async fn unknown_method(request: Request) -> Response {
    refuse(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!(
            "the control route {} does not take {}; see docs/control-api.md",
            request.uri().path(),
            request.method()
        ),
    )
}

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, Json(json!({ "error": why }))).into_response()
}

/// Loopback peers with the right token only.
async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !from_loopback(&request) {
        return refuse(
            StatusCode::FORBIDDEN,
            "the control API answers loopback clients only",
        );
    }
    let sent = request
        .headers()
        .get(TOKEN_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if !constant_time_eq(sent, state.control_token().as_bytes()) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "missing or wrong X-Duo-Mock-Token (see the ready file)",
        );
    }
    next.run(request).await
}

/// Whether the request comes from a loopback address.
pub(crate) fn from_loopback(request: &Request) -> bool {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().to_canonical().is_loopback())
}

/// Compares secrets in a time that does not depend on where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: u64,
}

async fn journal(State(state): State<AppState>, Query(after): Query<After>) -> Response {
    Json(json!({ "entries": state.journal().entries_after(after.after) })).into_response()
}

async fn clear_journal(State(state): State<AppState>) -> StatusCode {
    state.journal().clear();
    StatusCode::NO_CONTENT
}

/// Builds `scenario`'s world off the async workers and serves it: `{"status":"ok","users":N}`, or
/// 400 with the scenario's error.
pub(crate) async fn rebuild(state: &AppState, scenario: Scenario) -> Response {
    match tokio::task::spawn_blocking(move || World::build(&scenario)).await {
        Ok(Ok(world)) => {
            let users = world.tenant.users.len();
            let origin = world.scenario.origin.clone();
            state.replace_world(world);
            Json(json!({ "status": "ok", "users": users, "scenario": origin })).into_response()
        }
        Ok(Err(error)) => refuse(StatusCode::BAD_REQUEST, &error.to_string()),
        Err(error) => refuse(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    }
}

#[derive(Deserialize)]
struct ResetTo {
    /// `current` (default): the scenario being served, i.e. the last one loaded; `start`: the one
    /// the server started with.
    #[serde(default)]
    to: Option<String>,
}

async fn reset(State(state): State<AppState>, Query(to): Query<ResetTo>) -> Response {
    let scenario = match to.to.as_deref() {
        None | Some("current") => state.world().scenario.clone(),
        Some("start") => state.start_scenario().clone(),
        Some(other) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("reset?to={other:?}: the choices are \"current\" (default) and \"start\""),
            );
        }
    };
    rebuild(&state, scenario).await
}

async fn load(State(state): State<AppState>, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "the scenario must be UTF-8 TOML");
    };
    match Scenario::parse(text, "<control>") {
        Ok(scenario) => rebuild(&state, scenario).await,
        Err(error) => refuse(StatusCode::BAD_REQUEST, &error.to_string()),
    }
}

async fn clock(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "offset_s": state.clock_offset(), "server_time": state.now() }))
}

#[derive(Deserialize)]
struct ClockOffset {
    offset_s: i64,
}

/// Takes the body as JSON whatever its `Content-Type`, so a plain `curl -d` works.
async fn set_clock(State(state): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<ClockOffset>(&body) {
        Ok(offset) => {
            state.set_clock_offset(offset.offset_s);
            Json(json!({ "offset_s": state.clock_offset(), "server_time": state.now() })).into_response()
        }
        Err(error) => refuse(
            StatusCode::BAD_REQUEST,
            &format!("expected {{\"offset_s\": <seconds>}}: {error}"),
        ),
    }
}

#[derive(Deserialize)]
struct DumpOf {
    account: Option<String>,
}

async fn dump(State(state): State<AppState>, Query(of): Query<DumpOf>) -> Response {
    let world = match &of.account {
        None => state.world(),
        Some(id) => match state.world().account(id) {
            Some(account) => account.world(),
            None => return refuse(StatusCode::NOT_FOUND, &format!("no child account {id:?}")),
        },
    };
    // A child has no integrations of its own: the parent's Accounts API keys reach it.
    let integrations = if of.account.is_some() {
        Vec::new()
    } else {
        IntegrationInfo::of(&world.scenario)
    };
    let mut out = Vec::new();
    if let Err(error) = crate::dump::write_dump(&world.tenant, &integrations, &mut out) {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string());
    }
    ([(header::CONTENT_TYPE, "application/json")], out).into_response()
}

#[derive(Deserialize)]
struct LogWindow {
    #[serde(rename = "type")]
    kind: String,
    mintime: Option<i64>,
    maxtime: Option<i64>,
}

/// A log's events in a window of milliseconds (default: the whole retention up to now), oldest
/// first, as its newest endpoint lists them and as visible at the server's now.
async fn dump_logs(State(state): State<AppState>, Query(window): Query<LogWindow>) -> Response {
    let Some(kind) = crate::logs::LogKind::from_name(&window.kind) else {
        let names: Vec<&str> = crate::logs::LogKind::ALL.iter().map(|k| k.name()).collect();
        return refuse(
            StatusCode::BAD_REQUEST,
            &format!("type must be one of: {}", names.join(", ")),
        );
    };
    let world = state.world();
    let now_us = crate::logs::answer::now_us(&state);
    let maxtime = window.maxtime.unwrap_or(now_us / 1000);
    let mintime = window
        .mintime
        .unwrap_or(maxtime - i64::from(world.logs.config().retention_days) * 86_400_000);
    let written = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        world
            .logs
            .dump(&world, kind, mintime, maxtime, now_us, &mut out)
            .map(|()| out)
    })
    .await;
    match written {
        Ok(Ok(out)) => ([(header::CONTENT_TYPE, "application/json")], out).into_response(),
        Ok(Err(error)) => refuse(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
        Err(error) => refuse(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    }
}
