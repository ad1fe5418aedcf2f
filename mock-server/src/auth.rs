//! Signature verification: one layer in front of every signed route. Handlers never see
//! an unauthenticated request; they receive the [`Caller`].
//!
//! The order of checks follows §1.10 of the API notes: credentials (40101), date (40104),
//! window (40105), ikey (40102), signature (40103, or 40112 for a version the tenant refuses).

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use duo_auth::{Digest, Prepared, Scheme, SignedParts};
use http_body::Body as _;
use tower::{Layer, Service, ServiceExt as _};

use crate::api_error::ApiError;
use crate::grants::Grant;
use crate::journal::{CallerTag, SentKey};
use crate::params::Params;
use crate::ratelimit::EndpointClass;
use crate::state::{AppState, Credential, World};

/// The authenticated integration and the parameters its signature covered.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who signed.
    pub credential: Arc<Credential>,
    /// Decoded query parameters (plus form-body parameters for a v1/v2 form POST).
    pub params: Params,
    /// The signature scheme that matched.
    pub scheme: Scheme,
    /// Whether refusals are explained (the scenario's `explain` option).
    pub explain: bool,
    /// The child account read (Accounts API keys with `account_id`); `None`: the caller's own.
    pub account: Option<Arc<str>>,
}

impl Caller {
    /// 403 40301 unless the integration holds `grant`. Duo's answer names nothing; the log
    /// line says which grant is missing.
    pub fn require(&self, grant: Grant) -> Result<(), ApiError> {
        if self.credential.grants.contains(grant) {
            Ok(())
        } else {
            tracing::warn!(
                integration = %self.credential.name,
                missing_grant = grant.name(),
                change = self.credential.change.as_deref(),
                "403 40301 Access forbidden: the integration lacks {:?}",
                grant.name()
            );
            Err(ApiError::forbidden().explained(self.explain, || {
                let since = self
                    .credential
                    .change
                    .as_ref()
                    .map_or_else(String::new, |c| format!(" since the change {c:?}"));
                format!(
                    "the integration {:?} lacks {:?}{since}",
                    self.credential.name,
                    grant.name()
                )
            }))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        // The middleware always inserts it on signed routes; a route without the middleware is a
        // programming error that must still not pass unauthenticated.
        parts
            .extensions
            .remove::<Self>()
            .ok_or_else(ApiError::missing_credentials)
    }
}

/// The layer that puts [`Auth`] in front of every signed route. `children` are the same routes
/// without this layer: a request for a child account is admitted here and routed again there,
/// with a state that reads the child.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    /// The server's state.
    pub state: AppState,
    /// The signed routes, unlayered, for requests to a child account.
    pub children: axum::Router<AppState>,
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            state: self.state.clone(),
            children: self.children.clone(),
            inner,
        }
    }
}

/// Verifies the signature and attaches the [`Caller`]; a refusal is answered here. Hand-written
/// rather than `from_fn`: a request without a body (every GET) is checked in `call` and the
/// route's own future is returned, with no clone of the route and no boxed future; a request
/// with a body is read first (bounded in size and time), in one boxed future.
#[derive(Clone, Debug)]
pub struct Auth<S> {
    state: AppState,
    children: axum::Router<AppState>,
    inner: S,
}

impl<S> Service<Request> for Auth<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Unpin + Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = AuthFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.body().is_end_stream() {
            let (parts, body) = request.into_parts();
            return match admit(&self.state, parts, body, &Bytes::new()) {
                Admission::Admitted(request, tag) => match child_of(&request) {
                    None => AuthFuture::Route {
                        inner: self.inner.call(request),
                        tag: Some(tag),
                    },
                    Some(account) => {
                        let (state, children) = (self.state.clone(), self.children.clone());
                        AuthFuture::Body(Box::pin(async move {
                            to_child(&state, children, &account, request, tag).await
                        }))
                    }
                },
                Admission::Refused(refusal) => AuthFuture::Refused(Some(refusal)),
            };
        }
        let ready = crate::routes::take_ready(&mut self.inner);
        let (state, children) = (self.state.clone(), self.children.clone());
        AuthFuture::Body(Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = match read_body(&state, &parts, body).await {
                Ok(body) => body,
                Err(refusal) => return refusal,
            };
            match admit(&state, parts, axum::body::Body::from(body.clone()), &body) {
                Admission::Admitted(request, tag) => {
                    if let Some(account) = child_of(&request) {
                        return to_child(&state, children, &account, request, tag).await;
                    }
                    let Ok(mut response) = ready.oneshot(request).await;
                    response.extensions_mut().insert(tag);
                    response
                }
                Admission::Refused(refusal) => refusal,
            }
        }))
    }
}

