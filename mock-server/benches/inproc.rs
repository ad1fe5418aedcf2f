//! Server-side cost of one request, in process: the whole app (journal, churn and fault layers,
//! routing, auth, handler) driven through `tower::Service` with pre-built requests, no sockets.
//! Endpoints (a)–(e) are those of the `serve` bench.
//!
//! Two uses:
//! - wall clock: per endpoint, a histogram of the time to the response head (what the journal's
//!   `latency_us` measures) and the mean time per request including the body's frames, in
//!   interleaved rounds;
//! - instruction counts: `--only d --iterations 5000` runs one endpoint in [`measured`], which
//!   callgrind can isolate, so counts per request are deterministic on a noisy machine:
//!
//! ```text
//! cargo bench -p mock-server --bench inproc --no-run
//! valgrind --tool=callgrind --toggle-collect='inproc::measured*' \
//!     target/release/deps/inproc-<hash> --only d --iterations 5000 --users 1000
//! ```
//!
//! `cargo bench -p mock-server --bench inproc -- [--rounds N] [--iterations N] [--users N]`

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::get;
use bytes::Bytes;
use duo_auth::{Digest, Scheme};
use http_body_util::BodyExt as _;
use mock_server::{AppState, Scenario};
use tower::ServiceExt as _;

/// Endpoints, as in the `serve` bench: (name, path and query, signing scheme or unsigned).
const ENDPOINTS: [(&str, &str, Option<Scheme>); 5] = [
    ("a raw300 (unsigned, pre-rendered)", "/__bench/raw300", None),
    (
        "b users?limit=300 v5",
        "/admin/v1/users?limit=300&offset=0",
        Some(Scheme::V5),
    ),
    (
        "c users?limit=300 v2-sha1",
        "/admin/v1/users?limit=300&offset=0",
        Some(Scheme::V2(Digest::Sha1)),
    ),
    (
        "d users?limit=1 v5",
        "/admin/v1/users?limit=1&offset=0",
        Some(Scheme::V5),
    ),
    ("e tiny (unsigned, same body as d)", "/__bench/tiny", None),
];

fn main() {
    let flags = common::Flags::from_env();
    let arg = |name: &str, default: &str| flags.get(name, default);
    let rounds: usize = arg("--rounds", "5").parse().expect("--rounds N");
    let iterations: usize = arg("--iterations", "20000").parse().expect("--iterations N");
    let users: u32 = arg("--users", "100000").parse().expect("--users N");
    let only = arg("--only", "");
    let journal = arg("--journal", "on") == "on";

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("scenarios/users-100k.toml"))
        .expect("scenario")
        .replace("users = 100000", &format!("users = {users}"));
    let scenario = Scenario::parse(&text, "users-100k.toml").expect("parses");
    let state = AppState::from_scenario(&scenario).expect("tenant");
    state.journal().set_enabled(journal);
    let app = bench_app(&state);
    let integration = &scenario.integrations[0];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    // Each endpoint answers 200 before anything is measured.
    for (name, target, scheme) in ENDPOINTS {
        let request = build_request(integration, target, scheme);
        let response = rt.block_on(app.clone().oneshot(request)).expect("infallible");
        assert_eq!(response.status(), 200, "{name}");
    }

    if !only.is_empty() {
        let (name, target, scheme) = ENDPOINTS
            .iter()
            .copied()
            .find(|(name, _, _)| name.starts_with(only.as_str()))
            .expect("--only a|b|c|d|e");
        let requests: Vec<_> = (0..iterations)
            .map(|_| build_request(integration, target, scheme))
            .collect();
        let started = Instant::now();
        let frames = rt.block_on(measured(&app, requests));
        let elapsed = started.elapsed();
        println!(
            "{name}: {iterations} requests, {frames} body frames, {:.2} µs per request",
            elapsed.as_secs_f64() * 1e6 / iterations as f64
        );
        return;
    }

    println!(
        "{users} users, journal {}, {rounds} rounds of {iterations} requests per endpoint",
        if journal { "on" } else { "off" }
    );
    // Per endpoint and round: head-time samples (ns) and mean µs per whole request.
    let mut heads: Vec<Vec<u64>> = vec![Vec::new(); ENDPOINTS.len()];
    let mut means: Vec<Vec<f64>> = vec![Vec::new(); ENDPOINTS.len()];
    for round in 0..rounds {
        for k in 0..ENDPOINTS.len() {
            let i = (k + round) % ENDPOINTS.len();
            let (_, target, scheme) = ENDPOINTS[i];
            let requests: Vec<_> = (0..iterations)
                .map(|_| build_request(integration, target, scheme))
                .collect();
            let started = Instant::now();
            let samples = rt.block_on(timed(&app, requests));
            means[i].push(started.elapsed().as_secs_f64() * 1e6 / iterations as f64);
            heads[i].extend(samples);
        }
        let mean = |i: usize| means[i][round];
        println!(
            "round {}: µs per request a {:.2} b {:.2} c {:.2} d {:.2} e {:.2}  d-e {:.2}",
            round + 1,
            mean(0),
            mean(1),
            mean(2),
            mean(3),
            mean(4),
            mean(3) - mean(4)
        );
    }
    println!(
        "\n{:<36} {:>12} {:>10} {:>10} {:>10} {:>10}",
        "endpoint (all rounds)", "µs/req med", "head p50", "head p99", "head p99.9", "head max"
    );
    for (i, (name, _, _)) in ENDPOINTS.iter().enumerate() {
        let h = &mut heads[i];
        h.sort_unstable();
        let pct = |p: f64| h[((h.len() as f64 * p) as usize).min(h.len() - 1)] as f64 / 1e3;
        let mut m = means[i].clone();
        m.sort_by(f64::total_cmp);
        println!(
            "{name:<36} {:>12.2} {:>8.2}µs {:>8.2}µs {:>8.2}µs {:>8.1}µs",
            m[m.len() / 2],
            pct(0.5),
            pct(0.99),
            pct(0.999),
            h[h.len() - 1] as f64 / 1e3
        );
    }
}

