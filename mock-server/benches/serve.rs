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
//! Logs: (i) signed v5 `GET /admin/v2/logs/authentication?…&limit=1000&sort=ts:asc` over a log of
//! `--log-per-day` (1,000,000) events a day, each connection paging forward through a day by the
//! answers' `next_offset` as a collector does, then through the day before: no page is asked
//! twice, and every page's events are made anew (only the minute a page ends in is kept for the
//! next). (j) is the pre-rendered bytes of one such page, unsigned: what sending that many bytes
//! costs here, the ceiling of (i). The goal is i/b >= 0.5.
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
    /// Pages forward through the log instead of re-sending `request`.
    pages_logs: bool,
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

    let per_day: u64 = arg("--log-per-day", "1000000").parse().expect("--log-per-day N");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The 100,000-user tenant with an authentication log of `per_day` events a day, spread
    // evenly over the day so every two minutes hold a full page.
    let text = std::fs::read_to_string(root.join("scenarios/users-100k.toml"))
        .expect("scenario")
        .replace("\"Grant settings\"]", "\"Grant settings\", \"Grant read log\"]")
        + &format!(
            "\n[logs.authentication]\nper_day = {per_day}\nhours = [{}]\n",
            ["1"; 24].join(", ")
        );
    let scenario = Scenario::parse(&text, "users-100k.toml + logs").expect("scenario");
    let state = AppState::from_scenario(&scenario).expect("tenant");
    let integration = &scenario.integrations[0];

    // The exact bytes the signed routes answer, to serve pre-rendered and unsigned.
    let handler_ns: HandlerTimes = Arc::default();
    let key = duo_auth::SigningKey::new(integration.skey.as_bytes());
    let (addr, raw300, tiny, raw_log) = start_server(state.clone(), handler_ns.clone(), key, server_threads);
    let days = Arc::new(LogDays::new(integration));
    let endpoints = vec![
        Endpoint {
            name: "a raw300 (unsigned, pre-rendered)",
            request: plain_request("/__bench/raw300", addr),
            pages_logs: false,
        },
        Endpoint {
            name: "b users?limit=300 v5",
            request: signed_request(integration, Scheme::V5, "limit=300&offset=0", addr),
            pages_logs: false,
        },
        Endpoint {
            name: "c users?limit=300 v2-sha1",
            request: signed_request(integration, Scheme::V2(Digest::Sha1), "limit=300&offset=0", addr),
            pages_logs: false,
        },
        Endpoint {
            name: "d users?limit=1 v5",
            request: signed_request(integration, Scheme::V5, "limit=1&offset=0", addr),
            pages_logs: false,
        },
        Endpoint {
            name: "e tiny (unsigned, same body as d)",
            request: plain_request("/__bench/tiny", addr),
            pages_logs: false,
        },
        Endpoint {
            name: "f users?limit=1 v5, journal off",
            request: signed_request(integration, Scheme::V5, "limit=1&offset=0", addr),
            pages_logs: false,
        },
        Endpoint {
            name: "g tiny (unsigned, sent d's headers)",
            request: with_target(
                &signed_request(integration, Scheme::V5, "limit=1&offset=0", addr),
                "/__bench/tiny",
            ),
            pages_logs: false,
        },
        Endpoint {
            name: "h tiny, checking d's signature only",
            request: with_target(
                &signed_request(integration, Scheme::V5, "limit=1&offset=0", addr),
                "/__bench/tiny-signature-only?limit=1&offset=0",
            ),
            pages_logs: false,
        },
        Endpoint {
            name: "i log pages, limit=1000 v5, forward",
            request: Vec::new(),
            pages_logs: true,
        },
        Endpoint {
            name: "j raw 1000-event page (unsigned)",
            request: plain_request("/__bench/raw-log1000", addr),
            pages_logs: false,
        },
    ];
    // Check each endpoint answers 200 with the expected body before measuring anything.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for e in endpoints.iter().filter(|e| !e.pages_logs) {
        let (status, body) = rt.block_on(one_request(addr, &e.request));
        assert_eq!(status, 200, "{}: {}", e.name, String::from_utf8_lossy(&body));
    }
    // A log page as (i) asks for it, and as (j) serves it pre-rendered.
    let mut check = LogDays::pager(&days);
    let started = Instant::now();
    let (status, log_page) = rt.block_on(one_request(addr, &check.next_request(addr)));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&log_page));
    println!(
        "a fresh log page: {:.3} s, {} bytes",
        started.elapsed().as_secs_f64(),
        log_page.len()
    );
    check.saw(&log_page);
    assert!(
        log_page.len().abs_diff(raw_log.len()) < log_page.len() / 50,
        "(j) serves a page the size of (i)'s: {} and {} bytes",
        raw_log.len(),
        log_page.len()
    );
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
        "page sizes: 300 users = {} bytes, 1 user = {} bytes, 1000 log events = {} bytes",
        raw300.len(),
        tiny.len(),
        raw_log.len()
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
                let workload = if endpoints[i].pages_logs {
                    Workload::Logs(Arc::clone(&days))
                } else {
                    Workload::Fixed(&endpoints[i].request)
                };
                let result = rt.block_on(load(addr, workload, c, Duration::from_secs_f64(seconds)));
                let busy = (server_cpu_ticks() - cpu_before) as f64 / CLOCK_TICKS_PER_S;
                server_cpu[i].push(busy / started.elapsed().as_secs_f64());
                state.journal().set_enabled(true);
                table[i].push(result);
                server_side[i].append(&mut handler_ns.lock().expect("histogram"));
            }
            let rps = |i: usize| table[i][round].0;
            let p99 = |i: usize| table[i][round].2;
            println!(
                "round {}: b/a {:.3}  c/a {:.3}  d/e {:.3}  p99 b/a {:.2}  journal d/f {:.3}  d/g {:.3}  h/e {:.3}  i/b {:.3}  j/a {:.3}  i/j {:.3}",
                round + 1,
                rps(1) / rps(0),
                rps(2) / rps(0),
                rps(3) / rps(4),
                p99(1) / p99(0),
                rps(3) / rps(5),
                rps(3) / rps(6),
                rps(7) / rps(4),
                rps(8) / rps(1),
                rps(9) / rps(0),
                rps(8) / rps(9)
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
        println!(
            "logs: i/b {:.3} (1000-event log pages against 300-user pages; goal >= 0.5)  i/j {:.3} (against the same bytes pre-rendered)  j/a {:.3} (a page of that size against a 300-user page, both pre-rendered)",
            ratio(8, 1, |r| r.0),
            ratio(8, 9, |r| r.0),
            ratio(9, 0, |r| r.0)
        );
        println!("log days paged so far: {}", days.used());
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
) -> (SocketAddr, Bytes, Bytes, Bytes) {
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
            // A full page of the log, from a day no pager reads (the retention's first).
            let people_read = Instant::now();
            let raw_log = {
                let now_us = mock_server::logs::answer::now_us(&state);
                let from_ms = (now_us / 1000 / DAY_MS - 178) * DAY_MS;
                let endpoint = mock_server::routes::logs::ENDPOINTS[0];
                let query = format!(
                    "mintime={from_ms}&maxtime={}&limit=1000&sort=ts:asc",
                    from_ms + DAY_MS - 1
                );
                let params = mock_server::params::Params::parse(query.as_bytes());
                Bytes::from(
                    world
                        .logs
                        .answer(&world, &endpoint, &params, now_us)
                        .expect("a log page"),
                )
            };
            println!(
                "the first log page (reading the tenant's people once): {:.3} s",
                people_read.elapsed().as_secs_f64()
            );
            let l = raw_log.clone();
            let app = mock_server::app(state.clone())
                .route(
                    "/__bench/raw300",
                    get(move || std::future::ready(json(r.clone()))),
                )
                .route("/__bench/tiny", get(move || std::future::ready(json(t.clone()))))
                .route(
                    "/__bench/raw-log1000",
                    get(move || std::future::ready(json(l.clone()))),
                )
                .route(
                    "/__bench/tiny-signature-only",
                    get(move |request: axum::extract::Request| {
                        std::future::ready(signature_only(&key, &request, &tiny_h))
                    }),
                );
            let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            tx.send((tcp.local_addr().expect("addr"), raw300, tiny, raw_log))
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
    // The same signed request is re-sent, as Duo's clients do after a 429: valid for the window.
    signed_get(
        (integration.ikey.as_str(), integration.skey.as_str()),
        scheme,
        &format!("/admin/v1/users?{query}"),
        addr,
    )
}

