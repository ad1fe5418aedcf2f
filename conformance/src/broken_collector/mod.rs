//! The kit's self-test collector (`duo-broken-collector logs [--breakage NAME]`): follows
//! `CONTRACT-LOGS.md` by default (a checkpoint per log type, written atomically after the page it
//! covers is appended to the output; windows that end `DUO_SETTLE_S` before the run's start; the
//! next window one millisecond after the last), and is broken on demand in exactly one way per
//! failure mode of `duo-logs.md` §10, so the kit's self-tests can show each logs case catches its
//! bug.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

use crate::broken_connector::client::Client;
use crate::broken_connector::{Breakage as SyncBreakage, Failure};
use crate::contract::ErrorKind;

/// One way the collector is broken (or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakage {
    /// Follows the contract.
    Correct,
    /// L1: the checkpoint moves before the page is written.
    CheckpointBeforeDelivery,
    /// L2: a run that delivered nothing saves a null checkpoint, sent back as `mintime=null`.
    NullCheckpoint,
    /// L3: the next window starts at the last event's millisecond, inclusive.
    InclusiveMintime,
    /// L4: at the v1 1000-event cap, goes on at the last event's second + 1.
    V1CapPlusOne,
    /// L5: v2 windows in seconds.
    SecondsForMilliseconds,
    /// L6: starts exactly the lookback back (180 days), computed before a pause.
    ExactRetentionEdge,
    /// L7: asks for an empty window (`maxtime` ≤ `mintime`) instead of skipping it.
    EmptyWindowSent,
    /// L8: ignores the settle time: windows end now.
    IgnoresSettle,
    /// L9: Duo's default `ts:desc`, checkpoint from the last row (the oldest).
    DescendingCheckpoint,
    /// L10: sends only the first part of a `next_offset`.
    CursorFirstPart,
    /// L11: drops the cursor: the first page again.
    DropsCursor,
    /// L12: keeps the last cursor when an answer carries none, going on while pages have events.
    StaleCursor,
    /// L13: retries a 429 after 200 ms.
    NoBackoff,
    /// L14: a restart inside a window jumps to the window's end.
    SkipsAfterRestart,
    /// L15: every request carries the run's first Date (signed over it), however late it is sent.
    StaleDate,
    /// L19: sends the users filter as `username`, which Duo ignores: every user's events.
    WrongFilterName,
    /// L16: the v1 authentication log.
    V1Authentication,
    /// L17: a strict parser drops events whose types drifted.
    StrictParser,
    /// L18: state saved only at the end of a run.
    CheckpointAtEnd,
    /// An empty page as an error.
    EmptyAsError,
}

impl Breakage {
    /// Every variant.
    pub const ALL: [Self; 21] = [
        Self::Correct,
        Self::CheckpointBeforeDelivery,
        Self::NullCheckpoint,
        Self::InclusiveMintime,
        Self::V1CapPlusOne,
        Self::SecondsForMilliseconds,
        Self::ExactRetentionEdge,
        Self::EmptyWindowSent,
        Self::IgnoresSettle,
        Self::DescendingCheckpoint,
        Self::CursorFirstPart,
        Self::DropsCursor,
        Self::StaleCursor,
        Self::NoBackoff,
        Self::SkipsAfterRestart,
        Self::StaleDate,
        Self::WrongFilterName,
        Self::V1Authentication,
        Self::StrictParser,
        Self::CheckpointAtEnd,
        Self::EmptyAsError,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Correct => "none",
            Self::CheckpointBeforeDelivery => "checkpoint-before-delivery",
            Self::NullCheckpoint => "null-checkpoint",
            Self::InclusiveMintime => "inclusive-mintime",
            Self::V1CapPlusOne => "v1-cap-plus-one",
            Self::SecondsForMilliseconds => "seconds-for-milliseconds",
            Self::ExactRetentionEdge => "exact-retention-edge",
            Self::EmptyWindowSent => "empty-window-sent",
            Self::IgnoresSettle => "ignores-settle",
            Self::DescendingCheckpoint => "descending-checkpoint",
            Self::CursorFirstPart => "cursor-first-part",
            Self::DropsCursor => "drops-cursor",
            Self::StaleCursor => "stale-cursor",
            Self::NoBackoff => "no-backoff",
            Self::SkipsAfterRestart => "skips-after-restart",
            Self::StaleDate => "stale-date",
            Self::WrongFilterName => "wrong-filter-name",
            Self::V1Authentication => "v1-authentication",
            Self::StrictParser => "strict-parser",
            Self::CheckpointAtEnd => "checkpoint-at-end",
            Self::EmptyAsError => "empty-as-error",
        }
    }

    /// The variant named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }
}

