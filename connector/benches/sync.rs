//! Full sync of a large tenant over loopback HTTPS, against a plain client that only downloads
//! the same pages in the same run (issue goals: sync ≤ 3× the bare download at 100,000 users and
//! ≤ 4× at 1,000,000; peak memory ≤ 2× the snapshot's size; signing ≤ 2 µs a request).
//!
//! ```sh
//! cargo bench -p connector --bench sync -- --scenario scenarios/users-100k.toml --rounds 3
//! cargo bench -p connector --bench sync -- --users 1000000 --rounds 1
//! ```
//!
//! The fake runs in this process on its own runtime, loaded before anything is measured; memory is
//! the growth of this process's peak resident set (VmHWM) during the sync, which the fake's
//! per-request buffers add to only briefly.

use std::time::{Duration, Instant};

use duo_auth::{Scheme, SignedParts, SigningKey};
use duo_connector::client::Client;
use duo_connector::config::{Config, SecretKey};
use duo_connector::sync::SyncOptions;
use mock_server::{MockServer, Scenario, StartOptions, TlsMode};

struct Flags {
    users: u64,
    rounds: u32,
    scenario: Option<std::path::PathBuf>,
}

fn flags() -> Flags {
    let mut flags = Flags {
        users: 100_000,
        rounds: 3,
        scenario: None,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--users" => {
                flags.users = args[i + 1].parse().expect("--users N");
                i += 1;
            }
            "--scenario" => {
                flags.scenario = Some(args[i + 1].clone().into());
                i += 1;
            }
            "--rounds" => {
                flags.rounds = args[i + 1].parse().expect("--rounds N");
                i += 1;
            }
            _ => {} // cargo bench passes --bench
        }
        i += 1;
    }
    flags
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn scenario(users: u64) -> Scenario {
    let text = format!(
        r#"
[tenant]
name = "bench"
api_hostname = "api-bench.duosecurity.com"
seed = 7

[generate]
users = {users}
admins = 50
groups = 40

[[integrations]]
name = "bench"
ikey = "DIBENCH0000000000000"
skey = "bench-only-secret-key"
grants = ["Grant read resource", "Grant administrators"]
"#
    );
    Scenario::parse(&text, "<bench>").expect("bench scenario")
}

fn config(server: &MockServer, ca: &std::path::Path, parallelism: usize) -> Config {
    let integration = &server.info().integrations[0];
    let host = format!("localhost:{}", server.info().port);
    let mut config = Config::new(&host, &integration.ikey, SecretKey::new(integration.skey.clone())).unwrap();
    config.ca_cert = Some(ca.to_owned());
    config.parallelism = parallelism;
    config
}

/// Downloads `urls` (path and query) signed, reading each body whole and nothing more.
async fn bare_download(http: &reqwest::Client, server: &MockServer, urls: &[String]) -> u64 {
    let integration = &server.info().integrations[0];
    let host = format!("localhost:{}", server.info().port);
    let key = SigningKey::new(integration.skey.as_bytes());
    let mut bytes = 0;
    for url in urls {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let params = duo_auth::params::parse_urlencoded(query.as_bytes());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let date = duo_auth::date::format_date(now.as_secs() as i64);
        let parts = SignedParts {
            date: &date,
            method: "GET",
            host: &host,
            path,
            params: &params,
            body: b"",
            duo_headers: &[],
        };
        let signature = duo_auth::sign(&key, Scheme::V5, &parts);
        let body = http
            .get(format!("https://{host}{url}"))
            .header("Date", &date)
            .header(
                "Authorization",
                duo_auth::authorization_header(&integration.ikey, &signature),
            )
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        bytes += body.len() as u64;
    }
    bytes
}

