//! Serving cost, measured side by side in one run: requests per second and p50/p99 latency of
//! (a) the pre-rendered bytes of a 300-user page without auth (the floor for this server),
//! (b) signed `GET /admin/v1/users?limit=300` (v5), (c) the same with v2-SHA1, (d) signed
//! `limit=1`, (e) an unsigned route with the same tiny body as (d). Two more for diagnosis:
//! (f) is (d) with the journal off, (g) the route of (e) sent (d)'s very request headers (date,
//! `Authorization`), so that d/g is the cost of verifying and handling alone, without the larger
//! request, and (h) the route of (e) that first checks (d)'s v5 signature and nothing else (the
//! `Authorization` header decoded, the HMAC over the canonical string compared): h/e is the most
//! any v5-verifying server can reach against (e) in this harness. The server thread's CPU share per
//! phase (from `/proc`) tells whether a phase was bound by the server or by the load generator.
//!
//! The server runs on one thread (a current-thread runtime), the load generator on another, each
//! on its own core when the machine has two. `--server-threads N` runs it instead as `duo-mock`
//! does, on a multi-thread runtime (N workers; `duo-mock` takes one per core), sharing the cores
//! with the load generator. Rounds interleave the endpoints; ratios are taken within a round, so
//! they hold on a noisy machine.
//!
//! Server side, each request's time from the router's call to the answer's head (what the
//! journal's `latency_us` measures, without sockets or the client) goes into a histogram per
//! endpoint: its p99 is the "handler time" goal.
//!
//! `cargo bench -p mock-server --bench serve -- [--rounds N] [--seconds S] [--connections C,...]
//! [--server-threads N]`

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::response::IntoResponse as _;
use axum::routing::get;
use bytes::Bytes;
use duo_auth::{Digest, Scheme};
use mock_server::{AppState, Listener, Scenario};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Endpoint {
    name: &'static str,
    request: Vec<u8>,
}

