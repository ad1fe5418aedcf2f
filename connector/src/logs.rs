//! `duo-connector logs`: Duo's logs collected into JSON Lines, each event exactly once across runs
//! that end normally, at least once across runs that are killed (`conformance/CONTRACT-LOGS.md`).
//!
//! Each log type has a checkpoint in the state folder (`<type>.json`): the time from which the
//! next run asks (inclusive, in the unit of the log's `mintime`) and the keys of the events at
//! exactly that time that are already delivered (its *edge*). A run asks from the checkpoint up to
//! `now − settle` (events can turn up that long after they happened), oldest first, with each
//! endpoint's own cursor. After each page it appends the page's new events to the output, flushes
//! and syncs it, and only then replaces the checkpoint (a temporary file and a rename): a run
//! stopped anywhere repeats at most the page it was writing, and a failed write moves nothing.
//!
//! The edge is what makes windows meet without a gap or an overlap: the next window starts *at*
//! the last delivered time, not after it, so an event of that same millisecond (or second, on v1
//! logs) that was not yet visible is still found, and the ones already delivered are skipped by
//! key (the event's id, or the SHA-256 of its bytes for v1 logs, which have none). The same rule
//! continues a v1 log past its 1000-event cap: the next call starts at the last event's second,
//! never at the second after it, so the rest of that second is not lost.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::Digest as _;

use crate::client::Client;
use crate::contract::write_whole;
use crate::error::{Error, ErrorKind, Failure};

/// The oldest a `mintime` may be, with a margin for the time a request takes to arrive: Duo
/// answers 40002 `mintime must be within the past 180 days` to the millisecond.
const RETENTION_MS: i64 = 180 * 86_400_000 - 5 * 60_000;

/// Events a v1 log returns at most a call (more when the last second has more).
const V1_CAP: usize = 1000;

/// How an endpoint takes its window and pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `mintime`/`maxtime` in ms, `limit` up to 1000, `sort=ts:asc`, the page under `list` and
    /// `metadata.next_offset` sent back as `next_offset` (a two-string list joined by a comma, or
    /// one string).
    V2 { list: &'static str },
    /// `mintime` in seconds; the 1000 earliest events (and the rest of the 1000th's second).
    V1,
    /// Trust Monitor: `mintime`/`maxtime` in ms, `limit`, `metadata.next_offset` sent back as
    /// `offset`.
    TrustMonitor,
}