fn main() {
    let flags = flags();
    let fake_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    // Paths are relative to the workspace root, where the docs run the command.
    let scenario = match &flags.scenario {
        Some(path) => {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(path);
            Scenario::load(&path).expect("scenario loads")
        }
        None => scenario(flags.users),
    };
    let server = fake_runtime
        .block_on(MockServer::start(
            &scenario,
            StartOptions {
                tls: TlsMode::Generate,
                ..StartOptions::default()
            },
        ))
        .unwrap();
    println!("fake ready in {:.2?}", started.elapsed());
    let ca = server.info().ca_cert.clone().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(server.ca_pem().unwrap().as_bytes()).unwrap())
        .build()
        .unwrap();

    // Signing cost alone.
    let key = SigningKey::new(b"bench-only-secret-key");
    let params = duo_auth::params::parse_urlencoded(b"limit=300&offset=99900");
    let signs = 200_000;
    let t = Instant::now();
    for _ in 0..signs {
        let parts = SignedParts {
            date: "Sat, 28 Nov 2026 10:24:40 -0000",
            method: "GET",
            host: "localhost:8443",
            path: "/admin/v1/users",
            params: &params,
            body: b"",
            duo_headers: &[],
        };
        std::hint::black_box(duo_auth::sign(&key, Scheme::V5, std::hint::black_box(&parts)));
    }
    println!(
        "signing (v5, one page request): {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / signs as f64
    );

    println!(
        "round  sync_1conn  bare_1conn  ratio  sync_4conn  requests  snapshot_MiB  peak_growth_MiB  mem_ratio"
    );
    println!("(sync_1conn: fastest of 4 syncs, bare_1conn: fastest of 3 downloads, interleaved)");
    let mut ratios = Vec::new();
    for round in 1..=flags.rounds {
        // Resets VmHWM to the current resident set (Linux), so each round measures its own peak.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let rss_before = status_kib("VmRSS:");
        let (sync_1, requests, snapshot_bytes, peak_growth_kib) = runtime.block_on(async {
            let client = Client::new(&config(&server, &ca, 1)).unwrap();
            let options = SyncOptions {
                parallelism: 1,
                ..SyncOptions::default()
            };
            let t = Instant::now();
            let snapshot = duo_connector::sync::sync(&client, &options).await.unwrap();
            let elapsed = t.elapsed();
            let requests = client.stats().requests.load(std::sync::atomic::Ordering::Relaxed);
            let peak_growth_kib = status_kib("VmHWM:").saturating_sub(rss_before);
            // Written as the CLI writes it: streamed, never a second copy in memory.
            let mut size = ByteCount(0);
            snapshot.write_to(&mut size).unwrap();
            (elapsed, requests, size.0, peak_growth_kib)
        });
        // The same pages, in the same order, from the journal of that sync.
        let urls: Vec<String> = server
            .state()
            .journal()
            .entries_after(0)
            .iter()
            .rev()
            .take(requests as usize)
            .rev()
            .map(|e| format!("{}?{}", e.path, e.query))
            .collect();
        // Interleaved pairs, the fastest of each kind: a noisy neighbour slows one run, not a kind.
        let sync_once = || {
            runtime.block_on(async {
                let client = Client::new(&config(&server, &ca, 1)).unwrap();
                let options = SyncOptions {
                    parallelism: 1,
                    ..SyncOptions::default()
                };
                let t = Instant::now();
                duo_connector::sync::sync(&client, &options).await.unwrap();
                t.elapsed()
            })
        };
        let mut sync_1 = sync_1;
        let mut bare = Duration::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            runtime.block_on(bare_download(&http, &server, &urls));
            bare = bare.min(t.elapsed());
            sync_1 = sync_1.min(sync_once());
        }
        let sync_4 = runtime.block_on(async {
            let client = Client::new(&config(&server, &ca, 4)).unwrap();
            let t = Instant::now();
            duo_connector::sync::sync(&client, &SyncOptions::default())
                .await
                .unwrap();
            t.elapsed()
        });
        let ratio = sync_1.as_secs_f64() / bare.as_secs_f64();
        ratios.push(ratio);
        let mib = |bytes: f64| bytes / (1024.0 * 1024.0);
        println!(
            "{round:>5}  {:>10}  {:>10}  {ratio:>5.2}  {:>10}  {requests:>8}  {:>12.1}  {:>15.1}  {:>9.2}",
            fmt(sync_1),
            fmt(bare),
            fmt(sync_4),
            mib(snapshot_bytes as f64),
            mib(peak_growth_kib as f64 * 1024.0),
            peak_growth_kib as f64 * 1024.0 / snapshot_bytes as f64,
        );
        if round == 1 {
            println!(
                "       (later rounds reuse memory the allocator kept: only round 1's peak growth counts)"
            );
        }
    }
    ratios.sort_by(f64::total_cmp);
    println!("median sync ÷ bare download: {:.2}", ratios[ratios.len() / 2]);
}

/// Counts what is written to it.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn fmt(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}
