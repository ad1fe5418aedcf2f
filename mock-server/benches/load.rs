//! Scale: generating and loading tenants of 10,000, 100,000 and 1,000,000 users. For each size and
//! thread count, a fresh child process builds the tenant, starts serving, and times its first
//! signed answer; it reports build time, users per second, resident memory per user and a hash of
//! the data (which must not depend on the thread count).
//!
//! With `--logs PER_DAY`, each child runs twice, alternately without and with an authentication
//! log of PER_DAY events a day over 180 days (spread evenly over the day): ready time and resident
//! memory side by side, and, with the log, the first log page (which reads the tenant's people
//! once) and `--pages` 1000-event pages made in process, paging forward through fresh days by
//! `next_offset` as a collector does, with the memory after them.
//!
//! `cargo bench -p mock-server --bench load -- [--sizes 10000,100000,1000000] [--threads 1,2]
//! [--logs 1000000 [--pages 500] [--runs 3]]`

use std::io::Write as _;
use std::time::Instant;

use duo_auth::{Scheme, SignedParts, SigningKey};
use mock_server::server::{self, StartOptions};
use mock_server::{AppState, Scenario};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let size: u32 = args[i + 1].parse().expect("size");
        let threads: usize = args[i + 2].parse().expect("threads");
        let logs = args.get(i + 3).and_then(|n| n.parse().ok()).map(|per_day: u64| {
            let pages = args.get(i + 4).and_then(|n| n.parse().ok()).unwrap_or(500);
            (per_day, pages)
        });
        child(size, threads, logs);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--build-only") {
        // Only the build, for profilers: `valgrind --tool=callgrind load --build-only 20000 1`.
        let size: u32 = args[i + 1].parse().expect("size");
        let threads: usize = args[i + 2].parse().expect("threads");
        let scenario = scenario_of(size, None);
        let started = Instant::now();
        let tenant = mock_server::generate::build_with_threads(&scenario, threads).expect("builds");
        println!(
            "{size} users on {threads} thread(s): {:.3} s",
            started.elapsed().as_secs_f64()
        );
        drop(std::hint::black_box(tenant));
        return;
    }
    let arg = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    };
    let sizes: Vec<u32> = arg("--sizes", "10000,100000,1000000")
        .split(',')
        .map(|s| s.parse().expect("--sizes"))
        .collect();
    let threads: Vec<usize> = arg("--threads", "1,2")
        .split(',')
        .map(|s| s.parse().expect("--threads"))
        .collect();
    if args.iter().any(|a| a == "--logs") {
        let per_day: u64 = arg("--logs", "1000000").parse().expect("--logs PER_DAY");
        let pages: usize = arg("--pages", "500").parse().expect("--pages N");
        let runs: usize = arg("--runs", "3").parse().expect("--runs N");
        with_and_without_logs(&args[0], &sizes, &threads, per_day, pages, runs);
        return;
    }
    println!(
        "{:>9} {:>7} {:>10} {:>12} {:>10} {:>12} {:>11} {:>18}",
        "users", "threads", "build s", "users/s", "ready s", "RSS MiB", "B/user", "data hash"
    );
    for &size in &sizes {
        let mut hashes = Vec::new();
        for &t in &threads {
            let out = std::process::Command::new(&args[0])
                .args(["--child", &size.to_string(), &t.to_string()])
                .output()
                .expect("child runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let line = String::from_utf8_lossy(&out.stdout);
            let v: serde_json::Value = serde_json::from_str(line.trim()).expect("child JSON");
            let per_user = (v["rss_after"].as_f64().unwrap_or(0.0) - v["rss_base"].as_f64().unwrap_or(0.0))
                / f64::from(size.max(1));
            println!(
                "{:>9} {:>7} {:>10.3} {:>12.0} {:>10.3} {:>12.1} {:>11.0} {:>18}",
                size,
                t,
                v["build_s"].as_f64().unwrap_or(0.0),
                f64::from(size) / v["build_s"].as_f64().unwrap_or(1.0),
                v["ready_s"].as_f64().unwrap_or(0.0),
                v["rss_after"].as_f64().unwrap_or(0.0) / 1_048_576.0,
                per_user,
                v["hash"].as_str().unwrap_or("")
            );
            hashes.push(v["hash"].as_str().unwrap_or("").to_owned());
        }
        hashes.dedup();
        assert_eq!(hashes.len(), 1, "the data must not depend on the thread count");
    }
}