/// Where an event says when it happened.
#[derive(Debug, Clone, Copy)]
enum TimeField {
    /// An ISO 8601 time with microseconds (`2020-02-13T18:56:20.351346+00:00`), as milliseconds.
    Iso(&'static str),
    /// Milliseconds.
    Millis(&'static str),
    /// Seconds (v1 logs, whose windows are in seconds).
    Seconds(&'static str),
}

/// One log type the collector reads: the contract's name, the endpoint and how to page it.
#[derive(Debug, Clone, Copy)]
pub struct LogSource {
    /// The contract's name (`authentication`, …), also the checkpoint's file name.
    pub name: &'static str,
    /// The endpoint read.
    pub path: &'static str,
    style: Style,
    /// The event's unique id, if it has one.
    id: Option<&'static str>,
    time: TimeField,
    /// `limit` sent (the endpoint's largest page that every source agrees on).
    limit: &'static str,
}

/// Every log type, in the contract's order: the newest endpoint of each.
pub const SOURCES: [LogSource; 6] = [
    LogSource {
        name: "authentication",
        path: "/admin/v2/logs/authentication",
        style: Style::V2 { list: "authlogs" },
        id: Some("txid"),
        time: TimeField::Iso("isotimestamp"),
        limit: "1000",
    },
    LogSource {
        name: "administrator",
        path: "/admin/v1/logs/administrator",
        style: Style::V1,
        id: None,
        time: TimeField::Seconds("timestamp"),
        limit: "",
    },
    LogSource {
        name: "telephony",
        path: "/admin/v2/logs/telephony",
        style: Style::V2 { list: "items" },
        id: Some("telephony_id"),
        time: TimeField::Iso("ts"),
        limit: "1000",
    },
    LogSource {
        name: "activity",
        path: "/admin/v2/logs/activity",
        style: Style::V2 { list: "items" },
        id: Some("activity_id"),
        time: TimeField::Iso("ts"),
        limit: "1000",
    },
    LogSource {
        name: "offline_enrollment",
        path: "/admin/v1/logs/offline_enrollment",
        style: Style::V1,
        id: None,
        time: TimeField::Seconds("timestamp"),
        limit: "",
    },
    LogSource {
        name: "trust_monitor",
        path: "/admin/v1/trust_monitor/events",
        style: Style::TrustMonitor,
        id: Some("sekey"),
        time: TimeField::Millis("surfaced_timestamp"),
        // Sources disagree on Trust Monitor's largest page (500 or 200): the smaller is safe.
        limit: "200",
    },
];

impl LogSource {
    /// The source named `name` (the contract's names).
    pub fn named(name: &str) -> Option<&'static LogSource> {
        SOURCES.iter().find(|s| s.name == name)
    }

    /// Units of this log's `mintime` in a millisecond: 1, or 1000 for v1 logs (seconds).
    fn unit_ms(&self) -> i64 {
        match self.style {
            Style::V1 => 1000,
            _ => 1,
        }
    }
}

/// Parses `DUO_LOG_TYPES`: a comma list of the contract's names, each once.
pub fn parse_types(list: &str) -> Result<Vec<&'static LogSource>, Error> {
    let mut types: Vec<&'static LogSource> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let source = LogSource::named(name).ok_or_else(|| {
            let names: Vec<&str> = SOURCES.iter().map(|s| s.name).collect();
            Error::Config(format!(
                "unknown log type {name:?}: expected some of {}",
                names.join(", ")
            ))
        })?;
        if !types.iter().any(|t| t.name == source.name) {
            types.push(source);
        }
    }
    if types.is_empty() {
        return Err(Error::Config("no log type given".to_owned()));
    }
    Ok(types)
}

/// What a collection run reads and where it writes.
#[derive(Debug, Clone)]
pub struct LogsOptions {
    /// The log types, read one after the other.
    pub types: Vec<&'static LogSource>,
    /// Where a type without a checkpoint starts, before now.
    pub lookback: Duration,
    /// Nothing newer than now minus this is asked for.
    pub settle: Duration,
    /// The checkpoints' folder (made if missing).
    pub state_dir: PathBuf,
    /// The JSON Lines file events are appended to.
    pub output: PathBuf,
    /// Only these users' authentication events (`user_id`s, Duo's `users` filter); empty: all.
    pub users: Vec<String>,
}

/// What a successful run collected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsSummary {
    /// Events appended to the output, per type (in the options' order).
    pub per_type: Vec<(&'static str, u64)>,
    /// Requests sent.
    pub requests: u64,
}

impl LogsSummary {
    /// Events appended in all.
    pub fn events(&self) -> u64 {
        self.per_type.iter().map(|(_, n)| n).sum()
    }
}

/// A log type's checkpoint: the next window starts at `from` (inclusive, in the log's `mintime`
/// unit), and the events of exactly `from` whose keys are in `edge` are delivered already.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The format's version.
    pub version: u32,
    /// `ms` or `s`: the unit of `from`.
    pub unit: String,
    /// Where the next window starts (inclusive).
    pub from: i64,
    /// Keys of the events at exactly `from` that are delivered (ids, or `sha256:` of the bytes);
    /// a key may repeat (identical v1 events).
    pub edge: Vec<String>,
}

impl Checkpoint {
    fn path(state_dir: &Path, source: &LogSource) -> PathBuf {
        state_dir.join(format!("{}.json", source.name))
    }