/// The child account an admitted request reads, if any.
fn child_of(request: &Request) -> Option<Arc<str>> {
    request
        .extensions()
        .get::<Caller>()
        .and_then(|caller| caller.account.clone())
}

/// Routes an admitted request for the child `account` again, with a state that reads the child.
async fn to_child(
    state: &AppState,
    children: axum::Router<AppState>,
    account: &str,
    request: Request,
    tag: CallerTag,
) -> Response {
    let world = state.parent_world();
    // Routed afresh: the path parameters the first routing attached would be doubled.
    let (mut parts, body) = request.into_parts();
    let mut extensions = axum::http::Extensions::new();
    if let Some(caller) = parts.extensions.remove::<Caller>() {
        extensions.insert(caller);
    }
    if let Some(peer) = parts.extensions.remove::<ConnectInfo<SocketAddr>>() {
        extensions.insert(peer);
    }
    parts.extensions = extensions;
    let request = Request::from_parts(parts, body);
    let mut response = match state.for_account(&world, account) {
        Some(child) => match children.with_state(child).oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        // The scenario was replaced since the request was admitted.
        None => unknown_account(&world).into_response(),
    };
    response.extensions_mut().insert(tag);
    response
}

/// The refusal of an `account_id` that is no child of the caller's account (the scenario's
/// `unknown_account_code`).
fn unknown_account(world: &World) -> ApiError {
    match world.options().unknown_account_code {
        40401 => ApiError::not_found(),
        40002 => ApiError::invalid_parameter("account_id"),
        _ => ApiError::forbidden(),
    }
}

/// Whether `path` is the Accounts API's (`/accounts/v1/…`), which only Accounts API keys call.
pub fn is_accounts_path(path: &str) -> bool {
    path.starts_with("/accounts/")
}

/// Whether keys of `credential`'s kind may call `path` at all: Accounts API paths take Accounts
/// API keys; Admin API paths take Admin API keys, and Accounts API keys (for a child account).
fn kind_fits(credential: &Credential, path: &str) -> bool {
    if is_accounts_path(path) {
        credential.accounts_api
    } else {
        credential.admin_api || credential.accounts_api
    }
}

/// The answer of [`Auth`]: the route's future (tagged with the caller for the journal), a
/// refusal, or, for a request with a body, the whole exchange boxed.
pub enum AuthFuture<F> {
    /// Admitted: the route's own future, and the tag its answer gets.
    Route { inner: F, tag: Option<CallerTag> },
    /// Refused before the route (taken when polled).
    Refused(Option<Response>),
    /// A request with a body: read, verified and routed in one future.
    Body(Pin<Box<dyn Future<Output = Response> + Send>>),
}

impl<F> std::fmt::Debug for AuthFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Route { .. } => "AuthFuture::Route",
            Self::Refused(_) => "AuthFuture::Refused",
            Self::Body(_) => "AuthFuture::Body",
        })
    }
}

impl<F> Future for AuthFuture<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Self::Route { inner, tag } => {
                let Ok(mut response) = ready!(Pin::new(inner).poll(cx));
                if let Some(tag) = tag.take() {
                    response.extensions_mut().insert(tag);
                }
                Poll::Ready(Ok(response))
            }
            Self::Refused(refusal) => Poll::Ready(Ok(refusal
                .take()
                .unwrap_or_else(|| ApiError::custom(50000, "Internal server error").into_response()))),
            Self::Body(future) => future.as_mut().poll(cx).map(Ok),
        }
    }
}

