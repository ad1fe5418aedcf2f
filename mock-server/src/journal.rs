//! The request journal: every request with what was answered and why, kept in memory (bounded)
//! and optionally appended to a JSON Lines file, so a test can assert what a connector sent.
//! Never records a secret: no `Authorization` header, no body.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::api_error::ApiError;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Entries kept in memory; older ones are dropped (the file, if any, keeps everything).
pub const DEFAULT_CAPACITY: usize = 10_000;

/// One request as the fake saw and answered it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JournalEntry {
    /// Position since start (or the last clear), from 1.
    pub seq: u64,
    /// Arrival, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// Arrival, unix milliseconds (easy arithmetic on waits between retries).
    pub unix_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Raw path.
    pub path: String,
    /// Raw query string (no secrets travel in Duo queries).
    pub query: String,
    /// The integration's name when the ikey is known (even if its signature failed).
    pub integration: Option<String>,
    /// Signature scheme that matched (`v5`, `v2-sha1`, …), if one did.
    pub signature: Option<&'static str>,
    /// HTTP status answered (0 when the connection was cut instead).
    pub status: u16,
    /// Duo's error code, for Duo error answers.
    pub duo_code: Option<u32>,
    /// The fault rule that shaped the answer, by name.
    pub fault: Option<String>,
    /// Time to the response head, microseconds.
    pub latency_us: u64,
    /// The client's address.
    pub peer: Option<String>,
}

/// What the auth layer learnt about the caller, attached to the response for the journal.
#[derive(Debug, Clone, Default)]
pub struct CallerTag {
    /// Integration name, when the ikey is known.
    pub integration: Option<String>,
    /// Signature scheme that matched.
    pub signature: Option<&'static str>,
}

/// The fault rule applied to a response, attached to it for the journal.
#[derive(Debug, Clone)]
pub struct FaultTag(pub String);

/// The journal: a bounded ring in memory, plus an optional JSON Lines file.
#[derive(Debug)]
pub struct Journal {
    /// Off only when asked (benchmarks, long soaks): requests then pass unrecorded.
    enabled: std::sync::atomic::AtomicBool,
    entries: Mutex<VecDeque<JournalEntry>>,
    capacity: usize,
    next_seq: AtomicU64,
    /// JSON Lines copy of every entry, when asked for.
    file: Mutex<Option<BufWriter<File>>>,
}

impl Default for Journal {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl Journal {
    /// A journal keeping the last `capacity` entries in memory.
    pub fn new(capacity: usize) -> Self {
        Self {
            enabled: std::sync::atomic::AtomicBool::new(true),
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            capacity: capacity.max(1),
            next_seq: AtomicU64::new(1),
            file: Mutex::new(None),
        }
    }

    /// From now on, also appends every entry to `path` as one JSON line (created or truncated).
    pub fn write_to(&self, path: &Path) -> Result<()> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        match self.file.lock() {
            Ok(mut guard) => *guard = Some(BufWriter::new(file)),
            Err(poisoned) => *poisoned.into_inner() = Some(BufWriter::new(file)),
        }
        Ok(())
    }

    fn record(&self, mut entry: JournalEntry) {
        entry.seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let mut file = self.file.lock();
        if let Ok(Some(file)) = file.as_deref_mut() {
            // A journal file that cannot be written must not fail the request.
            if serde_json::to_writer(&mut *file, &entry).is_ok() {
                let _ = file.write_all(b"\n");
                let _ = file.flush();
            }
        }
        drop(file);
        let mut entries = match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// Turns recording on or off.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Whether requests are recorded.
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Entries kept in memory with `seq > after`, oldest first.
    pub fn entries_after(&self, after: u64) -> Vec<JournalEntry> {
        let entries = match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        entries.iter().filter(|e| e.seq > after).cloned().collect()
    }

    /// Every entry kept in memory, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.entries_after(0)
    }

    /// Forgets the entries kept in memory (sequence numbers go on).
    pub fn clear(&self) {
        match self.entries.lock() {
            Ok(mut guard) => guard.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
    }
}

fn rfc3339_ms(unix_ms: u64) -> String {
    let secs = i64::try_from(unix_ms / 1000).unwrap_or(i64::MAX);
    format!("{}.{:03}Z", crate::model::iso_time(secs), unix_ms % 1000)
}

/// Middleware around the whole app: times the request and journals the answer.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.journal().is_enabled() {
        return with_server_date(&state, next.run(request).await);
    }
    let started = Instant::now();
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.to_string());
    let response = next.run(request).await;
    let caller = response
        .extensions()
        .get::<CallerTag>()
        .cloned()
        .unwrap_or_default();
    let entry = JournalEntry {
        seq: 0,
        time: rfc3339_ms(unix_ms),
        unix_ms,
        method,
        path,
        query,
        integration: caller.integration,
        signature: caller.signature,
        status: response.status().as_u16(),
        duo_code: response.extensions().get::<ApiError>().map(|e| e.code),
        fault: response.extensions().get::<FaultTag>().map(|f| f.0.clone()),
        latency_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        peer,
    };
    state.journal().record(entry);
    with_server_date(&state, response)
}

/// With a clock offset, the answer's `Date` is the fake's clock, as Duo's `Date` is Duo's: a
/// connector that reports clock skew reads the distance from it. Without one, hyper's own `Date`
/// (the machine's clock) is already right.
fn with_server_date(state: &AppState, mut response: Response) -> Response {
    if state.clock_offset() != 0 {
        let date = duo_auth::date::format_date(state.now()).replace("-0000", "GMT");
        if let Ok(value) = HeaderValue::from_str(&date) {
            response.headers_mut().insert(header::DATE, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> JournalEntry {
        JournalEntry {
            seq: 0,
            time: rfc3339_ms(1_767_225_600_123),
            unix_ms: 1_767_225_600_123,
            method: "GET".into(),
            path: path.into(),
            query: String::new(),
            integration: None,
            signature: None,
            status: 200,
            duo_code: None,
            fault: None,
            latency_us: 1,
            peer: None,
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_entries_and_numbers_all() {
        let journal = Journal::new(3);
        for i in 0..5 {
            journal.record(entry(&format!("/{i}")));
        }
        let kept: Vec<(u64, String)> = journal.entries().into_iter().map(|e| (e.seq, e.path)).collect();
        assert_eq!(kept, [(3, "/2".into()), (4, "/3".into()), (5, "/4".into())]);
        assert_eq!(journal.entries_after(4).len(), 1);
        journal.clear();
        assert!(journal.entries().is_empty());
        assert!(journal.is_enabled());
        journal.record(entry("/next"));
        assert_eq!(journal.entries()[0].seq, 6);
        assert_eq!(journal.entries()[0].time, "2026-01-01T00:00:00.123Z");
    }
}
