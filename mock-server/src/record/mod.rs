//! `duo-mock record`: a recording signing proxy. Clients talk to it as to a fake (local test
//! keys from its ready file); it verifies each request's signature as the fake does, signs it
//! again with the upstream integration's keys, forwards it, and gives the client upstream's
//! answer (status, body, `Content-Type`, `Retry-After`). On Ctrl-C or SIGTERM, or at
//! `POST /__duo-mock/record/stop`, it writes a scrubbed scenario that `duo-mock serve` replays
//! ([`replay`], [`scrub`]). After `record/stop` the recording is over: API requests get 503 (never
//! forwarded unrecorded) until the process is ended. Unsigned requests (Duo's ping) go upstream
//! unsigned.
//!
//! Only scrubbed files are ever written; the upstream secret key is held pre-keyed and goes into
//! signatures only.

pub mod replay;
pub mod scrub;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use duo_auth::Scheme;
use serde_json::json;

use crate::api_error::ApiError;
use crate::error::{Error, Result};
use crate::grants::Grant;
use crate::scenario::Scenario;
use crate::state::AppState;
use crate::upstream::{self, Keys, Signing, Upstream};

/// The local integration's key (its secret is made at each start and shown in the ready file).
pub const LOCAL_IKEY: &str = "DIREC0RDERL0CALKEY01";

/// One exchange forwarded upstream, in memory until the files are written.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Method.
    pub method: String,
    /// Path as sent.
    pub path: String,
    /// Raw query.
    pub query: String,
    /// Upstream's status.
    pub status: u16,
    /// Upstream's `Content-Type`.
    pub content_type: Option<String>,
    /// Upstream's `Server`.
    pub server: Option<String>,
    /// Upstream's `Retry-After`.
    pub retry_after: Option<String>,
    /// Upstream's body.
    pub body: Bytes,
}

/// The recorder: where it forwards, with which keys, and what it has seen.
pub struct Recorder {
    upstream: Upstream,
    keys: Keys,
    out: PathBuf,
    started: String,
    exchanges: Mutex<Vec<Exchange>>,
    written: Mutex<Option<replay::Written>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("upstream", &self.upstream)
            .field("keys", &self.keys)
            .field("out", &self.out)
            .finish_non_exhaustive()
    }
}

/// A 40-character secret for the local integration.
fn local_skey() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..40)
        .map(|_| {
            char::from(
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[rng.random_range(0..62)],
            )
        })
        .collect()
}

/// The scenario the recorder serves locally: no objects, one integration with every grant (the
/// upstream integration's own grants decide what is answered), the upstream's host name.
pub fn local_scenario(upstream_host: &str) -> Result<Scenario> {
    let name = upstream_host
        .rsplit_once(':')
        .filter(|(_, port)| port.parse::<u16>().is_ok())
        .map_or(upstream_host, |(name, _)| name);
    let host = if name.is_empty() || name.contains(['/', ' ', ':', '[']) || !name.is_ascii() {
        "api-00000000.duosecurity.com"
    } else {
        name
    };
    Scenario::builder()
        .api_hostname(host)
        .integration_with_keys("recorder", LOCAL_IKEY, &local_skey(), &Grant::ALL)
        .build()
}

impl Recorder {
    /// A recorder forwarding to `upstream` with `keys`, writing to `out` when stopped.
    pub fn new(upstream: Upstream, keys: Keys, out: PathBuf) -> Self {
        Self {
            upstream,
            keys,
            out,
            started: crate::probe::rfc3339_now(),
            exchanges: Mutex::new(Vec::new()),
            written: Mutex::new(None),
        }
    }

    /// Whether the recording is over (its files written).
    pub fn is_stopped(&self) -> bool {
        self.written.lock().map_or(true, |w| w.is_some())
    }

    /// Writes the files (once: later calls return what was written).
    pub fn finish(&self) -> Result<replay::Written> {
        let mut written = self
            .written
            .lock()
            .map_err(|_| Error::Upstream("recorder state".into()))?;
        if let Some(done) = written.as_ref() {
            return Ok(done.clone());
        }
        let exchanges = self
            .exchanges
            .lock()
            .map_err(|_| Error::Upstream("recorder state".into()))?
            .clone();
        let done = replay::write(&self.out, &exchanges, &self.started)?;
        *written = Some(done.clone());
        Ok(done)
    }

    /// Exchanges forwarded so far.
    pub fn exchanges(&self) -> usize {
        self.exchanges.lock().map_or(0, |e| e.len())
    }