/// Reads a request's body: `server::run` already bounds its size; this bound holds when the app
/// is served otherwise. Its time is bounded here: the HTTP layer's timeout covers only the head.
async fn read_body(state: &AppState, parts: &Parts, body: axum::body::Body) -> Result<Bytes, Response> {
    let limits = state.world().options().limits;
    let read = axum::body::to_bytes(body, limits.body_bytes);
    match tokio::time::timeout(limits.header_read_timeout(), read).await {
        Ok(Ok(body)) => Ok(body),
        Err(_) => {
            tracing::info!(
                path = parts.uri.path(),
                "408 40800: the body did not arrive in time"
            );
            Err(crate::limits::body_timeout().into_response())
        }
        Ok(Err(error)) if crate::limits::is_length_limit(&error) => {
            let limit = limits.body_bytes;
            tracing::info!(
                path = parts.uri.path(),
                limit,
                "413 41300: body over options.limits.body_bytes"
            );
            Err(crate::limits::body_too_large().into_response())
        }
        Ok(Err(error)) => {
            // A malformed chunked body or a client gone mid-body: nothing was signed yet.
            tracing::debug!(path = parts.uri.path(), %error, "the request body could not be read");
            Err(ApiError::custom(40002, "Invalid request parameters").into_response())
        }
    }
}

/// Reads a request's body for the journal's own signature check (a request a fault rule or the
/// router answers): bounded as [`read_body`], silent; `None` when it cannot be read in time.
pub(crate) async fn read_body_quietly(state: &AppState, body: axum::body::Body) -> Option<Bytes> {
    let limits = state.world().options().limits;
    let read = axum::body::to_bytes(body, limits.body_bytes);
    tokio::time::timeout(limits.header_read_timeout(), read)
        .await
        .ok()?
        .ok()
}

/// What [`admit`] decided.
#[expect(
    clippy::large_enum_variant,
    reason = "made and taken apart once per request; boxing the tag would cost an allocation"
)]
enum Admission {
    /// The request with its [`Caller`] attached, and the journal's tag for its answer.
    Admitted(Request, CallerTag),
    /// Duo's refusal, tagged.
    Refused(Response),
}

/// Verifies the request whose head is `parts` and body `bytes` (also given as `body`, to pass
/// on; the journal keeps the start of `bytes`).
fn admit(state: &AppState, parts: Parts, body: axum::body::Body, bytes: &Bytes) -> Admission {
    let (decision, mut tag) = decide(state, &parts, bytes);
    tag.keep_body(state, bytes);
    match decision {
        Ok(caller) => {
            let mut request = Request::from_parts(parts, body);
            request.extensions_mut().insert(caller);
            Admission::Admitted(request, tag)
        }
        Err(error) => {
            tracing::debug!(
                method = %parts.method,
                path = parts.uri.path(),
                code = error.code,
                "refused: {}",
                error.message
            );
            let mut response = error.into_response();
            response.extensions_mut().insert(tag);
            Admission::Refused(response)
        }
    }
}

/// Who signed a request that never reached the auth layer (a fault rule or the router answered
/// it), for the journal: the same checks, without their side effects (no log line, no rate-limit
/// token). Without its body (`None`: it could not be read) only the sender is named.
pub fn inspect(state: &AppState, parts: &Parts, body: Option<&Bytes>) -> CallerTag {
    let world = state.world();
    let Some(body) = body else {
        let sent = sent_credentials(parts);
        return Checked {
            credential: sent.as_ref().and_then(|c| world.credential(c.ikey())),
            sent,
            scheme: None,
            signature_valid: None,
            outcome: Ok(None),
        }
        .tag(&world);
    };
    let mut tag = check_signature(&world, state.now(), parts, body).tag(&world);
    tag.keep_body(state, body);
    tag
}

