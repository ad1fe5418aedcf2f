//! Soak: mixed load for a long time (10 minutes by default) against the fake with its journal on
//! and fault rules firing, sampling resident memory and latency every 10 s, then a verdict on
//! whether memory stayed flat and p99 stable.
//!
//! The load is valid requests (users pages of 300 and of 1, v5 and v2-SHA1, admins, groups,
//! summary) and invalid ones (a wrong secret, no `Authorization`, a stale date, a bad `limit`,
//! an unknown path, a wrong method), over 8 keep-alive connections. Fault rules answer some
//! requests with a 429, a WAF page, a truncated body, drifted JSON, a 25 ms delay, or close the
//! connection (the client then reconnects). The server runs in this process on its own thread
//! (`server::run`, one-thread runtime), so `VmRSS` is the server's plus a small, constant client.
//!
//! `cargo bench -p mock-server --bench soak -- [--seconds 600] [--interval 10] [--connections 8]`
//! (or `SOAK_SECONDS=60`).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use duo_auth::{Digest, Scheme};
use http_body_util::{BodyExt as _, Empty};
use hyper::Request;
use mock_server::{AppState, MockServer, Scenario, StartOptions};
use tokio::net::TcpStream;

/// The 100,000-user scenario cut to 20,000 users, with fault rules that fire on a share of calls.
fn scenario() -> Scenario {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut text = std::fs::read_to_string(root.join("scenarios/users-100k.toml"))
        .expect("scenario")
        .replace("users = 100000", "users = 20000");
    text.push_str(
        r#"
[[faults]]
name = "soak: rate limited"
path = "/admin/v1/users"
probability = 0.02
duo_error = 42901
retry_after_s = 1

[[faults]]
name = "soak: waf"
path = "/admin/v2/groups"
probability = 0.05
intermediary = "cloudflare-403"

[[faults]]
name = "soak: truncated"
path = "/admin/v1/admins"
probability = 0.05
malformed = "truncated"

[[faults]]
name = "soak: drift"
path = "/admin/v1/info/summary"
probability = 0.2
drift = ["extra-fields", "reordered-keys"]

[[faults]]
name = "soak: slow"
path = "/admin/v1/users"
probability = 0.0005
delay_ms = 25

[[faults]]
name = "soak: closed"
path = "/admin/v1/admins"
probability = 0.01
network = "close-before-answer"
"#,
    );
    Scenario::parse(&text, "soak.toml").expect("soak scenario parses")
}

/// One request of the mix, signed (or spoiled) for the current window.
#[derive(Clone)]
struct Planned {
    method: &'static str,
    target: String,
    headers: Vec<(&'static str, String)>,
}

/// The mix for the next few seconds: signatures hold for Duo's 300 s window, so it is re-made
/// each sampling interval.
fn plan(info: &mock_server::ServerInfo, round: u64) -> Vec<Planned> {
    let integration = &info.integrations[0];
    let now = common::now_unix();
    let host = format!("127.0.0.1:{}", info.port);
    let signed = |method: &'static str, path: &str, query: &str, scheme: Scheme, skey: &str, date: i64| {
        let target = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        let keys = (integration.ikey.as_str(), skey);
        let (date, authorization) = common::signed_headers(keys, scheme, method, &target, date);
        Planned {
            method,
            target,
            headers: vec![
                ("host", host.clone()),
                ("date", date),
                ("authorization", authorization),
            ],
        }
    };
    let skey = integration.skey.as_str();
    let v5 = Scheme::V5;
    let sha1 = Scheme::V2(Digest::Sha1);
    // Offsets move each round, so pages come from the whole tenant.
    let offset = |k: u64| (round * 7 + k) * 300 % 19_500;
    let mut mix = Vec::new();
    for k in 0..4 {
        mix.push(signed(
            "GET",
            "/admin/v1/users",
            &format!("limit=300&offset={}", offset(k)),
            v5,
            skey,
            now,
        ));
    }
    mix.push(signed(
        "GET",
        "/admin/v1/users",
        &format!("limit=100&offset={}", offset(9)),
        sha1,
        skey,
        now,
    ));
    for _ in 0..6 {
        mix.push(signed(
            "GET",
            "/admin/v1/users",
            "limit=1&offset=0",
            v5,
            skey,
            now,
        ));
    }
    mix.push(signed("GET", "/admin/v1/admins", "", v5, skey, now));
    mix.push(signed("GET", "/admin/v2/groups", "limit=100", v5, skey, now));
    mix.push(signed("GET", "/admin/v1/info/summary", "", sha1, skey, now));
    // Invalid: a wrong secret, a stale date, a bad limit, no credentials, no such path, wrong method.
    let wrong = "x".repeat(40);
    mix.push(signed("GET", "/admin/v1/users", "limit=10", v5, &wrong, now));
    mix.push(signed("GET", "/admin/v1/users", "limit=10", v5, skey, now - 3600));
    mix.push(signed("GET", "/admin/v1/users", "limit=abc", v5, skey, now));
    mix.push(Planned {
        method: "GET",
        target: "/admin/v1/users?limit=10".into(),
        headers: vec![("host", host.clone())],
    });
    mix.push(signed("GET", "/admin/v1/nowhere", "", v5, skey, now));
    mix.push(signed("PATCH", "/admin/v1/info/summary", "", v5, skey, now));
    mix
}

