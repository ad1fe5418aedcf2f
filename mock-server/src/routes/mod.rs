//! The Admin API's routes, one module per resource, merged here behind the auth middleware.
//!
//! Routing comes first: an unknown path is 404 and a known path with another method is 405,
//! both in Duo's envelope, before any signature check (documented in `docs/fidelity.md`).

mod admins;
mod groups;
mod info;
mod users;
mod writes;

use axum::Router;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;

use crate::api_error::ApiError;
use crate::auth::authenticate;
use crate::body::json_parts;
use crate::paging::PageRequest;
use crate::scenario::MetadataMode;
use crate::state::AppState;
use crate::store::JsonList;

/// The whole application: signed Admin API routes, the unsigned ping, and Duo-shaped 404/405.
pub fn app(state: AppState) -> Router {
    let signed = Router::new()
        .merge(users::routes())
        .merge(admins::routes())
        .merge(groups::routes())
        .merge(info::routes())
        .route_layer(from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .merge(signed)
        .route("/auth/v2/ping", get(info::ping))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), crate::faults::apply))
        .layer(from_fn_with_state(state.clone(), crate::churn::track))
        .layer(from_fn_with_state(state.clone(), crate::journal::record))
        // After the layers: control requests are neither faulted nor journaled.
        .nest(crate::control::PREFIX, crate::control::routes(state.clone()))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Opening of a list body: `{"metadata":{…},"response":[` or `{"response":[`.
fn list_head(metadata: Option<String>) -> Bytes {
    match metadata {
        Some(m) => Bytes::from(format!("{{\"metadata\":{m},\"response\":[")),
        None => Bytes::from_static(b"{\"response\":["),
    }
}

const LIST_TAIL: &[u8] = b"],\"stat\":\"OK\"}";

/// One page of `list`, as slices of its arena.
fn page_of(list: &JsonList, page: PageRequest, mode: MetadataMode) -> Response {
    let total = list.len();
    let range = page.range(total);
    let mut parts = Vec::with_capacity(4);
    parts.push(list_head(page.metadata(total, mode)));
    list.range_into(range.start, range.end, &mut parts);
    parts.push(Bytes::from_static(LIST_TAIL));
    json_parts(parts)
}

/// One page of the objects of `list` at `indices` (a filtered or per-user list), copied.
fn page_of_selection(list: &JsonList, indices: &[u32], page: PageRequest, mode: MetadataMode) -> Response {
    let range = page.range(indices.len());
    let mut body = Vec::with_capacity(range.len() * 256);
    list.select_into(indices[range].iter().map(|i| *i as usize), &mut body);
    json_parts(vec![
        list_head(page.metadata(indices.len(), mode)),
        Bytes::from(body),
        Bytes::from_static(LIST_TAIL),
    ])
}

/// A path id (user, group, admin), or Duo's 404 when the path does not decode.
fn path_id(id: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    id.map(|Path(id)| id).map_err(|_| ApiError::not_found())
}

/// `{"response":<object>,"stat":"OK"}`.
fn object(json: Bytes) -> Response {
    json_parts(vec![
        Bytes::from_static(b"{\"response\":"),
        json,
        Bytes::from_static(b",\"stat\":\"OK\"}"),
    ])
}