/// What the signature checks (steps 1-5: credentials, date, window, ikey, signature) found. Pure:
/// no log line and no rate-limit token, so the journal can run them on a request something else
/// answered.
struct Checked<'w> {
    /// The decoded `Authorization` header, when readable.
    sent: Option<duo_auth::Credentials>,
    /// The integration of its ikey, when known.
    credential: Option<&'w Arc<Credential>>,
    /// The scheme whose signature matched (accepted by the tenant or not).
    scheme: Option<Scheme>,
    /// Whether the signature matched; `None` when the checks stopped before comparing it.
    signature_valid: Option<bool>,
    /// Passed (with the parameters of a v1/v2 form, which the signature covered), or the refusal.
    outcome: Result<Option<Params>, ApiError>,
}

impl Checked<'_> {
    /// The journal's note of these checks.
    fn tag(&self, world: &World) -> CallerTag {
        let sent = self.sent.as_ref().map_or_else(SentKey::default, |c| {
            // A signature that matched is an HMAC; one that did not might be a secret sent in
            // its place: kept only when it looks like a signature and is none of the scenario's
            // keys.
            let signature = c.signature();
            let keep = self.signature_valid == Some(true)
                || (SentKey::looks_like_signature(signature) && !is_secret_of(world, signature));
            SentKey::new(c.ikey(), keep.then_some(signature))
        });
        CallerTag {
            integration: self.credential.map(|c| Arc::clone(&c.name)),
            change: self
                .credential
                .and_then(|c| world.changes.credential(c))
                .and_then(|c| c.change.clone()),
            signature: self.scheme.map(Scheme::name),
            signature_valid: self.signature_valid,
            auth_error: self.outcome.as_ref().err().map(|e| e.code),
            sent,
            request_body: None,
            request_body_bytes: None,
        }
    }
}

fn is_secret_of(world: &World, text: &[u8]) -> bool {
    world.scenario.integrations.iter().any(|i| {
        i.skey.as_bytes().eq_ignore_ascii_case(text)
            || i.client_skey
                .as_ref()
                .is_some_and(|k| k.as_bytes().eq_ignore_ascii_case(text))
    })
}

/// The decoded `Authorization` header, when there is a readable one.
fn sent_credentials(parts: &Parts) -> Option<duo_auth::Credentials> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| duo_auth::parse_authorization(v.as_bytes()).ok())
}

/// The auth layer's decision on one request, and the journal's note of it.
fn decide(state: &AppState, parts: &Parts, body: &Bytes) -> (Result<Caller, ApiError>, CallerTag) {
    let world = state.world();
    let checked = check_signature(&world, state.now(), parts, body);
    // Only the journal and `serve -v` read the tag.
    let tag = if state.journal().is_observing() {
        checked.tag(&world)
    } else {
        CallerTag::default()
    };
    let decision = match checked.outcome {
        Ok(form_params) => match (checked.credential, checked.scheme) {
            (Some(credential), Some(scheme)) => {
                admit_signed(&world, parts, body, credential, scheme, form_params)
            }
            _ => Err(ApiError::missing_credentials()),
        },
        Err(error) => {
            if error.code == 40102
                && let Some(credential) = checked.credential
            {
                tracing::warn!(
                    integration = %credential.name,
                    "401 40102: not an Admin API application, or the account has no Admin API"
                );
            }
            Err(error)
        }
    };
    (decision, tag)
}

/// Checks one request; pure apart from reading the clock in `state` and spending a rate-limit
/// token. Allocation-free up to the caller's parameters for a GET with canonical parameters from
/// a known integration.
pub fn verify(state: &AppState, parts: &Parts, body: &Bytes) -> Result<Caller, ApiError> {
    decide(state, parts, body).0
}

/// Steps 1-5 of the checks, in Duo's order.
fn check_signature<'w>(world: &'w World, now: i64, parts: &Parts, body: &Bytes) -> Checked<'w> {
    let mut checked = Checked {
        sent: sent_credentials(parts),
        credential: None,
        scheme: None,
        signature_valid: None,
        outcome: Ok(None),
    };
    checked.outcome = signature_outcome(world, now, parts, body, &mut checked);
    checked
}