    /// The checkpoint of `source` in `state_dir`, if there is one.
    pub fn load(state_dir: &Path, source: &LogSource) -> Result<Option<Self>, Error> {
        let path = Self::path(state_dir, source);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(sink(&path, &e)),
        };
        let checkpoint: Self = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Config(format!(
                "{}: not a checkpoint ({e}); remove it to start over from the lookback",
                path.display()
            ))
        })?;
        let unit = if source.unit_ms() == 1 { "ms" } else { "s" };
        if checkpoint.version != 1 || checkpoint.unit != unit {
            return Err(Error::Config(format!(
                "{}: a checkpoint of another format (version {}, unit {:?})",
                path.display(),
                checkpoint.version,
                checkpoint.unit
            )));
        }
        Ok(Some(checkpoint))
    }

    /// Replaces the checkpoint whole (a temporary file, synced, and a rename; then the folder).
    fn save(&self, state_dir: &Path, source: &LogSource) -> Result<(), Error> {
        let path = Self::path(state_dir, source);
        let mut bytes = serde_json::to_vec(self).unwrap_or_default();
        bytes.push(b'\n');
        write_whole(&path, &bytes).map_err(|e| match e {
            Error::Io { path, source } => sink(&path, &source),
            other => other,
        })?;
        // The rename is durable once the folder is synced (not possible everywhere: best effort).
        if let Ok(folder) = std::fs::File::open(state_dir) {
            let _ = folder.sync_all();
        }
        Ok(())
    }
}

fn sink(path: &Path, error: &std::io::Error) -> Error {
    Failure::new(
        ErrorKind::Sink,
        format!("cannot write {}: {error}", path.display()),
    )
    .into()
}

/// The output, opened to append; each page is written, flushed and synced before its checkpoint.
struct Output {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl Output {
    fn open(&mut self) -> Result<(), Error> {
        if self.file.is_none() {
            let file = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&self.path)
                .map_err(|e| sink(&self.path, &e))?;
            self.file = Some(file);
        }
        Ok(())
    }

    fn append(&mut self, lines: &[u8]) -> Result<(), Error> {
        if lines.is_empty() {
            return Ok(());
        }
        self.open()?;
        let path = self.path.clone();
        let fail = |e: std::io::Error| sink(&path, &e);
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.write_all(lines).map_err(fail)?;
        file.flush().map_err(fail)?;
        // A pipe or a device cannot be synced; a regular file must be.
        if let Err(e) = file.sync_data()
            && file.metadata().is_ok_and(|m| m.is_file())
        {
            return Err(fail(e));
        }
        Ok(())
    }
}

/// Duo's clock in milliseconds: this machine's, moved by the difference `/auth/v2/ping` shows when
/// it is more than a second (whole seconds are all the ping tells).
async fn duo_now_ms(client: &Client) -> i64 {
    let local_ms = now_ms();
    let Ok(answer) = client.get_unsigned("/auth/v2/ping").await else {
        return local_ms;
    };
    let time = serde_json::from_slice::<Value>(&answer.body)
        .ok()
        .and_then(|v| v["response"]["time"].as_i64());
    match time {
        Some(duo_s) if (duo_s - local_ms.div_euclid(1000)).abs() > 1 => {
            tracing::info!(
                offset_s = duo_s - local_ms.div_euclid(1000),
                "Duo's clock differs"
            );
            // The start of Duo's second: never ahead of it.
            duo_s * 1000
        }
        _ => local_ms,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Collects every requested log type once, oldest first, from its checkpoint to now − settle.
/// Stops at the first failure; what was delivered before it stays delivered and checkpointed.
pub async fn collect(client: &Client, options: &LogsOptions) -> Result<LogsSummary, Error> {
    std::fs::create_dir_all(&options.state_dir).map_err(|e| sink(&options.state_dir, &e))?;
    let now = duo_now_ms(client).await;
    let mut output = Output {
        path: options.output.clone(),
        file: None,
    };
    // Opened before anything is asked: an output that cannot be opened fails the run at once.
    output.open()?;
    let mut summary = LogsSummary::default();
    for source in &options.types {
        let delivered = collect_one(client, source, options, now, &mut output).await?;
        tracing::info!(log = source.name, delivered, "collected");
        summary.per_type.push((source.name, delivered));
    }
    summary.requests = client.stats().requests.load(std::sync::atomic::Ordering::Relaxed);
    Ok(summary)
}

/// Where the run stands: the latest delivered time and the keys delivered at exactly it.
struct Edge {
    at: i64,
    keys: Vec<String>,
}

impl Edge {
    fn counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for key in &self.keys {
            *counts.entry(key.clone()).or_insert(0) += 1;
        }
        counts
    }
}

/// One page's events, raw, and the cursor to the next (as it is sent back).
struct Page<'a> {
    events: Vec<&'a RawValue>,
    next: Option<String>,
}