impl fmt::Display for Breakage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Duo's retention, less a day (Duo's staff advise 179 days).
const SAFE_RETENTION_MS: i64 = 179 * 86_400_000;
/// v2 page size (Duo's largest).
const V2_LIMIT: u32 = 1000;
/// Trust Monitor page size.
const TM_LIMIT: u32 = 200;
/// v1's page cap.
const V1_CAP: usize = 1000;
/// Identical pages the cursor-dropping breakage reads before it stops.
const REPEATS: usize = 3;

/// `duo-broken-collector logs [--breakage NAME]` (or `BROKEN_MODE`). Exit 0 collected, 1 failed
/// (the error in `DUO_RESULT`), 2 bad usage.
pub fn main_with_args(args: &[String]) -> ExitCode {
    let breakage = match parse_args(args) {
        Ok(b) => b,
        Err(usage) => {
            eprintln!("duo-broken-collector: {usage}");
            let names: Vec<&str> = Breakage::ALL.iter().map(|b| b.name()).collect();
            eprintln!(
                "usage: duo-broken-collector logs [--breakage NAME]   (names: {})",
                names.join(", ")
            );
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(usage) => {
            eprintln!("duo-broken-collector: {usage}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("duo-broken-collector: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    let result_path = config.result.clone();
    let outcome = runtime.block_on(Collector::new(config, breakage).collect_all());
    let (document, code) = match outcome {
        Ok(events) => (json!({"status": "ok", "events": events}), 0),
        Err(failure) => {
            eprintln!("duo-broken-collector: {}", failure.message());
            (json!({"error": failure.document()}), 1)
        }
    };
    if let Err(e) = write_atomically(&result_path, document.to_string().as_bytes()) {
        eprintln!("duo-broken-collector: cannot write DUO_RESULT: {e}");
        return ExitCode::from(1);
    }
    ExitCode::from(code)
}

fn parse_args(args: &[String]) -> Result<Breakage, String> {
    match crate::broken_connector::breakage_arg(args, "logs")? {
        None => Ok(Breakage::Correct),
        Some(n) => Breakage::from_name(&n).ok_or_else(|| format!("unknown breakage {n:?}")),
    }
}

struct Config {
    host: String,
    ikey: String,
    skey: String,
    ca: Option<Vec<u8>>,
    types: Vec<String>,
    lookback_ms: i64,
    settle_ms: i64,
    /// `DUO_LOG_USERS`: the users whose authentication events to collect (empty: everyone's).
    users: Vec<String>,
    state_dir: PathBuf,
    output: PathBuf,
    result: PathBuf,
}

impl Config {
    fn from_env() -> Result<Self, String> {
        let required = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{name} is not set"))
        };
        let seconds = |name: &str| -> Result<i64, String> {
            required(name)?
                .parse::<i64>()
                .map(|s| s.saturating_mul(1000))
                .map_err(|_| format!("{name} is not a number of seconds"))
        };
        let ca = match std::env::var_os("DUO_CA_CERT").filter(|v| !v.is_empty()) {
            Some(path) => Some(std::fs::read(&path).map_err(|e| format!("DUO_CA_CERT: {e}"))?),
            None => None,
        };
        Ok(Self {
            host: required("DUO_API_HOST")?,
            ikey: required("DUO_IKEY")?,
            skey: required("DUO_SKEY")?,
            ca,
            types: required("DUO_LOG_TYPES")?
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
            lookback_ms: seconds("DUO_LOOKBACK_S")?,
            settle_ms: seconds("DUO_SETTLE_S")?,
            users: std::env::var("DUO_LOG_USERS")
                .unwrap_or_default()
                .split(',')
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty())
                .collect(),
            state_dir: PathBuf::from(required("DUO_STATE_DIR")?),
            output: PathBuf::from(required("DUO_OUTPUT")?),
            result: PathBuf::from(required("DUO_RESULT")?),
        })
    }
}

/// Why a run stopped.
enum Stop {
    Duo(Failure),
    Sink(String),
}

impl Stop {
    fn message(&self) -> String {
        match self {
            Self::Duo(f) => format!("{}: {}", f.kind, f.message),
            Self::Sink(m) => format!("sink: {m}"),
        }
    }

    fn document(&self) -> Value {
        match self {
            Self::Duo(f) => serde_json::to_value(f).unwrap_or(Value::Null),
            Self::Sink(m) => json!({"kind": "sink", "message": m}),
        }
    }
}

impl From<Failure> for Stop {
    fn from(f: Failure) -> Self {
        Self::Duo(f)
    }
}

/// Where a log type got to: the next window's start, and a window in progress with its cursor.
#[derive(Debug, Clone, Default, PartialEq)]
struct Checkpoint {
    /// The next window starts here (ms); `None` written as `null` by the null-checkpoint breakage.
    next_ms: Option<i64>,
    /// A window being paged: its end and the cursor of the next page.
    window: Option<(i64, i64, Value)>,
}

struct Collector {
    config: Config,
    breakage: Breakage,
    client: Result<Client, String>,
    state: BTreeMap<String, Value>,
    now_ms: i64,
    delivered: u64,
}

impl Collector {
    fn new(config: Config, breakage: Breakage) -> Self {
        // No per-request timeout (the case's deadline bounds a run): a debug build of the fake
        // walking 180 days of a log on a loaded machine can take longer than the sync client's
        // 10 s, and a retry would only walk them again.
        let sync_breakage = if breakage == Breakage::NoBackoff {
            SyncBreakage::RetriesForever
        } else {
            SyncBreakage::NoTimeout
        };
        let client = Client::new(
            &config.host,
            &config.ikey,
            &config.skey,
            config.ca.as_deref(),
            sync_breakage,
        )
        .map(|c| {
            if breakage == Breakage::StaleDate {
                c.reusing_first_date()
            } else {
                c
            }
        });
        let state = std::fs::read(config.state_dir.join("checkpoint.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<BTreeMap<String, Value>>(&b).ok())
            .unwrap_or_default();
        Self {
            config,
            breakage,
            client,
            state,
            now_ms: unix_ms(),
            delivered: 0,
        }
    }

    async fn collect_all(mut self) -> Result<u64, Stop> {
        let outcome = self.run().await;
        if self.breakage == Breakage::CheckpointAtEnd && outcome.is_ok() {
            self.save_all()?;
        }
        outcome.map(|()| self.delivered)
    }

    async fn run(&mut self) -> Result<(), Stop> {
        if self.breakage == Breakage::ExactRetentionEdge {
            // The edge computed "at start", the first request a moment later.
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        for log_type in self.config.types.clone() {
            let result = self.collect(&log_type).await;
            if let Err(Stop::Sink(_)) = &result
                && self.breakage == Breakage::NullCheckpoint
                && self.delivered == 0
            {
                self.state.insert(log_type.clone(), json!({"next_ms": null}));
                self.save_all()?;
            }
            result?;
        }
        Ok(())
    }

    fn client(&self) -> Result<&Client, Stop> {
        self.client
            .as_ref()
            .map_err(|m| Stop::Duo(Failure::new(ErrorKind::Tls, m.clone())))
    }

    /// The settled end of this run's windows (inclusive, ms).
    fn cutoff(&self) -> i64 {
        if self.breakage == Breakage::IgnoresSettle {
            self.now_ms
        } else {
            self.now_ms - self.config.settle_ms
        }
    }

    /// Where a log without state starts: the lookback, within Duo's retention less a day.
    fn lookback_start(&self) -> i64 {
        let back = if self.breakage == Breakage::ExactRetentionEdge {
            self.config.lookback_ms
        } else {
            self.config.lookback_ms.min(SAFE_RETENTION_MS)
        };
        self.now_ms - back
    }

    fn checkpoint(&self, log_type: &str) -> Checkpoint {
        let Some(saved) = self.state.get(log_type) else {
            return Checkpoint {
                next_ms: Some(self.lookback_start()),
                window: None,
            };
        };
        let window = saved.get("window").and_then(|w| {
            Some((
                w.get("mintime")?.as_i64()?,
                w.get("maxtime")?.as_i64()?,
                w.get("cursor")?.clone(),
            ))
        });
        Checkpoint {
            next_ms: saved.get("next_ms").and_then(Value::as_i64),
            window,
        }
    }

    fn set_checkpoint(&mut self, log_type: &str, checkpoint: &Checkpoint) -> Result<(), Stop> {
        let mut value = json!({"next_ms": checkpoint.next_ms});
        if let Some((min, max, cursor)) = &checkpoint.window {
            value["window"] = json!({"mintime": min, "maxtime": max, "cursor": cursor});
        }
        self.state.insert(log_type.to_owned(), value);
        if self.breakage == Breakage::CheckpointAtEnd {
            return Ok(());
        }
        self.save_all()
    }

    fn save_all(&self) -> Result<(), Stop> {
        let text = serde_json::to_vec(&self.state).unwrap_or_default();
        write_atomically(&self.config.state_dir.join("checkpoint.json"), &text).map_err(|e| {
            Stop::Duo(Failure::new(
                ErrorKind::Protocol,
                format!("cannot save the checkpoint: {e}"),
            ))
        })
    }

    /// Appends `events` to the output, one line each, and flushes.
    fn deliver(&mut self, log_type: &str, events: &[Value]) -> Result<(), Stop> {
        let mut events: Vec<&Value> = events.iter().collect();
        if self.breakage == Breakage::StrictParser {
            events.retain(|e| strictly_typed(e));
        }
        if events.is_empty() {
            return Ok(());
        }
        let mut text = Vec::new();
        for event in &events {
            text.extend_from_slice(
                json!({"log_type": log_type, "event": event})
                    .to_string()
                    .as_bytes(),
            );
            text.push(b'\n');
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.config.output)
            .map_err(|e| Stop::Sink(format!("cannot open DUO_OUTPUT: {e}")))?;
        file.write_all(&text)
            .and_then(|()| file.flush())
            .map_err(|e| Stop::Sink(format!("cannot write DUO_OUTPUT: {e}")))?;
        self.delivered += events.len() as u64;
        Ok(())
    }

    async fn collect(&mut self, log_type: &str) -> Result<(), Stop> {
        match log_type {
            "authentication" if self.breakage == Breakage::V1Authentication => {
                self.collect_v1(log_type, "/admin/v1/logs/authentication").await
            }
            "authentication" => {
                self.collect_windowed(log_type, "/admin/v2/logs/authentication", "authlogs")
                    .await
            }
            "telephony" => {
                self.collect_windowed(log_type, "/admin/v2/logs/telephony", "items")
                    .await
            }
            "activity" => {
                self.collect_windowed(log_type, "/admin/v2/logs/activity", "items")
                    .await
            }
            "trust_monitor" => {
                self.collect_windowed(log_type, "/admin/v1/trust_monitor/events", "events")
                    .await
            }
            "administrator" => self.collect_v1(log_type, "/admin/v1/logs/administrator").await,
            "offline_enrollment" => {
                self.collect_v1(log_type, "/admin/v1/logs/offline_enrollment")
                    .await
            }
            other => Err(Stop::Duo(Failure::new(
                ErrorKind::Protocol,
                format!("unknown log type {other:?} in DUO_LOG_TYPES"),
            ))),
        }
    }

    /// v2 logs and Trust Monitor: `[mintime, maxtime]` windows in ms, paged by cursor.
    async fn collect_windowed(&mut self, log_type: &str, path: &str, list: &str) -> Result<(), Stop> {
        let cutoff = self.cutoff();
        let mut checkpoint = self.checkpoint(log_type);
        let raw_null =
            checkpoint.next_ms.is_none() && checkpoint.window.is_none() && self.state.contains_key(log_type);
        loop {
            let (mintime, maxtime, mut cursor) = match checkpoint.window.take() {
                Some((_, max, _)) if self.breakage == Breakage::SkipsAfterRestart => {
                    checkpoint.next_ms = Some(max + 1);
                    continue;
                }
                Some(window) => window,
                None => {
                    // A null checkpoint (the breakage's) is sent as it is, from the lookback.
                    let from = checkpoint.next_ms.unwrap_or_else(|| self.lookback_start());
                    // Duo wants maxtime > mintime: a window of nothing is not asked for.
                    if from >= cutoff {
                        if self.breakage == Breakage::EmptyWindowSent {
                            self.page(path, log_type, from, cutoff, &Value::Null, raw_null)
                                .await?;
                        }
                        return Ok(());
                    }
                    (from, cutoff, Value::Null)
                }
            };
            let mut last_event_ms = None;
            let mut oldest_of_last_page = None;
            let mut repeats = 0;
            loop {
                let response = self
                    .page(path, log_type, mintime, maxtime, &cursor, raw_null)
                    .await?;
                let events: Vec<Value> = response
                    .get(list)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if events.is_empty() && self.breakage == Breakage::EmptyAsError {
                    let failure = Failure::new(ErrorKind::Protocol, "Duo returned no events");
                    return Err(Stop::Duo(failure.at(path).status(200)));
                }
                let next = response
                    .get("metadata")
                    .and_then(|m| m.get("next_offset"))
                    .cloned()
                    .unwrap_or(Value::Null);
                if let Some(last) = events.last() {
                    last_event_ms = event_ms(last).or(last_event_ms);
                }
                oldest_of_last_page = events.last().and_then(event_ms).or(oldest_of_last_page);
                let more = match self.breakage {
                    Breakage::StaleCursor => !events.is_empty() && (!next.is_null() || !cursor.is_null()),
                    _ => !next.is_null(),
                };
                let next_cursor = match self.breakage {
                    Breakage::StaleCursor if next.is_null() => cursor.clone(),
                    Breakage::DropsCursor => Value::Null,
                    _ => next.clone(),
                };
                let after_page = Checkpoint {
                    next_ms: if more {
                        checkpoint.next_ms
                    } else {
                        Some(maxtime + 1)
                    },
                    window: more.then(|| (mintime, maxtime, next_cursor.clone())),
                };
                if self.breakage == Breakage::CheckpointBeforeDelivery {
                    self.set_checkpoint(log_type, &after_page)?;
                    self.deliver(log_type, &events)?;
                } else {
                    self.deliver(log_type, &events)?;
                    if !more {
                        break;
                    }
                    self.set_checkpoint(log_type, &after_page)?;
                }
                if !more {
                    break;
                }
                if self.breakage == Breakage::DropsCursor {
                    repeats += 1;
                    if repeats >= REPEATS {
                        break;
                    }
                }
                cursor = next_cursor;
            }
            let next_ms = match self.breakage {
                Breakage::InclusiveMintime => last_event_ms.unwrap_or(maxtime + 1),
                Breakage::DescendingCheckpoint => oldest_of_last_page.unwrap_or(maxtime + 1),
                _ => maxtime + 1,
            };
            checkpoint = Checkpoint {
                next_ms: Some(next_ms),
                window: None,
            };
            self.set_checkpoint(log_type, &checkpoint)?;
            if maxtime >= cutoff {
                return Ok(());
            }
        }
    }

    /// One page of a windowed log.
    async fn page(
        &self,
        path: &str,
        log_type: &str,
        mintime: i64,
        maxtime: i64,
        cursor: &Value,
        raw_null: bool,
    ) -> Result<Value, Stop> {
        let trust_monitor = log_type == "trust_monitor";
        let (min, max) = if self.breakage == Breakage::SecondsForMilliseconds {
            (mintime / 1000, maxtime / 1000)
        } else {
            (mintime, maxtime)
        };
        let mut params: Vec<(&str, String)> = vec![
            ("mintime", if raw_null { "null".into() } else { min.to_string() }),
            ("maxtime", max.to_string()),
            (
                "limit",
                if trust_monitor { TM_LIMIT } else { V2_LIMIT }.to_string(),
            ),
        ];
        if !trust_monitor && self.breakage != Breakage::DescendingCheckpoint {
            params.push(("sort", "ts:asc".into()));
        }
        if log_type == "authentication" {
            // Duo's list parameters as repeated keys, one a user.
            let name = if self.breakage == Breakage::WrongFilterName {
                "username"
            } else {
                "users"
            };
            params.extend(self.config.users.iter().map(|u| (name, u.clone())));
        }
        let cursor_text = match cursor {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Array(parts) => Some(
                parts
                    .iter()
                    .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            other => Some(other.to_string()),
        };
        if let Some(mut text) = cursor_text {
            if self.breakage == Breakage::CursorFirstPart
                && let Some((first, _)) = text.split_once(',')
            {
                text = first.to_owned();
            }
            params.push((if trust_monitor { "offset" } else { "next_offset" }, text));
        }
        let envelope = self.client()?.get(path, &params).await?;
        Ok(envelope.get("response").cloned().unwrap_or(Value::Null))
    }

    /// v1 logs: `mintime` in seconds, up to 1000 events (and the rest of the last second).
    async fn collect_v1(&mut self, log_type: &str, path: &str) -> Result<(), Stop> {
        // Whole seconds only: the last second kept is the one before the cutoff's.
        let cutoff_s = self.cutoff().div_euclid(1000) - 1;
        let checkpoint = self.checkpoint(log_type);
        let mut from_s = checkpoint
            .next_ms
            .map_or(cutoff_s + 1, |ms| (ms + 999).div_euclid(1000));
        while from_s <= cutoff_s {
            let envelope = self
                .client()?
                .get(path, &[("mintime", from_s.to_string())])
                .await?;
            let events: Vec<Value> = envelope
                .get("response")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let capped = events.len() >= V1_CAP;
            let mut kept: Vec<Value> = events
                .into_iter()
                .filter(|e| {
                    e.get("timestamp")
                        .and_then(Value::as_i64)
                        .is_some_and(|t| t <= cutoff_s)
                })
                .collect();
            let next_s = if capped {
                let last = kept
                    .last()
                    .and_then(|e| e.get("timestamp"))
                    .and_then(Value::as_i64)
                    .unwrap_or(cutoff_s);
                let first = kept
                    .first()
                    .and_then(|e| e.get("timestamp"))
                    .and_then(Value::as_i64)
                    .unwrap_or(last);
                if self.breakage == Breakage::V1CapPlusOne || first == last {
                    last + 1
                } else {
                    // The last second may go on past the cap: read it again next time.
                    kept.retain(|e| e.get("timestamp").and_then(Value::as_i64) != Some(last));
                    last
                }
            } else {
                cutoff_s + 1
            };
            self.deliver(log_type, &kept)?;
            from_s = next_s;
            self.set_checkpoint(
                log_type,
                &Checkpoint {
                    next_ms: Some(from_s * 1000),
                    window: None,
                },
            )?;
        }
        Ok(())
    }
}

/// An event's time in ms, as it shows it.
fn event_ms(event: &Value) -> Option<i64> {
    let iso = ["isotimestamp", "ts"]
        .iter()
        .find_map(|k| event.get(k).and_then(Value::as_str))
        .and_then(crate::logs::judge::iso_ms);
    iso.or_else(|| event.get("timestamp").and_then(Value::as_i64).map(|s| s * 1000))
        .or_else(|| event.get("surfaced_timestamp").and_then(Value::as_i64))
}

/// What a strict parser accepts: `security_agents` a list, IPs without ports, booleans booleans.
fn strictly_typed(event: &Value) -> bool {
    let Some(device) = event.get("access_device") else {
        return true;
    };
    let agents_ok = device.get("security_agents").is_none_or(Value::is_array);
    let ip_ok = device
        .get("ip")
        .and_then(Value::as_str)
        .is_none_or(|ip| ip.matches(':').count() != 1);
    let booleans_ok = ["is_encryption_enabled", "is_firewall_enabled", "is_password_set"]
        .iter()
        .all(|k| device.get(*k).is_none_or(|v| v.is_boolean() || v.is_null()));
    agents_ok && ip_ok && booleans_ok
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A temporary file beside `path`, then a rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}