    /// Sends one verified (or unsigned) request upstream, records the exchange, and gives back
    /// upstream's answer.
    async fn forward(&self, parts: &http::request::Parts, body: Bytes, scheme: Option<Scheme>) -> Response {
        let path = parts.uri.path();
        let query = parts.uri.query().unwrap_or("");
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/x-www-form-urlencoded");
        let signing = match scheme {
            None => Signing::None,
            // Duo takes v2 and v5: a legacy v1 or v4 client is signed for again in their stead.
            Some(scheme) => Signing::Signed {
                scheme: match scheme {
                    Scheme::V1(digest) => Scheme::V2(digest),
                    Scheme::V4 => Scheme::V5,
                    other => other,
                },
                date: crate::probe::unix_now(),
            },
        };
        let with_body = (!body.is_empty()).then_some((content_type, body));
        let sent = upstream::request(
            self.upstream.target(),
            &self.keys,
            &parts.method,
            path,
            query,
            signing,
            with_body,
        );
        let answer = match sent {
            Ok(request) => self.upstream.send(request).await,
            Err(error) => Err(error),
        };
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(%error, path, "upstream did not answer");
                let envelope = json!({
                    "code": 50200,
                    "message": "Bad gateway",
                    "message_detail": format!("duo-mock record: {error}"),
                    "stat": "FAIL",
                });
                return (StatusCode::BAD_GATEWAY, axum::Json(envelope)).into_response();
            }
        };
        let text = |name| {
            answer
                .headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let exchange = Exchange {
            method: parts.method.as_str().to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            status: answer.status.as_u16(),
            content_type: text(header::CONTENT_TYPE),
            server: text(header::SERVER),
            retry_after: text(header::RETRY_AFTER),
            body: answer.body.clone(),
        };
        if let Ok(mut exchanges) = self.exchanges.lock() {
            exchanges.push(exchange);
        }
        let mut response = Response::new(axum::body::Body::from(answer.body));
        *response.status_mut() = answer.status;
        for name in [header::CONTENT_TYPE, header::RETRY_AFTER] {
            if let Some(value) = answer.headers.get(&name) {
                response.headers_mut().insert(name, value.clone());
            }
        }
        response
    }
}

/// The recorder's application: the control API with `/record/stop`, and every other request
/// verified and forwarded.
pub fn app(state: AppState, recorder: Arc<Recorder>) -> Router {
    let stopper = Arc::clone(&recorder);
    let extra = Router::new().route(
        "/record/stop",
        axum::routing::post(move || {
            let recorder = Arc::clone(&stopper);
            async move { stop(&recorder) }
        }),
    );
    let control = crate::control::routes_with(state.clone(), extra).with_state(state.clone());
    Router::new()
        .fallback(forward)
        .nest_service(crate::control::PREFIX, control)
        .with_state((state, recorder))
}

fn stop(recorder: &Recorder) -> Response {
    match recorder.finish() {
        Ok(w) => axum::Json(json!({
            "status": "stopped",
            "dir": recorder.out.display().to_string(),
            "exchanges": recorder.exchanges(),
            "users": w.users.0,
            "groups": w.groups.0,
            "admins": w.admins.0,
            "faults": w.faults,
        }))
        .into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({ "error": error.to_string() })),
        )
            .into_response(),
    }
}

async fn forward(State((state, recorder)): State<(AppState, Arc<Recorder>)>, request: Request) -> Response {
    let arrival = crate::journal::arrive(&state, &request);
    let (parts, body) = request.into_parts();
    let limit = state.world().options().limits.body_bytes;
    let response = match axum::body::to_bytes(body, limit).await {
        _ if recorder.is_stopped() => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({
                "code": 50300,
                "message": "Service Unavailable",
                "message_detail": "duo-mock record: the recording is stopped and written; end this process",
                "stat": "FAIL",
            })),
        )
            .into_response(),
        Err(_) => ApiError::custom(41300, "Request entity too large").into_response(),
        Ok(body) if !parts.headers.contains_key(header::AUTHORIZATION) => {
            recorder.forward(&parts, body, None).await
        }
        Ok(body) => match crate::auth::verify(&state, &parts, &body) {
            Ok(caller) => recorder.forward(&parts, body, Some(caller.scheme)).await,
            Err(refusal) => refusal.into_response(),
        },
    };
    crate::journal::answer(&state, arrival, response)
}