async fn collect_one(
    client: &Client,
    source: &LogSource,
    options: &LogsOptions,
    now: i64,
    output: &mut Output,
) -> Result<u64, Error> {
    let unit = source.unit_ms();
    let cutoff = (now - millis(options.settle)).div_euclid(unit);
    let oldest = (now - RETENTION_MS).div_euclid(unit) + 1;
    let mut edge = match Checkpoint::load(&options.state_dir, source)? {
        Some(checkpoint) if checkpoint.from >= oldest => Edge {
            at: checkpoint.from,
            keys: checkpoint.edge,
        },
        Some(checkpoint) => {
            tracing::warn!(
                log = source.name,
                from = checkpoint.from,
                "the checkpoint is older than Duo keeps logs: starting 180 days back"
            );
            Edge {
                at: oldest,
                keys: Vec::new(),
            }
        }
        None => Edge {
            at: (now - millis(options.lookback)).div_euclid(unit).max(oldest),
            keys: Vec::new(),
        },
    };
    // v2 windows need maxtime > mintime; a v1 log asks from `edge.at` alone.
    if cutoff <= edge.at && !(source.style == Style::V1 && cutoff == edge.at) {
        return Ok(0);
    }
    let window_start = edge.at;
    let mut delivered = 0u64;
    let mut cursor: Option<String> = None;
    let started = std::time::Instant::now();
    loop {
        // A backlog read for hours must not let its mintime fall behind Duo's retention (L6):
        // each request starts no earlier than what Duo keeps then. Not Trust Monitor's, whose
        // offset counts from the window's start.
        let oldest_now = (now + millis(started.elapsed()) - RETENTION_MS).div_euclid(unit) + 1;
        let mintime = match source.style {
            Style::V1 => edge.at.max(oldest_now),
            Style::V2 { .. } => window_start.max(oldest_now),
            Style::TrustMonitor => window_start,
        }
        .to_string();
        let maxtime = cutoff.to_string();
        let mut params: Vec<(&str, &str)> = vec![("mintime", &mintime)];
        match source.style {
            Style::V2 { .. } => {
                params.extend([
                    ("maxtime", maxtime.as_str()),
                    ("limit", source.limit),
                    ("sort", "ts:asc"),
                ]);
                if let Some(cursor) = &cursor {
                    params.push(("next_offset", cursor));
                }
                if source.name == "authentication" {
                    // Duo's name for the filter (L19: a misspelled one is ignored, not refused),
                    // a list as repeated keys.
                    params.extend(options.users.iter().map(|u| ("users", u.as_str())));
                }
            }
            Style::TrustMonitor => {
                params.extend([("maxtime", maxtime.as_str()), ("limit", source.limit)]);
                if let Some(cursor) = &cursor {
                    params.push(("offset", cursor));
                }
            }
            Style::V1 => {}
        }
        let answer = client.get(source.path, &params).await?;
        let page = read_page(source, &answer.body)?;
        let count = page.events.len();
        let mut skip = edge.counts();
        let mut lines = Vec::new();
        let mut beyond = false;
        for raw in &page.events {
            let value: Value = serde_json::from_str(raw.get()).map_err(|e| bad_page(source, &e))?;
            let at = event_time(source, &value).ok_or_else(|| {
                bad_page(
                    source,
                    &format!("an event without a readable time: {}", raw.get()),
                )
            })?;
            if at > cutoff {
                // A v1 log lists what is visible, settled or not: the rest waits for a later run.
                beyond = true;
                break;
            }
            let key = event_key(source, &value, raw);
            if at == edge.at
                && let Some(left) = skip.get_mut(&key)
                && *left > 0
            {
                *left -= 1;
                continue;
            }
            if at > edge.at {
                edge = Edge { at, keys: Vec::new() };
            }
            if at == edge.at {
                edge.keys.push(key);
            }
            write_line(&mut lines, source.name, raw, &value);
            delivered += 1;
        }
        let new = !lines.is_empty();
        output.append(&lines)?;
        if new {
            checkpoint(&edge, source, options)?;
        }
        let more = match source.style {
            Style::V1 => count >= V1_CAP && !beyond && new,
            _ => count > 0 && page.next.is_some(),
        };
        if !more {
            break;
        }
        cursor = page.next;
    }
    // Everything up to the cutoff is delivered: the next window starts at it, so that what its
    // last millisecond (or second) still gets is found, and what it had is skipped.
    if edge.at < cutoff {
        edge = Edge {
            at: cutoff,
            keys: Vec::new(),
        };
    }
    checkpoint(&edge, source, options)?;
    Ok(delivered)
}