/// `GET target` signed now with `keys`, as raw HTTP/1.1.
fn signed_get(keys: (&str, &str), scheme: Scheme, target: &str, addr: SocketAddr) -> Vec<u8> {
    let (date, authorization) = common::signed_headers(keys, scheme, "GET", target, common::now_unix());
    format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nDate: {date}\r\nAuthorization: {authorization}\r\nUser-Agent: duo-mock-bench\r\n\r\n"
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

/// What a load's connections send.
enum Workload<'a> {
    /// The same request again and again.
    Fixed(&'a [u8]),
    /// Log pages forward, each connection through days of its own.
    Logs(Arc<LogDays>),
}

/// Runs `connections` keep-alive connections for `duration`; returns (req/s, p50 s, p99 s).
async fn load(
    addr: SocketAddr,
    workload: Workload<'_>,
    connections: usize,
    duration: Duration,
) -> (f64, f64, f64) {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let fixed = match &workload {
            Workload::Fixed(request) => Some(request.to_vec()),
            Workload::Logs(_) => None,
        };
        let mut pager = match &workload {
            Workload::Logs(days) => Some(LogDays::pager(days)),
            Workload::Fixed(_) => None,
        };
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let mut latencies = Vec::with_capacity(100_000);
            while Instant::now() < deadline {
                let request = match (&fixed, &mut pager) {
                    (Some(request), _) => std::borrow::Cow::Borrowed(request.as_slice()),
                    (None, Some(pager)) => std::borrow::Cow::Owned(pager.next_request(addr)),
                    (None, None) => unreachable!("a workload"),
                };
                let t = Instant::now();
                let (status, body_start, total) = conn.request(&request).await;
                latencies.push(t.elapsed().as_secs_f64());
                assert_eq!(
                    status,
                    200,
                    "{}",
                    String::from_utf8_lossy(&conn.buf[body_start..total])
                );
                if let Some(pager) = &mut pager {
                    pager.saw(&conn.buf[body_start..total]);
                }
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

const DAY_MS: i64 = 86_400_000;

/// The days of the log the pagers read, handed out once each: yesterday, then further back.
struct LogDays {
    keys: (String, String),
    yesterday_ms: i64,
    next: std::sync::atomic::AtomicI64,
}

impl LogDays {
    fn new(integration: &mock_server::scenario::Integration) -> Self {
        Self {
            keys: (integration.ikey.clone(), integration.skey.clone()),
            yesterday_ms: (common::now_unix() * 1000 / DAY_MS - 1) * DAY_MS,
            next: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// A pager on a day nobody read yet.
    fn pager(days: &Arc<Self>) -> Pager {
        Pager {
            day_ms: days.take_day(),
            days: Arc::clone(days),
            cursor: None,
        }
    }

    fn take_day(&self) -> i64 {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The retention is 180 days; the raw page (j) comes from day 178 back.
        assert!(
            n < 170,
            "the bench paged through 170 days: fewer rounds or seconds"
        );
        self.yesterday_ms - n * DAY_MS
    }

    fn used(&self) -> i64 {
        self.next.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// One collector: a day's pages in order by `next_offset`, then a fresh day.
struct Pager {
    days: Arc<LogDays>,
    day_ms: i64,
    cursor: Option<(String, String)>,
}

impl Pager {
    fn next_request(&mut self, addr: SocketAddr) -> Vec<u8> {
        let path = "/admin/v2/logs/authentication";
        let mut query = format!(
            "limit=1000&maxtime={}&mintime={}",
            self.day_ms + DAY_MS - 1,
            self.day_ms
        );
        if let Some((ts, txid)) = &self.cursor {
            // Sorted, as a signing client sends them: next_offset, then sort.
            query.push_str(&format!("&next_offset={ts}&next_offset={txid}"));
        }
        query.push_str("&sort=ts%3Aasc");
        let keys = (self.days.keys.0.as_str(), self.days.keys.1.as_str());
        signed_get(keys, Scheme::V5, &format!("{path}?{query}"), addr)
    }

    /// Takes the page's `next_offset` (in its last bytes), or moves on to a fresh day.
    fn saw(&mut self, body: &[u8]) {
        let tail = &body[body.len().saturating_sub(200)..];
        let tail = String::from_utf8_lossy(tail);
        self.cursor = tail
            .split_once("\"next_offset\":[\"")
            .and_then(|(_, rest)| rest.split_once("\"]"))
            .and_then(|(pair, _)| pair.split_once("\",\""))
            .map(|(ts, txid)| (ts.to_owned(), txid.to_owned()));
        if self.cursor.is_none() {
            self.day_ms = self.days.take_day();
        }
    }
}