/// Fills `checked` as far as the checks get; the outcome is returned.
fn signature_outcome<'w>(
    world: &'w World,
    now: i64,
    parts: &Parts,
    body: &Bytes,
    checked: &mut Checked<'w>,
) -> Result<Option<Params>, ApiError> {
    let headers = &parts.headers;
    let credentials = checked.sent.as_ref().ok_or_else(ApiError::missing_credentials)?;
    checked.credential = world.credential(credentials.ikey());

    let options = world.options();
    let explain = options.explain;
    let date = headers
        .get("x-duo-date")
        .or_else(|| headers.get(header::DATE))
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::missing_timestamp()
                .explained(explain, || "no readable Date or X-Duo-Date header".to_owned())
        })?;
    let sent_at = duo_auth::date::parse_date(date).ok_or_else(|| {
        ApiError::missing_timestamp().explained(explain, || {
            format!("{date:?} is not a date in a format Duo takes (e.g. Tue, 21 Aug 2012 17:29:18 -0000)")
        })
    })?;
    let window = i64::from(options.signature_window_s);
    if (now - sent_at).abs() > window {
        return Err(ApiError::bad_timestamp().explained(explain, || {
            format!(
                "the request's date is {}s {} the server's clock ({}); the window is {window}s",
                (now - sent_at).abs(),
                if sent_at < now { "behind" } else { "ahead of" },
                duo_auth::date::format_date(now)
            )
        }));
    }

    let credential = checked.credential.ok_or_else(|| {
        ApiError::invalid_integration_key().explained(explain, || {
            format!(
                "no integration of this scenario has ikey {:?}",
                credentials.ikey()
            )
        })
    })?;
    if !kind_fits(credential, parts.uri.path()) && options.wrong_type_code == 40102 {
        return Err(ApiError::invalid_integration_key().explained(explain, || {
            format!(
                "{:?} is not an application of the {}, or the account has no Admin API",
                credential.name,
                api_of(parts.uri.path())
            )
        }));
    }

    let raw_query = parts.uri.query().unwrap_or("").as_bytes();
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let form_params = is_form.then(|| {
        let mut all = Params::parse(raw_query);
        all.extend(&Params::parse(body));
        all
    });
    // The canonical parameter lines: v4/v5 sign the query alone, v1/v2 the query and form pairs.
    let query_line = duo_auth::params::canonical_query(raw_query);
    let form_line = form_params
        .as_ref()
        .map(|all| duo_auth::params::canon_params(&all.to_pairs()));
    let duo_headers: Vec<(&[u8], &[u8])> = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-duo-"))
        .map(|(name, value)| (name.as_str().as_bytes(), value.as_bytes()))
        .collect();
    let hosts = host_candidates(parts, world.api_hostname());

    let signature = credentials.signature();
    let (current, legacy): (&[Scheme], &[Scheme]) = match signature.len() {
        40 => (&[Scheme::V2(Digest::Sha1)], &[Scheme::V1(Digest::Sha1)]),
        128 => (
            &[Scheme::V5, Scheme::V2(Digest::Sha512)],
            &[Scheme::V4, Scheme::V1(Digest::Sha512)],
        ),
        _ => (&[], &[]),
    };
    let prepare = |scheme: Scheme| {
        let line = match (&form_line, signs_form(scheme)) {
            (Some(line), true) => line.as_str(),
            _ => query_line.as_ref(),
        };
        let signed = SignedParts {
            date,
            method: parts.method.as_str(),
            host: "",
            path: parts.uri.path(),
            params: &[],
            body,
            duo_headers: &duo_headers,
        };
        Prepared::with_params_line(scheme, &signed, Cow::Borrowed(line))
    };
    checked.signature_valid = Some(false);
    for scheme in current.iter().chain(legacy).copied() {
        let prepared = prepare(scheme);
        if hosts
            .iter()
            .flatten()
            .any(|host| prepared.verify(&credential.key, host, signature))
        {
            checked.signature_valid = Some(true);
            checked.scheme = Some(scheme);
            let accepted = match scheme {
                Scheme::V1(_) => options.accept_v1,
                Scheme::V4 => options.accept_v4,
                Scheme::V2(_) | Scheme::V5 => true,
            };
            if !accepted {
                return Err(ApiError::unsupported_signature());
            }
            return Ok(form_params.filter(|_| signs_form(scheme)));
        }
    }
    Err(ApiError::invalid_signature().explained(explain, || {
        // The canonical string the server expected under the scheme the signature's length
        // suggests, for the most likely host: compare it with the client's.
        let scheme = current.first().copied().unwrap_or(Scheme::V5);
        let host = hosts.iter().flatten().next().copied().unwrap_or("");
        format!(
            "no signature matched; expected under {} for host {host:?} the canonical string {:?} (duo-mock explain-signature compares every version)",
            scheme.name(),
            prepare(scheme).canonical_string(host)
        )
    }))
}