fn main() {
    let flags = common::Flags::from_env();
    let arg = |name: &str, default: &str| flags.get(name, default);
    let rounds: usize = arg("--rounds", "5").parse().expect("--rounds N");
    let seconds: f64 = arg("--seconds", "3").parse().expect("--seconds S");
    let connections: Vec<usize> = arg("--connections", "1,16")
        .split(',')
        .map(|c| c.parse().expect("--connections 1,16"))
        .collect();
    let server_threads: usize = arg("--server-threads", "0").parse().expect("--server-threads N");

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let scenario = Scenario::load(&root.join("scenarios/users-100k.toml")).expect("scenario");
    let state = AppState::from_scenario(&scenario).expect("tenant");
    let integration = &scenario.integrations[0];

    // The exact bytes the signed routes answer, to serve pre-rendered and unsigned.
    let handler_ns: HandlerTimes = Arc::default();
    let key = duo_auth::SigningKey::new(integration.skey.as_bytes());
    let (addr, raw300, tiny) = start_server(state.clone(), handler_ns.clone(), key, server_threads);
    let endpoints = vec![
        Endpoint {
            name: "a raw300 (unsigned, pre-rendered)",
            request: plain_request("/__bench/raw300", addr),
        },
        Endpoint {
            name: "b users?limit=300 v5",
            request: signed_request(integration, Scheme::V5, "limit=300&offset=0", addr),
        },
        Endpoint {
            name: "c users?limit=300 v2-sha1",
            request: signed_request(integration, Scheme::V2(Digest::Sha1), "limit=300&offset=0", addr),
        },
        Endpoint {
            name: "d users?limit=1 v5",
            request: signed_request(integration, Scheme::V5, "limit=1&offset=0", addr),
        },
        Endpoint {
            name: "e tiny (unsigned, same body as d)",
            request: plain_request("/__bench/tiny", addr),
        },
        Endpoint {
            name: "f users?limit=1 v5, journal off",
            request: signed_request(integration, Scheme::V5, "limit=1&offset=0", addr),
        },
        Endpoint {
            name: "g tiny (unsigned, sent d's headers)",
            request: with_target(
                &signed_request(integration, Scheme::V5, "limit=1&offset=0", addr),
                "/__bench/tiny",
            ),
        },
        Endpoint {
            name: "h tiny, checking d's signature only",
            request: with_target(
                &signed_request(integration, Scheme::V5, "limit=1&offset=0", addr),
                "/__bench/tiny-signature-only?limit=1&offset=0",
            ),
        },
    ];
    // Check each endpoint answers 200 with the expected body before measuring anything.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for e in &endpoints {
        let (status, body) = rt.block_on(one_request(addr, &e.request));
        assert_eq!(status, 200, "{}: {}", e.name, String::from_utf8_lossy(&body));
    }
    let (_, b) = rt.block_on(one_request(addr, &endpoints[1].request));
    assert_eq!(
        b, raw300,
        "the signed page and the pre-rendered page are the same bytes"
    );
    let (_, d) = rt.block_on(one_request(addr, &endpoints[3].request));
    assert_eq!(
        d, tiny,
        "the tiny signed page and the unsigned tiny body are the same bytes"
    );
    println!(
        "page sizes: 300 users = {} bytes, 1 user = {} bytes",
        raw300.len(),
        tiny.len()
    );

    for &c in &connections {
        println!("\n== {c} connection(s), {rounds} rounds of {seconds} s per endpoint ==");
        let mut table: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); endpoints.len()];
        let mut server_side: Vec<Vec<u32>> = vec![Vec::new(); endpoints.len()];
        let mut server_cpu: Vec<Vec<f64>> = vec![Vec::new(); endpoints.len()];
        for round in 0..rounds {
            // Rotate the order each round so no endpoint always runs first.
            for k in 0..endpoints.len() {
                let i = (k + round) % endpoints.len();
                // (f) is (d) with the request journal switched off.
                state.journal().set_enabled(i != 5);
                handler_ns.lock().expect("histogram").clear();
                let (cpu_before, started) = (server_cpu_ticks(), Instant::now());
                let result = rt.block_on(load(
                    addr,
                    &endpoints[i].request,
                    c,
                    Duration::from_secs_f64(seconds),
                ));
                let busy = (server_cpu_ticks() - cpu_before) as f64 / CLOCK_TICKS_PER_S;
                server_cpu[i].push(busy / started.elapsed().as_secs_f64());
                state.journal().set_enabled(true);
                table[i].push(result);
                server_side[i].append(&mut handler_ns.lock().expect("histogram"));
            }
            let rps = |i: usize| table[i][round].0;
            let p99 = |i: usize| table[i][round].2;
            println!(
                "round {}: b/a {:.3}  c/a {:.3}  d/e {:.3}  p99 b/a {:.2}  journal d/f {:.3}  d/g {:.3}  h/e {:.3}",
                round + 1,
                rps(1) / rps(0),
                rps(2) / rps(0),
                rps(3) / rps(4),
                p99(1) / p99(0),
                rps(3) / rps(5),
                rps(3) / rps(6),
                rps(7) / rps(4)
            );
        }
        println!(
            "{:<38} {:>10} {:>10} {:>10} {:>12} {:>14}",
            "endpoint (median of rounds)", "req/s", "p50 ms", "p99 ms", "server CPU", "server µs/req"
        );
        for ((e, results), cpu) in endpoints.iter().zip(&table).zip(&server_cpu) {
            let med = |f: fn(&(f64, f64, f64)) -> f64| median(results.iter().map(f).collect());
            let cpu = median(cpu.clone());
            println!(
                "{:<38} {:>10.0} {:>10.3} {:>10.3} {:>11.0}% {:>14.2}",
                e.name,
                med(|r| r.0),
                med(|r| r.1 * 1e3),
                med(|r| r.2 * 1e3),
                cpu * 100.0,
                cpu / med(|r| r.0) * 1e6
            );
        }
        let ratio = |x: usize, y: usize, f: fn(&(f64, f64, f64)) -> f64| {
            median(table[x].iter().zip(&table[y]).map(|(p, q)| f(p) / f(q)).collect())
        };
        println!(
            "median per-round ratios: b/a {:.3} (goal >= 0.90)  c/a {:.3}  d/e {:.3} (goal >= 0.85)  p99 b/a {:.2} (goal <= 1.1 at 16)",
            ratio(1, 0, |r| r.0),
            ratio(2, 0, |r| r.0),
            ratio(3, 4, |r| r.0),
            ratio(1, 0, |r| r.2)
        );
        println!(
            "journal cost: d/f {:.3} (journal on / off, tiny signed request; goal >= 0.90)",
            ratio(3, 5, |r| r.0)
        );
        println!(
            "d/g {:.3}: (d) against the unsigned route sent (d)'s own request headers, i.e. verifying and handling alone",
            ratio(3, 6, |r| r.0)
        );
        println!(
            "h/e {:.3}: the signature check alone (base64, one v5 HMAC) against (e), the ceiling of d/e",
            ratio(7, 4, |r| r.0)
        );
        println!(
            "{:<38} {:>10} {:>10} {:>10} {:>10} {:>12}",
            "server-side time to head (all rounds)", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "requests"
        );
        for (e, times) in endpoints.iter().zip(&mut server_side) {
            times.sort_unstable();
            let pct = |p: f64| {
                times
                    .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
                    .map_or(0.0, |ns| f64::from(*ns) / 1e3)
            };
            println!(
                "{:<38} {:>10.2} {:>10.2} {:>10.2} {:>10.1} {:>12}",
                e.name,
                pct(0.5),
                pct(0.99),
                pct(0.999),
                pct(1.0),
                times.len()
            );
        }
        println!("(goal: p99 <= 50 µs for the signed page, b)");
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Server-side times, nanoseconds, of the requests since the last clear.
type HandlerTimes = Arc<Mutex<Vec<u32>>>;