fn checkpoint(edge: &Edge, source: &LogSource, options: &LogsOptions) -> Result<(), Error> {
    Checkpoint {
        version: 1,
        unit: if source.unit_ms() == 1 { "ms" } else { "s" }.to_owned(),
        from: edge.at,
        edge: edge.keys.clone(),
    }
    .save(&options.state_dir, source)
}

fn bad_page(source: &LogSource, error: &dyn std::fmt::Display) -> Error {
    let mut failure = Failure::new(
        ErrorKind::Protocol,
        format!("{}: not a log page Duo sends: {error}", source.path),
    )
    .at(source.path);
    failure.http_status = Some(200);
    failure.into()
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    response: &'a RawValue,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    next_offset: Value,
}

/// The events of a page and its cursor, whatever the style.
fn read_page<'a>(source: &LogSource, body: &'a [u8]) -> Result<Page<'a>, Error> {
    let envelope: Envelope<'a> = serde_json::from_slice(body).map_err(|e| bad_page(source, &e))?;
    let list = match source.style {
        Style::V1 => None,
        Style::V2 { list } => Some(list),
        Style::TrustMonitor => Some("events"),
    };
    let Some(list) = list else {
        let events: Vec<&'a RawValue> =
            serde_json::from_str(envelope.response.get()).map_err(|e| bad_page(source, &e))?;
        return Ok(Page { events, next: None });
    };
    let response: HashMap<String, &'a RawValue> =
        serde_json::from_str(envelope.response.get()).map_err(|e| bad_page(source, &e))?;
    let events: Vec<&'a RawValue> = match response.get(list) {
        Some(raw) => serde_json::from_str(raw.get()).map_err(|e| bad_page(source, &e))?,
        None => return Err(bad_page(source, &format!("no {list:?} in the response"))),
    };
    let metadata: Option<Metadata> = match response.get("metadata") {
        Some(raw) => Some(serde_json::from_str(raw.get()).map_err(|e| bad_page(source, &e))?),
        None => None,
    };
    let next = match metadata.map(|m| m.next_offset) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        // Authentication: `["<ms>", "<txid>"]`, sent back joined by a comma.
        Some(Value::Array(parts)) => Some(
            parts
                .iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        Some(other) => return Err(bad_page(source, &format!("next_offset {other} is not a cursor"))),
    };
    Ok(Page { events, next })
}

/// When an event happened, in its log's `mintime` unit.
fn event_time(source: &LogSource, event: &Value) -> Option<i64> {
    match source.time {
        TimeField::Iso(field) => event[field]
            .as_str()
            .and_then(iso_ms)
            .or_else(|| event["timestamp"].as_i64().map(|s| s * 1000)),
        TimeField::Millis(field) => event[field].as_i64(),
        TimeField::Seconds(field) => event[field].as_i64(),
    }
}

/// What tells two events apart: the id, or the SHA-256 of the event's bytes.
fn event_key(source: &LogSource, event: &Value, raw: &RawValue) -> String {
    match source.id.and_then(|field| event[field].as_str()) {
        Some(id) => id.to_owned(),
        None => format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(raw.get().as_bytes()))
        ),
    }
}

