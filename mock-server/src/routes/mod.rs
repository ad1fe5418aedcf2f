//! The Admin API's routes, one module per resource, merged here behind the auth middleware;
//! `catalogue` lists them as data (the source of `docs/endpoints.md`).
//!
//! Routing comes first: an unknown path is 404 and a known path with another method is 405,
//! both in Duo's envelope, before any signature check (documented in `docs/fidelity.md`). Both
//! mean the fake does not serve the request, which Duo might: they carry
//! [`NOT_IMPLEMENTED_HEADER`], and each such path is logged once.

mod account;
mod accounts;
mod admin_units;
mod admins;
pub mod catalogue;
mod groups;
mod info;
mod integrations;
pub mod lists;
pub mod logs;
mod policies;
mod reports;
mod users;
mod verification;
mod writes;

use std::collections::HashSet;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, ready};

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use bytes::Bytes;
use tower::{Layer, Service, ServiceExt as _};

use crate::api_error::ApiError;
use crate::auth::AuthLayer;
use crate::body::{JOIN_BELOW_BYTES, json_body, json_parts};
use crate::paging::PageRequest;
use crate::scenario::MetadataMode;
use crate::state::AppState;
use crate::store::JsonList;
use crate::{churn, faults, journal};

/// The whole application: signed Admin API routes, the unsigned ping, and Duo-shaped 404/405.
pub fn app(state: AppState) -> Router {
    let control = crate::control::routes(state.clone()).with_state(state.clone());
    let routes = signed_routes();
    let signed = routes.clone().route_layer(AuthLayer {
        state: state.clone(),
        children: routes,
    });
    Router::new()
        .merge(signed)
        .route("/auth/v2/ping", get(info::ping))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(OuterLayer(state.clone()))
        // After the layer: control requests, and requests for control routes that do not exist,
        // are neither faulted nor journaled. Nested as a service, the prefix alone and with a
        // trailing `/` are control paths too (nested as a router, they fell to the API's 404).
        .nest_service(crate::control::PREFIX, control)
        .with_state(state)
}

/// Every signed route, without the auth layer (which `app` adds, and which routes a child
/// account's request to these same routes again).
fn signed_routes() -> Router<AppState> {
    Router::new()
        .merge(lists::routes())
        .merge(users::routes())
        .merge(admins::routes())
        .merge(groups::routes())
        .merge(info::routes())
        .merge(integrations::routes())
        .merge(admin_units::routes())
        .merge(policies::routes())
        .merge(account::routes())
        .merge(logs::routes().merge(reports::routes()))
        .merge(accounts::routes())
        .merge(verification::routes())
}

/// The journal (outermost: it times and records the answer), changes, churn, then fault rules, as one
/// hand-written layer. As three `from_fn` layers they cost a tiny signed answer more than all
/// their own work: each clones the route chain below it and boxes two futures per request.
/// Without churn events and fault rules (most scenarios) a request costs the journal's note and
/// no allocation here; with them, one boxed future.
#[derive(Clone, Debug)]
struct OuterLayer(AppState);

impl<S> Layer<S> for OuterLayer {
    type Service = Outer<S>;

    fn layer(&self, inner: S) -> Outer<S> {
        Outer {
            state: self.0.clone(),
            inner,
        }
    }
}

/// The service [`OuterLayer`] puts around each route.
#[derive(Clone, Debug)]
struct Outer<S> {
    state: AppState,
    inner: S,
}

impl<S> Service<Request> for Outer<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Unpin + Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = OuterFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let arrival = journal::arrive(&self.state, &request);
        let world = self.state.world();
        if world.churn.is_empty() && world.faults.is_empty() && world.changes.is_empty() {
            return OuterFuture::Plain {
                inner: self.inner.call(request),
                finish: Some((self.state.clone(), arrival)),
            };
        }
        let ready = take_ready(&mut self.inner);
        let state = self.state.clone();
        OuterFuture::Shaped(Box::pin(async move {
            let response = crate::changes::track(&state, request, |request| {
                churn::track(&state, request, |request| {
                    faults::apply(&state, request, |request| async move {
                        match ready.oneshot(request).await {
                            Ok(response) => response,
                            Err(never) => match never {},
                        }
                    })
                })
            })
            .await;
            journal::answer(&state, arrival, response)
        }))
    }
}