/// The app as the `serve` bench builds it: the real routes plus the two unsigned bench routes.
fn bench_app(state: &AppState) -> axum::Router {
    let world = state.world();
    let tenant = &world.tenant;
    let page = |n: usize| {
        let mut parts = Vec::new();
        tenant.users.range_into(0, n, &mut parts);
        let mut body = format!(
            "{{\"metadata\":{{\"next_offset\":{n},\"total_objects\":{}}},\"response\":[",
            tenant.users.len()
        )
        .into_bytes();
        for p in parts {
            body.extend_from_slice(&p);
        }
        body.extend_from_slice(b"],\"stat\":\"OK\"}");
        Bytes::from(body)
    };
    let (raw300, tiny) = (page(300), page(1));
    mock_server::app(state.clone())
        .route(
            "/__bench/raw300",
            get(move || std::future::ready(mock_server::body::json_parts(vec![raw300.clone()]))),
        )
        .route(
            "/__bench/tiny",
            get(move || std::future::ready(mock_server::body::json_parts(vec![tiny.clone()]))),
        )
}

/// A request as `server::run` hands it to the app (peer address attached).
fn build_request(
    integration: &mock_server::scenario::Integration,
    target: &str,
    scheme: Option<Scheme>,
) -> axum::http::Request<Body> {
    let mut builder = axum::http::Request::get(target)
        .header("host", "127.0.0.1:8443")
        .header("user-agent", "duo-mock-bench");
    if let Some(scheme) = scheme {
        let keys = (integration.ikey.as_str(), integration.skey.as_str());
        let (date, authorization) = common::signed_headers(keys, scheme, "GET", target, common::now_unix());
        builder = builder
            .header("date", date)
            .header("authorization", authorization);
    }
    let mut request = builder.body(Body::empty()).expect("request");
    let peer: SocketAddr = "127.0.0.1:50000".parse().expect("addr");
    request.extensions_mut().insert(ConnectInfo(peer));
    request
}

/// Serves every request to the end of its body (frames dropped, not copied); returns the number
/// of frames. Not inlined, so callgrind's `--toggle-collect` can count exactly this.
#[inline(never)]
async fn measured(app: &axum::Router, requests: Vec<axum::http::Request<Body>>) -> usize {
    let mut frames = 0;
    for request in requests {
        let response = app.clone().oneshot(request).await.expect("infallible");
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            std::hint::black_box(frame.expect("body"));
            frames += 1;
        }
    }
    frames
}

/// As [`measured`], recording each request's time to its response head, nanoseconds.
async fn timed(app: &axum::Router, requests: Vec<axum::http::Request<Body>>) -> Vec<u64> {
    let mut samples = Vec::with_capacity(requests.len());
    for request in requests {
        let started = Instant::now();
        let response = app.clone().oneshot(request).await.expect("infallible");
        samples.push(started.elapsed().as_nanos() as u64);
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            std::hint::black_box(frame.expect("body"));
        }
    }
    samples
}