/// v1 and v2 sign the form pairs of a body with the query; v4 and v5 the query alone.
fn signs_form(scheme: Scheme) -> bool {
    matches!(scheme, Scheme::V1(_) | Scheme::V2(_))
}

/// The checks after a good signature, in Duo's order: application type, Networks for API
/// Access, rate limit; then the caller, with the parameters its signature covered.
fn admit_signed(
    world: &World,
    parts: &Parts,
    body: &Bytes,
    credential: &Arc<Credential>,
    scheme: Scheme,
    form_params: Option<Params>,
) -> Result<Caller, ApiError> {
    let options = world.options();
    let explain = options.explain;
    // The grants as the scenario's `[[changes]]` left them.
    let changed = world.changes.credential(credential);
    let credential = changed.as_ref().unwrap_or(credential);
    let path = parts.uri.path();
    if !kind_fits(credential, path) {
        tracing::warn!(
            integration = %credential.name,
            "403 40301: not an application of the {}",
            api_of(path)
        );
        return Err(ApiError::forbidden().explained(explain, || {
            format!(
                "{:?} is not an application of the {}",
                credential.name,
                api_of(path)
            )
        }));
    }
    check_network(parts, credential, options.trust_forwarded_for).map_err(|error| {
        error.explained(explain, || {
            format!(
                "the client's address is outside {:?}'s Networks for API Access",
                credential.name
            )
        })
    })?;
    if world.rate_limiter.is_on() {
        let class = EndpointClass::of(
            parts.method.as_str(),
            parts.uri.path(),
            parts.uri.query().unwrap_or(""),
        );
        if let Err(empty) = world.rate_limiter.spend(&credential.name, class) {
            tracing::info!(integration = %credential.name, ?class, budget = ?empty, "429 42901: over the rate limit");
            return Err(ApiError::custom(42901, "Too Many Requests"));
        }
    }
    let params = form_params.unwrap_or_else(|| Params::parse(parts.uri.query().unwrap_or("").as_bytes()));
    let account = if credential.accounts_api && !is_accounts_path(path) {
        Some(child_account(world, credential, &params, body)?)
    } else {
        None
    };
    Ok(Caller {
        credential: Arc::clone(credential),
        params,
        scheme,
        explain: options.explain,
        account,
    })
}

/// `account_id` of a JSON body (Duo's clients send a POST's parameters as JSON, signed by v5);
/// a value that is not a string is kept as its JSON text, which no account id matches.
fn json_account_id(body: &Bytes) -> Option<String> {
    if !body.trim_ascii_start().starts_with(b"{") {
        return None;
    }
    match serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("account_id")?
    {
        serde_json::Value::String(id) => Some(id.clone()),
        other => Some(other.to_string()),
    }
}

/// Which API `path` belongs to, for messages.
fn api_of(path: &str) -> &'static str {
    if is_accounts_path(path) {
        "Accounts API"
    } else {
        "Admin API"
    }
}