/// Starts the fake on its own thread with a one-thread runtime (`threads` 0) or on a multi-thread
/// runtime of `threads` workers; returns its address and the bytes of the 300-user and 1-user
/// pages (as served signed), which the bench routes serve raw.
fn start_server(
    state: AppState,
    handler_ns: HandlerTimes,
    key: duo_auth::SigningKey,
    threads: usize,
) -> (SocketAddr, Bytes, Bytes) {
    let (tx, rx) = std::sync::mpsc::channel();
    let server = std::thread::Builder::new().name(SERVER_THREAD.to_owned());
    let _ = server.spawn(move || {
        let rt = if threads == 0 {
            tokio::runtime::Builder::new_current_thread()
        } else {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(threads).thread_name(SERVER_THREAD);
            builder
        }
        .enable_all()
        .build()
        .expect("runtime");
        rt.block_on(async move {
            let world = state.world();
            let tenant = &world.tenant;
            let page = |n: usize| {
                let mut parts = Vec::new();
                tenant.users.range_into(0, n, &mut parts);
                let metadata = format!(
                    "{{\"metadata\":{{\"next_offset\":{n},\"total_objects\":{}}},\"response\":[",
                    tenant.users.len()
                );
                let mut body = metadata.into_bytes();
                for p in parts {
                    body.extend_from_slice(&p);
                }
                body.extend_from_slice(b"],\"stat\":\"OK\"}");
                Bytes::from(body)
            };
            let (raw300, tiny) = (page(300), page(1));
            let (r, t, tiny_h) = (raw300.clone(), tiny.clone(), tiny.clone());
            let app = mock_server::app(state.clone())
                .route(
                    "/__bench/raw300",
                    get(move || std::future::ready(json(r.clone()))),
                )
                .route("/__bench/tiny", get(move || std::future::ready(json(t.clone()))))
                .route(
                    "/__bench/tiny-signature-only",
                    get(move |request: axum::extract::Request| {
                        std::future::ready(signature_only(&key, &request, &tiny_h))
                    }),
                );
            let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            tx.send((tcp.local_addr().expect("addr"), raw300, tiny))
                .expect("send");
            serve_router(
                Listener {
                    tcp,
                    tls: None,
                    proxy: None,
                },
                app,
                handler_ns,
            )
            .await;
        });
    });
    rx.recv().expect("server started")
}

/// The server thread's name, to find its CPU time in `/proc`.
const SERVER_THREAD: &str = "bench-server";

/// `sysconf(_SC_CLK_TCK)` on Linux: the unit of `/proc`'s CPU times.
const CLOCK_TICKS_PER_S: f64 = 100.0;

/// CPU time (user + system, clock ticks) the server's threads have used so far; 0 where `/proc`
/// is not there. Whether a phase was bound by the server (near 100 % a thread) or by the load
/// generator.
fn server_cpu_ticks() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut ticks = 0;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != SERVER_THREAD {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        ticks += field(14) + field(15);
    }
    ticks
}

/// `request` with its request-line target replaced by `target`.
fn with_target(request: &[u8], target: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(request);
    let (line, rest) = text.split_once("\r\n").expect("request line");
    let mut words = line.split(' ');
    let (method, _, version) = (words.next(), words.next(), words.next());
    format!(
        "{} {target} {}\r\n{rest}",
        method.unwrap_or("GET"),
        version.unwrap_or("HTTP/1.1")
    )
    .into_bytes()
}