/// What each connection records: latencies (s) and answers by kind, for the current window.
#[derive(Default)]
struct Window {
    latencies: Vec<f64>,
    ok: u64,
    client_errors: u64,
    server_errors: u64,
    other: u64,
    cut: u64,
}

fn main() {
    let flags = common::Flags::from_env();
    let arg = |name: &str, default: &str| flags.get(name, default);
    let default_seconds = std::env::var("SOAK_SECONDS").unwrap_or_else(|_| "600".into());
    let seconds: f64 = arg("--seconds", &default_seconds).parse().expect("--seconds S");
    let interval: f64 = arg("--interval", "10").parse().expect("--interval S");
    let connections: usize = arg("--connections", "8").parse().expect("--connections N");

    let scenario = scenario();
    let (tx, rx) = std::sync::mpsc::channel();
    let started_build = Instant::now();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let server = MockServer::start(&scenario, StartOptions::default())
                .await
                .expect("server starts");
            tx.send((server.info().clone(), server.state().clone()))
                .expect("send");
            std::future::pending::<()>().await;
            drop(server);
        });
    });
    let (info, state): (mock_server::ServerInfo, AppState) = rx.recv().expect("server started");
    println!(
        "soak: {seconds:.0} s, sampled every {interval:.0} s, {connections} connections, 20,000 users, journal on, 6 fault rules (built in {:.2} s)",
        started_build.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let mix = Arc::new(RwLock::new(Arc::new(plan(&info, 0))));
    let windows: Arc<Vec<Mutex<Window>>> = Arc::new((0..connections).map(|_| Mutex::default()).collect());
    let stop = Arc::new(AtomicBool::new(false));
    let addr = format!("127.0.0.1:{}", info.port);

    println!(
        "{:>6} {:>9} {:>8} {:>9} {:>9} {:>11} {:>9} {:>9} {:>7} {:>9}",
        "t s", "requests", "req/s", "p50 ms", "p99 ms", "srv p99 µs", "2xx", "4xx", "5xx", "RSS MiB"
    );
    let samples = rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..connections {
            let (mix, windows, stop, addr) = (mix.clone(), windows.clone(), stop.clone(), addr.clone());
            tasks.push(tokio::spawn(async move {
                let mut k = c * 3;
                while !stop.load(Ordering::Relaxed) {
                    let Ok(stream) = TcpStream::connect(&addr).await else {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let Ok((mut sender, conn)) =
                        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await
                    else {
                        continue;
                    };
                    tokio::spawn(conn);
                    while !stop.load(Ordering::Relaxed) {
                        let planned = {
                            let mix = mix.read().expect("mix").clone();
                            mix[k % mix.len()].clone()
                        };
                        k += 1;
                        let mut request = Request::builder().method(planned.method).uri(&planned.target);
                        for (name, value) in &planned.headers {
                            request = request.header(*name, value);
                        }
                        let request = request.body(Empty::<Bytes>::new()).expect("request");
                        let t = Instant::now();
                        let answer = match sender.send_request(request).await {
                            Ok(response) => {
                                let status = response.status().as_u16();
                                response.into_body().collect().await.map(|_| status)
                            }
                            Err(error) => Err(error),
                        };
                        let elapsed = t.elapsed().as_secs_f64();
                        let mut w = windows[c].lock().expect("window");
                        match answer {
                            Ok(status) => {
                                w.latencies.push(elapsed);
                                match status {
                                    200..=299 => w.ok += 1,
                                    400..=499 => w.client_errors += 1,
                                    500..=599 => w.server_errors += 1,
                                    _ => w.other += 1,
                                }
                            }
                            Err(_) => {
                                // A closed connection (a fault rule) or a truncated body: reconnect.
                                w.cut += 1;
                                break;
                            }
                        }
                    }
                }
            }));
        }

        let begun = Instant::now();
        let mut samples = Vec::new();
        let mut after_seq = 0u64;
        let mut round = 0u64;
        while begun.elapsed().as_secs_f64() < seconds {
            let next = Duration::from_secs_f64(interval * (round + 1) as f64);
            tokio::time::sleep(next.saturating_sub(begun.elapsed())).await;
            round += 1;
            *mix.write().expect("mix") = Arc::new(plan(&info, round));
            let mut all = Window::default();
            for w in windows.iter() {
                let mut w = w.lock().expect("window");
                let taken = std::mem::take(&mut *w);
                all.latencies.extend(taken.latencies);
                all.ok += taken.ok;
                all.client_errors += taken.client_errors;
                all.server_errors += taken.server_errors;
                all.other += taken.other;
                all.cut += taken.cut;
            }
            // Server side: time to the answer's head, as the journal records it (its ring keeps
            // the last 10,000 requests: the window's tail).
            let entries = state.journal().entries_after(after_seq);
            after_seq = entries.last().map_or(after_seq, |e| e.seq);
            let mut server: Vec<u64> = entries.iter().map(|e| e.latency_us).collect();
            server.sort_unstable();
            all.latencies.sort_by(f64::total_cmp);
            let pct = |v: &[f64], p: f64| {
                v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
                    .copied()
                    .unwrap_or(0.0)
            };
            let server_p99 = server
                .get(((server.len() as f64 * 0.99) as usize).min(server.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0);
            let requests = all.latencies.len() as u64 + all.cut;
            let sample = Sample {
                t: begun.elapsed().as_secs_f64(),
                requests,
                p50_ms: pct(&all.latencies, 0.5) * 1e3,
                p99_ms: pct(&all.latencies, 0.99) * 1e3,
                server_p99_us: server_p99,
                rss_mib: rss_bytes() / 1_048_576.0,
            };
            println!(
                "{:>6.0} {:>9} {:>8.0} {:>9.3} {:>9.3} {:>11} {:>9} {:>9} {:>7} {:>9.1}{}",
                sample.t,
                requests,
                requests as f64 / interval,
                sample.p50_ms,
                sample.p99_ms,
                sample.server_p99_us,
                all.ok,
                all.client_errors,
                all.server_errors,
                sample.rss_mib,
                if all.cut > 0 {
                    format!("  ({} cut)", all.cut)
                } else {
                    String::new()
                }
            );
            samples.push(sample);
        }
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        samples
    });
    verdict(&samples);
}

