//! `duo-connector logs` as a process against the fake, whose logs go on happening while it runs:
//! several runs collect every settled event of every type exactly once (the truth is the fake's own
//! dump of the window); an unwritable output fails the run with `sink` and loses nothing; a run
//! killed mid-way and run again loses nothing; a v1 log cut at exactly 1000 events a call loses
//! none of the capped second; a users filter collects that user's events only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mock_server::Scenario;
use mock_server::grants::Grant;
use serde_json::Value;

use crate::support::{Fake, assert_exit, spawn};

const TYPES: [&str; 6] = [
    "authentication",
    "administrator",
    "telephony",
    "activity",
    "offline_enrollment",
    "trust_monitor",
];

/// Seconds an event may take to turn up in the fake (delay + jitter + late), and the settle time
/// the collector is given: at least that.
const SETTLE_S: i64 = 4;

/// A small tenant whose logs happen around the clock at `rates` (TOML lines per log), visible 1 to
/// 3 seconds after they happen (a fifth of them late), with ties in the same microsecond.
/// `extra` goes in `[logs]`, `tail` after the tables (a fault rule).
fn logged(extra: &str, rates: &[(&str, u32)], tail: &str) -> Scenario {
    let every_hour = vec!["1.0"; 24].join(", ");
    let tables: String = rates
        .iter()
        .map(|(log, per_day)| {
            format!("[logs.{log}]\nper_day = {per_day}\nhours = [{every_hour}]\nties = 0.2\n")
        })
        .collect();
    let toml = format!(
        "[logs]\ningestion_delay_s = 1\ningestion_jitter_s = 1\nlate_share = 0.2\nlate_max_s = 1\nlive_successes = true\n{extra}\n{tables}{tail}"
    );
    Scenario::builder()
        .users(20)
        .groups(2)
        .admins(2)
        .integration("logs", &[Grant::ReadLog])
        .toml(&toml)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A collector's folder: its state, output and result.
struct Collector {
    dir: tempfile::TempDir,
    types: String,
    lookback_s: i64,
}

impl Collector {
    fn new(types: &[&str], lookback_s: i64) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            types: types.join(","),
            lookback_s,
        }
    }

    fn output(&self) -> PathBuf {
        self.dir.path().join("events.jsonl")
    }

    fn command(&self, fake: &Fake, output: &Path) -> std::process::Command {
        let mut command = fake.connector(None);
        command
            .arg("logs")
            .arg("--quick-retries")
            .env("DUO_LOG_TYPES", &self.types)
            .env("DUO_LOOKBACK_S", self.lookback_s.to_string())
            .env("DUO_SETTLE_S", SETTLE_S.to_string())
            .env("DUO_STATE_DIR", self.dir.path().join("state"))
            .env("DUO_OUTPUT", output)
            .env("DUO_RESULT", self.dir.path().join("result.json"));
        command
    }

    /// One run to its end; its exit code and result document.
    fn run_to(&self, fake: &Fake, output: &Path) -> (Option<i32>, Value) {
        let out = self.command(fake, output).output().unwrap();
        let result = std::fs::read(self.dir.path().join("result.json")).unwrap();
        let result: Value = serde_json::from_slice(&result).unwrap();
        assert!(
            out.status.code() == Some(0) || out.status.code() == Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), result)
    }

    /// A run that must succeed; the events it reported.
    fn run(&self, fake: &Fake) -> u64 {
        let (code, result) = self.run_to(fake, &self.output());
        assert_eq!(code, Some(0), "{result}");
        assert_eq!(result["status"], "ok", "{result}");
        result["events"].as_u64().unwrap()
    }

    /// Every line of the output, grouped by log type (each event as a JSON value).
    fn collected(&self) -> HashMap<String, Vec<Value>> {
        let text = std::fs::read_to_string(self.output()).unwrap_or_default();
        let mut by_type: HashMap<String, Vec<Value>> = HashMap::new();
        for line in text.lines() {
            let line: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let log_type = line["log_type"].as_str().unwrap().to_owned();
            by_type.entry(log_type).or_default().push(line["event"].clone());
        }
        by_type
    }

    fn state(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.dir.path().join("state"))
            .map(|dir| {
                dir.map(|e| {
                    let e = e.unwrap();
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read(e.path()).unwrap(),
                    )
                })
                .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }
}

/// The fake's own events of `log` in the millisecond window, oldest first.
async fn truth(fake: &Fake, log: &str, mintime_ms: i64, maxtime_ms: i64) -> Vec<Value> {
    let dump = fake
        .control_send(
            reqwest::Method::GET,
            &format!("dump/logs?type={log}&mintime={mintime_ms}&maxtime={maxtime_ms}"),
            "",
        )
        .await;
    dump.as_array().unwrap().clone()
}