/// (h): the tiny body if the request carries (d)'s valid v5 signature (for `GET
/// /admin/v1/users` and its query, host 127.0.0.1), else 401; nothing else is checked.
fn signature_only(
    key: &duo_auth::SigningKey,
    request: &axum::extract::Request,
    body: &Bytes,
) -> axum::response::Response {
    let header = |name| request.headers().get(name).map(axum::http::HeaderValue::as_bytes);
    let date = header("date")
        .and_then(|d| std::str::from_utf8(d).ok())
        .unwrap_or("");
    let credentials = header("authorization").and_then(|a| duo_auth::parse_authorization(a).ok());
    let query = request.uri().query().unwrap_or("");
    let parts = duo_auth::SignedParts {
        date,
        method: "GET",
        host: "",
        path: "/admin/v1/users",
        params: &[],
        body: b"",
        duo_headers: &[],
    };
    let prepared =
        duo_auth::Prepared::with_params_line(Scheme::V5, &parts, std::borrow::Cow::Borrowed(query));
    if credentials.is_some_and(|c| prepared.verify(key, "127.0.0.1", c.signature())) {
        json(body.clone())
    } else {
        axum::http::StatusCode::UNAUTHORIZED.into_response()
    }
}

fn json(body: Bytes) -> axum::response::Response {
    mock_server::body::json_parts(vec![body])
}

/// The same accept loop as `mock_server::run`, for a router with the bench routes added; each
/// request's time to its answer's head goes to `handler_ns`.
async fn serve_router(listener: Listener, app: axum::Router, handler_ns: HandlerTimes) {
    use tower::ServiceExt as _;
    loop {
        let Ok((stream, _)) = listener.tcp.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let handler_ns = handler_ns.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    let app = app.clone();
                    let handler_ns = handler_ns.clone();
                    async move {
                        let started = Instant::now();
                        let response = app.oneshot(request.map(axum::body::Body::new)).await;
                        let ns = u32::try_from(started.elapsed().as_nanos()).unwrap_or(u32::MAX);
                        handler_ns.lock().expect("histogram").push(ns);
                        response
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn plain_request(path: &str, addr: SocketAddr) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes()
}

fn signed_request(
    integration: &mock_server::scenario::Integration,
    scheme: Scheme,
    query: &str,
    addr: SocketAddr,
) -> Vec<u8> {
    let path = "/admin/v1/users";
    let keys = (integration.ikey.as_str(), integration.skey.as_str());
    let (date, authorization) = common::signed_headers(
        keys,
        scheme,
        "GET",
        &format!("{path}?{query}"),
        common::now_unix(),
    );
    // The same signed request is re-sent, as Duo's clients do after a 429: valid for the window.
    format!(
        "GET {path}?{query} HTTP/1.1\r\nHost: {addr}\r\nDate: {date}\r\nAuthorization: {authorization}\r\nUser-Agent: duo-mock-bench\r\n\r\n"
    )
    .into_bytes()
}

/// A minimal keep-alive HTTP/1.1 client: send, read the head, read Content-Length bytes.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::with_capacity(1 << 20),
        }
    }

    async fn request(&mut self, request: &[u8]) -> (u16, usize, usize) {
        self.stream.write_all(request).await.expect("write");
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).expect("head");
                let status: u16 = head[9..12].parse().expect("status");
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .expect("content-length");
                let total = end + 4 + length;
                while self.buf.len() < total {
                    self.fill().await;
                }
                return (status, end + 4, total);
            }
            self.fill().await;
        }
    }

    async fn fill(&mut self) {
        let len = self.buf.len();
        self.buf.reserve(256 * 1024);
        let n = self.stream.read_buf(&mut self.buf).await.expect("read");
        assert!(n > 0 || self.buf.len() > len, "connection closed");
    }

    fn consume(&mut self, total: usize) {
        self.buf.drain(..total);
    }
}

async fn one_request(addr: SocketAddr, request: &[u8]) -> (u16, Vec<u8>) {
    let mut conn = Conn::open(addr).await;
    let (status, body_start, total) = conn.request(request).await;
    (status, conn.buf[body_start..total].to_vec())
}

/// Runs `connections` keep-alive connections for `duration`; returns (req/s, p50 s, p99 s).
async fn load(addr: SocketAddr, request: &[u8], connections: usize, duration: Duration) -> (f64, f64, f64) {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let request = request.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let mut latencies = Vec::with_capacity(100_000);
            while Instant::now() < deadline {
                let t = Instant::now();
                let (status, _, total) = conn.request(&request).await;
                latencies.push(t.elapsed().as_secs_f64());
                assert_eq!(status, 200);
                conn.consume(total);
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("load task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    (all.len() as f64 / elapsed, pct(0.5), pct(0.99))
}