/// Takes the service that was polled ready, to call it from a future that outlives `call`,
/// leaving a clone for the next request.
pub(crate) fn take_ready<S: Clone>(service: &mut S) -> S {
    let spare = service.clone();
    std::mem::replace(service, spare)
}

/// The answer of [`Outer`]: the route's own future with the journal's note, or, when churn or
/// fault rules may change the request, the whole chain boxed.
enum OuterFuture<F> {
    Plain {
        inner: F,
        finish: Option<(AppState, Option<journal::Arrival>)>,
    },
    Shaped(Pin<Box<dyn Future<Output = Response> + Send>>),
}

impl<F> Future for OuterFuture<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Self::Plain { inner, finish } => {
                let Ok(response) = ready!(Pin::new(inner).poll(cx));
                let response = match finish.take() {
                    Some((state, arrival)) => journal::answer(&state, arrival, response),
                    None => response,
                };
                Poll::Ready(Ok(response))
            }
            Self::Shaped(future) => future.as_mut().poll(cx).map(Ok),
        }
    }
}

/// Header on an answer to a request the fake does not serve (`<METHOD> <path>`): the 404 or 405
/// is the fake's, not Duo's. Duo never sends it.
pub const NOT_IMPLEMENTED_HEADER: &str = "x-duo-mock-not-implemented";

async fn not_found(State(state): State<AppState>, request: Request) -> Response {
    not_served(&state, request, ApiError::not_found()).await
}

async fn method_not_allowed(State(state): State<AppState>, request: Request) -> Response {
    not_served(&state, request, ApiError::method_not_allowed()).await
}

/// Duo's `error` for a request no route serves, named in [`NOT_IMPLEMENTED_HEADER`], logged once
/// per path, and checked for the journal as the auth layer would have (who signed, whether the
/// signature held).
async fn not_served(state: &AppState, request: Request, error: ApiError) -> Response {
    let (parts, body) = request.into_parts();
    state.unserved().note(&parts.method, parts.uri.path());
    let tag = if state.journal().is_observing() {
        let body = crate::auth::read_body_quietly(state, body).await;
        Some(crate::auth::inspect(state, &parts, body.as_ref()))
    } else {
        None
    };
    let mut response = error.into_response();
    let named = format!("{} {}", parts.method, parts.uri.path());
    if let Ok(value) = HeaderValue::try_from(named) {
        response.headers_mut().insert(NOT_IMPLEMENTED_HEADER, value);
    }
    if let Some(tag) = tag {
        response.extensions_mut().insert(tag);
    }
    response
}

pub(crate) use admin_units::{Built as AdminUnits, build as build_admin_units};

/// The account's objects besides users and groups, made from the scenario and the
/// administrators (whose units `units` already set).
pub(crate) fn build_account(
    scenario: &crate::Scenario,
    admins: &[crate::model::Admin],
    units: AdminUnits,
    anchor: i64,
) -> crate::store::Account {
    let policies = policies::build(scenario);
    let (integrations_v1, integrations_v3, integration_by_key) =
        integrations::build(scenario, &policies.key_of_integration);
    let (password_mgmt, activations, allowed_auth_methods) = admins::build_extras(scenario, admins, anchor);
    let (edition, telephony_credits) = account::build_billing(scenario);
    crate::store::Account {
        integrations_v1,
        integrations_v3,
        integration_by_key,
        admin_units: units.list,
        admin_unit_by_id: units.by_id,
        admin_unit_members: units.members,
        password_mgmt,
        activations,
        allowed_auth_methods,
        policies: policies.list,
        policy_by_key: policies.by_key,
        policy_summary: policies.summary,
        policy_of_integration: policies.index_of_integration,
        policy_calculated: policies.calculated,
        logo: scenario.logo.clone(),
        edition,
        telephony_credits,
    }
}

/// Opening of a list body: `{"metadata":{…},"response":[` or `{"response":[`.
fn list_head(page: PageRequest, total: usize, mode: MetadataMode, room: usize) -> Vec<u8> {
    let mut head = Vec::with_capacity(96 + room);
    head.extend_from_slice(b"{\"metadata\":");
    if !page.write_metadata(total, mode, &mut head) {
        head.clear();
        head.push(b'{');
    } else {
        head.push(b',');
    }
    head.extend_from_slice(b"\"response\":[");
    head
}