/// `{"log_type":…,"event":…}` and a newline; the event as sent, unless it spans lines.
fn write_line(out: &mut Vec<u8>, log_type: &str, raw: &RawValue, value: &Value) {
    out.extend_from_slice(b"{\"log_type\":\"");
    out.extend_from_slice(log_type.as_bytes());
    out.extend_from_slice(b"\",\"event\":");
    let text = raw.get();
    if text.contains(['\n', '\r']) {
        out.extend_from_slice(serde_json::to_string(value).unwrap_or_default().as_bytes());
    } else {
        out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(b"}\n");
}

/// `2020-02-13T18:56:20.351346+00:00` (fraction and offset optional, `Z` allowed) as Unix ms.
fn iso_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let days = duo_auth::date::days_from_civil(num(0..4)?, num(5..7)?, num(8..10)?);
    let seconds = days * 86_400 + num(11..13)? * 3600 + num(14..16)? * 60 + num(17..19)?;
    let mut rest = &b[19..];
    let mut ms = 0;
    if rest.first() == Some(&b'.') {
        let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        let fraction = &rest[1..=digits];
        for (i, digit) in fraction.iter().take(3).enumerate() {
            ms += i64::from(digit - b'0') * [100, 10, 1][i];
        }
        rest = &rest[1 + digits..];
    }
    let offset_s = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, b: u8| -> Option<i64> {
                (a.is_ascii_digit() && b.is_ascii_digit()).then(|| i64::from((a - b'0') * 10 + (b - b'0')))
            };
            let value = two(*h1, *h2)? * 3600 + two(*m1, *m2)? * 60;
            if *sign == b'+' { value } else { -value }
        }
        _ => return None,
    };
    Some((seconds - offset_s) * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_read_as_milliseconds() {
        assert_eq!(
            iso_ms("2020-02-13T18:56:20.351346+00:00"),
            Some(1_581_620_180_351)
        );
        assert_eq!(iso_ms("2020-02-13T18:56:20+00:00"), Some(1_581_620_180_000));
        assert_eq!(iso_ms("2020-02-13T18:56:20Z"), Some(1_581_620_180_000));
        assert_eq!(iso_ms("2020-02-13T19:56:20.5+01:00"), Some(1_581_620_180_500));
        assert_eq!(iso_ms("2020-02-13"), None);
        assert_eq!(iso_ms("2020-02-13T18:56:20+0000"), None);
    }

    #[test]
    fn log_types_parse_from_the_contracts_names() {
        let types = parse_types("authentication, trust_monitor,authentication").unwrap();
        let names: Vec<&str> = types.iter().map(|t| t.name).collect();
        assert_eq!(names, ["authentication", "trust_monitor"]);
        assert!(parse_types("auth").is_err());
        assert!(parse_types(" , ").is_err());
    }

    #[test]
    fn cursors_are_sent_back_in_the_shape_each_endpoint_takes() {
        let auth = LogSource::named("authentication").unwrap();
        let body = br#"{"stat":"OK","response":{"authlogs":[{"txid":"a"}],"metadata":{"next_offset":["1547486297000","5bea"],"total_objects":2}}}"#;
        let page = read_page(auth, body).unwrap();
        assert_eq!(page.events.len(), 1);
        assert_eq!(page.next.as_deref(), Some("1547486297000,5bea"));
        let tm = LogSource::named("trust_monitor").unwrap();
        let body = br#"{"stat":"OK","response":{"events":[],"metadata":{}}}"#;
        assert_eq!(read_page(tm, body).unwrap().next, None);
        let admin = LogSource::named("administrator").unwrap();
        let body = br#"{"stat":"OK","response":[{"timestamp":1},{"timestamp":2}]}"#;
        assert_eq!(read_page(admin, body).unwrap().events.len(), 2);
        assert!(read_page(auth, br#"{"stat":"OK","response":{"items":[]}}"#).is_err());
    }

    #[test]
    fn events_without_an_id_are_told_apart_by_their_bytes() {
        let admin = LogSource::named("administrator").unwrap();
        let raw: Box<RawValue> = serde_json::from_str(r#"{"timestamp":1,"action":"x"}"#).unwrap();
        let value: Value = serde_json::from_str(raw.get()).unwrap();
        assert!(event_key(admin, &value, &raw).starts_with("sha256:"));
        let mut line = Vec::new();
        write_line(&mut line, "administrator", &raw, &value);
        assert_eq!(
            line,
            b"{\"log_type\":\"administrator\",\"event\":{\"timestamp\":1,\"action\":\"x\"}}\n"
        );
    }
}