/// The child account Accounts API keys name in `account_id` on an Admin API path: none is 403
/// 40301 (the keys are no Admin API application of their own account), a malformed one or more
/// than one 400 40002, one that is no child of this account the scenario's
/// `unknown_account_code`.
fn child_account(
    world: &World,
    credential: &Credential,
    params: &Params,
    body: &Bytes,
) -> Result<Arc<str>, ApiError> {
    let explain = world.options().explain;
    let from_json = json_account_id(body);
    let mut sent = params
        .all("account_id")
        .chain(from_json.as_deref().map(str::as_bytes));
    let (first, second) = (sent.next(), sent.next());
    let Some(id) = first else {
        tracing::warn!(
            integration = %credential.name,
            "403 40301: Accounts API keys on an Admin API path without account_id"
        );
        return Err(ApiError::forbidden().explained(explain, || {
            format!(
                "{:?} holds Accounts API keys: an Admin API call names a child account in account_id",
                credential.name
            )
        }));
    };
    let id = std::str::from_utf8(id)
        .ok()
        .filter(|id| second.is_none() && crate::model::is_duo_id(id, "DA"))
        .ok_or_else(|| {
            ApiError::invalid_parameter("account_id").explained(explain, || {
                "account_id is one `DA` followed by 18 upper-case letters or digits".to_owned()
            })
        })?;
    match world.account(id) {
        Some(account) => Ok(Arc::clone(&account.account_id)),
        None => {
            tracing::warn!(
                integration = %credential.name,
                account_id = id,
                "account_id names no child account"
            );
            Err(unknown_account(world).explained(explain, || {
                format!("{id:?} is not a child account of this scenario's account")
            }))
        }
    }
}

/// Networks for API Access, checked after the signature as Duo's docs say; a refusal is 403
/// 40301 (Duo's answer is undocumented) and the log names the address, as Duo logs it.
fn check_network(parts: &Parts, credential: &Credential, trust_forwarded_for: bool) -> Result<(), ApiError> {
    if credential.networks.is_empty() {
        return Ok(());
    }
    let forwarded = trust_forwarded_for
        .then(|| parts.headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse::<IpAddr>().ok());
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let client = forwarded.or(peer);
    if client.is_some_and(|ip| credential.networks.iter().any(|net| net.contains(ip))) {
        return Ok(());
    }
    tracing::warn!(
        integration = %credential.name,
        client = ?client,
        "403 40301: request from outside the integration's Networks for API Access"
    );
    Err(ApiError::forbidden())
}

/// Host spellings a client may have signed (§1.7): the `Host` header without its port (the
/// Python client), as received (Go, Node, Java given `host:port`), and the scenario's API
/// hostname; most likely first, without repeats (letter case aside: the signature covers the
/// host lower-cased). Borrowed, so trying them allocates nothing.
fn host_candidates<'a>(parts: &'a Parts, api_hostname: &'a str) -> [Option<&'a str>; 3] {
    let received = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| parts.uri.authority().map(axum::http::uri::Authority::as_str));
    let mut hosts = [received.map(strip_port), received, Some(api_hostname)];
    for later in 1..hosts.len() {
        let (earlier, rest) = hosts.split_at_mut(later);
        if let Some(slot) = rest.first_mut()
            && slot.is_some_and(|host| {
                earlier
                    .iter()
                    .flatten()
                    .any(|seen| seen.eq_ignore_ascii_case(host))
            })
        {
            *slot = None;
        }
    }
    hosts
}

/// `host:8443` → `host`; `[::1]:8443` → `[::1]`; a host without a port is returned as is.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::strip_port;

    #[test]
    fn ports_are_stripped_from_names_and_ipv6() {
        assert_eq!(strip_port("localhost:8443"), "localhost");
        assert_eq!(strip_port("localhost"), "localhost");
        assert_eq!(strip_port("[::1]:443"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
        assert_eq!(strip_port("host:"), "host:");
    }
}