fn rss_bytes() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb * 1024.0)
}

/// The bundled 100,000-user scenario with `size` users (and an authentication log of `per_day`
/// events a day, evenly spread, readable by its integration).
fn scenario_of(size: u32, per_day: Option<u64>) -> Scenario {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut text = std::fs::read_to_string(root.join("scenarios/users-100k.toml"))
        .expect("scenario")
        .replace("users = 100000", &format!("users = {size}"));
    if let Some(per_day) = per_day {
        text = text.replace("\"Grant settings\"]", "\"Grant settings\", \"Grant read log\"]")
            + &format!(
                "\n[logs.authentication]\nper_day = {per_day}\nhours = [{}]\n",
                ["1"; 24].join(", ")
            );
    }
    Scenario::parse(&text, "users-100k.toml").expect("parses")
}

/// Children without and with the log, alternately, `runs` times per size and thread count.
fn with_and_without_logs(
    program: &str,
    sizes: &[u32],
    threads: &[usize],
    per_day: u64,
    pages: usize,
    runs: usize,
) {
    println!("authentication log of {per_day} events a day over 180 days; {pages} pages of 1000 events");
    for &size in sizes {
        for &t in threads {
            let mut results: Vec<(bool, serde_json::Value)> = Vec::new();
            for run in 0..runs {
                for with in [run % 2 == 0, run % 2 != 0] {
                    let mut command = std::process::Command::new(program);
                    command.args(["--child", &size.to_string(), &t.to_string()]);
                    if with {
                        command.args([per_day.to_string(), pages.to_string()]);
                    }
                    let out = command.output().expect("child runs");
                    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                    let v: serde_json::Value =
                        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim())
                            .expect("child JSON");
                    results.push((with, v));
                }
            }
            let median = |with: bool, key: &str| {
                let mut v: Vec<f64> = results
                    .iter()
                    .filter(|(w, _)| *w == with)
                    .filter_map(|(_, r)| r[key].as_f64())
                    .collect();
                v.sort_by(f64::total_cmp);
                v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
            };
            println!("\n{size} users, {t} thread(s), medians of {runs} runs each");
            println!(
                "{:<40} {:>12} {:>12} {:>8}",
                "", "without", "with the log", "ratio"
            );
            for (label, key, scale) in [
                ("ready s (build + first signed answer)", "ready_s", 1.0),
                ("RSS MiB when ready", "rss_ready", 1.0 / 1_048_576.0),
                ("RSS MiB after the log pages", "rss_pages", 1.0 / 1_048_576.0),
            ] {
                let (a, b) = (median(false, key), median(true, key));
                println!(
                    "{label:<40} {:>12.3} {:>12.3} {:>8.3}",
                    a * scale,
                    b * scale,
                    b / a
                );
            }
            println!(
                "first log page (reads the people once) {:.3} s; then a 1000-event page {:.0} µs median ({:.2} µs an event, {:.0} bytes)",
                median(true, "first_page_s"),
                median(true, "page_us"),
                median(true, "page_us") / 1000.0,
                median(true, "page_bytes")
            );
        }
    }
}

const DAY_MS: i64 = 86_400_000;

/// One page of the log's day starting at `day_ms`, after `cursor`.
fn log_page(
    world: &mock_server::state::World,
    now_us: i64,
    day_ms: i64,
    cursor: Option<&(String, String)>,
) -> Vec<u8> {
    let mut query = format!(
        "mintime={day_ms}&maxtime={}&limit=1000&sort=ts:asc",
        day_ms + DAY_MS - 1
    );
    if let Some((ts, txid)) = cursor {
        query.push_str(&format!("&next_offset={ts}&next_offset={txid}"));
    }
    let endpoint = mock_server::routes::logs::ENDPOINTS[0];
    world
        .logs
        .answer(
            world,
            &endpoint,
            &mock_server::params::Params::parse(query.as_bytes()),
            now_us,
        )
        .expect("a page")
}