fn counts(events: &[Value]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for event in events {
        *counts.entry(event.to_string()).or_insert(0) += 1;
    }
    counts
}

/// Every event of the `inner` window collected, none twice (beyond `repeats_allowed` repeats), and
/// none that the fake does not have in the `outer` one.
async fn assert_exactly_once(
    fake: &Fake,
    collector: &Collector,
    inner: (i64, i64),
    outer: (i64, i64),
    repeats_allowed: usize,
) -> HashMap<String, usize> {
    let collected = collector.collected();
    let mut sizes = HashMap::new();
    for log in collector.types.split(',') {
        let ours = collected.get(log).cloned().unwrap_or_default();
        let ours_counted = counts(&ours);
        let must = truth(fake, log, inner.0, inner.1).await;
        assert!(!must.is_empty(), "{log}: the window has events to collect");
        for (event, n) in counts(&must) {
            let got = ours_counted.get(&event).copied().unwrap_or(0);
            assert!(got >= n, "{log}: missing (have {got} of {n}): {event}");
        }
        let may = counts(&truth(fake, log, outer.0, outer.1).await);
        let mut repeats = 0;
        for (event, n) in &ours_counted {
            let exist = may.get(event).copied().unwrap_or(0);
            assert!(
                exist > 0,
                "{log}: collected an event the fake does not have: {event}"
            );
            repeats += n.saturating_sub(exist);
        }
        assert!(
            repeats <= repeats_allowed,
            "{log}: {repeats} events collected twice (at most {repeats_allowed} allowed)"
        );
        sizes.insert(log.to_owned(), must.len());
    }
    sizes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_one_after_another_collect_every_settled_event_of_every_type_once() {
    let rates: Vec<(&str, u32)> = TYPES.iter().map(|t| (*t, 40_000)).collect();
    let fake = spawn(&logged("", &rates, "")).await;
    let collector = Collector::new(&TYPES, 300);
    let first_start = now_ms();
    let mut reported = 0;
    for _ in 0..3 {
        reported += collector.run(&fake);
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    let last_start = now_ms() - 1500;
    let sizes = assert_exactly_once(
        &fake,
        &collector,
        (first_start - 300_000 + 1000, last_start - SETTLE_S * 1000 - 1000),
        (first_start - 301_000, now_ms()),
        0,
    )
    .await;
    let lines: usize = collector.collected().values().map(Vec::len).sum();
    assert_eq!(reported, lines as u64, "the results count what was appended");
    assert!(sizes.values().all(|n| *n > 10), "{sizes:?}");
    // Each type has its checkpoint, in its unit.
    let state = collector.state();
    assert_eq!(state.len(), TYPES.len(), "{state:?}");
    for (name, bytes) in state {
        let checkpoint: Value = serde_json::from_slice(&bytes).unwrap();
        let unit = if name.starts_with("administrator") || name.starts_with("offline") {
            "s"
        } else {
            "ms"
        };
        assert_eq!(checkpoint["unit"], unit, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_output_fails_with_sink_and_the_next_run_loses_nothing() {
    let fake = spawn(&logged(
        "",
        &[("authentication", 40_000), ("administrator", 40_000)],
        "",
    ))
    .await;
    let collector = Collector::new(&["authentication", "administrator"], 120);
    let start = now_ms();
    let (code, result) = collector.run_to(&fake, Path::new("/dev/full"));
    assert_eq!(code, Some(1), "{result}");
    assert_eq!(result["error"]["kind"], "sink", "{result}");
    assert!(
        collector.state().is_empty(),
        "no checkpoint moved: {:?}",
        collector.state()
    );
    collector.run(&fake);
    assert_exactly_once(
        &fake,
        &collector,
        (start - 120_000 + 1000, start - SETTLE_S * 1000 - 1000),
        (start - 121_000, now_ms()),
        0,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_between_pages_then_run_again_loses_nothing() {
    // About 14,000 authentications in the 3 hours looked back: 14 pages of 1000, from the 4th
    // on slowed down so that the kill comes between pages.
    let slow = "[[faults]]\npath = \"/admin/v2/logs/authentication\"\ncalls = [4, 1000]\ndelay_ms = 400\n";
    let fake = spawn(&logged("", &[("authentication", 110_000)], slow)).await;
    let collector = Collector::new(&["authentication"], 3 * 3600);
    let start = now_ms();
    let mut child = collector.command(&fake, &collector.output()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pages = fake
            .journal()
            .await
            .iter()
            .filter(|(path, _, status)| path.contains("/logs/") && *status == 200)
            .count();
        if pages >= 3 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        assert!(Instant::now() < deadline, "no pages within a minute");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = collector.collected().get("authentication").map_or(0, Vec::len);
    assert!(before > 0, "the killed run delivered pages");
    assert!(!collector.state().is_empty(), "a checkpoint after each page");
    collector.run(&fake);
    // A page in flight at the kill may come again, no more.
    assert_exactly_once(
        &fake,
        &collector,
        (start - 3 * 3_600_000 + 1000, start - SETTLE_S * 1000 - 1000),
        (start - 3 * 3_600_000 - 1000, now_ms()),
        1000,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v1_log_cut_at_1000_events_loses_nothing_of_the_capped_second() {
    // 4 administrator events a second, half of them tied with the one before: each 1000-event
    // call stops inside a second, and the next one must start at that second, not after it.
    for ties in ["cut", "include"] {
        let fake = spawn(&logged(
            &format!("v1_ties = \"{ties}\""),
            &[("administrator", 350_000)],
            "",
        ))
        .await;
        let collector = Collector::new(&["administrator"], 900);
        let start = now_ms();
        collector.run(&fake);
        let sizes = assert_exactly_once(
            &fake,
            &collector,
            (start - 900_000 + 1000, start - SETTLE_S * 1000 - 1000),
            (start - 901_000, now_ms()),
            0,
        )
        .await;
        assert!(
            sizes["administrator"] > 1000,
            "{ties}: several capped calls: {sizes:?}"
        );
        let calls = fake
            .journal()
            .await
            .iter()
            .filter(|(path, _, _)| path == "/admin/v1/logs/administrator")
            .count();
        assert!(calls >= 2, "{ties}: {calls} calls");
        assert_exit_ok_again(&fake, &collector);
    }
}

/// A run right after another collects nothing new twice.
fn assert_exit_ok_again(fake: &Fake, collector: &Collector) {
    let before = collector.collected().values().map(Vec::len).sum::<usize>();
    let out = collector.command(fake, &collector.output()).output().unwrap();
    assert_exit(&out, 0);
    let after = collector.collected().values().map(Vec::len).sum::<usize>();
    assert!(after >= before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duo_whose_clock_is_behind_is_asked_by_its_own_clock() {
    // Duo 5 minutes behind this machine: by this machine's clock, "now − settle" is in Duo's
    // future, and a checkpoint there would skip the next 5 minutes of events.
    let fake = spawn(&logged("", &[("authentication", 400_000)], "")).await;
    fake.set_clock(-300).await;
    let collector = Collector::new(&["authentication"], 600);
    let first_start = now_ms() - 300_000;
    collector.run(&fake);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let last_start = now_ms() - 300_000;
    collector.run(&fake);
    let latest_maxtime = fake
        .journal()
        .await
        .iter()
        .filter(|(path, _, _)| path.contains("/logs/"))
        .filter_map(|(_, query, _)| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("maxtime="))
                .map(|ms| ms.parse::<i64>().unwrap())
        })
        .max()
        .unwrap();
    assert!(
        latest_maxtime <= now_ms() - 300_000 - SETTLE_S * 1000,
        "asked for events that have not settled on Duo's clock: maxtime {latest_maxtime}"
    );
    assert_exactly_once(
        &fake,
        &collector,
        (first_start - 600_000 + 1000, last_start - SETTLE_S * 1000 - 1000),
        (first_start - 601_000, now_ms() - 300_000),
        0,
    )
    .await;
}

/// `DUO_LOG_USERS`: the authentication log filtered by Duo's `users`, so the output holds that
/// user's events, every one of them, and no one else's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_filter_collects_that_users_events_only() {
    let fake = spawn(&logged("", &[("authentication", 40_000)], "")).await;
    let start = now_ms();
    let earlier = truth(&fake, "authentication", start - 300_000, start - 10_000).await;
    let user = earlier
        .iter()
        .find_map(|e| e["user"]["key"].as_str())
        .expect("the window has a user's event")
        .to_owned();
    let collector = Collector::new(&["authentication"], 300);
    let mut command = collector.command(&fake, &collector.output());
    let out = command.env("DUO_LOG_USERS", &user).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = collector.collected().remove("authentication").unwrap_or_default();
    assert!(
        ours.iter().all(|e| e["user"]["key"] == user.as_str()),
        "only {user}'s events"
    );
    let must: Vec<Value> = truth(
        &fake,
        "authentication",
        start - 299_000,
        start - SETTLE_S * 1000 - 1000,
    )
    .await
    .into_iter()
    .filter(|e| e["user"]["key"] == user.as_str())
    .collect();
    assert!(!must.is_empty(), "{user} has events in the window");
    let ours_counted = counts(&ours);
    for (event, n) in counts(&must) {
        assert!(
            ours_counted.get(&event).copied().unwrap_or(0) >= n,
            "missing: {event}"
        );
    }
}