const LIST_TAIL: &[u8] = b"],\"stat\":\"OK\"}";

/// One page of `list`: a small page is written into one buffer, a large one sent as slices of
/// its arena.
fn page_of(list: &JsonList, page: PageRequest, mode: MetadataMode) -> Response {
    let total = list.len();
    let range = page.range(total);
    let mut items = Vec::with_capacity(4);
    list.range_into(range.start, range.end, &mut items);
    let items_len: usize = items.iter().map(Bytes::len).sum();
    if items_len < JOIN_BELOW_BYTES {
        let mut body = list_head(page, total, mode, items_len + LIST_TAIL.len());
        for item in &items {
            body.extend_from_slice(item);
        }
        body.extend_from_slice(LIST_TAIL);
        return json_body(axum::body::Body::from(body));
    }
    items.insert(0, Bytes::from(list_head(page, total, mode, 0)));
    items.push(Bytes::from_static(LIST_TAIL));
    json_parts(items)
}

/// One page of the objects of `list` at `indices` (a filtered or per-user list), copied.
fn page_of_selection(list: &JsonList, indices: &[u32], page: PageRequest, mode: MetadataMode) -> Response {
    let range = page.range(indices.len());
    let mut body = Vec::with_capacity(range.len() * 256);
    list.select_into(indices[range].iter().map(|i| *i as usize), &mut body);
    json_parts(vec![
        Bytes::from(list_head(page, indices.len(), mode, 0)),
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

/// Paths the fake does not serve, each logged once: a client spraying paths cannot make the log
/// or this set grow without bound.
#[derive(Debug, Default)]
pub struct UnservedPaths {
    seen: Mutex<HashSet<String>>,
}

impl UnservedPaths {
    /// Distinct paths logged one by one; past it, one line says the rest go unlogged.
    pub const MAX_LOGGED: usize = 256;

    /// Logs a warning the first time `method path` is asked (ids folded, so that
    /// `/admin/v1/phones/DP…` is one path whatever the id).
    pub fn note(&self, method: &axum::http::Method, path: &str) {
        let key = format!("{method} {}", fold_ids(path));
        let mut seen = match self.seen.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if seen.len() > Self::MAX_LOGGED || seen.contains(&key) {
            return;
        }
        if seen.len() == Self::MAX_LOGGED {
            seen.insert(String::new());
            drop(seen);
            tracing::warn!(
                "{} paths not served by the fake were logged; further ones are not (the journal still records each request)",
                Self::MAX_LOGGED
            );
            return;
        }
        seen.insert(key.clone());
        drop(seen);
        tracing::warn!(
            "{key}: not implemented by the fake: answered Duo's 404 40401 (405 40501 for another method of a served path) with X-Duo-Mock-Not-Implemented; docs/endpoints.md lists what is served"
        );
    }
}

/// `path` with each segment that looks like a Duo id (20 capital letters and digits, `D` first)
/// written `{id}`, and cut to 200 bytes.
fn fold_ids(path: &str) -> String {
    let mut out = String::with_capacity(path.len().min(200));
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let id_like = segment.len() == 20
            && segment.starts_with('D')
            && segment
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        out.push_str(if id_like { "{id}" } else { segment });
        if out.len() > 200 {
            let mut end = 200;
            while !out.is_char_boundary(end) {
                end -= 1;
            }
            out.truncate(end);
            out.push('…');
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fold_so_each_unserved_path_is_logged_once() {
        assert_eq!(
            fold_ids("/admin/v1/phones/DPABCDEFGHIJ012345678"),
            "/admin/v1/phones/DPABCDEFGHIJ012345678",
            "21 characters: not an id"
        );
        assert_eq!(
            fold_ids("/admin/v1/phones/DPABCDEFGHIJ01234567/x"),
            "/admin/v1/phones/{id}/x"
        );
        assert!(fold_ids(&format!("/{}", "x".repeat(1000))).len() < 210);
        let unserved = UnservedPaths::default();
        for i in 0..(UnservedPaths::MAX_LOGGED * 3) {
            unserved.note(&axum::http::Method::GET, &format!("/spray/{i}"));
        }
        let seen = unserved.seen.lock().expect("lock").len();
        assert_eq!(seen, UnservedPaths::MAX_LOGGED + 1, "bounded");
    }
}