/// `count` pages forward from yesterday, a day after another back: each page's µs, the last size.
fn pages_forward(world: &mock_server::state::World, now_us: i64, count: usize) -> (f64, f64) {
    let mut day_ms = (now_us / 1000 / DAY_MS - 1) * DAY_MS;
    let mut cursor: Option<(String, String)> = None;
    let mut times = Vec::with_capacity(count);
    let mut bytes = 0.0;
    for _ in 0..count {
        let started = Instant::now();
        let body = log_page(world, now_us, day_ms, cursor.as_ref());
        times.push(started.elapsed().as_secs_f64() * 1e6);
        bytes = body.len() as f64;
        let tail = String::from_utf8_lossy(&body[body.len().saturating_sub(200)..]).into_owned();
        cursor = tail
            .split_once("\"next_offset\":[\"")
            .and_then(|(_, rest)| rest.split_once("\"]"))
            .and_then(|(pair, _)| pair.split_once("\",\""))
            .map(|(ts, txid)| (ts.to_owned(), txid.to_owned()));
        if cursor.is_none() {
            day_ms -= DAY_MS;
        }
    }
    times.sort_by(f64::total_cmp);
    (times.get(times.len() / 2).copied().unwrap_or(f64::NAN), bytes)
}

fn child(size: u32, threads: usize, logs: Option<(u64, usize)>) {
    let start = Instant::now();
    let scenario = scenario_of(size, logs.map(|(per_day, _)| per_day));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("runtime");
    let rss_base = rss_bytes();
    let built = Instant::now();
    let tenant = mock_server::generate::build_with_threads(&scenario, threads).expect("builds");
    let build_s = built.elapsed().as_secs_f64();
    let state = AppState::new(&scenario, tenant);
    let rss_after = rss_bytes();
    let served = state.clone();
    let ready_s = rt.block_on(async {
        let (listener, info, _) = server::prepare(&scenario, &StartOptions::default(), state.control_token())
            .await
            .expect("bind");
        tokio::spawn(server::run(listener, state, std::future::pending()));
        first_signed_answer(&info).await;
        start.elapsed().as_secs_f64()
    });
    let rss_ready = rss_bytes();
    let world = served.world();
    let mut logs_report = serde_json::json!({"rss_ready": rss_ready});
    if let Some((_, pages)) = logs {
        let now_us = mock_server::logs::answer::now_us(&served);
        let first = Instant::now();
        log_page(&world, now_us, (now_us / 1000 / DAY_MS - 100) * DAY_MS, None);
        logs_report["first_page_s"] = first.elapsed().as_secs_f64().into();
        let (page_us, bytes) = pages_forward(&world, now_us, pages);
        logs_report["page_us"] = page_us.into();
        logs_report["page_bytes"] = bytes.into();
    }
    logs_report["rss_pages"] = rss_bytes().into();
    // After the clock stopped: a hash of everything served, to compare thread counts.
    let tenant = &world.tenant;
    let hash = {
        // FNV-1a over the whole dump: cheap, and any changed byte changes it.
        let mut out = Vec::with_capacity(tenant.users.arena_bytes() + 1024);
        mock_server::dump::write_dump(tenant, &[], &mut out).expect("dump");
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in &out {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    };
    drop(world);
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "{}",
        serde_json::json!({"build_s": build_s, "ready_s": ready_s, "rss_base": rss_base, "rss_after": rss_after, "hash": hash, "rss_ready": logs_report["rss_ready"], "rss_pages": logs_report["rss_pages"], "first_page_s": logs_report["first_page_s"], "page_us": logs_report["page_us"], "page_bytes": logs_report["page_bytes"]})
    );
}

async fn first_signed_answer(info: &mock_server::ServerInfo) {
    let integration = &info.integrations[0];
    let date = duo_auth::date::format_date(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64,
    );
    let parts = SignedParts {
        date: &date,
        method: "GET",
        host: "127.0.0.1",
        path: "/admin/v1/info/summary",
        params: &[],
        body: b"",
        duo_headers: &[],
    };
    let signature = duo_auth::sign(&SigningKey::new(integration.skey.as_bytes()), Scheme::V5, &parts);
    let response = reqwest::Client::new()
        .get(format!("{}/admin/v1/info/summary", info.base_url))
        .header("Date", &date)
        .header(
            "Authorization",
            duo_auth::authorization_header(&integration.ikey, &signature),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
}