struct Sample {
    t: f64,
    requests: u64,
    p50_ms: f64,
    p99_ms: f64,
    server_p99_us: u64,
    rss_mib: f64,
}

/// Flat memory: after the first minute (the journal's ring and the allocator's pools fill), the
/// trend of RSS over the rest of the run, extrapolated to its whole length, is at most 5% or
/// 8 MiB. The trend is the rise from the median of the first third of those samples to the median
/// of the last third, whose middles are two thirds of the span apart: a steady leak of 8 MiB over
/// the span shows as 8 MiB, while the allocator's sawtooth (a few MiB either way from one sample
/// to the next, as freed pages are kept or returned) and a lone high sample do not count. The
/// highest sample is printed too. Stable p99: the median p99 of the last third is within 1.5× that
/// of the first third (a trend, not a noisy window, is what fails it).
fn verdict(samples: &[Sample]) {
    if samples.len() < 3 {
        println!("too few samples for a verdict (run at least three intervals)");
        return;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let warm = samples
        .iter()
        .position(|s| s.t >= 60.0)
        .unwrap_or(samples.len() / 3)
        .min(samples.len() - 2);
    let settled = &samples[warm..];
    let third = (settled.len() / 3).max(1);
    let rss_start = settled[0].rss_mib;
    let rss_end = settled[settled.len() - 1].rss_mib;
    let rss_max = settled.iter().map(|s| s.rss_mib).fold(0.0, f64::max);
    let allowance = (rss_start * 0.05).max(8.0);
    // The medians of `field` over the first and the last `third` samples of `of`.
    let ends = |of: &[Sample], field: fn(&Sample) -> f64| {
        let first = median(of[..third].iter().map(field).collect());
        let last = median(of[of.len() - third..].iter().map(field).collect());
        (first, last)
    };
    let (rss_first, rss_last) = ends(settled, |s| s.rss_mib);
    let rss_trend = (rss_last - rss_first) * 1.5;
    let rss_flat = rss_trend <= allowance;
    let (p99_first, p99_last) = ends(samples, |s| s.p99_ms);
    let p99_all: Vec<f64> = samples.iter().map(|s| s.p99_ms).collect();
    let p99_stable = p99_last <= 1.5 * p99_first;
    let total: u64 = samples.iter().map(|s| s.requests).sum();
    println!(
        "\n{total} requests in {:.0} s ({:.0} req/s)",
        samples[samples.len() - 1].t,
        total as f64 / samples[samples.len() - 1].t
    );
    println!(
        "RSS after {:.0} s {:.1} MiB, at the end {:.1} MiB, highest {:.1} MiB; median of the first third {:.1} MiB, of the last third {:.1} MiB; trend over the run {:+.1} MiB (allowance {:.1} MiB): {}",
        settled[0].t,
        rss_start,
        rss_end,
        rss_max,
        rss_first,
        rss_last,
        rss_trend,
        allowance,
        if rss_flat { "FLAT" } else { "GROWING" }
    );
    println!(
        "p99: median of the first third {:.3} ms, of the last third {:.3} ms, median of all windows {:.3} ms, worst window {:.3} ms: {}",
        p99_first,
        p99_last,
        median(p99_all.clone()),
        p99_all.iter().copied().fold(0.0, f64::max),
        if p99_stable { "STABLE" } else { "DRIFTING" }
    );
    let server: Vec<f64> = samples.iter().map(|s| s.server_p99_us as f64).collect();
    println!(
        "server-side p99 (journal, time to the answer's head): median {:.0} µs, worst window {:.0} µs",
        median(server.clone()),
        server.iter().copied().fold(0.0, f64::max)
    );
}

fn rss_bytes() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb * 1024.0)
}
