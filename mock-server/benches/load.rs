//! Scale: generating and loading tenants of 10,000, 100,000 and 1,000,000 users. For each size and
//! thread count, a fresh child process builds the tenant, starts serving, and times its first
//! signed answer; it reports build time, users per second, resident memory per user and a hash of
//! the data (which must not depend on the thread count).
//!
//! `cargo bench -p mock-server --bench load -- [--sizes 10000,100000,1000000] [--threads 1,2]`

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
        child(size, threads);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--build-only") {
        // Only the build, for profilers: `valgrind --tool=callgrind load --build-only 20000 1`.
        let size: u32 = args[i + 1].parse().expect("size");
        let threads: usize = args[i + 2].parse().expect("threads");
        let scenario = scenario_of(size);
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

/// The bundled 100,000-user scenario with `size` users.
fn scenario_of(size: u32) -> Scenario {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("scenarios/users-100k.toml"))
        .expect("scenario")
        .replace("users = 100000", &format!("users = {size}"));
    Scenario::parse(&text, "users-100k.toml").expect("parses")
}

fn child(size: u32, threads: usize) {
    let start = Instant::now();
    let scenario = scenario_of(size);
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
    // After the clock stopped: a hash of everything served, to compare thread counts.
    let world = served.world();
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
        serde_json::json!({"build_s": build_s, "ready_s": ready_s, "rss_base": rss_base, "rss_after": rss_after, "hash": hash})
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
